//! `port92`: the "fast A20" system control port (QEMU 7.2
//! `hw/i386/port92.c`, `vmstate_port92_isa`).
//!
//! Constructs shown: a one-byte section.

use vmstate_core::VmState;

/// Section `port92` (version 1, minimum 1).
///
/// ```
/// use vmstate_core::{Context, VmState};
/// use vmstate_qemu::port92::Port92;
///
/// let mut p = Port92 { outport: 0x02 }; // A20 enabled
/// assert_eq!(p.to_bytes(&Context::new()).unwrap(), [0x02]);
/// ```
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "port92", version = 1, minimum_version = 1)]
pub struct Port92 {
    /// Bit 1: A20 gate; bit 0: fast reset.
    pub outport: u8,
}
