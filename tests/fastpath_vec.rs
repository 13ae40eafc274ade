//! The fixed-size fast path for a `Vec` of nested structs sized by a count
//! field (QEMU's `VMSTATE_STRUCT_VARRAY_*`): a load from a slice decodes
//! each step of elements with one length check and the subsection peeks
//! between them in one pass, and a save into a `Vec` encodes them with one
//! grow. Both must be invisible: the load from a slice and the load
//! through an io reader fed one byte per call (element by element) give
//! the same value or the same error at the same path and offset, and the
//! save into a `Vec` gives the bytes QEMU's encoding and an io sink give.

use vmstate_core::{Context, Reader, VmState, Writer};

#[path = "support/trickle.rs"]
mod trickle;
use trickle::Trickle;

/// 8 bytes: a size that divides 16 (boundary bytes scanned together).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fv/st", version = 1)]
struct St {
    up: u32,
    down: u32,
}

/// 7 bytes, with a bool (a strict context reads it element by element).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fv/odd", version = 1)]
struct Odd {
    a: u32,
    b: u16,
    on: bool,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fv", version = 1)]
struct Dev {
    n: u32,
    #[vmstate(count = n)]
    sts: Vec<St>,
    m: u16,
    #[vmstate(count = m)]
    odds: Vec<Odd>,
    tail: [u8; 16],
}

fn dev(n: usize, m: usize) -> Dev {
    Dev {
        n: n as u32,
        sts: (0..n as u32)
            .map(|i| St {
                // No marker byte where an element starts: the fast path
                // takes the whole step only then.
                up: 0x1000_0000 | i.wrapping_mul(0x0107),
                down: !i,
            })
            .collect(),
        m: m as u16,
        odds: (0..m as u32)
            .map(|i| Odd {
                a: i ^ 0x5a5a_0000,
                b: i as u16,
                on: i % 3 == 0,
            })
            .collect(),
        tail: [0x11; 16],
    }
}

/// QEMU's encoding, written out: be32 count, the elements' fields in
/// order, be16 count, the odd elements, the 16 tail bytes.
fn qemu_bytes(d: &Dev) -> Vec<u8> {
    let mut w = d.n.to_be_bytes().to_vec();
    for s in &d.sts {
        w.extend(s.up.to_be_bytes());
        w.extend(s.down.to_be_bytes());
    }
    w.extend(d.m.to_be_bytes());
    for o in &d.odds {
        w.extend(o.a.to_be_bytes());
        w.extend(o.b.to_be_bytes());
        w.push(o.on as u8);
    }
    w.extend(d.tail);
    w
}

/// The load from a slice and through a trickle, in the ordinary and the
/// strict-bool context: `Ok(value)` or the error's kind, path and offset.
fn loads(wire: &[u8]) -> Vec<Result<Dev, (String, String, u64)>> {
    let mut out = Vec::new();
    for ctx in [Context::new(), Context::new().with_strict_bool(true)] {
        for fast in [true, false] {
            let mut d = Dev::default();
            let res = if fast {
                d.load(&mut Reader::from_slice(wire), 1, &ctx)
            } else {
                d.load(&mut Reader::new(Trickle(wire)), 1, &ctx)
            };
            out.push(match res {
                Ok(()) => Ok(d),
                Err(e) => Err((format!("{:?}", e.kind()), e.path(), e.offset())),
            });
        }
    }
    out
}

/// The fast and the element-by-element load agree in each context; the
/// ordinary context's outcome.
fn all_alike(wire: &[u8], what: &str) -> Result<Dev, (String, String, u64)> {
    let mut got = loads(wire);
    // Values are compared by their bytes: a failure prints a line, not
    // twenty thousand elements.
    let short = |g: &Result<Dev, (String, String, u64)>| match g {
        Ok(d) => Ok(qemu_bytes(d)),
        Err(e) => Err(e.clone()),
    };
    for (a, b, ctx) in [(0, 1, "ordinary"), (2, 3, "strict")] {
        let (fast, slow) = (short(&got[a]), short(&got[b]));
        if fast != slow {
            let said = |g: &Result<Vec<u8>, _>| match g {
                Ok(bytes) => format!("Ok({} bytes)", bytes.len()),
                Err(e) => format!("{e:?}"),
            };
            panic!("{what}, {ctx}: {} against {}", said(&fast), said(&slow));
        }
    }
    got.swap_remove(0)
}

#[test]
fn saves_give_qemus_bytes_into_a_vec_and_through_an_io_sink() {
    let ctx = Context::new();
    for (n, m) in [(0, 0), (1, 1), (3, 70), (64, 2), (300, 300), (20_000, 9)] {
        let mut d = dev(n, m);
        let want = qemu_bytes(&d);
        assert_eq!(d.to_bytes(&ctx).unwrap(), want, "{n} {m}");
        let mut io = Vec::new();
        d.save(&mut Writer::from_write(&mut io), &ctx).unwrap();
        assert_eq!(io, want, "{n} {m}");
        assert_eq!(all_alike(&want, "round trip"), Ok(d));
    }
}

#[test]
fn a_count_that_disagrees_with_the_vec_still_fails_the_save() {
    let mut d = dev(5, 1);
    d.n = 6;
    let e = d.to_bytes(&Context::new()).unwrap_err();
    assert!(format!("{:?}", e.kind()).contains("LengthMismatch"), "{e}");
}

/// A header the element claims, at an element boundary, fails there as
/// element by element; one it does not claim is data; a marker inside an
/// element is data. 20,000 elements of 8 bytes take three steps of the
/// load, so the boundaries between steps are among those tried.
#[test]
fn markers_between_the_elements_of_a_counted_vec() {
    let n = 20_000;
    let base = qemu_bytes(&dev(n, 0));
    let step = 64 * 1024 / 8;
    let mut ks: Vec<usize> = (1..80).collect();
    for s in [step, 2 * step] {
        ks.extend([s - 1, s, s + 1]);
    }
    ks.push(n - 2);
    for k in ks {
        let at = 4 + 8 * k;
        for (header, claimed) in [(b"\x05\x07fv/st/x", true), (b"\x05\x07fv/sx/x", false)] {
            let mut wire = base.clone();
            wire[at..at + header.len()].copy_from_slice(header);
            match all_alike(&wire, &format!("element {k}")) {
                Err((kind, path, offset)) => {
                    assert!(claimed, "{k}: {kind} at {path}");
                    assert_eq!(offset, at as u64, "{k}");
                    assert!(kind.contains("UnknownSubsection"), "{kind}");
                    assert!(path.starts_with("fv/sts["), "{path}");
                }
                Ok(d) => {
                    assert!(!claimed, "{k}: the claimed header was read as data");
                    assert_eq!(qemu_bytes(&d), wire, "{k}");
                }
            }
        }
        let mut wire = base.clone();
        wire[at + 1..at + 10].copy_from_slice(b"\x05\x07fv/st/x");
        assert!(all_alike(&wire, "inside").is_ok(), "{k}");
    }
}

/// After the last element: the next field's bytes are what its peek sees.
#[test]
fn a_header_after_the_last_element_is_peeked() {
    let mut d = dev(100, 0);
    let len = qemu_bytes(&d).len();
    d.m = 0x0507;
    d.tail[..7].copy_from_slice(b"fv/st/x");
    let wire = qemu_bytes(&d);
    d.m = 0;
    let e = all_alike(&wire[..len], "after the vec").unwrap_err();
    assert_eq!(e.2, 4 + 800, "{e:?}");
    assert!(e.0.contains("UnknownSubsection"), "{e:?}");
}

/// Every truncation, and a change of every byte, load alike from a slice
/// and through the trickle (the odd elements' bools included).
#[test]
fn every_truncation_and_byte_change_loads_alike() {
    let wire = qemu_bytes(&dev(9, 10));
    for cut in 0..wire.len() {
        let e = all_alike(&wire[..cut], &format!("cut at {cut}"));
        assert!(e.is_err(), "{cut}");
    }
    for i in 0..wire.len() {
        for v in [0x00, 0x02, 0x05, 0xff] {
            let mut w = wire.clone();
            w[i] = v;
            let _ = all_alike(&w, &format!("byte {i} = {v:#x}"));
        }
    }
}
