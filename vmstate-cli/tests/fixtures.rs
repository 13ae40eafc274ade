//! The five QEMU 7.2 fixture streams (`tests/fixtures/qemu-7.2/`, made by
//! QEMU): `vmstate analyze` equals `analyze-migration.py`'s output, every
//! section's payload re-encodes byte-identically through the generic
//! decoder, every stream is re-written byte-identically (from memory and
//! streamed through `Read`/`Write`), and `vmstate edit` changes exactly the
//! bytes it names.

use std::path::PathBuf;

use vmstate_migration::{
    edit, generic, Item, Payload, ReadOptions, SectionKind, Stream, StreamReader, StreamWriter,
    Value, WriteOptions,
};

const FIXTURES: [&str; 5] = ["none", "none-8k", "pc", "pc-nofooter", "pc-devices"];

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/qemu-7.2")
}

fn mig(name: &str) -> PathBuf {
    dir().join(format!("{name}.mig"))
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(mig(name)).unwrap()
}

#[test]
fn analyze_matches_analyze_migration_py() {
    for name in FIXTURES {
        let ours = vmstate_cli::analyze(&mig(name), false).unwrap();
        let golden = std::fs::read_to_string(dir().join(format!("{name}.analyze.json"))).unwrap();
        let a: serde_json::Value = serde_json::from_str(&ours).unwrap();
        let b: serde_json::Value = serde_json::from_str(&golden).unwrap();
        assert_eq!(a, b, "{name}: analyze output differs from the golden JSON");
        // Also the same text: indent 4, Python's separators, key order.
        assert_eq!(ours, golden, "{name}: same JSON, different text");
    }
}

#[test]
fn analyze_desc_prints_the_vmdesc() {
    for name in FIXTURES {
        let ours = vmstate_cli::analyze(&mig(name), true).unwrap();
        let b = bytes(name);
        let start = b
            .windows(13)
            .rposition(|w| w == b"{\"page_size\":")
            .unwrap();
        let trailer: serde_json::Value = serde_json::from_slice(&b[start..]).unwrap();
        let a: serde_json::Value = serde_json::from_str(&ours).unwrap();
        assert_eq!(a, trailer, "{name}");
        assert!(ours.starts_with("{\n    \"page_size\": "));
    }
}

#[test]
fn every_section_reencodes_byte_identically() {
    let mut checked = 0;
    for name in FIXTURES {
        let b = bytes(name);
        let stream = Stream::parse(&b, ReadOptions::default()).unwrap();
        let desc = stream.vmdesc.as_ref().unwrap();
        for s in stream.sections() {
            let Payload::Vmsd(v) = &s.payload else {
                continue;
            };
            let body = &desc.section(&s.idstr, s.instance_id).unwrap().body;
            // The captured payload is the stream's bytes ...
            let start = s.payload_offset as usize;
            assert_eq!(&b[start..start + v.bytes.len()], &v.bytes[..]);
            // ... and the value tree encodes back to them.
            assert_eq!(
                generic::encode(body, &v.value).unwrap(),
                v.bytes,
                "{name}: {}:{}",
                s.idstr,
                s.instance_id
            );
            assert_eq!(v.value.encoded_len(), v.bytes.len() as u64);
            // Decoding the payload on its own gives the same tree.
            let again = generic::decode_payload(body, &v.bytes, s.payload_offset).unwrap();
            assert_eq!(again, v.value);
            checked += 1;
        }
    }
    // none, none-8k: timer and globalstate; pc, pc-nofooter: 30 each;
    // pc-devices: 35.
    assert_eq!(checked, 2 + 2 + 30 + 30 + 35);
}

#[test]
fn streams_rewrite_byte_identically() {
    for name in FIXTURES {
        let b = bytes(name);
        let stream = Stream::parse(&b, ReadOptions::default()).unwrap();
        assert_eq!(stream.to_bytes().unwrap(), b, "{name}");

        // Streaming: from a `Read`, record by record, into a `Write`.
        let desc = stream.vmdesc.clone();
        let file = std::fs::File::open(mig(name)).unwrap();
        let mut r = StreamReader::new(file, desc, ReadOptions::default()).unwrap();
        let mut w = StreamWriter::new(Vec::new(), WriteOptions::default());
        w.header().unwrap();
        let mut n = 0;
        while let Some(item) = r.next_item().unwrap() {
            w.item(&item).unwrap();
            n += 1;
        }
        assert!(n >= 5);
        assert_eq!(w.into_inner(), b, "{name} (streamed)");
    }
}

#[test]
fn old_style_writer_reproduces_qemus_nofooter_stream() {
    // pc-nofooter.mig is the same machine saved by QEMU with
    // send-section-footer=off and send-configuration=off.
    let pc = Stream::parse(&bytes("pc"), ReadOptions::default()).unwrap();
    let old = pc.write_to(Vec::new(), WriteOptions::old_style()).unwrap();
    assert_eq!(old, bytes("pc-nofooter"));

    let nf = Stream::parse(&bytes("pc-nofooter"), ReadOptions::default()).unwrap();
    assert!(nf.configuration().is_none());
    assert!(nf.sections().all(|s| !s.footer));
    assert!(pc.sections().all(|s| s.footer));
    assert_eq!(pc.configuration().unwrap().machine, "pc-i440fx-7.2");
}

#[test]
fn ram_blocks_and_pages() {
    let pc = Stream::parse(&bytes("pc"), ReadOptions::default()).unwrap();
    let ram: Vec<_> = pc.sections().filter(|s| s.idstr == "ram").collect();
    assert_eq!(
        ram.iter().map(|s| s.kind).collect::<Vec<_>>(),
        [SectionKind::Start, SectionKind::Part, SectionKind::End]
    );
    let mut img = vmstate_migration::RamImage::default();
    let mut last = None;
    for s in &ram {
        if let Payload::Ram(p) = &s.payload {
            img.add(p, 4096, &mut last);
        }
    }
    let names: Vec<_> = img.blocks.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names.len(), 6, "{names:?}");
    let pc_ram = img.blocks.iter().find(|b| b.name == "pc.ram").unwrap();
    assert_eq!(pc_ram.used_length, 0x100000);
    // 1 MiB of pc.ram: every page sent once (zero or data).
    assert_eq!(img.pages["pc.ram"].len(), 256);
}

#[test]
fn edit_round_trip() {
    let out = std::env::temp_dir().join(format!("vmstate-edit-{}.mig", std::process::id()));
    vmstate_cli::edit(
        &mig("pc"),
        &out,
        &[
            "i8259:0/imr=0xb8".to_string(),
            "mc146818rtc/cmos_data[14]=0x12".to_string(),
            "pckbd/kbd/pckbd/extended_state/obsrc=7".to_string(),
            "cpu/env.regs[3]=0x1234".to_string(),
        ],
    )
    .unwrap();
    let orig = bytes("pc");
    let new = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    assert_eq!(orig.len(), new.len());

    let s = Stream::parse(&new, ReadOptions::default()).unwrap();
    let pic = s.section("i8259", 0).unwrap();
    let imr = pic.vmsd().unwrap().value.get("imr").unwrap();
    assert!(matches!(imr, Value::Int(i) if i.bits() == 0xb8));
    // Exactly the named bytes changed.
    let o = Stream::parse(&orig, ReadOptions::default()).unwrap();
    let diffs: Vec<usize> = (0..orig.len()).filter(|&i| orig[i] != new[i]).collect();
    let pic_imr = o.section("i8259", 0).unwrap().payload_offset as usize + 2;
    let cmos = o.section("mc146818rtc", 0).unwrap().payload_offset as usize + 14;
    assert!(diffs.contains(&pic_imr), "{diffs:?}");
    assert!(diffs.contains(&cmos), "{diffs:?}");
    assert_eq!(new[pic_imr], 0xb8);
    assert_eq!(new[cmos], 0x12);
    assert_eq!(diffs.len(), 5, "{diffs:?}"); // imr, cmos, obsrc (1 byte), regs[3] (2 bytes)

    // Value checks: no wrap-around, and errors name section, path, offset.
    let err = vmstate_cli::edit(&mig("pc"), &out, &["i8259:1/imr=0x1b8".to_string()])
        .unwrap_err()
        .to_string();
    let off = o.section("i8259", 1).unwrap().payload_offset + 2;
    assert!(
        err.contains(&format!(
            "i8259:1/imr (section id 16) at byte {off}: value 0x1b8 does not fit uint8"
        )),
        "{err}"
    );
    assert!(!out.exists());
    for bad in [
        "i8259/imr=1",    // two instances
        "i8259:0/nope=1", // no such field
        "i8259:0/imr=-1", // unsigned
        "mc146818rtc/cmos_data[128]=1",
        "mc146818rtc/cmos_data[1]=256",
        "timer/unused=00", // buffer has 8 bytes
        "nosuch:0/x=1",
    ] {
        assert!(
            vmstate_cli::edit(&mig("pc"), &out, &[bad.to_string()]).is_err(),
            "{bad}"
        );
        assert!(!out.exists());
    }
}

#[test]
fn generic_edit_of_a_tree_matches_the_stream_layout() {
    // edit::set returns the element's payload offset; check it against the
    // bytes of the real stream for every integer leaf of a section.
    let b = bytes("pc");
    let s = Stream::parse(&b, ReadOptions::default()).unwrap();
    let sec = s.section("pckbd", 0).unwrap();
    let mut v = sec.vmsd().unwrap().value.clone();
    let off = edit::set(&mut v, "kbd.status", "0x18").unwrap();
    assert_eq!(b[(sec.payload_offset + off) as usize], 0x18);
    let off = edit::set(&mut v, "kbd.pckbd/extended_state.obdata", "0").unwrap();
    // write_cmd..pending_tmp (4) + 05 14 name(20) version(4) + 4 + 4.
    assert_eq!(off, 4 + 1 + 1 + 20 + 4 + 8);
    let items = s
        .items
        .iter()
        .filter(|i| matches!(i, Item::Section(_)))
        .count();
    assert_eq!(items, 33);
}

#[test]
fn roundtrip_through_the_catalog() {
    for name in FIXTURES {
        let mut out = Vec::new();
        let sum = vmstate_cli::roundtrip(&mig(name), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(sum.all_identical(), "{name}:\n{text}");
        assert!(sum.mirrored >= 1, "{name}");
        assert_eq!(text.lines().last().unwrap(), sum.to_string());
        let tail = format!(
            "sections byte-identical, {} without a mirror",
            sum.unmirrored
        );
        assert!(text.lines().last().unwrap().ends_with(&tail), "{text}");
    }
    // A mirrored section that fails to load: reported on its line, with
    // the field and stream offset, and the command fails.
    let bad = std::env::temp_dir().join(format!("vmstate-rt-{}.mig", std::process::id()));
    vmstate_cli::edit(&mig("pc"), &bad, &["vmmouse/queue_size=1023".to_string()]).unwrap();
    let mut out = Vec::new();
    let sum = vmstate_cli::roundtrip(&bad, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!sum.all_identical());
    let line = text.lines().find(|l| l.starts_with("vmmouse:0")).unwrap();
    assert!(
        line.contains("LOAD FAILED: vmmouse:0/vmmouse/queue_size (section id 26) at byte "),
        "{line}"
    );
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_vmstate"))
        .arg("roundtrip")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(1));
    std::fs::remove_file(&bad).unwrap();
}
