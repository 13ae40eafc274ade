//! Where a [`Reader`](super::Reader) gets its bytes: a slice in memory, or
//! any `std::io::Read` through a fixed buffer. Neither seeks.

use std::io::{self, Read};
#[cfg(unix)]
use std::os::fd::OwnedFd;

use crate::cpr::FdPassing;

/// A short read: the source ended after `got` of the requested bytes, or
/// failed.
#[derive(Debug)]
pub enum ReadError {
    /// End of input after `got` bytes.
    Eof {
        /// Bytes that were still there.
        got: u64,
    },
    /// The underlying reader failed.
    Io(io::Error),
}

/// A forward-only byte source with a bounded peek.
///
/// Implemented by [`SliceSource`] (in memory, zero copy) and [`IoSource`]
/// (any `Read`, buffered). The reader is generic over it, so the hot path is
/// monomorphic: no dynamic dispatch per field.
pub trait Source {
    /// Fills `buf` completely, or reports how much was there.
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ReadError>;

    /// Returns up to `n` upcoming bytes without consuming them (fewer only
    /// at end of input). `n` is at most [`MAX_PEEK`].
    fn peek(&mut self, n: usize) -> io::Result<&[u8]>;

    /// Discards `n` bytes, or reports how many were there.
    fn skip(&mut self, n: u64) -> Result<(), ReadError>;

    /// Bytes consumed by successful reads and skips so far (a failed read
    /// does not move it, so errors point at the element's start).
    fn offset(&self) -> u64;

    /// Bytes left, when the source knows (in memory); `None` for a pipe.
    fn remaining_len(&self) -> Option<u64> {
        None
    }

    /// Consumes and returns the next `n` bytes (exactly `n`) when they are
    /// already in memory, so that bulk conversions can read them in place;
    /// `None` (nothing consumed) when they would have to be copied or read
    /// first, including at end of input: [`read_exact`](Source::read_exact)
    /// then does the work and reports a short input.
    #[inline]
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let _ = n;
        None
    }

    /// How this source carries the descriptors of `fd` fields: not at all,
    /// unless it says otherwise.
    const FD_PASSING: FdPassing = FdPassing::None;

    /// Reads one `fd` field in this source's way ([`FdPassing`]) and hands
    /// out its descriptor; `None` from a [`FdPassing::Placeholder`] source.
    /// The default refuses.
    #[cfg(unix)]
    fn take_fd(&mut self) -> Result<Option<OwnedFd>, FdError> {
        Err(FdError::Unsupported)
    }

    /// Descriptors received that no `fd` field has taken yet.
    fn fds_left(&self) -> usize {
        0
    }

    /// The upcoming bytes already in memory, not consumed, and whether
    /// they are all the input there is (a slice: yes; an io reader's
    /// buffer: not known). Generated code reads runs of fixed-size fields
    /// from them with one length check, then [`advance`](Source::advance)s.
    #[inline]
    fn in_memory(&self) -> (&[u8], bool) {
        (&[], false)
    }

    /// Consumes `n` bytes that [`in_memory`](Source::in_memory) returned.
    /// Asked for more, it consumes what is in memory.
    #[inline]
    fn advance(&mut self, n: usize) {
        let _ = self.take(n);
    }

    /// A copy of this source that costs nothing to make and to copy back
    /// (a slice and its start: plain words), or `None`. Out-of-line code
    /// then works on the copy, so that the caller's source never has its
    /// address taken and stays in registers on the hot path.
    #[doc(hidden)]
    #[inline]
    fn plain_copy(&self) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

/// Why a source could not hand out an `fd` field's descriptor.
#[derive(Debug)]
#[non_exhaustive]
pub enum FdError {
    /// The bytes of the field could not be read.
    Read(ReadError),
    /// The source cannot carry descriptors.
    Unsupported,
    /// No descriptor came with the placeholder byte (`None`), or the
    /// number read is not an inherited descriptor (`Some`).
    Missing(Option<i32>),
    /// Descriptors arrived with other bytes than the placeholder (this
    /// many, left queued).
    Extra(usize),
}

impl From<ReadError> for FdError {
    fn from(e: ReadError) -> Self {
        FdError::Read(e)
    }
}

/// The longest peek a source must support: a subsection marker, its length
/// byte and a 255-byte name, as QEMU's subsection loader peeks them.
pub const MAX_PEEK: usize = 2 + 255;

/// A source over bytes already in memory.
#[derive(Clone, Debug)]
pub struct SliceSource<'a> {
    rest: &'a [u8],
    /// The length at the start: the offset is what has gone since.
    len: usize,
}

impl<'a> SliceSource<'a> {
    /// A source over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        SliceSource {
            rest: bytes,
            len: bytes.len(),
        }
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }
}

impl Source for SliceSource<'_> {
    #[inline]
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ReadError> {
        match self.rest.split_at_checked(buf.len()) {
            Some((head, tail)) => {
                buf.copy_from_slice(head);
                self.rest = tail;
                Ok(())
            }
            None => Err(ReadError::Eof {
                got: self.rest.len() as u64,
            }),
        }
    }

    #[inline]
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        Ok(&self.rest[..n.min(self.rest.len())])
    }

    #[inline]
    fn skip(&mut self, n: u64) -> Result<(), ReadError> {
        match usize::try_from(n).ok().and_then(|n| self.rest.get(n..)) {
            Some(tail) => {
                self.rest = tail;
                Ok(())
            }
            None => Err(ReadError::Eof {
                got: self.rest.len() as u64,
            }),
        }
    }

    #[inline]
    fn offset(&self) -> u64 {
        (self.len - self.rest.len()) as u64
    }

    #[inline]
    fn remaining_len(&self) -> Option<u64> {
        Some(self.rest.len() as u64)
    }

    #[inline]
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    #[inline]
    fn in_memory(&self) -> (&[u8], bool) {
        (self.rest, true)
    }

    #[inline]
    fn advance(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    #[inline]
    fn plain_copy(&self) -> Option<Self> {
        Some(self.clone())
    }
}

/// Largest buffer of an [`IoSource`].
const IO_BUF: usize = 64 * 1024;

/// First buffer of an [`IoSource`]: a peek must fit. Zeroing 64 KiB up
/// front cost 660 ns per reader, 45 times the load of a 308-byte payload
/// through it.
const IO_BUF_FIRST: usize = 1024;

/// A source over any `std::io::Read` (a pipe, a socket, a file), through a
/// buffer that starts at 1 KiB and doubles, up to 64 KiB, each time a read
/// fills it (a short input never pays for the large buffer, a long one
/// reaches it within seven reads). Reads larger than the buffer go
/// straight into the destination. `Interrupted` is retried, and so is
/// `WouldBlock` (after sleeping a millisecond): a non-blocking reader is
/// waited for.
pub struct IoSource<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Bytes consumed by successful reads and skips.
    pos: u64,
}

impl<R: Read> IoSource<R> {
    /// A buffered source over `inner`.
    pub fn new(inner: R) -> Self {
        IoSource {
            inner,
            buf: vec![0; IO_BUF_FIRST],
            start: 0,
            end: 0,
            pos: 0,
        }
    }

    /// The wrapped reader. Bytes already buffered are not in it any more.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The wrapped reader (reading from it skips the buffer).
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The wrapped reader, mutably (reading from it skips the buffer).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Reads once into the free tail of the buffer; Ok(0) at end of input.
    fn fill_once(&mut self) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        loop {
            let space = self.buf.len() - self.end;
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    // A faulty `Read` may claim more than it was given.
                    let n = n.min(space);
                    self.end += n;
                    if n == space && self.buf.len() < IO_BUF {
                        // More may be waiting: read more at a time.
                        self.buf.resize((self.buf.len() * 2).min(IO_BUF), 0);
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => would_block(),
                Err(e) => return Err(e),
            }
        }
    }
}

/// A non-blocking reader has nothing yet: wait a little and read again.
/// (Reporting it would leave the read half done, with no way to resume in
/// the middle of a field.)
#[cold]
fn would_block() {
    std::thread::sleep(std::time::Duration::from_millis(1));
}

impl<R: Read> Source for IoSource<R> {
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ReadError> {
        let mut done = 0;
        while done < buf.len() {
            if self.start == self.end {
                let want = buf.len() - done;
                if want >= self.buf.len() {
                    // Large read: bypass the buffer.
                    match self.inner.read(&mut buf[done..]) {
                        Ok(0) => return Err(ReadError::Eof { got: done as u64 }),
                        Ok(n) => done += n.min(buf.len() - done),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => would_block(),
                        Err(e) => return Err(ReadError::Io(e)),
                    }
                    continue;
                }
                match self.fill_once() {
                    Ok(0) => return Err(ReadError::Eof { got: done as u64 }),
                    Ok(_) => {}
                    Err(e) => return Err(ReadError::Io(e)),
                }
            }
            let n = (buf.len() - done).min(self.buffered());
            buf[done..done + n].copy_from_slice(&self.buf[self.start..self.start + n]);
            self.start += n;
            done += n;
        }
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        let n = n.min(MAX_PEEK);
        if self.buffered() < n && self.buf.len() - self.start < n {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.buffered() < n {
            if self.fill_once()? == 0 {
                break;
            }
        }
        let avail = self.buffered().min(n);
        Ok(&self.buf[self.start..self.start + avail])
    }

    fn skip(&mut self, n: u64) -> Result<(), ReadError> {
        self.skip_inner(n)?;
        self.pos += n;
        Ok(())
    }

    fn offset(&self) -> u64 {
        self.pos
    }

    /// Only bytes already buffered: refilling could fail, and an error has
    /// no place in the answer.
    #[inline]
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.start.checked_add(n).filter(|&e| e <= self.end)?;
        let head = self.buf.get(self.start..end)?;
        self.start = end;
        self.pos += n as u64;
        Some(head)
    }

    #[inline]
    fn in_memory(&self) -> (&[u8], bool) {
        (
            self.buf.get(self.start..self.end).unwrap_or_default(),
            false,
        )
    }

    #[inline]
    fn advance(&mut self, n: usize) {
        let n = n.min(self.buffered());
        self.start += n;
        self.pos += n as u64;
    }
}

impl<R: Read> IoSource<R> {
    fn skip_inner(&mut self, mut n: u64) -> Result<(), ReadError> {
        let mut got = 0u64;
        while n > 0 {
            if self.start == self.end {
                match self.fill_once() {
                    Ok(0) => return Err(ReadError::Eof { got }),
                    Ok(_) => {}
                    Err(e) => return Err(ReadError::Io(e)),
                }
            }
            let k = (self.buffered() as u64).min(n) as usize;
            self.start += k;
            n -= k as u64;
            got += k as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte per call, to exercise refills.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn io_source_peeks_across_refills_and_reports_eof() {
        let data: Vec<u8> = (0..=255).collect();
        let mut s = IoSource::new(Trickle(&data));
        assert_eq!(s.peek(3).unwrap(), &[0, 1, 2]);
        let mut b = [0; 4];
        s.read_exact(&mut b).unwrap();
        assert_eq!(b, [0, 1, 2, 3]);
        s.skip(250).unwrap();
        assert_eq!(s.peek(10).unwrap(), &[254, 255]);
        match s.read_exact(&mut b) {
            Err(ReadError::Eof { got }) => assert_eq!(got, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn io_source_large_read_bypasses_buffer() {
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut s = IoSource::new(&data[..]);
        let mut first = [0u8; 10];
        s.read_exact(&mut first).unwrap();
        let mut big = vec![0u8; 150_000];
        s.read_exact(&mut big).unwrap();
        assert_eq!(&big[..], &data[10..150_010]);
        assert!(matches!(
            s.skip(50_000),
            Err(ReadError::Eof { got: 49_990 })
        ));
    }

    /// Counts the calls that reach the wrapped reader.
    struct Counted<'a>(&'a [u8], usize);
    impl Read for Counted<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.1 += 1;
            self.0.read(buf)
        }
    }

    /// A short input is read through the first, small buffer; a long one
    /// grows it to 64 KiB within a few reads, so reading 1 MiB in small
    /// pieces takes about 1 MiB / 64 KiB reads (1024 at 1 KiB).
    #[test]
    fn io_source_buffer_starts_small_and_grows_with_the_input() {
        let short: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        let mut s = IoSource::new(Counted(&short, 0));
        let mut b = [0u8; 300];
        s.read_exact(&mut b).unwrap();
        assert_eq!((&b[..], s.buf.len()), (&short[..], IO_BUF_FIRST));

        let long: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7) as u8).collect();
        let mut s = IoSource::new(Counted(&long, 0));
        let mut got = Vec::new();
        let mut piece = [0u8; 100];
        while got.len() + piece.len() <= long.len() {
            s.read_exact(&mut piece).unwrap();
            got.extend_from_slice(&piece);
        }
        assert_eq!(&got[..], &long[..got.len()]);
        assert_eq!(s.buf.len(), IO_BUF);
        let reads = s.into_inner().1;
        assert!(reads <= 16 + 8, "{reads} reads");
    }

    /// A faulty `Read` that claims to have filled more than it was given.
    struct Liar;
    impl Read for Liar {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            buf.fill(7);
            Ok(buf.len() + 100)
        }
    }

    #[test]
    fn a_read_claiming_too_much_is_clamped_not_a_panic() {
        let mut s = IoSource::new(Liar);
        let mut small = [0u8; 3];
        s.read_exact(&mut small).unwrap();
        assert_eq!(small, [7; 3]);
        assert_eq!(s.peek(4).unwrap(), [7; 4]);
        // Straight into a destination larger than the buffer.
        let mut big = vec![0u8; 200 * 1024];
        s.read_exact(&mut big).unwrap();
        assert!(big.iter().all(|&b| b == 7));
        assert_eq!(s.offset(), 3 + 200 * 1024);
    }

    #[test]
    fn take_consumes_only_what_is_in_memory() {
        let data: Vec<u8> = (0..100).collect();
        let mut s = SliceSource::new(&data);
        assert_eq!(s.take(3).unwrap(), &[0, 1, 2]);
        assert_eq!(s.take(0).unwrap(), &[] as &[u8]);
        assert!(s.take(98).is_none());
        assert_eq!(s.offset(), 3);
        assert_eq!(s.take(97).unwrap().len(), 97);
        assert_eq!(s.offset(), 100);
        assert!(s.take(1).is_none());

        // An io source hands out only what it has buffered.
        let mut s = IoSource::new(Trickle(&data));
        assert!(s.take(1).is_none());
        assert_eq!(s.peek(3).unwrap(), &[0, 1, 2]);
        assert_eq!(s.take(2).unwrap(), &[0, 1]);
        assert_eq!(s.offset(), 2);
        assert!(s.take(2).is_none());
        assert_eq!(s.take(1).unwrap(), &[2]);
        let mut b = [0; 2];
        s.read_exact(&mut b).unwrap();
        assert_eq!((b, s.offset()), ([3, 4], 5));
        assert!(s.take(usize::MAX).is_none());
    }

    #[test]
    fn slice_source_eof_counts() {
        let mut s = SliceSource::new(&[1, 2, 3]);
        let mut b = [0; 4];
        assert!(matches!(
            s.read_exact(&mut b),
            Err(ReadError::Eof { got: 3 })
        ));
        assert!(matches!(s.skip(u64::MAX), Err(ReadError::Eof { got: 3 })));
        assert_eq!(s.peek(9).unwrap(), &[1, 2, 3]);
    }
}
