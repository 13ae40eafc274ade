use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(skip, equal)]
    reg: u32,
}

fn main() {}
