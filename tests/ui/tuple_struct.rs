use vmstate_core::VmState;

#[derive(VmState)]
struct Reg(u32, u32);

fn main() {}
