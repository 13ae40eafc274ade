//! The least any reader pays to look at every 4 KiB page of a file once:
//! the file is mapped as `vmstate` maps a stream (windows of 4 MiB mapped
//! with their pages just ahead, given back just behind), and one byte of
//! each page is read, nothing parsed. A RAM page record's header sits in
//! every page of a stream of non-zero guest RAM, so this is the floor under
//! `vmstate analyze` on such a stream (BENCHMARKS.md, "`vmstate analyze`
//! against QEMU's analyze-migration.py").
//!
//!     cargo run --release -p vmstate-bench --example page_floor -- FILE
//!
//! Prints the sum of the bytes read (so that the reads happen).

use std::os::fd::AsRawFd;

const PAGE: usize = 4096;
const WINDOW: usize = 4 << 20;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: page_floor FILE");
        std::process::exit(2);
    };
    let file = std::fs::File::open(&path).expect("open");
    let len = usize::try_from(file.metadata().expect("metadata").len()).expect("size");
    if len == 0 {
        println!("0");
        return;
    }
    let fd = file.as_raw_fd();
    // SAFETY: a fresh read-only private mapping; the result is checked.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            fd,
            0,
        )
    };
    assert_ne!(base, libc::MAP_FAILED, "mmap");
    let base = base.cast::<u8>();
    let mut sum = 0u64;
    let mut at = 0;
    while at < len {
        let n = WINDOW.min(len - at);
        // SAFETY: `[at, at + n)` is page-aligned (or runs to the end) and
        // inside the mapping; it is mapped again from the same offset.
        unsafe {
            let p = libc::mmap(
                base.add(at).cast(),
                n,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_FIXED | libc::MAP_POPULATE,
                fd,
                at as libc::off_t,
            );
            assert_ne!(p, libc::MAP_FAILED, "mmap window");
        }
        for page in (at..at + n).step_by(PAGE) {
            // SAFETY: inside the mapping.
            sum += u64::from(unsafe { base.add(page).read_volatile() });
        }
        if at >= WINDOW {
            // SAFETY: the window before, inside the mapping, not read again.
            unsafe { libc::madvise(base.add(at - WINDOW).cast(), WINDOW, libc::MADV_DONTNEED) };
        }
        at += n;
    }
    // SAFETY: unmaps exactly the mapping made above.
    unsafe { libc::munmap(base.cast(), len) };
    println!("{sum}");
}
