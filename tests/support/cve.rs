//! The harness of the `cve_*` tests: a hand-built big-endian stream
//! ([`Wire`]) and checks that a hostile load fails the same way through
//! both readers, changes nothing and never panics.
#![allow(dead_code)]

use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};

use vmstate_core::{Context, Error, ErrorKind, Reader, VmState};

/// A hand-built big-endian stream.
#[derive(Default)]
pub struct Wire(Vec<u8>);

impl Wire {
    pub fn new() -> Self {
        Wire(Vec::new())
    }
    pub fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    pub fn u16(mut self, v: u16) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    pub fn u32(mut self, v: u32) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    pub fn i32(self, v: i32) -> Self {
        self.u32(v as u32)
    }
    pub fn u64(mut self, v: u64) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    pub fn i64(self, v: i64) -> Self {
        self.u64(v as u64)
    }
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    pub fn zeros(mut self, n: usize) -> Self {
        self.0.resize(self.0.len() + n, 0);
        self
    }
    /// The offset of the next byte.
    pub fn at(&self) -> u64 {
        self.0.len() as u64
    }
    pub fn done(self) -> Vec<u8> {
        self.0
    }
}

/// Loads `wire` into a clone of `dst` through both readers and expects a
/// clean failure: no panic, the same error both ways, `dst` unchanged.
pub fn hostile<T>(dst: &T, wire: &[u8], version: u32, ctx: &Context) -> Error
where
    T: VmState + Clone + PartialEq + Debug,
{
    let run = |io: bool| {
        let mut d = dst.clone();
        let res = catch_unwind(AssertUnwindSafe(|| {
            if io {
                d.load(&mut Reader::new(wire), version, ctx)
            } else {
                d.load(&mut Reader::from_slice(wire), version, ctx)
            }
        }));
        match res {
            Err(_) => panic!(
                "load panicked (io reader: {io}) on {} bytes: {wire:02x?}",
                wire.len()
            ),
            Ok(Ok(())) => panic!(
                "hostile stream loaded (io reader: {io}): {} bytes {:02x?}",
                wire.len(),
                &wire[..wire.len().min(64)]
            ),
            Ok(Err(e)) => {
                assert!(d == *dst, "failed load changed the destination ({e})");
                e
            }
        }
    };
    let e = run(false);
    let io = run(true);
    assert_eq!(
        (format!("{:?}", io.kind()), io.offset(), io.path()),
        (format!("{:?}", e.kind()), e.offset(), e.path()),
        "slice and io readers disagree"
    );
    e
}

/// Loads `wire` and expects success; returns the loaded value.
pub fn loads<T: VmState + Clone + Debug>(dst: &T, wire: &[u8], version: u32, ctx: &Context) -> T {
    let mut d = dst.clone();
    let mut r = Reader::from_slice(wire);
    d.load(&mut r, version, ctx)
        .unwrap_or_else(|e| panic!("load failed: {e}"));
    assert!(
        r.remaining().is_empty(),
        "{} bytes left",
        r.remaining().len()
    );
    d
}

pub fn assert_out_of_range(e: &Error, found: i128, min: i128, max: i128, path: &str, offset: u64) {
    match e.kind() {
        ErrorKind::OutOfRange {
            found: f,
            min: lo,
            max: hi,
        } => assert_eq!((*f, *lo, *hi), (found, min, max), "{e}"),
        other => panic!("expected OutOfRange, got {other:?} ({e})"),
    }
    assert_eq!(e.path(), path, "{e}");
    assert_eq!(e.offset(), offset, "{e}");
}

pub fn assert_invalid(e: &Error, message: &str, path: &str, offset: u64) {
    match e.kind() {
        ErrorKind::Invalid { message: m } => assert_eq!(*m, message, "{e}"),
        other => panic!("expected Invalid, got {other:?} ({e})"),
    }
    assert_eq!(e.path(), path, "{e}");
    assert_eq!(e.offset(), offset, "{e}");
}

/// A count or size that does not fit its destination: `LengthOutOfRange`
/// at the offset of the array it sizes, named by the array's path
/// (`hpet/timers`).
pub fn assert_length(
    e: &Error,
    field: &str,
    found: i128,
    multiply: u32,
    max: u64,
    array_path: &str,
    offset: u64,
) {
    match e.kind() {
        ErrorKind::LengthOutOfRange {
            field: f,
            found: n,
            multiply: m,
            max: cap,
        } => assert_eq!((*f, *n, *m, *cap), (field, found, multiply, max), "{e}"),
        other => panic!("expected LengthOutOfRange, got {other:?} ({e})"),
    }
    assert_eq!(e.path(), array_path, "{e}");
    assert_eq!(e.offset(), offset, "{e}");
}

pub fn assert_eof(e: &Error, path: &str, offset: u64) {
    assert!(
        matches!(e.kind(), ErrorKind::UnexpectedEof { .. }),
        "expected UnexpectedEof, got {e}"
    );
    assert_eq!(e.path(), path, "{e}");
    assert_eq!(e.offset(), offset, "{e}");
}

pub fn ctx() -> Context {
    Context::new()
}
