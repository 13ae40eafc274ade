//! Five pc.mig sections (i8259 x2, ioapic, cpu_common, port92, pcspk)
//! against the tight hand-written code of `common/pc_tight.rs`: the
//! derived in-place and transactional loads of the catalog mirror, the
//! hand loader in place and into a clone, the derived save into a `Vec`,
//! `to_be_bytes` into a `Vec`, and for i8259 and ioapic the `[u8; N]`
//! bound. Values and bytes are checked equal before timing.
//!
//! `cargo bench -p vmstate-bench --bench pc_hand`

mod common;

use std::fmt::Debug;
use std::hint::black_box;
use std::time::Duration;

use common::pc_tight::{self as pt, payload};
use common::tight::Bad;
use criterion::{criterion_group, criterion_main, Criterion};
use vmstate_core::{Context, Reader, VmState, Writer};

type Load<T> = fn(&mut T, &mut &[u8], u32) -> Result<(), Bad>;

/// Rows `pc_hand/LABEL/...` for one section.
fn rows<T: VmState + Clone + Default + PartialEq + Debug>(
    c: &mut Criterion,
    label: &str,
    (idstr, instance): (&str, u32),
    hand_load: Load<T>,
    hand_save: Option<fn(&T, &mut Vec<u8>)>,
) -> T {
    let ctx = Context::new();
    let (version, bytes) = payload(idstr, instance);
    let mut derived = T::default();
    derived.load_exact(&bytes, version, &ctx).unwrap();
    let mut hand = T::default();
    let mut rest = &bytes[..];
    hand_load(&mut hand, &mut rest, version).unwrap();
    assert_eq!((&hand, rest.len()), (&derived, 0), "{label}: hand load");
    if let Some(save) = hand_save {
        let mut out = Vec::new();
        save(&hand, &mut out);
        assert_eq!(out, bytes, "{label}: hand save");
    }
    assert_eq!(
        derived.to_bytes(&ctx).unwrap(),
        bytes,
        "{label}: derived save"
    );

    let mut g = c.benchmark_group(format!("pc_hand/{label}"));
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
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
            hand_load(&mut target, &mut r, version).unwrap();
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
            hand_load(&mut scratch, &mut r, version).unwrap();
            target = scratch;
            black_box(&target);
        })
    });
    let mut out = Vec::with_capacity(4096);
    g.bench_function("save_derived", |b| {
        b.iter(|| {
            out.clear();
            black_box(&mut derived)
                .save(&mut Writer::new(&mut out), &ctx)
                .unwrap();
            black_box(&out);
        })
    });
    if let Some(save) = hand_save {
        g.bench_function("save_tight_vec", |b| {
            b.iter(|| {
                out.clear();
                save(black_box(&hand), &mut out);
                black_box(&out);
            })
        });
    }
    g.finish();
    hand
}

fn pc_hand(c: &mut Criterion) {
    let pic = rows(
        c,
        "i8259.0",
        ("i8259", 0),
        pt::load_i8259,
        Some(pt::save_i8259_vec),
    );
    let mut arr = [0u8; 16];
    c.bench_function("pc_hand/i8259.0/save_tight_array", |b| {
        b.iter(|| {
            pt::save_i8259_array(black_box(&pic), &mut arr);
            black_box(&arr);
        })
    });
    rows(
        c,
        "i8259.1",
        ("i8259", 1),
        pt::load_i8259,
        Some(pt::save_i8259_vec),
    );
    let ioapic = rows(
        c,
        "ioapic.0",
        ("ioapic", 0),
        pt::load_ioapic,
        Some(pt::save_ioapic_vec),
    );
    let mut arr = [0u8; 206];
    c.bench_function("pc_hand/ioapic.0/save_tight_array", |b| {
        b.iter(|| {
            pt::save_ioapic_array(black_box(&ioapic), &mut arr);
            black_box(&arr);
        })
    });
    rows(
        c,
        "cpu_common.0",
        ("cpu_common", 0),
        pt::load_cpu_common,
        Some(pt::save_cpu_common_vec),
    );
    rows(c, "port92.0", ("port92", 0), pt::load_port92, None);
    rows(c, "pcspk.0", ("pcspk", 0), pt::load_pcspk, None);
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = pc_hand
}
criterion_main!(benches);
