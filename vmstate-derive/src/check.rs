//! Cross-attribute and cross-field checks, all reported at once.

use proc_macro2::Span;
use syn::Type;

use crate::ast::{is_fd_type, is_pointer_type, is_u64, is_unit, Container, Field};
use crate::attr::Attr;
use crate::ctxt::Ctxt;

pub fn check(cx: &Ctxt, cont: &Container) {
    check_generics(cx, cont);
    check_versions(cx, cont);
    check_name(cx, cont);
    for field in &cont.fields {
        check_field_keys(cx, field);
        // With two role keys the type cannot be checked against "the" role;
        // the conflict is the one error to show.
        if role_keys(&field.attrs).len() <= 1 {
            check_field_type(cx, cont, field);
        }
        check_lengths(cx, cont, field);
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
    push(a.fd.key().0, a.fd.span);
    push(a.u64_from_ptr.key().0, a.u64_from_ptr.span);
    push(a.subsection.key().0, a.subsection.span);
    push(a.validate.key().0, a.validate.span);
    push(a.tmp.key().0, a.tmp.span);
    push(a.qtailq.key().0, a.qtailq.span);
    push(a.qlist.key().0, a.qlist.span);
    push(a.gtree.key().0, a.gtree.span);
    push(a.buffer.key().0, a.buffer.span);
    push(a.vbuffer.key().0, a.vbuffer.span);
    push(a.bitmap.key().0, a.bitmap.span);
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
            conflict(cx, "skip", &a.qemu_size);
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
            conflict(cx, "subsection", &a.qemu_size);
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
            cx.syn_error(syn::Error::new(
                span,
                "`needed` goes with `subsection`: it decides whether the subsection is sent; \
                 a plain field is always sent (use `exists` to make it conditional)",
            ));
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
    if a.fd.is_set() && !is_fd_type(field.ty) {
        cx.error_spanned_by(
            field.ty,
            format!(
                "`fd` needs an owned descriptor field (OwnedFd or Option<OwnedFd>), but `{}` \
                 has type `{}`",
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
    if a.subsection.is_set() {
        check_subsection_type(cx, field);
    }
    // Role keys check their own types above; these are for plain fields.
    let plain = role_keys(a).is_empty();
    let special = a.count.is_set() || a.with.is_set() || a.struct_version.is_set();
    if plain && !special && !is_pointer_type(field.ty) && !matches!(field.ty, Type::Reference(_)) {
        check_value_type(cx, field);
    }
    if plain && is_pointer_type(field.ty) {
        cx.error_spanned_by(
            field.ty,
            format!(
                "pointer field `{m}` needs `#[vmstate(void_ptr)]` (its address, CPR modes only) \
                 or `#[vmstate(skip)]`; to migrate the address in every mode, skip it and add a \
                 `u64` field with `#[vmstate(u64_from_ptr = {m}, pre_save)]`",
                m = field.member
            ),
        );
    }
    if let Type::Reference(_) = field.ty {
        if plain {
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

/// Types that obviously have no VMState encoding, with advice. The trait
/// bounds in the generated code catch every other type (aliases included),
/// with the message of `VmField`'s `on_unimplemented`.
fn check_value_type(cx: &Ctxt, field: &Field) {
    let a = &field.attrs;
    let mut elem = strip(field.ty);
    while let Type::Array(arr) = elem {
        elem = strip(&arr.elem);
    }
    if let Some(advice) = unsupported(elem) {
        cx.error_spanned_by(
            elem,
            format!("`{}` cannot be a vmstate field: {advice}", type_str(elem)),
        );
        return;
    }
    let prim = primitive_name(field.ty);
    if a.equal.is_set() {
        const EQUAL: &[&str] = &["u8", "u16", "u32", "u64", "i32"];
        let bad = match (&prim, strip(field.ty)) {
            (Some(id), _) => !EQUAL.contains(&id.as_str()),
            (None, Type::Array(_)) => true,
            _ => false,
        };
        if bad {
            cx.error_spanned_by(
                field.ty,
                format!(
                    "`equal` is not available for `{}`: QEMU has equal codecs for u8, u16, u32, \
                     u64 and i32 only",
                    type_str(field.ty)
                ),
            );
        }
    }
    if a.positive_le.is_set() {
        let bad = match (&prim, strip(field.ty)) {
            (Some(id), _) => id != "i32",
            (None, Type::Array(_)) => true,
            _ => false,
        };
        if bad {
            cx.error_spanned_by(
                field.ty,
                format!(
                    "`positive_le` needs an `i32` field (QEMU's VMSTATE_INT32_POSITIVE_LE), but \
                     `{}` has type `{}`",
                    field.member,
                    type_str(field.ty)
                ),
            );
        }
    }
}

/// Advice for a well-known type with no encoding: a primitive, a tuple, or
/// a `std` type written bare or with a `std`/`core`/`alloc` path.
fn unsupported(ty: &Type) -> Option<&'static str> {
    let path = match ty {
        Type::Tuple(t) if t.elems.is_empty() => {
            return Some("`()` holds no state; it is the type of `#[vmstate(unused = N)]` padding")
        }
        Type::Tuple(_) => {
            return Some(
                "tuples have no encoding; use separate fields or a #[derive(VmState)] struct",
            )
        }
        Type::Path(p) if p.qself.is_none() => &p.path,
        _ => return None,
    };
    let last = path.segments.last()?;
    let std_path = path.segments.len() == 1
        || path
            .segments
            .first()
            .is_some_and(|s| s.ident == "std" || s.ident == "core" || s.ident == "alloc");
    if !std_path {
        return None;
    }
    Some(match last.ident.to_string().as_str() {
        "String" => "QEMU has no string type; use a fixed-size `[u8; N]` buffer",
        "Vec" => {
            "a `Vec` needs `count = field` (a variable array whose length an earlier field \
             holds), `vbuffer = field` (bytes), `bitmap = field`, or `qtailq`/`qlist` (a queue)"
        }
        "VecDeque" | "LinkedList" => "a queue needs `qtailq` or `qlist`",
        "BTreeMap" => "a tree needs `gtree`",
        "OwnedFd" | "BorrowedFd" | "RawFd" => {
            "a file descriptor needs `#[vmstate(fd)]` on an `OwnedFd` or `Option<OwnedFd>` \
             (cpr-transfer and cpr-exec only)"
        }
        "usize" | "isize" => "its width depends on the host; use u64/i64 or u32/i32",
        "f32" => "QEMU has no 32-bit float codec; use f64 (QEMU's CPU_Double_U)",
        "char" => "use u32",
        "u128" | "i128" => "QEMU has no 128-bit integer codec; use [u64; 2]",
        _ => return None,
    })
}

/// The name of a primitive type written as a bare identifier.
fn primitive_name(ty: &Type) -> Option<String> {
    match strip(ty) {
        Type::Path(p) if p.qself.is_none() => {
            let id = p.path.get_ident()?;
            is_primitive(id).then(|| id.to_string())
        }
        _ => None,
    }
}

/// A subsection is a `#[derive(VmState)]` struct with its own description;
/// catch the types that syntactically cannot be one.
fn check_subsection_type(cx: &Ctxt, field: &Field) {
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

fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => strip(&g.elem),
        Type::Paren(p) => strip(&p.elem),
        _ => ty,
    }
}

fn is_primitive(id: &syn::Ident) -> bool {
    [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "bool", "f32", "f64", "char", "str",
    ]
    .iter()
    .any(|p| id == p)
}

fn type_str(ty: &Type) -> String {
    quote::quote!(#ty)
        .to_string()
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace("* ", "*")
}

/// Keys that only make sense with certain roles, and the fields that give
/// lengths: they must exist and come earlier (QEMU reads a count from the
/// struct, so the counter must be loaded first).
fn check_lengths(cx: &Ctxt, cont: &Container, field: &Field) {
    let a = &field.attrs;
    let roles = role_keys(a);
    let role = roles.first().map(|(k, _)| *k);
    let plain = role.is_none();
    let need = |attr_span: Option<Span>, ok: bool, msg: &str| {
        if let (Some(span), false) = (attr_span, ok) {
            cx.syn_error(syn::Error::new(span, msg));
        }
    };
    need(
        a.count.span,
        plain || role == Some("unused"),
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
    if roles.len() > 1 {
        return;
    }
    // Length fields: present, earlier, and a counter type.
    let length_field = a
        .count
        .value
        .as_ref()
        .or(a.vbuffer.value.as_ref())
        .or(a.bitmap.value.as_ref());
    if let Some(src) = length_field {
        let pos = cont.fields.iter().position(|f| f.member == src);
        let me = cont.fields.iter().position(|f| f.member == field.member);
        match (pos, me) {
            (None, _) => cx.error_spanned_by(
                src,
                format!("`{src}` is not a field of this struct: a length must come from an earlier field"),
            ),
            (Some(p), Some(m)) if p >= m => cx.error_spanned_by(
                src,
                format!(
                    "`{src}` comes after `{}`: QEMU reads a length from the struct, so the field \
                     that holds it must be loaded first",
                    field.member
                ),
            ),
            (Some(p), _) => {
                let src_ty = cont.fields.get(p).map(|f| f.ty);
                if let Some(id) = src_ty.and_then(primitive_name) {
                    if !["u8", "u16", "u32", "i32"].contains(&id.as_str()) {
                        cx.error_spanned_by(
                            src,
                            format!(
                                "`{src}` has type `{id}`: a length field must be u8, u16, u32 \
                                 or i32 (QEMU's counter widths)"
                            ),
                        );
                    }
                }
            }
        }
    }
    let elem_is = |names: &[&str]| {
        crate::fields::holder(field.ty)
            .and_then(|h| primitive_name(h.elem()))
            .is_some_and(|id| names.contains(&id.as_str()))
    };
    let ty = type_str(field.ty);
    if a.count.is_set() && plain && crate::fields::holder(field.ty).is_none() {
        cx.error_spanned_by(
            field.ty,
            format!(
                "`count` needs a `[T; N]` or `Vec<T>` field, but `{}` has type `{ty}`",
                field.member
            ),
        );
    }
    if a.count.is_set() {
        if let Some(crate::fields::Holder::Vec(elem)) = crate::fields::holder(field.ty) {
            let is_option = matches!(strip(elem), Type::Path(p)
                if p.path.segments.last().is_some_and(|s| s.ident == "Option"));
            if is_option {
                cx.error_spanned_by(
                    field.ty,
                    "a counted `Vec` of `Option` slots cannot load: new slots are null, and a \
                     null slot only accepts QEMU's null marker; use a fixed `[Option<T>; N]` \
                     whose slots are set up before loading",
                );
            }
        }
    }
    if a.vbuffer.is_set() && !elem_is(&["u8"]) {
        cx.error_spanned_by(
            field.ty,
            format!("`vbuffer` needs a `[u8; N]` or `Vec<u8>` field, not `{ty}`"),
        );
    }
    if a.bitmap.is_set() && !elem_is(&["u64"]) {
        cx.error_spanned_by(
            field.ty,
            format!("`bitmap` needs a `[u64; N]` or `Vec<u64>` field (64-bit words), not `{ty}`"),
        );
    }
    if a.buffer.is_set() {
        match strip(field.ty) {
            Type::Array(arr) if primitive_name(&arr.elem).as_deref() == Some("u8") => {
                let len = match &arr.len {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(n),
                        ..
                    }) => n.base10_parse::<u64>().ok(),
                    _ => None,
                };
                let start = a
                    .start
                    .value
                    .as_ref()
                    .map_or(0, |l| u64::from(crate::attr::int_value(l)));
                let size = a
                    .size
                    .value
                    .as_ref()
                    .map(|l| u64::from(crate::attr::int_value(l)));
                if let Some(n) = len {
                    let end = start + size.unwrap_or(n.saturating_sub(start));
                    if start > n || end > n {
                        cx.error_spanned_by(
                            field.ty,
                            format!("`buffer` bytes {start}..{end} do not fit in `{ty}`"),
                        );
                    }
                }
            }
            _ => cx.error_spanned_by(
                field.ty,
                format!("`buffer` needs a `[u8; N]` field, not `{ty}`"),
            ),
        }
    }
    if (a.validate.is_set() || a.tmp.is_set()) && !is_unit(field.ty) {
        cx.error_spanned_by(
            field.ty,
            "a `validate` or `tmp` placeholder must have type `()`: it holds no state",
        );
    }
    let last = |t: &Type| match strip(t) {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    if (a.qtailq.is_set() || a.qlist.is_set())
        && !matches!(
            last(field.ty).as_deref(),
            Some("Vec" | "VecDeque" | "LinkedList")
        )
    {
        cx.error_spanned_by(
            field.ty,
            format!("a queue (`qtailq`/`qlist`) needs a `Vec<T>`, `VecDeque<T>` or `LinkedList<T>` field, not `{ty}`"),
        );
    }
    if a.gtree.is_set() && last(field.ty).as_deref() != Some("BTreeMap") {
        cx.error_spanned_by(
            field.ty,
            format!("`gtree` needs a `BTreeMap<K, V>` field, not `{ty}`"),
        );
    }
}

/// The name and value range of a primitive integer type written as such.
fn int_range(ty: &syn::Type) -> Option<(String, i128, i128)> {
    let syn::Type::Path(p) = ty else { return None };
    let id = p.path.get_ident()?.to_string();
    let (lo, hi) = match id.as_str() {
        "u8" => (0, i128::from(u8::MAX)),
        "u16" => (0, i128::from(u16::MAX)),
        "u32" => (0, i128::from(u32::MAX)),
        "u64" => (0, i128::from(u64::MAX)),
        "i8" => (i128::from(i8::MIN), i128::from(i8::MAX)),
        "i16" => (i128::from(i16::MIN), i128::from(i16::MAX)),
        "i32" => (i128::from(i32::MIN), i128::from(i32::MAX)),
        "i64" => (i128::from(i64::MIN), i128::from(i64::MAX)),
        _ => return None,
    };
    Some((id, lo, hi))
}
