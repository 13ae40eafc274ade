//! QEMU 10.0 on the other end of a real `cpr-transfer`.
//!
//! 1. QEMU 10.0 is the old process and the library the receiver of both
//!    channels (it stands in for the new QEMU): it decodes the CPR state,
//!    receives every descriptor as `SCM_RIGHTS`, and checks each is a memfd
//!    whose size fits the RAM block of the same name in the main stream's
//!    RAM block list.
//! 2. The reverse: the library writes a CPR state, with memfds it created,
//!    to a new QEMU 10.0, which adopts them; the captured main stream of the
//!    same VM then completes the migration, and guest RAM read through
//!    QEMU's monitor shows the bytes the library put in its memfd.
//!
//! Skipped with a printed reason when QEMU 10.0 is not installed
//! (`.ci/install-qemu`); with `CI=true` that is a failure.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::fs::{fstat, ftruncate, memfd_create, MemfdFlags};
use serde_json::{json, Value};
use vmstate_core::fdchan::{UnixFdSink, UnixFdSource};
use vmstate_core::{Context, MigMode, Reader, Writer};
use vmstate_migration::cpr::{CprFd, CprState};
use vmstate_migration::{Item, Payload, RamBody, ReadOptions, Stream};

const QEMU10: &str = "/opt/vmstate/bin/qemu-system-x86_64-10.0";

/// The VM of the fixtures: every RAM block fd-backed and shared.
const VM: &[&str] = &[
    "-machine",
    "pc-i440fx-10.0,memory-backend=ram0,aux-ram-share=on",
    "-m",
    "1",
    "-object",
    "memory-backend-memfd,id=ram0,size=1M,share=on",
    "-nodefaults",
    "-display",
    "none",
    "-accel",
    "tcg",
    "-S",
];

fn qemu_or_skip() -> bool {
    if Path::new(QEMU10).exists() {
        return true;
    }
    let msg = format!("{QEMU10} not found (installed by .ci/install-qemu)");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true: {msg}");
    }
    eprintln!("skipped: {msg}");
    false
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vmstate-qcpr-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Kills and reaps QEMU however the test ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(extra: &[&str], qmp: &Path) -> Guard {
    let child = Command::new(QEMU10)
        .args(VM)
        .args(extra)
        .arg("-qmp")
        .arg(format!("unix:{},server=on,wait=off", qmp.display()))
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    Guard(child)
}

/// Waits for a Unix socket that a process creates.
fn connect(path: &Path, child: &mut Child) -> UnixStream {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match UnixStream::connect(path) {
            Ok(s) => return s,
            Err(e) => {
                if let Ok(Some(st)) = child.try_wait() {
                    panic!("QEMU exited ({st}) before {} appeared", path.display());
                }
                assert!(
                    Instant::now() < deadline,
                    "{} never appeared: {e}",
                    path.display()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Accepts one connection, or fails after `secs` (a QEMU that never
/// connects must not hang the test).
fn accept_within(l: &UnixListener, secs: u64) -> UnixStream {
    l.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "QEMU did not connect");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// A minimal QMP client with bounded waits.
struct Qmp {
    w: UnixStream,
    r: BufReader<UnixStream>,
}

impl Qmp {
    fn connect(sock: &Path, child: &mut Child) -> Qmp {
        let s = connect(sock, child);
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut q = Qmp {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        };
        let greeting = q.line();
        assert!(greeting.get("QMP").is_some(), "{greeting}");
        q.cmd("qmp_capabilities", json!({}));
        q
    }

    fn try_line(&mut self) -> Result<Value, String> {
        let mut l = String::new();
        let n = self
            .r
            .read_line(&mut l)
            .map_err(|e| format!("QMP read: {e}"))?;
        if n == 0 {
            return Err("QMP connection closed".into());
        }
        serde_json::from_str(&l).map_err(|e| format!("bad QMP line {l:?}: {e}"))
    }

    fn line(&mut self) -> Value {
        self.try_line().unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_cmd(&mut self, name: &str, args: Value) -> Result<Value, String> {
        let mut msg = json!({ "execute": name });
        if args.as_object().is_some_and(|o| !o.is_empty()) {
            msg["arguments"] = args;
        }
        // QEMU may already be gone (a `quit` after a finished migration):
        // an error here, not a panic; `cmd` turns it into a failure.
        writeln!(self.w, "{msg}").map_err(|e| format!("QMP {name}: write: {e}"))?;
        loop {
            let r = self.try_line()?;
            if r.get("event").is_some() {
                continue;
            }
            if let Some(e) = r.get("error") {
                return Err(format!("QMP {name}: {e}"));
            }
            return Ok(r.get("return").cloned().unwrap_or(Value::Null));
        }
    }

    fn cmd(&mut self, name: &str, args: Value) -> Value {
        self.try_cmd(name, args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Polls `query-migrate` until `completed` (or fails on `failed`).
    fn wait_migration(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let st = self.cmd("query-migrate", json!({}));
            match st.get("status").and_then(Value::as_str) {
                Some("completed") => return,
                Some("failed") => panic!("migration failed: {st}"),
                _ => {}
            }
            assert!(Instant::now() < deadline, "migration did not finish: {st}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn unix_addr(path: &Path) -> Value {
    json!({ "transport": "socket", "type": "unix", "path": path.to_str().unwrap() })
}

/// The RAM block list (name, used length) of a main stream.
fn ram_blocks(stream: &[u8]) -> Vec<(String, u64)> {
    let s = Stream::parse(stream, ReadOptions::default()).unwrap();
    s.items
        .iter()
        .filter_map(|i| match i {
            Item::Section(s) => match &s.payload {
                Payload::Ram(r) => Some(r),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|r| &r.records)
        .filter_map(|rec| match &rec.body {
            RamBody::MemSize(blocks) => Some(blocks),
            _ => None,
        })
        .flatten()
        .map(|b| (b.name.clone(), b.used_length))
        .collect()
}

fn fd_target(fd: &OwnedFd) -> String {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn qemu_10_sends_its_cpr_state_and_memfds_to_the_library() {
    if !qemu_or_skip() {
        return;
    }
    let dir = tempdir("old");
    let (qmp_path, cpr_path, main_path) = (
        dir.join("qmp.sock"),
        dir.join("cpr.sock"),
        dir.join("main.sock"),
    );
    // The library listens on both channels, as the new QEMU would.
    let cpr_listener = UnixListener::bind(&cpr_path).unwrap();
    let main_listener = UnixListener::bind(&main_path).unwrap();

    let mut qemu = spawn(&[], &qmp_path);
    let mut qmp = Qmp::connect(&qmp_path, &mut qemu.0);
    qmp.cmd("migrate-set-parameters", json!({ "mode": "cpr-transfer" }));

    let cpr = std::thread::spawn(move || {
        let sock = accept_within(&cpr_listener, 60);
        sock.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let ctx = Context::new().with_mode(MigMode::CprTransfer);
        let mut r = Reader::with_source(UnixFdSource::new(sock));
        let state = CprState::load(&mut r, &ctx).unwrap();
        let len = r.offset();
        // Closing our end is the HUP that lets old QEMU go on.
        drop(r);
        (state, len)
    });
    let main = std::thread::spawn(move || {
        let mut sock = accept_within(&main_listener, 60);
        sock.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut bytes = Vec::new();
        sock.read_to_end(&mut bytes).unwrap();
        bytes
    });

    qmp.cmd(
        "migrate",
        json!({ "channels": [
            { "channel-type": "main", "addr": unix_addr(&main_path) },
            { "channel-type": "cpr", "addr": unix_addr(&cpr_path) },
        ]}),
    );
    let (state, len) = cpr.join().unwrap();
    let stream = main.join().unwrap();
    qmp.wait_migration();
    let _ = qmp.try_cmd("quit", json!({}));
    std::fs::remove_dir_all(&dir).unwrap();

    // The same VM as the capture: the same 151 bytes of state.
    assert_eq!(len, 151);
    let blocks = ram_blocks(&stream);
    assert_eq!(state.fds.len(), 6, "{:?}", state.fds);
    assert_eq!(blocks.len(), 6, "{blocks:?}");
    for e in &state.fds {
        let name = e.name();
        let fd = e.fd.as_ref().expect("a descriptor for every entry");
        let target = fd_target(fd);
        assert!(target.starts_with("/memfd:"), "{name}: {target}");
        let size = fstat(fd.as_fd()).unwrap().st_size as u64;
        let (_, used) = blocks
            .iter()
            .find(|(b, _)| *b == name)
            .unwrap_or_else(|| panic!("no RAM block {name} in {blocks:?}"));
        if name.starts_with("/rom@etc/") {
            // Resizeable blobs: the memfd has the block's maximum size.
            assert!(size >= *used && size % 4096 == 0, "{name}: {size} < {used}");
        } else {
            assert_eq!(size, *used, "{name}");
        }
    }
}

#[test]
fn a_new_qemu_10_adopts_memfds_the_library_sends() {
    if !qemu_or_skip() {
        return;
    }
    let dir = tempdir("new");
    let (qmp_path, cpr_path, main_path) = (
        dir.join("qmp.sock"),
        dir.join("cpr.sock"),
        dir.join("main.sock"),
    );
    let cpr_arg = json!({ "channel-type": "cpr", "addr": unix_addr(&cpr_path) }).to_string();
    let mut qemu = spawn(&["-incoming", &cpr_arg, "-incoming", "defer"], &qmp_path);

    // Memfds sized as QEMU 10.0 made them for this VM (the capture's
    // notes), in the order QEMU lists them; a marker in guest RAM.
    let blocks: [(&str, u64); 6] = [
        ("/rom@etc/acpi/rsdp", 4096),
        ("/rom@etc/table-loader", 65536),
        ("/rom@etc/acpi/tables", 2 << 20),
        ("pc.rom", 128 << 10),
        ("pc.bios", 256 << 10),
        ("ram0", 1 << 20),
    ];
    const MARK_AT: u64 = 0x10000;
    let marker = *b"vmstate!";
    let mut state = CprState::default();
    for (name, size) in blocks {
        let fd = memfd_create(format!("vmstate-{name}"), MemfdFlags::CLOEXEC).unwrap();
        ftruncate(&fd, size).unwrap();
        if name == "ram0" {
            rustix::io::pwrite(&fd, &marker, MARK_AT).unwrap();
        }
        state.fds.push(CprFd::new(name, 0, Some(fd)));
    }

    let sock = connect(&cpr_path, &mut qemu.0);
    let ctx = Context::new().with_mode(MigMode::CprTransfer);
    let mut w = Writer::new(UnixFdSink::new(sock));
    state.save(&mut w, &ctx).unwrap();
    w.flush().unwrap();
    let mut sock = w.into_inner().into_inner();
    // New QEMU reads to EOF (its subsection peek), as old QEMU's
    // half-close gives it.
    sock.shutdown(std::net::Shutdown::Write).unwrap();
    drop(state);

    let mut qmp = Qmp::connect(&qmp_path, &mut qemu.0);
    // QEMU mapped our memfds: they show under the names we gave them.
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", qemu.0.id())).unwrap();
    for (name, _) in blocks {
        assert!(
            maps.contains(&format!("/memfd:vmstate-{name}")),
            "{name} not mapped by QEMU:\n{maps}"
        );
    }

    // Complete the migration with the captured main stream of this VM.
    qmp.cmd("migrate-set-parameters", json!({ "mode": "cpr-transfer" }));
    qmp.cmd(
        "migrate-incoming",
        json!({ "channels": [ { "channel-type": "main", "addr": unix_addr(&main_path) } ] }),
    );
    // Listening on the main channel, new QEMU closes the cpr socket.
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut rest = Vec::new();
    assert_eq!(sock.read_to_end(&mut rest).unwrap(), 0);
    let mut main = connect(&main_path, &mut qemu.0);
    main.write_all(include_bytes!("fixtures/qemu-10.0/cpr-transfer-main.mig"))
        .unwrap();
    drop(main);
    qmp.wait_migration();
    let status = qmp.cmd("query-status", json!({}));
    assert_eq!(status["status"], "prelaunch", "{status}");

    // Guest RAM is our memfd: QEMU's view of guest-physical MARK_AT.
    let out = qmp.cmd(
        "human-monitor-command",
        json!({ "command-line": format!("xp /8xb {MARK_AT:#x}") }),
    );
    let text = out.as_str().unwrap();
    let want: Vec<String> = marker.iter().map(|b| format!("{b:#04x}")).collect();
    for b in &want {
        assert!(text.contains(b.as_str()), "{text}");
    }
    let _ = qmp.try_cmd("quit", json!({}));
    std::fs::remove_dir_all(&dir).unwrap();
}
