//! QEMU 7.2's `vmstate_hpet` and `vmstate_hpet_timer` (hw/timer/hpet.c),
//! the shapes that the hostile-input tests load: the count of timers is
//! validated before the array that it sizes (CVE-2013-4527).

use vmstate_core::types::Timer;
use vmstate_core::VmState;

/// `HPET_MIN_TIMERS`.
pub const HPET_MIN_TIMERS: u8 = 3;
/// `HPET_MAX_TIMERS`, the array's capacity.
pub const HPET_MAX_TIMERS: u8 = 32;

/// `vmstate_hpet_timer`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet_timer", version = 1, minimum_version = 1)]
pub struct HpetTimer {
    pub tn: u8,
    pub config: u64,
    pub cmp: u64,
    pub fsb: u64,
    pub period: u64,
    pub wrap_flag: u8,
    pub qemu_timer: Timer,
}

/// `vmstate_hpet`: `VMSTATE_UINT8_V(num_timers, 2)`, then
/// `VMSTATE_VALIDATE("num_timers in range")`, then
/// `VMSTATE_STRUCT_VARRAY_UINT8(timer, num_timers)` over `timer[32]`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet", version = 2, minimum_version = 1)]
pub struct Hpet {
    pub config: u64,
    pub isr: u64,
    pub hpet_counter: u64,
    #[vmstate(version = 2)]
    pub num_timers: u8,
    #[vmstate(validate = Self::num_timers_ok, rename = "num_timers in range")]
    pub _num_timers_ok: (),
    #[vmstate(count = num_timers)]
    pub timers: [HpetTimer; 32],
}

impl Hpet {
    fn num_timers_ok(&self, _version: u32) -> bool {
        (HPET_MIN_TIMERS..=HPET_MAX_TIMERS).contains(&self.num_timers)
    }
}
