//! Benchmark 5: heap allocations, counted by a global allocator that
//! counts per thread (tests run on parallel threads).
//!
//! * saving a fixed-size struct into a pre-sized `Vec` allocates nothing;
//! * `load_state_in_place` from a slice allocates nothing;
//! * the transactional `load` of a struct without heap fields allocates
//!   nothing either: its one `clone()` is a copy of plain data;
//! * a reader over `std::io::Read` allocates its buffer (growing it up to
//!   64 KiB), not per field or per load;
//! * `to_bytes` allocates its `Vec` once.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use vmstate_bench::bulk::{BulkU32, BulkU64, BulkU8, BULK_BYTES};
use vmstate_bench::device::{DeviceMix, PAYLOAD_LEN, VERSION};
use vmstate_bench::pc;
use vmstate_core::{Context, Reader, VmState, Writer};

struct Counting;

thread_local! {
    /// Allocations (alloc, alloc_zeroed, realloc) made by this thread.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // Const-initialised and without destructor: never allocates, never
    // fails, even while the thread exits.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many allocations this thread made meanwhile.
fn allocations<R>(f: impl FnOnce() -> R) -> (u64, R) {
    let before = ALLOCS.with(Cell::get);
    let r = f();
    (ALLOCS.with(Cell::get) - before, r)
}

#[test]
fn the_counter_counts() {
    let (n, v) = allocations(|| vec![1u8; 10]);
    assert_eq!((n, v.len()), (1, 10));
}

#[test]
fn save_into_a_presized_vec_allocates_nothing() {
    let ctx = Context::new();
    let mut dev = DeviceMix::sample();
    let mut out = Vec::with_capacity(PAYLOAD_LEN);
    let (n, ()) = allocations(|| {
        for _ in 0..100 {
            out.clear();
            dev.save(&mut Writer::new(&mut out), &ctx).unwrap();
        }
    });
    assert_eq!(out.len(), PAYLOAD_LEN);
    assert_eq!(n, 0, "allocations for 100 saves of the device mix");

    // 1 MiB arrays of every width: converted straight into the `Vec`,
    // which grows within its capacity.
    let mut u8s = BulkU8::boxed_pattern();
    let mut u32s = BulkU32::boxed_pattern();
    let mut u64s = BulkU64::boxed_pattern();
    let mut out = Vec::with_capacity(BULK_BYTES);
    let (n, ()) = allocations(|| {
        out.clear();
        u8s.save(&mut Writer::new(&mut out), &ctx).unwrap();
        out.clear();
        u32s.save(&mut Writer::new(&mut out), &ctx).unwrap();
        out.clear();
        u64s.save(&mut Writer::new(&mut out), &ctx).unwrap();
    });
    assert_eq!(out.len(), BULK_BYTES);
    assert_eq!(n, 0, "allocations for saving 3 MiB of bulk arrays");
}

#[test]
fn load_in_place_from_a_slice_allocates_nothing() {
    let ctx = Context::new();
    let mut src = DeviceMix::sample();
    let bytes = src.to_bytes(&ctx).unwrap();
    let mut dev = DeviceMix::default();
    let (n, ()) = allocations(|| {
        for _ in 0..100 {
            let mut r = Reader::from_slice(&bytes);
            dev.load_state_in_place(&mut r, VERSION, &ctx).unwrap();
        }
    });
    assert_eq!(dev, src);
    assert_eq!(n, 0, "allocations for 100 in-place loads of the device mix");

    let mut u32s = BulkU32::boxed_pattern();
    let wire = u32s.to_bytes(&ctx).unwrap();
    let mut dst = BulkU32::boxed();
    let (n, ()) = allocations(|| {
        dst.load_state_in_place(&mut Reader::from_slice(&wire), 1, &ctx)
            .unwrap();
    });
    assert!(dst.data == u32s.data);
    assert_eq!(n, 0, "allocations for an in-place load of 1 MiB of u32");
}

#[test]
fn transactional_load_of_plain_data_allocates_nothing() {
    // `load` clones the destination first; for a struct without heap
    // fields the clone is a copy and allocates nothing.
    let ctx = Context::new();
    let mut src = DeviceMix::sample();
    let bytes = src.to_bytes(&ctx).unwrap();
    let mut dev = DeviceMix::default();
    let (n, ()) = allocations(|| {
        for _ in 0..100 {
            dev.load(&mut Reader::from_slice(&bytes), VERSION, &ctx)
                .unwrap();
        }
    });
    assert_eq!(dev, src);
    assert_eq!(n, 0, "allocations for 100 transactional loads");

    // The same for the real pc.mig payloads, hooks and subsections
    // included (pckbd has two subsections and three hooks).
    let mut kbd = pc::Pckbd::default();
    let p = pc::payload(&mut kbd, "pckbd", 0);
    let mut cpu = pc::CpuCommon::default();
    let q = pc::payload(&mut cpu, "cpu_common", 0);
    let (n, ()) = allocations(|| {
        for _ in 0..100 {
            kbd.load(&mut Reader::from_slice(p.bytes), p.version, &ctx)
                .unwrap();
            cpu.load(&mut Reader::from_slice(q.bytes), q.version, &ctx)
                .unwrap();
        }
    });
    assert_eq!(
        n, 0,
        "allocations for 200 transactional loads of pc.mig payloads"
    );
}

#[test]
fn io_reader_allocations_do_not_grow_with_the_input() {
    // Payloads back to back through one reader over `std::io::Read`: its
    // buffer, 1 KiB doubled up to 64 KiB as the reads fill it (at most 7
    // allocations), and nothing per field or load: 1000 loads make as
    // many as 100 once the buffer is at its size.
    let ctx = Context::new();
    let mut src = DeviceMix::sample();
    let one = src.to_bytes(&ctx).unwrap();
    let mut counts = Vec::new();
    for loads in [100, 1000] {
        let stream = one.repeat(loads);
        let mut dev = DeviceMix::default();
        let (n, ()) = allocations(|| {
            let mut r = Reader::new(&stream[..]);
            for _ in 0..loads {
                dev.load_state_in_place(&mut r, VERSION, &ctx).unwrap();
            }
            assert_eq!(r.offset(), stream.len() as u64);
        });
        assert_eq!(dev, src);
        assert!(
            n <= 7,
            "{n} allocations for {loads} loads through one io reader"
        );
        counts.push(n);
    }
    assert_eq!(counts[1], 7, "{counts:?}");
}

#[test]
fn to_bytes_allocates_once() {
    // A payload with a static bound (`MAX_PAYLOAD`) gets its `Vec` in one
    // allocation; one without starts at 256 bytes and doubles, so a
    // payload under that size allocates once too.
    let ctx = Context::new();
    let mut dev = DeviceMix::sample();
    const { assert!(DeviceMix::MAX_PAYLOAD >= PAYLOAD_LEN) };
    let (n, bytes) = allocations(|| dev.to_bytes(&ctx).unwrap());
    assert_eq!(bytes.len(), PAYLOAD_LEN);
    assert_eq!(n, 1, "to_bytes of the device mix");

    let mut timers = vmstate_qemu::timer::Timers::default();
    assert_eq!(vmstate_qemu::timer::Timers::MAX_PAYLOAD, 0);
    let (n, bytes) = allocations(|| timers.to_bytes(&ctx).unwrap());
    assert!(bytes.len() <= 256, "{}", bytes.len());
    assert_eq!(n, 1, "to_bytes of a payload of no static bound");
}

/// `to_bytes` of a payload over 256 bytes, with or without a static
/// bound: sized by that bound or by the payload's hint (counted `Vec`s by
/// their lengths, subsections, nested structs), it allocates once.
fn allocates_once<T: VmState + Clone>(mut dev: T, label: &str, want: Option<&[u8]>) {
    let ctx = Context::new();
    let (n, bytes) = allocations(|| dev.to_bytes(&ctx).unwrap());
    assert!(bytes.len() > 256, "{label}: {} bytes", bytes.len());
    if let Some(want) = want {
        assert_eq!(bytes, want, "{label}");
    }
    assert_eq!(n, 1, "{label}: to_bytes of {} bytes", bytes.len());
}

#[test]
fn to_bytes_of_a_large_payload_allocates_once() {
    use vmstate_bench::shapes::{Shapes, PAYLOAD_LEN as SHAPES_LEN};
    let shapes = Shapes::sample();
    assert_eq!(Shapes::MAX_PAYLOAD, 0);
    let len = shapes.clone().to_bytes(&Context::new()).unwrap().len();
    assert_eq!(len, SHAPES_LEN);
    allocates_once(shapes, "shapes", None);
    macro_rules! pc_section {
        ($ty:ty, $idstr:literal) => {{
            let mut dev = <$ty>::default();
            let p = pc::payload(&mut dev, $idstr, 0);
            allocates_once(dev, $idstr, Some(p.bytes));
        }};
    }
    // Every section of pc.mig over 256 bytes: hooks, subsections, counted
    // arrays, nested structs and arrays of them.
    pc_section!(vmstate_qemu::cpu::X86Cpu, "cpu");
    pc_section!(vmstate_qemu::i440fx::I440fx, "0000:00:00.0/I440FX");
    pc_section!(vmstate_qemu::piix3::Piix3, "0000:00:01.0/PIIX3");
    pc_section!(vmstate_qemu::fdc::IsaFdc, "fdc");
    pc_section!(vmstate_qemu::ps2::Ps2Kbd, "ps2kbd");
    pc_section!(vmstate_qemu::ps2::Ps2Mouse, "ps2mouse");
    pc_section!(vmstate_qemu::vmmouse::VmMouse, "vmmouse");
    pc_section!(vmstate_qemu::ide::PciIde, "0000:00:01.1/ide");
    pc_section!(vmstate_qemu::piix4_pm::Piix4Pm, "0000:00:01.3/piix4_pm");
}
