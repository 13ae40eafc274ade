//! `validate = path` (QEMU's `VMSTATE_VALIDATE`): a check of the loaded
//! state, nothing on the wire.

use proc_macro2::TokenStream;
use quote::quote;

use super::FieldRole;
use crate::ast::{Container, Field};
use crate::ctxt::Ctxt;
use crate::fields::Stmt;
use crate::layout::path_str;
use crate::symbol::{Symbol, VALIDATE};
use crate::user_fn::{user_fn, UserFn};

pub struct Validate {
    pub path: syn::ExprPath,
}

impl FieldRole for Validate {
    fn key(&self) -> Option<Symbol> {
        Some(VALIDATE)
    }

    fn check(&self, cx: &Ctxt, _cont: &Container, field: &Field) {
        super::unit_placeholder(cx, field);
    }

    fn desc(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let name = f.name();
        // QEMU's VMSTATE_VALIDATE is an array of 0 elements.
        Some(quote!(#p::Field::new(#name, "", #p::FieldKind::Validate)
            .with_array_len(#p::Some(0))))
    }

    fn stmt(&self, s: &Stmt, f: &Field) -> Option<TokenStream> {
        let (p, offset) = (s.p, &s.offset);
        let call = user_fn(&self.path, UserFn::Test);
        let name = f.name();
        Some(s.finish(quote!(#p::validate(#call(&*self, __version), #name, #offset))))
    }

    fn layout(&self, _f: &Field) -> Option<(String, String)> {
        let path = path_str(&self.path);
        Some((format!("check: `{path}` must return true"), "0".to_owned()))
    }
}
