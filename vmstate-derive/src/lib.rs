//! `#[derive(VmState)]`: see the `vmstate-core` crate, which re-exports it
//! with its documentation.

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod layout;
mod symbol;

use proc_macro::TokenStream;

/// Derives `vmstate_core::VmState`; documented in `vmstate-core`.
#[proc_macro_derive(VmState, attributes(vmstate))]
pub fn derive_vm_state(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}
