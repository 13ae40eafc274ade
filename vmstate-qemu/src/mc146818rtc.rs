//! `mc146818rtc`: the CMOS real-time clock (QEMU 7.2
//! `hw/rtc/mc146818rtc.c`, `vmstate_rtc`).
//!
//! Constructs shown:
//! * a **`buffer`** (`VMSTATE_BUFFER(cmos_data)`): the 128 bytes of CMOS
//!   RAM as raw bytes, type `buffer` in the vmdesc, not 128 `uint8`s;
//! * two `unused` gaps of removed fields, which QEMU's vmdesc names
//!   `unused[0]` and `unused[1]`;
//! * fields from versions 2 and 3 below a minimum of 1, among them a
//!   version-gated [`Timer`];
//! * a `post_load` that recomputes a wire field (`period`, from CMOS
//!   registers A and B), so a load followed by a save gives QEMU's bytes;
//! * a subsection with `needed`.
//!
//! QEMU's `pre_save` brings the CMOS time registers up to date from the
//! RTC clock, and its `post_load` re-arms the timers from the clock; the
//! mirror has no clock and keeps the registers and timers as they are.
//! A version 1 or 2 stream has no `offset`, and QEMU then re-derives the
//! base time from the CMOS registers; the mirror sets `offset` to 0 as
//! QEMU does and leaves `base_rtc` alone.

use vmstate_core::types::Timer;
use vmstate_core::VmState;

/// `RTC_REG_A`: CMOS index of register A (divider and rate select).
pub const RTC_REG_A: usize = 10;
/// `RTC_REG_B`: CMOS index of register B (interrupt enables, format).
pub const RTC_REG_B: usize = 11;
/// `REG_B_PIE`: periodic interrupt enable.
pub const REG_B_PIE: u8 = 0x40;

/// Section `mc146818rtc` (version 3, minimum 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "mc146818rtc",
    version = 3,
    minimum_version = 1,
    post_load = Self::post_load
)]
pub struct Rtc {
    /// CMOS RAM: the clock registers (0-13) and the firmware's bytes.
    #[vmstate(buffer)]
    pub cmos_data: [u8; 128],
    /// The CMOS index last written to port 0x70.
    pub cmos_index: u8,
    /// `VMSTATE_UNUSED(7*4)`: the old broken-down time.
    #[vmstate(unused = 28)]
    pub unused: (),
    /// The periodic-interrupt timer.
    pub periodic_timer: Timer,
    /// When the next periodic interrupt is due.
    pub next_periodic_time: i64,
    /// `VMSTATE_UNUSED(3*8)`: the old second-timer fields.
    #[vmstate(unused = 24)]
    pub unused2: (),
    /// Periodic interrupts not yet delivered (lost-tick slew), from
    /// version 2.
    #[vmstate(version = 2)]
    pub irq_coalesced: u32,
    /// The periodic interrupt's period in 32 kHz ticks, from version 2.
    #[vmstate(version = 2)]
    pub period: u32,
    /// Guest time at `last_update`, seconds since the epoch; version 3.
    #[vmstate(version = 3)]
    pub base_rtc: u64,
    /// RTC clock time of the last update, ns; version 3.
    #[vmstate(version = 3)]
    pub last_update: u64,
    /// Nanoseconds into the current second; version 3.
    #[vmstate(version = 3)]
    pub offset: i64,
    /// The update-ended / alarm timer; version 3.
    #[vmstate(version = 3)]
    pub update_timer: Timer,
    /// When the alarm next fires; version 3.
    #[vmstate(version = 3)]
    pub next_alarm_time: u64,
    /// Subsection `mc146818rtc/irq_reinject_on_ack_count`.
    #[vmstate(subsection, needed = Self::irq_reinject_on_ack_count_needed)]
    pub irq_reinject: RtcIrqReinjectOnAckCount,
}

impl Default for Rtc {
    fn default() -> Self {
        Rtc {
            cmos_data: [0; 128],
            cmos_index: 0,
            unused: (),
            periodic_timer: Timer::NOT_ARMED,
            next_periodic_time: 0,
            unused2: (),
            irq_coalesced: 0,
            period: 0,
            base_rtc: 0,
            last_update: 0,
            offset: 0,
            update_timer: Timer::NOT_ARMED,
            next_alarm_time: 0,
            irq_reinject: RtcIrqReinjectOnAckCount::default(),
        }
    }
}

/// `periodic_period_to_clock`: the period of rate-select code `code` in
/// 32 kHz ticks (0: no periodic interrupt).
pub fn periodic_period_to_clock(code: u8) -> u32 {
    match code & 0x0f {
        0 => 0,
        c @ 1..=2 => 1 << (c + 6),
        c => 1 << (c - 1),
    }
}

impl Rtc {
    /// `rtc_periodic_clock_ticks`: the period that registers A and B ask
    /// for.
    pub fn periodic_clock_ticks(&self) -> u32 {
        if self.cmos_data[RTC_REG_B] & REG_B_PIE == 0 {
            return 0;
        }
        periodic_period_to_clock(self.cmos_data[RTC_REG_A])
    }

    /// `rtc_irq_reinject_on_ack_count_needed`.
    #[inline]
    fn irq_reinject_on_ack_count_needed(&self) -> bool {
        self.irq_reinject.irq_reinject_on_ack_count != 0
    }

    /// The clock-free part of `rtc_post_load`.
    #[inline]
    fn post_load(&mut self, version: u32) -> Result<(), &'static str> {
        if version <= 2 {
            self.offset = 0;
        }
        self.period = self.periodic_clock_ticks();
        Ok(())
    }
}

/// Subsection `mc146818rtc/irq_reinject_on_ack_count` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(
    name = "mc146818rtc/irq_reinject_on_ack_count",
    version = 1,
    minimum_version = 1
)]
pub struct RtcIrqReinjectOnAckCount {
    /// Interrupts re-injected on acknowledge (lost-tick policy `slew`).
    pub irq_reinject_on_ack_count: u16,
}
