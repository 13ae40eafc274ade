//! Writing a whole stream: header, configuration, sections, EOF, vmdesc.

use std::io::Write;

use vmstate_core::stream::{IoSink, Writer};

use super::error::{StreamError, StreamResult};
use super::reader::{
    ConfigBody, Configuration, Item, Payload, RamContinued, Section, SectionKind, Stream,
};
use super::{
    FILE_MAGIC, FILE_VERSION, VM_COMMAND, VM_CONFIGURATION, VM_EOF, VM_SECTION_FOOTER,
    VM_SUBSECTION, VM_VMDESCRIPTION,
};

/// Which sections get a footer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FooterPolicy {
    /// A section read from a stream keeps what it had; new sections (from
    /// [`StreamWriter::full_section`]) get one.
    #[default]
    AsRead,
    /// Every section (QEMU's default).
    Always,
    /// None (old-style streams, `send-section-footer=off`).
    Never,
}

/// Options of a [`StreamWriter`].
#[derive(Clone, Copy, Debug)]
pub struct WriteOptions {
    /// Section footers.
    pub footers: FooterPolicy,
    /// Write the configuration record (`send-configuration`); when false,
    /// [`StreamWriter::item`] drops it.
    pub configuration: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            footers: FooterPolicy::AsRead,
            configuration: true,
        }
    }
}

impl WriteOptions {
    /// An old-style stream: no footers, no configuration.
    pub fn old_style() -> Self {
        WriteOptions {
            footers: FooterPolicy::Never,
            configuration: false,
        }
    }
}

/// Writes a stream record by record.
///
/// ```
/// use vmstate_migration::{StreamWriter, WriteOptions};
///
/// let mut out = Vec::new();
/// let mut w = StreamWriter::new(&mut out, WriteOptions::default());
/// w.header().unwrap();
/// w.full_section(27, "port92", 0, 1, &[0x00]).unwrap();
/// w.eof().unwrap();
/// assert_eq!(
///     out,
///     b"QEVM\0\0\0\x03\x04\0\0\0\x1b\x06port92\0\0\0\0\0\0\0\x01\x00\x7e\0\0\0\x1b\x00"
/// );
/// ```
pub struct StreamWriter<W> {
    w: Writer<IoSink<W>>,
    opts: WriteOptions,
}

impl<W: Write> StreamWriter<W> {
    /// A writer over `inner`. For files and pipes wrap it in a `BufWriter`.
    pub fn new(inner: W, opts: WriteOptions) -> Self {
        StreamWriter {
            w: Writer::from_write(inner),
            opts,
        }
    }

    /// Bytes written so far.
    pub fn offset(&self) -> u64 {
        self.w.offset()
    }

    /// Flushes the target.
    pub fn flush(&mut self) -> StreamResult<()> {
        Ok(self.w.flush()?)
    }

    /// The target back (not flushed).
    pub fn into_inner(self) -> W {
        self.w.into_inner().into_inner()
    }

    /// Magic `QEVM` and version 3.
    pub fn header(&mut self) -> StreamResult<()> {
        self.w.put_u32(FILE_MAGIC)?;
        self.w.put_u32(FILE_VERSION)?;
        Ok(())
    }

    /// The configuration record: machine name and subsections.
    pub fn configuration(&mut self, c: &Configuration) -> StreamResult<()> {
        let at = self.w.offset();
        let len = u32::try_from(c.machine.len())
            .map_err(|_| StreamError::mismatch("machine name longer than 4 GiB", at))?;
        self.w.put_u8(VM_CONFIGURATION)?;
        self.w.put_u32(len)?;
        self.w.put_bytes(c.machine.as_bytes())?;
        for s in &c.subsections {
            self.w.put_u8(VM_SUBSECTION)?;
            self.name8(&s.name)?;
            self.w.put_u32(s.version)?;
            match &s.body {
                ConfigBody::TargetPageBits(b) => self.w.put_u32(*b)?,
                ConfigBody::Uuid(u) => self.w.put_bytes(u)?,
                ConfigBody::Capabilities(caps) => {
                    let n = u32::try_from(caps.len()).map_err(|_| {
                        StreamError::mismatch("too many capabilities", self.w.offset())
                    })?;
                    self.w.put_u32(n)?;
                    for c in caps {
                        self.name8(c)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn name8(&mut self, s: &str) -> StreamResult<()> {
        let at = self.w.offset();
        let len = u8::try_from(s.len())
            .map_err(|_| StreamError::mismatch(format!("name `{s}` longer than 255 bytes"), at))?;
        self.w.put_u8(len)?;
        self.w.put_bytes(s.as_bytes())?;
        Ok(())
    }

    fn full_header(
        &mut self,
        kind: SectionKind,
        section_id: u32,
        idstr: &str,
        instance_id: u32,
        version_id: u32,
    ) -> StreamResult<()> {
        self.w.put_u8(kind.byte())?;
        self.w.put_u32(section_id)?;
        self.name8(idstr)?;
        self.w.put_u32(instance_id)?;
        self.w.put_u32(version_id)?;
        Ok(())
    }

    fn footer(&mut self, section_id: u32) -> StreamResult<()> {
        self.w.put_u8(VM_SECTION_FOOTER)?;
        self.w.put_u32(section_id)?;
        Ok(())
    }

    /// A FULL section: header, the payload bytes as given, and a footer
    /// unless the policy is [`FooterPolicy::Never`].
    pub fn full_section(
        &mut self,
        section_id: u32,
        idstr: &str,
        instance_id: u32,
        version_id: u32,
        payload: &[u8],
    ) -> StreamResult<()> {
        self.full_header(
            SectionKind::Full,
            section_id,
            idstr,
            instance_id,
            version_id,
        )?;
        self.w.put_bytes(payload)?;
        if self.opts.footers != FooterPolicy::Never {
            self.footer(section_id)?;
        }
        Ok(())
    }

    /// A section read from a stream: a FULL section's payload bytes as
    /// they are in [`VmsdPayload::bytes`](super::VmsdPayload::bytes), or a
    /// RAM section re-encoded from its records.
    pub fn section(&mut self, s: &Section) -> StreamResult<()> {
        let r = self.section_inner(s);
        r.map_err(|e| e.in_section(&s.name()))
    }

    fn section_inner(&mut self, s: &Section) -> StreamResult<()> {
        if s.payload == Payload::Loaded {
            return Err(StreamError::invalid(
                "the section was loaded into a value and its bytes were not kept; \
                 save the value again instead",
                self.w.offset(),
            ));
        }
        if s.kind.has_full_header() {
            self.full_header(s.kind, s.section_id, &s.idstr, s.instance_id, s.version_id)?;
        } else {
            self.w.put_u8(s.kind.byte())?;
            self.w.put_u32(s.section_id)?;
        }
        match &s.payload {
            Payload::Vmsd(v) => self.w.put_bytes(&v.bytes)?,
            Payload::Loaded => {}
            Payload::Ram(ram) => {
                let mut buf = Vec::new();
                ram.encode(&mut buf)
                    .map_err(|e| e.rebase(self.w.offset()))?;
                self.w.put_bytes(&buf)?;
            }
        }
        let complete = match &s.payload {
            Payload::Ram(ram) => ram.is_complete(),
            _ => true,
        };
        self.end_section(s.section_id, s.footer, complete)
    }

    /// The footer, by the policy, after a section's last payload byte.
    fn end_section(&mut self, section_id: u32, as_read: bool, complete: bool) -> StreamResult<()> {
        let footer = match self.opts.footers {
            FooterPolicy::AsRead => as_read,
            FooterPolicy::Always => complete,
            FooterPolicy::Never => false,
        };
        if footer {
            self.footer(section_id)?;
        }
        Ok(())
    }

    /// Writes bytes as they are: a record (or part of one) copied from
    /// another stream.
    pub fn raw(&mut self, bytes: &[u8]) -> StreamResult<()> {
        Ok(self.w.put_bytes(bytes)?)
    }

    /// Writes a further piece of a RAM section (see
    /// [`RamContinued`]).
    pub fn ram_continued(&mut self, c: &RamContinued) -> StreamResult<()> {
        let mut buf = Vec::new();
        c.payload
            .encode(&mut buf)
            .map_err(|e| e.rebase(self.w.offset()))?;
        self.w.put_bytes(&buf)?;
        self.end_section(c.section_id, c.footer, c.payload.is_complete())
    }

    /// A command record.
    pub fn command(&mut self, cmd: u16, data: &[u8]) -> StreamResult<()> {
        let at = self.w.offset();
        let len = u16::try_from(data.len())
            .map_err(|_| StreamError::mismatch("command data longer than 65535 bytes", at))?;
        self.w.put_u8(VM_COMMAND)?;
        self.w.put_u16(cmd)?;
        self.w.put_u16(len)?;
        self.w.put_bytes(data)?;
        Ok(())
    }

    /// `0x00`, end of device state.
    pub fn eof(&mut self) -> StreamResult<()> {
        Ok(self.w.put_u8(VM_EOF)?)
    }

    /// The vmdesc trailer: `0x06`, be32 length, the JSON bytes.
    pub fn vmdesc(&mut self, json: &[u8]) -> StreamResult<()> {
        let at = self.w.offset();
        let len = u32::try_from(json.len())
            .map_err(|_| StreamError::mismatch("vmdesc JSON longer than 4 GiB", at))?;
        self.w.put_u8(VM_VMDESCRIPTION)?;
        self.w.put_u32(len)?;
        self.w.put_bytes(json)?;
        Ok(())
    }

    /// Any record read from a stream (the configuration only if
    /// [`WriteOptions::configuration`]).
    pub fn item(&mut self, item: &Item) -> StreamResult<()> {
        match item {
            Item::Configuration(c) => {
                if self.opts.configuration {
                    self.configuration(c)?;
                }
                Ok(())
            }
            Item::Section(s) => self.section(s),
            Item::RamContinued(c) => self.ram_continued(c),
            Item::Command(c) => self.command(c.cmd, &c.data),
            Item::Eof { .. } => self.eof(),
            Item::VmDesc(t) => self.vmdesc(&t.json),
        }
    }
}

impl Stream {
    /// Writes the stream: header, then every record.
    pub fn write_to<W: Write>(&self, out: W, opts: WriteOptions) -> StreamResult<W> {
        let mut w = StreamWriter::new(out, opts);
        w.header()?;
        for item in &self.items {
            w.item(item)?;
        }
        w.flush()?;
        Ok(w.into_inner())
    }

    /// The stream's bytes, as read (with [`WriteOptions::default`]).
    pub fn to_bytes(&self) -> StreamResult<Vec<u8>> {
        self.write_to(Vec::new(), WriteOptions::default())
    }
}
