//! QEMU's CPR state: what the `cpr` channel of a `cpr-transfer` carries
//! (QEMU 10.0), before the main migration stream.
//!
//! The format, version 1 (all integers big-endian):
//!
//! * be32 magic `0x51435052` ("QCPR"), be32 version 1;
//! * the `CprState` description (v1) saved raw: no section header, footer,
//!   EOF or vmdesc. Its one field, `fds`, is a QLIST of `cpr fd` elements
//!   (loaded at version 1): per element `01`, then
//!   * `namelen`, be32: the name's length including its NUL;
//!   * `name`: that many bytes (an allocated buffer), NUL-terminated;
//!   * `id`, be32 (0 for every user in QEMU 10.0);
//!   * `fd`: one placeholder byte (`0x20`) with the descriptor as
//!     `SCM_RIGHTS`; the byte and its descriptor go out in one message;
//! * `00` ends the list. QEMU 10.0's description has no subsections.
//!
//! QEMU lists the newest registration first (it inserts at the head) and
//! appends in stream order on load. QEMU after 10.0 adds `cpr-exec`: the
//! CPR state goes into a memfd that survives `exec`, and `VMSTATE_FD`
//! writes the descriptor's number (be32) there. [`CprState::save`] and
//! [`CprState::load`] write and read either encoding, chosen by the
//! context's mode and the channel; the description itself is 10.0's (later
//! QEMUs may add subsections, which this description would refuse as
//! unknown; not checked against a later QEMU here).
//!
//! Without a descriptor-carrying channel (a file, a capture), the state is
//! read and written with [`Placeholders`]: [`CprState::parse`] and
//! [`CprState::to_placeholder_bytes`] keep the placeholder bytes and their
//! offsets, so a capture re-encodes byte for byte.
//!
//! # Standing in for either QEMU 10.0 process
//!
//! Tested against QEMU 10.0.2 (`tests/qemu_cpr_transfer.rs`):
//!
//! * **Old QEMU to us.** `migrate-set-parameters mode=cpr-transfer`, then
//!   `migrate` with a `main` and a `cpr` channel (both Unix sockets we
//!   listen on). QEMU connects the `cpr` channel, writes the state, sends
//!   each fd with its placeholder byte, shuts down its write half and waits
//!   for the socket to hang up: read the state with
//!   `vmstate_core::fdchan::UnixFdSource` and [`CprState::load`], then drop
//!   the socket. Only then does QEMU connect the main channel. Every RAM
//!   block's memfd arrives; the fixed blocks' memfds have the block's used
//!   length, the resizeable ROM blobs (`/rom@etc/...`) their maximum length.
//! * **Us to a new QEMU.** Start it with `-incoming
//!   '{"channel-type":"cpr","addr":{...unix...}}' -incoming defer`: before
//!   creating devices or monitors it listens on that socket and reads the
//!   state. What it requires of the writer:
//!   * magic and version 1, then the list; each entry's name NUL-terminated
//!     with `namelen` counting the NUL, id 0;
//!   * each fd on its own placeholder byte (`UnixFdSink` does this);
//!   * **EOF after the state**: QEMU peeks for a subsection after the list's
//!     end byte and waits until the write half is shut down (without it,
//!     QEMU never gets to its monitor);
//!   * a memfd at least as large as the memory backend it stands for
//!     (smaller: QEMU exits with "backing store size ... is too small");
//!     larger is accepted;
//!   * an entry left out is no error: QEMU allocates that block itself.
//!
//!   QEMU maps the memfds it was given (they show in its `/proc/PID/maps`
//!   under our names), keeps the socket open until `migrate-incoming`, and
//!   then closes it; the main stream then completes the migration, and guest
//!   RAM is what the library put in its memfd.

use std::os::fd::OwnedFd;

use vmstate_core::stream::{Placeholders, Sink, SliceSource, Source};
use vmstate_core::{Context, Error, ErrorKind, MigMode, Reader, Result, VmState, Writer};

/// The CPR state's magic, "QCPR".
pub const CPR_MAGIC: u32 = 0x5143_5052;
/// The CPR state version QEMU 10.0 writes and reads.
pub const CPR_VERSION: u32 = 1;

/// One entry of the CPR state (QEMU's `CprFd`): a descriptor and the name
/// and id it is registered under.
#[derive(VmState, Debug, Default)]
#[vmstate(name = "cpr fd", version = 1, minimum_version = 1)]
pub struct CprFd {
    /// Bytes in `name`, its NUL included.
    pub namelen: u32,
    /// The name, NUL-terminated: a memory backend's id (`ram0`) or a RAM
    /// block's idstr (`pc.bios`).
    #[vmstate(vbuffer = namelen)]
    pub name: Vec<u8>,
    /// A second key for names used more than once (0 in QEMU 10.0).
    pub id: i32,
    /// The descriptor; `None` when read from a channel that carries
    /// placeholders only.
    #[vmstate(fd)]
    pub fd: Option<OwnedFd>,
}

impl CprFd {
    /// An entry for `name` (the NUL is added).
    pub fn new(name: &str, id: i32, fd: Option<OwnedFd>) -> Self {
        let mut bytes = Vec::with_capacity(name.len() + 1);
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0);
        CprFd {
            namelen: bytes.len() as u32,
            name: bytes,
            id,
            fd,
        }
    }

    /// The name without its NUL (lossy UTF-8).
    pub fn name(&self) -> String {
        let bytes = self.name.strip_suffix(&[0]).unwrap_or(&self.name);
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// The CPR state (QEMU's `CprState`): every descriptor the new process
/// takes over.
#[derive(VmState, Debug, Default)]
#[vmstate(name = "CprState", version = 1, minimum_version = 1)]
pub struct CprState {
    /// The entries in stream order.
    #[vmstate(qlist, version = 1)]
    pub fds: Vec<CprFd>,
}

/// Whether `bytes` start like a CPR state ("QCPR").
pub fn is_cpr_state(bytes: &[u8]) -> bool {
    bytes.starts_with(&CPR_MAGIC.to_be_bytes())
}

impl CprState {
    /// The entry registered as `name` (without NUL) and `id`.
    pub fn find(&self, name: &str, id: i32) -> Option<&CprFd> {
        self.fds.iter().find(|e| e.id == id && e.name() == name)
    }

    /// Writes magic, version and the state. The context's mode must allow
    /// `fd` fields on this sink (`cpr-transfer` with a
    /// `vmstate_core::fdchan::UnixFdSink` (feature `fd`) or
    /// [`Placeholders`]; `cpr-exec` with an `ExecFdSink`); it is checked before anything is
    /// written. Flush the writer afterwards; over a socket, QEMU's reader
    /// also wants the write half shut down (it reads to EOF).
    pub fn save<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        // Refuse before the header too, as the fields' own guard would.
        vmstate_core::__private::cpr_guard_save::<Self, W>(ctx, w.offset())
            .map_err(|e| e.within(vmstate_core::Segment::Vmsd(Self::VMSD.name)))?;
        w.put_u32(CPR_MAGIC)?;
        w.put_u32(CPR_VERSION)?;
        VmState::save(self, w, ctx)
    }

    /// Reads magic, version and the state, then checks that no descriptor
    /// arrived that no entry took.
    pub fn load<S: Source>(r: &mut Reader<S>, ctx: &Context) -> Result<Self> {
        let at = r.offset();
        if r.get_u32()? != CPR_MAGIC {
            return Err(Error::new(
                ErrorKind::Invalid {
                    message: "not a CPR state: expected magic 0x51435052 (QCPR)",
                },
                at,
            ));
        }
        let at = r.offset();
        let version = r.get_u32()?;
        if version != CPR_VERSION {
            return Err(Error::new(
                ErrorKind::Invalid {
                    message: "unsupported CPR state version: expected 1",
                },
                at,
            ));
        }
        let mut state = CprState::default();
        state
            .load_state_in_place(r, 1, ctx)
            .map_err(|e| e.within(vmstate_core::Segment::Vmsd(Self::VMSD.name)))?;
        r.finish_fds()?;
        Ok(state)
    }

    /// Decodes a CPR state kept without its descriptors (a file, a
    /// capture): every `fd` is `None`. Returns the state, the offsets of
    /// the placeholder bytes, and the bytes used.
    pub fn parse(bytes: &[u8]) -> Result<(CprState, Vec<u64>, usize)> {
        let ctx = Context::new().with_mode(MigMode::CprTransfer);
        let mut r = Reader::with_source(Placeholders::new(SliceSource::new(bytes)));
        let state = CprState::load(&mut r, &ctx)?;
        let used = r.offset() as usize;
        Ok((state, r.into_source().offsets().to_vec(), used))
    }

    /// Encodes the state with placeholder bytes only (no descriptors
    /// travel): the bytes and the placeholders' offsets.
    pub fn to_placeholder_bytes(&mut self) -> Result<(Vec<u8>, Vec<u64>)> {
        let ctx = Context::new().with_mode(MigMode::CprTransfer);
        let mut w = Writer::new(Placeholders::new(Vec::new()));
        self.save(&mut w, &ctx)?;
        let p = w.into_inner();
        let offsets = p.offsets().to_vec();
        Ok((p.into_inner(), offsets))
    }
}

/// What a CPR state file holds, for listings: each entry with its offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CprListing {
    /// The format version.
    pub version: u32,
    /// Bytes the state takes.
    pub len: u64,
    /// The entries in stream order.
    pub entries: Vec<CprEntry>,
}

/// One entry of a [`CprListing`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CprEntry {
    /// Offset of the entry's `01` marker.
    pub offset: u64,
    /// The name without its NUL (lossy UTF-8).
    pub name: String,
    /// `namelen` as in the stream (NUL included).
    pub namelen: u32,
    /// The id.
    pub id: i32,
    /// Offset of the placeholder byte the descriptor rode on.
    pub fd_offset: u64,
}

impl CprListing {
    /// Decodes a CPR state kept without descriptors (see
    /// [`CprState::parse`]).
    pub fn parse(bytes: &[u8]) -> Result<CprListing> {
        let (state, offsets, used) = CprState::parse(bytes)?;
        let mut entries = Vec::with_capacity(state.fds.len());
        // Header, then per entry: marker, namelen, name, id, placeholder.
        let mut at = 8u64;
        for (e, fd_offset) in state.fds.iter().zip(offsets) {
            entries.push(CprEntry {
                offset: at,
                name: e.name(),
                namelen: e.namelen,
                id: e.id,
                fd_offset,
            });
            at = fd_offset + 1;
        }
        Ok(CprListing {
            version: CPR_VERSION,
            len: used as u64,
            entries,
        })
    }

    /// The listing as JSON in the style of QEMU's `analyze-migration.py`
    /// (hex integers as strings); a descriptor shows as its placeholder.
    pub fn to_json(&self) -> serde_json::Value {
        let fds: Vec<serde_json::Value> = self
            .entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "namelen": format!("{:#010x}", e.namelen),
                    "name": e.name,
                    "id": format!("{:#010x}", e.id as u32),
                    "fd": format!("placeholder at {:#x} (SCM_RIGHTS)", e.fd_offset),
                })
            })
            .collect();
        serde_json::json!({
            "magic": "QCPR",
            "version": self.version,
            "CprState": { "fds": fds },
        })
    }
}
