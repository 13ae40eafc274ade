//! Nested descriptions with their own wire form: `struct_version`,
//! `tmp`, `with`.
//!
//! Every golden byte string is typed in from QEMU's documented encoding
//! (docs/wire-format.md): integers big-endian two's complement; a VARRAY
//! sends its elements only (the count lives in an earlier field); `buffer`
//! sends raw bytes; `unused_buffer` sends zeros; `bitmap` sends
//! ceil(nbits/64) be64 words; `timer` is be64 with -1 for "not armed";
//! queues are `01` + element ... `00`; a GTree is be32 count, `01` + key +
//! value ..., `00`; a null pointer slot is `30`. None of them is produced
//! by this crate.

use std::fmt::Debug;

use vmstate_core::codec::{Codec, VmTmp};
use vmstate_core::error::BoxError;
use vmstate_core::stream::{Sink, Source};
use vmstate_core::{Context, Error, ErrorKind, FieldKind, Reader, Result, VmState, Writer};

#[path = "support/vocab.rs"]
mod vocab;
use vocab::*;

// ---------------------------------------------------------------------------
// struct_version = N: VMSTATE_VSTRUCT
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "vchild", version = 3, minimum_version = 1, post_load = Self::loaded)]
struct VChild {
    a: u8,
    #[vmstate(version = 2)]
    b: u16,
    #[vmstate(version = 3)]
    c: u32,
    #[vmstate(skip)]
    loaded_at: Option<u32>,
}

impl VChild {
    fn loaded(&mut self, version: u32) -> std::result::Result<(), String> {
        self.loaded_at = Some(version);
        Ok(())
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "vparent", version = 1)]
struct VParent {
    #[vmstate(struct_version = 2)]
    at2: VChild,
    #[vmstate(struct_version = 1)]
    at1: VChild,
    plain: VChild,
    end: u8,
}

fn vchild() -> VChild {
    VChild {
        a: 0x11,
        b: 0x2222,
        c: 0x3333_3333,
        loaded_at: None,
    }
}

const VPARENT_WIRE: [u8; 12] = [
    0x11, 0x22, 0x22, // at2: a, b (c is version 3)
    0x11, // at1: a only
    0x11, 0x22, 0x22, 0x33, 0x33, 0x33, 0x33, // plain: own version 3
    0xee, // end
];

#[test]
fn vstruct_saves_at_the_declared_version() {
    let mut v = VParent {
        at2: vchild(),
        at1: vchild(),
        plain: vchild(),
        end: 0xee,
    };
    assert_eq!(save(&mut v), VPARENT_WIRE);
}

#[test]
fn vstruct_loads_at_the_declared_version() {
    let preset = VChild {
        a: 0,
        b: 0x7777,
        c: 0x9999_9999,
        loaded_at: None,
    };
    let mut d = VParent {
        at2: preset.clone(),
        at1: preset.clone(),
        plain: preset,
        end: 0,
    };
    load_all(&mut d, &VPARENT_WIRE, 1);
    assert_eq!(
        d.at2,
        VChild {
            a: 0x11,
            b: 0x2222,
            c: 0x9999_9999,
            loaded_at: Some(2)
        }
    );
    assert_eq!(
        d.at1,
        VChild {
            a: 0x11,
            b: 0x7777,
            c: 0x9999_9999,
            loaded_at: Some(1)
        }
    );
    assert_eq!(
        d.plain,
        VChild {
            loaded_at: Some(3),
            ..vchild()
        }
    );
    assert_eq!(d.end, 0xee);
}

#[test]
fn vstruct_description() {
    let f = field::<VParent>("at2");
    assert_eq!(
        (f.info, f.kind, f.struct_version, f.vmsd.map(|v| v.name)),
        ("vstruct", FieldKind::VStruct, Some(2), Some("vchild"))
    );
    assert_eq!(field::<VParent>("at1").struct_version, Some(1));
    let p = field::<VParent>("plain");
    assert_eq!(
        (p.info, p.kind, p.struct_version),
        ("struct", FieldKind::Struct, None)
    );
}

// ---------------------------------------------------------------------------
// tmp = Type: VMSTATE_WITH_TMP
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio-net/tmp", version = 0)]
struct VNetTmp {
    curr_queue_pairs: u16,
}

impl VmTmp<VNet> for VNetTmp {
    fn fill_from_parent(&mut self, p: &VNet) -> std::result::Result<(), BoxError> {
        if p.curr_pairs == 0 {
            return Err("no queue pair".into());
        }
        self.curr_queue_pairs = p.curr_pairs;
        Ok(())
    }
    fn apply_to_parent(&mut self, p: &mut VNet) -> std::result::Result<(), BoxError> {
        // CVE-2013-4150: curr_queues > max_queues.
        if self.curr_queue_pairs > p.max_pairs {
            return Err(format!(
                "curr_queue_pairs {} > max {}",
                self.curr_queue_pairs, p.max_pairs
            )
            .into());
        }
        p.curr_pairs = self.curr_queue_pairs;
        Ok(())
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio-net", version = 1)]
struct VNet {
    max_pairs: u16,
    #[vmstate(tmp = VNetTmp)]
    _tmp: (),
    status: u8,
    #[vmstate(skip)]
    curr_pairs: u16,
}

#[test]
fn tmp_round_trip_and_description() {
    let mut v = VNet {
        max_pairs: 4,
        curr_pairs: 2,
        status: 1,
        _tmp: (),
    };
    let wire = [0x00, 0x04, 0x00, 0x02, 0x01];
    assert_eq!(save(&mut v), wire);
    let mut d = VNet {
        max_pairs: 4,
        ..VNet::default()
    };
    load_all(&mut d, &wire, 1);
    assert_eq!(d, v);
    let f = field::<VNet>("tmp");
    assert_eq!(
        (f.info, f.kind, f.vmsd.map(|v| v.name)),
        ("tmp", FieldKind::Tmp, Some("virtio-net/tmp"))
    );
}

#[test]
fn tmp_conversion_errors() {
    let mut d = VNet {
        max_pairs: 4,
        curr_pairs: 1,
        ..VNet::default()
    };
    let e = load_err(&mut d, &[0x00, 0x04, 0x00, 0x09, 0x01], 1, &ctx());
    assert!(
        matches!(e.kind(), ErrorKind::Hook { hook: "post_load" }),
        "{e:?}"
    );
    assert_eq!(e.path(), "virtio-net/tmp");
    assert!(e.to_string().ends_with("curr_queue_pairs 9 > max 4"), "{e}");
    let mut v = VNet::default();
    let e = v.to_bytes(&ctx()).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Hook { hook: "pre_save" }));
    assert!(e.to_string().ends_with("no queue pair"), "{e}");
}

// ---------------------------------------------------------------------------
// with = Codec: a device-private VMStateInfo
// ---------------------------------------------------------------------------

/// A u32 kept in host (little-endian) order, like virtio-net's `vlans`.
struct Le32;

impl Codec<u32> for Le32 {
    const INFO: &'static str = "le32";
    const SIZE: usize = 4;
    fn save<W: Sink>(v: &mut u32, w: &mut Writer<W>, _: &Context) -> Result<()> {
        w.put_bytes(&v.to_le_bytes())
    }
    fn load<S: Source>(v: &mut u32, r: &mut Reader<S>, _: &Context) -> Result<()> {
        *v = u32::from_le_bytes(r.get_array()?);
        Ok(())
    }
}

/// A CMOS-style BCD byte that rejects non-decimal nibbles.
struct Bcd;

impl Codec<u8> for Bcd {
    const INFO: &'static str = "bcd";
    const SIZE: usize = 1;
    fn save<W: Sink>(v: &mut u8, w: &mut Writer<W>, _: &Context) -> Result<()> {
        w.put_u8((*v / 10) << 4 | (*v % 10))
    }
    fn load<S: Source>(v: &mut u8, r: &mut Reader<S>, _: &Context) -> Result<()> {
        let at = r.offset();
        let b = r.get_u8()?;
        if b >> 4 > 9 || b & 0xf > 9 {
            return Err(Error::new(
                ErrorKind::Invalid {
                    message: "not a BCD byte",
                },
                at,
            ));
        }
        *v = (b >> 4) * 10 + (b & 0xf);
        Ok(())
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "codecs", version = 1)]
struct Codecs {
    #[vmstate(with = Le32)]
    vlans: u32,
    plain: u32,
    #[vmstate(with = Bcd)]
    minutes: u8,
}

#[test]
fn with_codec_is_used_both_ways() {
    let mut v = Codecs {
        vlans: 0x1122_3344,
        plain: 0x1122_3344,
        minutes: 59,
    };
    let wire = [0x44, 0x33, 0x22, 0x11, 0x11, 0x22, 0x33, 0x44, 0x59];
    assert_eq!(save(&mut v), wire);
    let mut d = Codecs::default();
    load_all(&mut d, &wire, 1);
    assert_eq!(d, v);
    let f = field::<Codecs>("vlans");
    assert_eq!((f.info, f.kind, f.elem_size), ("le32", FieldKind::Leaf, 4));
    assert_eq!(
        (
            field::<Codecs>("minutes").info,
            field::<Codecs>("plain").info
        ),
        ("bcd", "uint32")
    );
    // The codec's own error, with the field's path.
    let mut bad = wire;
    bad[8] = 0x5a;
    let e = load_err(&mut d, &bad, 1, &ctx());
    assert!(matches!(
        e.kind(),
        ErrorKind::Invalid {
            message: "not a BCD byte"
        }
    ));
    assert_eq!((e.offset(), e.path().as_str()), (8, "codecs/minutes"));
}
