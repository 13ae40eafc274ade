use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    nbits: i32,
    #[vmstate(bitmap = nbits)]
    bits: [u32; 2],
}

fn main() {}
