//! Benchmark 3: every FULL section of QEMU 7.2's `pc.mig`, each loaded
//! from its payload into its catalog mirror (`vmstate-qemu`) and saved
//! back, in MB/s of payload. The loads are what a loader runs: the
//! transactional `load` through `LoadSection::load_section` (one dynamic
//! call per section, none per field), which also checks that the payload
//! was consumed exactly; the saves go into a pre-sized `Vec`. Then all 30
//! sections in a row.
//!
//! `cargo bench -p vmstate-bench --bench pc_sections`

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vmstate_bench::pc::PC_MIG;
use vmstate_core::Context;
use vmstate_migration::{ReadOptions, SectionKind, Stream};
use vmstate_qemu::registry::{self, Mirror};

struct Section {
    id: String,
    version: u32,
    payload: Vec<u8>,
    mirror: Box<dyn Mirror>,
}

/// Every FULL section of pc.mig with a fresh mirror, checked to load and
/// re-save byte-identically before anything is timed.
fn sections(ctx: &Context) -> Vec<Section> {
    let stream = Stream::parse(PC_MIG, ReadOptions::default()).expect("pc.mig parses");
    let mut out = Vec::new();
    for s in stream.sections().filter(|s| s.kind == SectionKind::Full) {
        let entry = registry::lookup(&s.idstr).expect("every pc.mig section has a mirror");
        let payload = s.vmsd().expect("a FULL section").bytes.clone();
        let mut mirror = (entry.new_mirror)();
        mirror
            .as_target()
            .load_section(&payload, s.version_id, ctx)
            .expect("loads");
        assert_eq!(mirror.save_payload(ctx).expect("saves"), payload);
        out.push(Section {
            id: format!("{}.{}", s.idstr, s.instance_id),
            version: s.version_id,
            payload,
            mirror,
        });
    }
    assert_eq!(out.len(), 30);
    out
}

fn pc_sections(c: &mut Criterion) {
    let ctx = Context::new();
    let mut all = sections(&ctx);
    let mut out = Vec::with_capacity(1 << 16);
    for s in &mut all {
        let mut g = c.benchmark_group(format!("pc/{}", s.id));
        g.warm_up_time(Duration::from_millis(300));
        g.measurement_time(Duration::from_secs(1));
        g.throughput(Throughput::Bytes(s.payload.len() as u64));
        g.bench_function("load", |b| {
            b.iter(|| {
                s.mirror
                    .as_target()
                    .load_section(black_box(&s.payload), s.version, &ctx)
                    .unwrap()
            })
        });
        g.bench_function("save", |b| {
            b.iter(|| {
                out.clear();
                black_box(&mut s.mirror).save_into(&mut out, &ctx).unwrap();
                black_box(&out);
            })
        });
        g.finish();
    }

    let total: usize = all.iter().map(|s| s.payload.len()).sum();
    let mut g = c.benchmark_group("pc/all_30");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("load", |b| {
        b.iter(|| {
            for s in &mut all {
                s.mirror
                    .as_target()
                    .load_section(black_box(&s.payload), s.version, &ctx)
                    .unwrap();
            }
        })
    });
    g.bench_function("save", |b| {
        b.iter(|| {
            out.clear();
            for s in &mut all {
                s.mirror.save_into(&mut out, &ctx).unwrap();
            }
            black_box(&out);
        })
    });
    g.finish();
}

criterion_group!(benches, pc_sections);
criterion_main!(benches);
