//! Shared by the compatibility tests: QEMU's dumps, our export, QEMU's
//! `vmstate-static-checker.py` (installed by `.ci/install-qemu`, never part
//! of the repository) and `vmstate check`, each run as a process.

// Each test binary uses only some helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value};

/// The QEMU versions whose dumps and checkers the tests use.
pub const VERSIONS: [&str; 2] = ["7.2", "10.0"];

/// QEMU's `-dump-vmstate` of `pc-i440fx-VERSION` (a fixture made by QEMU).
pub fn qemu_dump(version: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../tests/fixtures/qemu-{version}/vmstate-pc.json"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// The machine type of QEMU VERSION's dump.
pub fn machine(version: &str) -> String {
    format!("pc-i440fx-{version}")
}

/// `vmstate dump-vmstate --machine MACHINE`, parsed.
pub fn ours(machine: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_vmstate"))
        .args(["dump-vmstate", "--machine", machine])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `dump` keeping only the machine entry and the device types of `keep`.
pub fn filtered(dump: &Value, keep: &Value) -> Value {
    let keep = keep.as_object().unwrap();
    let kept: Map<String, Value> = dump
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| keep.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(kept)
}

/// A scratch directory for this test process.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        // Tests of one binary run in parallel in one process.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("vmstate-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Writes `v` as `name` and returns its path.
    pub fn json(&self, name: &str, v: &Value) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// QEMU VERSION's `vmstate-static-checker.py`, or `None` (with a printed
/// reason) when it or `python3` is missing. Under `CI=true` a missing
/// script is a failure, not a skip.
pub fn qemu_checker(version: &str) -> Option<PathBuf> {
    let script = PathBuf::from(format!(
        "/opt/vmstate/scripts/qemu-{version}/vmstate-static-checker.py"
    ));
    let python = Command::new("python3").arg("--version").output();
    let missing = if !script.is_file() {
        Some(format!(
            "{} is not installed (.ci/install-qemu)",
            script.display()
        ))
    } else if !python.is_ok_and(|o| o.status.success()) {
        Some("python3 is not installed".to_owned())
    } else {
        None
    };
    match missing {
        None => Some(script),
        Some(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "under CI: {why}"
            );
            println!("skipping: {why}");
            None
        }
    }
}

/// What QEMU's checker says about SRC -> DEST: its exit status (the
/// number of errors) and its output lines.
pub fn run_qemu_checker(script: &Path, src: &Path, dest: &Path) -> (i32, Vec<String>) {
    let out = Command::new("python3")
        .arg(script)
        .arg("-s")
        .arg(src)
        .arg("-d")
        .arg(dest)
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let code = out.status.code().expect("the script exits");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    (code, lines)
}

/// Loads QEMU's checker as a module in one Python process and runs its
/// `main()` once per (SRC, DEST) pair, as `-s SRC -d DEST` would: many
/// pairs without a Python start-up each.
const BATCH_DRIVER: &str = r#"
import contextlib, importlib.util, io, json, sys
spec = importlib.util.spec_from_file_location("checker", sys.argv[1])
checker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(checker)
results = []
for src, dest in json.load(sys.stdin):
    checker.taint = 0
    sys.argv = ["vmstate-static-checker.py", "-s", src, "-d", dest]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = checker.main()
    results.append([code, out.getvalue().splitlines()])
json.dump(results, sys.stdout)
"#;

/// [`run_qemu_checker`] for many pairs at once.
pub fn run_qemu_checker_batch(
    script: &Path,
    pairs: &[(PathBuf, PathBuf)],
) -> Vec<(i32, Vec<String>)> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(BATCH_DRIVER)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input: Vec<(String, String)> = pairs
        .iter()
        .map(|(s, d)| (s.display().to_string(), d.display().to_string()))
        .collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(&input).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `vmstate check SRC DEST [ARGS]`: exit status and stdout.
pub fn run_vmstate_check(src: &Path, dest: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vmstate"))
        .arg("check")
        .arg(src)
        .arg(dest)
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().expect("vmstate exits");
    assert!(
        code != 2,
        "vmstate check: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The findings of `vmstate check --format json`.
pub fn check_json(src: &Path, dest: &Path) -> (i32, Vec<Value>) {
    let (code, out) = run_vmstate_check(src, dest, &["--format", "json"]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["compatible"], code == 0);
    (code, doc["findings"].as_array().unwrap().clone())
}
