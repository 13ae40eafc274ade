//! Running the `vmstate` binary with its stdin fed through a pipe.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `vmstate ARGS` with `stdin` fed from `bytes` through a pipe (not a
/// file), from a thread, so that a child writing much before it has read
/// everything cannot deadlock the test.
pub fn run_piped(args: &[&str], bytes: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmstate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let bytes = bytes.to_vec();
    let feeder = std::thread::spawn(move || {
        // The child may stop reading early (an error); that is its answer.
        let _ = stdin.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}
