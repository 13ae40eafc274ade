//! Behaviour of the field vocabulary added after the original attribute
//! set: variable arrays (`count`, `multiply`), `buffer` (`start`, `size`),
//! `vbuffer`, `bitmap`, `validate`, `min`/`max`, `unused` with `count`,
//! `struct_version`, `tmp`, `with`, `qtailq`/`qlist`/`gtree`, and the
//! `Timer`, `Box<T>` and `Option<T>` field types.
//!
//! Every golden byte string is typed in from QEMU's documented encoding
//! (`/work/shared/spec/qemu-vmstate.md` §1.3-1.4, §2.3, §7, §10): integers
//! big-endian two's complement; a VARRAY sends its elements only (the count
//! lives in an earlier field); `buffer` sends raw bytes; `unused_buffer`
//! sends zeros; `bitmap` sends ceil(nbits/64) be64 words; `timer` is be64
//! with -1 for "not armed"; queues are `01` + element ... `00`; a GTree is
//! be32 count, `01` + key + value ..., `00`; a null pointer slot is `30`.
//! None of them is produced by this crate.

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Debug;
use std::time::{Duration, Instant};

use vmstate_core::codec::{Codec, VmTmp};
use vmstate_core::desc::Check;
use vmstate_core::error::BoxError;
use vmstate_core::stream::{Sink, Source};
use vmstate_core::types::Timer;
use vmstate_core::{
    Context, Error, ErrorKind, Field, FieldKind, Reader, Result, Segment, VmState, Writer,
};
use vmstate_migration::record;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn ctx() -> Context {
    Context::new()
}

fn save<T: VmState>(v: &mut T) -> Vec<u8> {
    v.to_bytes(&ctx()).unwrap()
}

/// Loads `wire` at `version` (transactionally) and expects every byte to
/// be consumed.
fn load_all<T: VmState + Clone>(v: &mut T, wire: &[u8], version: u32) {
    let mut r = Reader::from_slice(wire);
    v.load(&mut r, version, &ctx()).unwrap();
    assert_eq!(r.remaining(), &[] as &[u8], "bytes left after the load");
}

/// Loads `wire` at `version` with `ctx` and expects an error; a failed
/// load must leave the destination exactly as it was.
fn load_err<T: VmState + Clone + PartialEq + Debug>(
    v: &mut T,
    wire: &[u8],
    version: u32,
    ctx: &Context,
) -> Error {
    let before = v.clone();
    let e = v
        .load(&mut Reader::from_slice(wire), version, ctx)
        .expect_err("the load should fail");
    assert_eq!(*v, before, "a failed load changed the destination ({e})");
    e
}

fn field<T: VmState>(name: &str) -> &'static Field {
    T::VMSD
        .fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name} in {}", T::VMSD.name))
}

/// The innermost field segment of an error's path.
fn innermost_field(e: &Error) -> Option<&'static str> {
    e.segments()
        .filter_map(|s| match s {
            Segment::Field(n) => Some(*n),
            _ => None,
        })
        .last()
}

// ---------------------------------------------------------------------------
// count = field: QEMU's VMSTATE_VARRAY_* over a fixed array
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "varray8", version = 1)]
struct VArray8 {
    n: u8,
    #[vmstate(count = n)]
    regs: [u16; 4],
    tail: u8,
}

fn varray8() -> VArray8 {
    VArray8 {
        n: 2,
        regs: [0x1122, 0x3344, 0x5566, 0x7788],
        tail: 0xaa,
    }
}

#[test]
fn varray_sends_only_count_elements() {
    // n, then regs[0..2] as be16 (no count on the wire), then tail.
    let mut v = varray8();
    assert_eq!(save(&mut v), [0x02, 0x11, 0x22, 0x33, 0x44, 0xaa]);

    v.n = 0;
    assert_eq!(save(&mut v), [0x00, 0xaa]);
    v.n = 4;
    assert_eq!(
        save(&mut v),
        [0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0xaa]
    );
}

#[test]
fn varray_load_writes_only_the_counted_prefix() {
    let mut d = VArray8 {
        n: 0,
        regs: [0xeeee; 4],
        tail: 0,
    };
    load_all(&mut d, &[0x02, 0x11, 0x22, 0x33, 0x44, 0xaa], 1);
    assert_eq!(
        d,
        VArray8 {
            n: 2,
            regs: [0x1122, 0x3344, 0xeeee, 0xeeee],
            tail: 0xaa,
        }
    );
    // A count of zero reads no element.
    let mut d = VArray8 {
        regs: [7; 4],
        ..VArray8::default()
    };
    load_all(&mut d, &[0x00, 0x5a], 1);
    assert_eq!((d.n, d.regs, d.tail), (0, [7; 4], 0x5a));
}

#[test]
fn varray_description() {
    let f = field::<VArray8>("regs");
    assert_eq!(f.info, "uint16");
    assert_eq!(f.kind, FieldKind::Leaf);
    assert_eq!(f.elem_size, 2);
    assert_eq!(f.array_len, None);
    assert_eq!(f.length_from, Some("n"));
    assert_eq!(f.multiply, 1);
    assert_eq!(f.struct_version, None);
    assert_eq!(f.check, Check::None);
    assert_eq!(f.wire_size(), None, "a variable array has no fixed size");
    let n = field::<VArray8>("n");
    assert_eq!(
        (n.info, n.length_from, n.wire_size()),
        ("uint8", None, Some(1))
    );
}

/// A count above the array's capacity must fail before a single element
/// is read (CVE-2013-4527 class): the error is at the array's first byte,
/// nothing after the count is consumed, and no element is written even by
/// the non-transactional in-place load.
#[test]
fn varray_count_above_capacity_fails_before_any_element() {
    let wire = [
        0x05, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0x00, 0xaa,
    ];
    let mut d = VArray8 {
        n: 1,
        regs: [0xeeee; 4],
        tail: 3,
    };
    let e = load_err(&mut d, &wire, 1, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                field: "n",
                found: 5,
                multiply: 1,
                max: 4
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 1, "the error is where the array starts");
    assert!(
        e.to_string()
            .ends_with("at byte 1: length from `n` out of range: 5, expected 0..=4"),
        "{e}"
    );

    // In place: the count was loaded, the array was not touched, and the
    // reader stopped right after the count.
    let mut r = Reader::from_slice(&wire);
    let e = d.load_state_in_place(&mut r, 1, &ctx()).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::LengthOutOfRange { .. }));
    assert_eq!(r.offset(), 1);
    assert_eq!(d.n, 5);
    assert_eq!(d.regs, [0xeeee; 4]);
    assert_eq!(d.tail, 3);
}

/// The error path must name the field whose length is refused, on load
/// and on save, for every kind that takes a length from another field.
#[test]
fn length_errors_name_the_field() {
    let wire = [0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let e = load_err(&mut varray8(), &wire, 1, &ctx());
    assert_eq!(e.path(), "varray8/regs");
    let mut v = varray8();
    v.n = 5;
    assert_eq!(v.to_bytes(&ctx()).unwrap_err().path(), "varray8/regs");
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

#[test]
fn varray_save_with_count_above_capacity_fails() {
    let mut v = varray8();
    v.n = 5;
    let e = v.to_bytes(&ctx()).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                field: "n",
                found: 5,
                max: 4,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 1);
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "varray_widths", version = 1)]
struct VArrayWidths {
    n16: u16,
    #[vmstate(count = n16)]
    a: [u8; 3],
    n32: u32,
    #[vmstate(count = n32)]
    b: [u32; 2],
    ni: i32,
    #[vmstate(count = ni)]
    c: [i64; 2],
}

const WIDTHS_WIRE: [u8; 32] = [
    0x00, 0x02, // n16 = 2 (be16)
    0x01, 0x02, // a[0..2]
    0x00, 0x00, 0x00, 0x01, // n32 = 1 (be32)
    0xde, 0xad, 0xbe, 0xef, // b[0]
    0x00, 0x00, 0x00, 0x02, // ni = 2 (be32)
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // c[0] = -1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // c[1] = 5
];

#[test]
fn varray_counter_widths_u16_u32_i32() {
    let mut v = VArrayWidths {
        n16: 2,
        a: [1, 2, 3],
        n32: 1,
        b: [0xdead_beef, 0x1234],
        ni: 2,
        c: [-1, 5],
    };
    assert_eq!(save(&mut v), WIDTHS_WIRE);
    let mut d = VArrayWidths {
        a: [9; 3],
        b: [9; 2],
        ..VArrayWidths::default()
    };
    load_all(&mut d, &WIDTHS_WIRE, 1);
    assert_eq!(
        d,
        VArrayWidths {
            n16: 2,
            a: [1, 2, 9],
            n32: 1,
            b: [0xdead_beef, 9],
            ni: 2,
            c: [-1, 5],
        }
    );
    let infos: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|n| {
            let f = field::<VArrayWidths>(n);
            (f.info, f.elem_size, f.length_from)
        })
        .collect();
    assert_eq!(
        infos,
        [
            ("uint8", 1, Some("n16")),
            ("uint32", 4, Some("n32")),
            ("int64", 8, Some("ni"))
        ]
    );
}

#[test]
fn varray_negative_i32_count_fails() {
    let mut wire = WIDTHS_WIRE;
    wire[12..16].copy_from_slice(&(-1i32).to_be_bytes());
    let mut d = VArrayWidths::default();
    let e = load_err(&mut d, &wire, 1, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                field: "ni",
                found: -1,
                max: 2,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 16, "c starts after ni");
    // i32::MIN too: no wrap to a positive length.
    wire[12..16].copy_from_slice(&i32::MIN.to_be_bytes());
    let e = load_err(&mut d, &wire, 1, &ctx());
    assert!(matches!(
        e.kind(),
        ErrorKind::LengthOutOfRange {
            found: -2147483648,
            ..
        }
    ));
    // And on save.
    let mut v = VArrayWidths {
        ni: -3,
        ..VArrayWidths::default()
    };
    let e = v.to_bytes(&ctx()).unwrap_err();
    assert!(matches!(
        e.kind(),
        ErrorKind::LengthOutOfRange { found: -3, .. }
    ));
}

// ---- multiply (VMSTATE_VARRAY_MULTIPLY: n_elems = count x num) -------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "varray_mul", version = 1)]
struct VArrayMul {
    rows: u8,
    #[vmstate(count = rows, multiply = 3)]
    cells: [u8; 9],
}

#[test]
fn varray_multiply() {
    let mut v = VArrayMul {
        rows: 2,
        cells: [1, 2, 3, 4, 5, 6, 7, 8, 9],
    };
    assert_eq!(save(&mut v), [0x02, 1, 2, 3, 4, 5, 6]);
    let mut d = VArrayMul::default();
    load_all(&mut d, &[0x03, 1, 2, 3, 4, 5, 6, 7, 8, 9], 1);
    assert_eq!(d.cells, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let f = field::<VArrayMul>("cells");
    assert_eq!((f.length_from, f.multiply), (Some("rows"), 3));

    // 4 x 3 = 12 > 9.
    let e = load_err(
        &mut d,
        &[0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        1,
        &ctx(),
    );
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                field: "rows",
                found: 4,
                multiply: 3,
                max: 9
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .ends_with("length from `rows` out of range: 4 x 3, expected 0..=9"),
        "{e}"
    );
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "varray_wrap", version = 1)]
struct VArrayWrap {
    n: u8,
    // 2 x 2^31 = 2^32: zero in 32-bit arithmetic.
    #[vmstate(count = n, multiply = 2147483648)]
    b: [u8; 8],
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "vec_wrap", version = 1)]
struct VecWrap {
    n: u32,
    #[vmstate(count = n, multiply = 4294967295)]
    v: Vec<u8>,
}

/// A count times a multiplier that wraps in 32-bit (or would overflow a
/// narrower type) must still be refused, not turned into a small length.
#[test]
fn varray_count_times_multiply_overflow_fails() {
    let mut d = VArrayWrap::default();
    let e = load_err(&mut d, &[0x02, 0, 0, 0, 0, 0, 0, 0, 0], 1, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                field: "n",
                found: 2,
                multiply: 2147483648,
                max: 8
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 1);
    // 0 x anything is fine.
    load_all(&mut d, &[0x00], 1);

    // u32::MAX x u32::MAX against a Vec: beyond the context's limit.
    let mut d = VecWrap::default();
    let e = load_err(&mut d, &[0xff, 0xff, 0xff, 0xff, 1, 2, 3], 1, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                found: 4294967295,
                multiply: 4294967295,
                max: 16777216,
                ..
            }
        ),
        "{e:?}"
    );
    // Even with no limit, the product (just below 2^64) is refused or
    // runs out of data at once; it never wraps to a short length.
    let unlimited = ctx().with_max_vec_len(u64::MAX);
    let e = load_err(&mut d, &[0xff, 0xff, 0xff, 0xff, 1, 2, 3], 1, &unlimited);
    assert!(
        matches!(
            e.kind(),
            ErrorKind::UnexpectedEof { available: 3, .. } | ErrorKind::LengthOutOfRange { .. }
        ),
        "{e:?}"
    );
}

// ---- count on Vec<T>: grows with the data ----------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "vvec", version = 1)]
struct VVec {
    n: u32,
    #[vmstate(count = n)]
    v: Vec<u32>,
    tail: u8,
}

const VVEC_WIRE: [u8; 17] = [
    0x00, 0x00, 0x00, 0x03, // n = 3
    0x00, 0x00, 0x00, 0x01, // v[0]
    0x00, 0x00, 0x00, 0x02, // v[1]
    0xff, 0xff, 0xff, 0xff, // v[2]
    0x07, // tail
];

#[test]
fn vec_count_round_trip() {
    let mut v = VVec {
        n: 3,
        v: vec![1, 2, 0xffff_ffff],
        tail: 7,
    };
    assert_eq!(save(&mut v), VVEC_WIRE);
    // The loaded elements replace the Vec's contents.
    let mut d = VVec {
        v: vec![9; 10],
        ..VVec::default()
    };
    load_all(&mut d, &VVEC_WIRE, 1);
    assert_eq!(d, v);
    let mut d = VVec {
        v: vec![9; 10],
        ..VVec::default()
    };
    load_all(&mut d, &[0, 0, 0, 0, 0x42], 1);
    assert_eq!((d.v.len(), d.tail), (0, 0x42));
    let f = field::<VVec>("v");
    assert_eq!(
        (f.info, f.elem_size, f.array_len, f.length_from),
        ("uint32", 4, None, Some("n"))
    );
}

#[test]
fn vec_save_with_len_not_count_fails() {
    let mut v = VVec {
        n: 3,
        v: vec![1, 2],
        tail: 7,
    };
    let e = v.to_bytes(&ctx()).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthMismatch {
                field: "n",
                expected: 3,
                found: 2
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 4);
    assert_eq!(e.path(), "vvec/v");
    assert!(
        e.to_string()
            .ends_with("length mismatch: `n` says 3 elements, the field holds 2"),
        "{e}"
    );
    v.v.push(3);
    v.v.push(4);
    assert!(matches!(
        v.to_bytes(&ctx()).unwrap_err().kind(),
        ErrorKind::LengthMismatch {
            expected: 3,
            found: 4,
            ..
        }
    ));
}

#[test]
fn vec_count_is_bounded_by_the_context() {
    let mut d = VVec::default();
    let small = ctx().with_max_vec_len(2);
    let e = load_err(&mut d, &VVEC_WIRE, 1, &small);
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                field: "n",
                found: 3,
                max: 2,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 4);
    // The default limit (2^24) refuses 0xFFFFFFFF before reading anything.
    let e = load_err(&mut d, &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1], 1, &ctx());
    assert!(matches!(
        e.kind(),
        ErrorKind::LengthOutOfRange {
            found: 4294967295,
            max: 16777216,
            ..
        }
    ));
}

/// A hostile count of 0xFFFFFFFF with only two elements present and no
/// limit: the load must end with UnexpectedEof after the data runs out,
/// promptly and without first allocating 16 GiB for the elements.
#[test]
fn vec_huge_count_with_little_data_fails_with_eof_quickly() {
    let wire = [
        0xff, 0xff, 0xff, 0xff, // n = 0xFFFFFFFF
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, // two elements
    ];
    let unlimited = ctx().with_max_vec_len(u64::MAX);
    let start = Instant::now();
    let mut d = VVec::default();
    let e = load_err(&mut d, &wire, 1, &unlimited);
    // In memory, the count is checked against the bytes left before any
    // element is read: 0xFFFFFFFF u32s need 17179869180 bytes, 8 are left.
    assert!(
        matches!(
            e.kind(),
            ErrorKind::UnexpectedEof {
                needed: 17_179_869_180,
                available: 8
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 4);
    assert_eq!(e.path(), "vvec/v");
    assert_eq!(innermost_field(&e), Some("v"));
    assert!(start.elapsed() < Duration::from_secs(10));

    // The same through the buffered io::Read path.
    let mut r = Reader::new(&wire[..]);
    let e = d.load(&mut r, 1, &unlimited).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::UnexpectedEof { .. }), "{e:?}");
}

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
// validate = path: VMSTATE_VALIDATE
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "validated", version = 3, minimum_version = 1)]
struct Validated {
    level: u32,
    #[vmstate(validate = Self::levels_16_bit, rename = "irq levels are 16 bit")]
    _check: (),
    after: u8,
    #[vmstate(skip)]
    seen_version: Cell<u32>,
}

impl Validated {
    fn levels_16_bit(&self, version: u32) -> bool {
        self.seen_version.set(version);
        self.level <= 0xffff
    }
}

#[test]
fn validate_true_is_invisible_on_the_wire() {
    let mut v = Validated {
        level: 0x1234,
        after: 0xab,
        ..Validated::default()
    };
    assert_eq!(save(&mut v), [0x00, 0x00, 0x12, 0x34, 0xab]);
    assert_eq!(v.seen_version.get(), 3, "save runs it at the save version");
    let mut d = Validated::default();
    d.load(&mut Reader::from_slice(&[0, 0, 0, 9, 0xcd]), 2, &ctx())
        .unwrap();
    assert_eq!((d.level, d.after, d.seen_version.get()), (9, 0xcd, 2));
    let f = field::<Validated>("irq levels are 16 bit");
    assert_eq!((f.info, f.kind, f.elem_size), ("", FieldKind::Validate, 0));
}

/// A validate puts nothing on the wire (QEMU: `VMS_ARRAY` with `num = 0`),
/// so its description's wire size is 0, not "varies".
#[test]
fn validate_wire_size_is_zero() {
    assert_eq!(
        field::<Validated>("irq levels are 16 bit").wire_size(),
        Some(0)
    );
}

#[test]
fn validate_false_is_a_load_error_with_the_message() {
    let mut d = Validated::default();
    let e = load_err(&mut d, &[0x00, 0x01, 0x00, 0x00, 0xab], 3, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Invalid {
                message: "irq levels are 16 bit"
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 4, "it runs at its position, after `level`");
    assert_eq!(e.path(), "validated/irq levels are 16 bit");
    assert_eq!(
        e.to_string(),
        "validated/irq levels are 16 bit at byte 4: validation failed: irq levels are 16 bit"
    );
}

#[test]
fn validate_false_on_save_is_an_error() {
    // QEMU asserts; here it is an error.
    let mut v = Validated {
        level: 0x10000,
        ..Validated::default()
    };
    let e = v.to_bytes(&ctx()).unwrap_err();
    assert!(matches!(
        e.kind(),
        ErrorKind::Invalid {
            message: "irq levels are 16 bit"
        }
    ));
    assert_eq!(e.offset(), 4);
}

// ---------------------------------------------------------------------------
// min / max
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ranges", version = 1)]
struct Ranges {
    #[vmstate(max = 15)]
    head: u8,
    #[vmstate(min = -1, max = 7)]
    sel: i32,
    #[vmstate(min = 1)]
    div: u16,
    #[vmstate(min = -5, max = 5)]
    off: i8,
}

// head = 15, sel = -1, div = 1, off = -5: every bound exactly.
const RANGES_WIRE: [u8; 8] = [0x0f, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0xfb];

#[test]
fn min_max_accept_the_bounds() {
    let mut v = Ranges {
        head: 15,
        sel: -1,
        div: 1,
        off: -5,
    };
    assert_eq!(save(&mut v), RANGES_WIRE);
    let mut d = Ranges::default();
    load_all(&mut d, &RANGES_WIRE, 1);
    assert_eq!(d, v);
    // The other ends.
    load_all(&mut d, &[0x00, 0x00, 0x00, 0x00, 0x07, 0xff, 0xff, 0x05], 1);
    assert_eq!((d.head, d.sel, d.div, d.off), (0, 7, 0xffff, 5));
}

#[test]
fn min_max_description() {
    assert_eq!(
        field::<Ranges>("head").check,
        Check::Range { min: 0, max: 15 }
    );
    assert_eq!(
        field::<Ranges>("sel").check,
        Check::Range { min: -1, max: 7 }
    );
    assert!(matches!(
        field::<Ranges>("div").check,
        Check::Range { min: 1, .. }
    ));
    assert_eq!(field::<Ranges>("head").info, "uint8");
}

/// A field name, its first byte, replacement bytes, and the expected
/// found/min/max of the error.
type RangeCase = (&'static str, usize, &'static [u8], i128, i128, i128);

#[test]
fn min_max_out_of_range_is_an_error_naming_the_field() {
    // (field, its first byte, replacement bytes, found, min, max)
    let cases: [RangeCase; 6] = [
        ("head", 0, &[0x10], 16, 0, 15),
        ("sel", 1, &[0x00, 0x00, 0x00, 0x08], 8, -1, 7),
        ("sel", 1, &[0xff, 0xff, 0xff, 0xfe], -2, -1, 7),
        ("div", 5, &[0x00, 0x00], 0, 1, 0),
        ("off", 7, &[0x06], 6, -5, 5),
        ("off", 7, &[0xfa], -6, -5, 5),
    ];
    for (name, at, bytes, found, min, max) in cases {
        let mut wire = RANGES_WIRE;
        wire[at..at + bytes.len()].copy_from_slice(bytes);
        let mut d = Ranges::default();
        let e = load_err(&mut d, &wire, 1, &ctx());
        assert_eq!(e.path(), format!("ranges/{name}"), "{e}");
        match e.kind() {
            ErrorKind::OutOfRange {
                found: f,
                min: lo,
                max: hi,
            } => {
                assert_eq!((*f, *lo), (found, min), "{e}");
                // `min` alone has no type-specific upper bound.
                if name != "div" {
                    assert_eq!(*hi, max, "{e}");
                }
            }
            k => panic!("{name}: {k:?}"),
        }
        assert_eq!(e.offset(), at as u64, "checked right after {name} is read");
    }
    let mut d = Ranges::default();
    let mut wire = RANGES_WIRE;
    wire[0] = 0x10;
    assert_eq!(
        load_err(&mut d, &wire, 1, &ctx()).to_string(),
        "ranges/head at byte 0: value out of range: expected 0..=15, found 16"
    );
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

// ---------------------------------------------------------------------------
// struct_version = N: VMSTATE_VSTRUCT
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "vchild", version = 3, minimum_version = 1, post_load = Self::loaded)]
struct VChild {
    a: u8,
    #[vmstate(version = 2)]
    b: u16,
    #[vmstate(version = 3)]
    c: u32,
    #[vmstate(skip)]
    loaded_at: Option<u32>,
}

impl VChild {
    fn loaded(&mut self, version: u32) -> std::result::Result<(), String> {
        self.loaded_at = Some(version);
        Ok(())
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "vparent", version = 1)]
struct VParent {
    #[vmstate(struct_version = 2)]
    at2: VChild,
    #[vmstate(struct_version = 1)]
    at1: VChild,
    plain: VChild,
    end: u8,
}

fn vchild() -> VChild {
    VChild {
        a: 0x11,
        b: 0x2222,
        c: 0x3333_3333,
        loaded_at: None,
    }
}

const VPARENT_WIRE: [u8; 12] = [
    0x11, 0x22, 0x22, // at2: a, b (c is version 3)
    0x11, // at1: a only
    0x11, 0x22, 0x22, 0x33, 0x33, 0x33, 0x33, // plain: own version 3
    0xee, // end
];

#[test]
fn vstruct_saves_at_the_declared_version() {
    let mut v = VParent {
        at2: vchild(),
        at1: vchild(),
        plain: vchild(),
        end: 0xee,
    };
    assert_eq!(save(&mut v), VPARENT_WIRE);
}

#[test]
fn vstruct_loads_at_the_declared_version() {
    let preset = VChild {
        a: 0,
        b: 0x7777,
        c: 0x9999_9999,
        loaded_at: None,
    };
    let mut d = VParent {
        at2: preset.clone(),
        at1: preset.clone(),
        plain: preset,
        end: 0,
    };
    load_all(&mut d, &VPARENT_WIRE, 1);
    assert_eq!(
        d.at2,
        VChild {
            a: 0x11,
            b: 0x2222,
            c: 0x9999_9999,
            loaded_at: Some(2)
        }
    );
    assert_eq!(
        d.at1,
        VChild {
            a: 0x11,
            b: 0x7777,
            c: 0x9999_9999,
            loaded_at: Some(1)
        }
    );
    assert_eq!(
        d.plain,
        VChild {
            loaded_at: Some(3),
            ..vchild()
        }
    );
    assert_eq!(d.end, 0xee);
}

#[test]
fn vstruct_description() {
    let f = field::<VParent>("at2");
    assert_eq!(
        (f.info, f.kind, f.struct_version, f.vmsd.map(|v| v.name)),
        ("vstruct", FieldKind::VStruct, Some(2), Some("vchild"))
    );
    assert_eq!(field::<VParent>("at1").struct_version, Some(1));
    let p = field::<VParent>("plain");
    assert_eq!(
        (p.info, p.kind, p.struct_version),
        ("struct", FieldKind::Struct, None)
    );
}

// ---------------------------------------------------------------------------
// tmp = Type: VMSTATE_WITH_TMP
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio-net/tmp", version = 0)]
struct VNetTmp {
    curr_queue_pairs: u16,
}

impl VmTmp<VNet> for VNetTmp {
    fn fill_from_parent(&mut self, p: &VNet) -> std::result::Result<(), BoxError> {
        if p.curr_pairs == 0 {
            return Err("no queue pair".into());
        }
        self.curr_queue_pairs = p.curr_pairs;
        Ok(())
    }
    fn apply_to_parent(&mut self, p: &mut VNet) -> std::result::Result<(), BoxError> {
        // CVE-2013-4150: curr_queues > max_queues.
        if self.curr_queue_pairs > p.max_pairs {
            return Err(format!(
                "curr_queue_pairs {} > max {}",
                self.curr_queue_pairs, p.max_pairs
            )
            .into());
        }
        p.curr_pairs = self.curr_queue_pairs;
        Ok(())
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio-net", version = 1)]
struct VNet {
    max_pairs: u16,
    #[vmstate(tmp = VNetTmp)]
    _tmp: (),
    status: u8,
    #[vmstate(skip)]
    curr_pairs: u16,
}

#[test]
fn tmp_round_trip_and_description() {
    let mut v = VNet {
        max_pairs: 4,
        curr_pairs: 2,
        status: 1,
        _tmp: (),
    };
    let wire = [0x00, 0x04, 0x00, 0x02, 0x01];
    assert_eq!(save(&mut v), wire);
    let mut d = VNet {
        max_pairs: 4,
        ..VNet::default()
    };
    load_all(&mut d, &wire, 1);
    assert_eq!(d, v);
    let f = field::<VNet>("tmp");
    assert_eq!(
        (f.info, f.kind, f.vmsd.map(|v| v.name)),
        ("tmp", FieldKind::Tmp, Some("virtio-net/tmp"))
    );
}

#[test]
fn tmp_conversion_errors() {
    let mut d = VNet {
        max_pairs: 4,
        curr_pairs: 1,
        ..VNet::default()
    };
    let e = load_err(&mut d, &[0x00, 0x04, 0x00, 0x09, 0x01], 1, &ctx());
    assert!(
        matches!(e.kind(), ErrorKind::Hook { hook: "post_load" }),
        "{e:?}"
    );
    assert_eq!(e.path(), "virtio-net/tmp");
    assert!(e.to_string().ends_with("curr_queue_pairs 9 > max 4"), "{e}");
    let mut v = VNet::default();
    let e = v.to_bytes(&ctx()).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Hook { hook: "pre_save" }));
    assert!(e.to_string().ends_with("no queue pair"), "{e}");
}

// ---------------------------------------------------------------------------
// with = Codec: a device-private VMStateInfo
// ---------------------------------------------------------------------------

/// A u32 kept in host (little-endian) order, like virtio-net's `vlans`.
struct Le32;

impl Codec<u32> for Le32 {
    const INFO: &'static str = "le32";
    const SIZE: usize = 4;
    fn save<W: Sink>(v: &mut u32, w: &mut Writer<W>, _: &Context) -> Result<()> {
        w.put_bytes(&v.to_le_bytes())
    }
    fn load<S: Source>(v: &mut u32, r: &mut Reader<S>, _: &Context) -> Result<()> {
        *v = u32::from_le_bytes(r.get_array()?);
        Ok(())
    }
}

/// A CMOS-style BCD byte that rejects non-decimal nibbles.
struct Bcd;

impl Codec<u8> for Bcd {
    const INFO: &'static str = "bcd";
    const SIZE: usize = 1;
    fn save<W: Sink>(v: &mut u8, w: &mut Writer<W>, _: &Context) -> Result<()> {
        w.put_u8((*v / 10) << 4 | (*v % 10))
    }
    fn load<S: Source>(v: &mut u8, r: &mut Reader<S>, _: &Context) -> Result<()> {
        let at = r.offset();
        let b = r.get_u8()?;
        if b >> 4 > 9 || b & 0xf > 9 {
            return Err(Error::new(
                ErrorKind::Invalid {
                    message: "not a BCD byte",
                },
                at,
            ));
        }
        *v = (b >> 4) * 10 + (b & 0xf);
        Ok(())
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "codecs", version = 1)]
struct Codecs {
    #[vmstate(with = Le32)]
    vlans: u32,
    plain: u32,
    #[vmstate(with = Bcd)]
    minutes: u8,
}

#[test]
fn with_codec_is_used_both_ways() {
    let mut v = Codecs {
        vlans: 0x1122_3344,
        plain: 0x1122_3344,
        minutes: 59,
    };
    let wire = [0x44, 0x33, 0x22, 0x11, 0x11, 0x22, 0x33, 0x44, 0x59];
    assert_eq!(save(&mut v), wire);
    let mut d = Codecs::default();
    load_all(&mut d, &wire, 1);
    assert_eq!(d, v);
    let f = field::<Codecs>("vlans");
    assert_eq!((f.info, f.kind, f.elem_size), ("le32", FieldKind::Leaf, 4));
    assert_eq!(
        (
            field::<Codecs>("minutes").info,
            field::<Codecs>("plain").info
        ),
        ("bcd", "uint32")
    );
    // The codec's own error, with the field's path.
    let mut bad = wire;
    bad[8] = 0x5a;
    let e = load_err(&mut d, &bad, 1, &ctx());
    assert!(matches!(
        e.kind(),
        ErrorKind::Invalid {
            message: "not a BCD byte"
        }
    ));
    assert_eq!((e.offset(), e.path().as_str()), (8, "codecs/minutes"));
}

// ---------------------------------------------------------------------------
// qtailq / qlist / gtree
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "req", version = 2, minimum_version = 1)]
struct Req {
    id: u32,
    #[vmstate(version = 2)]
    flags: u8,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "tag", version = 0)]
struct Tag {
    v: u16,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "reqs", version = 2)]
struct Reqs {
    // Elements are loaded at the field's version (QEMU's QTAILQ_V).
    #[vmstate(qtailq, version = 2)]
    pending: Vec<Req>,
    #[vmstate(qlist)]
    done: VecDeque<Tag>,
    #[vmstate(gtree)]
    by_addr: BTreeMap<u64, Tag>,
}

const REQS_WIRE: [u8; 44] = [
    0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, // pending[0]: id 1, flags 0x0a
    0x01, 0x00, 0x00, 0x00, 0x02, 0x0b, // pending[1]
    0x00, // end of queue
    0x01, 0x01, 0x02, // done[0]: v = 0x0102
    0x00, // end of list
    0x00, 0x00, 0x00, 0x02, // gtree: 2 nodes
    0x01, 0, 0, 0, 0, 0, 0, 0x00, 0x20, 0x00, 0x08, // key 0x20 -> v 8
    0x01, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0x00, 0x07, // key 0x1000 -> v 7
    0x00, // end of tree
];

fn reqs() -> Reqs {
    Reqs {
        pending: vec![Req { id: 1, flags: 0x0a }, Req { id: 2, flags: 0x0b }],
        done: VecDeque::from([Tag { v: 0x0102 }]),
        by_addr: BTreeMap::from([(0x1000, Tag { v: 7 }), (0x20, Tag { v: 8 })]),
    }
}

#[test]
fn queues_and_tree_round_trip() {
    assert_eq!(save(&mut reqs()), REQS_WIRE);
    let mut d = Reqs {
        pending: vec![Req::default(); 5],
        ..Reqs::default()
    };
    load_all(&mut d, &REQS_WIRE, 2);
    assert_eq!(d, reqs());
    // Empty collections: one end marker each, and a zero node count.
    let mut e = Reqs::default();
    assert_eq!(save(&mut e), [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
}

#[test]
fn queue_field_version_gates_the_field() {
    // A version-1 stream has no `pending` at all.
    let mut d = reqs();
    load_all(&mut d, &REQS_WIRE[13..], 1);
    assert_eq!(d.pending, reqs().pending, "absent field left alone");
    assert_eq!(d.by_addr, reqs().by_addr);
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "reqs_v1", version = 1)]
struct ReqsV1 {
    #[vmstate(qtailq, version = 1)]
    pending: Vec<Req>,
}

/// QEMU loads queue elements at the *field's* version (here 1), not the
/// element description's own (2), and saves them at their own version:
/// `Req::flags` (version 2) is written but not read back.
#[test]
fn queue_elements_load_at_the_field_version() {
    let mut v = ReqsV1 {
        pending: vec![Req { id: 5, flags: 9 }],
    };
    assert_eq!(save(&mut v), [0x01, 0x00, 0x00, 0x00, 0x05, 0x09, 0x00]);
    let mut d = ReqsV1::default();
    load_all(&mut d, &[0x01, 0x00, 0x00, 0x00, 0x05, 0x00], 1);
    assert_eq!(d.pending, [Req { id: 5, flags: 0 }]);
}

#[test]
fn queue_and_tree_descriptions() {
    let got: Vec<_> = Reqs::VMSD
        .fields
        .iter()
        .map(|f| (f.name, f.info, f.kind, f.vmsd.map(|v| v.name), f.version_id))
        .collect();
    assert_eq!(
        got,
        [
            ("pending", "qtailq", FieldKind::Queue, Some("req"), 2),
            ("done", "qlist", FieldKind::Queue, Some("tag"), 0),
            ("by_addr", "gtree", FieldKind::Gtree, Some("tag"), 0),
        ]
    );
}

/// The vmdesc of queue and tree fields, as QEMU 7.2 writes it: the field
/// object (`name`, `type`) gets each element's description written into it
/// by `put_qtailq`/`put_qlist`/`put_gtree` (keys repeat, one set per element;
/// a struct key's set comes before its value's, a direct key has none),
/// then `size`, the bytes of the whole field.
#[test]
fn queue_and_tree_vmdesc_repeat_element_descriptions() {
    let req = r#""vmsd_name": "req", "version": 2, "fields": [{"name": "id", "type": "uint32", "size": 4}, {"name": "flags", "type": "uint8", "size": 1}]"#;
    let tag = r#""vmsd_name": "tag", "version": 0, "fields": [{"name": "v", "type": "uint16", "size": 2}]"#;
    let expected = format!(
        concat!(
            r#"{{"name": "reqs", "instance_id": 0, "vmsd_name": "reqs", "version": 2, "fields": ["#,
            r#"{{"name": "pending", "type": "qtailq", {req}, {req}, "size": 13}}, "#,
            r#"{{"name": "done", "type": "qlist", {tag}, "size": 4}}, "#,
            r#"{{"name": "by_addr", "type": "gtree", {tag}, {tag}, "size": 27}}]}}"#,
        ),
        req = req,
        tag = tag,
    );
    let mut out = Vec::new();
    let mut w = Writer::recording(&mut out);
    reqs().save(&mut w, &ctx()).unwrap();
    let rec = w.take_record().unwrap();
    assert_eq!(out, REQS_WIRE);
    assert_eq!(record::section_json("reqs", 0, &rec), expected);

    // A stream with that trailer parses (repeated keys: the last wins, as
    // in Python's json), and the queue fields decode as raw bytes of their
    // recorded size, as analyze-migration.py reads them.
    use vmstate_migration::{DeviceStreamWriter, ReadOptions, Stream, WriteOptions};
    let mut w = DeviceStreamWriter::new(Vec::new(), WriteOptions::default(), ctx()).unwrap();
    w.section("reqs", 0, &mut reqs()).unwrap();
    let bytes = w.finish(4096).unwrap();
    let stream = Stream::parse(&bytes, ReadOptions::default()).unwrap();
    let s = stream.section("reqs", 0).unwrap();
    assert_eq!(s.vmsd().unwrap().bytes, REQS_WIRE);
    assert_eq!(stream.to_bytes().unwrap(), bytes);

    // Empty collections: no element descriptions, only the markers' size.
    let mut w = Writer::recording(Vec::new());
    Reqs::default().save(&mut w, &ctx()).unwrap();
    let rec = w.take_record().unwrap();
    assert_eq!(
        record::section_json("reqs", 0, &rec),
        concat!(
            r#"{"name": "reqs", "instance_id": 0, "vmsd_name": "reqs", "version": 2, "fields": ["#,
            r#"{"name": "pending", "type": "qtailq", "size": 1}, "#,
            r#"{"name": "done", "type": "qlist", "size": 1}, "#,
            r#"{"name": "by_addr", "type": "gtree", "size": 5}]}"#,
        )
    );
}

#[derive(VmState, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
#[vmstate(name = "range", version = 1)]
struct TreeKey {
    start: u32,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ranges", version = 1)]
struct KeyedTree {
    #[vmstate(gtree)]
    map: BTreeMap<TreeKey, Tag>,
}

#[test]
fn tree_with_struct_keys_describes_key_then_value() {
    let mut v = KeyedTree {
        map: BTreeMap::from([(TreeKey { start: 9 }, Tag { v: 3 })]),
    };
    let mut w = Writer::recording(Vec::new());
    v.save(&mut w, &ctx()).unwrap();
    let rec = w.take_record().unwrap();
    assert_eq!(
        w.into_inner(),
        [0, 0, 0, 1, 0x01, 0, 0, 0, 9, 0, 3, 0x00],
        "count, marker, key, value, end"
    );
    assert_eq!(
        record::section_json("ranges", 0, &rec),
        concat!(
            r#"{"name": "ranges", "instance_id": 0, "vmsd_name": "ranges", "version": 1, "fields": ["#,
            r#"{"name": "map", "type": "gtree", "#,
            r#""vmsd_name": "range", "version": 1, "fields": [{"name": "start", "type": "uint32", "size": 4}], "#,
            r#""vmsd_name": "tag", "version": 0, "fields": [{"name": "v", "type": "uint16", "size": 2}], "#,
            r#""size": 12}]}"#,
        )
    );
}

#[test]
fn tree_node_count_must_match() {
    let mut bad = REQS_WIRE;
    bad[20] = 3; // says 3 nodes, 2 follow
    let e = load_err(&mut Reqs::default(), &bad, 2, &ctx());
    assert!(matches!(e.kind(), ErrorKind::Invalid { .. }), "{e:?}");
    assert_eq!(innermost_field(&e), Some("by_addr"));
}

// ---------------------------------------------------------------------------
// Timer, Box<T>, Option<T> pointer slots
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "timers", version = 1)]
struct Timers {
    t: Timer,
    arr: [Timer; 2],
}

#[test]
fn timer_round_trip_including_not_armed() {
    let mut v = Timers {
        t: Timer::armed(0x0102_0304_0506_0708),
        arr: [Timer::NOT_ARMED, Timer::armed(0)],
    };
    let wire = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // armed
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // -1: not armed
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // armed at 0
    ];
    assert_eq!(save(&mut v), wire);
    let mut d = Timers {
        t: Timer::NOT_ARMED,
        arr: [Timer::armed(5), Timer::NOT_ARMED],
    };
    load_all(&mut d, &wire, 1);
    assert_eq!(d, v);
    assert!(!d.arr[0].is_armed());
    assert_eq!(d.arr[0].expire_ns(), None);
    assert_eq!(d.arr[1].expire_ns(), Some(0));
    let t = field::<Timers>("t");
    let a = field::<Timers>("arr");
    assert_eq!((t.info, t.elem_size, t.array_len), ("timer", 8, None));
    assert_eq!((a.info, a.elem_size, a.array_len), ("timer", 8, Some(2)));
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "elem", version = 1)]
struct Elem {
    x: u16,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ptrs", version = 1)]
struct Ptrs {
    single: Box<u32>,
    st: Box<Elem>,
    n: u8,
    #[vmstate(count = n)]
    slots: [Option<Box<Elem>>; 4],
}

fn some(x: u16) -> Option<Box<Elem>> {
    Some(Box::new(Elem { x }))
}

const PTRS_WIRE: [u8; 12] = [
    0xca, 0xfe, 0xba, 0xbe, // *single
    0x01, 0x02, // *st
    0x03, // n
    0x0a, 0x0b, // slots[0]
    0x30, // slots[1]: null marker
    0x0c, 0x0d, // slots[2]; slots[3] beyond n
];

#[test]
fn box_and_option_pointer_slots() {
    let mut v = Ptrs {
        single: Box::new(0xcafe_babe),
        st: Box::new(Elem { x: 0x0102 }),
        n: 3,
        slots: [some(0x0a0b), None, some(0x0c0d), some(0xffff)],
    };
    assert_eq!(save(&mut v), PTRS_WIRE);
    let mut d = Ptrs {
        slots: [some(0), None, some(0), some(0x7777)],
        ..Ptrs::default()
    };
    load_all(&mut d, &PTRS_WIRE, 1);
    assert_eq!(*d.single, 0xcafe_babe);
    assert_eq!(d.st.x, 0x0102);
    assert_eq!(d.slots, [some(0x0a0b), None, some(0x0c0d), some(0x7777)]);
    let f = field::<Ptrs>("slots");
    assert_eq!(
        (f.info, f.kind, f.length_from, f.vmsd.map(|v| v.name)),
        ("struct", FieldKind::Struct, Some("n"), Some("elem"))
    );
    assert_eq!(field::<Ptrs>("single").info, "uint32");

    // A null destination slot needs the marker.
    let mut bad = PTRS_WIRE;
    bad[9] = 0x31;
    let e = load_err(&mut d, &bad, 1, &ctx());
    assert!(matches!(e.kind(), ErrorKind::Invalid { .. }), "{e:?}");
    assert_eq!((e.offset(), e.path().as_str()), (9, "ptrs/slots[1]"));
}

// ---------------------------------------------------------------------------
// HPET (CVE-2013-4527): a u8 count over a fixed array of 32 timers
// ---------------------------------------------------------------------------

const HPET_MIN_TIMERS: u8 = 3;
const HPET_MAX_TIMERS: u8 = 32;

/// QEMU 7.2's `vmstate_hpet_timer` (hw/timer/hpet.c).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet_timer", version = 1, minimum_version = 1)]
struct HpetTimer {
    tn: u8,
    config: u64,
    cmp: u64,
    fsb: u64,
    period: u64,
    wrap_flag: u8,
    qemu_timer: Timer,
}

/// QEMU 7.2's `vmstate_hpet` fields: the count is validated between the
/// counter and the array that uses it.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet", version = 2, minimum_version = 1, pre_load = Self::pre_load)]
struct Hpet {
    config: u64,
    isr: u64,
    hpet_counter: u64,
    #[vmstate(version = 2)]
    num_timers: u8,
    #[vmstate(validate = Self::num_timers_ok, rename = "num_timers in range")]
    _v: (),
    #[vmstate(count = num_timers)]
    timers: [HpetTimer; 32],
}

impl Hpet {
    /// Version 1 only supports 3 timers; later versions load the value.
    fn pre_load(&mut self) -> std::result::Result<(), String> {
        self.num_timers = HPET_MIN_TIMERS;
        Ok(())
    }
    fn num_timers_ok(&self, _version: u32) -> bool {
        (HPET_MIN_TIMERS..=HPET_MAX_TIMERS).contains(&self.num_timers)
    }
}

/// The same layout without the validate: the capacity check alone.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet", version = 2, minimum_version = 1)]
struct HpetUnchecked {
    config: u64,
    isr: u64,
    hpet_counter: u64,
    #[vmstate(version = 2)]
    num_timers: u8,
    #[vmstate(count = num_timers)]
    timers: [HpetTimer; 32],
}

const HPET_HEADER: [u8; 24] = [
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, // config
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // isr
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // hpet_counter
];

const HPET_TIMER0: [u8; 42] = [
    0x00, // tn
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, // config
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, // cmp
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // fsb
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, // period
    0x00, // wrap_flag
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // not armed
];

const HPET_TIMER1: [u8; 42] = [
    0x01, // tn
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, // config
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, // cmp
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // fsb
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // period
    0x01, // wrap_flag
    0x00, 0x00, 0x00, 0x00, 0x3b, 0x9a, 0xca, 0x00, // armed at 1e9 ns
];

const HPET_TIMER2: [u8; 42] = [
    0x02, // tn
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // config
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, // cmp
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // fsb
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // period
    0x00, // wrap_flag
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // not armed
];

fn hpet_timers() -> [HpetTimer; 3] {
    [
        HpetTimer {
            tn: 0,
            config: 4,
            cmp: 0x1000,
            fsb: 0,
            period: 0x10,
            wrap_flag: 0,
            qemu_timer: Timer::NOT_ARMED,
        },
        HpetTimer {
            tn: 1,
            config: 0xc,
            cmp: 0x2000,
            fsb: 0,
            period: 0,
            wrap_flag: 1,
            qemu_timer: Timer::armed(1_000_000_000),
        },
        HpetTimer {
            tn: 2,
            config: 0,
            cmp: 0xffff_ffff,
            fsb: 0,
            period: 0,
            wrap_flag: 0,
            qemu_timer: Timer::NOT_ARMED,
        },
    ]
}

fn hpet() -> Hpet {
    let mut h = Hpet {
        config: 3,
        isr: 0,
        hpet_counter: 1 << 32,
        num_timers: 3,
        ..Hpet::default()
    };
    h.timers[..3].clone_from_slice(&hpet_timers());
    // Timers beyond num_timers are not migrated.
    h.timers[3].cmp = 0xdead;
    h
}

/// Header, optional num_timers byte, then the given timers.
fn hpet_wire(num_timers: Option<u8>, timers: &[&[u8; 42]]) -> Vec<u8> {
    let mut w = HPET_HEADER.to_vec();
    w.extend(num_timers);
    for t in timers {
        w.extend_from_slice(&t[..]);
    }
    w
}

#[test]
fn hpet_round_trip_v2() {
    let wire = hpet_wire(Some(3), &[&HPET_TIMER0, &HPET_TIMER1, &HPET_TIMER2]);
    assert_eq!(wire.len(), 24 + 1 + 3 * 42);
    let mut h = hpet();
    assert_eq!(save(&mut h), wire);
    let mut d = Hpet::default();
    d.timers[3].cmp = 0xdead;
    load_all(&mut d, &wire, 2);
    assert_eq!(d, h);
    let f = field::<Hpet>("timers");
    assert_eq!(
        (
            f.info,
            f.kind,
            f.elem_size,
            f.length_from,
            f.vmsd.map(|v| v.name)
        ),
        (
            "struct",
            FieldKind::Struct,
            0,
            Some("num_timers"),
            Some("hpet_timer")
        )
    );
    assert_eq!(
        field::<Hpet>("num_timers in range").kind,
        FieldKind::Validate
    );
}

#[test]
fn hpet_v1_stream_uses_the_pre_load_count() {
    // Version 1 has no num_timers on the wire: pre_load sets 3.
    let wire = hpet_wire(None, &[&HPET_TIMER0, &HPET_TIMER1, &HPET_TIMER2]);
    let mut d = Hpet {
        num_timers: 32,
        ..Hpet::default()
    };
    load_all(&mut d, &wire, 1);
    assert_eq!(d.num_timers, 3);
    assert_eq!(d.timers[..3], hpet_timers());
}

#[test]
fn hpet_num_timers_40_is_rejected_by_validate() {
    // num_timers = 40, followed by as many timer bytes as a naive loader
    // would consume.
    let mut wire = hpet_wire(Some(40), &[]);
    for _ in 0..40 {
        wire.extend_from_slice(&HPET_TIMER0);
    }
    let mut d = hpet();
    let e = load_err(&mut d, &wire, 2, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Invalid {
                message: "num_timers in range"
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 25);
    assert_eq!(
        e.to_string(),
        "hpet/num_timers in range at byte 25: validation failed: num_timers in range"
    );
    // Also below the minimum, which the capacity check alone accepts.
    let low = hpet_wire(Some(2), &[&HPET_TIMER0, &HPET_TIMER1]);
    let e = load_err(&mut d, &low, 2, &ctx());
    assert!(matches!(e.kind(), ErrorKind::Invalid { .. }), "{e:?}");
    // In place: the validate stops the load before any timer moves.
    let mut r = Reader::from_slice(&wire);
    let e = d.load_state_in_place(&mut r, 2, &ctx()).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Invalid { .. }));
    assert_eq!(r.offset(), 25);
    assert_eq!(d.timers, hpet().timers);
}

#[test]
fn hpet_num_timers_40_is_rejected_by_the_capacity_check() {
    let mut wire = hpet_wire(Some(40), &[]);
    for _ in 0..40 {
        wire.extend_from_slice(&HPET_TIMER0);
    }
    let mut d = HpetUnchecked {
        num_timers: 3,
        ..HpetUnchecked::default()
    };
    d.timers[..3].clone_from_slice(&hpet_timers());
    let e = load_err(&mut d, &wire, 2, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                field: "num_timers",
                found: 40,
                multiply: 1,
                max: 32
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 25);
    assert!(
        e.to_string()
            .ends_with("at byte 25: length from `num_timers` out of range: 40, expected 0..=32"),
        "{e}"
    );
    let before = d.timers.clone();
    let mut r = Reader::from_slice(&wire);
    d.load_state_in_place(&mut r, 2, &ctx()).unwrap_err();
    assert_eq!(r.offset(), 25, "no timer byte was read");
    assert_eq!(d.timers, before);
    // 32 is the most the array holds, and loads.
    let mut ok = hpet_wire(Some(32), &[]);
    for _ in 0..32 {
        ok.extend_from_slice(&HPET_TIMER1);
    }
    load_all(&mut d, &ok, 2);
    assert!(d.timers.iter().all(|t| t.tn == 1));
}

#[test]
fn hpet_capacity_error_names_the_array() {
    let wire = hpet_wire(Some(40), &[]);
    let e = load_err(&mut HpetUnchecked::default(), &wire, 2, &ctx());
    assert_eq!(e.path(), "hpet/timers");
    assert_eq!(
        e.to_string(),
        "hpet/timers at byte 25: length from `num_timers` out of range: 40, expected 0..=32"
    );
}

// ---------------------------------------------------------------------------
// Renamed length fields
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "renamed", version = 1)]
struct Renamed {
    #[vmstate(rename = "mac_table.in_use")]
    in_use: u32,
    #[vmstate(count = in_use, rename = "mac_table.macs")]
    macs: Vec<u8>,
}

/// `length_from` must name a field of the description, i.e. the count
/// field's description name, so that tools can resolve it.
#[test]
fn length_from_uses_the_description_name() {
    let f = field::<Renamed>("mac_table.macs");
    assert_eq!(f.length_from, Some("mac_table.in_use"));
    assert!(Renamed::VMSD
        .fields
        .iter()
        .any(|g| Some(g.name) == f.length_from));
}
