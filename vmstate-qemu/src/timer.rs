//! `timer`: the guest clock offsets, registered once per machine (QEMU 7.2
//! `softmmu/cpu-timers.c`).
//!
//! Constructs shown:
//! * `#[vmstate(unused = 8)]`: eight bytes that a removed field left
//!   behind, zeros on save and skipped on load;
//! * a field gated by `version = 2` in a description whose minimum is 1;
//! * a subsection (`timer/icount`) with `needed`, which itself has three
//!   subsections: subsections nest, each level with its own prefix;
//! * [`Timer`] fields for QEMU's `VMSTATE_TIMER_PTR`.
//!
//! The `timer/icount...` subsections are sent only when QEMU runs with
//! `-icount`; the pc fixtures were made without it.

use vmstate_core::types::Timer;
use vmstate_core::VmState;

/// How QEMU counts instructions (`-icount`): its `use_icount` global. Not
/// on the wire; it decides which subsections are sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IcountMode {
    /// No `-icount` (the default): no `timer/icount` subsection.
    #[default]
    Off,
    /// `-icount shift=N`: a fixed shift.
    Fixed,
    /// `-icount shift=auto`: the shift adapts (adds `timer/icount/shift`).
    Adaptive,
}

/// Section `timer` (`vmstate_timers`, version 2, minimum 1).
///
/// ```
/// use vmstate_core::{Context, VmState};
/// use vmstate_qemu::timer::Timers;
///
/// let mut t = Timers { cpu_ticks_offset: 7, cpu_clock_offset: -1, ..Timers::default() };
/// let bytes = t.to_bytes(&Context::new()).unwrap();
/// assert_eq!(bytes.len(), 8 + 8 + 8); // no icount subsection by default
/// assert_eq!(&bytes[8..16], &[0; 8]); // the unused gap
/// ```
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "timer", version = 2, minimum_version = 1)]
pub struct Timers {
    /// Offset added to the host tick counter while the VM runs.
    pub cpu_ticks_offset: i64,
    /// A removed field's eight bytes (`VMSTATE_UNUSED(8)`).
    #[vmstate(unused = 8)]
    pub unused: (),
    /// Offset of the virtual clock; absent from version-1 streams.
    #[vmstate(version = 2)]
    pub cpu_clock_offset: i64,
    /// Subsection `timer/icount`: sent when icount is on.
    #[vmstate(subsection, needed = Self::icount_needed)]
    pub icount: TimersIcount,
}

impl Timers {
    /// QEMU's `icount_state_needed`: `icount_enabled()`.
    #[inline]
    fn icount_needed(&self) -> bool {
        self.icount.mode != IcountMode::Off
    }
}

/// Subsection `timer/icount` (version 1): the instruction counter, with
/// three subsections of its own.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "timer/icount", version = 1, minimum_version = 1)]
pub struct TimersIcount {
    /// Bias between the instruction counter and the virtual clock.
    pub qemu_icount_bias: i64,
    /// Instructions executed.
    pub qemu_icount: i64,
    /// Subsection `timer/icount/warp_timer`: sent when the warp timer
    /// exists.
    #[vmstate(subsection, needed = Self::warp_timer_needed)]
    pub warp_timer: TimersIcountWarpTimer,
    /// Subsection `timer/icount/timers`: sent when the adjustment timers
    /// exist.
    #[vmstate(subsection, needed = Self::adjust_timers_needed)]
    pub timers: TimersIcountTimers,
    /// Subsection `timer/icount/shift`: sent in adaptive mode.
    #[vmstate(subsection, needed = Self::shift_needed)]
    pub shift: TimersIcountShift,
    /// The `-icount` mode (not on the wire).
    #[vmstate(skip)]
    pub mode: IcountMode,
    /// Whether QEMU created `icount_warp_timer` (not on the wire).
    #[vmstate(skip)]
    pub has_warp_timer: bool,
    /// Whether QEMU created `icount_rt_timer` (not on the wire).
    #[vmstate(skip)]
    pub has_rt_timer: bool,
}

impl TimersIcount {
    /// `warp_timer_state_needed`: the warp timer pointer is not null.
    #[inline]
    fn warp_timer_needed(&self) -> bool {
        self.has_warp_timer
    }

    /// `adjust_timers_state_needed`: the real-time adjust timer exists.
    #[inline]
    fn adjust_timers_needed(&self) -> bool {
        self.has_rt_timer
    }

    /// `icount_shift_state_needed`: `icount_enabled() == 2`.
    #[inline]
    fn shift_needed(&self) -> bool {
        self.mode == IcountMode::Adaptive
    }
}

/// Subsection `timer/icount/warp_timer` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "timer/icount/warp_timer", version = 1, minimum_version = 1)]
pub struct TimersIcountWarpTimer {
    /// Virtual time at which the current warp began.
    pub vm_clock_warp_start: i64,
    /// The warp timer's expiry.
    pub icount_warp_timer: Timer,
}

/// Subsection `timer/icount/timers` (version 1): two timer expiries.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "timer/icount/timers", version = 1, minimum_version = 1)]
pub struct TimersIcountTimers {
    /// Real-time adjustment timer.
    pub icount_rt_timer: Timer,
    /// Virtual-time adjustment timer.
    pub icount_vm_timer: Timer,
}

/// Subsection `timer/icount/shift` (version 2, minimum 2).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "timer/icount/shift", version = 2, minimum_version = 2)]
pub struct TimersIcountShift {
    /// The current instruction-to-nanosecond shift.
    pub icount_time_shift: i16,
    /// Last measured drift.
    pub last_delta: i64,
}
