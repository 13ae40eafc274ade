//! Raw bytes and bits: `buffer` (`start`, `size`), `vbuffer`, `bitmap`,
//! `unused` with `count`.
//!
//! Every golden byte string is typed in from QEMU's documented encoding
//! (docs/wire-format.md): integers big-endian two's complement; a VARRAY
//! sends its elements only (the count lives in an earlier field); `buffer`
//! sends raw bytes; `unused_buffer` sends zeros; `bitmap` sends
//! ceil(nbits/64) be64 words; `timer` is be64 with -1 for "not armed";
//! queues are `01` + element ... `00`; a GTree is be32 count, `01` + key +
//! value ..., `00`; a null pointer slot is `30`. None of them is produced
//! by this crate.

use std::fmt::Debug;

use vmstate_core::{ErrorKind, FieldKind, VmState};

#[path = "support/vocab.rs"]
mod vocab;
use vocab::*;

// ---------------------------------------------------------------------------
// buffer, start, size: VMSTATE_BUFFER, _BUFFER_START_MIDDLE, _PARTIAL_BUFFER
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "buffers", version = 1)]
struct Buffers {
    #[vmstate(buffer)]
    mac: [u8; 6],
    #[vmstate(buffer, start = 2)]
    middle: [u8; 6],
    #[vmstate(buffer, size = 3)]
    partial: [u8; 6],
    #[vmstate(buffer, start = 1, size = 2)]
    window: [u8; 6],
}

const BUFFERS_WIRE: [u8; 15] = [
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // mac: all 6 bytes
    0xa2, 0xa3, 0xa4, 0xa5, // middle[2..6]
    0xb0, 0xb1, 0xb2, // partial[0..3]
    0xc1, 0xc2, // window[1..3]
];

fn buffers() -> Buffers {
    Buffers {
        mac: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
        middle: [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5],
        partial: [0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5],
        window: [0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5],
    }
}

#[test]
fn buffer_saves_raw_bytes_of_its_range() {
    assert_eq!(save(&mut buffers()), BUFFERS_WIRE);
}

#[test]
fn buffer_load_writes_only_its_range() {
    let mut d = Buffers {
        mac: [0xee; 6],
        middle: [0xee; 6],
        partial: [0xee; 6],
        window: [0xee; 6],
    };
    load_all(&mut d, &BUFFERS_WIRE, 1);
    assert_eq!(d.mac, [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    assert_eq!(d.middle, [0xee, 0xee, 0xa2, 0xa3, 0xa4, 0xa5]);
    assert_eq!(d.partial, [0xb0, 0xb1, 0xb2, 0xee, 0xee, 0xee]);
    assert_eq!(d.window, [0xee, 0xc1, 0xc2, 0xee, 0xee, 0xee]);
    // Truncated inside `window`: error there, nothing changed.
    let e = load_err(&mut d, &BUFFERS_WIRE[..14], 1, &ctx());
    assert!(matches!(
        e.kind(),
        ErrorKind::UnexpectedEof {
            needed: 2,
            available: 1
        }
    ));
    assert_eq!((e.offset(), e.path().as_str()), (13, "buffers/window"));
}

#[test]
fn buffer_description() {
    let sizes: Vec<_> = Buffers::VMSD
        .fields
        .iter()
        .map(|f| {
            (
                f.name,
                f.info,
                f.kind,
                f.elem_size,
                f.array_len,
                f.wire_size(),
            )
        })
        .collect();
    assert_eq!(
        sizes,
        [
            ("mac", "buffer", FieldKind::Leaf, 6, None, Some(6)),
            ("middle", "buffer", FieldKind::Leaf, 4, None, Some(4)),
            ("partial", "buffer", FieldKind::Leaf, 3, None, Some(3)),
            ("window", "buffer", FieldKind::Leaf, 2, None, Some(2)),
        ]
    );
}

// ---------------------------------------------------------------------------
// vbuffer = field (+ multiply): VMSTATE_VBUFFER, _VBUFFER_MULTIPLY
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "vbuffers", version = 1)]
struct VBuffers {
    len: i32,
    #[vmstate(vbuffer = len)]
    data: [u8; 8],
    in_use: u32,
    // virtio-net's mac table: in_use x ETH_ALEN bytes.
    #[vmstate(vbuffer = in_use, multiply = 6)]
    macs: Vec<u8>,
}

const VBUFFERS_WIRE: [u8; 23] = [
    0x00, 0x00, 0x00, 0x03, // len = 3
    0x01, 0x02, 0x03, // data[0..3]
    0x00, 0x00, 0x00, 0x02, // in_use = 2
    0x52, 0x54, 0x00, 0x00, 0x00, 0x01, // mac 0
    0x52, 0x54, 0x00, 0x00, 0x00, 0x02, // mac 1
];

fn vbuffers() -> VBuffers {
    VBuffers {
        len: 3,
        data: [1, 2, 3, 4, 5, 6, 7, 8],
        in_use: 2,
        macs: vec![0x52, 0x54, 0, 0, 0, 1, 0x52, 0x54, 0, 0, 0, 2],
    }
}

#[test]
fn vbuffer_round_trip() {
    assert_eq!(save(&mut vbuffers()), VBUFFERS_WIRE);
    let mut d = VBuffers {
        data: [0xee; 8],
        macs: vec![0xee; 30],
        ..VBuffers::default()
    };
    load_all(&mut d, &VBUFFERS_WIRE, 1);
    assert_eq!(d.data, [1, 2, 3, 0xee, 0xee, 0xee, 0xee, 0xee]);
    assert_eq!(d.macs, vbuffers().macs);
    assert_eq!((d.len, d.in_use), (3, 2));
}

#[test]
fn vbuffer_description() {
    let d = field::<VBuffers>("data");
    let m = field::<VBuffers>("macs");
    assert_eq!(
        (d.info, d.kind, d.length_from, d.multiply),
        ("buffer", FieldKind::Leaf, Some("len"), 1)
    );
    assert_eq!(
        (m.info, m.kind, m.length_from, m.multiply),
        ("buffer", FieldKind::Leaf, Some("in_use"), 6)
    );
    assert_eq!((d.wire_size(), m.wire_size()), (None, None));
}

#[test]
fn vbuffer_lengths_are_checked_before_reading() {
    // len = 9 > 8.
    let mut wire = VBUFFERS_WIRE;
    wire[3] = 9;
    let mut d = vbuffers();
    let e = load_err(&mut d, &wire, 1, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                field: "len",
                found: 9,
                max: 8,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 4);
    // len = -1.
    let mut wire = VBUFFERS_WIRE;
    wire[..4].copy_from_slice(&[0xff; 4]);
    let e = load_err(&mut d, &wire, 1, &ctx());
    assert!(matches!(
        e.kind(),
        ErrorKind::LengthOutOfRange {
            field: "len",
            found: -1,
            ..
        }
    ));
    // in_use x 6 = 12 > a limit of 10 bytes.
    let e = load_err(&mut d, &VBUFFERS_WIRE, 1, &ctx().with_max_vec_len(10));
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                field: "in_use",
                found: 2,
                multiply: 6,
                max: 10
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 11);
}

#[test]
fn vbuffer_vec_save_with_wrong_len_fails() {
    let mut v = vbuffers();
    v.macs.pop();
    let e = v.to_bytes(&ctx()).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthMismatch {
                field: "in_use",
                expected: 12,
                found: 11
            }
        ),
        "{e:?}"
    );
    assert_eq!((e.offset(), e.path().as_str()), (11, "vbuffers/macs"));
}

// ---------------------------------------------------------------------------
// bitmap = field: ceil(bits / 64) be64 words
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "bitmaps", version = 1)]
struct Bitmaps {
    nbits: i32,
    #[vmstate(bitmap = nbits)]
    fixed: [u64; 2],
    vbits: u32,
    #[vmstate(bitmap = vbits)]
    grow: Vec<u64>,
}

const BITMAPS_WIRE: [u8; 32] = [
    0x00, 0x00, 0x00, 0x41, // nbits = 65 -> 2 words
    0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // word 0: bits 0 and 63
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // word 1: bit 64
    0x00, 0x00, 0x00, 0x40, // vbits = 64 -> 1 word
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
];

fn bitmaps() -> Bitmaps {
    Bitmaps {
        nbits: 65,
        fixed: [0x8000_0000_0000_0001, 1],
        vbits: 64,
        grow: vec![0x0123_4567_89ab_cdef],
    }
}

#[test]
fn bitmap_65_bits_is_two_be64_words() {
    assert_eq!(save(&mut bitmaps()), BITMAPS_WIRE);
    let mut d = Bitmaps::default();
    load_all(&mut d, &BITMAPS_WIRE, 1);
    assert_eq!(d, bitmaps());
}

#[test]
fn bitmap_word_counts() {
    // 0 bits: no word; 1 bit: 1 word, the second word left alone.
    let mut d = Bitmaps {
        fixed: [7, 7],
        grow: vec![7],
        ..Bitmaps::default()
    };
    let wire = [
        0, 0, 0, 1, // nbits = 1
        0, 0, 0, 0, 0, 0, 0, 1, // word 0
        0, 0, 0, 0, // vbits = 0
    ];
    load_all(&mut d, &wire, 1);
    assert_eq!((d.fixed, d.grow.len()), ([1, 7], 0));
    let mut v = Bitmaps {
        nbits: 128,
        fixed: [u64::MAX, 2],
        vbits: 129,
        grow: vec![1, 2, 3],
    };
    assert_eq!(save(&mut v).len(), 4 + 16 + 4 + 24);
}

#[test]
fn bitmap_description_and_limits() {
    let f = field::<Bitmaps>("fixed");
    assert_eq!(
        (f.info, f.kind, f.length_from, f.multiply),
        ("bitmap", FieldKind::Leaf, Some("nbits"), 1)
    );
    assert_eq!(field::<Bitmaps>("grow").length_from, Some("vbits"));
    // 129 bits need 3 words; the array holds 128 bits.
    let mut wire = BITMAPS_WIRE;
    wire[3] = 129;
    let e = load_err(&mut bitmaps(), &wire, 1, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                field: "nbits",
                found: 129,
                max: 128,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 4);
    // A Vec with the wrong number of words for its bit count.
    let mut v = bitmaps();
    v.grow.push(0);
    assert!(matches!(
        v.to_bytes(&ctx()).unwrap_err().kind(),
        ErrorKind::LengthMismatch {
            field: "vbits",
            expected: 1,
            found: 2
        }
    ));
}

// ---------------------------------------------------------------------------
// unused = N, count = field: VMSTATE_UNUSED_VARRAY_UINT32
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "unused_varray", version = 1)]
struct UnusedVarray {
    in_use: u32,
    #[vmstate(unused = 6, count = in_use)]
    _macs: (),
    tail: u8,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "unused_signed", version = 1)]
struct UnusedSigned {
    n: i32,
    #[vmstate(unused = 2, count = n)]
    _gap: (),
}

#[test]
fn unused_with_count_skips_count_times_n_bytes() {
    let mut v = UnusedVarray {
        in_use: 3,
        tail: 0x5a,
        _macs: (),
    };
    let mut expect = vec![0x00, 0x00, 0x00, 0x03];
    expect.extend([0u8; 18]);
    expect.push(0x5a);
    assert_eq!(save(&mut v), expect);

    // Load skips whatever the 18 bytes hold.
    let mut wire = vec![0x00, 0x00, 0x00, 0x03];
    wire.extend(1..=18u8);
    wire.push(0x77);
    let mut d = UnusedVarray::default();
    load_all(&mut d, &wire, 1);
    assert_eq!((d.in_use, d.tail), (3, 0x77));
    load_all(&mut d, &[0, 0, 0, 0, 0x66], 1);
    assert_eq!((d.in_use, d.tail), (0, 0x66));
    // One byte short of the skip.
    let e = load_err(&mut d, &wire[..21], 1, &ctx());
    assert!(matches!(e.kind(), ErrorKind::UnexpectedEof { .. }), "{e:?}");
    assert_eq!(e.offset(), 4);

    let f = field::<UnusedVarray>("unused");
    assert_eq!(
        (f.info, f.kind, f.elem_size, f.length_from, f.multiply),
        ("unused_buffer", FieldKind::Unused, 6, Some("in_use"), 1)
    );
}

#[test]
fn unused_with_negative_count_fails() {
    let mut d = UnusedSigned::default();
    let e = load_err(&mut d, &[0xff, 0xff, 0xff, 0xfe, 0, 0], 1, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                field: "n",
                found: -2,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 4);
    let mut v = UnusedSigned { n: 2, _gap: () };
    assert_eq!(save(&mut v), [0, 0, 0, 2, 0, 0, 0, 0]);
}

/// The error path names the field whose length is refused, for every
/// kind here that takes a length from another field.
#[test]
fn length_errors_name_the_field() {
    let mut wire = VBUFFERS_WIRE;
    wire[3] = 9;
    assert_eq!(
        load_err(&mut vbuffers(), &wire, 1, &ctx()).path(),
        "vbuffers/data"
    );
    let mut wire = BITMAPS_WIRE;
    wire[3] = 129;
    assert_eq!(
        load_err(&mut bitmaps(), &wire, 1, &ctx()).path(),
        "bitmaps/fixed"
    );
    let e = load_err(&mut UnusedSigned::default(), &[0xff; 4], 1, &ctx());
    assert_eq!(e.path(), "unused_signed/unused");
}
