//! Tight hand-written loaders and savers (as in `tight.rs`) for five
//! sections of pc.mig whose mirrors are plain enough to hand-write in a
//! few lines each: i8259 (both instances), ioapic, cpu_common (hooks and
//! two subsections), port92 and pcspk. The other 25 sections have no
//! hand-written baseline (see BENCHMARKS.md).

use vmstate_bench::pc::PC_MIG;
use vmstate_migration::{ReadOptions, SectionKind, Stream};
use vmstate_qemu::cpu_common::CpuCommon;
use vmstate_qemu::i8259::PicCommon;
use vmstate_qemu::ioapic::IoapicCommon;
use vmstate_qemu::pcspk::PcSpk;
use vmstate_qemu::port92::Port92;

use super::tight::Bad;

const SUBSECTION: u8 = 0x05;

/// The version and payload of FULL section `idstr` instance `instance`.
pub fn payload(idstr: &str, instance: u32) -> (u32, Vec<u8>) {
    let stream = Stream::parse(PC_MIG, ReadOptions::default()).unwrap();
    let s = stream
        .sections()
        .find(|s| s.kind == SectionKind::Full && s.idstr == idstr && s.instance_id == instance)
        .unwrap();
    (s.version_id, s.vmsd().unwrap().bytes.clone())
}

#[inline(always)]
fn take<'a, const N: usize>(r: &mut &'a [u8]) -> Result<&'a [u8; N], Bad> {
    let (head, tail) = r.split_first_chunk::<N>().ok_or(Bad::Short)?;
    *r = tail;
    Ok(head)
}

#[inline(always)]
fn u8_(r: &mut &[u8]) -> Result<u8, Bad> {
    Ok(take::<1>(r)?[0])
}

#[inline(always)]
fn be32(r: &mut &[u8]) -> Result<u32, Bad> {
    Ok(u32::from_be_bytes(*take(r)?))
}

/// A subsection named `name` at `r` (its version checked): `true` if so.
#[inline(always)]
fn subsection(r: &mut &[u8], name: &[u8], version: u32) -> Result<bool, Bad> {
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

pub fn load_i8259(d: &mut PicCommon, r: &mut &[u8], version: u32) -> Result<(), Bad> {
    if version != 1 {
        return Err(Bad::Version);
    }
    d.last_irr = u8_(r)?;
    d.irr = u8_(r)?;
    d.imr = u8_(r)?;
    d.isr = u8_(r)?;
    d.priority_add = u8_(r)?;
    d.irq_base = u8_(r)?;
    d.read_reg_select = u8_(r)?;
    d.poll = u8_(r)?;
    d.special_mask = u8_(r)?;
    d.init_state = u8_(r)?;
    d.auto_eoi = u8_(r)?;
    d.rotate_on_auto_eoi = u8_(r)?;
    d.special_fully_nested_mode = u8_(r)?;
    d.init4 = u8_(r)?;
    d.single_mode = u8_(r)?;
    d.elcr = u8_(r)?;
    Ok(())
}

pub fn save_i8259_vec(d: &PicCommon, out: &mut Vec<u8>) {
    for b in [
        d.last_irr,
        d.irr,
        d.imr,
        d.isr,
        d.priority_add,
        d.irq_base,
        d.read_reg_select,
        d.poll,
        d.special_mask,
        d.init_state,
        d.auto_eoi,
        d.rotate_on_auto_eoi,
        d.special_fully_nested_mode,
        d.init4,
        d.single_mode,
        d.elcr,
    ] {
        out.push(b);
    }
}

pub fn save_i8259_array(d: &PicCommon, out: &mut [u8; 16]) {
    *out = [
        d.last_irr,
        d.irr,
        d.imr,
        d.isr,
        d.priority_add,
        d.irq_base,
        d.read_reg_select,
        d.poll,
        d.special_mask,
        d.init_state,
        d.auto_eoi,
        d.rotate_on_auto_eoi,
        d.special_fully_nested_mode,
        d.init4,
        d.single_mode,
        d.elcr,
    ];
}

pub fn load_ioapic(d: &mut IoapicCommon, r: &mut &[u8], version: u32) -> Result<(), Bad> {
    if !(1..=3).contains(&version) {
        return Err(Bad::Version);
    }
    d.id = u8_(r)?;
    d.ioregsel = u8_(r)?;
    if version >= 2 {
        take::<8>(r)?;
        d.irr = be32(r)?;
    }
    let b = take::<{ 8 * 24 }>(r)?;
    for (x, c) in d.ioredtbl.iter_mut().zip(b.chunks_exact(8)) {
        *x = u64::from_be_bytes(c.try_into().unwrap());
    }
    Ok(())
}

pub fn save_ioapic_vec(d: &IoapicCommon, out: &mut Vec<u8>) {
    out.push(d.id);
    out.push(d.ioregsel);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&d.irr.to_be_bytes());
    for x in &d.ioredtbl {
        out.extend_from_slice(&x.to_be_bytes());
    }
}

pub fn save_ioapic_array(d: &IoapicCommon, out: &mut [u8; 206]) {
    out[0] = d.id;
    out[1] = d.ioregsel;
    out[2..10].fill(0);
    out[10..14].copy_from_slice(&d.irr.to_be_bytes());
    for (c, x) in out[14..].chunks_exact_mut(8).zip(&d.ioredtbl) {
        c.copy_from_slice(&x.to_be_bytes());
    }
}

/// With QEMU's hooks: `pre_load` resets the exception index, `post_load`
/// clears the old interrupt-exit bit.
pub fn load_cpu_common(d: &mut CpuCommon, r: &mut &[u8], version: u32) -> Result<(), Bad> {
    if version != 1 {
        return Err(Bad::Version);
    }
    d.exception_index.exception_index = -1;
    d.halted = be32(r)?;
    d.interrupt_request = be32(r)?;
    loop {
        if subsection(r, b"cpu_common/exception_index", 1)? {
            d.exception_index.exception_index = be32(r)? as i32;
        } else if subsection(r, b"cpu_common/crash_occurred", 1)? {
            d.crash_occurred.crash_occurred = u8_(r)? != 0;
        } else {
            break;
        }
    }
    d.interrupt_request &= !0x01;
    Ok(())
}

pub fn save_cpu_common_vec(d: &CpuCommon, out: &mut Vec<u8>) {
    out.extend_from_slice(&d.halted.to_be_bytes());
    out.extend_from_slice(&d.interrupt_request.to_be_bytes());
    if d.exception_index.exception_index != -1 {
        out.push(SUBSECTION);
        out.push(26);
        out.extend_from_slice(b"cpu_common/exception_index");
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(&d.exception_index.exception_index.to_be_bytes());
    }
    if d.crash_occurred.crash_occurred {
        out.push(SUBSECTION);
        out.push(25);
        out.extend_from_slice(b"cpu_common/crash_occurred");
        out.extend_from_slice(&1u32.to_be_bytes());
        out.push(1);
    }
}

pub fn load_port92(d: &mut Port92, r: &mut &[u8], version: u32) -> Result<(), Bad> {
    if version != 1 {
        return Err(Bad::Version);
    }
    d.outport = u8_(r)?;
    Ok(())
}

pub fn load_pcspk(d: &mut PcSpk, r: &mut &[u8], version: u32) -> Result<(), Bad> {
    if version != 1 {
        return Err(Bad::Version);
    }
    d.data_on = u8_(r)?;
    d.dummy_refresh_clock = u8_(r)?;
    Ok(())
}
