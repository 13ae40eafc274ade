//! What a parsed vmdesc costs next to its JSON text, measured with a
//! counting allocator on QEMU's own trailers: parsing builds the typed
//! description in one pass, with no JSON value tree in between.

#[path = "../../tests/support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{current, peak_during};
use vmstate_migration::{find_trailer, VmDesc};

/// The vmdesc JSON at the end of a fixture stream.
fn trailer_json(path: &str) -> Vec<u8> {
    let bytes = std::fs::read(format!(
        "{}/../tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let p = find_trailer(&bytes).unwrap();
    bytes[p + 5..].to_vec()
}

#[test]
fn a_parsed_vmdesc_costs_a_few_times_its_text() {
    for path in [
        "qemu-7.2/pc-devices.mig",
        "qemu-7.2/pc.mig",
        "qemu-10.0/q35.mig",
        "qemu-10.0/pc-devices.mig",
    ] {
        let json = trailer_json(path);
        let base = current();
        let (desc, peak) = peak_during(|| VmDesc::parse(&json, 0).unwrap());
        let kept = current() - base;
        assert!(!desc.devices.is_empty());
        let (p, k) = (
            peak as f64 / json.len() as f64,
            kept as f64 / json.len() as f64,
        );
        eprintln!(
            "{path}: {} B of JSON: peak {p:.2}x, kept {k:.2}x",
            json.len()
        );
        // The text itself is kept (1x) for printing; the typed form is the
        // rest. A JSON value tree alone cost about ten times the text.
        assert!(p <= 4.0 && k <= 4.0, "{path}: peak {p:.2}x, kept {k:.2}x");
        // Printing parses a tree again, only then.
        let tree = desc.json().unwrap();
        assert!(tree.get("devices").is_some());
    }
}

/// The densest descriptions per byte of text: empty subsections, tiny
/// fields, indexed runs.
#[test]
fn a_hostile_vmdesc_costs_a_bounded_multiple_of_its_text() {
    // Just past a power of two: a `Vec` that grew by doubling is at its
    // emptiest, and was three times its contents while it grew.
    let n = 16_385;
    let subs = vec![r#"{"fields":[]}"#; n].join(",");
    let fields = vec![r#"{"name":"","type":"","size":0}"#; n].join(",");
    let indexed = (0..n)
        .map(|i| format!(r#"{{"name":"a","index":{i},"type":"","size":0}}"#))
        .collect::<Vec<_>>()
        .join(",");
    let nested = vec![r#"{"name":"","type":"struct","struct":{"fields":[]}}"#; n].join(",");
    for (what, body) in [
        (
            "subsections",
            format!(r#""fields":[],"subsections":[{subs}]"#),
        ),
        ("fields", format!(r#""fields":[{fields}]"#)),
        ("indexed", format!(r#""fields":[{indexed}]"#)),
        ("nested", format!(r#""fields":[{nested}]"#)),
    ] {
        let json =
            format!(r#"{{"page_size":4096,"devices":[{{"name":"d","instance_id":0,{body}}}]}}"#);
        let (desc, peak) = peak_during(|| VmDesc::parse(json.as_bytes(), 0).unwrap());
        let peak = peak as f64 / json.len() as f64;
        eprintln!("{what}: {} B of JSON: peak {peak:.2}x", json.len());
        assert!(peak <= 20.0, "{what}: peak {peak:.2}x");
        drop(desc);
    }
}
