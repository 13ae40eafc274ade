use vmstate_core::VmState;

type Width = i16;

#[derive(VmState)]
struct Dev {
    #[vmstate(equal)]
    width: Width,
}

fn main() {}
