use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(equal)]
    width: i16,
}

fn main() {}
