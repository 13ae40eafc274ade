//! Every section of the three QEMU 7.2 `pc` streams and the seven QEMU 10.0
//! streams (pc, q35, devices, a 7.2 machine on 10.0, CPR) loads into its
//! mirror, built for the stream's machine, and saves back byte for byte,
//! section by section; and a count of what is mirrored (everything).

mod common;

use common::{diff_payload, layout_len, sections, FIXTURES};
use vmstate_core::Context;
use vmstate_migration::record;
use vmstate_qemu::machine::Machine;
use vmstate_qemu::registry;

/// Sections that QEMU saves without a description (`register_savevm_live`
/// with its own callbacks): the vmdesc entry is an opaque `data` buffer,
/// not what a description records. Their payloads are compared all the
/// same.
const NO_DESCRIPTION_IN_QEMU: &[&str] = &["slirp"];

/// The machine of a stream's configuration section (after the 8-byte
/// header: `07`, be32 length, the name); pc without one.
fn machine_of(stream: &[u8]) -> Machine {
    if stream.get(8) != Some(&0x07) {
        return Machine::I440fx;
    }
    let len = u32::from_be_bytes(stream[9..13].try_into().unwrap()) as usize;
    let name = std::str::from_utf8(&stream[13..13 + len]).unwrap();
    Machine::from_name(name).unwrap_or_else(|| panic!("machine {name}"))
}

/// Loads, re-saves and compares one fixture's mirrored sections: the
/// payload byte for byte, and the vmdesc entry that the re-save records
/// against the text QEMU wrote into the trailer. Returns one line per
/// failure and the number of sections checked.
fn roundtrip_fixture(name: &str) -> (Vec<String>, usize) {
    roundtrip_stream(name, &common::fixture(name), true)
}

/// [`roundtrip_fixture`] for any stream; `vmdesc` compares the recorded
/// vmdesc entries too (QEMU 7.2's trailer shape: QEMU 10.0 writes array
/// elements without `index`, a C string buffer at its text's size, and
/// renamed `hpet`'s `num_timers`, so its trailers are not compared).
fn roundtrip_stream(name: &str, stream: &[u8], vmdesc: bool) -> (Vec<String>, usize) {
    let machine = machine_of(stream);
    let ctx = Context::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut seen: Vec<(String, u32)> = Vec::new();
    for s in sections(stream) {
        let nth = seen
            .iter()
            .filter(|(i, n)| *i == s.idstr && *n == s.instance_id)
            .count();
        seen.push((s.idstr.clone(), s.instance_id));
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
        let rt = match (entry.roundtrip_on)(machine, s.rest, s.version, &ctx, true) {
            Err(e) => {
                failures.push(format!("{what}: load or save failed: {e}"));
                continue;
            }
            Ok(rt) => rt,
        };
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
        if !rt.needed {
            failures.push(format!(
                "{what}: the loaded mirror says the section is not needed"
            ));
        }
        if let Some(d) = slice_save_differs(entry, machine, &s, &rt.resaved, &ctx) {
            failures.push(format!("{what}: {d}"));
        }
        // The vmdesc entry, exactly as QEMU wrote it.
        if !vmdesc || NO_DESCRIPTION_IN_QEMU.contains(&s.idstr.as_str()) {
            continue;
        }
        let Some(rec) = rt.record.as_ref() else {
            failures.push(format!("{what}: the save recorded nothing"));
            continue;
        };
        let value = record::section_value(&s.idstr, s.instance_id, rec);
        let mine = record::to_qemu_json(&value);
        let theirs = common::vmdesc_entry_text(stream, &s.idstr, s.instance_id, nth);
        if theirs != Some(mine.as_str()) {
            let d = common::json_diff(&s.desc, &value)
                .unwrap_or_else(|| "same JSON, different text".to_owned());
            failures.push(format!("{what}: recorded vmdesc differs: {d}"));
        }
    }
    (failures, checked)
}

/// The save into a caller's buffer (`save_into_slice`, the `SliceSink`
/// path, no zero fill) against the round trip's save into a `Vec`
/// (`want`): the same bytes from a buffer full of another byte, tight,
/// roomy or of the mirror's `MAX_PAYLOAD` (which must hold them), and a
/// buffer one byte short fails.
fn slice_save_differs(
    entry: &registry::Entry,
    machine: Machine,
    s: &common::Sec<'_>,
    want: &[u8],
    ctx: &Context,
) -> Option<String> {
    // A failed load is reported by the round trip already.
    let mut m = (entry.new_mirror_on)(machine);
    m.as_target().load_section(s.payload, s.version, ctx).ok()?;
    // A buffer of the static bound, where there is one, holds what QEMU
    // saved; a roomy buffer holds every bound; a tight one may not.
    let max = m.max_payload();
    if max > 0 && want.len() > max {
        return Some(format!("{} bytes, over MAX_PAYLOAD {max}", want.len()));
    }
    let sizes = [
        Some(want.len() + 8),
        Some(want.len() + (1 << 20)),
        (max > 0).then_some(max),
    ];
    for len in sizes.into_iter().flatten() {
        let mut buf = vec![0xa5; len];
        match m.save_into_slice(&mut buf, ctx) {
            Ok(n) if buf[..n] == want[..] && buf[n..].iter().all(|&b| b == 0xa5) => {}
            Ok(n) => {
                return Some(format!(
                    "save_into_slice into {} bytes wrote other bytes ({n} of {})",
                    buf.len(),
                    want.len()
                ))
            }
            Err(e) => return Some(format!("save_into_slice failed: {e}")),
        }
    }
    let short = want.len().checked_sub(1)?;
    match m.save_into_slice(&mut vec![0xa5; short], ctx) {
        Err(e) if e.offset() <= short as u64 => None,
        other => Some(format!("save_into_slice into {short} bytes: {other:?}")),
    }
}

fn assert_fixture(name: &str, expect_checked: usize) {
    let (failures, checked) = roundtrip_fixture(name);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, expect_checked, "{name}: mirrored sections checked");
}

/// Per fixture: sections mirrored, and sections in the stream.
const COVERAGE: [(&str, usize, usize); 3] = [
    ("pc.mig", 30, 30),
    ("pc-devices.mig", 35, 35),
    ("pc-nofooter.mig", 30, 30),
];

fn mirrored(name: &str) -> usize {
    COVERAGE.iter().find(|c| c.0 == name).map_or(0, |c| c.1)
}

#[test]
fn pc_mig_sections_roundtrip() {
    assert_fixture("pc.mig", mirrored("pc.mig"));
}

#[test]
fn pc_devices_mig_sections_roundtrip() {
    assert_fixture("pc-devices.mig", mirrored("pc-devices.mig"));
}

#[test]
fn pc_nofooter_mig_sections_roundtrip() {
    assert_fixture("pc-nofooter.mig", mirrored("pc-nofooter.mig"));
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
    assert_eq!(counts, COVERAGE, "{report}");
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

/// The trailer's entries are found as QEMU wrote them, and a recorded
/// description that departs from QEMU's is reported at the first
/// difference, by field name.
#[test]
fn vmdesc_entries_and_differences() {
    let stream = common::fixture("pc.mig");
    assert_eq!(
        common::vmdesc_entry_text(&stream, "port92", 0, 0),
        Some(
            r#"{"name": "port92", "instance_id": 0, "vmsd_name": "port92", "version": 1, "fields": [{"name": "outport", "type": "uint8", "size": 1}]}"#
        )
    );
    assert!(common::vmdesc_entry_text(&stream, "dma", 1, 0).is_some());
    assert!(common::vmdesc_entry_text(&stream, "dma", 1, 1).is_none());
    assert!(common::vmdesc_entry_text(&stream, "dma", 2, 0).is_none());

    let all = sections(&stream);
    let apic = all.iter().find(|s| s.idstr == "apic").unwrap();
    let mut bad = apic.desc.clone();
    bad["fields"][4]["size"] = 2.into();
    assert_eq!(
        common::json_diff(&apic.desc, &bad).unwrap(),
        ".fields[4: spurious_vec].size: QEMU has 4, the mirror 2"
    );
    let mut bad = apic.desc.clone();
    let n = bad["fields"].as_array().unwrap().len();
    bad["fields"].as_array_mut().unwrap().pop();
    assert_eq!(
        common::json_diff(&apic.desc, &bad).unwrap(),
        format!(".fields: QEMU has {n} entries, the mirror {}", n - 1)
    );
    let mut bad = apic.desc.clone();
    bad["subsections"] = serde_json::json!([]);
    assert_eq!(
        common::json_diff(&apic.desc, &bad).unwrap(),
        ".subsections: the mirror has [], QEMU nothing"
    );
    assert_eq!(common::json_diff(&apic.desc, &apic.desc), None);
}

/// A `tmp` field's description is written inline in the field object, as
/// QEMU's `vmstate_info_tmp` writes it (not under `"struct"`).
#[test]
fn tmp_vmdesc_is_inline() {
    use vmstate_core::{VmState, Writer};
    let mut reg = vmstate_qemu::cpu::FpReg::default();
    let mut out = Vec::new();
    let mut w = Writer::recording(&mut out);
    reg.save(&mut w, &Context::new()).unwrap();
    let rec = w.take_record().unwrap();
    assert_eq!(
        record::section_json("fpreg", 0, &rec),
        r#"{"name": "fpreg", "instance_id": 0, "vmsd_name": "fpreg", "version": 0, "fields": [{"name": "tmp", "type": "tmp", "vmsd_name": "fpreg_tmp", "version": 0, "fields": [{"name": "tmp_mant", "type": "uint64", "size": 8}, {"name": "tmp_exp", "type": "uint16", "size": 2}], "size": 10}]}"#
    );
}

/// The QEMU 10.0 streams and their sections (all FULL sections: each has
/// a mirror).
const QEMU_10_0: [(&str, usize); 7] = [
    ("pc.mig", 30),
    ("q35.mig", 29),
    ("pc-devices.mig", 35),
    ("pc-72on10.mig", 30),
    ("cpr-reboot.mig", 30),
    ("cpr-reboot-ignore-shared.mig", 30),
    ("cpr-transfer-main.mig", 30),
];

/// `name` of `QEMU_10_0`: N/N sections byte-identical, 0 without a mirror.
fn assert_fixture10(name: &str) {
    let stream = common::fixture10(name);
    let all = sections(&stream);
    let expect = QEMU_10_0.iter().find(|f| f.0 == name).unwrap().1;
    assert_eq!(all.len(), expect, "{name}: sections in the stream");
    let missing: Vec<String> = all
        .iter()
        .filter(|s| registry::lookup(&s.idstr).is_none())
        .map(|s| format!("{} ({})", s.idstr, s.instance_id))
        .collect();
    assert!(missing.is_empty(), "{name}: without a mirror: {missing:?}");
    let (failures, checked) = roundtrip_stream(name, &stream, false);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, expect, "{name}: sections checked");
}

#[test]
fn qemu10_pc_mig_sections_roundtrip() {
    assert_fixture10("pc.mig");
}

#[test]
fn qemu10_q35_mig_sections_roundtrip() {
    assert_fixture10("q35.mig");
}

#[test]
fn qemu10_pc_devices_mig_sections_roundtrip() {
    assert_fixture10("pc-devices.mig");
}

#[test]
fn qemu10_pc_72on10_mig_sections_roundtrip() {
    assert_fixture10("pc-72on10.mig");
}

#[test]
fn qemu10_cpr_reboot_mig_sections_roundtrip() {
    assert_fixture10("cpr-reboot.mig");
}

#[test]
fn qemu10_cpr_reboot_ignore_shared_mig_sections_roundtrip() {
    assert_fixture10("cpr-reboot-ignore-shared.mig");
}

#[test]
fn qemu10_cpr_transfer_main_mig_sections_roundtrip() {
    assert_fixture10("cpr-transfer-main.mig");
}

/// The q35 bus has eight interrupt lines: a pc destination refuses its
/// `PCIBUS`, the q35 one takes it.
#[test]
fn q35_pcibus_needs_the_q35_machine() {
    let stream = common::fixture10("q35.mig");
    assert_eq!(machine_of(&stream), Machine::Q35);
    let all = sections(&stream);
    let bus = all.iter().find(|s| s.idstr == "PCIBUS").unwrap();
    let e = registry::lookup("PCIBUS").unwrap();
    let ctx = Context::new();
    let err = (e.roundtrip_on)(Machine::I440fx, bus.rest, 1, &ctx, false).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected 0x4, found 0x8 (the number of PCI interrupt lines must match)"),
        "{err}"
    );
    let rt = (e.roundtrip_on)(Machine::Q35, bus.rest, 1, &ctx, false).unwrap();
    assert_eq!(rt.resaved, bus.payload);
}
