//! `vmstate`: read, list and edit QEMU migration streams.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Read, list and edit QEMU migration streams (saved with
/// `migrate "exec:cat > FILE"` or a `file:` URI).
#[derive(Parser)]
#[command(name = "vmstate", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the decoded state of every section as JSON, as QEMU's
    /// `scripts/analyze-migration.py -f FILE` does.
    Analyze {
        /// The stream.
        file: PathBuf,
        /// Print the vmdesc JSON instead (`analyze-migration.py -d desc`).
        #[arg(long)]
        desc: bool,
    },
    /// List the stream's records, one a line: offset, type, section id,
    /// idstr, instance id, version, payload length, subsections.
    Sections {
        /// The stream.
        file: PathBuf,
    },
    /// Load every section that has a Rust mirror in the catalog into it
    /// and save it again; one line per section, then `N/M sections
    /// byte-identical, K without a mirror`. Fails on any difference.
    Roundtrip {
        /// The stream.
        file: PathBuf,
    },
    /// Change fields of device sections and write a new stream.
    #[command(after_long_help = EDIT_HELP)]
    Edit {
        /// The stream to read.
        input: PathBuf,
        /// Where to write the edited stream (may be INPUT).
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
byte offset in the input; the exit status is then 1 and OUTPUT is not
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
        Cmd::Analyze { file, desc } => vmstate_cli::analyze(&file, desc).and_then(|s| {
            std::io::stdout()
                .write_all(s.as_bytes())
                .map_err(|err| vmstate_cli::CliError::Io {
                    file: "<stdout>".into(),
                    err,
                })
        }),
        Cmd::Sections { file } => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            vmstate_cli::sections(&file, &mut lock)
        }
        Cmd::Roundtrip { file } => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            vmstate_cli::roundtrip(&file, &mut lock).and_then(|sum| {
                if sum.all_identical() {
                    Ok(())
                } else {
                    Err(vmstate_cli::CliError::Usage(format!(
                        "{}: {sum}",
                        file.display()
                    )))
                }
            })
        }
        Cmd::Edit {
            input,
            output,
            sets,
        } => vmstate_cli::edit(&input, &output, &sets),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let line = e.to_string().replace('\n', " ");
            eprintln!("vmstate: {line}");
            ExitCode::FAILURE
        }
    }
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
