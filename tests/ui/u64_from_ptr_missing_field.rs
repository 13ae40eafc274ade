use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(skip)]
    ring: *mut u8,
    #[vmstate(u64_from_ptr = rign)]
    ring_addr: u64,
}

fn main() {}
