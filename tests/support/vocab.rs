//! Helpers shared by the `vocab_*` tests.
#![allow(dead_code)]

use std::fmt::Debug;

use vmstate_core::{Context, Error, Field, Reader, Segment, VmState};

pub fn ctx() -> Context {
    Context::new()
}

pub fn save<T: VmState>(v: &mut T) -> Vec<u8> {
    v.to_bytes(&ctx()).unwrap()
}

/// Loads `wire` at `version` (transactionally) and expects every byte to
/// be consumed.
pub fn load_all<T: VmState + Clone>(v: &mut T, wire: &[u8], version: u32) {
    let mut r = Reader::from_slice(wire);
    v.load(&mut r, version, &ctx()).unwrap();
    assert_eq!(r.remaining(), &[] as &[u8], "bytes left after the load");
}

/// Loads `wire` at `version` with `ctx` and expects an error; a failed
/// load must leave the destination exactly as it was.
pub fn load_err<T: VmState + Clone + PartialEq + Debug>(
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

pub fn field<T: VmState>(name: &str) -> &'static Field {
    T::VMSD
        .fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name} in {}", T::VMSD.name))
}

/// The innermost field segment of an error's path.
pub fn innermost_field(e: &Error) -> Option<&'static str> {
    e.segments()
        .filter_map(|s| match s {
            Segment::Field(n) => Some(*n),
            _ => None,
        })
        .last()
}
