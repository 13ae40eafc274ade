//! The 2013-2014 "invalid state load" CVE class (spec section 7), replayed
//! against `#[derive(VmState)]`.
//!
//! For each pattern there is a derived struct with the same shape as the
//! vulnerable QEMU description (same fields, widths and order, the counter
//! before the array it sizes), declared the way this framework recommends,
//! and a hostile stream **built by hand** (the [`Wire`] builder below, never
//! this crate's `save`) that overran QEMU at the time. Every load must:
//!
//! * fail with the right [`ErrorKind`], the field path and the byte offset
//!   where the offending value (or the check) sits;
//! * leave the destination exactly as it was (compared with `PartialEq`);
//! * not panic (checked with `catch_unwind`), and fail the same way through
//!   the buffered `std::io::Read` reader as through the slice reader.
//!
//! A fixed array is never indexed with a value from the stream: a count is
//! checked against the array's `N` (or [`Context::max_vec_len`] for a `Vec`)
//! before any element is read, and an index that the device model will use
//! later gets a declarative bound (`max`, `min`, `positive_le`) or a
//! `validate` at the position of QEMU's `VMSTATE_VALIDATE`.
//!
//! | CVE | device | stream value | QEMU fix | what prevents it here |
//! |---|---|---|---|---|
//! | 2013-4527 | hpet | `num_timers` (u8 count over `timer[32]`) | `VMSTATE_VALIDATE("num_timers in range")` before `STRUCT_VARRAY_UINT8` | `validate` before `count = num_timers`; the count is also capacity-checked against `[HpetTimer; 32]` |
//! | 2013-4148 | virtio-net | `mac_table.in_use` (signedness) | `VBUFFER_MULTIPLY` guarded by `mac_table_fits`, `UNUSED_VARRAY_UINT32` by `mac_table_doesnt_fit` | `vbuffer = in_use, multiply = 6` into `[u8; 384]` with `exists`, and `unused = 6, count = in_use`: the excess is skipped, never stored; a huge count is an end-of-stream error, not an allocation |
//! | 2013-4149 | virtio-net | `mac_table.in_use` (buffer sized without ×6) | same | the capacity check multiplies before comparing: `in_use × 6 ≤ 384` |
//! | 2013-4150 | virtio-net | `curr_queue_pairs > max_queue_pairs` | range check in a `WITH_TMP` `pre_load` | `equal` on `max_queue_pairs`, `validate` "curr_queue_pairs <= max_queue_pairs" before the `count` array |
//! | 2013-4151 | virtio | number of queues | `num > VIRTIO_QUEUE_MAX` → error | `max = 1024` on `num`; `count = num` over `[VirtQueue; 1024]` |
//! | 2013-6399 | virtio | `queue_sel` | `>= VIRTIO_QUEUE_MAX` → error | `max = 1023` |
//! | 2014-0182 | virtio | `config_len` | copy `MIN(config_len, local)` | `vbuffer = config_len` into `[u8; 256]`: capacity-checked |
//! | 2013-4535/4536 | virtio-blk/scsi | `num_sg` of a reloaded element | validate before mapping | `count = in_num` / `count = out_num` over `[u64; 1024]` |
//! | 2013-4529 | pcie_aer | `log_num` | `UINT16_EQUAL(log_max)`, `VALIDATE("log_num <= log_max")` | `equal` on `log_max`, `validate`, then `count = log_num` into a `Vec` (bounded by `max_vec_len`) |
//! | 2013-4530 | pl022 | `tx_fifo_head`, `rx_fifo_head` | `post_load` range check | `min = 0, max = 7` on both `i32`s |
//! | 2013-4531 | target-arm | `cpreg_vmstate_array_len` | `VMSTATE_INT32_POSITIVE_LE` | `positive_le`, then `count` into `Vec<u64>` |
//! | 2013-4532 | stellaris_enet | `np`, `next_packet`, `rx[i].len`, `rx_fifo_offset`, `tx_fifo_len` | `post_load` checks | `max` on each, at its own position (`rx[3].len` is named) |
//! | 2013-4533 | pxa2xx ssp | `rx_start`, `rx_level` | `VMSTATE_VALIDATE("fifo is 16 bytes")` | `validate` before `rx_fifo` |
//! | 2013-4537 | ssi-sd | `mode`, `arglen`, `response_pos` | `post_load` checks | `max` on `mode`; the mode-dependent checks in a `validate` |
//! | 2013-4538 | ssd0323 | `cmd_len`, row/col cursors, `mode` | `post_load` checks | `max = 8` on `cmd_len`; cursors in a `validate` |
//! | 2013-4539 | tsc210x | `precision`, `nextprecision`, `function`, `nextfunction` | `post_load` checks | `max` on each table index |
//! | 2013-4540 | zaurus scoop | `gpio_level`, `gpio_dir`, `prev_level` (16 bits) | `VMSTATE_VALIDATE("irq levels are 16 bit")` | `validate` at the same position |
//! | 2013-4541, 2014-3461 | usb core | `setup_len`, `setup_index` | `post_load` sanity checks | `min = 0, max = 4095` on both |
//! | 2017-16845 | ps2 | `queue.rptr`, `queue.wptr`, `queue.count` | `post_load` clamps | `min`/`max` on each |
//!
//! The same table, with the rationale, is in the crate docs
//! (`vmstate-core/src/hostile.md`).

use std::collections::VecDeque;
use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};

use vmstate_core::types::Timer;
use vmstate_core::{Context, Error, ErrorKind, Reader, VmState};

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// A hand-built big-endian stream.
#[derive(Default)]
struct Wire(Vec<u8>);

impl Wire {
    fn new() -> Self {
        Wire(Vec::new())
    }
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u16(mut self, v: u16) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    fn i32(self, v: i32) -> Self {
        self.u32(v as u32)
    }
    fn u64(mut self, v: u64) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    fn i64(self, v: i64) -> Self {
        self.u64(v as u64)
    }
    fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    fn zeros(mut self, n: usize) -> Self {
        self.0.resize(self.0.len() + n, 0);
        self
    }
    /// The offset of the next byte.
    fn at(&self) -> u64 {
        self.0.len() as u64
    }
    fn done(self) -> Vec<u8> {
        self.0
    }
}

/// Loads `wire` into a clone of `dst` through both readers and expects a
/// clean failure: no panic, the same error both ways, `dst` unchanged.
fn hostile<T>(dst: &T, wire: &[u8], version: u32, ctx: &Context) -> Error
where
    T: VmState + Clone + PartialEq + Debug,
{
    let run = |io: bool| {
        let mut d = dst.clone();
        let res = catch_unwind(AssertUnwindSafe(|| {
            if io {
                d.load(&mut Reader::new(wire), version, ctx)
            } else {
                d.load(&mut Reader::from_slice(wire), version, ctx)
            }
        }));
        match res {
            Err(_) => panic!(
                "load panicked (io reader: {io}) on {} bytes: {wire:02x?}",
                wire.len()
            ),
            Ok(Ok(())) => panic!(
                "hostile stream loaded (io reader: {io}): {} bytes {:02x?}",
                wire.len(),
                &wire[..wire.len().min(64)]
            ),
            Ok(Err(e)) => {
                assert!(d == *dst, "failed load changed the destination ({e})");
                e
            }
        }
    };
    let e = run(false);
    let io = run(true);
    assert_eq!(
        (format!("{:?}", io.kind()), io.offset(), io.path()),
        (format!("{:?}", e.kind()), e.offset(), e.path()),
        "slice and io readers disagree"
    );
    e
}

/// Loads `wire` and expects success; returns the loaded value.
fn loads<T: VmState + Clone + Debug>(dst: &T, wire: &[u8], version: u32, ctx: &Context) -> T {
    let mut d = dst.clone();
    let mut r = Reader::from_slice(wire);
    d.load(&mut r, version, ctx)
        .unwrap_or_else(|e| panic!("load failed: {e}"));
    assert!(
        r.remaining().is_empty(),
        "{} bytes left",
        r.remaining().len()
    );
    d
}

fn assert_out_of_range(e: &Error, found: i128, min: i128, max: i128, path: &str, offset: u64) {
    match e.kind() {
        ErrorKind::OutOfRange {
            found: f,
            min: lo,
            max: hi,
        } => assert_eq!((*f, *lo, *hi), (found, min, max), "{e}"),
        other => panic!("expected OutOfRange, got {other:?} ({e})"),
    }
    assert_eq!(e.path(), path, "{e}");
    assert_eq!(e.offset(), offset, "{e}");
}

fn assert_invalid(e: &Error, message: &str, path: &str, offset: u64) {
    match e.kind() {
        ErrorKind::Invalid { message: m } => assert_eq!(*m, message, "{e}"),
        other => panic!("expected Invalid, got {other:?} ({e})"),
    }
    assert_eq!(e.path(), path, "{e}");
    assert_eq!(e.offset(), offset, "{e}");
}

/// A count or size that does not fit its destination: `LengthOutOfRange`
/// at the offset of the array it sizes, named by the array's path
/// (`hpet/timers`).
fn assert_length(
    e: &Error,
    field: &str,
    found: i128,
    multiply: u32,
    max: u64,
    array_path: &str,
    offset: u64,
) {
    match e.kind() {
        ErrorKind::LengthOutOfRange {
            field: f,
            found: n,
            multiply: m,
            max: cap,
        } => assert_eq!((*f, *n, *m, *cap), (field, found, multiply, max), "{e}"),
        other => panic!("expected LengthOutOfRange, got {other:?} ({e})"),
    }
    assert_eq!(e.path(), array_path, "{e}");
    assert_eq!(e.offset(), offset, "{e}");
}

fn assert_eof(e: &Error, path: &str, offset: u64) {
    assert!(
        matches!(e.kind(), ErrorKind::UnexpectedEof { .. }),
        "expected UnexpectedEof, got {e}"
    );
    assert_eq!(e.path(), path, "{e}");
    assert_eq!(e.offset(), offset, "{e}");
}

fn ctx() -> Context {
    Context::new()
}

// ---------------------------------------------------------------------------
// CVE-2013-4527: hpet num_timers
// ---------------------------------------------------------------------------

const HPET_MIN_TIMERS: u8 = 3;
const HPET_MAX_TIMERS: u8 = 32;

/// `vmstate_hpet_timer` (hw/timer/hpet.c, 7.2).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet_timer", version = 1, minimum_version = 1)]
struct HpetTimer {
    tn: u8,
    config: u64,
    cmp: u64,
    fsb: u64,
    period: u64,
    wrap_flag: u8,
    qemu_timer: Timer,
}

/// `vmstate_hpet` (7.2): `VMSTATE_UINT8_V(num_timers, 2)`, then
/// `VMSTATE_VALIDATE("num_timers in range")`, then
/// `VMSTATE_STRUCT_VARRAY_UINT8(timer, num_timers)` over `timer[32]`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet", version = 2, minimum_version = 1)]
struct Hpet {
    config: u64,
    isr: u64,
    hpet_counter: u64,
    #[vmstate(version = 2)]
    num_timers: u8,
    #[vmstate(validate = Self::num_timers_ok, rename = "num_timers in range")]
    _num_timers_ok: (),
    #[vmstate(count = num_timers)]
    timers: [HpetTimer; 32],
}

impl Hpet {
    fn num_timers_ok(&self, _version: u32) -> bool {
        (HPET_MIN_TIMERS..=HPET_MAX_TIMERS).contains(&self.num_timers)
    }
}

/// The pre-2014 shape (no validate): the capacity check alone still stops
/// the overrun.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet", version = 2, minimum_version = 1)]
struct HpetNoValidate {
    config: u64,
    isr: u64,
    hpet_counter: u64,
    #[vmstate(version = 2)]
    num_timers: u8,
    #[vmstate(count = num_timers)]
    timers: [HpetTimer; 32],
}

fn hpet_timer_wire(w: Wire, tn: u8) -> Wire {
    w.u8(tn).u64(0x4).u64(0x1000).u64(0).u64(0x10).u8(0).i64(-1)
}

fn hpet_dst() -> Hpet {
    let mut h = Hpet {
        config: 3,
        num_timers: 3,
        ..Hpet::default()
    };
    for (i, t) in h.timers.iter_mut().enumerate() {
        t.tn = i as u8;
        t.cmp = 0xdead_0000 + i as u64;
    }
    h
}

#[test]
fn cve_2013_4527_hpet_num_timers() {
    // 3 timers: the legitimate stream loads.
    let mut w = Wire::new().u64(3).u64(0).u64(1 << 32).u8(3);
    for tn in 0..3 {
        w = hpet_timer_wire(w, tn);
    }
    let ok = loads(&hpet_dst(), &w.done(), 2, &ctx());
    assert_eq!(ok.num_timers, 3);
    assert_eq!(ok.timers[2].cmp, 0x1000);
    assert_eq!(ok.timers[3].cmp, 0xdead_0003, "beyond num_timers untouched");

    // num_timers = 40, and 40 timers of data: QEMU < 2.0 wrote 8 timers
    // past the end of `timer[32]`.
    let mut w = Wire::new().u64(3).u64(0).u64(1 << 32).u8(40);
    let check_at = w.at();
    for tn in 0..40 {
        w = hpet_timer_wire(w, tn);
    }
    let wire = w.done();
    let e = hostile(&hpet_dst(), &wire, 2, &ctx());
    assert_invalid(
        &e,
        "num_timers in range",
        "hpet/num_timers in range",
        check_at,
    );
    assert_eq!(
        e.to_string(),
        "hpet/num_timers in range at byte 25: validation failed: num_timers in range"
    );

    // num_timers = 255 with only the header: refused before any timer.
    let wire = Wire::new().u64(3).u64(0).u64(0).u8(255).done();
    let e = hostile(&hpet_dst(), &wire, 2, &ctx());
    assert_invalid(&e, "num_timers in range", "hpet/num_timers in range", 25);

    // Without the validate, the count is still checked against the array.
    let dst = HpetNoValidate {
        num_timers: 3,
        ..HpetNoValidate::default()
    };
    let e = hostile(&dst, &wire, 2, &ctx());
    assert_length(&e, "num_timers", 255, 1, 32, "hpet/timers", 25);
}

// ---------------------------------------------------------------------------
// CVE-2013-4148 / 4149 / 4150: virtio-net device state
// ---------------------------------------------------------------------------

const MAC_TABLE_ENTRIES: usize = 64;
const ETH_ALEN: usize = 6;
const MAX_QUEUE_PAIRS: usize = 8;

/// `vmstate_virtio_net_queue_tx_waiting`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio-net-queue-tx_waiting", version = 0)]
struct TxWaiting {
    tx_waiting: u32,
}

/// The head of `vmstate_virtio_net_device` (hw/net/virtio-net.c, 7.2) up to
/// the MAC table and the VLAN buffer: the guarded pair
/// `VMSTATE_VBUFFER_MULTIPLY(mac_table.macs, .., mac_table_fits, in_use,
/// ETH_ALEN)` / `VMSTATE_UNUSED_VARRAY_UINT32(.., mac_table_doesnt_fit, 0,
/// in_use, ETH_ALEN)`, then the queue-pair part (`max_queue_pairs` as
/// `uint16_equal` when > 1, `curr_queue_pairs`, the tx_waiting flags of the
/// other queue pairs; QEMU reaches them through a `WITH_TMP` whose
/// `pre_load` checks the count, flattened here into a `validate` and a
/// `count` array).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "virtio-net-device", version = 11, minimum_version = 11,
          post_load = Self::post_load)]
struct VirtioNetDevice {
    #[vmstate(buffer)]
    mac: [u8; ETH_ALEN],
    vqs: TxWaiting,
    mergeable_rx_bufs: u32,
    status: u16,
    promisc: u8,
    allmulti: u8,
    #[vmstate(rename = "mac_table.in_use")]
    in_use: u32,
    /// Loaded only when it fits (QEMU's `mac_table_fits`).
    #[vmstate(vbuffer = in_use, multiply = 6, exists = Self::mac_table_fits,
              rename = "mac_table.macs")]
    macs: [u8; MAC_TABLE_ENTRIES * ETH_ALEN],
    /// Otherwise skipped: never stored anywhere.
    #[vmstate(unused = 6, count = in_use, exists = Self::mac_table_doesnt_fit)]
    _macs_dropped: (),
    #[vmstate(buffer)]
    vlans: [u8; 512],
    #[vmstate(equal, exists = Self::max_queue_pairs_gt_1)]
    max_queue_pairs: u16,
    #[vmstate(exists = Self::max_queue_pairs_gt_1)]
    curr_queue_pairs: u16,
    #[vmstate(validate = Self::curr_queue_pairs_ok,
              rename = "curr_queue_pairs <= max_queue_pairs")]
    _curr_ok: (),
    #[vmstate(count = curr_queue_pairs)]
    tx_waiting: [TxWaiting; MAX_QUEUE_PAIRS],
    #[vmstate(skip)]
    uni_overflow: bool,
}

impl Default for VirtioNetDevice {
    fn default() -> Self {
        VirtioNetDevice {
            mac: [0x52, 0x54, 0, 0x12, 0x34, 0x57],
            vqs: TxWaiting::default(),
            mergeable_rx_bufs: 1,
            status: 1,
            promisc: 1,
            allmulti: 0,
            in_use: 0,
            macs: [0xee; MAC_TABLE_ENTRIES * ETH_ALEN],
            _macs_dropped: (),
            vlans: [0; 512],
            // The destination is configured with 4 queue pairs.
            max_queue_pairs: 4,
            curr_queue_pairs: 1,
            _curr_ok: (),
            tx_waiting: Default::default(),
            uni_overflow: false,
        }
    }
}

impl VirtioNetDevice {
    fn mac_table_fits(&self, _version: u32) -> bool {
        self.in_use as usize <= MAC_TABLE_ENTRIES
    }
    fn mac_table_doesnt_fit(&self, version: u32) -> bool {
        !self.mac_table_fits(version)
    }
    fn max_queue_pairs_gt_1(&self, _version: u32) -> bool {
        self.max_queue_pairs > 1
    }
    fn curr_queue_pairs_ok(&self, _version: u32) -> bool {
        self.curr_queue_pairs as usize <= self.max_queue_pairs as usize
    }
    /// QEMU's `virtio_net_post_load_device`: a table that did not fit is
    /// dropped and the overflow flags make the device accept everything.
    fn post_load(&mut self, _version: u32) -> Result<(), String> {
        if !self.mac_table_fits(0) {
            self.in_use = 0;
            self.uni_overflow = true;
        }
        Ok(())
    }
}

/// The stream up to and including `mac_table.in_use`, then `macs` bytes.
fn virtio_net_head(in_use: u32, macs: &[u8]) -> Wire {
    Wire::new()
        .bytes(&[0x52, 0x54, 0, 0x12, 0x34, 0x57])
        .u32(0) // vqs[0].tx_waiting
        .u32(1) // mergeable_rx_bufs
        .u16(1) // status
        .u8(1) // promisc
        .u8(0) // allmulti
        .u32(in_use)
        .bytes(macs)
}

fn virtio_net_tail(w: Wire, max_qp: u16, curr_qp: u16, flags: usize) -> Wire {
    let mut w = w.zeros(512).u16(max_qp).u16(curr_qp);
    for _ in 0..flags {
        w = w.u32(1);
    }
    w
}

#[test]
fn cve_2013_4148_4149_virtio_net_mac_table() {
    let dst = VirtioNetDevice::default();

    // A legitimate table of 2 entries.
    let macs = [0x52, 0x54, 0, 0, 0, 1, 0x52, 0x54, 0, 0, 0, 2];
    let wire = virtio_net_tail(virtio_net_head(2, &macs), 4, 2, 2).done();
    let ok = loads(&dst, &wire, 11, &ctx());
    assert_eq!(&ok.macs[..12], &macs);
    assert_eq!(ok.macs[12], 0xee);

    // A source with a larger table (65 entries, all present): QEMU 2.0+
    // skips it and sets the overflow flags; so does this.
    let big = vec![0xaa; 65 * ETH_ALEN];
    let wire = virtio_net_tail(virtio_net_head(65, &big), 4, 1, 1).done();
    let ok = loads(&dst, &wire, 11, &ctx());
    assert_eq!((ok.in_use, ok.uni_overflow), (0, true));
    assert_eq!(ok.macs, dst.macs, "nothing of the big table was stored");

    // CVE-2013-4148: in_use = 0x80000001 (negative as the C int it was
    // compared as). QEMU < 2.0 took it as "fits" and copied in_use x 6
    // bytes into macs[384]. Here it does not fit, so the 12 GiB are to be
    // skipped, and the stream ends first: nothing stored, nothing
    // allocated.
    let head = virtio_net_head(0x8000_0001, &[0xaa; 64]);
    let skip_at = head.at() - 64;
    let e = hostile(&dst, &head.done(), 11, &ctx());
    assert_eof(&e, "virtio-net-device/unused", skip_at);
    match e.kind() {
        ErrorKind::UnexpectedEof { needed, available } => {
            assert_eq!((*needed, *available), (0x8000_0001u64 * 6, 64))
        }
        _ => unreachable!(),
    }
}

/// The vulnerable shape of CVE-2013-4149 (QEMU < 2.0): one `VBUFFER` sized
/// by `in_use`, no guard. The capacity check multiplies before comparing.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "virtio-net-mac-table", version = 1)]
struct MacTableUnguarded {
    in_use: u32,
    #[vmstate(vbuffer = in_use, multiply = 6)]
    macs: [u8; MAC_TABLE_ENTRIES * ETH_ALEN],
}

impl Default for MacTableUnguarded {
    fn default() -> Self {
        MacTableUnguarded {
            in_use: 0,
            macs: [0xee; MAC_TABLE_ENTRIES * ETH_ALEN],
        }
    }
}

#[test]
fn cve_2013_4149_mac_table_multiplied_capacity() {
    let dst = MacTableUnguarded::default();
    // 65 entries = 390 bytes > 384. (QEMU's buggy bound compared the entry
    // count, 65, with the byte size, 384.)
    let wire = Wire::new().u32(65).zeros(390).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_length(&e, "in_use", 65, 6, 384, "virtio-net-mac-table/macs", 4);
    // 0x2AAAAAAB x 6 wraps to 2 in 32-bit arithmetic; here it does not.
    let wire = Wire::new().u32(0x2AAA_AAAB).zeros(12).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_length(
        &e,
        "in_use",
        0x2AAA_AAAB,
        6,
        384,
        "virtio-net-mac-table/macs",
        4,
    );
    // 64 entries is the most and loads.
    let wire = Wire::new().u32(64).bytes(&[7; 384]).done();
    assert_eq!(loads(&dst, &wire, 1, &ctx()).macs, [7; 384]);
}

#[test]
fn cve_2013_4150_virtio_net_curr_queue_pairs() {
    let dst = VirtioNetDevice::default();
    // curr_queue_pairs = 0x1000 > max_queue_pairs = 4: QEMU < 2.0 used it
    // to index `vqs`.
    let w = virtio_net_head(0, &[]).zeros(512).u16(4);
    let at = w.at() + 2;
    let wire = w.u16(0x1000).zeros(0x1000 * 4).done();
    let e = hostile(&dst, &wire, 11, &ctx());
    assert_invalid(
        &e,
        "curr_queue_pairs <= max_queue_pairs",
        "virtio-net-device/curr_queue_pairs <= max_queue_pairs",
        at,
    );
    // A source configured differently (max_queue_pairs = 0x100): the
    // `equal` check refuses it before curr_queue_pairs is read.
    let w = virtio_net_head(0, &[]).zeros(512);
    let at = w.at();
    let wire = w.u16(0x100).u16(0x100).done();
    let e = hostile(&dst, &wire, 11, &ctx());
    match e.kind() {
        ErrorKind::NotEqual {
            expected, found, ..
        } => assert_eq!((*expected, *found), (4, 0x100)),
        other => panic!("expected NotEqual, got {other:?}"),
    }
    assert_eq!(
        (e.path().as_str(), e.offset()),
        ("virtio-net-device/max_queue_pairs", at)
    );
}

// ---------------------------------------------------------------------------
// CVE-2013-6399, 2013-4151, 2014-0182, 2013-4535/4536: virtio core
// ---------------------------------------------------------------------------

const VIRTIO_QUEUE_MAX: usize = 1024;

/// One queue of `virtio_load` (hw/virtio/virtio.c, 7.2): `vring.num`,
/// `vring.desc`, `last_avail_idx`, and virtio-pci's `load_queue` vector.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio/queue", version = 1)]
struct VirtQueue {
    num: u32,
    desc: u64,
    last_avail_idx: u16,
    vector: u16,
}

/// QEMU's `virtio_load` is hand-written C; this is its legacy part as a
/// description, with the checks of the 2014 fixes as attributes.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "virtio", version = 1)]
struct VirtioCommon {
    status: u8,
    isr: u8,
    /// CVE-2013-6399: `if (queue_sel >= VIRTIO_QUEUE_MAX) return -1;`.
    #[vmstate(max = 1023)]
    queue_sel: u16,
    guest_features: u32,
    /// CVE-2014-0182: QEMU now copies `MIN(config_len, local)`.
    config_len: u32,
    #[vmstate(vbuffer = config_len)]
    config: [u8; 256],
    /// CVE-2013-4151: `if (num > VIRTIO_QUEUE_MAX) error`.
    #[vmstate(max = 1024)]
    num: u32,
    #[vmstate(count = num)]
    vq: [VirtQueue; VIRTIO_QUEUE_MAX],
}

impl Default for VirtioCommon {
    fn default() -> Self {
        VirtioCommon {
            status: 0x0f,
            isr: 0,
            queue_sel: 2,
            guest_features: 0x1000_0000,
            config_len: 8,
            config: [0x5a; 256],
            num: 3,
            vq: std::array::from_fn(|i| VirtQueue {
                num: 256,
                desc: 0x1000 * i as u64,
                ..VirtQueue::default()
            }),
        }
    }
}

fn virtio_head(queue_sel: u16, config_len: u32) -> Wire {
    Wire::new()
        .u8(0x0f)
        .u8(0)
        .u16(queue_sel)
        .u32(0x1000_0000)
        .u32(config_len)
}

#[test]
fn cve_2013_6399_virtio_queue_sel() {
    let dst = VirtioCommon::default();
    let ok = virtio_head(1023, 0).u32(0).done();
    assert_eq!(loads(&dst, &ok, 1, &ctx()).queue_sel, 1023);
    let wire = virtio_head(0xffff, 0).u32(0).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_out_of_range(&e, 0xffff, 0, 1023, "virtio/queue_sel", 2);
    let wire = virtio_head(1024, 0).u32(0).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_out_of_range(&e, 1024, 0, 1023, "virtio/queue_sel", 2);
}

#[test]
fn cve_2013_4151_virtio_num_queues() {
    let dst = VirtioCommon::default();
    // num = 0x10000 queues of data follow.
    let mut w = virtio_head(0, 0).u32(0x10000);
    for _ in 0..16 {
        w = w.u32(256).u64(0).u16(0).u16(0);
    }
    let e = hostile(&dst, &w.done(), 1, &ctx());
    assert_out_of_range(&e, 0x10000, 0, 1024, "virtio/num", 12);
    // Exactly VIRTIO_QUEUE_MAX is allowed, and then needs the data.
    let wire = virtio_head(0, 0).u32(1024).u32(1).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_eof(&e, "virtio/vq[0].desc", 20);
}

#[test]
fn cve_2014_0182_virtio_config_len() {
    let dst = VirtioCommon::default();
    // config_len = 0xFFFFFFFF: QEMU < 2.0 read that many bytes into
    // vdev->config.
    let wire = virtio_head(0, 0xffff_ffff).zeros(4096).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_length(&e, "config_len", 0xffff_ffff, 1, 256, "virtio/config", 12);
    let wire = virtio_head(0, 257).zeros(257).u32(0).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_length(&e, "config_len", 257, 1, 256, "virtio/config", 12);
}

/// A reloaded `VirtQueueElement` (virtio-blk/scsi request lists, the old
/// `qemu_get_buffer(f, &elem, sizeof(elem))` format): `in_num`/`out_num`
/// sized the scatter-gather arrays.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "virtqueue_element", version = 1)]
struct VirtQueueElement {
    index: u32,
    in_num: u32,
    out_num: u32,
    #[vmstate(count = in_num)]
    in_addr: [u64; VIRTIO_QUEUE_MAX],
    #[vmstate(count = out_num)]
    out_addr: [u64; VIRTIO_QUEUE_MAX],
}

impl Default for VirtQueueElement {
    fn default() -> Self {
        VirtQueueElement {
            index: 0,
            in_num: 0,
            out_num: 0,
            in_addr: [0; VIRTIO_QUEUE_MAX],
            out_addr: [0; VIRTIO_QUEUE_MAX],
        }
    }
}

/// `VMSTATE_QTAILQ` of requests, as virtio-blk keeps its `rq` list.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio-blk-requests", version = 1)]
struct VirtioBlkRequests {
    #[vmstate(qtailq, version = 1)]
    rq: VecDeque<VirtQueueElement>,
}

#[test]
fn cve_2013_4535_4536_virtio_num_sg() {
    let dst = VirtioBlkRequests {
        rq: VecDeque::from([VirtQueueElement {
            index: 9,
            ..VirtQueueElement::default()
        }]),
    };
    // One good request, then one with in_num = 0x10000.
    let w = Wire::new().u8(1).u32(1).u32(1).u32(0).u64(0x1000).u8(1);
    let at = w.at() + 12;
    let wire = w.u32(2).u32(0x10000).u32(0).zeros(0x800).u8(0).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_length(
        &e,
        "in_num",
        0x10000,
        1,
        1024,
        "virtio-blk-requests/rq[1].in_addr",
        at,
    );
    assert!(e.path().starts_with("virtio-blk-requests/rq[1]"), "{e}");
}

// ---------------------------------------------------------------------------
// CVE-2013-4529: pcie_aer log_num
// ---------------------------------------------------------------------------

/// `vmstate_pcie_aer_err` (hw/pci/pcie_aer.c).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "PCIE_AER_ERROR", version = 1, minimum_version = 1)]
struct PcieAerErr {
    status: u32,
    source_id: u16,
    flags: u16,
    header: [u32; 4],
    prefix: [u32; 4],
}

/// `vmstate_pcie_aer_log`: `UINT16(log_num)`, `UINT16_EQUAL(log_max)`,
/// `VALIDATE("log_num <= log_max")`, `STRUCT_VARRAY_POINTER_UINT16(log,
/// log_num)`.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "PCIE_AER_ERROR_LOG", version = 1, minimum_version = 1)]
struct PcieAerLog {
    log_num: u16,
    #[vmstate(equal)]
    log_max: u16,
    #[vmstate(validate = Self::log_num_ok, rename = "log_num <= log_max")]
    _log_num_ok: (),
    #[vmstate(count = log_num)]
    log: Vec<PcieAerErr>,
}

impl PcieAerLog {
    fn log_num_ok(&self, _version: u32) -> bool {
        self.log_num <= self.log_max
    }
}

impl Default for PcieAerLog {
    fn default() -> Self {
        // log_max is the device's configuration (the `aer_log_max` property).
        PcieAerLog {
            log_num: 1,
            log_max: 8,
            _log_num_ok: (),
            log: vec![PcieAerErr {
                status: 0x20,
                ..PcieAerErr::default()
            }],
        }
    }
}

#[test]
fn cve_2013_4529_pcie_aer_log_num() {
    let dst = PcieAerLog::default();
    let ok = Wire::new()
        .u16(1)
        .u16(8)
        .u32(1)
        .u16(2)
        .u16(3)
        .zeros(32)
        .done();
    assert_eq!(loads(&dst, &ok, 1, &ctx()).log[0].source_id, 2);
    // log_num = 0xFFFF: 65535 records into an 8-record log.
    let wire = Wire::new().u16(0xffff).u16(8).zeros(44 * 32).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_invalid(
        &e,
        "log_num <= log_max",
        "PCIE_AER_ERROR_LOG/log_num <= log_max",
        4,
    );
    // A source with another log_max: refused by the equal check.
    let wire = Wire::new().u16(100).u16(100).zeros(44 * 100).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::NotEqual {
                expected: 8,
                found: 100,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        (e.path().as_str(), e.offset()),
        ("PCIE_AER_ERROR_LOG/log_max", 2)
    );
}

// ---------------------------------------------------------------------------
// CVE-2013-4530: pl022 FIFO heads
// ---------------------------------------------------------------------------

/// `vmstate_pl022` (hw/ssi/pl022.c): the FIFO heads are `INT32`s used as
/// indices into `tx_fifo[8]` / `rx_fifo[8]`. The FIFOs are sent
/// interleaved (`tx_fifo[0]`, `rx_fifo[0]`, `tx_fifo[1]`, ...).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "pl022_ssp", version = 1, minimum_version = 1)]
struct Pl022 {
    cr0: u32,
    cr1: u32,
    bitmask: u32,
    sr: u32,
    cpsr: u32,
    is: u32,
    im: u32,
    #[vmstate(min = 0, max = 7)]
    tx_fifo_head: i32,
    #[vmstate(min = 0, max = 7)]
    rx_fifo_head: i32,
    #[vmstate(min = 0, max = 8)]
    tx_fifo_len: i32,
    #[vmstate(min = 0, max = 8)]
    rx_fifo_len: i32,
    /// `[tx_fifo[i], rx_fifo[i]]` pairs, as QEMU lists them.
    fifos: [[u16; 2]; 8],
}

fn pl022_wire(tx_head: i32, rx_head: i32) -> Vec<u8> {
    Wire::new()
        .zeros(7 * 4)
        .i32(tx_head)
        .i32(rx_head)
        .i32(1)
        .i32(1)
        .zeros(32)
        .done()
}

#[test]
fn cve_2013_4530_pl022_fifo_heads() {
    let dst = Pl022 {
        cr0: 7,
        tx_fifo_head: 3,
        ..Pl022::default()
    };
    assert_eq!(loads(&dst, &pl022_wire(7, 0), 1, &ctx()).tx_fifo_head, 7);
    let e = hostile(&dst, &pl022_wire(-1, 0), 1, &ctx());
    assert_out_of_range(&e, -1, 0, 7, "pl022_ssp/tx_fifo_head", 28);
    let e = hostile(&dst, &pl022_wire(0x1000_0000, 0), 1, &ctx());
    assert_out_of_range(&e, 0x1000_0000, 0, 7, "pl022_ssp/tx_fifo_head", 28);
    let e = hostile(&dst, &pl022_wire(0, 8), 1, &ctx());
    assert_out_of_range(&e, 8, 0, 7, "pl022_ssp/rx_fifo_head", 32);
}

// ---------------------------------------------------------------------------
// CVE-2013-4531: target-arm cpreg_vmstate_array_len
// ---------------------------------------------------------------------------

/// The cpreg part of `vmstate_arm_cpu` (target/arm/machine.c):
/// `VMSTATE_INT32_POSITIVE_LE(cpreg_vmstate_array_len)`, then two
/// `VMSTATE_VARRAY_INT32` arrays of `uint64` sized by it. The destination
/// sizes its arrays from its own CPU model before the load.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "cpu", version = 22, minimum_version = 22)]
struct ArmCpuCpregs {
    #[vmstate(positive_le)]
    cpreg_vmstate_array_len: i32,
    #[vmstate(count = cpreg_vmstate_array_len)]
    cpreg_vmstate_indexes: Vec<u64>,
    #[vmstate(count = cpreg_vmstate_array_len)]
    cpreg_vmstate_values: Vec<u64>,
}

impl Default for ArmCpuCpregs {
    fn default() -> Self {
        ArmCpuCpregs {
            cpreg_vmstate_array_len: 4,
            cpreg_vmstate_indexes: vec![0x4010_0000, 0x4010_0001, 0x4010_0002, 0x4010_0003],
            cpreg_vmstate_values: vec![1, 2, 3, 4],
        }
    }
}

#[test]
fn cve_2013_4531_arm_cpreg_array_len() {
    let dst = ArmCpuCpregs::default();
    // Fewer registers than configured is allowed (0 <= v <= current).
    let ok = Wire::new().i32(1).u64(9).u64(10).done();
    let l = loads(&dst, &ok, 22, &ctx());
    assert_eq!(
        (l.cpreg_vmstate_indexes, l.cpreg_vmstate_values),
        (vec![9], vec![10])
    );
    // 0x7FFFFFFF registers, 16 of data.
    let wire = Wire::new().i32(0x7fff_ffff).zeros(16 * 8).done();
    let e = hostile(&dst, &wire, 22, &ctx());
    assert_out_of_range(&e, 0x7fff_ffff, 0, 4, "cpu/cpreg_vmstate_array_len", 0);
    // Negative.
    let wire = Wire::new().i32(-1).done();
    let e = hostile(&dst, &wire, 22, &ctx());
    assert_out_of_range(&e, -1, 0, 4, "cpu/cpreg_vmstate_array_len", 0);
    // 5 > 4, with 5 registers of data present.
    let wire = Wire::new().i32(5).zeros(80).done();
    let e = hostile(&dst, &wire, 22, &ctx());
    assert_out_of_range(&e, 5, 0, 4, "cpu/cpreg_vmstate_array_len", 0);
}

// ---------------------------------------------------------------------------
// CVE-2013-4532: stellaris_enet
// ---------------------------------------------------------------------------

/// `vmstate_rx_frame`.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "stellaris_enet/rx_frame", version = 1, minimum_version = 1)]
struct RxFrame {
    #[vmstate(buffer)]
    data: [u8; 2048],
    #[vmstate(max = 2048)]
    len: u32,
}

impl Default for RxFrame {
    fn default() -> Self {
        RxFrame {
            data: [0; 2048],
            len: 0,
        }
    }
}

/// `vmstate_stellaris_enet` (hw/net/stellaris_enet.c, version 2), whose
/// `post_load` checks every index and length; here each bound sits on its
/// field.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "stellaris_enet", version = 2, minimum_version = 2)]
struct StellarisEnet {
    ris: u32,
    im: u32,
    rctl: u32,
    tctl: u32,
    thr: u32,
    mctl: u32,
    mdv: u32,
    mtxd: u32,
    mrxd: u32,
    /// A count of frames: at most 31.
    #[vmstate(max = 31)]
    np: u32,
    #[vmstate(max = 2048)]
    tx_fifo_len: u32,
    #[vmstate(buffer)]
    tx_fifo: [u8; 2048],
    rx: [RxFrame; 31],
    #[vmstate(max = 2044)]
    rx_fifo_offset: u32,
    /// An index: at most 30.
    #[vmstate(max = 30)]
    next_packet: u32,
}

impl Default for StellarisEnet {
    fn default() -> Self {
        StellarisEnet {
            ris: 0,
            im: 0,
            rctl: 0,
            tctl: 0,
            thr: 0,
            mctl: 0,
            mdv: 0,
            mtxd: 0,
            mrxd: 0,
            np: 0,
            tx_fifo_len: 0,
            tx_fifo: [0; 2048],
            rx: std::array::from_fn(|_| RxFrame::default()),
            rx_fifo_offset: 0,
            next_packet: 0,
        }
    }
}

#[test]
fn cve_2013_4532_stellaris_enet() {
    let dst = StellarisEnet {
        np: 2,
        ..StellarisEnet::default()
    };
    // tx_fifo_len = 0xFFFFFFFF.
    let wire = Wire::new().zeros(40).u32(0xffff_ffff).zeros(2048).done();
    let e = hostile(&dst, &wire, 2, &ctx());
    assert_out_of_range(&e, 0xffff_ffff, 0, 2048, "stellaris_enet/tx_fifo_len", 40);
    // np = 32 frames.
    let wire = Wire::new().zeros(36).u32(32).done();
    let e = hostile(&dst, &wire, 2, &ctx());
    assert_out_of_range(&e, 32, 0, 31, "stellaris_enet/np", 36);
    // rx[3].len = 0x10000: the error names the frame.
    let mut w = Wire::new().zeros(44).zeros(2048);
    for _ in 0..3 {
        w = w.zeros(2048).u32(64);
    }
    let w = w.zeros(2048);
    let at = w.at();
    let wire = w.u32(0x10000).done();
    let e = hostile(&dst, &wire, 2, &ctx());
    assert_out_of_range(&e, 0x10000, 0, 2048, "stellaris_enet/rx[3].len", at);
    // next_packet = 31 (an index one past the ring), everything else good.
    let mut w = Wire::new().zeros(44).zeros(2048);
    for _ in 0..31 {
        w = w.zeros(2048).u32(0);
    }
    let w = w.u32(0);
    let at = w.at();
    let wire = w.u32(31).done();
    let e = hostile(&dst, &wire, 2, &ctx());
    assert_out_of_range(&e, 31, 0, 30, "stellaris_enet/next_packet", at);
}

// ---------------------------------------------------------------------------
// CVE-2013-4533: pxa2xx SSP
// ---------------------------------------------------------------------------

/// `vmstate_pxa2xx_ssp` (hw/arm/pxa2xx.c): `rx_level` and `rx_start` are
/// checked by `VMSTATE_VALIDATE("fifo is 16 bytes")` before `rx_fifo`.
/// (QEMU's predicate compares `rx_start` with `sizeof(rx_fifo)`, 64 bytes;
/// the entries are 16, which this one checks, for both.)
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "pxa2xx-ssp", version = 1, minimum_version = 1)]
struct Pxa2xxSsp {
    enable: u32,
    sscr: [u32; 2],
    sspsp: u32,
    ssto: u32,
    ssitr: u32,
    sssr: u32,
    sstsa: u8,
    ssrsa: u8,
    ssacd: u8,
    rx_level: u32,
    rx_start: u32,
    #[vmstate(validate = Self::fifo_ok, rename = "fifo is 16 bytes")]
    _fifo_ok: (),
    rx_fifo: [u32; 16],
}

impl Pxa2xxSsp {
    fn fifo_ok(&self, _version: u32) -> bool {
        self.rx_start < 16 && self.rx_level <= 16
    }
}

#[test]
fn cve_2013_4533_pxa2xx_ssp() {
    let dst = Pxa2xxSsp {
        rx_level: 2,
        ..Pxa2xxSsp::default()
    };
    let good = Wire::new().zeros(31).u32(16).u32(15).zeros(64).done();
    assert_eq!(loads(&dst, &good, 1, &ctx()).rx_start, 15);
    let wire = Wire::new().zeros(31).u32(1).u32(0x100).zeros(64).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_invalid(&e, "fifo is 16 bytes", "pxa2xx-ssp/fifo is 16 bytes", 39);
    let wire = Wire::new().zeros(31).u32(17).u32(0).zeros(64).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_invalid(&e, "fifo is 16 bytes", "pxa2xx-ssp/fifo is 16 bytes", 39);
}

// ---------------------------------------------------------------------------
// CVE-2013-4537: ssi-sd
// ---------------------------------------------------------------------------

const SSI_SD_CMDARG: u32 = 1;
const SSI_SD_RESPONSE: u32 = 3;
const SSI_SD_SKIP_CRC16: u32 = 9;

/// `vmstate_ssi_peripheral`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "SSISlave", version = 1, minimum_version = 1)]
struct SsiPeripheral {
    cs: bool,
}

/// `vmstate_ssi_sd` (hw/sd/ssi-sd.c, version 7): `arglen` and
/// `response_pos` index `cmdarg[4]` / `response[5]` depending on `mode`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ssi_sd", version = 7, minimum_version = 7)]
struct SsiSd {
    #[vmstate(max = 9)]
    mode: u32,
    cmd: i32,
    cmdarg: [u8; 4],
    response: [u8; 5],
    crc16: u16,
    read_bytes: i32,
    write_bytes: i32,
    arglen: i32,
    response_pos: i32,
    stopping: i32,
    #[vmstate(validate = Self::cursors_ok, rename = "ssi_sd cursors in range")]
    _cursors_ok: (),
    ssidev: SsiPeripheral,
}

impl SsiSd {
    /// QEMU's `ssi_sd_post_load`, at the end of the fields.
    fn cursors_ok(&self, _version: u32) -> bool {
        if self.mode > SSI_SD_SKIP_CRC16 {
            return false;
        }
        if self.mode == SSI_SD_CMDARG && !(0..4).contains(&self.arglen) {
            return false;
        }
        if self.mode == SSI_SD_RESPONSE
            && (!(0..5).contains(&self.response_pos) || (self.stopping == 0 && self.arglen > 5))
        {
            return false;
        }
        true
    }
}

fn ssi_sd_wire(mode: u32, arglen: i32, response_pos: i32) -> Vec<u8> {
    Wire::new()
        .u32(mode)
        .i32(17)
        .zeros(4 + 5 + 2)
        .i32(0)
        .i32(0)
        .i32(arglen)
        .i32(response_pos)
        .i32(0)
        .u8(1)
        .done()
}

#[test]
fn cve_2013_4537_ssi_sd() {
    let dst = SsiSd::default();
    assert_eq!(
        loads(&dst, &ssi_sd_wire(SSI_SD_CMDARG, 3, 0), 7, &ctx()).arglen,
        3
    );
    let e = hostile(&dst, &ssi_sd_wire(SSI_SD_CMDARG, 0x100, 0), 7, &ctx());
    assert_invalid(
        &e,
        "ssi_sd cursors in range",
        "ssi_sd/ssi_sd cursors in range",
        39,
    );
    let e = hostile(&dst, &ssi_sd_wire(SSI_SD_RESPONSE, 1, -5), 7, &ctx());
    assert_invalid(
        &e,
        "ssi_sd cursors in range",
        "ssi_sd/ssi_sd cursors in range",
        39,
    );
    let e = hostile(&dst, &ssi_sd_wire(0x1000, 0, 0), 7, &ctx());
    assert_out_of_range(&e, 0x1000, 0, 9, "ssi_sd/mode", 0);
}

// ---------------------------------------------------------------------------
// CVE-2013-4538: ssd0323
// ---------------------------------------------------------------------------

/// `vmstate_ssd0323` (hw/display/ssd0323.c, version 2): `cmd_len` indexes
/// `cmd_data[8]`; the row and column cursors index the 128x80 4-bit
/// framebuffer.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ssd0323_oled", version = 2, minimum_version = 2)]
struct Ssd0323 {
    #[vmstate(max = 8)]
    cmd_len: u32,
    cmd: i32,
    cmd_data: [i32; 8],
    row: i32,
    row_start: i32,
    row_end: i32,
    col: i32,
    col_start: i32,
    col_end: i32,
    redraw: i32,
    remap: i32,
    #[vmstate(max = 1)]
    mode: u32,
    #[vmstate(validate = Self::cursors_ok, rename = "ssd0323 cursors in range")]
    _cursors_ok: (),
    #[vmstate(buffer)]
    framebuffer: [u8; 128 * 80 / 2],
    ssidev: SsiPeripheral,
}

impl Default for Ssd0323 {
    fn default() -> Self {
        Ssd0323 {
            cmd_len: 0,
            cmd: 0,
            cmd_data: [0; 8],
            row: 0,
            row_start: 0,
            row_end: 79,
            col: 0,
            col_start: 0,
            col_end: 63,
            redraw: 0,
            remap: 0,
            mode: 0,
            _cursors_ok: (),
            framebuffer: [0; 128 * 80 / 2],
            ssidev: SsiPeripheral::default(),
        }
    }
}

impl Ssd0323 {
    /// QEMU's `ssd0323_post_load` cursor checks.
    fn cursors_ok(&self, _version: u32) -> bool {
        (0..=self.row_end).contains(&self.row_start)
            && self.row_end < 80
            && (0..=self.col_end).contains(&self.col_start)
            && self.col_end < 64
            && (self.row_start..=self.row_end).contains(&self.row)
            && (self.col_start..=self.col_end).contains(&self.col)
    }
}

fn ssd0323_wire(cmd_len: u32, row: i32) -> Vec<u8> {
    Wire::new()
        .u32(cmd_len)
        .i32(0)
        .zeros(32)
        .i32(row)
        .i32(0)
        .i32(79)
        .i32(0)
        .i32(0)
        .i32(63)
        .i32(0)
        .i32(0)
        .u32(0)
        .zeros(5120)
        .u8(0)
        .done()
}

#[test]
fn cve_2013_4538_ssd0323() {
    let dst = Ssd0323::default();
    assert_eq!(loads(&dst, &ssd0323_wire(8, 79), 2, &ctx()).row, 79);
    let e = hostile(&dst, &ssd0323_wire(0x100, 0), 2, &ctx());
    assert_out_of_range(&e, 0x100, 0, 8, "ssd0323_oled/cmd_len", 0);
    let e = hostile(&dst, &ssd0323_wire(0, 80), 2, &ctx());
    assert_invalid(
        &e,
        "ssd0323 cursors in range",
        "ssd0323_oled/ssd0323 cursors in range",
        76,
    );
}

// ---------------------------------------------------------------------------
// CVE-2013-4539: tsc210x
// ---------------------------------------------------------------------------

/// `vmstatefields_tsc210x` (hw/input/tsc210x.c, "tsc2102" version 1):
/// `function`/`nextfunction` index `mode_regs[16]`, `precision` /
/// `nextprecision` index `resolution[4]`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "tsc2102", version = 1, minimum_version = 1)]
struct Tsc210x {
    enabled: bool,
    host_mode: bool,
    irq: bool,
    command: bool,
    pressure: bool,
    softstep: bool,
    state: bool,
    dav: u16,
    x: i32,
    y: i32,
    offset: u8,
    page: u8,
    filter: u8,
    pin_func: u8,
    r#ref: u8,
    timing: u8,
    noise: u8,
    #[vmstate(max = 15)]
    function: u8,
    #[vmstate(max = 15)]
    nextfunction: u8,
    #[vmstate(max = 3)]
    precision: u8,
    #[vmstate(max = 3)]
    nextprecision: u8,
    audio_ctrl1: u16,
    audio_ctrl2: u16,
    audio_ctrl3: u16,
    pll: [u16; 3],
    volume: u16,
    dac_power: u16,
    volume_change: i64,
    powerdown: i64,
    now: i64,
    filter_data: [u16; 0x14],
    timer: Timer,
}

fn tsc210x_wire(index_bytes: [u8; 4]) -> Vec<u8> {
    Wire::new()
        .zeros(7)
        .u16(0)
        .i32(160)
        .i32(160)
        .zeros(7)
        .bytes(&index_bytes)
        .zeros(2 * 3 + 2 * 3 + 2 + 2)
        .zeros(8 * 3)
        .zeros(2 * 0x14)
        .i64(-1)
        .done()
}

#[test]
fn cve_2013_4539_tsc210x() {
    let dst = Tsc210x::default();
    assert_eq!(
        loads(&dst, &tsc210x_wire([15, 15, 3, 3]), 1, &ctx()).precision,
        3
    );
    for (i, (field, bad, max)) in [
        ("function", 16u8, 15i128),
        ("nextfunction", 0xff, 15),
        ("precision", 4, 3),
        ("nextprecision", 0x80, 3),
    ]
    .into_iter()
    .enumerate()
    {
        let mut idx = [0u8; 4];
        idx[i] = bad;
        let e = hostile(&dst, &tsc210x_wire(idx), 1, &ctx());
        assert_out_of_range(
            &e,
            bad.into(),
            0,
            max,
            &format!("tsc2102/{field}"),
            24 + i as u64,
        );
    }
}

// ---------------------------------------------------------------------------
// CVE-2013-4540: zaurus scoop
// ---------------------------------------------------------------------------

/// `vmstate_scoop_regs` (hw/gpio/zaurus.c).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "scoop", version = 1, minimum_version = 0)]
struct Scoop {
    status: u16,
    power: u16,
    gpio_level: u32,
    gpio_dir: u32,
    prev_level: u32,
    #[vmstate(validate = Self::levels_ok, rename = "irq levels are 16 bit")]
    _levels_ok: (),
    mcr: u16,
    cdr: u16,
    ccr: u16,
    irr: u16,
    imr: u16,
    isr: u16,
    #[vmstate(unused = 2, exists = Self::is_version_0)]
    _v0: (),
}

impl Scoop {
    fn levels_ok(&self, _version: u32) -> bool {
        (self.prev_level | self.gpio_level | self.gpio_dir) & 0xffff_0000 == 0
    }
    fn is_version_0(&self, version: u32) -> bool {
        version == 0
    }
}

#[test]
fn cve_2013_4540_zaurus_scoop() {
    let dst = Scoop::default();
    let ok = Wire::new()
        .zeros(4)
        .u32(0xffff)
        .u32(0)
        .u32(0)
        .zeros(12)
        .done();
    assert_eq!(loads(&dst, &ok, 1, &ctx()).gpio_level, 0xffff);
    // gpio_level bit 16: the device shifts 1 << bit over a 16-entry table.
    let wire = Wire::new()
        .zeros(4)
        .u32(0x1_0000)
        .u32(0)
        .u32(0)
        .zeros(12)
        .done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_invalid(
        &e,
        "irq levels are 16 bit",
        "scoop/irq levels are 16 bit",
        16,
    );
    let wire = Wire::new()
        .zeros(4)
        .u32(0)
        .u32(0)
        .u32(0xffff_ffff)
        .zeros(14)
        .done();
    let e = hostile(&dst, &wire, 0, &ctx());
    assert_invalid(
        &e,
        "irq levels are 16 bit",
        "scoop/irq levels are 16 bit",
        16,
    );
}

// ---------------------------------------------------------------------------
// CVE-2013-4541 / CVE-2014-3461: USB device setup_len / setup_index
// ---------------------------------------------------------------------------

/// `vmstate_usb_device` (hw/usb/bus.c): `setup_len` and `setup_index` are
/// a length and an offset into the 4096-byte `data_buf`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "USBDevice", version = 1, minimum_version = 1)]
struct UsbDevice {
    addr: u8,
    state: i32,
    remote_wakeup: i32,
    setup_state: i32,
    #[vmstate(min = 0, max = 4095)]
    setup_len: i32,
    #[vmstate(min = 0, max = 4095)]
    setup_index: i32,
    setup_buf: [u8; 8],
}

fn usb_wire(setup_len: i32, setup_index: i32) -> Vec<u8> {
    Wire::new()
        .u8(2)
        .i32(3)
        .i32(0)
        .i32(1)
        .i32(setup_len)
        .i32(setup_index)
        .bytes(&[0x80, 6, 0, 1, 0, 0, 0x12, 0])
        .done()
}

#[test]
fn cve_2013_4541_2014_3461_usb_setup_len() {
    let dst = UsbDevice {
        addr: 1,
        ..UsbDevice::default()
    };
    assert_eq!(loads(&dst, &usb_wire(18, 0), 1, &ctx()).setup_len, 18);
    let e = hostile(&dst, &usb_wire(0x10000, 0), 1, &ctx());
    assert_out_of_range(&e, 0x10000, 0, 4095, "USBDevice/setup_len", 13);
    let e = hostile(&dst, &usb_wire(8, -8), 1, &ctx());
    assert_out_of_range(&e, -8, 0, 4095, "USBDevice/setup_index", 17);
    let e = hostile(&dst, &usb_wire(-1, 0), 1, &ctx());
    assert_out_of_range(&e, -1, 0, 4095, "USBDevice/setup_len", 13);
}

// ---------------------------------------------------------------------------
// CVE-2017-16845: ps2 queue pointers
// ---------------------------------------------------------------------------

/// `vmstate_ps2_common` ("PS2 Common State", hw/input/ps2.c): `rptr`,
/// `wptr` and `count` index the 256-byte `queue.data`.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "PS2 Common State", version = 3, minimum_version = 2)]
struct Ps2Common {
    write_cmd: i32,
    #[vmstate(rename = "queue.rptr", min = 0, max = 255)]
    rptr: i32,
    #[vmstate(rename = "queue.wptr", min = 0, max = 255)]
    wptr: i32,
    #[vmstate(rename = "queue.count", min = 0, max = 256)]
    count: i32,
    #[vmstate(rename = "queue.data", buffer)]
    data: [u8; 256],
}

impl Default for Ps2Common {
    fn default() -> Self {
        Ps2Common {
            write_cmd: -1,
            rptr: 0,
            wptr: 0,
            count: 0,
            data: [0; 256],
        }
    }
}

/// `vmstate_ps2_keyboard` ("ps2kbd", version 3) without its subsections.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ps2kbd", version = 3, minimum_version = 2)]
struct Ps2Kbd {
    common: Ps2Common,
    scan_enabled: i32,
    translate: i32,
    #[vmstate(version = 3)]
    scancode_set: i32,
}

fn ps2_wire(rptr: i32, wptr: i32, count: i32) -> Vec<u8> {
    Wire::new()
        .i32(-1)
        .i32(rptr)
        .i32(wptr)
        .i32(count)
        .zeros(256)
        .i32(1)
        .i32(0)
        .i32(2)
        .done()
}

#[test]
fn cve_2017_16845_ps2_queue() {
    let dst = Ps2Kbd::default();
    assert_eq!(
        loads(&dst, &ps2_wire(255, 3, 256), 3, &ctx()).common.count,
        256
    );
    let e = hostile(&dst, &ps2_wire(0x1000, 0, 1), 3, &ctx());
    assert_out_of_range(&e, 0x1000, 0, 255, "ps2kbd/common.queue.rptr", 4);
    let e = hostile(&dst, &ps2_wire(0, 0, -1), 3, &ctx());
    assert_out_of_range(&e, -1, 0, 256, "ps2kbd/common.queue.count", 12);
    let e = hostile(&dst, &ps2_wire(0, -2, 0), 3, &ctx());
    assert_out_of_range(&e, -2, 0, 255, "ps2kbd/common.queue.wptr", 8);
}

// ---------------------------------------------------------------------------
// Error rendering
// ---------------------------------------------------------------------------

/// A capacity error names the array it protects (QEMU's
/// `vmstate_load_state` prints the field name).
#[test]
fn length_errors_name_the_array() {
    let wire = Wire::new().u64(3).u64(0).u64(0).u8(255).done();
    let e = hostile(&HpetNoValidate::default(), &wire, 2, &ctx());
    assert_eq!(e.path(), "hpet/timers");
    let wire = virtio_head(0, 0xffff_ffff).done();
    let e = hostile(&VirtioCommon::default(), &wire, 1, &ctx());
    assert_eq!(e.path(), "virtio/config");
}
