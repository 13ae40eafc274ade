//! The fourth bench device (`fifo`) and its tight hand-written code
//! (`benches/common/tight_fifo.rs`): the same bytes from every save and
//! the same value from every load (`same_bytes_fifo`, which the bench
//! runs too), the layout its module documents, and on every truncation
//! both loaders refuse alike.

#[path = "../benches/common/mod.rs"]
mod common;

use common::{same_bytes_fifo, tight_fifo};
use vmstate_bench::fifo::{Fifo, PAYLOAD_LEN, VERSION};
use vmstate_core::{Context, Reader, VmState};

#[test]
fn every_save_and_load_agree_on_the_sample() {
    let mut dev = Fifo::sample();
    let bytes = same_bytes_fifo(&mut dev, &Context::new());
    assert_eq!(bytes.len(), PAYLOAD_LEN);
    // The layout of the module's table: regs, head, tail, data, ctrl,
    // status, irq.
    assert_eq!(bytes[..4], dev.regs[0].to_be_bytes());
    assert_eq!(bytes[32..36], [0, 17, 0x01, 0x2d]);
    assert_eq!(bytes[36..548], dev.data);
    assert_eq!(bytes[548..], [0x80, 0, 0, 1, 0, 0, 0, 0xc3, 1]);
}

#[test]
fn truncations_are_refused_by_both() {
    let ctx = Context::new();
    let bytes = Fifo::sample().to_bytes(&ctx).unwrap();
    for cut in 0..bytes.len() {
        let mut derived = Fifo::default();
        let mut r = Reader::from_slice(&bytes[..cut]);
        assert!(derived.load(&mut r, VERSION, &ctx).is_err(), "cut at {cut}");
        assert_eq!(derived, Fifo::default(), "cut at {cut}: unchanged");
        let mut hand = Fifo::default();
        let mut rest = &bytes[..cut];
        assert!(tight_fifo::load_fifo(&mut hand, &mut rest, VERSION).is_err());
    }
}
