use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(positve_le)]
    head: i32,
}

fn main() {}
