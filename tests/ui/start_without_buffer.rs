use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(start = 2)]
    cmos: [u8; 8],
}

fn main() {}
