//! Cross-attribute and cross-field checks, all reported at once.

use proc_macro2::Span;
use syn::Type;

use crate::ast::{is_pointer_type, is_u64, is_unit, Container, Field};
use crate::attr::Attr;
use crate::ctxt::Ctxt;

pub fn check(cx: &Ctxt, cont: &Container) {
    check_generics(cx, cont);
    check_versions(cx, cont);
    check_name(cx, cont);
    for field in &cont.fields {
        check_field_keys(cx, field);
        check_field_type(cx, cont, field);
        if let (Some(lit), true) = (&field.attrs.version.value, cont.version() < field.version()) {
            cx.error_spanned_by(
                lit,
                format!(
                    "field version {} is above the struct's version {}: the field would never be \
                     saved",
                    field.version(),
                    cont.version()
                ),
            );
        }
    }
}

fn check_generics(cx: &Ctxt, cont: &Container) {
    let g = &cont.original.generics;
    if !g.params.is_empty() {
        cx.error_spanned_by(
            g,
            "#[derive(VmState)] does not support generic structs: a description is one static \
             table per type",
        );
    }
}

fn check_versions(cx: &Ctxt, cont: &Container) {
    if let Some(lit) = &cont.attrs.minimum_version.value {
        if cont.minimum_version() > cont.version() {
            cx.error_spanned_by(
                lit,
                format!(
                    "minimum_version {} is above version {}: no stream could be loaded",
                    cont.minimum_version(),
                    cont.version()
                ),
            );
        }
    }
}

fn check_name(cx: &Ctxt, cont: &Container) {
    let name = cont.vmsd_name();
    let tokens = cont.attrs.name.value.as_ref();
    if name.is_empty() || name.len() > 255 {
        match tokens {
            Some(lit) => cx.error_spanned_by(lit, "a description name must be 1 to 255 bytes long"),
            None => {
                cx.error_spanned_by(cont.ident, "a description name must be 1 to 255 bytes long")
            }
        }
    }
}

/// Keys that choose what a field is; at most one per field.
fn role_keys(a: &crate::attr::Field) -> Vec<(&'static str, Span)> {
    let mut v = Vec::new();
    let mut push = |key: &'static str, span: Option<Span>| {
        if let Some(s) = span {
            v.push((key, s));
        }
    };
    push(a.skip.key().0, a.skip.span);
    push(a.unused.key().0, a.unused.span);
    push(a.void_ptr.key().0, a.void_ptr.span);
    push(a.u64_from_ptr.key().0, a.u64_from_ptr.span);
    push(a.subsection.key().0, a.subsection.span);
    v
}

fn conflict<T>(cx: &Ctxt, with: &str, attr: &Attr<T>) {
    if let Some(span) = attr.span {
        cx.syn_error(syn::Error::new(
            span,
            format!("`{}` cannot be combined with `{with}`", attr.key()),
        ));
    }
}

fn check_field_keys(cx: &Ctxt, field: &Field) {
    let a = &field.attrs;
    let roles = role_keys(a);
    if let Some(((first, _), rest)) = roles.split_first() {
        for (key, span) in rest {
            cx.syn_error(syn::Error::new(
                *span,
                format!("`{key}` cannot be combined with `{first}`"),
            ));
        }
    }
    let role = roles.first().map(|(k, _)| *k);
    match role {
        Some("skip") => {
            conflict(cx, "skip", &a.rename);
            conflict(cx, "skip", &a.version);
            conflict(cx, "skip", &a.exists);
            conflict(cx, "skip", &a.equal);
            conflict(cx, "skip", &a.positive_le);
        }
        Some("unused") => {
            conflict(cx, "unused", &a.rename);
            conflict(cx, "unused", &a.equal);
            conflict(cx, "unused", &a.positive_le);
        }
        Some("subsection") => {
            conflict(cx, "subsection", &a.rename);
            conflict(cx, "subsection", &a.version);
            conflict(cx, "subsection", &a.exists);
            conflict(cx, "subsection", &a.equal);
            conflict(cx, "subsection", &a.positive_le);
        }
        Some(other) => {
            conflict(cx, other, &a.equal);
            conflict(cx, other, &a.positive_le);
        }
        None => {
            if a.equal.is_set() {
                conflict(cx, "equal", &a.positive_le);
            }
        }
    }
    if !a.equal.is_set() {
        if let Some(span) = a.hint.span {
            cx.syn_error(syn::Error::new(
                span,
                "`hint` needs `equal`: it is shown when an equal check fails",
            ));
        }
    }
    if role != Some("subsection") {
        if let Some(span) = a.needed.span {
            cx.syn_error(syn::Error::new(span, "`needed` needs `subsection`"));
        }
    }
    if role != Some("u64_from_ptr") {
        if let Some(span) = a.pre_save.span {
            cx.syn_error(syn::Error::new(
                span,
                "a field-level `pre_save` goes with `u64_from_ptr = field` (struct-level hooks \
                 go on the struct)",
            ));
        }
    }
    if let Some(lit) = &a.rename.value {
        if lit.value().is_empty() {
            cx.error_spanned_by(lit, "`rename` needs a non-empty name");
        }
    }
}

fn check_field_type(cx: &Ctxt, cont: &Container, field: &Field) {
    let a = &field.attrs;
    if a.void_ptr.is_set() && !is_pointer_type(field.ty) {
        cx.error_spanned_by(
            field.ty,
            format!(
                "`void_ptr` needs a raw pointer field (*mut T, *const T, NonNull<T> or \
                 Option<NonNull<T>>), but `{}` has type `{}`",
                field.member,
                type_str(field.ty)
            ),
        );
    }
    if a.unused.is_set() && !is_unit(field.ty) {
        cx.error_spanned_by(
            field.ty,
            "an `unused = N` placeholder must have type `()`: it holds no state",
        );
    }
    if let Some(src) = &a.u64_from_ptr.value {
        if !is_u64(field.ty) {
            cx.error_spanned_by(
                field.ty,
                format!(
                    "`u64_from_ptr` needs a `u64` field, but `{}` has type `{}`",
                    field.member,
                    type_str(field.ty)
                ),
            );
        }
        match cont.fields.iter().find(|f| f.member == src) {
            None => cx.error_spanned_by(
                src,
                format!("`u64_from_ptr` names `{src}`, but the struct has no such field"),
            ),
            Some(target) if !is_pointer_type(target.ty) => cx.error_spanned_by(
                src,
                format!(
                    "`u64_from_ptr` names `{src}`, which is not a raw pointer (it has type `{}`)",
                    type_str(target.ty)
                ),
            ),
            Some(_) => {}
        }
    }
    if is_pointer_type(field.ty) && !a.void_ptr.is_set() && !a.skip.is_set() {
        cx.error_spanned_by(
            field.ty,
            format!(
                "pointer field `{}` needs `#[vmstate(void_ptr)]` (its address, CPR modes only), \
                 `#[vmstate(skip)]`, or a `u64` shadow field with `#[vmstate(u64_from_ptr = {}, \
                 pre_save)]`",
                field.member, field.member
            ),
        );
    }
    if let Type::Reference(_) = field.ty {
        if !a.skip.is_set() {
            cx.error_spanned_by(
                field.ty,
                format!(
                    "unsupported field type `{}`: references cannot be loaded into",
                    type_str(field.ty)
                ),
            );
        }
    }
}

fn type_str(ty: &Type) -> String {
    quote::quote!(#ty)
        .to_string()
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace("* ", "*")
}
