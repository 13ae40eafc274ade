//! `#[derive(VmState)]`: see the `vmstate-core` crate, which re-exports it
//! with its documentation.

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod fastpath;
mod fields;
mod layout;
mod roles;
mod symbol;
mod types;
mod user_fn;

use proc_macro::TokenStream;

/// Derives `vmstate_core::VmState` (and `VmField`) from `#[vmstate(...)]`
/// attributes: a static description table and straight-line save/load code
/// in QEMU's migration format.
///
/// The full attribute reference, with examples, is the `attributes` module
/// of `vmstate-core` (`vmstate_core::attributes`).
#[proc_macro_derive(VmState, attributes(vmstate))]
pub fn derive_vm_state(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}
