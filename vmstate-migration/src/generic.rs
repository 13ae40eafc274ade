//! The generic decoder: any VMSD section payload, decoded with nothing but
//! the stream's vmdesc (as `scripts/analyze-migration.py` does), into a
//! [`StructValue`]; and the encoder that turns a value tree back into the
//! same bytes.
//!
//! The rules are analyze-migration.py's (docs/wire-format.md#analyze-migration): fields in vmdesc order,
//! `array_len` unfolded, each element read by its `type` (integers of
//! `size` bytes, `bool`, `capability`, `nullptr`, nested `struct`s, and
//! `size` opaque bytes for everything else); then, for each subsection of
//! the description in order, `0x05`, u8 name length, name, be32 version and
//! the subsection's fields.
//!
//! Nothing from the stream or the vmdesc sizes an allocation up front:
//! buffers grow as their bytes arrive, and [`DecodeLimits`] bounds the
//! payload bytes and the number of decoded elements.

use vmstate_core::stream::{Reader, SliceSource, Source};

use super::error::{StreamError, StreamErrorKind, StreamResult};
use super::value::{FieldValue, Int, StructValue, SubsectionValue, Value};
use super::vmdesc::{ElemDesc, ElemKind, StructDesc};

pub use super::json_decode::{copy_through, decode_json, JsonSink};

/// QEMU_VM_SUBSECTION.
const SUBSECTION: u8 = 0x05;
/// Chunk in which large buffers are read (and grown).
const CHUNK: u64 = 64 * 1024;

/// Bounds on one decoded payload.
#[derive(Clone, Copy, Debug)]
pub struct DecodeLimits {
    /// Most payload bytes of one section.
    pub max_payload: u64,
    /// Most decoded elements (integers, buffers, structs, …) of one
    /// section.
    pub max_nodes: u64,
    /// Most decoded elements beyond one per payload byte, summed over a
    /// whole stream: elements that take no bytes (`size` 0, empty structs)
    /// are paid for by no input, so a short hostile stream could otherwise
    /// repeat sections of millions of them.
    pub max_free_nodes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_payload: 256 << 20,
            max_nodes: 1 << 22,
            max_free_nodes: 1 << 20,
        }
    }
}

/// Reads through a [`Reader`], keeping a copy of the payload bytes (or,
/// when streaming, nothing).
pub(crate) struct Input<'r, S> {
    r: &'r mut Reader<S>,
    raw: Vec<u8>,
    /// Whether `raw` keeps the bytes (and the size limits apply).
    keep: bool,
    /// Payload bytes read.
    read: u64,
    limits: DecodeLimits,
    nodes: u64,
    /// What is left of `limits.max_free_nodes` for this input.
    pub(crate) free_left: u64,
    /// Gets every payload byte read, in order (a section copied through).
    pub(crate) tee: Option<Tee<'r>>,
}

/// Where a copy of the payload bytes goes as they are read.
pub type Tee<'a> = &'a mut dyn FnMut(&[u8]) -> StreamResult<()>;

impl<'r, S: Source> Input<'r, S> {
    pub(crate) fn new(r: &'r mut Reader<S>, limits: DecodeLimits) -> Self {
        Input {
            r,
            raw: Vec::new(),
            keep: true,
            read: 0,
            limits,
            nodes: 0,
            free_left: limits.max_free_nodes,
            tee: None,
        }
    }

    /// An input that keeps nothing: only the budget of elements that take
    /// no bytes applies, since memory no longer grows with the payload.
    pub(crate) fn streaming(r: &'r mut Reader<S>, limits: DecodeLimits) -> Self {
        Input {
            keep: false,
            ..Input::new(r, limits)
        }
    }

    /// Elements decoded beyond one per byte read.
    pub(crate) fn free_used(&self) -> u64 {
        self.nodes.saturating_sub(self.read)
    }

    /// Reads `n` bytes in pieces of at most [`CHUNK`], handing each to `f`
    /// (not kept).
    pub(crate) fn chunks(
        &mut self,
        n: u64,
        mut f: impl FnMut(&[u8]) -> StreamResult<()>,
    ) -> StreamResult<()> {
        let start = self.offset();
        let mut buf = vec![0u8; n.min(CHUNK) as usize];
        let mut done = 0u64;
        while done < n {
            let k = (n - done).min(CHUNK) as usize;
            let Some(dst) = buf.get_mut(..k) else { break };
            if let Err(e) = self.r.get_bytes(dst) {
                return Err(eof_within(StreamError::from(e), n, done, start));
            }
            done += k as u64;
            self.read += k as u64;
            if let Some(t) = self.tee.as_mut() {
                t(dst)?;
            }
            f(dst)?;
        }
        Ok(())
    }

    pub(crate) fn into_raw(self) -> Vec<u8> {
        self.raw
    }

    pub(crate) fn offset(&self) -> u64 {
        self.r.offset()
    }

    pub(crate) fn node(&mut self) -> StreamResult<()> {
        self.nodes += 1;
        if self.free_used() > self.free_left {
            return Err(StreamError::new(
                StreamErrorKind::TooLarge {
                    what: "number of decoded elements that take no bytes",
                    found: self.free_used(),
                    max: self.free_left,
                },
                self.offset(),
            ));
        }
        if self.keep && self.nodes > self.limits.max_nodes {
            return Err(StreamError::new(
                StreamErrorKind::TooLarge {
                    what: "number of decoded elements",
                    found: self.nodes,
                    max: self.limits.max_nodes,
                },
                self.offset(),
            ));
        }
        Ok(())
    }

    /// Reads `n` bytes, growing the result as they arrive.
    pub(crate) fn bytes(&mut self, n: u64) -> StreamResult<Vec<u8>> {
        let start = self.offset();
        let total = self.read.saturating_add(n);
        if self.keep && total > self.limits.max_payload {
            return Err(StreamError::new(
                StreamErrorKind::TooLarge {
                    what: "section payload",
                    found: total,
                    max: self.limits.max_payload,
                },
                start,
            ));
        }
        let mut out = Vec::new();
        let mut done = 0u64;
        while done < n {
            let k = (n - done).min(CHUNK) as usize;
            let old = out.len();
            out.resize(old + k, 0);
            let Some(dst) = out.get_mut(old..) else {
                break;
            };
            if let Err(e) = self.r.get_bytes(dst) {
                return Err(eof_within(StreamError::from(e), n, done, start));
            }
            done += k as u64;
        }
        self.read += n;
        if self.keep {
            self.raw.extend_from_slice(&out);
        }
        if let Some(t) = self.tee.as_mut() {
            t(&out)?;
        }
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> StreamResult<u8> {
        let b = self.bytes(1)?;
        b.first()
            .copied()
            .ok_or_else(|| StreamError::invalid("short read", self.offset()))
    }

    pub(crate) fn u32(&mut self) -> StreamResult<u32> {
        let b = self.bytes(4)?;
        <[u8; 4]>::try_from(b.as_slice())
            .map(u32::from_be_bytes)
            .map_err(|_| StreamError::invalid("short read", self.offset()))
    }
}

/// An end of input inside an `n`-byte element that began at `start`,
/// `done` bytes in.
fn eof_within(e: StreamError, n: u64, done: u64, start: u64) -> StreamError {
    match e.kind() {
        StreamErrorKind::UnexpectedEof { available, .. } => StreamError::new(
            StreamErrorKind::UnexpectedEof {
                needed: n,
                available: done + available,
            },
            start,
        ),
        _ => e,
    }
}

/// Decodes one section payload from `r` with `desc`. Returns the value tree
/// and the payload's bytes as read. Offsets in errors are `r`'s.
pub fn decode<S: Source>(
    desc: &StructDesc,
    r: &mut Reader<S>,
    limits: DecodeLimits,
) -> StreamResult<(StructValue, Vec<u8>)> {
    let mut free_left = limits.max_free_nodes;
    decode_within(desc, r, limits, &mut free_left)
}

/// [`decode`] drawing elements that take no bytes from `free_left`, a
/// budget shared by the sections of a stream.
pub(crate) fn decode_within<S: Source>(
    desc: &StructDesc,
    r: &mut Reader<S>,
    limits: DecodeLimits,
    free_left: &mut u64,
) -> StreamResult<(StructValue, Vec<u8>)> {
    let mut input = Input::new(r, limits);
    input.free_left = *free_left;
    let v = decode_struct(desc, &mut input)?;
    *free_left = free_left.saturating_sub(input.free_used());
    Ok((v, input.into_raw()))
}

/// Decodes a payload held in memory; it must be exactly `bytes`. `base` is
/// the payload's offset in the stream, added to error offsets.
pub fn decode_payload(desc: &StructDesc, bytes: &[u8], base: u64) -> StreamResult<StructValue> {
    let mut r = Reader::with_source(SliceSource::new(bytes));
    let (v, _) = decode(desc, &mut r, DecodeLimits::default()).map_err(|e| e.rebase(base))?;
    let left = r.remaining().len();
    if left != 0 {
        return Err(StreamError::invalid(
            format!("{left} bytes left after the payload's last field"),
            base + r.offset(),
        ));
    }
    Ok(v)
}

pub(crate) fn decode_struct<S: Source>(
    desc: &StructDesc,
    input: &mut Input<'_, S>,
) -> StreamResult<StructValue> {
    input.node()?;
    let mut fields = Vec::with_capacity(desc.fields.len());
    for f in &desc.fields {
        let value = if f.shape.is_array() {
            let mut items = Vec::new();
            let mut i = 0u64;
            while let Some(e) = f.shape.elem(i) {
                let v = decode_elem(e, input).map_err(|err| err.index(i).field(&f.name))?;
                items.push(v);
                i += 1;
            }
            Value::Array(items)
        } else {
            match f.shape.elem(0) {
                Some(e) => decode_elem(e, input).map_err(|err| err.field(&f.name))?,
                None => Value::Array(Vec::new()),
            }
        };
        fields.push(FieldValue {
            name: f.name.clone(),
            value,
        });
    }
    let mut subsections = Vec::with_capacity(desc.subsections.len());
    for sd in &desc.subsections {
        let expected = sd.vmsd_name.as_deref().unwrap_or("?");
        let at = input.offset();
        let marker = input.u8().map_err(|e| e.subsection(expected))?;
        if marker != SUBSECTION {
            return Err(StreamError::invalid(
                format!("expected subsection `{expected}` (0x05), found {marker:#04x}"),
                at,
            )
            .subsection(expected));
        }
        let len = input.u8().map_err(|e| e.subsection(expected))?;
        let at = input.offset();
        let name = input
            .bytes(u64::from(len))
            .map_err(|e| e.subsection(expected))?;
        let name = String::from_utf8(name).map_err(|_| {
            StreamError::invalid("subsection name is not UTF-8", at).subsection(expected)
        })?;
        let version = input.u32().map_err(|e| e.subsection(&name))?;
        let value = decode_struct(sd, input).map_err(|e| e.subsection(&name))?;
        subsections.push(SubsectionValue {
            name,
            version,
            value,
        });
    }
    Ok(StructValue {
        fields,
        subsections,
    })
}

fn decode_elem<S: Source>(e: &ElemDesc, input: &mut Input<'_, S>) -> StreamResult<Value> {
    input.node()?;
    Ok(match &e.kind {
        ElemKind::Int { signed } => {
            let at = input.offset();
            let b = input.bytes(e.size)?;
            Value::Int(
                Int::from_be_bytes(&b, *signed)
                    .ok_or_else(|| StreamError::invalid("bad integer size", at))?,
            )
        }
        ElemKind::Bool => Value::Bool(input.u8()?),
        ElemKind::Bytes => Value::Bytes(input.bytes(e.size)?),
        ElemKind::Nullptr => {
            let at = input.offset();
            let b = input.u8()?;
            if b != b'0' {
                return Err(StreamError::invalid(
                    format!("expected the null-pointer marker 0x30, found {b:#04x}"),
                    at,
                ));
            }
            Value::Nullptr
        }
        ElemKind::Capability => {
            let len = input.u8()?;
            let at = input.offset();
            let b = input.bytes(u64::from(len))?;
            Value::Str(
                String::from_utf8(b)
                    .map_err(|_| StreamError::invalid("capability name is not UTF-8", at))?,
            )
        }
        ElemKind::Struct(sd) => Value::Struct(decode_struct(sd, input)?),
    })
}

/// Encodes a value tree with `desc` into a new buffer. The tree must have
/// the shape `desc` gives (as [`decode`] produces it); error offsets are
/// payload-relative.
pub fn encode(desc: &StructDesc, value: &StructValue) -> StreamResult<Vec<u8>> {
    let mut out = Vec::with_capacity(usize::try_from(value.encoded_len()).unwrap_or(0));
    encode_struct(desc, value, &mut out)?;
    Ok(out)
}

/// Encodes a value tree with `desc`, appending to `out`.
pub fn encode_struct(
    desc: &StructDesc,
    value: &StructValue,
    out: &mut Vec<u8>,
) -> StreamResult<()> {
    let here = |out: &Vec<u8>| out.len() as u64;
    if desc.fields.len() != value.fields.len() {
        return Err(StreamError::mismatch(
            format!(
                "the description has {} fields, the value {}",
                desc.fields.len(),
                value.fields.len()
            ),
            here(out),
        ));
    }
    for (fd, fv) in desc.fields.iter().zip(&value.fields) {
        if fd.name != fv.name {
            return Err(StreamError::mismatch(
                format!("expected field `{}`, found `{}`", fd.name, fv.name),
                here(out),
            ));
        }
        if fd.shape.is_array() {
            let Value::Array(items) = &fv.value else {
                return Err(StreamError::mismatch(
                    format!("expected an array, found {}", fv.value.kind_with_article()),
                    here(out),
                )
                .field(&fd.name));
            };
            if items.len() as u64 != fd.shape.count() {
                return Err(StreamError::mismatch(
                    format!(
                        "expected {} elements, found {}",
                        fd.shape.count(),
                        items.len()
                    ),
                    here(out),
                )
                .field(&fd.name));
            }
            for (i, item) in items.iter().enumerate() {
                let e = fd.shape.elem(i as u64).ok_or_else(|| {
                    StreamError::mismatch("element out of range", here(out)).field(&fd.name)
                })?;
                encode_elem(e, item, out).map_err(|err| err.index(i as u64).field(&fd.name))?;
            }
        } else if let Some(e) = fd.shape.elem(0) {
            encode_elem(e, &fv.value, out).map_err(|err| err.field(&fd.name))?;
        }
    }
    if desc.subsections.len() != value.subsections.len() {
        return Err(StreamError::mismatch(
            format!(
                "the description has {} subsections, the value {}",
                desc.subsections.len(),
                value.subsections.len()
            ),
            here(out),
        ));
    }
    for (sd, sv) in desc.subsections.iter().zip(&value.subsections) {
        let len = u8::try_from(sv.name.len()).map_err(|_| {
            StreamError::mismatch("subsection name longer than 255 bytes", here(out))
                .subsection(&sv.name)
        })?;
        out.push(SUBSECTION);
        out.push(len);
        out.extend_from_slice(sv.name.as_bytes());
        out.extend_from_slice(&sv.version.to_be_bytes());
        encode_struct(sd, &sv.value, out).map_err(|e| e.subsection(&sv.name))?;
    }
    Ok(())
}

fn encode_elem(e: &ElemDesc, v: &Value, out: &mut Vec<u8>) -> StreamResult<()> {
    let at = out.len() as u64;
    let wrong = |v: &Value| {
        StreamError::mismatch(
            format!(
                "a `{}` element cannot hold {}",
                e.type_name,
                v.kind_with_article()
            ),
            at,
        )
    };
    match (&e.kind, v) {
        (ElemKind::Int { .. }, Value::Int(i)) => {
            if u64::from(i.size()) != e.size {
                return Err(StreamError::mismatch(
                    format!(
                        "a `{}` of size {} cannot hold a {}-byte integer",
                        e.type_name,
                        e.size,
                        i.size()
                    ),
                    at,
                ));
            }
            out.extend_from_slice(&i.to_be_bytes());
        }
        (ElemKind::Bool, Value::Bool(b)) => out.push(*b),
        (ElemKind::Bytes, Value::Bytes(b)) => {
            if b.len() as u64 != e.size {
                return Err(StreamError::mismatch(
                    format!(
                        "`{}` has {} bytes, the value {}",
                        e.type_name,
                        e.size,
                        b.len()
                    ),
                    at,
                ));
            }
            out.extend_from_slice(b);
        }
        (ElemKind::Nullptr, Value::Nullptr) => out.push(b'0'),
        (ElemKind::Capability, Value::Str(s)) => {
            let len = u8::try_from(s.len())
                .map_err(|_| StreamError::mismatch("capability name longer than 255 bytes", at))?;
            out.push(len);
            out.extend_from_slice(s.as_bytes());
        }
        (ElemKind::Struct(sd), Value::Struct(sv)) => encode_struct(sd, sv, out)?,
        (_, v) => return Err(wrong(v)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vmdesc::VmDesc;

    fn desc() -> VmDesc {
        VmDesc::parse(
            br#"{"page_size": 4096, "devices": [{"name": "d", "instance_id": 0,
              "vmsd_name": "d", "version": 1, "fields": [
                {"name": "a", "type": "int16", "size": 2},
                {"name": "b", "array_len": 2, "type": "uint8", "size": 1},
                {"name": "f", "type": "bool", "size": 1},
                {"name": "s", "type": "struct", "struct": {"vmsd_name": "s", "version": 1,
                   "fields": [{"name": "x", "type": "buffer", "size": 3}]}, "size": 3}],
              "subsections": [{"vmsd_name": "d/sub", "version": 2,
                 "fields": [{"name": "y", "type": "uint32", "size": 4}]}]}]}"#,
            0,
        )
        .unwrap()
    }

    const PAYLOAD: &[u8] = &[
        0xff, 0xfe, 1, 2, 7, 9, 9, 9, 5, 5, b'd', b'/', b's', b'u', b'b', 0, 0, 0, 2, 0, 0, 1, 0,
    ];

    #[test]
    fn round_trip() {
        let d = desc();
        let body = &d.section("d", 0).unwrap().body;
        let v = decode_payload(body, PAYLOAD, 0).unwrap();
        assert_eq!(
            v.get("a"),
            Some(&Value::Int(Int::new(-2, 2, true).unwrap()))
        );
        assert_eq!(v.get("f"), Some(&Value::Bool(7)));
        assert_eq!(v.subsections[0].name, "d/sub");
        assert_eq!(encode(body, &v).unwrap(), PAYLOAD);
        assert_eq!(v.encoded_len(), PAYLOAD.len() as u64);
    }

    #[test]
    fn errors_name_the_field_and_offset() {
        let d = desc();
        let body = &d.section("d", 0).unwrap().body;
        let e = decode_payload(body, &PAYLOAD[..7], 100).unwrap_err();
        assert_eq!(e.path(), "s.x");
        assert_eq!(e.offset(), 105);
        let mut bad = PAYLOAD.to_vec();
        bad[8] = 4;
        let e = decode_payload(body, &bad, 0).unwrap_err();
        assert_eq!(e.path(), "d/sub");
        assert_eq!(e.offset(), 8);
        let e = decode_payload(body, &PAYLOAD[..PAYLOAD.len() - 1], 0).unwrap_err();
        assert_eq!(e.path(), "d/sub/y");
        let mut long = PAYLOAD.to_vec();
        long.push(0);
        assert!(decode_payload(body, &long, 0).is_err());
    }

    #[test]
    fn element_budget_bounds_zero_size_arrays() {
        let d = VmDesc::parse(
            br#"{"page_size": 4096, "devices": [{"name": "d", "instance_id": 0, "fields": [
                {"name": "a", "array_len": 18446744073709551615, "type": "buffer", "size": 0}]}]}"#,
            0,
        )
        .unwrap();
        let e = decode_payload(&d.devices[0].body, &[], 0).unwrap_err();
        assert!(matches!(e.kind(), StreamErrorKind::TooLarge { .. }));
    }
}
