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

/// What-if rows (x86_64): the conversions `vmstate-core` did before it
/// used `swap` (512-byte stack chunks on save; here straight from the
/// input slice on load), compiled for AVX2 and picked at run time, as a
/// multiversioned runtime could do in a default (x86-64-v1, SSE2-only)
/// build.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    macro_rules! conv {
        ($save:ident, $load:ident, $t:ty) => {
            #[target_feature(enable = "avx2")]
            pub fn $save(items: &[$t], out: &mut Vec<u8>) {
                const N: usize = size_of::<$t>();
                let mut buf = [0u8; 512];
                for chunk in items.chunks(512 / N) {
                    for (dst, v) in buf.chunks_exact_mut(N).zip(chunk) {
                        dst.copy_from_slice(&v.to_be_bytes());
                    }
                    out.extend_from_slice(&buf[..chunk.len() * N]);
                }
            }

            #[target_feature(enable = "avx2")]
            pub fn $load(items: &mut [$t], src: &[u8]) {
                const N: usize = size_of::<$t>();
                for (v, s) in items.iter_mut().zip(src.chunks_exact(N)) {
                    *v = <$t>::from_be_bytes(s.try_into().unwrap());
                }
            }
        };
    }
    conv!(save_u32, load_u32, u32);
    conv!(save_u64, load_u64, u64);
}

fn bulk(c: &mut Criterion) {
    let ctx = Context::new();
    let mut u8s = BulkU8::boxed_pattern();
    let mut u32s = BulkU32::boxed_pattern();
    let mut u64s = BulkU64::boxed_pattern();

    // The wire bytes, checked against a plain per-element encoding.
    let wire_u8 = u8s.to_bytes(&ctx).unwrap();
    let wire_u32 = u32s.to_bytes(&ctx).unwrap();
    let wire_u64 = u64s.to_bytes(&ctx).unwrap();
    assert_eq!(wire_u8, u8s.data);
    let expect: Vec<u8> = u32s.data.iter().flat_map(|v| v.to_be_bytes()).collect();
    assert_eq!(wire_u32, expect);
    let expect: Vec<u8> = u64s.data.iter().flat_map(|v| v.to_be_bytes()).collect();
    assert_eq!(wire_u64, expect);
    for w in [&wire_u8, &wire_u32, &wire_u64] {
        assert_eq!(w.len(), BULK_BYTES);
    }

    let mut out: Vec<u8> = Vec::with_capacity(BULK_BYTES);
    // Destinations for the loads (start from zero, end equal to the source).
    let mut dst_u8 = BulkU8::boxed();
    let mut dst_u32 = BulkU32::boxed();
    let mut dst_u64 = BulkU64::boxed();
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
    // The transactional load clones the 1 MiB struct (on the stack) and
    // moves it back: shown for scale, not a target.
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

    // --- u32 ------------------------------------------------------------
    let mut g = c.benchmark_group("bulk_u32");
    g.throughput(Throughput::Bytes(BULK_BYTES as u64));
    g.bench_function("save/memcpy", |b| {
        b.iter(|| {
            out.clear();
            out.extend_from_slice(black_box(&wire_u32[..]));
            black_box(&out);
        })
    });
    g.bench_function("save/hand_loop", |b| {
        b.iter(|| {
            out.clear();
            for v in black_box(&u32s.data).iter() {
                out.extend_from_slice(&v.to_be_bytes());
            }
            black_box(&out);
        })
    });
    g.bench_function("save/byteorder", |b| {
        b.iter(|| {
            out.clear();
            out.resize(BULK_BYTES, 0);
            BE::write_u32_into(black_box(&u32s.data[..]), &mut out);
            black_box(&out);
        })
    });
    g.bench_function("save/derived", |b| {
        b.iter(|| {
            out.clear();
            black_box(&mut *u32s)
                .save(&mut Writer::new(&mut out), &ctx)
                .unwrap();
            black_box(&out);
        })
    });
    g.bench_function("load/memcpy", |b| {
        b.iter(|| {
            raw.copy_from_slice(black_box(&wire_u32[..]));
            black_box(&raw);
        })
    });
    g.bench_function("load/hand_loop", |b| {
        b.iter(|| {
            let src = black_box(&wire_u32[..]);
            for (v, s) in dst_u32.data.iter_mut().zip(src.chunks_exact(4)) {
                *v = u32::from_be_bytes(s.try_into().unwrap());
            }
            black_box(&dst_u32.data);
        })
    });
    g.bench_function("load/byteorder", |b| {
        b.iter(|| {
            BE::read_u32_into(black_box(&wire_u32[..]), &mut dst_u32.data);
            black_box(&dst_u32.data);
        })
    });
    g.bench_function("load/derived", |b| {
        b.iter(|| {
            let mut r = Reader::from_slice(black_box(&wire_u32));
            dst_u32.load_state_in_place(&mut r, 1, &ctx).unwrap();
            black_box(&dst_u32.data);
        })
    });
    // Checked once up front: criterion skips filtered-out rows.
    swap::store_be_u32(&mut raw, &u32s.data);
    assert!(raw == wire_u32, "the swap kernel gives the same bytes");
    g.bench_function("save/swap_kernel", |b| {
        b.iter(|| {
            swap::store_be_u32(&mut raw, black_box(&u32s.data[..]));
            black_box(&raw);
        })
    });
    g.bench_function("save/swap_kernel_resize", |b| {
        b.iter(|| {
            out.clear();
            out.resize(BULK_BYTES, 0);
            swap::store_be_u32(&mut out, black_box(&u32s.data[..]));
            black_box(&out);
        })
    });
    let mut check = vec![0u32; wire_u32.len() / size_of::<u32>()];
    swap::load_be_u32(&mut check, &wire_u32);
    assert!(check == u32s.data, "the swap kernel gives the same values");
    g.bench_function("load/swap_kernel", |b| {
        b.iter(|| {
            swap::load_be_u32(&mut dst_u32.data, black_box(&wire_u32[..]));
            black_box(&dst_u32.data);
        })
    });
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        out.clear();
        g.bench_function("save/what_if_avx2_chunks", |b| {
            b.iter(|| {
                out.clear();
                // SAFETY: AVX2 was detected.
                unsafe { avx2::save_u32(black_box(&u32s.data[..]), &mut out) };
                black_box(&out);
            })
        });
        // (Empty: the row was filtered out.)
        assert!(
            out.is_empty() || out == wire_u32,
            "the what-if save gives the same bytes"
        );
        g.bench_function("load/what_if_avx2_direct", |b| {
            b.iter(|| {
                // SAFETY: AVX2 was detected.
                unsafe { avx2::load_u32(&mut dst_u32.data, black_box(&wire_u32[..])) };
                black_box(&dst_u32.data);
            })
        });
    }
    g.finish();
    // (All zero: every load row was filtered out.)
    assert!(dst_u32.data == u32s.data || dst_u32.data.iter().all(|&v| v == 0));

    // --- u64 ------------------------------------------------------------
    let mut g = c.benchmark_group("bulk_u64");
    g.throughput(Throughput::Bytes(BULK_BYTES as u64));
    g.bench_function("save/memcpy", |b| {
        b.iter(|| {
            out.clear();
            out.extend_from_slice(black_box(&wire_u64[..]));
            black_box(&out);
        })
    });
    g.bench_function("save/hand_loop", |b| {
        b.iter(|| {
            out.clear();
            for v in black_box(&u64s.data).iter() {
                out.extend_from_slice(&v.to_be_bytes());
            }
            black_box(&out);
        })
    });
    g.bench_function("save/byteorder", |b| {
        b.iter(|| {
            out.clear();
            out.resize(BULK_BYTES, 0);
            BE::write_u64_into(black_box(&u64s.data[..]), &mut out);
            black_box(&out);
        })
    });
    g.bench_function("save/derived", |b| {
        b.iter(|| {
            out.clear();
            black_box(&mut *u64s)
                .save(&mut Writer::new(&mut out), &ctx)
                .unwrap();
            black_box(&out);
        })
    });
    g.bench_function("load/memcpy", |b| {
        b.iter(|| {
            raw.copy_from_slice(black_box(&wire_u64[..]));
            black_box(&raw);
        })
    });
    g.bench_function("load/hand_loop", |b| {
        b.iter(|| {
            let src = black_box(&wire_u64[..]);
            for (v, s) in dst_u64.data.iter_mut().zip(src.chunks_exact(8)) {
                *v = u64::from_be_bytes(s.try_into().unwrap());
            }
            black_box(&dst_u64.data);
        })
    });
    g.bench_function("load/byteorder", |b| {
        b.iter(|| {
            BE::read_u64_into(black_box(&wire_u64[..]), &mut dst_u64.data);
            black_box(&dst_u64.data);
        })
    });
    g.bench_function("load/derived", |b| {
        b.iter(|| {
            let mut r = Reader::from_slice(black_box(&wire_u64));
            dst_u64.load_state_in_place(&mut r, 1, &ctx).unwrap();
            black_box(&dst_u64.data);
        })
    });
    // Checked once up front: criterion skips filtered-out rows.
    swap::store_be_u64(&mut raw, &u64s.data);
    assert!(raw == wire_u64, "the swap kernel gives the same bytes");
    g.bench_function("save/swap_kernel", |b| {
        b.iter(|| {
            swap::store_be_u64(&mut raw, black_box(&u64s.data[..]));
            black_box(&raw);
        })
    });
    g.bench_function("save/swap_kernel_resize", |b| {
        b.iter(|| {
            out.clear();
            out.resize(BULK_BYTES, 0);
            swap::store_be_u64(&mut out, black_box(&u64s.data[..]));
            black_box(&out);
        })
    });
    let mut check = vec![0u64; wire_u64.len() / size_of::<u64>()];
    swap::load_be_u64(&mut check, &wire_u64);
    assert!(check == u64s.data, "the swap kernel gives the same values");
    g.bench_function("load/swap_kernel", |b| {
        b.iter(|| {
            swap::load_be_u64(&mut dst_u64.data, black_box(&wire_u64[..]));
            black_box(&dst_u64.data);
        })
    });
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        out.clear();
        g.bench_function("save/what_if_avx2_chunks", |b| {
            b.iter(|| {
                out.clear();
                // SAFETY: AVX2 was detected.
                unsafe { avx2::save_u64(black_box(&u64s.data[..]), &mut out) };
                black_box(&out);
            })
        });
        // (Empty: the row was filtered out.)
        assert!(
            out.is_empty() || out == wire_u64,
            "the what-if save gives the same bytes"
        );
        g.bench_function("load/what_if_avx2_direct", |b| {
            b.iter(|| {
                // SAFETY: AVX2 was detected.
                unsafe { avx2::load_u64(&mut dst_u64.data, black_box(&wire_u64[..])) };
                black_box(&dst_u64.data);
            })
        });
    }
    g.finish();
    // (All zero: every load row was filtered out.)
    assert!(dst_u64.data == u64s.data || dst_u64.data.iter().all(|&v| v == 0));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bulk
}
criterion_main!(benches);
