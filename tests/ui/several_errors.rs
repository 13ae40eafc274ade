use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(version = 1)]
struct Dev {
    #[vmstate(version = 2)]
    reg: u32,
    #[vmstate(void_ptr)]
    buf: u64,
    #[vmstate(hint = "must match")]
    queues: u32,
}

fn main() {}
