//! The mirrors' static descriptions against QEMU's `-dump-vmstate` output, field by field (`descriptions.rs` compares them through the export):
//! QEMU 10.0's (`pc-i440fx-10.0` and `pc-q35-10.0`) exactly and QEMU 7.2's
//! (`pc-i440fx-7.2`) as an older QEMU: versions, minimum versions, every
//! field's version and `exists` flag, nested descriptions and the
//! subsection lists, sent or not, for the devices that the dumps cover.
//! One mirror serves both QEMUs: it has every subsection of 10.0, and
//! 7.2's are among them, in order.
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
    ("virtio-net", "virtio-net-device"),
];

/// The q35 devices, in QEMU 10.0's q35 dump.
const Q35_DUMP_TYPES: &[(&str, &str)] = &[
    ("mch", "mch"),
    ("ICH9LPC", "ICH9-LPC"),
    ("ich9_smb", "ICH9-SMB"),
    ("ich9_ahci", "ich9-ahci"),
];

/// Fields that QEMU renamed after 7.2 without changing the bytes; the
/// mirror keeps the 7.2 name (its vmdesc matches 7.2's trailers).
const RENAMED_IN_10_0: &[(&str, &str, &str)] = &[("hpet", "num_timers", "num_timers_save")];

/// How a mirror is compared with a dump.
#[derive(Clone, Copy, PartialEq)]
enum Qemu {
    /// The newest QEMU: the same subsections; known renames allowed.
    V10,
    /// An older QEMU: its subsections appear in the mirror's list, in
    /// order; the mirror may have newer ones.
    Older,
}

fn check_dump(vmsd: &Vmsd, d: &Json, path: &str, errs: &mut Vec<String>, qemu: Qemu) {
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
        let renamed = qemu == Qemu::V10
            && RENAMED_IN_10_0
                .iter()
                .any(|(v, old, new)| *v == vmsd.name && *old == n && q["field"] == *new);
        if q["field"] != n && !renamed {
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
    // The mirror's subsections that QEMU's list has, in the mirror's order.
    let common: Vec<&str> = msubs
        .iter()
        .copied()
        .filter(|m| qnames.contains(m))
        .collect();
    let ok = match qemu {
        Qemu::V10 => qnames == msubs,
        Qemu::Older => qnames == common,
    };
    if !ok {
        err(format!("subsections {qnames:?} vs mirror {msubs:?}"));
    } else {
        for q in &qsubs {
            if let Some(m) = vmsd.subsections.iter().find(|m| q["name"] == m.vmsd.name) {
                nested.push((m.vmsd, (*q).clone(), format!("{path}/{}", m.vmsd.name)));
            }
        }
    }
    for (v, j, p) in nested {
        check_dump(v, &j, &p, errs, qemu);
    }
}

fn check_types(dump: &Json, types: &[(&str, &str)], qemu: Qemu) -> Vec<String> {
    let mut errs = Vec::new();
    for (section, ty) in types {
        let e = registry::lookup(section).unwrap();
        let d = &dump[*ty];
        assert_eq!(d["Name"], *ty);
        check_dump(e.vmsd, &d["Description"], section, &mut errs, qemu);
    }
    errs
}

#[test]
fn mirrors_match_qemu_7_2_dump_vmstate() {
    let dump: Json = serde_json::from_slice(&common::fixture("vmstate-pc.json")).unwrap();
    let errs = check_types(&dump, DUMP_TYPES, Qemu::Older);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn mirrors_match_qemu_10_0_dump_vmstate() {
    let pc: Json = serde_json::from_slice(&common::fixture10("vmstate-pc.json")).unwrap();
    let mut errs = check_types(&pc, DUMP_TYPES, Qemu::V10);
    let q35: Json = serde_json::from_slice(&common::fixture10("vmstate-q35.json")).unwrap();
    errs.extend(check_types(&q35, Q35_DUMP_TYPES, Qemu::V10));
    errs.extend(check_types(&q35, DUMP_TYPES, Qemu::V10));
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

/// A subsection that 7.2 lacks is fine against 7.2, and missing against
/// 10.0 is not.
#[test]
fn newer_subsections_are_checked_against_10_0_only() {
    let pc: Json = serde_json::from_slice(&common::fixture10("vmstate-pc.json")).unwrap();
    let mut d = pc["isa-i8259"]["Description"].clone();
    d["Subsections"] = serde_json::json!([]);
    let pic = registry::lookup("i8259").unwrap().vmsd;
    let mut errs = Vec::new();
    check_dump(pic, &d, "i8259", &mut errs, Qemu::Older);
    assert!(errs.is_empty(), "{errs:?}");
    check_dump(pic, &d, "i8259", &mut errs, Qemu::V10);
    assert_eq!(errs, [r#"i8259: subsections [] vs mirror ["i8259/ltim"]"#]);
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
        Qemu::Older,
    );
    assert_eq!(
        errs,
        ["i8254: field channels[0].irq_disabled: version_id 2 vs 3"]
    );
}
