//! The JSON that QEMU's `scripts/analyze-migration.py` prints, built from
//! our decoding (docs/wire-format.md#analyze-migration).
//!
//! `-d state` (the default): an object keyed `"<idstr> (<section id>)"` in
//! the order section ids first appear. VMSD sections become objects of
//! fields: integers as `"0x…"` strings (two digits per byte, ` (-n)` after
//! negative signed values), bools as JSON booleans, other fields as
//! space-separated hex bytes, arrays as lists, structs and subsections as
//! nested objects (a subsection keyed by its name). Fields of the same name
//! merge into a list, as the script's `VMSDFieldStruct.read` does. RAM
//! becomes `{"section sizes": {block: "0x%016x"}}`.
//!
//! `-d desc`: the vmdesc JSON itself.

use std::collections::HashMap;
use std::io;

use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::{Map, Value as Json};

use super::ram::RamBody;
use super::reader::{Item, Payload, SectionKind};
use super::value::{StructValue, Value};

/// Builds the `-d state` object from records, one at a time.
///
/// ```
/// use vmstate_migration::{Analyzer, ReadOptions, Stream};
///
/// let bytes = [0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3, 0x00];
/// let stream = Stream::parse(&bytes, ReadOptions::default()).unwrap();
/// let mut a = Analyzer::new();
/// stream.items.iter().for_each(|i| a.add(i));
/// assert_eq!(a.finish(), serde_json::json!({}));
/// ```
#[derive(Debug, Default)]
pub struct Analyzer {
    entries: Vec<(String, Json)>,
    by_id: HashMap<u32, usize>,
}

impl Analyzer {
    /// An empty analysis.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one record (only sections contribute).
    pub fn add(&mut self, item: &Item) {
        let Item::Section(s) = item else {
            return;
        };
        let key = format!("{} ({})", s.idstr, s.section_id);
        let fresh = match &s.payload {
            Payload::Vmsd(v) => Some(struct_json(&v.value)),
            Payload::Ram(_) if s.kind == SectionKind::Start => {
                let mut m = Map::new();
                m.insert("section sizes".into(), Json::Object(Map::new()));
                Some(Json::Object(m))
            }
            Payload::Ram(_) | Payload::Loaded => None,
        };
        let idx = match (fresh, self.by_id.get(&s.section_id)) {
            (Some(v), Some(&i)) => {
                if let Some(e) = self.entries.get_mut(i) {
                    *e = (key, v);
                }
                i
            }
            (Some(v), None) => {
                self.entries.push((key, v));
                self.by_id.insert(s.section_id, self.entries.len() - 1);
                self.entries.len() - 1
            }
            (None, Some(&i)) => i,
            // PART/END without a START was refused by the reader.
            (None, None) => return,
        };
        if let Payload::Ram(ram) = &s.payload {
            let sizes = self
                .entries
                .get_mut(idx)
                .and_then(|(_, v)| v.get_mut("section sizes"))
                .and_then(Json::as_object_mut);
            if let Some(sizes) = sizes {
                for rec in &ram.records {
                    if let RamBody::MemSize(blocks) = &rec.body {
                        for b in blocks {
                            sizes.insert(
                                b.name.clone(),
                                Json::String(format!("0x{:016x}", b.used_length)),
                            );
                        }
                    }
                }
            }
        }
    }

    /// The `-d state` object.
    pub fn finish(self) -> Json {
        let mut m = Map::new();
        for (k, v) in self.entries {
            m.insert(k, v);
        }
        Json::Object(m)
    }
}

/// A decoded struct as analyze-migration.py shows it.
pub fn struct_json(sv: &StructValue) -> Json {
    let mut data = Map::new();
    for f in &sv.fields {
        let mut add = |v: &Value| {
            let j = elem_json(v);
            match data.get_mut(&f.name) {
                None => {
                    data.insert(f.name.clone(), j);
                }
                Some(Json::Array(list)) => list.push(j),
                Some(old) => {
                    let prev = old.take();
                    *old = Json::Array(vec![prev, j]);
                }
            }
        };
        match &f.value {
            Value::Array(items) => items.iter().for_each(&mut add),
            v => add(v),
        }
    }
    for s in &sv.subsections {
        data.insert(s.name.clone(), struct_json(&s.value));
    }
    Json::Object(data)
}

fn elem_json(v: &Value) -> Json {
    match v {
        Value::Int(i) => Json::String(i.to_string()),
        Value::Bool(b) => Json::Bool(*b != 0),
        Value::Bytes(b) => Json::String(hex_bytes(b)),
        Value::Nullptr => Json::String("nullptr".into()),
        Value::Str(s) => Json::String(s.clone()),
        Value::Struct(s) => struct_json(s),
        Value::Array(items) => Json::Array(items.iter().map(elem_json).collect()),
    }
}

/// Bytes as analyze-migration.py shows them: `"00 1f ff"`.
pub fn hex_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Renders JSON the way the script prints it: `indent=4`, separators
/// `(',', ': ')`, non-ASCII characters escaped, and a final newline.
pub fn to_python_json(v: &Json) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PyFormatter::default());
    // Serializing a `Value` into a Vec cannot fail.
    let _ = serde::Serialize::serialize(v, &mut ser);
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}

/// `PrettyFormatter` with four spaces and `ensure_ascii`.
struct PyFormatter<'a>(PrettyFormatter<'a>);

impl Default for PyFormatter<'_> {
    fn default() -> Self {
        PyFormatter(PrettyFormatter::with_indent(b"    "))
    }
}

impl Formatter for PyFormatter<'_> {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        for c in fragment.chars() {
            if c.is_ascii() {
                let mut b = [0u8; 1];
                w.write_all(c.encode_utf8(&mut b).as_bytes())?;
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{FieldValue, Int, SubsectionValue};

    #[test]
    fn merges_like_the_script() {
        let i = |v| Value::Int(Int::new(v, 1, false).unwrap());
        let sv = StructValue {
            fields: vec![
                FieldValue {
                    name: "a".into(),
                    value: Value::Array(vec![i(1), i(2)]),
                },
                FieldValue {
                    name: "b".into(),
                    value: Value::Array(vec![i(3)]),
                },
                FieldValue {
                    name: "c".into(),
                    value: Value::Bytes(vec![0, 0xab]),
                },
                FieldValue {
                    name: "c".into(),
                    value: Value::Bool(2),
                },
            ],
            subsections: vec![SubsectionValue {
                name: "x/y".into(),
                version: 1,
                value: StructValue::default(),
            }],
        };
        assert_eq!(
            struct_json(&sv),
            serde_json::json!({"a": ["0x01", "0x02"], "b": "0x03", "c": ["00 ab", true], "x/y": {}})
        );
        assert_eq!(
            to_python_json(&serde_json::json!({"a": [1], "é": {}})),
            "{\n    \"a\": [\n        1\n    ],\n    \"\\u00e9\": {}\n}\n"
        );
    }
}
