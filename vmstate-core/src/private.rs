//! Runtime support for the code `#[derive(VmState)]` generates. Not a
//! public API: names and signatures change without notice.

pub use crate::checks::{EqualField, PositiveLeField};
pub use crate::codec::{Codec, VmTmp};
pub use crate::context::Context;
pub use crate::cpr::CprFields;
pub use crate::desc::{Check, Field, FieldKind, Hooks, Subsection, Vmsd};
pub use crate::error::{BoxError, Error, ErrorKind, Result, Segment};
pub use crate::field::{save_elems_recorded, VmField};
pub use crate::fixed::{
    byte_group, copy_run_bytes, grow_run, name_claims, no_claims, no_marker_at, piece_bytes,
    piece_catch_up, piece_end, put_byte_group, put_subsection_header, run_bytes, save_run,
    tail_clear, SAVE_RUN_MAX, STACK_RUN_MAX,
};
pub use crate::length::{
    bitmap_words, length, load_prefix, load_vec, save_prefix, save_vec, CountField,
};
pub use crate::ptr::VoidPtr;
pub use crate::state::VmState;
pub use crate::stream::{Reader, Sink, Source, Writer};
pub use crate::types::{load_gtree, load_queue, save_gtree, save_queue, GtreeKey};
pub use std::option::Option::{self, None, Some};
pub use std::result::Result::{Err, Ok};

/// QEMU_VM_SUBSECTION.
pub const SUBSECTION: u8 = 0x05;

/// The error for a stream version outside `min..=version_id` (generated
/// code compares against literals and calls this only on failure).
#[cold]
pub fn version_error(vmsd: &'static Vmsd, version: u32, offset: u64) -> Error {
    match check_version(vmsd, version, offset) {
        Err(e) => e,
        Ok(()) => Error::new(
            ErrorKind::Invalid {
                message: "internal: version within range",
            },
            offset,
        ),
    }
}

/// Rejects stream versions outside `min..=version_id`.
#[inline]
pub fn check_version(vmsd: &'static Vmsd, version: u32, offset: u64) -> Result<()> {
    if version > vmsd.version_id {
        return Err(Error::new(
            ErrorKind::VersionTooNew {
                vmsd: vmsd.name,
                version,
                max: vmsd.version_id,
            },
            offset,
        ));
    }
    if version < vmsd.minimum_version_id {
        return Err(Error::new(
            ErrorKind::VersionTooOld {
                vmsd: vmsd.name,
                version,
                min: vmsd.minimum_version_id,
            },
            offset,
        ));
    }
    Ok(())
}

/// Turns a hook's result into ours.
#[inline]
pub fn hook_result<E: Into<BoxError>>(
    res: std::result::Result<(), E>,
    hook: &'static str,
    offset: u64,
) -> Result<()> {
    res.map_err(|e| Error::hook(hook, e.into(), offset))
}

/// `r` with subsection `name` as the outer segment of its error's path
/// (a call, not a `map_err` closure: each closure is one more body for
/// the compiler to check).
#[inline(always)]
pub fn in_subsection<T>(r: Result<T>, name: &'static str) -> Result<T> {
    match r {
        Ok(v) => Ok(v),
        Err(e) => Err(e.within(Segment::Subsection(name))),
    }
}

/// Compile-time check that a field type is a raw pointer.
pub const fn assert_void_ptr<T: VoidPtr>() {}

/// The offsets of the fields of a run of fixed-size fields from their
/// sizes (`M` is one more than the number of fields: the last is the
/// run's size), usable in constants.
pub const fn run_offsets<const M: usize>(sizes: &[usize]) -> [usize; M] {
    let mut out = [0; M];
    let mut i = 0;
    while i + 1 < M && i < sizes.len() {
        out[i + 1] = out[i] + sizes[i];
        i += 1;
    }
    out
}

/// Where a field of a run sits in its stretch of fixed-size fields (the
/// fields of a run between values whose size is not static).
#[derive(Clone, Copy)]
pub struct PieceAt {
    /// It starts a stretch: the length check of the stretch is here.
    pub start: bool,
    /// It ends one: the reader moves past the stretch after it.
    pub end: bool,
    /// Its offset in the stretch.
    pub off: usize,
    /// The stretch's size.
    pub len: usize,
}

/// [`PieceAt`] of every field of a run from whether each is of fixed size
/// and their sizes, usable in constants. A field not of fixed size gets
/// zeros.
pub const fn piece_layout<const K: usize>(fixed: &[bool; K], sizes: &[usize; K]) -> [PieceAt; K] {
    let zero = PieceAt {
        start: false,
        end: false,
        off: 0,
        len: 0,
    };
    let mut out = [zero; K];
    let mut i = 0;
    while i < K {
        if fixed[i] {
            // The stretch that holds `i`: from `first` to `last`.
            let mut first = i;
            while first > 0 && fixed[first - 1] {
                first -= 1;
            }
            let mut last = i;
            while last + 1 < K && fixed[last + 1] {
                last += 1;
            }
            let (mut off, mut len, mut j) = (0, 0, first);
            while j <= last {
                if j < i {
                    off += sizes[j];
                }
                len += sizes[j];
                j += 1;
            }
            out[i] = PieceAt {
                start: i == first,
                end: i == last,
                off,
                len,
            };
        }
        i += 1;
    }
    out
}

/// `prefix` test usable in constants (subsection names).
pub const fn starts_with(s: &str, prefix: &str) -> bool {
    let (s, p) = (s.as_bytes(), prefix.as_bytes());
    if p.len() > s.len() {
        return false;
    }
    let mut i = 0;
    while i < p.len() {
        if s[i] != p[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Refuses `void_ptr` fields outside the CPR modes.
#[inline]
pub fn require_cpr(ctx: &Context, offset: u64) -> Result<()> {
    if ctx.mode.is_cpr() {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::VoidPtrRefused { mode: ctx.mode },
            offset,
        ))
    }
}

/// The guard at the top of a generated save: refuses the CPR-only fields
/// of `T` (`CPR_FIELDS`, a constant) that the mode or the sink does not
/// allow, before any hook runs or any byte is written.
#[inline(always)]
pub fn cpr_guard_save<T: VmState, W: Sink>(ctx: &Context, offset: u64) -> Result<()> {
    if T::CPR_FIELDS.is_empty() {
        return Ok(());
    }
    crate::cpr::check(T::VMSD, T::CPR_FIELDS, ctx, W::FD_PASSING, offset)
}

/// [`cpr_guard_save`] for a load, before any hook runs or any byte is read.
#[inline(always)]
pub fn cpr_guard_load<T: VmState, S: Source>(ctx: &Context, offset: u64) -> Result<()> {
    if T::CPR_FIELDS.is_empty() {
        return Ok(());
    }
    crate::cpr::check(T::VMSD, T::CPR_FIELDS, ctx, S::FD_PASSING, offset)
}

/// Saves an `fd` field: the descriptor in the sink's way.
#[cfg(unix)]
pub fn save_fd<F: crate::fd::FdSlot, W: Sink>(
    fd: &F,
    w: &mut Writer<W>,
    ctx: &Context,
) -> Result<()> {
    require_fd_mode(ctx, w.offset())?;
    w.put_fd(fd.borrow_fd())
}

/// Loads an `fd` field: the descriptor the source hands out for it.
#[cfg(unix)]
pub fn load_fd<F: crate::fd::FdSlot, S: Source>(
    fd: &mut F,
    r: &mut Reader<S>,
    ctx: &Context,
) -> Result<()> {
    let at = r.offset();
    require_fd_mode(ctx, at)?;
    let got = r.get_fd(ctx.mode)?;
    fd.set_fd(got).map_err(|k| Error::new(k, at))
}

/// Compile-time check that a field type can hold a descriptor.
#[cfg(unix)]
pub const fn assert_fd_slot<T: crate::fd::FdSlot>() {}

#[cfg(unix)]
fn require_fd_mode(ctx: &Context, offset: u64) -> Result<()> {
    if ctx
        .mode
        .allowed_cpr_fields()
        .contains(crate::cpr::CprFields::FD)
    {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::FdRefused { mode: ctx.mode }, offset))
    }
}

/// Saves a `void_ptr` field: the address as be64, CPR modes only.
pub fn save_void_ptr<P: VoidPtr, W: Sink>(p: &P, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
    require_cpr(ctx, w.offset())?;
    w.put_u64(p.addr_u64())
}

/// Loads a `void_ptr` field, CPR modes only; the pointer is stored only if
/// the address fits this host.
pub fn load_void_ptr<P: VoidPtr, S: Source>(
    p: &mut P,
    r: &mut Reader<S>,
    ctx: &Context,
) -> Result<()> {
    let at = r.offset();
    require_cpr(ctx, at)?;
    let addr = r.get_u64()?;
    *p = P::from_addr_u64(addr).map_err(|k| Error::new(k, at))?;
    Ok(())
}

/// Writes the subsection header of `vmsd`, whose name is `name` (the
/// subsection type's `VmState::NAME`), a size the inlining makes
/// constant: into a caller's buffer in place; into a `Vec` (or any other
/// sink) built on the stack and appended whole, as short runs are (a
/// `Vec`'s `grow` zero fills first, and a call that took the writer's
/// address would keep it in memory for the whole save).
#[inline(always)]
pub fn subsection_header<W: Sink>(
    w: &mut Writer<W>,
    name: &'static str,
    vmsd: &'static Vmsd,
) -> Result<()> {
    let mut h = [0u8; 6 + 255];
    let Some(b) = h.get_mut(..6 + name.len()) else {
        // A name over 255 bytes (the derive refuses them; a hand-written
        // `VmState` might not): its length byte cannot hold it.
        return Err(Error::new(
            ErrorKind::Invalid {
                message: "a subsection name longer than 255 bytes cannot be encoded",
            },
            w.offset(),
        ));
    };
    if W::GROW_IN_PLACE {
        if let Some(dst) = w.grow(b.len()) {
            crate::fixed::put_subsection_header(dst, name, vmsd.version_id);
            return Ok(());
        }
    }
    crate::fixed::put_subsection_header(b, name, vmsd.version_id);
    w.put_bytes(b)
}

/// After the fields of a description without subsections: QEMU still
/// peeks (docs/wire-format.md#subsections), and a subsection header whose name extends this
/// description's name is an error (an unknown subsection); anything else
/// stays in the stream for the enclosing level. The common case, no
/// subsection marker, is one inlined byte test.
/// `parent_name` is `VmState::NAME`: a header whose name it claims is the error.
#[inline(always)]
pub fn reject_unknown_subsection<S: Source>(
    r: &mut Reader<S>,
    parent: &'static Vmsd,
    parent_name: &'static str,
) -> Result<()> {
    let (mem, all) = r.in_memory();
    match mem.first() {
        Some(&b) if b != SUBSECTION => Ok(()),
        None if all => Ok(()),
        _ => marker_after_fields(r, parent, parent_name),
    }
}

/// [`reject_unknown_subsection`] at a subsection marker, or where the
/// next byte is not in memory yet. A whole header in memory is tested
/// against `parent_name`: the enclosing level's next subsection, as after
/// the last subsection of a parent, passes without reading the header.
#[inline]
fn marker_after_fields<S: Source>(
    r: &mut Reader<S>,
    parent: &'static Vmsd,
    parent_name: &'static str,
) -> Result<()> {
    let (mem, all) = r.in_memory();
    if !mem.is_empty() && crate::fixed::tail_clear(mem, all, |n| name_claims(parent_name, n)) {
        return Ok(());
    }
    match r.peek(1)? {
        [SUBSECTION] => match r.detached(|r| next_subsection_named(r, parent))? {
            // A table without subsections cannot match; a hand-written one
            // that does is not this function's caller.
            Some(_) => Err(bad_subsection_index(r.offset())),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Reads the subsection header at `r` when it belongs to `parent`
/// (docs/wire-format.md#subsections): a marker `05`, a name at least one byte longer than the parent's
/// name that starts with it. A name with another prefix, or too short, or
/// a header cut by end of input, returns `None` and stays in the stream
/// for the enclosing level. A name with the parent's prefix that is not one
/// of its subsections is an error. Returns the subsection's index and its
/// version, truncated to 8 bits as QEMU does.
///
/// Callers run it on a copy of the reader ([`Reader::detached`]): given
/// the reader's address, a caller would keep the reader in memory for
/// every one of its fields. (An inlined wrapper doing that here changed
/// the inlining around it: `hpet`'s load took 8 more instructions.)
#[inline(never)]
fn next_subsection_named<S: Source>(
    r: &mut Reader<S>,
    parent: &'static Vmsd,
) -> Result<Option<(usize, u32)>> {
    let at = r.offset();
    let len = match r.peek(2)? {
        [SUBSECTION, len] => usize::from(*len),
        _ => return Ok(None),
    };
    if len <= parent.name.len() {
        return Ok(None);
    }
    // Exact peeks only: over a socket, peeking further could wait for
    // bytes that are not sent yet.
    let head = r.peek(2 + len)?;
    let name = head.get(2..).unwrap_or_default();
    if name.len() != len {
        return Ok(None);
    }
    // The derive asserts that every subsection name extends the parent's,
    // so a known name needs no separate prefix test; only an unknown one
    // is tested, to tell "not ours" from "ours but unknown".
    let Some(idx) = parent.subsection_index(name) else {
        if name.starts_with(parent.name.as_bytes()) {
            return Err(Error::new(
                ErrorKind::UnknownSubsection {
                    name: String::from_utf8_lossy(name).into_owned(),
                },
                at,
            ));
        }
        return Ok(None);
    };
    r.skip(2 + len as u64)?;
    let version = r.get_u32()?;
    Ok(Some((idx, u32::from(version as u8))))
}

/// The subsection loop's peek for a description that has subsections:
/// inlined whole, with `find` the derive's chain of
/// [`is_name`] tests against the subsections' names (constants), so that
/// the lookup is what a hand-written `match` on the name compiles to: a
/// switch on the length and fixed-length compares, no loop over a table
/// and no call. Unknown names go out of line.
///
/// `parent_name` is the description's `VmState::NAME`; `find` gives the
/// index of a name in the description's subsection table.
#[inline(always)]
pub fn next_known_subsection<S: Source>(
    r: &mut Reader<S>,
    parent: &'static Vmsd,
    parent_name: &'static str,
    find: impl Fn(&[u8]) -> Option<usize>,
) -> Result<Option<(usize, u32)>> {
    // A known header whole in memory is read from there.
    let (mem, all) = r.in_memory();
    match mem {
        [b, ..] if *b != SUBSECTION => return Ok(None),
        [] if all => return Ok(None),
        _ => {}
    }
    if let Some((idx, version, n)) = known_header(mem, &find) {
        r.advance(n);
        return Ok(Some((idx, version)));
    }
    // One byte first: after the last section of a stream without footers
    // only the EOF byte may have been sent.
    if r.peek(1)? != [SUBSECTION] {
        return Ok(None);
    }
    let len = match r.peek(2)? {
        [SUBSECTION, len] => usize::from(*len),
        _ => return Ok(None),
    };
    if len <= parent_name.len() {
        return Ok(None);
    }
    // Exact peeks only (see next_subsection_named).
    let head = r.peek(2 + len)?;
    let name = head.get(2..).unwrap_or_default();
    if name.len() != len {
        return Ok(None);
    }
    let Some(idx) = find(name) else {
        // On a copy: taking this reader's address would keep it in memory
        // for every field of the caller.
        return r.detached(|r| next_subsection_named(r, parent));
    };
    r.skip(2 + len as u64)?;
    let version = r.get_u32()?;
    Ok(Some((idx, u32::from(version as u8))))
}

/// The subsection header at the start of `mem` when it is whole there
/// and `find` knows its name: the name's index, the version (low byte,
/// as QEMU keeps it) and the header's length.
#[inline(always)]
fn known_header(mem: &[u8], find: &impl Fn(&[u8]) -> Option<usize>) -> Option<(usize, u32, usize)> {
    let [SUBSECTION, len, rest @ ..] = mem else {
        return None;
    };
    let len = usize::from(*len);
    let (name, rest) = rest.split_at_checked(len)?;
    let version = rest.first_chunk::<4>()?;
    let idx = find(name)?;
    Some((idx, u32::from(version[3]), 2 + len + 4))
}

/// `name == known`, for the derive's subsection lookup, where `known` is
/// a constant: the bytes are compared over `known`'s length, which the
/// compiler expands into a few loads; over `name`'s length (the same
/// value, but not a constant to the compiler) it stays a call to `memcmp`.
#[inline(always)]
pub fn is_name(known: &str, name: &[u8]) -> bool {
    let known = known.as_bytes();
    name.len() == known.len() && name.get(..known.len()) == Some(known)
}

/// Whether the next byte is a subsection marker (the loop of a
/// description with subsections starts only then; `next_known_subsection`
/// tests it again, which the inlining folds).
#[inline(always)]
pub fn at_subsection_marker<S: Source>(r: &mut Reader<S>) -> Result<bool> {
    Ok(r.peek(1)? == [SUBSECTION])
}

/// Applies the duplicate-subsection policy.
#[inline]
pub fn note_subsection(
    seen: &mut bool,
    name: &'static str,
    ctx: &Context,
    offset: u64,
) -> Result<()> {
    if *seen && ctx.duplicate_subsections == crate::DuplicateSubsections::Reject {
        return Err(Error::new(ErrorKind::DuplicateSubsection { name }, offset));
    }
    *seen = true;
    Ok(())
}

/// An error for a subsection index the table does not have (cannot happen
/// with generated code; reported instead of panicking).
#[cold]
pub fn bad_subsection_index(offset: u64) -> Error {
    Error::new(
        ErrorKind::Invalid {
            message: "internal: subsection index out of range",
        },
        offset,
    )
}

/// Runs a `validate` predicate at its position (QEMU's `VMSTATE_VALIDATE`):
/// false is an error carrying the check's name. QEMU asserts on save; here
/// it is an error too.
#[inline]
pub fn validate(ok: bool, message: &'static str, offset: u64) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::Invalid { message }, offset))
    }
}

/// Declared bounds of an integer field, checked right after it is read.
#[inline]
pub fn check_range(value: i128, min: i128, max: i128, offset: u64) -> Result<()> {
    if value < min || value > max {
        return Err(Error::new(
            ErrorKind::OutOfRange {
                found: value,
                min,
                max,
            },
            offset,
        ));
    }
    Ok(())
}

/// An integer field's value for `check_range`.
#[diagnostic::on_unimplemented(
    message = "`min`/`max` need an integer field, not `{Self}`",
    label = "bounds are checked on integer fields (u8..u64, i8..i64)"
)]
pub trait RangeInt: Copy {
    /// The type's lowest value.
    const MIN: i128;
    /// The type's highest value.
    const MAX: i128;
    /// The value, widened.
    fn widen(self) -> i128;
}
macro_rules! range_int {
    ($($t:ty),*) => {$( impl RangeInt for $t {
        const MIN: i128 = <$t>::MIN as i128;
        const MAX: i128 = <$t>::MAX as i128;
        fn widen(self) -> i128 { self as i128 }
    } )*};
}
range_int!(u8, u16, u32, u64, i8, i16, i32, i64);

/// The version a `tmp`, queue or tree element is saved at.
pub const fn own_version<T: VmState>() -> u32 {
    T::VMSD.version_id
}

/// Saves a `VmTmp` temporary built from the parent. Inlined, like
/// [`load_tmp`]: a temporary is most often a few integers.
#[inline]
pub fn save_tmp<T: VmTmp<P>, P, W: Sink>(
    parent: &P,
    w: &mut Writer<W>,
    ctx: &Context,
    recorded: bool,
) -> Result<()> {
    let mut tmp = T::default();
    tmp.fill_from_parent(parent)
        .map_err(|e| Error::hook("pre_save", e, w.offset()))?;
    let version = T::VMSD.version_id;
    if recorded {
        tmp.save_state_v_recorded(w, version, ctx)
    } else {
        tmp.save_state_v(w, version, ctx)
    }
}

/// Loads a `VmTmp` temporary at `version` and applies it to the parent.
/// Inlined: a temporary is most often a few integers that load as one
/// run, and the conversion a few moves.
#[inline]
pub fn load_tmp<T: VmTmp<P>, P, S: Source>(
    parent: &mut P,
    r: &mut Reader<S>,
    version: u32,
    ctx: &Context,
) -> Result<()> {
    let mut tmp = T::default();
    tmp.load_state_in_place(r, version, ctx)?;
    tmp.apply_to_parent(parent)
        .map_err(|e| Error::hook("post_load", e, r.offset()))
}

/// A `[u8; N]`, for `buffer` fields.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a byte array",
    label = "`buffer` needs a `[u8; N]` field"
)]
pub trait ByteArray {
    /// `N`.
    const LEN: usize;
    /// The bytes.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// The bytes, shared.
    fn bytes(&self) -> &[u8];
}
impl<const N: usize> ByteArray for [u8; N] {
    const LEN: usize = N;
    #[inline]
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
    #[inline]
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// Saves bytes `start..end` of a `buffer` field (bounds checked at compile
/// time; an error rather than a panic if they were not).
pub fn save_buffer<W: Sink>(
    b: &mut [u8],
    start: usize,
    end: usize,
    w: &mut Writer<W>,
) -> Result<()> {
    match b.get(start..end) {
        Some(part) => w.put_bytes(part),
        None => Err(bad_range(w.offset())),
    }
}

/// Loads bytes `start..end` of a `buffer` field.
pub fn load_buffer<S: Source>(
    b: &mut [u8],
    start: usize,
    end: usize,
    r: &mut Reader<S>,
) -> Result<()> {
    match b.get_mut(start..end) {
        Some(part) => r.get_bytes(part),
        None => Err(bad_range(r.offset())),
    }
}

#[cold]
fn bad_range(offset: u64) -> Error {
    Error::new(
        ErrorKind::Invalid {
            message: "internal: buffer range beyond the array",
        },
        offset,
    )
}

/// A `BTreeMap` holding a GTree: the description table's value
/// description, and the save and load of the whole tree.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold a GTree",
    label = "a `gtree` field is a `BTreeMap<K, V>` with K `u64` or a #[derive(VmState)] struct, and V a #[derive(VmState)] struct",
    note = "a struct key also needs `Ord`, `Clone` and `Default`; a value needs `Default`"
)]
pub trait GtreeMap {
    /// The value description.
    const VALUE_VMSD: &'static Vmsd;
    /// [`save_gtree`].
    fn save_map<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()>;
    /// [`load_gtree`].
    fn load_map<S: Source>(&mut self, r: &mut Reader<S>, version: u32, ctx: &Context)
        -> Result<()>;
    /// The CPR-only fields of keys and values.
    const CPR_FIELDS: CprFields;
}
impl<K: GtreeKey + Clone, V: VmState + Default> GtreeMap for std::collections::BTreeMap<K, V> {
    const VALUE_VMSD: &'static Vmsd = V::VMSD;
    #[inline]
    fn save_map<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        save_gtree(self, w, ctx)
    }
    #[inline]
    fn load_map<S: Source>(
        &mut self,
        r: &mut Reader<S>,
        version: u32,
        ctx: &Context,
    ) -> Result<()> {
        load_gtree(self, r, version, ctx)
    }
    const CPR_FIELDS: CprFields = K::CPR_FIELDS.union(V::CPR_FIELDS);
}

/// A queue collection, for the description table.
pub trait QueueDesc {
    /// The element description.
    const ELEM_VMSD: &'static Vmsd;
    /// The CPR-only fields of the elements.
    const CPR_FIELDS: CprFields;
}
impl<Q: crate::types::Queue> QueueDesc for Q {
    const ELEM_VMSD: &'static Vmsd = <Q::Elem as VmState>::VMSD;
    const CPR_FIELDS: CprFields = <Q::Elem as VmState>::CPR_FIELDS;
}

/// The elements of a `[T; N]` or `Vec<T>` holding a variable array.
pub trait VarArray {
    /// The element type.
    type Elem: VmField;

    /// [`VmField::size_hint`] of every element held (for an array, more
    /// than its count may send).
    fn size_hint(&self) -> usize;
}
impl<T: VmField, const N: usize> VarArray for [T; N] {
    type Elem = T;

    #[inline]
    fn size_hint(&self) -> usize {
        crate::field::slice_size_hint(self)
    }
}
impl<T: VmField> VarArray for Vec<T> {
    type Elem = T;

    #[inline]
    fn size_hint(&self) -> usize {
        crate::field::slice_size_hint(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_offsets_are_prefix_sums_ending_with_the_size() {
        const O: [usize; 4] = run_offsets(&[1, 4, 2]);
        assert_eq!(O, [0, 1, 5, 7]);
        assert_eq!(run_offsets::<1>(&[]), [0]);
    }

    #[test]
    fn piece_layout_splits_a_run_at_values_not_of_fixed_size() {
        // fixed, fixed, variable, fixed, variable, fixed, fixed
        let fixed = [true, true, false, true, false, true, true];
        let sizes = [2, 4, 0, 8, 0, 1, 3];
        let at = piece_layout(&fixed, &sizes);
        let got: Vec<_> = at.iter().map(|a| (a.start, a.end, a.off, a.len)).collect();
        assert_eq!(
            got,
            [
                (true, false, 0, 6),
                (false, true, 2, 6),
                (false, false, 0, 0),
                (true, true, 0, 8),
                (false, false, 0, 0),
                (true, false, 0, 4),
                (false, true, 1, 4),
            ]
        );
    }
}
