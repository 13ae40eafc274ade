//! `vmstate gen-rust`: Rust mirrors from QEMU's `-dump-vmstate` JSON and/or
//! a stream's vmdesc ([`vmstate_migration::gen_rust`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use vmstate_migration::gen_rust::{from_dump, from_vmdesc, parse_json, Generated};

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
/// generated (modules, codecs to write).
pub fn gen_rust(args: &GenRustArgs, out: &mut dyn Write) -> Result<Generated, CliError> {
    let mut all = Generated::default();
    if args.dump.is_none() && args.stream.is_none() {
        return Err(CliError::Usage(
            "gen-rust needs --dump FILE and/or --stream FILE".to_owned(),
        ));
    }
    if let Some(dump) = &args.dump {
        let text = std::fs::read(dump).map_err(|err| CliError::Io {
            file: dump.clone(),
            err,
        })?;
        let json = parse_json(&text).map_err(|e| usage(e, dump))?;
        all = from_dump(&json, &args.types).map_err(|e| usage(e, dump))?;
    }
    if let Some(stream) = &args.stream {
        let text = crate::analyze(stream, true)?;
        let json = parse_json(text.as_bytes()).map_err(|e| usage(e, stream))?;
        let g = from_vmdesc(&json, &args.sections).map_err(|e| usage(e, stream))?;
        if all.source.is_empty() {
            all = g;
        } else {
            // One file: the stream's modules after the dump's (the header
            // once).
            let body = g.source.lines().skip_while(|l| l.starts_with("//!"));
            for l in body {
                all.source.push_str(l);
                all.source.push('\n');
            }
            all.codecs.extend(g.codecs);
            all.modules.extend(g.modules);
        }
    }
    out.write_all(all.source.as_bytes())
        .map_err(|err| CliError::Io {
            file: "<stdout>".into(),
            err,
        })?;
    Ok(all)
}
