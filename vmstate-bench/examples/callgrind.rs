//! A driver for `valgrind --tool=callgrind`: runs one operation of the
//! benches N times, each call in its own `#[inline(never)]` function, so
//! that instructions per operation can be read off a profile (callgrind
//! counts instructions, which do not depend on the machine's load).
//!
//! ```sh
//! CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
//!   cargo build --release -p vmstate-bench --example callgrind
//! valgrind --tool=callgrind --callgrind-out-file=cg.out \
//!   target/release/examples/callgrind mix_load_derived 10000
//! callgrind_annotate cg.out
//! ```
//!
//! `callgrind list` prints the operations; `callgrind pch_list` the pc.mig
//! sections of the `pch_*` operations, which take the section from `$PCH`
//! (`PCH=cpu.0 callgrind pch_all 1000` runs each of them 1000 times; see
//! `callgrind_table.py`).

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::io::Cursor;

use binrw::{BinRead, BinWrite};
use common::pc_tight::{self, Hand, Visit};
use common::{
    hand_load, hand_save, same_bytes_356, same_bytes_everywhere, struct_desc, tight, BrMix,
};
use vmstate_bench::bulk::{BulkU32, BulkU64, BulkU8, BULK_BYTES};
use vmstate_bench::device::{DeviceMix, PAYLOAD_LEN, VERSION};
use vmstate_bench::device356::{self, Device356};
use vmstate_bench::pc::PC_MIG;
use vmstate_core::{Context, Reader, VmState, Writer};
use vmstate_migration::{generic, ReadOptions, SectionKind, Stream, StructDesc, StructValue};
use vmstate_qemu::registry::{self, Mirror};

struct Env {
    ctx: Context,
    dev: DeviceMix,
    target: DeviceMix,
    bytes: Vec<u8>,
    br: BrMix,
    desc: StructDesc,
    value: StructValue,
    out: Vec<u8>,
    arr: [u8; PAYLOAD_LEN],
    pc: Vec<(u32, Vec<u8>, Box<dyn Mirror>)>,
    d356: Device356,
    t356: Device356,
    b356: Vec<u8>,
    arr356: [u8; device356::PAYLOAD_LEN],
    u8s: Box<BulkU8>,
    u32s: Box<BulkU32>,
    u64s: Box<BulkU64>,
    bulk_u8: Vec<u8>,
    bulk_u32: Vec<u8>,
    bulk_u64: Vec<u8>,
}

#[inline(never)]
fn mix_save_derived(e: &mut Env) {
    e.out.clear();
    e.dev.save(&mut Writer::new(&mut e.out), &e.ctx).unwrap();
}

#[inline(never)]
fn mix_save_derived_array(e: &mut Env) {
    e.dev.save_to_slice(&mut e.arr, &e.ctx).unwrap();
    black_box(&e.arr);
}

#[inline(never)]
fn mix_save_byteorder(e: &mut Env) {
    e.out.clear();
    hand_save(&e.dev, &mut e.out).unwrap();
}

#[inline(never)]
fn mix_save_binrw(e: &mut Env) {
    e.out.clear();
    e.br.write(&mut Cursor::new(&mut e.out)).unwrap();
}

#[inline(never)]
fn mix_load_derived(e: &mut Env) {
    let mut r = Reader::from_slice(&e.bytes);
    e.target
        .load_state_in_place(&mut r, VERSION, &e.ctx)
        .unwrap();
}

#[inline(never)]
fn mix_load_transactional(e: &mut Env) {
    let mut r = Reader::from_slice(&e.bytes);
    e.target.load(&mut r, VERSION, &e.ctx).unwrap();
}

#[inline(never)]
fn mix_load_byteorder(e: &mut Env) {
    let mut r = &e.bytes[..];
    hand_load(&mut e.target, &mut r, VERSION).unwrap();
}

#[inline(never)]
fn mix_load_byteorder_into_clone(e: &mut Env) {
    let mut r = &e.bytes[..];
    let mut scratch = e.target.clone();
    hand_load(&mut scratch, &mut r, VERSION).unwrap();
    e.target = scratch;
}

#[inline(never)]
fn mix_load_binrw(e: &mut Env) {
    let mut cur = Cursor::new(&e.bytes[..]);
    black_box(BrMix::read_args(&mut cur, (VERSION,)).unwrap());
}

#[inline(never)]
fn mix_save_generic(e: &mut Env) {
    e.out.clear();
    generic::encode_struct(&e.desc, &e.value, &mut e.out).unwrap();
}

#[inline(never)]
fn mix_load_generic(e: &mut Env) {
    black_box(generic::decode_payload(&e.desc, &e.bytes, 0).unwrap());
}

#[inline(never)]
fn bulk_u8_save(e: &mut Env) {
    e.out.clear();
    e.u8s.save(&mut Writer::new(&mut e.out), &e.ctx).unwrap();
}

#[inline(never)]
fn bulk_u8_load(e: &mut Env) {
    let mut r = Reader::from_slice(&e.bulk_u8);
    e.u8s.load_state_in_place(&mut r, 1, &e.ctx).unwrap();
}

#[inline(never)]
fn bulk_u32_save(e: &mut Env) {
    e.out.clear();
    e.u32s.save(&mut Writer::new(&mut e.out), &e.ctx).unwrap();
}

#[inline(never)]
fn bulk_u32_load(e: &mut Env) {
    let mut r = Reader::from_slice(&e.bulk_u32);
    e.u32s.load_state_in_place(&mut r, 1, &e.ctx).unwrap();
}

#[inline(never)]
fn bulk_u64_save(e: &mut Env) {
    e.out.clear();
    e.u64s.save(&mut Writer::new(&mut e.out), &e.ctx).unwrap();
}

#[inline(never)]
fn bulk_u64_load(e: &mut Env) {
    let mut r = Reader::from_slice(&e.bulk_u64);
    e.u64s.load_state_in_place(&mut r, 1, &e.ctx).unwrap();
}

#[inline(never)]
fn memcpy_1mib(e: &mut Env) {
    e.out.clear();
    e.out.extend_from_slice(&e.bulk_u8);
}

#[inline(never)]
fn mix_save_tight_vec(e: &mut Env) {
    e.out.clear();
    tight::save_mix_vec(&e.dev, &mut e.out);
}

#[inline(never)]
fn mix_save_tight_array(e: &mut Env) {
    tight::save_mix_array(&e.dev, &mut e.arr);
    black_box(&e.arr);
}

#[inline(never)]
fn mix_load_tight(e: &mut Env) {
    let mut r = &e.bytes[..];
    tight::load_mix(&mut e.target, &mut r, VERSION).unwrap();
}

#[inline(never)]
fn mix_load_tight_into_clone(e: &mut Env) {
    let mut r = &e.bytes[..];
    let mut scratch = e.target.clone();
    tight::load_mix(&mut scratch, &mut r, VERSION).unwrap();
    e.target = scratch;
}

#[inline(never)]
fn d356_save_derived(e: &mut Env) {
    e.out.clear();
    e.d356.save(&mut Writer::new(&mut e.out), &e.ctx).unwrap();
}

#[inline(never)]
fn d356_save_derived_array(e: &mut Env) {
    e.d356.save_to_slice(&mut e.arr356, &e.ctx).unwrap();
    black_box(&e.arr356);
}

#[inline(never)]
fn d356_save_tight_vec(e: &mut Env) {
    e.out.clear();
    tight::save_356_vec(&e.d356, &mut e.out);
}

#[inline(never)]
fn d356_save_tight_array(e: &mut Env) {
    tight::save_356_array(&e.d356, &mut e.arr356);
    black_box(&e.arr356);
}

#[inline(never)]
fn d356_load_derived(e: &mut Env) {
    let mut r = Reader::from_slice(&e.b356);
    e.t356
        .load_state_in_place(&mut r, device356::VERSION, &e.ctx)
        .unwrap();
}

#[inline(never)]
fn d356_load_transactional(e: &mut Env) {
    let mut r = Reader::from_slice(&e.b356);
    e.t356.load(&mut r, device356::VERSION, &e.ctx).unwrap();
}

#[inline(never)]
fn d356_load_tight(e: &mut Env) {
    let mut r = &e.b356[..];
    tight::load_356(&mut e.t356, &mut r, device356::VERSION).unwrap();
}

#[inline(never)]
fn d356_load_tight_into_clone(e: &mut Env) {
    let mut r = &e.b356[..];
    let mut scratch = e.t356.clone();
    tight::load_356(&mut scratch, &mut r, device356::VERSION).unwrap();
    e.t356 = scratch;
}

/// The FULL sections of pc.mig with fresh catalog mirrors: all of them,
/// or the one whose `idstr.instance` is `$PC_ID`.
fn pc_sections(ctx: &Context) -> Vec<(u32, Vec<u8>, Box<dyn Mirror>)> {
    let only = std::env::var("PC_ID").ok();
    let stream = Stream::parse(PC_MIG, ReadOptions::default()).unwrap();
    let mut out = Vec::new();
    for s in stream.sections().filter(|s| s.kind == SectionKind::Full) {
        let id = format!("{}.{}", s.idstr, s.instance_id);
        if only.as_ref().is_some_and(|o| *o != id) {
            continue;
        }
        let payload = s.vmsd().unwrap().bytes.clone();
        let mut mirror = (registry::lookup(&s.idstr).unwrap().new_mirror)();
        mirror
            .as_target()
            .load_section(&payload, s.version_id, ctx)
            .unwrap();
        out.push((s.version_id, payload, mirror));
    }
    assert!(!out.is_empty());
    out
}

#[inline(never)]
fn pc_load(e: &mut Env) {
    for (version, payload, mirror) in &mut e.pc {
        mirror
            .as_target()
            .load_section(payload, *version, &e.ctx)
            .unwrap();
    }
}

#[inline(never)]
fn pc_save(e: &mut Env) {
    e.out.clear();
    for (_, _, mirror) in &mut e.pc {
        mirror.save_into(&mut e.out, &e.ctx).unwrap();
    }
}

type Op = fn(&mut Env);

const OPS: &[(&str, Op)] = &[
    ("mix_save_derived", mix_save_derived),
    ("mix_save_derived_array", mix_save_derived_array),
    ("mix_save_byteorder", mix_save_byteorder),
    ("mix_save_binrw", mix_save_binrw),
    ("pc_load", pc_load),
    ("pc_save", pc_save),
    ("mix_save_tight_vec", mix_save_tight_vec),
    ("mix_save_tight_array", mix_save_tight_array),
    ("mix_load_tight", mix_load_tight),
    ("mix_load_tight_into_clone", mix_load_tight_into_clone),
    ("d356_save_derived", d356_save_derived),
    ("d356_save_derived_array", d356_save_derived_array),
    ("d356_save_tight_vec", d356_save_tight_vec),
    ("d356_save_tight_array", d356_save_tight_array),
    ("d356_load_derived", d356_load_derived),
    ("d356_load_transactional", d356_load_transactional),
    ("d356_load_tight", d356_load_tight),
    ("d356_load_tight_into_clone", d356_load_tight_into_clone),
    ("mix_load_derived", mix_load_derived),
    ("mix_load_transactional", mix_load_transactional),
    ("mix_load_byteorder", mix_load_byteorder),
    (
        "mix_load_byteorder_into_clone",
        mix_load_byteorder_into_clone,
    ),
    ("mix_load_binrw", mix_load_binrw),
    ("mix_save_generic", mix_save_generic),
    ("mix_load_generic", mix_load_generic),
    ("bulk_u8_save", bulk_u8_save),
    ("bulk_u8_load", bulk_u8_load),
    ("bulk_u32_save", bulk_u32_save),
    ("bulk_u32_load", bulk_u32_load),
    ("bulk_u64_save", bulk_u64_save),
    ("bulk_u64_load", bulk_u64_load),
    ("memcpy_1mib", memcpy_1mib),
];

/// `pch_*`: one op on the pc.mig section `$PCH` (a label of
/// `pc_tight::for_each`, e.g. `cpu.0`); `pch_all` runs every op `n` times
/// in turn, each in its own function, so that one profile gives the
/// inclusive instructions of each (`callgrind_table.py`).
struct Pch {
    label: String,
    op: String,
    n: u64,
    found: bool,
}

#[inline(never)]
fn pch_load_derived<T: Hand>(t: &mut T, bytes: &[u8], v: u32, ctx: &Context) {
    t.load_state_in_place(&mut Reader::from_slice(bytes), v, ctx)
        .unwrap();
}

#[inline(never)]
fn pch_load_transactional<T: Hand>(t: &mut T, bytes: &[u8], v: u32, ctx: &Context) {
    t.load(&mut Reader::from_slice(bytes), v, ctx).unwrap();
}

#[inline(never)]
fn pch_load_tight<T: Hand>(t: &mut T, bytes: &[u8], v: u32) {
    t.tight_load(&mut &bytes[..], v).unwrap();
}

#[inline(never)]
fn pch_load_tight_into_clone<T: Hand>(t: &mut T, bytes: &[u8], v: u32) {
    let mut scratch = t.clone();
    scratch.tight_load(&mut &bytes[..], v).unwrap();
    *t = scratch;
}

#[inline(never)]
fn pch_save_derived<T: Hand>(t: &mut T, out: &mut Vec<u8>, ctx: &Context) {
    out.clear();
    t.save(&mut Writer::new(out), ctx).unwrap();
}

#[inline(never)]
fn pch_save_derived_array<T: Hand>(t: &mut T, arr: &mut T::Arr, ctx: &Context) {
    t.save_to_slice(arr.as_mut(), ctx).unwrap();
}

#[inline(never)]
fn pch_save_tight_vec<T: Hand>(t: &T, out: &mut Vec<u8>) {
    out.clear();
    t.tight_save_vec(out);
}

#[inline(never)]
fn pch_save_tight_array<T: Hand>(t: &T, arr: &mut T::Arr) {
    t.tight_save_array(arr);
}

/// The ops of one section, in the order `pch_all` runs them.
const PCH_OPS: &[&str] = &[
    "pch_load_derived",
    "pch_load_tight",
    "pch_load_transactional",
    "pch_load_tight_into_clone",
    "pch_save_derived",
    "pch_save_derived_array",
    "pch_save_tight_vec",
    "pch_save_tight_array",
];

impl Visit for Pch {
    fn visit<T: Hand>(&mut self, label: &str, idstr: &str, instance: u32) {
        if label != self.label {
            return;
        }
        self.found = true;
        let ctx = Context::new();
        let (v, bytes, mut t) = pc_tight::checked::<T>(label, idstr, instance);
        let mut out = Vec::with_capacity(4 * bytes.len());
        let mut arr = T::arr();
        for &op in PCH_OPS {
            if self.op != op && self.op != "pch_all" {
                continue;
            }
            if op.ends_with("_array") && !T::STATIC {
                continue;
            }
            // One loop per op: the per-call overhead is the loop's.
            let (t, n) = (&mut t, self.n);
            match op {
                "pch_load_derived" => {
                    (0..n).for_each(|_| pch_load_derived(black_box(&mut *t), &bytes, v, &ctx))
                }
                "pch_load_transactional" => {
                    (0..n).for_each(|_| pch_load_transactional(black_box(&mut *t), &bytes, v, &ctx))
                }
                "pch_load_tight" => {
                    (0..n).for_each(|_| pch_load_tight(black_box(&mut *t), &bytes, v))
                }
                "pch_load_tight_into_clone" => {
                    (0..n).for_each(|_| pch_load_tight_into_clone(black_box(&mut *t), &bytes, v))
                }
                "pch_save_derived" => {
                    (0..n).for_each(|_| pch_save_derived(black_box(&mut *t), &mut out, &ctx))
                }
                "pch_save_derived_array" => {
                    (0..n).for_each(|_| pch_save_derived_array(black_box(&mut *t), &mut arr, &ctx))
                }
                "pch_save_tight_vec" => {
                    (0..n).for_each(|_| pch_save_tight_vec(black_box(&*t), &mut out))
                }
                _ => (0..n).for_each(|_| pch_save_tight_array(black_box(&*t), &mut arr)),
            }
        }
        black_box((&out, arr.as_ref()));
    }
}

/// Prints the section labels.
struct Labels;

impl Visit for Labels {
    fn visit<T: Hand>(&mut self, label: &str, _: &str, _: u32) {
        println!("{label} {}", if T::STATIC { "static" } else { "-" });
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map(String::as_str).unwrap_or("list");
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    if name == "pch_list" {
        pc_tight::for_each(&mut Labels);
        return;
    }
    if name.starts_with("pch_") {
        let mut p = Pch {
            label: std::env::var("PCH").unwrap_or_else(|_| "i8259.0".into()),
            op: name.into(),
            n,
            found: false,
        };
        pc_tight::for_each(&mut p);
        assert!(p.found, "no section {} (see `pch_list`)", p.label);
        eprintln!("{name} {}: {n} calls", p.label);
        return;
    }
    let Some(&(_, op)) = OPS.iter().find(|(o, _)| *o == name) else {
        for (o, _) in OPS {
            println!("{o}");
        }
        return;
    };

    let ctx = Context::new();
    let mut dev = DeviceMix::sample();
    let bytes = same_bytes_everywhere(&mut dev, &ctx);
    let br = BrMix::from(&dev);
    let desc = struct_desc(DeviceMix::VMSD);
    let value = generic::decode_payload(&desc, &bytes, 0).unwrap();
    let mut d356 = Device356::sample();
    let b356 = same_bytes_356(&mut d356, &ctx);
    let mut env = Env {
        arr: [0; PAYLOAD_LEN],
        pc: if name.starts_with("pc_") {
            pc_sections(&ctx)
        } else {
            Vec::new()
        },
        d356,
        t356: Device356::default(),
        b356,
        arr356: [0; device356::PAYLOAD_LEN],
        ctx,
        target: DeviceMix::default(),
        bytes,
        br,
        desc,
        value,
        dev,
        out: Vec::with_capacity(2 * BULK_BYTES),
        u8s: BulkU8::boxed_pattern(),
        u32s: BulkU32::boxed_pattern(),
        u64s: BulkU64::boxed_pattern(),
        bulk_u8: Vec::new(),
        bulk_u32: Vec::new(),
        bulk_u64: Vec::new(),
    };
    env.bulk_u8 = env.u8s.to_bytes(&env.ctx).unwrap();
    env.bulk_u32 = env.u32s.to_bytes(&env.ctx).unwrap();
    env.bulk_u64 = env.u64s.to_bytes(&env.ctx).unwrap();
    // Check the hand-written load agrees once more (and use it).
    let mut back = DeviceMix::default();
    hand_load(&mut back, &mut &env.bytes[..], VERSION).unwrap();
    assert_eq!(back, env.dev);
    let mut out = Vec::new();
    hand_save(&back, &mut out).unwrap();
    assert_eq!(out, env.bytes);

    for _ in 0..n {
        op(black_box(&mut env));
    }
    black_box(&env.out);
    eprintln!("{name}: {n} calls");
}
