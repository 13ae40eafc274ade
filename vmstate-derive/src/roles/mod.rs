//! What a field is: its role, chosen by at most one role key (none: a
//! plain value). Each role's file holds all of it: the keys it refuses,
//! its type and length checks, its table entry, its save and load code,
//! its wire-layout row and its part in the fixed-size fast path. This
//! file parses the role once and dispatches to it; a new role is a new
//! file, a variant of [`Role`], its line in [`parse`] and its arm in
//! [`Role::get`].

mod buffer;
mod collection;
mod fd;
mod length;
mod pointer;
mod skip;
pub mod subsection;
mod tmp;
mod unused;
mod validate;
mod value;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::ast::{Container, Field};
use crate::attr::{self, Attr, Key};
use crate::ctxt::Ctxt;
use crate::fastpath::Piece;
use crate::fields::Stmt;
use crate::symbol::Symbol;
use crate::types::is_unit;

pub use length::Count;
pub use subsection::Subsection;

pub enum Role {
    /// `skip`: not migrated.
    Skip(skip::Skip),
    /// No role key: a value of a `VmField` type (or through a `with`
    /// codec), maybe a variable array, maybe with a check.
    Value(value::Value),
    /// `unused = N` (times `count` when given): zero bytes.
    Unused(unused::Unused),
    /// `void_ptr`: an address, in CPR modes only.
    VoidPtr(pointer::VoidPtr),
    /// `fd`: an owned descriptor (QEMU's `VMSTATE_FD`).
    Fd(fd::Fd),
    /// `u64_from_ptr = src` (with `pre_save`: stored before saving).
    U64FromPtr(pointer::U64FromPtr),
    /// `subsection` (with its `needed` predicate).
    Subsection(Subsection),
    /// `validate = path` (QEMU's `VMSTATE_VALIDATE`): nothing on the wire.
    Validate(validate::Validate),
    /// `tmp = Type` (QEMU's `VMSTATE_WITH_TMP`).
    Tmp(tmp::Tmp),
    /// `qtailq` / `qlist` / `gtree`.
    Collection(collection::Collection),
    /// `buffer` on `[u8; N]`: raw bytes, maybe a part of the array.
    Buffer(buffer::Buffer),
    /// `vbuffer = field`: raw bytes, as many as the field says.
    VBuffer(buffer::VBuffer),
    /// `bitmap = field`: ceil(bits / 64) be64 words.
    Bitmap(buffer::Bitmap),
}

/// What each role does; the defaults are those of a role with nothing on
/// the wire and no checks.
pub trait FieldRole {
    /// The role key (`None` for a plain value).
    fn key(&self) -> Option<Symbol>;

    /// Whether the field has an entry in the field table and statements in
    /// the field sequence (a subsection has its own, after the fields).
    fn on_wire(&self) -> bool {
        true
    }

    /// Errors for the keys this role cannot take, on those keys. Only a
    /// plain value takes a check.
    fn check_keys(&self, cx: &Ctxt, a: &attr::Field) {
        if let Some(key) = self.key() {
            conflicts(cx, key, &[&a.equal, &a.positive_le]);
        }
    }

    /// Type and length checks, on the user's tokens.
    fn check(&self, _cx: &Ctxt, _cont: &Container, _f: &Field) {}

    /// The table entry, without the keys every field takes (`version`,
    /// `exists`, `qemu_size`, CPR fields).
    fn desc(&self, _p: &TokenStream, _f: &Field) -> Option<TokenStream> {
        None
    }

    /// The CPR-only field kinds the field holds anywhere below it.
    fn cpr_fields(&self, p: &TokenStream, _f: &Field) -> TokenStream {
        quote!(#p::CprFields::NONE)
    }

    /// The save or load statement (without the existence gate).
    fn stmt(&self, _s: &Stmt, _f: &Field) -> Option<TokenStream> {
        None
    }

    /// About how many bytes the field's save writes, an expression on
    /// `self` (its part of `VmState::payload_size_hint`); `None`: none
    /// worth counting.
    fn size_hint(&self, _p: &TokenStream, _f: &Field) -> Option<TokenStream> {
        None
    }

    /// Run at the start of the save, before the user's `pre_save`.
    fn save_prelude(&self, _p: &TokenStream, _f: &Field) -> Option<TokenStream> {
        None
    }

    /// Compile-time checks, spanned on the user's tokens.
    fn assertions(&self, _p: &TokenStream, _f: &Field, _out: &mut Vec<TokenStream>) {}

    /// The QEMU type and byte count of the wire-layout row.
    fn layout(&self, _f: &Field) -> Option<(String, String)> {
        None
    }

    /// The field as part of a run of fixed-size fields, if it can be one.
    fn piece(&self, _p: &TokenStream, _f: &Field) -> Option<Piece> {
        None
    }
}

impl Role {
    pub fn get(&self) -> &dyn FieldRole {
        match self {
            Role::Skip(r) => r,
            Role::Value(r) => r,
            Role::Unused(r) => r,
            Role::VoidPtr(r) => r,
            Role::Fd(r) => r,
            Role::U64FromPtr(r) => r,
            Role::Subsection(r) => r,
            Role::Validate(r) => r,
            Role::Tmp(r) => r,
            Role::Collection(r) => r,
            Role::Buffer(r) => r,
            Role::VBuffer(r) => r,
            Role::Bitmap(r) => r,
        }
    }

    pub fn subsection(&self) -> Option<&Subsection> {
        match self {
            Role::Subsection(s) => Some(s),
            _ => None,
        }
    }
}

/// A role key set on a field, with the role it makes.
struct Keyed {
    key: Symbol,
    span: Span,
    role: Role,
}

fn keyed<T>(attr: &Attr<T>, role: impl FnOnce(&T) -> Role) -> Option<Keyed> {
    Some(Keyed {
        key: attr.key(),
        span: attr.span?,
        role: role(attr.value.as_ref()?),
    })
}

/// The role of a field from its keys. Two role keys are an error on the
/// second (the first decides); the `bool` says so. `count` resolves a
/// length field with the field's `multiply`.
pub fn parse(cx: &Ctxt, a: &attr::Field, count: &dyn Fn(&syn::Ident) -> Count) -> (Role, bool) {
    // In precedence order.
    let mut set = [
        keyed(&a.skip, |()| Role::Skip(skip::Skip)),
        keyed(&a.unused, |n| {
            Role::Unused(unused::Unused::new(n, a, count))
        }),
        keyed(&a.void_ptr, |()| Role::VoidPtr(pointer::VoidPtr)),
        keyed(&a.fd, |()| Role::Fd(fd::Fd)),
        keyed(&a.u64_from_ptr, |src| {
            Role::U64FromPtr(pointer::U64FromPtr::new(src, a))
        }),
        keyed(&a.subsection, |()| Role::Subsection(Subsection::new(a))),
        keyed(&a.validate, |path| {
            Role::Validate(validate::Validate { path: path.clone() })
        }),
        keyed(&a.tmp, |ty| Role::Tmp(tmp::Tmp { ty: ty.clone() })),
        keyed(&a.qtailq, |()| {
            Role::Collection(collection::Collection::Qtailq)
        }),
        keyed(&a.qlist, |()| {
            Role::Collection(collection::Collection::Qlist)
        }),
        keyed(&a.gtree, |()| {
            Role::Collection(collection::Collection::Gtree)
        }),
        keyed(&a.buffer, |()| Role::Buffer(buffer::Buffer::new(a))),
        keyed(&a.vbuffer, |f| Role::VBuffer(buffer::VBuffer(count(f)))),
        keyed(&a.bitmap, |f| Role::Bitmap(buffer::Bitmap::new(count(f)))),
    ]
    .into_iter()
    .flatten();
    let Some(first) = set.next() else {
        return (Role::Value(value::Value::new(a, count)), false);
    };
    let mut conflict = false;
    for other in set {
        conflict = true;
        cx.syn_error(syn::Error::new(
            other.span,
            format!("`{}` cannot be combined with `{}`", other.key, first.key),
        ));
    }
    (first.role, conflict)
}

/// "`key` cannot be combined with `role`" on each of `keys` that is set.
pub fn conflicts(cx: &Ctxt, role: Symbol, keys: &[&dyn attr::Key]) {
    for k in keys {
        if let Some(span) = k.span() {
            cx.syn_error(syn::Error::new(
                span,
                format!("`{}` cannot be combined with `{role}`", k.key()),
            ));
        }
    }
}

/// The keys of a field-table entry, which a skipped field or a subsection
/// does not have.
fn entry_keys(a: &attr::Field) -> [&dyn attr::Key; 6] {
    [
        &a.rename,
        &a.version,
        &a.exists,
        &a.equal,
        &a.positive_le,
        &a.qemu_size,
    ]
}

/// A `validate` or `tmp` field is a placeholder of type `()`.
fn unit_placeholder(cx: &Ctxt, field: &Field) {
    if !is_unit(field.ty) {
        cx.error_spanned_by(
            field.ty,
            "a `validate` or `tmp` placeholder must have type `()`: it holds no state",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::Role;
    use crate::ast::Container;
    use crate::ctxt::Ctxt;

    #[test]
    fn a_role_key_makes_its_role_and_a_second_one_is_one_error() {
        let input: syn::DeriveInput = syn::parse_quote! {
            struct S {
                n: u8,
                #[vmstate(equal)]
                a: u8,
                #[vmstate(skip)]
                b: u8,
                #[vmstate(unused = 4, count = n)]
                c: (),
                #[vmstate(void_ptr, fd)]
                d: *mut u8,
                #[vmstate(bitmap = n, multiply = 2)]
                e: [u64; 1],
                #[vmstate(subsection)]
                f: Sub,
            }
        };
        let cx = Ctxt::new();
        let cont = Container::from_ast(&cx, &input).unwrap();
        let f = &cont.fields;
        assert!(matches!(f[0].role, Role::Value(_)));
        assert!(matches!(f[1].role, Role::Value(_)));
        assert!(matches!(f[2].role, Role::Skip(_)));
        assert!(matches!(f[3].role, Role::Unused(_)));
        // The first key decides; the second is the error.
        assert!(matches!(f[4].role, Role::VoidPtr(_)) && f[4].role_conflict);
        assert!(matches!(&f[5].role, Role::Bitmap(b) if b.0.multiply == 1 && b.0.name == "n"));
        assert!(f[6].role.subsection().is_some() && !f[6].role.get().on_wire());
        assert!(f.iter().filter(|f| f.role_conflict).count() == 1);
        let errors: Vec<String> = cx
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(errors, ["`fd` cannot be combined with `void_ptr`"]);
    }
}
