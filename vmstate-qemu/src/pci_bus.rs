//! `PCIBUS`: the interrupt-line counters of a PCI bus (QEMU 7.2 and 10.0
//! `hw/pci/pci.c`, `vmstate_pcibus`; on pc the i440FX host bridge's
//! `pci.0`, on q35 the MCH's `pcie.0`).
//!
//! Constructs shown: a **variable array** whose length is an earlier field
//! (`count = nirq`: QEMU's `VMSTATE_VARRAY_INT32`), where that field is
//! itself an `equal` check. The bus has as many interrupt lines as the
//! board wires (4 on pc: PIRQ A-D; 8 on q35: PIRQ A-H); the stream must agree, and the array
//! then holds exactly that many counters. A `Vec` is the natural home: it
//! holds what the count says, and a hostile count is refused before any
//! element is read (by `equal` first, and by the length check anyway).

use vmstate_core::VmState;

/// `PIIX_NUM_PIRQS`: interrupt lines of the pc's PCI bus.
pub const PIIX_NUM_PIRQS: i32 = 4;

/// Section `PCIBUS` (version 1, minimum 1).
///
/// ```
/// use vmstate_core::{Context, VmState};
/// use vmstate_qemu::pci_bus::PciBus;
///
/// let mut bus = PciBus { irq_count: vec![0, 2, 0, 1], ..PciBus::default() };
/// let bytes = bus.to_bytes(&Context::new()).unwrap();
/// assert_eq!(bytes, [0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
/// ```
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "PCIBUS", version = 1, minimum_version = 1)]
pub struct PciBus {
    /// Interrupt lines of the bus: the board's number, which the stream
    /// must repeat (`VMSTATE_INT32_EQUAL`).
    #[vmstate(equal, hint = "the number of PCI interrupt lines must match")]
    pub nirq: i32,
    /// Per line, how many devices assert it (`VMSTATE_VARRAY_INT32` sized
    /// by `nirq`).
    #[vmstate(count = nirq)]
    pub irq_count: Vec<i32>,
}

/// `ICH9_LPC_NB_PIRQS`: interrupt lines of the q35's PCI bus (PIRQ A-H).
pub const ICH9_LPC_NB_PIRQS: i32 = 8;

impl PciBus {
    /// A bus of `nirq` lines, none asserted (the machine decides `nirq`:
    /// [`Machine::pci_irqs`](crate::machine::Machine::pci_irqs)).
    pub fn with_irqs(nirq: i32) -> Self {
        PciBus {
            nirq,
            irq_count: vec![0; usize::try_from(nirq).unwrap_or(0)],
        }
    }
}

impl Default for PciBus {
    /// The pc's bus: four lines, none asserted.
    fn default() -> Self {
        PciBus::with_irqs(PIIX_NUM_PIRQS)
    }
}
