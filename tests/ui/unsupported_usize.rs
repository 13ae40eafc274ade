use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    regs: [usize; 4],
}

fn main() {}
