//! What the generator knows about one description, built from QEMU's
//! `-dump-vmstate` JSON or from a stream's vmdesc.

use serde_json::Value as Json;

/// One description (`VMStateDescription`).
#[derive(Clone, Debug, PartialEq)]
pub struct Desc {
    /// QEMU's name (`i8259`, `i8259/ltim`).
    pub name: String,
    /// `version_id`.
    pub version: u32,
    /// `minimum_version_id` (the vmdesc does not carry it: 0 then).
    pub min_version: u32,
    /// The fields in wire order.
    pub fields: Vec<FieldIr>,
    /// The subsections in QEMU's order.
    pub subsections: Vec<Desc>,
}

/// One field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldIr {
    /// QEMU's name.
    pub name: String,
    /// The field's `version_id` (0: always).
    pub version: u32,
    /// A `field_exists` test decides presence (its C function is not in
    /// the JSON: a hook).
    pub exists: bool,
    /// What is on the wire.
    pub kind: Kind,
}

/// A scalar's Rust type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `i8`.
    I8,
    /// `i16`.
    I16,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `bool`.
    Bool,
    /// `f64`.
    F64,
}

impl Scalar {
    /// The Rust type.
    pub fn rust(self) -> &'static str {
        match self {
            Scalar::U8 => "u8",
            Scalar::U16 => "u16",
            Scalar::U32 => "u32",
            Scalar::U64 => "u64",
            Scalar::I8 => "i8",
            Scalar::I16 => "i16",
            Scalar::I32 => "i32",
            Scalar::I64 => "i64",
            Scalar::Bool => "bool",
            Scalar::F64 => "f64",
        }
    }

    /// The unsigned integer of a size, as the dump gives only sizes.
    pub fn of_size(size: u64) -> Option<Scalar> {
        Some(match size {
            1 => Scalar::U8,
            2 => Scalar::U16,
            4 => Scalar::U32,
            8 => Scalar::U64,
            _ => return None,
        })
    }

    /// The scalar of a QEMU type name (`VMStateInfo::name`), and whether
    /// it is an `_EQUAL` check.
    pub fn of_info(info: &str) -> Option<(Scalar, bool)> {
        let (base, equal) = match info.strip_suffix(" equal") {
            Some(b) => (b, true),
            None => (info, false),
        };
        let s = match base {
            "uint8" => Scalar::U8,
            "uint16" => Scalar::U16,
            "uint32" => Scalar::U32,
            "uint64" => Scalar::U64,
            "int8" => Scalar::I8,
            "int16" => Scalar::I16,
            "int32" => Scalar::I32,
            "int64" => Scalar::I64,
            "bool" => Scalar::Bool,
            "float64" => Scalar::F64,
            _ => return None,
        };
        Some((s, equal))
    }
}

/// What a field carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A scalar; `equal` for QEMU's `*_EQUAL` (from a vmdesc only).
    Scalar {
        /// The type.
        ty: Scalar,
        /// Checked against the destination.
        equal: bool,
        /// The type comes from a size only (the dump): signedness and
        /// `bool` are not known, the wire is the same.
        from_size: bool,
    },
    /// `N` raw bytes (`VMSTATE_BUFFER`).
    Buffer(u64),
    /// `N` skipped bytes (`VMSTATE_UNUSED`).
    Unused(u64),
    /// A QEMU timer (`timer`: be64 expiry, -1 not armed).
    Timer,
    /// A nested description (`VMSTATE_STRUCT`).
    Struct(Box<Desc>),
    /// A fixed array.
    Array(Box<Kind>, u64),
    /// A description the catalog mirrors (`PCIDevice`, `Fifo8`): the Rust
    /// path of its type.
    Catalog(&'static str),
    /// A hand-written `VMStateInfo` the catalog implements: the codec's
    /// and the value's Rust paths.
    CatalogCodec(&'static str, &'static str),
    /// A hand-written `VMStateInfo` (or a length the JSON does not tell):
    /// QEMU's type name, or the field's name when the dump does not say.
    Codec(String),
    /// A variable array (the dump shows one element, a save `array_len`
    /// of them): its count is in a field the JSON does not name. The
    /// number is what the save had.
    VarArray(Box<Kind>, u64),
    /// `VMSTATE_WITH_TMP`: a temporary's description stands for some of
    /// the parent's state; the conversions are C code (hooks).
    Tmp(Box<Desc>),
    /// A variable buffer (size 0 in the dump, a `buffer` in a save):
    /// its length is in a field the JSON does not name.
    VBuffer(u64),
}

/// `d` (from the dump) with what one save (`v`, a vmdesc description of
/// the same name) tells more: QEMU's type names, `_EQUAL` checks, timers,
/// and the variable arrays and buffers the dump shows as one element or
/// size 0. Fields and subsections the save left out keep the dump's view.
pub fn refine(d: &Desc, v: &Desc) -> Desc {
    let mut out = d.clone();
    let mut j = 0;
    for f in &mut out.fields {
        if let Some(vf) = v.fields.get(j) {
            if vf.name == f.name {
                f.kind = refine_kind(&f.kind, &vf.kind);
                j += 1;
            }
        }
    }
    for s in &mut out.subsections {
        if let Some(vs) = v.subsections.iter().find(|vs| vs.name == s.name) {
            *s = refine(s, vs);
        }
    }
    out
}

fn refine_kind(d: &Kind, v: &Kind) -> Kind {
    match (d, v) {
        (
            Kind::Scalar {
                from_size: true, ..
            },
            Kind::Scalar { .. },
        ) => v.clone(),
        (
            Kind::Scalar {
                from_size: true, ..
            },
            Kind::Timer,
        ) => Kind::Timer,
        (Kind::Struct(a), Kind::Struct(b)) => Kind::Struct(Box::new(refine(a, b))),
        (Kind::Struct(a), Kind::Tmp(b)) => Kind::Tmp(Box::new(refine(a, b))),
        (Kind::Array(a, n), Kind::Array(b, _)) => Kind::Array(Box::new(refine_kind(a, b)), *n),
        (Kind::Array(..), _) => d.clone(),
        (_, Kind::Array(b, n)) => Kind::VarArray(Box::new(refine_kind(d, b)), *n),
        (Kind::Codec(_), Kind::Buffer(n)) => Kind::VBuffer(*n),
        (Kind::Codec(_), Kind::Codec(info)) => Kind::Codec(info.clone()),
        _ => d.clone(),
    }
}

/// Descriptions the catalog (`vmstate-qemu`) mirrors, by QEMU name.
pub const CATALOG_DESCS: &[(&str, &str)] = &[
    ("PCIDevice", "vmstate_qemu::pci::PciDevice"),
    ("Fifo8", "vmstate_qemu::fifo8::Fifo8"),
];

/// Hand-written infos the catalog implements: (description, field) ->
/// (codec, value).
pub const CATALOG_CODECS: &[(&str, &str, &str, &str)] = &[(
    "virtio-net",
    "virtio",
    "vmstate_qemu::virtio_net::VirtioNetCodec",
    "vmstate_qemu::virtio_net::VirtioNetState",
)];

fn u32_of(j: &Json, key: &str) -> u32 {
    j.get(key).and_then(Json::as_u64).unwrap_or(0) as u32
}

fn catalog_codec(desc: &str, field: &str) -> Option<Kind> {
    CATALOG_CODECS
        .iter()
        .find(|c| c.0 == desc && c.1 == field)
        .map(|c| Kind::CatalogCodec(c.2, c.3))
}

/// A description from `-dump-vmstate` (`{"name", "version_id",
/// "minimum_version_id", "Fields", "Subsections"}`).
pub fn desc_from_dump(d: &Json) -> Desc {
    let name = d
        .get("name")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned();
    let empty = Vec::new();
    let fields = d
        .get("Fields")
        .and_then(Json::as_array)
        .unwrap_or(&empty)
        .iter()
        .map(|f| field_from_dump(&name, f))
        .collect();
    let subsections = d
        .get("Subsections")
        .and_then(Json::as_array)
        .unwrap_or(&empty)
        .iter()
        .map(desc_from_dump)
        .collect();
    Desc {
        version: u32_of(d, "version_id"),
        min_version: u32_of(d, "minimum_version_id"),
        name,
        fields,
        subsections,
    }
}

fn field_from_dump(parent: &str, f: &Json) -> FieldIr {
    let name = f
        .get("field")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned();
    let size = f.get("size").and_then(Json::as_u64).unwrap_or(0);
    let num = f.get("num").and_then(Json::as_u64);
    let elem = if let Some(k) = catalog_codec(parent, &name) {
        k
    } else if let Some(d) = f.get("Description") {
        let inner = desc_from_dump(d);
        match CATALOG_DESCS.iter().find(|c| c.0 == inner.name) {
            Some(c) => Kind::Catalog(c.1),
            None => Kind::Struct(Box::new(inner)),
        }
    } else if name == "unused" && num.is_none() {
        Kind::Unused(size)
    } else if let Some(s) = Scalar::of_size(size) {
        Kind::Scalar {
            ty: s,
            equal: false,
            from_size: true,
        }
    } else if size == 0 {
        // No size: a hand-written info or a length held elsewhere.
        Kind::Codec(name.clone())
    } else if num.is_some() {
        // An array of a size that no scalar has: a hand-written info.
        Kind::Codec(name.clone())
    } else {
        Kind::Buffer(size)
    };
    let kind = match num {
        Some(n) => Kind::Array(Box::new(elem), n),
        None => elem,
    };
    FieldIr {
        version: u32_of(f, "version_id"),
        exists: f
            .get("field_exists")
            .and_then(Json::as_bool)
            .unwrap_or(false),
        name,
        kind,
    }
}

/// A description from a vmdesc entry (a section's `{"vmsd_name",
/// "version", "fields", "subsections"}` or a `"struct"`): what one save
/// wrote. Fields the save left out (tests, versions, subsections not
/// needed) are not there.
pub fn desc_from_vmdesc(d: &Json) -> Desc {
    let name = d
        .get("vmsd_name")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned();
    let empty = Vec::new();
    let fields = d
        .get("fields")
        .and_then(Json::as_array)
        .unwrap_or(&empty)
        .iter()
        .map(|f| field_from_vmdesc(&name, f))
        .collect();
    let subsections = d
        .get("subsections")
        .and_then(Json::as_array)
        .unwrap_or(&empty)
        .iter()
        .map(desc_from_vmdesc)
        .collect();
    Desc {
        version: u32_of(d, "version"),
        min_version: 0,
        name,
        fields,
        subsections,
    }
}

fn field_from_vmdesc(parent: &str, f: &Json) -> FieldIr {
    let name = f
        .get("name")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned();
    let ty = f.get("type").and_then(Json::as_str).unwrap_or("");
    let size = f.get("size").and_then(Json::as_u64).unwrap_or(0);
    let elem = if let Some(k) = catalog_codec(parent, &name) {
        k
    } else if let Some(d) = f.get("struct") {
        let inner = desc_from_vmdesc(d);
        match CATALOG_DESCS.iter().find(|c| c.0 == inner.name) {
            Some(c) => Kind::Catalog(c.1),
            None => Kind::Struct(Box::new(inner)),
        }
    } else if ty == "tmp" {
        // The temporary's description is inline in the field.
        Kind::Tmp(Box::new(desc_from_vmdesc(f)))
    } else if let Some((s, equal)) = Scalar::of_info(ty) {
        Kind::Scalar {
            ty: s,
            equal,
            from_size: false,
        }
    } else {
        match ty {
            "buffer" => Kind::Buffer(size),
            "unused_buffer" => Kind::Unused(size),
            "timer" => Kind::Timer,
            other => Kind::Codec(other.to_owned()),
        }
    };
    let kind = match f.get("array_len").and_then(Json::as_u64) {
        Some(n) => Kind::Array(Box::new(elem), n),
        None => elem,
    };
    FieldIr {
        name,
        version: 0,
        exists: false,
        kind,
    }
}
