//! [`VmField`]: how a Rust type travels as one field, QEMU's leaf codecs
//! (`VMStateInfo`) for the scalar types, and fixed arrays of any field type.

use crate::context::Context;
use crate::desc::{FieldKind, Vmsd};
use crate::error::{Error, ErrorKind, Result};
use crate::stream::{Reader, Sink, Source, Writer};

/// A type that can be a field of a `#[derive(VmState)]` struct.
///
/// Implemented for `u8`..`u64`, `i8`..`i64`, `bool`, `f64`, fixed arrays
/// `[T; N]` (so also `[[T; M]; N]`) of any field type, and every derived
/// struct (as QEMU's `VMSTATE_STRUCT`: no framing, the child's own version).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a vmstate field",
    label = "this type has no VMState encoding",
    note = "supported: u8..u64, i8..i64, bool, f64, [T; N], and #[derive(VmState)] structs",
    note = "raw pointers need #[vmstate(void_ptr)] (CPR only) or a u64 field with #[vmstate(u64_from_ptr = ...)]"
)]
pub trait VmField: Sized {
    /// QEMU's type name of one leaf element (`uint32`, `bool`, `struct`).
    const INFO: &'static str;
    /// Wire bytes of one leaf element; 0 when variable.
    const ELEM_SIZE: usize;
    /// Leaf elements in one value: 1 for scalars and structs, `N * T::COUNT`
    /// for `[T; N]`.
    const COUNT: usize = 1;
    /// Whether the type is an array (QEMU's `VMS_ARRAY`).
    const IS_ARRAY: bool = false;
    /// The fewest bytes one value can take on the wire (a null pointer
    /// slot takes 1, a struct may take 0): used to refuse, before reading,
    /// a count that the bytes left cannot hold.
    const MIN_WIRE_SIZE: usize = Self::ELEM_SIZE * Self::COUNT;
    /// Kind of the leaf element.
    const KIND: FieldKind = FieldKind::Leaf;
    /// Nested description of a struct element.
    const VMSD: Option<&'static Vmsd> = None;

    /// Writes the value.
    fn save<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()>;

    /// Reads the value in place. On error `self` may be partly updated; the
    /// public load entry points restore it.
    fn load<S: Source>(&mut self, r: &mut Reader<S>, ctx: &Context) -> Result<()>;

    /// Writes consecutive elements; scalars override it with a bulk copy.
    fn save_slice<W: Sink>(items: &mut [Self], w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        for (i, item) in items.iter_mut().enumerate() {
            item.save(w, ctx).map_err(|e| e.index(i))?;
        }
        Ok(())
    }

    /// [`save`](VmField::save) for a [`Writer::recording`]: also reports
    /// what was written, for the vmdesc. Only types with nested
    /// descriptions or per-element sizes override it; the ordinary save path
    /// never pays for recording.
    #[doc(hidden)]
    fn save_recorded<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        self.save(w, ctx)
    }

    /// [`save_slice`](VmField::save_slice) for a recording writer.
    #[doc(hidden)]
    fn save_slice_recorded<W: Sink>(
        items: &mut [Self],
        w: &mut Writer<W>,
        ctx: &Context,
    ) -> Result<()> {
        Self::save_slice(items, w, ctx)
    }

    /// Reads consecutive elements; scalars override it with a bulk copy.
    fn load_slice<S: Source>(items: &mut [Self], r: &mut Reader<S>, ctx: &Context) -> Result<()> {
        for (i, item) in items.iter_mut().enumerate() {
            item.load(r, ctx).map_err(|e| e.index(i))?;
        }
        Ok(())
    }
}

/// Bytes converted per chunk by the bulk integer paths (on the stack).
const CHUNK: usize = 512;

/// A bulk read of `size`-byte elements from `first` on, starting at stream
/// offset `at`, ran out: name the element that was cut, at its own offset.
#[cold]
fn short_element(e: Error, at: u64, first: usize, size: usize) -> Error {
    match e.kind() {
        ErrorKind::UnexpectedEof { available, .. } => {
            let whole = *available / size as u64;
            Error::new(
                ErrorKind::UnexpectedEof {
                    needed: size as u64,
                    available: *available % size as u64,
                },
                at + whole * size as u64,
            )
            .index(first + whole as usize)
        }
        _ => e.index(first),
    }
}

macro_rules! int_field {
    ($($t:ty => $info:literal),* $(,)?) => {$(
        impl VmField for $t {
            const INFO: &'static str = $info;
            const ELEM_SIZE: usize = size_of::<$t>();

            #[inline]
            fn save<W: Sink>(&mut self, w: &mut Writer<W>, _: &Context) -> Result<()> {
                w.put_bytes(&self.to_be_bytes())
            }

            #[inline]
            fn load<S: Source>(&mut self, r: &mut Reader<S>, _: &Context) -> Result<()> {
                *self = <$t>::from_be_bytes(r.get_array()?);
                Ok(())
            }

            fn save_slice<W: Sink>(items: &mut [Self], w: &mut Writer<W>, _: &Context) -> Result<()> {
                const N: usize = size_of::<$t>();
                let mut buf = [0u8; CHUNK];
                for chunk in items.chunks(CHUNK / N) {
                    for (dst, v) in buf.chunks_exact_mut(N).zip(chunk) {
                        dst.copy_from_slice(&v.to_be_bytes());
                    }
                    w.put_bytes(&buf[..chunk.len() * N])?;
                }
                Ok(())
            }

            fn load_slice<S: Source>(items: &mut [Self], r: &mut Reader<S>, _: &Context) -> Result<()> {
                const N: usize = size_of::<$t>();
                let mut buf = [0u8; CHUNK];
                for (k, chunk) in items.chunks_mut(CHUNK / N).enumerate() {
                    let bytes = &mut buf[..chunk.len() * N];
                    let at = r.offset();
                    r.get_bytes(bytes).map_err(|e| short_element(e, at, k * (CHUNK / N), N))?;
                    for (v, src) in chunk.iter_mut().zip(bytes.chunks_exact(N)) {
                        let mut a = [0u8; N];
                        a.copy_from_slice(src);
                        *v = <$t>::from_be_bytes(a);
                    }
                }
                Ok(())
            }
        }
    )*};
}

int_field! {
    u16 => "uint16", u32 => "uint32", u64 => "uint64",
    i8 => "int8", i16 => "int16", i32 => "int32", i64 => "int64",
}

impl VmField for u8 {
    const INFO: &'static str = "uint8";
    const ELEM_SIZE: usize = 1;

    #[inline]
    fn save<W: Sink>(&mut self, w: &mut Writer<W>, _: &Context) -> Result<()> {
        w.put_u8(*self)
    }

    #[inline]
    fn load<S: Source>(&mut self, r: &mut Reader<S>, _: &Context) -> Result<()> {
        *self = r.get_u8()?;
        Ok(())
    }

    fn save_slice<W: Sink>(items: &mut [Self], w: &mut Writer<W>, _: &Context) -> Result<()> {
        w.put_bytes(items)
    }

    #[inline]
    fn load_slice<S: Source>(items: &mut [Self], r: &mut Reader<S>, _: &Context) -> Result<()> {
        let at = r.offset();
        r.get_bytes(items).map_err(|e| short_element(e, at, 0, 1))
    }
}

/// QEMU's `bool`: one byte 0x00/0x01 on save. On load any non-zero byte is
/// true, as in QEMU, unless [`Context::strict_bool`] asks for 0 or 1.
impl VmField for bool {
    const INFO: &'static str = "bool";
    const ELEM_SIZE: usize = 1;

    #[inline]
    fn save<W: Sink>(&mut self, w: &mut Writer<W>, _: &Context) -> Result<()> {
        w.put_u8(u8::from(*self))
    }

    #[inline]
    fn load<S: Source>(&mut self, r: &mut Reader<S>, ctx: &Context) -> Result<()> {
        let b = r.get_u8()?;
        // The byte first: it is in a register, the option is in memory.
        if b > 1 && ctx.strict_bool {
            return Err(wide_bool(b, r.offset()));
        }
        *self = b != 0;
        Ok(())
    }
}

/// A bool byte above 1 in strict mode (`end` is the offset just after it).
#[cold]
fn wide_bool(b: u8, end: u64) -> Error {
    Error::new(ErrorKind::InvalidBool { found: b }, end.saturating_sub(1))
}

/// QEMU's `CPU_Double_U`: the IEEE-754 bits as be64 (upper half first).
impl VmField for f64 {
    const INFO: &'static str = "CPU_Double_U";
    const ELEM_SIZE: usize = 8;

    #[inline]
    fn save<W: Sink>(&mut self, w: &mut Writer<W>, _: &Context) -> Result<()> {
        w.put_u64(self.to_bits())
    }

    #[inline]
    fn load<S: Source>(&mut self, r: &mut Reader<S>, _: &Context) -> Result<()> {
        *self = f64::from_bits(r.get_u64()?);
        Ok(())
    }
}

/// `[T; N]`: `N` elements back to back, no count on the wire (QEMU's
/// `VMS_ARRAY`). Nested arrays flatten row-major, as QEMU's 2-D arrays do.
impl<T: VmField, const N: usize> VmField for [T; N] {
    const INFO: &'static str = T::INFO;
    const ELEM_SIZE: usize = T::ELEM_SIZE;
    const COUNT: usize = N * T::COUNT;
    const IS_ARRAY: bool = true;
    const MIN_WIRE_SIZE: usize = N * T::MIN_WIRE_SIZE;
    const KIND: FieldKind = T::KIND;
    const VMSD: Option<&'static Vmsd> = T::VMSD;

    #[inline]
    fn save<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        T::save_slice(self, w, ctx)
    }

    #[inline]
    fn load<S: Source>(&mut self, r: &mut Reader<S>, ctx: &Context) -> Result<()> {
        T::load_slice(self, r, ctx)
    }

    fn save_slice<W: Sink>(items: &mut [Self], w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        T::save_slice(items.as_flattened_mut(), w, ctx)
    }

    fn save_recorded<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        T::save_slice_recorded(self, w, ctx)
    }

    fn save_slice_recorded<W: Sink>(
        items: &mut [Self],
        w: &mut Writer<W>,
        ctx: &Context,
    ) -> Result<()> {
        T::save_slice_recorded(items.as_flattened_mut(), w, ctx)
    }

    fn load_slice<S: Source>(items: &mut [Self], r: &mut Reader<S>, ctx: &Context) -> Result<()> {
        T::load_slice(items.as_flattened_mut(), r, ctx)
    }
}

/// Element-by-element recorded save, for types whose elements have their
/// own sizes in the vmdesc (structs, pointer slots).
#[doc(hidden)]
pub fn save_elems_recorded<T: VmField, W: Sink>(
    items: &mut [T],
    w: &mut Writer<W>,
    ctx: &Context,
) -> Result<()> {
    for (i, item) in items.iter_mut().enumerate() {
        w.record_elem();
        item.save_recorded(w, ctx).map_err(|e| e.index(i))?;
        w.record_end();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save<T: VmField>(mut v: T) -> Vec<u8> {
        let mut out = Vec::new();
        v.save(&mut Writer::new(&mut out), &Context::new()).unwrap();
        out
    }

    #[test]
    fn scalars_are_big_endian_twos_complement() {
        assert_eq!(save(-512i16), [0xfe, 0x00]);
        assert_eq!(save(-70000i32), [0xff, 0xfe, 0xee, 0x90]);
        assert_eq!(save(true), [1]);
        // CPU_Double_U: 1.5 = 0x3ff8000000000000
        assert_eq!(save(1.5f64), [0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn bulk_arrays_match_per_element_encoding() {
        let v: [u32; 300] = std::array::from_fn(|i| (i as u32).wrapping_mul(0x0101_0101));
        let bytes = save(v);
        let expect: Vec<u8> = v.iter().flat_map(|x| x.to_be_bytes()).collect();
        assert_eq!(bytes, expect);
        let mut back = [0u32; 300];
        back.load(&mut Reader::from_slice(&bytes), &Context::new())
            .unwrap();
        assert_eq!(back, v);
        let two_d = [[1u16, 2], [3, 4]];
        assert_eq!(save(two_d), [0, 1, 0, 2, 0, 3, 0, 4]);
        assert_eq!(<[[u16; 2]; 3]>::COUNT, 6);
    }

    #[test]
    fn bulk_load_error_names_the_chunk_index() {
        let bytes = vec![0u8; 4 * 200];
        let mut back = [0u32; 300];
        let e = back
            .load(&mut Reader::from_slice(&bytes), &Context::new())
            .unwrap_err();
        // 800 bytes hold 200 whole elements: element 200 is the one cut.
        assert_eq!(e.path(), "[200]");
        assert_eq!(e.offset(), 800);
    }

    #[test]
    fn bool_strictness() {
        let mut b = false;
        b.load(&mut Reader::from_slice(&[7]), &Context::new())
            .unwrap();
        assert!(b);
        let e = b
            .load(
                &mut Reader::from_slice(&[7]),
                &Context::new().with_strict_bool(true),
            )
            .unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::InvalidBool { found: 7 }));
    }
}
