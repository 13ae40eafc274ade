//! The generic decoder is the table-driven twin of the generated code: for
//! every catalog type, it reads what the derived save writes, given only
//! the vmdesc that save recorded (as analyze-migration.py would be given
//! the stream's trailer), and re-encodes it to the same bytes.

use std::path::PathBuf;

use vmstate_core::Context;
use vmstate_migration::record;
use vmstate_migration::{generic, Payload, ReadOptions, Stream, VmDesc};
use vmstate_qemu::machine::Machine;
use vmstate_qemu::registry;

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(format!("{name}.mig"));
    std::fs::read(p).unwrap()
}

/// Sections QEMU saves without a description: its trailer shows a `data`
/// blob, not fields.
const NO_DESCRIPTION_IN_QEMU: &[&str] = &["slirp"];

#[test]
fn generic_decoder_reads_what_derived_types_write() {
    let mut types = std::collections::BTreeSet::new();
    let mut checked = 0;
    // QEMU 7.2's streams, and QEMU 10.0's q35 for the q35 devices (its
    // trailer has another shape: only our records are decoded there).
    for name in [
        "qemu-7.2/pc",
        "qemu-7.2/pc-devices",
        "qemu-7.2/pc-nofooter",
        "qemu-10.0/q35",
    ] {
        let b = fixture(name);
        let stream = Stream::parse(&b, ReadOptions::default()).unwrap();
        for s in stream.sections() {
            let Payload::Vmsd(v) = &s.payload else {
                continue;
            };
            let Some(entry) = registry::lookup(&s.idstr) else {
                continue;
            };
            let what = format!(
                "{name}: {}:{} ({})",
                s.idstr, s.instance_id, entry.type_name
            );
            // Load into the mirror and save it again through a recording
            // writer: the derived code's bytes and its own vmdesc entry.
            let machine =
                Machine::from_name(stream.configuration().map_or("pc", |c| c.machine.as_str()))
                    .unwrap_or_default();
            let rt = (entry.roundtrip_on)(machine, &v.bytes, s.version_id, &Context::new(), true)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let rec = rt.record.as_ref().expect("a record");
            let entry_json = record::section_value(&s.idstr, s.instance_id, rec);
            let vmdesc = serde_json::json!({"page_size": 4096, "devices": [entry_json]});
            let text = record::to_qemu_json(&vmdesc);
            let desc = VmDesc::parse(text.as_bytes(), 0).unwrap_or_else(|e| panic!("{what}: {e}"));
            let body = &desc.section(&s.idstr, s.instance_id).expect(&what).body;
            // The generic decoder reads exactly the derived bytes ...
            let value = generic::decode_payload(body, &rt.resaved, 0)
                .unwrap_or_else(|e| panic!("{what}: generic decode: {e}"));
            // ... and writes them back.
            assert_eq!(generic::encode(body, &value).unwrap(), rt.resaved, "{what}");
            types.insert(entry.type_name);
            checked += 1;
            if name.starts_with("qemu-10.0") || NO_DESCRIPTION_IN_QEMU.contains(&s.idstr.as_str()) {
                continue;
            }
            // What the stream's own trailer says decodes the same value.
            let theirs = stream.vmdesc.as_ref().unwrap();
            let their_body = &theirs.section(&s.idstr, s.instance_id).unwrap().body;
            assert_eq!(
                generic::decode_payload(their_body, &rt.resaved, 0).unwrap(),
                value,
                "{what}"
            );
        }
    }
    // Every catalog entry was exercised by some fixture section.
    for e in registry::ENTRIES {
        assert!(types.contains(e.type_name), "{} not covered", e.type_name);
    }
    assert_eq!(checked, 30 + 35 + 30 + 29);
}
