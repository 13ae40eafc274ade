use vmstate_core::VmState;

#[derive(VmState, Default)]
#[vmstate(name = "dev/tmp", version = 0)]
struct DevTmp {
    diff: i64,
}

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    base: i64,
    #[vmstate(tmp = DevTmp)]
    _tmp: (),
}

fn main() {}
