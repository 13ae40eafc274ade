use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(version = 2)]
struct Dev {
    reg: u32,
    #[vmstate(exists = Self::has_extra)]
    extra: u32,
}

impl Dev {
    fn has_extra(&self) -> bool {
        self.reg != 0
    }
}

fn main() {}
