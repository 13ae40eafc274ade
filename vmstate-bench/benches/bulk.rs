//! Benchmark 2: bulk arrays, 1 MiB each: `[u8; 1 Mi]`, `[u32; 256 Ki]` and
//! `[u64; 128 Ki]` fields of derived structs (boxed), saved into a pre-sized
//! `Vec<u8>` and loaded in place from a `&[u8]`, against
//!
//! * `memcpy`: `extend_from_slice` / `copy_from_slice` of 1 MiB, the
//!   physical limit (no byte swap);
//! * `hand_loop`: a per-element loop (`to_be_bytes` / `from_be_bytes`);
//! * `byteorder`: `byteorder`'s slice conversions (`write_u32_into`,
//!   `read_u32_into`);
//! * `swap_kernel`: `vmstate_core::swap`'s conversions alone (AVX2 picked
//!   at run time where available), into a pre-sized buffer on save and
//!   straight from the input slice on load; `swap_kernel_resize` also
//!   clears and zero-fills the `Vec` first, as a `Vec` sink would.
//!
//! Throughput is in bytes of payload (1 MiB per iteration).
//!
//! `cargo bench -p vmstate-bench --bench bulk`

use std::hint::black_box;

use byteorder::{BigEndian as BE, ByteOrder};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vmstate_bench::bulk::{BulkU32, BulkU64, BulkU8, BULK_BYTES};
use vmstate_core::{swap, Context, Reader, VmState, Writer};

/// One group of a byte-swapped array type: `$t` elements in the derived
/// struct `$bulk`, against memcpy, a hand loop, byteorder's slice
/// conversion and the swap kernel alone.
macro_rules! swapped_group {
    ($name:ident, $t:ty, $bulk:ty, $write_into:ident, $read_into:ident, $store:ident, $load:ident) => {
        fn $name(c: &mut Criterion, ctx: &Context, out: &mut Vec<u8>, raw: &mut [u8]) {
            const N: usize = size_of::<$t>();
            let mut src = <$bulk>::boxed_pattern();
            // The wire bytes, checked against a plain per-element encoding.
            let wire = src.to_bytes(ctx).unwrap();
            let expect: Vec<u8> = src.data.iter().flat_map(|v| v.to_be_bytes()).collect();
            assert_eq!(wire, expect);
            assert_eq!(wire.len(), BULK_BYTES);
            // The loads' destination: starts from zero, ends equal to `src`.
            let mut dst = <$bulk>::boxed();

            let mut g = c.benchmark_group(stringify!($name));
            g.throughput(Throughput::Bytes(BULK_BYTES as u64));
            g.bench_function("save/memcpy", |b| {
                b.iter(|| {
                    out.clear();
                    out.extend_from_slice(black_box(&wire[..]));
                    black_box(&out);
                })
            });
            g.bench_function("save/hand_loop", |b| {
                b.iter(|| {
                    out.clear();
                    for v in black_box(&src.data).iter() {
                        out.extend_from_slice(&v.to_be_bytes());
                    }
                    black_box(&out);
                })
            });
            g.bench_function("save/byteorder", |b| {
                b.iter(|| {
                    out.clear();
                    out.resize(BULK_BYTES, 0);
                    BE::$write_into(black_box(&src.data[..]), out);
                    black_box(&out);
                })
            });
            g.bench_function("save/derived", |b| {
                b.iter(|| {
                    out.clear();
                    black_box(&mut *src)
                        .save(&mut Writer::new(&mut *out), ctx)
                        .unwrap();
                    black_box(&out);
                })
            });
            g.bench_function("load/memcpy", |b| {
                b.iter(|| {
                    raw.copy_from_slice(black_box(&wire[..]));
                    black_box(&raw);
                })
            });
            g.bench_function("load/hand_loop", |b| {
                b.iter(|| {
                    let bytes = black_box(&wire[..]);
                    for (v, s) in dst.data.iter_mut().zip(bytes.chunks_exact(N)) {
                        *v = <$t>::from_be_bytes(s.try_into().unwrap());
                    }
                    black_box(&dst.data);
                })
            });
            g.bench_function("load/byteorder", |b| {
                b.iter(|| {
                    BE::$read_into(black_box(&wire[..]), &mut dst.data);
                    black_box(&dst.data);
                })
            });
            g.bench_function("load/derived", |b| {
                b.iter(|| {
                    let mut r = Reader::from_slice(black_box(&wire));
                    dst.load_state_in_place(&mut r, 1, ctx).unwrap();
                    black_box(&dst.data);
                })
            });
            // Checked once up front: criterion skips filtered-out rows.
            swap::$store(raw, &src.data);
            assert!(raw == &wire[..], "the swap kernel gives the same bytes");
            g.bench_function("save/swap_kernel", |b| {
                b.iter(|| {
                    swap::$store(raw, black_box(&src.data[..]));
                    black_box(&raw);
                })
            });
            g.bench_function("save/swap_kernel_resize", |b| {
                b.iter(|| {
                    out.clear();
                    out.resize(BULK_BYTES, 0);
                    swap::$store(out, black_box(&src.data[..]));
                    black_box(&out);
                })
            });
            let mut check = vec![0 as $t; wire.len() / N];
            swap::$load(&mut check, &wire);
            assert!(check == src.data, "the swap kernel gives the same values");
            g.bench_function("load/swap_kernel", |b| {
                b.iter(|| {
                    swap::$load(&mut dst.data, black_box(&wire[..]));
                    black_box(&dst.data);
                })
            });
            g.finish();
            // (All zero: every load row was filtered out.)
            assert!(dst.data == src.data || dst.data.iter().all(|&v| v == 0));
        }
    };
}

swapped_group!(
    bulk_u32,
    u32,
    BulkU32,
    write_u32_into,
    read_u32_into,
    store_be_u32,
    load_be_u32
);
swapped_group!(
    bulk_u64,
    u64,
    BulkU64,
    write_u64_into,
    read_u64_into,
    store_be_u64,
    load_be_u64
);

fn bulk(c: &mut Criterion) {
    let ctx = Context::new();
    let mut u8s = BulkU8::boxed_pattern();

    let wire_u8 = u8s.to_bytes(&ctx).unwrap();
    assert_eq!(wire_u8, u8s.data);
    assert_eq!(wire_u8.len(), BULK_BYTES);

    let mut out: Vec<u8> = Vec::with_capacity(BULK_BYTES);
    // Destinations for the loads (start from zero, end equal to the source).
    let mut dst_u8 = BulkU8::boxed();
    let mut raw = vec![0u8; BULK_BYTES];

    // --- u8 -------------------------------------------------------------
    let mut g = c.benchmark_group("bulk_u8");
    g.throughput(Throughput::Bytes(BULK_BYTES as u64));
    g.bench_function("save/memcpy", |b| {
        b.iter(|| {
            out.clear();
            out.extend_from_slice(black_box(&u8s.data[..]));
            black_box(&out);
        })
    });
    g.bench_function("save/derived", |b| {
        b.iter(|| {
            out.clear();
            black_box(&mut *u8s)
                .save(&mut Writer::new(&mut out), &ctx)
                .unwrap();
            black_box(&out);
        })
    });
    g.bench_function("load/memcpy", |b| {
        b.iter(|| {
            dst_u8.data.copy_from_slice(black_box(&wire_u8[..]));
            black_box(&dst_u8.data);
        })
    });
    g.bench_function("load/derived", |b| {
        b.iter(|| {
            let mut r = Reader::from_slice(black_box(&wire_u8));
            dst_u8.load_state_in_place(&mut r, 1, &ctx).unwrap();
            black_box(&dst_u8.data);
        })
    });
    // The transactional load clones the 1 MiB struct as its backup: shown
    // for scale, not a target.
    g.bench_function("load/derived_transactional", |b| {
        b.iter(|| {
            let mut r = Reader::from_slice(black_box(&wire_u8));
            dst_u8.load(&mut r, 1, &ctx).unwrap();
            black_box(&dst_u8.data);
        })
    });
    g.finish();
    // (All zero: every load row was filtered out.)
    assert!(dst_u8.data == u8s.data || dst_u8.data.iter().all(|&v| v == 0));

    bulk_u32(c, &ctx, &mut out, &mut raw);
    bulk_u64(c, &ctx, &mut out, &mut raw);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bulk
}
criterion_main!(benches);
