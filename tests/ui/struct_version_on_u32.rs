use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(struct_version = 1)]
    reg: u32,
}

fn main() {}
