//! How `sections` and `roundtrip` get past a FULL section without building
//! its value tree: with the vmdesc, the generic decoder reads it and keeps
//! nothing but its subsection names; without one (missing or damaged
//! trailer), its Rust mirror in the catalog finds where it ends, in the
//! stream's tail held in memory.

use std::collections::HashSet;
use std::io::Write;
use vmstate_core::stream::Reader;
use vmstate_core::Context;

use vmstate_migration::generic::copy_through;
use vmstate_migration::{
    generic, DecodeLimits, SectionName, SectionTargets, StreamError, StreamResult, StreamWriter,
    VmDesc, VM_SECTION_FOOTER, VM_SECTION_FULL,
};
use vmstate_qemu::machine::Machine;
use vmstate_qemu::registry::Entry;

use crate::source::InputSource;

/// What `roundtrip` says of one FULL section.
pub(crate) enum Verdict {
    /// The catalog has no mirror for it.
    NoMirror,
    /// Loaded into its mirror and saved again.
    Checked {
        /// The mirror's Rust type.
        type_name: &'static str,
        /// Whether the re-save was byte-identical.
        identical: bool,
        /// What to print.
        text: String,
    },
}

/// The section targets of `sections` (`roundtrip: false`) and `roundtrip`.
pub(crate) struct ListTargets {
    desc: Option<VmDesc>,
    limits: DecodeLimits,
    free_left: u64,
    roundtrip: bool,
    ctx: Context,
    subs: Vec<String>,
    verdict: Option<Verdict>,
    machine: Machine,
}

impl ListTargets {
    pub(crate) fn new(desc: Option<VmDesc>, limits: DecodeLimits, roundtrip: bool) -> Self {
        ListTargets {
            desc,
            limits,
            free_left: limits.max_free_nodes,
            roundtrip,
            ctx: Context::new(),
            subs: Vec::new(),
            verdict: None,
            machine: Machine::default(),
        }
    }

    /// Mirrors are built for the machine the configuration names (the
    /// `pc` destination without one).
    pub(crate) fn set_machine(&mut self, m: Machine) {
        self.machine = m;
    }

    pub(crate) fn set_vmdesc(&mut self, d: VmDesc) {
        self.desc = Some(d);
    }

    /// The subsection names of the section just read.
    pub(crate) fn take_subsections(&mut self) -> Vec<String> {
        std::mem::take(&mut self.subs)
    }

    /// The verdict on the section just read (`roundtrip`).
    pub(crate) fn take_verdict(&mut self) -> Option<Verdict> {
        self.verdict.take()
    }
}

/// Loads `bytes` (a payload, or the stream's rest from a payload's start
/// when `prefix`) into `entry`'s mirror and saves it again. Returns the
/// verdict and the bytes the mirror read.
#[allow(clippy::too_many_arguments)]
pub(crate) fn judge_at(
    entry: &Entry,
    machine: Machine,
    bytes: &[u8],
    prefix: bool,
    version: u32,
    payload_offset: u64,
    name: &SectionName,
    ctx: &Context,
) -> (Verdict, Option<usize>) {
    let checked = |identical: bool, text: String| Verdict::Checked {
        type_name: entry.type_name,
        identical,
        text,
    };
    match (entry.roundtrip_on)(machine, bytes, version, ctx, false) {
        Err(e) => (
            checked(
                false,
                format!(
                    "LOAD FAILED: {}",
                    StreamError::from(e).rebase(payload_offset).in_section(name)
                ),
            ),
            None,
        ),
        Ok(rt) if !prefix && rt.consumed != bytes.len() => (
            checked(
                false,
                format!(
                    "MISMATCH: the mirror read {} of {} payload bytes",
                    rt.consumed,
                    bytes.len()
                ),
            ),
            Some(rt.consumed),
        ),
        Ok(rt) => {
            let orig = bytes.get(..rt.consumed).unwrap_or(bytes);
            if rt.resaved == orig {
                (checked(true, "byte-identical".into()), Some(rt.consumed))
            } else {
                let at = rt
                    .resaved
                    .iter()
                    .zip(orig)
                    .position(|(a, b)| a != b)
                    .unwrap_or(rt.resaved.len().min(orig.len()));
                (
                    checked(
                        false,
                        format!(
                            "MISMATCH: re-saved {} bytes, differing from byte {} (stream byte {})",
                            rt.resaved.len(),
                            at,
                            payload_offset + at as u64
                        ),
                    ),
                    Some(rt.consumed),
                )
            }
        }
    }
}

/// [`judge_at`] on a whole payload.
pub(crate) fn judge(
    entry: &Entry,
    machine: Machine,
    payload: &[u8],
    version: u32,
    payload_offset: u64,
    name: &SectionName,
    ctx: &Context,
) -> Verdict {
    judge_at(
        entry,
        machine,
        payload,
        false,
        version,
        payload_offset,
        name,
        ctx,
    )
    .0
}

impl SectionTargets<InputSource> for ListTargets {
    fn load_full(
        &mut self,
        name: &SectionName,
        version: u32,
        r: &mut Reader<InputSource>,
        end: &mut dyn FnMut(&mut Reader<InputSource>) -> StreamResult<()>,
    ) -> StreamResult<bool> {
        let entry = vmstate_qemu::registry::lookup(&name.idstr);
        let described = self
            .desc
            .as_ref()
            .and_then(|d| d.section(&name.idstr, name.instance_id))
            .map(|s| s.body.clone());
        if let (Some(entry), Some(_), true) = (entry, &described, self.roundtrip) {
            // The payload is decoded as a tree and judged from its bytes.
            let _ = entry;
            return Ok(false);
        }
        if let Some(body) = described {
            let mut out = Vec::new();
            let mut discard = |b: &mut Vec<u8>| {
                b.clear();
                Ok(())
            };
            self.subs = generic::decode_json(
                &body,
                r,
                self.limits,
                &mut self.free_left,
                1,
                &mut out,
                &mut discard,
            )?;
            end(r)?;
            if self.roundtrip {
                self.verdict = Some(Verdict::NoMirror);
            }
            return Ok(true);
        }
        // No description: the mirror says where the section ends, read from
        // the stream's tail in memory.
        let at = r.offset();
        let Some(rest) = r.source_mut().rest() else {
            return Ok(false);
        };
        let Some(entry) = entry else {
            return Err(StreamError::invalid(
                "the stream has no usable vmdesc trailer and the catalog no mirror of this \
                 section, so its end cannot be found",
                at,
            ));
        };
        let (verdict, consumed) = judge_at(
            entry,
            self.machine,
            rest,
            true,
            version,
            at,
            name,
            &self.ctx,
        );
        let Some(consumed) = consumed else {
            let Verdict::Checked { text, .. } = verdict else {
                return Ok(false);
            };
            return Err(StreamError::invalid(
                format!("no vmdesc to delimit the section, and its mirror fails: {text}"),
                at,
            ));
        };
        r.skip(consumed as u64)?;
        end(r)?;
        if self.roundtrip {
            self.verdict = Some(verdict);
        }
        Ok(true)
    }
}

/// Claims no section: every FULL section is decoded as a value tree with
/// the vmdesc (`edit`, which re-encodes what it changes).
pub(crate) struct NoTargets;

impl SectionTargets<InputSource> for NoTargets {
    fn load_full(
        &mut self,
        _: &SectionName,
        _: u32,
        _: &mut Reader<InputSource>,
        _: &mut dyn FnMut(&mut Reader<InputSource>) -> StreamResult<()>,
    ) -> StreamResult<bool> {
        Ok(false)
    }
}

/// The section targets of `edit`: a described section that is not edited
/// is copied from the input to the output as it is read, so memory does
/// not grow with it; edited ones (and any without a description) are left
/// to the reader, which decodes them into a value tree.
pub(crate) struct EditTargets<'o> {
    /// The output.
    pub(crate) w: StreamWriter<&'o mut dyn Write>,
    desc: Option<VmDesc>,
    edited: HashSet<(String, u32)>,
    limits: DecodeLimits,
    free_left: u64,
    out_err: Option<StreamError>,
}

impl<'o> EditTargets<'o> {
    pub(crate) fn new(w: StreamWriter<&'o mut dyn Write>, limits: DecodeLimits) -> Self {
        EditTargets {
            w,
            desc: None,
            edited: HashSet::new(),
            limits,
            free_left: limits.max_free_nodes,
            out_err: None,
        }
    }

    /// The description, and the sections that are edited.
    pub(crate) fn set(&mut self, desc: VmDesc, edited: impl Iterator<Item = (String, u32)>) {
        self.desc = Some(desc);
        self.edited = edited.collect();
    }

    /// An error writing the output, if the last section met one.
    pub(crate) fn take_output_error(&mut self) -> Option<StreamError> {
        self.out_err.take()
    }
}

impl SectionTargets<InputSource> for EditTargets<'_> {
    fn load_full(
        &mut self,
        name: &SectionName,
        version: u32,
        r: &mut Reader<InputSource>,
        end: &mut dyn FnMut(&mut Reader<InputSource>) -> StreamResult<()>,
    ) -> StreamResult<bool> {
        if self
            .edited
            .contains(&(name.idstr.clone(), name.instance_id))
        {
            return Ok(false);
        }
        let Some(body) = self
            .desc
            .as_ref()
            .and_then(|d| d.section(&name.idstr, name.instance_id))
            .map(|s| s.body.clone())
        else {
            return Ok(false);
        };
        let Ok(len) = u8::try_from(name.idstr.len()) else {
            return Ok(false);
        };
        let mut head = vec![VM_SECTION_FULL];
        head.extend_from_slice(&name.section_id.to_be_bytes());
        head.push(len);
        head.extend_from_slice(name.idstr.as_bytes());
        head.extend_from_slice(&name.instance_id.to_be_bytes());
        head.extend_from_slice(&version.to_be_bytes());
        let EditTargets {
            w,
            limits,
            free_left,
            out_err,
            ..
        } = self;
        let mut put = |b: &[u8]| {
            w.raw(b).map_err(|e| {
                let msg = e.to_string();
                *out_err = Some(e);
                StreamError::invalid(format!("writing the output failed: {msg}"), 0)
            })
        };
        put(&head)?;
        copy_through(&body, r, *limits, free_left, &mut put)?;
        let footer = r.peek(1)?.first() == Some(&VM_SECTION_FOOTER);
        end(r)?;
        if footer {
            let mut f = vec![VM_SECTION_FOOTER];
            f.extend_from_slice(&name.section_id.to_be_bytes());
            put(&f)?;
        }
        Ok(true)
    }
}
