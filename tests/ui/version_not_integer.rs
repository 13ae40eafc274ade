use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(version = "2")]
struct Dev {
    reg: u32,
}

fn main() {}
