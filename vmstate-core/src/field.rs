//! [`VmField`]: how a Rust type travels as one field, QEMU's leaf codecs
//! (`VMStateInfo`) for the scalar types, and fixed arrays of any field type.

use crate::context::Context;
use crate::cpr::CprFields;
use crate::desc::{FieldKind, Vmsd};
use crate::error::{Error, ErrorKind, Result};
use crate::stream::{Reader, Sink, Source, Writer};
use crate::swap;

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
    /// The CPR-only field kinds inside one value (a derived struct's
    /// [`VmState::CPR_FIELDS`](crate::VmState::CPR_FIELDS)).
    const CPR_FIELDS: CprFields = CprFields::NONE;
    /// The description-table entry of a field of this type, but for its
    /// name, version and check: what the derive's table entries start
    /// from, computed once per type rather than spelled out per field
    /// (which was a good part of the derive's compile time).
    #[doc(hidden)]
    const DESC: crate::desc::Field = crate::desc::Field::new("", Self::INFO, Self::KIND)
        .with_elem_size(Self::ELEM_SIZE)
        .with_array_len(if Self::IS_ARRAY {
            Some(Self::COUNT)
        } else {
            None
        })
        .with_vmsd(Self::VMSD)
        .with_cpr_fields(Self::CPR_FIELDS);

    /// Writes the value.
    fn save<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()>;

    /// Reads the value in place. On error `self` may be partly updated; the
    /// public load entry points restore it.
    fn load<S: Source>(&mut self, r: &mut Reader<S>, ctx: &Context) -> Result<()>;

    /// About how many bytes [`save`](VmField::save) writes for this value:
    /// what [`VmState::to_bytes`](crate::VmState::to_bytes) sizes its
    /// vector by, and nothing else relies on it. The default is the static
    /// size of a fixed-size type, else [`MIN_WIRE_SIZE`](VmField::MIN_WIRE_SIZE);
    /// arrays, boxes, slots and derived structs add up their contents.
    #[inline]
    fn size_hint(&self) -> usize {
        if Self::FIXED {
            Self::FIXED_SIZE
        } else {
            Self::MIN_WIRE_SIZE
        }
    }

    /// Writes consecutive elements; scalars override it with a bulk copy.
    fn save_slice<W: Sink>(items: &mut [Self], w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        save_each(items, w, ctx)
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
        // `load_each`'s loop, written out: through `load_each`, LLVM's
        // inlining in `cpu`'s load changed and it grew from 1445 to 1801
        // instructions.
        for (i, item) in items.iter_mut().enumerate() {
            item.load(r, ctx).map_err(|e| e.index(i))?;
        }
        Ok(())
    }

    // The fixed-size fast path (see `crate::fixed`): generated code reads
    // and writes a run of such values with one length check, straight-line
    // at constant offsets, and falls back to `load`/`save` otherwise.

    /// Whether every value takes exactly [`FIXED_SIZE`](VmField::FIXED_SIZE)
    /// bytes and loads with no check that can fail, except QEMU's
    /// subsection peeks after nested structs ([`TAIL_PEEK`](VmField::TAIL_PEEK)).
    #[doc(hidden)]
    const FIXED: bool = false;
    /// Wire bytes of a [`FIXED`](VmField::FIXED) value.
    #[doc(hidden)]
    const FIXED_SIZE: usize = 0;
    /// Whether a load ends with a subsection peek (a nested struct does):
    /// the byte after the value must then not be a subsection marker for
    /// the fast path to stand for the ordinary load.
    #[doc(hidden)]
    const TAIL_PEEK: bool = false;
    /// Whether the value holds a `bool` ([`Context::strict_bool`] checks
    /// them; the fast path does not).
    #[doc(hidden)]
    const HAS_BOOL: bool = false;

    /// Whether a subsection named `name` right after a value would be
    /// claimed by one of the subsection peeks that end the value's load (a
    /// nested struct's, and its last fields'): QEMU's rule is a name
    /// longer than the struct's own that starts with it. A
    /// [`FIXED`](VmField::FIXED) struct has no subsections, so a claimed
    /// name fails the load, and the fast path leaves it to the ordinary
    /// code; any other name is the enclosing level's, and the fast path
    /// stands.
    #[doc(hidden)]
    #[inline(always)]
    fn tail_claims(name: &[u8]) -> bool {
        let _ = name;
        false
    }

    /// Decodes a [`FIXED`](VmField::FIXED) value from `b`
    /// ([`FIXED_SIZE`](VmField::FIXED_SIZE) bytes). `false` when the
    /// ordinary load must run instead (a subsection marker after a nested
    /// struct, a wrong length); `self` may then be partly written.
    #[doc(hidden)]
    #[inline]
    fn decode_fixed(&mut self, b: &[u8]) -> bool {
        let _ = b;
        false
    }

    /// [`decode_fixed`](VmField::decode_fixed) of consecutive elements.
    #[doc(hidden)]
    #[inline(always)]
    fn decode_fixed_slice(items: &mut [Self], b: &[u8]) -> bool {
        if !Self::FIXED || b.len() != items.len() * Self::FIXED_SIZE {
            return false;
        }
        if Self::FIXED_SIZE == 0 {
            return true;
        }
        // Small structs whose size divides 16, in an array long enough to
        // pay for the call and the reduction (cpu's 16 XMM registers are
        // not: 176 instructions more): the bytes that the peeks between
        // elements see are tested in one vectorized scan, then decoded
        // without a branch per element.
        if Self::TAIL_PEEK && 16 % Self::FIXED_SIZE == 0 && items.len() >= 64 {
            if let Some(ok) = crate::markers::decode_after_scan(items, b) {
                return ok;
            }
        }
        let mut ok = true;
        for (i, (item, chunk)) in items
            .iter_mut()
            .zip(b.chunks_exact(Self::FIXED_SIZE))
            .enumerate()
        {
            // Element i - 1 ended here: its subsection peek sees this
            // byte. A branch (a marker here is rare) costs one compare;
            // folding the test into `ok` cost four instructions.
            if Self::TAIL_PEEK && i > 0 && chunk.first() == Some(&crate::fixed::SUBSECTION) {
                return false;
            }
            ok &= item.decode_fixed(chunk);
        }
        ok
    }

    /// Encodes a [`FIXED`](VmField::FIXED) value into `b`
    /// ([`FIXED_SIZE`](VmField::FIXED_SIZE) bytes).
    #[doc(hidden)]
    #[inline]
    fn encode_fixed(&self, b: &mut [u8]) {
        let _ = b;
    }

    /// Whether a parent's run of fixed-size fields, saved into a `Vec`
    /// and too long to encode on the stack, saves its fields one by one
    /// rather than growing the `Vec` and encoding into it: true for a
    /// derived struct longer than that which holds a `buffer` (at any
    /// depth), whose own save appends the buffer from its field where the
    /// grown bytes would be zero filled first.
    #[doc(hidden)]
    const SAVE_ALONE: bool = false;

    /// Appends the values [`decode_fixed`](VmField::decode_fixed) gives
    /// for `b`, consecutive [`FIXED`](VmField::FIXED) elements (a counted
    /// `Vec` whose bytes are in memory).
    #[doc(hidden)]
    #[inline]
    fn extend_decoded(v: &mut Vec<Self>, b: &[u8])
    where
        Self: Default,
    {
        if Self::FIXED_SIZE == 0 {
            return;
        }
        v.extend(b.chunks_exact(Self::FIXED_SIZE).map(|c| {
            let mut x = Self::default();
            x.decode_fixed(c);
            x
        }));
    }

    /// [`encode_fixed`](VmField::encode_fixed) of consecutive elements.
    #[doc(hidden)]
    #[inline]
    fn encode_fixed_slice(items: &[Self], b: &mut [u8]) {
        if !Self::FIXED || Self::FIXED_SIZE == 0 {
            return;
        }
        for (item, chunk) in items.iter().zip(b.chunks_exact_mut(Self::FIXED_SIZE)) {
            item.encode_fixed(chunk);
        }
    }
}

/// `decode_fixed_slice` of the integer types: short arrays with the
/// inlined loop, long ones with the kernels.
#[inline]
fn decode_ints<T: swap::Word>(items: &mut [T], b: &[u8]) -> bool {
    if b.len() != items.len() * T::SIZE {
        return false;
    }
    if b.len() <= SMALL {
        // Through a local copy, as in `load_ints`: the loop vectorizes.
        let mut buf = [0u8; SMALL];
        if let Some(bytes) = buf.get_mut(..b.len()) {
            bytes.copy_from_slice(b);
            swap::load_kernel(items, bytes);
        }
    } else {
        swap::load(items, b);
    }
    true
}

/// `encode_fixed_slice` of the integer types.
#[inline]
fn encode_ints<T: swap::Word>(items: &[T], b: &mut [u8]) {
    if b.len() <= SMALL {
        // Through a local copy, as `decode_ints`: inlined where the
        // compiler cannot tell `items` from `b` (a caller holding both by
        // plain references), the loop converted straight into `b` kept one
        // load, `bswap` and store per element, in order; into a local
        // nothing else points to, it is vectorized.
        let mut buf = [0u8; SMALL];
        if let Some(bytes) = buf.get_mut(..b.len()) {
            swap::store_kernel(bytes, items);
            b.copy_from_slice(bytes);
        }
    } else {
        swap::store(b, items);
    }
}

/// Arrays of at most this many bytes convert with a loop inlined into the
/// caller (a device's `[u32; 16]`): the out-of-line, CPU-specific kernels
/// of [`swap`] cost a call and a feature check. Measured with AVX2, the
/// kernels win from about 96 bytes on (128 bytes: 4 ns against 6.5).
const SMALL: usize = crate::stream::HEAD;

/// Below this many elements the conversion kernel is scalar (it converts
/// eight at a time): short arrays are saved element by element.
const SCALAR: usize = 8;

/// Bytes converted per step on the stack when the sink or source is not
/// memory (an io sink; an io reader's buffer boundary; a short input).
const CHUNK: usize = 4096;

/// Bytes a memory sink grows by per step on save: [`Sink::grow`] zero
/// fills, and in small steps the fill is still in L1 when the conversion
/// overwrites it. For 1 MiB of u32 into a `Vec`: 4 or 8 KiB steps 26 µs,
/// 16 KiB 27, 32 KiB and one 1 MiB step 34 (memcpy: 21.5).
const GROW: usize = 8 * 1024;

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

/// `save_slice` of the integer types: short arrays inline, the rest
/// out of line through [`save_ints_bulk`].
#[inline]
fn save_ints<T: swap::Word, W: Sink>(items: &[T], w: &mut Writer<W>) -> Result<()> {
    if items.len() < SCALAR {
        // Element by element: converted on the stack with scalar stores,
        // a later wide copy of them would wait on each (a failed store
        // forward), about 3x the time for a `Vec` of four `i32`s.
        // Every `Word` is at most 8 bytes: checked at compile time, so the
        // slice below cannot panic.
        const { assert!(T::SIZE <= 8) };
        for &x in items {
            let mut b = [0u8; 8];
            let b = &mut b[..T::SIZE];
            x.write_be(b);
            w.put_bytes(b)?;
        }
        return Ok(());
    }
    if items.len() <= SMALL / T::SIZE {
        let mut buf = [0u8; SMALL];
        let n = items.len() * T::SIZE;
        swap::store_kernel(&mut buf[..n], items);
        return w.put_head(&buf, n);
    }
    match w.as_vec() {
        Some(v) => {
            save_ints_vec(items, v);
            Ok(())
        }
        None => save_ints_bulk(items, w),
    }
}

/// Converts straight into a vector, a step at a time. Given the vector,
/// not the writer: a call that takes the writer's address keeps it in
/// memory for every field of the caller, even where the call does not
/// run (PCIBUS's save into a `Vec`: 102 instructions with it, 97 without,
/// the hand-written code 85).
#[inline(never)]
fn save_ints_vec<T: swap::Word>(items: &[T], v: &mut Vec<u8>) {
    for chunk in items.chunks(GROW / T::SIZE) {
        let start = v.len();
        v.resize(start + chunk.len() * T::SIZE, 0);
        swap::store(&mut v[start..], chunk);
    }
}

/// Converts straight into a memory sink other than a `Vec`, a step at a
/// time; through a stack chunk into any other.
#[inline(never)]
fn save_ints_bulk<T: swap::Word, W: Sink>(items: &[T], w: &mut Writer<W>) -> Result<()> {
    let mut rest = items;
    while !rest.is_empty() {
        let (head, tail) = rest.split_at(rest.len().min(GROW / T::SIZE));
        match w.grow(head.len() * T::SIZE) {
            Some(dst) => swap::store(dst, head),
            // Not memory (and it will not become memory): nothing was
            // written, go through the stack for all that is left.
            None => {
                let mut buf = [0u8; CHUNK];
                for chunk in rest.chunks(CHUNK / T::SIZE) {
                    let bytes = &mut buf[..chunk.len() * T::SIZE];
                    swap::store(bytes, chunk);
                    w.put_bytes(bytes)?;
                }
                return Ok(());
            }
        }
        rest = tail;
    }
    Ok(())
}

/// `load_slice` of the integer types: short arrays already in memory
/// inline, the rest out of line through [`load_ints_bulk`].
#[inline]
fn load_ints<T: swap::Word, S: Source>(items: &mut [T], r: &mut Reader<S>) -> Result<()> {
    if items.len() <= SMALL / T::SIZE {
        if let Some(src) = r.take(items.len() * T::SIZE) {
            // Through a local copy, which LLVM then removes: it proves
            // that the stores cannot hit the input, so the loop is
            // vectorized (converting from `src` directly gave one bswap
            // per element).
            // (`get_mut`: no panic even if a custom source broke the
            // contract and handed back more than `SMALL` bytes.)
            let mut buf = [0u8; SMALL];
            if let Some(bytes) = buf.get_mut(..src.len()) {
                bytes.copy_from_slice(src);
                swap::load_kernel(items, bytes);
            }
            return Ok(());
        }
    }
    r.detached(|r| load_ints_bulk(items, r))
}

/// Converts in place from the input when it is in memory; otherwise (an io
/// reader, a short input) a chunk at a time, each in place when the reader
/// has buffered it, else copied to the stack first. A short input fails
/// naming the element that was cut.
#[inline(never)]
fn load_ints_bulk<T: swap::Word, S: Source>(items: &mut [T], r: &mut Reader<S>) -> Result<()> {
    if let Some(src) = r.take(items.len() * T::SIZE) {
        swap::load(items, src);
        return Ok(());
    }
    let per = CHUNK / T::SIZE;
    let mut buf = [0u8; CHUNK];
    for (k, chunk) in items.chunks_mut(per).enumerate() {
        let n = chunk.len() * T::SIZE;
        if let Some(src) = r.take(n) {
            swap::load(chunk, src);
            continue;
        }
        let bytes = &mut buf[..n];
        let at = r.offset();
        r.get_bytes(bytes)
            .map_err(|e| short_element(e, at, k * per, T::SIZE))?;
        swap::load(chunk, bytes);
    }
    Ok(())
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

            #[inline]
            fn save_slice<W: Sink>(items: &mut [Self], w: &mut Writer<W>, _: &Context) -> Result<()> {
                save_ints(items, w)
            }

            #[inline]
            fn load_slice<S: Source>(items: &mut [Self], r: &mut Reader<S>, _: &Context) -> Result<()> {
                load_ints(items, r)
            }

            const FIXED: bool = true;
            const FIXED_SIZE: usize = size_of::<$t>();

            #[inline(always)]
            fn decode_fixed(&mut self, b: &[u8]) -> bool {
                match b.first_chunk() {
                    Some(a) => {
                        *self = <$t>::from_be_bytes(*a);
                        true
                    }
                    None => false,
                }
            }

            #[inline]
            fn decode_fixed_slice(items: &mut [Self], b: &[u8]) -> bool {
                decode_ints(items, b)
            }

            #[inline(always)]
            fn encode_fixed(&self, b: &mut [u8]) {
                if let Some(a) = b.first_chunk_mut() {
                    *a = self.to_be_bytes();
                }
            }

            #[inline]
            fn encode_fixed_slice(items: &[Self], b: &mut [u8]) {
                encode_ints(items, b)
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

    const FIXED: bool = true;
    const FIXED_SIZE: usize = 1;

    #[inline(always)]
    fn decode_fixed(&mut self, b: &[u8]) -> bool {
        match b.first() {
            Some(&v) => {
                *self = v;
                true
            }
            None => false,
        }
    }

    #[inline]
    fn decode_fixed_slice(items: &mut [Self], b: &[u8]) -> bool {
        if b.len() != items.len() {
            return false;
        }
        items.copy_from_slice(b);
        true
    }

    #[inline(always)]
    fn encode_fixed(&self, b: &mut [u8]) {
        if let Some(a) = b.first_mut() {
            *a = *self;
        }
    }

    #[inline]
    fn encode_fixed_slice(items: &[Self], b: &mut [u8]) {
        if b.len() == items.len() {
            b.copy_from_slice(items);
        }
    }

    #[inline]
    fn extend_decoded(v: &mut Vec<Self>, b: &[u8]) {
        v.extend_from_slice(b);
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

    const FIXED: bool = true;
    const FIXED_SIZE: usize = 1;
    const HAS_BOOL: bool = true;

    /// QEMU's rule only: the caller takes this path when
    /// [`Context::strict_bool`] is off.
    #[inline(always)]
    fn decode_fixed(&mut self, b: &[u8]) -> bool {
        match b.first() {
            Some(&v) => {
                *self = v != 0;
                true
            }
            None => false,
        }
    }

    #[inline(always)]
    fn encode_fixed(&self, b: &mut [u8]) {
        if let Some(a) = b.first_mut() {
            *a = u8::from(*self);
        }
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

    const FIXED: bool = true;
    const FIXED_SIZE: usize = 8;

    #[inline(always)]
    fn decode_fixed(&mut self, b: &[u8]) -> bool {
        match b.first_chunk() {
            Some(a) => {
                *self = f64::from_bits(u64::from_be_bytes(*a));
                true
            }
            None => false,
        }
    }

    #[inline(always)]
    fn encode_fixed(&self, b: &mut [u8]) {
        if let Some(a) = b.first_chunk_mut() {
            *a = self.to_bits().to_be_bytes();
        }
    }
}

/// Whether `[T; N]` is a few structs of variable size (subsections or
/// hooks: `fdc`'s two drives), whose element loop is inlined into the
/// parent so that the parent's reader or writer stays in registers; in
/// the out-of-line loop of `load_slice` and `save_slice` it goes through
/// memory at every field (`fdc` in place 432 to 380 instructions, `ide`'s
/// save 635 to 489). Longer arrays keep the out-of-line loop, and so do
/// arrays of arrays, whose elements take one flattened index.
const fn few<T: VmField, const N: usize>() -> bool {
    N <= 4 && !T::IS_ARRAY && !T::FIXED && T::VMSD.is_some()
}

/// Saves elements one by one, each error with its index.
#[inline(always)]
fn save_each<T: VmField, W: Sink>(items: &mut [T], w: &mut Writer<W>, ctx: &Context) -> Result<()> {
    for (i, item) in items.iter_mut().enumerate() {
        item.save(w, ctx).map_err(|e| e.index(i))?;
    }
    Ok(())
}

/// The save of `[T; N]` but for [`few`].
#[inline]
fn save_array<T: VmField, W: Sink, const N: usize>(
    items: &mut [T; N],
    w: &mut Writer<W>,
    ctx: &Context,
) -> Result<()> {
    if crate::fixed::save_structs(items, w) {
        return Ok(());
    }
    T::save_slice(items, w, ctx)
}

/// Loads elements one by one, each error with its index.
#[inline(always)]
fn load_each<T: VmField, S: Source>(
    items: &mut [T],
    r: &mut Reader<S>,
    ctx: &Context,
) -> Result<()> {
    for (i, item) in items.iter_mut().enumerate() {
        item.load(r, ctx).map_err(|e| e.index(i))?;
    }
    Ok(())
}

/// The load of `[T; N]` but for [`few`].
#[inline]
fn load_array<T: VmField, S: Source, const N: usize>(
    items: &mut [T; N],
    r: &mut Reader<S>,
    ctx: &Context,
) -> Result<()> {
    if crate::fixed::load_structs(items, r, ctx) {
        return Ok(());
    }
    if T::FIXED && T::TAIL_PEEK {
        return r.detached(|r| crate::length::load_slice_apart(items, r, ctx));
    }
    T::load_slice(items, r, ctx)
}

/// [`VmField::size_hint`] of consecutive elements: a product when they
/// have a static size, else their sum.
#[inline]
pub(crate) fn slice_size_hint<T: VmField>(items: &[T]) -> usize {
    if T::FIXED {
        items.len().saturating_mul(T::FIXED_SIZE)
    } else {
        items
            .iter()
            .fold(0, |sum, x| sum.saturating_add(x.size_hint()))
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
    const CPR_FIELDS: CprFields = T::CPR_FIELDS;

    #[inline(always)]
    fn save<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        if const { few::<T, N>() } {
            return save_each(self, w, ctx);
        }
        save_array(self, w, ctx)
    }

    #[inline(always)]
    fn load<S: Source>(&mut self, r: &mut Reader<S>, ctx: &Context) -> Result<()> {
        if const { few::<T, N>() } {
            return load_each(self, r, ctx);
        }
        load_array(self, r, ctx)
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

    #[inline]
    fn size_hint(&self) -> usize {
        slice_size_hint(self)
    }

    const FIXED: bool = T::FIXED;
    const FIXED_SIZE: usize = N * T::FIXED_SIZE;
    const TAIL_PEEK: bool = T::TAIL_PEEK && N > 0;
    const HAS_BOOL: bool = T::HAS_BOOL;

    #[inline(always)]
    fn tail_claims(name: &[u8]) -> bool {
        N > 0 && T::tail_claims(name)
    }

    #[inline]
    fn decode_fixed(&mut self, b: &[u8]) -> bool {
        T::decode_fixed_slice(self, b)
    }

    #[inline]
    fn decode_fixed_slice(items: &mut [Self], b: &[u8]) -> bool {
        T::decode_fixed_slice(items.as_flattened_mut(), b)
    }

    #[inline]
    fn encode_fixed(&self, b: &mut [u8]) {
        T::encode_fixed_slice(self, b)
    }

    const SAVE_ALONE: bool = T::SAVE_ALONE;

    #[inline]
    fn encode_fixed_slice(items: &[Self], b: &mut [u8]) {
        T::encode_fixed_slice(items.as_flattened(), b)
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

    /// A reader that hands out `step` bytes per call at most, so that an
    /// io reader's buffer ends in the middle of elements and chunks.
    struct Dribble<'a> {
        data: &'a [u8],
        step: usize,
    }
    impl std::io::Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.step).min(self.data.len());
            let (head, tail) = self.data.split_at(n);
            buf[..n].copy_from_slice(head);
            self.data = tail;
            Ok(n)
        }
    }

    /// Lengths 0..=300 (inline and kernel paths, every remainder) and a
    /// few large ones (many grow steps and stack chunks, and more than an
    /// io reader's buffer).
    fn lengths() -> impl Iterator<Item = usize> {
        (0..=300).chain([1023, 1024, 1025, 2049, 70_000])
    }

    /// Every bulk path against per-element `to_be_bytes`/`from_be_bytes`:
    /// save into a `Vec` (empty, and after other bytes) and through an
    /// io sink; load from a slice and through io readers fed whole or a
    /// few bytes at a time; a truncated input names the element it cut,
    /// at that element's offset, for both reader kinds.
    macro_rules! bulk_roundtrip {
        ($name:ident, $t:ty) => {
            #[test]
            #[allow(clippy::modulo_one)] // `% N` with i8's N = 1
            fn $name() {
                const N: usize = size_of::<$t>();
                let ctx = Context::new();
                for len in lengths() {
                    let mut vals: Vec<$t> = (0..len)
                        .map(|i| {
                            (i as u64)
                                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                                .rotate_left(7) as $t
                        })
                        .collect();
                    let want: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();

                    let mut out = Vec::new();
                    <$t>::save_slice(&mut vals, &mut Writer::new(&mut out), &ctx).unwrap();
                    assert!(out == want, "vec save, len {len}");

                    let mut out = vec![0xAA; 3];
                    let mut w = Writer::new(&mut out);
                    <$t>::save_slice(&mut vals, &mut w, &ctx).unwrap();
                    assert_eq!(w.offset(), want.len() as u64);
                    assert!(
                        out[..3] == [0xAA; 3] && out[3..] == want,
                        "vec save after bytes, len {len}"
                    );

                    let mut w = Writer::from_write(Vec::new());
                    <$t>::save_slice(&mut vals, &mut w, &ctx).unwrap();
                    assert_eq!(w.offset(), want.len() as u64);
                    assert!(w.into_inner().into_inner() == want, "io save, len {len}");

                    // One byte more than needed: the loads must stop at
                    // the array's end.
                    let mut input = want.clone();
                    input.push(0x5A);
                    let mut back = vec![0 as $t; len];
                    let mut r = Reader::from_slice(&input);
                    <$t>::load_slice(&mut back, &mut r, &ctx).unwrap();
                    assert!(back == vals, "slice load, len {len}");
                    assert_eq!(r.remaining(), [0x5A]);

                    // Through an io reader: fed whole, and in dribbles of
                    // 7 and 4099 bytes, after 3 bytes consumed already.
                    for step in [usize::MAX, 7, 4099] {
                        let mut input = vec![1, 2, 3];
                        input.extend_from_slice(&want);
                        input.push(0x5A);
                        let mut r = Reader::new(Dribble { data: &input, step });
                        assert_eq!(r.get_array::<3>().unwrap(), [1, 2, 3]);
                        let mut back = vec![0 as $t; len];
                        <$t>::load_slice(&mut back, &mut r, &ctx).unwrap();
                        assert!(back == vals, "io load, len {len}, step {step}");
                        assert_eq!(r.get_u8().unwrap(), 0x5A);
                    }

                    // Cut inside the first, a middle and the last element,
                    // and at a boundary.
                    if len == 0 {
                        continue;
                    }
                    let cuts = [1, (len / 2) * N + N / 2, len * N - 1, (len - 1) * N];
                    for cut in cuts {
                        let cut = cut.min(want.len() - 1);
                        let short = &want[..cut];
                        let at = (cut / N) as u64;
                        let check = |e: Error, what: &str| {
                            assert_eq!(e.path(), format!("[{at}]"), "{what}, len {len}, cut {cut}");
                            assert_eq!(
                                e.offset(),
                                3 + at * N as u64,
                                "{what}, len {len}, cut {cut}"
                            );
                            match e.kind() {
                                ErrorKind::UnexpectedEof { needed, available } => {
                                    assert_eq!((*needed, *available), (N as u64, (cut % N) as u64))
                                }
                                k => panic!("{what}: {k:?}"),
                            }
                        };
                        let mut input = vec![1, 2, 3];
                        input.extend_from_slice(short);
                        let mut back = vec![0 as $t; len];
                        let mut r = Reader::from_slice(&input);
                        r.skip(3).unwrap();
                        check(
                            <$t>::load_slice(&mut back, &mut r, &ctx).unwrap_err(),
                            "slice",
                        );
                        for step in [usize::MAX, 7] {
                            let mut r = Reader::new(Dribble { data: &input, step });
                            r.skip(3).unwrap();
                            let e = <$t>::load_slice(&mut back, &mut r, &ctx).unwrap_err();
                            check(e, "io");
                        }
                    }
                }
            }
        };
    }
    bulk_roundtrip!(bulk_u16, u16);
    bulk_roundtrip!(bulk_u32, u32);
    bulk_roundtrip!(bulk_u64, u64);
    bulk_roundtrip!(bulk_i8, i8);
    bulk_roundtrip!(bulk_i16, i16);
    bulk_roundtrip!(bulk_i32, i32);
    bulk_roundtrip!(bulk_i64, i64);

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
