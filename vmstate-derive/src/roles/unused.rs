//! `unused = N` (times `count = field` when given): zero bytes on save,
//! skipped on load.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitInt;

use super::{conflicts, Count, FieldRole};
use crate::ast::{Container, Field};
use crate::attr;
use crate::ctxt::Ctxt;
use crate::fastpath::Piece;
use crate::fields::Stmt;
use crate::symbol::{Symbol, UNUSED};
use crate::types::is_unit;

pub struct Unused {
    bytes: u64,
    count: Option<Count>,
}

impl Unused {
    pub fn new(n: &LitInt, a: &attr::Field, count: &dyn Fn(&syn::Ident) -> Count) -> Self {
        Unused {
            bytes: u64::from(attr::int_value(n)),
            count: a.count.value.as_ref().map(count),
        }
    }
}

impl FieldRole for Unused {
    fn key(&self) -> Option<Symbol> {
        Some(UNUSED)
    }

    fn check_keys(&self, cx: &Ctxt, a: &attr::Field) {
        conflicts(cx, UNUSED, &[&a.rename, &a.equal, &a.positive_le]);
    }

    fn check(&self, cx: &Ctxt, cont: &Container, field: &Field) {
        if !is_unit(field.ty) {
            cx.error_spanned_by(
                field.ty,
                "an `unused = N` placeholder must have type `()`: it holds no state",
            );
        }
        if let Some(c) = &self.count {
            c.check(cx, cont, field);
        }
    }

    fn desc(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let name = f.name();
        let n = self.bytes as usize;
        let len = self.count.as_ref().map(Count::desc);
        Some(
            quote!(#p::Field::new(#name, "unused_buffer", #p::FieldKind::Unused).with_elem_size(#n) #len),
        )
    }

    fn size_hint(&self, _p: &TokenStream, _f: &Field) -> Option<TokenStream> {
        let bytes = self.bytes as usize;
        self.count.is_none().then(|| quote!(#bytes))
    }

    fn stmt(&self, s: &Stmt, _f: &Field) -> Option<TokenStream> {
        let bytes = self.bytes;
        let n = match &self.count {
            Some(c) => {
                let len = c.stmt(s, quote!(u64::MAX));
                quote!({ #len (__n as u64).saturating_mul(#bytes) })
            }
            None => quote!(#bytes),
        };
        Some(s.finish(if s.save() {
            quote!(__w.put_zeros(#n))
        } else {
            quote!(__r.skip(#n))
        }))
    }

    fn layout(&self, _f: &Field) -> Option<(String, String)> {
        let bytes = match &self.count {
            None => self.bytes.to_string(),
            Some(c) => format!("{} x {}", self.bytes, c.times()),
        };
        Some(("unused_buffer".to_owned(), bytes))
    }

    fn piece(&self, _p: &TokenStream, _f: &Field) -> Option<Piece> {
        self.count.is_none().then_some(Piece::Unused(self.bytes))
    }
}
