//! Cross-attribute and cross-field checks, all reported at once.

use proc_macro2::Span;

use crate::ast::{Container, Field};
use crate::ctxt::Ctxt;
use crate::roles::Role;
use crate::types::int_range;

pub fn check(cx: &Ctxt, cont: &Container) {
    check_generics(cx, cont);
    check_versions(cx, cont);
    check_name(cx, cont);
    for field in &cont.fields {
        let role = field.role.get();
        role.check_keys(cx, &field.attrs);
        check_field_keys(cx, field);
        // With two role keys the type cannot be checked against "the" role;
        // the conflict is the one error to show.
        if !field.role_conflict {
            role.check(cx, cont, field);
        }
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

/// The keys that go with some roles only, and the bounds.
fn check_field_keys(cx: &Ctxt, field: &Field) {
    let a = &field.attrs;
    let need = |attr_span: Option<Span>, ok: bool, msg: &str| {
        if let (Some(span), false) = (attr_span, ok) {
            cx.syn_error(syn::Error::new(span, msg));
        }
    };
    let role = &field.role;
    need(
        a.hint.span,
        a.equal.is_set(),
        "`hint` needs `equal`: it is shown when an equal check fails",
    );
    need(
        a.needed.span,
        matches!(role, Role::Subsection(_)),
        "`needed` goes with `subsection`: it decides whether the subsection is sent; a plain \
         field is always sent (use `exists` to make it conditional)",
    );
    need(
        a.pre_save.span,
        matches!(role, Role::U64FromPtr(_)),
        "a field-level `pre_save` goes with `u64_from_ptr = field` (struct-level hooks go on the \
         struct)",
    );
    if let Some(lit) = &a.rename.value {
        if lit.value().is_empty() {
            cx.error_spanned_by(lit, "`rename` needs a non-empty name");
        }
    }
    let plain = matches!(role, Role::Value(_));
    need(
        a.count.span,
        plain || matches!(role, Role::Unused(_)),
        "`count` goes with a plain array field (`[T; N]` or `Vec<T>`) or with `unused = N`",
    );
    need(
        a.multiply.span,
        a.count.is_set() || a.vbuffer.is_set(),
        "`multiply` goes with `count = field` or `vbuffer = field`",
    );
    need(
        a.start.span,
        a.buffer.is_set(),
        "`start` goes with `buffer`",
    );
    need(a.size.span, a.buffer.is_set(), "`size` goes with `buffer`");
    let value_only = plain && !a.equal.is_set() && !a.positive_le.is_set();
    need(
        a.min.span,
        value_only && !a.count.is_set(),
        "`min` goes with a plain integer field",
    );
    need(
        a.max.span,
        value_only && !a.count.is_set(),
        "`max` goes with a plain integer field",
    );
    need(
        a.struct_version.span,
        value_only && !a.count.is_set() && !a.with.is_set(),
        "`struct_version` goes with a plain field of a #[derive(VmState)] struct type",
    );
    need(
        a.with.span,
        plain && !a.count.is_set() && !a.equal.is_set() && !a.positive_le.is_set(),
        "`with = Codec` goes with a plain field: the codec decides the whole wire form",
    );
    if let (Some(min), Some(max)) = (&a.min.value, &a.max.value) {
        if min.value > max.value {
            cx.error_spanned_by(&max.tokens, "`max` is below `min`: no value could load");
        }
    }
    // Bounds on a primitive integer are checked here, on the user's
    // tokens; through an alias, a compile-time assertion checks them.
    if let Some((ty, lo, hi)) = int_range(field.ty) {
        for (key, bound) in [("min", &a.min.value), ("max", &a.max.value)] {
            if let Some(b) = bound.as_ref().filter(|b| !(lo..=hi).contains(&b.value)) {
                cx.error_spanned_by(
                    &b.tokens,
                    format!(
                        "`{key} = {}` is outside the range of `{ty}` ({lo}..={hi})",
                        b.value
                    ),
                );
            }
        }
    }
}
