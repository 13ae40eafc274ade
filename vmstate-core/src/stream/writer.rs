use std::io::Write;

use crate::desc::Vmsd;
use crate::error::{Error, Result};
use crate::record::{Recorder, VmsdRecord};

/// A big-endian stream writer over any `std::io::Write` that tracks how
/// many bytes it has written.
///
/// Writing into a `Vec<u8>` (or `&mut Vec<u8>`) is the in-memory fast path:
/// each element is an inlined `extend_from_slice`. For a pipe or socket,
/// wrap it in a `std::io::BufWriter` so that fields do not become syscalls.
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
    pos: u64,
    /// Set only by [`Writer::recording`]: what was written, for vmdesc.
    rec: Option<Box<Recorder>>,
}

impl<W: Write> Writer<W> {
    /// A writer over `inner`.
    pub fn new(inner: W) -> Self {
        Writer {
            inner,
            pos: 0,
            rec: None,
        }
    }

    /// A writer that also records what each description wrote (field
    /// sizes, elements, subsections), for QEMU's vmdesc JSON. Get it with
    /// [`Writer::take_record`] after the save.
    pub fn recording(inner: W) -> Self {
        Writer {
            inner,
            pos: 0,
            rec: Some(Box::default()),
        }
    }

    /// Whether this writer records (see [`Writer::recording`]).
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.rec.is_some()
    }

    /// The record of the last complete save, if recording.
    pub fn take_record(&mut self) -> Option<VmsdRecord> {
        let rec = self.rec.take()?;
        self.rec = Some(Box::default());
        rec.finish()
    }

    // Events from generated code; no-ops unless recording.

    #[doc(hidden)]
    #[inline]
    pub fn record_enter(&mut self, vmsd: &'static Vmsd, version: u32) {
        if let Some(r) = self.rec.as_deref_mut() {
            r.enter(vmsd, version);
        }
    }

    #[doc(hidden)]
    #[inline]
    pub fn record_subsection(&mut self) {
        if let Some(r) = self.rec.as_deref_mut() {
            r.subsection();
        }
    }

    #[doc(hidden)]
    #[inline]
    pub fn record_field(&mut self, index: usize) {
        if let Some(r) = self.rec.as_deref_mut() {
            r.field(index, self.pos);
        }
    }

    #[doc(hidden)]
    #[inline]
    pub fn record_elem(&mut self) {
        if let Some(r) = self.rec.as_deref_mut() {
            r.elem(self.pos);
        }
    }

    #[doc(hidden)]
    #[inline]
    pub fn record_end(&mut self) {
        if let Some(r) = self.rec.as_deref_mut() {
            r.end(self.pos);
        }
    }

    /// Bytes written so far.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.pos
    }

    /// The target back (not flushed).
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// The target.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Flushes the target.
    pub fn flush(&mut self) -> Result<()> {
        let pos = self.pos;
        self.inner.flush().map_err(|e| Error::io(e, pos))
    }

    /// Writes raw bytes.
    #[inline]
    pub fn put_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        match self.inner.write_all(bytes) {
            Ok(()) => {
                self.pos += bytes.len() as u64;
                Ok(())
            }
            Err(e) => Err(Error::io(e, self.pos)),
        }
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
