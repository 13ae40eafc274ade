//! Code generation: the description table and monomorphic save/load code.
//!
//! Everything generated goes through `<crate>::__private` with fully
//! qualified paths, so user code cannot shadow it.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Container, Field, Role, ValueCheck};
use crate::check;
use crate::ctxt::Ctxt;
use crate::fastpath;
use crate::fields::{self, Dir};
use crate::layout;

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
    let subsections: Vec<&Field> = cont
        .fields
        .iter()
        .filter(|f| matches!(f.role(), Role::Subsection(_)))
        .collect();
    let sub_descs = subsections.iter().map(|f| {
        let ty = f.ty;
        let member = f.member.to_string();
        let has_needed = f.attrs.needed.is_set();
        quote!(#p::Subsection::new(<#ty as #p::VmState>::VMSD, #member, #has_needed))
    });
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
    let segs = fastpath::segments(cont);
    let run_consts = fastpath::consts(&p, &segs);
    let fixed_items = fastpath::fixed_items(&p, cont, &segs);
    let fixed_state_items = fixed_items
        .as_ref()
        .map(|_| fastpath::fixed_state_items(&p));
    let asserts = assertions(&p, cont, &subsections, &name);
    let doc = layout::doc(cont);
    let cpr_fields = cont
        .fields
        .iter()
        .fold(quote!(#p::CprFields::NONE), |acc, f| {
            let c = fields::cpr_fields(&p, f);
            quote!(#acc.union(#c))
        });

    let n_fields = cont
        .fields
        .iter()
        .filter(|f| !matches!(f.role(), Role::Skip | Role::Subsection(_)))
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

        #[doc = #doc]
        #[allow(rustdoc::private_intra_doc_links, rustdoc::broken_intra_doc_links)]
        #[automatically_derived]
        impl #ident {}

        #[automatically_derived]
        impl #p::VmState for #ident {
            const VMSD: &'static #p::Vmsd = &__VMSD;
            const NAME: &'static str = #name;
            const CPR_FIELDS: #p::CprFields = #cpr_fields;

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

            fn load_state_in_place<__S: #p::Source>(
                &mut self,
                __r: &mut #p::Reader<__S>,
                __version: u32,
                __ctx: &#p::Context,
            ) -> #p::Result<()> {
                #load_body
            }

            #section_needed

            #fixed_state_items
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

            #[inline]
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

            fn save_slice_recorded<__W: #p::Sink>(
                __items: &mut [Self],
                __w: &mut #p::Writer<__W>,
                __ctx: &#p::Context,
            ) -> #p::Result<()> {
                #p::save_elems_recorded(__items, __w, __ctx)
            }

            #[inline]
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

/// The existence test of a field at version `__version` (the save or the
/// stream version): the `exists` predicate if any, else the field version.
fn exists_test(f: &Field) -> Option<TokenStream> {
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

fn gate(test: Option<TokenStream>, body: TokenStream) -> TokenStream {
    match test {
        Some(t) => quote!(if #t { #body }),
        None => body,
    }
}

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
    subsections: &[&Field],
    recorded: bool,
) -> TokenStream {
    let dir = if recorded {
        Dir::SaveRecorded
    } else {
        Dir::Save
    };
    // Recording events exist only in the recorded variant.
    let rec = |t: TokenStream| if recorded { t } else { quote!() };
    let guard = cpr_guard(p, true);
    let mut prelude = Vec::new();
    let mut body = Vec::new();
    let mut table_index = 0usize;
    for f in &cont.fields {
        if let Role::U64FromPtr {
            src,
            pre_save: true,
        } = f.role()
        {
            // Stored before the user's pre_save runs, so that it sees it.
            let member = f.member;
            prelude.push(quote!(self.#member = #p::VoidPtr::addr_u64(&self.#src);));
        }
        if let Some(stmt) = fields::stmt(p, f, dir) {
            // The field's index in the table, for the vmdesc record.
            let index = table_index;
            table_index += 1;
            let begin = rec(quote!(__w.record_field(#index);));
            let end = rec(quote!(__w.record_end();));
            let stmt = quote! {
                #begin
                #stmt
                #end
            };
            body.push(gate(exists_test(f), stmt));
        }
    }
    if !recorded {
        body = plain_save_fields(p, cont);
    }
    for f in subsections {
        let member = f.member;
        let ty = f.ty;
        let sub = quote!(<#ty as #p::VmState>::VMSD);
        let save_fn = if recorded {
            quote_spanned!(ty.span()=> <#ty as #p::VmState>::save_state_v_recorded)
        } else {
            quote_spanned!(ty.span()=> <#ty as #p::VmState>::save_state_v)
        };
        let err = quote!(.map_err(|__e| __e.within(#p::Segment::Subsection(#sub.name))));
        let mut stmt = quote! {
            #p::save_subsection_header(__w, #sub) #err ?;
            #save_fn(&mut self.#member, __w, #sub.version_id, __ctx) #err ?;
        };
        if !recorded {
            stmt = fastpath::save_subsection(p, ty, member, stmt);
        }
        let needed = match f.role() {
            Role::Subsection(Some(path)) => {
                let call = user_fn(path, UserFn::Needed);
                Some(quote!(#call(&*self)))
            }
            _ => None,
        };
        body.push(gate(needed, stmt));
    }
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

/// The field statements of the plain save, runs of fixed-size fields
/// through the fast path.
fn plain_save_fields(p: &TokenStream, cont: &Container) -> Vec<TokenStream> {
    let mut body = Vec::new();
    for seg in fastpath::segments(cont) {
        match seg {
            fastpath::Segment::Single(f) => {
                if let Some(stmt) = fields::stmt(p, f, Dir::Save) {
                    body.push(gate(exists_test(f), stmt));
                }
            }
            fastpath::Segment::Run { index, fields } => {
                let slow = fastpath::slow_stmts(p, &fields, Dir::Save);
                let run = fastpath::save_run(p, index, &fields, slow);
                body.push(gate(exists_test(fields[0]), run));
            }
        }
    }
    body
}

fn load_body(p: &TokenStream, cont: &Container, subsections: &[&Field]) -> TokenStream {
    let mut body = Vec::new();
    for seg in fastpath::segments(cont) {
        match seg {
            fastpath::Segment::Single(f) => {
                if let Some(stmt) = fields::stmt(p, f, Dir::Load) {
                    body.push(gate(exists_test(f), stmt));
                }
            }
            fastpath::Segment::Run { index, fields } => {
                let slow = fastpath::slow_stmts(p, &fields, Dir::Load);
                let run = fastpath::load_run(p, index, &fields, slow);
                body.push(gate(exists_test(fields[0]), run));
            }
        }
    }

    let subs = if subsections.is_empty() {
        // Still peek: a name with our prefix that we do not know is an error.
        quote! {
            #p::reject_unknown_subsection(__r, <Self as #p::VmState>::VMSD)?;
        }
    } else {
        let n = subsections.len();
        let sub_names = subsections.iter().map(|f| {
            let ty = f.ty;
            quote_spanned!(ty.span()=> <#ty as #p::VmState>::NAME)
        });
        let arms = subsections.iter().enumerate().map(|(i, f)| {
            let member = f.member;
            let ty = f.ty;
            let sub = quote!(<#ty as #p::VmState>::VMSD);
            let load_fn = quote_spanned!(ty.span()=> <#ty as #p::VmState>::load_state_in_place);
            quote! {
                #i => {
                    #p::note_subsection(&mut __seen[#i], #sub.name, __ctx, __at)?;
                    #load_fn(&mut self.#member, __r, __sv, __ctx)
                        .map_err(|__e| __e.within(#p::Segment::Subsection(#sub.name)))?;
                }
            }
        });
        // The common case, no subsection, is one byte test before the
        // loop and its bookkeeping.
        quote! {
            if #p::at_subsection_marker(__r)? {
                let mut __seen = [false; #n];
                loop {
                    let __at = __r.offset();
                    let #p::Some((__idx, __sv)) = #p::next_known_subsection(
                        __r,
                        <Self as #p::VmState>::VMSD,
                        <Self as #p::VmState>::NAME,
                        [#(#sub_names),*],
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
    };

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
    subsections: &[&Field],
    name: &str,
) -> TokenStream {
    // The trait checks are spelled `<Ty as Trait>::ITEM`, exactly as the
    // table entries spell them: an unsupported type then yields one
    // diagnostic on the field's type, which rustc deduplicates, instead of
    // one more with a "required by a bound in assert_*" note.
    let mut out = Vec::new();
    for f in &cont.fields {
        let ty = f.ty;
        match f.role() {
            Role::Value(v) => {
                if v.struct_version.is_some() {
                    out.push(quote!(let _ = <#ty as #p::VmState>::VMSD;));
                } else if v.with.is_some() {
                    // The codec's own bounds speak for it.
                } else if v.count.is_some() {
                    out.push(quote!(let _ = <<#ty as #p::VarArray>::Elem as #p::VmField>::INFO;));
                } else {
                    out.push(quote!(let _ = <#ty as #p::VmField>::INFO;));
                }
                match v.check {
                    ValueCheck::None => {}
                    ValueCheck::Equal => {
                        out.push(quote!(let _ = <#ty as #p::EqualField>::EQUAL_INFO;));
                    }
                    ValueCheck::PositiveLe => {
                        out.push(quote!(let _ = <#ty as #p::PositiveLeField>::LE_INFO;));
                    }
                }
            }
            Role::VoidPtr => {
                out.push(quote_spanned!(ty.span()=> #p::assert_void_ptr::<#ty>();));
            }
            Role::Fd => {
                out.push(quote_spanned!(ty.span()=> #p::assert_fd_slot::<#ty>();));
            }
            Role::Subsection(_) => out.push(quote!(let _ = <#ty as #p::VmState>::VMSD;)),
            Role::Buffer { start, size } => {
                let end = start.unwrap_or(0) as usize + size.unwrap_or(0) as usize;
                if end > 0 {
                    let msg = format!(
                        "`buffer` bytes {}..{end} of `{}` lie beyond the array",
                        start.unwrap_or(0),
                        f.member
                    );
                    out.push(quote_spanned! {ty.span()=>
                        ::core::assert!(#end <= <#ty as #p::ByteArray>::LEN, #msg);
                    });
                }
            }
            _ => {}
        }
        if let Role::Value(v) = f.role() {
            if let Some(sv) = v.struct_version {
                let msg = format!(
                    "`struct_version = {sv}` on `{}` is outside the versions its description \
                     can save and load (minimum_version..=version)",
                    f.member
                );
                out.push(quote_spanned! {ty.span()=>
                    ::core::assert!(
                        #sv >= <#ty as #p::VmState>::VMSD.minimum_version_id
                            && #sv <= <#ty as #p::VmState>::VMSD.version_id,
                        #msg
                    );
                });
            }
            let a = &f.attrs;
            let msg = format!("the bounds of `{}` lie outside its type's range", f.member);
            for (given, cmp, limit) in [
                (a.min.value.as_ref(), quote!(>=), quote!(MIN)),
                (a.max.value.as_ref(), quote!(<=), quote!(MAX)),
            ] {
                let Some(bound) = given else { continue };
                let v = bound.value;
                out.push(quote_spanned! {ty.span()=>
                    ::core::assert!(#v #cmp <#ty as #p::RangeInt>::#limit, #msg);
                });
            }
        }
    }
    for f in subsections {
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
        out.push(quote_spanned! {ty.span()=>
            #[allow(dead_code)]
            const #check: () = ::core::assert!(
                #p::starts_with(<#ty as #p::VmState>::VMSD.name, #name)
                    && <#ty as #p::VmState>::VMSD.name.len() > #name.len(),
                #msg
            );
        });
    }
    quote! {
        // Compile-time checks only; their expressions are spanned on the
        // user's tokens, so keep lints about their shape out of user crates.
        #[allow(clippy::all)]
        const _: () = {
            #(#out)*
        };
    }
}
