use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    ring: *mut u8,
}

fn main() {}
