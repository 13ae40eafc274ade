//! Driving a QEMU for the judge tests: start it paused with
//! `-incoming defer`, feed it a stream, talk QMP with bounded waits, save
//! it again. Parameterised by binary and machine so that QEMU 7.2 and 10.0
//! serve alike.

// Each test binary uses only some helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Debian's QEMU 7.2.
pub const QEMU_7_2: &str = "qemu-system-x86_64";
/// QEMU 10.0 as `.ci/install-qemu` installs it.
pub const QEMU_10_0: &str = "/opt/vmstate/bin/qemu-system-x86_64-10.0";

/// A fixture file of `tests/fixtures/<dir>/`.
pub fn fixture(dir: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(dir)
        .join(name)
}

/// The QEMU's `--version` first line, or `None` (with a note) when it
/// cannot run. Under CI (`CI=true`) a missing QEMU is a failure.
pub fn judge(bin: &str) -> Option<String> {
    match Command::new(bin).arg("--version").output() {
        Ok(out) if out.status.success() => {
            let v = String::from_utf8_lossy(&out.stdout);
            Some(v.lines().next().unwrap_or_default().to_owned())
        }
        other => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{bin} cannot run under CI: {other:?}"
            );
            println!("skipping: {bin} is not installed (.ci/install-qemu installs it)");
            None
        }
    }
}

/// Kills and reaps QEMU however the test ends.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A minimal QMP client with bounded waits.
pub struct Qmp {
    w: UnixStream,
    r: BufReader<UnixStream>,
}

impl Qmp {
    pub fn connect(sock: &Path, child: &mut Child) -> Qmp {
        let deadline = Instant::now() + Duration::from_secs(30);
        let s = loop {
            match UnixStream::connect(sock) {
                Ok(s) => break s,
                Err(e) => {
                    if let Ok(Some(st)) = child.try_wait() {
                        panic!("QEMU exited ({st}) before its QMP socket appeared");
                    }
                    assert!(Instant::now() < deadline, "QMP socket never appeared: {e}");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut q = Qmp {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        };
        let greeting = q.line();
        assert!(greeting.get("QMP").is_some(), "{greeting}");
        q.cmd("qmp_capabilities", json!({}));
        q
    }

    pub fn try_line(&mut self) -> Result<Value, String> {
        let mut l = String::new();
        let n = self
            .r
            .read_line(&mut l)
            .map_err(|e| format!("QMP read (timeout): {e}"))?;
        if n == 0 {
            return Err("QMP connection closed".into());
        }
        serde_json::from_str(&l).map_err(|e| format!("bad QMP line {l:?}: {e}"))
    }

    pub fn line(&mut self) -> Value {
        self.try_line().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs a command; its `return`, or why it failed.
    pub fn try_cmd(&mut self, name: &str, args: Value) -> Result<Value, String> {
        let mut msg = json!({ "execute": name });
        if args.as_object().is_some_and(|o| !o.is_empty()) {
            msg["arguments"] = args;
        }
        let mut text = msg.to_string();
        text.push('\n');
        self.w
            .write_all(text.as_bytes())
            .map_err(|e| format!("QMP write: {e}"))?;
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

    /// Runs a command, panicking on failure.
    pub fn cmd(&mut self, name: &str, args: Value) -> Value {
        self.try_cmd(name, args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Asks QEMU to exit.
    pub fn quit(&mut self) {
        let _ = self.w.write_all(b"{\"execute\": \"quit\"}\n");
        let mut l = String::new();
        let _ = self.r.read_line(&mut l);
    }

    /// A human monitor command's output.
    pub fn hmp(&mut self, line: &str) -> String {
        self.cmd("human-monitor-command", json!({ "command-line": line }))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits until the migration in progress is `completed`; `Err` with
    /// the status (and `log`) when it failed.
    fn wait_migration(&mut self, child: &mut Child, log: &Path) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let st = match self.try_cmd("query-migrate", json!({})) {
                Ok(st) => st,
                Err(e) => {
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    let log = std::fs::read_to_string(log).unwrap_or_default();
                    return Err(format!("QEMU went away ({e})\n{log}"));
                }
            };
            match st.get("status").and_then(Value::as_str) {
                Some("completed") => return Ok(()),
                Some("failed") | Some("cancelled") => {
                    let log = std::fs::read_to_string(log).unwrap_or_default();
                    return Err(format!("{st}\n{log}"));
                }
                _ => {}
            }
            if let Ok(Some(st)) = child.try_wait() {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                return Err(format!("QEMU exited ({st})\n{log}"));
            }
            if Instant::now() >= deadline {
                return Err(format!("migration did not finish: {st}"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A running QEMU that loaded a stream.
pub struct Loaded {
    /// Its monitor.
    pub qmp: Qmp,
    guard: Guard,
    log: PathBuf,
}

impl Loaded {
    /// Saves the VM to `out` (`migrate exec:cat > out`).
    pub fn save(&mut self, out: &Path) {
        let uri = format!("exec:cat > '{}'", out.display());
        self.qmp.cmd("migrate", json!({ "uri": uri }));
        if let Err(e) = self.qmp.wait_migration(&mut self.guard.0, &self.log) {
            panic!("QEMU could not save: {e}");
        }
    }
}

/// Starts `bin` paused as the fixtures were made (no incoming stream).
pub fn start(bin: &str, machine: &str, extra: &[&str], dir: &Path, tag: &str) -> Loaded {
    let sock = dir.join(format!("{tag}.qmp"));
    let log = dir.join(format!("{tag}.log"));
    let logf = std::fs::File::create(&log).unwrap();
    let mut child = qemu_command(bin, machine, extra)
        .arg("-qmp")
        .arg(format!("unix:{},server=on,wait=off", sock.display()))
        .stdin(Stdio::null())
        .stdout(logf.try_clone().unwrap())
        .stderr(logf)
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin}: {e}"));
    let qmp = Qmp::connect(&sock, &mut child);
    Loaded {
        qmp,
        guard: Guard(child),
        log,
    }
}

/// The fixtures' command line.
fn qemu_command(bin: &str, machine: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.args([
        "-accel",
        "tcg",
        "-nodefaults",
        "-no-user-config",
        "-S",
        "-display",
        "none",
        "-rtc",
        "base=2020-01-01T00:00:00,clock=vm",
        "-machine",
        machine,
        "-m",
        "1",
    ])
    .args(extra);
    c
}

/// Starts `bin` paused as the fixtures were made (`-machine machine`,
/// `-m 1`, `extra` arguments), waiting for an incoming stream, and loads
/// `stream` into it.
pub fn load(
    bin: &str,
    machine: &str,
    extra: &[&str],
    dir: &Path,
    tag: &str,
    stream: &Path,
) -> Result<Loaded, String> {
    let sock = dir.join(format!("{tag}.qmp"));
    let log = dir.join(format!("{tag}.log"));
    let logf = std::fs::File::create(&log).unwrap();
    let mut child = qemu_command(bin, machine, extra)
        .args(["-incoming", "defer", "-qmp"])
        .arg(format!("unix:{},server=on,wait=off", sock.display()))
        .stdin(Stdio::null())
        .stdout(logf.try_clone().unwrap())
        .stderr(logf)
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin}: {e}"));
    let mut qmp = Qmp::connect(&sock, &mut child);
    let mut guard = Guard(child);
    let uri = format!("exec:cat '{}'", stream.display());
    qmp.cmd("migrate-incoming", json!({ "uri": uri }));
    qmp.wait_migration(&mut guard.0, &log)?;
    Ok(Loaded { qmp, guard, log })
}

/// A fresh temporary directory for one test.
pub fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vmstate-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
