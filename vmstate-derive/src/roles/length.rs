//! Lengths taken from an earlier field (`count`, `vbuffer`, `bitmap`): the
//! check of that field and the code that reads it, shared by the roles
//! that have one.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Ident;

use crate::ast::{Container, Field};
use crate::ctxt::Ctxt;
use crate::fields::Stmt;
use crate::types::{holder, primitive_name, Holder};

/// A length taken from an earlier field, times a constant.
pub struct Count {
    pub field: Ident,
    /// That field's description name.
    pub name: String,
    pub multiply: u32,
}

impl Count {
    /// `.with_length_from(NAME, MULTIPLY)` of a table entry.
    pub fn desc(&self) -> TokenStream {
        let (field, mult) = (&self.name, self.multiply);
        quote!(.with_length_from(#field, #mult))
    }

    /// The length field must exist, come earlier (QEMU reads a count from
    /// the struct, so the counter must be loaded first) and be a counter.
    pub fn check(&self, cx: &Ctxt, cont: &Container, field: &Field) {
        let src = &self.field;
        let pos = cont.fields.iter().position(|f| f.member == src);
        let me = cont.fields.iter().position(|f| f.member == field.member);
        match (pos, me) {
            (None, _) => cx.error_spanned_by(
                src,
                format!("`{src}` is not a field of this struct: a length must come from an earlier field"),
            ),
            (Some(p), Some(m)) if p >= m => cx.error_spanned_by(
                src,
                format!(
                    "`{src}` comes after `{}`: QEMU reads a length from the struct, so the field \
                     that holds it must be loaded first",
                    field.member
                ),
            ),
            (Some(p), _) => {
                let src_ty = cont.fields.get(p).map(|f| f.ty);
                if let Some(id) = src_ty.and_then(primitive_name) {
                    if !["u8", "u16", "u32", "i32"].contains(&id.as_str()) {
                        cx.error_spanned_by(
                            src,
                            format!(
                                "`{src}` has type `{id}`: a length field must be u8, u16, u32 \
                                 or i32 (QEMU's counter widths)"
                            ),
                        );
                    }
                }
            }
        }
    }

    /// The size hint of field `f`, whose length this is: what it holds
    /// (its count may send fewer).
    pub fn size_hint(&self, p: &TokenStream, f: &Field) -> TokenStream {
        let (m, ty) = (f.member, f.ty);
        quote!(<#ty as #p::VarArray>::size_hint(&self.#m))
    }

    /// `let __n = length(self.count, mult, cap, "count", offset)?;`, its
    /// error naming the field being loaded.
    pub fn stmt(&self, s: &Stmt, cap: TokenStream) -> TokenStream {
        let (p, offset) = (s.p, &s.offset);
        let field = &self.field;
        let fname = &self.name;
        let mult = self.multiply;
        // Spanned on the count field: a wrong counter type is reported
        // there. `self` resolves here, so the field is borrowed into a
        // binding of the field's span first: `self` with the span of a name
        // from a `macro_rules!` caller would not resolve.
        let src = Ident::new("__count", field.span());
        let value = quote_spanned!(field.span()=> #p::CountField::clone_value(#src));
        let length = quote_spanned!(field.span()=> #p::length);
        let n = s.named(quote! {{
            let #src = &self.#field;
            #length(#value, #mult, #cap, #fname, #offset)
        }});
        quote!(let __n = #n;)
    }

    /// A field whose length this is: a variable array, a variable buffer or
    /// (`bitmap`: a length in bits) a bitmap. The length is checked against
    /// the holder before any element moves.
    pub fn elements(&self, s: &Stmt, f: &Field, bitmap: bool) -> TokenStream {
        let p = s.p;
        let m = f.member;
        let (save, recorded) = (s.save(), s.recorded());
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
        let len = self.stmt(s, cap);
        let n = if bitmap {
            quote!(#p::bitmap_words(__n))
        } else {
            quote!(__n)
        };
        let count_name = &self.name;
        let call = match (save, fixed) {
            (true, true) => quote!(#p::save_prefix(&mut self.#m, #n, __w, __ctx, #recorded)),
            (false, true) => quote!(#p::load_prefix(&mut self.#m, #n, __r, __ctx)),
            (true, false) => {
                quote!(#p::save_vec(&mut self.#m, #n, #count_name, __w, __ctx, #recorded))
            }
            (false, false) => quote!(#p::load_vec(&mut self.#m, #n, __r, __ctx)),
        };
        let call = s.finish(call);
        quote!({
            #len
            #call
        })
    }

    /// The layout docs' count: "`field`" or "`field` x N".
    pub fn times(&self) -> String {
        match self.multiply {
            1 => format!("`{}`", self.field),
            m => format!("`{}` x {m}", self.field),
        }
    }
}
