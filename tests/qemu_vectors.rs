//! QEMU's own VMState unit-test vectors (`tests/unit/test-vmstate.c`),
//! replayed against `#[derive(VmState)]`.
//!
//! The test types and most golden byte strings live in
//! `tests/support/qemu_vectors.rs` (shared with `tests/sweeps.rs`). Every
//! golden byte string is typed in from the hex vectors in
//! QEMU's `tests/unit/test-vmstate.c` and the proposed subsection vectors (docs/wire-format.md#qemu-unit-tests); none is produced
//! by this crate.
//!
//! Harness mapping (docs/wire-format.md#qemu-unit-tests):
//! * QEMU's `save_vmstate` appends one `QEMU_VM_EOF` (`00`) byte, so for
//!   those tests `to_bytes() + [0x00]` must equal the vector. The
//!   `field_exists/save` tests call `vmstate_save_state` directly and have
//!   no trailing `00`.
//! * QEMU's `load_vmstate` first checks four truncations that must fail
//!   (see [`assert_truncations_fail`]), then loads the full vector.
//! * Our `load` is transactional, so after every failed load the
//!   destination must be exactly as it was before.

#[path = "support/qemu_vectors.rs"]
mod qvec;

use std::fmt::Debug;

use qvec::{
    SubOptional, TestArray, TestSimple, TestSkipping, TestVersioned, WIRE_FIELD_EXISTS_LOAD_SKIP,
    WIRE_SIMPLE_ARRAY, WIRE_SIMPLE_PRIMITIVE, WIRE_SUB_A, WIRE_SUB_DUP, WIRE_VERSIONED_V1,
    WIRE_VERSIONED_V2,
};
use vmstate_core::{Context, DuplicateSubsections, Error, ErrorKind, Reader, VmState};

// ---------------------------------------------------------------------------
// Harness helpers
// ---------------------------------------------------------------------------

/// Loads `wire` into `obj` at `version` and expects a failure. Checks that
/// the failed (transactional) load left `obj` unchanged and returns the
/// error for the caller to match its kind.
fn expect_load_err<T: VmState + Clone + PartialEq + Debug>(
    obj: &mut T,
    wire: &[u8],
    version: u32,
    ctx: &Context,
) -> Error {
    let before = obj.clone();

    // The same load through the buffered `std::io::Read` path must fail
    // the same way.
    let mut io_obj = obj.clone();
    let io_err = match io_obj.load(&mut Reader::new(wire), version, ctx) {
        Ok(()) => panic!("io-reader load at version {version} unexpectedly succeeded"),
        Err(e) => e,
    };
    assert_eq!(
        io_obj, before,
        "failed io-reader load modified the destination"
    );

    let mut r = Reader::from_slice(wire);
    let err = match obj.load(&mut r, version, ctx) {
        Ok(()) => panic!(
            "load of {} bytes at version {version} unexpectedly succeeded: {obj:?}",
            wire.len()
        ),
        Err(e) => e,
    };
    assert_eq!(*obj, before, "failed load modified the destination ({err})");
    assert_eq!(
        format!("{:?}", io_err.kind()),
        format!("{:?}", err.kind()),
        "slice and io readers disagree"
    );
    assert_eq!(
        io_err.offset(),
        err.offset(),
        "slice and io readers disagree"
    );
    err
}

/// Loads `wire` into `obj` at `version` and expects success. Returns the
/// bytes left unread.
///
/// The same load through the buffered `std::io::Read` path must give the
/// same value and consume the same number of bytes.
fn expect_load_ok<'a, T: VmState + Clone + PartialEq + Debug>(
    obj: &mut T,
    wire: &'a [u8],
    version: u32,
    ctx: &Context,
) -> &'a [u8] {
    let mut io_obj = obj.clone();
    let mut io_r = Reader::new(wire);
    if let Err(e) = io_obj.load(&mut io_r, version, ctx) {
        panic!("io-reader load at version {version} failed: {e}");
    }

    let mut r = Reader::from_slice(wire);
    if let Err(e) = obj.load(&mut r, version, ctx) {
        panic!("load at version {version} failed: {e}");
    }
    assert_eq!(io_obj, *obj, "slice and io readers disagree");
    assert_eq!(io_r.offset(), r.offset(), "slice and io readers disagree");
    r.remaining()
}

/// QEMU's `load_vmstate` failure cases (docs/wire-format.md#qemu-unit-tests), each attempted on a
/// fresh clone of `obj`: zero bytes; and if `n > 3`, the first `n - 2`
/// bytes, the first `n / 2` bytes, and the `n / 2` bytes starting at
/// `n / 2`. All must fail with an end-of-stream error and leave the
/// destination untouched.
///
/// `n - 1` is deliberately not tried: only the trailing `00` would be
/// missing, and a load that ends exactly at the end of the data is fine
/// (the subsection peek sees end of input).
fn assert_truncations_fail<T: VmState + Clone + PartialEq + Debug>(
    obj: &T,
    wire: &[u8],
    version: u32,
) {
    let n = wire.len();
    let mut cases: Vec<(&str, &[u8])> = vec![("0 bytes", &wire[..0])];
    if n > 3 {
        cases.push(("first n-2 bytes", &wire[..n - 2]));
        cases.push(("first n/2 bytes", &wire[..n / 2]));
        cases.push(("n/2 bytes at n/2", &wire[n / 2..n / 2 + n / 2]));
    }
    for (what, bytes) in cases {
        let mut fresh = obj.clone();
        let err = expect_load_err(&mut fresh, bytes, version, &Context::new());
        match err.kind() {
            ErrorKind::UnexpectedEof { needed, available } => {
                assert!(available < needed, "{what}: {err}");
            }
            other => panic!("{what}: expected UnexpectedEof, got {other:?} ({err})"),
        }
        assert_eq!(fresh, *obj, "{what}: destination changed");
    }
}

/// QEMU's `save_vmstate` + `compare_vmstate`: the saved bytes followed by
/// one `QEMU_VM_EOF` byte must equal `wire` exactly.
fn assert_save_with_eof<T: VmState>(obj: &mut T, wire: &[u8]) {
    let mut saved = obj.to_bytes(&Context::new()).expect("save");
    saved.push(0x00); // QEMU_VM_EOF, appended by the C harness
    assert_eq!(saved, wire);
}

// ---------------------------------------------------------------------------
// /vmstate/simple/primitive
// ---------------------------------------------------------------------------

/// `obj_simple`.
fn obj_simple() -> TestSimple {
    TestSimple {
        b_1: true,
        b_2: false,
        u8_1: 130,
        u16_1: 512,
        u32_1: 70000,
        u64_1: 12121212,
        i8_1: 65,
        i8_2: -65,
        i16_1: 512,
        i16_2: -512,
        i32_1: 70000,
        i32_2: -70000,
        i64_1: 12121212,
        i64_2: -12121212,
    }
}

// /vmstate/simple/primitive
#[test]
fn simple_primitive() {
    let mut src = obj_simple();
    assert_save_with_eof(&mut src, &WIRE_SIMPLE_PRIMITIVE);

    let mut dst = TestSimple::default();
    assert_truncations_fail(&dst, &WIRE_SIMPLE_PRIMITIVE, 1);
    let rest = expect_load_ok(&mut dst, &WIRE_SIMPLE_PRIMITIVE, 1, &Context::new());
    assert_eq!(rest, [0x00], "only the EOF byte is left");
    assert!(dst.b_1);
    assert!(!dst.b_2);
    assert_eq!(dst.u8_1, 130);
    assert_eq!(dst.u16_1, 512);
    assert_eq!(dst.u32_1, 70000);
    assert_eq!(dst.u64_1, 12121212);
    assert_eq!(dst.i8_1, 65);
    assert_eq!(dst.i8_2, -65);
    assert_eq!(dst.i16_1, 512);
    assert_eq!(dst.i16_2, -512);
    assert_eq!(dst.i32_1, 70000);
    assert_eq!(dst.i32_2, -70000);
    assert_eq!(dst.i64_1, 12121212);
    assert_eq!(dst.i64_2, -12121212);
    assert_eq!(dst, obj_simple());
}

// ---------------------------------------------------------------------------
// /vmstate/simple/array
// ---------------------------------------------------------------------------

// /vmstate/simple/array
#[test]
fn simple_array() {
    let mut src = TestArray {
        u16_1: [0x42, 0x43, 0x44],
    };
    assert_save_with_eof(&mut src, &WIRE_SIMPLE_ARRAY);

    let mut dst = TestArray::default();
    assert_truncations_fail(&dst, &WIRE_SIMPLE_ARRAY, 1);
    let rest = expect_load_ok(&mut dst, &WIRE_SIMPLE_ARRAY, 1, &Context::new());
    assert_eq!(rest, [0x00]);
    assert_eq!(dst.u16_1, [0x42, 0x43, 0x44]);
}

// ---------------------------------------------------------------------------
// /vmstate/versioned/load/v1, /v2
// ---------------------------------------------------------------------------

// /vmstate/versioned/load/v1
#[test]
fn versioned_load_v1() {
    let mut obj = TestVersioned {
        b: 200,
        e: 500,
        f: 600,
        ..Default::default()
    };
    // Not in test-vmstate.c (which calls vmstate_load_state directly), but
    // the 4.1 truncations must fail here too.
    assert_truncations_fail(&obj, &WIRE_VERSIONED_V1, 1);
    let rest = expect_load_ok(&mut obj, &WIRE_VERSIONED_V1, 1, &Context::new());
    assert_eq!(rest, [0x00]);
    assert_eq!(
        obj,
        TestVersioned {
            a: 10,
            b: 200,
            c: 30,
            d: 40,
            e: 500,
            f: 600,
            skip_c_e: false,
        }
    );
}

// /vmstate/versioned/load/v2
#[test]
fn versioned_load_v2() {
    let mut obj = TestVersioned::default();
    // Extra: the 4.1 truncations (not in test-vmstate.c for this test).
    assert_truncations_fail(&obj, &WIRE_VERSIONED_V2, 2);
    let rest = expect_load_ok(&mut obj, &WIRE_VERSIONED_V2, 2, &Context::new());
    assert_eq!(rest, [0x00]);
    assert_eq!(
        obj,
        TestVersioned {
            a: 10,
            b: 20,
            c: 30,
            d: 40,
            e: 50,
            f: 60,
            skip_c_e: false,
        }
    );
}

// Not in test-vmstate.c (docs/wire-format.md#qemu-unit-tests: "version too new/too old" has no
// vectors); rule from docs/wire-format.md#versions.
#[test]
fn versioned_load_version_too_new() {
    let mut obj = TestVersioned {
        a: 1,
        b: 2,
        c: 3,
        d: 4,
        e: 5,
        f: 6,
        skip_c_e: true,
    };
    let err = expect_load_err(&mut obj, &WIRE_VERSIONED_V2, 3, &Context::new());
    match err.kind() {
        ErrorKind::VersionTooNew { vmsd, version, max } => {
            assert_eq!(*vmsd, "test/versioned");
            assert_eq!(*version, 3);
            assert_eq!(*max, 2);
        }
        other => panic!("expected VersionTooNew, got {other:?} ({err})"),
    }
}

// Not in test-vmstate.c; docs/wire-format.md#versions ("too old").
#[test]
fn versioned_load_version_too_old() {
    let mut obj = TestVersioned {
        a: 1,
        b: 2,
        c: 3,
        d: 4,
        e: 5,
        f: 6,
        skip_c_e: true,
    };
    let err = expect_load_err(&mut obj, &WIRE_VERSIONED_V1, 0, &Context::new());
    match err.kind() {
        ErrorKind::VersionTooOld { vmsd, version, min } => {
            assert_eq!(*vmsd, "test/versioned");
            assert_eq!(*version, 0);
            assert_eq!(*min, 1);
        }
        other => panic!("expected VersionTooOld, got {other:?} ({err})"),
    }
}

// ---------------------------------------------------------------------------
// /vmstate/field_exists/*
// ---------------------------------------------------------------------------

fn skipping_obj(skip_c_e: bool) -> TestSkipping {
    TestSkipping {
        a: 1,
        b: 2,
        c: 3,
        d: 4,
        e: 5,
        f: 6,
        skip_c_e,
    }
}

// /vmstate/field_exists/save/noskip
#[test]
fn field_exists_save_noskip() {
    // vmstate_save_state directly: no trailing EOF byte.
    const EXPECTED: [u8; 32] = [
        0x00, 0x00, 0x00, 0x01, // a
        0x00, 0x00, 0x00, 0x02, // b
        0x00, 0x00, 0x00, 0x03, // c
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, // d
        0x00, 0x00, 0x00, 0x05, // e
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, // f
    ];
    let mut obj = skipping_obj(false);
    assert_eq!(obj.to_bytes(&Context::new()).unwrap(), EXPECTED);
}

// /vmstate/field_exists/save/skip
#[test]
fn field_exists_save_skip() {
    // vmstate_save_state directly: no trailing EOF byte.
    const EXPECTED: [u8; 24] = [
        0x00, 0x00, 0x00, 0x01, // a
        0x00, 0x00, 0x00, 0x02, // b
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, // d
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, // f
    ];
    let mut obj = skipping_obj(true);
    assert_eq!(obj.to_bytes(&Context::new()).unwrap(), EXPECTED);
}

// /vmstate/field_exists/load/noskip
#[test]
fn field_exists_load_noskip() {
    const WIRE: [u8; 33] = [
        0x00, 0x00, 0x00, 0x0a, // a
        0x00, 0x00, 0x00, 0x14, // b
        0x00, 0x00, 0x00, 0x1e, // c
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, // d
        0x00, 0x00, 0x00, 0x32, // e
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3c, // f
        0x00, // EOF
    ];
    let mut obj = TestSkipping {
        skip_c_e: false,
        ..Default::default()
    };
    // Extra: the 4.1 truncations (not in test-vmstate.c for this test).
    assert_truncations_fail(&obj, &WIRE, 2);
    let rest = expect_load_ok(&mut obj, &WIRE, 2, &Context::new());
    assert_eq!(rest, [0x00]);
    assert_eq!(
        obj,
        TestSkipping {
            a: 10,
            b: 20,
            c: 30,
            d: 40,
            e: 50,
            f: 60,
            skip_c_e: false,
        }
    );
}

// /vmstate/field_exists/load/skip
#[test]
fn field_exists_load_skip() {
    let mut obj = TestSkipping {
        skip_c_e: true,
        c: 300,
        e: 500,
        ..Default::default()
    };
    // Extra: the 4.1 truncations (not in test-vmstate.c for this test).
    assert_truncations_fail(&obj, &WIRE_FIELD_EXISTS_LOAD_SKIP, 2);
    let rest = expect_load_ok(&mut obj, &WIRE_FIELD_EXISTS_LOAD_SKIP, 2, &Context::new());
    assert_eq!(rest, [0x00]);
    assert_eq!(
        obj,
        TestSkipping {
            a: 10,
            b: 20,
            c: 300,
            d: 40,
            e: 500,
            f: 60,
            skip_c_e: true,
        }
    );
}

// ---------------------------------------------------------------------------
// Subsections: proposed upstream vectors (docs/wire-format.md#qemu-unit-tests, "[PATCH v3 5/6]
// test-vmstate: add some subsection tests", not merged). Our semantics:
// duplicates rejected by default, loaded each time under LoadEach (7.2/10.2).
// ---------------------------------------------------------------------------

/// needed=false: only EOF.
const WIRE_SUB_NONE: [u8; 1] = [0x00];

/// Right prefix, unknown name "sub/optional/b", then EOF.
const WIRE_SUB_UNKNOWN: [u8; 21] = [
    0x05, 0x0e, b's', b'u', b'b', b'/', b'o', b'p', b't', b'i', b'o', b'n', b'a', b'l', b'/', b'b',
    0x00, 0x00, 0x00, 0x01, // version
    0x00, // EOF
];

// Proposed subsection test (docs/wire-format.md#qemu-unit-tests, not in QEMU): needed=true save
#[test]
fn subsection_save_needed() {
    let mut obj = SubOptional {
        needed: true,
        ..Default::default()
    };
    assert_save_with_eof(&mut obj, &WIRE_SUB_A);
}

// Proposed subsection test (docs/wire-format.md#qemu-unit-tests, not in QEMU): needed=false save
#[test]
fn subsection_save_not_needed() {
    let mut obj = SubOptional::default();
    assert_save_with_eof(&mut obj, &WIRE_SUB_NONE);
}

// Proposed subsection test (docs/wire-format.md#qemu-unit-tests, not in QEMU): both vectors load
#[test]
fn subsection_load() {
    for ctx in [
        Context::new(),
        Context::new().with_duplicate_subsections(DuplicateSubsections::LoadEach),
    ] {
        let mut obj = SubOptional::default();
        let rest = expect_load_ok(&mut obj, &WIRE_SUB_A, 1, &ctx);
        assert_eq!(rest, [0x00]);
        assert_eq!(obj.a.loads, 1, "subsection loaded once");

        // The destination's `needed` is never consulted on load, and a
        // missing subsection is not an error.
        let mut obj = SubOptional {
            needed: true,
            ..Default::default()
        };
        let rest = expect_load_ok(&mut obj, &WIRE_SUB_NONE, 1, &ctx);
        assert_eq!(rest, [0x00]);
        assert_eq!(obj.a.loads, 0, "subsection not loaded");
    }
}

// Proposed subsection test (docs/wire-format.md#qemu-unit-tests, not in QEMU): duplicate subsection
#[test]
fn subsection_duplicate() {
    // Default policy (and the proposed patch): rejected.
    let mut obj = SubOptional::default();
    let err = expect_load_err(&mut obj, &WIRE_SUB_DUP, 1, &Context::new());
    match err.kind() {
        ErrorKind::DuplicateSubsection { name } => assert_eq!(*name, "sub/optional/a"),
        other => panic!("expected DuplicateSubsection, got {other:?} ({err})"),
    }
    // The second header starts at byte 20.
    assert_eq!(err.offset(), 20);

    // QEMU 7.2/10.2 semantics: loaded twice.
    let ctx = Context::new().with_duplicate_subsections(DuplicateSubsections::LoadEach);
    let mut obj = SubOptional::default();
    let rest = expect_load_ok(&mut obj, &WIRE_SUB_DUP, 1, &ctx);
    assert_eq!(rest, [0x00]);
    assert_eq!(obj.a.loads, 2, "subsection loaded once per copy");
}

// Proposed subsection test (docs/wire-format.md#qemu-unit-tests, not in QEMU): unknown subsection name
#[test]
fn subsection_unknown() {
    for ctx in [
        Context::new(),
        Context::new().with_duplicate_subsections(DuplicateSubsections::LoadEach),
    ] {
        let mut obj = SubOptional::default();
        let err = expect_load_err(&mut obj, &WIRE_SUB_UNKNOWN, 1, &ctx);
        match err.kind() {
            ErrorKind::UnknownSubsection { name } => assert_eq!(name, "sub/optional/b"),
            other => panic!("expected UnknownSubsection, got {other:?} ({err})"),
        }
    }
}

// Not in test-vmstate.c: a subsection's stream version is checked against
// the subsection's own VMSD (docs/wire-format.md#subsections).
#[test]
fn subsection_version_checks() {
    let mut wire = WIRE_SUB_A;
    wire[19] = 0x02; // be32 version 2 > sub/optional/a's version 1
    let mut obj = SubOptional::default();
    let err = expect_load_err(&mut obj, &wire, 1, &Context::new());
    match err.kind() {
        ErrorKind::VersionTooNew { vmsd, version, max } => {
            assert_eq!(*vmsd, "sub/optional/a");
            assert_eq!(*version, 2);
            assert_eq!(*max, 1);
        }
        other => panic!("expected VersionTooNew, got {other:?} ({err})"),
    }

    let mut wire = WIRE_SUB_A;
    wire[19] = 0x00; // be32 version 0 < sub/optional/a's minimum 1
    let mut obj = SubOptional::default();
    let err = expect_load_err(&mut obj, &wire, 1, &Context::new());
    match err.kind() {
        ErrorKind::VersionTooOld { vmsd, version, min } => {
            assert_eq!(*vmsd, "sub/optional/a");
            assert_eq!(*version, 0);
            assert_eq!(*min, 1);
        }
        other => panic!("expected VersionTooOld, got {other:?} ({err})"),
    }
}
