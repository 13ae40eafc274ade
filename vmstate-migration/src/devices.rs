//! Streams of derived device state: a [`DeviceStreamWriter`] that writes
//! FULL sections straight from [`VmState`] values with the vmdesc trailer
//! generated from what each save wrote, and a [`Dispatcher`] that loads a
//! stream's FULL sections into registered values by `(idstr, instance)`.

use std::io::{Read, Write};

use serde_json::{json, Value as Json};

use super::error::{SectionName, StreamError, StreamResult};
use super::reader::{
    Configuration, DynSource, Item, Payload, ReadOptions, SectionKind, SectionTargets, Stream,
    StreamReader,
};
use super::vmdesc::VmDesc;
use super::writer::{StreamWriter, WriteOptions};
use crate::record;
use vmstate_core::context::Context;
use vmstate_core::stream::{Reader, Source, Writer};
use vmstate_core::VmState;

/// Writes a device-state stream from derived values: header, optional
/// configuration, one FULL section per value (skipped when its
/// [`section_needed`](VmState::section_needed) says no, as QEMU does), EOF,
/// and a vmdesc trailer in QEMU 7.2's shape built from the saves' records,
/// so that QEMU's `analyze-migration.py` and [`Stream::parse`] can read it.
///
/// ```
/// use vmstate_migration::{DeviceStreamWriter, ReadOptions, Stream, WriteOptions};
/// use vmstate_core::{Context, VmState};
///
/// #[derive(VmState, Clone, Default, PartialEq, Debug)]
/// #[vmstate(name = "port92", version = 1)]
/// struct Port92 {
///     outport: u8,
/// }
///
/// # fn main() -> Result<(), vmstate_migration::StreamError> {
/// let mut w = DeviceStreamWriter::new(Vec::new(), WriteOptions::default(), Context::new())?;
/// w.configuration("pc-i440fx-7.2")?;
/// w.section("port92", 0, &mut Port92 { outport: 2 })?;
/// let bytes = w.finish(4096)?;
///
/// let stream = Stream::parse(&bytes, ReadOptions::default())?;
/// let s = stream.section("port92", 0).unwrap();
/// assert_eq!(s.vmsd().unwrap().bytes, [2]);
/// # Ok(())
/// # }
/// ```
pub struct DeviceStreamWriter<W: Write> {
    w: StreamWriter<W>,
    ctx: Context,
    devices: Vec<Json>,
    next_id: u32,
    buf: Vec<u8>,
}

impl<W: Write> DeviceStreamWriter<W> {
    /// Starts a stream on `inner`: writes the header.
    pub fn new(inner: W, opts: WriteOptions, ctx: Context) -> StreamResult<Self> {
        let mut w = StreamWriter::new(inner, opts);
        w.header()?;
        Ok(DeviceStreamWriter {
            w,
            ctx,
            devices: Vec::new(),
            next_id: 0,
            buf: Vec::new(),
        })
    }

    /// The configuration record naming the machine type (QEMU checks it
    /// against its own).
    pub fn configuration(&mut self, machine: &str) -> StreamResult<()> {
        self.w.configuration(&Configuration {
            offset: 0,
            machine: machine.to_owned(),
            subsections: Vec::new(),
        })
    }

    /// Saves `value` as the FULL section `(idstr, instance_id)` with the
    /// next section id (ids count sections in order, from 0). Returns
    /// whether it was written.
    pub fn section<T: VmState>(
        &mut self,
        idstr: &str,
        instance_id: u32,
        value: &mut T,
    ) -> StreamResult<bool> {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        self.section_with_id(id, idstr, instance_id, value)
    }

    /// As [`section`](Self::section), with an explicit section id (QEMU's
    /// are registration-order counters).
    pub fn section_with_id<T: VmState>(
        &mut self,
        section_id: u32,
        idstr: &str,
        instance_id: u32,
        value: &mut T,
    ) -> StreamResult<bool> {
        if !value.section_needed() {
            return Ok(false);
        }
        let name = SectionName {
            idstr: idstr.to_owned(),
            instance_id,
            section_id,
        };
        self.buf.clear();
        let mut rw = Writer::recording(&mut self.buf);
        value
            .save(&mut rw, &self.ctx)
            .map_err(|e| StreamError::from(e).in_section(&name))?;
        let rec = rw.take_record();
        let version = T::VMSD.version_id;
        self.w
            .full_section(section_id, idstr, instance_id, version, &self.buf)
            .map_err(|e| e.in_section(&name))?;
        if let Some(rec) = rec {
            self.devices
                .push(record::section_value(idstr, instance_id, &rec));
        }
        Ok(true)
    }

    /// Writes EOF and the vmdesc trailer (`page_size` is the target page
    /// size QEMU records, 4096 on x86), and returns the target.
    pub fn finish(mut self, page_size: u64) -> StreamResult<W> {
        self.w.eof()?;
        let desc = json!({ "page_size": page_size, "devices": self.devices });
        self.w.vmdesc(record::to_qemu_json(&desc).as_bytes())?;
        self.w.flush()?;
        Ok(self.w.into_inner())
    }
}

/// Loads a value from one section (implemented for every `VmState +
/// Clone`: a transactional load). One call per section, so dynamic
/// dispatch costs nothing here.
pub trait LoadSection {
    /// Loads `payload`, saved at stream version `version`; the payload must
    /// be consumed exactly.
    fn load_section(
        &mut self,
        payload: &[u8],
        version: u32,
        ctx: &Context,
    ) -> vmstate_core::Result<()>;

    /// Loads the section from a live stream positioned at its payload,
    /// reading what the description reads, then runs `end` (the caller's
    /// check of the section's end); if either fails the value keeps its
    /// old state.
    fn load_streaming<'r>(
        &mut self,
        r: &mut Reader<DynSource<'r>>,
        version: u32,
        ctx: &Context,
        end: &mut dyn FnMut(&mut Reader<DynSource<'r>>) -> StreamResult<()>,
    ) -> StreamResult<()>;
}

/// [`VmState::load`] with a check of where the load ended inside the same
/// transaction: a backup clone is put back if the load or `end` fails.
fn load_then<T, S, E>(
    v: &mut T,
    r: &mut Reader<S>,
    version: u32,
    ctx: &Context,
    end: impl FnOnce(&mut Reader<S>) -> Result<(), E>,
) -> Result<(), E>
where
    T: VmState + Clone,
    S: Source,
    E: From<vmstate_core::Error>,
{
    let backup = v.clone();
    let res = v
        .load_state_in_place(r, version, ctx)
        .map_err(|e| E::from(e.within(vmstate_core::Segment::Vmsd(T::VMSD.name))))
        .and_then(|()| end(r));
    if res.is_err() {
        *v = backup;
    }
    res
}

impl<T: VmState + Clone> LoadSection for T {
    fn load_streaming<'r>(
        &mut self,
        r: &mut Reader<DynSource<'r>>,
        version: u32,
        ctx: &Context,
        end: &mut dyn FnMut(&mut Reader<DynSource<'r>>) -> StreamResult<()>,
    ) -> StreamResult<()> {
        load_then(self, r, version, ctx, end)
    }

    fn load_section(
        &mut self,
        payload: &[u8],
        version: u32,
        ctx: &Context,
    ) -> vmstate_core::Result<()> {
        let mut r = vmstate_core::Reader::from_slice(payload);
        load_then(self, &mut r, version, ctx, |r| match r.remaining() {
            [] => Ok(()),
            _ => Err(vmstate_core::Error::new(
                vmstate_core::ErrorKind::Invalid {
                    message: "the section payload is longer than the description reads",
                },
                r.offset(),
            )),
        })
    }
}

/// Routes the FULL sections of a parsed [`Stream`] to registered values by
/// `(idstr, instance_id)`, as QEMU's `find_se` does.
///
/// ```
/// # use vmstate_migration::{DeviceStreamWriter, Dispatcher, ReadOptions, Stream, WriteOptions};
/// # use vmstate_core::{Context, VmState};
/// # #[derive(VmState, Clone, Default, PartialEq, Debug)]
/// # #[vmstate(name = "port92", version = 1)]
/// # struct Port92 { outport: u8 }
/// # fn main() -> Result<(), vmstate_migration::StreamError> {
/// # let mut w = DeviceStreamWriter::new(Vec::new(), WriteOptions::default(), Context::new())?;
/// # w.section("port92", 0, &mut Port92 { outport: 2 })?;
/// # let bytes = w.finish(4096)?;
/// let stream = Stream::parse(&bytes, ReadOptions::default())?;
/// let mut port92 = Port92::default();
/// let mut d = Dispatcher::new(Context::new());
/// d.register("port92", 0, &mut port92);
/// let report = d.load(&stream)?;
/// assert_eq!((report.loaded, report.unknown.len()), (1, 0));
/// drop(d);
/// assert_eq!(port92.outport, 2);
/// # Ok(())
/// # }
/// ```
pub struct Dispatcher<'a> {
    ctx: Context,
    /// `(idstr, instance, value, loaded)`.
    targets: Vec<(String, u32, &'a mut dyn LoadSection, bool)>,
}

impl<'r> SectionTargets<DynSource<'r>> for Dispatcher<'_> {
    fn load_full(
        &mut self,
        name: &SectionName,
        version: u32,
        r: &mut Reader<DynSource<'r>>,
        end: &mut dyn FnMut(&mut Reader<DynSource<'r>>) -> StreamResult<()>,
    ) -> StreamResult<bool> {
        let Some(i) = self.find(&name.idstr, name.instance_id) else {
            return Ok(false);
        };
        let ctx = &self.ctx;
        let Some((_, _, target, seen)) = self.targets.get_mut(i) else {
            return Ok(false);
        };
        target.load_streaming(r, version, ctx, end)?;
        *seen = true;
        Ok(true)
    }
}

/// What a [`Dispatcher::load`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Sections loaded into registered values.
    pub loaded: usize,
    /// FULL sections no value was registered for (QEMU would fail with
    /// "Unknown section or instance"; the caller decides).
    pub unknown: Vec<SectionName>,
    /// Registered values no section arrived for (QEMU cannot tell either);
    /// their `section_id` is 0.
    pub missing: Vec<SectionName>,
}

impl<'a> Dispatcher<'a> {
    /// An empty dispatcher loading with `ctx`.
    pub fn new(ctx: Context) -> Self {
        Dispatcher {
            ctx,
            targets: Vec::new(),
        }
    }

    /// Loads the section `(idstr, instance_id)` into `target`.
    pub fn register(&mut self, idstr: &str, instance_id: u32, target: &'a mut dyn LoadSection) {
        self.targets
            .push((idstr.to_owned(), instance_id, target, false));
    }

    fn find(&self, idstr: &str, instance_id: u32) -> Option<usize> {
        self.targets
            .iter()
            .position(|(id, inst, _, _)| id == idstr && *inst == instance_id)
    }

    /// The registered values no section was loaded into, and clears the
    /// marks for the next load.
    fn take_missing(&mut self) -> Vec<SectionName> {
        let mut missing = Vec::new();
        for (idstr, instance_id, _, seen) in &mut self.targets {
            if !std::mem::take(seen) {
                missing.push(SectionName {
                    idstr: idstr.clone(),
                    instance_id: *instance_id,
                    section_id: 0,
                });
            }
        }
        missing
    }

    /// Loads a whole stream in one pass from any `Read` (a pipe, a socket):
    /// each FULL section with a registered value is loaded into it straight
    /// from the stream ([`StreamReader::next_item_into`]), with its footer
    /// and section id checked, so no vmdesc is needed. A FULL section
    /// without a value is decoded with `desc` when given (and listed in
    /// [`DispatchReport::unknown`]); without `desc` it is an error, as
    /// QEMU fails on a section it does not know. Every record, loaded
    /// sections included, is then passed to `on_item` (RAM sections,
    /// commands, the configuration, EOF and the trailer are the caller's);
    /// an error from it stops the load.
    ///
    /// A failed load stops there with an error naming the section, field
    /// path and stream offset; values loaded before it keep their new
    /// state, the failing one its old state.
    ///
    /// ```
    /// # use vmstate_migration::{DeviceStreamWriter, Dispatcher, ReadOptions, WriteOptions};
    /// # use vmstate_core::{Context, VmState};
    /// # #[derive(VmState, Clone, Default, PartialEq, Debug)]
    /// # #[vmstate(name = "port92", version = 1)]
    /// # struct Port92 { outport: u8 }
    /// # fn main() -> Result<(), vmstate_migration::StreamError> {
    /// # let mut w = DeviceStreamWriter::new(Vec::new(), WriteOptions::default(), Context::new())?;
    /// # w.section("port92", 0, &mut Port92 { outport: 2 })?;
    /// # let bytes = w.finish(4096)?;
    /// let socket = std::io::Cursor::new(bytes); // any `Read`
    /// let mut port92 = Port92::default();
    /// let mut d = Dispatcher::new(Context::new());
    /// d.register("port92", 0, &mut port92);
    /// let report = d.load_read(socket, None, ReadOptions::default(), |_item| Ok(()))?;
    /// assert_eq!((report.loaded, report.unknown.len()), (1, 0));
    /// drop(d);
    /// assert_eq!(port92.outport, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn load_read<R: Read>(
        &mut self,
        mut input: R,
        desc: Option<VmDesc>,
        opts: ReadOptions,
        mut on_item: impl FnMut(Item) -> StreamResult<()>,
    ) -> StreamResult<DispatchReport> {
        let input: &mut dyn Read = &mut input;
        let mut r = StreamReader::with_reader(Reader::new(input), desc, opts)?;
        let mut report = DispatchReport::default();
        for t in &mut self.targets {
            t.3 = false;
        }
        while let Some(item) = r.next_item_into(self)? {
            if let Item::Section(s) = &item {
                match s.payload {
                    Payload::Loaded => report.loaded += 1,
                    Payload::Vmsd(_) => report.unknown.push(s.name()),
                    Payload::Ram(_) => {}
                }
            }
            on_item(item)?;
        }
        report.missing = self.take_missing();
        Ok(report)
    }

    /// Loads every FULL section that has a registered target. A failed
    /// load stops there with an error naming the section; targets loaded
    /// before it keep their new state, the failing one its old state.
    pub fn load(&mut self, stream: &Stream) -> StreamResult<DispatchReport> {
        let mut report = DispatchReport::default();
        for t in &mut self.targets {
            t.3 = false;
        }
        for s in stream.sections() {
            if s.kind != SectionKind::Full {
                continue;
            }
            let Payload::Vmsd(v) = &s.payload else {
                continue;
            };
            let hit = self.find(&s.idstr, s.instance_id);
            match hit.and_then(|i| self.targets.get_mut(i)) {
                Some((_, _, target, seen)) => {
                    target
                        .load_section(&v.bytes, s.version_id, &self.ctx)
                        .map_err(|e| StreamError::from(e).rebase(s.payload_offset))
                        .map_err(|e| e.in_section(&s.name()))?;
                    *seen = true;
                    report.loaded += 1;
                }
                None => report.unknown.push(s.name()),
            }
        }
        report.missing = self.take_missing();
        Ok(report)
    }
}
