//! `#[vmstate(fd)]` fields: an open file descriptor (QEMU's `VMSTATE_FD`,
//! type name `fd`), allowed in `cpr-transfer` and `cpr-exec` only.
//!
//! The channel decides the bytes ([`FdPassing`](crate::cpr::FdPassing)):
//! over a Unix socket one placeholder byte with the descriptor attached as
//! `SCM_RIGHTS`, in the order of the bytes; across `exec` the descriptor's
//! number as be32. A plain `Read`/`Write` carries none and is refused
//! before anything moves.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::error::ErrorKind;

/// A field that holds a descriptor: `OwnedFd`, or `Option<OwnedFd>` (which
/// may be empty: before a load, or when the channel carries placeholders
/// only). Saving borrows the descriptor; loading replaces it (closing the
/// old one).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold an fd field's descriptor",
    label = "#[vmstate(fd)] needs an owned descriptor here",
    note = "use std::os::fd::OwnedFd or Option<OwnedFd>"
)]
pub trait FdSlot {
    /// The descriptor to send, if any.
    fn borrow_fd(&self) -> Option<BorrowedFd<'_>>;
    /// Stores a received descriptor; `None` when only a placeholder came.
    fn set_fd(&mut self, fd: Option<OwnedFd>) -> Result<(), ErrorKind>;
}

impl FdSlot for OwnedFd {
    fn borrow_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.as_fd())
    }
    fn set_fd(&mut self, fd: Option<OwnedFd>) -> Result<(), ErrorKind> {
        *self = fd.ok_or(ErrorKind::FdEmpty)?;
        Ok(())
    }
}

impl FdSlot for Option<OwnedFd> {
    fn borrow_fd(&self) -> Option<BorrowedFd<'_>> {
        self.as_ref().map(AsFd::as_fd)
    }
    fn set_fd(&mut self, fd: Option<OwnedFd>) -> Result<(), ErrorKind> {
        *self = fd;
        Ok(())
    }
}
