//! `acpi_build`: whether the firmware already fetched the ACPI tables
//! (QEMU 7.2 `hw/i386/acpi-build.c`, `vmstate_acpi_build`).
//!
//! Constructs shown: a one-byte flag section.

use vmstate_core::VmState;

/// Section `acpi_build` (version 1, minimum 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "acpi_build", version = 1, minimum_version = 1)]
pub struct AcpiBuild {
    /// Non-zero once the tables were built and patched for the guest.
    pub patched: u8,
}
