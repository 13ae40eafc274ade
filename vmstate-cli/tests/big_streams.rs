//! Memory and time on streams far larger than anything kept: generated as
//! they are read (`support/gen.rs`), measured with a counting allocator.
//!
//! The bound (README, "Safe on hostile input"): every command and
//! `Dispatcher::load_read` peak at a constant (`CONSTANT`) plus the vmdesc
//! and what the command keeps on purpose, never in proportion to a section
//! or to the stream. The 1 GiB runs are `#[ignore]`d (minutes in a debug
//! build); `.ci/run` runs them in release:
//! `cargo test --release -p vmstate-cli --test big_streams -- --ignored`.

#[path = "support/gen.rs"]
mod gen;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Seek};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use gen::GenStream;
use vmstate_cli::Input;
use vmstate_core::Context;
use vmstate_migration::{Dispatcher, ReadOptions};

/// The device of the generated streams.
#[derive(vmstate_core::VmState, Clone, Default)]
#[vmstate(name = "d", version = 1)]
struct D {
    x: u8,
}

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = System.alloc(l);
        if !p.is_null() {
            let now = CURRENT.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l);
        CURRENT.fetch_sub(l.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = System.realloc(p, l, new);
        if !q.is_null() {
            if new > l.size() {
                let now = CURRENT.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static A: Counting = Counting;

/// One measurement at a time: tests of this file run one after another.
static SERIAL: Mutex<()> = Mutex::new(());

/// The constant part of the bound.
const CONSTANT: usize = 64 << 20;

/// Peak bytes allocated by `f` beyond what was allocated before it.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst).saturating_sub(base))
}

/// A sink that counts what it is given.
#[derive(Default)]
struct Count(u64);
impl std::io::Write for Count {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Opens a generated stream as a command's input.
type Opener = fn(GenStream) -> Input;

fn pipe(s: GenStream) -> Input {
    Input::from_read(Path::new("<generated>"), Box::new(s))
}

fn file(s: GenStream) -> Input {
    let len = s.len();
    Input::from_seekable(Path::new("<generated>"), Box::new(s), len).unwrap()
}

/// Runs every command on `make()` (as a pipe and as a file where both
/// apply) and `Dispatcher::load_read`; asserts each peak is below `bound`.
/// Returns the largest peak.
fn all_commands(
    label: &str,
    make: &dyn Fn() -> GenStream,
    pipe_ok: bool,
    dispatch: bool,
    bound: usize,
) -> usize {
    let mut worst = 0;
    let mut check = |what: &str, peak: usize| {
        eprintln!("{label}: {what}: peak {} KiB", peak >> 10);
        assert!(
            peak < bound,
            "{label}: {what} peaked at {peak} bytes (bound {bound})"
        );
        worst = worst.max(peak);
    };
    let mut inputs: Vec<(&str, Opener)> = vec![("file", file)];
    if pipe_ok {
        inputs.push(("pipe", pipe));
    }
    for (kind, open) in inputs {
        let (r, p) =
            peak_of(|| vmstate_cli::analyze_to(open(make()), false, &mut Count::default()));
        r.unwrap();
        check(&format!("analyze ({kind})"), p);
        let (r, p) = peak_of(|| vmstate_cli::sections_from(open(make()), &mut Count::default()));
        r.unwrap();
        check(&format!("sections ({kind})"), p);
        let (r, p) = peak_of(|| vmstate_cli::roundtrip_from(open(make()), &mut Count::default()));
        r.unwrap();
        check(&format!("roundtrip ({kind})"), p);
    }
    let (r, p) = peak_of(|| {
        let mut d = Dispatcher::new(Context::new());
        let mut x = D::default();
        d.register("d", 0, &mut x);
        let opts = ReadOptions {
            keep_ram_pages: false,
            ..ReadOptions::default()
        };
        let mut items = 0u64;
        let rep = d.load_read(make(), None, opts, |_| {
            items += 1;
            Ok(())
        });
        rep.map(|_| items)
    });
    if dispatch {
        r.unwrap();
        check("Dispatcher::load_read", p);
    }
    worst
}

fn zero_pages_case(bytes: u64) {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let pages = bytes / 9;
    all_commands(
        &format!("{} MiB of zero pages", bytes >> 20),
        &|| gen::zero_pages(pages),
        true,
        true,
        CONSTANT,
    );
    // edit streams RAM through too (pages re-emitted as they come).
    let (r, p) = peak_of(|| {
        let out = std::env::temp_dir().join(format!("vmstate-big-{}.mig", std::process::id()));
        let r = vmstate_cli::edit_from(pipe(gen::zero_pages(pages)), &out, &["d/x=9".into()]);
        let len = std::fs::metadata(&out).map(|m| m.len());
        let _ = std::fs::remove_file(&out);
        r.map(|()| len)
    });
    assert_eq!(r.unwrap().unwrap(), gen::zero_pages(pages).len());
    eprintln!("edit (pipe): peak {} KiB", p >> 10);
    assert!(p < CONSTANT, "edit peaked at {p}");
}

fn big_buffer_case(bytes: u64) {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // A pipe must hold the device sections until the trailer: only the
    // file form is bounded here.
    let worst = all_commands(
        &format!("a {} MiB buffer field", bytes >> 20),
        &|| gen::big_buffer(bytes),
        false,
        false,
        CONSTANT,
    );
    assert!(worst < CONSTANT);
    // analyze wrote the whole field (3 characters a byte).
    let mut out = Count::default();
    vmstate_cli::analyze_to(file(gen::big_buffer(bytes)), false, &mut out).unwrap();
    assert!(out.0 > 3 * bytes, "{}", out.0);
    // edit copies the big section through as it reads it.
    let (r, p) = peak_of(|| {
        let out = std::env::temp_dir().join(format!("vmstate-bigbuf-{}.mig", std::process::id()));
        let r = vmstate_cli::edit_from(file(gen::big_buffer(bytes)), &out, &["d/x=9".into()]);
        let len = std::fs::metadata(&out).map(|m| m.len());
        let _ = std::fs::remove_file(&out);
        r.map(|()| len)
    });
    assert_eq!(r.unwrap().unwrap(), gen::big_buffer(bytes).len());
    eprintln!("edit (file): peak {} KiB", p >> 10);
    assert!(p < CONSTANT, "edit peaked at {p}");
}

#[test]
fn zero_pages_16_mib() {
    zero_pages_case(16 << 20);
}

#[test]
fn big_buffer_16_mib() {
    big_buffer_case(16 << 20);
}

#[test]
#[ignore = "1 GiB: run in release by .ci/run"]
fn zero_pages_1_gib() {
    zero_pages_case(1 << 30);
}

#[test]
#[ignore = "1 GiB: run in release by .ci/run"]
fn big_buffer_1_gib() {
    big_buffer_case(1 << 30);
}

#[test]
fn the_generator_reads_and_seeks() {
    let mut g = gen::zero_pages(3);
    let mut all = Vec::new();
    g.read_to_end(&mut all).unwrap();
    assert_eq!(all.len() as u64, g.len());
    g.seek(std::io::SeekFrom::Start(5)).unwrap();
    let mut b = [0u8; 3];
    g.read_exact(&mut b).unwrap();
    assert_eq!(b, all[5..8]);
    let stream = vmstate_migration::Stream::parse(&all, ReadOptions::default()).unwrap();
    assert_eq!(stream.sections().count(), 2);
}

/// Seconds to list and analyze `n` tiny sections (as a file; the stream
/// is made before the clock starts).
fn time_tiny(n: u32) -> f64 {
    let mut bytes = Vec::new();
    gen::tiny_sections(n).read_to_end(&mut bytes).unwrap();
    let len = bytes.len() as u64;
    let a = Box::new(std::io::Cursor::new(bytes.clone()));
    let b = Box::new(std::io::Cursor::new(bytes));
    let name = Path::new("<generated>");
    let t = Instant::now();
    vmstate_cli::sections_from(
        Input::from_seekable(name, a, len).unwrap(),
        &mut Count::default(),
    )
    .unwrap();
    vmstate_cli::analyze_to(
        Input::from_seekable(name, b, len).unwrap(),
        false,
        &mut Count::default(),
    )
    .unwrap();
    t.elapsed().as_secs_f64()
}

fn tiny_case(n: u32) {
    let vmdesc_len = {
        let mut all = Vec::new();
        gen::tiny_sections(n).read_to_end(&mut all).unwrap();
        all.len()
            - all
                .windows(13)
                .rposition(|w| w == b"{\"page_size\":")
                .unwrap()
    };
    // The parsed vmdesc is kept (its text and typed form, at most 20
    // times its text), on top of the constant.
    all_commands(
        &format!("{n} tiny sections"),
        &|| gen::tiny_sections(n),
        true,
        false,
        CONSTANT + 24 * vmdesc_len,
    );
}

/// `(n/2 sections, n sections)` seconds, and their ratio asserted linear:
/// twice the sections take about twice the time (a lookup per section that
/// scanned the vmdesc made it four times).
fn linear(n: u32) -> (f64, f64) {
    // The best of two runs each: the machine may be shared.
    let small = time_tiny(n / 2).min(time_tiny(n / 2));
    let big = time_tiny(n).min(time_tiny(n));
    let ratio = big / small;
    eprintln!(
        "{} sections: {small:.2}s, {n}: {big:.2}s, ratio {ratio:.2}",
        n / 2
    );
    assert!(
        ratio < 3.0,
        "time grows faster than linearly: ratio {ratio:.2}"
    );
    (small, big)
}

#[test]
fn many_tiny_sections_in_linear_time_and_bounded_memory() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tiny_case(10_000);
    linear(20_000);
}

#[test]
#[ignore = "100,000 and 200,000 sections: run in release by .ci/run"]
fn two_hundred_thousand_sections_in_seconds() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tiny_case(100_000);
    let (_, big) = linear(200_000);
    // Seconds, even on a loaded 2-core machine (about 2 s when idle).
    assert!(big < 20.0, "{big:.1}s");
}

/// A regular file is mapped and read in windows mapped ahead of the reader
/// and given back behind it: across many windows, `analyze` and `sections`
/// of a file of full RAM pages print what they print of the same bytes read
/// and seeked, and read from a pipe.
#[test]
fn a_mapped_file_reads_as_a_pipe_across_windows() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // 24 MiB: several windows, pages on both sides of each boundary.
    let pages = 6000;
    let path = std::env::temp_dir().join(format!("vmstate-mapped-{}.mig", std::process::id()));
    let mut f = std::fs::File::create(&path).unwrap();
    std::io::copy(&mut gen::full_pages(pages), &mut f).unwrap();
    drop(f);
    type Cmd = fn(Input, &mut dyn std::io::Write) -> Result<(), vmstate_cli::CliError>;
    let analyze: Cmd = |i, out| vmstate_cli::analyze_to(i, false, out);
    let sections: Cmd = vmstate_cli::sections_from;
    // What shows that the device section after the pages was reached.
    let last = [
        ("analyze", analyze, "\"x\": \"0x07\""),
        ("sections", sections, "FULL      2  d "),
    ];
    for (what, cmd, end) in last {
        let run = |input: Input| {
            let mut out = Vec::new();
            cmd(input, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let mapped = run(Input::open(&path).unwrap());
        assert_eq!(
            mapped,
            run(file(gen::full_pages(pages))),
            "{what}: file read and seeked"
        );
        assert_eq!(mapped, run(pipe(gen::full_pages(pages))), "{what}: pipe");
        assert!(mapped.contains(end), "{what}: {mapped}");
    }
    std::fs::remove_file(&path).unwrap();
}
