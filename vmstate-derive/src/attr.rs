//! Parsing of `#[vmstate(...)]` attributes into plain values. Every problem
//! is recorded in the [`Ctxt`] and parsing goes on, so that all errors of an
//! item are reported together.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::{ExprPath, Ident, LitInt, LitStr, Token};

use crate::ctxt::Ctxt;
use crate::symbol::*;

/// A value set at most once, remembering the key's tokens for errors.
pub struct Attr<T> {
    name: Symbol,
    pub value: Option<T>,
    /// Span of the key, for "conflicts with" errors.
    pub span: Option<Span>,
}

impl<T> Attr<T> {
    fn none(name: Symbol) -> Self {
        Attr {
            name,
            value: None,
            span: None,
        }
    }

    fn set(&mut self, cx: &Ctxt, meta: &ParseNestedMeta, value: T) {
        if self.value.is_some() {
            cx.error_spanned_by(
                &meta.path,
                format!("duplicate vmstate attribute `{}`", self.name),
            );
        } else {
            self.value = Some(value);
            self.span = Some(meta_span(meta));
        }
    }

    pub fn is_set(&self) -> bool {
        self.value.is_some()
    }
}

/// Any key, whatever its value, for messages about keys.
pub trait Key {
    fn key(&self) -> Symbol;
    fn span(&self) -> Option<Span>;
}

impl<T> Key for Attr<T> {
    fn key(&self) -> Symbol {
        self.name
    }

    fn span(&self) -> Option<Span> {
        self.span
    }
}

fn meta_span(meta: &ParseNestedMeta) -> Span {
    meta.path
        .get_ident()
        .map_or_else(Span::call_site, Ident::span)
}

/// A flag such as `skip`.
type Flag = Attr<()>;

/// `#[vmstate(...)]` on the struct.
pub struct Container {
    pub name: Attr<LitStr>,
    pub version: Attr<LitInt>,
    pub minimum_version: Attr<LitInt>,
    pub pre_save: Attr<ExprPath>,
    pub post_save: Attr<ExprPath>,
    pub pre_load: Attr<ExprPath>,
    pub post_load: Attr<ExprPath>,
    pub needed: Attr<ExprPath>,
    pub krate: Attr<syn::Path>,
}

/// `#[vmstate(...)]` on a field.
pub struct Field {
    pub rename: Attr<LitStr>,
    pub version: Attr<LitInt>,
    pub exists: Attr<ExprPath>,
    pub skip: Flag,
    pub unused: Attr<LitInt>,
    pub equal: Flag,
    pub hint: Attr<LitStr>,
    pub positive_le: Flag,
    pub void_ptr: Flag,
    pub fd: Flag,
    pub u64_from_ptr: Attr<Ident>,
    pub pre_save: Flag,
    pub subsection: Flag,
    pub needed: Attr<ExprPath>,
    pub count: Attr<Ident>,
    pub multiply: Attr<LitInt>,
    pub buffer: Flag,
    pub start: Attr<LitInt>,
    pub size: Attr<LitInt>,
    pub vbuffer: Attr<Ident>,
    pub bitmap: Attr<Ident>,
    pub validate: Attr<ExprPath>,
    pub min: Attr<Signed>,
    pub max: Attr<Signed>,
    pub struct_version: Attr<LitInt>,
    pub tmp: Attr<syn::Type>,
    pub with: Attr<syn::Type>,
    pub qtailq: Flag,
    pub qlist: Flag,
    pub gtree: Flag,
    pub qemu_size: Attr<LitInt>,
}

/// A possibly negative integer literal, with its tokens for errors.
pub struct Signed {
    pub value: i128,
    pub tokens: proc_macro2::TokenStream,
}

impl Container {
    pub fn from_ast(cx: &Ctxt, input: &syn::DeriveInput) -> Self {
        let mut c = Container {
            name: Attr::none(NAME),
            version: Attr::none(VERSION),
            minimum_version: Attr::none(MINIMUM_VERSION),
            pre_save: Attr::none(PRE_SAVE),
            post_save: Attr::none(POST_SAVE),
            pre_load: Attr::none(PRE_LOAD),
            post_load: Attr::none(POST_LOAD),
            needed: Attr::none(NEEDED),
            krate: Attr::none(CRATE),
        };
        for_each_meta(cx, &input.attrs, |meta| {
            let p = &meta.path;
            if *p == NAME {
                let v = meta.value()?.parse()?;
                c.name.set(cx, &meta, v);
            } else if *p == VERSION {
                let v = parse_int(&meta)?;
                c.version.set(cx, &meta, v);
            } else if *p == MINIMUM_VERSION {
                let v = parse_int(&meta)?;
                c.minimum_version.set(cx, &meta, v);
            } else if *p == PRE_SAVE {
                let v = parse_path(&meta)?;
                c.pre_save.set(cx, &meta, v);
            } else if *p == POST_SAVE {
                let v = parse_path(&meta)?;
                c.post_save.set(cx, &meta, v);
            } else if *p == PRE_LOAD {
                let v = parse_path(&meta)?;
                c.pre_load.set(cx, &meta, v);
            } else if *p == POST_LOAD {
                let v = parse_path(&meta)?;
                c.post_load.set(cx, &meta, v);
            } else if *p == NEEDED {
                let v = parse_path(&meta)?;
                c.needed.set(cx, &meta, v);
            } else if *p == CRATE {
                let s: LitStr = meta.value()?.parse()?;
                let v = s.parse()?;
                c.krate.set(cx, &meta, v);
            } else {
                unknown_key(cx, &meta, Level::Struct)?;
            }
            Ok(())
        });
        c
    }
}

impl Field {
    pub fn from_ast(cx: &Ctxt, field: &syn::Field) -> Self {
        let mut f = Field {
            rename: Attr::none(RENAME),
            version: Attr::none(VERSION),
            exists: Attr::none(EXISTS),
            skip: Attr::none(SKIP),
            unused: Attr::none(UNUSED),
            equal: Attr::none(EQUAL),
            hint: Attr::none(HINT),
            positive_le: Attr::none(POSITIVE_LE),
            void_ptr: Attr::none(VOID_PTR),
            fd: Attr::none(FD),
            u64_from_ptr: Attr::none(U64_FROM_PTR),
            pre_save: Attr::none(PRE_SAVE),
            subsection: Attr::none(SUBSECTION),
            needed: Attr::none(NEEDED),
            count: Attr::none(COUNT),
            multiply: Attr::none(MULTIPLY),
            buffer: Attr::none(BUFFER),
            start: Attr::none(START),
            size: Attr::none(SIZE),
            vbuffer: Attr::none(VBUFFER),
            bitmap: Attr::none(BITMAP),
            validate: Attr::none(VALIDATE),
            min: Attr::none(MIN),
            max: Attr::none(MAX),
            struct_version: Attr::none(STRUCT_VERSION),
            tmp: Attr::none(TMP),
            with: Attr::none(WITH),
            qtailq: Attr::none(QTAILQ),
            qlist: Attr::none(QLIST),
            gtree: Attr::none(GTREE),
            qemu_size: Attr::none(QEMU_SIZE),
        };
        for_each_meta(cx, &field.attrs, |meta| {
            let p = &meta.path;
            if *p == RENAME {
                let v = meta.value()?.parse()?;
                f.rename.set(cx, &meta, v);
            } else if *p == VERSION {
                let v = parse_int(&meta)?;
                f.version.set(cx, &meta, v);
            } else if *p == EXISTS {
                let v = parse_path(&meta)?;
                f.exists.set(cx, &meta, v);
            } else if *p == SKIP {
                f.skip.set(cx, &meta, ());
            } else if *p == UNUSED {
                let v = parse_int(&meta)?;
                f.unused.set(cx, &meta, v);
            } else if *p == EQUAL {
                f.equal.set(cx, &meta, ());
            } else if *p == HINT {
                let v = meta.value()?.parse()?;
                f.hint.set(cx, &meta, v);
            } else if *p == POSITIVE_LE {
                f.positive_le.set(cx, &meta, ());
            } else if *p == VOID_PTR {
                f.void_ptr.set(cx, &meta, ());
            } else if *p == FD {
                f.fd.set(cx, &meta, ());
            } else if *p == U64_FROM_PTR {
                let v = meta.value()?.parse()?;
                f.u64_from_ptr.set(cx, &meta, v);
            } else if *p == PRE_SAVE {
                f.pre_save.set(cx, &meta, ());
            } else if *p == SUBSECTION {
                f.subsection.set(cx, &meta, ());
            } else if *p == NEEDED {
                let v = parse_path(&meta)?;
                f.needed.set(cx, &meta, v);
            } else if *p == COUNT {
                let v = meta.value()?.parse()?;
                f.count.set(cx, &meta, v);
            } else if *p == MULTIPLY {
                let v = parse_int(&meta)?;
                f.multiply.set(cx, &meta, v);
            } else if *p == BUFFER {
                f.buffer.set(cx, &meta, ());
            } else if *p == START {
                let v = parse_int(&meta)?;
                f.start.set(cx, &meta, v);
            } else if *p == SIZE {
                let v = parse_int(&meta)?;
                f.size.set(cx, &meta, v);
            } else if *p == VBUFFER {
                let v = meta.value()?.parse()?;
                f.vbuffer.set(cx, &meta, v);
            } else if *p == BITMAP {
                let v = meta.value()?.parse()?;
                f.bitmap.set(cx, &meta, v);
            } else if *p == VALIDATE {
                let v = parse_path(&meta)?;
                f.validate.set(cx, &meta, v);
            } else if *p == MIN {
                let v = parse_signed(&meta)?;
                f.min.set(cx, &meta, v);
            } else if *p == MAX {
                let v = parse_signed(&meta)?;
                f.max.set(cx, &meta, v);
            } else if *p == STRUCT_VERSION {
                let v = parse_int(&meta)?;
                f.struct_version.set(cx, &meta, v);
            } else if *p == TMP {
                let v = parse_type(&meta)?;
                f.tmp.set(cx, &meta, v);
            } else if *p == WITH {
                let v = parse_type(&meta)?;
                f.with.set(cx, &meta, v);
            } else if *p == QTAILQ {
                f.qtailq.set(cx, &meta, ());
            } else if *p == QLIST {
                f.qlist.set(cx, &meta, ());
            } else if *p == GTREE {
                f.gtree.set(cx, &meta, ());
            } else if *p == QEMU_SIZE {
                let v = parse_int(&meta)?;
                f.qemu_size.set(cx, &meta, v);
            } else {
                unknown_key(cx, &meta, Level::Field)?;
            }
            Ok(())
        });
        f
    }
}

/// Runs `f` on every item of every `#[vmstate(...)]` attribute. A syntax
/// error inside one attribute is recorded and the next attribute is parsed.
fn for_each_meta(
    cx: &Ctxt,
    attrs: &[syn::Attribute],
    mut f: impl FnMut(ParseNestedMeta) -> syn::Result<()>,
) {
    for attr in attrs {
        if *attr.path() != VMSTATE {
            continue;
        }
        if let syn::Meta::List(list) = &attr.meta {
            if list.tokens.is_empty() {
                continue;
            }
        }
        if let Err(e) = attr.parse_nested_meta(&mut f) {
            cx.syn_error(e);
        }
    }
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Level {
    Struct,
    Field,
}

/// Records an unknown key and skips its value so parsing can go on.
fn unknown_key(cx: &Ctxt, meta: &ParseNestedMeta, level: Level) -> syn::Result<()> {
    let name = meta.path.get_ident().map_or_else(
        || {
            let p = &meta.path;
            quote::quote!(#p).to_string().replace(' ', "")
        },
        Ident::to_string,
    );
    let (keys, aliases, here, other_keys, there) = match level {
        Level::Struct => (
            CONTAINER_KEYS,
            CONTAINER_ALIASES,
            "struct",
            FIELD_KEYS,
            "field",
        ),
        Level::Field => (FIELD_KEYS, FIELD_ALIASES, "field", CONTAINER_KEYS, "struct"),
    };
    let hint = if let Some((_, key)) = aliases.iter().find(|(a, _)| *a == name) {
        format!("; did you mean `{key}`?")
    } else if other_keys.iter().any(|k| k.0 == name) {
        format!("; `{name}` is a {there} attribute")
    } else if let Some(key) = closest(&name, keys) {
        format!("; did you mean `{key}`?")
    } else {
        String::new()
    };
    cx.error_spanned_by(
        &meta.path,
        format!(
            "unknown vmstate {here} attribute `{name}`{hint}\nexpected one of: {}",
            list(keys)
        ),
    );
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _group: proc_macro2::Group = meta.input.parse()?;
    }
    Ok(())
}

/// The key within edit distance 2 of `name` (1 for short names), if one.
fn closest(name: &str, keys: &[Symbol]) -> Option<Symbol> {
    let max = if name.len() <= 4 { 1 } else { 2 };
    keys.iter()
        .map(|k| (edit_distance(name, k.0), *k))
        .filter(|(d, _)| *d <= max)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over bytes (keys are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn parse_int(meta: &ParseNestedMeta) -> syn::Result<LitInt> {
    let key = meta
        .path
        .get_ident()
        .map(Ident::to_string)
        .unwrap_or_default();
    let lit: LitInt = meta.value()?.parse().map_err(|e: syn::Error| {
        syn::Error::new(
            e.span(),
            format!("`{key}` takes an integer literal, e.g. `{key} = 1`"),
        )
    })?;
    lit.base10_parse::<u32>().map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!("`{key}` must be an unsigned integer that fits in 32 bits"),
        )
    })?;
    Ok(lit)
}

/// A path such as `Self::post_load`, written bare or as a string.
fn parse_path(meta: &ParseNestedMeta) -> syn::Result<ExprPath> {
    let input = meta.value()?;
    if input.peek(LitStr) {
        let s: LitStr = input.parse()?;
        s.parse()
    } else {
        input.parse()
    }
}

/// `min = -1`, `max = 31`.
fn parse_signed(meta: &ParseNestedMeta) -> syn::Result<Signed> {
    let expr: syn::Expr = meta.value()?.parse()?;
    let value = match &expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse::<i128>()?,
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr: inner,
            ..
        }) => match &**inner {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }) => -i.base10_parse::<i128>()?,
            _ => {
                return Err(syn::Error::new_spanned(
                    &expr,
                    "expected an integer literal",
                ))
            }
        },
        _ => {
            return Err(syn::Error::new_spanned(
                &expr,
                "expected an integer literal",
            ))
        }
    };
    Ok(Signed {
        value,
        tokens: quote::ToTokens::into_token_stream(expr),
    })
}

/// A type, written bare or as a string.
fn parse_type(meta: &ParseNestedMeta) -> syn::Result<syn::Type> {
    let input = meta.value()?;
    if input.peek(LitStr) {
        let s: LitStr = input.parse()?;
        s.parse()
    } else {
        input.parse()
    }
}

/// The `u32` of a literal already checked by `parse_int`.
pub fn int_value(lit: &LitInt) -> u32 {
    lit.base10_parse().unwrap_or(0)
}
