//! Pieces of JSON as Python's `json.dumps(indent=4)` writes them (the
//! format `analyze-migration.py` prints), for output written while it is
//! decoded rather than built as a tree first.
//!
//! Separators are `", "` between items on their own lines and `": "`
//! after keys; an empty object or list is `{}` / `[]`; strings escape `"`,
//! `\`, the control characters and everything outside printable ASCII
//! (`ensure_ascii`).

use std::io::Write;

/// Appends `s` as a JSON string literal, escaped as Python does.
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            ' '..='~' => out.push(c as u8),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    // Writing to a Vec cannot fail.
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push(b'"');
}

/// A newline and `level` indentation steps of four spaces.
pub(crate) fn newline(out: &mut Vec<u8>, level: usize) {
    out.push(b'\n');
    out.resize(out.len() + 4 * level, b' ');
}

/// What goes before item `index` of an object or list whose items sit at
/// `level`: `\n` or `,\n`, then the indentation.
pub(crate) fn item(out: &mut Vec<u8>, index: u64, level: usize) {
    if index > 0 {
        out.push(b',');
    }
    newline(out, level);
}

/// Key `index` of an object whose keys sit at `level`: separator, the key
/// and `": "`.
pub(crate) fn key(out: &mut Vec<u8>, index: u64, level: usize, name: &str) {
    item(out, index, level);
    string(out, name);
    out.extend_from_slice(b": ");
}

/// Closes an object or list of `items` items whose closing bracket sits at
/// `level`.
pub(crate) fn close(out: &mut Vec<u8>, items: u64, level: usize, bracket: u8) {
    if items > 0 {
        newline(out, level);
    }
    out.push(bracket);
}

/// Appends bytes as `"00 1f ff"` continues it: `first` says whether these
/// are the field's first bytes (no leading space).
pub(crate) fn hex_run(out: &mut Vec<u8>, bytes: &[u8], first: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 || !first {
            out.push(b' ');
        }
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_layout_as_python_writes_them() {
        let mut o = Vec::new();
        string(&mut o, "a\"\\\n\u{7f}é\u{1f600}");
        assert_eq!(
            String::from_utf8(o).unwrap(),
            r#""a\"\\\n\u007f\u00e9\ud83d\ude00""#
        );
        let mut o = b"{".to_vec();
        key(&mut o, 0, 1, "x");
        o.extend_from_slice(b"[");
        item(&mut o, 0, 2);
        hex_run(&mut o, &[0, 0xab], true);
        hex_run(&mut o, &[1], false);
        close(&mut o, 1, 1, b']');
        key(&mut o, 1, 1, "y");
        close(&mut o, 0, 1, b'}');
        close(&mut o, 2, 0, b'}');
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "{\n    \"x\": [\n        00 ab 01\n    ],\n    \"y\": }\n}"
        );
    }
}
