//! Code generation: the description table and monomorphic save/load code.
//!
//! Everything generated goes through `<crate>::__private` with fully
//! qualified paths, so user code cannot shadow it.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::{Container, Field};
use crate::check;
use crate::ctxt::Ctxt;
use crate::fastpath;
use crate::fields::{self, exists_test, gate, Dir};
use crate::layout;
use crate::roles::{subsection, Subsection};
use crate::user_fn::{user_fn, UserFn};

pub fn derive(input: &syn::DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let cont = Container::from_ast(&cx, input);
    if let Some(c) = &cont {
        check::check(&cx, c);
    }
    match (cx.check(), cont) {
        (Ok(()), Some(cont)) => expand(&cont),
        (Err(e), _) => {
            let mut out = e.to_compile_error();
            out.extend(fallback(input));
            out
        }
        (Ok(()), None) => fallback(input),
    }
}

fn private(cont: &Container) -> TokenStream {
    let root = root(cont);
    quote!(#root::__private)
}

/// The runtime crate's public root: used where a path shows in rendered
/// docs (associated consts), so that no `__private` path appears there.
fn root(cont: &Container) -> TokenStream {
    match &cont.attrs.krate.value {
        Some(path) => quote!(#path),
        None => quote!(::vmstate_core),
    }
}

/// After an error: an impl that type-checks, so the user sees the real
/// error and not a cascade of "VmState is not implemented".
fn fallback(input: &syn::DeriveInput) -> TokenStream {
    let ident = &input.ident;
    let (impl_g, ty_g, where_c) = input.generics.split_for_impl();
    // Honour `crate = "..."` here too: a user who needs it may have no
    // `vmstate_core` in scope, and every path below would fail to resolve.
    // The attributes' errors, if any, were reported already.
    let cx = Ctxt::new();
    let krate = crate::attr::Container::from_ast(&cx, input).krate.value;
    let _ = cx.check();
    let p = match krate {
        Some(path) => quote!(#path::__private),
        None => quote!(::vmstate_core::__private),
    };
    quote! {
        #[allow(unreachable_code)]
        impl #impl_g #p::VmState for #ident #ty_g #where_c {
            const VMSD: &'static #p::Vmsd = &#p::Vmsd::new("", 0, 0, &[], &[]);
            fn save_state_v<__W: #p::Sink>(&mut self, _: &mut #p::Writer<__W>, _: u32, _: &#p::Context) -> #p::Result<()> {
                ::core::unimplemented!()
            }
            fn load_state_in_place<__S: #p::Source>(&mut self, _: &mut #p::Reader<__S>, _: u32, _: &#p::Context) -> #p::Result<()> {
                ::core::unimplemented!()
            }
        }
        #[allow(unreachable_code)]
        impl #impl_g #p::VmField for #ident #ty_g #where_c {
            const INFO: &'static str = "struct";
            const ELEM_SIZE: usize = 0;
            fn save<__W: #p::Sink>(&mut self, _: &mut #p::Writer<__W>, _: &#p::Context) -> #p::Result<()> {
                ::core::unimplemented!()
            }
            fn load<__S: #p::Source>(&mut self, _: &mut #p::Reader<__S>, _: &#p::Context) -> #p::Result<()> {
                ::core::unimplemented!()
            }
        }
    }
}

fn expand(cont: &Container) -> TokenStream {
    let p = private(cont);
    let root = root(cont);
    let ident = cont.ident;
    let name = cont.vmsd_name();
    let version = cont.version();
    let min_version = cont.minimum_version();

    let field_descs = cont.fields.iter().filter_map(|f| fields::desc(&p, f));
    let subsections: Vec<(&Field, &Subsection)> = cont
        .fields
        .iter()
        .filter_map(|f| Some((f, f.role.subsection()?)))
        .collect();
    let sub_descs = subsections.iter().map(|(f, s)| s.table_entry(&p, f));
    let a = &cont.attrs;
    let hooks = [
        a.pre_save.is_set(),
        a.post_save.is_set(),
        a.pre_load.is_set(),
        a.post_load.is_set(),
    ];
    let [h0, h1, h2, h3] = hooks;

    let section_needed = cont.attrs.needed.value.as_ref().map(|path| {
        let call = user_fn(path, UserFn::Needed);
        quote! {
            fn section_needed(&self) -> bool {
                #call(self)
            }
        }
    });
    let save_plain = save_body(&p, cont, &subsections, false);
    let save_body_recorded = save_body(&p, cont, &subsections, true);
    let load_body = load_body(&p, cont, &subsections);
    let segs = fastpath::segments(&p, cont);
    let run_consts = fastpath::consts(&p, &segs);
    let run_helpers = fastpath::helpers(&p, ident, &segs, !a.pre_save.is_set());
    let fixed_items = fastpath::fixed_items(&p, cont, &segs);
    let fixed_state_items = fixed_items
        .as_ref()
        .map(|_| fastpath::fixed_state_items(&p, &segs, version));
    let bounded_items = fastpath::bounded_items(&p, cont, &segs, &subsections);
    let asserts = assertions(&p, cont, &subsections, &name);
    let doc = layout::doc(cont);
    let size_hints = cont
        .fields
        .iter()
        .filter_map(|f| f.role.get().size_hint(&p, f));
    let cpr_fields = cont
        .fields
        .iter()
        .fold(quote!(#p::CprFields::NONE), |acc, f| {
            let c = f.role.get().cpr_fields(&p, f);
            quote!(#acc.union(#c))
        });

    let n_fields = cont
        .fields
        .iter()
        .filter(|f| f.role.get().on_wire())
        .count();
    let n_subs = subsections.len();
    quote! {
        const _: () = {
            // Statics, not promoted constants: the tables refer to other
            // types' descriptions.
            static __FIELDS: [#p::Field; #n_fields] = [#(#field_descs),*];
            static __SUBSECTIONS: [#p::Subsection; #n_subs] = [#(#sub_descs),*];
            static __VMSD: #p::Vmsd = #p::Vmsd::new(
                #name,
                #version,
                #min_version,
                &__FIELDS,
                &__SUBSECTIONS,
            )
            .with_hooks(#p::Hooks::new(#h0, #h1, #h2, #h3))
            .with_cpr_fields(<#ident as #p::VmState>::CPR_FIELDS);

            #run_consts

            #run_helpers

        #[doc = #doc]
        #[allow(rustdoc::private_intra_doc_links, rustdoc::broken_intra_doc_links)]
        #[automatically_derived]
        impl #ident {}

        #[automatically_derived]
        impl #p::VmState for #ident {
            const VMSD: &'static #p::Vmsd = &__VMSD;
            const NAME: &'static str = #name;
            const CPR_FIELDS: #p::CprFields = #cpr_fields;

            // Inlined whole into the caller, as a hand-written loader is:
            // for a small description the call, the frame for the error
            // and the result test cost as much as its fields, and a large
            // one measured faster inlined too (vmstate-bench's callgrind
            // counts). A type has few callers: its parents and a dispatch.
            #[inline(always)]
            fn save_state_v<__W: #p::Sink>(
                &mut self,
                __w: &mut #p::Writer<__W>,
                __version: u32,
                __ctx: &#p::Context,
            ) -> #p::Result<()> {
                #save_plain
            }

            fn save_state_v_recorded<__W: #p::Sink>(
                &mut self,
                __w: &mut #p::Writer<__W>,
                __version: u32,
                __ctx: &#p::Context,
            ) -> #p::Result<()> {
                #save_body_recorded
            }

            #[inline(always)]
            fn load_state_in_place<__S: #p::Source>(
                &mut self,
                __r: &mut #p::Reader<__S>,
                __version: u32,
                __ctx: &#p::Context,
            ) -> #p::Result<()> {
                #load_body
            }

            #section_needed

            #[inline]
            fn payload_size_hint(&self) -> usize {
                0usize #(.saturating_add(#size_hints))*
            }

            #fixed_state_items

            #bounded_items
        }

        /// Nested as a field: QEMU's `VMSTATE_STRUCT`, saved and loaded at
        /// the struct's own current version.
        #[automatically_derived]
        impl #p::VmField for #ident {
            const INFO: &'static str = "struct";
            const ELEM_SIZE: usize = 0;
            // The value through the public root: rustdoc shows it.
            const KIND: #p::FieldKind = #root::FieldKind::Struct;
            const VMSD: #p::Option<&'static #p::Vmsd> =
                #p::Some(<Self as #p::VmState>::VMSD);
            const CPR_FIELDS: #p::CprFields = <Self as #p::VmState>::CPR_FIELDS;

            #[inline(always)]
            fn save<__W: #p::Sink>(
                &mut self,
                __w: &mut #p::Writer<__W>,
                __ctx: &#p::Context,
            ) -> #p::Result<()> {
                <Self as #p::VmState>::save_state(self, __w, __ctx)
            }

            fn save_recorded<__W: #p::Sink>(
                &mut self,
                __w: &mut #p::Writer<__W>,
                __ctx: &#p::Context,
            ) -> #p::Result<()> {
                <Self as #p::VmState>::save_state_v_recorded(
                    self,
                    __w,
                    <Self as #p::VmState>::VMSD.version_id,
                    __ctx,
                )
            }

            #[inline]
            fn size_hint(&self) -> usize {
                if <Self as #p::VmField>::FIXED {
                    <Self as #p::VmField>::FIXED_SIZE
                } else {
                    <Self as #p::VmState>::payload_size_hint(self)
                }
            }

            fn save_slice_recorded<__W: #p::Sink>(
                __items: &mut [Self],
                __w: &mut #p::Writer<__W>,
                __ctx: &#p::Context,
            ) -> #p::Result<()> {
                #p::save_elems_recorded(__items, __w, __ctx)
            }

            // Inlined always, as the state's load and save are: with
            // `#[inline]` LLVM kept some out of line in a parent's array
            // loop (a call, and the reader by address, per element).
            #[inline(always)]
            fn load<__S: #p::Source>(
                &mut self,
                __r: &mut #p::Reader<__S>,
                __ctx: &#p::Context,
            ) -> #p::Result<()> {
                <Self as #p::VmState>::load_state_in_place(
                    self,
                    __r,
                    <Self as #p::VmState>::VMSD.version_id,
                    __ctx,
                )
            }

            #fixed_items
        }

        #asserts
        };
    }
}

fn hook_call(
    p: &TokenStream,
    path: &syn::ExprPath,
    hook: &str,
    offset: TokenStream,
) -> TokenStream {
    let f = user_fn(path, UserFn::Hook);
    quote!(#p::hook_result(#f(self), #hook, #offset)?;)
}

/// The CPR guard: refuses the CPR-only fields below this type (`void_ptr`,
/// `fd`) that the mode or the channel does not allow, before any hook runs
/// or any byte moves. A constant test: nothing is left of it in a type
/// without such fields.
fn cpr_guard(p: &TokenStream, save: bool) -> TokenStream {
    if save {
        quote!(#p::cpr_guard_save::<Self, __W>(__ctx, __w.offset())?;)
    } else {
        quote!(#p::cpr_guard_load::<Self, __S>(__ctx, __r.offset())?;)
    }
}

/// The save body; `recorded` generates the variant for a recording writer
/// (vmdesc events around every field), the other has none.
fn save_body(
    p: &TokenStream,
    cont: &Container,
    subsections: &[(&Field, &Subsection)],
    recorded: bool,
) -> TokenStream {
    // Recording events exist only in the recorded variant.
    let rec = |t: TokenStream| if recorded { t } else { quote!() };
    let guard = cpr_guard(p, true);
    let prelude: Vec<TokenStream> = cont
        .fields
        .iter()
        .filter_map(|f| f.role.get().save_prelude(p, f))
        .collect();
    let mut body = if recorded {
        recorded_save_fields(p, cont)
    } else {
        field_stmts(p, cont, Dir::Save)
    };
    body.extend(subsections.iter().map(|(f, s)| s.save(p, f, recorded)));
    let a = &cont.attrs;
    let pre_save = a
        .pre_save
        .value
        .as_ref()
        .map(|path| hook_call(p, path, "pre_save", quote!(__w.offset())));
    let enter = rec(quote!(__w.record_enter(<Self as #p::VmState>::VMSD, __version);));
    let leave = rec(quote!(__w.record_end();));
    match &a.post_save.value {
        None => quote! {
            #guard
            #(#prelude)*
            #pre_save
            #enter
            #(#body)*
            #leave
            #p::Ok(())
        },
        Some(path) => {
            // QEMU calls post_save also when a field failed; the field's
            // error wins over the hook's.
            let f = user_fn(path, UserFn::Hook);
            quote! {
                #guard
                #(#prelude)*
                #pre_save
                #enter
                let __res: #p::Result<()> = (|| {
                    #(#body)*
                    #leave
                    #p::Ok(())
                })();
                let __post = #p::hook_result(#f(self), "post_save", __w.offset());
                __res.and(__post)
            }
        }
    }
}

/// The field statements of the recording save, each field between
/// record events (no fast path: every field is recorded).
fn recorded_save_fields(p: &TokenStream, cont: &Container) -> Vec<TokenStream> {
    let mut body = Vec::new();
    for f in &cont.fields {
        if let Some(stmt) = fields::stmt(p, f, Dir::SaveRecorded) {
            // The field's index in the table, for the vmdesc record.
            let index = body.len();
            let stmt = quote! {
                __w.record_field(#index);
                #stmt
                __w.record_end();
            };
            body.push(gate(exists_test(f), stmt));
        }
    }
    body
}

/// The field statements of the plain save or the load, runs of
/// fixed-size fields through the fast path.
fn field_stmts(p: &TokenStream, cont: &Container, dir: Dir) -> Vec<TokenStream> {
    let groups = !cont.attrs.pre_save.is_set();
    let run = |r: &fastpath::Run| {
        let code = if dir == Dir::Load {
            fastpath::load_run(p, r)
        } else {
            fastpath::save_run(p, r, fastpath::slow_stmts(p, &r.fields, dir), groups)
        };
        gate(exists_test(r.fields[0]), code)
    };
    let mut body = Vec::new();
    for seg in fastpath::segments(p, cont) {
        match seg {
            fastpath::Segment::Single(f) => {
                if let Some(stmt) = fields::stmt(p, f, dir) {
                    body.push(gate(exists_test(f), stmt));
                }
            }
            fastpath::Segment::Run(r) => body.push(run(&r)),
            fastpath::Segment::Merged {
                whole,
                version,
                parts,
            } => {
                let parts = parts.iter().map(run).collect();
                body.push(fastpath::merged(p, dir, &whole, version, parts, groups));
            }
        }
    }
    body
}

fn load_body(
    p: &TokenStream,
    cont: &Container,
    subsections: &[(&Field, &Subsection)],
) -> TokenStream {
    let body = field_stmts(p, cont, Dir::Load);
    let subs = subsection::load(p, subsections);

    let a = &cont.attrs;
    let pre_load = a
        .pre_load
        .value
        .as_ref()
        .map(|path| hook_call(p, path, "pre_load", quote!(__r.offset())));
    let post_load = a.post_load.value.as_ref().map(|path| {
        let f = user_fn(path, UserFn::PostLoad);
        quote!(#p::hook_result(#f(self, __version), "post_load", __r.offset())?;)
    });
    let guard = cpr_guard(p, false);
    // Literals: the derive knows the versions (no load of the table).
    let (max, min) = (cont.version(), cont.minimum_version());
    let version_check = quote! {
        if !(#min..=#max).contains(&__version) {
            return #p::Err(#p::version_error(<Self as #p::VmState>::VMSD, __version, __r.offset()));
        }
    };
    quote! {
        #version_check
        #guard
        #pre_load
        #(#body)*
        #subs
        #post_load
        #p::Ok(())
    }
}

/// Compile-time checks with errors spanned on the user's tokens.
fn assertions(
    p: &TokenStream,
    cont: &Container,
    subsections: &[(&Field, &Subsection)],
    name: &str,
) -> TokenStream {
    let mut out = Vec::new();
    for f in &cont.fields {
        f.role.get().assertions(p, f, &mut out);
    }
    out.extend(
        subsections
            .iter()
            .map(|(f, _)| subsection::prefix_assertion(p, f, name)),
    );
    quote! {
        // Compile-time checks only; their expressions are spanned on the
        // user's tokens, so keep lints about their shape out of user crates.
        #[allow(clippy::all)]
        const _: () = {
            #(#out)*
        };
    }
}
