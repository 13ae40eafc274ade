//! What a field's type is written as: the syntactic tests the checks and
//! the layout docs need (the compiler checks everything else through the
//! trait bounds of the generated code).

use syn::Type;

/// Whether `ty` is written as a raw pointer type: `*mut T`, `*const T`,
/// `NonNull<T>` or `Option<NonNull<T>>`.
pub fn is_pointer_type(ty: &Type) -> bool {
    match ty {
        Type::Ptr(_) => true,
        Type::Group(g) => is_pointer_type(&g.elem),
        Type::Paren(p) => is_pointer_type(&p.elem),
        Type::Path(p) => {
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            if last.ident == "NonNull" {
                return true;
            }
            if last.ident != "Option" {
                return false;
            }
            match &last.arguments {
                syn::PathArguments::AngleBracketed(args) => matches!(
                    args.args.first(),
                    Some(syn::GenericArgument::Type(Type::Path(inner)))
                        if inner.path.segments.last().is_some_and(|s| s.ident == "NonNull")
                ),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether `ty` is written as `OwnedFd` or `Option<OwnedFd>` (any path
/// ending so): what an `fd` field holds.
pub fn is_fd_type(ty: &Type) -> bool {
    let last = |t: &Type| match t {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().cloned(),
        _ => None,
    };
    let Some(seg) = last(ty) else {
        return false;
    };
    if seg.ident == "OwnedFd" {
        return true;
    }
    if seg.ident != "Option" {
        return false;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => matches!(
            a.args.first(),
            Some(syn::GenericArgument::Type(inner)) if last(inner).is_some_and(|s| s.ident == "OwnedFd")
        ),
        _ => false,
    }
}

/// Whether `ty` is the path `u64`.
pub fn is_u64(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident("u64"))
}

/// Whether `ty` is `()`.
pub fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

/// How a variable-length field stores its elements (`T` in each).
pub enum Holder<'a> {
    /// `[T; N]`: the length must not exceed `N`.
    Fixed(&'a Type),
    /// `Vec<T>`: grows with the data, bounded by the context's limit.
    Vec(&'a Type),
}

impl<'a> Holder<'a> {
    /// The element type.
    pub fn elem(&self) -> &'a Type {
        match self {
            Holder::Fixed(t) | Holder::Vec(t) => t,
        }
    }
}

/// `[T; N]` or `Vec<T>`, with `T`.
pub fn holder(ty: &Type) -> Option<Holder<'_>> {
    match ty {
        Type::Array(a) => Some(Holder::Fixed(&a.elem)),
        Type::Group(g) => holder(&g.elem),
        Type::Paren(p) => holder(&p.elem),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident != "Vec" {
                return None;
            }
            match &last.arguments {
                syn::PathArguments::AngleBracketed(a) => match a.args.first()? {
                    syn::GenericArgument::Type(t) => Some(Holder::Vec(t)),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// The name of a primitive type written as a bare identifier.
pub fn primitive_name(ty: &Type) -> Option<String> {
    match strip(ty) {
        Type::Path(p) if p.qself.is_none() => {
            let id = p.path.get_ident()?;
            is_primitive(id).then(|| id.to_string())
        }
        _ => None,
    }
}

/// The last path segment's name: `Vec` for `std::vec::Vec<T>`.
pub fn last_segment(ty: &Type) -> Option<String> {
    match strip(ty) {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// `ty` without invisible groups and parentheses.
pub fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => strip(&g.elem),
        Type::Paren(p) => strip(&p.elem),
        _ => ty,
    }
}

pub fn is_primitive(id: &syn::Ident) -> bool {
    [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "bool", "f32", "f64", "char", "str",
    ]
    .iter()
    .any(|p| id == p)
}

/// `ty` as the user wrote it, for messages.
pub fn type_str(ty: &Type) -> String {
    quote::quote!(#ty)
        .to_string()
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace("* ", "*")
}

/// The name and value range of a primitive integer type written as such.
pub fn int_range(ty: &syn::Type) -> Option<(String, i128, i128)> {
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
