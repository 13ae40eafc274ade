//! `ioapic`: the I/O APIC (QEMU 7.2 `hw/intc/ioapic_common.c`,
//! `vmstate_ioapic_common`).
//!
//! Constructs shown: a **version-gated `unused`** gap (`VMSTATE_UNUSED_V(2,
//! 8)`: eight bytes that qemu-kvm's version-2 format had, present from
//! version 2 on), a version-gated scalar, and a 24-entry `u64` array, in a
//! description whose minimum version (1) is below both gates.

use vmstate_core::VmState;

/// Number of redirection table entries (`IOAPIC_NUM_PINS`).
pub const IOAPIC_NUM_PINS: usize = 24;

/// Section `ioapic` (version 3, minimum 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ioapic", version = 3, minimum_version = 1)]
pub struct IoapicCommon {
    /// I/O APIC id.
    pub id: u8,
    /// Selected register (`IOREGSEL`).
    pub ioregsel: u8,
    /// qemu-kvm's eight extra bytes, from version 2.
    #[vmstate(unused = 8, version = 2)]
    pub unused: (),
    /// Pending level-triggered lines, from version 2.
    #[vmstate(version = 2)]
    pub irr: u32,
    /// Redirection table.
    pub ioredtbl: [u64; IOAPIC_NUM_PINS],
}
