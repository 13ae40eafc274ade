//! Benchmark 3 (partial): the real `pc.mig` sections that have mirrors
//! (i8259 x2, port92, timer, cpu_common, pckbd), each loaded from its
//! payload with the transactional `load` (as a loader would) and saved
//! back into a `Vec`, in MB/s of payload. Also all six in a row.
//!
//! Every section of the stream through the device catalog, and `vmstate
//! analyze`, come with issue 3.
//!
//! `cargo bench -p vmstate-bench --bench pc_sections`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vmstate_bench::pc::{self, CpuCommon, Pckbd, Port92, Timers, I8259};
use vmstate_core::{Context, Reader, VmState, Writer};

fn bench_section<T: VmState + Clone>(c: &mut Criterion, mut v: T, idstr: &'static str, inst: u32) {
    let ctx = Context::new();
    let p = pc::payload(&mut v, idstr, inst);
    let mut g = c.benchmark_group(format!("pc/{idstr}.{inst}"));
    g.throughput(Throughput::Bytes(p.bytes.len() as u64));
    g.bench_function("load", |b| {
        b.iter(|| {
            let mut r = Reader::from_slice(black_box(p.bytes));
            v.load(&mut r, p.version, &ctx).unwrap();
            black_box(&v);
        })
    });
    let mut out = Vec::with_capacity(256);
    g.bench_function("save", |b| {
        b.iter(|| {
            out.clear();
            black_box(&mut v)
                .save(&mut Writer::new(&mut out), &ctx)
                .unwrap();
            black_box(&out);
        })
    });
    g.finish();
}

fn pc_sections(c: &mut Criterion) {
    bench_section(c, I8259::default(), "i8259", 0);
    bench_section(c, I8259::default(), "i8259", 1);
    bench_section(c, Port92::default(), "port92", 0);
    bench_section(c, Timers::default(), "timer", 0);
    bench_section(c, CpuCommon::default(), "cpu_common", 0);
    bench_section(c, Pckbd::default(), "pckbd", 0);

    // All six, one after the other.
    let ctx = Context::new();
    let mut pic0 = I8259::default();
    let mut pic1 = I8259::default();
    let mut port92 = Port92::default();
    let mut timer = Timers::default();
    let mut cpu = CpuCommon::default();
    let mut kbd = Pckbd::default();
    let p = [
        pc::payload(&mut pic0, "i8259", 0),
        pc::payload(&mut pic1, "i8259", 1),
        pc::payload(&mut port92, "port92", 0),
        pc::payload(&mut timer, "timer", 0),
        pc::payload(&mut cpu, "cpu_common", 0),
        pc::payload(&mut kbd, "pckbd", 0),
    ];
    let total: usize = p.iter().map(|p| p.bytes.len()).sum();
    let mut g = c.benchmark_group("pc/all_six");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("load", |b| {
        b.iter(|| {
            let r = |i: usize| Reader::from_slice(black_box(p[i].bytes));
            pic0.load(&mut r(0), p[0].version, &ctx).unwrap();
            pic1.load(&mut r(1), p[1].version, &ctx).unwrap();
            port92.load(&mut r(2), p[2].version, &ctx).unwrap();
            timer.load(&mut r(3), p[3].version, &ctx).unwrap();
            cpu.load(&mut r(4), p[4].version, &ctx).unwrap();
            kbd.load(&mut r(5), p[5].version, &ctx).unwrap();
        })
    });
    let mut out = Vec::with_capacity(1024);
    g.bench_function("save", |b| {
        b.iter(|| {
            out.clear();
            let mut w = Writer::new(&mut out);
            pic0.save(&mut w, &ctx).unwrap();
            pic1.save(&mut w, &ctx).unwrap();
            port92.save(&mut w, &ctx).unwrap();
            timer.save(&mut w, &ctx).unwrap();
            cpu.save(&mut w, &ctx).unwrap();
            kbd.save(&mut w, &ctx).unwrap();
            black_box(&out);
        })
    });
    g.finish();
    assert_eq!(out.len(), total);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = pc_sections
}
criterion_main!(benches);
