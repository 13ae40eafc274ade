//! The 2013-2014 "invalid state load" CVE class (docs/wire-format.md#hostile-lengths), replayed
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

use vmstate_core::{ErrorKind, VmState};

#[path = "support/cve.rs"]
mod cve;
use cve::*;

// ---------------------------------------------------------------------------
// CVE-2013-4527: hpet num_timers
// ---------------------------------------------------------------------------

#[path = "support/hpet.rs"]
mod hpet;
use hpet::{Hpet, HpetTimer};

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
