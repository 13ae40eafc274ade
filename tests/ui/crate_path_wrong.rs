use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(crate = "vmstate")]
struct Dev {
    reg: u32,
}

fn main() {}
