use vmstate_core::VmState;

#[derive(VmState, Default)]
#[vmstate(name = "child", version = 2)]
struct Child {
    a: u8,
}

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(struct_version = 1, equal)]
    child: Child,
}

fn main() {}
