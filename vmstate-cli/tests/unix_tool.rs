//! The `vmstate` binary as a Unix tool: `-` for stdin and stdout, pipes,
//! a closed stdout, exit statuses (0 ok, 1 differences, 2 bad input or
//! usage), and the commands that work without a vmdesc trailer.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[path = "support/pipe.rs"]
mod pipe;
use pipe::run_piped;

const FIXTURES: [&str; 5] = ["none", "none-8k", "pc", "pc-nofooter", "pc-devices"];

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_vmstate")
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/qemu-7.2")
}

fn mig(name: &str) -> PathBuf {
    dir().join(format!("{name}.mig"))
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vmstate-unix-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str], file: Option<&Path>) -> Output {
    let mut c = Command::new(exe());
    c.args(args);
    if let Some(f) = file {
        c.arg(f);
    }
    c.output().unwrap()
}

/// The status and stderr of a run (its stdout may be megabytes).
fn brief(o: &Output) -> String {
    format!("{:?}: {}", o.status, String::from_utf8_lossy(&o.stderr))
}

#[test]
fn analyze_from_a_pipe_equals_analyze_of_the_file() {
    for name in FIXTURES {
        let file = run(&["analyze"], Some(&mig(name)));
        assert_eq!(file.status.code(), Some(0), "{name}");
        let piped = run_piped(&["analyze", "-"], &std::fs::read(mig(name)).unwrap());
        assert_eq!(piped.status.code(), Some(0), "{name}: {}", brief(&piped));
        assert!(piped.stderr.is_empty(), "{name}");
        assert_eq!(piped.stdout, file.stdout, "{name}");
        let golden = std::fs::read(dir().join(format!("{name}.analyze.json"))).unwrap();
        assert_eq!(file.stdout, golden, "{name}");
        let desc_file = run(&["analyze", "--desc"], Some(&mig(name)));
        let desc_pipe = run_piped(
            &["analyze", "--desc", "-"],
            &std::fs::read(mig(name)).unwrap(),
        );
        assert_eq!(desc_file.stdout, desc_pipe.stdout, "{name}");
        assert!(!desc_file.stdout.is_empty());
    }
}

/// Every QEMU 10.0 stream: from a pipe as from the file, and both what
/// QEMU 10.0's own `analyze-migration.py -f` printed for it.
#[test]
fn analyze_of_qemu_10_streams_from_a_pipe_equals_the_script() {
    let dir10 = dir().join("../qemu-10.0");
    let mut seen = 0;
    for e in std::fs::read_dir(&dir10).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".mig") else {
            continue;
        };
        let golden = std::fs::read(dir10.join(format!("{stem}.analyze.json"))).unwrap();
        let file = run(&["analyze"], Some(&path));
        assert_eq!(file.status.code(), Some(0), "{name}: {}", brief(&file));
        assert_eq!(file.stdout, golden, "{name}");
        let piped = run_piped(&["analyze", "-"], &std::fs::read(&path).unwrap());
        assert_eq!(piped.status.code(), Some(0), "{name}: {}", brief(&piped));
        assert!(piped.stderr.is_empty(), "{name}");
        assert_eq!(piped.stdout, golden, "{name}");
        seen += 1;
    }
    assert_eq!(seen, 7, "the QEMU 10.0 streams of tests/fixtures/qemu-10.0");
}

#[test]
fn every_command_reads_a_pipe() {
    for name in ["pc", "pc-devices"] {
        let bytes = std::fs::read(mig(name)).unwrap();
        for cmd in ["sections", "roundtrip"] {
            let file = run(&[cmd], Some(&mig(name)));
            let piped = run_piped(&[cmd, "-"], &bytes);
            assert_eq!(
                file.status.code(),
                Some(0),
                "{name} {cmd}: {}",
                brief(&file)
            );
            assert_eq!(
                piped.status.code(),
                Some(0),
                "{name} {cmd}: {}",
                brief(&piped)
            );
            assert_eq!(piped.stdout, file.stdout, "{name} {cmd}");
        }
        // edit IN - writes the stream to stdout, the same as to a file.
        let d = tmpdir(&format!("edit-{name}"));
        let out = d.join("out.mig");
        let set = ["--set", "i8259:0/imr=0xb8"];
        let to_file = Command::new(exe())
            .args(["edit"])
            .arg(mig(name))
            .arg(&out)
            .args(set)
            .output()
            .unwrap();
        assert_eq!(to_file.status.code(), Some(0), "{}", brief(&to_file));
        let to_stdout = run_piped(&["edit", "-", "-", set[0], set[1]], &bytes);
        assert_eq!(to_stdout.status.code(), Some(0), "{}", brief(&to_stdout));
        assert_eq!(to_stdout.stdout, std::fs::read(&out).unwrap());
        assert_ne!(to_stdout.stdout, bytes);
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn a_closed_stdout_ends_quietly_with_status_0() {
    for (args, name) in [
        (&["analyze"][..], "pc"),
        (&["analyze"][..], "pc-devices"),
        (&["sections"][..], "pc-devices"),
        (&["analyze", "--desc"][..], "pc-devices"),
    ] {
        let mut child = Command::new(exe())
            .args(args)
            .arg(mig(name))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 1];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?} {name}");
        assert!(
            out.stderr.is_empty(),
            "{args:?} {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn exit_statuses() {
    // 0: ok.
    assert_eq!(run(&["sections"], Some(&mig("pc"))).status.code(), Some(0));
    // 2: not a stream, with the right message.
    let readme = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    for cmd in ["analyze", "sections", "roundtrip"] {
        let out = run(&[cmd], Some(&readme));
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("not a QEMU migration stream"), "{err}");
        assert!(!err.contains("vmdesc"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // 2: usage errors, clap's included; unreadable input.
    assert_eq!(run(&["analyze"], None).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"], None).status.code(), Some(2));
    assert_eq!(
        run(&["analyze", "--bogus"], Some(&mig("pc"))).status.code(),
        Some(2)
    );
    let missing = run(&["analyze"], Some(Path::new("/nonexistent/x.mig")));
    assert_eq!(missing.status.code(), Some(2));
    let bad_set = Command::new(exe())
        .args(["edit"])
        .arg(mig("pc"))
        .arg("-")
        .args(["--set", "nosuchdevice/x=1"])
        .output()
        .unwrap();
    assert_eq!(bad_set.status.code(), Some(2));
    // 1: differences found. A stream whose PCI bus has 32 interrupt lines
    // does not load into the mirror of QEMU's (4).
    let d = tmpdir("differ");
    let edited = d.join("e.mig");
    let out = Command::new(exe())
        .args(["edit"])
        .arg(mig("pc"))
        .arg(&edited)
        .args(["--set", "PCIBUS/nirq=0x20"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", brief(&out));
    let out = run(&["roundtrip"], Some(&edited));
    assert_eq!(out.status.code(), Some(1), "{}", brief(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("LOAD FAILED"), "{text}");
    assert!(text.contains("29/30 sections byte-identical"), "{text}");
    std::fs::remove_dir_all(&d).unwrap();
    // --help says how to save a stream; `-` is documented.
    let help = String::from_utf8(run(&["--help"], None).stdout).unwrap();
    assert!(help.contains("migrate \"exec:cat > FILE\""), "{help}");
    assert!(help.contains("Exit status"), "{help}");
}

/// `pc.mig` cut right after its EOF record (no trailer), and with its
/// trailer's JSON damaged.
fn without_trailer() -> (Vec<u8>, Vec<u8>) {
    let b = std::fs::read(mig("pc")).unwrap();
    let start = b
        .windows(13)
        .rposition(|w| w == b"{\"page_size\":")
        .unwrap();
    let eof = start - 5;
    let missing = b[..eof].to_vec();
    let mut damaged = b.clone();
    damaged[start + 1] = b'#';
    (missing, damaged)
}

#[test]
fn sections_and_roundtrip_work_without_a_usable_trailer() {
    let d = tmpdir("trailer");
    let full = run(&["sections"], Some(&mig("pc")));
    let full_rows = String::from_utf8(full.stdout).unwrap();
    let (missing, damaged) = without_trailer();
    for (what, bytes) in [("missing", missing), ("damaged", damaged)] {
        let p = d.join(format!("{what}.mig"));
        std::fs::write(&p, &bytes).unwrap();
        for input in [Some(p.as_path()), None] {
            let run_it = |args: &[&str]| match input {
                Some(p) => run(args, Some(p)),
                None => {
                    let mut a = args.to_vec();
                    a.push("-");
                    run_piped(&a, &bytes)
                }
            };
            let s = run_it(&["sections"]);
            assert_eq!(s.status.code(), Some(0), "{what}: {}", brief(&s));
            let rows = String::from_utf8(s.stdout).unwrap();
            // The same records up to EOF; section lengths from the mirrors.
            let upto_eof: Vec<&str> = full_rows
                .lines()
                .take_while(|l| !l.contains(" EOF"))
                .map(|l| l.rsplit_once("  ").unwrap().0)
                .collect();
            let got: Vec<&str> = rows
                .lines()
                .take_while(|l| !l.contains(" EOF"))
                .map(|l| l.rsplit_once("  ").unwrap().0)
                .collect();
            assert_eq!(got, upto_eof, "{what}");
            let rt = run_it(&["roundtrip"]);
            assert_eq!(rt.status.code(), Some(0), "{what}: {}", brief(&rt));
            let text = String::from_utf8(rt.stdout).unwrap();
            assert!(
                text.contains("30/30 sections byte-identical"),
                "{what}: {text}"
            );
            // analyze needs the trailer: an error naming where.
            let a = run_it(&["analyze"]);
            assert_eq!(a.status.code(), Some(2), "{what}");
            let err = String::from_utf8(a.stderr).unwrap();
            assert!(err.contains("vmdesc"), "{err}");
            assert!(err.contains("at byte"), "{err}");
            assert!(a.stdout.is_empty() || what == "damaged", "{what}");
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn columns_are_aligned() {
    for cmd in ["sections", "roundtrip"] {
        let out = run(&[cmd], Some(&mig("pc")));
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("  ")).collect();
        assert!(lines.len() > 10, "{cmd}");
        // The last column starts at the same place on every line (the
        // columns before it are padded to fixed widths).
        let last = |l: &str| l.trim_end().rfind("  ").unwrap() + 2;
        for l in &lines {
            assert_eq!(
                last(l),
                last(lines[0]),
                "{cmd}: ragged columns:\n{}\n{l}",
                lines[0]
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn an_interrupted_edit_leaves_no_temporary_file() {
    let d = tmpdir("interrupt");
    let out = d.join("out.mig");
    let bytes = std::fs::read(mig("pc")).unwrap();
    let mut child = Command::new(exe())
        .args(["edit", "-"])
        .arg(&out)
        .args(["--set", "i8259:0/imr=1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Half the stream; the pipe stays open, so edit waits for more.
    stdin.write_all(&bytes[..bytes.len() / 2]).unwrap();
    let tmp_exists = || {
        std::fs::read_dir(&d)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    };
    let t0 = std::time::Instant::now();
    while !tmp_exists() {
        assert!(t0.elapsed().as_secs() < 20, "no temporary file appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: signals our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    drop(stdin);
    assert!(!status.success());
    assert!(!tmp_exists(), "the temporary file was left behind");
    assert!(!out.exists());
    std::fs::remove_dir_all(&d).unwrap();
}

/// QEMU's own script, when installed (`.ci/install-qemu`).
fn qemu_script() -> Option<PathBuf> {
    let p = PathBuf::from("/opt/vmstate/scripts/qemu-7.2/analyze-migration.py");
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing (CI installs it)",
        p.display()
    );
    eprintln!("skipped: {} is not installed", p.display());
    None
}

#[test]
fn extract_writes_what_the_script_writes() {
    let d = tmpdir("extract");
    let ours = d.join("ours");
    let out = run(
        &["analyze", "--extract", ours.to_str().unwrap()],
        Some(&mig("pc")),
    );
    assert_eq!(out.status.code(), Some(0), "{}", brief(&out));
    let listed = String::from_utf8(out.stdout).unwrap();
    for f in [
        "pc.ram",
        "pc.bios",
        "rom@etc/acpi/tables",
        "desc.json",
        "state.json",
    ] {
        assert!(listed.lines().any(|l| l == f), "{f} not listed: {listed}");
        assert!(ours.join(f).exists(), "{f}");
    }
    // state.json is the analysis (without the final newline the script's
    // files lack); the block files have the blocks' lengths.
    let golden = std::fs::read(dir().join("pc.analyze.json")).unwrap();
    assert_eq!(
        std::fs::read(ours.join("state.json")).unwrap(),
        golden[..golden.len() - 1]
    );
    assert_eq!(
        std::fs::metadata(ours.join("pc.ram")).unwrap().len(),
        1 << 20
    );
    // The same stream through a pipe extracts the same files.
    let piped_dir = d.join("piped");
    let piped = run_piped(
        &["analyze", "--extract", piped_dir.to_str().unwrap(), "-"],
        &std::fs::read(mig("pc")).unwrap(),
    );
    assert_eq!(piped.status.code(), Some(0), "{}", brief(&piped));
    for f in ["pc.ram", "pc.rom", "state.json", "desc.json"] {
        assert_eq!(
            std::fs::read(ours.join(f)).unwrap(),
            std::fs::read(piped_dir.join(f)).unwrap(),
            "{f}"
        );
    }
    if let Some(script) = qemu_script() {
        let theirs = d.join("theirs");
        std::fs::create_dir_all(&theirs).unwrap();
        let st = Command::new("python3")
            .arg(&script)
            .arg("-x")
            .arg("-f")
            .arg(mig("pc"))
            .current_dir(&theirs)
            .output()
            .unwrap();
        assert!(st.status.success(), "{}", brief(&st));
        for f in [
            "pc.ram",
            "pc.bios",
            "pc.rom",
            "rom@etc/acpi/tables",
            "rom@etc/table-loader",
            "rom@etc/acpi/rsdp",
            "desc.json",
            "state.json",
        ] {
            assert_eq!(
                std::fs::read(ours.join(f)).unwrap(),
                std::fs::read(theirs.join(f)).unwrap(),
                "{f} differs from the script's"
            );
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn memory_lists_ram_pages() {
    // none.mig has no data pages: the script (whose page rendering fails
    // on Python 3) prints it, and equals ours.
    let out = run(&["analyze", "--memory"], Some(&mig("none")));
    assert_eq!(out.status.code(), Some(0), "{}", brief(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["ram (2)"]["memory"].is_object(), "{v}");
    if let Some(script) = qemu_script() {
        let st = Command::new("python3")
            .arg(&script)
            .args(["-m", "-f"])
            .arg(mig("none"))
            .output()
            .unwrap();
        assert!(st.status.success(), "{}", brief(&st));
        assert_eq!(out.stdout, st.stdout);
    }
    // pc.mig: every page of every block is listed once, after the sizes.
    let out = run(&["analyze", "--memory"], Some(&mig("pc")));
    assert_eq!(out.status.code(), Some(0), "{}", brief(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mem = v["ram (2)"]["memory"].as_object().unwrap();
    let pc_ram = mem.keys().filter(|k| k.starts_with("pc.ram (")).count();
    assert_eq!(pc_ram, 256, "1 MiB of pc.ram in 4 KiB pages");
    let page = mem
        .values()
        .filter_map(|p| p.as_str())
        .find(|p| !p.starts_with("Filled"))
        .unwrap();
    assert_eq!(page.len(), 4096 * 3 - 1);
    // The rest of the analysis is unchanged.
    let plain: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir().join("pc.analyze.json")).unwrap()).unwrap();
    assert_eq!(v["timer (0)"], plain["timer (0)"]);
    assert_eq!(
        v["ram (2)"]["section sizes"],
        plain["ram (2)"]["section sizes"]
    );
}
