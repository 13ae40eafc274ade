//! QEMU 7.2's `vmstate_hpet` (hw/timer/hpet.c) in the shape that the
//! hostile-input tests load: the count of timers is validated before the
//! array that it sizes (CVE-2013-4527), without the catalog mirror's
//! hooks and subsections. The timers are the catalog's.

use vmstate_core::VmState;
pub use vmstate_qemu::hpet::{HpetTimer, HPET_MAX_TIMERS, HPET_MIN_TIMERS};

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
    pub timers: [HpetTimer; HPET_MAX_TIMERS],
}

impl Hpet {
    fn num_timers_ok(&self, _version: u32) -> bool {
        (HPET_MIN_TIMERS..=HPET_MAX_TIMERS as u8).contains(&self.num_timers)
    }
}
