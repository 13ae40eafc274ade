//! The checks of a plain value's type, on the user's tokens.

use syn::Type;

use crate::ast::Field;
use crate::ctxt::Ctxt;
use crate::types::{holder, is_pointer_type, primitive_name, strip, type_str, Holder};

/// The type of a plain field (`special`: with `count`, `with` or
/// `struct_version`, whose own traits check it).
pub fn value_type(cx: &Ctxt, field: &Field, special: bool) {
    let pointer = is_pointer_type(field.ty);
    let reference = matches!(field.ty, Type::Reference(_));
    if !special && !pointer && !reference {
        well_known(cx, field);
    }
    if pointer {
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
    if reference {
        cx.error_spanned_by(
            field.ty,
            format!(
                "unsupported field type `{}`: references cannot be loaded into",
                type_str(field.ty)
            ),
        );
    }
}

/// A counted field: `[T; N]` or `Vec<T>`, and not a `Vec` of `Option`.
pub fn counted(cx: &Ctxt, field: &Field) {
    match holder(field.ty) {
        None => cx.error_spanned_by(
            field.ty,
            format!(
                "`count` needs a `[T; N]` or `Vec<T>` field, but `{}` has type `{}`",
                field.member,
                type_str(field.ty)
            ),
        ),
        Some(Holder::Vec(elem)) => {
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
        Some(Holder::Fixed(_)) => {}
    }
}

/// Types that obviously have no VMState encoding, with advice, and the
/// checks' types. The trait bounds in the generated code catch every
/// other type (aliases included), with the message of `VmField`'s
/// `on_unimplemented`.
fn well_known(cx: &Ctxt, field: &Field) {
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
    if a.equal.is_set() && outside(field.ty, &["u8", "u16", "u32", "u64", "i32"]) {
        cx.error_spanned_by(
            field.ty,
            format!(
                "`equal` is not available for `{}`: QEMU has equal codecs for u8, u16, u32, u64 \
                 and i32 only",
                type_str(field.ty)
            ),
        );
    }
    if a.positive_le.is_set() && outside(field.ty, &["i32"]) {
        cx.error_spanned_by(
            field.ty,
            format!(
                "`positive_le` needs an `i32` field (QEMU's VMSTATE_INT32_POSITIVE_LE), but `{}` \
                 has type `{}`",
                field.member,
                type_str(field.ty)
            ),
        );
    }
}

/// Whether a check's codec surely does not exist for `ty`: a primitive not
/// in `with`, or an array (the codecs are scalar). Anything else the trait
/// bounds check.
fn outside(ty: &Type, with: &[&str]) -> bool {
    match (primitive_name(ty), strip(ty)) {
        (Some(id), _) => !with.contains(&id.as_str()),
        (None, Type::Array(_)) => true,
        _ => false,
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
