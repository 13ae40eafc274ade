//! Runs `examples/live_update.rs`: a VMM hands over to a new process of
//! itself by cpr-transfer (state and the RAM memfd over a Unix socket),
//! which hands over again by cpr-exec (same PID, state in a memfd).

use std::path::PathBuf;
use std::process::Command;

/// The example's binary, built now (a filtered `cargo test` does not
/// build examples, and an old binary would test old code).
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let mut cmd = Command::new(env!("CARGO"));
    // Into the target directory this test was built in.
    cmd.args([
        "build",
        "--quiet",
        "--example",
        "live_update",
        "--target-dir",
    ]);
    cmd.arg(profile_dir.parent().unwrap());
    if profile_dir.ends_with("release") {
        cmd.arg("--release");
    }
    let st = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(st.success());
    profile_dir.join("examples").join("live_update")
}

fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let i = line.find(key).unwrap_or_else(|| panic!("{key} in {line}")) + key.len();
    line[i..].split([' ', ';', ',', ')']).next().unwrap()
}

#[test]
fn both_hand_overs_take_the_ram_without_copying_it() {
    let out = Command::new(example()).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let line = |prefix: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in\n{stdout}"))
    };

    // Normal mode refuses the void_ptr, naming it.
    assert!(line("gen0: normal mode refused:").contains("vmm/ram_host"));

    let g0 = line("gen0 pid");
    let g1 = line("gen1 pid");
    let g2 = line("gen2 pid");
    // cpr-transfer: another process; cpr-exec: the same PID.
    assert_ne!(field(g0, "pid "), field(g1, "pid "));
    assert_eq!(field(g1, "pid "), field(g2, "pid "));

    // The RAM was mapped again, at new addresses, with the old one known.
    let x = field(g0, "X = ");
    assert_eq!(field(g1, "was X = "), x);
    let y = field(g1, "at Y = ");
    assert_eq!(field(g2, "was Y = "), y);
    assert!(g1.contains("a write through X after the hand-over was seen at Y"));
    assert!(g1.contains("3 DMA mappings re-keyed"));
    assert!(g2.contains("both generations' writes ok"));

    // What travelled: a hundred-odd bytes and one fd, against 4 MiB of RAM.
    let sent: u64 = field(line("gen0: cpr-transfer sent"), "sent ")
        .parse()
        .unwrap();
    let got: u64 = field(g1, "state ").parse().unwrap();
    assert_eq!(sent, got);
    assert!(sent < 4096, "{sent}");
    assert!(g1.contains("1 fd") && g2.contains("1 fd"));
    assert!(stdout.contains("live update done"));
}
