//! Shared code of the fuzz targets: the properties every derived load must
//! have on any input, the devices fuzzed that are not in `vmstate-qemu`'s
//! catalog, and the input framing.
//!
//! Input framing of the derived-load targets (`derived_*`, `catalog`):
//!
//! ```text
//! byte 0   stream version selector: version = byte % (VMSD.version_id + 2)
//! byte 1   context flags: bit 0 strict bools, bit 1 duplicate subsections
//!          loaded each time, bit 2 max_vec_len = 64 (else 2^20)
//! rest     the section payload
//! ```
//!
//! The seeds (`examples/make_seeds.rs`) use version = the description's own
//! and flags = 0, with payloads from the fixtures and the QEMU vectors.

use std::collections::{BTreeMap, LinkedList, VecDeque};
use std::fmt::Debug;

use vmstate_core::types::Timer;
use vmstate_core::{Context, DuplicateSubsections, ErrorKind, Reader, VmState, Vmsd};

/// Splits a fuzz input into (version, context, payload) for `T`.
pub fn frame<T: VmState>(data: &[u8]) -> Option<(u32, Context, &[u8])> {
    let (&v, rest) = data.split_first()?;
    let (&flags, payload) = rest.split_first()?;
    let version = u32::from(v) % (T::VMSD.version_id + 2);
    Some((version, context(flags), payload))
}

/// The context encoded by a flags byte.
pub fn context(flags: u8) -> Context {
    let mut ctx = Context::new()
        .with_strict_bool(flags & 1 != 0)
        .with_max_vec_len(if flags & 4 != 0 { 64 } else { 1 << 20 });
    if flags & 2 != 0 {
        ctx = ctx.with_duplicate_subsections(DuplicateSubsections::LoadEach);
    }
    ctx
}

/// Builds a fuzz input for `T` (used by the seed generator).
pub fn input_for<T: VmState>(payload: &[u8]) -> Vec<u8> {
    let mut v = vec![T::VMSD.version_id as u8, 0];
    v.extend_from_slice(payload);
    v
}

/// The properties of a derived load on arbitrary bytes:
///
/// * it does not panic (the fuzzer reports any panic);
/// * the slice reader and the buffered `Read` reader agree (same value and
///   bytes consumed, or the same error kind, offset and path);
/// * a failed load leaves the destination exactly as it was;
/// * a successful load saves again, and those bytes load back (at the
///   description's version) to a value that saves to the same bytes: the
///   saved form is a fixed point.
pub fn check_load<T>(dst: &T, payload: &[u8], version: u32, ctx: &Context)
where
    T: VmState + Clone + PartialEq + Debug,
{
    let mut a = dst.clone();
    let mut ra = Reader::from_slice(payload);
    let res_a = a.load(&mut ra, version, ctx);

    let mut b = dst.clone();
    let mut rb = Reader::new(payload);
    let res_b = b.load(&mut rb, version, ctx);

    match (res_a, res_b) {
        (Ok(()), Ok(())) => {
            assert_eq!(a, b, "slice and io readers loaded different values");
            assert_eq!(
                ra.offset(),
                rb.offset(),
                "readers consumed different lengths"
            );
            assert!(ra.offset() <= payload.len() as u64);
            let saved = a
                .clone()
                .to_bytes(ctx)
                .unwrap_or_else(|e| panic!("a loaded value does not save again: {e}"));
            // Data that looks like a subsection header right after a
            // nested description is read as one (QEMU's peek rule), so such
            // a value does not survive a save; see `subsection_lookalike`.
            if subsection_lookalike(T::VMSD, &saved) {
                return;
            }
            // The reload lifts the `Vec` limit: the destination's own
            // state (its `Default`) may hold more than a small fuzzed limit.
            let reload_ctx = ctx.with_max_vec_len(u64::MAX);
            let mut c = dst.clone();
            let mut rc = Reader::from_slice(&saved);
            c.load(&mut rc, T::VMSD.version_id, &reload_ctx)
                .unwrap_or_else(|e| panic!("saved bytes do not load back: {e}"));
            assert_eq!(rc.offset(), saved.len() as u64, "reload left bytes");
            let again = c
                .to_bytes(ctx)
                .unwrap_or_else(|e| panic!("reloaded value does not save: {e}"));
            assert_eq!(again, saved, "save is not a fixed point");
        }
        (Err(ea), Err(eb)) => {
            assert!(a == *dst, "failed load changed the destination: {ea}");
            assert!(b == *dst, "failed io load changed the destination: {eb}");
            // An in-memory reader knows how many bytes are left and may
            // refuse a length up front (at the field); the io reader finds
            // the end later. Otherwise the two fail identically.
            let eof = |e: &vmstate_core::Error| matches!(e.kind(), ErrorKind::UnexpectedEof { .. });
            if eof(&ea) && eof(&eb) {
                assert!(ea.offset() <= eb.offset(), "slice {ea} / io {eb}");
                assert!(eb.path().starts_with(&ea.path()), "slice {ea} / io {eb}");
            } else {
                assert_eq!(
                    (format!("{:?}", ea.kind()), ea.offset(), ea.path()),
                    (format!("{:?}", eb.kind()), eb.offset(), eb.path()),
                    "slice and io readers failed differently"
                );
            }
            // Every error renders (and names an offset inside the input,
            // or just past it for end of stream).
            let _ = ea.to_string();
            assert!(ea.offset() <= payload.len() as u64, "{ea}");
        }
        (Ok(()), Err(e)) => {
            // The buffered reader peeks a subsection name across refills
            // exactly like the slice reader; only an I/O error may differ.
            assert!(
                matches!(e.kind(), ErrorKind::Io),
                "only the io reader failed: {e}"
            );
        }
        (Err(e), Ok(())) => panic!("only the slice reader failed: {e}"),
    }
}

/// Whether `bytes` hold `05`, a length byte and then the name of one of the
/// descriptions of `vmsd` (itself, its nested ones, its subsections): the
/// wire form of a subsection header. Loading peeks for exactly that after
/// every nested description (QEMU's `vmstate_subsection_load`), so a value
/// whose *data* has this shape at such a position saves to bytes that load
/// differently. This is a property of QEMU's format (finding F1 in
/// FUZZING.md), not something a load can avoid.
pub fn subsection_lookalike(vmsd: &Vmsd, bytes: &[u8]) -> bool {
    let mut names = Vec::new();
    collect_names(vmsd, &mut names, 0);
    // A GTree's key type is not in the description (fields name the value
    // type only), yet QEMU looks for the key's subsections after each key
    // (finding F4): the key types of the fuzzed devices are added here.
    for key in GTREE_KEY_VMSDS {
        collect_names(key, &mut names, 0);
    }
    bytes.windows(2).enumerate().any(|(i, w)| {
        w[0] == 0x05
            && names.iter().any(|n| {
                bytes
                    .get(i + 2..)
                    .is_some_and(|rest| rest.starts_with(n.as_bytes()))
            })
    })
}

/// The descriptions of the GTree key types of the fuzzed devices.
const GTREE_KEY_VMSDS: [&Vmsd; 1] = [&Interval::VMSD];

fn collect_names(vmsd: &Vmsd, out: &mut Vec<&'static str>, depth: usize) {
    if depth > 16 || out.contains(&vmsd.name) {
        return;
    }
    out.push(vmsd.name);
    for f in vmsd.fields {
        if let Some(v) = f.vmsd {
            collect_names(v, out, depth + 1);
        }
    }
    for s in vmsd.subsections {
        collect_names(s.vmsd, out, depth + 1);
    }
}

// ---------------------------------------------------------------------------
// hpet (hw/timer/hpet.c): a validated count over a struct array
// ---------------------------------------------------------------------------

/// `vmstate_hpet_timer`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet_timer", version = 1, minimum_version = 1)]
pub struct HpetTimer {
    pub tn: u8,
    pub config: u64,
    pub cmp: u64,
    pub fsb: u64,
    pub period: u64,
    pub wrap_flag: u8,
    pub qemu_timer: Timer,
}

/// `hpet/rtc_irq_level`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet/rtc_irq_level", version = 1, minimum_version = 1)]
pub struct HpetRtcIrqLevel {
    pub rtc_irq_level: u8,
}

/// `hpet/offset`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet/offset", version = 1, minimum_version = 1)]
pub struct HpetOffset {
    pub hpet_offset: u64,
}

/// `vmstate_hpet` (7.2) with its two subsections.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "hpet", version = 2, minimum_version = 1, pre_load = Self::pre_load)]
pub struct Hpet {
    pub config: u64,
    pub isr: u64,
    pub hpet_counter: u64,
    #[vmstate(version = 2)]
    pub num_timers: u8,
    #[vmstate(validate = Self::num_timers_ok, rename = "num_timers in range")]
    pub _num_timers_ok: (),
    #[vmstate(count = num_timers)]
    pub timers: [HpetTimer; 32],
    #[vmstate(subsection, needed = Self::rtc_irq_level_needed)]
    pub rtc_irq_level: HpetRtcIrqLevel,
    #[vmstate(subsection, needed = Self::offset_needed)]
    pub offset: HpetOffset,
    #[vmstate(skip)]
    pub offset_saved: bool,
}

impl Default for Hpet {
    fn default() -> Self {
        Hpet {
            config: 0,
            isr: 0,
            hpet_counter: 0,
            num_timers: 3,
            _num_timers_ok: (),
            timers: Default::default(),
            rtc_irq_level: HpetRtcIrqLevel::default(),
            offset: HpetOffset::default(),
            offset_saved: true,
        }
    }
}

impl Hpet {
    fn pre_load(&mut self) -> Result<(), String> {
        self.num_timers = 3;
        Ok(())
    }
    fn num_timers_ok(&self, _version: u32) -> bool {
        (3..=32).contains(&self.num_timers)
    }
    fn rtc_irq_level_needed(&self) -> bool {
        self.rtc_irq_level.rtc_irq_level != 0
    }
    fn offset_needed(&self) -> bool {
        self.offset_saved
    }
}

// ---------------------------------------------------------------------------
// Queues, trees, variable arrays and buffers (the shapes of docs/wire-format.md#queues-and-trees and #arrays)
// ---------------------------------------------------------------------------

/// `test/queue-element`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "test/queue-element", version = 1, minimum_version = 1)]
pub struct QElem {
    pub b: bool,
    pub u8: u8,
}

/// `interval`: a GTree key. QEMU's test compares intervals as equal when
/// they overlap, which is not a total order on hostile keys (finding F2 in
/// FUZZING.md: the tree's order then depends on insertion order); this key
/// orders by `(low, high)` and rejects `low > high` in `post_load`.
#[derive(VmState, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
#[vmstate(name = "interval", version = 1, minimum_version = 1, post_load = Self::check)]
pub struct Interval {
    pub low: u64,
    pub high: u64,
}

impl Interval {
    fn check(&mut self, _version: u32) -> Result<(), &'static str> {
        if self.low > self.high {
            return Err("interval low > high");
        }
        Ok(())
    }
}

/// `mapping`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "mapping", version = 1, minimum_version = 1)]
pub struct Mapping {
    pub phys_addr: u64,
    pub flags: u32,
}

/// `domain`: a GTree with struct keys.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "domain", version = 1, minimum_version = 1)]
pub struct Domain {
    pub id: i32,
    #[vmstate(gtree, version = 1)]
    pub mappings: BTreeMap<Interval, Mapping>,
}

/// `test/tst`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "test/tst", version = 1, minimum_version = 1)]
pub struct Triv {
    pub i: i32,
}

/// Every variable-length kind in one section: a QTAILQ, a QLIST, a GTree
/// with direct keys whose values hold GTrees, count arrays (fixed and
/// `Vec`, with `multiply`), vbuffers, a bitmap, an unused varray, pointer
/// slots and a pointer.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "queues", version = 2, minimum_version = 1)]
pub struct Queues {
    pub i16: i16,
    #[vmstate(qtailq, version = 1)]
    pub q: VecDeque<QElem>,
    #[vmstate(qlist, version = 1)]
    pub list: LinkedList<Triv>,
    #[vmstate(gtree, version = 1)]
    pub domains: BTreeMap<u64, Domain>,
    pub n: u8,
    #[vmstate(count = n)]
    pub fixed: [u16; 8],
    pub m: u32,
    #[vmstate(count = m, multiply = 2)]
    pub grow: Vec<u32>,
    pub len: i32,
    #[vmstate(vbuffer = len)]
    pub buf: Vec<u8>,
    #[vmstate(version = 2)]
    pub bits: u32,
    #[vmstate(bitmap = bits, version = 2)]
    pub bitmap: Vec<u64>,
    #[vmstate(unused = 3, count = n)]
    pub _gap: (),
    pub ptrs: [Option<Box<Triv>>; 3],
    pub boxed: Box<Triv>,
}

impl Default for Queues {
    fn default() -> Self {
        Queues {
            i16: 0,
            q: VecDeque::new(),
            list: LinkedList::new(),
            domains: BTreeMap::new(),
            n: 0,
            fixed: [0; 8],
            m: 0,
            grow: Vec::new(),
            len: 0,
            buf: Vec::new(),
            bits: 0,
            bitmap: Vec::new(),
            _gap: (),
            // The destination's null slot is the middle one.
            ptrs: [Some(Box::default()), None, Some(Box::default())],
            boxed: Box::default(),
        }
    }
}

/// A populated [`Queues`] (seed material).
pub fn queues_sample() -> Queues {
    Queues {
        i16: -512,
        q: VecDeque::from([QElem { b: true, u8: 130 }, QElem { b: false, u8: 65 }]),
        list: [1, 2, 3].into_iter().map(|i| Triv { i }).collect(),
        domains: BTreeMap::from([
            (5, Domain::default()),
            (
                6,
                Domain {
                    id: 6,
                    mappings: BTreeMap::from([
                        (
                            Interval {
                                low: 0x1000,
                                high: 0x1fff,
                            },
                            Mapping {
                                phys_addr: 0xa000,
                                flags: 1,
                            },
                        ),
                        (
                            Interval {
                                low: 0x4000,
                                high: 0x4fff,
                            },
                            Mapping {
                                phys_addr: 0xe000,
                                flags: 2,
                            },
                        ),
                    ]),
                },
            ),
        ]),
        n: 3,
        fixed: [1, 2, 3, 0, 0, 0, 0, 0],
        m: 2,
        grow: vec![10, 11, 12, 13],
        len: 5,
        buf: b"hello".to_vec(),
        bits: 70,
        bitmap: vec![u64::MAX, 0x3f],
        _gap: (),
        ptrs: [
            Some(Box::new(Triv { i: 1 })),
            None,
            Some(Box::new(Triv { i: 3 })),
        ],
        boxed: Box::new(Triv { i: 9 }),
    }
}

/// Reader options of the whole-stream targets: bounds small enough that a
/// fuzzed length cannot make an input slow, large enough for the fixtures.
pub fn stream_options() -> vmstate_migration::ReadOptions {
    use vmstate_migration::{DecodeLimits, ReadOptions};
    ReadOptions {
        max_vmdesc_len: 1 << 20,
        limits: DecodeLimits {
            max_payload: 1 << 20,
            max_nodes: 1 << 16,
            max_free_nodes: 1 << 16,
        },
        ..ReadOptions::default()
    }
}

/// Finding F4 (`derived_queues`): a `Queues` payload at version 1 whose last
/// GTree key (an `interval`) is followed by `05 L "interval…"`, a few bytes
/// short of a whole subsection name, so it loads as the key's value; the
/// version-2 re-save adds `bits`, the name becomes whole, and the reload
/// fails as QEMU's would (`unknown subsection`). Returns the fuzz inputs
/// for every `L` (framed: version byte 1, flags 0).
pub fn f4_gtree_key_lookalikes() -> Vec<Vec<u8>> {
    let ctx = Context::new();
    let build = |l: u8, bits: u32| {
        let mut q = Queues::default();
        q.domains.insert(
            1,
            Domain {
                id: 0,
                mappings: BTreeMap::from([(
                    Interval { low: 0, high: 0 },
                    Mapping {
                        phys_addr: u64::from_be_bytes([5, l, b'i', b'n', b't', b'e', b'r', b'v']),
                        flags: u32::from_be_bytes(*b"al/x"),
                    },
                )]),
            },
        );
        q.bits = bits;
        q.bitmap = if bits == 0 { Vec::new() } else { vec![0] };
        q.to_bytes(&ctx).unwrap_or_default()
    };
    let a = build(8, 0);
    let b = build(8, 1);
    // `bits` is the be32 before the first byte that differs by it.
    let Some(at) = a.iter().zip(&b).position(|(x, y)| x != y) else {
        return Vec::new();
    };
    let at = at.saturating_sub(3);
    (8..=255u8)
        .map(|l| {
            let mut v2 = build(l, 0);
            v2.drain(at..at + 4);
            let mut input = vec![1, 0];
            input.extend_from_slice(&v2);
            input
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f4_gtree_key_lookalikes_are_excluded() {
        let inputs = f4_gtree_key_lookalikes();
        assert!(inputs.len() > 200);
        let mut lookalikes = 0;
        for input in &inputs {
            let (version, ctx, payload) = frame::<Queues>(input).unwrap();
            check_load(&Queues::default(), payload, version, &ctx);
            let mut q = Queues::default();
            if q.load(&mut Reader::from_slice(payload), version, &ctx)
                .is_ok()
            {
                let saved = q.to_bytes(&ctx).unwrap();
                if subsection_lookalike(Queues::VMSD, &saved) {
                    lookalikes += 1;
                }
            }
        }
        assert!(lookalikes > 0, "no input has the look-alike");
        if let Ok(dir) = std::env::var("F4_WRITE_TO") {
            // The input whose reload fails without the exclusion.
            for input in &inputs {
                let (version, ctx, payload) = frame::<Queues>(input).unwrap();
                let mut q = Queues::default();
                if q.load(&mut Reader::from_slice(payload), version, &ctx)
                    .is_err()
                {
                    continue;
                }
                let saved = q.to_bytes(&ctx).unwrap();
                let mut c = Queues::default();
                if c.load(
                    &mut Reader::from_slice(&saved),
                    Queues::VMSD.version_id,
                    &ctx,
                )
                .is_err()
                {
                    std::fs::write(format!("{dir}/f4-gtree-key-lookalike"), input).unwrap();
                    return;
                }
            }
            panic!("no input fails the reload");
        }
    }
}
