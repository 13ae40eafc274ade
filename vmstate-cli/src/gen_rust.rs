//! `vmstate gen-rust`: Rust mirrors from QEMU's `-dump-vmstate` JSON and/or
//! a stream's vmdesc ([`vmstate_migration::gen_rust`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use vmstate_migration::gen_rust::{from_dump_refined, from_vmdesc, parse_json, Generated};

use crate::CliError;

/// What to generate from.
#[derive(Debug, Clone, Default)]
pub struct GenRustArgs {
    /// A `-dump-vmstate` JSON file.
    pub dump: Option<PathBuf>,
    /// Its device types to generate (all when empty).
    pub types: Vec<String>,
    /// A migration stream, whose vmdesc trailer describes what it wrote.
    pub stream: Option<PathBuf>,
    /// Its sections to generate, by idstr (all when empty).
    pub sections: Vec<String>,
}

fn usage(e: impl std::fmt::Display, file: &Path) -> CliError {
    CliError::Usage(format!("{}: {e}", file.display()))
}

/// Generates the modules and writes them to `out`; returns what was
/// generated (modules, codecs to write). With a dump, one module per
/// device type (`--type`, or all), refined by the stream's vmdesc when
/// both are given; with a stream only, one per section (`--section`, or
/// all).
pub fn gen_rust(args: &GenRustArgs, out: &mut dyn Write) -> Result<Generated, CliError> {
    let vmdesc = match &args.stream {
        Some(stream) => {
            let text = crate::analyze(stream, true)?;
            Some(parse_json(text.as_bytes()).map_err(|e| usage(e, stream))?)
        }
        None => None,
    };
    let all = match (&args.dump, &args.stream, &vmdesc) {
        (Some(dump), _, v) => {
            let text = std::fs::read(dump).map_err(|err| CliError::Io {
                file: dump.clone(),
                err,
            })?;
            let json = parse_json(&text).map_err(|e| usage(e, dump))?;
            from_dump_refined(&json, &args.types, v.as_ref()).map_err(|e| usage(e, dump))?
        }
        (None, Some(stream), Some(v)) => {
            from_vmdesc(v, &args.sections).map_err(|e| usage(e, stream))?
        }
        _ => {
            return Err(CliError::Usage(
                "gen-rust needs --dump FILE and/or --stream FILE".to_owned(),
            ))
        }
    };
    out.write_all(all.source.as_bytes())
        .map_err(|err| CliError::Io {
            file: "<stdout>".into(),
            err,
        })?;
    Ok(all)
}
