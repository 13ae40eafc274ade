use vmstate_core::VmState;

#[derive(VmState, Default)]
#[vmstate(name = "dev/ok")]
struct Ok {
    extra: u32,
}

#[derive(VmState, Default)]
#[vmstate(name = "ext")]
struct Ext {
    extra: u32,
}

#[derive(VmState)]
#[vmstate(name = "dev")]
struct Dev {
    reg: u32,
    #[vmstate(subsection)]
    ok: Ok,
    #[vmstate(subsection)]
    ext: Ext,
}

fn main() {}
