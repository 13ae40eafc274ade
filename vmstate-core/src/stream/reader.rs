use std::io::Read;

#[cfg(unix)]
use std::os::fd::OwnedFd;

#[cfg(unix)]
use super::source::FdError;
use super::source::{IoSource, ReadError, SliceSource, Source};
#[cfg(unix)]
use crate::context::MigMode;
#[cfg(unix)]
use crate::cpr::FdPassing;
use crate::error::{Error, ErrorKind, Result};

/// A big-endian stream reader that tracks its byte offset.
///
/// `Reader::from_slice` reads bytes already in memory without copying them
/// into a buffer; `Reader::new` reads any `std::io::Read` through one fixed
/// buffer. Every read that runs past the end of input fails with
/// [`ErrorKind::UnexpectedEof`] at the offset where the element began.
///
/// ```
/// let mut r = vmstate_core::Reader::from_slice(&[0x00, 0x01, 0x11, 0x70]);
/// assert_eq!(r.get_u32().unwrap(), 70000);
/// assert!(r.get_u8().is_err());
/// ```
pub struct Reader<S> {
    src: S,
}

impl<'a> Reader<SliceSource<'a>> {
    /// A reader over bytes in memory (the fast path).
    pub fn from_slice(bytes: &'a [u8]) -> Self {
        Reader::with_source(SliceSource::new(bytes))
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.src.remaining()
    }
}

impl<R: Read> Reader<IoSource<R>> {
    /// A reader over any `std::io::Read`, buffered internally.
    pub fn new(inner: R) -> Self {
        Reader::with_source(IoSource::new(inner))
    }
}

impl<S: Source> Reader<S> {
    /// A reader over a custom [`Source`].
    pub fn with_source(src: S) -> Self {
        Reader { src }
    }

    /// Bytes consumed so far.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.src.offset()
    }

    /// Bytes left in the input, when the source knows (in memory).
    #[inline]
    pub fn remaining_len(&self) -> Option<u64> {
        self.src.remaining_len()
    }

    /// The source back.
    pub fn into_source(self) -> S {
        self.src
    }

    /// The source, to change how it reads the rest of the input (a
    /// whole-stream reader that must hold the tail of a pipe in memory).
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.src
    }

    /// Runs `f`, which is not inlined, on a copy of this reader when its
    /// source is plain words (a slice), then takes the copy's position
    /// back: this reader's address is then never taken, so that on the hot
    /// path around `f` it stays in registers. Other sources run `f` on
    /// this reader.
    #[doc(hidden)]
    #[inline(always)]
    pub fn detached<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        match self.src.plain_copy() {
            Some(src) => {
                let mut copy = Reader { src };
                let out = f(&mut copy);
                self.src = copy.src;
                out
            }
            None => f(self),
        }
    }

    #[cold]
    fn fail(&self, needed: u64, e: ReadError) -> Error {
        match e {
            ReadError::Eof { got } => Error::new(
                ErrorKind::UnexpectedEof {
                    needed,
                    available: got,
                },
                self.offset(),
            ),
            ReadError::Io(e) => Error::io(e, self.offset()),
        }
    }

    /// Fills `buf` from the stream.
    #[inline]
    pub fn get_bytes(&mut self, buf: &mut [u8]) -> Result<()> {
        match self.src.read_exact(buf) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fail(buf.len() as u64, e)),
        }
    }

    /// Reads `N` bytes: in place when the source holds them in memory (a
    /// slice, an io reader's buffer, a mapped file), else through
    /// [`get_bytes`](Reader::get_bytes).
    #[inline]
    pub fn get_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        if let Some(&b) = self.src.in_memory().0.first_chunk::<N>() {
            self.src.advance(N);
            return Ok(b);
        }
        let mut b = [0u8; N];
        self.get_bytes(&mut b)?;
        Ok(b)
    }

    /// The next `n` bytes, consumed, when the source already holds them in
    /// memory (all of a slice; what an io reader has buffered): bulk
    /// conversions read them in place. `None`, with nothing consumed,
    /// otherwise; [`get_bytes`](Reader::get_bytes) then reads them, or
    /// reports where the input ran out.
    #[inline]
    pub fn take(&mut self, n: usize) -> Option<&[u8]> {
        self.src.take(n)
    }

    /// The upcoming bytes already in memory and whether they are the
    /// whole rest of the input ([`Source::in_memory`]).
    #[doc(hidden)]
    #[inline]
    pub fn in_memory(&self) -> (&[u8], bool) {
        self.src.in_memory()
    }

    /// Consumes `n` bytes of [`in_memory`](Reader::in_memory).
    #[doc(hidden)]
    #[inline]
    pub fn advance(&mut self, n: usize) {
        self.src.advance(n)
    }

    /// Discards `n` bytes.
    #[inline]
    pub fn skip(&mut self, n: u64) -> Result<()> {
        match self.src.skip(n) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fail(n, e)),
        }
    }

    /// Up to `n` upcoming bytes (at most [`MAX_PEEK`](super::MAX_PEEK)),
    /// not consumed; fewer only at end of input.
    #[inline]
    pub fn peek(&mut self, n: usize) -> Result<&[u8]> {
        let pos = self.offset();
        self.src.peek(n).map_err(|e| Error::io(e, pos))
    }

    /// One `fd` field, in the source's way ([`Source::take_fd`]): its
    /// descriptor, or `None` from a placeholder source. `mode` names the
    /// mode in the error when the source carries no descriptors.
    #[cfg(unix)]
    pub fn get_fd(&mut self, mode: MigMode) -> Result<Option<OwnedFd>> {
        let at = self.offset();
        match self.src.take_fd() {
            Ok(fd) => Ok(fd),
            Err(FdError::Read(e)) => {
                let needed = if S::FD_PASSING == FdPassing::Inherit {
                    4
                } else {
                    1
                };
                Err(self.fail(needed, e))
            }
            Err(FdError::Unsupported) => Err(Error::new(
                ErrorKind::FdChannel {
                    mode,
                    passing: S::FD_PASSING,
                },
                at,
            )),
            Err(FdError::Missing(number)) => Err(Error::new(ErrorKind::FdMissing { number }, at)),
            Err(FdError::Extra(count)) => Err(Error::new(ErrorKind::FdExtra { count }, at)),
        }
    }

    /// Fails when descriptors arrived that no `fd` field took: call it
    /// after the last field of a state that carries descriptors.
    pub fn finish_fds(&self) -> Result<()> {
        match self.src.fds_left() {
            0 => Ok(()),
            count => Err(Error::new(ErrorKind::FdExtra { count }, self.offset())),
        }
    }

    /// One byte.
    #[inline]
    pub fn get_u8(&mut self) -> Result<u8> {
        Ok(self.get_array::<1>()?[0])
    }
    /// be16.
    #[inline]
    pub fn get_u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.get_array()?))
    }
    /// be32.
    #[inline]
    pub fn get_u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.get_array()?))
    }
    /// be64.
    #[inline]
    pub fn get_u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.get_array()?))
    }
}
