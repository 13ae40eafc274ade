//! `subsection` (with its `needed` predicate): a derived struct sent after
//! the fields, with its own description, when needed. Not in the field
//! table: the struct's subsection list and code of its own.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Type;

use super::FieldRole;
use crate::ast::{Container, Field};
use crate::attr;
use crate::ctxt::Ctxt;
use crate::fastpath;
use crate::fields::gate;
use crate::layout::{path_str, ty_doc};
use crate::symbol::{Symbol, SUBSECTION};
use crate::types::{is_primitive, strip, type_str};
use crate::user_fn::{user_fn, UserFn};

pub struct Subsection {
    needed: Option<syn::ExprPath>,
}

impl Subsection {
    pub fn new(a: &attr::Field) -> Self {
        Subsection {
            needed: a.needed.value.clone(),
        }
    }

    /// The entry of the struct's subsection list.
    pub fn table_entry(&self, p: &TokenStream, f: &Field) -> TokenStream {
        let ty = f.ty;
        let member = f.member.to_string();
        let has_needed = self.needed.is_some();
        quote!(#p::Subsection::new(<#ty as #p::VmState>::VMSD, #member, #has_needed))
    }

    /// The save, when needed: header and fields.
    pub fn save(&self, p: &TokenStream, f: &Field, recorded: bool) -> TokenStream {
        let member = f.member;
        let ty = f.ty;
        let sub = quote!(<#ty as #p::VmState>::VMSD);
        let save_fn = if recorded {
            quote_spanned!(ty.span()=> <#ty as #p::VmState>::save_state_v_recorded)
        } else {
            quote_spanned!(ty.span()=> <#ty as #p::VmState>::save_state_v)
        };
        let mut stmt = quote! {
            #p::in_subsection(#p::subsection_header(__w, <#ty as #p::VmState>::NAME, #sub), #sub.name)?;
            #p::in_subsection(#save_fn(&mut self.#member, __w, #sub.version_id, __ctx), #sub.name)?;
        };
        if !recorded {
            stmt = fastpath::save_subsection(p, ty, member, stmt);
        }
        gate(self.needed_test(), stmt)
    }

    /// The `needed` call on `self`, if any (else the subsection is always
    /// sent).
    pub fn needed_test(&self) -> Option<TokenStream> {
        self.needed.as_ref().map(|path| {
            let call = user_fn(path, UserFn::Needed);
            quote!(#call(&*self))
        })
    }

    /// The line of the layout docs' subsection list.
    pub fn layout(&self, f: &Field) -> String {
        format!(
            "* `{}` (type {}), {}\n",
            f.member,
            ty_doc(f.ty),
            match &self.needed {
                Some(p) => format!("sent when `{}` returns true", path_str(p)),
                None => "always sent".to_owned(),
            }
        )
    }
}

impl FieldRole for Subsection {
    fn key(&self) -> Option<Symbol> {
        Some(SUBSECTION)
    }

    fn on_wire(&self) -> bool {
        false
    }

    fn check_keys(&self, cx: &Ctxt, a: &attr::Field) {
        super::conflicts(cx, SUBSECTION, &super::entry_keys(a));
    }

    /// Catches the types that syntactically cannot be a derived struct.
    fn check(&self, cx: &Ctxt, _cont: &Container, field: &Field) {
        let what = match strip(field.ty) {
            Type::Path(p) if p.qself.is_none() && p.path.get_ident().is_some_and(is_primitive) => {
                "a primitive"
            }
            Type::Array(_) => "an array",
            Type::Tuple(_) => "a tuple",
            Type::Ptr(_) | Type::Reference(_) => "a pointer",
            Type::Slice(_) => "a slice",
            _ => return,
        };
        cx.error_spanned_by(
            field.ty,
            format!(
                "subsection `{}` has type `{}`, which is {what}: a subsection must be a \
                 #[derive(VmState)] struct (its own description, named with the parent's name as \
                 prefix)",
                field.member,
                type_str(field.ty)
            ),
        );
    }

    fn cpr_fields(&self, p: &TokenStream, f: &Field) -> TokenStream {
        let ty = f.ty;
        quote!(<#ty as #p::VmState>::CPR_FIELDS)
    }

    /// Header and payload, needed or not (no user code runs for a hint).
    fn size_hint(&self, p: &TokenStream, f: &Field) -> Option<TokenStream> {
        let (m, ty) = (f.member, f.ty);
        let state = quote!(<#ty as #p::VmState>);
        Some(quote!((6 + #state::NAME.len()).saturating_add(#state::payload_size_hint(&self.#m))))
    }

    fn assertions(&self, p: &TokenStream, f: &Field, out: &mut Vec<TokenStream>) {
        let ty = f.ty;
        out.push(quote!(let _ = <#ty as #p::VmState>::VMSD;));
    }
}

/// The load of the subsections after the fields: each known one at most
/// once, in any order; an unknown one with the struct's prefix is an error.
pub fn load(p: &TokenStream, subsections: &[(&Field, &Subsection)]) -> TokenStream {
    if subsections.is_empty() {
        // Still peek: a name with our prefix that we do not know is an error.
        return quote! {
            #p::reject_unknown_subsection(
                __r,
                <Self as #p::VmState>::VMSD,
                <Self as #p::VmState>::NAME,
            )?;
        };
    }
    let n = subsections.len();
    // A chain of tests against constants, which the compiler turns into a
    // switch on the length, as for a `match` on the name.
    let tests = subsections.iter().enumerate().map(|(i, (f, _))| {
        let ty = f.ty;
        let name = quote_spanned!(ty.span()=> <#ty as #p::VmState>::NAME);
        quote! {
            if #p::is_name(#name, __name) {
                return #p::Some(#i);
            }
        }
    });
    let arms = subsections.iter().enumerate().map(|(i, (f, _))| {
        let member = f.member;
        let ty = f.ty;
        let sub = quote!(<#ty as #p::VmState>::VMSD);
        let load_fn = quote_spanned!(ty.span()=> <#ty as #p::VmState>::load_state_in_place);
        quote! {
            #i => {
                #p::note_subsection(&mut __seen[#i], #sub.name, __ctx, __at)?;
                #p::in_subsection(#load_fn(&mut self.#member, __r, __sv, __ctx), #sub.name)?;
            }
        }
    });
    // The common case, no subsection, is one byte test before the loop
    // and its bookkeeping.
    quote! {
        if #p::at_subsection_marker(__r)? {
            let mut __seen = [false; #n];
            loop {
                let __at = __r.offset();
                let #p::Some((__idx, __sv)) = #p::next_known_subsection(
                    __r,
                    <Self as #p::VmState>::VMSD,
                    <Self as #p::VmState>::NAME,
                    |__name: &[u8]| {
                        #(#tests)*
                        #p::None
                    },
                )?
                else {
                    break;
                };
                match __idx {
                    #(#arms)*
                    _ => return #p::Err(#p::bad_subsection_index(__at)),
                }
            }
        }
    }
}

/// A compile-time check that the subsection's description name starts
/// with the parent's (`name`).
pub fn prefix_assertion(p: &TokenStream, f: &Field, name: &str) -> TokenStream {
    let ty = f.ty;
    let member = f.member;
    let msg = format!(
        "subsection `{member}`: the description name of `{}` must start with the parent's \
         name \"{name}\" and be longer, e.g. #[vmstate(name = \"{name}/{member}\")] on `{}` \
         (QEMU finds a subsection by its name's prefix)",
        quote!(#ty),
        quote!(#ty),
    );
    // A named constant, so that rustc's "evaluation of ... failed" label
    // says what was checked.
    let check = quote::format_ident!(
        "SUBSECTION_{}_NAME_HAS_PARENT_PREFIX",
        syn::ext::IdentExt::unraw(member).to_string().to_uppercase()
    );
    quote_spanned! {ty.span()=>
        #[allow(dead_code)]
        const #check: () = ::core::assert!(
            #p::starts_with(<#ty as #p::VmState>::VMSD.name, #name)
                && <#ty as #p::VmState>::VMSD.name.len() > #name.len(),
            #msg
        );
    }
}
