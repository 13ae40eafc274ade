use vmstate_core::VmState;

const CMOS_LEN: usize = 4;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(buffer, start = 6)]
    cmos: [u8; CMOS_LEN],
}

fn main() {}
