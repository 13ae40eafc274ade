use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(version = 2, minimum_version = 3)]
struct Dev {
    reg: u32,
}

fn main() {}
