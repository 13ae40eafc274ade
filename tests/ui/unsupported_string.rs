use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    reg: u32,
    label: String,
}

fn main() {}
