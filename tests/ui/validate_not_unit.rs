use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    num: u8,
    #[vmstate(validate = Self::num_ok)]
    check: u8,
}

impl Dev {
    fn num_ok(&self, _version: u32) -> bool {
        self.num < 32
    }
}

fn main() {}
