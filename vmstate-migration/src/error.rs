//! Errors of the whole-stream layer: which section, which field path, which
//! byte offset, and what was expected.
//!
//! The crate's [`Error`](vmstate_core::Error) names fields with `&'static str`
//! (the names of compiled-in descriptions). A whole stream is described by
//! its own vmdesc JSON, so its names are only known at run time: this module
//! has its own error type, [`StreamError`], with owned names. Errors of the
//! byte-level [`Reader`](vmstate_core::Reader) and [`Writer`](vmstate_core::Writer) convert
//! into it with their offset kept.

use std::error::Error as StdError;
use std::fmt;

use vmstate_core::error::{BoxError, ErrorKind};

/// `Result` with [`StreamError`] as the error type.
pub type StreamResult<T> = std::result::Result<T, StreamError>;

/// Names a section in an error: `i8259:1 (section id 16)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionName {
    /// The section's idstr (`i8259`, `0000:00:01.3/piix4_pm`).
    pub idstr: String,
    /// Its instance id.
    pub instance_id: u32,
    /// Its section id (registration order in the source QEMU).
    pub section_id: u32,
}

impl fmt::Display for SectionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.idstr, self.instance_id)
    }
}

/// One step of a field path inside a section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSegment {
    /// A field, by its vmdesc name.
    Field(String),
    /// An array element.
    Index(u64),
    /// A subsection, by its full name (`pckbd/extended_state`).
    Subsection(String),
}

/// What went wrong in a whole stream. Non-exhaustive: later versions add
/// kinds.
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamErrorKind {
    /// The stream ended inside an element.
    UnexpectedEof {
        /// Bytes the element needed.
        needed: u64,
        /// Bytes that were left.
        available: u64,
    },
    /// The underlying reader or writer failed; the `io::Error` is the source.
    Io,
    /// The first be32 is not `QEVM`.
    BadMagic {
        /// The be32 found.
        found: u32,
    },
    /// The stream version is not 3.
    UnsupportedVersion {
        /// The be32 found.
        found: u32,
    },
    /// A byte where a record type was expected that is not one.
    UnknownRecord {
        /// The byte found.
        found: u8,
    },
    /// A section footer (`0x7e`) was required and something else was found.
    MissingFooter {
        /// The byte found.
        found: u8,
    },
    /// A footer was found in a stream that has none elsewhere (or that the
    /// options say has none).
    UnexpectedFooter,
    /// The footer's section id differs from the header's.
    FooterMismatch {
        /// The header's section id.
        expected: u32,
        /// The footer's.
        found: u32,
    },
    /// A PART/END section whose id was never opened by a START.
    UnknownSectionId {
        /// The id.
        id: u32,
    },
    /// A FULL section the vmdesc does not describe: its length cannot be
    /// known.
    NoDescription,
    /// A length or count above the configured bound.
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The length in the stream (or reached so far).
        found: u64,
        /// The bound.
        max: u64,
    },
    /// The vmdesc JSON is malformed or does not describe a stream.
    BadVmdesc {
        /// What is wrong.
        message: String,
    },
    /// A value or value tree does not match its description (encoding, or
    /// an edit).
    Mismatch {
        /// What is wrong.
        message: String,
    },
    /// Any other malformed data.
    Invalid {
        /// What was expected, and what was found.
        message: String,
    },
    /// A kind of the byte-level layer (the crate's [`ErrorKind`]), shown by
    /// its message.
    Core {
        /// The rendered message of the inner error kind.
        message: String,
    },
}

impl fmt::Display for StreamErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamErrorKind::UnexpectedEof { needed, available } => write!(
                f,
                "unexpected end of stream: needed {needed} byte{}, only {available} left",
                if *needed == 1 { "" } else { "s" }
            ),
            StreamErrorKind::Io => f.write_str("I/O error"),
            StreamErrorKind::BadMagic { found } => write!(
                f,
                "not a QEMU migration stream: expected magic 0x5145564d (QEVM), found {found:#010x}"
            ),
            StreamErrorKind::UnsupportedVersion { found } => write!(
                f,
                "unsupported migration stream version {found} (expected 3)"
            ),
            StreamErrorKind::UnknownRecord { found } => {
                write!(f, "unknown section type {found:#04x}")
            }
            StreamErrorKind::MissingFooter { found } => write!(
                f,
                "missing section footer: expected 0x7e, found {found:#04x}"
            ),
            StreamErrorKind::UnexpectedFooter => {
                f.write_str("section footer (0x7e) in a stream without footers")
            }
            StreamErrorKind::FooterMismatch { expected, found } => write!(
                f,
                "mismatched section id in footer: expected {expected}, found {found}"
            ),
            StreamErrorKind::UnknownSectionId { id } => {
                write!(f, "PART/END for section id {id}, which no START opened")
            }
            StreamErrorKind::NoDescription => f.write_str(
                "the vmdesc trailer does not describe this section, so its end cannot be found",
            ),
            StreamErrorKind::TooLarge { what, found, max } => {
                write!(f, "{what} of {found} bytes exceeds the limit of {max}")
            }
            StreamErrorKind::BadVmdesc { message } => write!(f, "bad vmdesc JSON: {message}"),
            StreamErrorKind::Mismatch { message } => f.write_str(message),
            StreamErrorKind::Invalid { message } => f.write_str(message),
            StreamErrorKind::Core { message } => f.write_str(message),
        }
    }
}

/// An error of the whole-stream layer.
///
/// It names the section (idstr, instance id and section id), the field path
/// inside it (vmdesc names, `kbd/pckbd/extended_state/obsrc`), and the byte
/// offset from the start of the stream. Its `Display` is one line:
///
/// ```text
/// pckbd:0/kbd/pckbd/extended_state/obsrc (section id 25) at byte 226195: unexpected end of stream: needed 4 bytes, only 2 left
/// ```
///
/// The part before ` (section id` is a valid field selector for
/// `vmstate edit --set`.
pub struct StreamError(Box<Inner>);

struct Inner {
    kind: StreamErrorKind,
    offset: u64,
    section: Option<SectionName>,
    /// Innermost first.
    path: Vec<PathSegment>,
    source: Option<BoxError>,
}

impl StreamError {
    /// A new error of `kind` at stream `offset`.
    #[cold]
    pub fn new(kind: StreamErrorKind, offset: u64) -> Self {
        StreamError(Box::new(Inner {
            kind,
            offset,
            section: None,
            path: Vec::new(),
            source: None,
        }))
    }

    /// An [`StreamErrorKind::Invalid`] error.
    #[cold]
    pub fn invalid(message: impl Into<String>, offset: u64) -> Self {
        Self::new(
            StreamErrorKind::Invalid {
                message: message.into(),
            },
            offset,
        )
    }

    /// A [`StreamErrorKind::Mismatch`] error.
    #[cold]
    pub fn mismatch(message: impl Into<String>, offset: u64) -> Self {
        Self::new(
            StreamErrorKind::Mismatch {
                message: message.into(),
            },
            offset,
        )
    }

    /// A [`StreamErrorKind::BadVmdesc`] error.
    #[cold]
    pub fn bad_vmdesc(message: impl Into<String>, offset: u64) -> Self {
        Self::new(
            StreamErrorKind::BadVmdesc {
                message: message.into(),
            },
            offset,
        )
    }

    /// An I/O error at `offset`.
    #[cold]
    pub fn io(err: std::io::Error, offset: u64) -> Self {
        Self::new(StreamErrorKind::Io, offset).with_source(err)
    }

    /// Attaches a source error.
    #[cold]
    pub fn with_source(mut self, err: impl StdError + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(err));
        self
    }

    /// Names the section the error happened in (kept if already set).
    #[cold]
    pub fn in_section(mut self, section: &SectionName) -> Self {
        if self.0.section.is_none() {
            self.0.section = Some(section.clone());
        }
        self
    }

    /// Adds an outer path segment.
    #[cold]
    pub fn within(mut self, seg: PathSegment) -> Self {
        self.0.path.push(seg);
        self
    }

    /// Adds an outer field segment.
    #[cold]
    pub fn field(self, name: &str) -> Self {
        self.within(PathSegment::Field(name.to_owned()))
    }

    /// Adds an outer array-index segment.
    #[cold]
    pub fn index(self, i: u64) -> Self {
        self.within(PathSegment::Index(i))
    }

    /// Adds an outer subsection segment.
    #[cold]
    pub fn subsection(self, name: &str) -> Self {
        self.within(PathSegment::Subsection(name.to_owned()))
    }

    /// Moves the offset by `base` (for errors found in a payload decoded on
    /// its own, to report stream offsets).
    #[cold]
    pub fn rebase(mut self, base: u64) -> Self {
        self.0.offset = self.0.offset.saturating_add(base);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &StreamErrorKind {
        &self.0.kind
    }

    /// Offset from the start of the stream where the failing element began.
    pub fn offset(&self) -> u64 {
        self.0.offset
    }

    /// The section, when the error happened inside one.
    pub fn section(&self) -> Option<&SectionName> {
        self.0.section.as_ref()
    }

    /// The path segments, outermost first.
    pub fn segments(&self) -> impl Iterator<Item = &PathSegment> {
        self.0.path.iter().rev()
    }

    /// The field path inside the section as text, e.g.
    /// `kbd/pckbd/extended_state/obsrc` or `timers[2].cmp`.
    pub fn path(&self) -> String {
        render_path(self.segments())
    }
}

/// Renders path segments (outermost first) the way the crate's
/// [`Error::path`](vmstate_core::Error::path) does: `.` between fields, `/` around
/// subsections, `[i]` for elements.
pub(crate) fn render_path<'a>(segs: impl Iterator<Item = &'a PathSegment>) -> String {
    let mut s = String::new();
    let mut prev: Option<&PathSegment> = None;
    for seg in segs {
        match seg {
            PathSegment::Field(n) => {
                match prev {
                    None => {}
                    Some(PathSegment::Subsection(_)) => s.push('/'),
                    Some(_) => s.push('.'),
                }
                s.push_str(n);
            }
            PathSegment::Subsection(n) => {
                if prev.is_some() {
                    s.push('/');
                }
                s.push_str(n);
            }
            PathSegment::Index(i) => {
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
        }
        prev = Some(seg);
    }
    s
}

impl From<vmstate_core::Error> for StreamError {
    fn from(e: vmstate_core::Error) -> Self {
        let offset = e.offset();
        let kind = match e.kind() {
            ErrorKind::UnexpectedEof { needed, available } => StreamErrorKind::UnexpectedEof {
                needed: *needed,
                available: *available,
            },
            ErrorKind::Io => StreamErrorKind::Io,
            other => StreamErrorKind::Core {
                message: other.to_string(),
            },
        };
        let mut out = StreamError::new(kind, offset);
        let path = e.path();
        if !path.is_empty() {
            out = out.field(&path);
        }
        // Keep the I/O error (or hook error) as the source.
        if let Some(src) = StdError::source(&e) {
            let msg = src.to_string();
            out.0.source = Some(msg.into());
        }
        out
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        match (&self.0.section, path.is_empty()) {
            (Some(s), false) => write!(f, "{s}/{path} (section id {}) ", s.section_id)?,
            (Some(s), true) => write!(f, "section {s} (section id {}) ", s.section_id)?,
            (None, false) => write!(f, "{path} ")?,
            (None, true) => {}
        }
        write!(f, "at byte {}: {}", self.0.offset, self.0.kind)?;
        if let Some(src) = &self.0.source {
            write!(f, ": {src}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamError")
            .field("section", &self.0.section)
            .field("path", &self.path())
            .field("offset", &self.0.offset)
            .field("kind", &self.0.kind)
            .field("source", &self.0.source)
            .finish()
    }
}

impl StdError for StreamError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_section_path_offset() {
        let e = StreamError::new(
            StreamErrorKind::UnexpectedEof {
                needed: 4,
                available: 2,
            },
            100,
        )
        .field("obsrc")
        .subsection("pckbd/extended_state")
        .field("kbd")
        .in_section(&SectionName {
            idstr: "pckbd".into(),
            instance_id: 0,
            section_id: 25,
        });
        assert_eq!(e.path(), "kbd/pckbd/extended_state/obsrc");
        assert_eq!(
            e.to_string(),
            "pckbd:0/kbd/pckbd/extended_state/obsrc (section id 25) at byte 100: \
             unexpected end of stream: needed 4 bytes, only 2 left"
        );
        let e = StreamError::invalid("x", 3).index(2).field("timers");
        assert_eq!(e.to_string(), "timers[2] at byte 3: x");
    }
}
