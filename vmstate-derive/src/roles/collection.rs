//! Collections: `qtailq` and `qlist` (queues of derived structs) and
//! `gtree` (a map), each element with its own description.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::FieldRole;
use crate::ast::{Container, Field};
use crate::ctxt::Ctxt;
use crate::fields::Stmt;
use crate::symbol::{Symbol, GTREE, QLIST, QTAILQ};
use crate::types::{last_segment, type_str};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Qtailq,
    Qlist,
    Gtree,
}

impl Collection {
    /// The key, which is also the QEMU type name.
    fn symbol(self) -> Symbol {
        match self {
            Collection::Qtailq => QTAILQ,
            Collection::Qlist => QLIST,
            Collection::Gtree => GTREE,
        }
    }
}

impl FieldRole for Collection {
    fn key(&self) -> Option<Symbol> {
        Some(self.symbol())
    }

    fn check(&self, cx: &Ctxt, _cont: &Container, field: &Field) {
        let ty = type_str(field.ty);
        let last = last_segment(field.ty);
        if *self == Collection::Gtree {
            if last.as_deref() != Some("BTreeMap") {
                cx.error_spanned_by(
                    field.ty,
                    format!("`gtree` needs a `BTreeMap<K, V>` field, not `{ty}`"),
                );
            }
        } else if !matches!(last.as_deref(), Some("Vec" | "VecDeque" | "LinkedList")) {
            cx.error_spanned_by(
                field.ty,
                format!("a queue (`qtailq`/`qlist`) needs a `Vec<T>`, `VecDeque<T>` or `LinkedList<T>` field, not `{ty}`"),
            );
        }
    }

    fn desc(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let (name, ty) = (f.name(), f.ty);
        let info = self.symbol().0;
        let (kind, vmsd) = match self {
            Collection::Gtree => (
                quote!(Gtree),
                quote_spanned!(ty.span()=> <#ty as #p::GtreeMap>::VALUE_VMSD),
            ),
            _ => (quote!(Queue), quote!(<#ty as #p::QueueDesc>::ELEM_VMSD)),
        };
        Some(quote!(#p::Field::new(#name, #info, #p::FieldKind::#kind).with_vmsd(#p::Some(#vmsd))))
    }

    fn cpr_fields(&self, p: &TokenStream, f: &Field) -> TokenStream {
        let ty = f.ty;
        match self {
            Collection::Gtree => quote!(<#ty as #p::GtreeMap>::CPR_FIELDS),
            _ => quote!(<#ty as #p::QueueDesc>::CPR_FIELDS),
        }
    }

    fn stmt(&self, s: &Stmt, f: &Field) -> Option<TokenStream> {
        let (p, m, ty) = (s.p, f.member, f.ty);
        let version = f.version();
        // Every use goes through one trait bound spanned on the type, so
        // an unsupported key is one error there, not one per use. (Only
        // the path carries the type's span: the arguments keep the
        // derive's, so a type from a `macro_rules!` keeps hygiene.)
        Some(s.finish(match (self, s.save()) {
            (Collection::Gtree, true) => {
                let save = quote_spanned!(ty.span()=> <#ty as #p::GtreeMap>::save_map);
                quote!(#save(&mut self.#m, __w, __ctx))
            }
            (Collection::Gtree, false) => {
                let load = quote_spanned!(ty.span()=> <#ty as #p::GtreeMap>::load_map);
                quote!(#load(&mut self.#m, __r, #version, __ctx))
            }
            (_, true) => quote!(#p::save_queue(&mut self.#m, __w, __ctx)),
            (_, false) => quote!(#p::load_queue(&mut self.#m, __r, #version, __ctx)),
        }))
    }

    fn layout(&self, _f: &Field) -> Option<(String, String)> {
        Some((self.symbol().0.to_owned(), "varies".to_owned()))
    }
}
