//! What every subcommand shares as a Unix tool: `-` for stdin and stdout,
//! input from files or pipes, exit statuses, and quiet on a closed stdout.
//!
//! * [`Input::open`]: a path, or `-` for stdin; a regular file (stdin
//!   redirected from one included) can seek, anything else is read once.
//! * [`Output::create`]: a path, or `-` for stdout, buffered.
//! * [`CliError::exit_code`] / [`finish`]: 0 ok, 1 differences or
//!   incompatibilities found, 2 bad input or usage; an output closed by its
//!   reader (`vmstate analyze f | head`) ends the program quietly with 0.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use crate::source::InputSource;
use crate::CliError;

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: the command ran and found differences or
/// incompatibilities.
pub const EXIT_DIFFERENCES: u8 = 1;
/// Exit status: bad input (unreadable, not a stream, malformed) or usage.
pub const EXIT_BAD_INPUT: u8 = 2;

/// Streams at least this large get a progress bar (when stderr is a
/// terminal); pipes get one after this many bytes.
const PROGRESS_MIN: u64 = 64 << 20;

/// Whether `path` is `-` (stdin or stdout).
pub fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// An input stream: a regular file, or a pipe read once.
pub struct Input {
    /// The name used in messages (`<stdin>` for `-`).
    pub name: PathBuf,
    pub(crate) src: InputSource,
}

impl Input {
    /// Opens `path`, or stdin for `-`.
    pub fn open(path: &Path) -> Result<Input, CliError> {
        if is_dash(path) {
            return Self::stdin();
        }
        let file = File::open(path).map_err(|err| CliError::Io {
            file: path.to_owned(),
            err,
        })?;
        Self::from_file(path, file)
    }

    fn stdin() -> Result<Input, CliError> {
        let name = PathBuf::from("<stdin>");
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            let fd = io::stdin()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|err| CliError::Io {
                    file: name.clone(),
                    err,
                })?;
            Self::from_file(&name, File::from(fd))
        }
        #[cfg(not(unix))]
        {
            Ok(Self::from_read(&name, Box::new(io::stdin())))
        }
    }

    /// An input over an open file: a regular file can seek (to read the
    /// trailer first, and past RAM pages); anything else is read once.
    pub fn from_file(name: &Path, file: File) -> Result<Input, CliError> {
        let ioe = |err| CliError::Io {
            file: name.to_owned(),
            err,
        };
        let regular = file.metadata().map_err(ioe)?.file_type().is_file();
        let src = if regular {
            InputSource::file(file).map_err(ioe)?
        } else {
            InputSource::stream(Box::new(file))
        };
        Ok(Input {
            name: name.to_owned(),
            src,
        })
    }

    /// An input over anything that seeks (`len` bytes from its current
    /// position), read as a regular file is: trailer first, RAM pages
    /// skipped by seeking.
    pub fn from_seekable(
        name: &Path,
        r: Box<dyn crate::source::ReadSeek>,
        len: u64,
    ) -> Result<Input, CliError> {
        let src = InputSource::seekable(r, len).map_err(|err| CliError::Io {
            file: name.to_owned(),
            err,
        })?;
        Ok(Input {
            name: name.to_owned(),
            src,
        })
    }

    /// An input read once from any `Read`.
    pub fn from_read(name: &Path, r: Box<dyn io::Read>) -> Input {
        Input {
            name: name.to_owned(),
            src: InputSource::stream(r),
        }
    }

    /// Shows a progress bar on stderr, naming the input, when stderr is a
    /// terminal and the input is large (or of unknown length).
    pub fn show_progress(&mut self) {
        if !io::stderr().is_terminal() {
            return;
        }
        let name = self.name.display().to_string();
        let bar = match self.src.len() {
            Some(len) if len >= PROGRESS_MIN => {
                let bar = ProgressBar::new(len);
                if let Ok(style) = ProgressStyle::with_template(
                    "{msg} {bar:40} {percent:>3}% {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                ) {
                    bar.set_style(style);
                }
                bar
            }
            Some(_) => return,
            None => {
                let bar = ProgressBar::new_spinner();
                if let Ok(style) =
                    ProgressStyle::with_template("{msg} {spinner} {bytes} {bytes_per_sec}")
                {
                    bar.set_style(style);
                }
                bar
            }
        };
        bar.set_message(name);
        self.src.set_progress(bar);
    }
}

/// Where a command writes: a file, or stdout for `-`.
pub struct Output {
    /// The name used in messages (`<stdout>` for `-`).
    pub name: PathBuf,
    w: Box<dyn Write>,
}

impl Output {
    /// Creates `path` (truncating it), or stdout for `-`.
    pub fn create(path: &Path) -> Result<Output, CliError> {
        if is_dash(path) {
            return Ok(Self::stdout());
        }
        let f = File::create(path).map_err(|err| CliError::Io {
            file: path.to_owned(),
            err,
        })?;
        Ok(Output {
            name: path.to_owned(),
            w: Box::new(BufWriter::new(f)),
        })
    }

    /// Buffered stdout.
    pub fn stdout() -> Output {
        Output {
            name: PathBuf::from("<stdout>"),
            w: Box::new(BufWriter::with_capacity(64 * 1024, io::stdout())),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.w.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.w.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// An error writing the output (a closed pipe ends the program quietly).
pub fn output_err(err: io::Error) -> CliError {
    CliError::Output(err)
}

/// The exit status of a command's result, printing its error (one line on
/// stderr, `vmstate: ...`) unless the output was closed by its reader.
pub fn finish(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            let code = e.exit_code();
            if !e.is_closed_output() {
                let line = e.to_string().replace('\n', " ");
                // stderr may be closed too; nothing more to do then.
                let _ = writeln!(io::stderr(), "vmstate: {line}");
            }
            ExitCode::from(code)
        }
    }
}
