//! The vmdesc trailer: QEMU's JSON description of every device section in
//! a stream (docs/wire-format.md#vmdesc-json), parsed into a typed form
//! that the [generic decoder](super::generic) walks.
//!
//! Field types are classified as `scripts/analyze-migration.py` does: the
//! integer infos (`uint8` … `int64`, the `equal` variants, `int32 le`),
//! `bool`, `capability`, `nullptr` and `struct` are understood; every other
//! type (`buffer`, `unused_buffer`, `timer`, `float64`, `pci config`,
//! `tmp`, `vstruct`, `virtio`, …) is `size` opaque bytes.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

use super::error::{StreamError, StreamResult};

mod parse;

/// The parsed vmdesc trailer. Cloning it is cheap (shared contents).
#[derive(Clone, Debug)]
pub struct VmDesc {
    /// `page_size`: the target page size, which RAM page records use.
    pub page_size: u64,
    /// One description per device section, in the JSON's order.
    pub devices: Arc<[SectionDesc]>,
    /// The JSON text as it was in the stream ([`json`](VmDesc::json) gives
    /// its value tree).
    pub text: Arc<[u8]>,
    /// `(idstr, instance)` → index in `devices` (the last of duplicates),
    /// so that a lookup per section costs no scan of the whole list.
    index: Arc<HashMap<(String, u32), usize>>,
}

/// The description of one FULL section.
#[derive(Clone, Debug, PartialEq)]
pub struct SectionDesc {
    /// The section's idstr.
    pub name: String,
    /// Its instance id.
    pub instance_id: u32,
    /// Its fields and subsections.
    pub body: StructDesc,
}

/// A VMSD (section body, nested struct, or subsection).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct StructDesc {
    /// `vmsd_name`, if present.
    pub vmsd_name: Option<String>,
    /// `version`, if present.
    pub version: Option<u64>,
    /// The fields in wire order.
    pub fields: Vec<FieldDesc>,
    /// The subsections, in the order they were written.
    pub subsections: Vec<StructDesc>,
}

/// One field of a [`StructDesc`]: one JSON entry, or a run of `index`
/// entries of the same name.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDesc {
    /// The field's name as written in the vmdesc.
    pub name: String,
    /// Scalar, compressed array, or element-by-element array.
    pub shape: Shape,
}

/// How many elements a field has on the wire.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// One element, no `index`/`array_len`.
    Single(ElemDesc),
    /// `array_len`: `len` elements alike. (`analyze-migration.py` reads at
    /// least one element, so `len` 0 reads one; so do we.)
    Array {
        /// The element.
        elem: ElemDesc,
        /// `array_len` as written.
        len: u64,
    },
    /// Consecutive entries with `index` 0, 1, …: each element described on
    /// its own.
    Indexed(Vec<ElemDesc>),
}

impl Shape {
    /// The description of element `i`.
    pub fn elem(&self, i: u64) -> Option<&ElemDesc> {
        match self {
            Shape::Single(e) => (i == 0).then_some(e),
            Shape::Array { elem, len } => (i < (*len).max(1)).then_some(elem),
            Shape::Indexed(v) => usize::try_from(i).ok().and_then(|i| v.get(i)),
        }
    }

    /// Number of elements on the wire.
    pub fn count(&self) -> u64 {
        match self {
            Shape::Single(_) => 1,
            Shape::Array { len, .. } => (*len).max(1),
            Shape::Indexed(v) => v.len() as u64,
        }
    }

    /// Whether the value is an array ([`Value::Array`](super::Value::Array)).
    pub fn is_array(&self) -> bool {
        !matches!(self, Shape::Single(_))
    }
}

/// One element of a field.
#[derive(Clone, Debug, PartialEq)]
pub struct ElemDesc {
    /// The vmdesc `type` (QEMU's info name, or `struct`).
    pub type_name: String,
    /// The vmdesc `size` (bytes written for the element; 0 when absent).
    pub size: u64,
    /// How the decoder reads it.
    pub kind: ElemKind,
}

/// How the generic decoder reads one element.
#[derive(Clone, Debug, PartialEq)]
pub enum ElemKind {
    /// A big-endian integer of `size` (1..=8) bytes.
    Int {
        /// Shown as signed (analyze-migration.py's `VMSDFieldInt`).
        signed: bool,
    },
    /// One byte, shown as `true` unless zero.
    Bool,
    /// `size` opaque bytes.
    Bytes,
    /// A null-pointer marker: one byte, `'0'`.
    Nullptr,
    /// A capability name: u8 length + name.
    Capability,
    /// A nested description.
    Struct(Box<StructDesc>),
}

/// Limits on the description itself.
const MAX_INT_SIZE: u64 = 8;

impl VmDesc {
    /// Parses the trailer's JSON bytes. `offset` is where the JSON starts in
    /// the stream (for error messages).
    pub fn parse(json: &[u8], offset: u64) -> StreamResult<VmDesc> {
        let (page_size, devices) = parse::parse(json).map_err(|e| {
            let what = if e.is_data() { "" } else { "not valid JSON: " };
            StreamError::bad_vmdesc(format!("{what}{e}"), offset)
        })?;
        let mut index = HashMap::with_capacity(devices.len());
        for (i, d) in devices.iter().enumerate() {
            index.insert((d.name.clone(), d.instance_id), i);
        }
        Ok(VmDesc {
            page_size,
            devices: devices.into(),
            text: json.into(),
            index: Arc::new(index),
        })
    }

    /// The JSON as a value tree, parsed again from [`text`](VmDesc::text)
    /// (QEMU's key order kept; a duplicate key keeps its first position and
    /// its last value, like Python's `json`). Only printing it needs this:
    /// the tree costs about ten times the text.
    pub fn json(&self) -> StreamResult<Json> {
        serde_json::from_slice(&self.text)
            .map_err(|e| StreamError::bad_vmdesc(format!("not valid JSON: {e}"), 0))
    }

    /// The description of section `(idstr, instance_id)`. Like
    /// analyze-migration.py, the last of duplicate entries wins.
    pub fn section(&self, idstr: &str, instance_id: u32) -> Option<&SectionDesc> {
        // A map keyed by borrowed `(&str, u32)` would need a custom key
        // type; one short allocation per section is cheaper than a scan.
        self.index
            .get(&(idstr.to_owned(), instance_id))
            .and_then(|&i| self.devices.get(i))
    }
}

/// Where the vmdesc trailer starts in `tail`, the last bytes of a stream:
/// the index of its `0x06` byte.
///
/// The trailer is `0x06`, be32 length, then that many bytes of JSON, and it
/// ends the stream. This looks for the `0x06` whose length reaches exactly
/// the end of `tail` with a `{` after it; failing that, it does what
/// analyze-migration.py does: the last NUL byte, the first `{` after it,
/// and a `0x06` five bytes before.
pub fn find_trailer(tail: &[u8]) -> Option<usize> {
    let n = tail.len();
    // End-anchored: 0x06 at p, len at p+1..p+5, JSON at p+5..n. The
    // candidates are found with `memrchr`: a JSON text has no 0x06 byte,
    // so the search jumps over it at once.
    let mut end = n.saturating_sub(5);
    while let Some(p) = tail.get(..end).and_then(|t| memchr::memrchr(0x06, t)) {
        end = p;
        if tail.get(p + 5) != Some(&b'{') {
            continue;
        }
        let Some(len) = tail
            .get(p + 1..p + 5)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
        else {
            continue;
        };
        let len = u32::from_be_bytes(len) as u64;
        if (p + 5) as u64 + len == n as u64 {
            return Some(p);
        }
    }
    // analyze-migration.py's heuristic.
    let nul = memchr::memrchr(0, tail)?;
    let brace = nul + memchr::memchr(b'{', tail.get(nul..)?)?;
    let p = brace.checked_sub(5)?;
    (tail.get(p) == Some(&0x06)).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_shapes_and_subsections() {
        let j = br#"{"page_size": 4096, "devices": [{"name": "pckbd", "instance_id": 0,
            "vmsd_name": "pckbd", "version": 3, "fields": [
              {"name": "a", "array_len": 3, "type": "uint16", "size": 2},
              {"name": "b", "index": 0, "type": "int8", "size": 1},
              {"name": "b", "index": 1, "type": "int8", "size": 1},
              {"name": "c", "type": "buffer", "size": 5}],
            "subsections": [{"vmsd_name": "pckbd/x", "version": 0, "fields": []}]}]}"#;
        let d = VmDesc::parse(j, 0).unwrap();
        let s = d.section("pckbd", 0).unwrap();
        assert_eq!(s.body.fields.len(), 3);
        assert_eq!(s.body.fields[0].shape.count(), 3);
        assert_eq!(s.body.fields[1].shape.count(), 2);
        assert!(matches!(s.body.fields[2].shape, Shape::Single(_)));
        assert_eq!(s.body.subsections[0].vmsd_name.as_deref(), Some("pckbd/x"));
    }

    #[test]
    fn rejects_bad_descriptions() {
        for j in [
            &b"[]"[..],
            b"{\"page_size\": 4096}",
            b"{\"page_size\": 4096, \"devices\": [{\"name\": \"x\", \"instance_id\": 0}]}",
            b"{\"page_size\": 4096, \"devices\": [{\"name\": \"x\", \"instance_id\": 0, \"fields\": [{\"name\": \"a\", \"type\": \"uint32\"}]}]}",
            b"{\"page_size\": 4096, \"devices\": [{\"name\": \"x\", \"instance_id\": 0, \"fields\": [{\"name\": \"a\", \"type\": \"uint32\", \"size\": 9}]}]}",
            b"{",
        ] {
            assert!(VmDesc::parse(j, 7).is_err());
        }
    }

    #[test]
    fn keys_in_any_order_and_unknown_keys() {
        let canonical = br#"{"page_size": 4096, "devices": [{"name": "d", "instance_id": 1,
            "vmsd_name": "d", "version": 2, "fields": [
              {"name": "s", "type": "struct", "struct": {"vmsd_name": "t", "fields": [
                {"name": "x", "type": "uint8", "size": 1}]}, "size": 1},
              {"name": "b", "index": 0, "type": "bool", "size": 1},
              {"name": "b", "index": 1, "type": "bool", "size": 1}],
            "subsections": [{"vmsd_name": "d/sub", "version": 1, "fields": []}]}]}"#;
        let shuffled = br#"{"extra": [1, {"a": null}], "devices": [{"subsections": [{"fields": [],
            "version": 1, "vmsd_name": "d/sub"}], "fields": [
              {"size": 1, "struct": {"fields": [{"size": 1, "type": "uint8", "name": "x"}],
                "vmsd_name": "t"}, "type": "struct", "name": "s"},
              {"size": 1, "type": "bool", "index": 0, "name": "b", "comment": "skipped"},
              {"type": "bool", "name": "b", "size": 1, "index": 1}],
            "version": 2, "vmsd_name": "d", "instance_id": 1, "name": "d"}], "page_size": 4096}"#;
        let a = VmDesc::parse(canonical, 0).unwrap();
        let b = VmDesc::parse(shuffled, 0).unwrap();
        assert_eq!(a.devices, b.devices);
        assert_eq!(a.page_size, 4096);
        assert_eq!(a.devices[0].body.fields[1].shape.count(), 2);
        assert_eq!(&*a.text, &canonical[..]);
        assert_eq!(a.json().unwrap()["devices"][0]["name"], "d");
    }

    #[test]
    fn errors_say_where() {
        let no_size = br#"{"page_size": 4096, "devices": [{"name": "x", "instance_id": 0,
            "fields": [{"name": "a", "type": "uint32"}]}]}"#;
        let e = VmDesc::parse(no_size, 7).unwrap_err().to_string();
        assert!(
            e.contains("device `x`: field `a`: type `uint32` needs a `size` at line 2"),
            "{e}"
        );
        let nested = br#"{"page_size": 4096, "devices": [{"name": "x", "instance_id": 0,
            "fields": [{"name": "s", "type": "struct", "struct": {"fields": [{"name": "b",
            "type": "bool", "size": 2}]}}]}]}"#;
        let e = VmDesc::parse(nested, 0).unwrap_err().to_string();
        assert!(
            e.contains("device `x`: field `s`: field `b`: a `bool` must have size 1"),
            "{e}"
        );
        let e = VmDesc::parse(b"{\"page_size\": 1,", 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not valid JSON"), "{e}");
        let e = VmDesc::parse(b"{\"page_size\": -1, \"devices\": []}", 0).unwrap_err();
        assert!(e
            .to_string()
            .contains("`page_size` is missing or not an integer"));
    }

    #[test]
    fn trailer_search() {
        let mut s = vec![0u8, 0, 6, 0, 0, 0, 2, b'{', b'}'];
        assert_eq!(find_trailer(&s), Some(2));
        s.push(b'x');
        assert_eq!(find_trailer(&s), Some(2));
        assert_eq!(find_trailer(&[]), None);
        assert_eq!(find_trailer(&[6, 0, 0]), None);
    }
}
