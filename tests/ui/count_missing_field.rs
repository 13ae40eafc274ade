use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    num: u8,
    #[vmstate(count = nmu)]
    regs: [u32; 4],
}

fn main() {}
