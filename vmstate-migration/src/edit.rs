//! Changing fields of a decoded section by path, with values checked
//! against the field's type.
//!
//! # Paths
//!
//! A field path names one element inside a section, with the names of the
//! vmdesc:
//!
//! * fields are separated by `.` (or `/`): `kbd.status`;
//! * a subsection is named by its full name, after `.` or `/`:
//!   `kbd/pckbd/extended_state/obsrc` (or `kbd.pckbd/extended_state.obsrc`);
//! * `[i]` selects element `i` of an array field (`isr[3]`), or byte `i` of
//!   a byte buffer (`cmos_data[14]`).
//!
//! Names may themselves hold `.` or `/` (`env.regs`, `pckbd/extended_state`):
//! at each level the longest name that matches wins.
//!
//! # Values
//!
//! * integers: decimal, `0x…`, `0o…` or `0b…`, with `-` for signed types;
//!   a value outside the type's range is an error, never wrapped;
//! * bools: `true`, `false`, `1`, `0`;
//! * a byte of a buffer: an integer 0..=255;
//! * a whole buffer: hex bytes, `"de ad be ef"`, `de:ad:be:ef` or
//!   `0xdeadbeef`, exactly as many as the buffer has.

use super::error::{PathSegment, StreamError, StreamResult};
use super::value::{Int, StructValue, Value};

enum Target<'v> {
    Value(&'v mut Value),
    Byte(&'v mut u8),
}

/// Sets the element at `path` in a section's decoded payload to `text`.
///
/// Returns the element's offset from the payload's start. Errors name the
/// path reached and that offset (payload-relative: add the section's
/// [`payload_offset`](super::Section::payload_offset)).
///
/// ```
/// use vmstate_migration::{edit, FieldValue, Int, StructValue, Value};
///
/// let mut sv = StructValue {
///     fields: vec![
///         FieldValue { name: "irr".into(), value: Value::Int(Int::new(0, 1, false).unwrap()) },
///         FieldValue { name: "imr".into(), value: Value::Int(Int::new(0, 1, false).unwrap()) },
///     ],
///     subsections: vec![],
/// };
/// assert_eq!(edit::set(&mut sv, "imr", "0xb8").unwrap(), 1);
/// assert!(edit::set(&mut sv, "imr", "0x1b8").is_err());
/// ```
pub fn set(root: &mut StructValue, path: &str, text: &str) -> StreamResult<u64> {
    let mut trail: Vec<PathSegment> = Vec::new();
    let mut off = 0u64;
    let res = set_inner(root, path, text, &mut trail, &mut off);
    res.map(|()| off).map_err(|e| {
        trail
            .iter()
            .rev()
            .fold(StreamError::mismatch(e, off), |e, seg| {
                e.within(seg.clone())
            })
    })
}

/// The separator that may follow a name.
fn ends_name(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with(['.', '/', '['])
}

fn set_inner(
    root: &mut StructValue,
    path: &str,
    text: &str,
    trail: &mut Vec<PathSegment>,
    off: &mut u64,
) -> Result<(), String> {
    let mut sv: &mut StructValue = root;
    let mut rest = path;
    loop {
        // Longest field or subsection name that starts `rest`.
        let mut best: Option<(bool, usize, usize)> = None;
        for (i, f) in sv.fields.iter().enumerate() {
            if let Some(r) = rest.strip_prefix(f.name.as_str()) {
                if ends_name(r) && best.is_none_or(|b| f.name.len() > b.2) {
                    best = Some((false, i, f.name.len()));
                }
            }
        }
        for (i, s) in sv.subsections.iter().enumerate() {
            if let Some(r) = rest.strip_prefix(s.name.as_str()) {
                if ends_name(r) && best.is_none_or(|b| s.name.len() > b.2) {
                    best = Some((true, i, s.name.len()));
                }
            }
        }
        let Some((is_sub, idx, len)) = best else {
            let names: Vec<&str> = sv
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .chain(sv.subsections.iter().map(|s| s.name.as_str()))
                .collect();
            let want = rest.split(['.', '[']).next().unwrap_or(rest);
            return Err(format!(
                "no field or subsection `{want}` here (there are: {})",
                names.join(", ")
            ));
        };
        rest = rest.get(len..).unwrap_or_default();
        if is_sub {
            let fields_len: u64 = sv.fields.iter().map(|f| f.value.encoded_len()).sum();
            let before: u64 = sv
                .subsections
                .iter()
                .take(idx)
                .map(|s| s.header_len() + s.value.encoded_len())
                .sum();
            let Some(sub) = sv.subsections.get_mut(idx) else {
                return Err("subsection vanished".into());
            };
            *off += fields_len + before + sub.header_len();
            trail.push(PathSegment::Subsection(sub.name.clone()));
            if rest.is_empty() {
                return Err("this is a subsection: name one of its fields".into());
            }
            if rest.starts_with('[') {
                return Err("a subsection is not an array".into());
            }
            rest = rest.get(1..).unwrap_or_default();
            sv = &mut sub.value;
            continue;
        }
        let before: u64 = sv
            .fields
            .iter()
            .take(idx)
            .map(|f| f.value.encoded_len())
            .sum();
        *off += before;
        let Some(field) = sv.fields.get_mut(idx) else {
            return Err("field vanished".into());
        };
        trail.push(PathSegment::Field(field.name.clone()));
        let mut target = Target::Value(&mut field.value);
        // Indexes.
        while let Some(r) = rest.strip_prefix('[') {
            let Some(close) = r.find(']') else {
                return Err("`[` without `]`".into());
            };
            let idx_text = r.get(..close).unwrap_or_default();
            let i = parse_int(idx_text)
                .ok()
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(|| format!("bad index `{idx_text}`"))?;
            rest = r.get(close + 1..).unwrap_or_default();
            target = match target {
                Target::Value(Value::Array(items)) => {
                    let n = items.len();
                    let pos = usize::try_from(i).ok().filter(|&p| p < n).ok_or_else(|| {
                        format!("index {i} is out of range: the array has {n} elements")
                    })?;
                    *off += items.iter().take(pos).map(Value::encoded_len).sum::<u64>();
                    trail.push(PathSegment::Index(i));
                    match items.get_mut(pos) {
                        Some(v) => Target::Value(v),
                        None => return Err("element vanished".into()),
                    }
                }
                Target::Value(Value::Bytes(b)) => {
                    let n = b.len();
                    trail.push(PathSegment::Index(i));
                    let byte = usize::try_from(i)
                        .ok()
                        .and_then(|p| b.get_mut(p))
                        .ok_or_else(|| {
                            format!("index {i} is out of range: the buffer has {n} bytes")
                        })?;
                    *off += i;
                    Target::Byte(byte)
                }
                Target::Value(v) => {
                    return Err(format!("{} has no elements", v.kind_with_article()));
                }
                Target::Byte(_) => return Err("a byte has no elements".into()),
            };
        }
        if rest.is_empty() {
            return assign(target, text);
        }
        // A separator and a nested name.
        rest = rest.get(1..).unwrap_or_default();
        match target {
            Target::Value(Value::Struct(inner)) => sv = inner,
            Target::Value(v) => return Err(format!("{} has no fields", v.kind_with_article())),
            Target::Byte(_) => return Err("a byte has no fields".into()),
        }
    }
}

fn assign(target: Target<'_>, text: &str) -> Result<(), String> {
    match target {
        Target::Byte(b) => {
            let v = parse_int(text)?;
            *b = u8::try_from(v)
                .map_err(|_| format!("value {text} does not fit a byte (0..=255)"))?;
        }
        Target::Value(Value::Int(i)) => {
            let v = parse_int(text)?;
            *i = Int::new(v, i.size(), i.signed()).ok_or_else(|| {
                let (min, max) = Int::range(i.size(), i.signed());
                format!(
                    "value {text} does not fit {}int{} ({min}..={max})",
                    if i.signed() { "" } else { "u" },
                    u32::from(i.size()) * 8
                )
            })?;
        }
        Target::Value(Value::Bool(b)) => {
            *b = match text.trim() {
                "true" | "1" => 1,
                "false" | "0" => 0,
                _ => return Err(format!("`{text}` is not a bool (true, false, 1, 0)")),
            };
        }
        Target::Value(Value::Bytes(b)) => {
            let new = parse_hex_bytes(text)?;
            if new.len() != b.len() {
                return Err(format!(
                    "the buffer has {} bytes, the value {} (set one byte with [i])",
                    b.len(),
                    new.len()
                ));
            }
            *b = new;
        }
        Target::Value(v) => {
            return Err(format!(
                "cannot set {} as a whole: name one of its elements",
                v.kind_with_article()
            ))
        }
    }
    Ok(())
}

/// Parses an integer: decimal, `0x`, `0o` or `0b`, optional sign, `_`
/// allowed between digits.
pub fn parse_int(text: &str) -> Result<i128, String> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b") {
        (2, d)
    } else {
        (10, body)
    };
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() {
        return Err(format!("`{text}` is not an integer"));
    }
    let mag =
        u128::from_str_radix(&digits, radix).map_err(|_| format!("`{text}` is not an integer"))?;
    let mag = i128::try_from(mag).map_err(|_| format!("`{text}` is too large"))?;
    Ok(if neg { -mag } else { mag })
}

/// Parses hex bytes: `"de ad"`, `de:ad`, `de,ad`, `dead`, `0xdead`.
pub fn parse_hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let separated = t.contains([' ', ':', ',', '\t']);
    let mut out = Vec::new();
    let bad = || format!("`{text}` is not a list of hex bytes");
    if separated {
        for tok in t.split([' ', ':', ',', '\t']).filter(|s| !s.is_empty()) {
            if tok.len() > 2 {
                return Err(bad());
            }
            out.push(u8::from_str_radix(tok, 16).map_err(|_| bad())?);
        }
    } else {
        if t.len() % 2 != 0 {
            return Err(bad());
        }
        let mut i = 0;
        while let Some(pair) = t.get(i..i + 2) {
            out.push(u8::from_str_radix(pair, 16).map_err(|_| bad())?);
            i += 2;
        }
        if i != t.len() {
            return Err(bad());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{FieldValue, SubsectionValue};

    fn u8v(v: i128) -> Value {
        Value::Int(Int::new(v, 1, false).unwrap())
    }

    fn tree() -> StructValue {
        StructValue {
            fields: vec![
                FieldValue {
                    name: "a".into(),
                    value: u8v(1),
                },
                FieldValue {
                    name: "env.regs".into(),
                    value: Value::Array(vec![u8v(0), u8v(0)]),
                },
                FieldValue {
                    name: "buf".into(),
                    value: Value::Bytes(vec![0; 4]),
                },
                FieldValue {
                    name: "kbd".into(),
                    value: Value::Struct(StructValue {
                        fields: vec![FieldValue {
                            name: "status".into(),
                            value: u8v(0),
                        }],
                        subsections: vec![SubsectionValue {
                            name: "pckbd/ext".into(),
                            version: 0,
                            value: StructValue {
                                fields: vec![FieldValue {
                                    name: "obsrc".into(),
                                    value: Value::Int(Int::new(0, 4, true).unwrap()),
                                }],
                                subsections: vec![],
                            },
                        }],
                    }),
                },
            ],
            subsections: vec![],
        }
    }

    #[test]
    fn paths_offsets_and_checks() {
        let mut t = tree();
        assert_eq!(set(&mut t, "a", "255").unwrap(), 0);
        assert_eq!(set(&mut t, "env.regs[1]", "0x10").unwrap(), 2);
        assert_eq!(set(&mut t, "buf[3]", "0x12").unwrap(), 6);
        assert_eq!(set(&mut t, "buf", "01 02 03 04").unwrap(), 3);
        assert_eq!(set(&mut t, "kbd.status", "3").unwrap(), 7);
        let obsrc = 8 + 6 + "pckbd/ext".len() as u64;
        assert_eq!(set(&mut t, "kbd/pckbd/ext/obsrc", "-5").unwrap(), obsrc);
        assert_eq!(set(&mut t, "kbd.pckbd/ext.obsrc", "-6").unwrap(), obsrc);

        let e = set(&mut t, "kbd/pckbd/ext/obsrc", "0x80000000").unwrap_err();
        assert_eq!(e.path(), "kbd/pckbd/ext/obsrc");
        assert_eq!(e.offset(), obsrc);
        assert!(e.to_string().contains("does not fit int32"));
        assert!(set(&mut t, "a", "256").is_err());
        assert!(set(&mut t, "a", "-1").is_err());
        assert!(set(&mut t, "buf", "01 02").is_err());
        assert!(set(&mut t, "buf[4]", "1").is_err());
        assert!(set(&mut t, "nope", "1").is_err());
        assert!(set(&mut t, "kbd", "1").is_err());
        assert!(set(&mut t, "a.b", "1").is_err());
        assert!(set(&mut t, "env.regs[x]", "1").is_err());
        assert!(set(&mut t, "env.regs[1", "1").is_err());
    }

    #[test]
    fn parsers() {
        assert_eq!(parse_int("0x_ff").unwrap(), 255);
        assert_eq!(parse_int("-0b101").unwrap(), -5);
        assert!(parse_int("").is_err());
        assert!(parse_int("0x").is_err());
        assert!(parse_int("340282366920938463463374607431768211456").is_err());
        assert_eq!(parse_hex_bytes("0xdead").unwrap(), [0xde, 0xad]);
        assert_eq!(parse_hex_bytes("de:a").unwrap(), [0xde, 0xa]);
        assert!(parse_hex_bytes("dea").is_err());
        assert!(parse_hex_bytes("zz").is_err());
        assert!(parse_hex_bytes("é").is_err());
    }
}
