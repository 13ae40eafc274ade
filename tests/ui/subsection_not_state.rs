use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev")]
struct Dev {
    reg: u32,
    #[vmstate(subsection)]
    ext: u32,
}

fn main() {}
