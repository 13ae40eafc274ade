//! Channels that carry the descriptors of `fd` fields (feature `fd`).
//!
//! * `cpr-transfer`: [`UnixFdSink`] and [`UnixFdSource`] over a Unix stream
//!   socket. Each descriptor rides as `SCM_RIGHTS` on its one-byte
//!   placeholder, in the order of the bytes: the sink sends what it has
//!   buffered first, then the placeholder alone with its descriptor, so the
//!   kernel hands the descriptor out with exactly that byte. The source
//!   notes which byte each received descriptor came with and hands them
//!   out in order; one missing, or one that came with another byte, is an
//!   error.
//! * `cpr-exec`: [`ExecFdSink`] and [`ExecFdSource`] over any `Write` /
//!   `Read` (typically a memfd that survives `exec`). The descriptor stays
//!   open across `exec` (the sink clears its close-on-exec flag) and its
//!   number travels as be32; the source hands out, by number, descriptors
//!   the new process has claimed.

use std::collections::VecDeque;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

use rustix::io::{fcntl_setfd, FdFlags};
use rustix::net::{
    recvmsg, sendmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags,
    SendAncillaryBuffer, SendAncillaryMessage, SendFlags,
};

use crate::cpr::FdPassing;
use crate::stream::placeholder::FD_PLACEHOLDER;
use crate::stream::{FdError, IoSink, IoSource, ReadError, Sink, Source};

/// Bytes buffered by a [`UnixFdSink`] before it sends them.
const SEND_BUF: usize = 64 * 1024;

/// The most descriptors one message can carry (Linux's `SCM_MAX_FD`).
const MAX_FDS_PER_MSG: usize = 253;

/// The most received descriptors a [`UnixFdSource`] queues before they
/// are taken: a peer cannot make it hold more.
const MAX_PENDING_FDS: usize = 1024;

/// The write side of a `cpr-transfer` channel: bytes and `SCM_RIGHTS`
/// descriptors over a Unix stream socket.
///
/// Bytes are buffered; [`flush`](Sink::flush) (or
/// [`Writer::flush`](crate::Writer::flush)) sends them.
#[derive(Debug)]
pub struct UnixFdSink<S = UnixStream> {
    sock: S,
    buf: Vec<u8>,
    /// Bytes taken, sent or not.
    pos: u64,
    fds: usize,
}

impl<S: AsFd> UnixFdSink<S> {
    /// A sink over a connected Unix stream socket.
    pub fn new(sock: S) -> Self {
        UnixFdSink {
            sock,
            buf: Vec::new(),
            pos: 0,
            fds: 0,
        }
    }

    /// Descriptors sent so far.
    pub fn fds_sent(&self) -> usize {
        self.fds
    }

    /// The socket back; call [`flush`](Sink::flush) first.
    pub fn into_inner(self) -> S {
        self.sock
    }

    /// The socket.
    pub fn get_ref(&self) -> &S {
        &self.sock
    }

    fn send_buffered(&mut self) -> io::Result<()> {
        let mut done = 0;
        while done < self.buf.len() {
            match rustix::net::send(&self.sock, &self.buf[done..], SendFlags::NOSIGNAL) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.buf.clear();
        Ok(())
    }
}

impl<S: AsFd> Sink for UnixFdSink<S> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(bytes);
        self.pos += bytes.len() as u64;
        if self.buf.len() >= SEND_BUF {
            self.send_buffered()?;
        }
        Ok(())
    }

    fn position(&self) -> u64 {
        self.pos
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffered()
    }

    const FD_PASSING: FdPassing = FdPassing::ScmRights;

    fn put_fd(&mut self, fd: Option<BorrowedFd<'_>>) -> io::Result<()> {
        let fd = fd.ok_or_else(|| io::Error::other("no descriptor to send"))?;
        // Earlier bytes go first and alone: the descriptor must ride on
        // the placeholder, not on a byte before it.
        self.send_buffered()?;
        let fds = [fd];
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
            return Err(io::Error::other(
                "control buffer too small for one descriptor",
            ));
        }
        let byte = [FD_PLACEHOLDER];
        loop {
            match sendmsg(
                &self.sock,
                &[IoSlice::new(&byte)],
                &mut control,
                SendFlags::NOSIGNAL,
            ) {
                Ok(1) => break,
                Ok(_) => return Err(io::ErrorKind::WriteZero.into()),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.pos += 1;
        self.fds += 1;
        Ok(())
    }
}

/// Reads a Unix stream socket with `recvmsg`, queueing each received
/// descriptor with the offset of the byte it came with (the last byte of
/// its chunk: the kernel ends a read at a message that carries
/// descriptors).
#[derive(Debug)]
struct ScmReader<S> {
    sock: S,
    /// Bytes received so far.
    raw: u64,
    fds: VecDeque<(u64, OwnedFd)>,
}

impl<S: AsFd> Read for ScmReader<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut space =
            [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS_PER_MSG))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let msg = loop {
            match recvmsg(
                &self.sock,
                &mut [IoSliceMut::new(buf)],
                &mut control,
                RecvFlags::CMSG_CLOEXEC,
            ) {
                Ok(m) => break m,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        };
        let n = msg.bytes.min(buf.len());
        let at = (self.raw + n as u64).saturating_sub(1);
        for m in control.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = m {
                for fd in fds {
                    if self.fds.len() >= MAX_PENDING_FDS {
                        return Err(io::Error::other(
                            "too many descriptors received and not taken",
                        ));
                    }
                    self.fds.push_back((at, fd));
                }
            }
        }
        if msg.flags.contains(ReturnFlags::CTRUNC) {
            return Err(io::Error::other(
                "descriptors were cut off (more than one message can carry)",
            ));
        }
        self.raw += n as u64;
        Ok(n)
    }
}

/// The read side of a `cpr-transfer` channel: bytes through a 64 KiB
/// buffer, descriptors handed out in the order of their placeholders.
/// Received descriptors are close-on-exec.
pub struct UnixFdSource<S = UnixStream> {
    io: IoSource<ScmReader<S>>,
}

impl<S: AsFd> UnixFdSource<S> {
    /// A source over a connected Unix stream socket, from its first byte.
    pub fn new(sock: S) -> Self {
        UnixFdSource {
            io: IoSource::new(ScmReader {
                sock,
                raw: 0,
                fds: VecDeque::new(),
            }),
        }
    }

    /// The socket back (bytes and descriptors not taken are dropped).
    pub fn into_inner(self) -> S {
        self.io.into_inner().sock
    }
}

impl<S: AsFd> Source for UnixFdSource<S> {
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ReadError> {
        self.io.read_exact(buf)
    }

    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        self.io.peek(n)
    }

    fn skip(&mut self, n: u64) -> Result<(), ReadError> {
        self.io.skip(n)
    }

    fn offset(&self) -> u64 {
        self.io.offset()
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        self.io.take(n)
    }

    const FD_PASSING: FdPassing = FdPassing::ScmRights;

    fn take_fd(&mut self) -> Result<Option<OwnedFd>, FdError> {
        let at = self.io.offset();
        self.io.read_exact(&mut [0u8])?;
        let queue = &mut self.io.get_mut().fds;
        match queue.front() {
            Some((with, _)) if *with == at => Ok(queue.pop_front().map(|(_, fd)| fd)),
            Some((with, _)) if *with < at => Err(FdError::Extra(
                queue.iter().filter(|(w, _)| *w < at).count(),
            )),
            _ => Err(FdError::Missing(None)),
        }
    }

    fn fds_left(&self) -> usize {
        self.io.get_ref().fds.len()
    }
}

/// The write side of a `cpr-exec` state: bytes to any `Write` (a memfd
/// that survives `exec`), each descriptor as its number, be32. The sink
/// clears the descriptor's close-on-exec flag; the caller keeps it open
/// until the `exec`.
#[derive(Debug)]
pub struct ExecFdSink<W> {
    io: IoSink<W>,
    fds: Vec<i32>,
}

impl<W: Write> ExecFdSink<W> {
    /// A sink over `inner`.
    pub fn new(inner: W) -> Self {
        ExecFdSink {
            io: IoSink::new(inner),
            fds: Vec::new(),
        }
    }

    /// The numbers of the descriptors written, in order: what the new
    /// process must claim (for [`ExecFdSource::new`]).
    pub fn fds(&self) -> &[i32] {
        &self.fds
    }

    /// The writer back (not flushed).
    pub fn into_inner(self) -> W {
        self.io.into_inner()
    }
}

impl<W: Write> Sink for ExecFdSink<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.io.put(bytes)
    }

    fn position(&self) -> u64 {
        self.io.position()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.io.flush()
    }

    const FD_PASSING: FdPassing = FdPassing::Inherit;

    fn put_fd(&mut self, fd: Option<BorrowedFd<'_>>) -> io::Result<()> {
        let fd = fd.ok_or_else(|| io::Error::other("no descriptor to keep"))?;
        fcntl_setfd(fd, FdFlags::empty())?;
        let n = fd.as_raw_fd();
        self.io.put(&n.to_be_bytes())?;
        self.fds.push(n);
        Ok(())
    }
}

/// The read side of a `cpr-exec` state: bytes from any `Read`, and for
/// each `fd` field the inherited descriptor whose number the stream names.
pub struct ExecFdSource<R> {
    io: IoSource<R>,
    inherited: Vec<OwnedFd>,
}

impl<R: Read> ExecFdSource<R> {
    /// A source over `inner` that hands out `inherited`: the descriptors
    /// the new process found open after `exec` and took ownership of.
    /// A number the stream names that is not among them is an error; so
    /// are descriptors left over ([`Reader::finish_fds`](crate::Reader::finish_fds)).
    pub fn new(inner: R, inherited: Vec<OwnedFd>) -> Self {
        ExecFdSource {
            io: IoSource::new(inner),
            inherited,
        }
    }

    /// The inherited descriptors no `fd` field has taken.
    pub fn into_leftover(self) -> Vec<OwnedFd> {
        self.inherited
    }
}

impl<R: Read> Source for ExecFdSource<R> {
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ReadError> {
        self.io.read_exact(buf)
    }

    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        self.io.peek(n)
    }

    fn skip(&mut self, n: u64) -> Result<(), ReadError> {
        self.io.skip(n)
    }

    fn offset(&self) -> u64 {
        self.io.offset()
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        self.io.take(n)
    }

    const FD_PASSING: FdPassing = FdPassing::Inherit;

    fn take_fd(&mut self) -> Result<Option<OwnedFd>, FdError> {
        let mut b = [0u8; 4];
        self.io.read_exact(&mut b)?;
        let n = i32::from_be_bytes(b);
        match self.inherited.iter().position(|fd| fd.as_raw_fd() == n) {
            Some(i) => Ok(Some(self.inherited.swap_remove(i))),
            None => Err(FdError::Missing(Some(n))),
        }
    }

    fn fds_left(&self) -> usize {
        self.inherited.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Reader, Writer};
    use std::io::Seek;

    fn fd_of(f: &std::fs::File) -> BorrowedFd<'_> {
        f.as_fd()
    }

    #[test]
    fn descriptors_ride_on_their_placeholders_in_order() {
        let (a, b) = UnixStream::pair().unwrap();
        let f1 = tempfile_with(b"one");
        let f2 = tempfile_with(b"second");
        let mut w = Writer::new(UnixFdSink::new(a));
        w.put_u32(7).unwrap();
        w.put_fd(Some(fd_of(&f1))).unwrap();
        w.put_u8(9).unwrap();
        w.put_fd(Some(fd_of(&f2))).unwrap();
        w.put_u8(1).unwrap();
        w.flush().unwrap();
        assert_eq!(w.get_ref().fds_sent(), 2);
        drop(w);

        let mut r = Reader::with_source(UnixFdSource::new(b));
        assert_eq!(r.get_u32().unwrap(), 7);
        let g1 = r.get_fd(crate::MigMode::CprTransfer).unwrap().unwrap();
        assert_eq!(r.get_u8().unwrap(), 9);
        let g2 = r.get_fd(crate::MigMode::CprTransfer).unwrap().unwrap();
        assert_eq!(r.get_u8().unwrap(), 1);
        r.finish_fds().unwrap();
        assert_eq!(read_all(g1), b"one");
        assert_eq!(read_all(g2), b"second");
    }

    #[test]
    fn a_missing_descriptor_is_an_error_at_its_placeholder() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut w = Writer::new(UnixFdSink::new(a));
        w.put_u8(1).unwrap();
        w.put_u8(FD_PLACEHOLDER).unwrap();
        w.flush().unwrap();
        drop(w);
        let mut r = Reader::with_source(UnixFdSource::new(b));
        r.get_u8().unwrap();
        let e = r.get_fd(crate::MigMode::CprTransfer).unwrap_err();
        assert!(
            matches!(e.kind(), crate::ErrorKind::FdMissing { number: None }),
            "{e}"
        );
        assert_eq!(e.offset(), 1);
    }

    #[test]
    fn a_descriptor_on_another_byte_is_extra() {
        let (a, b) = UnixStream::pair().unwrap();
        let f = tempfile_with(b"x");
        let mut w = Writer::new(UnixFdSink::new(a));
        w.put_fd(Some(fd_of(&f))).unwrap();
        w.put_u8(5).unwrap();
        w.flush().unwrap();
        drop(w);
        let mut r = Reader::with_source(UnixFdSource::new(b));
        // Read as a plain byte, the descriptor is not taken.
        r.get_u8().unwrap();
        let e = r.get_fd(crate::MigMode::CprTransfer).unwrap_err();
        assert!(
            matches!(e.kind(), crate::ErrorKind::FdExtra { count: 1 }),
            "{e}"
        );
        assert!(r.finish_fds().is_err());
    }

    #[test]
    fn exec_channel_writes_numbers_and_hands_out_inherited() {
        let f = tempfile_with(b"kept");
        let mut w = Writer::new(ExecFdSink::new(Vec::new()));
        w.put_fd(Some(fd_of(&f))).unwrap();
        let sink = w.into_inner();
        let n = f.as_raw_fd();
        assert_eq!(sink.fds(), [n]);
        let flags = rustix::io::fcntl_getfd(&f).unwrap();
        assert!(!flags.contains(FdFlags::CLOEXEC), "survives exec");
        let bytes = sink.into_inner();
        assert_eq!(bytes, n.to_be_bytes());

        let owned = OwnedFd::from(f);
        let mut r = Reader::with_source(ExecFdSource::new(&bytes[..], vec![owned]));
        let got = r.get_fd(crate::MigMode::CprExec).unwrap().unwrap();
        assert_eq!(got.as_raw_fd(), n);
        r.finish_fds().unwrap();

        let mut r = Reader::with_source(ExecFdSource::new(&bytes[..], Vec::new()));
        let e = r.get_fd(crate::MigMode::CprExec).unwrap_err();
        assert!(
            matches!(e.kind(), crate::ErrorKind::FdMissing { number: Some(m) } if *m == n),
            "{e}"
        );
    }

    fn tempfile_with(data: &[u8]) -> std::fs::File {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let k = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("vmstate-fdchan-{}-{k}", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        f.write_all(data).unwrap();
        f.rewind().unwrap();
        f
    }

    fn read_all(fd: OwnedFd) -> Vec<u8> {
        let mut f = std::fs::File::from(fd);
        f.rewind().unwrap();
        let mut v = Vec::new();
        f.read_to_end(&mut v).unwrap();
        v
    }
}
