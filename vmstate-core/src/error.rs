//! The one error type of the crate, with a trail of where it happened.
//!
//! Errors are the cold path: an [`Error`] is a single boxed allocation, so a
//! `Result<(), Error>` is one pointer wide and the hot path only tests it.
//! The field path is built while the error travels up through the generated
//! code (innermost segment first), so nothing is spent on it when loads
//! succeed.

use std::error::Error as StdError;
use std::fmt;

use crate::context::MigMode;
use crate::cpr::FdPassing;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error that a user hook returned.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a save or load failed.
///
/// Every error carries the field path (`hpet/timers[2].cmp`), the stream
/// offset where the failing element began, and an [`ErrorKind`] with what
/// was expected and what was found. Its `Display` is one line:
///
/// ```text
/// pckbd/kbd/pckbd/extended_state/obsrc at byte 38: unexpected end of stream: needed 4 bytes, only 2 left
/// ```
///
/// # The path
///
/// [`path`](Error::path) names where the failure is, outermost first, in
/// the names of the descriptions (QEMU's, through `rename`), not the Rust
/// identifiers:
///
/// * a description or subsection name, then `/` before its first field:
///   `hpet/num_timers`, `pckbd/kbd/pckbd/extended_state/obsrc` (the field
///   `kbd` holds a struct whose subsection `pckbd/extended_state` failed);
/// * `.` between a struct field and a field of the nested struct:
///   `i8254/channels.count`;
/// * `[i]` after an array, queue or tree field for its element `i`,
///   counted from 0: `hpet/timers[2].cmp`.
///
/// [`segments`](Error::segments) gives the same steps as values.
///
/// # The offset
///
/// [`offset`](Error::offset) counts bytes from where the [`Reader`] or
/// [`Writer`] started (for a section payload loaded from a slice: from the
/// payload's first byte). It points at the start of what failed:
///
/// | kind | offset of |
/// |---|---|
/// | [`UnexpectedEof`](ErrorKind::UnexpectedEof), [`InvalidBool`](ErrorKind::InvalidBool), [`NotEqual`](ErrorKind::NotEqual), [`OutOfRange`](ErrorKind::OutOfRange), [`PointerTooWide`](ErrorKind::PointerTooWide), [`NullPointer`](ErrorKind::NullPointer), [`Malformed`](ErrorKind::Malformed) | the first byte of the element (or marker) being read |
/// | [`VersionTooNew`](ErrorKind::VersionTooNew), [`VersionTooOld`](ErrorKind::VersionTooOld) | the first byte of the payload (or subsection fields) that could not be loaded |
/// | [`LengthOutOfRange`](ErrorKind::LengthOutOfRange), [`LengthMismatch`](ErrorKind::LengthMismatch) | the first byte of the array, before any element moved |
/// | [`UnknownSubsection`](ErrorKind::UnknownSubsection), [`DuplicateSubsection`](ErrorKind::DuplicateSubsection) | the subsection's marker byte `0x05` |
/// | [`VoidPtrRefused`](ErrorKind::VoidPtrRefused) | where the field's bytes would be |
/// | [`Hook`](ErrorKind::Hook) | where the stream was when the hook ran: before the fields for `pre_save`/`pre_load`, after the subsections for `post_load`/`post_save` |
/// | [`Invalid`](ErrorKind::Invalid) | the position of the `validate` check (between the fields around it) |
/// | [`TrailingBytes`](ErrorKind::TrailingBytes) | the first byte left over |
/// | [`Io`](ErrorKind::Io) | where the reader or writer was when the I/O error happened |
///
/// [`Reader`]: crate::Reader
/// [`Writer`]: crate::Writer
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    offset: u64,
    /// Innermost segment first.
    path: Vec<Segment>,
    source: Option<BoxError>,
}

/// One step of an error's field path.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Segment {
    /// A top-level description (the section's VMSD name).
    Vmsd(&'static str),
    /// A subsection, by its full name (`pckbd/extended_state`).
    Subsection(&'static str),
    /// A field, by its description name.
    Field(&'static str),
    /// An element of an array field.
    Index(usize),
    /// Any element of an array, queue or tree (a path found in the
    /// description, not in data): `[*]`.
    AnyElement,
}

/// What went wrong. Non-exhaustive: later versions add kinds.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The stream ended inside an element.
    UnexpectedEof {
        /// Bytes the element needed.
        needed: u64,
        /// Bytes that were left.
        available: u64,
    },
    /// The underlying reader or writer failed; the `io::Error` is the source.
    Io,
    /// The stream's version is newer than this description supports.
    VersionTooNew {
        /// Description name.
        vmsd: &'static str,
        /// Version in the stream.
        version: u32,
        /// Highest supported version (`version_id`).
        max: u32,
    },
    /// The stream's version is older than `minimum_version_id`.
    VersionTooOld {
        /// Description name.
        vmsd: &'static str,
        /// Version in the stream.
        version: u32,
        /// Lowest supported version (`minimum_version_id`).
        min: u32,
    },
    /// An `equal` field differs from the destination's configured value
    /// (QEMU's `*_EQUAL` infos).
    NotEqual {
        /// The destination's current value.
        expected: i128,
        /// The value in the stream.
        found: i128,
        /// The field's `hint`, if any.
        hint: Option<&'static str>,
    },
    /// A value is outside its allowed range (QEMU's `INT32_POSITIVE_LE`:
    /// `0 <= found <= max`).
    OutOfRange {
        /// The value in the stream.
        found: i128,
        /// Lowest allowed value.
        min: i128,
        /// Highest allowed value.
        max: i128,
    },
    /// A length taken from an earlier field is negative or exceeds what
    /// the destination can hold (checked before any element is read).
    LengthOutOfRange {
        /// The field that gives the length.
        field: &'static str,
        /// Its value.
        found: i128,
        /// The constant it is multiplied by.
        multiply: u32,
        /// The most elements (or bytes) the destination holds.
        max: u64,
    },
    /// On save, a `Vec` whose length differs from its count field's.
    LengthMismatch {
        /// The field that gives the length.
        field: &'static str,
        /// The length that field gives.
        expected: u64,
        /// The `Vec`'s length.
        found: u64,
    },
    /// A `bool` byte other than 0 or 1, in strict mode.
    InvalidBool {
        /// The byte in the stream.
        found: u8,
    },
    /// A subsection whose name has this description's prefix but is not one
    /// of its subsections (QEMU: `-ENOENT`).
    UnknownSubsection {
        /// The name in the stream (lossy UTF-8).
        name: String,
    },
    /// The same subsection arrived twice under
    /// [`DuplicateSubsections::Reject`](crate::DuplicateSubsections::Reject).
    DuplicateSubsection {
        /// Its name.
        name: &'static str,
    },
    /// A `void_ptr` field was saved or loaded outside a CPR mode.
    VoidPtrRefused {
        /// The context's mode.
        mode: MigMode,
    },
    /// A `void_ptr` value that does not fit this host's pointer width.
    PointerTooWide {
        /// The value in the stream.
        found: u64,
    },
    /// A null address for a `NonNull` `void_ptr` field.
    NullPointer,
    /// An `fd` field was saved or loaded in a mode that does not carry
    /// descriptors (only `cpr-transfer` and `cpr-exec` do).
    FdRefused {
        /// The context's mode.
        mode: MigMode,
    },
    /// An `fd` field met a channel that cannot carry its descriptor in this
    /// mode (a plain `Read`/`Write`, or the other mode's channel).
    FdChannel {
        /// The context's mode.
        mode: MigMode,
        /// What the channel does with descriptors.
        passing: FdPassing,
    },
    /// A descriptor the stream needs did not arrive (`cpr-transfer`: none
    /// came with the placeholder byte; `cpr-exec`: the number is not one
    /// of the inherited descriptors).
    FdMissing {
        /// The descriptor number in the stream (`cpr-exec`), if any.
        number: Option<i32>,
    },
    /// Descriptors arrived that no `fd` field took, or one arrived with
    /// another byte than its placeholder.
    FdExtra {
        /// How many.
        count: usize,
    },
    /// An `fd` field to save holds no descriptor, or a descriptor-less
    /// channel met a field that must receive one.
    FdEmpty,
    /// A user hook (`pre_load`, `post_load`, `pre_save`, `post_save`)
    /// failed; its error is the source.
    Hook {
        /// Which hook.
        hook: &'static str,
    },
    /// A condition stated by the description failed (`validate`, and
    /// internal consistency checks).
    Invalid {
        /// What was expected.
        message: &'static str,
    },
    /// The bytes do not follow the wire format's framing: a pointer slot's
    /// null marker, a queue or tree marker under
    /// [`Context::strict_markers`](crate::Context::strict_markers), a tree
    /// whose node count disagrees with its nodes.
    Malformed {
        /// What the format requires here.
        message: &'static str,
    },
    /// [`VmState::load_exact`](crate::VmState::load_exact):
    /// the payload has bytes after everything the description reads.
    TrailingBytes {
        /// How many.
        count: u64,
    },
}

impl Error {
    /// A new error of `kind` at stream `offset`, with an empty path.
    #[cold]
    pub fn new(kind: ErrorKind, offset: u64) -> Self {
        Error(Box::new(Inner {
            kind,
            offset,
            path: Vec::new(),
            source: None,
        }))
    }

    /// An I/O error at `offset`.
    #[cold]
    pub fn io(err: std::io::Error, offset: u64) -> Self {
        Self::new(ErrorKind::Io, offset).with_source(err)
    }

    /// A failed user hook at `offset`; `err` becomes the source.
    #[cold]
    pub fn hook(hook: &'static str, err: BoxError, offset: u64) -> Self {
        let mut e = Self::new(ErrorKind::Hook { hook }, offset);
        e.0.source = Some(err);
        e
    }

    /// Attaches a source error.
    #[cold]
    pub fn with_source(mut self, err: impl StdError + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(err));
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// Stream offset (bytes from the reader's or writer's start) where the
    /// failing element began.
    pub fn offset(&self) -> u64 {
        self.0.offset
    }

    /// The path segments, outermost first.
    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.0.path.iter().rev()
    }

    /// The field path as text, e.g. `hpet/timers[2].cmp`.
    pub fn path(&self) -> String {
        let mut s = String::new();
        let mut prev: Option<&Segment> = None;
        for seg in self.segments() {
            match seg {
                Segment::Vmsd(n) => s.push_str(n),
                Segment::Subsection(n) => {
                    if prev.is_some() {
                        s.push('/');
                    }
                    s.push_str(n);
                }
                Segment::Field(n) => {
                    match prev {
                        None => {}
                        Some(Segment::Vmsd(_) | Segment::Subsection(_)) => s.push('/'),
                        Some(_) => s.push('.'),
                    }
                    s.push_str(n);
                }
                Segment::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
                Segment::AnyElement => s.push_str("[*]"),
            }
            prev = Some(seg);
        }
        s
    }

    /// Adds an outer path segment.
    #[cold]
    pub fn within(mut self, seg: Segment) -> Self {
        self.0.path.push(seg);
        self
    }

    /// Adds an outer field segment.
    #[cold]
    pub fn field(self, name: &'static str) -> Self {
        self.within(Segment::Field(name))
    }

    /// Adds `by` to the outermost segment when it is an array index (an
    /// element index inside a chunk becomes one inside the whole array);
    /// an error that names no element is left as it is.
    #[cold]
    pub fn shift_index(mut self, by: usize) -> Self {
        if let Some(Segment::Index(i)) = self.0.path.last_mut() {
            *i = i.saturating_add(by);
        }
        self
    }

    /// Adds an outer array-index segment.
    #[cold]
    pub fn index(self, i: usize) -> Self {
        self.within(Segment::Index(i))
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::UnexpectedEof { needed, available } => write!(
                f,
                "unexpected end of stream: needed {needed} byte{}, only {available} left",
                if *needed == 1 { "" } else { "s" }
            ),
            ErrorKind::Io => f.write_str("I/O error"),
            ErrorKind::VersionTooNew { vmsd, version, max } => write!(
                f,
                "{vmsd}: incoming version {version} is too new for local version {max}"
            ),
            ErrorKind::VersionTooOld { vmsd, version, min } => write!(
                f,
                "{vmsd}: incoming version {version} is older than the minimum version {min}"
            ),
            ErrorKind::NotEqual {
                expected,
                found,
                hint,
            } => {
                write!(
                    f,
                    "value must equal the destination's: expected {expected:#x}, found {found:#x}"
                )?;
                if let Some(h) = hint {
                    write!(f, " ({h})")?;
                }
                Ok(())
            }
            ErrorKind::OutOfRange { found, min, max } => {
                write!(
                    f,
                    "value out of range: expected {min}..={max}, found {found}"
                )
            }
            ErrorKind::LengthOutOfRange {
                field,
                found,
                multiply,
                max,
            } => {
                write!(f, "length from `{field}` out of range: ")?;
                if *multiply != 1 {
                    write!(f, "{found} x {multiply}")?;
                } else {
                    write!(f, "{found}")?;
                }
                write!(f, ", expected 0..={max}")
            }
            ErrorKind::LengthMismatch {
                field,
                expected,
                found,
            } => write!(
                f,
                "length mismatch: `{field}` says {expected} elements, the field holds {found}"
            ),
            ErrorKind::InvalidBool { found } => {
                write!(f, "invalid bool: expected 0x00 or 0x01, found {found:#04x}")
            }
            ErrorKind::UnknownSubsection { name } => {
                write!(f, "unknown subsection `{name}`")
            }
            ErrorKind::DuplicateSubsection { name } => {
                write!(f, "subsection `{name}` appears twice")
            }
            ErrorKind::VoidPtrRefused { mode } => write!(
                f,
                "void_ptr field refused in `{mode}` mode: a pointer value is only meaningful \
                 on the same host (cpr-reboot, cpr-transfer, cpr-exec)"
            ),
            ErrorKind::PointerTooWide { found } => write!(
                f,
                "pointer value {found:#x} does not fit this host's {}-bit pointers",
                usize::BITS
            ),
            ErrorKind::NullPointer => f.write_str("null address for a NonNull void_ptr"),
            ErrorKind::FdRefused { mode } => write!(
                f,
                "fd field refused in `{mode}` mode: descriptors travel only in cpr-transfer \
                 (SCM_RIGHTS) and cpr-exec (inherited across exec)"
            ),
            ErrorKind::FdChannel { mode, passing } => {
                let need = match mode {
                    MigMode::CprExec => "one that keeps descriptors open across exec",
                    _ => "a Unix socket passing them as SCM_RIGHTS",
                };
                write!(
                    f,
                    "fd field needs a descriptor-carrying channel in `{mode}` mode ({need}); \
                     this one carries {}",
                    match passing {
                        FdPassing::None => "none (a plain Read/Write)",
                        FdPassing::ScmRights => "them as SCM_RIGHTS",
                        FdPassing::Inherit => "them across exec",
                        FdPassing::Placeholder => "placeholders only",
                    }
                )
            }
            ErrorKind::FdMissing { number: None } => {
                f.write_str("no descriptor arrived with the fd placeholder byte")
            }
            ErrorKind::FdMissing { number: Some(n) } => {
                write!(f, "descriptor {n} is not one of the inherited descriptors")
            }
            ErrorKind::FdExtra { count } => write!(
                f,
                "{count} descriptor(s) arrived that no fd field took (or with another byte than \
                 their placeholder)"
            ),
            ErrorKind::FdEmpty => f.write_str(
                "no descriptor: the fd field to save holds none, or the channel carries \
                 placeholders only and the field needs a descriptor",
            ),
            ErrorKind::Hook { hook } => write!(f, "{hook} hook failed"),
            ErrorKind::Invalid { message } => write!(f, "validation failed: {message}"),
            ErrorKind::Malformed { message } => write!(f, "malformed stream: {message}"),
            ErrorKind::TrailingBytes { count } => write!(
                f,
                "{count} bytes left after the payload (nothing more was expected)"
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if !path.is_empty() {
            write!(f, "{path} ")?;
        }
        write!(f, "at byte {}: {}", self.0.offset, self.0.kind)?;
        // Keep one line: fold the source into it.
        if let Some(src) = &self.0.source {
            write!(f, ": {src}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("path", &self.path())
            .field("offset", &self.0.offset)
            .field("kind", &self.0.kind)
            .field("source", &self.0.source)
            .finish()
    }
}

impl StdError for Error {
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
    fn path_renders_like_qemu_names() {
        let e = Error::new(
            ErrorKind::UnexpectedEof {
                needed: 8,
                available: 3,
            },
            42,
        )
        .field("cmp")
        .index(2)
        .field("timers")
        .within(Segment::Vmsd("hpet"));
        assert_eq!(e.path(), "hpet/timers[2].cmp");
        assert_eq!(
            e.to_string(),
            "hpet/timers[2].cmp at byte 42: unexpected end of stream: needed 8 bytes, only 3 left"
        );

        let e = Error::new(ErrorKind::NullPointer, 0)
            .field("obsrc")
            .within(Segment::Subsection("pckbd/extended_state"))
            .field("kbd")
            .within(Segment::Vmsd("pckbd"));
        assert_eq!(e.path(), "pckbd/kbd/pckbd/extended_state/obsrc");
    }

    #[test]
    fn hook_error_keeps_source() {
        let e = Error::hook("post_load", "irq base out of range".into(), 7).field("x");
        assert!(e.source().is_some());
        assert!(e
            .to_string()
            .ends_with("post_load hook failed: irq base out of range"));
    }
}
