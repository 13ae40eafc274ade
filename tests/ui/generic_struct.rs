use vmstate_core::VmState;

#[derive(VmState)]
struct Fifo<T> {
    data: [T; 16],
}

fn main() {}
