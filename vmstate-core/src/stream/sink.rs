use std::io::{self, Write};
#[cfg(unix)]
use std::os::fd::BorrowedFd;

use crate::cpr::FdPassing;

/// The size of the array [`Sink::put_head`] takes.
#[doc(hidden)]
pub const HEAD: usize = 64;

/// Where a [`Writer`](super::Writer) puts bytes: the write-side twin of
/// [`Source`](super::Source).
///
/// A sink knows how many bytes it has taken, so the writer needs no
/// counter of its own: a `Vec<u8>` (or `&mut Vec<u8>`) answers with its
/// length, and each element costs what a hand-written `extend_from_slice`
/// costs. A caller's buffer (`[u8; N]`, `&mut [u8]`) goes through
/// [`SliceSink`], the fastest: no capacity to grow, no bytes to zero. Any
/// other `std::io::Write` goes through [`IoSink`], which counts
/// ([`Writer::from_write`](super::Writer::from_write) wraps it).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a vmstate `Sink`",
    label = "not a `Sink`",
    note = "write into a `Vec<u8>` or `&mut Vec<u8>`, into a buffer with `SliceSink::new(&mut buf)`, or wrap any `std::io::Write` with `Writer::from_write(..)` (an `IoSink`)"
)]
pub trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Bytes taken so far (from any starting point: the writer only
    /// uses differences).
    fn position(&self) -> u64;

    /// Appends `n` bytes and returns them to be filled in place, when the
    /// sink is memory and has room; `None`, with nothing appended, when the
    /// bytes must be passed to [`put`](Sink::put) instead. Bulk conversions
    /// use it to write straight into the target, and write every byte:
    /// what the returned bytes hold before is unspecified (a `Vec`'s are
    /// zeros, a [`SliceSink`]'s whatever the buffer held).
    #[inline]
    fn grow(&mut self, n: usize) -> Option<&mut [u8]> {
        let _ = n;
        None
    }

    /// Whether [`grow`](Sink::grow) costs no more than a bounds check (it
    /// hands out memory that is there already, without filling it):
    /// generated code then encodes short runs straight into it instead of
    /// on the stack and appending them.
    #[doc(hidden)]
    const GROW_IN_PLACE: bool = false;

    /// Flushes buffered bytes to their destination.
    #[inline]
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// How this sink carries the descriptors of `fd` fields: not at all,
    /// unless it says otherwise. The generated save refuses a type with
    /// `fd` fields before writing anything when the sink does not fit the
    /// mode.
    const FD_PASSING: FdPassing = FdPassing::None;

    /// Writes one `fd` field in this sink's way ([`FdPassing`]): the
    /// placeholder byte with `fd` attached, or the descriptor's number.
    /// `None` only for [`FdPassing::Placeholder`] sinks. The default
    /// refuses: a plain `Write` cannot carry a descriptor.
    #[cfg(unix)]
    fn put_fd(&mut self, fd: Option<BorrowedFd<'_>>) -> io::Result<()> {
        let _ = fd;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this sink cannot carry file descriptors",
        ))
    }

    /// Appends `bytes` when the sink is memory, where appending cannot
    /// fail, and says so; `false`, with nothing written, otherwise (then
    /// [`put`](Sink::put) writes them, and reports where it failed).
    #[inline]
    fn put_in_memory(&mut self, bytes: &[u8]) -> bool {
        let _ = bytes;
        false
    }

    /// Appends the first `len` bytes of `buf`. A `Vec` with spare capacity
    /// for all of it copies the whole array, a copy of constant size that
    /// compiles to a few moves, and keeps `len`: a short array converted
    /// on the stack then costs no variable-length `memcpy` call. (Not a
    /// [`SliceSink`]: a caller's buffer past the payload stays untouched.)
    #[doc(hidden)]
    #[inline]
    fn put_head(&mut self, buf: &[u8; HEAD], len: usize) -> io::Result<()> {
        self.put(&buf[..len.min(HEAD)])
    }

    /// The vector this sink appends to, when it is a `Vec<u8>`: out-of-line
    /// bulk code takes it rather than the writer, whose address is then
    /// never taken, so that it stays in registers on the hot path.
    #[doc(hidden)]
    #[inline]
    fn as_vec(&mut self) -> Option<&mut Vec<u8>> {
        None
    }
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    #[inline]
    fn position(&self) -> u64 {
        self.len() as u64
    }

    #[inline]
    fn grow(&mut self, n: usize) -> Option<&mut [u8]> {
        let start = self.len();
        self.resize(start.checked_add(n)?, 0);
        self.get_mut(start..)
    }

    #[inline]
    fn put_in_memory(&mut self, bytes: &[u8]) -> bool {
        self.extend_from_slice(bytes);
        true
    }

    #[inline]
    fn put_head(&mut self, buf: &[u8; HEAD], len: usize) -> io::Result<()> {
        let start = self.len();
        let len = len.min(HEAD);
        if self.capacity() - start >= HEAD {
            self.extend_from_slice(buf);
            self.truncate(start + len);
        } else {
            self.extend_from_slice(&buf[..len]);
        }
        Ok(())
    }

    #[inline]
    fn as_vec(&mut self) -> Option<&mut Vec<u8>> {
        Some(self)
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        (**self).put(bytes)
    }

    #[inline]
    fn position(&self) -> u64 {
        (**self).position()
    }

    #[inline]
    fn grow(&mut self, n: usize) -> Option<&mut [u8]> {
        (**self).grow(n)
    }

    #[inline]
    fn put_in_memory(&mut self, bytes: &[u8]) -> bool {
        (**self).put_in_memory(bytes)
    }

    #[inline]
    fn put_head(&mut self, buf: &[u8; HEAD], len: usize) -> io::Result<()> {
        (**self).put_head(buf, len)
    }

    #[inline]
    fn as_vec(&mut self) -> Option<&mut Vec<u8>> {
        (**self).as_vec()
    }

    #[inline]
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }

    const FD_PASSING: FdPassing = S::FD_PASSING;
    const GROW_IN_PLACE: bool = S::GROW_IN_PLACE;

    #[cfg(unix)]
    fn put_fd(&mut self, fd: Option<BorrowedFd<'_>>) -> io::Result<()> {
        (**self).put_fd(fd)
    }
}

/// A [`Sink`] over a caller's buffer (a `[u8; N]`, a `&mut [u8]`): the
/// fastest save target, for a payload whose size is known or bounded.
///
/// Bytes go in from the start of the buffer. When one does not fit, the
/// save fails with an io error of kind `WriteZero` at the offset of the
/// field that did not fit (the bytes before it are written); nothing is
/// ever written past the end. [`VmState::save_to_slice`] is the short
/// form.
///
/// ```
/// use vmstate_core::stream::SliceSink;
/// use vmstate_core::{Context, VmState, Writer};
///
/// #[derive(VmState)]
/// #[vmstate(name = "timer", version = 1)]
/// struct Timer {
///     count: u32,
///     mode: u8,
/// }
///
/// let mut t = Timer { count: 0x0102_0304, mode: 5 };
/// let mut buf = [0u8; 5];
/// let mut w = Writer::new(SliceSink::new(&mut buf));
/// t.save(&mut w, &Context::new()).unwrap();
/// assert_eq!(w.get_ref().written(), 5);
/// assert_eq!(buf, [1, 2, 3, 4, 5]);
///
/// let err = t.save_to_slice(&mut [0u8; 4], &Context::new()).unwrap_err();
/// assert_eq!((err.path().as_str(), err.offset()), ("timer/mode", 4));
/// ```
///
/// [`VmState::save_to_slice`]: crate::VmState::save_to_slice
#[derive(Debug)]
pub struct SliceSink<'a> {
    /// The part of the buffer not written yet.
    rest: &'a mut [u8],
    /// The whole buffer's length.
    len: usize,
}

impl<'a> SliceSink<'a> {
    /// A sink that fills `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        SliceSink {
            len: buf.len(),
            rest: buf,
        }
    }

    /// Bytes written so far (the buffer's first bytes).
    pub fn written(&self) -> usize {
        self.len - self.rest.len()
    }

    /// Bytes still free.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }
}

/// Out of line, so that a put into a [`SliceSink`] inlines to a bounds
/// check and a copy.
#[cold]
#[inline(never)]
fn buffer_full(len: usize, left: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::WriteZero,
        format!("the buffer is full: {len} bytes do not fit in the {left} left"),
    )
}

impl Sink for SliceSink<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.put_in_memory(bytes) {
            return Ok(());
        }
        Err(buffer_full(bytes.len(), self.rest.len()))
    }

    #[inline]
    fn position(&self) -> u64 {
        self.written() as u64
    }

    #[inline]
    fn grow(&mut self, n: usize) -> Option<&mut [u8]> {
        // One compare: what is left is a slice of its own.
        if n > self.rest.len() {
            return None;
        }
        let (dst, rest) = std::mem::take(&mut self.rest).split_at_mut(n);
        self.rest = rest;
        Some(dst)
    }

    const GROW_IN_PLACE: bool = true;

    #[inline]
    fn put_in_memory(&mut self, bytes: &[u8]) -> bool {
        match self.grow(bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                true
            }
            None => false,
        }
    }
}

/// A [`Sink`] over any `std::io::Write`, counting the bytes it passes on.
///
/// It does not buffer: over a file, pipe or socket, put a
/// `std::io::BufWriter` inside so that fields do not become syscalls.
///
/// ```
/// use std::io::BufWriter;
/// use vmstate_core::Writer;
///
/// let mut w = Writer::from_write(BufWriter::new(Vec::new()));
/// w.put_u32(7).unwrap();
/// assert_eq!(w.offset(), 4);
/// let bytes = w.into_inner().into_inner().into_inner().unwrap();
/// assert_eq!(bytes, [0, 0, 0, 7]);
/// ```
#[derive(Debug)]
pub struct IoSink<W> {
    inner: W,
    pos: u64,
}

impl<W: Write> IoSink<W> {
    /// A sink over `inner`, counting from 0.
    pub fn new(inner: W) -> Self {
        IoSink { inner, pos: 0 }
    }

    /// The writer back (not flushed).
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// The writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The writer, mutably (bytes written through it are not counted).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

impl<W: Write> Sink for IoSink<W> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    #[inline]
    fn position(&self) -> u64 {
        self.pos
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vec_grows_in_place_and_counts_by_length() {
        let mut v = vec![9u8];
        v.put(&[1, 2]).unwrap();
        let dst = v.grow(3).unwrap();
        dst.copy_from_slice(&[3, 4, 5]);
        assert_eq!(v, [9, 1, 2, 3, 4, 5]);
        assert_eq!(Sink::position(&v), 6);
    }

    #[test]
    fn slice_sink_fills_its_buffer_and_never_past_it() {
        let mut buf = [7u8; 6];
        let mut s = SliceSink::new(&mut buf);
        s.put(&[1, 2]).unwrap();
        // Grown bytes are handed out as they are, not zeroed.
        assert_eq!(s.grow(2).unwrap(), [7, 7]);
        assert_eq!((s.position(), s.remaining()), (4, 2));
        assert!(s.grow(3).is_none(), "one byte too many");
        assert!(s.grow(usize::MAX).is_none());
        assert!(!s.put_in_memory(&[0; 3]));
        let err = s.put(&[9, 9, 9]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
        assert_eq!(s.written(), 4, "a failed put writes nothing");
        s.put(&[5, 6]).unwrap();
        assert_eq!(s.written(), 6);
        assert_eq!(buf, [1, 2, 7, 7, 5, 6]);
    }

    #[test]
    fn put_head_appends_only_its_length_with_or_without_spare_room() {
        let mut buf = [0u8; HEAD];
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8;
        }
        for cap in [0, 5, HEAD, HEAD + 5, 4 * HEAD] {
            for len in [0, 1, 17, HEAD - 1, HEAD] {
                let mut v = Vec::with_capacity(cap);
                v.extend_from_slice(&[0xee; 5]);
                v.put_head(&buf, len).unwrap();
                assert_eq!(v[..5], [0xee; 5]);
                assert_eq!(v[5..], buf[..len], "capacity {cap}, length {len}");
                // Through `&mut Vec`, as a writer holds it.
                <&mut Vec<u8> as Sink>::put_head(&mut &mut v, &buf, 3).unwrap();
                assert_eq!(v.len(), 5 + len + 3);
            }
        }
        // The default: a `SliceSink` writes nothing past the length.
        let mut out = [0xa5u8; 2 * HEAD];
        let mut s = SliceSink::new(&mut out);
        s.put_head(&buf, 3).unwrap();
        assert_eq!(s.written(), 3);
        assert_eq!(out[..4], [0, 1, 2, 0xa5]);
    }

    #[test]
    fn io_sink_counts_and_has_no_memory_to_grow() {
        let mut s = IoSink::new(Vec::new());
        s.put(&[1, 2, 3]).unwrap();
        assert!(s.grow(4).is_none());
        assert_eq!(s.position(), 3);
        assert_eq!(s.into_inner(), [1, 2, 3]);
    }
}
