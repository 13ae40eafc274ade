//! QEMU's test-vmstate.c vectors for pointer arrays, QTAILQ, GTREE, QLIST
//! and WITH_TMP (docs/wire-format.md#qemu-unit-tests). Bytes are typed in from QEMU's vectors.
//!
//! The test types and vectors live in `tests/support/qemu_vectors.rs`
//! (shared with `tests/sweeps.rs`).

#[path = "support/qemu_vectors.rs"]
mod qvec;

use std::collections::{BTreeMap, VecDeque};

use qvec::{
    Arpp, Arps, Domain, Interval, Iommu, Mapping, QElem, QListContainer, QListElem, TestQtailq,
    TestStructTriv, WithTmp, FIRST_DOMAIN_DUMP, IOMMU_DUMP, QLIST_DUMP, WIRE_ARR_PTR_0,
    WIRE_ARR_PTR_NO0, WIRE_Q, WIRE_WITH_TMP,
};
use vmstate_core::{Context, ErrorKind, Reader, VmState};

fn ctx() -> Context {
    Context::new()
}

/// Saves and appends QEMU's harness EOF byte.
fn save_eof<T: VmState>(v: &mut T) -> Vec<u8> {
    let mut b = v.to_bytes(&ctx()).unwrap();
    b.push(0);
    b
}

/// Loads at version 1 and returns the bytes left.
fn load<'a, T: VmState + Clone>(v: &mut T, wire: &'a [u8]) -> vmstate_core::Result<&'a [u8]> {
    let mut r = Reader::from_slice(wire);
    v.load(&mut r, 1, &ctx())?;
    Ok(r.remaining())
}

/// Every strict prefix of a payload (the vector without its EOF byte)
/// must fail and change nothing.
fn prefixes_fail<T: VmState + Clone + PartialEq + std::fmt::Debug>(obj: &T, wire: &[u8]) {
    let payload = &wire[..wire.len() - 1];
    for k in 0..payload.len() {
        let mut o = obj.clone();
        assert!(
            load(&mut o, &payload[..k]).is_err(),
            "prefix of {k} bytes should fail"
        );
        assert_eq!(&o, obj);
    }
}

/// QEMU's truncation cases (docs/wire-format.md#qemu-unit-tests): each must fail and change nothing.
fn truncations_fail<T: VmState + Clone + PartialEq + std::fmt::Debug>(obj: &T, wire: &[u8]) {
    let n = wire.len();
    let mut cases = vec![&wire[..0]];
    if n > 3 {
        cases.extend([&wire[..n - 2], &wire[..n / 2], &wire[n / 2..n / 2 + n / 2]]);
    }
    for case in cases {
        let mut o = obj.clone();
        assert!(load(&mut o, case).is_err(), "{case:02x?} should fail");
        assert_eq!(&o, obj);
    }
}

// ---- 4.6 arrays of pointers -------------------------------------------

fn triv(i: i32) -> Option<Box<TestStructTriv>> {
    Some(Box::new(TestStructTriv { i }))
}

#[test]
fn array_ptr_str_no0() {
    let mut a = Arps {
        ar: [triv(0), triv(1), triv(2), triv(3)],
    };
    assert_eq!(save_eof(&mut a), WIRE_ARR_PTR_NO0);
    let mut b = Arps {
        ar: [triv(0), triv(0), triv(0), triv(0)],
    };
    assert_eq!(load(&mut b, &WIRE_ARR_PTR_NO0).unwrap(), [0]);
    assert_eq!(b, a);
    assert_eq!(Arps::VMSD.fields[0].info, "struct");
    assert_eq!(Arps::VMSD.fields[0].array_len, Some(4));
}

#[test]
fn array_ptr_str_0() {
    let mut a = Arps {
        ar: [triv(0), None, triv(2), triv(3)],
    };
    assert_eq!(save_eof(&mut a), WIRE_ARR_PTR_0);
    let mut b = Arps {
        ar: [triv(0), None, triv(0), triv(0)],
    };
    assert_eq!(load(&mut b, &WIRE_ARR_PTR_0).unwrap(), [0]);
    assert_eq!(b.ar, [triv(0), None, triv(2), triv(3)]);
    // The destination expects a null where the source sent data: error.
    let mut c = Arps {
        ar: [triv(0), None, triv(0), triv(0)],
    };
    let e = load(&mut c, &WIRE_ARR_PTR_NO0).unwrap_err();
    assert_eq!(e.path(), "test/arps/ar[1]");
    assert_eq!(e.offset(), 4);
    truncations_fail(&b, &WIRE_ARR_PTR_0);
    prefixes_fail(&b, &WIRE_ARR_PTR_0);
}

#[test]
fn array_ptr_prim_0() {
    let mut a = Arpp {
        ar: [Some(0), None, Some(2), Some(3)],
    };
    assert_eq!(save_eof(&mut a), WIRE_ARR_PTR_0);
    let mut b = Arpp {
        ar: [Some(3), None, Some(1), Some(0)],
    };
    load(&mut b, &WIRE_ARR_PTR_0).unwrap();
    assert_eq!(b.ar, [Some(0), None, Some(2), Some(3)]);
    assert_eq!(Arpp::VMSD.fields[0].info, "int32");
}

// ---- 4.7 QTAILQ ------------------------------------------------------------

#[test]
fn qtailq() {
    let mut q = TestQtailq {
        i16: -512,
        q: VecDeque::from([QElem { b: true, u8: 130 }, QElem { b: false, u8: 65 }]),
        i32: 70000,
    };
    assert_eq!(save_eof(&mut q), WIRE_Q);
    let mut dst = TestQtailq::default();
    assert_eq!(load(&mut dst, &WIRE_Q).unwrap(), [0]);
    assert_eq!(dst, q);
    let f = &TestQtailq::VMSD.fields[1];
    assert_eq!(
        (f.info, f.vmsd.map(|v| v.name)),
        ("qtailq", Some("test/queue-element"))
    );
    prefixes_fail(&dst, &WIRE_Q);
    // A marker other than 00/01: an element follows, as in QEMU's
    // get_qtailq; with strict markers, an error naming the element.
    let mut odd = WIRE_Q;
    odd[5] = 2;
    let mut lenient = TestQtailq::default();
    assert_eq!(load(&mut lenient, &odd).unwrap(), [0]);
    assert_eq!(lenient, q);
    let strict = ctx().with_strict_markers(true);
    let e = dst
        .load(&mut Reader::from_slice(&odd), 1, &strict)
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Malformed { .. }), "{e}");
    assert_eq!(e.path(), "test/queue/q[1]");
}

// ---- 4.9 QLIST -----------------------------------------------------------

#[test]
fn qlist() {
    let mut c = QListContainer {
        id: 1,
        list: [0x0a, 0x0b00, 0xc0000, 0xd000000]
            .into_iter()
            .map(|id| QListElem { id })
            .collect(),
    };
    assert_eq!(save_eof(&mut c), QLIST_DUMP);
    let mut d = QListContainer::default();
    assert_eq!(load(&mut d, &QLIST_DUMP).unwrap(), [0]);
    assert_eq!(d, c);
    assert_eq!(QListContainer::VMSD.fields[1].info, "qlist");
    prefixes_fail(&d, &QLIST_DUMP);
}

// ---- 4.8 GTREE -----------------------------------------------------------

fn first_domain() -> Domain {
    Domain {
        id: 6,
        mappings: BTreeMap::from([
            (
                Interval {
                    low: 0x1000,
                    high: 0x1fff,
                },
                Mapping {
                    phys_addr: 0xa000,
                    flags: 1,
                },
            ),
            (
                Interval {
                    low: 0x4000,
                    high: 0x4fff,
                },
                Mapping {
                    phys_addr: 0xe0000,
                    flags: 2,
                },
            ),
        ]),
    }
}

#[test]
fn gtree_domain() {
    let mut d = first_domain();
    assert_eq!(save_eof(&mut d), FIRST_DOMAIN_DUMP);
    let mut back = Domain::default();
    assert_eq!(load(&mut back, &FIRST_DOMAIN_DUMP).unwrap(), [0]);
    assert_eq!(back, d);
    prefixes_fail(&back, &FIRST_DOMAIN_DUMP);
    // A node count that disagrees with the nodes: QEMU's two errors.
    for nnodes in [1u8, 3] {
        let mut bad = FIRST_DOMAIN_DUMP;
        bad[7] = nnodes;
        let e = load(&mut back, &bad).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Malformed { .. }), "{e}");
        assert_eq!(back, d);
    }
}

#[test]
fn gtree_iommu() {
    let mut five = Domain {
        id: 5,
        mappings: BTreeMap::from([(
            Interval {
                low: 0x100_0000,
                high: 0x1ff_ffff,
            },
            Mapping {
                phys_addr: 0xf00_0000,
                flags: 3,
            },
        )]),
    };
    let mut iommu = Iommu {
        id: 7,
        domains: BTreeMap::from([(5, five.clone()), (6, first_domain())]),
    };
    assert_eq!(save_eof(&mut iommu), IOMMU_DUMP);
    let mut back = Iommu::default();
    assert_eq!(load(&mut back, &IOMMU_DUMP).unwrap(), [0]);
    assert_eq!(back, iommu);
    five.id = 0;
    prefixes_fail(&back, &IOMMU_DUMP);
}

// ---- 4.10 tmp_struct ------------------------------------------------------

#[test]
fn tmp_struct() {
    let mut v = WithTmp {
        a: 2,
        b: 4,
        d: 1,
        f: 8,
        _tmp: (),
    };
    assert_eq!(save_eof(&mut v), WIRE_WITH_TMP);
    let mut back = WithTmp::default();
    assert_eq!(load(&mut back, &WIRE_WITH_TMP).unwrap(), [0]);
    assert_eq!(back, v);
    let f = &WithTmp::VMSD.fields[2];
    assert_eq!(
        (f.name, f.info, f.vmsd.map(|v| v.name)),
        ("tmp", "tmp", Some("test/tmp_child"))
    );
    truncations_fail(&WithTmp::default(), &WIRE_WITH_TMP);
}

/// A counted array of pointer slots whose nulls take one byte each: the
/// up-front length check counts a null slot as one byte, not as a value.
#[test]
fn counted_pointer_slots_with_nulls_load() {
    #[derive(VmState, Clone, Debug, Default, PartialEq)]
    #[vmstate(name = "slots", version = 1)]
    struct Slots {
        n: u8,
        #[vmstate(count = n)]
        ar: [Option<u64>; 4],
    }
    // Three slots, all null on both sides: 1 + 3 marker bytes, far fewer
    // than 3 * 8.
    let wire = [3, 0x30, 0x30, 0x30];
    let mut s = Slots::default();
    s.load(&mut Reader::from_slice(&wire), 1, &ctx()).unwrap();
    assert_eq!(s.n, 3);
    assert_eq!(s.to_bytes(&ctx()).unwrap(), wire);
    // Too few bytes even for markers still fails up front.
    let e = Slots::default()
        .load(&mut Reader::from_slice(&[3, 0x30]), 1, &ctx())
        .unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::UnexpectedEof {
                needed: 3,
                available: 1
            }
        ),
        "{e}"
    );
}
