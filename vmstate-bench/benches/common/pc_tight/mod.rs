//! Tight hand-written loaders and savers for every FULL section of pc.mig,
//! in the style of `tight.rs`: a slice loader in place through `&mut`
//! taking fixed-size arrays (one bounds check per field, or one per array,
//! per run of bytes, per fixed-size element), the version range checked, subsections accepted in any order
//! by name and checked for version, the mirror's hooks reproduced; a save
//! with `to_be_bytes` into a `Vec`, and the same code into a `[u8; N]` at
//! constant offsets for the sections whose save in pc.mig has a static
//! size: no subsection written, no array sized by another field (the
//! physical bound of a save; it would not fit a subsection).
//!
//! Left out, as a loader for one device may: error paths and offsets, the
//! subsection peek after a nested struct or a subsection that has no
//! subsections of its own, the duplicate-subsection check, a strict-bool
//! mode.

mod cpu;
mod isa;
mod legacy;
mod pci;
mod platform;

use std::fmt::Debug;

use vmstate_bench::pc::PC_MIG;
use vmstate_core::types::Timer;
use vmstate_core::{Context, VmState};
use vmstate_migration::{ReadOptions, SectionKind, Stream};

// The reads of tight.rs, under the short names these loaders use.
use super::tight::{be16 as g16, be32 as g32, be64 as g64, take, u8_ as g8};

pub use super::tight::Bad;

const SUBSECTION: u8 = 0x05;
/// The cap on a `Vec` length taken from the stream (the derived code's
/// default `Context::max_vec_len`).
const MAX_VEC: usize = 1 << 24;

/// The version and payload of FULL section `idstr` (the VMSD name, after
/// any qdev path) instance `instance`.
pub fn payload(idstr: &str, instance: u32) -> (u32, Vec<u8>) {
    let stream = Stream::parse(PC_MIG, ReadOptions::default()).unwrap();
    let s = stream
        .sections()
        .find(|s| {
            s.kind == SectionKind::Full
                && (s.idstr == idstr || s.idstr.ends_with(&format!("/{idstr}")))
                && s.instance_id == instance
        })
        .unwrap();
    (s.version_id, s.vmsd().unwrap().bytes.clone())
}

/// Section `idstr`.`instance` loaded by the derived code and by the
/// tight loader, which must agree; both saves (and the `[u8; N]` one)
/// must give the fixture's bytes back. Returns the version, the payload
/// and the loaded mirror.
pub fn checked<T: Hand>(label: &str, idstr: &str, instance: u32) -> (u32, Vec<u8>, T) {
    let ctx = Context::new();
    let (version, bytes) = payload(idstr, instance);
    let mut derived = T::default();
    derived.load_exact(&bytes, version, &ctx).unwrap();
    let mut hand = T::default();
    let mut rest = &bytes[..];
    hand.tight_load(&mut rest, version).unwrap();
    assert_eq!((&hand, rest.len()), (&derived, 0), "{label}: hand load");
    assert_eq!(
        derived.to_bytes(&ctx).unwrap(),
        bytes,
        "{label}: derived save"
    );
    let mut out = Vec::new();
    hand.tight_save_vec(&mut out);
    assert_eq!(out, bytes, "{label}: hand save");
    let mut arr = T::arr();
    assert_eq!(T::STATIC, arr.as_ref().len() == bytes.len(), "{label}: N");
    if T::STATIC {
        hand.tight_save_array(&mut arr);
        assert_eq!(arr.as_ref(), &bytes[..], "{label}: [u8; N] save");
        arr.as_mut().fill(0xa5);
        let n = derived.clone().save_to_slice(arr.as_mut(), &ctx).unwrap();
        assert_eq!(
            &arr.as_ref()[..n],
            &bytes[..],
            "{label}: derived [u8; N] save"
        );
    }
    (version, bytes, hand)
}

/// A pc.mig section type with tight hand-written code.
pub trait Hand: VmState + Clone + Default + PartialEq + Debug {
    /// `[u8; N]` for a static wire size, `[u8; 0]` otherwise.
    type Arr: AsMut<[u8]> + AsRef<[u8]>;
    /// Whether pc.mig's save of this section has a static size (a
    /// `[u8; N]` save exists).
    const STATIC: bool;
    /// A zeroed `Arr`.
    fn arr() -> Self::Arr;
    /// Loads in place at stream version `version`.
    fn tight_load(&mut self, r: &mut &[u8], version: u32) -> Result<(), Bad>;
    /// Saves at the current version (the mirror's `pre_save` computed on
    /// the fly, the state unchanged).
    fn tight_save<O: Out>(&self, o: &mut O);
    /// Appends to a `Vec`.
    #[inline(always)]
    fn tight_save_vec(&self, out: &mut Vec<u8>) {
        self.tight_save(out)
    }
    /// Writes into `[u8; N]` (static wire sizes only: a subsection would
    /// not fit).
    #[inline(always)]
    fn tight_save_array(&self, out: &mut Self::Arr) {
        self.tight_save(&mut Fixed(out.as_mut()))
    }
}

/// Implements [`Hand`] for a type from its `load` and `save` functions,
/// with `[u8; N]` when the wire size is static.
macro_rules! hand {
    ($ty:ty, $load:path, $save:path) => {
        hand!($ty, $load, $save, 0, false);
    };
    ($ty:ty, $load:path, $save:path, $n:expr) => {
        hand!($ty, $load, $save, $n, true);
    };
    ($ty:ty, $load:path, $save:path, $n:expr, $static:expr) => {
        impl super::Hand for $ty {
            type Arr = [u8; $n];
            const STATIC: bool = $static;
            fn arr() -> [u8; $n] {
                [0; $n]
            }
            #[inline(always)]
            fn tight_load(&mut self, r: &mut &[u8], version: u32) -> Result<(), super::Bad> {
                $load(self, r, version)
            }
            #[inline(always)]
            fn tight_save<O: super::Out>(&self, o: &mut O) {
                $save(self, o)
            }
        }
    };
}
use hand;

/// Something generic over the section types: [`for_each`] calls `visit`
/// once per FULL section of pc.mig.
pub trait Visit {
    fn visit<T: Hand>(&mut self, label: &str, idstr: &str, instance: u32);
}

/// Every FULL section of pc.mig, in stream order.
pub fn for_each<V: Visit>(v: &mut V) {
    use vmstate_qemu::*;
    v.visit::<timer::Timers>("timer.0", "timer", 0);
    v.visit::<cpu_common::CpuCommon>("cpu_common.0", "cpu_common", 0);
    v.visit::<vmstate_qemu::cpu::X86Cpu>("cpu.0", "cpu", 0);
    v.visit::<kvm_tpr_opt::VapicRomState>("kvm-tpr-opt.0", "kvm-tpr-opt", 0);
    v.visit::<apic::ApicCommon>("apic.0", "apic", 0);
    v.visit::<fw_cfg::FwCfg>("fw_cfg.0", "fw_cfg", 0);
    v.visit::<pci_host::PciHost>("PCIHost.0", "PCIHost", 0);
    v.visit::<pci_bus::PciBus>("PCIBUS.0", "PCIBUS", 0);
    v.visit::<i440fx::I440fx>("I440FX.0", "I440FX", 0);
    v.visit::<dma::I8257>("dma.0", "dma", 0);
    v.visit::<dma::I8257>("dma.1", "dma", 1);
    v.visit::<piix3::Piix3>("PIIX3.0", "PIIX3", 0);
    v.visit::<i8259::PicCommon>("i8259.0", "i8259", 0);
    v.visit::<i8259::PicCommon>("i8259.1", "i8259", 1);
    v.visit::<ioapic::IoapicCommon>("ioapic.0", "ioapic", 0);
    v.visit::<hpet::Hpet>("hpet.0", "hpet", 0);
    v.visit::<mc146818rtc::Rtc>("mc146818rtc.0", "mc146818rtc", 0);
    v.visit::<i8254::PitCommon>("i8254.0", "i8254", 0);
    v.visit::<pcspk::PcSpk>("pcspk.0", "pcspk", 0);
    v.visit::<fdc::IsaFdc>("fdc.0", "fdc", 0);
    v.visit::<ps2::Ps2Kbd>("ps2kbd.0", "ps2kbd", 0);
    v.visit::<ps2::Ps2Mouse>("ps2mouse.0", "ps2mouse", 0);
    v.visit::<pckbd::KbdIsa>("pckbd.0", "pckbd", 0);
    v.visit::<vmmouse::VmMouse>("vmmouse.0", "vmmouse", 0);
    v.visit::<port92::Port92>("port92.0", "port92", 0);
    v.visit::<ide::PciIde>("ide.0", "ide", 0);
    v.visit::<i2c_bus::I2cBus>("i2c_bus.0", "i2c_bus", 0);
    v.visit::<piix4_pm::Piix4Pm>("piix4_pm.0", "piix4_pm", 0);
    v.visit::<acpi_build::AcpiBuild>("acpi_build.0", "acpi_build", 0);
    v.visit::<globalstate::GlobalState>("globalstate.0", "globalstate", 0);
}

// ---------------------------------------------------------------------------
// Loading: fixed-size takes from a slice.
// ---------------------------------------------------------------------------

#[inline(always)]
fn take_n<'a>(r: &mut &'a [u8], n: usize) -> Result<&'a [u8], Bad> {
    let (head, tail) = r.split_at_checked(n).ok_or(Bad::Short)?;
    *r = tail;
    Ok(head)
}

#[inline(always)]
fn gbool(r: &mut &[u8]) -> Result<bool, Bad> {
    Ok(g8(r)? != 0)
}
#[inline(always)]
fn gi16(r: &mut &[u8]) -> Result<i16, Bad> {
    Ok(i16::from_be_bytes(*take(r)?))
}
#[inline(always)]
fn gi32(r: &mut &[u8]) -> Result<i32, Bad> {
    Ok(i32::from_be_bytes(*take(r)?))
}
#[inline(always)]
fn gi64(r: &mut &[u8]) -> Result<i64, Bad> {
    Ok(i64::from_be_bytes(*take(r)?))
}
#[inline(always)]
fn gtimer(r: &mut &[u8]) -> Result<Timer, Bad> {
    Ok(Timer { raw: gi64(r)? })
}
#[inline(always)]
fn skip<const N: usize>(r: &mut &[u8]) -> Result<(), Bad> {
    take::<N>(r).map(|_| ())
}

/// Big-endian words of one width, for arrays taken in one piece.
pub trait Word: Copy {
    const SIZE: usize;
    fn from_be(b: &[u8]) -> Self;
    fn put_be<O: Out>(self, o: &mut O);
}
macro_rules! word {
    ($($t:ty),*) => {$(
        impl Word for $t {
            const SIZE: usize = size_of::<$t>();
            #[inline(always)]
            fn from_be(b: &[u8]) -> Self {
                <$t>::from_be_bytes(b.try_into().unwrap())
            }
            #[inline(always)]
            fn put_be<O: Out>(self, o: &mut O) {
                o.put(self.to_be_bytes());
            }
        }
    )*};
}
word!(u8, u16, u32, u64, i32, i64);

/// An array of words from `N * size` bytes taken at once.
#[inline(always)]
fn gwords<T: Word, const N: usize>(dst: &mut [T; N], r: &mut &[u8]) -> Result<(), Bad> {
    let b = take_n(r, N * T::SIZE)?;
    for (d, c) in dst.iter_mut().zip(b.chunks_exact(T::SIZE)) {
        *d = T::from_be(c);
    }
    Ok(())
}

/// The subsection header at `r` when its name extends `parent` (QEMU's
/// peek): its name and version (low byte, as QEMU keeps it), consumed.
/// Anything else is left for the enclosing level.
#[inline(always)]
fn sub_header<'a>(r: &mut &'a [u8], parent: &[u8]) -> Result<Option<(&'a [u8], u32)>, Bad> {
    let &[SUBSECTION, len, ref rest @ ..] = *r else {
        return Ok(None);
    };
    let len = usize::from(len);
    if len <= parent.len() {
        return Ok(None);
    }
    let Some((name, rest)) = rest.split_at_checked(len) else {
        return Ok(None);
    };
    if !name.starts_with(parent) {
        return Ok(None);
    }
    let (v, rest) = rest.split_first_chunk::<4>().ok_or(Bad::Short)?;
    *r = rest;
    Ok(Some((name, u32::from(u32::from_be_bytes(*v) as u8))))
}

/// A version in `min..=max`.
#[inline(always)]
fn ver(v: u32, min: u32, max: u32) -> Result<(), Bad> {
    if v < min || v > max {
        return Err(Bad::SubsectionVersion);
    }
    Ok(())
}

/// The section version in `min..=max`.
#[inline(always)]
fn sec_ver(v: u32, min: u32, max: u32) -> Result<(), Bad> {
    if v < min || v > max {
        return Err(Bad::Version);
    }
    Ok(())
}

/// A length from a count field, capped like the derived code's `Vec`s.
#[inline(always)]
fn vec_len(n: i64) -> Result<usize, Bad> {
    usize::try_from(n)
        .ok()
        .filter(|&n| n <= MAX_VEC)
        .ok_or(Bad::Invalid)
}

// ---------------------------------------------------------------------------
// Saving: into a `Vec` or into a `[u8; N]` at constant offsets.
// ---------------------------------------------------------------------------

/// Where a save writes.
pub trait Out: Sized {
    fn put<const N: usize>(&mut self, b: [u8; N]);
    fn bytes(&mut self, b: &[u8]);
    #[inline(always)]
    fn p8(&mut self, v: u8) {
        self.put([v]);
    }
    #[inline(always)]
    fn pbool(&mut self, v: bool) {
        self.put([u8::from(v)]);
    }
    #[inline(always)]
    fn p16(&mut self, v: u16) {
        self.put(v.to_be_bytes());
    }
    #[inline(always)]
    fn pi16(&mut self, v: i16) {
        self.put(v.to_be_bytes());
    }
    #[inline(always)]
    fn p32(&mut self, v: u32) {
        self.put(v.to_be_bytes());
    }
    #[inline(always)]
    fn pi32(&mut self, v: i32) {
        self.put(v.to_be_bytes());
    }
    #[inline(always)]
    fn p64(&mut self, v: u64) {
        self.put(v.to_be_bytes());
    }
    #[inline(always)]
    fn pi64(&mut self, v: i64) {
        self.put(v.to_be_bytes());
    }
    #[inline(always)]
    fn ptimer(&mut self, t: Timer) {
        self.put(t.raw.to_be_bytes());
    }
    #[inline(always)]
    fn words<T: Word>(&mut self, v: &[T]) {
        for &x in v {
            x.put_be(self);
        }
    }
    /// A subsection header: `05`, name length, name, be32 version.
    #[inline(always)]
    fn sub(&mut self, name: &[u8], version: u32) {
        self.put([SUBSECTION, name.len() as u8]);
        self.bytes(name);
        self.p32(version);
    }
}

impl Out for Vec<u8> {
    #[inline(always)]
    fn put<const N: usize>(&mut self, b: [u8; N]) {
        self.extend_from_slice(&b);
    }
    #[inline(always)]
    fn bytes(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

/// Writes into a fixed-size buffer at constant offsets.
pub struct Fixed<'a>(pub &'a mut [u8]);

impl Out for Fixed<'_> {
    #[inline(always)]
    fn put<const N: usize>(&mut self, b: [u8; N]) {
        let (head, tail) = std::mem::take(&mut self.0)
            .split_first_chunk_mut::<N>()
            .unwrap();
        *head = b;
        self.0 = tail;
    }
    #[inline(always)]
    fn bytes(&mut self, b: &[u8]) {
        let (head, tail) = std::mem::take(&mut self.0).split_at_mut(b.len());
        head.copy_from_slice(b);
        self.0 = tail;
    }
}
