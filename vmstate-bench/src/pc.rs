//! The real stream `tests/fixtures/qemu-7.2/pc.mig`, five of its device
//! mirrors from the catalog (`vmstate-qemu`) under the names the
//! allocation tests use, and a locator for their FULL sections. Benchmark
//! 3 itself (`benches/pc_sections.rs`, `benches/pc_machine.rs`) goes
//! through the catalog's registry.

use vmstate_core::{Context, Reader, VmState};

/// The real QEMU 7.2.22 `pc-i440fx-7.2` stream.
pub const PC_MIG: &[u8] = include_bytes!("../../tests/fixtures/qemu-7.2/pc.mig");

// ---------------------------------------------------------------------------
// Mirrors: the catalog's (vmstate-qemu), under the names the benches use
// ---------------------------------------------------------------------------

pub use vmstate_qemu::cpu_common::CpuCommon;
pub use vmstate_qemu::i8259::PicCommon as I8259;
pub use vmstate_qemu::pckbd::KbdIsa as Pckbd;
pub use vmstate_qemu::port92::Port92;
pub use vmstate_qemu::timer::Timers;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Sections of pc.mig
// ---------------------------------------------------------------------------

/// QEMU_VM_SECTION_FULL.
const SECTION_FULL: u8 = 0x04;
/// QEMU_VM_SECTION_FOOTER.
const SECTION_FOOTER: u8 = 0x7e;

/// A FULL section of a stream, found by its whole header.
#[derive(Clone, Copy, Debug)]
pub struct Section<'a> {
    /// The header's be32 section id (repeated in the footer).
    pub section_id: u32,
    /// The header's be32 version: the stream version of the payload.
    pub version: u32,
    /// Everything after the header: payload, footer, rest of the stream.
    pub rest: &'a [u8],
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The one FULL section `(idstr, instance_id)` of `stream`, found by
/// scanning for its whole header: `04`, be32 section id, u8 length, idstr,
/// be32 instance id, be32 version. Section ids differ between machines, so
/// they are not searched for. `None` if the header is missing or occurs
/// more than once.
pub fn find_full_section<'a>(
    stream: &'a [u8],
    idstr: &str,
    instance_id: u32,
) -> Option<Section<'a>> {
    let id = idstr.as_bytes();
    let header_len = 1 + 4 + 1 + id.len() + 4 + 4;
    let mut found = None;
    for (start, h) in stream.windows(header_len).enumerate() {
        let inst_at = 6 + id.len();
        if h[0] != SECTION_FULL
            || usize::from(h[5]) != id.len()
            || &h[6..inst_at] != id
            || be32(&h[inst_at..]) != instance_id
        {
            continue;
        }
        if found.is_some() {
            return None;
        }
        found = Some(Section {
            section_id: be32(&h[1..]),
            version: be32(&h[inst_at + 4..]),
            rest: &stream[start + header_len..],
        });
    }
    found
}

/// One mirrored section of `pc.mig` and its payload.
#[derive(Clone, Copy, Debug)]
pub struct Payload {
    /// Section idstr.
    pub idstr: &'static str,
    /// Section instance id.
    pub instance_id: u32,
    /// Stream version of the payload.
    pub version: u32,
    /// The payload bytes: what a load consumes, checked to be followed by
    /// the section's footer.
    pub bytes: &'static [u8],
}

/// Loads `v` from the FULL section `(idstr, instance_id)` of [`PC_MIG`],
/// checks that the section footer follows the bytes the load consumed and
/// that saving gives those bytes back, and returns the payload.
///
/// # Panics
/// If any of that fails: the benches measure only verified payloads.
pub fn payload<T: VmState + Clone>(v: &mut T, idstr: &'static str, instance_id: u32) -> Payload {
    let ctx = Context::new();
    let s = find_full_section(PC_MIG, idstr, instance_id)
        .unwrap_or_else(|| panic!("no unique FULL section {idstr}.{instance_id} in pc.mig"));
    let mut r = Reader::from_slice(s.rest);
    v.load(&mut r, s.version, &ctx)
        .unwrap_or_else(|e| panic!("{idstr}.{instance_id}: {e}"));
    let n = r.offset() as usize;
    let id = s.section_id.to_be_bytes();
    assert_eq!(
        s.rest.get(n..n + 5),
        Some(&[SECTION_FOOTER, id[0], id[1], id[2], id[3]][..]),
        "{idstr}.{instance_id}: the footer follows the payload"
    );
    let bytes = &s.rest[..n];
    assert_eq!(
        v.to_bytes(&ctx).unwrap(),
        bytes,
        "{idstr}.{instance_id}: re-save"
    );
    Payload {
        idstr,
        instance_id,
        version: s.version,
        bytes,
    }
}
