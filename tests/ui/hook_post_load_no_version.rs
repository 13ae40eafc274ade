use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(version = 1, post_load = Self::post_load)]
struct Dev {
    reg: u32,
}

impl Dev {
    fn post_load(&mut self) -> Result<(), String> {
        Ok(())
    }
}

fn main() {}
