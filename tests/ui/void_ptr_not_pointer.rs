use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(void_ptr)]
    buf: u64,
}

fn main() {}
