use vmstate_core::{Context, VmState, Writer};

#[derive(VmState, Clone, Default)]
#[vmstate(name = "port92", version = 1)]
struct Port92 {
    outport: u8,
}

fn main() {
    let file = std::io::BufWriter::new(std::io::sink());
    let mut w = Writer::new(file);
    Port92::default().save(&mut w, &Context::new()).unwrap();
}
