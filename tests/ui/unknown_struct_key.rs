use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version_id = 2)]
struct Dev {
    reg: u32,
}

fn main() {}
