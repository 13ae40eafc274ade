//! The fast path for runs of fixed-size fields, used by generated code.
//!
//! The derive groups consecutive fields whose wire size does not depend
//! on their values (integers, bools, `f64`, arrays of them, nested
//! structs made only of such fields) into runs. A run loads with one
//! length check on bytes already in memory and straight-line decodes at
//! constant offsets, and saves by growing a `Vec` once and encoding in
//! place. Whenever the fast path cannot stand for the ordinary code (the
//! bytes are not all in memory, [`Context::strict_bool`] is on, a
//! subsection marker follows a nested struct, an io sink), nothing is
//! consumed or written and the ordinary per-field code runs, with its
//! exact errors.
//!
//! [`Context::strict_bool`]: crate::Context::strict_bool

use crate::stream::{Reader, Sink, Source, Writer};

/// QEMU_VM_SUBSECTION.
pub(crate) const SUBSECTION: u8 = 0x05;

/// Runs longer than this save field by field: growing a `Vec` by much
/// more at once loses to the bulk kernels' stepwise growth.
pub const SAVE_RUN_MAX: usize = 4096;

/// Runs up to this long save through a stack buffer and one append;
/// longer ones into the grown `Vec` directly.
pub const STACK_RUN_MAX: usize = 64;

/// The `N` bytes of a run at the reader, not consumed, when they are in
/// memory; with `tail` (the run ends with a nested struct, whose load
/// ends with a subsection peek) also only when what follows lets that
/// peek pass ([`tail_clear`], with `claims` the struct's
/// [`VmField::tail_claims`](crate::VmField::tail_claims)).
#[inline(always)]
pub fn run_bytes<S: Source, const N: usize>(
    r: &Reader<S>,
    tail: bool,
    claims: impl Fn(&[u8]) -> bool,
) -> Option<&[u8; N]> {
    let (mem, all) = r.in_memory();
    let run = mem.first_chunk::<N>()?;
    if tail && !tail_clear(mem.get(N..).unwrap_or_default(), all, claims) {
        return None;
    }
    Some(run)
}

/// For a run that holds a value whose size is not static (a nested struct
/// with subsections or hooks), loaded field by field: the bytes of the
/// fixed-size field at `at` when it decodes from memory, else `None`, and
/// the ordinary code loads it. `ok` carries, from field to field of one
/// stretch of fixed-size fields, whether the stretch's bytes are in
/// memory (tested at its first field); `refuse` is a bool under
/// `strict_bool`; with `tail` the field ends with a subsection peek,
/// which the bytes after it must let pass ([`tail_clear`]).
#[inline(always)]
pub fn piece_bytes<'r, S: Source>(
    r: &'r Reader<S>,
    ok: &mut bool,
    at: &crate::__private::PieceAt,
    size: usize,
    refuse: bool,
    tail: bool,
    claims: impl Fn(&[u8]) -> bool,
) -> Option<&'r [u8]> {
    let (mem, all) = r.in_memory();
    if at.start {
        *ok = mem.len() >= at.len;
    }
    if !*ok || refuse {
        return None;
    }
    let end = at.off.checked_add(size)?;
    let b = mem.get(at.off..end)?;
    if tail && !tail_clear(mem.get(end..).unwrap_or_default(), all, claims) {
        return None;
    }
    Some(b)
}

/// After [`piece_bytes`] refused the field at `at`, before its ordinary
/// load: the reader moves to it past the fields of its stretch decoded
/// from memory, and the rest of the stretch loads as usual.
#[inline(always)]
pub fn piece_catch_up<S: Source>(r: &mut Reader<S>, ok: &mut bool, at: &crate::__private::PieceAt) {
    if *ok {
        r.advance(at.off);
        *ok = false;
    }
}

/// After the field at `at`: at the end of a stretch decoded from memory,
/// the reader moves past it.
#[inline(always)]
pub fn piece_end<S: Source>(r: &mut Reader<S>, ok: &mut bool, at: &crate::__private::PieceAt) {
    if at.end && *ok {
        r.advance(at.len);
        *ok = false;
    }
}

/// The subsection names a field that claims none claims.
#[inline(always)]
pub fn no_claims(_: &[u8]) -> bool {
    false
}

/// The save of a run of `N` bytes, which `fill` encodes, into memory:
/// whether it was written (else the ordinary code runs). Into a `Vec`,
/// a short run is encoded on the stack (the zero fill folds away: every
/// byte is written) and appended with one length check, a longer one
/// straight into the grown `Vec` (a copy would cost more than the zero
/// fill of `grow`) unless `alone` (nested values that save better one by
/// one); into a caller's buffer, whose `grow` is a bounds check, always
/// straight.
#[inline(always)]
pub fn save_run<W: Sink, const N: usize>(
    w: &mut Writer<W>,
    alone: bool,
    fill: impl FnOnce(&mut [u8; N]),
) -> bool {
    if N > SAVE_RUN_MAX {
        false
    } else if N <= STACK_RUN_MAX && !W::GROW_IN_PLACE {
        let mut a = [0u8; N];
        fill(&mut a);
        w.put_in_memory(&a)
    } else if !W::GROW_IN_PLACE && alone {
        false
    } else {
        match grow_run::<W, N>(w) {
            Some(b) => {
                fill(b);
                true
            }
            None => false,
        }
    }
}

/// A copy of the `K` bytes of a run at `at`, which the run's layout puts
/// in bounds.
#[inline(always)]
pub fn byte_group<const K: usize>(run: &[u8], at: usize) -> Option<[u8; K]> {
    run.get(at..)?.first_chunk::<K>().copied()
}

/// Stores the `K` bytes of a run at `at` (in bounds by the run's layout;
/// out of bounds, nothing).
#[inline(always)]
pub fn put_byte_group<const K: usize>(run: &mut [u8], at: usize, group: [u8; K]) {
    if let Some(dst) = run.get_mut(at..).and_then(|r| r.first_chunk_mut::<K>()) {
        *dst = group;
    }
}

/// [`run_bytes`] for a length known at run time.
#[inline(always)]
pub(crate) fn run_slice<S: Source>(
    r: &Reader<S>,
    n: usize,
    tail: bool,
    claims: impl Fn(&[u8]) -> bool,
) -> Option<&[u8]> {
    let (mem, all) = r.in_memory();
    let run = mem.get(..n)?;
    if tail && !tail_clear(mem.get(n..).unwrap_or_default(), all, claims) {
        return None;
    }
    Some(run)
}

/// Saves `items`, fixed-size structs (integers have their own bulk path),
/// with one grow of the target instead of one per element. `false`, with
/// nothing written, when they save element by element: other types, runs
/// over [`SAVE_RUN_MAX`], a target that is not memory.
#[inline(always)]
pub(crate) fn save_structs<T: crate::VmField, W: Sink>(items: &[T], w: &mut Writer<W>) -> bool {
    if !(T::FIXED && T::TAIL_PEEK) {
        return false;
    }
    let size = items.len().saturating_mul(T::FIXED_SIZE);
    if size > SAVE_RUN_MAX {
        return false;
    }
    match w.grow(size) {
        Some(b) => {
            T::encode_fixed_slice(items, b);
            true
        }
        None => false,
    }
}

/// Loads `items`, fixed-size structs, from one run of bytes in memory
/// when the fast path can stand for their element-by-element loads (every
/// element's subsection peek sees a byte it passes: checked by
/// [`VmField::decode_fixed_slice`] between elements and by [`tail_clear`]
/// after the last). `false`, with nothing consumed, when the ordinary
/// load must run; `items` may then be partly written.
///
/// [`VmField::decode_fixed_slice`]: crate::VmField::decode_fixed_slice
#[inline(always)]
pub(crate) fn load_structs<T: crate::VmField, S: Source>(
    items: &mut [T],
    r: &mut Reader<S>,
    ctx: &crate::Context,
) -> bool {
    load_structs_by::<T, S, false>(items, r, ctx)
}

/// [`load_structs`], or with `PAST_MARKERS` its retry
/// ([`load_structs_past_markers`]). A constant rather than the decode as
/// a closure: that took `i8254`'s load from 92 to 103 instructions.
#[inline(always)]
fn load_structs_by<T: crate::VmField, S: Source, const PAST_MARKERS: bool>(
    items: &mut [T],
    r: &mut Reader<S>,
    ctx: &crate::Context,
) -> bool {
    if !(T::FIXED && T::TAIL_PEEK) || (T::HAS_BOOL && ctx.strict_bool) {
        return false;
    }
    let Some(n) = items.len().checked_mul(T::FIXED_SIZE) else {
        return false;
    };
    let decode = |items: &mut [T], b: &[u8]| {
        if PAST_MARKERS {
            decode_past_markers(items, b)
        } else {
            T::decode_fixed_slice(items, b)
        }
    };
    match run_slice(r, n, !items.is_empty(), T::tail_claims) {
        Some(b) if decode(items, b) => {
            r.advance(n);
            true
        }
        _ => false,
    }
}

/// Whether the bytes `after` a run that ends with nested structs (`all`:
/// they are the whole rest of the input) let the structs' subsection peeks
/// pass as the ordinary code would: anything but a subsection marker; the
/// end of the input; or a subsection header none of them `claims` (the
/// enclosing level's next subsection, as after the last field of a struct
/// with subsections). Not known yet (the header runs past the bytes in
/// memory of an io reader): `false`, and the ordinary code decides.
#[inline(always)]
pub fn tail_clear(after: &[u8], all: bool, claims: impl Fn(&[u8]) -> bool) -> bool {
    match after {
        [] => all,
        [SUBSECTION, rest @ ..] => match rest.split_first() {
            // A header cut by the end of the input is nobody's.
            None => all,
            Some((&len, rest)) => match rest.get(..usize::from(len)) {
                Some(name) => !claims(name),
                None => all,
            },
        },
        _ => true,
    }
}

/// [`load_structs`] again, for when it refused `items`, before the
/// element-by-element load: see [`decode_past_markers`]. Called from the
/// out-of-line fallbacks only, so the fast path's code is as it was.
#[inline]
pub(crate) fn load_structs_past_markers<T: crate::VmField, S: Source>(
    items: &mut [T],
    r: &mut Reader<S>,
    ctx: &crate::Context,
) -> bool {
    load_structs_by::<T, S, true>(items, r, ctx)
}

/// [`VmField::decode_fixed_slice`] again, for when it refused `b`: a
/// subsection marker where an element starts (a data byte that happens to
/// be 0x05, or a header) sends it to the ordinary code for the whole
/// array. Here each such header is tested as the previous element's peek
/// would: a name the struct does not claim is the next element's data, as
/// the ordinary code reads it; anything else (a claimed name, a header cut
/// by the end of `b`, an element that refuses its bytes) is `false`, for
/// the ordinary code. Apart from `decode_fixed_slice`'s loop, which it
/// would slow (`cpu`'s XMM registers: 110 instructions), and from
/// [`load_structs`] (`dma`, `i8254`: 6 instructions each).
///
/// [`VmField::decode_fixed_slice`]: crate::VmField::decode_fixed_slice
#[inline(never)]
fn decode_past_markers<T: crate::VmField>(items: &mut [T], b: &[u8]) -> bool {
    let size = T::FIXED_SIZE;
    if !T::TAIL_PEEK || size == 0 || b.len() != items.len().saturating_mul(size) {
        return false;
    }
    // The boundaries first (a vector compare per 64 bytes, or a byte
    // compare each); then the decode, with no branch per element.
    let clear = |at: usize| boundary_clear::<T>(b, at);
    let bounds = match crate::markers::each_boundary_marker(b, size, clear) {
        Some(ok) => ok,
        None => b
            .chunks_exact(size)
            .enumerate()
            .skip(1)
            .all(|(j, chunk)| chunk.first() != Some(&SUBSECTION) || clear(j * size)),
    };
    if !bounds {
        return false;
    }
    if let Some(ok) = crate::markers::decode_checked(items, b) {
        return ok;
    }
    let mut ok = true;
    for (item, chunk) in items.iter_mut().zip(b.chunks_exact(size)) {
        ok &= item.decode_fixed(chunk);
    }
    ok
}

/// Whether the header at `b[at..]`, where an element starts, is one the
/// previous element's peek passes ([`decode_past_markers`]).
#[cold]
#[inline(never)]
fn boundary_clear<T: crate::VmField>(b: &[u8], at: usize) -> bool {
    tail_clear(b.get(at..).unwrap_or_default(), false, T::tail_claims)
}

/// Whether a subsection `name` belongs to the struct called `own`: QEMU's
/// prefix rule, a longer name that starts with it.
#[inline(always)]
pub fn name_claims(own: &str, name: &[u8]) -> bool {
    name.len() > own.len() && name.starts_with(own.as_bytes())
}

/// `N` more bytes of a memory sink to encode a run into (every byte), as an
/// array: its length is then known to the code that fills it, and the
/// constant-offset writes need no checks. `None` for an io sink.
#[inline(always)]
pub fn grow_run<W: Sink, const N: usize>(w: &mut Writer<W>) -> Option<&mut [u8; N]> {
    w.grow(N)?.first_chunk_mut::<N>()
}

/// Writes a subsection header (`05`, name length, name, be32 version)
/// at the start of `b`, which the caller sized for it.
#[inline(always)]
pub fn put_subsection_header(b: &mut [u8], name: &str, version: u32) {
    let n = name.len();
    if let Some(h) = b.get_mut(..6 + n) {
        h[0] = SUBSECTION;
        // The derive refuses names longer than 255 bytes.
        h[1] = n as u8;
        h[2..2 + n].copy_from_slice(name.as_bytes());
        h[2 + n..].copy_from_slice(&version.to_be_bytes());
    }
}

/// Copies `src` into `dst` (a `buffer` field's bytes, either way) when
/// their lengths agree, as the run's layout makes them.
#[inline(always)]
pub fn copy_run_bytes(dst: &mut [u8], src: &[u8]) -> bool {
    if dst.len() != src.len() {
        return false;
    }
    dst.copy_from_slice(src);
    true
}

/// Whether byte `at` of a run, which a nested struct's subsection peek
/// sees, is not a subsection marker.
#[inline(always)]
pub fn no_marker_at(b: &[u8], at: usize) -> bool {
    b.get(at) != Some(&SUBSECTION)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::Reader;

    #[test]
    fn run_bytes_needs_the_bytes_and_a_known_next_byte() {
        let none = |_: &[u8]| false;
        let data = [1u8, 2, 3, SUBSECTION];
        let r = Reader::from_slice(&data);
        assert_eq!(run_bytes::<_, 3>(&r, false, none), Some(&[1, 2, 3]));
        assert_eq!(
            run_bytes::<_, 4>(&r, true, none),
            Some(&data),
            "end of input"
        );
        assert_eq!(run_bytes::<_, 5>(&r, false, none), None, "short");
        // An io reader does not know what follows its buffer.
        let mut io = Reader::new(&data[..3]);
        assert_eq!(
            run_bytes::<_, 3>(&io, false, none),
            None,
            "nothing buffered yet"
        );
        io.peek(3).unwrap();
        assert_eq!(run_bytes::<_, 3>(&io, false, none), Some(&[1, 2, 3]));
        assert_eq!(run_bytes::<_, 3>(&io, true, none), None);
        io.advance(2);
        assert_eq!(io.offset(), 2);
        assert!(no_marker_at(&data, 2) && !no_marker_at(&data, 3) && no_marker_at(&data, 4));
    }

    #[test]
    fn a_subsection_after_a_run_is_looked_at_by_name() {
        let claims = |n: &[u8]| name_claims("seg", n);
        let run = |after: &[u8]| {
            let mut data = vec![7u8; 3];
            data.extend_from_slice(after);
            run_bytes::<_, 3>(&Reader::from_slice(&data), true, claims).is_some()
        };
        // The enclosing level's subsection: the peek passes it by.
        assert!(run(b"\x05\x07cpu/abc\0\0\0\x01"));
        // One whose name starts with the struct's: it would fail the load.
        assert!(!run(b"\x05\x05seg/x\0\0\0\x01"));
        // The struct's name alone is not longer than it: not its own.
        assert!(run(b"\x05\x03seg"));
        // A header cut by the end of the input belongs to nobody.
        assert!(run(b"\x05"));
        assert!(run(b"\x05\x05seg/"));
        // In an io reader's buffer, a cut header is not known yet.
        assert!(!tail_clear(b"\x05\x05seg/", false, claims));
        assert!(!tail_clear(b"", false, claims));
        assert!(tail_clear(b"\x00", false, claims));
    }

    /// A nested struct as the derive makes it, reduced to what the fast
    /// path asks: 4 bytes, a subsection peek after it, names under `"p"`.
    #[derive(Clone, Copy, Default, Debug, PartialEq)]
    struct Peeked(u32);

    impl crate::VmField for Peeked {
        const INFO: &'static str = "struct";
        const ELEM_SIZE: usize = 4;
        const FIXED: bool = true;
        const FIXED_SIZE: usize = 4;
        const TAIL_PEEK: bool = true;

        fn save<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &crate::Context) -> crate::Result<()> {
            self.0.save(w, ctx)
        }

        fn load<S: Source>(
            &mut self,
            r: &mut Reader<S>,
            ctx: &crate::Context,
        ) -> crate::Result<()> {
            self.0.load(r, ctx)
        }

        fn tail_claims(name: &[u8]) -> bool {
            name_claims("p", name)
        }

        fn decode_fixed(&mut self, b: &[u8]) -> bool {
            match b.first_chunk() {
                Some(a) => {
                    self.0 = u32::from_be_bytes(*a);
                    true
                }
                None => false,
            }
        }
    }

    /// A marker byte where an element starts keeps the fast path when the
    /// header there is not the struct's (it is the next element's data),
    /// at any array length (the scanned one too); a header the struct
    /// claims, or one cut by the end of the array, goes to the ordinary
    /// code with nothing consumed.
    #[test]
    fn markers_between_elements_that_the_struct_does_not_claim_stay_fast() {
        let ctx = crate::Context::new();
        for n in [2usize, 3, 70] {
            for at in 1..n - 1 {
                for (name, fast) in [(&b"q/"[..], true), (b"p/", false)] {
                    let mut b: Vec<u8> = (0..n as u32 * 4).map(|i| 0x10 + i as u8 % 0x70).collect();
                    b[at * 4] = SUBSECTION;
                    b[at * 4 + 1] = 2;
                    b[at * 4 + 2..at * 4 + 4].copy_from_slice(name);
                    b.push(0);
                    let mut items = vec![Peeked::default(); n];
                    let mut r = Reader::from_slice(&b);
                    // The fast path proper leaves any marker to its fallback.
                    assert!(!load_structs(&mut items, &mut r, &ctx));
                    let again = load_structs_past_markers(&mut items, &mut r, &ctx);
                    assert_eq!(again, fast, "{n} {at}");
                    if fast {
                        assert_eq!(r.offset(), n as u64 * 4);
                        for (i, p) in items.iter().enumerate() {
                            let want = u32::from_be_bytes(b[i * 4..i * 4 + 4].try_into().unwrap());
                            assert_eq!(p.0, want, "{n} {at} {i}");
                        }
                    } else {
                        assert_eq!(r.offset(), 0);
                    }
                }
            }
            // The name runs past the array's end: not known here.
            let mut b = vec![0x10u8; n * 4];
            b[(n - 1) * 4] = SUBSECTION;
            b[(n - 1) * 4 + 1] = 9;
            b.extend(b"abcdefgh");
            let mut items = vec![Peeked::default(); n];
            let mut r = Reader::from_slice(&b);
            assert!(!load_structs_past_markers(&mut items, &mut r, &ctx));
        }
    }
}
