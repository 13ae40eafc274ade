use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    num: u8,
    #[vmstate(validate = Self::num_ok)]
    _check: (),
}

impl Dev {
    fn num_ok(&self) -> bool {
        self.num < 32
    }
}

fn main() {}
