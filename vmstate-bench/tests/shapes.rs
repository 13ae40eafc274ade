//! The third bench device (`shapes`) and its tight hand-written code
//! (`benches/common/tight_shapes.rs`): the same bytes from both saves and
//! the same value from every load (`same_bytes_shapes`, which the bench
//! runs too), and on every truncation and on a changed check field both
//! loaders accept or refuse alike (a baseline that skipped a check would
//! flatter it).

#[path = "../benches/common/mod.rs"]
mod common;

use common::{same_bytes_shapes, tight_shapes};
use vmstate_bench::shapes::{Shapes, NUM_DESC, NUM_SLOTS, PAYLOAD_LEN, VERSION};
use vmstate_core::{Context, Reader, VmState};

/// Both loads of `wire`: `Ok(bytes left)` with equal values, or both `Err`.
fn agree(wire: &[u8], what: &str) -> bool {
    let ctx = Context::new();
    let mut derived = Shapes::default();
    let mut r = Reader::from_slice(wire);
    let d = derived
        .load_state_in_place(&mut r, VERSION, &ctx)
        .map(|()| r.remaining().len());
    let mut hand = Shapes::default();
    let mut rest = wire;
    let h = tight_shapes::load_shapes(&mut hand, &mut rest, VERSION).map(|()| rest.len());
    assert_eq!(d.is_ok(), h.is_ok(), "{what}: {d:?} / {h:?}");
    let ok = d.is_ok();
    if let (Ok(d_left), Ok(h_left)) = (d, h) {
        assert!(hand == derived && h_left == d_left, "{what}");
    }
    ok
}

#[test]
fn both_saves_and_all_loads_agree_on_the_sample() {
    let mut dev = Shapes::sample();
    let bytes = same_bytes_shapes(&mut dev, &Context::new());
    assert_eq!(bytes.len(), PAYLOAD_LEN);
    // The slots that start with a marker byte are there, at boundaries.
    let slots = 4 + NUM_DESC * 12 + 2;
    let marked = (0..NUM_SLOTS)
        .filter(|i| bytes[slots + 8 * i] == 0x05)
        .count();
    assert_eq!(marked, NUM_SLOTS / 16);
}

#[test]
fn truncations_and_checks_are_refused_by_both() {
    let bytes = Shapes::sample().to_bytes(&Context::new()).unwrap();
    for cut in 0..bytes.len() {
        // Subsections are optional: a cut right before a queue's event
        // loads (both keep the destination's event).
        let _ = agree(&bytes[..cut], &format!("cut at {cut}"));
    }
    // ncpus (equal), then mtu (68 ..= 65535).
    let ncpus = 4 + NUM_DESC * 12 + 2 + NUM_SLOTS * 8 + 4;
    let mut w = bytes.clone();
    w[ncpus + 3] = 5;
    assert!(!agree(&w, "ncpus"));
    let mtu = PAYLOAD_LEN - 48 - 4;
    for (v, ok) in [(67u32, false), (68, true), (65535, true), (65536, false)] {
        let mut w = bytes.clone();
        w[mtu..mtu + 4].copy_from_slice(&v.to_be_bytes());
        assert_eq!(agree(&w, &format!("mtu {v}")), ok);
    }
}
