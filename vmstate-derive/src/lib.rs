//! placeholder
use proc_macro::TokenStream;
#[proc_macro_derive(VmState, attributes(vmstate))]
pub fn derive_vm_state(_input: TokenStream) -> TokenStream { TokenStream::new() }
