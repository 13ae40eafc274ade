use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(count = num)]
    regs: [u32; 4],
    num: u8,
}

fn main() {}
