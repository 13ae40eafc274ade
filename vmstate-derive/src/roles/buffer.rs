//! Raw bytes and words: `buffer` (all or part of a `[u8; N]`), `vbuffer =
//! field` (as many bytes as the field says) and `bitmap = field` (as many
//! bits, in 64-bit words).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Type;

use super::{Count, FieldRole};
use crate::ast::{Container, Field};
use crate::attr;
use crate::ctxt::Ctxt;
use crate::fastpath::Piece;
use crate::fields::Stmt;
use crate::layout;
use crate::symbol::{Symbol, BITMAP, BUFFER, VBUFFER};
use crate::types::{holder, primitive_name, strip, type_str};

pub struct Buffer {
    start: Option<u32>,
    size: Option<u32>,
}

impl Buffer {
    pub fn new(a: &attr::Field) -> Self {
        Buffer {
            start: a.start.value.as_ref().map(attr::int_value),
            size: a.size.value.as_ref().map(attr::int_value),
        }
    }

    /// The first byte and the end, as `usize` expressions.
    fn range(&self, p: &TokenStream, ty: &Type) -> (usize, TokenStream) {
        let start = self.start.unwrap_or(0) as usize;
        let end = match self.size {
            Some(s) => {
                let s = s as usize;
                quote!(#start + #s)
            }
            None => quote!(<#ty as #p::ByteArray>::LEN),
        };
        (start, end)
    }
}

impl FieldRole for Buffer {
    fn key(&self) -> Option<Symbol> {
        Some(BUFFER)
    }

    fn check(&self, cx: &Ctxt, _cont: &Container, field: &Field) {
        let ty = type_str(field.ty);
        match strip(field.ty) {
            Type::Array(arr) if primitive_name(&arr.elem).as_deref() == Some("u8") => {
                let len = match &arr.len {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(n),
                        ..
                    }) => n.base10_parse::<u64>().ok(),
                    _ => None,
                };
                let start = self.start.map_or(0, u64::from);
                let size = self.size.map(u64::from);
                if let Some(n) = len {
                    let end = start + size.unwrap_or(n.saturating_sub(start));
                    if start > n || end > n {
                        cx.error_spanned_by(
                            field.ty,
                            format!("`buffer` bytes {start}..{end} do not fit in `{ty}`"),
                        );
                    }
                }
            }
            _ => cx.error_spanned_by(
                field.ty,
                format!("`buffer` needs a `[u8; N]` field, not `{ty}`"),
            ),
        }
    }

    fn desc(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let (name, ty) = (f.name(), f.ty);
        let start = self.start.unwrap_or(0) as usize;
        let size = match self.size {
            Some(s) => quote!(#s as usize),
            // Checked at compile time (`assertions`); saturating keeps the
            // table itself from failing first.
            None => quote!(<#ty as #p::ByteArray>::LEN.saturating_sub(#start)),
        };
        Some(quote!(#p::Field::new(#name, "buffer", #p::FieldKind::Leaf).with_elem_size(#size)))
    }

    fn size_hint(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let (start, end) = self.range(p, f.ty);
        Some(quote!((#end).saturating_sub(#start)))
    }

    fn stmt(&self, s: &Stmt, f: &Field) -> Option<TokenStream> {
        let (p, m) = (s.p, f.member);
        let (start, end) = self.range(p, f.ty);
        let bytes = s.item(f, quote!(ByteArray), quote!(bytes_mut));
        Some(s.finish(if s.save() {
            quote!(#p::save_buffer(#bytes(&mut self.#m), #start, #end, __w))
        } else {
            quote!(#p::load_buffer(#bytes(&mut self.#m), #start, #end, __r))
        }))
    }

    fn assertions(&self, p: &TokenStream, f: &Field, out: &mut Vec<TokenStream>) {
        let ty = f.ty;
        let end = self.start.unwrap_or(0) as usize + self.size.unwrap_or(0) as usize;
        if end > 0 {
            let msg = format!(
                "`buffer` bytes {}..{end} of `{}` lie beyond the array",
                self.start.unwrap_or(0),
                f.member
            );
            out.push(quote_spanned! {ty.span()=>
                ::core::assert!(#end <= <#ty as #p::ByteArray>::LEN, #msg);
            });
        }
    }

    fn layout(&self, f: &Field) -> Option<(String, String)> {
        let bytes = match (layout::primitive(f.ty), self.size) {
            (_, Some(s)) => s.to_string(),
            (Some((_, b)), None) => (b - u64::from(self.start.unwrap_or(0))).to_string(),
            (None, None) => "varies".to_owned(),
        };
        Some(("buffer".to_owned(), bytes))
    }

    fn piece(&self, p: &TokenStream, f: &Field) -> Option<Piece> {
        let (start, end) = self.range(p, f.ty);
        Some(Piece::Buffer(quote!(#start), end))
    }
}

/// The length field, and a `[elem; N]` or `Vec<elem>` field (`what`:
/// what the elements are, for the message).
fn check_counted(
    cx: &Ctxt,
    cont: &Container,
    field: &Field,
    (count, key): (&Count, Symbol),
    (elem, what): (&str, &str),
) {
    count.check(cx, cont, field);
    let elem_ok = holder(field.ty)
        .and_then(|h| primitive_name(h.elem()))
        .is_some_and(|id| id == elem);
    if !elem_ok {
        cx.error_spanned_by(
            field.ty,
            format!(
                "`{key}` needs a `[{elem}; N]` or `Vec<{elem}>` field{what}, not `{}`",
                type_str(field.ty)
            ),
        );
    }
}

pub struct VBuffer(pub Count);

impl FieldRole for VBuffer {
    fn key(&self) -> Option<Symbol> {
        Some(VBUFFER)
    }

    fn check(&self, cx: &Ctxt, cont: &Container, field: &Field) {
        check_counted(cx, cont, field, (&self.0, VBUFFER), ("u8", ""));
    }

    fn desc(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let name = f.name();
        let len = self.0.desc();
        Some(quote!(#p::Field::new(#name, "buffer", #p::FieldKind::Leaf) #len))
    }

    fn size_hint(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        Some(self.0.size_hint(p, f))
    }

    fn stmt(&self, s: &Stmt, f: &Field) -> Option<TokenStream> {
        Some(self.0.elements(s, f, false))
    }

    fn layout(&self, _f: &Field) -> Option<(String, String)> {
        Some(("buffer".to_owned(), self.0.times()))
    }
}

/// Its count is in bits.
pub struct Bitmap(pub Count);

impl Bitmap {
    pub fn new(bits: Count) -> Self {
        Bitmap(Count {
            multiply: 1,
            ..bits
        })
    }
}

impl FieldRole for Bitmap {
    fn key(&self) -> Option<Symbol> {
        Some(BITMAP)
    }

    fn check(&self, cx: &Ctxt, cont: &Container, field: &Field) {
        let words = ("u64", " (64-bit words)");
        check_counted(cx, cont, field, (&self.0, BITMAP), words);
    }

    fn desc(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let (name, bits) = (f.name(), &self.0.name);
        Some(
            quote!(#p::Field::new(#name, "bitmap", #p::FieldKind::Leaf).with_length_from(#bits, 1)),
        )
    }

    fn size_hint(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        Some(self.0.size_hint(p, f))
    }

    fn stmt(&self, s: &Stmt, f: &Field) -> Option<TokenStream> {
        Some(self.0.elements(s, f, true))
    }

    fn layout(&self, _f: &Field) -> Option<(String, String)> {
        Some((
            "bitmap".to_owned(),
            format!("8 x ceil(`{}` / 64)", self.0.field),
        ))
    }
}
