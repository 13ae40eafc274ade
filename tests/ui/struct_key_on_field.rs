use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(version = 1)]
struct Dev {
    #[vmstate(post_load = Self::fixup)]
    reg: u32,
}

impl Dev {
    fn fixup(&mut self, _version: u32) -> Result<(), String> {
        Ok(())
    }
}

fn main() {}
