use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(buffer)]
    words: [u16; 4],
}

fn main() {}
