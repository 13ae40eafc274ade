use vmstate_core::VmState;

#[derive(Default)]
struct Timer {
    count: u32,
}

#[derive(VmState)]
struct Dev {
    reg: u32,
    timer: Timer,
}

fn main() {}
