//! Loading a whole stream in one pass from a socket, as a VMM receiving a
//! migration does: the vmdesc trailer (the only thing that gives a FULL
//! section's length) comes last, so each section is loaded straight into
//! its registered value and its end is checked by the footer.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use vmstate_core::Context;
use vmstate_migration::{
    locate_vmdesc, DispatchReport, Dispatcher, Item, Payload, ReadOptions, SectionKind, Stream,
    StreamError, StreamErrorKind, StreamReader, StreamResult,
};
use vmstate_qemu::hpet::Hpet;
use vmstate_qemu::port92::Port92;
use vmstate_qemu::registry::{self, Mirror};

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/qemu-7.2")
        .join(name);
    std::fs::read(p).unwrap()
}

/// A socket whose other end a thread feeds with `bytes`, in small writes,
/// then closes: reads see the stream arrive piece by piece.
fn socket_with(bytes: Vec<u8>) -> (UnixStream, thread::JoinHandle<()>) {
    let (mut tx, rx) = UnixStream::pair().unwrap();
    let feeder = thread::spawn(move || {
        for chunk in bytes.chunks(1000) {
            // The reader may stop early on an error; a closed socket is fine.
            if tx.write_all(chunk).is_err() {
                return;
            }
        }
    });
    (rx, feeder)
}

/// Loads `bytes` through a socket into `d`'s values, with the vmdesc
/// known up front (so that sections without a value are decoded).
fn load_over_socket(d: &mut Dispatcher<'_>, bytes: Vec<u8>) -> StreamResult<DispatchReport> {
    let desc = locate_vmdesc(&bytes, 1 << 20).unwrap();
    let (socket, feeder) = socket_with(bytes);
    let r = d.load_read(socket, desc, ReadOptions::default(), |_| Ok(()));
    feeder.join().unwrap();
    r
}

/// One fresh catalog mirror per mirrored `(idstr, instance)` of `qemu`'s
/// FULL sections (QEMU 7.2 saves its two `slirp` back ends both as
/// instance 0: one destination, as QEMU's `find_se` finds, loads both).
fn mirrors_for(qemu: &Stream) -> Vec<(String, u32, Box<dyn Mirror>)> {
    let mut out: Vec<(String, u32, Box<dyn Mirror>)> = Vec::new();
    for s in qemu.sections().filter(|s| s.kind == SectionKind::Full) {
        let Some(e) = registry::lookup(&s.idstr) else {
            continue;
        };
        if !out
            .iter()
            .any(|(i, n, _)| *i == s.idstr && *n == s.instance_id)
        {
            out.push((s.idstr.clone(), s.instance_id, (e.new_mirror)()));
        }
    }
    out
}

/// Mirrored FULL sections of `qemu`.
fn mirrored_sections(qemu: &Stream) -> usize {
    qemu.sections()
        .filter(|s| s.kind == SectionKind::Full && registry::lookup(&s.idstr).is_some())
        .count()
}

#[test]
fn every_section_of_qemu_streams_loads_from_a_socket_without_vmdesc() {
    for name in ["pc.mig", "pc-devices.mig", "pc-nofooter.mig"] {
        let bytes = fixture(name);
        // The reference: the same stream parsed in memory with its vmdesc.
        let qemu = Stream::parse(&bytes, ReadOptions::default()).unwrap();
        let mut mirrors = mirrors_for(&qemu);
        let full = mirrored_sections(&qemu);
        assert!(full >= 30, "{name}: {full} mirrored FULL sections");
        // pc-devices.mig has sections no mirror can load (virtio-net,
        // slirp): they need the vmdesc up front; the others load without.
        let unmirrored: Vec<_> = qemu
            .sections()
            .filter(|s| s.kind == SectionKind::Full && registry::lookup(&s.idstr).is_none())
            .map(|s| s.name())
            .collect();
        let desc = if unmirrored.is_empty() {
            None
        } else {
            qemu.vmdesc.clone()
        };

        let (socket, feeder) = socket_with(bytes.clone());
        let mut d = Dispatcher::new(Context::new());
        for (idstr, instance, m) in &mut mirrors {
            d.register(idstr, *instance, m.as_target());
        }
        let mut kinds: HashMap<&'static str, usize> = HashMap::new();
        let mut trailer = None;
        let report = d
            .load_read(socket, desc, ReadOptions::default(), |item| {
                let k = match &item {
                    Item::Configuration(_) => "configuration",
                    Item::Section(s) if s.payload == Payload::Loaded => "loaded",
                    Item::Section(_) => "other section",
                    Item::RamContinued(_) => "more RAM",
                    Item::Command(_) => "command",
                    Item::Eof { .. } => "eof",
                    Item::VmDesc(t) => {
                        trailer = Some(t.json.len());
                        "vmdesc"
                    }
                };
                *kinds.entry(k).or_default() += 1;
                Ok(())
            })
            .unwrap();
        feeder.join().unwrap();
        drop(d);

        assert_eq!(report.loaded, full, "{name}");
        assert_eq!(report.unknown, unmirrored, "{name}");
        assert!(report.missing.is_empty(), "{name}: {report:?}");
        assert_eq!(kinds.get("loaded"), Some(&full), "{name}");
        assert_eq!(kinds.get("eof"), Some(&1), "{name}");
        // RAM (START/PART/END) and unmirrored sections went to the caller,
        // decoded.
        let others = qemu.sections().count() - full;
        assert_eq!(
            kinds.get("other section").copied().unwrap_or(0),
            others,
            "{name}"
        );
        assert_eq!(trailer.is_some(), qemu.vmdesc.is_some(), "{name}");

        // Every value holds what QEMU saved (last, for a key saved twice):
        // it saves the same payload.
        let ctx = Context::new();
        for (idstr, instance, m) in mirrors.iter_mut() {
            let s = qemu
                .sections()
                .filter(|s| s.kind == SectionKind::Full && s.idstr == *idstr)
                .filter(|s| s.instance_id == *instance)
                .last()
                .unwrap();
            let payload = &s.vmsd().unwrap().bytes;
            assert_eq!(
                &m.save_payload(&ctx).unwrap(),
                payload,
                "{name} {idstr}:{instance}"
            );
        }
    }
}

#[test]
fn a_value_that_reads_too_little_is_caught_by_the_footer() {
    let bytes = fixture("pc.mig");
    // port92's description reads one byte of the 16-byte i8259 payload.
    let mut wrong = Port92 { outport: 0x55 };
    let mut d = Dispatcher::new(Context::new());
    d.register("i8259", 0, &mut wrong);
    let e = load_over_socket(&mut d, bytes).unwrap_err();
    drop(d);
    // The footer check is part of the value's transaction.
    assert_eq!(
        wrong.outport, 0x55,
        "a load that ended in the wrong place is undone"
    );
    assert!(
        matches!(e.kind(), StreamErrorKind::MissingFooter { .. }),
        "{e}"
    );
    let text = e.to_string();
    assert!(text.contains("i8259"), "{text}");
}

#[test]
fn a_section_without_value_needs_the_vmdesc() {
    let bytes = fixture("pc.mig");
    let qemu = Stream::parse(&bytes, ReadOptions::default()).unwrap();
    let port = qemu.section("port92", 0).unwrap();

    // Without a vmdesc, the first section with no value stops the load,
    // named, at its payload.
    let mut port92 = Port92::default();
    let mut d = Dispatcher::new(Context::new());
    d.register("port92", 0, &mut port92);
    let e = d
        .load_read(&bytes[..], None, ReadOptions::default(), |_| Ok(()))
        .unwrap_err();
    assert!(matches!(e.kind(), StreamErrorKind::NoDescription), "{e}");
    let first = qemu
        .sections()
        .find(|s| s.kind == SectionKind::Full)
        .unwrap();
    assert_eq!(e.offset(), first.payload_offset, "{e}");
    assert!(e.to_string().contains(&first.idstr), "{e}");

    // With the vmdesc known up front (e.g. from an earlier migration of
    // the same machine), those sections are decoded and listed.
    let desc = locate_vmdesc(&bytes, 1 << 20).unwrap();
    let report = d
        .load_read(&bytes[..], desc, ReadOptions::default(), |_| Ok(()))
        .unwrap();
    assert_eq!(report.loaded, 1);
    assert_eq!(report.unknown.len(), 29);
    drop(d);
    assert_eq!(port92.outport, port.vmsd().unwrap().bytes[0]);
}

/// A hostile value in a streamed section: the error names the field, and
/// the value keeps its old state.
#[test]
fn a_rejected_section_leaves_its_value_unchanged() {
    let mut bytes = fixture("pc.mig");
    let qemu = Stream::parse(&bytes, ReadOptions::default()).unwrap();
    let hpet = qemu.section("hpet", 0).unwrap();
    // hpet's payload: config u64, isr u64, counter u64, num_timers u8
    // (validated: at most 32, CVE-2013-4527).
    let at = hpet.payload_offset as usize + 24;
    assert_eq!(bytes[at], 3, "num_timers of QEMU's hpet");
    bytes[at] = 200;

    let mut dev = Hpet::default();
    let before = format!("{dev:?}");
    let mut d = Dispatcher::new(Context::new());
    d.register("hpet", 0, &mut dev);
    let e = load_over_socket(&mut d, bytes).unwrap_err();
    drop(d);
    let text = e.to_string();
    assert!(text.contains("hpet"), "{text}");
    assert!(text.contains("num_timers"), "{text}");
    assert_eq!(format!("{dev:?}"), before);
}

/// Cut anywhere, the stream is an error, never a panic or a hang.
#[test]
fn a_truncated_stream_is_an_error() {
    let bytes = fixture("pc.mig");
    let qemu = Stream::parse(&bytes, ReadOptions::default()).unwrap();
    let mut cuts: Vec<usize> = qemu
        .sections()
        .flat_map(|s| [s.offset, s.payload_offset, s.payload_end])
        .map(|o| o as usize)
        .collect();
    cuts.extend((0..bytes.len()).step_by(4099));
    for cut in cuts {
        let mut mirrors = mirrors_for(&qemu);
        let mut d = Dispatcher::new(Context::new());
        for (idstr, instance, m) in &mut mirrors {
            d.register(idstr, *instance, m.as_target());
        }
        let r = d.load_read(&bytes[..cut], None, ReadOptions::default(), |_| Ok(()));
        assert!(r.is_err(), "cut at {cut}");
    }
}

/// The reader asks the socket only for bytes it needs: a sender that has
/// sent the device state up to EOF, but not the trailer yet, sees every
/// section loaded and EOF reported while its socket stays open.
#[test]
fn loading_does_not_wait_for_bytes_past_eof() {
    let bytes = fixture("pc.mig");
    let qemu = Stream::parse(&bytes, ReadOptions::default()).unwrap();
    let eof = StreamReader::from_slice(&bytes, qemu.vmdesc.clone(), ReadOptions::default())
        .unwrap()
        .find_map(|i| match i.unwrap() {
            Item::Eof { offset } => Some(offset as usize),
            _ => None,
        })
        .unwrap();
    let mut mirrors = mirrors_for(&qemu);
    let (mut tx, mut rx) = UnixStream::pair().unwrap();
    // A reader that waited for more would fail here instead of hanging.
    rx.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    tx.write_all(&bytes[..=eof]).unwrap();

    let mut d = Dispatcher::new(Context::new());
    for (idstr, instance, m) in &mut mirrors {
        d.register(idstr, *instance, m.as_target());
    }
    let mut loaded = 0;
    let mut saw_eof = false;
    let r = d.load_read(&mut rx, None, ReadOptions::default(), |item| {
        match item {
            Item::Section(s) if s.payload == Payload::Loaded => loaded += 1,
            // Past EOF comes the trailer, not sent yet: stop here.
            Item::Eof { .. } => {
                saw_eof = true;
                return Err(StreamError::invalid("stop at EOF", 0));
            }
            _ => {}
        }
        Ok(())
    });
    let e = r.unwrap_err();
    assert!(saw_eof, "{e}");
    assert_eq!(loaded, mirrors.len());
    drop(tx);
}

/// `load_section` is one transaction: a payload longer than the
/// description reads is refused and the value keeps its old state, even
/// though every field loaded.
#[test]
fn a_payload_with_bytes_left_over_is_refused_and_changes_nothing() {
    use vmstate_migration::LoadSection;
    let mut port92 = Port92 { outport: 7 };
    let e = port92
        .load_section(&[0x02, 0xff], 1, &Context::new())
        .unwrap_err();
    assert!(e.to_string().contains("longer"), "{e}");
    assert_eq!(e.offset(), 1);
    assert_eq!(port92.outport, 7);
    port92.load_section(&[0x02], 1, &Context::new()).unwrap();
    assert_eq!(port92.outport, 2);
}
