//! Benchmark 4: saving the device mix (308 bytes) 1000 times per
//! iteration through `Writer::from_write(BufWriter::new(..))` over a file, a pipe
//! (drained by another thread) and `/dev/null`, against the same saves into
//! a `Vec<u8>`; and, for scale, into an unbuffered `/dev/null` `File`, where
//! every field is a `write` syscall. `tests/streaming.rs` counts the inner
//! writer's calls exactly.
//!
//! `cargo bench -p vmstate-bench --bench streaming`

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vmstate_bench::device::{DeviceMix, PAYLOAD_LEN};
use vmstate_core::stream::Sink;
use vmstate_core::{Context, VmState, Writer};

/// Saves per iteration.
const SAVES: usize = 1000;

fn save_n<W: Sink>(dev: &mut DeviceMix, w: &mut Writer<W>, ctx: &Context) {
    for _ in 0..SAVES {
        black_box(&mut *dev).save(w, ctx).unwrap();
    }
}

fn streaming(c: &mut Criterion) {
    let ctx = Context::new();
    let mut dev = DeviceMix::sample();
    assert_eq!(dev.to_bytes(&ctx).unwrap().len(), PAYLOAD_LEN);

    let mut g = c.benchmark_group("streaming");
    g.throughput(Throughput::Bytes((SAVES * PAYLOAD_LEN) as u64));

    let mut out = Vec::with_capacity(SAVES * PAYLOAD_LEN);
    g.bench_function("vec", |b| {
        b.iter(|| {
            out.clear();
            save_n(&mut dev, &mut Writer::new(&mut out), &ctx);
            black_box(&out);
        })
    });

    let path = std::env::temp_dir().join(format!("vmstate-bench-{}.bin", std::process::id()));
    let mut file = BufWriter::new(File::create(&path).unwrap());
    g.bench_function("bufwriter_file", |b| {
        b.iter(|| {
            save_n(&mut dev, &mut Writer::from_write(&mut file), &ctx);
            // Back to the start: the file stays at one iteration's size.
            file.seek(SeekFrom::Start(0)).unwrap();
        })
    });
    drop(file);
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        (SAVES * PAYLOAD_LEN) as u64
    );
    std::fs::remove_file(&path).unwrap();

    let (mut rx, tx) = std::io::pipe().unwrap();
    let drain = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            match rx.read(&mut buf) {
                Ok(0) => return total,
                Ok(n) => total += n as u64,
                Err(e) => panic!("pipe: {e}"),
            }
        }
    });
    let mut pipe = BufWriter::new(tx);
    let mut iters = 0u64;
    g.bench_function("bufwriter_pipe", |b| {
        b.iter(|| {
            save_n(&mut dev, &mut Writer::from_write(&mut pipe), &ctx);
            pipe.flush().unwrap();
            iters += 1;
        })
    });
    drop(pipe);
    assert_eq!(drain.join().unwrap(), iters * (SAVES * PAYLOAD_LEN) as u64);

    let mut null = BufWriter::new(File::create("/dev/null").unwrap());
    g.bench_function("bufwriter_devnull", |b| {
        b.iter(|| {
            save_n(&mut dev, &mut Writer::from_write(&mut null), &ctx);
            null.flush().unwrap();
        })
    });
    g.finish();

    // One syscall per field: what the BufWriter saves. Fewer samples, it
    // is slow.
    let mut g = c.benchmark_group("streaming_unbuffered");
    g.throughput(Throughput::Bytes((SAVES * PAYLOAD_LEN) as u64));
    g.sample_size(10);
    let mut raw = File::create("/dev/null").unwrap();
    g.bench_function("devnull", |b| {
        b.iter(|| save_n(&mut dev, &mut Writer::from_write(&mut raw), &ctx))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = streaming
}
criterion_main!(benches);
