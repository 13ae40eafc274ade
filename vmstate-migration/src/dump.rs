//! QEMU's `-dump-vmstate` JSON: an owned model of it, a parser for the
//! files QEMU writes, and an export of any set of [`Vmsd`]s in the same
//! shape.
//!
//! `qemu-system-x86_64 -M MACHINE -dump-vmstate FILE` writes one JSON
//! object: a `vmschkmachine` entry (`{"Name": MACHINE}`), then one entry
//! per device type whose class has a description, keyed by the type name
//! (`isa-i8259`), with `Name`, `version_id`, `minimum_version_id` and the
//! description under `Description`. A description has `name`,
//! `version_id`, `minimum_version_id`, `Fields` when it has a field list
//! and `Subsections` when it has a subsection list. A field has `field`,
//! `version_id`, `field_exists`, `num` for a fixed-length array (QEMU 8.1
//! and later), `size` (bytes of one element; for a nested description
//! QEMU's C struct size) and the nested `Description`. Load-time checks
//! (`VMSTATE_VALIDATE`) are not listed.
//!
//! [`VmstateDump::from_vmsds`] builds the same model from static
//! descriptions, so a device written with `#[derive(VmState)]` gets its
//! entry with:
//!
//! ```
//! use vmstate_core::desc::{Field, FieldKind, Vmsd};
//! use vmstate_migration::dump::{DumpOptions, VmstateDump};
//!
//! static FIELDS: [Field; 1] =
//!     [Field::new("outport", "uint8", FieldKind::Leaf).with_elem_size(1)];
//! static PORT92: Vmsd = Vmsd::new("port92", 1, 1, &FIELDS, &[]);
//! // With a derived type: `VmstateDump::from_vmsds("pc", [("port92", T::VMSD)])`.
//! let dump = VmstateDump::from_vmsds("pc-i440fx-7.2", [("port92", &PORT92)]);
//! let json = dump.to_json(&DumpOptions::qemu());
//! assert!(json.starts_with("{\n  \"vmschkmachine\": {\n    \"Name\": \"pc-i440fx-7.2\"\n  },\n  \"port92\": {\n"));
//! // With the field types, the text parses back into the same model.
//! let typed = dump.to_json(&DumpOptions::with_types());
//! assert_eq!(VmstateDump::parse(typed.as_bytes()).unwrap(), dump);
//! ```
//!
//! QEMU's dump has no field types; [`DumpOptions::with_types`] adds a
//! `type` key to each field (QEMU's name of the element type, `uint32`),
//! which QEMU's `vmstate-static-checker.py` ignores and which lets
//! [`compat::check`](crate::compat::check) see a type change at the same
//! size.

use std::fmt::{self, Write as _};

use serde_json::{Map, Value};
use vmstate_core::desc::{Field, FieldKind, Vmsd};

/// The key of the machine entry.
pub const MACHINE_KEY: &str = "vmschkmachine";

/// A whole `-dump-vmstate` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmstateDump {
    /// The machine type (`vmschkmachine`/`Name`), when the file has one.
    pub machine: Option<String>,
    /// Device types in file order.
    pub types: Vec<DeviceType>,
}

/// One device type's entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceType {
    /// The QEMU type name (`isa-i8259`), the entry's key and `Name`.
    pub name: String,
    /// The top description's version (also a section's version).
    pub version_id: i64,
    /// The top description's minimum version.
    pub minimum_version_id: i64,
    /// The description.
    pub description: Option<Description>,
}

/// A description (QEMU's `VMStateDescription`) as the dump lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description {
    /// Its name (a section's or subsection's name on the wire).
    pub name: String,
    /// Current version.
    pub version_id: i64,
    /// Lowest version accepted on load.
    pub minimum_version_id: i64,
    /// The fields, when the description has a field list.
    pub fields: Option<Vec<DumpField>>,
    /// The subsections, when the description has a subsection list.
    pub subsections: Option<Vec<Description>>,
}

/// One field (QEMU's `VMStateField`) as the dump lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpField {
    /// The field's name (`unused` for padding).
    pub field: String,
    /// Present only from this stream version on (0: always).
    pub version_id: i64,
    /// A test function decides whether the field is sent.
    pub field_exists: bool,
    /// Element count of a fixed-length array (`num`, QEMU 8.1+).
    pub num: Option<i64>,
    /// Bytes of one element (for a nested description, QEMU writes its C
    /// struct's size; see [`VmstateDump::from_vmsds`] for ours).
    pub size: u64,
    /// QEMU's element type name (`uint32`, `int32 equal`): not in QEMU's
    /// dump, written with [`DumpOptions::with_types`].
    pub ty: Option<String>,
    /// The nested description of a struct, temporary or queue field.
    pub description: Option<Description>,
}

impl DumpField {
    /// Total bytes of the field: `size`, times `num` for an array.
    pub fn total_size(&self) -> u64 {
        match self.num {
            Some(n) => self.size.saturating_mul(u64::try_from(n).unwrap_or(0)),
            None => self.size,
        }
    }
}

/// How [`VmstateDump::to_json`] writes a dump.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DumpOptions {
    /// Write each field's `type` (not in QEMU's dump).
    pub types: bool,
}

impl DumpOptions {
    /// Exactly the keys QEMU 10.0 writes.
    pub const fn qemu() -> Self {
        DumpOptions { types: false }
    }

    /// QEMU's keys plus each field's `type`.
    pub const fn with_types() -> Self {
        DumpOptions { types: true }
    }
}

/// Why a file is not a `-dump-vmstate` dump: where (a JSON path) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpError {
    /// Where, as keys and indices from the top (`isa-pit/Description/Fields[2]`).
    pub path: String,
    /// What was expected there.
    pub message: String,
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "not a -dump-vmstate file: {}", self.message)
        } else {
            write!(
                f,
                "not a -dump-vmstate file: at {}: {}",
                self.path, self.message
            )
        }
    }
}

impl std::error::Error for DumpError {}

impl VmstateDump {
    /// A dump of static descriptions: `types` pairs a QEMU device type name
    /// with the description of its device (`("isa-i8259", PicCommon::VMSD)`).
    ///
    /// Each field's `size` is what QEMU writes where the description
    /// knows it: one element's wire size for a value, the byte count for
    /// padding and buffers, 0 for a variable-length buffer. For a field with
    /// a nested description QEMU writes the C struct's `sizeof`, which a
    /// Rust description does not know; the export writes the nested
    /// description's fixed wire size, or 0 when it varies. QEMU's checker
    /// does not compare the sizes of such fields, nor does
    /// [`compat::check`](crate::compat::check).
    pub fn from_vmsds<'a, I>(machine: &str, types: I) -> VmstateDump
    where
        I: IntoIterator<Item = (&'a str, &'a Vmsd)>,
    {
        VmstateDump {
            machine: Some(machine.to_owned()),
            types: types
                .into_iter()
                .map(|(name, vmsd)| DeviceType::from_vmsd(name, vmsd))
                .collect(),
        }
    }

    /// The entry of device type `name`.
    pub fn get(&self, name: &str) -> Option<&DeviceType> {
        self.types.iter().find(|t| t.name == name)
    }

    /// Parses a file written by `-dump-vmstate` (or by [`Self::to_json`]).
    pub fn parse(bytes: &[u8]) -> Result<VmstateDump, DumpError> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| DumpError {
            path: String::new(),
            message: format!("invalid JSON: {e}"),
        })?;
        Self::from_value(&v)
    }

    /// The model of an already parsed dump.
    pub fn from_value(v: &Value) -> Result<VmstateDump, DumpError> {
        let top = v.as_object().ok_or_else(|| err("", "a JSON object"))?;
        let mut machine = None;
        let mut types = Vec::new();
        for (key, entry) in top {
            let o = entry
                .as_object()
                .ok_or_else(|| err(key, "an object per device type"))?;
            if key == MACHINE_KEY {
                machine = Some(string(o, key, "Name")?);
                continue;
            }
            let description = match o.get("Description") {
                Some(d) => Some(Description::from_value(d, &format!("{key}/Description"))?),
                None => None,
            };
            types.push(DeviceType {
                name: string(o, key, "Name")?,
                version_id: int(o, key, "version_id")?,
                minimum_version_id: int(o, key, "minimum_version_id")?,
                description,
            });
        }
        Ok(VmstateDump { machine, types })
    }

    /// The dump as QEMU writes it: two-space indentation, QEMU's key
    /// order, a final newline.
    pub fn to_json(&self, opts: &DumpOptions) -> String {
        let mut out = String::from("{\n");
        let mut first = true;
        if let Some(m) = &self.machine {
            let _ = write!(out, "  \"{MACHINE_KEY}\": {{\n    \"Name\": {}\n  }}", q(m));
            first = false;
        }
        for t in &self.types {
            if !first {
                out.push_str(",\n");
            }
            first = false;
            t.write(&mut out, opts);
        }
        out.push_str("\n}\n");
        out
    }
}

impl DeviceType {
    /// The entry of device type `name` whose description is `vmsd`.
    pub fn from_vmsd(name: &str, vmsd: &Vmsd) -> DeviceType {
        DeviceType {
            name: name.to_owned(),
            version_id: vmsd.version_id.into(),
            minimum_version_id: vmsd.minimum_version_id.into(),
            description: Some(Description::from_vmsd(vmsd)),
        }
    }

    fn write(&self, out: &mut String, opts: &DumpOptions) {
        let _ = write!(
            out,
            "  {}: {{\n    \"Name\": {},\n    \"version_id\": {},\n    \"minimum_version_id\": {}",
            q(&self.name),
            q(&self.name),
            self.version_id,
            self.minimum_version_id
        );
        if let Some(d) = &self.description {
            out.push_str(",\n");
            d.write(out, 4, false, opts);
        }
        out.push_str("\n  }");
    }
}

impl Description {
    /// The dump's view of a static description.
    pub fn from_vmsd(vmsd: &Vmsd) -> Description {
        let fields: Vec<DumpField> = vmsd
            .fields
            .iter()
            .filter(|f| f.kind != FieldKind::Validate)
            .map(DumpField::from_field)
            .collect();
        Description {
            name: vmsd.name.to_owned(),
            version_id: vmsd.version_id.into(),
            minimum_version_id: vmsd.minimum_version_id.into(),
            // A list of only checks is still a list (QEMU prints it empty).
            fields: (!vmsd.fields.is_empty()).then_some(fields),
            subsections: (!vmsd.subsections.is_empty()).then(|| {
                vmsd.subsections
                    .iter()
                    .map(|s| Description::from_vmsd(s.vmsd))
                    .collect()
            }),
        }
    }

    fn from_value(v: &Value, path: &str) -> Result<Description, DumpError> {
        let o = v.as_object().ok_or_else(|| err(path, "an object"))?;
        let fields = match o.get("Fields") {
            None => None,
            Some(f) => {
                let p = format!("{path}/Fields");
                let list = f.as_array().ok_or_else(|| err(&p, "an array"))?;
                let mut fields = Vec::with_capacity(list.len());
                for (i, f) in list.iter().enumerate() {
                    fields.push(DumpField::from_value(f, &format!("{p}[{i}]"))?);
                }
                Some(fields)
            }
        };
        let subsections = match o.get("Subsections") {
            None => None,
            Some(s) => {
                let p = format!("{path}/Subsections");
                let list = s.as_array().ok_or_else(|| err(&p, "an array"))?;
                let mut subs = Vec::with_capacity(list.len());
                for (i, s) in list.iter().enumerate() {
                    subs.push(Description::from_value(s, &format!("{p}[{i}]"))?);
                }
                Some(subs)
            }
        };
        Ok(Description {
            name: string(o, path, "name")?,
            version_id: int(o, path, "version_id")?,
            minimum_version_id: int(o, path, "minimum_version_id")?,
            fields,
            subsections,
        })
    }

    fn write(&self, out: &mut String, indent: usize, subsection: bool, opts: &DumpOptions) {
        let pad = " ".repeat(indent);
        if subsection {
            let _ = writeln!(out, "{pad}{{");
        } else {
            let _ = writeln!(out, "{pad}\"Description\": {{");
        }
        let inner = " ".repeat(indent + 2);
        let _ = write!(
            out,
            "{inner}\"name\": {},\n{inner}\"version_id\": {},\n{inner}\"minimum_version_id\": {}",
            q(&self.name),
            self.version_id,
            self.minimum_version_id
        );
        if let Some(fields) = &self.fields {
            let _ = writeln!(out, ",\n{inner}\"Fields\": [");
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                f.write(out, indent + 4, opts);
            }
            let _ = write!(out, "\n{inner}]");
        }
        if let Some(subs) = &self.subsections {
            let _ = writeln!(out, ",\n{inner}\"Subsections\": [");
            for (i, s) in subs.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                s.write(out, indent + 4, true, opts);
            }
            let _ = write!(out, "\n{inner}]");
        }
        let _ = write!(out, "\n{pad}}}");
    }

    /// The fixed number of wire bytes of the fields, if every field has a
    /// fixed size and none depends on a version, a test or a subsection.
    fn fixed_wire_size(vmsd: &Vmsd) -> Option<u64> {
        if !vmsd.subsections.is_empty() {
            return None;
        }
        let mut total = 0u64;
        for f in vmsd.fields {
            if f.has_exists || f.version_id != 0 || f.length_from.is_some() {
                return None;
            }
            let one = match (f.kind, f.vmsd) {
                (FieldKind::Validate, _) => 0,
                (FieldKind::Struct, Some(v)) => Self::fixed_wire_size(v)?,
                (FieldKind::Leaf | FieldKind::Unused | FieldKind::VoidPtr, _) => {
                    u64::try_from(f.elem_size).ok()?
                }
                _ => return None,
            };
            let n = u64::try_from(f.count()).ok()?;
            total = total.checked_add(one.checked_mul(n)?)?;
        }
        Some(total)
    }
}

impl DumpField {
    /// The dump's view of one static field (never a `Validate` step).
    pub fn from_field(f: &Field) -> DumpField {
        let size = match (f.qemu_size, f.kind, f.vmsd) {
            (Some(s), _, _) => u64::try_from(s).unwrap_or(u64::MAX),
            (None, FieldKind::Struct | FieldKind::VStruct | FieldKind::Tmp, Some(v)) => {
                Description::fixed_wire_size(v).unwrap_or(0)
            }
            _ => u64::try_from(f.elem_size).unwrap_or(u64::MAX),
        };
        DumpField {
            field: f.name.to_owned(),
            version_id: f.version_id.into(),
            field_exists: f.has_exists,
            num: f.array_len.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            size,
            ty: Some(f.info.to_owned()),
            description: f.vmsd.map(Description::from_vmsd),
        }
    }

    fn from_value(v: &Value, path: &str) -> Result<DumpField, DumpError> {
        let o = v.as_object().ok_or_else(|| err(path, "an object"))?;
        let field_exists = match o.get("field_exists") {
            Some(Value::Bool(b)) => *b,
            _ => return Err(err(path, "\"field_exists\": true or false")),
        };
        let num = match o.get("num") {
            None => None,
            Some(_) => Some(int(o, path, "num")?),
        };
        let size = o
            .get("size")
            .and_then(Value::as_u64)
            .ok_or_else(|| err(path, "\"size\": an unsigned integer"))?;
        let ty = match o.get("type") {
            None => None,
            Some(_) => Some(string(o, path, "type")?),
        };
        let description = match o.get("Description") {
            Some(d) => Some(Description::from_value(d, &format!("{path}/Description"))?),
            None => None,
        };
        Ok(DumpField {
            field: string(o, path, "field")?,
            version_id: int(o, path, "version_id")?,
            field_exists,
            num,
            size,
            ty,
            description,
        })
    }

    fn write(&self, out: &mut String, indent: usize, opts: &DumpOptions) {
        let pad = " ".repeat(indent);
        let inner = " ".repeat(indent + 2);
        let _ = write!(
            out,
            "{pad}{{\n{inner}\"field\": {},\n{inner}\"version_id\": {},\n{inner}\"field_exists\": {},\n",
            q(&self.field),
            self.version_id,
            self.field_exists
        );
        if let Some(n) = self.num {
            let _ = writeln!(out, "{inner}\"num\": {n},");
        }
        let _ = write!(out, "{inner}\"size\": {}", self.size);
        if opts.types {
            if let Some(t) = &self.ty {
                let _ = write!(out, ",\n{inner}\"type\": {}", q(t));
            }
        }
        if let Some(d) = &self.description {
            out.push_str(",\n");
            d.write(out, indent + 2, false, opts);
        }
        let _ = write!(out, "\n{pad}}}");
    }
}

/// A JSON string literal (QEMU prints names unescaped; ours never need it,
/// but a hostile name must not break the document).
fn q(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

fn err(path: &str, expected: &str) -> DumpError {
    DumpError {
        path: path.to_owned(),
        message: format!("expected {expected}"),
    }
}

fn string(o: &Map<String, Value>, path: &str, key: &str) -> Result<String, DumpError> {
    o.get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| err(path, &format!("\"{key}\": a string")))
}

fn int(o: &Map<String, Value>, path: &str, key: &str) -> Result<i64, DumpError> {
    o.get(key)
        .and_then(Value::as_i64)
        .ok_or_else(|| err(path, &format!("\"{key}\": an integer")))
}
