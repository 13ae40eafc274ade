use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(pre_save)]
    addr: u64,
}

fn main() {}
