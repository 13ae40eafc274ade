use vmstate_core::VmState;

#[derive(VmState, Default)]
#[vmstate(name = "req", version = 1)]
struct Req {
    tag: u32,
}

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(gtree)]
    reqs: Vec<Req>,
}

fn main() {}
