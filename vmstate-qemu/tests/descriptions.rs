//! The mirrors' static descriptions against QEMU's `-dump-vmstate` output
//! for the `pc-i440fx-7.2` machine: versions, minimum versions, every
//! field's version and `exists` flag, nested descriptions and the full
//! subsection lists, sent or not, for the devices that the dump covers.
//! (What a save writes, the vmdesc entry of each fixture section, is
//! compared text for text in `fixtures.rs`.)

mod common;

use serde_json::Value as Json;
use vmstate_core::desc::{FieldKind, Vmsd};
use vmstate_qemu::registry;

/// Section name → `-dump-vmstate` type name, for the mirrored devices that
/// the dump covers (it lists device types with a `dc->vmsd`; `timer`,
/// `cpu_common`, `apic`, `i2c_bus`, `acpi_build` are registered otherwise).
const DUMP_TYPES: &[(&str, &str)] = &[
    ("kvm-tpr-opt", "kvmvapic"),
    ("fw_cfg", "fw_cfg_io"),
    ("PCIHost", "i440FX-pcihost"),
    ("dma", "i8257"),
    ("i8259", "isa-i8259"),
    ("I440FX", "i440FX"),
    ("PIIX3", "PIIX3"),
    ("piix4_pm", "PIIX4_PM"),
    ("ioapic", "ioapic"),
    ("hpet", "hpet"),
    ("mc146818rtc", "mc146818rtc"),
    ("i8254", "isa-pit"),
    ("pcspk", "isa-pcspk"),
    ("fdc", "isa-fdc"),
    ("ps2kbd", "ps2-kbd"),
    ("ps2mouse", "ps2-mouse"),
    ("pckbd", "i8042"),
    ("vmmouse", "vmmouse"),
    ("port92", "port92"),
    ("serial", "isa-serial"),
    ("e1000", "e1000"),
];

fn check_dump(vmsd: &Vmsd, d: &Json, path: &str, errs: &mut Vec<String>) {
    let mut err = |m: String| errs.push(format!("{path}: {m}"));
    if d["name"] != vmsd.name {
        err(format!("name {} vs mirror {}", d["name"], vmsd.name));
    }
    if d["version_id"] != vmsd.version_id {
        err(format!(
            "version_id {} vs {}",
            d["version_id"], vmsd.version_id
        ));
    }
    if d["minimum_version_id"] != vmsd.minimum_version_id {
        err(format!(
            "minimum_version_id {} vs {}",
            d["minimum_version_id"], vmsd.minimum_version_id
        ));
    }
    let empty = Vec::new();
    let fields = d["Fields"].as_array().unwrap_or(&empty);
    // The dump leaves out validate steps (QEMU skips `VMS_MUST_EXIST`
    // fields there).
    let mine: Vec<&vmstate_core::Field> = vmsd
        .fields
        .iter()
        .filter(|f| f.kind != FieldKind::Validate)
        .collect();
    if fields.len() != mine.len() {
        err(format!(
            "{} fields in QEMU, {} in the mirror",
            fields.len(),
            mine.len()
        ));
    }
    let mut nested = Vec::new();
    for (q, m) in fields.iter().zip(mine) {
        let n = m.name;
        if q["field"] != n {
            err(format!("field {} vs mirror {n}", q["field"]));
            continue;
        }
        if q["version_id"] != m.version_id {
            err(format!(
                "field {n}: version_id {} vs {}",
                q["version_id"], m.version_id
            ));
        }
        if q["field_exists"] != m.has_exists {
            err(format!(
                "field {n}: field_exists {} vs {}",
                q["field_exists"], m.has_exists
            ));
        }
        match (q.get("Description"), m.vmsd) {
            (Some(qd), Some(v)) => nested.push((v, qd.clone(), format!("{path}/{n}"))),
            (None, None) => {}
            _ => err(format!("field {n}: nested description on one side only")),
        }
    }
    let qsubs: Vec<&Json> = d["Subsections"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .collect();
    let msubs: Vec<&str> = vmsd.subsections.iter().map(|s| s.vmsd.name).collect();
    let qnames: Vec<&str> = qsubs.iter().filter_map(|s| s["name"].as_str()).collect();
    if qnames != msubs {
        err(format!("subsections {qnames:?} vs mirror {msubs:?}"));
    } else {
        for (q, m) in qsubs.iter().zip(vmsd.subsections) {
            nested.push((m.vmsd, (*q).clone(), format!("{path}/{}", m.vmsd.name)));
        }
    }
    for (v, j, p) in nested {
        check_dump(v, &j, &p, errs);
    }
}

#[test]
fn mirrors_match_qemus_dump_vmstate() {
    let dump: Json = serde_json::from_slice(&common::fixture("vmstate-pc.json")).unwrap();
    let mut errs = Vec::new();
    for (section, ty) in DUMP_TYPES {
        let e = registry::lookup(section).unwrap();
        let d = &dump[*ty];
        assert_eq!(d["Name"], *ty);
        check_dump(e.vmsd, &d["Description"], section, &mut errs);
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

/// The checker catches what it is meant to catch.
#[test]
fn checker_reports_differences() {
    let dump: Json = serde_json::from_slice(&common::fixture("vmstate-pc.json")).unwrap();
    let mut d = dump["isa-pit"]["Description"].clone();
    d["Fields"][0]["version_id"] = 2.into();
    let mut errs = Vec::new();
    check_dump(
        registry::lookup("i8254").unwrap().vmsd,
        &d,
        "i8254",
        &mut errs,
    );
    assert_eq!(
        errs,
        ["i8254: field channels[0].irq_disabled: version_id 2 vs 3"]
    );
}
