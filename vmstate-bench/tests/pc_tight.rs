//! The tight hand-written code of the `pc_hand` bench
//! (`benches/common/pc_tight/`) against the derived code, for every FULL
//! section of pc.mig: the same loaded value and the fixture's bytes back
//! from every save; and on every truncation of each payload, both loaders
//! accept or refuse it alike (a baseline that skipped a check would
//! flatter it), consuming the same bytes when they accept.

#[path = "../benches/common/mod.rs"]
mod common;

use common::pc_tight::{self, checked, Hand, Visit};
use vmstate_core::{Context, Reader};

struct Agree(usize);

impl Visit for Agree {
    fn visit<T: Hand>(&mut self, label: &str, idstr: &str, instance: u32) {
        let (version, bytes, _) = checked::<T>(label, idstr, instance);
        let ctx = Context::new();
        for cut in 0..bytes.len() {
            let prefix = &bytes[..cut];
            let mut derived = T::default();
            let mut r = Reader::from_slice(prefix);
            let d = derived
                .load_state_in_place(&mut r, version, &ctx)
                .map(|()| r.remaining().len());
            let mut hand = T::default();
            let mut rest = prefix;
            let h = hand.tight_load(&mut rest, version).map(|()| rest.len());
            assert_eq!(d.is_ok(), h.is_ok(), "{label} cut at {cut}: {d:?} / {h:?}");
            if let (Ok(d_left), Ok(h_left)) = (d, h) {
                assert_eq!((&hand, h_left), (&derived, d_left), "{label} cut at {cut}");
            }
        }
        self.0 += 1;
    }
}

#[test]
fn every_pc_section_agrees_with_the_derived_code() {
    let mut v = Agree(0);
    pc_tight::for_each(&mut v);
    assert_eq!(v.0, 30);
}

#[test]
fn a_wrong_version_is_refused_by_both() {
    struct Versions;
    impl Visit for Versions {
        fn visit<T: Hand>(&mut self, label: &str, idstr: &str, instance: u32) {
            let (version, bytes, _) = checked::<T>(label, idstr, instance);
            let ctx = Context::new();
            for v in [version + 1, 99] {
                let mut derived = T::default();
                let d = derived.load_state_in_place(&mut Reader::from_slice(&bytes), v, &ctx);
                let mut hand = T::default();
                let h = hand.tight_load(&mut &bytes[..], v);
                assert!(d.is_err() && h.is_err(), "{label} at version {v}");
            }
        }
    }
    pc_tight::for_each(&mut Versions);
}
