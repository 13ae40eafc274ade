//! Hostile streams through the `vmstate` tool's commands (`analyze`,
//! `sections`, `roundtrip`, from a pipe and from a seekable input), under
//! an allocation cap: no panic, and no command ever holds more than `CAP`
//! bytes at once (the inputs are at most a few MiB, so anything near the
//! cap is memory sized by a length from the stream).
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use libfuzzer_sys::fuzz_target;
use vmstate_cli::Input;

/// Live bytes allowed.
const CAP: usize = 256 << 20;

struct Capped;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size() > CAP {
            eprintln!(
                "allocation cap exceeded: {} bytes live",
                LIVE.load(Ordering::Relaxed)
            );
            std::process::abort();
        }
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        System.dealloc(p, l)
    }
}

#[global_allocator]
static A: Capped = Capped;

fn pipe(data: &[u8]) -> Input {
    Input::from_read(Path::new("<fuzz>"), Box::new(Cursor::new(data.to_vec())))
}

fn file(data: &[u8]) -> Input {
    let len = data.len() as u64;
    Input::from_seekable(
        Path::new("<fuzz>"),
        Box::new(Cursor::new(data.to_vec())),
        len,
    )
    .unwrap_or_else(|e| panic!("a cursor is seekable: {e}"))
}

fuzz_target!(|data: &[u8]| {
    for open in [pipe as fn(&[u8]) -> Input, file] {
        let _ = vmstate_cli::analyze_to(open(data), false, &mut std::io::sink());
        let _ = vmstate_cli::sections_from(open(data), &mut std::io::sink());
        let _ = vmstate_cli::roundtrip_from(open(data), &mut std::io::sink());
    }
});
