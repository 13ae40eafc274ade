use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    num: u64,
    #[vmstate(count = num)]
    regs: [u32; 4],
}

fn main() {}
