//! QEMU 10.0's CPR state (the `cpr` channel of `cpr-transfer`): the real
//! capture decodes and re-encodes byte for byte, with the placeholders
//! where the capture's descriptors rode; and the state travels with real
//! memfds over a Unix socket.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;

use rustix::fs::{fstat, ftruncate, memfd_create, MemfdFlags};
use vmstate_core::fdchan::{UnixFdSink, UnixFdSource};
use vmstate_core::stream::{Placeholders, SliceSource};
use vmstate_core::{Context, ErrorKind, MigMode, Reader, Writer};
use vmstate_migration::cpr::{is_cpr_state, CprFd, CprState};

const CAPTURE: &[u8] = include_bytes!("fixtures/qemu-10.0/cpr-state.bin");
const FDS_JSON: &str = include_str!("fixtures/qemu-10.0/cpr-state.fds.json");

/// (placeholder offset, memfd size) per descriptor, from the capture's
/// notes, in stream order.
fn captured_fds() -> Vec<(u64, u64)> {
    let num = |s: &str, key: &str| -> u64 {
        let i = s.find(key).unwrap() + key.len();
        let t = s[i..].trim_start_matches([':', ' ']);
        let end = t.find(|c: char| !c.is_ascii_digit()).unwrap();
        t[..end].parse().unwrap()
    };
    FDS_JSON
        .split("\"dummy_byte_offset\"")
        .skip(1)
        .map(|entry| {
            let entry = format!("\"dummy_byte_offset\"{entry}");
            (
                num(&entry, "\"dummy_byte_offset\""),
                num(&entry, "\"size\""),
            )
        })
        .collect()
}

#[test]
fn the_capture_decodes_with_placeholders_where_the_fds_rode() {
    assert!(is_cpr_state(CAPTURE));
    let (state, offsets, used) = CprState::parse(CAPTURE).unwrap();
    assert_eq!(used, CAPTURE.len());
    let names: Vec<String> = state.fds.iter().map(CprFd::name).collect();
    assert_eq!(
        names,
        [
            "/rom@etc/acpi/rsdp",
            "/rom@etc/table-loader",
            "/rom@etc/acpi/tables",
            "pc.rom",
            "pc.bios",
            "ram0"
        ]
    );
    for e in &state.fds {
        assert_eq!(e.id, 0);
        assert_eq!(e.namelen as usize, e.name.len());
        assert_eq!(e.name.last(), Some(&0));
        assert!(e.fd.is_none());
    }
    let expected: Vec<u64> = captured_fds().iter().map(|(o, _)| *o).collect();
    assert_eq!(expected.len(), 6);
    assert_eq!(offsets, expected);
    for o in offsets {
        assert_eq!(CAPTURE[o as usize], 0x20);
    }
}

#[test]
fn the_capture_reencodes_byte_for_byte() {
    let (mut state, offsets, _) = CprState::parse(CAPTURE).unwrap();
    let (bytes, again) = state.to_placeholder_bytes().unwrap();
    assert_eq!(bytes, CAPTURE);
    assert_eq!(again, offsets);
}

#[test]
fn every_truncation_and_bad_header_is_an_error() {
    for n in 0..CAPTURE.len() {
        let e = CprState::parse(&CAPTURE[..n]).unwrap_err();
        assert!(e.offset() <= n as u64, "{n}: {e}");
    }
    let mut bad = CAPTURE.to_vec();
    bad[0] = b'X';
    let e = CprState::parse(&bad).unwrap_err();
    assert!(e.to_string().contains("QCPR"), "{e}");
    let mut bad = CAPTURE.to_vec();
    bad[7] = 2;
    let e = CprState::parse(&bad).unwrap_err();
    assert_eq!(e.offset(), 4);
    // A list marker other than 0 or 1: an entry follows, as in QEMU's
    // get_qlist; refused with strict markers.
    let mut odd = CAPTURE.to_vec();
    odd[8] = 7;
    assert_eq!(CprState::parse(&odd).unwrap().0.fds.len(), 6);
    let strict = Context::new()
        .with_mode(MigMode::CprTransfer)
        .with_strict_markers(true);
    let mut r = Reader::with_source(Placeholders::new(SliceSource::new(&odd)));
    let e = CprState::load(&mut r, &strict).unwrap_err();
    assert_eq!(e.path(), "CprState/fds[0]");
    // A name length beyond the input: refused before reading it.
    let mut bad = CAPTURE.to_vec();
    bad[9..13].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(CprState::parse(&bad).is_err());
}

#[test]
fn any_byte_changed_decodes_or_fails_without_panic() {
    let mut ok = 0;
    for i in 0..CAPTURE.len() {
        for v in [0x00, 0x01, 0x05, 0x20, 0x7f, 0xff] {
            let mut b = CAPTURE.to_vec();
            b[i] = v;
            if let Ok((mut s, offsets, used)) = CprState::parse(&b) {
                // What decodes re-encodes to the bytes it came from, but for
                // the placeholders: any byte is taken (as QEMU does), 0x20
                // is written.
                let (again, again_offsets) = s.to_placeholder_bytes().unwrap();
                assert_eq!(again_offsets, offsets);
                let mut expected = b[..used].to_vec();
                for o in &offsets {
                    expected[*o as usize] = 0x20;
                }
                // A list marker that was any non-zero byte is written 0x01
                // (wherever the changed byte made the decoder find one).
                if again.len() == expected.len() {
                    for (e, a) in expected.iter_mut().zip(&again) {
                        if *a == 1 && *e != 0 {
                            *e = 1;
                        }
                    }
                }
                assert_eq!(again, expected, "byte {i} = {v:#x}");
                ok += 1;
            }
        }
    }
    // Name and id bytes, and the placeholders, may take any value.
    assert!(ok > 100, "{ok}");
}

#[test]
fn a_plain_writer_is_refused_before_the_header() {
    let mut state = CprState {
        fds: vec![CprFd::new("ram0", 0, None)],
    };
    let mut out = Vec::new();
    let e = state
        .save(
            &mut Writer::new(&mut out),
            &Context::new().with_mode(MigMode::CprTransfer),
        )
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::FdChannel { .. }), "{e}");
    assert_eq!(e.path(), "CprState/fds[*].fd");
    assert!(out.is_empty());
    let e = state
        .save(&mut Writer::new(&mut out), &Context::new())
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::FdRefused { .. }), "{e}");
    assert!(out.is_empty());
}

fn memfd(name: &str, size: u64) -> OwnedFd {
    let fd = memfd_create(name, MemfdFlags::CLOEXEC).unwrap();
    ftruncate(&fd, size).unwrap();
    fd
}

#[test]
fn memfds_travel_over_a_unix_socket_in_the_captures_layout() {
    let (a, b) = UnixStream::pair().unwrap();
    let sizes = captured_fds();
    let names = [
        "/rom@etc/acpi/rsdp",
        "/rom@etc/table-loader",
        "/rom@etc/acpi/tables",
        "pc.rom",
        "pc.bios",
        "ram0",
    ];
    let mut state = CprState {
        fds: names
            .iter()
            .zip(&sizes)
            .map(|(n, (_, size))| CprFd::new(n, 0, Some(memfd(n, *size))))
            .collect(),
    };
    let ctx = Context::new().with_mode(MigMode::CprTransfer);
    let writer = std::thread::spawn(move || {
        let mut w = Writer::new(UnixFdSink::new(a));
        state.save(&mut w, &ctx).unwrap();
        w.flush().unwrap();
        let sink = w.into_inner();
        assert_eq!(sink.fds_sent(), 6);
        sink.into_inner()
            .shutdown(std::net::Shutdown::Write)
            .unwrap();
    });
    let mut r = Reader::with_source(UnixFdSource::new(b));
    let got = CprState::load(&mut r, &ctx).unwrap();
    writer.join().unwrap();
    // The same bytes as QEMU 10.0 wrote for the same names.
    assert_eq!(r.offset(), CAPTURE.len() as u64);
    for (e, (_, size)) in got.fds.iter().zip(&sizes) {
        let fd = e.fd.as_ref().unwrap();
        assert_eq!(
            fstat(fd.as_fd()).unwrap().st_size as u64,
            *size,
            "{}",
            e.name()
        );
    }
}

#[test]
fn a_descriptor_no_entry_takes_fails_the_load() {
    let (a, b) = UnixStream::pair().unwrap();
    let ctx = Context::new().with_mode(MigMode::CprTransfer);
    let mut state = CprState {
        fds: vec![CprFd::new("ram0", 0, Some(memfd("ram0", 4096)))],
    };
    let extra = memfd("extra", 4096);
    let mut w = Writer::new(UnixFdSink::new(a));
    state.save(&mut w, &ctx).unwrap();
    // One more descriptor after the state, on a byte of its own.
    w.put_fd(Some(extra.as_fd())).unwrap();
    w.flush().unwrap();
    drop(w);
    let mut r = Reader::with_source(UnixFdSource::new(b));
    let e = CprState::load(&mut r, &ctx).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::FdExtra { count: 1 }), "{e}");
}

#[test]
fn the_state_round_trips_exec_style_by_descriptor_number() {
    use std::os::fd::AsRawFd;
    use vmstate_core::fdchan::{ExecFdSink, ExecFdSource};

    let ctx = Context::new().with_mode(MigMode::CprExec);
    let mut state = CprState {
        fds: vec![
            CprFd::new("a", 0, Some(memfd("a", 4096))),
            CprFd::new("b", 1, Some(memfd("b", 8192))),
        ],
    };
    let mut w = Writer::new(ExecFdSink::new(Vec::new()));
    state.save(&mut w, &ctx).unwrap();
    let sink = w.into_inner();
    let kept = sink.fds().to_vec();
    let bytes = sink.into_inner();
    // After exec the new image owns the same descriptors; here we hand
    // over our own, in another order.
    let mut inherited: Vec<OwnedFd> = state.fds.iter_mut().filter_map(|e| e.fd.take()).collect();
    inherited.reverse();
    assert_eq!(
        kept,
        inherited
            .iter()
            .rev()
            .map(|f| f.as_raw_fd())
            .collect::<Vec<_>>()
    );
    let spare = inherited.pop().unwrap().try_clone().unwrap();
    inherited.push(spare);
    // One descriptor replaced by a duplicate (another number): missing.
    let mut r = Reader::with_source(ExecFdSource::new(&bytes[..], inherited));
    let e = CprState::load(&mut r, &ctx).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::FdMissing { number: Some(n) } if *n == kept[0]),
        "{e}"
    );

    let mut again = CprState {
        fds: vec![
            CprFd::new("a", 0, Some(memfd("a", 4096))),
            CprFd::new("b", 1, Some(memfd("b", 8192))),
        ],
    };
    let mut w = Writer::new(ExecFdSink::new(Vec::new()));
    again.save(&mut w, &ctx).unwrap();
    let bytes = w.into_inner().into_inner();
    let inherited: Vec<OwnedFd> = again.fds.iter_mut().filter_map(|e| e.fd.take()).collect();
    let nums: Vec<i32> = inherited.iter().map(|f| f.as_raw_fd()).collect();
    let mut r = Reader::with_source(ExecFdSource::new(&bytes[..], inherited));
    let got = CprState::load(&mut r, &ctx).unwrap();
    let got_nums: Vec<i32> = got
        .fds
        .iter()
        .map(|e| e.fd.as_ref().unwrap().as_raw_fd())
        .collect();
    assert_eq!(got_nums, nums);
    assert_eq!(
        fstat(got.fds[1].fd.as_ref().unwrap()).unwrap().st_size,
        8192
    );
    // 4 + 4 header, per entry 1 + 4 + 2 + 4 + 4, end byte.
    assert_eq!(bytes.len(), 8 + 2 * 15 + 1);
}
