//! `fd`: an owned descriptor (QEMU's `VMSTATE_FD`), CPR modes only.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::FieldRole;
use crate::ast::{Container, Field};
use crate::ctxt::Ctxt;
use crate::fields::Stmt;
use crate::symbol::{Symbol, FD};
use crate::types::{is_fd_type, type_str};

pub struct Fd;

impl FieldRole for Fd {
    fn key(&self) -> Option<Symbol> {
        Some(FD)
    }

    fn check(&self, cx: &Ctxt, _cont: &Container, field: &Field) {
        if !is_fd_type(field.ty) {
            cx.error_spanned_by(
                field.ty,
                format!(
                    "`fd` needs an owned descriptor field (OwnedFd or Option<OwnedFd>), but `{}` \
                     has type `{}`",
                    field.member,
                    type_str(field.ty)
                ),
            );
        }
    }

    fn desc(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let name = f.name();
        // One byte over a socket, four across exec: no fixed size.
        Some(quote!(#p::Field::new(#name, "fd", #p::FieldKind::Fd)))
    }

    fn cpr_fields(&self, p: &TokenStream, _f: &Field) -> TokenStream {
        quote!(#p::CprFields::FD)
    }

    fn stmt(&self, s: &Stmt, f: &Field) -> Option<TokenStream> {
        let (p, m) = (s.p, f.member);
        Some(s.finish(if s.save() {
            quote!(#p::save_fd(&self.#m, __w, __ctx))
        } else {
            quote!(#p::load_fd(&mut self.#m, __r, __ctx))
        }))
    }

    fn assertions(&self, p: &TokenStream, f: &Field, out: &mut Vec<TokenStream>) {
        let ty = f.ty;
        out.push(quote_spanned!(ty.span()=> #p::assert_fd_slot::<#ty>();));
    }

    fn layout(&self, _f: &Field) -> Option<(String, String)> {
        Some((
            "fd (cpr-transfer: + SCM_RIGHTS; cpr-exec: fd number)".to_owned(),
            "1 or 4".to_owned(),
        ))
    }
}
