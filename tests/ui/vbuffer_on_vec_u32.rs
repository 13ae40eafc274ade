use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    len: u32,
    #[vmstate(vbuffer = len)]
    data: Vec<u32>,
}

fn main() {}
