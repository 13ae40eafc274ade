use std::io::Write;
#[cfg(unix)]
use std::os::fd::BorrowedFd;

use super::sink::{IoSink, Sink};
#[cfg(unix)]
use crate::cpr::FdPassing;
use crate::desc::Vmsd;
#[cfg(unix)]
use crate::error::ErrorKind;
use crate::error::{Error, Result};
use crate::record::{Recorder, VmsdRecord};

/// A big-endian stream writer over a [`Sink`] that knows how many bytes it
/// has written.
///
/// Writing into a `Vec<u8>` (or `&mut Vec<u8>`) is the in-memory fast path:
/// each element is an inlined `extend_from_slice`, and the offset is the
/// vector's length, so nothing is counted per field. Any other
/// `std::io::Write` goes through [`Writer::from_write`]; for a pipe or
/// socket, give it a `std::io::BufWriter` so that fields do not become
/// syscalls.
///
/// ```
/// let mut out = Vec::new();
/// let mut w = vmstate_core::Writer::new(&mut out);
/// w.put_u16(0x0102).unwrap();
/// w.put_u8(3).unwrap();
/// assert_eq!(w.offset(), 3);
/// assert_eq!(out, [1, 2, 3]);
/// ```
pub struct Writer<W> {
    inner: W,
    /// The sink's position when this writer started: offsets count from it.
    start: u64,
    /// Set only by [`Writer::recording`]: what was written, for vmdesc.
    rec: RecSlot,
}

/// The recorder of a recording writer. Dropped out of line, so that
/// dropping a plain writer (every save) is one inlined test.
struct RecSlot(Option<Box<Recorder>>);

impl Drop for RecSlot {
    #[inline]
    fn drop(&mut self) {
        if let Some(r) = self.0.take() {
            drop_recorder(r);
        }
    }
}

#[cold]
#[inline(never)]
fn drop_recorder(r: Box<Recorder>) {
    drop(r);
}

impl<W: Write> Writer<IoSink<W>> {
    /// A writer over any `std::io::Write`, through a counting [`IoSink`].
    pub fn from_write(inner: W) -> Self {
        Writer::new(IoSink::new(inner))
    }
}

impl<W: Sink> Writer<W> {
    /// A writer over `inner`; offsets count from its current position.
    pub fn new(inner: W) -> Self {
        Writer {
            start: inner.position(),
            inner,
            rec: RecSlot(None),
        }
    }

    /// A writer that also records what each description wrote (field
    /// sizes, elements, subsections), for QEMU's vmdesc JSON. Get it with
    /// [`Writer::take_record`] after the save.
    pub fn recording(inner: W) -> Self {
        Writer {
            start: inner.position(),
            inner,
            rec: RecSlot(Some(Box::default())),
        }
    }

    /// Whether this writer records (see [`Writer::recording`]).
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.rec.0.is_some()
    }

    /// The record of the last complete save, if recording.
    pub fn take_record(&mut self) -> Option<VmsdRecord> {
        let rec = self.rec.0.take()?;
        self.rec.0 = Some(Box::default());
        rec.finish()
    }

    // Events from generated code; no-ops unless recording.

    #[doc(hidden)]
    #[inline]
    pub fn record_enter(&mut self, vmsd: &'static Vmsd, version: u32) {
        if let Some(r) = self.rec.0.as_deref_mut() {
            r.enter(vmsd, version);
        }
    }

    #[doc(hidden)]
    #[inline]
    pub fn record_field(&mut self, index: usize) {
        if let Some(r) = self.rec.0.as_deref_mut() {
            r.field(index, self.inner.position());
        }
    }

    #[doc(hidden)]
    #[inline]
    pub fn record_elem(&mut self) {
        if let Some(r) = self.rec.0.as_deref_mut() {
            r.elem(self.inner.position());
        }
    }

    #[doc(hidden)]
    #[inline]
    pub fn record_end(&mut self) {
        if let Some(r) = self.rec.0.as_deref_mut() {
            r.end(self.inner.position());
        }
    }

    /// Bytes written so far.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.inner.position().wrapping_sub(self.start)
    }

    /// The target back (not flushed).
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// The target.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The target, mutably (bytes written through it shift the offsets).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Flushes the target.
    pub fn flush(&mut self) -> Result<()> {
        match self.inner.flush() {
            Ok(()) => Ok(()),
            Err(e) => Err(self.io_error(e)),
        }
    }

    #[cold]
    fn io_error(&self, e: std::io::Error) -> Error {
        Error::io(e, self.offset())
    }

    /// Writes raw bytes.
    #[inline]
    pub fn put_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        match self.inner.put(bytes) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.io_error(e)),
        }
    }

    /// Writes the first `len` bytes of `buf` ([`Sink::put_head`]).
    #[doc(hidden)]
    #[inline]
    pub fn put_head(&mut self, buf: &[u8; super::HEAD], len: usize) -> Result<()> {
        match self.inner.put_head(buf, len) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.io_error(e)),
        }
    }

    /// Appends `n` bytes and returns them to be filled in place (every
    /// byte: what they hold before is unspecified), when the target is
    /// memory with room ([`Sink::grow`]); `None`, with nothing written,
    /// otherwise.
    #[inline]
    pub fn grow(&mut self, n: usize) -> Option<&mut [u8]> {
        self.inner.grow(n)
    }

    /// One `fd` field, in the sink's way ([`Sink::put_fd`]): the
    /// placeholder byte with the descriptor attached, or its number. `None`
    /// (no descriptor) is accepted only by placeholder sinks.
    #[cfg(unix)]
    pub fn put_fd(&mut self, fd: Option<BorrowedFd<'_>>) -> Result<()> {
        let at = self.offset();
        if fd.is_none() && W::FD_PASSING != FdPassing::Placeholder {
            return Err(Error::new(ErrorKind::FdEmpty, at));
        }
        self.inner.put_fd(fd).map_err(|e| Error::io(e, at))
    }

    /// The target's vector, when it is a `Vec<u8>` ([`Sink::as_vec`]).
    #[doc(hidden)]
    #[inline]
    pub fn as_vec(&mut self) -> Option<&mut Vec<u8>> {
        self.inner.as_vec()
    }

    /// Appends `bytes` if the target is memory ([`Sink::put_in_memory`]).
    #[doc(hidden)]
    #[inline]
    pub fn put_in_memory(&mut self, bytes: &[u8]) -> bool {
        self.inner.put_in_memory(bytes)
    }

    /// One byte.
    #[inline]
    pub fn put_u8(&mut self, v: u8) -> Result<()> {
        self.put_bytes(&[v])
    }
    /// be16.
    #[inline]
    pub fn put_u16(&mut self, v: u16) -> Result<()> {
        self.put_bytes(&v.to_be_bytes())
    }
    /// be32.
    #[inline]
    pub fn put_u32(&mut self, v: u32) -> Result<()> {
        self.put_bytes(&v.to_be_bytes())
    }
    /// be64.
    #[inline]
    pub fn put_u64(&mut self, v: u64) -> Result<()> {
        self.put_bytes(&v.to_be_bytes())
    }
    /// `n` zero bytes (QEMU's `unused_buffer`).
    pub fn put_zeros(&mut self, mut n: u64) -> Result<()> {
        const Z: [u8; 256] = [0; 256];
        while n > 0 {
            let k = n.min(Z.len() as u64) as usize;
            self.put_bytes(&Z[..k])?;
            n -= k as u64;
        }
        Ok(())
    }
}
