//! Test helpers for real QEMU migration streams (std only).
//!
//! A FULL section record (docs/wire-format.md#sections) is
//!
//! ```text
//! 04  SS SS SS SS  LL <idstr: LL bytes>  II II II II  VV VV VV VV  <payload>  7e SS SS SS SS
//!     section id   idstr                 instance id  version                 footer
//! ```
//!
//! Section ids are assigned at registration time and differ between
//! machines, so the helpers find a section by `(idstr, instance_id)` by
//! scanning for that header pattern, never by id or offset.

// Each test binary that includes this module uses only some helpers.
#![allow(dead_code)]

/// QEMU_VM_SECTION_FULL.
pub const SECTION_FULL: u8 = 0x04;
/// QEMU_VM_SECTION_FOOTER.
pub const SECTION_FOOTER: u8 = 0x7e;

/// A FULL section found in a stream.
#[derive(Clone, Copy, Debug)]
pub struct Section<'a> {
    /// The be32 section id of the header (repeated in the footer).
    pub section_id: u32,
    /// The be32 version of the header: the stream version the payload was
    /// saved at.
    pub version: u32,
    /// Offset of the first payload byte in the whole stream.
    pub payload_offset: usize,
    /// Everything after the header: the payload, its footer and the rest
    /// of the stream.
    pub rest: &'a [u8],
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// All positions where a FULL section header for `(idstr, instance_id)`
/// starts, as parsed sections.
pub fn find_full_sections<'a>(stream: &'a [u8], idstr: &str, instance_id: u32) -> Vec<Section<'a>> {
    let id = idstr.as_bytes();
    assert!(
        !id.is_empty() && id.len() < 256,
        "an idstr is 1 to 255 bytes"
    );
    // 04, be32 section id, u8 len, idstr, be32 instance, be32 version.
    let header_len = 1 + 4 + 1 + id.len() + 4 + 4;
    let mut found = Vec::new();
    if stream.len() < header_len {
        return found;
    }
    for start in 0..=stream.len() - header_len {
        let h = &stream[start..start + header_len];
        if h[0] != SECTION_FULL || usize::from(h[5]) != id.len() || &h[6..6 + id.len()] != id {
            continue;
        }
        let inst_at = 6 + id.len();
        if be32(&h[inst_at..]) != instance_id {
            continue;
        }
        let payload_offset = start + header_len;
        found.push(Section {
            section_id: be32(&h[1..]),
            version: be32(&h[inst_at + 4..]),
            payload_offset,
            rest: &stream[payload_offset..],
        });
    }
    found
}

/// The one FULL section for `(idstr, instance_id)`. An error if there is
/// none or if the pattern occurs more than once (then a guess could pick
/// bytes that merely look like a header, e.g. inside RAM pages).
pub fn find_full_section<'a>(
    stream: &'a [u8],
    idstr: &str,
    instance_id: u32,
) -> Result<Section<'a>, String> {
    let mut all = find_full_sections(stream, idstr, instance_id);
    match all.len() {
        1 => Ok(all.remove(0)),
        0 => Err(format!(
            "no FULL section header for \"{idstr}\" instance {instance_id}"
        )),
        n => Err(format!(
            "{n} FULL section headers for \"{idstr}\" instance {instance_id} at payload offsets {:?}: ambiguous",
            all.iter().map(|s| s.payload_offset).collect::<Vec<_>>()
        )),
    }
}

impl Section<'_> {
    /// The 5 footer bytes that must follow the payload: `7e` + be32 id.
    pub fn footer(&self) -> [u8; 5] {
        let id = self.section_id.to_be_bytes();
        [SECTION_FOOTER, id[0], id[1], id[2], id[3]]
    }

    /// Checks that the `payload_len` bytes after the header are followed by
    /// this section's footer.
    pub fn check_footer(&self, payload_len: usize) -> Result<(), String> {
        check_footer(self, payload_len)
    }
}

/// Checks that after a payload of `payload_len` bytes the next 5 bytes are
/// the footer `7e` + the section's be32 id.
pub fn check_footer(section: &Section<'_>, payload_len: usize) -> Result<(), String> {
    let want = section.footer();
    let got = section
        .rest
        .get(payload_len..payload_len + want.len())
        .ok_or_else(|| {
            format!(
                "stream ends before the footer: payload {payload_len} bytes, {} bytes after the header",
                section.rest.len()
            )
        })?;
    if got != want {
        return Err(format!(
            "after {payload_len} payload bytes (stream offset {:#x}) expected footer {want:02x?}, found {got:02x?}",
            section.payload_offset + payload_len
        ));
    }
    Ok(())
}

/// The vmdesc JSON trailer of a stream: after the last section, `00` (EOF),
/// then `06`, be32 length, and that many bytes of JSON that end the
/// stream. `None` if the stream has no such trailer.
pub fn vmdesc_json(stream: &[u8]) -> Option<&str> {
    // The trailer ends the stream, so its length field is where
    // `p + 5 + len == stream.len()`; scan for that, not for a fixed offset.
    (0..stream.len().saturating_sub(5)).find_map(|p| {
        if stream[p] != 0x06 || stream.get(p + 5) != Some(&b'{') {
            return None;
        }
        let len = be32(&stream[p + 1..]) as usize;
        if p + 5 + len != stream.len() || p == 0 || stream[p - 1] != 0x00 {
            return None;
        }
        std::str::from_utf8(&stream[p + 5..]).ok()
    })
}
