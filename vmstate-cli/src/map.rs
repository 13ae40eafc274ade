//! A regular file mapped into memory, read once from start to end.
//!
//! Skipping a RAM page of a mapped stream reads nothing, but the next
//! page's header is in the next page of the file: every page of the
//! mapping is still touched once. What that costs is the page fault that
//! maps it in (the kernel maps the neighbouring pages of the page cache in
//! the same fault, fewer of them when the file was just written in small
//! pieces than when it was read from disk) and a cache miss, which the
//! reader hides with [`prefetch`]. Pages the reader has passed are given
//! back, so the resident set stays a few MiB whatever the file's size.

use std::fs::File;

/// The pages the reader has passed are given back every this many bytes.
const RELEASE: u64 = 4 << 20;

/// A read-only private mapping of a whole regular file.
///
/// A file truncated by another process while it is mapped makes reads of
/// the lost pages fail with SIGBUS: read such a file through a pipe
/// (`cat FILE | vmstate ... -`) instead.
pub struct Map {
    ptr: *mut libc::c_void,
    len: usize,
    /// Bytes before this were given back (`MADV_DONTNEED`).
    released: u64,
}

impl Map {
    /// Maps `len` bytes of `file`; `None` when it cannot be mapped (empty,
    /// or a file system without mappings): the caller reads it instead.
    pub fn new(file: &File, len: u64) -> Option<Map> {
        use std::os::fd::AsRawFd;
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
            released: 0,
        })
    }

    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes until `drop`.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }

    /// The reader is at `at`: pages wholly before it are given back every
    /// [`RELEASE`] bytes.
    pub fn reader_at(&mut self, at: u64) {
        if at >= self.released + RELEASE {
            self.release_before(at);
        }
    }

    /// Drops the pages wholly before `at` from the resident set (they are
    /// read again from the page cache if touched: the mapping is private
    /// and never written).
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
