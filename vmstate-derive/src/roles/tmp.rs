//! `tmp = Type` (QEMU's `VMSTATE_WITH_TMP`): a temporary built from the
//! struct on save and applied to it on load.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::FieldRole;
use crate::ast::{Container, Field};
use crate::ctxt::Ctxt;
use crate::fields::Stmt;
use crate::layout::ty_str;
use crate::symbol::{Symbol, TMP};

pub struct Tmp {
    pub ty: syn::Type,
}

impl FieldRole for Tmp {
    fn key(&self) -> Option<Symbol> {
        Some(TMP)
    }

    fn check(&self, cx: &Ctxt, _cont: &Container, field: &Field) {
        super::unit_placeholder(cx, field);
    }

    fn desc(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let (name, t) = (f.name(), &self.ty);
        Some(quote! {
            #p::Field::new(#name, "tmp", #p::FieldKind::Tmp)
                .with_vmsd(#p::Some(<#t as #p::VmState>::VMSD))
        })
    }

    fn cpr_fields(&self, p: &TokenStream, _f: &Field) -> TokenStream {
        let t = &self.ty;
        quote!(<#t as #p::VmState>::CPR_FIELDS)
    }

    fn stmt(&self, s: &Stmt, f: &Field) -> Option<TokenStream> {
        let (p, t) = (s.p, &self.ty);
        // Located at the type, resolved here: `self` with a span from a
        // `macro_rules!` caller would not resolve.
        let span = proc_macro2::Span::call_site().located_at(t.span());
        Some(s.finish(if s.save() {
            let recorded = s.recorded();
            quote_spanned!(span=> #p::save_tmp::<#t, Self, _>(&*self, __w, __ctx, #recorded))
        } else {
            let version = f.version();
            quote_spanned!(span=> #p::load_tmp::<#t, Self, _>(self, __r, #version, __ctx))
        }))
    }

    fn layout(&self, _f: &Field) -> Option<(String, String)> {
        let t = ty_str(&self.ty);
        Some((format!("tmp (`{t}`)"), "varies".to_owned()))
    }
}
