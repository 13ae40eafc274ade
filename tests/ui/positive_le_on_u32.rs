use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(positive_le)]
    count: u32,
}

fn main() {}
