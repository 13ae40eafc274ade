use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(version = 2)]
struct Dev {
    #[vmstate(version = 1, rename = "r", version = 2)]
    reg: u32,
}

fn main() {}
