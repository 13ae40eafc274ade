//! A VMM writes device state as a stream: sections saved straight from
//! derived values, with the vmdesc generated from what they wrote. Checked
//! against QEMU's own `pc.mig`: the same payload bytes and the same vmdesc
//! entries for the same devices, readable by our reader, the generic
//! decoder and `analyze`, and loadable back into fresh values.

use std::path::PathBuf;

use vmstate_core::{Context, VmState};
use vmstate_migration::{DeviceStreamWriter, Dispatcher, ReadOptions, Stream, WriteOptions};
use vmstate_qemu::hpet::Hpet;
use vmstate_qemu::i8259::PicCommon;
use vmstate_qemu::pckbd::KbdIsa;
use vmstate_qemu::port92::Port92;

fn pc_mig() -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/qemu-7.2/pc.mig");
    std::fs::read(p).unwrap()
}

/// Loads the section `(idstr, instance)` of QEMU's stream into a `T`.
fn from_qemu<T: VmState + Clone + Default>(qemu: &Stream, idstr: &str, instance: u32) -> T {
    let mut v = T::default();
    let mut d = Dispatcher::new(Context::new());
    d.register(idstr, instance, &mut v);
    assert_eq!(d.load(qemu).unwrap().loaded, 1);
    drop(d);
    v
}

#[test]
fn device_stream_matches_qemu_and_loads_back() {
    let original = pc_mig();
    let qemu = Stream::parse(&original, ReadOptions::default()).unwrap();
    let mut pic0: PicCommon = from_qemu(&qemu, "i8259", 0);
    let mut pic1: PicCommon = from_qemu(&qemu, "i8259", 1);
    let mut hpet: Hpet = from_qemu(&qemu, "hpet", 0);
    let mut kbd: KbdIsa = from_qemu(&qemu, "pckbd", 0);
    let mut port92: Port92 = from_qemu(&qemu, "port92", 0);
    pic0.imr = 0xb8;

    let mut w =
        DeviceStreamWriter::new(Vec::new(), WriteOptions::default(), Context::new()).unwrap();
    w.configuration("pc-i440fx-7.2").unwrap();
    for (idstr, inst) in [("i8259", 0), ("i8259", 1)] {
        let v = if inst == 0 { &mut pic0 } else { &mut pic1 };
        let id = qemu.section(idstr, inst).unwrap().section_id;
        assert!(w.section_with_id(id, idstr, inst, v).unwrap());
    }
    w.section("hpet", 0, &mut hpet).unwrap();
    w.section("pckbd", 0, &mut kbd).unwrap();
    w.section("port92", 0, &mut port92).unwrap();
    let ours = w.finish(4096).unwrap();

    // Our reader sizes every section with the generated vmdesc.
    let stream = Stream::parse(&ours, ReadOptions::default()).unwrap();
    assert_eq!(stream.sections().count(), 5);
    let qemu_json: serde_json::Value = {
        let b = &original;
        let at = b
            .windows(13)
            .rposition(|w| w == b"{\"page_size\":")
            .unwrap();
        serde_json::from_slice(&b[at..]).unwrap()
    };
    let ours_json: serde_json::Value = {
        let at = ours
            .windows(13)
            .rposition(|w| w == b"{\"page_size\":")
            .unwrap();
        serde_json::from_slice(&ours[at..]).unwrap()
    };
    for (idstr, inst) in [("i8259", 1), ("hpet", 0), ("pckbd", 0), ("port92", 0)] {
        // Same payload bytes as QEMU's, same vmdesc entry.
        assert_eq!(
            stream.section(idstr, inst).unwrap().vmsd().unwrap().bytes,
            qemu.section(idstr, inst).unwrap().vmsd().unwrap().bytes,
            "{idstr}:{inst}"
        );
        let find = |j: &serde_json::Value| {
            j["devices"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["name"] == idstr && d["instance_id"] == inst)
                .cloned()
                .unwrap()
        };
        assert_eq!(find(&ours_json), find(&qemu_json), "{idstr}:{inst}");
    }
    // The edited PIC: byte 2 of its payload.
    assert_eq!(
        stream.section("i8259", 0).unwrap().vmsd().unwrap().bytes[2],
        0xb8
    );
    // The section ids we chose are in the headers.
    assert_eq!(
        stream.section("i8259", 1).unwrap().section_id,
        qemu.section("i8259", 1).unwrap().section_id
    );

    // analyze reads it like any QEMU stream.
    let dir = std::env::temp_dir().join(format!("vmstate-devstream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("devices.mig");
    std::fs::write(&path, &ours).unwrap();
    let analyzed = vmstate_cli::analyze(&path, false).unwrap();
    assert!(analyzed.contains("\"imr\": \"0xb8\""), "{analyzed}");
    std::fs::remove_dir_all(&dir).unwrap();

    // And it loads back into fresh values; nothing unknown, nothing missing.
    let (mut a, mut b, mut h, mut k, mut p) = (
        PicCommon::default(),
        PicCommon::default(),
        Hpet::default(),
        KbdIsa::default(),
        Port92::default(),
    );
    let mut d = Dispatcher::new(Context::new());
    d.register("i8259", 0, &mut a);
    d.register("i8259", 1, &mut b);
    d.register("hpet", 0, &mut h);
    d.register("pckbd", 0, &mut k);
    d.register("port92", 0, &mut p);
    let report = d.load(&stream).unwrap();
    assert_eq!(
        (report.loaded, report.unknown.len(), report.missing.len()),
        (5, 0, 0)
    );
    drop(d);
    assert_eq!((a, b, h, k, p), (pic0, pic1, hpet, kbd, port92));
}

#[test]
fn dispatch_reports_unknown_and_missing_and_names_a_failing_section() {
    let original = pc_mig();
    let qemu = Stream::parse(&original, ReadOptions::default()).unwrap();
    let mut port92 = Port92::default();
    let mut absent = Port92::default();
    let mut d = Dispatcher::new(Context::new());
    d.register("port92", 0, &mut port92);
    d.register("port92", 7, &mut absent);
    let r = d.load(&qemu).unwrap();
    assert_eq!(r.loaded, 1);
    assert_eq!(r.unknown.len(), 29);
    assert_eq!(r.missing.len(), 1);
    drop(d);

    // A section loaded into the wrong type fails, naming the section.
    let mut wrong = Port92::default();
    let mut d = Dispatcher::new(Context::new());
    d.register("i8259", 0, &mut wrong);
    let e = d.load(&qemu).unwrap_err();
    assert!(e.to_string().contains("i8259"), "{e}");
}
