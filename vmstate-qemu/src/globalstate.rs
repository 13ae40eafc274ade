//! `globalstate`: the run state the source was in, so the destination can
//! resume into it (QEMU 7.2 `migration/global_state.c`,
//! `vmstate_globalstate`).
//!
//! Constructs shown:
//! * a **`buffer`** holding a C string (`runstate`, 100 bytes, NUL
//!   padded), with its length in an ordinary field that `pre_save`
//!   computes;
//! * a **section-level `needed`** (struct-level `needed = path`): the
//!   section is left out for `running` and `paused` unless the
//!   `store-global-state` property asks for it always (it does on every
//!   current machine type, so the pc fixtures carry it);
//! * a **`post_load` check** that rejects a stream whose run-state name is
//!   not one of QEMU's, after forcing the last byte to NUL as QEMU does
//!   (a hostile stream cannot make the parser run off the buffer).

use vmstate_core::VmState;

/// Bytes of the run-state buffer.
pub const RUNSTATE_LEN: usize = 100;

/// QEMU 7.2's `RunState` (QAPI `qapi/run-state.json`), in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// `debug`
    Debug,
    /// `inmigrate`
    Inmigrate,
    /// `internal-error`
    InternalError,
    /// `io-error`
    IoError,
    /// `paused`
    Paused,
    /// `postmigrate`
    Postmigrate,
    /// `prelaunch`
    Prelaunch,
    /// `finish-migrate`
    FinishMigrate,
    /// `restore-vm`
    RestoreVm,
    /// `running`
    Running,
    /// `save-vm`
    SaveVm,
    /// `shutdown`
    Shutdown,
    /// `suspended`
    Suspended,
    /// `watchdog`
    Watchdog,
    /// `guest-panicked`
    GuestPanicked,
    /// `colo`
    Colo,
}

impl RunState {
    /// Every run state, in QAPI order.
    pub const ALL: [RunState; 16] = [
        RunState::Debug,
        RunState::Inmigrate,
        RunState::InternalError,
        RunState::IoError,
        RunState::Paused,
        RunState::Postmigrate,
        RunState::Prelaunch,
        RunState::FinishMigrate,
        RunState::RestoreVm,
        RunState::Running,
        RunState::SaveVm,
        RunState::Shutdown,
        RunState::Suspended,
        RunState::Watchdog,
        RunState::GuestPanicked,
        RunState::Colo,
    ];

    /// The QAPI name.
    pub const fn name(self) -> &'static str {
        match self {
            RunState::Debug => "debug",
            RunState::Inmigrate => "inmigrate",
            RunState::InternalError => "internal-error",
            RunState::IoError => "io-error",
            RunState::Paused => "paused",
            RunState::Postmigrate => "postmigrate",
            RunState::Prelaunch => "prelaunch",
            RunState::FinishMigrate => "finish-migrate",
            RunState::RestoreVm => "restore-vm",
            RunState::Running => "running",
            RunState::SaveVm => "save-vm",
            RunState::Shutdown => "shutdown",
            RunState::Suspended => "suspended",
            RunState::Watchdog => "watchdog",
            RunState::GuestPanicked => "guest-panicked",
            RunState::Colo => "colo",
        }
    }

    /// The run state named `name` (QEMU's `qapi_enum_parse`).
    pub fn parse(name: &[u8]) -> Option<RunState> {
        RunState::ALL
            .into_iter()
            .find(|s| s.name().as_bytes() == name)
    }
}

/// Why a global state was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalStateError {
    /// The run-state name is not one of QEMU's.
    UnknownRunState(String),
    /// On save: the name fills the whole buffer, leaving no room for its
    /// NUL (QEMU asserts this cannot happen).
    NameTooLong,
}

impl std::fmt::Display for GlobalStateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GlobalStateError::UnknownRunState(name) => {
                write!(f, "run state {name:?} is not one of QEMU's")
            }
            GlobalStateError::NameTooLong => write!(
                f,
                "the run-state name fills all {RUNSTATE_LEN} bytes, leaving no room for its NUL"
            ),
        }
    }
}

impl std::error::Error for GlobalStateError {}

/// Section `globalstate` (version 1, minimum 1).
///
/// ```
/// use vmstate_core::{Context, VmState};
/// use vmstate_qemu::globalstate::{GlobalState, RunState};
///
/// let mut g = GlobalState::new(RunState::Prelaunch);
/// let bytes = g.to_bytes(&Context::new()).unwrap();
/// assert_eq!(&bytes[..14], b"\0\0\0\x0aprelaunch\0");
/// assert_eq!(bytes.len(), 4 + 100);
/// ```
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "globalstate",
    version = 1,
    minimum_version = 1,
    needed = Self::global_state_needed,
    pre_save = Self::pre_save,
    post_load = Self::post_load
)]
pub struct GlobalState {
    /// The name's length with its NUL (set by `pre_save`).
    pub size: u32,
    /// The run-state name, NUL terminated and padded
    /// (`VMSTATE_BUFFER`).
    #[vmstate(buffer)]
    pub runstate: [u8; RUNSTATE_LEN],
    /// The parsed run state, after a load; not on the wire.
    #[vmstate(skip)]
    pub state: Option<RunState>,
    /// The migration's `store-global-state` property (true on current
    /// machine types): send the section whatever the state; not on the
    /// wire.
    #[vmstate(skip)]
    pub store_global_state: bool,
}

impl Default for GlobalState {
    /// QEMU's global state before anything is stored: an empty name.
    fn default() -> Self {
        GlobalState {
            size: 0,
            runstate: [0; RUNSTATE_LEN],
            state: None,
            store_global_state: true,
        }
    }
}

impl GlobalState {
    /// The state of a source in run state `state` (`global_state_store`).
    pub fn new(state: RunState) -> Self {
        let mut g = GlobalState::default();
        let name = state.name().as_bytes();
        g.runstate[..name.len()].copy_from_slice(name);
        g.state = Some(state);
        g
    }

    /// The name up to its NUL (all of the buffer when it has none).
    pub fn name(&self) -> &[u8] {
        let end = self
            .runstate
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(RUNSTATE_LEN);
        &self.runstate[..end]
    }

    /// `global_state_needed`.
    #[inline]
    fn global_state_needed(&self) -> bool {
        self.store_global_state || !matches!(self.name(), b"running" | b"paused")
    }

    /// `global_state_pre_save`: the size with the NUL.
    #[inline]
    fn pre_save(&mut self) -> Result<(), GlobalStateError> {
        let len = self.name().len();
        if len >= RUNSTATE_LEN {
            return Err(GlobalStateError::NameTooLong);
        }
        self.size = len as u32 + 1;
        Ok(())
    }

    /// `global_state_post_load`: bound the string, then parse it.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), GlobalStateError> {
        if !self.runstate.contains(&0) {
            self.runstate[RUNSTATE_LEN - 1] = 0;
        }
        let name = self.name();
        match RunState::parse(name) {
            Some(s) => {
                self.state = Some(s);
                Ok(())
            }
            None => Err(GlobalStateError::UnknownRunState(
                String::from_utf8_lossy(name).into_owned(),
            )),
        }
    }
}
