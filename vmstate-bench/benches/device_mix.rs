//! Benchmark 1: the device mix (308 bytes), saved into a `Vec<u8>` and
//! loaded from a `&[u8]`, four ways on identical bytes:
//!
//! * `derived`: `#[derive(VmState)]` (save into the `Vec`; into a new
//!   one with `to_bytes` as `derived_to_bytes`, against `tight_new_vec`;
//!   into a `[u8; N]` with `save_to_slice` as `derived_array`, inlined
//!   into the closure, and `derived_array_called` through a call as the
//!   tight save is; load in place and the transactional `load`, which clones the
//!   struct first);
//! * `tight`: the best hand-written code (`common/tight.rs`): a slice
//!   loader taking fixed-size arrays, one bounds check per field, in place
//!   (and into a clone, like `load`); `to_be_bytes` into a `Vec`; and the
//!   bound of a save, a write into a `[u8; N]` (`tight_array`);
//! * `byteorder`: hand-written `byteorder` code through a reader object
//!   (load in place, and into a clone);
//! * `binrw`: `#[binrw] #[brw(big)]` on an equivalent struct with the same
//!   wire layout, the peer derive (it reads through `Read + Seek` and
//!   returns a new value);
//! * `generic`: the table-driven decoder
//!   (`vmstate_migration::generic`), which decodes with nothing but a
//!   description into a value tree (as `vmstate analyze` does), and its
//!   encoder; given the device mix's own description table.
//!
//! The second device, `device356` (356 bytes), is measured against its
//! tight hand-written code the same way (`device356/...`), and so is the
//! third, `shapes` (2322 bytes: arrays of nested structs sized by a count,
//! some slots starting with a marker byte, checked fields, nested structs
//! with subsections; `shapes/...`), and the fourth, `fifo` (557 bytes:
//! registers around a 512-byte buffer; `fifo/...`, with its `[u8; N]`
//! rows).
//!
//! All encoders are checked to produce the same bytes, and all decoders to
//! give the same value, before anything is measured.
//!
//! `cargo bench -p vmstate-bench --bench device_mix`

mod common;

use std::hint::black_box;
use std::io::Cursor;

use binrw::{BinRead, BinWrite};
use common::{
    hand_load, hand_save, same_bytes_356, same_bytes_everywhere, same_bytes_fifo,
    same_bytes_shapes, struct_desc, tight, tight_fifo, tight_shapes, BrMix,
};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use vmstate_bench::device::{DeviceMix, PAYLOAD_LEN, VERSION};
use vmstate_bench::device356::{self, Device356};
use vmstate_bench::fifo::{self, Fifo};
use vmstate_bench::shapes::{self, Shapes};
use vmstate_core::{Context, Reader, VmState, Writer};
use vmstate_migration::generic;

fn device_mix(c: &mut Criterion) {
    let ctx = Context::new();
    let mut dev = DeviceMix::sample();
    let bytes = same_bytes_everywhere(&mut dev, &ctx);
    let br = BrMix::from(&dev);
    let desc = struct_desc(DeviceMix::VMSD);
    let value = generic::decode_payload(&desc, &bytes, 0).unwrap();
    let mut out: Vec<u8> = Vec::with_capacity(4096);

    let mut g = c.benchmark_group("device_mix/save");
    g.throughput(Throughput::Bytes(PAYLOAD_LEN as u64));
    derived_and_tight_vec_saves(&mut g, &mut dev, PAYLOAD_LEN, &ctx, tight::save_mix_vec);
    let mut arr = [0u8; PAYLOAD_LEN];
    g.bench_function("derived_array", |b| {
        b.iter(|| {
            black_box(&mut dev).save_to_slice(&mut arr, &ctx).unwrap();
            black_box(&arr);
        })
    });
    g.bench_function("tight_array", |b| {
        b.iter(|| {
            tight::save_mix_array(black_box(&dev), &mut arr);
            black_box(&arr);
        })
    });
    // The tight save above is called, not inlined into the closure (see
    // `objdump`); this row calls the derived save the same way.
    #[inline(never)]
    fn save_to_slice_called(d: &mut DeviceMix, arr: &mut [u8], ctx: &Context) -> usize {
        d.save_to_slice(arr, ctx).unwrap()
    }
    g.bench_function("derived_array_called", |b| {
        b.iter(|| {
            save_to_slice_called(black_box(&mut dev), &mut arr, &ctx);
            black_box(&arr);
        })
    });
    g.bench_function("byteorder", |b| {
        b.iter(|| {
            out.clear();
            hand_save(black_box(&dev), &mut out).unwrap();
            black_box(&out);
        })
    });
    g.bench_function("binrw", |b| {
        b.iter(|| {
            out.clear();
            black_box(&br).write(&mut Cursor::new(&mut out)).unwrap();
            black_box(&out);
        })
    });
    g.bench_function("generic", |b| {
        b.iter(|| {
            out.clear();
            generic::encode_struct(&desc, black_box(&value), &mut out).unwrap();
            black_box(&out);
        })
    });
    g.finish();

    let mut target = DeviceMix::default();
    let mut g = c.benchmark_group("device_mix/load");
    g.throughput(Throughput::Bytes(PAYLOAD_LEN as u64));
    derived_and_tight_loads(&mut g, &bytes, VERSION, &ctx, tight::load_mix);
    g.bench_function("byteorder_in_place", |b| {
        b.iter(|| {
            let mut r = black_box(&bytes[..]);
            hand_load(&mut target, &mut r, VERSION).unwrap();
            black_box(&target);
        })
    });
    g.bench_function("byteorder_into_clone", |b| {
        b.iter(|| {
            let mut r = black_box(&bytes[..]);
            let mut scratch = target.clone();
            hand_load(&mut scratch, &mut r, VERSION).unwrap();
            target = scratch;
            black_box(&target);
        })
    });
    g.bench_function("binrw", |b| {
        b.iter(|| {
            let mut cur = Cursor::new(black_box(&bytes[..]));
            black_box(BrMix::read_args(&mut cur, (VERSION,)).unwrap());
        })
    });
    g.bench_function("generic", |b| {
        b.iter(|| black_box(generic::decode_payload(&desc, black_box(&bytes), 0).unwrap()))
    });
    g.finish();
}

fn device356(c: &mut Criterion) {
    let ctx = Context::new();
    let mut dev = Device356::sample();
    let bytes = same_bytes_356(&mut dev, &ctx);
    let len = device356::PAYLOAD_LEN;
    let version = device356::VERSION;

    let mut g = c.benchmark_group("device356/save");
    g.throughput(Throughput::Bytes(len as u64));
    derived_and_tight_vec_saves(&mut g, &mut dev, len, &ctx, tight::save_356_vec);
    derived_and_tight_array_saves::<_, { device356::PAYLOAD_LEN }>(
        &mut g,
        &mut dev,
        &ctx,
        tight::save_356_array,
    );
    g.finish();

    let mut g = c.benchmark_group("device356/load");
    g.throughput(Throughput::Bytes(len as u64));
    derived_and_tight_loads(&mut g, &bytes, version, &ctx, tight::load_356);
    g.finish();
}

fn shapes(c: &mut Criterion) {
    let ctx = Context::new();
    let mut dev = Shapes::sample();
    let bytes = same_bytes_shapes(&mut dev, &ctx);

    let mut g = c.benchmark_group("shapes/save");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    derived_and_tight_vec_saves(
        &mut g,
        &mut dev,
        bytes.len(),
        &ctx,
        tight_shapes::save_shapes_vec,
    );
    g.finish();

    let mut g = c.benchmark_group("shapes/load");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    derived_and_tight_loads(
        &mut g,
        &bytes,
        shapes::VERSION,
        &ctx,
        tight_shapes::load_shapes,
    );
    g.finish();
}

fn fifo(c: &mut Criterion) {
    let ctx = Context::new();
    let mut dev = Fifo::sample();
    let bytes = same_bytes_fifo(&mut dev, &ctx);

    let mut g = c.benchmark_group("fifo/save");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    derived_and_tight_vec_saves(
        &mut g,
        &mut dev,
        bytes.len(),
        &ctx,
        tight_fifo::save_fifo_vec,
    );
    derived_and_tight_array_saves::<_, { fifo::PAYLOAD_LEN }>(
        &mut g,
        &mut dev,
        &ctx,
        tight_fifo::save_fifo_array,
    );
    g.finish();

    let mut g = c.benchmark_group("fifo/load");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    derived_and_tight_loads(&mut g, &bytes, fifo::VERSION, &ctx, tight_fifo::load_fifo);
    g.finish();
}

/// The save rows every device has: the derived save and the tight one
/// into a reused `Vec`, and into a new one per save (allocation
/// included: `to_bytes` against the tight save into a `Vec` allocated for
/// the payload's `len`).
fn derived_and_tight_vec_saves<T: VmState>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    dev: &mut T,
    len: usize,
    ctx: &Context,
    tight_save: fn(&T, &mut Vec<u8>),
) {
    let mut out: Vec<u8> = Vec::with_capacity(4 * len);
    g.bench_function("derived", |b| {
        b.iter(|| {
            out.clear();
            black_box(&mut *dev)
                .save(&mut Writer::new(&mut out), ctx)
                .unwrap();
            black_box(&out);
        })
    });
    g.bench_function("tight_vec", |b| {
        b.iter(|| {
            out.clear();
            tight_save(black_box(&*dev), &mut out);
            black_box(&out);
        })
    });
    g.bench_function("derived_to_bytes", |b| {
        b.iter(|| black_box(black_box(&mut *dev).to_bytes(ctx).unwrap()))
    });
    g.bench_function("tight_new_vec", |b| {
        b.iter(|| {
            let mut v = Vec::with_capacity(len);
            tight_save(black_box(&*dev), &mut v);
            black_box(v)
        })
    });
}

/// The save rows of a device whose payload has a static size: the
/// derived `save_to_slice` and the tight save into a `[u8; N]` (the
/// bound of a save).
fn derived_and_tight_array_saves<T: VmState, const N: usize>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    dev: &mut T,
    ctx: &Context,
    tight_save: fn(&T, &mut [u8; N]),
) {
    let mut arr = [0u8; N];
    g.bench_function("derived_array", |b| {
        b.iter(|| {
            black_box(&mut *dev).save_to_slice(&mut arr, ctx).unwrap();
            black_box(&arr);
        })
    });
    g.bench_function("tight_array", |b| {
        b.iter(|| {
            tight_save(black_box(&*dev), &mut arr);
            black_box(&arr);
        })
    });
}

/// The load rows every device has: derived in place and transactional,
/// and the tight hand-written loader in place and into a clone.
fn derived_and_tight_loads<T: VmState + Clone + Default>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    bytes: &[u8],
    version: u32,
    ctx: &Context,
    tight_load: fn(&mut T, &mut &[u8], u32) -> Result<(), tight::Bad>,
) {
    let mut target = T::default();
    g.bench_function("derived_in_place", |b| {
        b.iter(|| {
            let mut r = Reader::from_slice(black_box(bytes));
            target.load_state_in_place(&mut r, version, ctx).unwrap();
            black_box(&target);
        })
    });
    g.bench_function("derived_transactional", |b| {
        b.iter(|| {
            let mut r = Reader::from_slice(black_box(bytes));
            target.load(&mut r, version, ctx).unwrap();
            black_box(&target);
        })
    });
    g.bench_function("tight_in_place", |b| {
        b.iter(|| {
            let mut r = black_box(bytes);
            tight_load(&mut target, &mut r, version).unwrap();
            black_box(&target);
        })
    });
    g.bench_function("tight_into_clone", |b| {
        b.iter(|| {
            let mut r = black_box(bytes);
            let mut scratch = target.clone();
            tight_load(&mut scratch, &mut r, version).unwrap();
            target = scratch;
            black_box(&target);
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = device_mix, device356, shapes, fifo
}
criterion_main!(benches);
