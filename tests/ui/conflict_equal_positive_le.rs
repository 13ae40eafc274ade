use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(equal, positive_le)]
    reg: i32,
}

fn main() {}
