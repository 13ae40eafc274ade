//! The temporary file `edit` writes before renaming it over the output: it
//! is removed when the command fails, and also when it is interrupted
//! (SIGINT, SIGTERM, SIGHUP), so no half-written file is left behind.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Once;

use crate::CliError;

/// The path to remove if a signal ends the program (a leaked C string, or
/// null). A signal handler may only read it and call `unlink`.
static PENDING: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
static HANDLERS: Once = Once::new();

extern "C" fn on_signal(sig: libc::c_int) {
    let p = PENDING.swap(std::ptr::null_mut(), Ordering::SeqCst);
    // SAFETY: `p` is null or a C string leaked by `TempFile::create` and
    // never freed; `unlink`, `signal` and `raise` are async-signal-safe.
    unsafe {
        if !p.is_null() {
            libc::unlink(p);
        }
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// A temporary file beside the output.
pub(crate) struct TempFile {
    path: PathBuf,
    /// The C string registered in [`PENDING`] (leaked: a signal may read
    /// it at any time).
    registered: *mut libc::c_char,
}

impl TempFile {
    /// Names the temporary file for `output` and arranges its removal on
    /// interruption. The file itself is created by the caller.
    pub(crate) fn create(output: &Path) -> Result<TempFile, CliError> {
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let path = output.with_file_name(format!(".{name}.vmstate-{}.tmp", std::process::id()));
        let registered = {
            use std::os::unix::ffi::OsStrExt;
            CString::new(path.as_os_str().as_bytes())
                .map(CString::into_raw)
                .unwrap_or(std::ptr::null_mut())
        };
        PENDING.store(registered, Ordering::SeqCst);
        HANDLERS.call_once(|| {
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                // SAFETY: installs a handler that only does
                // async-signal-safe work (see `on_signal`).
                unsafe {
                    libc::signal(sig, on_signal as *const () as libc::sighandler_t);
                }
            }
        });
        Ok(TempFile { path, registered })
    }

    /// Its path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Renames it over `output`.
    pub(crate) fn persist(self, output: &Path) -> Result<(), CliError> {
        std::fs::rename(&self.path, output).map_err(|err| CliError::Io {
            file: output.to_owned(),
            err,
        })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // Unregister first, so that a signal now cannot race the removal.
        let _ = PENDING.compare_exchange(
            self.registered,
            std::ptr::null_mut(),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        // Gone already after a successful rename.
        let _ = std::fs::remove_file(&self.path);
    }
}
