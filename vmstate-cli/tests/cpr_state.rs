//! `vmstate sections` and `analyze` recognise QEMU 10.0's CPR state (the
//! `cpr` channel's "QCPR" bytes) and list its descriptor entries.

use std::path::PathBuf;
use std::process::Command;

#[path = "support/pipe.rs"]
mod pipe;
use pipe::run_piped;

fn capture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/qemu-10.0/cpr-state.bin")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vmstate"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn sections_lists_each_entry_with_its_placeholder_offset() {
    let path = capture();
    let (code, out, err) = run(&["sections", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 7, "{out}");
    assert!(
        rows[0].contains("CPR") && rows[0].contains("CprState"),
        "{out}"
    );
    // Offsets of the placeholder bytes as the capture's notes list them.
    for (row, (name, fd)) in rows[1..].iter().zip([
        ("/rom@etc/acpi/rsdp", 36),
        ("/rom@etc/table-loader", 68),
        ("/rom@etc/acpi/tables", 99),
        ("pc.rom", 116),
        ("pc.bios", 134),
        ("ram0", 149),
    ]) {
        assert!(row.contains("CPRFD"), "{row}");
        assert!(row.contains(name), "{row}");
        assert!(row.ends_with(&format!("fd@{fd:#010x}")), "{row}");
    }
}

#[test]
fn analyze_shows_the_entries_as_json() {
    let path = capture();
    let (code, out, err) = run(&["analyze", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["magic"], "QCPR");
    let fds = v["CprState"]["fds"].as_array().unwrap();
    assert_eq!(fds.len(), 6);
    assert_eq!(fds[5]["name"], "ram0");
    assert_eq!(fds[5]["namelen"], "0x00000005");
    assert_eq!(fds[5]["fd"], "placeholder at 0x95 (SCM_RIGHTS)");
}

#[test]
fn a_truncated_cpr_state_is_bad_input() {
    let dir = std::env::temp_dir().join(format!("vmstate-cpr-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.bin");
    let bytes = std::fs::read(capture()).unwrap();
    std::fs::write(&cut, &bytes[..110]).unwrap();
    let (code, out, err) = run(&["sections", cut.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert!(err.contains("CprState/fds[3]"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A CPR state is recognised from a pipe too (its magic is peeked, not
/// taken from the file name or a seek).
#[test]
fn a_cpr_state_from_a_pipe_shows_as_from_the_file() {
    let bytes = std::fs::read(capture()).unwrap();
    let path = capture();
    for cmd in ["analyze", "sections"] {
        let piped = run_piped(&[cmd, "-"], &bytes);
        let (code, out, err) = run(&[cmd, path.to_str().unwrap()]);
        assert_eq!((code, piped.status.code()), (0, Some(0)), "{cmd}: {err}");
        assert_eq!(String::from_utf8(piped.stdout).unwrap(), out, "{cmd}");
        assert!(piped.stderr.is_empty(), "{cmd}");
    }
}

/// A file that starts like a CPR state but is larger than any is refused
/// (a mapped file is not read whole into a listing), from a file and from
/// a pipe.
#[test]
fn an_oversized_cpr_state_is_bad_input() {
    let dir = std::env::temp_dir().join(format!("vmstate-cpr-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.bin");
    let mut bytes = std::fs::read(capture()).unwrap()[..8].to_vec();
    bytes.resize((16 << 20) + 100, 0);
    std::fs::write(&big, &bytes).unwrap();
    let (code, out, err) = run(&["sections", big.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("CPR state of more than"), "{err}");
    let piped = run_piped(&["analyze", "-"], &bytes);
    assert_eq!(piped.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&piped.stderr).contains("CPR state of more than"));
    std::fs::remove_dir_all(&dir).unwrap();
}
