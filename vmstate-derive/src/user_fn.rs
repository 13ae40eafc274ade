//! The user's functions that keys name (hooks, `needed`, `exists`,
//! `validate`), called through a binding of the signature the key requires.

use proc_macro2::TokenStream;
use quote::quote_spanned;
use syn::spanned::Spanned;

/// The kinds of user functions a key names, with their signatures.
#[derive(Clone, Copy)]
pub enum UserFn {
    /// `pre_save`, `post_save`, `pre_load`.
    Hook,
    /// `post_load`.
    PostLoad,
    /// `needed` (struct or subsection).
    Needed,
    /// `exists`, `validate`.
    Test,
}

/// The user's function as a fn pointer of the signature its key requires:
/// a binding with that type, spanned on the user's path, so a wrong
/// signature is one "mismatched types" error on the path, naming the
/// expected and the found signature (and nothing inside this crate).
pub fn user_fn(path: &syn::ExprPath, kind: UserFn) -> TokenStream {
    let span = path.span();
    let ty = match kind {
        UserFn::Hook => quote_spanned!(span=> fn(&mut Self) -> ::core::result::Result<(), _>),
        UserFn::PostLoad => {
            quote_spanned!(span=> fn(&mut Self, u32) -> ::core::result::Result<(), _>)
        }
        UserFn::Needed => quote_spanned!(span=> fn(&Self) -> bool),
        UserFn::Test => quote_spanned!(span=> fn(&Self, u32) -> bool),
    };
    // Parenthesized: a block followed by `(args)` in statement position
    // would parse as two statements.
    quote_spanned!(path.span()=> ({
        let __f: #ty = #path;
        __f
    }))
}
