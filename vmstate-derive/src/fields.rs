//! Per-field code: the description-table entry and the save and load
//! statements, by the field's role. `expand.rs` puts them together.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Type;

use crate::ast::{Collection, Count, Field, Role, Value, ValueCheck};

/// How a variable-length field stores its elements (`T` in each).
pub enum Holder<'a> {
    /// `[T; N]`: the length must not exceed `N`.
    Fixed(&'a Type),
    /// `Vec<T>`: grows with the data, bounded by the context's limit.
    Vec(&'a Type),
}

impl<'a> Holder<'a> {
    /// The element type.
    pub fn elem(&self) -> &'a Type {
        match self {
            Holder::Fixed(t) | Holder::Vec(t) => t,
        }
    }
}

/// `[T; N]` or `Vec<T>`, with `T`.
pub fn holder(ty: &Type) -> Option<Holder<'_>> {
    match ty {
        Type::Array(a) => Some(Holder::Fixed(&a.elem)),
        Type::Group(g) => holder(&g.elem),
        Type::Paren(p) => holder(&p.elem),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident != "Vec" {
                return None;
            }
            match &last.arguments {
                syn::PathArguments::AngleBracketed(a) => match a.args.first()? {
                    syn::GenericArgument::Type(t) => Some(Holder::Vec(t)),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

fn hint(f: &Field) -> TokenStream {
    match &f.attrs.hint.value {
        Some(h) => quote!(::core::option::Option::Some(#h)),
        None => quote!(::core::option::Option::None),
    }
}

/// The `Field` entry of the table, or `None` for fields not in it.
pub fn desc(p: &TokenStream, f: &Field) -> Option<TokenStream> {
    let name = f.name();
    let ty = f.ty;
    let version = f.version();
    let exists = f.attrs.exists.is_set().then(|| quote!(.with_exists()));
    let qemu_size = f.attrs.qemu_size.value.as_ref().map(|n| {
        let n = crate::attr::int_value(n) as usize;
        quote!(.with_qemu_size(#n))
    });
    let length_from = |c: &Count| {
        let (field, mult) = (c.name, c.multiply);
        quote!(.with_length_from(#field, #mult))
    };
    let base = match f.role() {
        Role::Skip | Role::Subsection(_) => return None,
        Role::Unused { bytes, count } => {
            let n = bytes as usize;
            let len = count.as_ref().map(length_from);
            quote!(#p::Field::new(#name, "unused_buffer", #p::FieldKind::Unused).with_elem_size(#n) #len)
        }
        Role::VoidPtr => {
            quote!(#p::Field::new(#name, "void_ptr", #p::FieldKind::VoidPtr).with_elem_size(8))
        }
        // One byte over a socket, four across exec: no fixed size.
        Role::Fd => quote!(#p::Field::new(#name, "fd", #p::FieldKind::Fd)),
        Role::U64FromPtr { src, .. } => {
            let src = src.to_string();
            quote!(#p::Field::new(#name, "uint64", #p::FieldKind::Leaf)
                .with_elem_size(8)
                .with_from_ptr(#src))
        }
        // QEMU's VMSTATE_VALIDATE is an array of 0 elements.
        Role::Validate(_) => quote!(#p::Field::new(#name, "", #p::FieldKind::Validate)
            .with_array_len(#p::Some(0))),
        Role::Tmp(t) => quote! {
            #p::Field::new(#name, "tmp", #p::FieldKind::Tmp)
                .with_vmsd(#p::Some(<#t as #p::VmState>::VMSD))
        },
        Role::Collection(c) => {
            let info = c.info();
            let (kind, vmsd) = match c {
                Collection::Gtree => (
                    quote!(Gtree),
                    quote_spanned!(ty.span()=> <#ty as #p::GtreeMap>::VALUE_VMSD),
                ),
                _ => (quote!(Queue), quote!(<#ty as #p::QueueDesc>::ELEM_VMSD)),
            };
            quote!(#p::Field::new(#name, #info, #p::FieldKind::#kind).with_vmsd(#p::Some(#vmsd)))
        }
        Role::Buffer { start, size } => {
            let start = start.unwrap_or(0) as usize;
            let size = match size {
                Some(s) => quote!(#s as usize),
                // Checked at compile time (`assertions`); saturating keeps
                // the table itself from failing first.
                None => quote!(<#ty as #p::ByteArray>::LEN.saturating_sub(#start)),
            };
            quote!(#p::Field::new(#name, "buffer", #p::FieldKind::Leaf).with_elem_size(#size))
        }
        Role::VBuffer(c) => {
            let len = length_from(&c);
            quote!(#p::Field::new(#name, "buffer", #p::FieldKind::Leaf) #len)
        }
        Role::Bitmap(_) => {
            let bits = f.length_name.as_deref().unwrap_or("");
            quote!(#p::Field::new(#name, "bitmap", #p::FieldKind::Leaf).with_length_from(#bits, 1))
        }
        Role::Value(v) => value_desc(p, f, &v),
    };
    let cpr = cpr_fields(p, f);
    Some(quote!(#base.with_version(#version) #exists #qemu_size .with_cpr_fields(#cpr)))
}

/// The CPR-only field kinds a field holds anywhere below it, as a constant
/// expression built from its type's constants.
pub fn cpr_fields(p: &TokenStream, f: &Field) -> TokenStream {
    let ty = f.ty;
    match f.role() {
        Role::VoidPtr => quote!(#p::CprFields::VOID_PTR),
        Role::Fd => quote!(#p::CprFields::FD),
        Role::Subsection(_) => quote!(<#ty as #p::VmState>::CPR_FIELDS),
        Role::Tmp(t) => quote!(<#t as #p::VmState>::CPR_FIELDS),
        Role::Collection(Collection::Gtree) => quote!(<#ty as #p::GtreeMap>::CPR_FIELDS),
        Role::Collection(_) => quote!(<#ty as #p::QueueDesc>::CPR_FIELDS),
        Role::Value(v) => {
            if v.struct_version.is_some() {
                quote!(<#ty as #p::VmState>::CPR_FIELDS)
            } else if v.with.is_some() {
                // A hand-written codec moves plain bytes.
                quote!(#p::CprFields::NONE)
            } else if v.count.is_some() {
                quote!(<<#ty as #p::VarArray>::Elem as #p::VmField>::CPR_FIELDS)
            } else {
                quote!(<#ty as #p::VmField>::CPR_FIELDS)
            }
        }
        Role::Skip
        | Role::Unused { .. }
        | Role::U64FromPtr { .. }
        | Role::Validate(_)
        | Role::Buffer { .. }
        | Role::VBuffer(_)
        | Role::Bitmap(_) => quote!(#p::CprFields::NONE),
    }
}

fn value_desc(p: &TokenStream, f: &Field, v: &Value) -> TokenStream {
    let name = f.name();
    let ty = f.ty;
    if let Some(sv) = v.struct_version {
        return quote! {
            #p::Field::new(#name, "vstruct", #p::FieldKind::VStruct)
                .with_vmsd(#p::Some(<#ty as #p::VmState>::VMSD))
                .with_struct_version(#sv)
        };
    }
    if let Some(codec) = v.with {
        return quote! {
            #p::Field::new(#name, <#codec as #p::Codec<#ty>>::INFO, #p::FieldKind::Leaf)
                .with_elem_size(<#codec as #p::Codec<#ty>>::SIZE)
        };
    }
    // A variable array describes its element type.
    let (elem, array_len, length) = match &v.count {
        Some(c) => {
            let (field, mult) = (c.name, c.multiply);
            (
                quote!(<#ty as #p::VarArray>::Elem),
                quote!(#p::None),
                quote!(.with_length_from(#field, #mult)),
            )
        }
        None => (
            quote!(#ty),
            quote!(if <#ty as #p::VmField>::IS_ARRAY {
                #p::Some(<#ty as #p::VmField>::COUNT)
            } else {
                #p::None
            }),
            quote!(),
        ),
    };
    let (info, check) = match v.check {
        ValueCheck::None => (quote!(<#elem as #p::VmField>::INFO), range_check(p, f)),
        ValueCheck::Equal => {
            let hint = hint(f);
            (
                quote!(<#ty as #p::EqualField>::EQUAL_INFO),
                quote!(#p::Check::Equal { hint: #hint }),
            )
        }
        ValueCheck::PositiveLe => (
            quote!(<#ty as #p::PositiveLeField>::LE_INFO),
            quote!(#p::Check::PositiveLe),
        ),
    };
    quote! {
        #p::Field::new(#name, #info, <#elem as #p::VmField>::KIND)
            .with_elem_size(<#elem as #p::VmField>::ELEM_SIZE)
            .with_array_len(#array_len)
            .with_vmsd(<#elem as #p::VmField>::VMSD)
            .with_check(#check)
            #length
    }
}

/// `min`/`max` bounds as expressions: `max` alone means `0..=max`, `min`
/// alone means `min..=` the type's maximum.
pub fn bounds(p: &TokenStream, f: &Field) -> Option<(TokenStream, TokenStream)> {
    let a = &f.attrs;
    if !a.min.is_set() && !a.max.is_set() {
        return None;
    }
    let ty = f.ty;
    let min = match &a.min.value {
        Some(s) => {
            let v = s.value;
            quote!(#v)
        }
        None => quote!(0i128),
    };
    let max = match &a.max.value {
        Some(s) => {
            let v = s.value;
            quote!(#v)
        }
        None => quote_spanned!(ty.span()=> <#ty as #p::RangeInt>::MAX),
    };
    Some((min, max))
}

fn range_check(p: &TokenStream, f: &Field) -> TokenStream {
    match bounds(p, f) {
        Some((min, max)) => quote!(#p::Check::Range { min: #min, max: #max }),
        None => quote!(#p::Check::None),
    }
}

/// `.map_err(|e| e.field(NAME))`
fn at_field(name: &str) -> TokenStream {
    quote!(.map_err(|__e| __e.field(#name)))
}

/// `let __n = length(self.count, mult, cap, "count", offset)?;`, its
/// error naming the field being loaded (`err`).
fn length_stmt(
    p: &TokenStream,
    c: &Count,
    cap: TokenStream,
    offset: &TokenStream,
    err: &TokenStream,
) -> TokenStream {
    let field = c.field;
    let fname = c.name;
    let mult = c.multiply;
    // Spanned on the count field: a wrong counter type is reported there.
    let value = quote_spanned!(field.span()=> #p::CountField::clone_value(&self.#field));
    let length = quote_spanned!(field.span()=> #p::length);
    quote!(let __n = #length(#value, #mult, #cap, #fname, #offset) #err ?;)
}

/// Which side: the stream variable, its offset, and the direction.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Save,
    /// Saving to a recording writer: nested saves record too.
    SaveRecorded,
    Load,
}

/// The statement that saves or loads field `f` (without its existence
/// gate). `version` is the field's element version for queues, trees and
/// temporaries.
pub fn stmt(p: &TokenStream, f: &Field, dir: Dir) -> Option<TokenStream> {
    let m = f.member;
    let ty = f.ty;
    let err = at_field(&f.name());
    let save = dir != Dir::Load;
    let recorded = dir == Dir::SaveRecorded;
    let offset = if save {
        quote!(__w.offset())
    } else {
        quote!(__r.offset())
    };
    // Trait items spanned on the field's type: one error per bad type.
    let item = |tr: TokenStream, it: TokenStream| quote_spanned!(ty.span()=> <#ty as #p::#tr>::#it);
    let field_version = f.version();
    let body = match f.role() {
        Role::Skip | Role::Subsection(_) => return None,
        Role::Unused { bytes, count } => {
            let n = match &count {
                Some(c) => {
                    let len = length_stmt(p, c, quote!(u64::MAX), &offset, &err);
                    quote!({ #len (__n as u64).saturating_mul(#bytes) })
                }
                None => quote!(#bytes),
            };
            if save {
                quote!(__w.put_zeros(#n))
            } else {
                quote!(__r.skip(#n))
            }
        }
        Role::VoidPtr => {
            if save {
                quote!(#p::save_void_ptr(&self.#m, __w, __ctx))
            } else {
                quote!(#p::load_void_ptr(&mut self.#m, __r, __ctx))
            }
        }
        Role::Fd => {
            if save {
                quote!(#p::save_fd(&self.#m, __w, __ctx))
            } else {
                quote!(#p::load_fd(&mut self.#m, __r, __ctx))
            }
        }
        Role::U64FromPtr { src, pre_save } => {
            if save && !pre_save {
                quote!(__w.put_u64(#p::VoidPtr::addr_u64(&self.#src)))
            } else if save {
                let save = item(quote!(VmField), quote!(save));
                quote!(#save(&mut self.#m, __w, __ctx))
            } else {
                let load = item(quote!(VmField), quote!(load));
                quote!(#load(&mut self.#m, __r, __ctx))
            }
        }
        Role::Validate(path) => {
            let call = crate::expand::user_fn(path, crate::expand::UserFn::Test);
            let name = f.name();
            quote!(#p::validate(#call(&*self, __version), #name, #offset))
        }
        Role::Tmp(t) => {
            if save {
                // Located at the type, resolved here: `self` with a span
                // from a `macro_rules!` caller would not resolve.
                let span = proc_macro2::Span::call_site().located_at(t.span());
                quote_spanned!(span=> #p::save_tmp::<#t, Self, _>(&*self, __w, __ctx, #recorded))
            } else {
                let span = proc_macro2::Span::call_site().located_at(t.span());
                quote_spanned!(span=> #p::load_tmp::<#t, Self, _>(self, __r, #field_version, __ctx))
            }
        }
        Role::Collection(c) => match (c, save) {
            // Every use goes through one trait bound spanned on the type, so
            // an unsupported key is one error there, not one per use.
            // (Only the path carries the type's span: the arguments keep the
            // derive's, so a type from a `macro_rules!` keeps hygiene.)
            (Collection::Gtree, true) => {
                let ty = f.ty;
                let save = quote_spanned!(ty.span()=> <#ty as #p::GtreeMap>::save_map);
                quote!(#save(&mut self.#m, __w, __ctx))
            }
            (Collection::Gtree, false) => {
                let ty = f.ty;
                let load = quote_spanned!(ty.span()=> <#ty as #p::GtreeMap>::load_map);
                quote!(#load(&mut self.#m, __r, #field_version, __ctx))
            }
            (_, true) => quote!(#p::save_queue(&mut self.#m, __w, __ctx)),
            (_, false) => quote!(#p::load_queue(&mut self.#m, __r, #field_version, __ctx)),
        },
        Role::Buffer { start, size } => {
            let start = start.unwrap_or(0) as usize;
            let end = match size {
                Some(s) => {
                    let s = s as usize;
                    quote!(#start + #s)
                }
                None => quote!(<#ty as #p::ByteArray>::LEN),
            };
            let bytes = item(quote!(ByteArray), quote!(bytes_mut));
            if save {
                quote!(#p::save_buffer(#bytes(&mut self.#m), #start, #end, __w))
            } else {
                quote!(#p::load_buffer(#bytes(&mut self.#m), #start, #end, __r))
            }
        }
        Role::VBuffer(c) => return Some(var_len(p, f, &c, dir, &offset, &err, false)),
        Role::Bitmap(bits) => {
            let c = Count {
                field: bits,
                name: f.length_name.as_deref().unwrap_or(""),
                multiply: 1,
            };
            return Some(var_len(p, f, &c, dir, &offset, &err, true));
        }
        Role::Value(v) => return Some(value_stmt(p, f, &v, dir, &offset, &err)),
    };
    Some(quote!(#body #err ?;))
}

fn value_stmt(
    p: &TokenStream,
    f: &Field,
    v: &Value,
    dir: Dir,
    offset: &TokenStream,
    err: &TokenStream,
) -> TokenStream {
    let m = f.member;
    let ty = f.ty;
    let save = dir != Dir::Load;
    let recorded = dir == Dir::SaveRecorded;
    let item = |tr: TokenStream, it: TokenStream| quote_spanned!(ty.span()=> <#ty as #p::#tr>::#it);
    if let Some(c) = &v.count {
        return var_len(p, f, c, dir, offset, err, false);
    }
    if let Some(sv) = v.struct_version {
        return if save {
            let call = if recorded {
                item(quote!(VmState), quote!(save_state_v_recorded))
            } else {
                item(quote!(VmState), quote!(save_state_v))
            };
            quote!(#call(&mut self.#m, __w, #sv, __ctx) #err ?;)
        } else {
            let call = item(quote!(VmState), quote!(load_state_in_place));
            quote!(#call(&mut self.#m, __r, #sv, __ctx) #err ?;)
        };
    }
    if let Some(codec) = v.with {
        let call = if save {
            quote_spanned!(codec.span()=> <#codec as #p::Codec<#ty>>::save)
        } else {
            quote_spanned!(codec.span()=> <#codec as #p::Codec<#ty>>::load)
        };
        let stream = if save { quote!(__w) } else { quote!(__r) };
        return quote!(#call(&mut self.#m, #stream, __ctx) #err ?;);
    }
    if save {
        let call = if recorded {
            item(quote!(VmField), quote!(save_recorded))
        } else {
            item(quote!(VmField), quote!(save))
        };
        return quote!(#call(&mut self.#m, __w, __ctx) #err ?;);
    }
    let load = match v.check {
        ValueCheck::None => {
            let call = item(quote!(VmField), quote!(load));
            quote!(#call(&mut self.#m, __r, __ctx))
        }
        ValueCheck::Equal => {
            let call = item(quote!(EqualField), quote!(load_equal));
            let hint = hint(f);
            quote!(#call(&self.#m, __r, __ctx, #hint))
        }
        ValueCheck::PositiveLe => {
            let call = item(quote!(PositiveLeField), quote!(load_positive_le));
            quote!(#call(&mut self.#m, __r, __ctx))
        }
    };
    match bounds(p, f) {
        None => quote!(#load #err ?;),
        Some((min, max)) => {
            let widen = item(quote!(RangeInt), quote!(widen));
            quote! {
                let __at = #offset;
                #load #err ?;
                #p::check_range(#widen(self.#m), #min, #max, __at) #err ?;
            }
        }
    }
}

/// A field whose length comes from an earlier field: a variable array, a
/// variable buffer or a bitmap. The length is checked against the holder
/// before any element moves.
fn var_len(
    p: &TokenStream,
    f: &Field,
    c: &Count,
    dir: Dir,
    offset: &TokenStream,
    err: &TokenStream,
    bitmap: bool,
) -> TokenStream {
    let m = f.member;
    let save = dir != Dir::Load;
    let recorded = dir == Dir::SaveRecorded;
    let (cap, fixed) = match holder(f.ty) {
        Some(Holder::Fixed(_)) => {
            let cap = if bitmap {
                quote!((self.#m.len() as u64).saturating_mul(64))
            } else {
                quote!(self.#m.len() as u64)
            };
            (cap, true)
        }
        // Checked: only arrays and Vecs get here.
        _ if save => (quote!(u64::MAX), false),
        _ => {
            let cap = if bitmap {
                quote!(__ctx.max_vec_len.saturating_mul(64))
            } else {
                quote!(__ctx.max_vec_len)
            };
            (cap, false)
        }
    };
    let len = length_stmt(p, c, cap, offset, err);
    let n = if bitmap {
        quote!(#p::bitmap_words(__n))
    } else {
        quote!(__n)
    };
    let count_name = c.name;
    let call = match (save, fixed) {
        (true, true) => quote!(#p::save_prefix(&mut self.#m, #n, __w, __ctx, #recorded)),
        (false, true) => quote!(#p::load_prefix(&mut self.#m, #n, __r, __ctx)),
        (true, false) => {
            quote!(#p::save_vec(&mut self.#m, #n, #count_name, __w, __ctx, #recorded))
        }
        (false, false) => quote!(#p::load_vec(&mut self.#m, #n, __r, __ctx)),
    };
    quote!({
        #len
        #call #err ?;
    })
}
