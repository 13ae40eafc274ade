//! `vmstate check SRC DEST`: can a stream saved by SRC load on DEST, from
//! their `-dump-vmstate` JSON.

use std::io::{self, Read, Write};
use std::path::Path;

use vmstate_migration::compat::{self, Finding};
use vmstate_migration::dump::VmstateDump;

use crate::CliError;

/// How findings are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One line per finding.
    Text,
    /// One JSON document.
    Json,
}

/// Reads a dump from a file, or from stdin for `-`.
pub fn read_dump(path: &Path) -> Result<VmstateDump, CliError> {
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        io::stdin().lock().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    read.map_err(|err| CliError::Io {
        file: path.to_owned(),
        err,
    })?;
    VmstateDump::parse(&bytes).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

/// Compares the dumps `src` and `dest` (swapped with `reverse`), prints the
/// findings to `out` and returns them. Bad input is an `Err`.
pub fn check(
    src: &Path,
    dest: &Path,
    reverse: bool,
    format: Format,
    out: &mut dyn Write,
) -> Result<Vec<Finding>, CliError> {
    let (a, b) = (read_dump(src)?, read_dump(dest)?);
    let (s, d, sl, dl) = if reverse {
        (&b, &a, dest, src)
    } else {
        (&a, &b, src, dest)
    };
    let findings = compat::check(s, d);
    let (sl, dl) = (sl.display().to_string(), dl.display().to_string());
    let text = match format {
        Format::Text => compat::render_lines(&findings, &sl, &dl),
        Format::Json => compat::render_json(&findings, &sl, &dl),
    };
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A closed stdout still gets the verdict, as the exit status.
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => Err(CliError::Io {
            file: "<stdout>".into(),
            err,
        }),
        _ => Ok(findings),
    }
}
