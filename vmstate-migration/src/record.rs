//! QEMU's vmdesc JSON for what a save recorded ([`VmsdRecord`]): the
//! entry a section gets in the stream's trailer, in QEMU's key order and
//! with QEMU's separators.

use serde_json::{Map, Value};
use vmstate_core::desc::{Field, FieldKind, Vmsd};
use vmstate_core::record::{FieldRecord, VmsdRecord};

/// QEMU's vmdesc object for one saved description: `vmsd_name`,
/// `version`, `fields`, and `subsections` when any was sent (keys in QEMU's
/// order).
pub fn vmsd_json(rec: &VmsdRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("vmsd_name".into(), rec.vmsd.name.into());
    m.insert("version".into(), rec.version.into());
    let mut fields = Vec::new();
    for f in &rec.fields {
        field_json(rec.vmsd, f, &mut fields);
    }
    m.insert("fields".into(), Value::Array(fields));
    if !rec.subsections.is_empty() {
        let subs = rec
            .subsections
            .iter()
            .map(|s| Value::Object(vmsd_json(s)))
            .collect();
        m.insert("subsections".into(), Value::Array(subs));
    }
    m
}

/// QEMU's vmdesc entry for a section (`{"name": idstr, "instance_id": n,
/// "vmsd_name": ...}`), as a JSON value.
pub fn section_value(idstr: &str, instance_id: u32, rec: &VmsdRecord) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), idstr.into());
    m.insert("instance_id".into(), instance_id.into());
    m.extend(vmsd_json(rec));
    Value::Object(m)
}

/// [`section_value`] rendered as QEMU writes it.
pub fn section_json(idstr: &str, instance_id: u32, rec: &VmsdRecord) -> String {
    to_qemu_json(&section_value(idstr, instance_id, rec))
}

/// QEMU's name for a field: `name[j]` when several fields of the
/// description share the name (j counts among them, sent or not).
fn field_name(vmsd: &Vmsd, index: usize) -> String {
    let Some(field) = vmsd.fields.get(index) else {
        return String::new();
    };
    let same = vmsd.fields.iter().filter(|f| f.name == field.name).count();
    if same <= 1 {
        return field.name.to_owned();
    }
    let j = vmsd
        .fields
        .iter()
        .take(index)
        .filter(|f| f.name == field.name)
        .count();
    format!("{}[{j}]", field.name)
}

/// Whether QEMU describes an array of this field by its first element
/// (`array_len`) rather than element by element (`index`).
fn compressible(field: &Field) -> bool {
    !field.has_exists && field.vmsd.is_none_or(vmsd_compressible)
}

fn vmsd_compressible(vmsd: &Vmsd) -> bool {
    vmsd.subsections.is_empty() && vmsd.fields.iter().all(compressible)
}

fn field_json(vmsd: &Vmsd, rec: &FieldRecord, out: &mut Vec<Value>) {
    let Some(field) = vmsd.fields.get(rec.index) else {
        return;
    };
    let name = field_name(vmsd, rec.index);
    let info = match field.kind {
        FieldKind::Struct => "struct",
        FieldKind::VStruct => "vstruct",
        _ => field.info,
    };
    if matches!(field.kind, FieldKind::Queue | FieldKind::Gtree) {
        out.push(collection_json(name, field.info, rec));
        return;
    }
    // Elements written: recorded one by one when they have descriptions
    // (structs, pointer slots); otherwise `n` leaves of equal size, which
    // are not listed (a 1 MiB array is one compressed entry).
    let (n, leaf_size) = if rec.elems.is_empty() {
        let n = if field.kind == FieldKind::Validate {
            0
        } else if field.length_from.is_some() && field.elem_size > 0 {
            // Variable arrays of leaves, `unused` blocks: one per element.
            rec.size / field.elem_size as u64
        } else if field.length_from.is_some() {
            // A variable buffer or bitmap is one element (even of size 0);
            // a variable array of structs with no element has none.
            u64::from(field.kind != FieldKind::Struct)
        } else {
            field.count() as u64
        };
        let size = rec.size.checked_div(n).unwrap_or(0);
        (usize::try_from(n).unwrap_or(usize::MAX), size)
    } else {
        (rec.elems.len(), 0)
    };
    let elem = |i: usize| match rec.elems.get(i) {
        Some(e) => (e.size, e.nested.as_ref()),
        None => (leaf_size, None),
    };
    let one = |i: Option<usize>, size: u64, nested: Option<&VmsdRecord>| {
        let mut m = Map::new();
        m.insert("name".into(), name.clone().into());
        match i {
            Some(i) => m.insert("index".into(), i.into()),
            None if n > 1 => m.insert("array_len".into(), n.into()),
            None => None,
        };
        m.insert("type".into(), info.into());
        if let Some(nested) = nested {
            // QEMU nests a struct under "struct"; a vstruct or a tmp writes
            // the description's keys into the field object itself.
            if matches!(field.kind, FieldKind::VStruct | FieldKind::Tmp) {
                m.extend(vmsd_json(nested));
            } else {
                m.insert("struct".into(), Value::Object(vmsd_json(nested)));
            }
        }
        m.insert("size".into(), size.into());
        Value::Object(m)
    };
    if n > 1 && !compressible(field) {
        for i in 0..n {
            let (size, nested) = elem(i);
            out.push(one(Some(i), size, nested));
        }
    } else if n > 0 {
        let (size, nested) = elem(0);
        out.push(one(None, size, nested));
    }
}

/// A queue or tree field: QEMU's `put_qtailq`/`put_qlist`/`put_gtree` save
/// each element (and each tree key with a description) with the field's
/// vmdesc writer, so every element's `vmsd_name`, `version`, `fields` (and
/// `subsections`) land in the field's own object, one after the other:
/// keys repeat. They are kept under [`INLINE_KEY`] and written inline by
/// [`to_qemu_json`].
fn collection_json(name: String, info: &str, rec: &FieldRecord) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), name.into());
    m.insert("type".into(), info.into());
    let inline: Vec<Value> = rec
        .elems
        .iter()
        .filter_map(|e| e.nested.as_ref())
        .map(|n| Value::Object(vmsd_json(n)))
        .collect();
    if !inline.is_empty() {
        m.insert(INLINE_KEY.into(), Value::Array(inline));
    }
    m.insert("size".into(), rec.size.into());
    Value::Object(m)
}

/// The key under which a [`section_value`] holds descriptions that QEMU
/// writes inline into their field's object, repeating keys (elements of
/// queues and trees). Its value is an array of objects; [`to_qemu_json`]
/// writes their entries in its place. No VMState name can collide with it
/// (it starts with a NUL).
pub const INLINE_KEY: &str = "\u{0}inline";

/// Renders JSON the way QEMU's writer does: compact, with `", "` between
/// items and `": "` between key and value, and the entries under
/// [`INLINE_KEY`] written in place (repeated keys, as QEMU writes them).
pub fn to_qemu_json(v: &Value) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, QemuFormatter);
    // Writing into a Vec cannot fail, and a Value always serializes.
    if serde::Serialize::serialize(&Inline(v), &mut ser).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Serializes a value with [`INLINE_KEY`] entries spliced into their object.
struct Inline<'a>(&'a Value);

impl serde::Serialize for Inline<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&Inline(v))?;
                }
                seq.end()
            }
            Value::Object(m) => {
                let mut map = s.serialize_map(None)?;
                for (k, v) in m {
                    match (k.as_str(), v) {
                        (INLINE_KEY, Value::Array(objs)) => {
                            for (k2, v2) in objs.iter().filter_map(Value::as_object).flatten() {
                                map.serialize_entry(k2, &Inline(v2))?;
                            }
                        }
                        _ => map.serialize_entry(k, &Inline(v))?,
                    }
                }
                map.end()
            }
            other => other.serialize(s),
        }
    }
}

struct QemuFormatter;

impl serde_json::ser::Formatter for QemuFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}
