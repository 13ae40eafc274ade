//! Truncated and corrupted streams: `analyze` and `sections` return an
//! error (truncation) or anything but a panic (flipped bytes).
//!
//! Every fixture is cut at every record boundary (section starts, payload
//! starts and ends, EOF, trailer), at a few bytes around each, and at a
//! deterministic sample of other offsets; each cut is read both by the CLI functions (from a
//! file, where the vmdesc trailer is gone) and by the library with the
//! full stream's vmdesc (so that the cut is met inside the section
//! decoders). Then a deterministic sample of bytes is flipped.

use std::path::{Path, PathBuf};

use vmstate_migration::{Item, ReadOptions, Stream, StreamReader, VmDesc};

const FIXTURES: [&str; 5] = ["none", "none-8k", "pc", "pc-nofooter", "pc-devices"];

fn bytes(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/qemu-7.2")
        .join(format!("{name}.mig"));
    std::fs::read(p).unwrap()
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Reads every record with `desc`; Err if any record fails.
fn read_all(b: &[u8], desc: Option<VmDesc>) -> Result<usize, String> {
    let opts = ReadOptions {
        keep_ram_pages: false,
        ..ReadOptions::default()
    };
    let mut r = StreamReader::from_slice(b, desc, opts).map_err(|e| e.to_string())?;
    let mut n = 0;
    while let Some(_item) = r.next_item().map_err(|e| e.to_string())? {
        n += 1;
    }
    Ok(n)
}

fn cli_both(path: &Path) -> (bool, bool) {
    let a = vmstate_cli::analyze(path, false);
    let mut sink = Vec::new();
    let s = vmstate_cli::sections(path, &mut sink);
    if let Err(e) = &a {
        let line = e.to_string();
        assert!(!line.contains('\n'), "multi-line error: {line}");
        assert!(
            line.contains("at byte") || line.contains("vmdesc"),
            "{line}"
        );
    }
    (a.is_ok(), s.is_ok())
}

fn boundaries(b: &[u8]) -> Vec<usize> {
    let s = Stream::parse(b, ReadOptions::default()).unwrap();
    let mut v = vec![0, 4, 8];
    for item in &s.items {
        let off = match item {
            Item::Configuration(c) => c.offset,
            Item::Section(s) => {
                v.push(s.payload_offset as usize);
                v.push(s.payload_end as usize);
                s.offset
            }
            Item::RamContinued(c) => c.offset,
            Item::Command(c) => c.offset,
            Item::Eof { offset } => *offset,
            Item::VmDesc(t) => t.offset,
        } as usize;
        v.push(off);
    }
    v
}

#[test]
fn truncation_is_always_an_error() {
    let dir = std::env::temp_dir().join(format!("vmstate-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cases = 0;
    for name in FIXTURES {
        let b = bytes(name);
        let desc = Stream::parse(&b, ReadOptions::default()).unwrap().vmdesc;
        let mut cuts: Vec<usize> = Vec::new();
        for off in boundaries(&b) {
            for d in [0, 1, 5] {
                cuts.push(off.saturating_sub(d));
                cuts.push(off + d);
            }
        }
        for _ in 0..100 {
            cuts.push(rng.below(b.len()));
        }
        cuts.retain(|&c| c < b.len());
        cuts.sort_unstable();
        cuts.dedup();
        let file_cuts: Vec<usize> = boundaries(&b)
            .into_iter()
            .filter(|&c| c < b.len())
            .collect();
        // A stream may end right after EOF (QEMU with suppress-vmdesc).
        let trailer = match Stream::parse(&b, ReadOptions::default())
            .unwrap()
            .items
            .last()
        {
            Some(Item::VmDesc(t)) => t.offset as usize,
            _ => unreachable!(),
        };
        for (i, &cut) in cuts.iter().enumerate() {
            let t = &b[..cut];
            assert!(
                cut == trailer || read_all(t, desc.clone()).is_err(),
                "{name}: cut at {cut} read without error"
            );
            if i % 8 == 0 {
                assert!(
                    Stream::parse(t, ReadOptions::default()).is_err(),
                    "{name}: {cut}"
                );
            }
            cases += 1;
        }
        // Without a trailer, sections are delimited by their mirrors.
        let all_mirrored = Stream::parse(&b, ReadOptions::default())
            .unwrap()
            .sections()
            .all(|s| {
                s.kind != vmstate_migration::SectionKind::Full
                    || vmstate_qemu::registry::lookup(&s.idstr).is_some()
            });
        // Through the CLI (files), at the record boundaries and a sample.
        for (i, &cut) in file_cuts.iter().chain(cuts.iter().step_by(97)).enumerate() {
            let p = dir.join(format!("{name}-{i}.mig"));
            std::fs::write(&p, &b[..cut]).unwrap();
            // A stream that ends right after EOF has no trailer: analyze
            // needs one, sections lists the records without it.
            assert_eq!(
                cli_both(&p),
                (false, cut == trailer && all_mirrored),
                "{name}: cut at {cut}"
            );
            std::fs::remove_file(&p).unwrap();
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(cases > 1000, "{cases}");
}

#[test]
fn flipped_bytes_never_panic() {
    let dir = std::env::temp_dir().join(format!("vmstate-flip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let (mut ok, mut err) = (0, 0);
    for name in FIXTURES {
        let b = bytes(name);
        let desc = Stream::parse(&b, ReadOptions::default()).unwrap().vmdesc;
        // Flip bytes in the non-RAM part far more often than in pages: the
        // headers, device payloads and the trailer are where parsing is.
        let bounds = boundaries(&b);
        for i in 0..300 {
            let mut c = b.clone();
            let pos = if i % 2 == 0 {
                let base = bounds[rng.below(bounds.len())];
                (base + rng.below(24)).min(b.len() - 1)
            } else {
                rng.below(b.len())
            };
            let x = (rng.next() as u8) | 1;
            c[pos] ^= x;
            match read_all(&c, desc.clone()) {
                Ok(_) => ok += 1,
                Err(_) => err += 1,
            }
            if i % 10 == 0 {
                let _ = Stream::parse(&c, ReadOptions::default());
            }
            if i % 30 == 0 {
                let p = dir.join(format!("{name}-{i}.mig"));
                std::fs::write(&p, &c).unwrap();
                let _ = cli_both(&p);
                std::fs::remove_file(&p).unwrap();
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(ok > 0 && err > 0, "ok {ok}, err {err}");
}

#[test]
fn hostile_lengths_are_bounded() {
    // A trailer claiming 4 GiB of JSON, a machine name of 4 GiB, and a
    // vmdesc array_len of 2^64-1 with zero-size elements: errors, quickly,
    // without allocating what they claim.
    let mut s = b"QEVM\0\0\0\x03\x00\x06\xff\xff\xff\xff{".to_vec();
    assert!(read_all(&s, None).is_err());
    s.truncate(8);
    s.extend_from_slice(&[7, 0xff, 0xff, 0xff, 0xff, b'p']);
    assert!(read_all(&s, None).is_err());

    let json = br#"{"page_size": 4096, "devices": [{"name": "x", "instance_id": 0, "fields": [
        {"name": "a", "array_len": 18446744073709551615, "type": "unused_buffer", "size": 0}]}]}"#;
    let desc = VmDesc::parse(json, 0).unwrap();
    let mut s = b"QEVM\0\0\0\x03".to_vec();
    s.extend_from_slice(&[
        4, 0, 0, 0, 1, 1, b'x', 0, 0, 0, 0, 0, 0, 0, 1, 0x7e, 0, 0, 0, 1, 0,
    ]);
    let e = read_all(&s, Some(desc)).unwrap_err();
    assert!(e.contains("exceeds the limit"), "{e}");

    let json = br#"{"page_size": 4096, "devices": [{"name": "x", "instance_id": 0, "fields": [
        {"name": "a", "type": "buffer", "size": 18446744073709551615}]}]}"#;
    let desc = VmDesc::parse(json, 0).unwrap();
    let e = read_all(&s, Some(desc)).unwrap_err();
    assert!(e.contains("x:0/a"), "{e}");

    // A page size from the vmdesc that would size huge page buffers.
    let json = br#"{"page_size": 1099511627776, "devices": []}"#;
    let desc = VmDesc::parse(json, 0).unwrap();
    let mut s = b"QEVM\0\0\0\x03".to_vec();
    s.extend_from_slice(&[1, 0, 0, 0, 2, 3, b'r', b'a', b'm', 0, 0, 0, 0, 0, 0, 0, 4]);
    s.extend_from_slice(&0x10u64.to_be_bytes());
    let e = read_all(&s, Some(desc)).unwrap_err();
    assert!(e.contains("ram:0"), "{e}");
}

#[test]
fn binary_reports_one_line_and_fails() {
    let exe = env!("CARGO_BIN_EXE_vmstate");
    let dir = std::env::temp_dir().join(format!("vmstate-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let b = bytes("pc");
    let p = dir.join("cut.mig");
    // Cut inside the pckbd section, keeping a trailer-less file.
    let s = Stream::parse(&b, ReadOptions::default()).unwrap();
    let kbd = s.section("pckbd", 0).unwrap();
    std::fs::write(&p, &b[..kbd.payload_offset as usize + 10]).unwrap();
    for args in [vec!["analyze"], vec!["sections"]] {
        let out = std::process::Command::new(exe)
            .args(&args)
            .arg(&p)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("vmstate: "), "{err}");
    }
    // The same cut with the trailer appended: the error is inside pckbd.
    let trailer = match s.items.last().unwrap() {
        Item::VmDesc(t) => &b[t.offset as usize..],
        _ => unreachable!(),
    };
    let mut c = b[..kbd.payload_offset as usize + 10].to_vec();
    c.extend_from_slice(trailer);
    std::fs::write(&p, &c).unwrap();
    let out = std::process::Command::new(exe)
        .arg("sections")
        .arg(&p)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("pckbd:0"), "{err}");
    assert!(err.contains("(section id 25) at byte"), "{err}");

    let out = std::process::Command::new(exe)
        .args(["edit"])
        .arg(dir.join("missing.mig"))
        .arg(dir.join("out.mig"))
        .args(["--set", "i8259:0/imr=1"])
        .output()
        .unwrap();
    // A file that cannot be read is bad input.
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}
