//! A payload that the derive can load whole or not at all (one run of
//! integers, bools and byte buffers; no hooks, subsections or nested
//! structs) is loaded by `VmState::load` without a backup copy, when its
//! bytes are in memory: the version, the length, `strict_bool` and the
//! bytes after the run are checked before the first field is written.
//! Whatever declines that path leaves value and reader untouched, and the
//! ordinary transactional load then decides, with its errors.

use std::io::Cursor;

use vmstate_core::{Context, ErrorKind, Reader, VmState};

#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "wn/plain", version = 1)]
struct Plain {
    w: u32,
    a: u8,
    b: i8,
    on: bool,
    #[vmstate(buffer)]
    tag: [u8; 4],
    regs: [u16; 2],
    /// Not on the wire: a load keeps it.
    #[vmstate(skip)]
    host: u32,
}

fn start() -> Plain {
    Plain {
        w: 1,
        a: 2,
        b: 3,
        on: false,
        tag: *b"abcd",
        regs: [4, 5],
        host: 0x600d,
    }
}

/// QEMU's encoding: be32, two bytes, the bool's byte (any non-zero is
/// true), the buffer's bytes, two be16.
const GOOD: [u8; 15] = [
    0x01, 0x02, 0x03, 0x04, 0x81, 0xfe, 0x02, b'w', b'x', b'y', b'z', 0x12, 0x34, 0x56, 0x78,
];

fn want() -> Plain {
    Plain {
        w: 0x0102_0304,
        a: 0x81,
        b: -2,
        on: true,
        tag: *b"wxyz",
        regs: [0x1234, 0x5678],
        host: 0x600d,
    }
}

/// `05`, name length, name, be32 version.
fn subsection(name: &str) -> Vec<u8> {
    let mut v = vec![0x05, name.len() as u8];
    v.extend_from_slice(name.as_bytes());
    v.extend_from_slice(&1u32.to_be_bytes());
    v
}

#[test]
fn a_good_payload_in_memory_loads_whole() {
    let ctx = Context::new();
    let mut dev = start();
    let mut r = Reader::from_slice(&GOOD);
    assert!(dev.load_whole_or_nothing(&mut r, 1, &ctx));
    assert_eq!((&dev, r.offset()), (&want(), 15));

    // The next section's bytes, or a subsection of the enclosing level,
    // are not this payload's: it ends before them.
    for after in [vec![0x04, 0, 0, 0, 9], subsection("other/sub")] {
        let wire = [&GOOD[..], &after].concat();
        let mut dev = start();
        let mut r = Reader::from_slice(&wire);
        assert!(dev.load_whole_or_nothing(&mut r, 1, &ctx));
        assert_eq!((&dev, r.offset()), (&want(), 15));
        let mut dev = start();
        let mut r = Reader::from_slice(&wire);
        dev.load(&mut r, 1, &ctx).unwrap();
        assert_eq!((&dev, r.offset()), (&want(), 15));
    }
}

/// What a case is, its payload, its context, and the error it must give.
type Case<'a> = (&'a str, &'a [u8], &'a Context, fn(&ErrorKind) -> bool);

/// Each of these makes the whole-or-nothing path decline with nothing
/// changed; `load` then fails as the ordinary load does, and the value is
/// as it was.
#[test]
fn what_could_fail_declines_first_and_the_load_fails_cleanly() {
    let strict = Context::new().with_strict_bool(true);
    let own = [&GOOD[..], &subsection("wn/plain/unknown")].concat();
    let cases: [Case; 3] = [
        ("short", &GOOD[..14], &Context::new(), |k| {
            matches!(k, ErrorKind::UnexpectedEof { .. })
        }),
        ("bool 2 under strict_bool", &GOOD, &strict, |k| {
            matches!(k, ErrorKind::InvalidBool { .. })
        }),
        (
            "a subsection of its own it does not know",
            &own,
            &Context::new(),
            |k| matches!(k, ErrorKind::UnknownSubsection { .. }),
        ),
    ];
    for (what, wire, ctx, kind) in cases {
        let mut dev = start();
        let mut r = Reader::from_slice(wire);
        assert!(!dev.load_whole_or_nothing(&mut r, 1, ctx), "{what}");
        assert_eq!((&dev, r.offset()), (&start(), 0), "{what}");
        let e = dev.load(&mut r, 1, ctx).unwrap_err();
        assert!(kind(e.kind()), "{what}: {e}");
        assert_eq!(dev, start(), "{what}");
    }
}

/// Bytes not in memory (an io reader that has buffered nothing yet) and
/// another version take the ordinary load.
#[test]
fn an_io_reader_or_another_version_takes_the_ordinary_load() {
    let ctx = Context::new();
    let mut dev = start();
    let mut r = Reader::new(Cursor::new(GOOD.to_vec()));
    assert!(!dev.load_whole_or_nothing(&mut r, 1, &ctx));
    assert_eq!(dev, start());
    dev.load(&mut r, 1, &ctx).unwrap();
    assert_eq!((&dev, r.offset()), (&want(), 15));

    let mut dev = start();
    let mut r = Reader::from_slice(&GOOD);
    assert!(!dev.load_whole_or_nothing(&mut r, 2, &ctx));
    let e = dev.load(&mut r, 2, &ctx).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::VersionTooNew { .. }), "{e}");
    assert_eq!(dev, start());
}

/// A field added in version 2: a version 1 payload has no `late`, and
/// the bytes after it are the next section's.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "wn/gated", version = 2, minimum_version = 1)]
struct Gated {
    w: u32,
    #[vmstate(version = 2)]
    late: u32,
}

#[test]
fn an_older_version_loads_only_its_fields() {
    let ctx = Context::new();
    let wire = [0, 0, 0, 7, 0x04, 0, 0, 0];
    let mut dev = Gated { w: 1, late: 2 };
    let mut r = Reader::from_slice(&wire);
    assert!(!dev.load_whole_or_nothing(&mut r, 1, &ctx));
    dev.load(&mut r, 1, &ctx).unwrap();
    assert_eq!((dev, r.offset()), (Gated { w: 7, late: 2 }, 4));

    let mut dev = Gated { w: 1, late: 2 };
    let mut r = Reader::from_slice(&wire);
    assert!(dev.load_whole_or_nothing(&mut r, 2, &ctx));
    assert_eq!(
        (dev, r.offset()),
        (
            Gated {
                w: 7,
                late: 0x0400_0000
            },
            8
        )
    );
}

/// A nested struct peeks for its own subsections after its fields, and a
/// hook may refuse after them: neither takes the path.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "wn/inner", version = 1)]
struct Inner {
    x: u16,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "wn/outer", version = 1)]
struct Outer {
    inner: Inner,
    y: u16,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "wn/hooked", version = 1, post_load = Self::check)]
struct Hooked {
    x: u16,
}

impl Hooked {
    fn check(&mut self, _version: u32) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn nested_structs_and_hooks_take_the_ordinary_load() {
    let ctx = Context::new();
    let mut outer = Outer::default();
    assert!(!outer.load_whole_or_nothing(&mut Reader::from_slice(&[0, 1, 0, 2]), 1, &ctx));
    outer
        .load(&mut Reader::from_slice(&[0, 1, 0, 2]), 1, &ctx)
        .unwrap();
    assert_eq!((outer.inner.x, outer.y), (1, 2));
    let mut hooked = Hooked::default();
    assert!(!hooked.load_whole_or_nothing(&mut Reader::from_slice(&[0, 1]), 1, &ctx));
}
