//! The mirrors added for QEMU 10.0 and q35 under hostile input: every
//! truncation and byte flips all over QEMU's payloads load to `Ok` or a
//! clean `Err` (never a panic), never read past the input, and a failed
//! load leaves the destination as it was.

mod common;

use common::sections;
use vmstate_core::Context;
use vmstate_qemu::machine::Machine;
use vmstate_qemu::registry;

fn hammer(file: &str, idstr: &str, machine: Machine) {
    let stream = common::fixture10(file);
    let all = sections(&stream);
    let s = all
        .iter()
        .find(|s| s.idstr == idstr)
        .unwrap_or_else(|| panic!("{idstr}"));
    let e = registry::lookup(idstr).unwrap();
    let ctx = Context::new();
    let p = s.payload;
    // Truncations (a stride keeps the big payloads quick, the ends dense).
    let stride = (p.len() / 256).max(1);
    let cuts = (0..p.len())
        .step_by(stride)
        .chain(p.len().saturating_sub(64)..p.len());
    for cut in cuts {
        if let Ok(rt) = (e.roundtrip_on)(machine, &p[..cut], s.version, &ctx, false) {
            assert!(rt.consumed <= cut, "{idstr}: read past a cut at {cut}");
        }
    }
    // Byte flips.
    let stride = (p.len() / 512).max(1);
    for at in (0..p.len()).step_by(stride) {
        for x in [0x01u8, 0x80, 0xff] {
            let mut b = p.to_vec();
            b[at] ^= x;
            if let Ok(rt) = (e.roundtrip_on)(machine, &b, s.version, &ctx, false) {
                assert!(rt.consumed <= b.len());
            }
        }
    }
    // A failed load changes nothing: the mirror saves what it held.
    let mut m = (e.new_mirror_on)(machine);
    let before = m.save_payload(&ctx).unwrap();
    let mut bad = p.to_vec();
    bad.truncate(p.len() / 2);
    let res = m.as_target().load_section(&bad, s.version, &ctx);
    assert!(res.is_err(), "{idstr}: half a payload loaded");
    assert_eq!(m.save_payload(&ctx).unwrap(), before, "{idstr}");
}

#[test]
fn q35_devices() {
    for idstr in [
        "0000:00:00.0/mch",
        "0000:00:1f.0/ICH9LPC",
        "0000:00:1f.2/ich9_ahci",
        "0000:00:1f.3/ich9_smb",
        "PCIBUS",
    ] {
        hammer("q35.mig", idstr, Machine::Q35);
    }
}

#[test]
fn virtio_net_and_slirp() {
    hammer("pc-devices.mig", "0000:00:03.0/virtio-net", Machine::I440fx);
    hammer("pc-devices.mig", "slirp", Machine::I440fx);
}

#[test]
fn cpu_and_i8259() {
    hammer("pc.mig", "cpu", Machine::I440fx);
    hammer("pc.mig", "i8259", Machine::I440fx);
}
