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
    /// The description name of the field that gives this field's length
    /// (`count`, `vbuffer`, `bitmap`), resolved against the struct.
    pub length_name: Option<String>,
}

/// What a field is, once the checks have passed.
pub enum Role<'a> {
    /// Not migrated.
    Skip,
    /// A value of a `VmField` type (or through a `with` codec), maybe a
    /// variable array, maybe with a check.
    Value(Value<'a>),
    /// `unused = N` (times `count` when given): zero bytes.
    Unused {
        bytes: u64,
        count: Option<Count<'a>>,
    },
    /// `void_ptr`.
    VoidPtr,
    /// `fd`: an owned descriptor (QEMU's `VMSTATE_FD`).
    Fd,
    /// `u64_from_ptr = src` (with `pre_save`: stored before saving).
    U64FromPtr { src: &'a Ident, pre_save: bool },
    /// `subsection` (with its `needed` predicate).
    Subsection(Option<&'a syn::ExprPath>),
    /// `validate = path` (QEMU's `VMSTATE_VALIDATE`): nothing on the wire.
    Validate(&'a syn::ExprPath),
    /// `tmp = Type` (QEMU's `VMSTATE_WITH_TMP`).
    Tmp(&'a syn::Type),
    /// `qtailq` / `qlist` / `gtree`.
    Collection(Collection),
    /// `buffer` on `[u8; N]`: raw bytes, maybe a part of the array.
    Buffer {
        start: Option<u32>,
        size: Option<u32>,
    },
    /// `vbuffer = field`: raw bytes, as many as the field says.
    VBuffer(Count<'a>),
    /// `bitmap = field`: ceil(bits / 64) be64 words.
    Bitmap(&'a Ident),
}

pub struct Value<'a> {
    pub check: ValueCheck,
    /// `count = field` (`multiply = N`): a variable array.
    pub count: Option<Count<'a>>,
    /// `with = Codec`.
    pub with: Option<&'a syn::Type>,
    /// `struct_version = N` (QEMU's `VMSTATE_VSTRUCT`).
    pub struct_version: Option<u32>,
}

/// A length taken from an earlier field, times a constant.
#[derive(Clone, Copy)]
pub struct Count<'a> {
    pub field: &'a Ident,
    /// That field's description name.
    pub name: &'a str,
    pub multiply: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Qtailq,
    Qlist,
    Gtree,
}

impl Collection {
    pub fn info(self) -> &'static str {
        match self {
            Collection::Qtailq => "qtailq",
            Collection::Qlist => "qlist",
            Collection::Gtree => "gtree",
        }
    }
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
                    length_name: None,
                })
            })
            .collect::<Vec<Field>>();
        let names: Vec<(&Ident, String)> = fields.iter().map(|f| (f.member, f.name())).collect();
        let mut fields = fields;
        for f in &mut fields {
            let a = &f.attrs;
            let src = a
                .count
                .value
                .as_ref()
                .or(a.vbuffer.value.as_ref())
                .or(a.bitmap.value.as_ref());
            f.length_name = src.map(|src| {
                names
                    .iter()
                    .find(|(m, _)| *m == src)
                    .map_or_else(|| src.to_string(), |(_, n)| n.clone())
            });
        }
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
        if self.attrs.tmp.is_set() && !self.attrs.rename.is_set() {
            return "tmp".to_owned();
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

    fn count_of(&'a self, field: &'a Ident) -> Count<'a> {
        let multiply = self
            .attrs
            .multiply
            .value
            .as_ref()
            .map_or(1, attr::int_value);
        let name = self.length_name.as_deref().unwrap_or("");
        Count {
            field,
            name,
            multiply,
        }
    }

    pub fn role(&'a self) -> Role<'a> {
        let a = &self.attrs;
        let count = a.count.value.as_ref().map(|c| self.count_of(c));
        if a.skip.is_set() {
            Role::Skip
        } else if let Some(n) = &a.unused.value {
            Role::Unused {
                bytes: n.base10_parse().unwrap_or(0),
                count,
            }
        } else if a.void_ptr.is_set() {
            Role::VoidPtr
        } else if a.fd.is_set() {
            Role::Fd
        } else if let Some(src) = &a.u64_from_ptr.value {
            Role::U64FromPtr {
                src,
                pre_save: a.pre_save.is_set(),
            }
        } else if a.subsection.is_set() {
            Role::Subsection(a.needed.value.as_ref())
        } else if let Some(path) = &a.validate.value {
            Role::Validate(path)
        } else if let Some(ty) = &a.tmp.value {
            Role::Tmp(ty)
        } else if a.qtailq.is_set() {
            Role::Collection(Collection::Qtailq)
        } else if a.qlist.is_set() {
            Role::Collection(Collection::Qlist)
        } else if a.gtree.is_set() {
            Role::Collection(Collection::Gtree)
        } else if a.buffer.is_set() {
            Role::Buffer {
                start: a.start.value.as_ref().map(attr::int_value),
                size: a.size.value.as_ref().map(attr::int_value),
            }
        } else if let Some(f) = &a.vbuffer.value {
            Role::VBuffer(self.count_of(f))
        } else if let Some(f) = &a.bitmap.value {
            Role::Bitmap(f)
        } else {
            let check = if a.equal.is_set() {
                ValueCheck::Equal
            } else if a.positive_le.is_set() {
                ValueCheck::PositiveLe
            } else {
                ValueCheck::None
            };
            Role::Value(Value {
                check,
                count,
                with: a.with.value.as_ref(),
                struct_version: a.struct_version.value.as_ref().map(attr::int_value),
            })
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
