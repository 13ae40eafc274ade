//! QEMU's VMState unit-test vectors (`tests/unit/test-vmstate.c`, spec
//! 4.2-4.11): the test types and their golden wire bytes, shared by
//! `tests/qemu_vectors.rs`, `tests/qemu_vectors_ext.rs` and
//! `tests/sweeps.rs` (each includes this file with `#[path]`).
//!
//! Every byte string is typed in from the hex vectors in the spec; none is
//! produced by this crate. Vectors whose name says "EOF" end with the
//! `QEMU_VM_EOF` byte (`00`) that QEMU's `save_vmstate` harness appends.
//!
//! Kept out of `tests/support/mod.rs` on purpose: that module is also
//! included by `vmstate-qemu/tests/common`.

// Each test binary that includes this module uses only some items.
#![allow(dead_code)]

use std::collections::{BTreeMap, LinkedList, VecDeque};
use std::convert::Infallible;

use vmstate_core::codec::VmTmp;
use vmstate_core::error::BoxError;
use vmstate_core::VmState;

// ---------------------------------------------------------------------------
// /vmstate/simple/primitive
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "simple/primitive", version = 1, minimum_version = 1)]
pub struct TestSimple {
    pub b_1: bool,
    pub b_2: bool,
    pub u8_1: u8,
    pub u16_1: u16,
    pub u32_1: u32,
    pub u64_1: u64,
    pub i8_1: i8,
    pub i8_2: i8,
    pub i16_1: i16,
    pub i16_2: i16,
    pub i32_1: i32,
    pub i32_2: i32,
    pub i64_1: i64,
    pub i64_2: i64,
}

/// `wire_simple_primitive`, 48 bytes including the trailing EOF.
pub const WIRE_SIMPLE_PRIMITIVE: [u8; 48] = [
    0x01, 0x00, 0x82, 0x02, 0x00, 0x00, 0x01, 0x11, 0x70, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb8, 0xf4,
    0x7c, 0x41, 0xbf, 0x02, 0x00, 0xfe, 0x00, 0x00, 0x01, 0x11, 0x70, 0xff, 0xfe, 0xee, 0x90, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xb8, 0xf4, 0x7c, 0xff, 0xff, 0xff, 0xff, 0xff, 0x47, 0x0b, 0x84, 0x00,
];

// ---------------------------------------------------------------------------
// /vmstate/simple/array
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "simple/array", version = 1, minimum_version = 1)]
pub struct TestArray {
    pub u16_1: [u16; 3],
}

pub const WIRE_SIMPLE_ARRAY: [u8; 7] = [0x00, 0x42, 0x00, 0x43, 0x00, 0x44, 0x00];

// ---------------------------------------------------------------------------
// /vmstate/versioned/load/v1, /v2
// ---------------------------------------------------------------------------

/// `TestStruct` with `vmstate_versioned`.
#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "test/versioned", version = 2, minimum_version = 1)]
pub struct TestVersioned {
    pub a: u32,
    #[vmstate(version = 2)]
    pub b: u32,
    pub c: u32,
    pub d: u64,
    #[vmstate(version = 2)]
    pub e: u32,
    #[vmstate(version = 2)]
    pub f: u64,
    #[vmstate(skip)]
    pub skip_c_e: bool,
}

pub const WIRE_VERSIONED_V1: [u8; 17] = [
    0x00, 0x00, 0x00, 0x0a, // a
    0x00, 0x00, 0x00, 0x1e, // c
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, // d
    0x00, // EOF
];

pub const WIRE_VERSIONED_V2: [u8; 33] = [
    0x00, 0x00, 0x00, 0x0a, // a
    0x00, 0x00, 0x00, 0x14, // b
    0x00, 0x00, 0x00, 0x1e, // c
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, // d
    0x00, 0x00, 0x00, 0x32, // e
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3c, // f
    0x00, // EOF
];

// ---------------------------------------------------------------------------
// /vmstate/field_exists/*
// ---------------------------------------------------------------------------

/// `TestStruct` with `vmstate_skipping`.
#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "test/skip", version = 2, minimum_version = 1)]
pub struct TestSkipping {
    pub a: u32,
    pub b: u32,
    #[vmstate(exists = Self::test_skip)]
    pub c: u32,
    pub d: u64,
    #[vmstate(exists = Self::test_skip)]
    pub e: u32,
    #[vmstate(version = 2)]
    pub f: u64,
    #[vmstate(skip)]
    pub skip_c_e: bool,
}

impl TestSkipping {
    /// `test_skip`: the field exists unless `skip_c_e` is set.
    fn test_skip(&self, _version: u32) -> bool {
        !self.skip_c_e
    }
}

/// `/vmstate/field_exists/load/skip`: `c` and `e` absent, then EOF.
pub const WIRE_FIELD_EXISTS_LOAD_SKIP: [u8; 25] = [
    0x00, 0x00, 0x00, 0x0a, // a
    0x00, 0x00, 0x00, 0x14, // b
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, // d
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3c, // f
    0x00, // EOF
];

// ---------------------------------------------------------------------------
// Subsections: proposed upstream vectors (docs/wire-format.md#qemu-unit-tests, not merged in QEMU)
// ---------------------------------------------------------------------------

/// `"sub/optional/a"`: no wire fields. `loads` counts `post_load` calls so
/// the tests can see how often the subsection was loaded.
#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(
    name = "sub/optional/a",
    version = 1,
    minimum_version = 1,
    post_load = Self::post_load
)]
pub struct SubOptionalA {
    #[vmstate(skip)]
    pub loads: u32,
}

impl SubOptionalA {
    fn post_load(&mut self, _version: u32) -> Result<(), Infallible> {
        self.loads += 1;
        Ok(())
    }
}

/// `"sub/optional"`: no wire fields, one subsection whose `needed` the test
/// controls.
#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "sub/optional", version = 1, minimum_version = 1)]
pub struct SubOptional {
    #[vmstate(skip)]
    pub needed: bool,
    #[vmstate(subsection, needed = Self::a_needed)]
    pub a: SubOptionalA,
}

impl SubOptional {
    fn a_needed(&self) -> bool {
        self.needed
    }
}

/// needed=true: `05`, len 14, "sub/optional/a", be32 1, then EOF.
pub const WIRE_SUB_A: [u8; 21] = [
    0x05, 0x0e, b's', b'u', b'b', b'/', b'o', b'p', b't', b'i', b'o', b'n', b'a', b'l', b'/', b'a',
    0x00, 0x00, 0x00, 0x01, // version
    0x00, // EOF
];

/// The subsection twice, then EOF.
pub const WIRE_SUB_DUP: [u8; 41] = [
    0x05, 0x0e, b's', b'u', b'b', b'/', b'o', b'p', b't', b'i', b'o', b'n', b'a', b'l', b'/', b'a',
    0x00, 0x00, 0x00, 0x01, // version
    0x05, 0x0e, b's', b'u', b'b', b'/', b'o', b'p', b't', b'i', b'o', b'n', b'a', b'l', b'/', b'a',
    0x00, 0x00, 0x00, 0x01, // version
    0x00, // EOF
];

// ---------------------------------------------------------------------------
// 4.6 arrays of pointers
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "test/tst", version = 1, minimum_version = 1)]
pub struct TestStructTriv {
    pub i: i32,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "test/arps", version = 1, minimum_version = 1)]
pub struct Arps {
    pub ar: [Option<Box<TestStructTriv>>; 4],
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "test/arps", version = 1, minimum_version = 1)]
pub struct Arpp {
    pub ar: [Option<i32>; 4],
}

pub const WIRE_ARR_PTR_NO0: [u8; 17] = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0];
pub const WIRE_ARR_PTR_0: [u8; 14] = [0, 0, 0, 0, 0x30, 0, 0, 0, 2, 0, 0, 0, 3, 0];

// ---------------------------------------------------------------------------
// 4.7 QTAILQ
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "test/queue-element", version = 1, minimum_version = 1)]
pub struct QElem {
    pub b: bool,
    pub u8: u8,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "test/queue", version = 1, minimum_version = 1)]
pub struct TestQtailq {
    pub i16: i16,
    #[vmstate(qtailq, version = 1)]
    pub q: VecDeque<QElem>,
    pub i32: i32,
}

pub const WIRE_Q: [u8; 14] = [0xfe, 0x00, 1, 1, 0x82, 1, 0, 0x41, 0, 0, 1, 0x11, 0x70, 0];

// ---------------------------------------------------------------------------
// 4.8 GTREE
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq, Eq)]
#[vmstate(name = "interval", version = 1, minimum_version = 1)]
pub struct Interval {
    pub low: u64,
    pub high: u64,
}

/// QEMU's interval compare: disjoint ranges ordered by position, overlap
/// = equal. Not a total order on hostile keys (`low > high`): see
/// `f2_gtree_key_with_inconsistent_order_is_contained` in tests/sweeps.rs.
impl Ord for Interval {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        if self.high < o.low {
            std::cmp::Ordering::Less
        } else if o.high < self.low {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    }
}

impl PartialOrd for Interval {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "mapping", version = 1, minimum_version = 1)]
pub struct Mapping {
    pub phys_addr: u64,
    pub flags: u32,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "domain", version = 1, minimum_version = 1)]
pub struct Domain {
    pub id: i32,
    #[vmstate(gtree, version = 1)]
    pub mappings: BTreeMap<Interval, Mapping>,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "iommu", version = 1, minimum_version = 1)]
pub struct Iommu {
    pub id: i32,
    #[vmstate(gtree, version = 1)]
    pub domains: BTreeMap<u64, Domain>,
}

pub const FIRST_DOMAIN_DUMP: [u8; 68] = [
    0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x4f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x00, 0x00,
];

pub const IOMMU_DUMP: [u8; 133] = [
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x05, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06,
    0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x4f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x00,
];

// ---------------------------------------------------------------------------
// 4.9 QLIST
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "test/queue list", version = 1, minimum_version = 1)]
pub struct QListElem {
    pub id: u32,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "test/container/qlist", version = 1, minimum_version = 1)]
pub struct QListContainer {
    pub id: u32,
    #[vmstate(qlist, version = 1)]
    pub list: LinkedList<QListElem>,
}

pub const QLIST_DUMP: [u8; 26] = [
    0, 0, 0, 1, 1, 0, 0, 0, 0x0a, 1, 0, 0, 0x0b, 0, 1, 0, 0x0c, 0, 0, 1, 0x0d, 0, 0, 0, 0, 0,
];

// ---------------------------------------------------------------------------
// 4.10 tmp_struct
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "test/tmp_child_parent", version = 0)]
pub struct TmpBackToParent {
    pub f: u64,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "test/tmp_child", version = 0)]
pub struct TmpChild {
    pub diff: i64,
    pub parent: TmpBackToParent,
}

impl VmTmp<WithTmp> for TmpChild {
    fn fill_from_parent(&mut self, p: &WithTmp) -> Result<(), BoxError> {
        self.diff = p.b as i64 - p.a as i64;
        self.parent.f = p.f;
        Ok(())
    }
    fn apply_to_parent(&mut self, p: &mut WithTmp) -> Result<(), BoxError> {
        // Wrapping: `diff` comes from the stream, and a hook must not panic
        // on stream data.
        p.b = (p.a as i64).wrapping_add(self.diff) as u32;
        p.f = self.parent.f;
        Ok(())
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "test/with_tmp", version = 1, minimum_version = 0)]
pub struct WithTmp {
    pub a: u32,
    pub d: u64,
    #[vmstate(tmp = TmpChild)]
    pub _tmp: (),
    #[vmstate(skip)]
    pub b: u32,
    #[vmstate(skip)]
    pub f: u64,
}

pub const WIRE_WITH_TMP: [u8; 29] = [
    0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 8, 0,
];
