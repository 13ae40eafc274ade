//! Variable arrays: `count = field` over fixed arrays and `Vec`s, `multiply`.
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
use std::time::{Duration, Instant};

use vmstate_core::desc::Check;
use vmstate_core::{ErrorKind, FieldKind, Reader, VmState};

#[path = "support/vocab.rs"]
mod vocab;
use vocab::*;

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
/// and on save (`vocab_buffers.rs` checks the byte and bit kinds).
#[test]
fn length_errors_name_the_field() {
    let wire = [0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let e = load_err(&mut varray8(), &wire, 1, &ctx());
    assert_eq!(e.path(), "varray8/regs");
    let mut v = varray8();
    v.n = 5;
    assert_eq!(v.to_bytes(&ctx()).unwrap_err().path(), "varray8/regs");
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
// Lengths given to a `macro_rules!` that writes the derive: the generated
// code reads `self.<count>`, `self` from the derive and the name from the
// macro's caller.
// ---------------------------------------------------------------------------

macro_rules! counted {
    ($ty:ident, $name:literal, { $($field:tt)* }) => {
        #[derive(VmState, Clone, Debug, Default, PartialEq)]
        #[vmstate(name = $name, version = 1)]
        struct $ty {
            n: u8,
            $($field)*
        }
    };
}

counted!(MacroCounted, "macro_counted", {
    #[vmstate(count = n)]
    regs: [u16; 2],
    #[vmstate(vbuffer = n)]
    bytes: Vec<u8>,
    #[vmstate(unused = 1, count = n)]
    _pad: (),
    #[vmstate(bitmap = n)]
    bits: [u64; 1],
});

#[test]
fn lengths_declared_through_macro_rules() {
    let mut v = MacroCounted {
        n: 2,
        regs: [0x1122, 0x3344],
        bytes: vec![0xa1, 0xa2],
        _pad: (),
        bits: [0x0102_0304_0506_0708],
    };
    // n, regs[0..2] as be16, 2 bytes, 2 x 1 zero bytes, ceil(2 / 64) be64
    // words.
    let wire = [
        0x02, 0x11, 0x22, 0x33, 0x44, 0xa1, 0xa2, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
        0x07, 0x08,
    ];
    assert_eq!(save(&mut v), wire);
    let mut d = MacroCounted::default();
    load_all(&mut d, &wire, 1);
    assert_eq!(d, v);
}
