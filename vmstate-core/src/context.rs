//! The migration context passed to every save and load.

use std::fmt;

/// QEMU's `MigMode`: why the state is being saved.
///
/// The mode is a migration *parameter* in QEMU (`migrate-set-parameters
/// mode=...`), never written into the stream: both sides must agree on it.
///
/// | mode | QEMU | what happens | CPR-only fields allowed |
/// |---|---|---|---|
/// | `normal` | always | ordinary migration, maybe to another host | none |
/// | `cpr-reboot` | 8.2 on | save to a file, quit, maybe reboot the host, restart; RAM kept in shared files (`x-ignore-shared`) | `void_ptr` |
/// | `cpr-transfer` | 10.0 on | a new process on the same host takes over; descriptors go first on a second, `cpr` channel (a Unix socket, `SCM_RIGHTS`) | `void_ptr`, `fd` |
/// | `cpr-exec` | after 10.0 (not in 10.0) | the process `exec`s the new binary with the same PID; descriptors stay open across `exec`, their numbers in the CPR state (kept in a memfd) | `void_ptr`, `fd` |
///
/// A pointer value means something only on the same host, so `void_ptr`
/// fields need a CPR mode; a descriptor survives only into a process that
/// receives it or inherits it, so `fd` fields need `cpr-transfer` or
/// `cpr-exec` (QEMU's `VMSTATE_FD` rule: over a socket in the one, by
/// number in the other). See [`allowed_cpr_fields`](MigMode::allowed_cpr_fields).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MigMode {
    /// Ordinary migration, possibly to another host.
    #[default]
    Normal,
    /// Save to a file, quit, maybe reboot the host, restart (`cpr-reboot`).
    CprReboot,
    /// A new process on the same host takes over (`cpr-transfer`).
    CprTransfer,
    /// The process `exec`s the new binary with the same PID (`cpr-exec`;
    /// a later QEMU than 10.0).
    CprExec,
}

impl MigMode {
    /// True for the checkpoint-restart modes, where the destination runs on
    /// the same host as the source.
    pub const fn is_cpr(self) -> bool {
        !matches!(self, MigMode::Normal)
    }

    /// QEMU's name for the mode (`normal`, `cpr-reboot`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            MigMode::Normal => "normal",
            MigMode::CprReboot => "cpr-reboot",
            MigMode::CprTransfer => "cpr-transfer",
            MigMode::CprExec => "cpr-exec",
        }
    }
}

impl fmt::Display for MigMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a load does when the same subsection arrives twice.
///
/// QEMU 7.2 and 10.2 load it twice; no QEMU ever writes a duplicate, and
/// the 2023 upstream proposal ("test-vmstate: add some subsection tests")
/// rejects them. A hostile stream gains nothing from a duplicate, so the
/// default here rejects it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DuplicateSubsections {
    /// A second copy is an error ([`ErrorKind::DuplicateSubsection`](crate::ErrorKind::DuplicateSubsection)).
    #[default]
    Reject,
    /// Each copy is loaded in turn, the last one winning, as QEMU 7.2 does.
    LoadEach,
}

/// Settings for one save or load: the migration mode and the load policies.
///
/// ```
/// use vmstate_core::{Context, MigMode};
/// let ctx = Context::new().with_mode(MigMode::CprExec).with_strict_bool(true);
/// assert!(ctx.mode.is_cpr());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Context {
    /// The migration mode (default [`MigMode::Normal`]).
    pub mode: MigMode,
    /// Reject `bool` bytes other than 0 and 1 (default off: QEMU takes any
    /// non-zero byte as true).
    pub strict_bool: bool,
    /// Reject queue and tree markers other than `0x01` (element follows)
    /// and `0x00` (end) (default off: QEMU's `get_qtailq`, `get_qlist` and
    /// `get_gtree` take any non-zero byte as "an element follows").
    pub strict_markers: bool,
    /// Duplicate-subsection policy (default [`DuplicateSubsections::Reject`]).
    pub duplicate_subsections: DuplicateSubsections,
    /// The most elements (bytes, for byte buffers) a `Vec` field may be
    /// told to hold by a count in the stream (default 2^24). Fixed arrays
    /// are bounded by their own length. A `Vec` grows only as the data
    /// arrives, so this bounds work, not just memory.
    pub max_vec_len: u64,
}

impl Context {
    /// Normal mode, QEMU-compatible bools and markers, duplicate
    /// subsections rejected.
    pub const fn new() -> Self {
        Context {
            mode: MigMode::Normal,
            strict_bool: false,
            strict_markers: false,
            duplicate_subsections: DuplicateSubsections::Reject,
            max_vec_len: 1 << 24,
        }
    }

    /// The same context with another `Vec` length limit.
    pub const fn with_max_vec_len(mut self, max: u64) -> Self {
        self.max_vec_len = max;
        self
    }

    /// The same context in `mode`.
    pub const fn with_mode(mut self, mode: MigMode) -> Self {
        self.mode = mode;
        self
    }

    /// The same context with strict bools on or off.
    pub const fn with_strict_bool(mut self, strict: bool) -> Self {
        self.strict_bool = strict;
        self
    }

    /// The same context with strict queue and tree markers on or off.
    pub const fn with_strict_markers(mut self, strict: bool) -> Self {
        self.strict_markers = strict;
        self
    }

    /// The same context with another duplicate-subsection policy.
    pub const fn with_duplicate_subsections(mut self, policy: DuplicateSubsections) -> Self {
        self.duplicate_subsections = policy;
        self
    }
}

impl Default for Context {
    fn default() -> Self {
        Context::new()
    }
}
