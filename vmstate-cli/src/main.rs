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
    /// and save it again; one line per section, then `N/M sections
    /// byte-identical, K without a mirror`. Fails on any difference.
    Roundtrip {
        /// The stream (`-`: stdin).
        file: PathBuf,
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
        Cmd::Analyze {
            file,
            desc,
            memory,
            extract,
        } => Input::open(&file).and_then(|mut i| {
            i.show_progress();
            let opts = vmstate_cli::AnalyzeOptions {
                desc_only: desc,
                memory,
                extract,
            };
            vmstate_cli::analyze_with(i, &opts, &mut Output::stdout())
        }),
        Cmd::Sections { file } => Input::open(&file).and_then(|mut i| {
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
