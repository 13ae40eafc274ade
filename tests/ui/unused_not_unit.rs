use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    reg: u32,
    #[vmstate(unused = 4)]
    pad: [u8; 4],
}

fn main() {}
