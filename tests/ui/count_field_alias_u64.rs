use vmstate_core::VmState;

type Counter = u64;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    num: Counter,
    #[vmstate(count = num)]
    regs: [u32; 4],
}

fn main() {}
