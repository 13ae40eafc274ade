use vmstate_core::VmState;

#[derive(VmState, Default)]
#[vmstate(name = "dev/ext")]
struct Ext {
    extra: u32,
}

#[derive(VmState)]
#[vmstate(name = "dev")]
struct Dev {
    reg: u32,
    #[vmstate(subsection, needed = Self::ext_needed)]
    ext: Ext,
}

impl Dev {
    fn ext_needed(&self) -> Result<bool, String> {
        Ok(true)
    }
}

fn main() {}
