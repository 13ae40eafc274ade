use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(version = 1)]
struct Dev {
    #[vmstate(since = 1)]
    reg: u32,
}

fn main() {}
