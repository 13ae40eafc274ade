//! The byte source the commands read a stream from: a regular file (which
//! may seek past RAM pages and read its trailer first), or a pipe read
//! once; either can hold the rest of the stream in memory
//! ([`InputSource::drain`]) when the trailer is needed before the device
//! sections.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::time::Duration;

use indicatif::ProgressBar;

use crate::map::{prefetch, Map};
use vmstate_core::stream::{ReadError, Source, MAX_PEEK};

/// The usual read size.
const BUF: usize = 64 * 1024;
/// The read size after a seek: a RAM page header follows a skipped page,
/// and reading a whole buffer would read the next pages that are skipped
/// too.
const SMALL: usize = 512;
/// Skips at least this long seek instead of reading (on a regular file).
const SEEK_MIN: u64 = 1024;
/// How many strides ahead a steady run of skips prefetches.
const STRIDES: u64 = 8;

/// What a seekable input is: a regular file, or anything that reads and
/// seeks alike (a generated stream in tests).
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

enum Inner {
    /// A regular file: `base` is where the stream starts in it, `len` the
    /// stream's length.
    File {
        file: Box<dyn ReadSeek>,
        base: u64,
        len: u64,
    },
    /// A regular file mapped into memory: the stream is `map[base..]`.
    /// Skipping RAM pages then reads nothing at all.
    Mapped { map: Map, base: usize },
    /// A pipe, a socket, a terminal, or any `Read`.
    Stream(Box<dyn Read>),
    /// Everything left is in the buffer.
    Drained,
}

/// A forward [`Source`] over a file or a pipe.
pub struct InputSource {
    inner: Inner,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Stream offset of `buf[start]`.
    pos: u64,
    /// Read only [`SMALL`] bytes at the next refill.
    small: bool,
    bar: Option<ProgressBar>,
    /// Where the last skip of a mapped file ended: skips at a steady
    /// stride (RAM pages) prefetch the header that far ahead.
    last_skip: u64,
}

impl InputSource {
    /// A source over a regular file, from its current position to its end:
    /// mapped into memory when it can be, else read and seeked.
    pub fn file(mut file: File) -> io::Result<Self> {
        let base = file.stream_position()?;
        let total = file.metadata()?.len();
        if let (Some(map), Ok(base)) = (Map::new(&file, total), usize::try_from(base)) {
            if base <= map.bytes().len() {
                return Ok(Self::with(Inner::Mapped { map, base }));
            }
        }
        let len = total.saturating_sub(base);
        Ok(Self::with(Inner::File {
            file: Box::new(file),
            base,
            len,
        }))
    }

    /// A source over anything that seeks, `len` bytes long from its current
    /// position.
    pub fn seekable(mut r: Box<dyn ReadSeek>, len: u64) -> io::Result<Self> {
        let base = r.stream_position()?;
        Ok(Self::with(Inner::File { file: r, base, len }))
    }

    /// A source over any `Read`, read once.
    pub fn stream(r: Box<dyn Read>) -> Self {
        Self::with(Inner::Stream(r))
    }

    fn with(inner: Inner) -> Self {
        InputSource {
            inner,
            buf: vec![0; BUF],
            start: 0,
            end: 0,
            pos: 0,
            small: false,
            bar: None,
            last_skip: 0,
        }
    }

    /// Advances `bar` as the stream is read.
    pub fn set_progress(&mut self, bar: ProgressBar) {
        self.bar = Some(bar);
    }

    /// The stream's length, when it is a regular file.
    pub fn len(&self) -> Option<u64> {
        match &self.inner {
            Inner::File { len, .. } => Some(*len),
            Inner::Mapped { map, base } => Some(map.len().saturating_sub(*base) as u64),
            _ => None,
        }
    }

    /// Finds the vmdesc trailer of a regular file from its end, reading
    /// only a few chunks and the trailer itself (`None` for a pipe). The
    /// trailer is looked for as [`vmstate_migration::find_trailer`] does,
    /// in the last `max + 5` bytes: a `0x06` whose length reaches the end
    /// with a `{` after it; failing that, the last NUL byte, the first `{`
    /// after it, and a `0x06` five bytes before.
    pub fn find_trailer(&mut self, max: u64) -> io::Result<Option<TrailerScan>> {
        if let Inner::Mapped { map, base } = &self.inner {
            let bytes = map.bytes().get(*base..).unwrap_or_default();
            let len = bytes.len() as u64;
            return scan_trailer(&mut io::Cursor::new(bytes), 0, len, max).map(Some);
        }
        let Inner::File { file, base, len } = &mut self.inner else {
            return Ok(None);
        };
        let (base, len) = (*base, *len);
        let here = file.stream_position()?;
        let res = scan_trailer(file.as_mut(), base, len, max);
        file.seek(SeekFrom::Start(here))?;
        res.map(Some)
    }

    /// Reads everything left into memory, unless it is more than `max`
    /// bytes: then `Ok(false)` (and what was read stays buffered, so the
    /// caller can still stop cleanly). From now on the source reads from
    /// memory ([`rest`](Self::rest)).
    pub fn drain(&mut self, max: u64) -> io::Result<bool> {
        if matches!(self.inner, Inner::Drained | Inner::Mapped { .. }) {
            return Ok(true);
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        self.buf.truncate(self.end);
        loop {
            if self.buf.len() as u64 > max {
                return Ok(false);
            }
            let old = self.buf.len();
            self.buf.resize(old + BUF, 0);
            let to = self.buf.len();
            let n = match self.read_inner(old, to) {
                Ok(n) => n,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(e);
                }
            };
            self.buf.truncate(old + n);
            self.end = self.buf.len();
            if n == 0 {
                self.inner = Inner::Drained;
                return Ok(true);
            }
        }
    }

    /// The bytes not read yet, once the source is [drained](Self::drain).
    pub fn rest(&self) -> Option<&[u8]> {
        match &self.inner {
            Inner::Drained => self.buf.get(self.start..self.end),
            Inner::Mapped { .. } => Some(self.mapped_rest()),
            _ => None,
        }
    }

    fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// The mapped bytes not read yet (empty when not mapped).
    #[inline]
    fn mapped_rest(&self) -> &[u8] {
        match &self.inner {
            Inner::Mapped { map, base } => usize::try_from(self.pos)
                .ok()
                .and_then(|p| p.checked_add(*base))
                .and_then(|p| map.bytes().get(p..))
                .unwrap_or_default(),
            _ => &[],
        }
    }

    /// Moves past `n` mapped bytes (the mapping gives back what it passed).
    #[inline]
    fn advance_mapped(&mut self, n: usize) {
        self.pos += n as u64;
        if let Some(b) = &self.bar {
            b.set_position(self.pos);
        }
        if let Inner::Mapped { map, base } = &mut self.inner {
            map.reader_at(*base as u64 + self.pos);
        }
    }

    /// After a skip of a mapped file: when skips come at a steady stride,
    /// as RAM pages do, asks the CPU for the bytes [`STRIDES`] strides
    /// ahead. Each page header is in its own page of the file, which the
    /// hardware prefetchers never cross into.
    fn prefetch_stride(&mut self) {
        let stride = self.pos.wrapping_sub(self.last_skip);
        self.last_skip = self.pos;
        if !(1024..=64 * 1024).contains(&stride) {
            return;
        }
        let Inner::Mapped { map, base } = &self.inner else {
            return;
        };
        let ahead = usize::try_from(self.pos + STRIDES * stride)
            .ok()
            .and_then(|a| a.checked_add(*base))
            .and_then(|a| map.bytes().get(a));
        if let Some(b) = ahead {
            prefetch(b);
        }
    }

    /// [`Source::read_exact`] of a file read or a pipe, through the buffer.
    fn read_exact_buffered(&mut self, out: &mut [u8]) -> Result<(), ReadError> {
        let mut done = 0;
        while done < out.len() {
            if self.start == self.end {
                match self.fill_once() {
                    Ok(0) => return Err(ReadError::Eof { got: done as u64 }),
                    Ok(_) => {}
                    Err(e) => return Err(ReadError::Io(e)),
                }
            }
            let n = (out.len() - done).min(self.buffered());
            if let (Some(d), Some(s)) = (
                out.get_mut(done..done + n),
                self.buf.get(self.start..self.start + n),
            ) {
                d.copy_from_slice(s);
            }
            self.start += n;
            done += n;
        }
        self.pos += out.len() as u64;
        Ok(())
    }

    /// [`Source::skip`] of a file read or a pipe: through the buffer, or
    /// by a seek when the skip is long.
    fn skip_buffered(&mut self, n: u64) -> Result<(), ReadError> {
        let have = self.buffered() as u64;
        if n <= have {
            self.start += n as usize;
            self.pos += n;
            return Ok(());
        }
        if let Inner::File { file, base, len } = &mut self.inner {
            if n - have >= SEEK_MIN {
                let target = self.pos.saturating_add(n);
                if target > *len {
                    return Err(ReadError::Eof {
                        got: len.saturating_sub(self.pos),
                    });
                }
                file.seek(SeekFrom::Start(*base + target))
                    .map_err(ReadError::Io)?;
                if let Some(b) = &self.bar {
                    b.inc(n - have);
                }
                self.start = 0;
                self.end = 0;
                self.pos = target;
                self.small = true;
                return Ok(());
            }
        }
        let mut left = n;
        while left > 0 {
            if self.start == self.end {
                match self.fill_once() {
                    Ok(0) => return Err(ReadError::Eof { got: n - left }),
                    Ok(_) => {}
                    Err(e) => return Err(ReadError::Io(e)),
                }
            }
            let k = (self.buffered() as u64).min(left) as usize;
            self.start += k;
            left -= k as u64;
        }
        self.pos += n;
        Ok(())
    }

    /// The error at the end of the mapped bytes, `got` bytes into a read:
    /// the end of the stream, or a window the mapping lost.
    #[cold]
    fn mapped_end(&self, got: u64) -> ReadError {
        match &self.inner {
            Inner::Mapped { map, .. } => match map.lost() {
                Some(e) => {
                    ReadError::Io(io::Error::new(e.kind(), format!("mapping the input: {e}")))
                }
                None => ReadError::Eof { got },
            },
            _ => ReadError::Eof { got },
        }
    }

    #[inline]
    fn is_mapped(&self) -> bool {
        matches!(self.inner, Inner::Mapped { .. })
    }

    /// One read into `buf[at..to]`. `Interrupted` is retried; so is
    /// `WouldBlock` (a non-blocking descriptor), after a short sleep: the
    /// commands read their input to the end, and a reader that is not
    /// ready yet is waited for.
    fn read_inner(&mut self, at: usize, to: usize) -> io::Result<usize> {
        loop {
            let Some(dst) = self.buf.get_mut(at..to) else {
                return Ok(0);
            };
            let res = match &mut self.inner {
                Inner::File { file, .. } => file.read(dst),
                Inner::Stream(r) => r.read(dst),
                Inner::Drained | Inner::Mapped { .. } => Ok(0),
            };
            match res {
                Ok(n) => {
                    if let Some(b) = &self.bar {
                        b.inc(n as u64);
                    }
                    return Ok(n.min(to - at));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Refills: Ok(0) at the end of input.
    fn fill_once(&mut self) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let want = if std::mem::take(&mut self.small) {
            SMALL
        } else {
            BUF
        };
        let to = (self.end + want).min(self.buf.len());
        let n = self.read_inner(self.end, to)?;
        self.end += n;
        Ok(n)
    }
}

impl Source for InputSource {
    #[inline]
    fn read_exact(&mut self, out: &mut [u8]) -> Result<(), ReadError> {
        if self.is_mapped() {
            let rest = self.mapped_rest();
            let Some(src) = rest.get(..out.len()) else {
                return Err(self.mapped_end(rest.len() as u64));
            };
            out.copy_from_slice(src);
            self.advance_mapped(out.len());
            return Ok(());
        }
        self.read_exact_buffered(out)
    }

    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        let n = n.min(MAX_PEEK);
        if self.is_mapped() {
            let rest = self.mapped_rest();
            return Ok(rest.get(..n.min(rest.len())).unwrap_or_default());
        }
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
        Ok(self
            .buf
            .get(self.start..self.start + avail)
            .unwrap_or_default())
    }

    #[inline]
    fn skip(&mut self, n: u64) -> Result<(), ReadError> {
        if self.is_mapped() {
            let left = self.mapped_rest().len() as u64;
            if n > left {
                return Err(self.mapped_end(left));
            }
            self.advance_mapped(n as usize);
            self.prefetch_stride();
            return Ok(());
        }
        self.skip_buffered(n)
    }

    fn offset(&self) -> u64 {
        self.pos
    }

    #[inline]
    fn in_memory(&self) -> (&[u8], bool) {
        match &self.inner {
            Inner::Mapped { .. } => (self.mapped_rest(), true),
            inner => (
                self.buf.get(self.start..self.end).unwrap_or_default(),
                matches!(inner, Inner::Drained),
            ),
        }
    }

    #[inline]
    fn advance(&mut self, n: usize) {
        if self.is_mapped() {
            self.advance_mapped(n.min(self.mapped_rest().len()));
        } else {
            let n = n.min(self.buffered());
            self.start += n;
            self.pos += n as u64;
        }
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.is_mapped() {
            if self.mapped_rest().len() < n {
                return None;
            }
            self.advance_mapped(n);
            let rest = self.mapped_rest();
            // The `n` bytes just passed end where `rest` starts.
            let Inner::Mapped { map, .. } = &self.inner else {
                return None;
            };
            let all = map.bytes();
            let end = all.len() - rest.len();
            return all.get(end - n..end);
        }
        let end = self.start.checked_add(n).filter(|&e| e <= self.end)?;
        let head = self.buf.get(self.start..end)?;
        self.start = end;
        self.pos += n as u64;
        Some(head)
    }
}

impl Drop for InputSource {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// What [`InputSource::find_trailer`] found.
pub enum TrailerScan {
    /// The trailer's JSON and its stream offset.
    Json {
        /// Offset of the JSON's first byte.
        at: u64,
        /// The JSON.
        json: Vec<u8>,
    },
    /// A trailer whose length runs past the end of the stream.
    Truncated {
        /// Offset of the JSON's first byte (or of the length, when even
        /// that is cut).
        at: u64,
        /// Bytes it announced.
        needed: u64,
        /// Bytes there were.
        available: u64,
    },
    /// No trailer.
    Missing,
}

/// The chunk the trailer search reads at a time.
const SCAN: u64 = 64 * 1024;

fn read_at(f: &mut dyn ReadSeek, base: u64, at: u64, n: u64) -> io::Result<Vec<u8>> {
    f.seek(SeekFrom::Start(base + at))?;
    let mut v = Vec::new();
    f.take(n).read_to_end(&mut v)?;
    Ok(v)
}

fn scan_trailer(f: &mut dyn ReadSeek, base: u64, len: u64, max: u64) -> io::Result<TrailerScan> {
    let from = len.saturating_sub(max.saturating_add(5));
    // End-anchored: 0x06 at p, be32 length at p+1, `{` at p+5, the JSON
    // running exactly to the end.
    let mut end = len;
    while end > from {
        let start = end.saturating_sub(SCAN).max(from);
        let chunk = read_at(f, base, start, (end + 5).min(len) - start)?;
        let window = chunk.get(..(end - start) as usize).unwrap_or_default();
        for i in memchr::memrchr_iter(0x06, window) {
            let p = start + i as u64;
            if chunk.get(i + 5) != Some(&b'{') {
                continue;
            }
            let Some(n) = chunk
                .get(i + 1..i + 5)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes)
            else {
                continue;
            };
            if p + 5 + u64::from(n) == len {
                let json = read_at(f, base, p + 5, u64::from(n))?;
                return Ok(TrailerScan::Json { at: p + 5, json });
            }
        }
        end = start;
    }
    // The heuristic: the last NUL byte in the window ...
    let mut end = len;
    let mut nul = None;
    while end > from && nul.is_none() {
        let start = end.saturating_sub(SCAN).max(from);
        let chunk = read_at(f, base, start, end - start)?;
        nul = memchr::memrchr(0, &chunk).map(|i| start + i as u64);
        end = start;
    }
    let Some(nul) = nul else {
        return Ok(TrailerScan::Missing);
    };
    // ... the first `{` after it ...
    let mut at = nul;
    let mut brace = None;
    while at < len && brace.is_none() {
        let chunk = read_at(f, base, at, SCAN.min(len - at))?;
        brace = memchr::memchr(b'{', &chunk).map(|i| at + i as u64);
        at += chunk.len() as u64;
        if chunk.is_empty() {
            break;
        }
    }
    // ... and a 0x06 five bytes before it.
    let Some(p) = brace.and_then(|b| b.checked_sub(5)).filter(|&p| p >= from) else {
        return Ok(TrailerScan::Missing);
    };
    let head = read_at(f, base, p, 5)?;
    if head.first() != Some(&0x06) {
        return Ok(TrailerScan::Missing);
    }
    let Some(n) = head
        .get(1..5)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
    else {
        return Ok(TrailerScan::Truncated {
            at: p,
            needed: 5,
            available: head.len() as u64,
        });
    };
    let available = len - (p + 5);
    if u64::from(n) > available {
        return Ok(TrailerScan::Truncated {
            at: p + 5,
            needed: n.into(),
            available,
        });
    }
    let json = read_at(f, base, p + 5, u64::from(n))?;
    Ok(TrailerScan::Json { at: p + 5, json })
}
