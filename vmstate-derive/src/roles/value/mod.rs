//! No role key: a value of a `VmField` type, or through a `with` codec, or
//! a `struct_version` struct, maybe a variable array (`count = field`),
//! maybe with a check (`equal`, `positive_le`, `min`/`max`).

mod check;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{conflicts, Count, FieldRole};
use crate::ast::{Container, Field};
use crate::attr;
use crate::ctxt::Ctxt;
use crate::fastpath::Piece;
use crate::fields::Stmt;
use crate::layout;
use crate::symbol::{Symbol, EQUAL};

pub struct Value {
    check: ValueCheck,
    /// `count = field` (`multiply = N`): a variable array.
    count: Option<Count>,
    /// `with = Codec`.
    with: Option<syn::Type>,
    /// `struct_version = N` (QEMU's `VMSTATE_VSTRUCT`).
    struct_version: Option<u32>,
}

enum ValueCheck {
    None,
    Equal,
    PositiveLe,
}

impl Value {
    pub fn new(a: &attr::Field, count: &dyn Fn(&syn::Ident) -> Count) -> Self {
        let check = if a.equal.is_set() {
            ValueCheck::Equal
        } else if a.positive_le.is_set() {
            ValueCheck::PositiveLe
        } else {
            ValueCheck::None
        };
        Value {
            check,
            count: a.count.value.as_ref().map(count),
            with: a.with.value.clone(),
            struct_version: a.struct_version.value.as_ref().map(attr::int_value),
        }
    }
}

/// `hint = "..."` as an `Option<&str>` expression.
fn hint(f: &Field) -> TokenStream {
    match &f.attrs.hint.value {
        Some(h) => quote!(::core::option::Option::Some(#h)),
        None => quote!(::core::option::Option::None),
    }
}

/// `min`/`max` bounds as expressions: `max` alone means `0..=max`, `min`
/// alone means `min..=` the type's maximum.
fn bounds(p: &TokenStream, f: &Field) -> Option<(TokenStream, TokenStream)> {
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

impl FieldRole for Value {
    fn key(&self) -> Option<Symbol> {
        None
    }

    fn check_keys(&self, cx: &Ctxt, a: &attr::Field) {
        if a.equal.is_set() {
            conflicts(cx, EQUAL, &[&a.positive_le]);
        }
    }

    fn check(&self, cx: &Ctxt, cont: &Container, f: &Field) {
        let special = self.count.is_some() || self.with.is_some() || self.struct_version.is_some();
        check::value_type(cx, f, special);
        if let Some(c) = &self.count {
            c.check(cx, cont, f);
            check::counted(cx, f);
        }
    }

    fn desc(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let name = f.name();
        let ty = f.ty;
        if let Some(sv) = self.struct_version {
            return Some(quote! {
                #p::Field::new(#name, "vstruct", #p::FieldKind::VStruct)
                    .with_vmsd(#p::Some(<#ty as #p::VmState>::VMSD))
                    .with_struct_version(#sv)
            });
        }
        if let Some(codec) = &self.with {
            return Some(quote! {
                #p::Field::new(#name, <#codec as #p::Codec<#ty>>::INFO, #p::FieldKind::Leaf)
                    .with_elem_size(<#codec as #p::Codec<#ty>>::SIZE)
            });
        }
        if self.count.is_none() {
            if let ValueCheck::None = self.check {
                let check = bounds(p, f).map(
                    |(min, max)| quote!(.with_check(#p::Check::Range { min: #min, max: #max })),
                );
                return Some(quote!(<#ty as #p::VmField>::DESC.named(#name) #check));
            }
        }
        // A variable array describes its element type.
        let (elem, array_len, length) = match &self.count {
            Some(c) => (
                quote!(<#ty as #p::VarArray>::Elem),
                quote!(#p::None),
                c.desc(),
            ),
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
        let (info, check) = match self.check {
            ValueCheck::None => (
                quote!(<#elem as #p::VmField>::INFO),
                match bounds(p, f) {
                    Some((min, max)) => quote!(#p::Check::Range { min: #min, max: #max }),
                    None => quote!(#p::Check::None),
                },
            ),
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
        Some(quote! {
            #p::Field::new(#name, #info, <#elem as #p::VmField>::KIND)
                .with_elem_size(<#elem as #p::VmField>::ELEM_SIZE)
                .with_array_len(#array_len)
                .with_vmsd(<#elem as #p::VmField>::VMSD)
                .with_check(#check)
                #length
        })
    }

    fn cpr_fields(&self, p: &TokenStream, f: &Field) -> TokenStream {
        let ty = f.ty;
        if self.struct_version.is_some() {
            quote!(<#ty as #p::VmState>::CPR_FIELDS)
        } else if self.with.is_some() {
            // A hand-written codec moves plain bytes.
            quote!(#p::CprFields::NONE)
        } else if self.count.is_some() {
            quote!(<<#ty as #p::VarArray>::Elem as #p::VmField>::CPR_FIELDS)
        } else {
            quote!(<#ty as #p::VmField>::CPR_FIELDS)
        }
    }

    fn size_hint(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let (m, ty) = (f.member, f.ty);
        Some(if let Some(c) = &self.count {
            c.size_hint(p, f)
        } else if let Some(codec) = &self.with {
            quote!(<#codec as #p::Codec<#ty>>::SIZE)
        } else if self.struct_version.is_some() {
            quote!(<#ty as #p::VmState>::payload_size_hint(&self.#m))
        } else {
            quote!(<#ty as #p::VmField>::size_hint(&self.#m))
        })
    }

    fn stmt(&self, s: &Stmt, f: &Field) -> Option<TokenStream> {
        let (p, m, ty) = (s.p, f.member, f.ty);
        let (save, recorded) = (s.save(), s.recorded());
        let item = |tr: TokenStream, it: TokenStream| s.item(f, tr, it);
        if let Some(c) = &self.count {
            return Some(c.elements(s, f, false));
        }
        if let Some(sv) = self.struct_version {
            return Some(s.finish(if save {
                let call = if recorded {
                    item(quote!(VmState), quote!(save_state_v_recorded))
                } else {
                    item(quote!(VmState), quote!(save_state_v))
                };
                quote!(#call(&mut self.#m, __w, #sv, __ctx))
            } else {
                let call = item(quote!(VmState), quote!(load_state_in_place));
                quote!(#call(&mut self.#m, __r, #sv, __ctx))
            }));
        }
        if let Some(codec) = &self.with {
            let call = if save {
                quote_spanned!(codec.span()=> <#codec as #p::Codec<#ty>>::save)
            } else {
                quote_spanned!(codec.span()=> <#codec as #p::Codec<#ty>>::load)
            };
            let stream = if save { quote!(__w) } else { quote!(__r) };
            return Some(s.finish(quote!(#call(&mut self.#m, #stream, __ctx))));
        }
        if save {
            let call = if recorded {
                item(quote!(VmField), quote!(save_recorded))
            } else {
                item(quote!(VmField), quote!(save))
            };
            return Some(s.finish(quote!(#call(&mut self.#m, __w, __ctx))));
        }
        let load = match self.check {
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
        Some(match bounds(p, f) {
            None => s.finish(load),
            Some((min, max)) => {
                let offset = &s.offset;
                let widen = item(quote!(RangeInt), quote!(widen));
                let load = s.finish(load);
                let check = s.finish(quote!(#p::check_range(#widen(self.#m), #min, #max, __at)));
                quote! {
                    let __at = #offset;
                    #load
                    #check
                }
            }
        })
    }

    // The trait checks are spelled `<Ty as Trait>::ITEM`, exactly as the
    // table entries spell them: an unsupported type then yields one
    // diagnostic on the field's type, which rustc deduplicates, instead of
    // one more with a "required by a bound in assert_*" note.
    fn assertions(&self, p: &TokenStream, f: &Field, out: &mut Vec<TokenStream>) {
        let ty = f.ty;
        if self.struct_version.is_some() {
            out.push(quote!(let _ = <#ty as #p::VmState>::VMSD;));
        } else if self.with.is_some() {
            // The codec's own bounds speak for it.
        } else if self.count.is_some() {
            out.push(quote!(let _ = <<#ty as #p::VarArray>::Elem as #p::VmField>::INFO;));
        } else {
            out.push(quote!(let _ = <#ty as #p::VmField>::INFO;));
        }
        match self.check {
            ValueCheck::None => {}
            ValueCheck::Equal => {
                out.push(quote!(let _ = <#ty as #p::EqualField>::EQUAL_INFO;));
            }
            ValueCheck::PositiveLe => {
                out.push(quote!(let _ = <#ty as #p::PositiveLeField>::LE_INFO;));
            }
        }
        if let Some(sv) = self.struct_version {
            let msg = format!(
                "`struct_version = {sv}` on `{}` is outside the versions its description \
                 can save and load (minimum_version..=version)",
                f.member
            );
            out.push(quote_spanned! {ty.span()=>
                ::core::assert!(
                    #sv >= <#ty as #p::VmState>::VMSD.minimum_version_id
                        && #sv <= <#ty as #p::VmState>::VMSD.version_id,
                    #msg
                );
            });
        }
        let a = &f.attrs;
        let msg = format!("the bounds of `{}` lie outside its type's range", f.member);
        for (given, cmp, limit) in [
            (a.min.value.as_ref(), quote!(>=), quote!(MIN)),
            (a.max.value.as_ref(), quote!(<=), quote!(MAX)),
        ] {
            let Some(bound) = given else { continue };
            let v = bound.value;
            out.push(quote_spanned! {ty.span()=>
                ::core::assert!(#v #cmp <#ty as #p::RangeInt>::#limit, #msg);
            });
        }
    }

    fn layout(&self, f: &Field) -> Option<(String, String)> {
        let (info, bytes) = match layout::primitive(f.ty) {
            Some((i, b)) => (i.to_owned(), b.to_string()),
            None => (layout::ty_doc(f.ty), "varies".to_owned()),
        };
        let (info, bytes) = match (&self.count, self.struct_version) {
            (Some(c), _) => (format!("{info} array"), format!("{} elements", c.times())),
            (None, Some(sv)) => (format!("vstruct at version {sv}"), bytes),
            (None, None) => (info, bytes),
        };
        let info = match self.check {
            ValueCheck::None => info,
            ValueCheck::Equal => format!("{info}, must equal the destination"),
            ValueCheck::PositiveLe => format!("{info}, 0 ..= destination"),
        };
        Some((info, bytes))
    }

    /// A plain value with nothing around it: no count, codec, struct
    /// version, check or bounds, and a type the consts outside the impl can
    /// name.
    fn piece(&self, _p: &TokenStream, f: &Field) -> Option<Piece> {
        let plain = self.count.is_none()
            && self.with.is_none()
            && self.struct_version.is_none()
            && matches!(self.check, ValueCheck::None)
            && !f.attrs.min.is_set()
            && !f.attrs.max.is_set();
        (plain && !crate::fastpath::mentions_self(f.ty))
            .then(|| Piece::Value(Box::new(f.ty.clone())))
    }
}
