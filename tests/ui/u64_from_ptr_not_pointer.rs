use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    ring: u32,
    #[vmstate(u64_from_ptr = ring)]
    ring_addr: u64,
}

fn main() {}
