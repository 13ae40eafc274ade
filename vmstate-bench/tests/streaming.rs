//! Benchmark 4's claim, counted: saving through a `BufWriter` makes no
//! `write` call (a syscall for a file, pipe or socket) per field. The inner
//! writer of a `BufWriter` sees about `N * payload / capacity` calls for
//! `N` saves of the device mix, not one per field or per save.
//!
//! Also counted: `Writer` itself does not buffer. Straight over a `Write`
//! it makes one `write_all` per element, which is why the README says to
//! wrap a pipe or socket in a `BufWriter`.

use std::io::BufWriter;

use vmstate_bench::device::{DeviceMix, PAYLOAD_LEN};
use vmstate_bench::CountingWrite;
use vmstate_core::{Context, VmState, Writer};

/// `write_all` calls `Writer` makes for one save of the device mix: one
/// per scalar, one per array chunk, one for the subsection header.
///
/// 12 scalars + `regs` (one chunk) + `fifo` (one copy) + 4 timers x 6
/// scalars + `rtc_base` + header (marker, length, name and version in
/// one piece) + 3 scalars and `data` of the subsection.
const WRITES_PER_SAVE: usize = 12 + 1 + 1 + 4 * 6 + 1 + 1 + 3 + 1;

#[test]
fn writer_alone_writes_once_per_element() {
    let ctx = Context::new();
    let mut dev = DeviceMix::sample();
    let mut w = Writer::from_write(CountingWrite::default());
    dev.save(&mut w, &ctx).unwrap();
    let sink = w.into_inner().into_inner();
    assert_eq!(sink.bytes, PAYLOAD_LEN);
    assert_eq!(sink.writes, WRITES_PER_SAVE);
}

#[test]
fn bufwriter_makes_no_write_per_field() {
    const SAVES: usize = 1000;
    const CAP: usize = 8 * 1024;
    /// The largest single `write_all` of the device mix (the `regs` chunk).
    const MAX_ELEM: usize = 64;

    let ctx = Context::new();
    let mut dev = DeviceMix::sample();
    let mut w = Writer::from_write(BufWriter::with_capacity(CAP, CountingWrite::default()));
    for _ in 0..SAVES {
        dev.save(&mut w, &ctx).unwrap();
    }
    w.flush().unwrap();
    let total = SAVES * PAYLOAD_LEN;
    assert_eq!(w.offset(), total as u64);
    let sink = w.into_inner().into_inner().into_inner().unwrap();
    assert_eq!(sink.bytes, total);

    // BufWriter hands its buffer down when the next element would not fit,
    // so every inner write but the last carries more than CAP - MAX_ELEM
    // bytes, and none more than CAP.
    let min = total.div_ceil(CAP);
    let max = total / (CAP - MAX_ELEM) + 1;
    println!(
        "{SAVES} saves x {PAYLOAD_LEN} bytes = {total} bytes through a {CAP}-byte BufWriter: \
         {} inner writes (bounds {min}..={max}); unbuffered it would be {}",
        sink.writes,
        SAVES * WRITES_PER_SAVE
    );
    assert!(
        (min..=max).contains(&sink.writes),
        "{} writes, expected {min}..={max}",
        sink.writes
    );
    // Far fewer than one per save, let alone one per field.
    assert!(sink.writes * 20 < SAVES);
}

#[test]
fn bufwriter_scales_with_bytes_not_fields() {
    // The writes follow the bytes and the buffer size; the number of fields
    // does not enter.
    let ctx = Context::new();
    let mut dev = DeviceMix::sample();
    let mut counts = Vec::new();
    for cap in [4096usize, 8192, 16384, 65536] {
        let mut w = Writer::from_write(BufWriter::with_capacity(cap, CountingWrite::default()));
        for _ in 0..1000 {
            dev.save(&mut w, &ctx).unwrap();
        }
        w.flush().unwrap();
        let sink = w.into_inner().into_inner().into_inner().unwrap();
        let total = 1000 * PAYLOAD_LEN;
        let (min, max) = (total.div_ceil(cap), total / (cap - 64) + 1);
        assert!(
            (min..=max).contains(&sink.writes),
            "cap {cap}: {} writes, expected {min}..={max}",
            sink.writes
        );
        counts.push(sink.writes);
    }
    println!("inner writes for buffers of 4, 8, 16, 64 KiB: {counts:?}");
    // Each doubling of the buffer (about) halves the writes.
    assert!(counts[0] >= 2 * counts[1] - 1 && counts[1] >= 2 * counts[2] - 1);
}
