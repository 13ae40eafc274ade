//! `Box<T>` (QEMU's `VMSTATE_POINTER` / `STRUCT_POINTER`: the pointee, no
//! framing) and `Option<T>` / `Option<Box<T>>` slots of pointer arrays
//! (`VMSTATE_ARRAY_OF_POINTER*`): a null slot is the single byte `0x30`.

use crate::context::Context;
use crate::cpr::CprFields;
use crate::desc::{FieldKind, Vmsd};
use crate::error::{Error, ErrorKind, Result};
use crate::field::VmField;
use crate::stream::{Reader, Sink, Source, Writer};

/// QEMU's `VMS_NULLPTR_MARKER`.
pub const NULL_MARKER: u8 = 0x30;

impl<T: VmField> VmField for Box<T> {
    const INFO: &'static str = T::INFO;
    const ELEM_SIZE: usize = T::ELEM_SIZE;
    const COUNT: usize = T::COUNT;
    const IS_ARRAY: bool = T::IS_ARRAY;
    const MIN_WIRE_SIZE: usize = T::MIN_WIRE_SIZE;
    const KIND: FieldKind = T::KIND;
    const VMSD: Option<&'static Vmsd> = T::VMSD;
    const CPR_FIELDS: CprFields = T::CPR_FIELDS;

    #[inline]
    fn save<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        (**self).save(w, ctx)
    }

    fn save_recorded<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        (**self).save_recorded(w, ctx)
    }

    #[inline]
    fn load<S: Source>(&mut self, r: &mut Reader<S>, ctx: &Context) -> Result<()> {
        (**self).load(r, ctx)
    }

    #[inline]
    fn size_hint(&self) -> usize {
        (**self).size_hint()
    }

    // A box is its value on the wire: fixed when the value is.
    const FIXED: bool = T::FIXED;
    const FIXED_SIZE: usize = T::FIXED_SIZE;
    const TAIL_PEEK: bool = T::TAIL_PEEK;
    const HAS_BOOL: bool = T::HAS_BOOL;

    #[inline(always)]
    fn tail_claims(name: &[u8]) -> bool {
        T::tail_claims(name)
    }

    #[inline]
    fn decode_fixed(&mut self, b: &[u8]) -> bool {
        (**self).decode_fixed(b)
    }

    #[inline]
    fn encode_fixed(&self, b: &mut [u8]) {
        (**self).encode_fixed(b)
    }

    const SAVE_ALONE: bool = T::SAVE_ALONE;
}

/// A pointer-array slot. `None` is written as the null marker `0x30`; on
/// load, a `None` destination slot requires that marker (QEMU reads exactly
/// one byte there) and a `Some` slot loads the element. Source and
/// destination must agree on the null slots, as in QEMU: a stream with data
/// where the destination is null is an error; the reverse (a marker where
/// the destination expects data) cannot be told from data by the bytes
/// alone, and shows up as a later field, footer or length mismatch.
impl<T: VmField> VmField for Option<T> {
    const INFO: &'static str = T::INFO;
    const ELEM_SIZE: usize = T::ELEM_SIZE;
    // A null slot is the one marker byte.
    const MIN_WIRE_SIZE: usize = if T::MIN_WIRE_SIZE < 1 {
        T::MIN_WIRE_SIZE
    } else {
        1
    };
    const KIND: FieldKind = T::KIND;
    const VMSD: Option<&'static Vmsd> = T::VMSD;
    const CPR_FIELDS: CprFields = T::CPR_FIELDS;

    #[inline]
    fn save<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        match self {
            Some(v) => v.save(w, ctx),
            None => w.put_u8(NULL_MARKER),
        }
    }

    fn save_recorded<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        match self {
            Some(v) => v.save_recorded(w, ctx),
            None => w.put_u8(NULL_MARKER),
        }
    }

    // Each slot has its own size in the vmdesc (a null one is 1 byte).
    fn save_slice_recorded<W: Sink>(
        items: &mut [Self],
        w: &mut Writer<W>,
        ctx: &Context,
    ) -> Result<()> {
        crate::field::save_elems_recorded(items, w, ctx)
    }

    #[inline]
    fn load<S: Source>(&mut self, r: &mut Reader<S>, ctx: &Context) -> Result<()> {
        match self {
            Some(v) => v.load(r, ctx),
            None => {
                let at = r.offset();
                let b = r.get_u8()?;
                if b == NULL_MARKER {
                    Ok(())
                } else {
                    Err(Error::new(
                        ErrorKind::Malformed {
                            message: "the destination slot is null: expected the null marker 0x30",
                        },
                        at,
                    ))
                }
            }
        }
    }

    #[inline]
    fn size_hint(&self) -> usize {
        self.as_ref().map_or(1, VmField::size_hint)
    }
}
