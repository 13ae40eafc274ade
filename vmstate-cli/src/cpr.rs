//! `sections` and `analyze` on a CPR state file (the `cpr` channel of a
//! `cpr-transfer`, "QCPR"), which has no sections and no vmdesc.

use std::io::Write;

use vmstate_core::stream::Source;
use vmstate_migration::cpr::{is_cpr_state, CprListing};
use vmstate_migration::StreamError;

use crate::{io_err, stream_err, CliError, Input};

/// CPR states are small (one entry per descriptor); more than this is not
/// one.
const MAX_LEN: u64 = 16 << 20;

/// The listing of `input` when it is a CPR state (it starts with `QCPR`:
/// a file or a pipe); `None` for anything else, with nothing consumed, for
/// the stream reader.
pub fn listing(input: &mut Input) -> Result<Option<CprListing>, CliError> {
    let name = input.name.clone();
    let head = input.src.peek(4).map_err(io_err(&name))?;
    if !is_cpr_state(head) {
        return Ok(None);
    }
    // A pipe is read into memory up to the cap; a mapped file is already
    // there whole. Either way, more than the cap is not a CPR state.
    let drained = input.src.drain(MAX_LEN).map_err(io_err(&name))?;
    let bytes = input.src.rest().unwrap_or_default();
    if !drained || bytes.len() as u64 > MAX_LEN {
        return Err(stream_err(&name)(StreamError::invalid(
            format!("a CPR state of more than {MAX_LEN} bytes"),
            0,
        )));
    }
    CprListing::parse(bytes)
        .map(Some)
        .map_err(|e| stream_err(&name)(e.into()))
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
