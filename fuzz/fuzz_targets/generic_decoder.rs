//! The generic decoder (`vmstate_migration::generic`) with the
//! descriptions of the real `pc.mig` vmdesc: byte 0 picks a section
//! description, the rest is its payload. On any input: no panic; a payload
//! that decodes encodes back to exactly its bytes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vmstate_migration::{generic, locate_vmdesc, VmDesc};

static PC_MIG: &[u8] = include_bytes!("../../tests/fixtures/qemu-7.2/pc-devices.mig");

fn vmdesc() -> &'static VmDesc {
    static DESC: OnceLock<VmDesc> = OnceLock::new();
    DESC.get_or_init(|| {
        locate_vmdesc(PC_MIG, 64 << 20)
            .expect("fixture vmdesc parses")
            .expect("fixture has a vmdesc")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let devices = &vmdesc().devices;
    let dev = &devices[usize::from(pick) % devices.len()];
    if let Ok(value) = generic::decode_payload(&dev.body, payload, 0) {
        let bytes = generic::encode(&dev.body, &value)
            .unwrap_or_else(|e| panic!("{}: decoded value does not encode: {e}", dev.name));
        assert!(bytes == payload, "{}: encode(decode(p)) != p", dev.name);
    }
});
