//! The mirrors' static descriptions against QEMU's own:
//!
//! 1. the vmdesc JSON that QEMU wrote into each fixture stream (names as
//!    QEMU makes them unique, types, element sizes, array shapes, nested
//!    structs, the subsections that were sent, in order);
//! 2. QEMU's `-dump-vmstate` output for the `pc-i440fx-7.2` machine
//!    (versions, minimum versions, every field's version and `exists`
//!    flag, nested descriptions and the full subsection lists, sent or
//!    not), for the devices that the dump covers.

mod common;

use common::check_vmdesc;
use serde_json::Value as Json;
use vmstate_core::desc::Vmsd;
use vmstate_qemu::registry;

#[test]
fn mirrors_match_the_vmdesc_of_every_fixture() {
    let mut errs = Vec::new();
    let mut checked = 0;
    for name in common::FIXTURES {
        let stream = common::fixture(name);
        for s in common::sections(&stream) {
            if let Some(e) = registry::lookup(&s.idstr) {
                check_vmdesc(e.vmsd, &s.desc, &format!("{name}: {}", s.idstr), &mut errs);
                checked += 1;
            }
        }
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
    assert_eq!(checked, 18 + 19 + 18);
}

/// Section name → `-dump-vmstate` type name, for the mirrored devices that
/// the dump covers (it lists device types with a `dc->vmsd`; `timer`,
/// `cpu_common`, `apic`, `i2c_bus`, `acpi_build` are registered otherwise).
const DUMP_TYPES: &[(&str, &str)] = &[
    ("kvm-tpr-opt", "kvmvapic"),
    ("fw_cfg", "fw_cfg_io"),
    ("PCIHost", "i440FX-pcihost"),
    ("dma", "i8257"),
    ("i8259", "isa-i8259"),
    ("ioapic", "ioapic"),
    ("i8254", "isa-pit"),
    ("pcspk", "isa-pcspk"),
    ("pckbd", "i8042"),
    ("vmmouse", "vmmouse"),
    ("port92", "port92"),
    ("serial", "isa-serial"),
];

/// Subsections that a partial mirror lacks on purpose (see its docs).
const KNOWN_GAPS: &[&str] = &["serial/recv_fifo", "serial/xmit_fifo"];

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
    if fields.len() != vmsd.fields.len() {
        err(format!(
            "{} fields in QEMU, {} in the mirror",
            fields.len(),
            vmsd.fields.len()
        ));
    }
    let mut nested = Vec::new();
    for (q, m) in fields.iter().zip(vmsd.fields) {
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
        .filter(|s| !KNOWN_GAPS.iter().any(|g| s["name"] == *g))
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

/// The checkers catch what they are meant to catch.
#[test]
fn checkers_report_differences() {
    let e = registry::lookup("fw_cfg").unwrap();
    let stream = common::fixture("pc.mig");
    let s = common::sections(&stream)
        .into_iter()
        .find(|s| s.idstr == "fw_cfg")
        .unwrap();
    // The sent `cur_offset` is the second of that name.
    assert_eq!(s.desc["fields"][1]["name"], "cur_offset[1]");
    let mut bad = s.desc.clone();
    bad["fields"][1]["size"] = 2.into();
    bad["subsections"][0]["version"] = 3.into();
    let mut errs = Vec::new();
    check_vmdesc(e.vmsd, &bad, "fw_cfg", &mut errs);
    assert_eq!(
        errs,
        [
            "fw_cfg: field cur_offset[1]: size 2 vs mirror 4",
            "fw_cfg/fw_cfg/dma: version 3 vs mirror 0"
        ]
    );

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

/// Struct arrays whose element has subsections are described element by
/// element (`index`), as `fdc`'s drives are in the fixture.
#[test]
fn checker_handles_indexed_struct_arrays() {
    use vmstate_core::VmState;

    #[derive(VmState, Clone, Default)]
    #[vmstate(name = "fdrive/media_rate", version = 1, minimum_version = 1)]
    struct MediaRate {
        media_rate: u8,
    }

    #[derive(VmState, Clone, Default)]
    #[vmstate(name = "fdrive", version = 1, minimum_version = 1)]
    struct Drive {
        head: u8,
        track: u8,
        sect: u8,
        #[vmstate(subsection)]
        media_rate: MediaRate,
    }

    #[derive(VmState, Clone, Default)]
    #[vmstate(name = "drives-only", version = 1, minimum_version = 1)]
    struct Drives {
        #[vmstate(version = 1)]
        drives: [Drive; 2],
    }

    let stream = common::fixture("pc.mig");
    let fdc = common::sections(&stream)
        .into_iter()
        .find(|s| s.idstr == "fdc")
        .unwrap();
    let fields = fdc.desc["fields"][0]["struct"]["fields"]
        .as_array()
        .unwrap();
    let drives: Vec<Json> = fields
        .iter()
        .filter(|f| f["name"] == "drives")
        .cloned()
        .collect();
    assert_eq!(drives.len(), 2);
    assert_eq!(drives[1]["index"], 1);
    let j = serde_json::json!({"vmsd_name": "drives-only", "version": 1, "fields": drives});
    let mut errs = Vec::new();
    check_vmdesc(Drives::VMSD, &j, "drives-only", &mut errs);
    assert!(errs.is_empty(), "{errs:?}");

    let mut one = j.clone();
    one["fields"].as_array_mut().unwrap().pop();
    check_vmdesc(Drives::VMSD, &one, "drives-only", &mut errs);
    assert_eq!(errs, ["drives-only: field drives: missing from the vmdesc"]);
}
