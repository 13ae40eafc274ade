//! `vmstate`: read, list and edit QEMU migration streams.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vmstate_cli::{Input, Output};

/// Read, list and edit QEMU migration streams (saved with
/// `migrate "exec:cat > FILE"` or a `file:` URI).
///
/// FILE may be `-` for stdin, and every command reads pipes. Exit status:
/// 0 ok, 1 differences found, 2 bad input or usage.
#[derive(Parser)]
#[command(name = "vmstate", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the decoded state of every section as JSON, as QEMU's
    /// `scripts/analyze-migration.py -f FILE` does.
    Analyze {
        /// The stream (`-`: stdin).
        file: PathBuf,
        /// Print the vmdesc JSON instead (`analyze-migration.py -d desc`).
        #[arg(long)]
        desc: bool,
        /// List RAM pages too (`analyze-migration.py -m`).
        #[arg(long, conflicts_with = "desc")]
        memory: bool,
        /// Write desc.json, state.json and one file per RAM block into DIR
        /// (`analyze-migration.py -x`); prints the names of the files.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["desc", "memory"])]
        extract: Option<PathBuf>,
    },
    /// List the stream's records, one a line: offset, type, section id,
    /// idstr, instance id, version, payload length, subsections.
    Sections {
        /// The stream (`-`: stdin).
        file: PathBuf,
    },
    /// Load every section that has a Rust mirror in the catalog into it
    /// (built for the machine the configuration names) and save it again;
    /// one line per section, then `N/M sections byte-identical, K without
    /// a mirror`. Fails on any difference.
    Roundtrip {
        /// The stream (`-`: stdin).
        file: PathBuf,
    },
    /// Generate Rust mirrors (`#[derive(VmState)]` structs) from QEMU's
    /// `-dump-vmstate` JSON and/or a stream's vmdesc; hooks and codecs
    /// stand for what the JSON cannot tell.
    GenRust {
        /// QEMU's `-dump-vmstate` output.
        #[arg(long)]
        dump: Option<PathBuf>,
        /// Device types of the dump to generate (repeatable; all without).
        #[arg(long = "type", value_name = "NAME")]
        types: Vec<String>,
        /// A migration stream: its vmdesc gives QEMU's type names and the
        /// array lengths a real save wrote.
        #[arg(long)]
        stream: Option<PathBuf>,
        /// Sections of the stream to generate, by idstr (repeatable).
        #[arg(long = "section", value_name = "IDSTR")]
        sections: Vec<String>,
    },
    /// Change fields of device sections and write a new stream.
    #[command(after_long_help = EDIT_HELP)]
    Edit {
        /// The stream to read (`-`: stdin).
        input: PathBuf,
        /// Where to write the edited stream (may be INPUT; `-`: stdout).
        output: PathBuf,
        #[arg(
            long = "set",
            value_name = "ASSIGNMENT",
            required = true,
            help = "IDSTR[:INSTANCE]/FIELD.PATH=VALUE (repeatable; see --help)"
        )]
        sets: Vec<String>,
    },
    /// Write the catalog's descriptions as QEMU's `-dump-vmstate` JSON.
    DumpVmstate {
        /// The machine type named in the `vmschkmachine` entry.
        #[arg(long, default_value = vmstate_cli::cmd_dump::DEFAULT_MACHINE)]
        machine: String,
        /// Add each field's QEMU type (`"type"`), which `vmstate check`
        /// compares and QEMU's checker ignores.
        #[arg(long)]
        types: bool,
    },
    /// Can a stream saved by SRC load on DEST? Compares two `-dump-vmstate`
    /// files; one line per finding. Exit 0 compatible, 1 not, 2 bad input.
    Check {
        /// The source's dump (`-` for stdin).
        src: PathBuf,
        /// The destination's dump (`-` for stdin).
        dest: PathBuf,
        /// Check the other direction (DEST's streams loaded on SRC).
        #[arg(long)]
        reverse: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: CheckFormat,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CheckFormat {
    Text,
    Json,
}

const EDIT_HELP: &str = "\
ASSIGNMENTS: IDSTR[:INSTANCE]/FIELD.PATH=VALUE

  IDSTR      the section's idstr, as `vmstate sections` lists it (i8259,
             mc146818rtc, 0000:00:01.3/piix4_pm). The instance may be left
             out when the section has only one.
  FIELD.PATH names one element with the vmdesc's names (the keys of
             `vmstate analyze`):
               a.b            field b of struct field a (`/` works too)
               kbd/pckbd/extended_state/obsrc
                              a field of a subsection (named in full)
               isr[3]         element 3 of an array field
               cmos_data[14]  byte 14 of a byte buffer
             Names may hold `.` or `/` themselves (env.regs): the longest
             name that matches wins.
  VALUE      integers: 12, 0x1f, 0o17, 0b101, -3 (signed types). A value
             outside the field's type is an error, never wrapped.
             bools: true, false, 1, 0.
             a whole buffer: hex bytes, \"de ad be ef\", de:ad:be:ef or
             0xdeadbeef, exactly as many as the buffer holds.

EXAMPLES
  vmstate edit pc.mig out.mig --set 'i8259:0/imr=0xb8' \\
                              --set 'mc146818rtc/cmos_data[14]=0x12'

Errors are one line on stderr naming the section, the field path and the
byte offset in the input; the exit status is then 2 and OUTPUT is not
written.";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::DumpVmstate { machine, types } => return dump_vmstate(&machine, types),
        Cmd::Check {
            src,
            dest,
            reverse,
            format,
        } => return check(&src, &dest, reverse, format),
        Cmd::Analyze {
            file,
            desc,
            memory,
            extract,
        } => Input::open(&file).and_then(|mut i| {
            if let Some(done) = cpr_or(&mut i, CprShow::Json) {
                return done;
            }
            i.show_progress();
            let opts = vmstate_cli::AnalyzeOptions {
                desc_only: desc,
                memory,
                extract,
            };
            vmstate_cli::analyze_with(i, &opts, &mut Output::stdout())
        }),
        Cmd::Sections { file } => Input::open(&file).and_then(|mut i| {
            if let Some(done) = cpr_or(&mut i, CprShow::Sections) {
                return done;
            }
            i.show_progress();
            vmstate_cli::sections_from(i, &mut Output::stdout())
        }),
        Cmd::Roundtrip { file } => Input::open(&file).and_then(|mut i| {
            i.show_progress();
            let sum = vmstate_cli::roundtrip_from(i, &mut Output::stdout())?;
            if sum.all_identical() {
                Ok(())
            } else {
                Err(vmstate_cli::CliError::Differences(format!(
                    "{}: {sum}",
                    file.display()
                )))
            }
        }),
        Cmd::GenRust {
            dump,
            types,
            stream,
            sections,
        } => {
            let args = vmstate_cli::gen_rust::GenRustArgs {
                dump,
                types,
                stream,
                sections,
            };
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            vmstate_cli::gen_rust::gen_rust(&args, &mut lock).map(|_| ())
        }
        Cmd::Edit {
            input,
            output,
            sets,
        } => Input::open(&input).and_then(|mut i| {
            i.show_progress();
            vmstate_cli::edit_from(i, &output, &sets)
        }),
    };
    vmstate_cli::finish(result)
}

/// A write to a closed stdout ends the command quietly.
fn broken_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

fn dump_vmstate(machine: &str, types: bool) -> ExitCode {
    let stdout = std::io::stdout();
    match vmstate_cli::cmd_dump::dump_vmstate(machine, types, &mut stdout.lock()) {
        Err(e) if !broken_pipe(&e) => {
            eprintln!("vmstate: <stdout>: {e}");
            ExitCode::from(2)
        }
        _ => ExitCode::SUCCESS,
    }
}

fn check(src: &std::path::Path, dest: &std::path::Path, reverse: bool, f: CheckFormat) -> ExitCode {
    use vmstate_cli::cmd_check::{self, Format};
    let format = match f {
        CheckFormat::Text => Format::Text,
        CheckFormat::Json => Format::Json,
    };
    let stdout = std::io::stdout();
    match cmd_check::check(src, dest, reverse, format, &mut stdout.lock()) {
        Ok(findings) if vmstate_migration::compat::is_compatible(&findings) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("vmstate: {}", e.to_string().replace('\n', " "));
            ExitCode::from(2)
        }
    }
}

/// How a CPR state file is shown.
#[derive(Clone, Copy)]
enum CprShow {
    Json,
    Sections,
}

/// A CPR state file (the `cpr` channel of a cpr-transfer, "QCPR") has no
/// sections: `analyze` and `sections` list its entries instead. `None` for
/// anything else, which the stream commands handle.
#[cfg(unix)]
fn cpr_or(input: &mut Input, show: CprShow) -> Option<Result<(), vmstate_cli::CliError>> {
    use std::io::Write;
    let listing = match vmstate_cli::cpr::listing(input) {
        Ok(Some(l)) => l,
        Ok(None) => return None,
        Err(e) => return Some(Err(e)),
    };
    let mut out = Output::stdout();
    let res = match show {
        CprShow::Json => {
            out.write_all(vmstate_migration::to_python_json(&listing.to_json()).as_bytes())
        }
        CprShow::Sections => vmstate_cli::cpr::sections(&listing, &mut out),
    };
    Some(
        res.and_then(|()| out.flush())
            .map_err(vmstate_cli::CliError::Output),
    )
}

#[cfg(not(unix))]
fn cpr_or(_: &mut Input, _: CprShow) -> Option<Result<(), vmstate_cli::CliError>> {
    None
}
