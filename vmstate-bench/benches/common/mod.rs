//! Shared by the device-mix bench and the callgrind driver
//! (`examples/callgrind.rs`): the hand-written byteorder code and the binrw
//! struct for the device mix, the device mix's description as the generic
//! decoder sees it, and the check that every codec agrees; the tight
//! hand-written code (`tight.rs`, `tight_shapes.rs`, `pc_tight/`). Each
//! bench uses a part.

#![allow(dead_code)]

pub mod pc_tight;
pub mod tight;
pub mod tight_fifo;
pub mod tight_shapes;

use std::io::{self, Cursor, Read, Write};

use binrw::{binrw, BinRead, BinWrite};
use byteorder::{BigEndian as BE, ReadBytesExt, WriteBytesExt};
use vmstate_bench::device::{
    DeviceMix, MixExt, MixTimer, EXT_NAME, EXT_VERSION, PAYLOAD_LEN, VERSION,
};
use vmstate_bench::device356::{self, Device356};
use vmstate_bench::fifo::{self, Fifo};
use vmstate_bench::shapes::{self, Shapes};
use vmstate_core::{Context, FieldKind, Reader, VmState, Vmsd};
use vmstate_migration::generic;
use vmstate_migration::{ElemDesc, ElemKind, FieldDesc, Shape, StructDesc};

// ---------------------------------------------------------------------------
// Hand-written byteorder code: what a careful engineer writes for this
// struct. Same checks as far as the layout needs them: the version range,
// the subsection recognised by its marker, name and version, bools as
// "non-zero is true".
// ---------------------------------------------------------------------------

const SUBSECTION: u8 = 0x05;

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

pub fn hand_save<W: Write>(d: &DeviceMix, w: &mut W) -> io::Result<()> {
    w.write_u8(d.ctrl)?;
    w.write_u8(d.status)?;
    w.write_i8(d.irq_line)?;
    w.write_u16::<BE>(d.divider)?;
    w.write_i16::<BE>(d.scratch)?;
    w.write_u32::<BE>(d.config)?;
    w.write_u32::<BE>(d.intr_mask)?;
    w.write_i32::<BE>(d.offset)?;
    w.write_u64::<BE>(d.counter)?;
    w.write_i64::<BE>(d.stamp)?;
    w.write_u8(u8::from(d.enabled))?;
    w.write_u8(u8::from(d.irq_pending))?;
    for r in &d.regs {
        w.write_u32::<BE>(*r)?;
    }
    w.write_all(&d.fifo)?;
    for t in &d.timers {
        w.write_u64::<BE>(t.config)?;
        w.write_u64::<BE>(t.cmp)?;
        w.write_u64::<BE>(t.fsb)?;
        w.write_u32::<BE>(t.period)?;
        w.write_u8(u8::from(t.wrap))?;
        w.write_u8(t.level)?;
    }
    w.write_u64::<BE>(d.rtc_base)?;
    if d.ext_needed() {
        w.write_u8(SUBSECTION)?;
        w.write_u8(EXT_NAME.len() as u8)?;
        w.write_all(EXT_NAME.as_bytes())?;
        w.write_u32::<BE>(EXT_VERSION)?;
        let e = &d.ext;
        w.write_u32::<BE>(e.flags)?;
        w.write_u64::<BE>(e.counter)?;
        w.write_u8(u8::from(e.pending))?;
        w.write_all(&e.data)?;
    }
    Ok(())
}

pub fn hand_load(d: &mut DeviceMix, r: &mut &[u8], version: u32) -> io::Result<()> {
    if !(1..=VERSION).contains(&version) {
        return Err(invalid("unsupported version"));
    }
    d.ctrl = r.read_u8()?;
    d.status = r.read_u8()?;
    d.irq_line = r.read_i8()?;
    d.divider = r.read_u16::<BE>()?;
    d.scratch = r.read_i16::<BE>()?;
    d.config = r.read_u32::<BE>()?;
    d.intr_mask = r.read_u32::<BE>()?;
    d.offset = r.read_i32::<BE>()?;
    d.counter = r.read_u64::<BE>()?;
    d.stamp = r.read_i64::<BE>()?;
    d.enabled = r.read_u8()? != 0;
    d.irq_pending = r.read_u8()? != 0;
    r.read_u32_into::<BE>(&mut d.regs)?;
    r.read_exact(&mut d.fifo)?;
    for t in &mut d.timers {
        t.config = r.read_u64::<BE>()?;
        t.cmp = r.read_u64::<BE>()?;
        t.fsb = r.read_u64::<BE>()?;
        t.period = r.read_u32::<BE>()?;
        t.wrap = r.read_u8()? != 0;
        t.level = r.read_u8()?;
    }
    if version >= 3 {
        d.rtc_base = r.read_u64::<BE>()?;
    }
    // The one subsection this device knows: 05, length, name, be32 version.
    let name = EXT_NAME.as_bytes();
    if r.len() >= 2 + name.len()
        && r[0] == SUBSECTION
        && usize::from(r[1]) == name.len()
        && &r[2..2 + name.len()] == name
    {
        *r = &r[2 + name.len()..];
        if r.read_u32::<BE>()? as u8 as u32 > EXT_VERSION {
            return Err(invalid("subsection version too new"));
        }
        let e = &mut d.ext;
        e.flags = r.read_u32::<BE>()?;
        e.counter = r.read_u64::<BE>()?;
        e.pending = r.read_u8()? != 0;
        r.read_exact(&mut e.data)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// binrw: the same wire layout, declared with binrw's attributes.
// ---------------------------------------------------------------------------

#[binrw]
#[brw(big)]
#[derive(Clone, Debug, PartialEq)]
struct BrTimer {
    config: u64,
    cmp: u64,
    fsb: u64,
    period: u32,
    #[br(map = |b: u8| b != 0)]
    #[bw(map = |b: &bool| u8::from(*b))]
    wrap: bool,
    level: u8,
}

/// The subsection, header included: binrw's `magic` is the marker, the
/// length byte and the name.
#[binrw]
#[brw(big, magic = b"\x05\x0cbenchdev/ext")]
#[derive(Clone, Debug, PartialEq)]
struct BrExt {
    #[br(assert(sub_version as u8 as u32 <= EXT_VERSION))]
    sub_version: u32,
    flags: u32,
    counter: u64,
    #[br(map = |b: u8| b != 0)]
    #[bw(map = |b: &bool| u8::from(*b))]
    pending: bool,
    data: [u8; 16],
}

#[binrw]
#[brw(big)]
#[br(import(version: u32))]
#[derive(Clone, Debug, PartialEq)]
pub struct BrMix {
    ctrl: u8,
    status: u8,
    irq_line: i8,
    divider: u16,
    scratch: i16,
    config: u32,
    intr_mask: u32,
    offset: i32,
    counter: u64,
    stamp: i64,
    #[br(map = |b: u8| b != 0)]
    #[bw(map = |b: &bool| u8::from(*b))]
    enabled: bool,
    #[br(map = |b: u8| b != 0)]
    #[bw(map = |b: &bool| u8::from(*b))]
    irq_pending: bool,
    regs: [u32; 16],
    fifo: [u8; 32],
    timers: [BrTimer; 4],
    #[br(if(version >= 3))]
    rtc_base: u64,
    /// Present when the subsection's header parses (binrw rewinds if not).
    #[br(try)]
    ext: Option<BrExt>,
}

impl From<&DeviceMix> for BrMix {
    fn from(d: &DeviceMix) -> Self {
        let timer = |t: &MixTimer| BrTimer {
            config: t.config,
            cmp: t.cmp,
            fsb: t.fsb,
            period: t.period,
            wrap: t.wrap,
            level: t.level,
        };
        let ext = |e: &MixExt| BrExt {
            sub_version: EXT_VERSION,
            flags: e.flags,
            counter: e.counter,
            pending: e.pending,
            data: e.data,
        };
        BrMix {
            ctrl: d.ctrl,
            status: d.status,
            irq_line: d.irq_line,
            divider: d.divider,
            scratch: d.scratch,
            config: d.config,
            intr_mask: d.intr_mask,
            offset: d.offset,
            counter: d.counter,
            stamp: d.stamp,
            enabled: d.enabled,
            irq_pending: d.irq_pending,
            regs: d.regs,
            fifo: d.fifo,
            timers: std::array::from_fn(|i| timer(&d.timers[i])),
            rtc_base: d.rtc_base,
            ext: d.ext_needed().then(|| ext(&d.ext)),
        }
    }
}

// ---------------------------------------------------------------------------
// The generic decoder: the device mix's description table,
// turned into the vmdesc model it decodes with (what QEMU's vmdesc says
// for a save at the current version with every subsection sent).
// ---------------------------------------------------------------------------

/// The vmdesc form of a derived description: fields in order, arrays as
/// `array_len`, nested descriptions as `struct`, every subsection listed.
pub fn struct_desc(vmsd: &Vmsd) -> StructDesc {
    let fields = vmsd
        .fields
        .iter()
        .map(|f| {
            let kind = match f.kind {
                FieldKind::Struct => ElemKind::Struct(Box::new(struct_desc(
                    f.vmsd.expect("a struct field has a description"),
                ))),
                _ if f.info == "bool" => ElemKind::Bool,
                _ if f.info.starts_with("uint") => ElemKind::Int { signed: false },
                _ if f.info.starts_with("int") => ElemKind::Int { signed: true },
                _ => ElemKind::Bytes,
            };
            let elem = ElemDesc {
                type_name: f.info.to_string(),
                size: f.elem_size as u64,
                kind,
            };
            FieldDesc {
                name: f.name.to_string(),
                shape: match f.array_len {
                    Some(len) => Shape::Array {
                        elem,
                        len: len as u64,
                    },
                    None => Shape::Single(elem),
                },
            }
        })
        .collect();
    StructDesc {
        vmsd_name: Some(vmsd.name.to_string()),
        version: Some(u64::from(vmsd.version_id)),
        fields,
        subsections: vmsd
            .subsections
            .iter()
            .map(|s| struct_desc(s.vmsd))
            .collect(),
    }
}

/// Checks that the encoders give the same bytes and the decoders the
/// same value; returns the bytes.
pub fn same_bytes_everywhere(dev: &mut DeviceMix, ctx: &Context) -> Vec<u8> {
    let derived = dev.to_bytes(ctx).unwrap();
    assert_eq!(derived.len(), PAYLOAD_LEN);

    let mut hand = Vec::new();
    hand_save(dev, &mut hand).unwrap();
    assert_eq!(hand, derived, "byteorder bytes == derived bytes");

    let mut arr = [0xa5u8; PAYLOAD_LEN];
    assert_eq!(dev.save_to_slice(&mut arr, ctx).unwrap(), PAYLOAD_LEN);
    assert_eq!(
        &arr[..],
        &derived[..],
        "derived array bytes == derived bytes"
    );

    let br = BrMix::from(&*dev);
    let mut bw = Vec::new();
    br.write(&mut Cursor::new(&mut bw)).unwrap();
    assert_eq!(bw, derived, "binrw bytes == derived bytes");

    let mut back = DeviceMix::default();
    let mut r = Reader::from_slice(&derived);
    back.load_state_in_place(&mut r, VERSION, ctx).unwrap();
    assert_eq!((&back, r.remaining().len()), (&*dev, 0));

    let mut back = DeviceMix::default();
    back.load(&mut Reader::from_slice(&derived), VERSION, ctx)
        .unwrap();
    assert_eq!(&back, &*dev);

    let mut back = DeviceMix::default();
    let mut rest = &derived[..];
    hand_load(&mut back, &mut rest, VERSION).unwrap();
    assert_eq!((&back, rest.len()), (&*dev, 0));

    let mut back = DeviceMix::default();
    let mut rest = &derived[..];
    tight::load_mix(&mut back, &mut rest, VERSION).unwrap();
    assert_eq!((&back, rest.len()), (&*dev, 0));
    let mut tight_vec = Vec::new();
    tight::save_mix_vec(dev, &mut tight_vec);
    assert_eq!(tight_vec, derived, "tight Vec bytes == derived bytes");
    let mut arr = [0u8; PAYLOAD_LEN];
    tight::save_mix_array(dev, &mut arr);
    assert_eq!(&arr[..], &derived[..], "tight array bytes == derived bytes");

    let mut cur = Cursor::new(&derived[..]);
    let back = BrMix::read_args(&mut cur, (VERSION,)).unwrap();
    assert_eq!((&back, cur.position()), (&br, PAYLOAD_LEN as u64));

    // The generic decoder reads the whole payload and its encoder gives
    // the bytes back.
    let desc = struct_desc(DeviceMix::VMSD);
    let value = generic::decode_payload(&desc, &derived, 0).unwrap();
    assert_eq!(generic::encode(&desc, &value).unwrap(), derived);

    derived
}

/// The same checks for the 356-byte device: derived save and both loads,
/// the tight loader, the `Vec` and the `[u8; N]` savers agree; returns the
/// bytes.
pub fn same_bytes_356(dev: &mut Device356, ctx: &Context) -> Vec<u8> {
    let derived = dev.to_bytes(ctx).unwrap();
    assert_eq!(derived.len(), device356::PAYLOAD_LEN);

    let mut hand = Vec::new();
    tight::save_356_vec(dev, &mut hand);
    assert_eq!(hand, derived, "tight Vec bytes == derived bytes");
    let mut arr = [0u8; device356::PAYLOAD_LEN];
    tight::save_356_array(dev, &mut arr);
    assert_eq!(&arr[..], &derived[..], "tight array bytes == derived bytes");
    let mut arr = [0xa5u8; device356::PAYLOAD_LEN];
    assert_eq!(dev.save_to_slice(&mut arr, ctx).unwrap(), arr.len());
    assert_eq!(
        &arr[..],
        &derived[..],
        "derived array bytes == derived bytes"
    );

    loads_give_back(dev, &derived, device356::VERSION, ctx, tight::load_356);
    derived
}

/// The derived loads (in place and transactional) and the tight loader
/// each read every byte of `bytes` and give `dev` back.
fn loads_give_back<T: VmState + Clone + Default + PartialEq + std::fmt::Debug>(
    dev: &T,
    bytes: &[u8],
    version: u32,
    ctx: &Context,
    tight_load: fn(&mut T, &mut &[u8], u32) -> Result<(), tight::Bad>,
) {
    for in_place in [true, false] {
        let mut back = T::default();
        let mut r = Reader::from_slice(bytes);
        if in_place {
            back.load_state_in_place(&mut r, version, ctx).unwrap();
        } else {
            back.load(&mut r, version, ctx).unwrap();
        }
        assert_eq!((&back, r.remaining().len()), (dev, 0));
    }
    let mut back = T::default();
    let mut rest = bytes;
    tight_load(&mut back, &mut rest, version).unwrap();
    assert_eq!((&back, rest.len()), (dev, 0));
}

/// The third device's bytes, checked as the others': the derived save and
/// the tight one agree, and so do the derived loads (in place and
/// transactional) and the tight loader, each reading every byte.
pub fn same_bytes_shapes(dev: &mut Shapes, ctx: &Context) -> Vec<u8> {
    let derived = dev.to_bytes(ctx).unwrap();
    assert_eq!(derived.len(), shapes::PAYLOAD_LEN);
    let mut hand = Vec::new();
    tight_shapes::save_shapes_vec(dev, &mut hand);
    assert_eq!(hand, derived, "tight Vec bytes == derived bytes");
    loads_give_back(
        dev,
        &derived,
        shapes::VERSION,
        ctx,
        tight_shapes::load_shapes,
    );
    derived
}

/// The fourth device's payload: the derived save, the tight one into a
/// `Vec` and into a `[u8; N]` agree, and both loads give the device back.
pub fn same_bytes_fifo(dev: &mut Fifo, ctx: &Context) -> Vec<u8> {
    let derived = dev.to_bytes(ctx).unwrap();
    assert_eq!(derived.len(), fifo::PAYLOAD_LEN);
    let mut hand = Vec::new();
    tight_fifo::save_fifo_vec(dev, &mut hand);
    assert_eq!(hand, derived, "tight Vec bytes == derived bytes");
    let mut arr = [0u8; fifo::PAYLOAD_LEN];
    tight_fifo::save_fifo_array(dev, &mut arr);
    assert_eq!(arr[..], derived[..], "tight array bytes == derived bytes");
    let mut arr = [0xa5u8; fifo::PAYLOAD_LEN];
    assert_eq!(dev.save_to_slice(&mut arr, ctx).unwrap(), derived.len());
    assert_eq!(arr[..], derived[..], "save_to_slice bytes == derived bytes");
    loads_give_back(dev, &derived, fifo::VERSION, ctx, tight_fifo::load_fifo);
    derived
}
