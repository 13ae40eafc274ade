//! `sections` and `analyze` on a CPR state file (the `cpr` channel of a
//! `cpr-transfer`, "QCPR"), which has no sections and no vmdesc.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use vmstate_migration::cpr::{is_cpr_state, CprListing};

use crate::{io_err, stream_err, CliError};

/// CPR states are small (one entry per descriptor); more than this is not
/// one.
const MAX_LEN: u64 = 16 << 20;

/// The listing of `path` when it is a CPR state file; `None` for anything
/// else (stdin included), which the stream reader then handles.
pub fn listing(path: &Path) -> Result<Option<CprListing>, CliError> {
    if path == Path::new("-") {
        return Ok(None);
    }
    let ioe = io_err(path);
    let mut f = File::open(path).map_err(&ioe)?;
    let mut bytes = Vec::new();
    (&mut f).take(4).read_to_end(&mut bytes).map_err(&ioe)?;
    if !is_cpr_state(&bytes) {
        return Ok(None);
    }
    f.take(MAX_LEN).read_to_end(&mut bytes).map_err(&ioe)?;
    CprListing::parse(&bytes)
        .map(Some)
        .map_err(|e| stream_err(path)(e.into()))
}

/// The `sections` table for a CPR state: the state, then one row per
/// descriptor entry (its id in the INST column, the placeholder's offset
/// under SUBSECTIONS).
pub fn sections(l: &CprListing, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>10}  {:<6} {:>4}  {:<32} {:>4} {:>4} {:>10}  SUBSECTIONS",
        "OFFSET", "TYPE", "ID", "IDSTR", "INST", "VER", "PAYLOAD"
    )?;
    writeln!(
        out,
        "{:#010x}  {:<6} {:>4}  {:<32} {:>4} {:>4} {:>10}  -",
        0,
        "CPR",
        "-",
        "CprState",
        "-",
        l.version,
        l.len - 8
    )?;
    for e in &l.entries {
        writeln!(
            out,
            "{:#010x}  {:<6} {:>4}  {:<32} {:>4} {:>4} {:>10}  fd@{:#010x}",
            e.offset,
            "CPRFD",
            "-",
            e.name,
            e.id,
            1,
            e.fd_offset + 1 - e.offset,
            e.fd_offset
        )?;
    }
    Ok(())
}
