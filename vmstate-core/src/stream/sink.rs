use std::io::{self, Write};
#[cfg(unix)]
use std::os::fd::BorrowedFd;

use crate::cpr::FdPassing;

/// Where a [`Writer`](super::Writer) puts bytes: the write-side twin of
/// [`Source`](super::Source).
///
/// A sink knows how many bytes it has taken, so the writer needs no
/// counter of its own: a `Vec<u8>` (or `&mut Vec<u8>`) answers with its
/// length, and each element costs what a hand-written `extend_from_slice`
/// costs. Any other `std::io::Write` goes through [`IoSink`], which counts
/// ([`Writer::from_write`](super::Writer::from_write) wraps it).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a vmstate `Sink`",
    label = "not a `Sink`",
    note = "write into a `Vec<u8>` or `&mut Vec<u8>`, or wrap any `std::io::Write` with `Writer::from_write(..)` (an `IoSink`)"
)]
pub trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Bytes taken so far (from any starting point: the writer only
    /// uses differences).
    fn position(&self) -> u64;

    /// Appends `n` zero bytes and returns them to be filled in place, when
    /// the sink is memory; `None` when the bytes must be passed to
    /// [`put`](Sink::put) instead. Bulk conversions use it to write
    /// straight into the target.
    #[inline]
    fn grow(&mut self, n: usize) -> Option<&mut [u8]> {
        let _ = n;
        None
    }

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
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }

    const FD_PASSING: FdPassing = S::FD_PASSING;

    #[cfg(unix)]
    fn put_fd(&mut self, fd: Option<BorrowedFd<'_>>) -> io::Result<()> {
        (**self).put_fd(fd)
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
    fn io_sink_counts_and_has_no_memory_to_grow() {
        let mut s = IoSink::new(Vec::new());
        s.put(&[1, 2, 3]).unwrap();
        assert!(s.grow(4).is_none());
        assert_eq!(s.position(), 3);
        assert_eq!(s.into_inner(), [1, 2, 3]);
    }
}
