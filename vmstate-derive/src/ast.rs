//! The model of a derive input: the struct, its fields, their attributes.

use syn::{Ident, Type};

use crate::attr;
use crate::ctxt::Ctxt;

pub struct Container<'a> {
    pub ident: &'a Ident,
    pub attrs: attr::Container,
    pub fields: Vec<Field<'a>>,
    pub original: &'a syn::DeriveInput,
}

pub struct Field<'a> {
    pub member: &'a Ident,
    pub ty: &'a Type,
    pub attrs: attr::Field,
}

/// What a field is, once the checks have passed.
pub enum Role<'a> {
    /// Not migrated.
    Skip,
    /// A value of a `VmField` type, with an optional check.
    Value(ValueCheck),
    /// `unused = N`: N zero bytes.
    Unused(u64),
    /// `void_ptr`.
    VoidPtr,
    /// `u64_from_ptr = src` (with `pre_save`: stored before saving).
    U64FromPtr { src: &'a Ident, pre_save: bool },
    /// `subsection` (with its `needed` predicate).
    Subsection(Option<&'a syn::ExprPath>),
}

pub enum ValueCheck {
    None,
    Equal,
    PositiveLe,
}

impl<'a> Container<'a> {
    /// The model of `input`, or `None` when it is not a struct with named
    /// fields (the error is recorded).
    pub fn from_ast(cx: &Ctxt, input: &'a syn::DeriveInput) -> Option<Self> {
        let attrs = attr::Container::from_ast(cx, input);
        let fields = match &input.data {
            syn::Data::Struct(s) => match &s.fields {
                syn::Fields::Named(named) => named.named.iter().collect::<Vec<_>>(),
                syn::Fields::Unit => Vec::new(),
                syn::Fields::Unnamed(f) => {
                    cx.error_spanned_by(
                        f,
                        "#[derive(VmState)] needs named fields: a tuple struct's fields have no \
                         names for the description",
                    );
                    return None;
                }
            },
            syn::Data::Enum(e) => {
                cx.error_spanned_by(
                    e.enum_token,
                    "#[derive(VmState)] does not support enums: QEMU's migration format has no \
                     tagged unions; migrate the discriminant as an integer field",
                );
                return None;
            }
            syn::Data::Union(u) => {
                cx.error_spanned_by(u.union_token, "#[derive(VmState)] does not support unions");
                return None;
            }
        };
        let fields = fields
            .into_iter()
            .filter_map(|f| {
                Some(Field {
                    member: f.ident.as_ref()?,
                    ty: &f.ty,
                    attrs: attr::Field::from_ast(cx, f),
                })
            })
            .collect();
        Some(Container {
            ident: &input.ident,
            attrs,
            fields,
            original: input,
        })
    }

    /// The description name: `name = "..."`, or the type's name.
    pub fn vmsd_name(&self) -> String {
        self.attrs
            .name
            .value
            .as_ref()
            .map_or_else(|| self.ident.to_string(), syn::LitStr::value)
    }

    pub fn version(&self) -> u32 {
        self.attrs.version.value.as_ref().map_or(0, attr::int_value)
    }

    pub fn minimum_version(&self) -> u32 {
        self.attrs
            .minimum_version
            .value
            .as_ref()
            .map_or(0, attr::int_value)
    }
}

impl<'a> Field<'a> {
    /// The description name: `rename = "..."`, `unused`, or the member.
    pub fn name(&self) -> String {
        if self.attrs.unused.is_set() {
            return "unused".to_owned();
        }
        self.attrs
            .rename
            .value
            .as_ref()
            .map_or_else(|| self.member.to_string(), syn::LitStr::value)
    }

    pub fn version(&self) -> u32 {
        self.attrs.version.value.as_ref().map_or(0, attr::int_value)
    }

    pub fn role(&'a self) -> Role<'a> {
        let a = &self.attrs;
        if a.skip.is_set() {
            Role::Skip
        } else if let Some(n) = &a.unused.value {
            Role::Unused(n.base10_parse().unwrap_or(0))
        } else if a.void_ptr.is_set() {
            Role::VoidPtr
        } else if let Some(src) = &a.u64_from_ptr.value {
            Role::U64FromPtr {
                src,
                pre_save: a.pre_save.is_set(),
            }
        } else if a.subsection.is_set() {
            Role::Subsection(a.needed.value.as_ref())
        } else if a.equal.is_set() {
            Role::Value(ValueCheck::Equal)
        } else if a.positive_le.is_set() {
            Role::Value(ValueCheck::PositiveLe)
        } else {
            Role::Value(ValueCheck::None)
        }
    }
}

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

/// Whether `ty` is the path `u64`.
pub fn is_u64(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident("u64"))
}

/// Whether `ty` is `()`.
pub fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}
