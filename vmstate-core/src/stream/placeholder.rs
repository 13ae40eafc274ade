//! The bytes of a `cpr-transfer` state without its descriptors: files,
//! captures and analysis tools see only the placeholder bytes.

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

use super::sink::Sink;
use super::source::{FdError, ReadError, Source};
use crate::cpr::FdPassing;

/// The placeholder byte QEMU sends each descriptor with (an ASCII space).
pub const FD_PLACEHOLDER: u8 = 0x20;

/// A [`Sink`] or [`Source`] that writes or reads the placeholder byte of
/// each `fd` field without a descriptor, and notes its offset
/// ([`FdPassing::Placeholder`]). It is how a `cpr-transfer` state is kept
/// in a file or decoded from one: `fd` fields then need a slot that can be
/// empty (`Option<OwnedFd>`).
///
/// Reading takes whatever byte is there, as QEMU does.
///
/// ```
/// use vmstate_core::stream::{Placeholders, Sink};
/// use vmstate_core::Writer;
///
/// let mut w = Writer::new(Placeholders::new(Vec::new()));
/// w.put_u8(1).unwrap();
/// w.put_fd(None).unwrap();
/// let p = w.into_inner();
/// assert_eq!(p.offsets(), [1]);
/// assert_eq!(p.into_inner(), [1, 0x20]);
/// ```
#[derive(Debug)]
pub struct Placeholders<S> {
    inner: S,
    offsets: Vec<u64>,
}

impl<S> Placeholders<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Placeholders {
            inner,
            offsets: Vec::new(),
        }
    }

    /// Offsets of the placeholder bytes so far, in the inner sink's
    /// positions or the inner source's offsets.
    pub fn offsets(&self) -> &[u64] {
        &self.offsets
    }

    /// The wrapped sink or source.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Sink> Sink for Placeholders<S> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.put(bytes)
    }

    #[inline]
    fn position(&self) -> u64 {
        self.inner.position()
    }

    #[inline]
    fn grow(&mut self, n: usize) -> Option<&mut [u8]> {
        self.inner.grow(n)
    }

    const GROW_IN_PLACE: bool = S::GROW_IN_PLACE;

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    const FD_PASSING: FdPassing = FdPassing::Placeholder;

    fn put_fd(&mut self, _fd: Option<BorrowedFd<'_>>) -> io::Result<()> {
        let at = self.inner.position();
        self.inner.put(&[FD_PLACEHOLDER])?;
        self.offsets.push(at);
        Ok(())
    }
}

impl<S: Source> Source for Placeholders<S> {
    #[inline]
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ReadError> {
        self.inner.read_exact(buf)
    }

    #[inline]
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        self.inner.peek(n)
    }

    #[inline]
    fn skip(&mut self, n: u64) -> Result<(), ReadError> {
        self.inner.skip(n)
    }

    #[inline]
    fn offset(&self) -> u64 {
        self.inner.offset()
    }

    #[inline]
    fn remaining_len(&self) -> Option<u64> {
        self.inner.remaining_len()
    }

    #[inline]
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        self.inner.take(n)
    }

    const FD_PASSING: FdPassing = FdPassing::Placeholder;

    fn take_fd(&mut self) -> Result<Option<OwnedFd>, FdError> {
        let at = self.inner.offset();
        self.inner.read_exact(&mut [0u8])?;
        self.offsets.push(at);
        Ok(None)
    }
}
