use vmstate_core::VmState;

#[derive(Default)]
struct Ext {
    extra: u32,
}

#[derive(VmState)]
#[vmstate(name = "dev")]
struct Dev {
    reg: u32,
    #[vmstate(subsection)]
    ext: Ext,
}

fn main() {}
