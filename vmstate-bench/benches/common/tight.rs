//! The best hand-written code for the two bench devices: what a careful
//! engineer writes for speed, with the checks a loader needs.
//!
//! * Load: a slice loader in place through `&mut`, taking fixed-size
//!   arrays (`split_first_chunk::<N>()`): one bounds check per field (per
//!   array for arrays), the version range checked, the one known
//!   subsection recognised by marker, name and version, bools as QEMU
//!   reads them (non-zero is true). It skips what QEMU does and a loader
//!   for one device can leave out: the subsection peek after each nested
//!   struct, a strict-bool mode, error paths and offsets.
//! * Save: `to_be_bytes` appended to a `Vec` field by field; and, for the
//!   payload's static size, a write into a `[u8; N]` at constant offsets,
//!   the physical bound of a save.

use vmstate_bench::device::{self, DeviceMix, EXT_NAME, EXT_VERSION};
use vmstate_bench::device356::{self, Device356, TAIL_NAME, TAIL_VERSION};

/// Why a hand-written load failed (no path, no offset).
#[derive(Debug)]
pub enum Bad {
    Version,
    Short,
    SubsectionVersion,
    /// A subsection name with the parent's prefix that it does not have.
    UnknownSubsection,
    /// An `equal` field differs from the destination's value.
    NotEqual,
    /// A check or a hook refused the state.
    Invalid,
}

const SUBSECTION: u8 = 0x05;

#[inline(always)]
pub(super) fn take<'a, const N: usize>(r: &mut &'a [u8]) -> Result<&'a [u8; N], Bad> {
    let (head, tail) = r.split_first_chunk::<N>().ok_or(Bad::Short)?;
    *r = tail;
    Ok(head)
}

#[inline(always)]
pub(super) fn u8_(r: &mut &[u8]) -> Result<u8, Bad> {
    Ok(take::<1>(r)?[0])
}
#[inline(always)]
pub(super) fn be16(r: &mut &[u8]) -> Result<u16, Bad> {
    Ok(u16::from_be_bytes(*take(r)?))
}
#[inline(always)]
pub(super) fn be32(r: &mut &[u8]) -> Result<u32, Bad> {
    Ok(u32::from_be_bytes(*take(r)?))
}
#[inline(always)]
pub(super) fn be64(r: &mut &[u8]) -> Result<u64, Bad> {
    Ok(u64::from_be_bytes(*take(r)?))
}

/// `[u32; N]` from `4 * N` bytes taken at once.
#[inline(always)]
pub(super) fn be32s<const N: usize, const B: usize>(
    dst: &mut [u32; N],
    r: &mut &[u8],
) -> Result<(), Bad> {
    let b = take::<B>(r)?;
    for (d, c) in dst.iter_mut().zip(b.chunks_exact(4)) {
        *d = u32::from_be_bytes(c.try_into().unwrap());
    }
    Ok(())
}

/// The one known subsection: `05`, length, name; then its be32 version
/// (QEMU keeps the low byte). `Ok(true)` when it is there.
#[inline(always)]
pub(super) fn subsection(r: &mut &[u8], name: &str, version: u32) -> Result<bool, Bad> {
    let name = name.as_bytes();
    if r.len() < 2 + name.len()
        || r[0] != SUBSECTION
        || usize::from(r[1]) != name.len()
        || &r[2..2 + name.len()] != name
    {
        return Ok(false);
    }
    *r = &r[2 + name.len()..];
    if be32(r)? as u8 as u32 > version {
        return Err(Bad::SubsectionVersion);
    }
    Ok(true)
}

/// [`DeviceMix`] from `r` at stream `version`.
pub fn load_mix(d: &mut DeviceMix, r: &mut &[u8], version: u32) -> Result<(), Bad> {
    if !(1..=device::VERSION).contains(&version) {
        return Err(Bad::Version);
    }
    d.ctrl = u8_(r)?;
    d.status = u8_(r)?;
    d.irq_line = u8_(r)? as i8;
    d.divider = be16(r)?;
    d.scratch = be16(r)? as i16;
    d.config = be32(r)?;
    d.intr_mask = be32(r)?;
    d.offset = be32(r)? as i32;
    d.counter = be64(r)?;
    d.stamp = be64(r)? as i64;
    d.enabled = u8_(r)? != 0;
    d.irq_pending = u8_(r)? != 0;
    be32s::<16, 64>(&mut d.regs, r)?;
    d.fifo = *take(r)?;
    for t in &mut d.timers {
        t.config = be64(r)?;
        t.cmp = be64(r)?;
        t.fsb = be64(r)?;
        t.period = be32(r)?;
        t.wrap = u8_(r)? != 0;
        t.level = u8_(r)?;
    }
    if version >= 3 {
        d.rtc_base = be64(r)?;
    }
    if subsection(r, EXT_NAME, EXT_VERSION)? {
        let e = &mut d.ext;
        e.flags = be32(r)?;
        e.counter = be64(r)?;
        e.pending = u8_(r)? != 0;
        e.data = *take(r)?;
    }
    Ok(())
}

/// [`DeviceMix`] appended to `out` with `to_be_bytes`.
pub fn save_mix_vec(d: &DeviceMix, out: &mut Vec<u8>) {
    out.push(d.ctrl);
    out.push(d.status);
    out.push(d.irq_line as u8);
    out.extend_from_slice(&d.divider.to_be_bytes());
    out.extend_from_slice(&d.scratch.to_be_bytes());
    out.extend_from_slice(&d.config.to_be_bytes());
    out.extend_from_slice(&d.intr_mask.to_be_bytes());
    out.extend_from_slice(&d.offset.to_be_bytes());
    out.extend_from_slice(&d.counter.to_be_bytes());
    out.extend_from_slice(&d.stamp.to_be_bytes());
    out.push(u8::from(d.enabled));
    out.push(u8::from(d.irq_pending));
    for r in &d.regs {
        out.extend_from_slice(&r.to_be_bytes());
    }
    out.extend_from_slice(&d.fifo);
    for t in &d.timers {
        out.extend_from_slice(&t.config.to_be_bytes());
        out.extend_from_slice(&t.cmp.to_be_bytes());
        out.extend_from_slice(&t.fsb.to_be_bytes());
        out.extend_from_slice(&t.period.to_be_bytes());
        out.push(u8::from(t.wrap));
        out.push(t.level);
    }
    out.extend_from_slice(&d.rtc_base.to_be_bytes());
    if d.ext_needed() {
        out.push(SUBSECTION);
        out.push(EXT_NAME.len() as u8);
        out.extend_from_slice(EXT_NAME.as_bytes());
        out.extend_from_slice(&EXT_VERSION.to_be_bytes());
        let e = &d.ext;
        out.extend_from_slice(&e.flags.to_be_bytes());
        out.extend_from_slice(&e.counter.to_be_bytes());
        out.push(u8::from(e.pending));
        out.extend_from_slice(&e.data);
    }
}

/// Writes into a fixed-size buffer at constant offsets.
struct Fixed<'a>(&'a mut [u8]);

impl Fixed<'_> {
    #[inline(always)]
    fn put<const N: usize>(&mut self, b: [u8; N]) {
        let (head, tail) = std::mem::take(&mut self.0)
            .split_first_chunk_mut::<N>()
            .unwrap();
        *head = b;
        self.0 = tail;
    }
}

/// [`DeviceMix`] with its subsection (a static size:
/// [`device::PAYLOAD_LEN`]) into a `[u8; N]`.
pub fn save_mix_array(d: &DeviceMix, out: &mut [u8; device::PAYLOAD_LEN]) {
    let mut w = Fixed(out);
    w.put([d.ctrl, d.status, d.irq_line as u8]);
    w.put(d.divider.to_be_bytes());
    w.put(d.scratch.to_be_bytes());
    w.put(d.config.to_be_bytes());
    w.put(d.intr_mask.to_be_bytes());
    w.put(d.offset.to_be_bytes());
    w.put(d.counter.to_be_bytes());
    w.put(d.stamp.to_be_bytes());
    w.put([u8::from(d.enabled), u8::from(d.irq_pending)]);
    for r in &d.regs {
        w.put(r.to_be_bytes());
    }
    w.put(d.fifo);
    for t in &d.timers {
        w.put(t.config.to_be_bytes());
        w.put(t.cmp.to_be_bytes());
        w.put(t.fsb.to_be_bytes());
        w.put(t.period.to_be_bytes());
        w.put([u8::from(t.wrap), t.level]);
    }
    w.put(d.rtc_base.to_be_bytes());
    w.put([SUBSECTION, EXT_NAME.len() as u8]);
    w.put(*b"benchdev/ext");
    w.put(EXT_VERSION.to_be_bytes());
    let e = &d.ext;
    w.put(e.flags.to_be_bytes());
    w.put(e.counter.to_be_bytes());
    w.put([u8::from(e.pending)]);
    w.put(e.data);
}

/// [`Device356`] from `r` at stream `version`.
pub fn load_356(d: &mut Device356, r: &mut &[u8], version: u32) -> Result<(), Bad> {
    if !(1..=device356::VERSION).contains(&version) {
        return Err(Bad::Version);
    }
    d.id = u8_(r)?;
    d.irq = u8_(r)? as i8;
    d.ctrl = be16(r)?;
    d.delta = be16(r)? as i16;
    d.mask = be32(r)?;
    d.bias = be32(r)? as i32;
    d.base = be64(r)?;
    d.skew = be64(r)? as i64;
    d.enabled = u8_(r)? != 0;
    d.running = u8_(r)? != 0;
    d.irq_level = u8_(r)? != 0;
    d.dma_on = u8_(r)? != 0;
    d.fault = u8_(r)? != 0;
    d.locked = u8_(r)? != 0;
    be32s::<32, 128>(&mut d.regs, r)?;
    d.rx = *take(r)?;
    d.tx = *take(r)?;
    for c in &mut d.chans {
        c.addr = be64(r)?;
        c.len = be32(r)?;
        c.head = be16(r)?;
        c.status = u8_(r)?;
        c.busy = u8_(r)? != 0;
    }
    if version >= 2 {
        d.stamp = be64(r)?;
    }
    if subsection(r, TAIL_NAME, TAIL_VERSION)? {
        let t = &mut d.tail;
        t.seq = be64(r)?;
        t.acked = be64(r)?;
        t.window = be32(r)?;
        t.flags = be32(r)?;
        t.note = *take(r)?;
    }
    Ok(())
}

/// [`Device356`] appended to `out` with `to_be_bytes`.
pub fn save_356_vec(d: &Device356, out: &mut Vec<u8>) {
    out.push(d.id);
    out.push(d.irq as u8);
    out.extend_from_slice(&d.ctrl.to_be_bytes());
    out.extend_from_slice(&d.delta.to_be_bytes());
    out.extend_from_slice(&d.mask.to_be_bytes());
    out.extend_from_slice(&d.bias.to_be_bytes());
    out.extend_from_slice(&d.base.to_be_bytes());
    out.extend_from_slice(&d.skew.to_be_bytes());
    for b in [
        d.enabled,
        d.running,
        d.irq_level,
        d.dma_on,
        d.fault,
        d.locked,
    ] {
        out.push(u8::from(b));
    }
    for r in &d.regs {
        out.extend_from_slice(&r.to_be_bytes());
    }
    out.extend_from_slice(&d.rx);
    out.extend_from_slice(&d.tx);
    for c in &d.chans {
        out.extend_from_slice(&c.addr.to_be_bytes());
        out.extend_from_slice(&c.len.to_be_bytes());
        out.extend_from_slice(&c.head.to_be_bytes());
        out.push(c.status);
        out.push(u8::from(c.busy));
    }
    out.extend_from_slice(&d.stamp.to_be_bytes());
    if d.tail_needed() {
        out.push(SUBSECTION);
        out.push(TAIL_NAME.len() as u8);
        out.extend_from_slice(TAIL_NAME.as_bytes());
        out.extend_from_slice(&TAIL_VERSION.to_be_bytes());
        let t = &d.tail;
        out.extend_from_slice(&t.seq.to_be_bytes());
        out.extend_from_slice(&t.acked.to_be_bytes());
        out.extend_from_slice(&t.window.to_be_bytes());
        out.extend_from_slice(&t.flags.to_be_bytes());
        out.extend_from_slice(&t.note);
    }
}

/// [`Device356`] with its subsection into a `[u8; N]`.
pub fn save_356_array(d: &Device356, out: &mut [u8; device356::PAYLOAD_LEN]) {
    let mut w = Fixed(out);
    w.put([d.id, d.irq as u8]);
    w.put(d.ctrl.to_be_bytes());
    w.put(d.delta.to_be_bytes());
    w.put(d.mask.to_be_bytes());
    w.put(d.bias.to_be_bytes());
    w.put(d.base.to_be_bytes());
    w.put(d.skew.to_be_bytes());
    w.put(
        [
            d.enabled,
            d.running,
            d.irq_level,
            d.dma_on,
            d.fault,
            d.locked,
        ]
        .map(u8::from),
    );
    for r in &d.regs {
        w.put(r.to_be_bytes());
    }
    w.put(d.rx);
    w.put(d.tx);
    for c in &d.chans {
        w.put(c.addr.to_be_bytes());
        w.put(c.len.to_be_bytes());
        w.put(c.head.to_be_bytes());
        w.put([c.status, u8::from(c.busy)]);
    }
    w.put(d.stamp.to_be_bytes());
    w.put([SUBSECTION, TAIL_NAME.len() as u8]);
    w.put(*b"device356/tail");
    w.put(TAIL_VERSION.to_be_bytes());
    let t = &d.tail;
    w.put(t.seq.to_be_bytes());
    w.put(t.acked.to_be_bytes());
    w.put(t.window.to_be_bytes());
    w.put(t.flags.to_be_bytes());
    w.put(t.note);
}
