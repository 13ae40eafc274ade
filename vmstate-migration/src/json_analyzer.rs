//! `analyze-migration.py -d state` written while the stream is read: each
//! FULL section's JSON goes out as the generic decoder reads it
//! ([`decode_json`]), so memory does not grow with the stream or with a
//! section.

use std::collections::HashSet;
use std::io::{self, Write};

use serde_json::{Map, Value as Json};
use vmstate_core::stream::{Reader, Source};

use super::analyze::{struct_json, to_python_json};
use super::error::{SectionName, StreamError, StreamResult};
use super::generic::{decode_json, DecodeLimits};
use super::pyjson;
use super::ram::{RamBody, RamPayload};
use super::reader::{Item, Payload, SectionKind, SectionTargets};
use super::vmdesc::VmDesc;

/// Writes the `-d state` JSON of a stream to `W` as its records are read.
///
/// Give it to [`StreamReader::next_item_into`](super::StreamReader::next_item_into)
/// as the section target (FULL sections are decoded straight into JSON)
/// and pass it every item ([`add`](Self::add): RAM sections give their
/// block sizes), then [`finish`](Self::finish). The output equals
/// [`Analyzer`](super::Analyzer)'s, with two refusals where
/// analyze-migration.py would overwrite output already written: a section
/// id used by two sections (other than one RAM section's parts), and a
/// subsection named like another key of its struct.
///
/// ```
/// use vmstate_migration::{JsonAnalyzer, ReadOptions, StreamReader};
///
/// let bytes = [0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3, 0x00];
/// let mut r = StreamReader::from_slice(&bytes, None, ReadOptions::default()).unwrap();
/// let mut a = JsonAnalyzer::new(Vec::new(), None, Default::default());
/// while let Some(item) = r.next_item_into(&mut a).unwrap() {
///     a.add(&item).unwrap();
/// }
/// assert_eq!(a.finish().unwrap(), b"{}\n");
/// ```
pub struct JsonAnalyzer<W: Write> {
    out: W,
    buf: Vec<u8>,
    desc: Option<VmDesc>,
    limits: DecodeLimits,
    free_left: u64,
    /// Top-level keys written so far.
    keys: u64,
    /// Section ids written (or pending).
    ids: HashSet<u32>,
    /// RAM entries not written yet: their block sizes can still grow.
    ram: Vec<(u32, String, Map<String, Json>)>,
    /// The error writing the output met, if any.
    out_err: Option<io::Error>,
    /// `analyze-migration.py -m`: RAM entries list every page.
    memory: bool,
    /// The RAM entry being written (memory mode): its section id and the
    /// number of pages listed so far.
    open_ram: Option<(u32, u64)>,
    /// The block of the last page record (`CONTINUE` pages are in it).
    last_block: Option<String>,
    /// The page keys listed (a page sent twice cannot be overwritten in
    /// output already written).
    pages_seen: HashSet<(String, u64)>,
    /// The target page size (memory mode).
    page_size: u64,
    /// Whether the output ends with a newline (the script's printed
    /// output does; its `-x` files do not).
    final_newline: bool,
}

impl<W: Write> JsonAnalyzer<W> {
    /// An analysis writing to `out`, decoding FULL sections with `desc`
    /// (which may come later: [`set_vmdesc`](Self::set_vmdesc)).
    pub fn new(out: W, desc: Option<VmDesc>, limits: DecodeLimits) -> Self {
        JsonAnalyzer {
            out,
            buf: b"{".to_vec(),
            desc,
            limits,
            free_left: limits.max_free_nodes,
            keys: 0,
            ids: HashSet::new(),
            ram: Vec::new(),
            out_err: None,
            memory: false,
            open_ram: None,
            last_block: None,
            pages_seen: HashSet::new(),
            page_size: desc_page_size(None),
            final_newline: true,
        }
    }

    /// Ends the output without a newline, as `analyze-migration.py -x`
    /// writes `state.json`.
    pub fn without_final_newline(mut self) -> Self {
        self.final_newline = false;
        self
    }

    /// `analyze-migration.py -m`: each RAM entry also lists every page
    /// (`"memory": {"pc.ram (0x0000000000001000)": "00 01 …"}`, or `Filled
    /// with 0x00` for a zero page), written as the pages arrive; read the
    /// stream with [`ReadOptions::keep_ram_pages`](super::ReadOptions).
    /// `page_size` is the target page size (the reader's
    /// [`page_size`](super::StreamReader::page_size)). A page sent twice is
    /// refused (the script would overwrite its earlier line).
    pub fn with_memory(mut self, page_size: u64) -> Self {
        self.memory = true;
        self.page_size = desc_page_size(Some(page_size));
        self
    }

    /// Sets the description FULL sections are decoded with.
    pub fn set_vmdesc(&mut self, desc: VmDesc) {
        self.desc = Some(desc);
    }

    /// The error writing the output met, if an error came from there (a
    /// closed pipe, a full disk) rather than from the stream.
    pub fn take_output_error(&mut self) -> Option<io::Error> {
        self.out_err.take()
    }

    /// Adds a record: RAM sections give their block sizes; a FULL section
    /// decoded as a value tree ([`Payload::Vmsd`]) is written from it.
    pub fn add(&mut self, item: &Item) -> StreamResult<()> {
        if self.memory {
            return self.add_with_memory(item);
        }
        match item {
            Item::Section(s) => match &s.payload {
                Payload::Ram(p) => {
                    if s.kind == SectionKind::Start {
                        self.claim(s.section_id, s.offset)?;
                        let key = format!("{} ({})", s.idstr, s.section_id);
                        self.ram.push((s.section_id, key, Map::new()));
                    }
                    self.ram_sizes(s.section_id, p, s.offset)
                }
                Payload::Vmsd(v) => {
                    self.claim(s.section_id, s.offset)?;
                    self.write_ram()?;
                    let text = to_python_json(&struct_json(&v.value));
                    self.entry_key(&s.idstr, s.section_id);
                    self.buf
                        .extend_from_slice(text.trim_end().replace('\n', "\n    ").as_bytes());
                    self.emit()
                }
                Payload::Loaded => Ok(()),
            },
            Item::RamContinued(c) => self.ram_sizes(c.section_id, &c.payload, c.offset),
            _ => Ok(()),
        }
    }

    fn add_with_memory(&mut self, item: &Item) -> StreamResult<()> {
        let (id, payload, at, start) = match item {
            Item::Section(s) => match &s.payload {
                Payload::Ram(p) => (s.section_id, p, s.offset, s.kind == SectionKind::Start),
                Payload::Vmsd(_) | Payload::Loaded => {
                    self.close_ram()?;
                    self.memory = false;
                    let r = self.add(item);
                    self.memory = true;
                    return r;
                }
            },
            Item::RamContinued(c) => (c.section_id, &c.payload, c.offset, false),
            _ => return Ok(()),
        };
        if start {
            self.close_ram()?;
            self.claim(id, at)?;
            let mut sizes = Map::new();
            for rec in &payload.records {
                if let RamBody::MemSize(blocks) = &rec.body {
                    for b in blocks {
                        sizes.insert(
                            b.name.clone(),
                            Json::String(format!("0x{:016x}", b.used_length)),
                        );
                    }
                }
            }
            self.entry_key("ram", id);
            self.buf.push(b'{');
            pyjson::key(&mut self.buf, 0, 2, "section sizes");
            let text = to_python_json(&Json::Object(sizes));
            self.buf
                .extend_from_slice(text.trim_end().replace('\n', "\n        ").as_bytes());
            pyjson::key(&mut self.buf, 1, 2, "memory");
            self.buf.push(b'{');
            self.open_ram = Some((id, 0));
        } else if self.open_ram.map(|o| o.0) != Some(id) {
            return Err(StreamError::invalid(
                "RAM records of a section whose analysis was closed by another section",
                at,
            ));
        }
        for (i, rec) in payload.records.iter().enumerate() {
            if let Some(b) = &rec.block {
                self.last_block = Some(b.clone());
            }
            let value = match &rec.body {
                RamBody::MemSize(_) if start && i == 0 => continue,
                RamBody::MemSize(_) => {
                    return Err(StreamError::invalid(
                        "a RAM block list after the section's analysis was written",
                        at,
                    ))
                }
                RamBody::Zero(fill) => format!("Filled with 0x{fill:02x}"),
                RamBody::Page(Some(data)) => super::analyze::hex_bytes(data),
                RamBody::Page(None) => {
                    return Err(StreamError::invalid(
                        "RAM pages were not kept (ReadOptions::keep_ram_pages)",
                        at,
                    ))
                }
                RamBody::Eos | RamBody::MultifdFlush => continue,
            };
            let block = self.last_block.clone().unwrap_or_default();
            let addr = rec.addr(self.page_size);
            if !self.pages_seen.insert((block.clone(), addr)) {
                return Err(StreamError::invalid(
                    format!(
                        "page {addr:#x} of `{block}` sent twice (its analysis is written already)"
                    ),
                    at,
                ));
            }
            let n = self.open_ram.map(|o| o.1).unwrap_or(0);
            pyjson::key(&mut self.buf, n, 3, &format!("{block} (0x{addr:016x})"));
            pyjson::string(&mut self.buf, &value);
            if let Some(o) = self.open_ram.as_mut() {
                o.1 += 1;
            }
            if self.buf.len() >= 64 * 1024 {
                self.emit()?;
            }
        }
        self.emit()
    }

    /// Closes the RAM entry being written (memory mode).
    fn close_ram(&mut self) -> StreamResult<()> {
        if let Some((_, n)) = self.open_ram.take() {
            pyjson::close(&mut self.buf, n, 2, b'}');
            pyjson::close(&mut self.buf, 2, 1, b'}');
        }
        Ok(())
    }

    /// Writes what is pending and the closing bracket; returns the output.
    pub fn finish(mut self) -> StreamResult<W> {
        self.close()?;
        Ok(self.out)
    }

    /// Writes what is pending and the closing bracket, and flushes (an
    /// error writing is then in [`take_output_error`](Self::take_output_error)).
    pub fn close(&mut self) -> StreamResult<()> {
        self.close_ram()?;
        self.write_ram()?;
        pyjson::close(&mut self.buf, self.keys, 0, b'}');
        if self.final_newline {
            self.buf.push(b'\n');
        }
        self.emit()?;
        if let Err(e) = self.out.flush() {
            return Err(output_failed(&mut self.out_err, e));
        }
        Ok(())
    }

    fn claim(&mut self, section_id: u32, at: u64) -> StreamResult<()> {
        if self.ids.insert(section_id) {
            Ok(())
        } else {
            Err(StreamError::invalid(
                format!(
                    "section id {section_id} was already used by an earlier section \
                     (its analysis is written already)"
                ),
                at,
            ))
        }
    }

    fn ram_sizes(&mut self, section_id: u32, p: &RamPayload, at: u64) -> StreamResult<()> {
        for rec in &p.records {
            let RamBody::MemSize(blocks) = &rec.body else {
                continue;
            };
            let Some((_, _, sizes)) = self.ram.iter_mut().find(|(id, _, _)| *id == section_id)
            else {
                return Err(StreamError::invalid(
                    "a RAM block list after the section's analysis was written",
                    at,
                ));
            };
            for b in blocks {
                sizes.insert(
                    b.name.clone(),
                    Json::String(format!("0x{:016x}", b.used_length)),
                );
            }
        }
        Ok(())
    }

    fn entry_key(&mut self, idstr: &str, section_id: u32) {
        pyjson::key(
            &mut self.buf,
            self.keys,
            1,
            &format!("{idstr} ({section_id})"),
        );
        self.keys += 1;
    }

    /// Writes the pending RAM entries (before the next FULL section's).
    fn write_ram(&mut self) -> StreamResult<()> {
        for (_, key, sizes) in std::mem::take(&mut self.ram) {
            pyjson::key(&mut self.buf, self.keys, 1, &key);
            self.keys += 1;
            let mut m = Map::new();
            m.insert("section sizes".into(), Json::Object(sizes));
            let text = to_python_json(&Json::Object(m));
            self.buf
                .extend_from_slice(text.trim_end().replace('\n', "\n    ").as_bytes());
        }
        self.emit()
    }

    fn emit(&mut self) -> StreamResult<()> {
        write_out(&mut self.out, &mut self.out_err, &mut self.buf)
    }
}

fn output_failed(slot: &mut Option<io::Error>, e: io::Error) -> StreamError {
    let msg = format!("writing the output failed: {e}");
    *slot = Some(e);
    StreamError::invalid(msg, 0)
}

fn write_out<W: Write>(
    out: &mut W,
    err: &mut Option<io::Error>,
    buf: &mut Vec<u8>,
) -> StreamResult<()> {
    let r = out.write_all(buf);
    buf.clear();
    r.map_err(|e| output_failed(err, e))
}

impl<S: Source, W: Write> SectionTargets<S> for JsonAnalyzer<W> {
    fn load_full(
        &mut self,
        name: &SectionName,
        _version: u32,
        r: &mut Reader<S>,
        end: &mut dyn FnMut(&mut Reader<S>) -> StreamResult<()>,
    ) -> StreamResult<bool> {
        let Some(desc) = self.desc.clone() else {
            return Ok(false);
        };
        let Some(sd) = desc.section(&name.idstr, name.instance_id) else {
            return Ok(false);
        };
        self.claim(name.section_id, r.offset())?;
        self.close_ram()?;
        self.write_ram()?;
        self.entry_key(&name.idstr, name.section_id);
        let JsonAnalyzer {
            out,
            buf,
            limits,
            free_left,
            out_err,
            ..
        } = self;
        let mut flush = |b: &mut Vec<u8>| write_out(out, out_err, b);
        decode_json(&sd.body, r, *limits, free_left, 1, buf, &mut flush)?;
        end(r)?;
        self.emit()?;
        Ok(true)
    }
}

/// A usable page size: a power of two from 1 KiB to 1 MiB, else 4096.
fn desc_page_size(p: Option<u64>) -> u64 {
    p.filter(|p| p.is_power_of_two() && (1024..=1 << 20).contains(p))
        .unwrap_or(4096)
}
