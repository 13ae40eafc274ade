//! The wire layout written into the docs of each derived type (an empty
//! inherent impl, which rustdoc shows right below the type's own docs), so
//! that `cargo doc` shows every device's format, nested types linked.

use syn::Type;

use crate::ast::{Container, Field};

/// QEMU type and byte count of a field type written with primitives and
/// literal array lengths; `None` for anything else (structs, aliases).
pub fn primitive(ty: &Type) -> Option<(&'static str, u64)> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let id = p.path.get_ident()?.to_string();
            Some(match id.as_str() {
                "u8" => ("uint8", 1),
                "u16" => ("uint16", 2),
                "u32" => ("uint32", 4),
                "u64" => ("uint64", 8),
                "i8" => ("int8", 1),
                "i16" => ("int16", 2),
                "i32" => ("int32", 4),
                "i64" => ("int64", 8),
                "bool" => ("bool", 1),
                "f64" => ("CPU_Double_U", 8),
                _ => return None,
            })
        }
        Type::Array(a) => {
            let (info, size) = primitive(&a.elem)?;
            let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(n),
                ..
            }) = &a.len
            else {
                return None;
            };
            Some((info, size * n.base10_parse::<u64>().ok()?))
        }
        _ => None,
    }
}

pub fn ty_str(ty: &Type) -> String {
    quote::quote!(#ty).to_string().replace(' ', "")
}

/// A function path as written: `Self::has_regs`.
pub fn path_str(path: &syn::ExprPath) -> String {
    let path = &path.path;
    quote::quote!(#path).to_string().replace(' ', "")
}

/// A type as it appears in the table: a plain path (no generic arguments)
/// becomes an intra-doc link, also as the element of an array; anything
/// else is shown as code.
pub fn ty_doc(ty: &Type) -> String {
    match ty {
        Type::Path(p)
            if p.qself.is_none()
                && p.path
                    .segments
                    .iter()
                    .all(|s| matches!(s.arguments, syn::PathArguments::None)) =>
        {
            format!("[`{}`]", ty_str(ty))
        }
        Type::Array(a) if matches!(&*a.elem, Type::Path(_)) => {
            let len = &a.len;
            let len = quote::quote!(#len).to_string().replace(' ', "");
            format!("{} x {len}", ty_doc(&a.elem))
        }
        _ => format!("`{}`", ty_str(ty)),
    }
}

fn row(f: &Field) -> Option<String> {
    let (info, bytes) = f.role.get().layout(f)?;
    let since = match f.version() {
        0 => "-".to_owned(),
        v => v.to_string(),
    };
    let cond = match &f.attrs.exists.value {
        Some(path) => format!("`{}` returns true", path_str(path)),
        None => "-".to_owned(),
    };
    Some(format!(
        "| `{}` | {info} | {bytes} | {since} | {cond} |\n",
        f.name()
    ))
}

pub fn doc(cont: &Container) -> String {
    let mut s = format!(
        "Wire layout of `{}` (description \"{}\", version {}, minimum version {}):\n\n\
         | field | QEMU type | bytes | since version | present when |\n\
         |---|---|---|---|---|\n",
        cont.ident,
        cont.vmsd_name(),
        cont.version(),
        cont.minimum_version()
    );
    for f in &cont.fields {
        if let Some(r) = row(f) {
            s.push_str(&r);
        }
    }
    let subs: Vec<String> = cont
        .fields
        .iter()
        .filter_map(|f| Some(f.role.subsection()?.layout(f)))
        .collect();
    if !subs.is_empty() {
        s.push_str("\nSubsections, after the fields, in this order:\n\n");
        s.extend(subs);
    }
    s.push_str(&format!(
        "\nIts entry in QEMU's `-dump-vmstate` JSON, for QEMU's \
         `vmstate-static-checker.py` or `vmstate check`: \
         `vmstate_migration::dump::VmstateDump::from_vmsds(MACHINE, [(DEVICE_TYPE, <{} as VmState>::VMSD)])\
         .to_json(&DumpOptions::qemu())`; \
         `vmstate_migration::snapshot::assert_compatible` keeps it compatible in CI.\n",
        cont.ident
    ));
    s
}

#[cfg(test)]
mod tests {
    use crate::ast::Container;
    use crate::ctxt::Ctxt;

    #[test]
    fn layout_table_lists_every_wire_field() {
        let input: syn::DeriveInput = syn::parse_quote! {
            #[vmstate(name = "timer", version = 2, minimum_version = 1)]
            struct Timer {
                cpu_ticks_offset: i64,
                #[vmstate(unused = 8)]
                _dummy: (),
                #[vmstate(version = 2)]
                cpu_clock_offset: i64,
                #[vmstate(exists = Self::has_regs)]
                regs: [u32; 4],
                #[vmstate(equal)]
                n: u32,
                #[vmstate(skip)]
                host: u8,
                #[vmstate(subsection, needed = Self::ext_needed)]
                ext: TimerExt,
            }
        };
        let cx = Ctxt::new();
        let cont = Container::from_ast(&cx, &input).unwrap();
        let doc = super::doc(&cont);
        cx.check().unwrap();
        let expected = "\
| `cpu_ticks_offset` | int64 | 8 | - | - |
| `unused` | unused_buffer | 8 | - | - |
| `cpu_clock_offset` | int64 | 8 | 2 | - |
| `regs` | uint32 | 16 | - | `Self::has_regs` returns true |
| `n` | uint32, must equal the destination | 4 | - | - |
";
        assert!(doc.contains(expected), "{doc}");
        assert!(doc.contains("description \"timer\", version 2, minimum version 1"));
        assert!(!doc.contains("host"));
        assert!(
            doc.contains("* `ext` (type [`TimerExt`]), sent when `Self::ext_needed` returns true")
        );
    }
}
