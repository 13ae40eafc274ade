// A counted Vec of pointer slots could save but never load: new slots are
// null, and a null slot only accepts QEMU's 0x30 marker.
use vmstate_core::VmState;

#[derive(VmState, Clone, Default)]
#[vmstate(name = "slots", version = 1)]
struct Slots {
    n: u32,
    #[vmstate(count = n)]
    slots: Vec<Option<u32>>,
}

fn main() {}
