use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(void_ptr, unused = 8)]
    ptr: *mut u8,
}

fn main() {}
