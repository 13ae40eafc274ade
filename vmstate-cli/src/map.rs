//! A regular file mapped into memory, read once from start to end.
//!
//! Skipping a RAM page of a mapped stream reads nothing, but the next
//! page's header is in the next page of the file: every page of the
//! mapping is still touched once. What that costs is the page fault that
//! maps it in (the kernel maps the neighbouring pages of the page cache in
//! the same fault, fewer of them when the file was just written in small
//! pieces than when it was read from disk) and a cache miss, which the
//! reader hides with [`prefetch`]. So the pages ahead of the reader are
//! mapped [`POPULATE`] bytes at a time, in one call, before it gets there:
//! the kernel then walks the page cache once per window instead of once
//! per fault, which matters most for a file just written, whose page cache
//! is in 4 KiB pieces (about a quarter of the kernel's time on such a
//! file), and which lets [`prefetch`] reach every page ahead. Pages the
//! reader has passed are given back, so the resident set stays a few MiB
//! whatever the file's size.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// The pages the reader has passed are given back every this many bytes.
pub const RELEASE: u64 = 4 << 20;
/// The pages ahead of the reader are mapped this many bytes at a time.
pub const POPULATE: u64 = 4 << 20;

/// A read-only private mapping of a whole regular file.
///
/// A file truncated by another process while it is mapped makes reads of
/// the lost pages fail with SIGBUS: read such a file through a pipe
/// (`cat FILE | vmstate ... -`) instead.
pub struct Map {
    ptr: *mut libc::c_void,
    len: usize,
    /// The mapped file, to map windows of it again with their pages.
    file: File,
    /// Bytes before this were given back (`MADV_DONTNEED`).
    released: u64,
    /// Pages before this were mapped ahead of the reader (or passed).
    populated: u64,
    /// Mapping a window failed and may have left it unmapped: only the
    /// bytes before `lost.0` are readable, and reading further is the
    /// error `lost.1`.
    lost: Option<(usize, io::Error)>,
}

impl Map {
    /// Maps `len` bytes of `file`; `None` when it cannot be mapped (empty,
    /// or a file system without mappings): the caller reads it instead.
    pub fn new(file: &File, len: u64) -> Option<Map> {
        let file = file.try_clone().ok()?;
        let len = usize::try_from(len).ok().filter(|&l| l > 0)?;
        // SAFETY: a fresh read-only private mapping of an open descriptor;
        // the kernel chooses the address. The result is checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        (ptr != libc::MAP_FAILED).then_some(Map {
            ptr,
            len,
            file,
            released: 0,
            populated: 0,
            lost: None,
        })
    }

    /// The whole file (only its readable start if mapping a window failed:
    /// see [`Map::lost`]).
    pub fn bytes(&self) -> &[u8] {
        let len = self.lost.as_ref().map_or(self.len, |l| l.0);
        // SAFETY: `ptr` maps `len` readable bytes until `drop`, of which
        // the first `lost.0` stay mapped whatever happens to a window.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), len) }
    }

    /// The file's length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never: an empty file is not mapped ([`Map::new`]).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Why the bytes after [`Map::bytes`] cannot be read, when the mapping
    /// of a window ahead of the reader failed.
    pub fn lost(&self) -> Option<&io::Error> {
        self.lost.as_ref().map(|l| &l.1)
    }

    /// The reader is at `at`: pages wholly before it are given back every
    /// [`RELEASE`] bytes, and the next [`POPULATE`] bytes are mapped with
    /// their pages when the reader reaches them.
    #[inline]
    pub fn reader_at(&mut self, at: u64) {
        if at >= self.released + RELEASE {
            self.release_before(at);
        }
        if at >= self.populated && self.lost.is_none() {
            self.populate_from(at);
        }
    }

    /// Maps the window of [`POPULATE`] bytes from the first page boundary
    /// at or after `at` again, over itself, with all its pages
    /// (`MAP_POPULATE`): the same bytes of the same file, so nothing the
    /// reader sees changes, and nothing before `at` is touched, so even a
    /// failure leaves every byte read so far mapped.
    #[cold]
    fn populate_from(&mut self, at: u64) {
        let page = page_size();
        let start = at.div_ceil(page) * page;
        let end = (start + POPULATE).min(self.len as u64);
        self.populated = end.max(start);
        let (Ok(off), Ok(n), Ok(file_off)) = (
            usize::try_from(start),
            usize::try_from(end.saturating_sub(start)),
            libc::off_t::try_from(start),
        ) else {
            return;
        };
        if n == 0 {
            return;
        }
        let fd = self.file.as_raw_fd();
        let map = |flags| {
            // SAFETY: `[off, off + n)` is page-aligned and inside the
            // mapping; it is mapped again from the same offset of the same
            // file, read-only and private, so its bytes are unchanged. The
            // reader holds no slice of it (`reader_at` takes `&mut self`).
            unsafe {
                libc::mmap(
                    self.ptr.cast::<u8>().add(off).cast(),
                    n,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_FIXED | flags,
                    fd,
                    file_off,
                )
            }
        };
        if map(libc::MAP_POPULATE) != libc::MAP_FAILED {
            return;
        }
        let err = io::Error::last_os_error();
        // A failed MAP_FIXED may have unmapped the window: map it again
        // without its pages, and failing that, never read it.
        if map(0) == libc::MAP_FAILED {
            self.lost = Some((off, err));
        }
    }

    /// Drops the pages wholly before `at` from the resident set (they are
    /// read again from the page cache if touched: the mapping is private
    /// and never written).
    #[cold]
    fn release_before(&mut self, at: u64) {
        let page = page_size();
        let end = (at / page) * page;
        let start = self.released;
        if end <= start {
            return;
        }
        let (Ok(off), Ok(n)) = (usize::try_from(start), usize::try_from(end - start)) else {
            return;
        };
        // SAFETY: `[start, end)` is page-aligned and inside the mapping
        // (`start` was a previous `end`, `end <= at <= len`); the reader
        // holds no slice of it (`reader_at` takes `&mut self`).
        unsafe {
            libc::madvise(
                self.ptr.cast::<u8>().add(off).cast(),
                n,
                libc::MADV_DONTNEED,
            );
        }
        self.released = end;
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping `new` made.
        unsafe {
            libc::munmap(self.ptr, self.len);
        }
    }
}

/// Asks the CPU to bring the cache line of `b` in; a hint, never a fault.
#[inline(always)]
pub fn prefetch(b: &u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch changes nothing the program sees, and `b` is a
    // valid reference.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
            (b as *const u8).cast(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = b;
}

fn page_size() -> u64 {
    // SAFETY: `sysconf` has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(page).unwrap_or(4096).max(1)
}
