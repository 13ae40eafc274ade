//! `analyze --extract DIR`: one file per RAM block, as
//! `analyze-migration.py -x` writes them: the block's length, sparse, with
//! every page the stream sends (zero pages with a non-zero fill byte
//! written out) at its address.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};

use vmstate_migration::{Item, Payload, RamBody, RamPayload, StreamError};

use crate::CliError;

/// Why a block could not be written.
pub(crate) enum Error {
    /// The stream is at fault (a block name that leaves DIR, a page
    /// outside its block).
    Stream(StreamError),
    /// Writing failed.
    Cli(CliError),
}

/// The block files being written.
pub(crate) struct Blocks {
    dir: PathBuf,
    files: HashMap<String, (File, u64)>,
    last: Option<String>,
}

impl Blocks {
    /// Creates DIR if needed.
    pub(crate) fn new(dir: &Path) -> Result<Blocks, CliError> {
        std::fs::create_dir_all(dir).map_err(|err| CliError::Io {
            file: dir.to_owned(),
            err,
        })?;
        Ok(Blocks {
            dir: dir.to_owned(),
            files: HashMap::new(),
            last: None,
        })
    }

    /// Writes the pages of a RAM item; prints the name of each block file
    /// created to `out`.
    pub(crate) fn add(
        &mut self,
        item: &Item,
        page_size: u64,
        out: &mut dyn Write,
    ) -> Result<(), Error> {
        let (p, at): (&RamPayload, u64) = match item {
            Item::Section(s) => match &s.payload {
                Payload::Ram(p) => (p, s.payload_offset),
                _ => return Ok(()),
            },
            Item::RamContinued(c) => (&c.payload, c.offset),
            _ => return Ok(()),
        };
        for rec in &p.records {
            if let Some(b) = &rec.block {
                self.last = Some(b.clone());
            }
            let addr = rec.addr(page_size);
            match &rec.body {
                RamBody::MemSize(blocks) => {
                    for b in blocks {
                        let rel = safe_path(&b.name).ok_or_else(|| {
                            Error::Stream(StreamError::invalid(
                                format!("RAM block name `{}` would leave the directory", b.name),
                                at,
                            ))
                        })?;
                        let path = self.dir.join(&rel);
                        let io = |err| {
                            Error::Cli(CliError::Io {
                                file: path.clone(),
                                err,
                            })
                        };
                        if let Some(parent) = path.parent() {
                            std::fs::create_dir_all(parent).map_err(io)?;
                        }
                        let f = File::create(&path).map_err(io)?;
                        f.set_len(b.used_length).map_err(io)?;
                        writeln!(out, "{}", rel.display())
                            .map_err(|e| Error::Cli(CliError::Output(e)))?;
                        self.files.insert(b.name.clone(), (f, b.used_length));
                    }
                }
                RamBody::Zero(0) | RamBody::Eos | RamBody::MultifdFlush => {}
                RamBody::Zero(fill) => {
                    let page = vec![*fill; page_size as usize];
                    self.write(addr, &page, at)?;
                }
                RamBody::Page(Some(data)) => self.write(addr, data, at)?,
                RamBody::Page(None) => {}
            }
        }
        Ok(())
    }

    fn write(&mut self, addr: u64, data: &[u8], at: u64) -> Result<(), Error> {
        let name = self.last.clone().unwrap_or_default();
        let Some((f, len)) = self.files.get(&name) else {
            return Err(Error::Stream(StreamError::invalid(
                format!("a page of RAM block `{name}`, which the block list does not name"),
                at,
            )));
        };
        if addr.saturating_add(data.len() as u64) > *len {
            return Err(Error::Stream(StreamError::invalid(
                format!("page {addr:#x} lies outside RAM block `{name}` ({len:#x} bytes)"),
                at,
            )));
        }
        f.write_all_at(data, addr).map_err(|err| {
            Error::Cli(CliError::Io {
                file: self.dir.join(&name),
                err,
            })
        })
    }
}

/// A block name as a relative path inside DIR (`/rom@etc/acpi/tables` →
/// `rom@etc/acpi/tables`); `None` for a name that would leave it.
fn safe_path(name: &str) -> Option<PathBuf> {
    let mut p = PathBuf::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(n) => p.push(n),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    (!p.as_os_str().is_empty()).then_some(p)
}
