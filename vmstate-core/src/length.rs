//! Lengths taken from earlier fields: QEMU's `VMS_VARRAY_*`, `VMS_VBUFFER`
//! and bitmaps. The count is read from the destination struct (loaded by
//! an earlier field) and checked against the container **before** any
//! element is read: this is the 2013-2014 "invalid state load" CVE class
//! (docs/wire-format.md#hostile-lengths). A `Vec` grows only as elements actually arrive, so a
//! hostile count costs nothing before the data is there.

use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::field::VmField;
use crate::stream::{Reader, Sink, Source, Writer};

/// An integer field that can give a length: QEMU's counter widths u8, u16,
/// u32 and i32 (`VMS_VARRAY_UINT8/UINT16/UINT32/INT32`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a length field",
    label = "`count`, `vbuffer` and `bitmap` need a u8, u16, u32 or i32 field here",
    note = "QEMU's counters are uint8, uint16, uint32 or int32"
)]
pub trait CountField: Copy {
    /// A copy of the value (lets generated code name the trait on the
    /// count field's own span).
    fn clone_value(&self) -> Self {
        *self
    }
    /// The value as a length; `None` when negative.
    fn as_len(self) -> Option<u64>;
    /// The value for error messages.
    fn as_i128(self) -> i128;
}

macro_rules! count_field {
    ($($t:ty),*) => {$(
        impl CountField for $t {
            fn as_len(self) -> Option<u64> {
                u64::try_from(self).ok()
            }
            fn as_i128(self) -> i128 {
                self as i128
            }
        }
    )*};
}
count_field!(u8, u16, u32, i32);

/// A length from field `name` holding `value`, times `multiply`, that must
/// not exceed `cap` (the container's capacity, or the context's limit).
#[inline]
pub fn length<C: CountField>(
    value: C,
    multiply: u32,
    cap: u64,
    name: &'static str,
    offset: u64,
) -> Result<usize> {
    let n = value
        .as_len()
        .and_then(|v| v.checked_mul(u64::from(multiply)))
        .filter(|&n| n <= cap)
        .and_then(|n| usize::try_from(n).ok());
    match n {
        Some(n) => Ok(n),
        None => Err(out_of_range(name, value.as_i128(), multiply, cap, offset)),
    }
}

/// [`length`]'s error, out of line and from values: a closure over the
/// arguments would be built on the happy path.
#[cold]
#[inline(never)]
fn out_of_range(field: &'static str, found: i128, multiply: u32, max: u64, offset: u64) -> Error {
    Error::new(
        ErrorKind::LengthOutOfRange {
            field,
            found,
            multiply,
            max,
        },
        offset,
    )
}

/// Saves the first `n` elements of a fixed array (`recorded`: for a
/// recording writer).
pub fn save_prefix<T: VmField, W: Sink>(
    items: &mut [T],
    n: usize,
    w: &mut Writer<W>,
    ctx: &Context,
    recorded: bool,
) -> Result<()> {
    match items.get_mut(..n) {
        Some(head) if recorded => T::save_slice_recorded(head, w, ctx),
        Some(head) => T::save_slice(head, w, ctx),
        None => Err(internal_len(w.offset())),
    }
}

/// Fails when `n` elements of `T` need more bytes than an in-memory input
/// still holds: the error comes before any element is read (structs, whose
/// size varies, are checked element by element).
fn check_input_holds<T: VmField, S: Source>(n: usize, r: &Reader<S>) -> Result<()> {
    let per = T::MIN_WIRE_SIZE as u64;
    if let Some(left) = r.remaining_len() {
        let needed = (n as u64).saturating_mul(per);
        if needed > left {
            return Err(Error::new(
                ErrorKind::UnexpectedEof {
                    needed,
                    available: left,
                },
                r.offset(),
            ));
        }
    }
    Ok(())
}

/// Loads the first `n` elements of a fixed array (`n` already checked).
/// Inlined, with the element-by-element load on a copy of the reader:
/// out of line, it took the reader's address, which kept the caller's
/// reader in memory for all its fields (`hpet`).
#[inline(always)]
pub fn load_prefix<T: VmField, S: Source>(
    items: &mut [T],
    n: usize,
    r: &mut Reader<S>,
    ctx: &Context,
) -> Result<()> {
    check_input_holds::<T, S>(n, r)?;
    match items.get_mut(..n) {
        Some(head) => {
            if crate::fixed::load_structs(head, r, ctx) {
                return Ok(());
            }
            r.detached(|r| load_slice_apart(head, r, ctx))
        }
        None => Err(internal_len(r.offset())),
    }
}

/// The load of elements the fast path refused (of [`load_prefix`], of a
/// fixed array of structs, of a step of a counted `Vec`): once more past the markers that start
/// elements, then element by element. Out of line: inlined, its registers
/// were saved and restored on every call, fast path or not (`hpet`'s
/// timers: 8 instructions a load).
#[inline(never)]
pub(crate) fn load_slice_apart<T: VmField, S: Source>(
    items: &mut [T],
    r: &mut Reader<S>,
    ctx: &Context,
) -> Result<()> {
    if crate::fixed::load_structs_past_markers(items, r, ctx) {
        return Ok(());
    }
    T::load_slice(items, r, ctx)
}

#[cold]
fn internal_len(offset: u64) -> Error {
    Error::new(
        ErrorKind::Invalid {
            message: "internal: length beyond the array",
        },
        offset,
    )
}

/// Saves a `Vec` whose length must equal the count field's.
#[inline]
pub fn save_vec<T: VmField, W: Sink>(
    v: &mut [T],
    n: usize,
    count_field: &'static str,
    w: &mut Writer<W>,
    ctx: &Context,
    recorded: bool,
) -> Result<()> {
    if v.len() != n {
        return Err(Error::new(
            ErrorKind::LengthMismatch {
                field: count_field,
                expected: n as u64,
                found: v.len() as u64,
            },
            w.offset(),
        ));
    }
    if recorded {
        T::save_slice_recorded(v, w, ctx)
    } else if crate::fixed::save_structs(v, w) {
        Ok(())
    } else {
        T::save_slice(v, w, ctx)
    }
}

/// Bytes of elements added per step to a `Vec`: memory grows by at most one
/// step beyond what the bytes read have paid for.
const STEP_BYTES: usize = 64 * 1024;

/// Loads `n` elements into a `Vec`, replacing its contents. Memory grows
/// with the bytes actually read, one step at a time.
#[inline]
pub fn load_vec<T: VmField + Default, S: Source>(
    v: &mut Vec<T>,
    n: usize,
    r: &mut Reader<S>,
    ctx: &Context,
) -> Result<()> {
    check_input_holds::<T, S>(n, r)?;
    v.clear();
    if load_vec_in_memory(v, n, r) {
        return Ok(());
    }
    r.detached(|r| load_vec_steps(v, n, r, ctx))
}

/// [`load_vec`] element by element, in steps.
#[inline(never)]
fn load_vec_steps<T: VmField + Default, S: Source>(
    v: &mut Vec<T>,
    n: usize,
    r: &mut Reader<S>,
    ctx: &Context,
) -> Result<()> {
    // The larger of the wire and the memory size: structs have no fixed
    // wire size, and a small wire form may stand for a large value.
    let elem = (T::ELEM_SIZE * T::COUNT).max(size_of::<T>()).max(1);
    let per_step = (STEP_BYTES / elem).max(1);
    let mut done = 0usize;
    while done < n {
        let k = per_step.min(n - done);
        let before = r.offset();
        v.resize_with(done + k, T::default);
        let Some(chunk) = v.get_mut(done..) else {
            return Err(internal_len(r.offset()));
        };
        // Fixed-size structs whose bytes are in memory: one length check
        // and the boundary peeks in one pass, as for a fixed array; else
        // the fallback a fixed array has.
        if !crate::fixed::load_structs(chunk, r, ctx) {
            load_slice_apart(chunk, r, ctx).map_err(|e| e.shift_index(done))?;
        }
        done += k;
        // Memory must follow the bytes read: elements that read nothing
        // (every field gated off) may fill one step, not grow without input.
        if done < n && r.offset() == before {
            return Err(Error::new(
                ErrorKind::Invalid {
                    message: "array elements read no bytes: memory would grow without input",
                },
                before,
            )
            .index(done));
        }
    }
    Ok(())
}

/// [`load_vec`] of integers whose bytes are all in memory: decoded
/// straight into the `Vec`'s new elements, with no default fill before
/// (the bytes are there, so the allocation is what the input paid for).
/// `false` when this does not apply: the caller reads in steps.
#[inline]
fn load_vec_in_memory<T: VmField + Default, S: Source>(
    v: &mut Vec<T>,
    n: usize,
    r: &mut Reader<S>,
) -> bool {
    // Not for bools (a strict context checks each byte) nor structs (each
    // element ends with a subsection peek).
    if !T::FIXED || T::FIXED_SIZE == 0 || T::HAS_BOOL || T::TAIL_PEEK {
        return false;
    }
    let Some(total) = n.checked_mul(T::FIXED_SIZE) else {
        return false;
    };
    let Some(bytes) = crate::fixed::run_slice(r, total, false, |_| false) else {
        return false;
    };
    T::extend_decoded(v, bytes);
    r.advance(total);
    true
}

/// Bitmap words for `bits` bits: ceil(bits / 64) (QEMU's `BITS_TO_LONGS`
/// on 64-bit hosts, each word sent as be64).
pub fn bitmap_words(bits: usize) -> usize {
    bits.div_ceil(64)
}
