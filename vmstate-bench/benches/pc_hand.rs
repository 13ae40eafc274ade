//! Every FULL section of pc.mig against the tight hand-written code of
//! `common/pc_tight/`: the derived in-place and transactional loads of the
//! catalog mirror, the hand loader in place and into a clone, the derived
//! save into a `Vec`, the hand save into a `Vec`, and for the sections
//! whose save has a static size the derived `save_to_slice` and the hand
//! save into a `[u8; N]`. Values and bytes are checked equal before
//! timing (`pc_tight::checked`).
//!
//! `cargo bench -p vmstate-bench --bench pc_hand` (`-- SECTION` for one,
//! e.g. `-- pc_hand/cpu.0`).

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::pc_tight::{self, checked, Hand, Visit};
use criterion::{criterion_group, criterion_main, Criterion};
use vmstate_core::{Context, Reader, Writer};

struct Rows<'a>(&'a mut Criterion);

impl Visit for Rows<'_> {
    /// Rows `pc_hand/LABEL/...` for one section.
    fn visit<T: Hand>(&mut self, label: &str, idstr: &str, instance: u32) {
        let ctx = Context::new();
        let (version, bytes, hand) = checked::<T>(label, idstr, instance);
        let mut derived = hand.clone();

        let mut g = self.0.benchmark_group(format!("pc_hand/{label}"));
        g.warm_up_time(Duration::from_millis(300));
        g.measurement_time(Duration::from_secs(1));
        let mut target = T::default();
        g.bench_function("derived_in_place", |b| {
            b.iter(|| {
                let mut r = Reader::from_slice(black_box(&bytes));
                target.load_state_in_place(&mut r, version, &ctx).unwrap();
                black_box(&target);
            })
        });
        g.bench_function("tight_in_place", |b| {
            b.iter(|| {
                let mut r = black_box(&bytes[..]);
                target.tight_load(&mut r, version).unwrap();
                black_box(&target);
            })
        });
        g.bench_function("derived_transactional", |b| {
            b.iter(|| {
                let mut r = Reader::from_slice(black_box(&bytes));
                target.load(&mut r, version, &ctx).unwrap();
                black_box(&target);
            })
        });
        g.bench_function("tight_into_clone", |b| {
            b.iter(|| {
                let mut r = black_box(&bytes[..]);
                let mut scratch = target.clone();
                scratch.tight_load(&mut r, version).unwrap();
                target = scratch;
                black_box(&target);
            })
        });
        let mut out = Vec::with_capacity(4 * bytes.len());
        g.bench_function("save_derived", |b| {
            b.iter(|| {
                out.clear();
                black_box(&mut derived)
                    .save(&mut Writer::new(&mut out), &ctx)
                    .unwrap();
                black_box(&out);
            })
        });
        g.bench_function("save_tight_vec", |b| {
            b.iter(|| {
                out.clear();
                black_box(&hand).tight_save_vec(&mut out);
                black_box(&out);
            })
        });
        if T::STATIC {
            let mut arr = T::arr();
            g.bench_function("save_derived_array", |b| {
                b.iter(|| {
                    black_box(&mut derived)
                        .save_to_slice(arr.as_mut(), &ctx)
                        .unwrap();
                    black_box(&arr);
                })
            });
            g.bench_function("save_tight_array", |b| {
                b.iter(|| {
                    black_box(&hand).tight_save_array(&mut arr);
                    black_box(&arr);
                })
            });
        }
        g.finish();
    }
}

fn pc_hand(c: &mut Criterion) {
    pc_tight::for_each(&mut Rows(c));
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = pc_hand
}
criterion_main!(benches);
