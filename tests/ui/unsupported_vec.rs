use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    regs: Vec<u32>,
}

fn main() {}
