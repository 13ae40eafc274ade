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
    /// (built for the machine the configuration names) and save it again;
    /// one line per section, then `N/M sections byte-identical, K without
    /// a mirror`. Fails on any difference.
    Roundtrip {
        /// The stream.
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
