//! `hpet`: the High Precision Event Timer block (QEMU 7.2
//! `hw/timer/hpet.c`, `vmstate_hpet` and `vmstate_hpet_timer`).
//!
//! Constructs shown:
//! * a **variable array of structs** (`count = num_timers`: QEMU's
//!   `VMSTATE_STRUCT_VARRAY_UINT8`) in a fixed array of the hardware's
//!   maximum, 32 timers;
//! * a **`validate` step** at its QEMU position, between the count and the
//!   array: "num_timers in range" (3 to 32). This is the fix for
//!   CVE-2013-4527, where a stream could claim more timers than the array
//!   holds and make the load write past it. Here the array's capacity is
//!   checked anyway before any element is read, but the step is QEMU's
//!   and rejects what QEMU rejects (fewer than 3 timers, too) with QEMU's
//!   wording;
//! * a field from version 2 (`num_timers`) whose version-1 value comes
//!   from `pre_load` (version-1 streams always had 3 timers);
//! * two subsections with `needed`, one of which depends on a property
//!   that is not on the wire (`hpet-offset-saved`);
//! * a [`Timer`] inside a struct array.
//!
//! QEMU's `pre_save` refreshes `hpet_counter` from the running clock when
//! the HPET is enabled; the mirror has no clock, so its `hpet_counter` is
//! what the caller put there. Its `post_load` recomputes the offset (from
//! the clock, when the offset was not sent) and the capability register,
//! which the mirror does for the capability only.

use vmstate_core::types::Timer;
use vmstate_core::VmState;

/// `HPET_MIN_TIMERS`: the fewest timers a block has.
pub const HPET_MIN_TIMERS: u8 = 3;
/// `HPET_MAX_TIMERS`: the most timers a block has.
pub const HPET_MAX_TIMERS: usize = 32;
/// `HPET_CFG_ENABLE`: the main counter runs.
pub const HPET_CFG_ENABLE: u64 = 0x001;
/// `HPET_ID_NUM_TIM_SHIFT`: where the capability register keeps the
/// number of timers, less one.
pub const HPET_ID_NUM_TIM_SHIFT: u32 = 8;
/// `HPET_ID_NUM_TIM_MASK`.
pub const HPET_ID_NUM_TIM_MASK: u64 = 0x1f00;
/// The capability register's fixed part: Intel, revision 1, 64-bit
/// counter, legacy replacement route.
pub const HPET_ID_BASE: u64 = 0x8086_a001;
/// The counter period in femtoseconds (10 ns), the capability register's
/// upper half.
pub const HPET_CLK_PERIOD_FS: u64 = 10_000_000;
/// `HPET_TN_PERIODIC_CAP`: a timer capable of periodic mode.
pub const HPET_TN_PERIODIC_CAP: u64 = 0x010;
/// `HPET_TN_SIZE_CAP`: a 64-bit timer.
pub const HPET_TN_SIZE_CAP: u64 = 0x020;

/// Section `hpet` (version 2, minimum 1).
///
/// ```
/// use vmstate_core::{Context, ErrorKind, VmState};
/// use vmstate_qemu::hpet::Hpet;
///
/// let mut hpet = Hpet::default();
/// let mut bytes = hpet.to_bytes(&Context::new()).unwrap();
/// assert_eq!(bytes.len(), 3 * 8 + 1 + 3 * 42);
/// // A stream that claims 33 timers stops at the validate step.
/// bytes[24] = 33;
/// let err = hpet.load_from_slice(&bytes, &Context::new()).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Invalid { message: "num_timers in range" }));
/// ```
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "hpet",
    version = 2,
    minimum_version = 1,
    pre_load = Self::pre_load,
    post_load = Self::post_load
)]
pub struct Hpet {
    /// General configuration register.
    pub config: u64,
    /// General interrupt status register.
    pub isr: u64,
    /// Main counter value (as of the last halt, or of the save).
    pub hpet_counter: u64,
    /// Timers in the block (the `timers` property), from version 2.
    #[vmstate(version = 2)]
    pub num_timers: u8,
    /// `VMSTATE_VALIDATE("num_timers in range", ...)`: 3 to 32 timers,
    /// checked before any timer is read.
    #[vmstate(validate = Self::num_timers_in_range, rename = "num_timers in range")]
    pub num_timers_in_range: (),
    /// The timers; `num_timers` of them travel.
    #[vmstate(count = num_timers)]
    pub timer: [HpetTimer; HPET_MAX_TIMERS],
    /// Subsection `hpet/rtc_irq_level`.
    #[vmstate(subsection, needed = Self::rtc_irq_level_needed)]
    pub rtc_irq_level: HpetRtcIrqLevel,
    /// Subsection `hpet/offset`.
    #[vmstate(subsection, needed = Self::offset_needed)]
    pub offset: HpetOffset,
    /// The `hpet-offset-saved` property (true from QEMU 4.2 on); not on
    /// the wire.
    #[vmstate(skip)]
    pub hpet_offset_saved: bool,
    /// The capability and ID register (`capability`), configuration: its
    /// number-of-timers bits follow `num_timers` after a load.
    #[vmstate(skip)]
    pub capability: u64,
}

impl Default for Hpet {
    /// A block of three timers after reset, as on pc.
    fn default() -> Self {
        let mut hpet = Hpet {
            config: 0,
            isr: 0,
            hpet_counter: 0,
            num_timers: HPET_MIN_TIMERS,
            num_timers_in_range: (),
            timer: std::array::from_fn(|i| HpetTimer {
                tn: i as u8,
                config: HPET_TN_PERIODIC_CAP | HPET_TN_SIZE_CAP,
                cmp: u64::MAX,
                ..HpetTimer::default()
            }),
            rtc_irq_level: HpetRtcIrqLevel::default(),
            offset: HpetOffset::default(),
            hpet_offset_saved: true,
            capability: HPET_ID_BASE | (HPET_CLK_PERIOD_FS << 32),
        };
        hpet.set_num_tim_capability();
        hpet
    }
}

impl Hpet {
    /// `hpet_enabled`: the main counter runs.
    pub fn enabled(&self) -> bool {
        self.config & HPET_CFG_ENABLE != 0
    }

    /// `hpet_validate_num_timers`.
    #[inline]
    fn num_timers_in_range(&self, _version: u32) -> bool {
        (HPET_MIN_TIMERS..=HPET_MAX_TIMERS as u8).contains(&self.num_timers)
    }

    /// `hpet_rtc_irq_level_needed`.
    #[inline]
    fn rtc_irq_level_needed(&self) -> bool {
        self.rtc_irq_level.rtc_irq_level != 0
    }

    /// `hpet_offset_needed`.
    #[inline]
    fn offset_needed(&self) -> bool {
        self.enabled() && self.hpet_offset_saved
    }

    /// `hpet_pre_load`: a version-1 stream has no `num_timers` and always
    /// three timers.
    #[inline]
    fn pre_load(&mut self) -> Result<(), &'static str> {
        self.num_timers = HPET_MIN_TIMERS;
        Ok(())
    }

    /// The capability part of `hpet_post_load`.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), &'static str> {
        self.set_num_tim_capability();
        Ok(())
    }

    fn set_num_tim_capability(&mut self) {
        self.capability &= !HPET_ID_NUM_TIM_MASK;
        self.capability |= u64::from(self.num_timers.saturating_sub(1)) << HPET_ID_NUM_TIM_SHIFT;
    }
}

/// `vmstate_hpet_timer` ("hpet_timer", version 1): one comparator.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet_timer", version = 1, minimum_version = 1)]
pub struct HpetTimer {
    /// The timer's index in the block.
    pub tn: u8,
    /// Timer configuration and capability register.
    pub config: u64,
    /// Comparator.
    pub cmp: u64,
    /// FSB (MSI) interrupt route.
    pub fsb: u64,
    /// Period, in periodic mode.
    pub period: u64,
    /// A 32-bit one-shot timer fires once more at the counter's wrap.
    pub wrap_flag: u8,
    /// The QEMU timer that fires the comparator.
    pub qemu_timer: Timer,
}

/// Subsection `hpet/rtc_irq_level` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet/rtc_irq_level", version = 1, minimum_version = 1)]
pub struct HpetRtcIrqLevel {
    /// The RTC interrupt line as the HPET last saw it (legacy routing).
    pub rtc_irq_level: u8,
}

/// Subsection `hpet/offset` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet/offset", version = 1, minimum_version = 1)]
pub struct HpetOffset {
    /// Main counter minus guest time, in ns.
    pub hpet_offset: u64,
}
