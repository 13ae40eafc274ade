//! Live update of a small VMM, as QEMU's CPR does it: the new process
//! takes over guest RAM without copying it.
//!
//! Run: `cargo run --example live_update`
//!
//! Generation 0 (the old VMM) keeps guest RAM in a memfd mapped at address
//! X, a DMA-mapping table keyed by host virtual address (iommufd
//! re-registers mappings by their old address), and device state with a
//! `void_ptr` to the RAM plus a `u64_from_ptr, pre_save` shadow of it. It
//! hands over twice:
//!
//! 1. **cpr-transfer**: it starts a new process of itself and sends the
//!    state over a Unix socket, the RAM memfd as `SCM_RIGHTS` on its
//!    placeholder byte. The new process maps the memfd at a new address Y,
//!    checks the guest pattern in place, and proves the memory is shared,
//!    not copied: the old process writes a byte through X after the
//!    hand-over and the new one reads it through Y.
//! 2. **cpr-exec**: generation 1 writes its state into a memfd that
//!    survives `exec` (the RAM memfd's number in it), and `exec`s itself;
//!    generation 2 (same PID) claims both descriptors, maps the RAM at Z,
//!    checks it and re-keys the table again.
//!
//! Saving the same state in normal mode fails, naming the field.

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::ptr::NonNull;

use rustix::fs::{ftruncate, memfd_create, MemfdFlags};
use rustix::mm::{mmap, MapFlags, ProtFlags};
use vmstate_core::fdchan::{ExecFdSink, ExecFdSource, UnixFdSink, UnixFdSource};
use vmstate_core::{Context, MigMode, Reader, VmState, Writer};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Guest RAM: 4 MiB.
const RAM_SIZE: usize = 4 << 20;
/// Where generation 0 writes a byte after the hand-over.
const LATE_OFFSET: usize = 0x1234;
/// What generation 1 writes before `exec`.
const EXEC_OFFSET: usize = 0x5678;
/// Marks the end of the transfer state on the socket (the load's
/// subsection peek needs a byte after the last field).
const END: u8 = 0x1f;

/// One DMA mapping; the table is keyed by the host virtual address.
#[derive(VmState, Clone, Debug, Default)]
#[vmstate(name = "vmm/dma", version = 1)]
struct DmaMap {
    iova: u64,
    len: u64,
}

/// The VMM's migratable state.
#[derive(VmState, Debug, Default)]
#[vmstate(name = "vmm", version = 1, pre_save = Self::pre_save)]
struct Vmm {
    ram_size: u64,
    /// The RAM's address in the process that saved: an identifier only.
    #[vmstate(void_ptr)]
    ram_host: Option<NonNull<u8>>,
    /// The same address as a plain `u64` (the form QEMU's review prefers).
    #[vmstate(u64_from_ptr = ram_host, pre_save)]
    ram_host_shadow: u64,
    /// host VA -> mapping, as iommufd keys them.
    #[vmstate(gtree)]
    dma: BTreeMap<u64, DmaMap>,
    /// The guest RAM itself travels as a descriptor, not as bytes.
    #[vmstate(fd)]
    ram_fd: Option<OwnedFd>,
    #[vmstate(skip)]
    saves: u32,
}

impl Vmm {
    fn pre_save(&mut self) -> Result<(), std::convert::Infallible> {
        self.saves += 1;
        Ok(())
    }
}

/// A pattern that depends on every byte's offset.
fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(7) ^ (i >> 9)) as u8
}

/// Maps `len` bytes of `fd` shared, read-write.
fn map(fd: &OwnedFd, len: usize) -> Res<NonNull<u8>> {
    // SAFETY: a fresh shared mapping chosen by the kernel; nothing else in
    // this process refers to that range. It is never unmapped (the VMM
    // keeps guest RAM for its whole life).
    let p = unsafe {
        mmap(
            std::ptr::null_mut::<c_void>(),
            len,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::SHARED,
            fd.as_fd(),
            0,
        )?
    };
    NonNull::new(p.cast::<u8>()).ok_or_else(|| "mmap returned null".into())
}

/// The guest RAM at `base`, as a slice.
fn ram<'a>(base: NonNull<u8>) -> &'a mut [u8] {
    // SAFETY: `base` is a live shared mapping of RAM_SIZE bytes made by
    // `map` and never unmapped; the guest (this demo) is not running
    // concurrently within this process.
    unsafe { std::slice::from_raw_parts_mut(base.as_ptr(), RAM_SIZE) }
}

/// Checks the guest pattern in place (no copy), skipping the bytes the
/// VMM wrote on purpose.
fn check_pattern(ram: &[u8], skip: &[usize]) -> Res<()> {
    for (i, b) in ram.iter().enumerate() {
        if *b != pattern(i) && !skip.contains(&i) {
            return Err(format!("guest RAM differs at {i:#x}").into());
        }
    }
    Ok(())
}

/// Re-keys the DMA table from the old RAM address to the new one.
fn rekey(dma: BTreeMap<u64, DmaMap>, old: u64, new: u64) -> Res<BTreeMap<u64, DmaMap>> {
    dma.into_iter()
        .map(|(va, m)| {
            let off = va
                .checked_sub(old)
                .filter(|o| *o < RAM_SIZE as u64)
                .ok_or("a DMA mapping outside guest RAM")?;
            Ok((new + off, m))
        })
        .collect()
}

fn addr(p: Option<NonNull<u8>>) -> u64 {
    p.map_or(0, |p| p.as_ptr() as usize as u64)
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => generation0(),
        Some("--after-transfer") => generation1(args.get(1).ok_or("no socket path")?),
        Some("--after-exec") => generation2(&args[1..]),
        Some(other) => Err(format!("unknown argument {other}").into()),
    }
}

/// The old VMM: builds the state, shows the normal-mode refusal, and hands
/// over to a new process of itself (cpr-transfer).
fn generation0() -> Res<()> {
    let pid = std::process::id();
    let ram_fd = memfd_create("guest-ram", MemfdFlags::CLOEXEC)?;
    ftruncate(&ram_fd, RAM_SIZE as u64)?;
    let x = map(&ram_fd, RAM_SIZE)?;
    for (i, b) in ram(x).iter_mut().enumerate() {
        *b = pattern(i);
    }
    let xa = addr(Some(x));
    let dma = (0..3u64)
        .map(|i| {
            let m = DmaMap {
                iova: 0x1_0000_0000 + i * 0x10_0000,
                len: 0x10_0000,
            };
            (xa + i * 0x10_0000, m)
        })
        .collect();
    let mut vmm = Vmm {
        ram_size: RAM_SIZE as u64,
        ram_host: Some(x),
        dma,
        ram_fd: Some(ram_fd),
        ..Vmm::default()
    };
    println!("gen0 pid {pid}: guest RAM {RAM_SIZE} bytes in a memfd at X = {xa:#x}");

    match vmm.to_bytes(&Context::new()) {
        Ok(_) => return Err("normal mode saved a void_ptr".into()),
        Err(e) => println!("gen0: normal mode refused: {e}"),
    }
    if vmm.saves != 0 {
        return Err("pre_save ran before the refusal".into());
    }

    let dir = std::env::temp_dir().join(format!("vmstate-live-update-{pid}"));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("cpr.sock");
    let listener = UnixListener::bind(&path)?;
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--after-transfer")
        .arg(&path)
        .spawn()?;
    let (sock, _) = listener.accept()?;
    std::fs::remove_dir_all(&dir)?;

    let ctx = Context::new().with_mode(MigMode::CprTransfer);
    let mut w = Writer::new(UnixFdSink::new(sock.try_clone()?));
    vmm.save(&mut w, &ctx)?;
    let (bytes, fds) = (w.offset(), w.get_ref().fds_sent());
    w.put_u8(END)?;
    w.flush()?;
    println!("gen0: cpr-transfer sent {bytes} bytes of state and {fds} fd");

    // The new process has mapped the RAM: write through X, it reads at Y.
    let mut sock = sock;
    let mut ack = [0u8];
    sock.read_exact(&mut ack)?;
    ram(x)[LATE_OFFSET] = 0xa5;
    sock.write_all(&[1])?;

    let status = child.wait()?;
    if !status.success() {
        return Err(format!("the new VMM failed: {status}").into());
    }
    println!("gen0: the new VMM took over; live update done");
    Ok(())
}

/// The new VMM after cpr-transfer: maps the RAM at Y, checks it without
/// copying, re-keys the table; then hands over again by cpr-exec.
fn generation1(path: &str) -> Res<()> {
    let pid = std::process::id();
    let sock = UnixStream::connect(path)?;
    let ctx = Context::new().with_mode(MigMode::CprTransfer);
    let mut r = Reader::with_source(UnixFdSource::new(sock.try_clone()?));
    let mut vmm = Vmm::default();
    vmm.load_state_in_place(&mut r, 1, &ctx)?;
    if r.get_u8()? != END {
        return Err("no end marker after the state".into());
    }
    r.finish_fds()?;
    let state_bytes = r.offset() - 1;
    let fd = vmm.ram_fd.as_ref().ok_or("no RAM descriptor")?;
    let size = rustix::fs::fstat(fd)?.st_size as usize;
    if size != vmm.ram_size as usize {
        return Err("the memfd is not the guest RAM's size".into());
    }
    let y = map(fd, size)?;
    let (xa, ya) = (vmm.ram_host_shadow, addr(Some(y)));
    if addr(vmm.ram_host) != xa {
        return Err("void_ptr and its u64 shadow disagree".into());
    }
    check_pattern(ram(y), &[LATE_OFFSET])?;

    // Shared, not copied: the old process writes through X now.
    let mut sock = sock;
    sock.write_all(&[1])?;
    let mut done = [0u8];
    sock.read_exact(&mut done)?;
    if ram(y)[LATE_OFFSET] != 0xa5 {
        return Err("a write through X did not show at Y: the RAM was copied".into());
    }

    vmm.dma = rekey(std::mem::take(&mut vmm.dma), xa, ya)?;
    vmm.ram_host = Some(y);
    let first = vmm.dma.keys().next().copied().unwrap_or(0);
    println!(
        "gen1 pid {pid} (cpr-transfer): state {state_bytes} bytes, 1 fd, RAM copied 0 bytes; \
         RAM {size} bytes mapped at Y = {ya:#x} (was X = {xa:#x}); pattern ok; a write through X \
         after the hand-over was seen at Y; {} DMA mappings re-keyed (first {xa:#x} -> {first:#x})",
        vmm.dma.len()
    );

    // The guest keeps running, then cpr-exec.
    ram(y)[EXEC_OFFSET] = 0x5a;
    let state_fd = memfd_create("vmm-cpr-state", MemfdFlags::empty())?;
    let mut w = Writer::new(ExecFdSink::new(File::from(state_fd.try_clone()?)));
    vmm.save(&mut w, &Context::new().with_mode(MigMode::CprExec))?;
    w.flush()?;
    let bytes = w.offset();
    let sink = w.into_inner();
    let inherited: Vec<String> = sink.fds().iter().map(|n| n.to_string()).collect();
    drop(sink);
    println!(
        "gen1: cpr-exec: {bytes} bytes of state in memfd {}, keeping fds {inherited:?}",
        state_fd.as_raw_fd()
    );
    std::io::stdout().flush()?;
    let err = Command::new(std::env::current_exe()?)
        .arg("--after-exec")
        .arg(state_fd.as_raw_fd().to_string())
        .args(&inherited)
        .exec();
    Err(format!("exec failed: {err}").into())
}

/// The VMM after cpr-exec (same PID): claims the descriptors it was given,
/// loads the state from the memfd, maps the RAM at Z.
fn generation2(args: &[String]) -> Res<()> {
    let pid = std::process::id();
    let nums: Vec<i32> = args.iter().map(|a| a.parse()).collect::<Result<_, _>>()?;
    let (&state_num, ram_nums) = nums.split_first().ok_or("no state descriptor")?;
    // SAFETY: these numbers were written into our argv by the process
    // image that `exec`ed us, which kept them open across exec for this
    // purpose; nothing else in this new image owns them.
    let claim = |n: i32| unsafe { OwnedFd::from_raw_fd(n) };
    let mut state = File::from(claim(state_num));
    state.rewind()?;
    let inherited = ram_nums.iter().map(|&n| claim(n)).collect();

    let ctx = Context::new().with_mode(MigMode::CprExec);
    let mut r = Reader::with_source(ExecFdSource::new(state, inherited));
    let mut vmm = Vmm::default();
    vmm.load_state_in_place(&mut r, 1, &ctx)?;
    r.finish_fds()?;
    let state_bytes = r.offset();
    let fd = vmm.ram_fd.as_ref().ok_or("no RAM descriptor")?;
    let z = map(fd, vmm.ram_size as usize)?;
    let (ya, za) = (vmm.ram_host_shadow, addr(Some(z)));
    check_pattern(ram(z), &[LATE_OFFSET, EXEC_OFFSET])?;
    if ram(z)[LATE_OFFSET] != 0xa5 || ram(z)[EXEC_OFFSET] != 0x5a {
        return Err("the bytes written by earlier generations are missing".into());
    }
    vmm.dma = rekey(std::mem::take(&mut vmm.dma), ya, za)?;
    println!(
        "gen2 pid {pid} (cpr-exec): state {state_bytes} bytes, 1 fd, RAM copied 0 bytes; RAM \
         mapped at Z = {za:#x} (was Y = {ya:#x}); pattern and both generations' writes ok; {} DMA \
         mappings re-keyed",
        vmm.dma.len()
    );
    Ok(())
}
