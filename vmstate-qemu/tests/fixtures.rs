//! Every mirrored section of the three QEMU 7.2 `pc` streams loads into its
//! mirror and saves back byte for byte, section by section; and a count of
//! what is mirrored.

mod common;

use common::{diff_payload, layout_len, sections, FIXTURES};
use vmstate_core::Context;
use vmstate_qemu::registry;

/// Loads, re-saves and compares one fixture's mirrored sections; returns
/// one line per failure.
fn roundtrip_fixture(name: &str) -> (Vec<String>, usize) {
    let stream = common::fixture(name);
    let ctx = Context::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for s in sections(&stream) {
        let Some(entry) = registry::lookup(&s.idstr) else {
            continue;
        };
        checked += 1;
        let what = format!(
            "{name}: section \"{}\" instance {} (version {}, {} payload bytes at stream offset {:#x}) through {}",
            s.idstr,
            s.instance_id,
            s.version,
            s.payload.len(),
            s.payload_offset,
            entry.type_name
        );
        // The loader sees the whole rest of the stream, as in a real load:
        // it must stop exactly at the payload's end.
        match (entry.roundtrip)(s.rest, s.version, &ctx) {
            Err(e) => failures.push(format!("{what}: load or save failed: {e}")),
            Ok(rt) => {
                if rt.consumed != s.payload.len() {
                    failures.push(format!(
                        "{what}: the load consumed {} bytes, the payload has {}; there: {}",
                        rt.consumed,
                        s.payload.len(),
                        common::field_at(&s.desc, rt.consumed.min(s.payload.len()))
                    ));
                }
                if let Some(d) = diff_payload(&s.desc, s.payload, &rt.resaved) {
                    failures.push(format!("{what}: re-saved payload differs: {d}"));
                }
                if rt.consumed != s.payload.len() || rt.resaved != s.payload {
                    // A field of the wrong width shifts everything after
                    // it, and zeros hide where: say where the mirror's
                    // description departs from QEMU's vmdesc.
                    let mut errs = Vec::new();
                    common::check_vmdesc(entry.vmsd, &s.desc, &s.idstr, &mut errs);
                    for e in errs {
                        failures.push(format!("{what}: description: {e}"));
                    }
                }
            }
        }
    }
    (failures, checked)
}

fn assert_fixture(name: &str, expect_checked: usize) {
    let (failures, checked) = roundtrip_fixture(name);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, expect_checked, "{name}: mirrored sections checked");
}

#[test]
fn pc_mig_sections_roundtrip() {
    assert_fixture("pc.mig", 18);
}

#[test]
fn pc_devices_mig_sections_roundtrip() {
    assert_fixture("pc-devices.mig", 19);
}

#[test]
fn pc_nofooter_mig_sections_roundtrip() {
    assert_fixture("pc-nofooter.mig", 18);
}

/// The section walk itself: the vmdesc's field sizes add up to each payload
/// found between headers (so payload extents and the field map agree, for
/// mirrored and unmirrored sections alike), and the footers are where they
/// should be.
#[test]
fn section_extents_match_the_vmdesc() {
    for name in FIXTURES {
        let stream = common::fixture(name);
        let all = sections(&stream);
        assert!(!all.is_empty());
        for s in &all {
            assert_eq!(
                layout_len(&s.desc),
                s.payload.len(),
                "{name}: {} instance {}",
                s.idstr,
                s.instance_id
            );
            assert_eq!(s.has_footer, name != "pc-nofooter.mig", "{name}");
        }
    }
}

/// N of M sections mirrored in each fixture, and which are not yet.
#[test]
fn coverage() {
    let mut report = String::new();
    let mut counts = Vec::new();
    for name in FIXTURES {
        let stream = common::fixture(name);
        let all = sections(&stream);
        let missing: Vec<String> = all
            .iter()
            .filter(|s| registry::lookup(&s.idstr).is_none())
            .map(|s| format!("{} ({})", s.idstr, s.instance_id))
            .collect();
        let mirrored = all.len() - missing.len();
        report.push_str(&format!(
            "{name}: {mirrored} of {} sections mirrored; not yet: {}\n",
            all.len(),
            missing.join(", ")
        ));
        counts.push((name, mirrored, all.len()));
    }
    println!("{report}");
    assert_eq!(
        counts,
        [
            ("pc.mig", 18, 30),
            ("pc-devices.mig", 19, 35),
            ("pc-nofooter.mig", 18, 30)
        ],
        "{report}"
    );
}

/// A mismatch is reported with the field that QEMU's vmdesc places at the
/// first differing byte.
#[test]
fn mismatch_names_the_field() {
    let stream = common::fixture("pc.mig");
    let all = sections(&stream);
    let apic = all.iter().find(|s| s.idstr == "apic").unwrap();
    // apicbase (4) id arb_id tpr (1 each): spurious_vec is bytes 7..11.
    let mut changed = apic.payload.to_vec();
    changed[8] ^= 0x40;
    let msg = diff_payload(&apic.desc, apic.payload, &changed).unwrap();
    assert!(
        msg.contains("first difference at payload byte 8, field spurious_vec (bytes 7..11)"),
        "{msg}"
    );
    // Inside a struct array and a subsection.
    let fw = all.iter().find(|s| s.idstr == "fw_cfg").unwrap();
    let mut changed = fw.payload.to_vec();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    let msg = diff_payload(&fw.desc, fw.payload, &changed).unwrap();
    assert!(msg.contains("field fw_cfg/acpi_mr/rsdp_mr_size"), "{msg}");
    let dma = all.iter().find(|s| s.idstr == "dma").unwrap();
    assert_eq!(
        common::field_at(&dma.desc, 7 + 17 * 2 + 8),
        "regs[2]/base[0] (bytes 49..51)"
    );
    // A shorter re-save is reported too.
    let msg = diff_payload(&fw.desc, fw.payload, &fw.payload[..10]).unwrap();
    assert!(msg.contains("lengths 74 vs 10"), "{msg}");
}
