//! Memory allocated while loading is bounded by the bytes actually present
//! in the input (plus a small constant), never by a count or size the
//! stream claims; and no load loops without consuming input.
//!
//! A counting `#[global_allocator]` keeps, per thread, the bytes currently
//! allocated and their peak, so tests running in parallel do not disturb
//! each other. Each measurement is the peak above the level at its start.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use vmstate_core::{Context, Error, ErrorKind, Reader, VmState};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::peak_during;

const KIB: usize = 1024;

/// Loads `bytes` into `dst` and returns the error, the peak allocation and
/// the time taken. The load must fail and leave `dst` unchanged.
fn failing_load<T: VmState + Clone + PartialEq + std::fmt::Debug>(
    dst: &T,
    bytes: &[u8],
    ctx: &Context,
) -> (Error, usize, Duration) {
    let mut d = dst.clone();
    let t = Instant::now();
    let (res, peak) =
        peak_during(|| d.load(&mut Reader::from_slice(bytes), T::VMSD.version_id, ctx));
    let took = t.elapsed();
    let e = res.expect_err("hostile load succeeded");
    assert_eq!(&d, dst, "failed load changed the destination");
    (e, peak, took)
}

fn no_limit() -> Context {
    Context::new().with_max_vec_len(u64::MAX)
}

// ---------------------------------------------------------------------------
// Variable arrays and buffers
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "varray", version = 1)]
struct VArray {
    n: u32,
    #[vmstate(count = n)]
    v: Vec<u64>,
}

#[test]
fn u32_count_of_0xffffffff_with_100_bytes() {
    let mut wire = 0xffff_ffffu32.to_be_bytes().to_vec();
    wire.extend([0xab; 100]);

    // Default context: the count exceeds `max_vec_len` (2^24) and is
    // refused before anything is allocated for the elements.
    let (e, peak, _) = failing_load(&VArray::default(), &wire, &Context::new());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                found: 0xffff_ffff,
                ..
            }
        ),
        "{e}"
    );
    assert!(peak < 4 * KIB, "peak {peak}");

    // No limit at all, input in memory: the count needs more bytes than
    // are left, so the load fails before any element is read.
    let (e, peak, took) = failing_load(&VArray::default(), &wire, &no_limit());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::UnexpectedEof {
                needed: 0x7_ffff_fff8,
                available: 100
            }
        ),
        "{e}"
    );
    assert_eq!(e.offset(), 4);
    assert!(e.path().ends_with("/v"), "{e}");
    assert!(peak < 4 * KIB, "peak {peak} bytes for 100 bytes of data");
    assert!(took < Duration::from_secs(1), "{took:?}");

    // Through the buffered reader, which cannot know what is left: the Vec
    // grows one 64 KiB step, then the data ends in element 12 (100 bytes
    // hold 12 whole u64s after the 4-byte count), at byte 4 + 96. Plus the
    // reader's buffer (1 KiB here, 64 KiB at most).
    let mut d = VArray::default();
    let (res, peak) = peak_during(|| d.load(&mut Reader::new(&wire[..]), 1, &no_limit()));
    let e = res.unwrap_err();
    assert_eq!(e.offset(), 100);
    assert!(e.path().ends_with("v[12]"), "{e}");
    assert!(peak < 64 * KIB + 128 * KIB, "peak {peak}");
}

#[test]
fn vec_memory_follows_the_data_present() {
    // 1 MiB of elements present out of 2^32 - 1 claimed: at most about
    // twice what arrived (a Vec's doubling) plus one step.
    let n_present = 128 * KIB; // u64 elements = 1 MiB
    let mut wire = 0xffff_ffffu32.to_be_bytes().to_vec();
    wire.resize(4 + n_present * 8, 0x11);
    let (e, peak, _) = failing_load(&VArray::default(), &wire, &no_limit());
    assert!(matches!(e.kind(), ErrorKind::UnexpectedEof { .. }), "{e}");
    let present = n_present * 8;
    assert!(
        peak <= 2 * present + 128 * KIB,
        "peak {peak} for {present} bytes present"
    );
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "vbuf", version = 1)]
struct VBuf {
    size: i32,
    #[vmstate(vbuffer = size)]
    data: Vec<u8>,
}

#[test]
fn vbuffer_of_0x7fffffff_with_100_bytes() {
    let mut wire = 0x7fff_ffffi32.to_be_bytes().to_vec();
    wire.extend([0x5a; 100]);
    let (e, peak, _) = failing_load(&VBuf::default(), &wire, &Context::new());
    assert!(
        matches!(e.kind(), ErrorKind::LengthOutOfRange { .. }),
        "{e}"
    );
    assert!(peak < 4 * KIB, "peak {peak}");
    let (e, peak, _) = failing_load(&VBuf::default(), &wire, &no_limit());
    assert!(matches!(e.kind(), ErrorKind::UnexpectedEof { .. }), "{e}");
    assert!(peak < 128 * KIB, "peak {peak}");
    // Negative sizes never allocate.
    let wire = (-1i32).to_be_bytes();
    let (e, peak, _) = failing_load(&VBuf::default(), &wire, &no_limit());
    assert!(
        matches!(e.kind(), ErrorKind::LengthOutOfRange { found: -1, .. }),
        "{e}"
    );
    assert!(peak < 4 * KIB, "peak {peak}");
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "bitmap", version = 1)]
struct Bits {
    nbits: u32,
    #[vmstate(bitmap = nbits)]
    map: Vec<u64>,
}

#[test]
fn bitmap_of_2_pow_32_bits_with_100_bytes() {
    let mut wire = 0xffff_ffffu32.to_be_bytes().to_vec();
    wire.extend([0xff; 100]);
    let (e, peak, _) = failing_load(&Bits::default(), &wire, &no_limit());
    assert!(matches!(e.kind(), ErrorKind::UnexpectedEof { .. }), "{e}");
    assert!(peak < 128 * KIB, "peak {peak}");
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "gap", version = 1)]
struct Gap {
    in_use: u32,
    #[vmstate(unused = 6, count = in_use)]
    _macs: (),
}

#[test]
fn unused_varray_of_24_gib_skips_without_allocating() {
    let mut wire = 0xffff_ffffu32.to_be_bytes().to_vec();
    wire.extend([0; 100]);
    let (e, peak, took) = failing_load(&Gap::default(), &wire, &Context::new());
    match e.kind() {
        ErrorKind::UnexpectedEof { needed, available } => {
            assert_eq!((*needed, *available), (0xffff_ffffu64 * 6, 100))
        }
        other => panic!("{other:?}"),
    }
    assert!(peak < 4 * KIB, "peak {peak}");
    assert!(took < Duration::from_millis(100), "{took:?}");
    // Through the buffered reader the skip reads what is there and stops.
    let mut d = Gap::default();
    let t = Instant::now();
    let (res, peak) = peak_during(|| d.load(&mut Reader::new(&wire[..]), 1, &Context::new()));
    assert!(res.is_err());
    assert!(peak < 64 * KIB + 4 * KIB, "peak {peak}");
    assert!(t.elapsed() < Duration::from_millis(100));
}

// ---------------------------------------------------------------------------
// Queues and trees: no count on the wire (queues) or a count that sizes
// nothing (GTree)
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "elem", version = 1)]
struct Elem {
    a: u64,
    b: u32,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "tree", version = 1)]
struct Tree {
    #[vmstate(gtree, version = 1)]
    t: BTreeMap<u64, Elem>,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "queue", version = 1)]
struct Queue {
    #[vmstate(qtailq, version = 1)]
    q: VecDeque<Elem>,
}

fn tree_wire(nnodes: u32, present: usize, end: bool) -> Vec<u8> {
    let mut w = nnodes.to_be_bytes().to_vec();
    for k in 0..present as u64 {
        w.push(1);
        w.extend(k.to_be_bytes());
        w.extend(k.to_be_bytes());
        w.extend(7u32.to_be_bytes());
    }
    if end {
        w.push(0);
    }
    w
}

#[test]
fn gtree_claiming_2_pow_32_nodes_allocates_per_node_present() {
    // 0 nodes present: nothing but the error.
    let (e, peak, took) = failing_load(
        &Tree::default(),
        &tree_wire(0xffff_ffff, 0, true),
        &Context::new(),
    );
    assert!(matches!(e.kind(), ErrorKind::Malformed { .. }), "{e}");
    assert_eq!(e.offset(), 5, "after the terminator");
    assert!(peak < 4 * KIB, "peak {peak}");
    assert!(took < Duration::from_millis(100), "{took:?}");

    // 10 nodes present, then the stream ends: a few hundred bytes per node.
    let (e, peak10, _) = failing_load(
        &Tree::default(),
        &tree_wire(0xffff_ffff, 10, false),
        &Context::new(),
    );
    assert!(matches!(e.kind(), ErrorKind::UnexpectedEof { .. }), "{e}");
    assert!(peak10 < 16 * KIB, "peak {peak10}");
    // 1000 nodes: grows with the nodes, not with the claim.
    let (_, peak1000, _) = failing_load(
        &Tree::default(),
        &tree_wire(0xffff_ffff, 1000, false),
        &Context::new(),
    );
    assert!(peak1000 < 1000 * 256, "peak {peak1000}");
    assert!(peak1000 > peak10);
}

#[test]
fn queue_allocates_per_element_present() {
    let mut wire = Vec::new();
    for k in 0..1000u64 {
        wire.push(1);
        wire.extend(k.to_be_bytes());
        wire.extend(1u32.to_be_bytes());
    }
    // No terminator: the stream ends after 1000 elements.
    let (e, peak, _) = failing_load(&Queue::default(), &wire, &Context::new());
    assert!(matches!(e.kind(), ErrorKind::UnexpectedEof { .. }), "{e}");
    assert!(peak < 1000 * 64, "peak {peak} for 1000 16-byte elements");
}

#[test]
fn no_load_loops_without_consuming_input() {
    // Every element of a queue or tree costs at least its marker byte, so
    // a stream of n bytes makes at most n iterations: a long run of
    // markers with nothing behind them ends at the end of the input.
    let wire = vec![1u8; 1 << 20];
    let t = Instant::now();
    let (e, _, _) = failing_load(&Queue::default(), &wire, &Context::new());
    assert!(matches!(e.kind(), ErrorKind::UnexpectedEof { .. }), "{e}");
    let (e, _, _) = failing_load(&Tree::default(), &wire, &Context::new());
    assert!(matches!(e.kind(), ErrorKind::UnexpectedEof { .. }), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    // A huge count over zero-size work: the count is checked first.
    let wire = 0xffff_ffffu32.to_be_bytes();
    let t = Instant::now();
    let (e, _, _) = failing_load(&VArray::default(), &wire, &no_limit());
    assert!(matches!(e.kind(), ErrorKind::UnexpectedEof { .. }), "{e}");
    assert!(t.elapsed() < Duration::from_millis(100));
}

// ---------------------------------------------------------------------------
// Elements that read nothing, and the element limit of queues and trees
// ---------------------------------------------------------------------------

/// Four KiB in memory, nothing on the wire.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "quiet", version = 1)]
struct Quiet {
    #[vmstate(skip)]
    pad: [u8; 4096],
}

impl Default for Quiet {
    fn default() -> Self {
        Quiet { pad: [0; 4096] }
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "quiets", version = 1)]
struct Quiets {
    n: u32,
    #[vmstate(count = n, version = 1)]
    v: Vec<Quiet>,
}

#[test]
fn elements_that_read_nothing_cannot_grow_memory() {
    // Four bytes of count and nothing else: 2^20 elements of 4 KiB would be
    // 4 GiB with no input behind them. One 64 KiB step, then an error.
    let wire = (1u32 << 20).to_be_bytes();
    let (e, peak, took) = failing_load(&Quiets::default(), &wire, &no_limit());
    assert!(matches!(e.kind(), ErrorKind::Invalid { .. }), "{e}");
    assert_eq!(e.path(), "quiets/v[16]");
    assert!(peak < 256 * KIB, "peak {peak}");
    assert!(took < Duration::from_millis(100), "{took:?}");
    // A count that fits in one step still loads.
    let mut d = Quiets::default();
    d.load(&mut Reader::from_slice(&3u32.to_be_bytes()), 1, &no_limit())
        .unwrap();
    assert_eq!(d.v.len(), 3);
}

#[test]
fn queues_and_trees_keep_to_max_vec_len() {
    let small = Context::new().with_max_vec_len(10);
    let mut wire = Vec::new();
    for k in 0..11u64 {
        wire.push(1);
        wire.extend(k.to_be_bytes());
        wire.extend(1u32.to_be_bytes());
    }
    wire.push(0);
    let (e, _, _) = failing_load(&Queue::default(), &wire, &small);
    assert!(matches!(e.kind(), ErrorKind::Invalid { .. }), "{e}");
    assert_eq!(e.path(), "queue/q[10]");
    let (e, _, _) = failing_load(&Tree::default(), &tree_wire(11, 11, true), &small);
    assert!(matches!(e.kind(), ErrorKind::Invalid { .. }), "{e}");
    assert_eq!(e.path(), "tree/t[10]");
    // Ten elements are fine.
    let mut q = Queue::default();
    q.load(&mut Reader::from_slice(&wire[13..]), 1, &small)
        .unwrap();
    assert_eq!(q.q.len(), 10);
}
