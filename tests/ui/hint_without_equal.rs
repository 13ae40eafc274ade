use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(hint = "the number of queues must match")]
    queues: u32,
}

fn main() {}
