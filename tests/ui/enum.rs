use vmstate_core::VmState;

#[derive(VmState)]
enum Mode {
    Off,
    On(u32),
}

fn main() {}
