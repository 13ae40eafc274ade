//! What the checker reports: one [`Finding`] per difference, with where it
//! is, what changed, whether it breaks a migration and in which direction.

use std::fmt;

/// Whether a finding makes the migration fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// A stream saved by the source does not load on the destination.
    Incompatible,
    /// Worth a look, but not decidable from the descriptions (a field now
    /// behind a test, another machine type).
    Warning,
}

/// Which way a finding breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// A stream saved by the source, loaded on the destination.
    Forward,
    /// A stream saved by the destination, loaded on the source.
    Backward,
}

/// What changed. `as_str` is the stable name used in JSON output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// The dumps were taken of different machine types.
    MachineChanged,
    /// A device type of the source is not on the destination.
    TypeMissing,
    /// The source's version is higher than the destination's.
    VersionTooNew,
    /// The source's version is below the destination's minimum.
    BelowMinimumVersion,
    /// A description has another name.
    DescriptionRenamed,
    /// A key the source has (`Description`, `Fields`, `Subsections`) is
    /// missing on the destination.
    EntryMissing,
    /// Fields no longer line up (one was removed, inserted or renamed).
    FieldMismatch,
    /// Two fields swapped places.
    FieldsReordered,
    /// The destination has no field where the source still has one.
    FieldMissing,
    /// The destination reads a field that the source never sends.
    FieldAdded,
    /// An element's size changed.
    SizeChanged,
    /// Padding (`unused`) does not cover the same bytes as what replaced it.
    UnusedSizeMismatch,
    /// A field's QEMU type changed at the same size (`uint32` to `int32`).
    TypeChanged,
    /// A fixed array has another length.
    ArrayLengthChanged,
    /// A field's presence is now (or no longer) decided by a test.
    FieldExistsChanged,
    /// A nested description is missing on the destination.
    NestedDescriptionMissing,
    /// A subsection of the source is unknown to the destination.
    SubsectionMissing,
}

impl Kind {
    /// The kind's name in JSON output (`size_changed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MachineChanged => "machine_changed",
            Kind::TypeMissing => "type_missing",
            Kind::VersionTooNew => "version_too_new",
            Kind::BelowMinimumVersion => "below_minimum_version",
            Kind::DescriptionRenamed => "description_renamed",
            Kind::EntryMissing => "entry_missing",
            Kind::FieldMismatch => "field_mismatch",
            Kind::FieldsReordered => "fields_reordered",
            Kind::FieldMissing => "field_missing",
            Kind::FieldAdded => "field_added",
            Kind::SizeChanged => "size_changed",
            Kind::UnusedSizeMismatch => "unused_size_mismatch",
            Kind::TypeChanged => "type_changed",
            Kind::ArrayLengthChanged => "array_length_changed",
            Kind::FieldExistsChanged => "field_exists_changed",
            Kind::NestedDescriptionMissing => "nested_description_missing",
            Kind::SubsectionMissing => "subsection_missing",
        }
    }

    /// Whether QEMU's `vmstate-static-checker.py` reports this kind too
    /// (the others are this checker's own rules).
    pub fn qemu_rule(self) -> bool {
        !matches!(
            self,
            Kind::FieldAdded
                | Kind::TypeChanged
                | Kind::ArrayLengthChanged
                | Kind::FieldExistsChanged
        )
    }
}

/// One difference between two dumps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The device type (`isa-pit`).
    pub device: String,
    /// Where: the description's name, then field and subsection names
    /// down to the difference (`["pit", "channels", "count"]`).
    pub path: Vec<String>,
    /// What changed.
    pub kind: Kind,
    /// Whether it breaks.
    pub severity: Severity,
    /// The direction that breaks (or is warned about).
    pub direction: Direction,
    /// The source's side of the change (a name, a number), if any.
    pub src: Option<String>,
    /// The destination's side.
    pub dest: Option<String>,
    /// One sentence.
    pub message: String,
}

impl Finding {
    /// Whether this finding fails the migration.
    pub fn is_incompatible(&self) -> bool {
        self.severity == Severity::Incompatible
    }

    /// The path as one string, segments joined by ` > `.
    pub fn path_string(&self) -> String {
        self.path.join(" > ")
    }

    /// The finding as one line, naming the two sides `src` and `dest`:
    /// `isa-pit: pit > channels: array length 3 -> 4 (breaks a.json -> b.json)`.
    pub fn line(&self, src: &str, dest: &str) -> String {
        let (from, to) = match self.direction {
            Direction::Forward => (src, dest),
            Direction::Backward => (dest, src),
        };
        let what = match self.severity {
            Severity::Incompatible => "breaks",
            Severity::Warning => "warning",
        };
        let mut line = self.device.clone();
        if !self.path.is_empty() {
            line.push_str(": ");
            line.push_str(&self.path_string());
        }
        format!("{line}: {} ({what} {from} -> {to})", self.message)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line("SRC", "DEST"))
    }
}
