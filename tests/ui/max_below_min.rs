use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(min = 8, max = 4)]
    head: u8,
}

fn main() {}
