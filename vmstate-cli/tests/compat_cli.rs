//! `vmstate dump-vmstate` and `vmstate check` as Unix tools: `-` for stdin,
//! exit 0 / 1 / 2, quiet on a closed stdout.

mod compat_support;
#[path = "support/pipe.rs"]
mod pipe;

use std::process::{Command, Stdio};

use compat_support::*;
use pipe::run_piped;

fn vmstate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vmstate"))
}

#[test]
fn dump_vmstate_writes_the_catalog() {
    let out = vmstate().args(["dump-vmstate"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("{\n  \"vmschkmachine\": {\n    \"Name\": \"pc-i440fx-7.2\"\n  },\n"));
    assert!(text.ends_with("\n}\n"));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Every mirror that stands for a device type, and the machine.
    assert_eq!(v.as_object().unwrap().len(), 28);
    assert_eq!(v["isa-i8259"]["Description"]["name"], "i8259");
    assert!(!text.contains("\"type\""));
    let typed = vmstate()
        .args(["dump-vmstate", "--types", "--machine", "pc-q35-10.0"])
        .output()
        .unwrap();
    let typed = String::from_utf8(typed.stdout).unwrap();
    assert!(typed.contains("\"Name\": \"pc-q35-10.0\""));
    assert!(typed.contains("\"type\": \"uint8\""));
}

#[test]
fn check_reads_stdin_and_exits_0_1_2() {
    let scratch = Scratch::new("compat-cli");
    let ours = scratch.json("ours.json", &ours("pc-i440fx-7.2"));
    let qemu = scratch.json(
        "qemu.json",
        &filtered(&qemu_dump("10.0"), &compat_support::ours("x")),
    );
    let run = |args: &[&str], stdin: &[u8]| {
        let args: Vec<&str> = std::iter::once("check")
            .chain(args.iter().copied())
            .collect();
        let out = run_piped(&args, stdin);
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let ours_s = ours.to_str().unwrap();
    let qemu_s = qemu.to_str().unwrap();
    let text = std::fs::read(&ours).unwrap();
    let (code, out, _) = run(&["-", ours_s], &text);
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, out, _) = run(&[qemu_s, ours_s], b"");
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 2, "{out}"); // machine warning, hpet
    let (code, out, _) = run(&[qemu_s, ours_s, "--format", "json"], b"");
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["compatible"], false);
    let (code, _, err) = run(&["-", ours_s], b"{\"x\": 3}");
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "vmstate: -: not a -dump-vmstate file: at x: expected an object per device type\n"
    );
    let (code, _, err) = run(&["/nonexistent.json", ours_s], b"");
    assert_eq!(code, 2);
    assert!(err.starts_with("vmstate: /nonexistent.json: "), "{err}");
}

#[test]
fn quiet_on_a_closed_stdout() {
    // The reader goes away at once: no panic, no message.
    let mut child = vmstate()
        .arg("dump-vmstate")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
