//! [`VmState`]: a type with a description and generated save/load code.

use crate::context::Context;
use crate::cpr::CprFields;
use crate::desc::Vmsd;
use crate::error::{Error, ErrorKind, Result, Segment};
use crate::stream::{Reader, Sink, Source, Writer};

/// Values up to this size load transactionally into a clone that then
/// replaces the value, rather than in place with a backup clone. Written
/// back whole, the value is stored with the widths its next clone reads;
/// in place, one-byte stores followed by a wider read of the same bytes
/// (the next load's backup) stall until the stores complete.
const SMALL_VALUE: usize = 16;

/// [`VmState::to_bytes`]'s least first allocation for a payload of no
/// static bound: most device payloads fit.
const FIRST_CAPACITY: usize = 256;

/// The most [`VmState::to_bytes`] allocates up front from a size hint: a
/// hint counts subsections that may not be sent.
const FIRST_CAPACITY_MAX: usize = 1 << 20;

/// A migratable type: a static description and the save/load code that
/// follows it. Implement it with `#[derive(VmState)]`.
///
/// [`save`](VmState::save) and [`load`](VmState::load) are the entry points
/// for a whole section payload; they add the description's name to error
/// paths. `load` is transactional.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `#[derive(VmState)]` struct",
    label = "subsections and nested descriptions need a type with `#[derive(VmState)]`"
)]
pub trait VmState: Sized {
    /// The description (QEMU's `VMStateDescription`).
    const VMSD: &'static Vmsd;

    /// `VMSD.name` as a constant (the derive sets it): a parent's load
    /// compares a subsection's name with it as a fixed-length compare.
    /// Left empty, subsections are found through the table instead.
    #[doc(hidden)]
    const NAME: &'static str = "";

    /// The CPR-only field kinds (`void_ptr`, `fd`) anywhere below this
    /// type: its fields, nested structs, array and queue elements,
    /// subsections. The derive computes it from the field types; save and
    /// load refuse them up front in a mode that does not allow them (see
    /// [`cpr`](crate::cpr)).
    const CPR_FIELDS: CprFields = CprFields::NONE;
    /// Wire bytes of the payload when it has a static size (the derive
    /// sets it for a struct that is one run of fixed-size fields at its
    /// current version, with no hooks or subsections); 0 otherwise. A
    /// parent saves such a subsection with its header in one append.
    #[doc(hidden)]
    const FIXED_PAYLOAD: usize = 0;

    /// Encodes a payload of static size into `b`
    /// ([`FIXED_PAYLOAD`](VmState::FIXED_PAYLOAD) bytes).
    #[doc(hidden)]
    #[inline]
    fn encode_fixed_payload(&self, b: &mut [u8]) {
        let _ = b;
    }

    /// The size in bytes of the largest payload a save at the current
    /// version writes, when the derive can bound it statically: fields of
    /// fixed wire size, subsections made of such fields, no save hooks,
    /// no CPR-only fields. 0 when it cannot. A buffer of this size always
    /// holds the payload, and [`save_to_slice`](VmState::save_to_slice)
    /// into it checks the length once for the whole payload.
    ///
    /// ```
    /// use vmstate_core::{Context, VmState};
    ///
    /// #[derive(VmState, Default)]
    /// #[vmstate(name = "kbd", version = 3)]
    /// struct Kbd {
    ///     status: u8,
    ///     mode: u8,
    ///     #[vmstate(subsection, needed = Self::outport_needed)]
    ///     outport: KbdOutport,
    /// }
    ///
    /// #[derive(VmState, Default)]
    /// #[vmstate(name = "kbd/outport", version = 1)]
    /// struct KbdOutport {
    ///     outport: u8,
    /// }
    ///
    /// impl Kbd {
    ///     fn outport_needed(&self) -> bool {
    ///         self.outport.outport != 0
    ///     }
    /// }
    ///
    /// // Two bytes, then at most the subsection: 05, the name's length,
    /// // "kbd/outport", its be32 version and its byte.
    /// assert_eq!(Kbd::MAX_PAYLOAD, 2 + (2 + 11 + 4 + 1));
    /// let mut buf = [0u8; Kbd::MAX_PAYLOAD];
    /// let n = Kbd::default().save_to_slice(&mut buf, &Context::new()).unwrap();
    /// assert_eq!(n, 2);
    /// ```
    const MAX_PAYLOAD: usize = 0;

    /// Encodes the payload at the current version into `b` when its size
    /// has a static bound that `b` holds, and returns its length; `None`
    /// otherwise. The derive generates it for a struct of fixed-size
    /// fields and subsections of static size, with no save hooks: one
    /// length check for the whole payload, whichever subsections are
    /// needed.
    #[doc(hidden)]
    #[inline]
    fn encode_bounded(&self, b: &mut [u8]) -> Option<usize> {
        let _ = b;
        None
    }

    /// Saves the payload at description version `version` (QEMU's
    /// `vmstate_save_state_v`): `pre_save`, the fields present at that
    /// version, the needed subsections, `post_save`. Errors carry the path
    /// below this type. Only `struct_version` fields save below the current
    /// version.
    fn save_state_v<W: Sink>(
        &mut self,
        w: &mut Writer<W>,
        version: u32,
        ctx: &Context,
    ) -> Result<()>;

    /// Saves the payload at the current version (nested structs, elements).
    fn save_state<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        self.save_state_v(w, Self::VMSD.version_id, ctx)
    }

    /// [`save_state_v`](VmState::save_state_v) that also reports what it
    /// writes to a [`Writer::recording`], for the vmdesc. The derive
    /// generates it next to the plain one, so ordinary saves never pay for
    /// recording; a hand-written impl that does not override it saves
    /// without records.
    #[doc(hidden)]
    fn save_state_v_recorded<W: Sink>(
        &mut self,
        w: &mut Writer<W>,
        version: u32,
        ctx: &Context,
    ) -> Result<()> {
        self.save_state_v(w, version, ctx)
    }

    /// Loads a payload saved at stream version `version`: version check,
    /// `pre_load`, fields, subsections, `post_load(version)`.
    ///
    /// **Not transactional**: on error `self` may be partly overwritten.
    /// Call [`load`](VmState::load) unless you restore it yourself.
    fn load_state_in_place<S: Source>(
        &mut self,
        r: &mut Reader<S>,
        version: u32,
        ctx: &Context,
    ) -> Result<()>;

    /// Loads the whole payload in place when nothing can fail once the
    /// first field is written: the version is the current one, the bytes
    /// are in memory, no bool meets `strict_bool`, and what follows is no
    /// subsection of this type (the derive implements it for one run of
    /// fields none of which peeks, with no hooks or subsections). `false`,
    /// with `self` and `r` untouched, when it does not apply; the ordinary
    /// load then runs.
    #[doc(hidden)]
    #[inline(always)]
    fn load_whole_or_nothing<S: Source>(
        &mut self,
        r: &mut Reader<S>,
        version: u32,
        ctx: &Context,
    ) -> bool {
        let _ = (r, version, ctx);
        false
    }

    /// Whether a stream writer should send this value's section at all
    /// (QEMU's `needed` on a top-level description: false drops the whole
    /// section). Set with the struct-level `needed = path`; always true
    /// otherwise. Subsections use the field-level `needed` instead.
    fn section_needed(&self) -> bool {
        true
    }

    /// Saves the payload (fields and subsections, no section header).
    /// Errors name the full path, starting with the description's name.
    #[inline]
    fn save<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        save_own_version(self, w, ctx).map_err(|e| e.within(Segment::Vmsd(Self::VMSD.name)))
    }

    /// Loads a payload saved at stream `version` (the section's version).
    ///
    /// Transactional: if anything (fields, checks, subsections, hooks)
    /// fails, `self` is put back to a clone taken before the load, so on
    /// error it holds exactly its old state. The cost is one `clone()` of
    /// the value per load, a `memcpy` for plain device state. (The clone is
    /// the backup, not the destination: the load writes `self` directly,
    /// and nothing is copied back on success. A value of 16 bytes or less
    /// loads into the clone instead, which then replaces `self`: that
    /// clone lives in registers. A payload that the derive can load whole
    /// or not at all, one run of integers, bools and byte buffers with no
    /// hooks or subsections, takes no clone when its bytes are in memory:
    /// every check runs before the first field is written.)
    #[inline]
    fn load<S: Source>(&mut self, r: &mut Reader<S>, version: u32, ctx: &Context) -> Result<()>
    where
        Self: Clone,
    {
        if self.load_whole_or_nothing(r, version, ctx) {
            return Ok(());
        }
        let res = if size_of::<Self>() <= SMALL_VALUE {
            let mut scratch = self.clone();
            scratch
                .load_state_in_place(r, version, ctx)
                .map(|()| *self = scratch)
        } else {
            let backup = self.clone();
            self.load_state_in_place(r, version, ctx)
                .inspect_err(|_| *self = backup)
        };
        res.map_err(|e| e.within(Segment::Vmsd(Self::VMSD.name)))
    }

    /// About how many bytes the payload of [`save`](VmState::save) takes:
    /// what [`to_bytes`](VmState::to_bytes) sizes its vector by, and
    /// nothing else relies on it. The derive adds up its fields'
    /// [`VmField::size_hint`](crate::VmField::size_hint) (a counted `Vec`
    /// by its length) and every subsection's, needed or not: the state
    /// before `pre_save`, without calling user code. The default is
    /// [`MAX_PAYLOAD`](VmState::MAX_PAYLOAD).
    #[inline]
    fn payload_size_hint(&self) -> usize {
        Self::MAX_PAYLOAD
    }

    /// Saves the payload into a new `Vec`, allocated once for a payload
    /// whose size has a static bound ([`MAX_PAYLOAD`](VmState::MAX_PAYLOAD)),
    /// else for [`payload_size_hint`](VmState::payload_size_hint) bytes (at
    /// least 256, at most 1 MiB, past which it doubles as it fills):
    /// growing from empty took twice the time of the save itself for a
    /// 356-byte device, and four regrowths from 256 bytes 1.7x for one
    /// of 2322 bytes.
    fn to_bytes(&mut self, ctx: &Context) -> Result<Vec<u8>> {
        let first = if Self::MAX_PAYLOAD != 0 {
            Self::MAX_PAYLOAD
        } else {
            self.payload_size_hint()
                .clamp(FIRST_CAPACITY, FIRST_CAPACITY_MAX)
        };
        let mut out = Vec::with_capacity(first);
        self.save(&mut Writer::new(&mut out), ctx)?;
        Ok(out)
    }

    /// Saves the payload into the start of `buf` (a `[u8; N]`, a slice of
    /// a larger buffer) and returns its length: the fastest save, through a
    /// [`SliceSink`](crate::stream::SliceSink). A payload that does not fit
    /// is an error at the offset of the first field that does not (an io
    /// error of kind `WriteZero`), with the bytes before it written. The
    /// bytes of `buf` past the payload are never written.
    ///
    /// A buffer of at least [`MAX_PAYLOAD`](VmState::MAX_PAYLOAD) bytes,
    /// when that is not 0, takes the payload with one length check in
    /// all.
    ///
    /// ```
    /// use vmstate_core::{Context, VmState};
    ///
    /// #[derive(VmState)]
    /// #[vmstate(name = "port92", version = 1)]
    /// struct Port92 {
    ///     outport: u8,
    /// }
    ///
    /// let mut buf = [0u8; 16];
    /// let n = Port92 { outport: 2 }.save_to_slice(&mut buf, &Context::new()).unwrap();
    /// assert_eq!(&buf[..n], [2]);
    /// ```
    #[inline]
    fn save_to_slice(&mut self, buf: &mut [u8], ctx: &Context) -> Result<usize> {
        // A payload whose size has a static bound, in a buffer that holds
        // the bound, is its encoding and nothing else; otherwise, or with
        // CPR fields to guard, the writer's way (to its error, if any).
        if Self::CPR_FIELDS.is_empty() {
            if let Some(n) = self.encode_bounded(buf) {
                return Ok(n);
            }
        }
        let mut w = Writer::new(crate::stream::SliceSink::new(buf));
        self.save(&mut w, ctx)?;
        Ok(w.get_ref().written())
    }

    /// Loads a payload from memory at the description's current version.
    /// Returns the number of bytes consumed.
    fn load_from_slice(&mut self, bytes: &[u8], ctx: &Context) -> Result<usize>
    where
        Self: Clone,
    {
        let mut r = Reader::from_slice(bytes);
        self.load(&mut r, Self::VMSD.version_id, ctx)?;
        Ok(bytes.len() - r.remaining().len())
    }

    /// Loads a whole section payload saved at stream `version`, and
    /// requires every byte of it to be read.
    ///
    /// A plain [`load`](VmState::load) stops where the description ends:
    /// subsections are optional on the wire, so a payload cut right before
    /// a subsection loads `Ok`, as in QEMU, and bytes after the end are
    /// left for the caller. When the payload's length is known (a section
    /// framed by a footer, a file), this catches both: leftover bytes are
    /// [`ErrorKind::TrailingBytes`] at the offset of the first one. Like
    /// `load`, it is transactional.
    ///
    /// ```
    /// use vmstate_core::{Context, ErrorKind, VmState};
    ///
    /// #[derive(VmState, Clone, Default)]
    /// #[vmstate(name = "port92", version = 1)]
    /// struct Port92 {
    ///     outport: u8,
    /// }
    ///
    /// let mut dev = Port92::default();
    /// dev.load_exact(&[0x02], 1, &Context::new()).unwrap();
    /// let err = dev.load_exact(&[0x03, 0xff], 1, &Context::new()).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::TrailingBytes { count: 1 }));
    /// assert_eq!((err.path().as_str(), err.offset()), ("port92", 1));
    /// assert_eq!(dev.outport, 0x02, "a failed load changes nothing");
    /// ```
    fn load_exact(&mut self, payload: &[u8], version: u32, ctx: &Context) -> Result<()>
    where
        Self: Clone,
    {
        let backup = self.clone();
        let mut r = Reader::from_slice(payload);
        let res = self
            .load_state_in_place(&mut r, version, ctx)
            .and_then(|()| match r.remaining().len() {
                0 => Ok(()),
                n => Err(Error::new(
                    ErrorKind::TrailingBytes { count: n as u64 },
                    r.offset(),
                )),
            });
        res.map_err(|e| {
            *self = backup;
            e.within(Segment::Vmsd(Self::VMSD.name))
        })
    }
}

/// Saves `v` at its description's own version; a recording writer also
/// records what it wrote (for QEMU's vmdesc: sections, and the elements of
/// queues and trees, which QEMU describes inside their field).
#[inline]
pub(crate) fn save_own_version<T: VmState, W: Sink>(
    v: &mut T,
    w: &mut Writer<W>,
    ctx: &Context,
) -> Result<()> {
    // A constant, so that the generated code's version gates fold away.
    let version = const { T::VMSD.version_id };
    if w.is_recording() {
        v.save_state_v_recorded(w, version, ctx)
    } else {
        v.save_state_v(w, version, ctx)
    }
}
