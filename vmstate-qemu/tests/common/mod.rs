//! Helpers shared by the catalog's tests: the fixture streams, a walk over
//! every FULL section in stream order, and a byte map of a section payload
//! built from the vmdesc JSON that QEMU wrote into the stream (so that a
//! mismatch can be pinned on a field).

// Each test binary uses only some helpers.
#![allow(dead_code)]

#[path = "../../../tests/support/mod.rs"]
pub mod support;

use serde_json::Value as Json;

/// The three QEMU 7.2 streams of a `pc` machine.
pub const FIXTURES: [&str; 3] = ["pc.mig", "pc-devices.mig", "pc-nofooter.mig"];

/// Reads a file of `tests/fixtures/qemu-7.2/` (QEMU-made data).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../tests/fixtures/qemu-7.2/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Reads a file of `tests/fixtures/qemu-10.0/` (QEMU-made data).
pub fn fixture10(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../tests/fixtures/qemu-10.0/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The vmdesc trailer of `stream`, parsed.
pub fn vmdesc(stream: &[u8]) -> Json {
    let text = support::vmdesc_json(stream).expect("the stream has a vmdesc trailer");
    serde_json::from_str(text).expect("the vmdesc is JSON")
}

/// One FULL section of a stream.
#[derive(Debug)]
pub struct Sec<'a> {
    /// Its idstr.
    pub idstr: String,
    /// Its instance id.
    pub instance_id: u32,
    /// The section id of the header.
    pub section_id: u32,
    /// The version of the header.
    pub version: u32,
    /// Offset of the first payload byte in the stream.
    pub payload_offset: usize,
    /// Exactly the payload (no footer).
    pub payload: &'a [u8],
    /// The bytes from the payload on, to the end of the stream (what a
    /// loader sees).
    pub rest: &'a [u8],
    /// Whether a footer follows the payload.
    pub has_footer: bool,
    /// The section's entry in the vmdesc `devices` list.
    pub desc: Json,
}

/// Every FULL section listed in the vmdesc, in stream order, with its
/// exact payload.
///
/// The vmdesc lists the sections in the order QEMU wrote them. Each header
/// is found with the support module's header pattern, taking the first
/// occurrence after the previous section (two `slirp` sections of
/// `pc-devices.mig` share idstr and instance). A payload ends where the
/// next header starts (or at the EOF byte before the trailer), less the
/// 5-byte footer when the stream has footers; the footers are checked.
pub fn sections(stream: &[u8]) -> Vec<Sec<'_>> {
    let json = support::vmdesc_json(stream).expect("vmdesc");
    let desc: Json = serde_json::from_str(json).expect("vmdesc JSON");
    // `00` (EOF), `06`, be32 length, JSON.
    let eof_at = stream.len() - json.len() - 5 - 1;
    assert_eq!(stream[eof_at], 0x00, "EOF marker before the trailer");
    let devices = desc["devices"].as_array().expect("devices");

    let mut headers: Vec<(usize, support::Section<'_>, &Json)> = Vec::new();
    let mut after = 0usize;
    for d in devices {
        let name = d["name"].as_str().expect("name");
        let inst = d["instance_id"].as_u64().expect("instance_id") as u32;
        let header_len = 1 + 4 + 1 + name.len() + 4 + 4;
        let s = support::find_full_sections(stream, name, inst)
            .into_iter()
            .find(|s| s.payload_offset - header_len >= after)
            .unwrap_or_else(|| panic!("no FULL header for {name} instance {inst}"));
        after = s.payload_offset;
        headers.push((s.payload_offset - header_len, s, d));
    }

    // Footers: decided on the first section, then checked on all.
    let first_end = headers.get(1).map_or(eof_at, |h| h.0);
    let has_footer = first_end >= 5 && {
        let f = headers[0].1.footer();
        stream[first_end - 5..first_end] == f
    };

    let mut out = Vec::new();
    for (k, (_, s, d)) in headers.iter().enumerate() {
        let end = headers.get(k + 1).map_or(eof_at, |h| h.0);
        let payload_end = if has_footer { end - 5 } else { end };
        let payload_len = payload_end - s.payload_offset;
        if has_footer {
            s.check_footer(payload_len)
                .unwrap_or_else(|e| panic!("{}: {e}", d["name"]));
        }
        out.push(Sec {
            idstr: d["name"].as_str().unwrap_or_default().to_owned(),
            instance_id: d["instance_id"].as_u64().unwrap_or_default() as u32,
            section_id: s.section_id,
            version: s.version,
            payload_offset: s.payload_offset,
            payload: &stream[s.payload_offset..payload_end],
            rest: s.rest,
            has_footer,
            desc: (*d).clone(),
        });
    }
    out
}

/// A byte range of a payload and the field (path) that wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// `field`, `struct/field[3]`, `sub/name/field`, `sub/name (header)`.
    pub path: String,
}

/// The byte map of a section payload, from its vmdesc entry: every leaf
/// element and subsection header, in wire order.
pub fn layout(desc: &Json) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut at = 0usize;
    layout_body(desc, "", &mut at, &mut spans);
    spans
}

/// Total payload bytes that a vmdesc entry describes.
pub fn layout_len(desc: &Json) -> usize {
    layout(desc).last().map_or(0, |s| s.end)
}

fn layout_body(desc: &Json, prefix: &str, at: &mut usize, spans: &mut Vec<Span>) {
    for f in desc["fields"].as_array().into_iter().flatten() {
        let name = f["name"].as_str().unwrap_or("?");
        let size = f["size"].as_u64().unwrap_or(0) as usize;
        let count = f["array_len"].as_u64().map_or(1, |n| n as usize);
        let index = f["index"].as_u64();
        for i in 0..count {
            let elem = match (f.get("array_len"), index) {
                (Some(_), _) => format!("{prefix}{name}[{i}]"),
                (None, Some(k)) => format!("{prefix}{name}[{k}]"),
                (None, None) => format!("{prefix}{name}"),
            };
            if f["type"] == "struct" {
                let start = *at;
                layout_body(&f["struct"], &format!("{elem}/"), at, spans);
                assert_eq!(*at - start, size, "{elem}: struct size in the vmdesc");
            } else {
                spans.push(Span {
                    start: *at,
                    end: *at + size,
                    path: elem,
                });
                *at += size;
            }
        }
    }
    for s in desc["subsections"].as_array().into_iter().flatten() {
        let name = s["vmsd_name"].as_str().unwrap_or("?");
        let header = 1 + 1 + name.len() + 4;
        spans.push(Span {
            start: *at,
            end: *at + header,
            path: format!("{prefix}{name} (subsection header)"),
        });
        *at += header;
        layout_body(s, &format!("{prefix}{name}/"), at, spans);
    }
}

/// The field that wrote byte `offset` of a payload described by `desc`.
pub fn field_at(desc: &Json, offset: usize) -> String {
    layout(desc)
        .into_iter()
        .find(|s| s.start <= offset && offset < s.end)
        .map_or_else(
            || format!("(byte {offset}: past the described payload)"),
            |s| format!("{} (bytes {}..{})", s.path, s.start, s.end),
        )
}

/// `None` when `got == want`, else a message naming the first differing
/// byte and the vmdesc field it belongs to.
pub fn diff_payload(desc: &Json, want: &[u8], got: &[u8]) -> Option<String> {
    if want == got {
        return None;
    }
    let at = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    let show = |b: &[u8]| {
        let end = (at + 8).min(b.len());
        format!("{:02x?}", &b[at.min(end)..end])
    };
    Some(format!(
        "first difference at payload byte {at}, field {}: QEMU {} vs mirror {} (lengths {} vs {})",
        field_at(desc, at),
        show(want),
        show(got),
        want.len(),
        got.len()
    ))
}

/// The exact text of the vmdesc entry for section `(idstr, instance_id)`
/// in `stream`'s trailer, as QEMU wrote it; `nth` picks among entries with
/// the same idstr and instance (0 for the first).
pub fn vmdesc_entry_text<'a>(
    stream: &'a [u8],
    idstr: &str,
    instance_id: u32,
    nth: usize,
) -> Option<&'a str> {
    let json = support::vmdesc_json(stream)?;
    let head = format!(r#"{{"name": "{idstr}", "instance_id": {instance_id}, "#);
    let (start, _) = json.match_indices(head.as_str()).nth(nth)?;
    // The object ends where its braces balance (outside strings).
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in json[start..].char_indices() {
        match (in_str, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_str = false,
            (true, false, _) => {}
            (false, _, '"') => in_str = true,
            (false, _, '{') => depth += 1,
            (false, _, '}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(&json[start..=start + i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The first place where two vmdesc objects differ, as a path and both
/// values (`None` when equal): where a mirror's recorded description
/// departs from QEMU's.
pub fn json_diff(want: &Json, got: &Json) -> Option<String> {
    diff_at(want, got, String::new())
}

fn diff_at(want: &Json, got: &Json, path: String) -> Option<String> {
    match (want, got) {
        (Json::Object(a), Json::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    None => return Some(format!("{p}: QEMU has {va}, the mirror nothing")),
                    Some(vb) => {
                        if let Some(d) = diff_at(va, vb, p) {
                            return Some(d);
                        }
                    }
                }
            }
            b.keys()
                .find(|k| !a.contains_key(*k))
                .map(|k| format!("{path}.{k}: the mirror has {}, QEMU nothing", b[k]))
        }
        (Json::Array(a), Json::Array(b)) => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                let label = va["name"]
                    .as_str()
                    .or(va["vmsd_name"].as_str())
                    .map_or_else(|| format!("[{i}]"), |n| format!("[{i}: {n}]"));
                if let Some(d) = diff_at(va, vb, format!("{path}{label}")) {
                    return Some(d);
                }
            }
            (a.len() != b.len()).then(|| {
                format!(
                    "{path}: QEMU has {} entries, the mirror {}",
                    a.len(),
                    b.len()
                )
            })
        }
        _ => (want != got).then(|| format!("{path}: QEMU has {want}, the mirror {got}")),
    }
}
