use vmstate_core::VmState;

#[derive(VmState)]
struct Dev {
    #[vmstate(needed = Self::extra_needed)]
    extra: u32,
}

impl Dev {
    fn extra_needed(&self) -> bool {
        true
    }
}

fn main() {}
