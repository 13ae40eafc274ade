//! Reading a whole stream record by record, from any `Read` (no `Seek`).

use std::collections::HashMap;
use std::io::Read;

use vmstate_core::stream::{IoSource, Reader, SliceSource, Source};

use super::error::{SectionName, StreamError, StreamErrorKind, StreamResult};
use super::generic::{self, DecodeLimits, Input};
use super::ram::{RamOptions, RamPayload};
use super::value::StructValue;
use super::vmdesc::{find_trailer, VmDesc};
use super::{
    FILE_MAGIC, FILE_VERSION, FILE_VERSION_COMPAT, VM_COMMAND, VM_CONFIGURATION, VM_EOF,
    VM_SECTION_END, VM_SECTION_FOOTER, VM_SECTION_FULL, VM_SECTION_PART, VM_SECTION_START,
    VM_SUBSECTION, VM_VMDESCRIPTION,
};

/// Whether sections end with a footer (`0x7e` + section id).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FooterMode {
    /// Decided by the first section; every later one must agree.
    #[default]
    Auto,
    /// Every section has a footer (QEMU's default since 2.4).
    Required,
    /// No section has one (`send-section-footer=off`, machines ≤ 2.3).
    Absent,
}

/// Options of a [`StreamReader`].
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Section footers.
    pub footers: FooterMode,
    /// The target page size for RAM records; `None`: the vmdesc's
    /// `page_size`, else 4096.
    pub page_size: Option<u64>,
    /// Keep RAM page contents (needed to write the stream again).
    pub keep_ram_pages: bool,
    /// Longest vmdesc JSON accepted.
    pub max_vmdesc_len: u64,
    /// Longest machine name in the configuration record.
    pub max_machine_name: u64,
    /// Bounds on each FULL section's payload.
    pub limits: DecodeLimits,
    /// Most RAM records in one [`Item`]: a longer RAM section comes as a
    /// [`Section`] with the first records, then [`Item::RamContinued`]
    /// pieces, so that memory does not grow with the section.
    pub ram_records_per_item: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            footers: FooterMode::Auto,
            page_size: None,
            keep_ram_pages: true,
            max_vmdesc_len: 64 << 20,
            max_machine_name: 4096,
            limits: DecodeLimits::default(),
            ram_records_per_item: 1024,
        }
    }
}

/// The four section record types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectionKind {
    /// `0x01`: first part of an iterative section, full header.
    Start,
    /// `0x02`: continuation, short header.
    Part,
    /// `0x03`: last part, short header.
    End,
    /// `0x04`: a whole VMSD section, full header.
    Full,
}

impl SectionKind {
    /// The record's type byte.
    pub fn byte(self) -> u8 {
        match self {
            SectionKind::Start => VM_SECTION_START,
            SectionKind::Part => VM_SECTION_PART,
            SectionKind::End => VM_SECTION_END,
            SectionKind::Full => VM_SECTION_FULL,
        }
    }

    /// `START`, `PART`, `END` or `FULL`.
    pub fn as_str(self) -> &'static str {
        match self {
            SectionKind::Start => "START",
            SectionKind::Part => "PART",
            SectionKind::End => "END",
            SectionKind::Full => "FULL",
        }
    }

    /// Whether the record has the full header (idstr, instance, version).
    pub fn has_full_header(self) -> bool {
        matches!(self, SectionKind::Start | SectionKind::Full)
    }
}

/// The configuration record (`0x07`) after the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configuration {
    /// Offset of the `0x07` byte.
    pub offset: u64,
    /// The machine type (`pc-i440fx-7.2`).
    pub machine: String,
    /// Its subsections, in stream order.
    pub subsections: Vec<ConfigSubsection>,
}

/// A subsection of the configuration record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigSubsection {
    /// Its name (`configuration/capabilities`).
    pub name: String,
    /// Its version.
    pub version: u32,
    /// Its contents.
    pub body: ConfigBody,
}

/// The contents of a configuration subsection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigBody {
    /// `configuration/target-page-bits`.
    TargetPageBits(u32),
    /// `configuration/capabilities`: the validated capabilities that are on.
    Capabilities(Vec<String>),
    /// `configuration/uuid`.
    Uuid([u8; 16]),
}

impl Configuration {
    /// Whether capability `name` is listed (`x-ignore-shared`).
    pub fn has_capability(&self, name: &str) -> bool {
        self.subsections.iter().any(|s| match &s.body {
            ConfigBody::Capabilities(c) => c.iter().any(|c| c == name),
            _ => false,
        })
    }
}

/// One section record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// START, PART, END or FULL.
    pub kind: SectionKind,
    /// Offset of the type byte.
    pub offset: u64,
    /// The section id.
    pub section_id: u32,
    /// The idstr (for PART/END, the START's).
    pub idstr: String,
    /// The instance id (for PART/END, the START's).
    pub instance_id: u32,
    /// The version (for PART/END, the START's).
    pub version_id: u32,
    /// Offset of the first payload byte.
    pub payload_offset: u64,
    /// Offset just past the payload (where the footer starts, if any).
    pub payload_end: u64,
    /// The payload.
    pub payload: Payload,
    /// Whether a footer followed the payload.
    pub footer: bool,
}

impl Section {
    /// The name used in errors.
    pub fn name(&self) -> SectionName {
        SectionName {
            idstr: self.idstr.clone(),
            instance_id: self.instance_id,
            section_id: self.section_id,
        }
    }

    /// Payload length in bytes.
    pub fn payload_len(&self) -> u64 {
        self.payload_end - self.payload_offset
    }

    /// The FULL section's decoded payload.
    pub fn vmsd(&self) -> Option<&VmsdPayload> {
        match &self.payload {
            Payload::Vmsd(v) => Some(v),
            Payload::Ram(_) | Payload::Loaded => None,
        }
    }
}

/// A section's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// A FULL (VMSD) section.
    Vmsd(VmsdPayload),
    /// A RAM START/PART/END section.
    Ram(RamPayload),
    /// A FULL section loaded straight from the stream into a registered
    /// value ([`StreamReader::next_item_into`]); its bytes are not kept.
    Loaded,
}

/// A FULL section's payload: its bytes and their decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmsdPayload {
    /// The bytes as they are in the stream (what the writer writes).
    pub bytes: Vec<u8>,
    /// The value tree the generic decoder made of them.
    pub value: StructValue,
}

/// A command record (`0x08`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// Offset of the `0x08` byte.
    pub offset: u64,
    /// The command number.
    pub cmd: u16,
    /// Its data.
    pub data: Vec<u8>,
}

/// More records of a RAM section than one [`Item`] holds
/// ([`ReadOptions::ram_records_per_item`]): the [`Section`] item came
/// first, with a payload that does not end in `EOS`; pieces follow until
/// one ends in `EOS` (and the footer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RamContinued {
    /// The section's id.
    pub section_id: u32,
    /// Offset of this piece's first record.
    pub offset: u64,
    /// Offset just past its last record.
    pub payload_end: u64,
    /// The records.
    pub payload: RamPayload,
    /// Whether a footer followed (only after the piece that ends in `EOS`).
    pub footer: bool,
}

/// The vmdesc trailer as it was in the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trailer {
    /// Offset of the `0x06` byte.
    pub offset: u64,
    /// The JSON bytes.
    pub json: Vec<u8>,
}

/// One record of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Item {
    /// The configuration record.
    Configuration(Configuration),
    /// A section.
    Section(Section),
    /// More records of the RAM section last returned.
    RamContinued(RamContinued),
    /// A command.
    Command(Command),
    /// `0x00`, end of device state.
    Eof {
        /// Its offset.
        offset: u64,
    },
    /// The vmdesc trailer.
    VmDesc(Trailer),
}

enum State {
    First,
    Sections,
    /// Inside a RAM section returned in pieces.
    InRam(SectionName),
    AfterEof,
    AfterTrailer,
    Done,
}

/// Reads a stream record by record: header, configuration, sections,
/// EOF, vmdesc trailer.
///
/// FULL sections are not framed: their end is found by decoding them with
/// the vmdesc (given to [`new`](Self::new), or found by
/// [`Stream::parse`]), or by loading them into registered values
/// ([`next_item_into`](Self::next_item_into)), then checking the footer
/// when the stream has footers. RAM sections are decoded by
/// [`RamPayload`].
///
/// ```
/// use vmstate_migration::{Item, ReadOptions, StreamReader};
///
/// let bytes = [0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3, 0x00];
/// let mut r = StreamReader::from_slice(&bytes, None, ReadOptions::default()).unwrap();
/// assert!(matches!(r.next_item().unwrap(), Some(Item::Eof { offset: 8 })));
/// assert!(r.next_item().unwrap().is_none());
/// ```
pub struct StreamReader<S> {
    r: Reader<S>,
    opts: ReadOptions,
    desc: Option<VmDesc>,
    state: State,
    footers: Option<bool>,
    open: HashMap<u32, (String, u32, u32)>,
    ignore_shared: bool,
    /// What is left of `opts.limits.max_free_nodes` for this stream.
    free_nodes: u64,
    /// The page size the configuration's `target-page-bits` gives.
    config_page_size: Option<u64>,
}

impl<'a> StreamReader<SliceSource<'a>> {
    /// A reader over a stream in memory. Reads the header.
    pub fn from_slice(
        bytes: &'a [u8],
        desc: Option<VmDesc>,
        opts: ReadOptions,
    ) -> StreamResult<Self> {
        Self::with_reader(Reader::from_slice(bytes), desc, opts)
    }
}

/// The source of a streaming dispatch: any `Read` behind one buffer, so
/// that the dynamic call happens once per buffer refill, not per field.
pub type DynSource<'r> = IoSource<&'r mut (dyn Read + 'r)>;

/// Values that FULL sections load into straight from the stream (see
/// [`StreamReader::next_item_into`]); implemented by
/// [`Dispatcher`](super::Dispatcher).
pub trait SectionTargets<S> {
    /// Loads the FULL section `name`, saved at `version`, from `r`
    /// (positioned at its first payload byte) into its registered value,
    /// then calls `end` (which checks the section's footer), and returns
    /// `true`. The load is one transaction with `end`: if either fails, the
    /// value keeps its old state. Returns `false`, reading nothing, when no
    /// value is registered for the section.
    fn load_full(
        &mut self,
        name: &SectionName,
        version: u32,
        r: &mut Reader<S>,
        end: &mut dyn FnMut(&mut Reader<S>) -> StreamResult<()>,
    ) -> StreamResult<bool>;
}

impl<R: Read> StreamReader<IoSource<R>> {
    /// A reader over any `Read`. Reads the header.
    pub fn new(inner: R, desc: Option<VmDesc>, opts: ReadOptions) -> StreamResult<Self> {
        Self::with_reader(Reader::new(inner), desc, opts)
    }
}

impl<S: Source> StreamReader<S> {
    /// A reader over a byte reader positioned at the stream's start. Reads
    /// the header (magic `QEVM`, version 3).
    pub fn with_reader(
        mut r: Reader<S>,
        desc: Option<VmDesc>,
        opts: ReadOptions,
    ) -> StreamResult<Self> {
        let magic = r.get_u32()?;
        if magic != FILE_MAGIC {
            return Err(StreamError::new(
                StreamErrorKind::BadMagic { found: magic },
                0,
            ));
        }
        let version = r.get_u32()?;
        if version != FILE_VERSION {
            let e = StreamError::new(StreamErrorKind::UnsupportedVersion { found: version }, 4);
            return Err(if version == FILE_VERSION_COMPAT {
                e.with_source(std::io::Error::other(
                    "SaveVM v2 format is obsolete and no longer supported",
                ))
            } else {
                e
            });
        }
        let footers = match opts.footers {
            FooterMode::Auto => None,
            FooterMode::Required => Some(true),
            FooterMode::Absent => Some(false),
        };
        Ok(StreamReader {
            r,
            free_nodes: opts.limits.max_free_nodes,
            opts,
            desc,
            state: State::First,
            footers,
            open: HashMap::new(),
            ignore_shared: false,
            config_page_size: None,
        })
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.r.offset()
    }

    /// The source the records are read from.
    pub fn source_mut(&mut self) -> &mut S {
        self.r.source_mut()
    }

    /// The type byte of the next record, not consumed (`None` at the end
    /// of input, or after the EOF record). A caller reading a pipe without
    /// the vmdesc learns here that a FULL section (`0x04`) comes next,
    /// whose end only the vmdesc at the stream's end can tell.
    pub fn peek_record(&mut self) -> StreamResult<Option<u8>> {
        if !matches!(self.state, State::First | State::Sections) {
            return Ok(None);
        }
        Ok(self.r.peek(1)?.first().copied())
    }

    /// The description used for FULL sections.
    pub fn vmdesc(&self) -> Option<&VmDesc> {
        self.desc.as_ref()
    }

    /// Sets the description used for FULL sections from now on.
    pub fn set_vmdesc(&mut self, desc: VmDesc) {
        self.desc = Some(desc);
    }

    /// Whether the stream has footers (`None` until the first section).
    pub fn footers(&self) -> Option<bool> {
        self.footers
    }

    /// The page size RAM records are decoded with: [`ReadOptions::page_size`],
    /// else the configuration's `target-page-bits`, else the vmdesc's, else
    /// 4096.
    pub fn page_size(&self) -> u64 {
        self.opts
            .page_size
            .or(self.config_page_size)
            .or(self.desc.as_ref().map(|d| d.page_size))
            .unwrap_or(4096)
    }

    /// The next record, or `None` after the last one.
    pub fn next_item(&mut self) -> StreamResult<Option<Item>> {
        self.next_item_with(None)
    }

    /// As [`next_item`](Self::next_item), but a FULL section that has a
    /// value in `targets` is loaded into it straight from the stream: its
    /// end is where that load stops, checked by the section footer when the
    /// stream has footers. No vmdesc is needed for such sections, so a
    /// stream can be loaded in one pass from a pipe or socket, where the
    /// vmdesc (at the very end) is not known yet. Their [`Section`] comes
    /// back with [`Payload::Loaded`]. Sections without a value are decoded
    /// with the vmdesc, if one was given, or are an error
    /// ([`StreamErrorKind::NoDescription`]).
    pub fn next_item_into(
        &mut self,
        targets: &mut dyn SectionTargets<S>,
    ) -> StreamResult<Option<Item>> {
        self.next_item_with(Some(targets))
    }

    fn next_item_with(
        &mut self,
        targets: Option<&mut dyn SectionTargets<S>>,
    ) -> StreamResult<Option<Item>> {
        match self.state {
            State::Done => Ok(None),
            State::AfterTrailer => {
                self.state = State::Done;
                let at = self.r.offset();
                if !self.r.peek(1)?.is_empty() {
                    return Err(StreamError::invalid(
                        "trailing bytes after the vmdesc trailer",
                        at,
                    ));
                }
                Ok(None)
            }
            State::AfterEof => {
                let at = self.r.offset();
                let next = self.r.peek(1)?.first().copied();
                match next {
                    None => {
                        self.state = State::Done;
                        Ok(None)
                    }
                    Some(VM_VMDESCRIPTION) => {
                        self.state = State::Done;
                        let t = self.read_trailer()?;
                        self.state = State::AfterTrailer;
                        Ok(Some(Item::VmDesc(t)))
                    }
                    Some(b) => {
                        self.state = State::Done;
                        Err(StreamError::invalid(
                            format!(
                                "after EOF expected the vmdesc trailer (0x06) or the end, found {b:#04x}"
                            ),
                            at,
                        ))
                    }
                }
            }
            State::InRam(ref name) => {
                let name = name.clone();
                self.state = State::Done;
                let offset = self.r.offset();
                let payload = self.read_ram_piece().map_err(|e| e.in_section(&name))?;
                let payload_end = self.r.offset();
                let footer = if payload.is_complete() {
                    self.state = State::Sections;
                    read_footer(&mut self.r, &mut self.footers, name.section_id)
                        .map_err(|e| e.in_section(&name))?
                } else {
                    self.state = State::InRam(name.clone());
                    false
                };
                Ok(Some(Item::RamContinued(RamContinued {
                    section_id: name.section_id,
                    offset,
                    payload_end,
                    payload,
                    footer,
                })))
            }
            State::First | State::Sections => {
                let first = matches!(self.state, State::First);
                self.state = State::Done; // until this record is read whole
                let item = self.read_record(first, targets)?;
                self.state = match &item {
                    Item::Eof { .. } => State::AfterEof,
                    Item::Section(s) => match &s.payload {
                        Payload::Ram(p) if !p.is_complete() => State::InRam(s.name()),
                        _ => State::Sections,
                    },
                    _ => State::Sections,
                };
                Ok(Some(item))
            }
        }
    }

    fn read_trailer(&mut self) -> StreamResult<Trailer> {
        let offset = self.r.offset();
        self.r.get_u8()?;
        let len = self.r.get_u32()?;
        if u64::from(len) > self.opts.max_vmdesc_len {
            return Err(StreamError::new(
                StreamErrorKind::TooLarge {
                    what: "vmdesc JSON",
                    found: len.into(),
                    max: self.opts.max_vmdesc_len,
                },
                offset + 1,
            ));
        }
        let limits = DecodeLimits {
            max_payload: self.opts.max_vmdesc_len,
            max_nodes: u64::MAX,
            max_free_nodes: 0,
        };
        let json = Input::new(&mut self.r, limits).bytes(len.into())?;
        Ok(Trailer { offset, json })
    }

    fn read_record(
        &mut self,
        first: bool,
        targets: Option<&mut dyn SectionTargets<S>>,
    ) -> StreamResult<Item> {
        let offset = self.r.offset();
        let ty = self.r.get_u8()?;
        match ty {
            VM_EOF => Ok(Item::Eof { offset }),
            VM_CONFIGURATION if first => {
                let c = self.read_configuration(offset)?;
                self.ignore_shared = c.has_capability("x-ignore-shared");
                // QEMU sends the target's page bits when they are not the
                // default: a stream read without its vmdesc needs them.
                self.config_page_size = c.subsections.iter().find_map(|s| match s.body {
                    ConfigBody::TargetPageBits(bits) => 1u64.checked_shl(bits),
                    _ => None,
                });
                Ok(Item::Configuration(c))
            }
            VM_CONFIGURATION => Err(StreamError::invalid(
                "configuration record (0x07) after the first section",
                offset,
            )),
            VM_SECTION_START | VM_SECTION_FULL => {
                let kind = if ty == VM_SECTION_START {
                    SectionKind::Start
                } else {
                    SectionKind::Full
                };
                let section_id = self.r.get_u32()?;
                let len = self.r.get_u8()?;
                let at = self.r.offset();
                let mut buf = [0u8; 255];
                let dst = buf.get_mut(..usize::from(len)).unwrap_or_default();
                self.r.get_bytes(dst)?;
                let idstr = String::from_utf8(dst.to_vec())
                    .map_err(|_| StreamError::invalid("section idstr is not UTF-8", at))?;
                let instance_id = self.r.get_u32()?;
                let version_id = self.r.get_u32()?;
                let name = SectionName {
                    idstr,
                    instance_id,
                    section_id,
                };
                self.read_section(kind, offset, name, version_id, targets)
                    .map(Item::Section)
            }
            VM_SECTION_PART | VM_SECTION_END => {
                let kind = if ty == VM_SECTION_PART {
                    SectionKind::Part
                } else {
                    SectionKind::End
                };
                let section_id = self.r.get_u32()?;
                let (idstr, instance_id, version_id) =
                    self.open.get(&section_id).cloned().ok_or_else(|| {
                        StreamError::new(
                            StreamErrorKind::UnknownSectionId { id: section_id },
                            offset + 1,
                        )
                    })?;
                let name = SectionName {
                    idstr,
                    instance_id,
                    section_id,
                };
                self.read_section(kind, offset, name, version_id, None)
                    .map(Item::Section)
            }
            VM_COMMAND => {
                let cmd = self.r.get_u16()?;
                let len = self.r.get_u16()?;
                if cmd == 7 {
                    return Err(StreamError::invalid(
                        "POSTCOPY PACKAGED command (an embedded stream) is not supported",
                        offset,
                    ));
                }
                let mut data = vec![0u8; usize::from(len)];
                self.r.get_bytes(&mut data)?;
                Ok(Item::Command(Command { offset, cmd, data }))
            }
            VM_SECTION_FOOTER => Err(StreamError::new(StreamErrorKind::UnexpectedFooter, offset)),
            other => Err(StreamError::new(
                StreamErrorKind::UnknownRecord { found: other },
                offset,
            )),
        }
    }

    fn read_section(
        &mut self,
        kind: SectionKind,
        offset: u64,
        name: SectionName,
        version_id: u32,
        targets: Option<&mut dyn SectionTargets<S>>,
    ) -> StreamResult<Section> {
        self.read_section_inner(kind, offset, &name, version_id, targets)
            .map_err(|e| e.in_section(&name))
    }

    fn read_section_inner(
        &mut self,
        kind: SectionKind,
        offset: u64,
        name: &SectionName,
        version_id: u32,
        targets: Option<&mut dyn SectionTargets<S>>,
    ) -> StreamResult<Section> {
        let payload_offset = self.r.offset();
        if let Some(t) = targets.filter(|_| kind == SectionKind::Full) {
            // The footer is checked inside the value's transaction: a load
            // that ends in the wrong place leaves the value as it was.
            let (mut payload_end, mut footer) = (payload_offset, false);
            let footers = &mut self.footers;
            let mut end = |r: &mut Reader<S>| {
                payload_end = r.offset();
                footer = read_footer(r, footers, name.section_id)?;
                Ok(())
            };
            if t.load_full(name, version_id, &mut self.r, &mut end)? {
                return Ok(Section {
                    kind,
                    offset,
                    section_id: name.section_id,
                    idstr: name.idstr.clone(),
                    instance_id: name.instance_id,
                    version_id,
                    payload_offset,
                    payload_end,
                    payload: Payload::Loaded,
                    footer,
                });
            }
        }
        let payload = if kind == SectionKind::Full {
            let desc = self
                .desc
                .as_ref()
                .and_then(|d| d.section(&name.idstr, name.instance_id))
                .ok_or_else(|| StreamError::new(StreamErrorKind::NoDescription, payload_offset))?;
            let (value, bytes) = generic::decode_within(
                &desc.body,
                &mut self.r,
                self.opts.limits,
                &mut self.free_nodes,
            )?;
            Payload::Vmsd(VmsdPayload { bytes, value })
        } else {
            if name.idstr != "ram" || name.instance_id != 0 {
                return Err(StreamError::invalid(
                    "iterative section of unknown format (only `ram` is decoded)",
                    payload_offset,
                ));
            }
            if version_id != 4 {
                return Err(StreamError::invalid(
                    format!("RAM section version {version_id} is not supported (expected 4)"),
                    offset,
                ));
            }
            if kind == SectionKind::Start {
                self.open.insert(
                    name.section_id,
                    (name.idstr.clone(), name.instance_id, version_id),
                );
            }
            let p = self.read_ram_piece()?;
            if !p.is_complete() {
                // The rest comes as `Item::RamContinued`.
                return Ok(Section {
                    kind,
                    offset,
                    section_id: name.section_id,
                    idstr: name.idstr.clone(),
                    instance_id: name.instance_id,
                    version_id,
                    payload_offset,
                    payload_end: self.r.offset(),
                    payload: Payload::Ram(p),
                    footer: false,
                });
            }
            Payload::Ram(p)
        };
        let payload_end = self.r.offset();
        let footer = read_footer(&mut self.r, &mut self.footers, name.section_id)?;
        Ok(Section {
            kind,
            offset,
            section_id: name.section_id,
            idstr: name.idstr.clone(),
            instance_id: name.instance_id,
            version_id,
            payload_offset,
            payload_end,
            payload,
            footer,
        })
    }

    fn read_ram_piece(&mut self) -> StreamResult<RamPayload> {
        let opts = RamOptions {
            page_size: self.page_size(),
            ignore_shared: self.ignore_shared,
            keep_pages: self.opts.keep_ram_pages,
        };
        RamPayload::decode_some(&mut self.r, &opts, self.opts.ram_records_per_item.max(1))
    }

    fn read_configuration(&mut self, offset: u64) -> StreamResult<Configuration> {
        let len = self.r.get_u32()?;
        if u64::from(len) > self.opts.max_machine_name {
            return Err(StreamError::new(
                StreamErrorKind::TooLarge {
                    what: "machine name",
                    found: len.into(),
                    max: self.opts.max_machine_name,
                },
                offset + 1,
            ));
        }
        let at = self.r.offset();
        let mut name = vec![0u8; len as usize];
        self.r.get_bytes(&mut name)?;
        let machine = String::from_utf8(name)
            .map_err(|_| StreamError::invalid("machine name is not UTF-8", at))?;
        let mut subsections = Vec::new();
        while self.r.peek(1)?.first() == Some(&VM_SUBSECTION) {
            let at = self.r.offset();
            self.r.get_u8()?;
            let len = self.r.get_u8()?;
            let mut buf = [0u8; 255];
            let dst = buf.get_mut(..usize::from(len)).unwrap_or_default();
            self.r.get_bytes(dst)?;
            let name = String::from_utf8_lossy(dst).into_owned();
            let version = self.r.get_u32()?;
            let body = match name.as_str() {
                "configuration/target-page-bits" => ConfigBody::TargetPageBits(self.r.get_u32()?),
                "configuration/uuid" => ConfigBody::Uuid(self.r.get_array()?),
                "configuration/capabilities" => {
                    let count = self.r.get_u32()?;
                    let mut caps = Vec::new();
                    for _ in 0..count {
                        let len = self.r.get_u8()?;
                        let at = self.r.offset();
                        let mut buf = [0u8; 255];
                        let dst = buf.get_mut(..usize::from(len)).unwrap_or_default();
                        self.r.get_bytes(dst)?;
                        caps.push(String::from_utf8(dst.to_vec()).map_err(|_| {
                            StreamError::invalid("capability name is not UTF-8", at)
                        })?);
                    }
                    ConfigBody::Capabilities(caps)
                }
                _ => {
                    return Err(StreamError::invalid(
                        format!("unknown configuration subsection `{name}`"),
                        at,
                    ))
                }
            };
            subsections.push(ConfigSubsection {
                name,
                version,
                body,
            });
        }
        Ok(Configuration {
            offset,
            machine,
            subsections,
        })
    }
}

/// Reads a section's footer (`0x7e`, be32 section id) when the stream has
/// footers; `footers` is `None` until the first section decides it.
fn read_footer<S: Source>(
    r: &mut Reader<S>,
    footers: &mut Option<bool>,
    section_id: u32,
) -> StreamResult<bool> {
    let at = r.offset();
    let next = r.peek(1)?.first().copied();
    let has = next == Some(VM_SECTION_FOOTER);
    let want = *footers.get_or_insert(has);
    match (want, has) {
        (true, true) => {
            r.get_u8()?;
            let id = r.get_u32()?;
            if id != section_id {
                return Err(StreamError::new(
                    StreamErrorKind::FooterMismatch {
                        expected: section_id,
                        found: id,
                    },
                    at,
                ));
            }
            Ok(true)
        }
        (true, false) => match next {
            Some(found) => Err(StreamError::new(
                StreamErrorKind::MissingFooter { found },
                at,
            )),
            None => Err(StreamError::new(
                StreamErrorKind::UnexpectedEof {
                    needed: 5,
                    available: 0,
                },
                at,
            )),
        },
        (false, true) => Err(StreamError::new(StreamErrorKind::UnexpectedFooter, at)),
        (false, false) => Ok(false),
    }
}

impl<S: Source> Iterator for StreamReader<S> {
    type Item = StreamResult<Item>;

    /// [`next_item`](StreamReader::next_item) as an iterator; it ends after
    /// the first error.
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_item() {
            Ok(Some(i)) => Some(Ok(i)),
            Ok(None) => None,
            Err(e) => {
                self.state = State::Done;
                Some(Err(e))
            }
        }
    }
}

/// A whole stream held in memory: its records, and the vmdesc they were
/// decoded with.
#[derive(Clone, Debug)]
pub struct Stream {
    /// Every record, in stream order.
    pub items: Vec<Item>,
    /// The parsed vmdesc trailer, when the stream has one.
    pub vmdesc: Option<VmDesc>,
}

/// Finds and parses the vmdesc trailer of a stream in memory (see
/// [`find_trailer`]). `Ok(None)` when there is none.
pub fn locate_vmdesc(bytes: &[u8], max_len: u64) -> StreamResult<Option<VmDesc>> {
    let start = bytes
        .len()
        .saturating_sub(usize::try_from(max_len.saturating_add(5)).unwrap_or(usize::MAX));
    let tail = bytes.get(start..).unwrap_or_default();
    let Some(p) = find_trailer(tail) else {
        return Ok(None);
    };
    let at = (start + p) as u64;
    let len = tail
        .get(p + 1..p + 5)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| StreamError::invalid("truncated vmdesc trailer", at))?;
    let json = tail
        .get(p + 5..)
        .and_then(|j| j.get(..len as usize))
        .ok_or_else(|| {
            StreamError::new(
                StreamErrorKind::UnexpectedEof {
                    needed: len.into(),
                    available: tail.len().saturating_sub(p + 5) as u64,
                },
                at + 5,
            )
        })?;
    VmDesc::parse(json, at + 5).map(Some)
}

impl Stream {
    /// Parses a whole stream in memory: finds the vmdesc trailer first (the
    /// stream is in memory, so its end can be read first), then reads every
    /// record with it.
    pub fn parse(bytes: &[u8], opts: ReadOptions) -> StreamResult<Stream> {
        let vmdesc = locate_vmdesc(bytes, opts.max_vmdesc_len)?;
        let mut r = StreamReader::from_slice(bytes, vmdesc, opts)?;
        let mut items: Vec<Item> = Vec::new();
        while let Some(item) = r.next_item()? {
            // The whole stream is kept anyway: a RAM section read in pieces
            // becomes one section again.
            if let Item::RamContinued(c) = item {
                if let Some(Item::Section(s)) = items.last_mut() {
                    if let Payload::Ram(p) = &mut s.payload {
                        p.records.extend(c.payload.records);
                        s.payload_end = c.payload_end;
                        s.footer = c.footer;
                        continue;
                    }
                }
                items.push(Item::RamContinued(c));
            } else {
                items.push(item);
            }
        }
        Ok(Stream {
            items,
            vmdesc: r.desc,
        })
    }

    /// The sections, in stream order.
    pub fn sections(&self) -> impl Iterator<Item = &Section> {
        self.items.iter().filter_map(|i| match i {
            Item::Section(s) => Some(s),
            _ => None,
        })
    }

    /// The FULL section `(idstr, instance_id)`.
    pub fn section(&self, idstr: &str, instance_id: u32) -> Option<&Section> {
        self.sections().find(|s| {
            s.kind == SectionKind::Full && s.idstr == idstr && s.instance_id == instance_id
        })
    }

    /// The FULL section `(idstr, instance_id)`, mutably.
    pub fn section_mut(&mut self, idstr: &str, instance_id: u32) -> Option<&mut Section> {
        self.items.iter_mut().find_map(|i| match i {
            Item::Section(s)
                if s.kind == SectionKind::Full
                    && s.idstr == idstr
                    && s.instance_id == instance_id =>
            {
                Some(s)
            }
            _ => None,
        })
    }

    /// The configuration record, if any.
    pub fn configuration(&self) -> Option<&Configuration> {
        self.items.iter().find_map(|i| match i {
            Item::Configuration(c) => Some(c),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_errors() {
        let e = StreamReader::from_slice(b"QEVX\0\0\0\x03", None, ReadOptions::default())
            .err()
            .unwrap();
        assert!(matches!(e.kind(), StreamErrorKind::BadMagic { .. }));
        let e = StreamReader::from_slice(b"QEVM\0\0\0\x02", None, ReadOptions::default())
            .err()
            .unwrap();
        assert!(e.to_string().contains("obsolete"));
        assert!(StreamReader::from_slice(b"QEV", None, ReadOptions::default()).is_err());
    }

    /// A vmdesc whose section is 4 million zero-byte elements, and a
    /// stream of `n` empty FULL sections it describes: a few hundred bytes
    /// that would decode into hundreds of megabytes of value tree.
    fn empty_elements_stream(n: u32) -> Vec<u8> {
        let mut s = b"QEVM\0\0\0\x03".to_vec();
        for id in 0..n {
            s.push(VM_SECTION_FULL);
            s.extend_from_slice(&id.to_be_bytes());
            s.extend_from_slice(&[1, b'd', 0, 0, 0, 0, 0, 0, 0, 1]);
        }
        s.push(VM_EOF);
        let json = br#"{"page_size": 4096, "devices": [{"name": "d", "instance_id": 0, "vmsd_name": "d", "version": 1, "fields": [{"name": "x", "array_len": 4000000, "type": "buffer", "size": 0}]}]}"#;
        s.push(VM_VMDESCRIPTION);
        s.extend_from_slice(&(json.len() as u32).to_be_bytes());
        s.extend_from_slice(json);
        s
    }

    #[test]
    fn elements_that_take_no_bytes_share_one_budget_per_stream() {
        let opts = ReadOptions {
            limits: DecodeLimits {
                max_free_nodes: 10_000,
                ..DecodeLimits::default()
            },
            ..ReadOptions::default()
        };
        let e = Stream::parse(&empty_elements_stream(3), opts.clone()).unwrap_err();
        assert!(
            matches!(e.kind(), StreamErrorKind::TooLarge { max: 10_000, .. }),
            "{e}"
        );
        // With the budget raised above one section's worth, the second
        // section finds it spent.
        let opts = ReadOptions {
            limits: DecodeLimits {
                max_free_nodes: 6_000_000,
                ..opts.limits
            },
            ..opts
        };
        let e = Stream::parse(&empty_elements_stream(3), opts).unwrap_err();
        assert!(
            matches!(e.kind(), StreamErrorKind::TooLarge { max, .. } if *max < 6_000_000),
            "{e}"
        );
        assert!(e.to_string().contains("d"), "{e}");
    }

    #[test]
    fn page_size_comes_from_the_configuration_without_a_vmdesc() {
        let mut s = b"QEVM\0\0\0\x03".to_vec();
        s.extend_from_slice(&[VM_CONFIGURATION, 0, 0, 0, 4]);
        s.extend_from_slice(b"virt");
        s.extend_from_slice(&[VM_SUBSECTION, 30]);
        s.extend_from_slice(b"configuration/target-page-bits");
        s.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 16, VM_EOF]);
        let mut r = StreamReader::from_slice(&s, None, ReadOptions::default()).unwrap();
        assert_eq!(r.page_size(), 4096);
        assert!(matches!(
            r.next_item().unwrap(),
            Some(Item::Configuration(_))
        ));
        assert_eq!(r.page_size(), 1 << 16);
        assert!(matches!(r.next_item().unwrap(), Some(Item::Eof { .. })));
    }

    /// Header, configuration with the x-ignore-shared capability (so the
    /// RAM block list carries memory-region addresses), a RAM START with
    /// footer, EOF.
    fn capability_stream() -> Vec<u8> {
        let mut s = b"QEVM\0\0\0\x03".to_vec();
        s.extend_from_slice(&[7, 0, 0, 0, 4]);
        s.extend_from_slice(b"none");
        s.extend_from_slice(&[5, 26]);
        s.extend_from_slice(b"configuration/capabilities");
        s.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 15]);
        s.extend_from_slice(b"x-ignore-shared");
        s.extend_from_slice(&[1, 0, 0, 0, 2, 3, b'r', b'a', b'm', 0, 0, 0, 0, 0, 0, 0, 4]);
        s.extend_from_slice(&(0x1000u64 | 4).to_be_bytes());
        s.extend_from_slice(&[1, b'b']);
        s.extend_from_slice(&0x1000u64.to_be_bytes());
        s.extend_from_slice(&0xfee0_0000u64.to_be_bytes());
        s.extend_from_slice(&0x10u64.to_be_bytes());
        s.extend_from_slice(&[0x7e, 0, 0, 0, 2, 0]);
        s
    }

    #[test]
    fn configuration_capabilities_and_ignore_shared_round_trip() {
        let s = capability_stream();
        let stream = Stream::parse(&s, ReadOptions::default()).unwrap();
        let c = stream.configuration().unwrap();
        assert_eq!(c.machine, "none");
        assert!(c.has_capability("x-ignore-shared"));
        let ram = stream.sections().next().unwrap();
        let Payload::Ram(p) = &ram.payload else {
            panic!("not RAM")
        };
        assert_eq!(p.blocks().next().unwrap().mr_addr, Some(0xfee0_0000));
        assert_eq!(stream.to_bytes().unwrap(), s);
    }

    #[test]
    fn footer_modes() {
        let s = capability_stream();
        let required = ReadOptions {
            footers: FooterMode::Required,
            ..ReadOptions::default()
        };
        assert!(Stream::parse(&s, required.clone()).is_ok());
        let absent = ReadOptions {
            footers: FooterMode::Absent,
            ..ReadOptions::default()
        };
        let e = Stream::parse(&s, absent).unwrap_err();
        assert!(matches!(e.kind(), StreamErrorKind::UnexpectedFooter));
        assert_eq!(e.section().unwrap().idstr, "ram");
        // A footer with the wrong id.
        let mut bad = s.clone();
        let n = bad.len();
        bad[n - 2] = 3;
        let e = Stream::parse(&bad, ReadOptions::default()).unwrap_err();
        assert!(matches!(
            e.kind(),
            StreamErrorKind::FooterMismatch {
                expected: 2,
                found: 3
            }
        ));
        // Required but missing: drop the footer.
        let mut nofooter = s[..n - 6].to_vec();
        nofooter.push(0);
        let e = Stream::parse(&nofooter, required).unwrap_err();
        assert!(matches!(
            e.kind(),
            StreamErrorKind::MissingFooter { found: 0 }
        ));
        assert!(Stream::parse(&nofooter, ReadOptions::default()).is_ok());
        // PART for an id nobody opened; an unknown record type.
        let mut part = s[..8].to_vec();
        part.extend_from_slice(&[2, 0, 0, 0, 9]);
        assert!(matches!(
            Stream::parse(&part, ReadOptions::default())
                .unwrap_err()
                .kind(),
            StreamErrorKind::UnknownSectionId { id: 9 }
        ));
        part.truncate(8);
        part.push(0x42);
        assert!(matches!(
            Stream::parse(&part, ReadOptions::default())
                .unwrap_err()
                .kind(),
            StreamErrorKind::UnknownRecord { found: 0x42 }
        ));
    }

    #[test]
    fn full_section_without_description_is_an_error() {
        let mut s = b"QEVM\0\0\0\x03".to_vec();
        s.extend_from_slice(&[4, 0, 0, 0, 9, 1, b'x', 0, 0, 0, 0, 0, 0, 0, 1, 0]);
        let mut r = StreamReader::from_slice(&s, None, ReadOptions::default()).unwrap();
        let e = r.next_item().unwrap_err();
        assert!(matches!(e.kind(), StreamErrorKind::NoDescription));
        assert_eq!(e.section().unwrap().idstr, "x");
        assert_eq!(e.offset(), 23);
    }
}
