use vmstate_core::codec::Codec;
use vmstate_core::stream::Source;
use vmstate_core::{Context, Reader, Result, VmState, Writer};

struct Le32;

impl Codec<[u32; 4]> for Le32 {
    const INFO: &'static str = "le32";
    const SIZE: usize = 16;
    fn save<W: vmstate_core::stream::Sink>(_: &mut [u32; 4], _: &mut Writer<W>, _: &Context) -> Result<()> {
        Ok(())
    }
    fn load<S: Source>(_: &mut [u32; 4], _: &mut Reader<S>, _: &Context) -> Result<()> {
        Ok(())
    }
}

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    num: u8,
    #[vmstate(count = num, with = Le32)]
    regs: [u32; 4],
}

fn main() {}
