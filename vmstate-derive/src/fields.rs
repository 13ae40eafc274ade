//! Per-field code: the description-table entry and the save and load
//! statements, the role's part (`roles/`) wrapped in what every field
//! has. `expand.rs` puts them together.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::Field;
use crate::user_fn::{user_fn, UserFn};

/// The `Field` entry of the table, or `None` for fields not in it.
pub fn desc(p: &TokenStream, f: &Field) -> Option<TokenStream> {
    let version = f.version();
    let exists = f.attrs.exists.is_set().then(|| quote!(.with_exists()));
    let qemu_size = f.attrs.qemu_size.value.as_ref().map(|n| {
        let n = crate::attr::int_value(n) as usize;
        quote!(.with_qemu_size(#n))
    });
    let base = f.role.get().desc(p, f)?;
    let cpr = f.role.get().cpr_fields(p, f);
    Some(quote!(#base.with_version(#version) #exists #qemu_size .with_cpr_fields(#cpr)))
}

/// Which side: the stream variable, its offset, and the direction.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Save,
    /// Saving to a recording writer: nested saves record too.
    SaveRecorded,
    Load,
}

/// What a role's statement is generated with.
pub struct Stmt<'p> {
    /// The path of the runtime's private module.
    pub p: &'p TokenStream,
    pub dir: Dir,
    /// The stream's offset.
    pub offset: TokenStream,
    /// The field's name, for its errors.
    pub name: String,
}

impl Stmt<'_> {
    pub fn save(&self) -> bool {
        self.dir != Dir::Load
    }

    pub fn recorded(&self) -> bool {
        self.dir == Dir::SaveRecorded
    }

    /// `<Ty as Trait>::item`, spanned on the field's type: one error per
    /// bad type.
    pub fn item(&self, f: &Field, tr: TokenStream, it: TokenStream) -> TokenStream {
        let (p, ty) = (self.p, f.ty);
        quote_spanned!(ty.span()=> <#ty as #p::#tr>::#it)
    }

    /// The value of `body` (a `Result`), or a return of its error naming
    /// the field. A match, not `?` on a `map_err` closure: each `?` and
    /// each closure is more for the compiler to check, once per field and
    /// body.
    pub fn named(&self, body: TokenStream) -> TokenStream {
        let (p, name) = (self.p, &self.name);
        quote! {
            match #body {
                #p::Ok(__v) => __v,
                #p::Err(__e) => return #p::Err(__e.field(#name)),
            }
        }
    }

    /// `body` (a `Result<()>`) as a statement, its error naming the field.
    pub fn finish(&self, body: TokenStream) -> TokenStream {
        let named = self.named(body);
        quote!(#named;)
    }
}

/// The statement that saves or loads field `f` (without its existence
/// gate).
pub fn stmt(p: &TokenStream, f: &Field, dir: Dir) -> Option<TokenStream> {
    let name = f.name();
    let offset = if dir == Dir::Load {
        quote!(__r.offset())
    } else {
        quote!(__w.offset())
    };
    let s = Stmt {
        p,
        dir,
        offset,
        name,
    };
    f.role.get().stmt(&s, f)
}

/// The existence test of a field at version `__version` (the save or the
/// stream version): the `exists` predicate if any, else the field version.
pub fn exists_test(f: &Field) -> Option<TokenStream> {
    if let Some(path) = &f.attrs.exists.value {
        let call = user_fn(path, UserFn::Test);
        return Some(quote!(#call(&*self, __version)));
    }
    let v = f.version();
    // Saved at the struct's own version, a field is always there (its
    // version is checked not to exceed the struct's); `struct_version`
    // saves at lower versions.
    (v > 0).then(|| quote!(__version >= #v))
}

/// `body` under `test`, if any.
pub fn gate(test: Option<TokenStream>, body: TokenStream) -> TokenStream {
    match test {
        Some(t) => quote!(if #t { #body }),
        None => body,
    }
}
