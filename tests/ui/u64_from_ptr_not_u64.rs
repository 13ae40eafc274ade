use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(skip)]
    ring: *mut u8,
    #[vmstate(u64_from_ptr = ring)]
    ring_addr: u32,
}

fn main() {}
