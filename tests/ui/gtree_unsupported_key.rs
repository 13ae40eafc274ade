use std::collections::BTreeMap;
use vmstate_core::VmState;

#[derive(VmState, Clone, Default)]
#[vmstate(name = "val", version = 1)]
struct Val {
    x: u8,
}

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(gtree, version = 1)]
    map: BTreeMap<String, Val>,
}

fn main() {}
