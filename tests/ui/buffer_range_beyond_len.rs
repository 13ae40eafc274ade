use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(buffer, start = 4, size = 4)]
    cmos: [u8; 6],
}

fn main() {}
