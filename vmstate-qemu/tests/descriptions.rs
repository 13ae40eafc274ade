//! The mirrors' static descriptions against QEMU's `-dump-vmstate` output,
//! through the export of [`vmstate_migration::dump`]: for every mirror that
//! stands for a QEMU device type, the exported entry equals QEMU 7.2's in
//! everything QEMU's dump says (names, versions, minimum versions, every
//! field's name, version, `field_exists`, size and array length, nested
//! descriptions, the full subsection lists), except the C struct sizes
//! of nested descriptions, which a Rust description does not know. Against
//! QEMU 10.0 the same holds but for the differences listed. For the
//! devices without nested descriptions the exported text is QEMU 10.0's,
//! byte for byte. (What a save writes, the vmdesc entry of each fixture
//! section, is compared text for text in `fixtures.rs`.)

mod common;

use vmstate_migration::dump::{Description, DeviceType, DumpOptions, VmstateDump};
use vmstate_qemu::registry;

fn qemu_dump(version: &str) -> (String, VmstateDump) {
    let path = format!(
        "{}/../tests/fixtures/qemu-{version}/vmstate-pc.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let dump = VmstateDump::parse(text.as_bytes()).unwrap();
    (text, dump)
}

/// The mirrors that stand for a device type, exported.
fn ours() -> Vec<DeviceType> {
    registry::ENTRIES
        .iter()
        .filter_map(|e| e.qemu_type().map(|t| DeviceType::from_vmsd(t, e.vmsd)))
        .collect()
}

/// What QEMU's dump of `version` can be compared with: field types dropped
/// (QEMU has none), nested descriptions' sizes zeroed (C struct sizes), and
/// array lengths dropped for a dump without them (before QEMU 8.1).
fn comparable(d: &mut Description, keep_num: bool) {
    for f in d.fields.iter_mut().flatten() {
        f.ty = None;
        if !keep_num {
            f.num = None;
        }
        if let Some(n) = &mut f.description {
            f.size = 0;
            comparable(n, keep_num);
        }
    }
    for s in d.subsections.iter_mut().flatten() {
        comparable(s, keep_num);
    }
}

/// Differences between our entry and QEMU's, one line each.
fn differences(ours: &DeviceType, qemu: &DeviceType, keep_num: bool) -> Vec<String> {
    let (mut o, mut q) = (ours.clone(), qemu.clone());
    for d in [&mut o.description, &mut q.description]
        .into_iter()
        .flatten()
    {
        comparable(d, keep_num);
    }
    if o == q {
        return Vec::new();
    }
    let render = |t: &DeviceType| {
        VmstateDump {
            machine: None,
            types: vec![t.clone()],
        }
        .to_json(&DumpOptions::qemu())
    };
    let (ot, qt) = (render(&o), render(&q));
    let mut out = Vec::new();
    for (i, (a, b)) in ot.lines().zip(qt.lines()).enumerate() {
        if a != b {
            out.push(format!("{}: line {i}: ours {a:?}, QEMU {b:?}", ours.name));
            break;
        }
    }
    if out.is_empty() {
        out.push(format!(
            "{}: ours has {} lines, QEMU {}",
            ours.name,
            ot.lines().count(),
            qt.lines().count()
        ));
    }
    out
}

#[test]
fn mirrors_match_qemu_7_2s_dump_vmstate_but_for_what_came_later() {
    let (_, dump) = qemu_dump("7.2");
    let mut errs = Vec::new();
    let mut compared = 0;
    for t in ours() {
        // 7.2 lists piix3-ide's description on no device class.
        let Some(q) = dump.get(&t.name) else {
            assert_eq!(t.name, "piix3-ide");
            continue;
        };
        // The PIC's subsection `i8259/ltim` is new in 10.0: the mirror,
        // which serves both, has it; everything else must match 7.2.
        if t.name == "isa-i8259" {
            let mut older = t.clone();
            if let Some(d) = older.description.as_mut() {
                d.subsections = None;
            }
            errs.extend(differences(&older, q, false));
        } else {
            errs.extend(differences(&t, q, false));
        }
        compared += 1;
    }
    assert_eq!(compared, 26);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn mirrors_match_qemu_10_0s_dump_vmstate_but_for_listed_gaps() {
    let (_, dump) = qemu_dump("10.0");
    let mut differ = Vec::new();
    for t in ours() {
        let q = dump.get(&t.name).unwrap();
        if !differences(&t, q, true).is_empty() {
            differ.push(t.name);
        }
    }
    // hpet: `num_timers` is `num_timers_save` in 10.0 (the mirror keeps
    // 7.2's name, which its vmdesc must match).
    assert_eq!(differ, ["hpet"]);
}

/// The text of `name`'s entry in a dump written by QEMU.
fn entry_text<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text.find(&format!("\n  \"{name}\": {{\n")).unwrap() + 1;
    let len = text[start..].find("\n  }").unwrap() + 4;
    &text[start..start + len]
}

#[test]
fn export_is_qemu_10_0s_text_for_devices_without_nested_descriptions() {
    let (text, _) = qemu_dump("10.0");
    let mut same = Vec::new();
    for t in ours() {
        let flat = t
            .description
            .as_ref()
            .and_then(|d| d.fields.as_ref())
            .is_some_and(|f| f.iter().all(|f| f.description.is_none()));
        if !flat || t.name == "hpet" {
            continue;
        }
        let mine = VmstateDump {
            machine: None,
            types: vec![t.clone()],
        }
        .to_json(&DumpOptions::qemu());
        // `{\n` + the entry + `\n}\n`
        let mine = &mine[2..mine.len() - 3];
        assert_eq!(mine, entry_text(&text, &t.name), "{}", t.name);
        same.push(t.name);
    }
    assert_eq!(
        same,
        [
            "fw_cfg_io",
            "i440FX-pcihost",
            "isa-i8259",
            "ioapic",
            "mc146818rtc",
            "isa-pcspk",
            "vmmouse",
            "port92",
            "virtio-net-device"
        ]
    );
}

/// The comparison catches what it is meant to catch.
#[test]
fn a_changed_field_is_a_difference() {
    let (_, dump) = qemu_dump("7.2");
    let mut q = dump.get("isa-pit").unwrap().clone();
    let pit = ours().into_iter().find(|t| t.name == "isa-pit").unwrap();
    assert!(differences(&pit, &q, false).is_empty());
    q.description.as_mut().unwrap().fields.as_mut().unwrap()[0].version_id = 2;
    let d = differences(&pit, &q, false);
    assert_eq!(
        d,
        [
            r#"isa-pit: line 12: ours "          \"version_id\": 3,", QEMU "          \"version_id\": 2,""#
        ]
    );
}
