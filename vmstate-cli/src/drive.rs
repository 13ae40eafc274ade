//! One pass over a stream for the commands: the header first (so that a
//! file that is not a stream says so), the vmdesc trailer read first when
//! the input is a regular file, and, on a pipe, the rest of the stream held
//! in memory from the first FULL section on (the device sections cannot be
//! delimited before the trailer at the end is known). RAM sections before
//! that are read as they come and never held.

use std::path::PathBuf;

use vmstate_core::stream::Reader;
use vmstate_migration::{
    locate_vmdesc, Item, ReadOptions, SectionTargets, StreamError, StreamErrorKind, StreamReader,
    VmDesc, VM_SECTION_FULL,
};

use crate::io::Input;
use crate::source::{InputSource, TrailerScan};
use crate::CliError;

/// Most bytes held in memory for the device sections and trailer of a
/// stream that has no usable trailer or is read from a pipe.
pub const MAX_HELD: u64 = 256 << 20;

/// What is known of the vmdesc trailer.
pub(crate) enum Trailer {
    /// Parsed.
    Found(VmDesc),
    /// The stream has none; `at` is where it ends.
    Missing { at: u64 },
    /// The trailer is there but unusable: why, and where.
    Damaged(String, u64),
    /// Not reached yet (a pipe).
    Unknown,
}

/// A stream being read by a command.
pub(crate) struct Drive {
    pub(crate) r: StreamReader<InputSource>,
    pub(crate) name: PathBuf,
    pub(crate) trailer: Trailer,
    held: bool,
    max_vmdesc: u64,
}

impl Drive {
    /// Reads the header (a file that does not start with `QEVM` is not a
    /// stream) and, from a regular file, the trailer.
    pub(crate) fn open(input: Input, opts: ReadOptions) -> Result<Drive, CliError> {
        let Input { name, src } = input;
        let max = opts.max_vmdesc_len;
        let mut r = match StreamReader::with_reader(Reader::with_source(src), None, opts) {
            Ok(r) => r,
            Err(e) if is_not_a_stream(&e) => return Err(CliError::NotAStream { file: name }),
            Err(err) => return Err(CliError::Stream { file: name, err }),
        };
        let scan = r
            .source_mut()
            .find_trailer(max)
            .map_err(|err| CliError::Io {
                file: name.clone(),
                err,
            })?;
        let trailer = match scan {
            None => Trailer::Unknown,
            Some(TrailerScan::Missing) => Trailer::Missing {
                at: r.source_mut().len().unwrap_or(0),
            },
            Some(TrailerScan::Truncated {
                at,
                needed,
                available,
            }) => classify(
                Err(StreamError::new(
                    StreamErrorKind::UnexpectedEof { needed, available },
                    at,
                )),
                0,
            ),
            Some(TrailerScan::Json { at, json }) => {
                if json.len() as u64 > max {
                    Trailer::Damaged(
                        format!("vmdesc JSON of {} bytes, more than {max}", json.len()),
                        at,
                    )
                } else {
                    classify(VmDesc::parse(&json, at).map(Some), 0)
                }
            }
        };
        if let Trailer::Found(d) = &trailer {
            r.set_vmdesc(d.clone());
        }
        Ok(Drive {
            r,
            name,
            trailer,
            held: false,
            max_vmdesc: max,
        })
    }

    pub fn stream_err(&self, err: StreamError) -> CliError {
        CliError::Stream {
            file: self.name.clone(),
            err,
        }
    }

    /// Before the next record: when a FULL section comes and the trailer is
    /// not known, holds the rest of the stream in memory and looks for the
    /// trailer there. Returns the description when it was just found.
    pub(crate) fn prepare(&mut self) -> Result<Option<VmDesc>, CliError> {
        if self.held || matches!(self.trailer, Trailer::Found(_)) {
            return Ok(None);
        }
        let next = self.r.peek_record().map_err(|e| self.stream_err(e))?;
        if next != Some(VM_SECTION_FULL) {
            return Ok(None);
        }
        let at = self.r.offset();
        let whole = self
            .r
            .source_mut()
            .drain(MAX_HELD)
            .map_err(|err| CliError::Io {
                file: self.name.clone(),
                err,
            })?;
        if !whole {
            return Err(self.stream_err(StreamError::new(
                StreamErrorKind::TooLarge {
                    what: "stream tail held in memory until its vmdesc trailer (device \
                           sections, EOF, trailer)",
                    found: MAX_HELD.saturating_add(1),
                    max: MAX_HELD,
                },
                at,
            )));
        }
        self.held = true;
        if matches!(self.trailer, Trailer::Unknown) {
            let max = self.max_vmdesc;
            let rest = self.r.source_mut().rest().unwrap_or_default();
            let end = at + rest.len() as u64;
            self.trailer = classify(locate_vmdesc(rest, max).map_err(|e| e.rebase(at)), end);
        }
        match &self.trailer {
            Trailer::Found(d) => {
                let d = d.clone();
                self.r.set_vmdesc(d.clone());
                Ok(Some(d))
            }
            _ => Ok(None),
        }
    }

    /// The next record; FULL sections go to `targets` first.
    pub(crate) fn next(
        &mut self,
        targets: &mut dyn SectionTargets<InputSource>,
    ) -> Result<Option<Item>, CliError> {
        self.r
            .next_item_into(targets)
            .map_err(|e| self.stream_err(e))
    }

    /// The description, or why there is none (for the commands that need
    /// it). Only meaningful once known: for a regular file from the start,
    /// for a pipe after [`prepare`](Self::prepare) held the tail.
    pub(crate) fn require_desc(&self) -> Result<VmDesc, CliError> {
        match &self.trailer {
            Trailer::Found(d) => Ok(d.clone()),
            Trailer::Missing { at } => Err(self.stream_err(StreamError::invalid(
                "no vmdesc trailer at the end of the stream: the device sections cannot be \
                 decoded",
                *at,
            ))),
            Trailer::Damaged(why, at) => Err(self.stream_err(StreamError::invalid(
                format!("unusable vmdesc trailer: {why}"),
                *at,
            ))),
            Trailer::Unknown => Err(self.stream_err(StreamError::invalid(
                "the vmdesc trailer was not reached",
                self.r.offset(),
            ))),
        }
    }

    /// Whether the trailer is known to be missing or unusable.
    pub(crate) fn trailer_unusable(&self) -> bool {
        matches!(self.trailer, Trailer::Missing { .. } | Trailer::Damaged(..))
    }

    /// Reads up to where the trailer is known, for `analyze --desc`:
    /// records before the first FULL section (RAM) are read and dropped.
    pub(crate) fn find_trailer(&mut self) -> Result<VmDesc, CliError> {
        loop {
            if !matches!(self.trailer, Trailer::Unknown) {
                return self.require_desc();
            }
            self.prepare()?;
            if !matches!(self.trailer, Trailer::Unknown) {
                continue;
            }
            match self.next(&mut crate::targets::NoTargets)? {
                Some(Item::VmDesc(t)) => {
                    self.trailer = classify(VmDesc::parse(&t.json, t.offset + 5).map(Some), 0);
                }
                Some(_) => {}
                None => {
                    self.trailer = Trailer::Missing {
                        at: self.r.offset(),
                    }
                }
            }
        }
    }
}

fn classify(found: Result<Option<VmDesc>, StreamError>, end: u64) -> Trailer {
    match found {
        Ok(Some(d)) => Trailer::Found(d),
        Ok(None) => Trailer::Missing { at: end },
        Err(e) => Trailer::Damaged(e.kind().to_string(), e.offset()),
    }
}

/// A header error that means the input is no migration stream at all (as
/// opposed to a damaged or unsupported one).
fn is_not_a_stream(e: &StreamError) -> bool {
    matches!(e.kind(), StreamErrorKind::BadMagic { .. })
}
