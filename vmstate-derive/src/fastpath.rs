//! Runs of fixed-size fields: consecutive fields under the same version
//! gate whose wire size does not depend on their values load with one
//! length check and straight-line decodes at constant offsets, and save
//! by growing the `Vec` once (`vmstate_core`'s `fixed` module). Whether a
//! field's type qualifies is known only to the compiler (`VmField::FIXED`,
//! which a nested derived struct computes from its own fields), so each
//! run keeps the ordinary per-field statements as its fallback, and a
//! constant selects between them.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Type;

use crate::ast::{Container, Field};
use crate::fields;
use crate::roles::Subsection;
use crate::types;

/// A field as the body sees it: alone, or the `k`-th field of a run.
pub enum Segment<'c, 'a> {
    /// Ordinary code.
    Single(&'c Field<'a>),
    /// A run of fields under one version gate.
    Run(Run<'c, 'a>),
    /// Runs under different version gates with nothing between them:
    /// `whole` (all their fields as one run) when the version passes the
    /// highest gate, `version` (a save at the current version, a load of
    /// a stream at it), else the runs one by one.
    Merged {
        whole: Run<'c, 'a>,
        version: u32,
        parts: Vec<Run<'c, 'a>>,
    },
}

/// Fields of fixed wire size, their code under consts `__RUN{index}_*`.
pub struct Run<'c, 'a> {
    pub index: usize,
    pub fields: Vec<&'c Field<'a>>,
    pub pieces: Vec<Piece>,
}

/// The fields of a struct in wire order, runs grouped. A run is a maximal
/// sequence of eligible fields with the same version gate (skipped fields
/// do not break it); consecutive runs make a `Merged`.
pub fn segments<'c, 'a>(p: &TokenStream, cont: &'c Container<'a>) -> Vec<Segment<'c, 'a>> {
    let mut out = Vec::new();
    let mut run: Vec<(&Field, Piece)> = Vec::new();
    let mut group: Vec<Run> = Vec::new();
    // Run indexes, in the order the runs are made.
    let mut next = 0;
    let take = |next: &mut usize| {
        *next += 1;
        *next - 1
    };
    let flush =
        |run: &mut Vec<(&'c Field<'a>, Piece)>, group: &mut Vec<Run<'c, 'a>>, next: &mut usize| {
            if !run.is_empty() {
                let (fields, pieces) = std::mem::take(run).into_iter().unzip();
                group.push(Run {
                    index: take(next),
                    fields,
                    pieces,
                });
            }
        };
    let close = |group: &mut Vec<Run<'c, 'a>>, out: &mut Vec<Segment<'c, 'a>>, next: &mut usize| {
        let parts = std::mem::take(group);
        match parts.len() {
            0 => {}
            1 => out.extend(parts.into_iter().map(Segment::Run)),
            _ => out.push(Segment::Merged {
                whole: Run {
                    index: take(next),
                    fields: parts
                        .iter()
                        .flat_map(|r| r.fields.iter().copied())
                        .collect(),
                    pieces: parts
                        .iter()
                        .flat_map(|r| r.pieces.iter().cloned())
                        .collect(),
                },
                version: parts
                    .iter()
                    .map(|r| r.fields[0].version())
                    .max()
                    .unwrap_or(0),
                parts,
            }),
        }
    };
    for f in &cont.fields {
        let role = f.role.get();
        if !role.on_wire() {
            continue;
        }
        // An `exists` predicate may look at fields of its own run.
        match role.piece(p, f).filter(|_| !f.attrs.exists.is_set()) {
            Some(piece) => {
                if run.first().is_some_and(|(r, _)| r.version() != f.version()) {
                    flush(&mut run, &mut group, &mut next);
                }
                run.push((f, piece));
            }
            None => {
                flush(&mut run, &mut group, &mut next);
                close(&mut group, &mut out, &mut next);
                out.push(Segment::Single(f));
            }
        }
    }
    flush(&mut run, &mut group, &mut next);
    close(&mut group, &mut out, &mut next);
    out
}

/// Whether `ty` names `Self`, which the consts outside the impl cannot.
pub fn mentions_self(ty: &Type) -> bool {
    fn any_self(ts: TokenStream) -> bool {
        ts.into_iter().any(|t| match t {
            TokenTree::Ident(i) => i == "Self",
            TokenTree::Group(g) => any_self(g.stream()),
            _ => false,
        })
    }
    any_self(quote!(#ty))
}

/// Whether the fast code is worth emitting: a lone integer or bool
/// already takes one length check.
fn worth_it(fields: &[&Field]) -> bool {
    fields.len() > 1 || !is_scalar(fields[0].ty)
}

/// What a field of a run is, for its size and its code.
#[derive(Clone)]
pub enum Piece {
    /// A `VmField` value.
    Value(Box<Type>),
    /// `unused = N`: zeros on save, skipped on load.
    Unused(u64),
    /// `buffer`: bytes `start..end` of a `[u8; N]`.
    Buffer(TokenStream, TokenStream),
}

impl Piece {
    /// Of fixed size whatever its type's `VmField` says: an integer, a
    /// bool, `f64`, an array of them, `unused`, a `buffer`.
    fn surely_fixed(&self) -> bool {
        self.may_claim().is_none()
    }

    fn size(&self, p: &TokenStream) -> TokenStream {
        match self {
            Piece::Value(ty) => field_item(p, ty, quote!(FIXED_SIZE)),
            Piece::Unused(n) => quote!((#n as usize)),
            // Out-of-range bounds are a compile-time error elsewhere.
            Piece::Buffer(start, end) => quote!((#end).saturating_sub(#start)),
        }
    }

    /// The `bool` const `item` of `VmField` (`FIXED`, `TAIL_PEEK`,
    /// `HAS_BOOL`) for this piece: `otherwise` for one that is not a value,
    /// a literal for a plain one (less for the compiler than the trait's
    /// const, once per field and use).
    fn is(&self, p: &TokenStream, item: TokenStream, otherwise: bool) -> TokenStream {
        match self {
            Piece::Value(ty) if plain(ty) => {
                let v = match item.to_string().as_str() {
                    "FIXED" => true,
                    "TAIL_PEEK" => false,
                    "HAS_BOOL" => innermost(ty).is_some_and(|n| n == "bool"),
                    _ => return field_item(p, ty, item),
                };
                quote!(#v)
            }
            Piece::Value(ty) => field_item(p, ty, item),
            _ => quote!(#otherwise),
        }
    }

    /// Whether the piece may claim a subsection name after it (a nested
    /// struct's `VmField::tail_claims`): never a plain value.
    fn may_claim(&self) -> Option<&Type> {
        match self {
            Piece::Value(ty) if !plain(ty) => Some(ty),
            _ => None,
        }
    }

    fn decode(&self, p: &TokenStream, m: &syn::Ident, part: TokenStream) -> TokenStream {
        match self {
            Piece::Value(ty) => {
                let f = field_item(p, ty, quote!(decode_fixed));
                quote!(#f(&mut self.#m, #part))
            }
            Piece::Unused(_) => quote!(true),
            Piece::Buffer(start, end) => quote! {
                #p::copy_run_bytes(
                    #p::ByteArray::bytes_mut(&mut self.#m).get_mut(#start..#end).unwrap_or_default(),
                    #part,
                )
            },
        }
    }

    fn encode(&self, p: &TokenStream, m: &syn::Ident, part: TokenStream) -> TokenStream {
        match self {
            Piece::Value(ty) => {
                let f = field_item(p, ty, quote!(encode_fixed));
                quote!(#f(&self.#m, #part);)
            }
            // Grown bytes are not always zeros (a caller's buffer).
            Piece::Unused(_) => quote!(#part.fill(0);),
            Piece::Buffer(start, end) => quote! {
                #p::copy_run_bytes(
                    #part,
                    #p::ByteArray::bytes(&self.#m).get(#start..#end).unwrap_or_default(),
                );
            },
        }
    }
}

/// `<ty as VmField>::item`, spanned on the type as the field's own
/// statements are: a type that is no field gets one error, not one more
/// per generated body that names it.
fn field_item(p: &TokenStream, ty: &Type, item: TokenStream) -> TokenStream {
    quote_spanned!(ty.span()=> <#ty as #p::VmField>::#item)
}

/// A scalar or an array of them (of arrays ...).
fn plain(ty: &Type) -> bool {
    match types::strip(ty) {
        Type::Array(a) => plain(&a.elem),
        ty => is_scalar(ty),
    }
}

/// The primitive name of an array's element type (of arrays ...), or of
/// the type itself.
fn innermost(ty: &Type) -> Option<String> {
    match types::strip(ty) {
        Type::Array(a) => innermost(&a.elem),
        ty => types::primitive_name(ty),
    }
}

fn is_scalar(ty: &Type) -> bool {
    types::primitive_name(ty).is_some_and(|n| {
        [
            "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "bool", "f64",
        ]
        .contains(&n.as_str())
    })
}

/// A one-byte integer: the fields whose decodes [`decode`] groups. Not
/// `bool`: each is a compare, nothing merges, and the copy costs.
fn is_byte(piece: &Piece) -> bool {
    match piece {
        Piece::Value(ty) => {
            types::primitive_name(ty).is_some_and(|n| ["u8", "i8"].contains(&n.as_str()))
        }
        _ => false,
    }
}

fn run_ident(index: usize, what: &str) -> syn::Ident {
    format_ident!("__RUN{}_{}", index, what, span = Span::mixed_site())
}

/// The offset of field `i` of run `index` (`__RUN{index}_O[i]`; the last
/// is the run's size), in a const context.
fn offset(index: usize, i: usize) -> TokenStream {
    let o = run_ident(index, "O");
    quote!(#o[#i])
}

/// `let __o = &__RUN{index}_O;`: where code that runs indexes the offsets
/// it does so through `__o`, a reference to the promoted constant (each
/// `__RUN{index}_O[i]` in such code is a copy of the whole array in an
/// unoptimized build, and a large run's copies overflowed the stack).
fn offsets_ref(index: usize) -> TokenStream {
    let o = run_ident(index, "O");
    quote!(let __o = &#o;)
}

/// The helper method of run `index` that does `what` (`decode`, `encode`,
/// `claims`): its code is emitted once, called from every place that
/// needs it, always inlined.
fn helper(index: usize, what: &str) -> syn::Ident {
    format_ident!("__vmstate_{}{}", what, index, span = Span::mixed_site())
}

/// Every run of `segs`, merged runs' parts and whole, with whether it
/// loads piece by piece ([`load_run`]: not a whole, whose parts do).
fn all_runs<'s, 'c, 'a>(segs: &'s [Segment<'c, 'a>]) -> Vec<(&'s Run<'c, 'a>, bool)> {
    segs.iter()
        .flat_map(|seg| match seg {
            Segment::Single(_) => Vec::new(),
            Segment::Run(r) => vec![(r, by_piece(r))],
            Segment::Merged { whole, parts, .. } => parts
                .iter()
                .map(|r| (r, by_piece(r)))
                .chain([(whole, false)])
                .collect(),
        })
        .collect()
}

/// Whether [`load_run`] falls back to [`piece_by_piece`]: a run worth the
/// fast code that may hold a value of variable size (a type not known
/// here to be of fixed size: a nested struct, which only the compiler
/// knows).
fn by_piece(run: &Run) -> bool {
    worth_it(&run.fields) && !run.pieces.iter().all(Piece::surely_fixed)
}

/// The consts of every run: sizes and offsets (`O`, one array: a const
/// item per field was the bulk of the compile time of a large struct),
/// size `N`, whether every type is fixed (`OK`), whether it ends with a
/// nested struct (`TAIL`), whether it holds a bool (`BOOL`), and for a
/// run loaded piece by piece where each field sits in its stretch (`P`).
pub fn consts(p: &TokenStream, segs: &[Segment]) -> TokenStream {
    let mut out = Vec::new();
    for (Run { index, pieces, .. }, by_piece) in all_runs(segs) {
        let index = *index;
        let sizes_id = run_ident(index, "SIZES");
        let o = run_ident(index, "O");
        let sizes = pieces.iter().map(|x| x.size(p));
        let k = pieces.len();
        let k1 = k + 1;
        out.push(quote! {
            const #sizes_id: [usize; #k] = [#(#sizes),*];
            const #o: [usize; #k1] = #p::run_offsets(&#sizes_id);
        });
        let (n, ok, tail, bool_) = (
            run_ident(index, "N"),
            run_ident(index, "OK"),
            run_ident(index, "TAIL"),
            run_ident(index, "BOOL"),
        );
        let last = offset(index, pieces.len());
        let oks = pieces.iter().map(|x| x.is(p, quote!(FIXED), true));
        // Every value that ends where the run ends peeks at what follows.
        let tails = pieces.iter().enumerate().map(|(i, x)| {
            let end = offset(index, i + 1);
            let peeks = x.is(p, quote!(TAIL_PEEK), false);
            quote!((#end == #last && #peeks))
        });
        let tail_expr = quote!(false #(|| #tails)*);
        let bools = pieces.iter().map(|x| x.is(p, quote!(HAS_BOOL), false));
        if by_piece {
            let (fx_id, at_id) = (run_ident(index, "FX"), run_ident(index, "P"));
            let fxs = pieces.iter().map(|x| x.is(p, quote!(FIXED), true));
            out.push(quote! {
                const #fx_id: [bool; #k] = [#(#fxs),*];
                const #at_id: [#p::PieceAt; #k] = #p::piece_layout(&#fx_id, &#sizes_id);
            });
        }
        out.push(quote! {
            const #n: usize = #last;
            const #ok: bool = true #(&& #oks)*;
            const #tail: bool = #tail_expr;
            const #bool_: bool = false #(|| #bools)*;
        });
    }
    quote! {
        #(
            #[allow(dead_code, non_upper_case_globals)]
            #out
        )*
    }
}

/// The helper methods of every run (an inherent impl of `ident`): its
/// decode from `&[u8; N]`, its encode into `&mut [u8; N]` (`groups`: see
/// [`encode`]) and whether a value that ends it claims a subsection name.
/// Each is emitted once and called from the run's fast load and save and
/// from the struct's `VmField` and `VmState` items, always inlined: the
/// code a caller gets is as if written there.
pub fn helpers(p: &TokenStream, ident: &syn::Ident, segs: &[Segment], groups: bool) -> TokenStream {
    let fns = all_runs(segs).into_iter().map(|(run, _)| {
        let index = run.index;
        let n = run_ident(index, "N");
        let (dec, enc, cl) = (
            helper(index, "decode"),
            helper(index, "encode"),
            helper(index, "claims"),
        );
        let decode = decode(p, index, &run.fields, &run.pieces);
        let encode = encode(p, index, &run.fields, &run.pieces, groups);
        let claims = claims(p, index, &run.pieces);
        quote! {
            #[inline(always)]
            fn #dec(&mut self, __b: &[u8; #n]) -> bool {
                let __b: &[u8] = __b;
                #decode
            }

            #[inline(always)]
            fn #enc(&self, __b: &mut [u8; #n]) {
                let __b: &mut [u8] = __b;
                #encode
            }

            #[inline(always)]
            fn #cl(__name: &[u8]) -> bool {
                #claims
            }
        }
    });
    quote! {
        #[allow(dead_code, non_snake_case, clippy::all)]
        #[automatically_derived]
        impl #ident {
            #(#fns)*
        }
    }
}

/// Whether one of the values that end run `index` claims a subsection
/// named `__name: &[u8]` right after it (`VmField::tail_claims`).
fn claims(p: &TokenStream, index: usize, pieces: &[Piece]) -> TokenStream {
    let last = pieces.len();
    let each = pieces.iter().enumerate().filter_map(|(i, x)| {
        let ty = x.may_claim()?;
        let end = i + 1;
        let f = field_item(p, ty, quote!(tail_claims));
        Some(quote!((__o[#end] == __o[#last] && #f(__name))))
    });
    let o = offsets_ref(index);
    quote!({ #o false #(|| #each)* })
}

/// The fields of a run with their pieces and their first and end offsets
/// (through `__o`: see [`offsets_ref`]).
fn parts<'r, 'c: 'r, 'a: 'c>(
    fields: &'r [&'c Field<'a>],
    pieces: &'r [Piece],
) -> impl Iterator<Item = (usize, &'c Field<'a>, &'r Piece, TokenStream, TokenStream)> + 'r {
    fields
        .iter()
        .zip(pieces)
        .enumerate()
        .map(move |(i, (f, piece))| (i, *f, piece, quote!(__o[#i]), quote!(__o[#i + 1])))
}

/// A run's parts: one field each, or (`Group`) two or more consecutive
/// one-byte integers, which [`decode`] and [`encode`] move as one array.
enum Step<'p, 'c, 'a> {
    One(&'p Part<'c, 'a>),
    Group(&'p [Part<'c, 'a>]),
}

type Part<'c, 'a> = (usize, &'c Field<'a>, &'c Piece, TokenStream, TokenStream);

fn steps<'p, 'c, 'a>(all: &'p [Part<'c, 'a>]) -> Vec<Step<'p, 'c, 'a>> {
    let mut steps = Vec::new();
    let mut rest = all;
    while let Some(first) = rest.first() {
        let bytes = rest.iter().take_while(|x| is_byte(x.2)).count();
        if bytes < 2 {
            steps.push(Step::One(first));
            rest = &rest[1..];
        } else {
            let (group, tail) = rest.split_at(bytes);
            steps.push(Step::Group(group));
            rest = tail;
        }
    }
    steps
}

/// Decodes run `index` from `__b: &[u8]` into `self`, as a `bool`
/// expression: false when the ordinary load must run.
///
/// Consecutive one-byte integers decode from a local copy of their bytes.
/// Inlined into a caller that holds the device by a plain reference, the
/// compiler cannot tell the stores into the device from the input's bytes,
/// so it keeps each byte's load and store in order: one store per byte,
/// which bounds the speed of a struct of `u8` registers. Loads from a
/// local that nothing else points to come first, and the stores merge.
fn decode(p: &TokenStream, index: usize, fields: &[&Field], pieces: &[Piece]) -> TokenStream {
    let last = fields.len() - 1;
    let all: Vec<_> = parts(fields, pieces).collect();
    let step = |(i, f, piece, a, b): &Part, group: Option<&TokenStream>| {
        let src = match group {
            Some(start) => quote!(__g.get(#a - #start..#b - #start).unwrap_or_default()),
            None => quote!(__b.get(#a..#b).unwrap_or_default()),
        };
        let decode = piece.decode(p, f.member, src);
        // The next field's first byte is what this one's peek sees.
        let peek = match piece {
            // A plain value never peeks.
            Piece::Value(ty) if *i < last && !plain(ty) => {
                let peeks = field_item(p, ty, quote!(TAIL_PEEK));
                Some(quote!(__ok &= !#peeks || #p::no_marker_at(__b, #b);))
            }
            _ => None,
        };
        quote!(__ok &= #decode; #peek)
    };
    let steps = steps(&all).into_iter().map(|s| match s {
        Step::One(x) => step(x, None),
        Step::Group(group) => {
            // One byte each.
            let (start, len) = (&group[0].3, group.len());
            let each = group.iter().map(|x| step(x, Some(start)));
            quote! {
                let __g = #p::byte_group::<#len>(__b, #start);
                __ok &= __g.is_some();
                let __g = __g.unwrap_or([0; #len]);
                #(#each)*
            }
        }
    });
    let o = offsets_ref(index);
    quote!({
        #o
        let mut __ok = true;
        #(#steps)*
        __ok
    })
}

/// Encodes run `index` into `__b: &mut [u8]`.
///
/// With `groups`, consecutive one-byte integers encode into a local
/// array, stored with one copy: written one by one into the run, each was
/// a byte load and a byte store (`pcspk`'s two registers), where a
/// hand-written save moves them as one word. Not after a `pre_save` hook
/// of the struct: it may have just written one of the bytes, and one wide
/// load over a narrow store waits for the store (`pckbd`'s pending byte:
/// 12 to 18 ns).
fn encode(
    p: &TokenStream,
    index: usize,
    fields: &[&Field],
    pieces: &[Piece],
    groups: bool,
) -> TokenStream {
    let all: Vec<_> = parts(fields, pieces).collect();
    let o = offsets_ref(index);
    let encode = encode_parts(p, &all, groups, None);
    quote!(#o #encode)
}

/// [`encode`] of some of a run's parts, into `__b` from the offset of
/// `base` on (from the run's start without it).
fn encode_parts(
    p: &TokenStream,
    all: &[Part],
    groups: bool,
    base: Option<&TokenStream>,
) -> TokenStream {
    let base = match base {
        Some(b) => quote!(#b),
        None => quote!(0usize),
    };
    let steps = if groups {
        steps(all)
    } else {
        all.iter().map(Step::One).collect()
    };
    let steps = steps.into_iter().map(|s| match s {
        Step::One((_, f, piece, a, b)) => piece.encode(
            p,
            f.member,
            quote!(__b.get_mut(#a - #base..#b - #base).unwrap_or_default()),
        ),
        Step::Group(group) => {
            // One byte each.
            let (start, len) = (&group[0].3, group.len());
            let each = group.iter().map(|(_, f, piece, a, b)| {
                piece.encode(
                    p,
                    f.member,
                    quote!(__g.get_mut(#a - #start..#b - #start).unwrap_or_default()),
                )
            });
            quote! {{
                let mut __g = [0u8; #len];
                #(#each)*
                #p::put_byte_group(__b, #start - #base, __g);
            }}
        }
    });
    quote!(#(#steps)*)
}

/// Whether the nested values of a run save better one by one than
/// encoded in it, into a `Vec` (`VmField::SAVE_ALONE`, a constant): a
/// nested struct may hold a buffer, which its own save appends, where
/// the grown run would zero fill it first (`ps2kbd`'s 256-byte queue:
/// 1.6x of the tight code's time, 0.6x saved alone). Scalars and arrays
/// of them never do.
fn save_alone(p: &TokenStream, pieces: &[Piece]) -> TokenStream {
    let each = pieces.iter().filter_map(|x| match x {
        Piece::Value(ty) if !plain(ty) => Some(field_item(p, ty, quote!(SAVE_ALONE))),
        _ => None,
    });
    quote!((false #(|| #each)*))
}

/// The save of a run with `buffer` pieces into a `Vec` (`__v`), when it
/// is too long to encode on the stack: each buffer appended from its
/// field, the stretches between them encoded as a run is (on the stack,
/// or into the grown `Vec`). Growing the `Vec` by the whole run first
/// zero-fills the buffers' bytes before copying them over: the `fifo`
/// bench device (a 512-byte buffer) saved in 1.0x to 1.2x of its tight
/// code's time that way, 0.6x to 0.7x split.
fn split_at_buffers(
    p: &TokenStream,
    index: usize,
    fields: &[&Field],
    pieces: &[Piece],
    groups: bool,
) -> Option<TokenStream> {
    let is_buffer = |x: &Piece| matches!(x, Piece::Buffer(..));
    if !pieces.iter().any(is_buffer) {
        return None;
    }
    let all: Vec<_> = parts(fields, pieces).collect();
    let mut out = Vec::new();
    let mut rest = &all[..];
    while let Some(first) = rest.first() {
        if let (_, f, Piece::Buffer(start, end), _, _) = first {
            let m = f.member;
            out.push(quote! {
                __v.extend_from_slice(
                    #p::ByteArray::bytes(&self.#m).get(#start..#end).unwrap_or_default(),
                );
            });
            rest = &rest[1..];
            continue;
        }
        let len = rest.iter().take_while(|x| !is_buffer(x.2)).count();
        let (stretch, tail) = rest.split_at(len);
        // The stretch's size is a constant: the const offsets.
        let (first, past) = (stretch[0].0, stretch[stretch.len() - 1].0 + 1);
        let (start, end) = (offset(index, first), offset(index, past));
        let fill = encode_parts(p, stretch, groups, Some(&stretch[0].3));
        out.push(quote! {{
            const __S: usize = #end - #start;
            if __S <= #p::STACK_RUN_MAX {
                let mut __a = [0u8; __S];
                {
                    let __b: &mut [u8] = &mut __a;
                    #fill
                }
                __v.extend_from_slice(&__a);
            } else {
                let __at = __v.len();
                __v.resize(__at + __S, 0);
                // An array: the fields' offsets need no checks.
                if let #p::Some(__b) = __v.get_mut(__at..).and_then(<[u8]>::first_chunk_mut::<__S>) {
                    let __b: &mut [u8] = __b;
                    #fill
                }
            }
        }});
        rest = tail;
    }
    let o = offsets_ref(index);
    Some(quote!(#o #(#out)*))
}

/// The load of a run: the fast path when it applies, else field by
/// field ([`piece_by_piece`], which holds the ordinary statements).
pub fn load_run(p: &TokenStream, run: &Run) -> TokenStream {
    if !worth_it(&run.fields) {
        let slow = slow_stmts(p, &run.fields, fields::Dir::Load);
        return quote!(#(#slow)*);
    }
    let (n, ok) = (run_ident(run.index, "N"), run_ident(run.index, "OK"));
    let fast = fast_load(p, run);
    let slow = slow_stmts(p, &run.fields, fields::Dir::Load);
    let slow = quote!(#(#slow)*);
    if !by_piece(run) {
        // Every field is of fixed size: the run is short or not in memory.
        return quote! {
            let __done = #fast;
            if __done {
                __r.advance(#n);
            } else {
                #slow
            }
        };
    }
    // Where the run is of fixed size its fast load falls back to the
    // ordinary statements: the piece-by-piece code there took
    // `kvm-tpr-opt`'s load in place from 123 to 161 instructions (LLVM
    // inlined differently around the larger fallback).
    let pieces = piece_by_piece(p, run);
    quote! {
        if #ok {
            let __done = #fast;
            if __done {
                __r.advance(#n);
            } else {
                #slow
            }
        } else {
            #pieces
        }
    }
}

/// Merged runs: `whole` in one piece when the version (the stream's on
/// load, the save's, a constant at the current version, on save) passes
/// every gate, else `parts` (the runs' own code).
pub fn merged(
    p: &TokenStream,
    dir: fields::Dir,
    whole: &Run,
    version: u32,
    parts: Vec<TokenStream>,
    groups: bool,
) -> TokenStream {
    let (n, ok) = (run_ident(whole.index, "N"), run_ident(whole.index, "OK"));
    if dir != fields::Dir::Load {
        let encode = encode_call(whole.index);
        let split = split_at_buffers(p, whole.index, &whole.fields, &whole.pieces, groups);
        let alone = save_alone(p, &whole.pieces);
        let ok = quote!(#ok && __version >= #version);
        return save_in_memory(
            p,
            ok,
            &quote!(#n),
            &encode,
            split,
            alone,
            quote!(#(#parts)*),
        );
    }
    let fast = fast_load(p, whole);
    quote! {
        let __done = #ok && __version >= #version && #fast;
        if __done {
            __r.advance(#n);
        } else {
            #(#parts)*
        }
    }
}

/// Decodes a run of fixed-size fields from the bytes in memory, as a
/// `bool` expression: false when the ordinary load must run (input not
/// in memory or short, a bool under `strict_bool`, a subsection name a
/// nested struct claims, a value its decode refuses).
fn fast_load(p: &TokenStream, run: &Run) -> TokenStream {
    let tail = run_ident(run.index, "TAIL");
    let claims = helper(run.index, "claims");
    fast_load_with(p, run, quote!(#tail), quote!(Self::#claims))
}

/// [`fast_load`] with what the bytes after the run are tested against:
/// `tail`, whether to test them, and `claims`, the names that fail (a
/// function).
fn fast_load_with(
    p: &TokenStream,
    run: &Run,
    tail: TokenStream,
    claims: TokenStream,
) -> TokenStream {
    let index = run.index;
    let (n, bool_) = (run_ident(index, "N"), run_ident(index, "BOOL"));
    let decode = helper(index, "decode");
    quote! {
        !(#bool_ && __ctx.strict_bool)
            && match #p::run_bytes::<__S, #n>(__r, #tail, #claims) {
                #p::Some(__b) => self.#decode(__b),
                #p::None => false,
            }
    }
}

/// The load of a run field by field: when the run's fast load did not
/// apply, and for a run that holds a value whose size is not static (a nested struct with
/// subsections or hooks, which only the compiler knows). Each stretch of
/// fixed-size fields between such values takes one length check, its
/// fields decode from the bytes in memory, and the reader moves past the
/// stretch at its end. Where a fixed decode cannot stand for the ordinary
/// load (input not in memory, a subsection name a nested struct claims, a
/// bool under `strict_bool`), the reader catches up to that field, which
/// loads as usual with the rest of its stretch; the values of variable
/// size load as usual. One statement per field: this is most of a large
/// struct's generated code.
fn piece_by_piece(p: &TokenStream, run: &Run) -> TokenStream {
    let index = run.index;
    let (sizes, at) = (run_ident(index, "SIZES"), run_ident(index, "P"));
    // References, not the consts: see [`offsets_ref`].
    let o = offsets_ref(index);
    let refs = quote!(#o let (__at, __sz) = (&#at, &#sizes););
    let slow = |j: usize| fields::stmt(p, run.fields[j], fields::Dir::Load);
    let mut steps = Vec::new();
    let mut i = 0;
    while i < run.pieces.len() {
        let piece = &run.pieces[i];
        let Some(ty) = piece.may_claim() else {
            // Consecutive plain fields as one step: in one stretch, of a
            // size known here, and their decodes cannot fail.
            let first = i;
            while run.pieces.get(i).is_some_and(Piece::surely_fixed) {
                i += 1;
            }
            let last = i - 1;
            let bools = (first..=last).map(|j| run.pieces[j].is(p, quote!(HAS_BOOL), false));
            let decodes = (first..=last).map(|j| {
                run.pieces[j].decode(
                    p,
                    run.fields[j].member,
                    quote!(__b.get(__o[#j] - __o[#first]..__o[#j + 1] - __o[#first]).unwrap_or_default()),
                )
            });
            let slows = (first..=last).filter_map(slow);
            steps.push(quote! {
                if !match #p::piece_bytes(
                    __r,
                    &mut __ok,
                    &__at[#first],
                    __o[#last + 1] - __o[#first],
                    (false #(|| #bools)*) && __ctx.strict_bool,
                    false,
                    #p::no_claims,
                ) {
                    #p::Some(__b) => true #(& #decodes)*,
                    #p::None => false,
                } {
                    #p::piece_catch_up(__r, &mut __ok, &__at[#first]);
                    #(#slows)*
                }
                #p::piece_end(__r, &mut __ok, &__at[#last]);
            });
            continue;
        };
        // A value that may be a nested struct: its own step.
        let fixed = piece.is(p, quote!(FIXED), true);
        let bool_ = piece.is(p, quote!(HAS_BOOL), false);
        let tail = piece.is(p, quote!(TAIL_PEEK), false);
        // A closure, not the trait's function as a value: for a type that
        // is no field, that path gets an error of its own, spanned on the
        // derive.
        let claims = field_item(p, ty, quote!(tail_claims));
        let claims = quote!(|__n: &[u8]| #claims(__n));
        let decode = piece.decode(p, run.fields[i].member, quote!(__b));
        let slow = slow(i);
        steps.push(quote! {
            if !(#fixed
                && match #p::piece_bytes(
                    __r,
                    &mut __ok,
                    &__at[#i],
                    __sz[#i],
                    #bool_ && __ctx.strict_bool,
                    #tail,
                    #claims,
                ) {
                    #p::Some(__b) => #decode,
                    #p::None => false,
                })
            {
                #p::piece_catch_up(__r, &mut __ok, &__at[#i]);
                #slow
            }
            #p::piece_end(__r, &mut __ok, &__at[#i]);
        });
        i += 1;
    }
    quote! {
        #refs
        let mut __ok = false;
        #(#steps)*
    }
}

/// The plain save of a run: into a `Vec` grown once, else `slow`
/// (`groups`: see [`encode`]).
pub fn save_run(p: &TokenStream, run: &Run, slow: Vec<TokenStream>, groups: bool) -> TokenStream {
    if !worth_it(&run.fields) {
        return quote!(#(#slow)*);
    }
    let (n, ok) = (run_ident(run.index, "N"), run_ident(run.index, "OK"));
    let encode = encode_call(run.index);
    let split = split_at_buffers(p, run.index, &run.fields, &run.pieces, groups);
    let alone = save_alone(p, &run.pieces);
    save_in_memory(
        p,
        quote!(#ok),
        &quote!(#n),
        &encode,
        split,
        alone,
        quote!(#(#slow)*),
    )
}

/// The encode of run `index` into `__b: &mut [u8; N]` (its helper).
fn encode_call(index: usize) -> TokenStream {
    let enc = helper(index, "encode");
    quote!(self.#enc(__b);)
}

/// Writes `n` bytes filled by `fill` (which writes `__b: &mut [u8; n]`) when
/// `ok` and the sink is memory, else runs `slow`. Into a `Vec`, short runs
/// are encoded on the stack (the zero fill folds away: every byte is
/// written) and appended with one length check, longer ones straight into
/// the grown `Vec` (a copy would cost more than the zero fill of `grow`)
/// or, with `buffer` pieces, by `split` (which appends to `__v`), or,
/// when `alone` (nested values that save better alone), by `slow`; into
/// a caller's buffer, whose `grow` is a bounds check, all straight.
fn save_in_memory(
    p: &TokenStream,
    ok: TokenStream,
    n: &TokenStream,
    fill: &TokenStream,
    split: Option<TokenStream>,
    alone: TokenStream,
    slow: TokenStream,
) -> TokenStream {
    let Some(split) = split else {
        // The common case as one call: its branches are the same.
        return quote! {
            let __done = #ok && #p::save_run::<__W, #n>(__w, #alone, |__b| { #fill });
            if !__done {
                #slow
            }
        };
    };
    let grow = quote! {
        match #p::grow_run::<__W, #n>(__w) {
            #p::Some(__b) => {
                #fill
                true
            }
            #p::None => false,
        }
    };
    let long = quote! {
        match if <__W as #p::Sink>::GROW_IN_PLACE { #p::None } else { __w.as_vec() } {
            #p::Some(__v) => {
                #split
                true
            }
            #p::None => #grow,
        }
    };
    quote! {
        let __done = #ok
            && #n <= #p::SAVE_RUN_MAX
            && if #n <= #p::STACK_RUN_MAX && !<__W as #p::Sink>::GROW_IN_PLACE {
                let mut __a = [0u8; #n];
                {
                    let __b = &mut __a;
                    #fill
                }
                __w.put_in_memory(&__a)
            } else if !<__W as #p::Sink>::GROW_IN_PLACE && #alone {
                false
            } else {
                #long
            };
        if !__done {
            #slow
        }
    }
}

/// The plain save of a subsection whose type is a fixed-size run (no
/// hooks or subsections of its own): header and fields into one grown
/// slice, else `slow`.
pub fn save_subsection(
    p: &TokenStream,
    ty: &Type,
    member: &syn::Ident,
    slow: TokenStream,
) -> TokenStream {
    // Only `VmState` items: a subsection type that is not derived gets
    // the one error it gets anyway.
    let name = quote!(<#ty as #p::VmState>::NAME);
    let size = quote!(<#ty as #p::VmState>::FIXED_PAYLOAD);
    let n = quote!({ 6 + #name.len() + #size });
    let fill = quote! {
        let __b: &mut [u8] = __b;
        #p::put_subsection_header(__b, #name, <#ty as #p::VmState>::VMSD.version_id);
        <#ty as #p::VmState>::encode_fixed_payload(
            &self.#member,
            __b.get_mut(6 + #name.len()..).unwrap_or_default(),
        );
    };
    save_in_memory(p, quote!(#size > 0), &n, &fill, None, quote!(false), slow)
}

/// For a struct that is one run and nothing else (no subsections, hooks
/// or other fields): the `VmField` items that let a parent's run take it
/// whole. Nested, it is saved and loaded at its current version, where
/// every version gate passes.
pub fn fixed_items(p: &TokenStream, cont: &Container, segs: &[Segment]) -> Option<TokenStream> {
    let [Segment::Run(run) | Segment::Merged { whole: run, .. }] = segs else {
        return None;
    };
    let Run { index, pieces, .. } = run;
    let a = &cont.attrs;
    let has_subsections = cont.fields.iter().any(|f| f.role.subsection().is_some());
    if has_subsections
        || a.pre_save.is_set()
        || a.post_save.is_set()
        || a.pre_load.is_set()
        || a.post_load.is_set()
    {
        return None;
    }
    let index = *index;
    let (n, ok, bool_) = (
        run_ident(index, "N"),
        run_ident(index, "OK"),
        run_ident(index, "BOOL"),
    );
    let (dec, enc, claims) = (
        helper(index, "decode"),
        helper(index, "encode"),
        helper(index, "claims"),
    );
    let buffer = pieces.iter().any(|x| matches!(x, Piece::Buffer(..)));
    let alone = save_alone(p, pieces);
    Some(quote! {
        // Only when long itself: a short one's zero fill is a few stores.
        const SAVE_ALONE: bool = #ok && #n > #p::STACK_RUN_MAX && (#buffer || #alone);
        const FIXED: bool = #ok && #n > 0;
        const FIXED_SIZE: usize = #n;
        const TAIL_PEEK: bool = true;
        const HAS_BOOL: bool = #bool_;

        #[inline(always)]
        fn tail_claims(__name: &[u8]) -> bool {
            // Its own peek and its last fields' see the same byte; any
            // of them claiming the name fails the load.
            Self::#claims(__name) || #p::name_claims(<Self as #p::VmState>::NAME, __name)
        }

        #[inline]
        fn decode_fixed(&mut self, __b: &[u8]) -> bool {
            // As an array: the offsets below need no checks.
            let ::core::result::Result::Ok(__b) = <&[u8; #n]>::try_from(__b) else {
                return false;
            };
            self.#dec(__b)
        }

        #[inline]
        fn encode_fixed(&self, __b: &mut [u8]) {
            let ::core::result::Result::Ok(__b) = <&mut [u8; #n]>::try_from(__b) else {
                return;
            };
            self.#enc(__b)
        }
    })
}

/// For a struct of runs and subsections (or a lone run), with no save
/// hooks: the `VmState` items that bound its payload at the current
/// version (`MAX_PAYLOAD`: every subsection sent) and encode it into a
/// buffer that holds the bound, with one length check: the fields at
/// constant offsets, then each needed subsection, header and fields,
/// when every one has a static size.
pub fn bounded_items(
    p: &TokenStream,
    cont: &Container,
    segs: &[Segment],
    subs: &[(&Field, &Subsection)],
) -> Option<TokenStream> {
    let a = &cont.attrs;
    if a.pre_save.is_set() || a.post_save.is_set() || subs.iter().any(|(f, _)| mentions_self(f.ty))
    {
        return None;
    }
    // At the current version every run is there; merged runs as one.
    let runs = segs
        .iter()
        .map(|seg| match seg {
            Segment::Single(_) => None,
            Segment::Run(r) | Segment::Merged { whole: r, .. } => Some(r),
        })
        .collect::<Option<Vec<_>>>()?;
    let oks = runs.iter().map(|r| run_ident(r.index, "OK"));
    let ns: Vec<_> = runs.iter().map(|r| run_ident(r.index, "N")).collect();
    let fields = runs.iter().enumerate().map(|(i, r)| {
        let (n, prev) = (&ns[i], &ns[..i]);
        let enc = helper(r.index, "encode");
        quote! {{
            const __AT: usize = 0 #(+ #prev)*;
            if let #p::Some(__b) = __all.get_mut(__AT..).and_then(<[u8]>::first_chunk_mut::<#n>) {
                self.#enc(__b);
            }
        }}
    });
    let tys: Vec<&Type> = subs.iter().map(|(f, _)| f.ty).collect();
    let sizes: Vec<_> = tys
        .iter()
        .map(|ty| {
            let state = quote!(<#ty as #p::VmState>);
            quote!((6 + #state::NAME.len() + #state::FIXED_PAYLOAD))
        })
        .collect();
    let sub_saves = subs.iter().zip(&sizes).map(|((f, s), size)| {
        let (ty, member) = (f.ty, f.member);
        let save = quote! {
            if let #p::Some(__s) = __all.get_mut(__at..__at + #size) {
                let __name = <#ty as #p::VmState>::NAME;
                #p::put_subsection_header(__s, __name, <#ty as #p::VmState>::VMSD.version_id);
                <#ty as #p::VmState>::encode_fixed_payload(
                    &self.#member,
                    __s.get_mut(6 + __name.len()..).unwrap_or_default(),
                );
            }
            __at += #size;
        };
        crate::fields::gate(s.needed_test(), save)
    });
    let ok = quote!(true #(&& #oks)* #(&& <#tys as #p::VmState>::FIXED_PAYLOAD > 0)*);
    let max = quote!(0 #(+ #ns)* #(+ #sizes)*);
    Some(quote! {
        const MAX_PAYLOAD: usize = if #ok && <Self as #p::VmState>::CPR_FIELDS.is_empty() {
            #max
        } else {
            0
        };

        #[inline]
        fn encode_bounded(&self, __b: &mut [u8]) -> #p::Option<usize> {
            const __OK: bool = #ok;
            const __MAX: usize = #max;
            if !__OK {
                return #p::None;
            }
            let __all: &mut [u8; __MAX] = __b.first_chunk_mut::<__MAX>()?;
            #(#fields)*
            let mut __at: usize = 0 #(+ #ns)*;
            #(#sub_saves)*
            #p::Some(__at)
        }
    })
}

/// The `VmState` items of a struct with [`fixed_items`] (`segs` its
/// segments, `version` its current version). A run none of whose values
/// peeks at what follows decodes from bytes already checked (length,
/// bools, the bytes after it) without failing, so its transactional load
/// needs no copy.
pub fn fixed_state_items(p: &TokenStream, segs: &[Segment], version: u32) -> TokenStream {
    let whole = match segs {
        [Segment::Run(run) | Segment::Merged { whole: run, .. }] => {
            let n = run_ident(run.index, "N");
            let peeks = run.pieces.iter().map(|x| x.is(p, quote!(TAIL_PEEK), false));
            // The struct's own peek sees the bytes after the run.
            let fast = fast_load_with(
                p,
                run,
                quote!(true),
                quote!(<Self as #p::VmField>::tail_claims),
            );
            Some(quote! {
                #[inline(always)]
                fn load_whole_or_nothing<__S: #p::Source>(
                    &mut self,
                    __r: &mut #p::Reader<__S>,
                    __version: u32,
                    __ctx: &#p::Context,
                ) -> bool {
                    // Every version gate passes at the current version.
                    // Once the bytes are checked the decode is true: only
                    // a short run or a peek fails it (`VmField::FIXED`).
                    let __done = <Self as #p::VmField>::FIXED
                        && !(false #(|| #peeks)*)
                        && __version == #version
                        && #fast;
                    if __done {
                        __r.advance(#n);
                    }
                    __done
                }
            })
        }
        _ => None,
    };
    quote! {
        #whole

        const FIXED_PAYLOAD: usize = if <Self as #p::VmField>::FIXED {
            <Self as #p::VmField>::FIXED_SIZE
        } else {
            0
        };

        #[inline]
        fn encode_fixed_payload(&self, __b: &mut [u8]) {
            <Self as #p::VmField>::encode_fixed(self, __b)
        }
    }
}

/// The ordinary statement of `f` (load), for a run's fallback.
pub fn slow_stmts(p: &TokenStream, fields: &[&Field], dir: fields::Dir) -> Vec<TokenStream> {
    fields
        .iter()
        .filter_map(|f| fields::stmt(p, f, dir))
        .collect()
}
