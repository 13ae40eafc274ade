//! Benchmark 3: a real machine. Every FULL section of QEMU 7.2's `pc.mig`
//! that the device catalog (`vmstate-qemu`) mirrors, loaded into its
//! mirror and saved again (the registry's round trip: `Default`, the
//! transactional `load`, `to_bytes`), in MB/s of payload; the whole stream
//! parsed by the migration module (generic decoder for every device
//! section, RAM pages kept); the whole stream loaded in one pass into the
//! mirrors (`Dispatcher::load_read`, no vmdesc); and `vmstate analyze` of
//! `pc-devices.mig`, as the CLI runs it (`vmstate_cli::analyze`).
//!
//! Setup checks that each measured round trip consumes exactly the
//! section's payload and gives its bytes back.
//!
//! `cargo bench -p vmstate-bench --bench pc_machine`

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vmstate_bench::pc::PC_MIG;
use vmstate_core::Context;
use vmstate_migration::{Dispatcher, ReadOptions, SectionKind, Stream};
use vmstate_qemu::registry::{self, Entry};

struct Mirrored {
    entry: &'static Entry,
    version: u32,
    bytes: Vec<u8>,
}

fn pc_machine(c: &mut Criterion) {
    let ctx = Context::new();
    let stream = Stream::parse(PC_MIG, ReadOptions::default()).unwrap();
    let mut full = 0;
    let mut sections = Vec::new();
    let mut skipped = Vec::new();
    for s in stream.sections().filter(|s| s.kind == SectionKind::Full) {
        full += 1;
        let Some(v) = s.vmsd() else { continue };
        let Some(entry) = registry::lookup(&s.idstr) else {
            continue;
        };
        match (entry.roundtrip)(&v.bytes, s.version_id, &ctx) {
            Ok(rt) if rt.consumed == v.bytes.len() && rt.resaved == v.bytes => {
                sections.push(Mirrored {
                    entry,
                    version: s.version_id,
                    bytes: v.bytes.clone(),
                })
            }
            other => skipped.push(format!("{}: {:?}", s.idstr, other.map(|r| r.consumed))),
        }
    }
    let total: usize = sections.iter().map(|m| m.bytes.len()).sum();
    eprintln!(
        "pc.mig: {full} FULL sections, {} mirrored and round-tripped byte for byte \
         ({total} payload bytes); not measured: {skipped:?}",
        sections.len()
    );
    assert!(sections.len() >= 10, "the catalog mirrors most of pc.mig");

    let mut g = c.benchmark_group("pc_machine");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("catalog_roundtrip", |b| {
        b.iter(|| {
            for m in &sections {
                black_box((m.entry.roundtrip)(black_box(&m.bytes), m.version, &ctx).unwrap());
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("pc_machine_stream");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(PC_MIG.len() as u64));
    g.bench_function("parse_pc.mig", |b| {
        b.iter(|| black_box(Stream::parse(black_box(PC_MIG), ReadOptions::default()).unwrap()))
    });
    // One pass over the stream as a `Read`, every FULL section loaded
    // straight into its mirror (no vmdesc), RAM records decoded and
    // dropped: what a VMM receiving a migration does.
    let mut mirrors: Vec<_> = stream
        .sections()
        .filter(|s| s.kind == SectionKind::Full)
        .filter_map(|s| {
            let e = registry::lookup(&s.idstr)?;
            Some((s.idstr.clone(), s.instance_id, (e.new_mirror)()))
        })
        .collect();
    let mut d = Dispatcher::new(Context::new());
    for (idstr, instance, m) in &mut mirrors {
        d.register(idstr, *instance, m.as_target());
    }
    let opts = ReadOptions {
        keep_ram_pages: false,
        ..ReadOptions::default()
    };
    let report = d.load_read(PC_MIG, None, opts.clone(), |_| Ok(())).unwrap();
    assert_eq!(report.loaded, 30);
    g.bench_function("load_read_pc.mig", |b| {
        b.iter(|| {
            let report = d
                .load_read(black_box(PC_MIG), None, opts.clone(), |_| Ok(()))
                .unwrap();
            black_box(report)
        })
    });
    let devices =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/qemu-7.2/pc-devices.mig");
    let size = std::fs::metadata(&devices).unwrap().len();
    g.throughput(Throughput::Bytes(size));
    g.bench_function("analyze_pc-devices.mig", |b| {
        b.iter(|| black_box(vmstate_cli::analyze(&devices, false).unwrap()))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = pc_machine
}
criterion_main!(benches);
