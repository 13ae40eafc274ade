//! The best hand-written code for the third bench device
//! ([`Shapes`]), in the manner of `tight.rs`: counted arrays checked
//! against the bytes left and decoded from one slice each, fixed-size
//! arrays taken at once, the `equal` and range checks, the queues'
//! subsection recognised by marker, name and version; no subsection peek
//! after each descriptor or slot (a loader for one device leaves those
//! out). Saves append fixed-size pieces to a `Vec`.

use vmstate_bench::shapes::{self, Desc, Shapes, Slot, EVENT_NAME};

use super::tight::{be16, be32, be64, subsection, take, Bad};

/// `n` elements of `size` bytes from the front of `r`, checked first.
#[inline(always)]
fn counted<'a>(r: &mut &'a [u8], n: usize, size: usize) -> Result<&'a [u8], Bad> {
    let len = n.checked_mul(size).ok_or(Bad::Short)?;
    if r.len() < len {
        return Err(Bad::Short);
    }
    let (head, tail) = r.split_at(len);
    *r = tail;
    Ok(head)
}

#[inline(always)]
fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    b.try_into().unwrap()
}

/// [`Shapes`] from `r` at stream `version`.
pub fn load_shapes(d: &mut Shapes, r: &mut &[u8], version: u32) -> Result<(), Bad> {
    if version != shapes::VERSION {
        return Err(Bad::Version);
    }
    let num_desc = be32(r)?;
    let b = counted(r, num_desc as usize, 12)?;
    d.num_desc = num_desc;
    d.descs.clear();
    d.descs.extend(b.chunks_exact(12).map(|c| Desc {
        addr: u64::from_be_bytes(arr(&c[0..8])),
        len: u16::from_be_bytes(arr(&c[8..10])),
        flags: c[10],
        own: c[11] != 0,
    }));
    let num_slots = be16(r)?;
    let b = counted(r, num_slots as usize, 8)?;
    d.num_slots = num_slots;
    d.slots.clear();
    d.slots.extend(b.chunks_exact(8).map(|c| Slot {
        head: u32::from_be_bytes(arr(&c[0..4])),
        tail: u32::from_be_bytes(arr(&c[4..8])),
    }));
    take::<4>(r)?;
    if be32(r)? != d.ncpus {
        return Err(Bad::NotEqual);
    }
    let b = take::<256>(r)?;
    for (s, c) in d.stats.iter_mut().zip(b.chunks_exact(8)) {
        *s = u64::from_be_bytes(arr(c));
    }
    let b = take::<64>(r)?;
    for (e, c) in d.enabled.iter_mut().zip(b) {
        *e = *c != 0;
    }
    for q in &mut d.queues {
        q.base = be64(r)?;
        q.size = be16(r)?;
        if subsection(r, EVENT_NAME, 1)? {
            q.event.idx = be16(r)?;
        }
    }
    let mtu = be32(r)?;
    if !(68..=65535).contains(&mtu) {
        return Err(Bad::Invalid);
    }
    d.mtu = mtu;
    let b = take::<48>(r)?;
    for (t, c) in d.temps.iter_mut().zip(b.chunks_exact(2)) {
        *t = i16::from_be_bytes(arr(c));
    }
    Ok(())
}

/// [`Shapes`] appended to `out`: fixed-size pieces, one per element or
/// array.
pub fn save_shapes_vec(d: &Shapes, out: &mut Vec<u8>) {
    out.extend_from_slice(&d.num_desc.to_be_bytes());
    for x in &d.descs {
        let mut a = [0u8; 12];
        a[0..8].copy_from_slice(&x.addr.to_be_bytes());
        a[8..10].copy_from_slice(&x.len.to_be_bytes());
        a[10] = x.flags;
        a[11] = u8::from(x.own);
        out.extend_from_slice(&a);
    }
    out.extend_from_slice(&d.num_slots.to_be_bytes());
    for x in &d.slots {
        let mut a = [0u8; 8];
        a[0..4].copy_from_slice(&x.head.to_be_bytes());
        a[4..8].copy_from_slice(&x.tail.to_be_bytes());
        out.extend_from_slice(&a);
    }
    let mut a = [0u8; 8 + 256 + 64];
    a[4..8].copy_from_slice(&d.ncpus.to_be_bytes());
    for (c, s) in a[8..264].chunks_exact_mut(8).zip(&d.stats) {
        c.copy_from_slice(&s.to_be_bytes());
    }
    for (c, e) in a[264..].iter_mut().zip(&d.enabled) {
        *c = u8::from(*e);
    }
    out.extend_from_slice(&a);
    for q in &d.queues {
        let mut a = [0u8; 10];
        a[0..8].copy_from_slice(&q.base.to_be_bytes());
        a[8..10].copy_from_slice(&q.size.to_be_bytes());
        out.extend_from_slice(&a);
        if q.event_needed() {
            out.push(0x05);
            out.push(EVENT_NAME.len() as u8);
            out.extend_from_slice(EVENT_NAME.as_bytes());
            out.extend_from_slice(&1u32.to_be_bytes());
            out.extend_from_slice(&q.event.idx.to_be_bytes());
        }
    }
    let mut a = [0u8; 4 + 48];
    a[0..4].copy_from_slice(&d.mtu.to_be_bytes());
    for (c, t) in a[4..].chunks_exact_mut(2).zip(&d.temps) {
        c.copy_from_slice(&t.to_be_bytes());
    }
    out.extend_from_slice(&a);
}
