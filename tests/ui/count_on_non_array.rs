use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    num: u8,
    #[vmstate(count = num)]
    reg: u32,
}

fn main() {}
