//! Pointers: `void_ptr` (the address itself, CPR modes only) and
//! `u64_from_ptr = src` (a `u64` that holds a pointer field's address).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Ident;

use super::FieldRole;
use crate::ast::{Container, Field};
use crate::attr;
use crate::ctxt::Ctxt;
use crate::fields::Stmt;
use crate::symbol::{Symbol, U64_FROM_PTR, VOID_PTR};
use crate::types::{is_pointer_type, is_u64, type_str};

pub struct VoidPtr;

impl FieldRole for VoidPtr {
    fn key(&self) -> Option<Symbol> {
        Some(VOID_PTR)
    }

    fn check(&self, cx: &Ctxt, _cont: &Container, field: &Field) {
        if !is_pointer_type(field.ty) {
            cx.error_spanned_by(
                field.ty,
                format!(
                    "`void_ptr` needs a raw pointer field (*mut T, *const T, NonNull<T> or \
                     Option<NonNull<T>>), but `{}` has type `{}`",
                    field.member,
                    type_str(field.ty)
                ),
            );
        }
    }

    fn desc(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let name = f.name();
        Some(quote!(#p::Field::new(#name, "void_ptr", #p::FieldKind::VoidPtr).with_elem_size(8)))
    }

    fn cpr_fields(&self, p: &TokenStream, _f: &Field) -> TokenStream {
        quote!(#p::CprFields::VOID_PTR)
    }

    fn stmt(&self, s: &Stmt, f: &Field) -> Option<TokenStream> {
        let (p, m) = (s.p, f.member);
        Some(s.finish(if s.save() {
            quote!(#p::save_void_ptr(&self.#m, __w, __ctx))
        } else {
            quote!(#p::load_void_ptr(&mut self.#m, __r, __ctx))
        }))
    }

    fn assertions(&self, p: &TokenStream, f: &Field, out: &mut Vec<TokenStream>) {
        let ty = f.ty;
        out.push(quote_spanned!(ty.span()=> #p::assert_void_ptr::<#ty>();));
    }

    fn layout(&self, _f: &Field) -> Option<(String, String)> {
        Some(("void_ptr (CPR only)".to_owned(), "8".to_owned()))
    }
}

pub struct U64FromPtr {
    src: Ident,
    /// `pre_save`: stored before the user's `pre_save` runs, and saved as
    /// the `u64` it then is.
    pre_save: bool,
}

impl U64FromPtr {
    pub fn new(src: &Ident, a: &attr::Field) -> Self {
        U64FromPtr {
            src: src.clone(),
            pre_save: a.pre_save.is_set(),
        }
    }
}

impl FieldRole for U64FromPtr {
    fn key(&self) -> Option<Symbol> {
        Some(U64_FROM_PTR)
    }

    fn check(&self, cx: &Ctxt, cont: &Container, field: &Field) {
        let src = &self.src;
        if !is_u64(field.ty) {
            cx.error_spanned_by(
                field.ty,
                format!(
                    "`u64_from_ptr` needs a `u64` field, but `{}` has type `{}`",
                    field.member,
                    type_str(field.ty)
                ),
            );
        }
        match cont.fields.iter().find(|f| f.member == src) {
            None => cx.error_spanned_by(
                src,
                format!("`u64_from_ptr` names `{src}`, but the struct has no such field"),
            ),
            Some(target) if !is_pointer_type(target.ty) => cx.error_spanned_by(
                src,
                format!(
                    "`u64_from_ptr` names `{src}`, which is not a raw pointer (it has type `{}`)",
                    type_str(target.ty)
                ),
            ),
            Some(_) => {}
        }
    }

    fn desc(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let name = f.name();
        let src = self.src.to_string();
        Some(quote!(#p::Field::new(#name, "uint64", #p::FieldKind::Leaf)
            .with_elem_size(8)
            .with_from_ptr(#src)))
    }

    fn stmt(&self, s: &Stmt, f: &Field) -> Option<TokenStream> {
        let (p, m, src) = (s.p, f.member, &self.src);
        Some(s.finish(if s.save() && !self.pre_save {
            quote!(__w.put_u64(#p::VoidPtr::addr_u64(&self.#src)))
        } else if s.save() {
            let save = s.item(f, quote!(VmField), quote!(save));
            quote!(#save(&mut self.#m, __w, __ctx))
        } else {
            let load = s.item(f, quote!(VmField), quote!(load));
            quote!(#load(&mut self.#m, __r, __ctx))
        }))
    }

    fn size_hint(&self, _p: &TokenStream, _f: &Field) -> Option<TokenStream> {
        Some(quote!(8usize))
    }

    fn save_prelude(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let (member, src) = (f.member, &self.src);
        self.pre_save
            .then(|| quote!(self.#member = #p::VoidPtr::addr_u64(&self.#src);))
    }

    fn layout(&self, _f: &Field) -> Option<(String, String)> {
        Some((
            format!("uint64 (address of `{}`)", self.src),
            "8".to_owned(),
        ))
    }
}
