use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(skip, qemu_size = 4)]
    reg: u16,
}

fn main() {}
