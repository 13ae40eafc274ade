use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(max = 15)]
    heads: [u8; 4],
}

fn main() {}
