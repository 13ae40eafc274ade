//! The generic decoder writing `analyze-migration.py`'s JSON as it reads,
//! with no value tree: memory stays bounded whatever the section holds.
//!
//! The rendering is [`struct_json`](super::struct_json)'s: fields in the
//! description's order; a name whose fields hold more than one element in
//! all becomes a list of them (at the name's first position), one element
//! stays a scalar; subsections follow, keyed by the name read from the
//! stream. When a name repeats after other fields, those fields' JSON is
//! held until the name's last field is read (the only JSON kept).

use std::collections::HashMap;

use vmstate_core::stream::{Reader, Source};

use super::error::{StreamError, StreamResult};
use super::generic::{DecodeLimits, Input, Tee};
use super::pyjson;
use super::value::Int;
use super::vmdesc::{ElemDesc, ElemKind, StructDesc};

/// QEMU_VM_SUBSECTION.
const SUBSECTION: u8 = 0x05;
/// Output is handed on once this much is pending.
const FLUSH_AT: usize = 64 * 1024;

/// Where decoded JSON goes: called with the pending output (which it
/// should drain) whenever enough has gathered.
pub type JsonSink<'a> = &'a mut dyn FnMut(&mut Vec<u8>) -> StreamResult<()>;

/// Decodes one section payload from `r` with `desc`, appending its JSON
/// object (closing bracket at indentation `level`) to `out` and handing
/// `out` to `flush` as it fills. Returns the names of the section's
/// subsections, in stream order. Keeps no copy of the payload; only the
/// budget of elements that take no bytes
/// ([`DecodeLimits::max_free_nodes`], shared through `free_left`) applies.
pub fn decode_json<S: Source>(
    desc: &StructDesc,
    r: &mut Reader<S>,
    limits: DecodeLimits,
    free_left: &mut u64,
    level: usize,
    out: &mut Vec<u8>,
    flush: JsonSink<'_>,
) -> StreamResult<Vec<String>> {
    let mut input = Input::streaming(r, limits);
    input.free_left = *free_left;
    let mut d = Decoder {
        input,
        flush,
        plans: HashMap::new(),
    };
    let res = d.structure(desc, out, true, level);
    *free_left = free_left.saturating_sub(d.input.free_used());
    res
}

/// Reads one section payload from `r` with `desc`, keeping nothing: each
/// byte goes to `tee` as it is read (a section copied from one stream to
/// another without its value tree). Bounds as [`decode_json`].
pub fn copy_through<S: Source>(
    desc: &StructDesc,
    r: &mut Reader<S>,
    limits: DecodeLimits,
    free_left: &mut u64,
    tee: Tee<'_>,
) -> StreamResult<()> {
    let mut input = Input::streaming(r, limits);
    input.free_left = *free_left;
    input.tee = Some(tee);
    let mut discard = |b: &mut Vec<u8>| {
        b.clear();
        Ok(())
    };
    let mut d = Decoder {
        input,
        flush: &mut discard,
        plans: HashMap::new(),
    };
    let mut out = Vec::new();
    let res = d.structure(desc, &mut out, true, 0);
    *free_left = free_left.saturating_sub(d.input.free_used());
    res.map(|_| ())
}

/// Which fields share a key of the JSON object.
struct Plan {
    /// The key of each field (index into `keys`).
    of_field: Vec<usize>,
    /// Per key: its name, its number of fields and of elements.
    keys: Vec<(String, usize, u64)>,
}

impl Plan {
    fn new(desc: &StructDesc) -> Plan {
        let mut at: HashMap<&str, usize> = HashMap::new();
        let mut plan = Plan {
            of_field: Vec::with_capacity(desc.fields.len()),
            keys: Vec::new(),
        };
        for f in &desc.fields {
            let k = *at.entry(f.name.as_str()).or_insert_with(|| {
                plan.keys.push((f.name.clone(), 0, 0));
                plan.keys.len() - 1
            });
            plan.of_field.push(k);
            if let Some(key) = plan.keys.get_mut(k) {
                key.1 += 1;
                key.2 += f.shape.count();
            }
        }
        plan
    }
}

struct Decoder<'r, 'f, S> {
    input: Input<'r, S>,
    flush: JsonSink<'f>,
    /// Plans by description address: an array of a million structs plans
    /// once.
    plans: HashMap<*const StructDesc, std::rc::Rc<Plan>>,
}

impl<S: Source> Decoder<'_, '_, S> {
    fn maybe_flush(&mut self, out: &mut Vec<u8>, live: bool) -> StreamResult<()> {
        if live && out.len() >= FLUSH_AT {
            (self.flush)(out)?;
        }
        Ok(())
    }

    fn plan(&mut self, desc: &StructDesc) -> std::rc::Rc<Plan> {
        self.plans
            .entry(desc as *const StructDesc)
            .or_insert_with(|| std::rc::Rc::new(Plan::new(desc)))
            .clone()
    }

    /// One struct; `live` says whether `out` is the output itself (which
    /// may be flushed) or JSON held for later.
    fn structure(
        &mut self,
        desc: &StructDesc,
        out: &mut Vec<u8>,
        live: bool,
        level: usize,
    ) -> StreamResult<Vec<String>> {
        self.input.node()?;
        out.push(b'{');
        let plan = self.plan(desc);
        let nkeys = plan.keys.len();
        // Per key: fields left, elements written, JSON held.
        let mut left: Vec<usize> = plan.keys.iter().map(|k| k.1).collect();
        let mut written = vec![0u64; nkeys];
        let mut held: Vec<Option<Vec<u8>>> = Vec::new();
        let mut cur = 0usize;
        for (i, f) in desc.fields.iter().enumerate() {
            let k = plan.of_field.get(i).copied().unwrap_or(0);
            let Some((name, _, total)) = plan.keys.get(k) else {
                continue;
            };
            let list = *total > 1;
            let is_live = k == cur;
            let target: &mut Vec<u8> = if is_live {
                &mut *out
            } else {
                if held.len() < nkeys {
                    held.resize(nkeys, None);
                }
                match held.get_mut(k) {
                    Some(h) => h.get_or_insert_with(Vec::new),
                    None => continue,
                }
            };
            let mut j = 0u64;
            while let Some(e) = f.shape.elem(j) {
                let n = written.get(k).copied().unwrap_or(0);
                if n == 0 {
                    pyjson::key(target, k as u64, level + 1, name);
                    if list {
                        target.push(b'[');
                    }
                }
                let elem_level = if list {
                    pyjson::item(target, n, level + 2);
                    level + 2
                } else {
                    level + 1
                };
                let res = self.elem(e, target, live && is_live, elem_level);
                res.map_err(|err| {
                    if f.shape.is_array() {
                        err.index(j).field(&f.name)
                    } else {
                        err.field(&f.name)
                    }
                })?;
                if let Some(w) = written.get_mut(k) {
                    *w += 1;
                }
                j += 1;
            }
            if let Some(l) = left.get_mut(k) {
                *l = l.saturating_sub(1);
                if *l == 0 && list {
                    pyjson::close(target, 2, level + 1, b']');
                }
            }
            while left.get(cur) == Some(&0) {
                cur += 1;
                if let Some(h) = held.get_mut(cur).and_then(Option::take) {
                    out.extend_from_slice(&h);
                }
            }
            self.maybe_flush(out, live)?;
        }
        let mut subs = Vec::with_capacity(desc.subsections.len());
        for (j, sd) in desc.subsections.iter().enumerate() {
            let expected = sd.vmsd_name.as_deref().unwrap_or("?");
            let at = self.input.offset();
            let marker = self.input.u8().map_err(|e| e.subsection(expected))?;
            if marker != SUBSECTION {
                return Err(StreamError::invalid(
                    format!("expected subsection `{expected}` (0x05), found {marker:#04x}"),
                    at,
                )
                .subsection(expected));
            }
            let len = self.input.u8().map_err(|e| e.subsection(expected))?;
            let at = self.input.offset();
            let name = self
                .input
                .bytes(u64::from(len))
                .map_err(|e| e.subsection(expected))?;
            let name = String::from_utf8(name).map_err(|_| {
                StreamError::invalid("subsection name is not UTF-8", at).subsection(expected)
            })?;
            if plan.keys.iter().any(|k| k.0 == name) || subs.contains(&name) {
                // analyze-migration.py would overwrite the earlier value in
                // place, which output already written cannot do.
                return Err(StreamError::invalid(
                    format!("subsection `{name}` repeats a key of its struct"),
                    at,
                )
                .subsection(&name));
            }
            self.input.u32().map_err(|e| e.subsection(&name))?;
            pyjson::key(out, (nkeys + j) as u64, level + 1, &name);
            self.structure(sd, out, live, level + 1)
                .map_err(|e| e.subsection(&name))?;
            subs.push(name);
        }
        pyjson::close(out, (nkeys + subs.len()) as u64, level, b'}');
        Ok(subs)
    }

    fn elem(
        &mut self,
        e: &ElemDesc,
        out: &mut Vec<u8>,
        live: bool,
        level: usize,
    ) -> StreamResult<()> {
        self.input.node()?;
        match &e.kind {
            ElemKind::Int { signed } => {
                let at = self.input.offset();
                let b = self.input.bytes(e.size)?;
                let i = Int::from_be_bytes(&b, *signed)
                    .ok_or_else(|| StreamError::invalid("bad integer size", at))?;
                out.push(b'"');
                // Writing to a Vec cannot fail.
                let _ = std::io::Write::write_fmt(out, format_args!("{i}"));
                out.push(b'"');
            }
            ElemKind::Bool => {
                let b = self.input.u8()?;
                out.extend_from_slice(if b != 0 { b"true" } else { b"false" });
            }
            ElemKind::Bytes => {
                out.push(b'"');
                let mut first = true;
                let flush = &mut self.flush;
                self.input.chunks(e.size, |c| {
                    pyjson::hex_run(out, c, first);
                    first = false;
                    if live && out.len() >= FLUSH_AT {
                        flush(out)?;
                    }
                    Ok(())
                })?;
                out.push(b'"');
            }
            ElemKind::Nullptr => {
                let at = self.input.offset();
                let b = self.input.u8()?;
                if b != b'0' {
                    return Err(StreamError::invalid(
                        format!("expected the null-pointer marker 0x30, found {b:#04x}"),
                        at,
                    ));
                }
                out.extend_from_slice(b"\"nullptr\"");
            }
            ElemKind::Capability => {
                let len = self.input.u8()?;
                let at = self.input.offset();
                let b = self.input.bytes(u64::from(len))?;
                let s = String::from_utf8(b)
                    .map_err(|_| StreamError::invalid("capability name is not UTF-8", at))?;
                pyjson::string(out, &s);
            }
            ElemKind::Struct(sd) => {
                self.structure(sd, out, live, level)?;
            }
        }
        Ok(())
    }
}
