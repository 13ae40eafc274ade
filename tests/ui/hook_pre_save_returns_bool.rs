use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(pre_save = Self::pre_save)]
struct Dev {
    reg: u32,
}

impl Dev {
    fn pre_save(&mut self) -> bool {
        true
    }
}

fn main() {}
