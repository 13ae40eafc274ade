//! Rust source for descriptions: one module per device type, one
//! `#[derive(VmState)]` struct per description.

use std::fmt::Write as _;

use super::ir::{Desc, FieldIr, Kind};
use super::names::{camel, lit, snake, unique};

/// Scalar arrays larger than this go in a `Box` (they would crowd the
/// stack).
const BOX_ABOVE: u64 = 4096;

/// The source name of a module generated from the dump alone.
pub const DUMP: &str = "QEMU's -dump-vmstate";

/// One module being written.
pub struct Module {
    /// Struct names already used, with the description each stands for.
    structs: Vec<(String, Desc)>,
    /// Structs that have a `Default` (no hooks, every field has one).
    defaults: Vec<String>,
    /// The structs' source.
    body: String,
    /// Hand-written codecs the module needs, by module name.
    codecs: Vec<String>,
    /// `VmTmp` impls of the temporaries.
    tmp_impls: Vec<String>,
    /// Where the descriptions came from, for the doc comments.
    source: String,
}

impl Module {
    /// An empty module whose descriptions come from `source` (said in the
    /// docs).
    pub fn new(source: &str) -> Module {
        Module {
            structs: Vec::new(),
            defaults: Vec::new(),
            body: String::new(),
            codecs: Vec::new(),
            tmp_impls: Vec::new(),
            source: source.to_owned(),
        }
    }

    /// The struct for `d` (written once per distinct description).
    pub fn desc(&mut self, d: &Desc) -> String {
        if let Some((n, _)) = self.structs.iter().find(|(_, e)| e == d) {
            return n.clone();
        }
        let mut taken: Vec<String> = self.structs.iter().map(|(n, _)| n.clone()).collect();
        let name = unique(camel(&d.name), &mut taken);
        self.structs.push((name.clone(), d.clone()));
        let code = self.struct_code(&name, d);
        self.body.push_str(&code);
        name
    }

    fn codec(&mut self, info: &str) -> String {
        let m = snake(info);
        if !self.codecs.contains(&m) {
            self.codecs.push(m.clone());
        }
        format!("{m}_codec")
    }

    /// The Rust type of a field's kind (writing nested structs).
    fn ty(&mut self, k: &Kind) -> String {
        match k {
            Kind::Scalar { ty, .. } => ty.rust().to_owned(),
            Kind::Buffer(n) => format!("[u8; {n}]"),
            Kind::Unused(_) | Kind::Tmp(_) => "()".to_owned(),
            Kind::Timer => "vmstate_core::types::Timer".to_owned(),
            Kind::Struct(d) => self.desc(d),
            Kind::Array(e, n) => {
                if let Kind::Codec(info) = &**e {
                    // The codec reads the whole array.
                    return format!("{}::Value", self.codec(info));
                }
                let t = self.ty(e);
                if matches!(**e, Kind::Scalar { .. }) && *n > BOX_ABOVE {
                    format!("Box<[{t}; {n}]>")
                } else {
                    format!("[{t}; {n}]")
                }
            }
            Kind::Catalog(path) => (*path).to_owned(),
            Kind::VarArray(e, _) => format!("Vec<{}>", self.ty(e)),
            Kind::VBuffer(_) => "Vec<u8>".to_owned(),
            Kind::CatalogCodec(_, value) => (*value).to_owned(),
            Kind::Codec(info) => format!("{}::Value", self.codec(info)),
        }
    }

    /// The expression of a field's default, if it has one.
    fn default_of(&mut self, k: &Kind) -> Option<String> {
        Some(match k {
            Kind::Scalar { .. } | Kind::Timer | Kind::Unused(_) | Kind::Tmp(_) => {
                "Default::default()".to_owned()
            }
            Kind::Buffer(n) => format!("[0; {n}]"),
            Kind::VarArray(..) | Kind::VBuffer(_) => "Vec::new()".to_owned(),
            Kind::Struct(d) => {
                let n = self.desc(d);
                if !self.defaults.contains(&n) {
                    return None;
                }
                "Default::default()".to_owned()
            }
            Kind::Array(e, n) => {
                if matches!(**e, Kind::Codec(_)) {
                    return None;
                }
                self.default_of(e)?;
                let a = "std::array::from_fn(|_| Default::default())".to_owned();
                if matches!(**e, Kind::Scalar { .. }) && *n > BOX_ABOVE {
                    format!("Box::new({a})")
                } else {
                    a
                }
            }
            Kind::CatalogCodec(..) => "Default::default()".to_owned(),
            Kind::Catalog(_) | Kind::Codec(_) => return None,
        })
    }

    fn struct_code(&mut self, name: &str, d: &Desc) -> String {
        // A `Default` (a variable array's elements need one) when every
        // field has one and there are no hooks.
        let mut defaults: Option<Vec<String>> = Some(Vec::new());
        {
            let mut taken = vec!["hooks".to_owned()];
            for f in &d.fields {
                let ident = unique(snake(&f.name), &mut taken);
                if let Kind::VarArray(..) | Kind::VBuffer(_) = f.kind {
                    let count = unique(format!("{ident}_len"), &mut taken);
                    if let Some(v) = defaults.as_mut() {
                        v.push(format!("{count}: 0"));
                    }
                }
                let dflt = if f.exists {
                    None
                } else {
                    self.default_of(&f.kind)
                };
                match (dflt, defaults.as_mut()) {
                    (Some(e), Some(v)) => v.push(format!("{ident}: {e}")),
                    _ => defaults = None,
                }
            }
            if !d.subsections.is_empty() {
                defaults = None;
            }
        }
        let mut fields = String::new();
        let mut hooks: Vec<(String, String, String)> = Vec::new(); // (name, sig, doc)
        let mut taken = vec!["hooks".to_owned()];
        for f in &d.fields {
            self.field(f, name, &mut fields, &mut hooks, &mut taken);
        }
        for s in &d.subsections {
            let ty = self.desc(s);
            let short = s
                .name
                .strip_prefix(&format!("{}/", d.name))
                .unwrap_or(&s.name);
            let ident = unique(snake(short), &mut taken);
            let hook = format!("needed_{ident}");
            let _ = writeln!(
                fields,
                "    /// Subsection `{}`.\n    #[vmstate(subsection, needed = Self::{hook})]\n    pub {ident}: {ty},",
                s.name
            );
            hooks.push((
                hook,
                format!("fn(&{name}) -> bool"),
                format!(
                    "QEMU's `needed` of subsection `{}` (C code, not in the JSON; \
                     return true if it has none)",
                    s.name
                ),
            ));
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "/// QEMU description `{}` (version {}, minimum {}), from {}.",
            d.name, d.version, d.min_version, self.source
        );
        let _ = writeln!(out, "#[derive(VmState, Clone, Debug)]");
        let _ = writeln!(
            out,
            "#[vmstate(name = {}, version = {}, minimum_version = {})]",
            lit(&d.name),
            d.version,
            d.min_version
        );
        let _ = writeln!(out, "pub struct {name} {{");
        out.push_str(&fields);
        if !hooks.is_empty() {
            let _ = writeln!(
                out,
                "    /// The hooks QEMU's JSON cannot state; not on the wire.\n    #[vmstate(skip)]\n    pub hooks: {name}Hooks,"
            );
        }
        let _ = writeln!(out, "}}\n");
        if let (Some(inits), true) = (defaults, hooks.is_empty()) {
            self.defaults.push(name.to_owned());
            let _ = writeln!(
                out,
                "impl Default for {name} {{\n    fn default() -> Self {{\n        {name} {{\n{}        }}\n    }}\n}}\n",
                inits
                    .iter()
                    .map(|i| format!("            {i},\n"))
                    .collect::<String>()
            );
        }
        if !hooks.is_empty() {
            let _ = writeln!(
                out,
                "/// What QEMU's JSON cannot tell about [`{name}`]: the C functions behind\n\
                 /// its tests. Write them (a value of this type is needed to build a\n\
                 /// [`{name}`]).\n#[derive(Clone, Copy, Debug)]\npub struct {name}Hooks {{"
            );
            for (h, sig, doc) in &hooks {
                let _ = writeln!(out, "    /// {doc}.\n    pub {h}: {sig},");
            }
            let _ = writeln!(out, "}}\n\nimpl {name} {{");
            for (h, sig, _) in hooks.iter().filter(|(h, _, _)| !h.starts_with("tmp_")) {
                if sig.contains("u32") {
                    let _ = writeln!(
                        out,
                        "    fn {h}(&self, version: u32) -> bool {{\n        (self.hooks.{h})(self, version)\n    }}"
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "    fn {h}(&self) -> bool {{\n        (self.hooks.{h})(self)\n    }}"
                    );
                }
            }
            let _ = writeln!(out, "}}\n");
        }
        for i in std::mem::take(&mut self.tmp_impls) {
            let _ = writeln!(out, "{i}");
        }
        out
    }

    fn field(
        &mut self,
        f: &FieldIr,
        owner: &str,
        out: &mut String,
        hooks: &mut Vec<(String, String, String)>,
        taken: &mut Vec<String>,
    ) {
        let ident = unique(snake(&f.name), taken);
        let mut attrs: Vec<String> = Vec::new();
        let mut doc = format!("`{}`", f.name);
        // An `unused` field's description name is always `unused`.
        if ident != f.name && !matches!(f.kind, Kind::Unused(_)) {
            attrs.push(format!("rename = {}", lit(&f.name)));
        }
        match &f.kind {
            Kind::Unused(n) => attrs.push(format!("unused = {n}")),
            Kind::Buffer(_) => attrs.push("buffer".to_owned()),
            Kind::Scalar {
                equal, from_size, ..
            } => {
                if *equal {
                    attrs.push("equal".to_owned());
                    doc.push_str(": QEMU checks it against the destination's value (`_EQUAL`)");
                }
                if *from_size {
                    doc.push_str(
                        " (QEMU's dump gives only its size: the type may be signed or a bool, \
                         the bytes are the same; a variable array also looks like this, \
                         generate with `--stream` to tell)",
                    );
                }
            }
            Kind::CatalogCodec(codec, _) => attrs.push(format!("with = {codec}")),
            Kind::Tmp(d) => {
                let t = self.desc(d);
                attrs.push(format!("tmp = {t}"));
                doc.push_str(&format!(
                    ": `VMSTATE_WITH_TMP`, the temporary [`{t}`] stands for some of this \
                     struct's state; the conversions are hooks"
                ));
                let fill = format!("tmp_fill_{ident}");
                let apply = format!("tmp_apply_{ident}");
                hooks.push((
                    fill.clone(),
                    format!("fn(&mut {t}, &{owner}) -> Result<(), vmstate_core::error::BoxError>"),
                    format!(
                        "fills the temporary `{}` before a save (its `pre_save`)",
                        d.name
                    ),
                ));
                hooks.push((
                    apply.clone(),
                    format!(
                        "fn(&mut {t}, &mut {owner}) -> Result<(), vmstate_core::error::BoxError>"
                    ),
                    format!(
                        "applies the loaded temporary `{}` (its `post_load`)",
                        d.name
                    ),
                ));
                self.tmp_impls.push(format!(
                    "impl vmstate_core::codec::VmTmp<{owner}> for {t} {{\n    fn fill_from_parent(&mut self, p: &{owner}) -> Result<(), vmstate_core::error::BoxError> {{\n        (p.hooks.{fill})(self, p)\n    }}\n    fn apply_to_parent(&mut self, p: &mut {owner}) -> Result<(), vmstate_core::error::BoxError> {{\n        let f = p.hooks.{apply};\n        f(self, p)\n    }}\n}}\n"
                ));
            }
            Kind::Struct(_) if self.source == DUMP => doc.push_str(
                " (QEMU's dump shows a variable array of structs as one: generate with \
                 `--stream` to tell)",
            ),
            Kind::Codec(info) => {
                let c = self.codec(info);
                attrs.push(format!("with = {c}::Codec"));
                doc.push_str(&format!(
                    ": a hand-written `VMStateInfo` (`{info}`) or a length the JSON does not tell; \
                     `crate::codecs::{}` has to provide it",
                    snake(info)
                ));
            }
            Kind::Array(e, _) => {
                if let Kind::Codec(info) = &**e {
                    let c = self.codec(info);
                    attrs.push(format!("with = {c}::Codec"));
                }
            }
            _ => {}
        }
        if f.version > 0 {
            attrs.push(format!("version = {}", f.version));
        }
        if f.exists {
            let hook = format!("exists_{ident}");
            attrs.push(format!("exists = Self::{hook}"));
            hooks.push((
                hook,
                format!("fn(&{owner}, u32) -> bool"),
                format!(
                    "QEMU's `field_exists` of `{}` (C code, not in the JSON)",
                    f.name
                ),
            ));
        }
        if let Kind::VarArray(_, n) | Kind::VBuffer(n) = &f.kind {
            // The count is an earlier field of the C struct that the JSON
            // does not name: the user says which (a value needs it).
            let count = unique(format!("{ident}_len"), taken);
            let what = if matches!(f.kind, Kind::VBuffer(_)) {
                "bytes"
            } else {
                "elements"
            };
            let _ = writeln!(
                out,
                "    /// How many {what} `{}` has: QEMU's JSON does not name the field that\n    /// counts them (the save this was generated from had {n}). Keep it equal\n    /// to that field, or point `{}` at it.\n    #[vmstate(skip)]\n    pub {count}: u32,",
                f.name,
                if what == "bytes" { "vbuffer" } else { "count" }
            );
            attrs.push(if what == "bytes" {
                format!("vbuffer = {count}")
            } else {
                format!("count = {count}")
            });
        }
        let ty = self.ty(&f.kind);
        let _ = writeln!(out, "    /// {doc}.");
        if !attrs.is_empty() {
            let _ = writeln!(out, "    #[vmstate({})]", attrs.join(", "));
        }
        let _ = writeln!(out, "    pub {ident}: {ty},");
    }

    /// The module's source: `use`s, the codecs it needs, its structs.
    pub fn finish(self, module: &str, doc: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{doc}\npub mod {module} {{");
        let _ = writeln!(
            out,
            "    #![allow(clippy::all, non_camel_case_types, dead_code)]"
        );
        let _ = writeln!(out, "    use vmstate_core::VmState;");
        if !self.codecs.is_empty() {
            // One `use` for all: a missing codec is one error naming them.
            let list: Vec<String> = self
                .codecs
                .iter()
                .map(|c| format!("{c} as {c}_codec"))
                .collect();
            let _ = writeln!(
                out,
                "    // QEMU's JSON does not describe these: write `crate::codecs::NAME` for each\n    // (`pub type Value`, and `pub struct Codec` implementing\n    // `vmstate_core::codec::Codec<Value>`).\n    use crate::codecs::{{{}}};",
                list.join(", ")
            );
        }
        for line in self.body.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "    {line}");
            }
        }
        let _ = writeln!(out, "}}\n");
        out
    }

    /// The codecs the module needs (QEMU type names as module names).
    pub fn codecs(&self) -> &[String] {
        &self.codecs
    }
}
