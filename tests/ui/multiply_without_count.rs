use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(multiply = 6)]
    macs: [u8; 24],
}

fn main() {}
