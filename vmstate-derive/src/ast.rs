//! The model of a derive input: the struct, its fields, their attributes.

use syn::{Ident, Type};

use crate::attr;
use crate::ctxt::Ctxt;
use crate::roles::{self, Count, Role};

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
    /// What the field is, parsed once from its role key.
    pub role: Role,
    /// Whether a second role key was given (reported already): the role's
    /// checks would then check against the wrong role.
    pub role_conflict: bool,
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
        let parsed: Vec<(&Ident, &Type, attr::Field)> = fields
            .into_iter()
            .filter_map(|f| Some((f.ident.as_ref()?, &f.ty, attr::Field::from_ast(cx, f))))
            .collect();
        // A length field is described by its description name.
        let names: Vec<(&Ident, String)> = parsed
            .iter()
            .map(|(m, _, a)| (*m, description_name(m, a)))
            .collect();
        let fields = parsed
            .into_iter()
            .map(|(member, ty, attrs)| {
                let multiply = attrs.multiply.value.as_ref().map_or(1, attr::int_value);
                let count = |src: &Ident| Count {
                    field: src.clone(),
                    name: names
                        .iter()
                        .find(|(m, _)| *m == src)
                        .map_or_else(|| src.to_string(), |(_, n)| n.clone()),
                    multiply,
                };
                let (role, role_conflict) = roles::parse(cx, &attrs, &count);
                Field {
                    member,
                    ty,
                    attrs,
                    role,
                    role_conflict,
                }
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

impl Field<'_> {
    /// The description name: `rename = "..."`, `unused`, or the member.
    pub fn name(&self) -> String {
        description_name(self.member, &self.attrs)
    }

    pub fn version(&self) -> u32 {
        self.attrs.version.value.as_ref().map_or(0, attr::int_value)
    }
}

fn description_name(member: &Ident, a: &attr::Field) -> String {
    if a.unused.is_set() {
        return "unused".to_owned();
    }
    if a.tmp.is_set() && !a.rename.is_set() {
        return "tmp".to_owned();
    }
    a.rename
        .value
        .as_ref()
        .map_or_else(|| member.to_string(), syn::LitStr::value)
}
