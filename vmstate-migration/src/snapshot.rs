//! Keep migration compatibility in CI: a committed snapshot of a type's
//! description, checked against the current one on every test run.
//!
//! The first run writes the snapshot (the type's `-dump-vmstate` entry, with
//! field types) to the file you name; commit it. Later runs compare the
//! current description against it with [`compat::check_both`]: a stream
//! saved by the snapshot's build must load on the current one and the other
//! way round. Any finding fails, with one line per finding. To accept a
//! deliberate change, run the tests with `VMSTATE_UPDATE_SNAPSHOTS=1`,
//! which rewrites the snapshot, and commit it. Under `CI=true` a missing
//! snapshot is an error rather than written, so a forgotten one is noticed.
//!
//! ```no_run
//! # use vmstate_core::desc::Vmsd;
//! # static MY_DEVICE_VMSD: Vmsd = Vmsd::new("my-device", 1, 1, &[], &[]);
//! // In a test: `assert_compatible("snapshots/my-device.json", "my-device", MyDevice::VMSD)`.
//! vmstate_migration::snapshot::assert_compatible(
//!     "snapshots/my-device.json",
//!     "my-device",
//!     &MY_DEVICE_VMSD,
//! );
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use vmstate_core::desc::Vmsd;
use vmstate_core::VmState;

use crate::compat::{self, Finding};
use crate::dump::{DeviceType, DumpOptions, VmstateDump};

/// The environment variable that accepts changes: set to `1`, each checked
/// snapshot is rewritten from the current description.
pub const UPDATE_ENV: &str = "VMSTATE_UPDATE_SNAPSHOTS";

/// What [`check`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The snapshot and the current description are compatible both ways.
    Compatible,
    /// There was no snapshot; it was written.
    Created,
    /// [`UPDATE_ENV`] was set; the snapshot was rewritten.
    Updated,
}

/// Why a snapshot check failed.
#[derive(Debug)]
pub enum SnapshotError {
    /// The current description is not compatible with the snapshot.
    Incompatible {
        /// The snapshot file.
        path: PathBuf,
        /// The device type.
        device: String,
        /// Every finding, both directions.
        findings: Vec<Finding>,
    },
    /// No snapshot, and writing one is not allowed (`CI=true`).
    Missing(PathBuf),
    /// The snapshot could not be read, parsed or written.
    Io(PathBuf, String),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Incompatible {
                path,
                device,
                findings,
            } => {
                writeln!(
                    f,
                    "{device}: the description is no longer migration-compatible with {}:",
                    path.display()
                )?;
                f.write_str(&compat::render_lines(findings, "snapshot", "current"))?;
                write!(
                    f,
                    "If the change is deliberate, run the tests with {UPDATE_ENV}=1 and commit {}.",
                    path.display()
                )
            }
            SnapshotError::Missing(path) => write!(
                f,
                "{}: no snapshot; run the tests once without CI=true (or with {UPDATE_ENV}=1) and commit it",
                path.display()
            ),
            SnapshotError::Io(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

impl std::error::Error for SnapshotError {}

/// The snapshot text of one device type: its dump entry, with field types.
pub fn snapshot_text(device_type: &str, vmsd: &Vmsd) -> String {
    snapshot_dump(device_type, vmsd).to_json(&DumpOptions::with_types())
}

fn snapshot_dump(device_type: &str, vmsd: &Vmsd) -> VmstateDump {
    VmstateDump {
        machine: None,
        types: vec![DeviceType::from_vmsd(device_type, vmsd)],
    }
}

fn update_requested() -> bool {
    std::env::var(UPDATE_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Checks `vmsd`, the description of device type `device_type`, against the
/// snapshot at `path` (written when absent or when [`UPDATE_ENV`] is set).
pub fn check(
    path: impl AsRef<Path>,
    device_type: &str,
    vmsd: &Vmsd,
) -> Result<Outcome, SnapshotError> {
    let path = path.as_ref();
    let write = |outcome| {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| SnapshotError::Io(path.to_owned(), e.to_string()))?;
        }
        // Written aside, then renamed: a test reading it meanwhile sees
        // the old or the new snapshot, never half of one.
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".{}.tmp", std::process::id()));
        std::fs::write(&tmp, snapshot_text(device_type, vmsd))
            .and_then(|()| std::fs::rename(&tmp, path))
            .map(|()| outcome)
            .map_err(|e| SnapshotError::Io(path.to_owned(), e.to_string()))
    };
    if update_requested() {
        return write(Outcome::Updated);
    }
    match compare(path, device_type, vmsd) {
        Err(SnapshotError::Missing(_)) if std::env::var("CI").as_deref() != Ok("true") => {
            write(Outcome::Created)
        }
        other => other.map(|()| Outcome::Compatible),
    }
}

/// Compares `vmsd` with the snapshot at `path`, both ways, and never
/// writes (whatever [`UPDATE_ENV`] says).
pub fn compare(
    path: impl AsRef<Path>,
    device_type: &str,
    vmsd: &Vmsd,
) -> Result<(), SnapshotError> {
    let path = path.as_ref();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SnapshotError::Missing(path.to_owned()))
        }
        Err(e) => return Err(SnapshotError::Io(path.to_owned(), e.to_string())),
    };
    let saved = VmstateDump::parse(&bytes)
        .map_err(|e| SnapshotError::Io(path.to_owned(), e.to_string()))?;
    let findings = compat::check_both(&saved, &snapshot_dump(device_type, vmsd));
    if findings.is_empty() {
        Ok(())
    } else {
        Err(SnapshotError::Incompatible {
            path: path.to_owned(),
            device: device_type.to_owned(),
            findings,
        })
    }
}

/// [`check`] for a test: panics with the findings when the description is
/// no longer compatible with its snapshot.
#[allow(clippy::panic)] // A test assertion: failing the test is its job.
pub fn assert_compatible(path: impl AsRef<Path>, device_type: &str, vmsd: &Vmsd) {
    if let Err(e) = check(path, device_type, vmsd) {
        panic!("{e}");
    }
}

/// [`assert_compatible`] for a derived type: `assert_type_compatible::<MyDevice>(path, "my-device")`.
pub fn assert_type_compatible<T: VmState>(path: impl AsRef<Path>, device_type: &str) {
    assert_compatible(path, device_type, T::VMSD);
}
