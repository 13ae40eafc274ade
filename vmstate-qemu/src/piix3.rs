//! `PIIX3`: the PCI-to-ISA bridge, function 0 of the PIIX3 at 00:01.0
//! (QEMU 7.2 `hw/isa/piix3.c`, `vmstate_piix3`; device `PIIX3`).
//!
//! Constructs shown: a [`PciDevice`] of a **multi-function** device (its
//! header type carries the multi-function bit, which `pci config`
//! checks), an `i32` array from version 3, and a subsection with
//! `needed`.
//!
//! QEMU's `pre_save` fills `pci_irq_levels_vmstate` from the PCI bus's
//! interrupt levels, and its `post_load` recomputes the PIC input levels
//! from the bus; the mirror has no bus and keeps the array as the state.

use vmstate_core::VmState;

use crate::pci::{PciConfig, PciDevice, PciIds, PCI_VENDOR_ID_INTEL};

/// `PCI_DEVICE_ID_INTEL_82371SB_0`: the PIIX3 ISA bridge.
pub const PCI_DEVICE_ID_INTEL_82371SB_0: u16 = 0x7000;
/// `PCI_CLASS_BRIDGE_ISA`.
pub const PCI_CLASS_BRIDGE_ISA: u16 = 0x0601;
/// `PIIX_NUM_PIRQS`.
pub const PIIX_NUM_PIRQS: usize = 4;

/// The PIIX3 bridge's configuration space after realize and reset
/// (`piix3_reset`'s register values; the multi-function bit).
pub fn piix3_config() -> PciConfig {
    let mut c = PciConfig::new(PciIds {
        vendor_id: PCI_VENDOR_ID_INTEL,
        device_id: PCI_DEVICE_ID_INTEL_82371SB_0,
        revision: 0,
        class_id: PCI_CLASS_BRIDGE_ISA,
    });
    c.set_multifunction();
    for (at, v) in [
        (0x04, 0x07),
        (0x07, 0x02),
        (0x4c, 0x4d),
        (0x4e, 0x03),
        (0x60, 0x80),
        (0x61, 0x80),
        (0x62, 0x80),
        (0x63, 0x80),
        (0x69, 0x02),
        (0x70, 0x80),
        (0x76, 0x0c),
        (0x77, 0x0c),
        (0x78, 0x02),
        (0xa0, 0x08),
        (0xa8, 0x0f),
    ] {
        c.config[at] = v;
    }
    c
}

/// Section `PIIX3` (version 3, minimum 2).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "PIIX3", version = 3, minimum_version = 2)]
pub struct Piix3 {
    /// The PCI function.
    pub dev: PciDevice,
    /// The level of each PCI interrupt line (PIRQ A-D), from version 3.
    #[vmstate(version = 3)]
    pub pci_irq_levels_vmstate: [i32; PIIX_NUM_PIRQS],
    /// Subsection `PIIX3/rcr`.
    #[vmstate(subsection, needed = Self::rcr_needed)]
    pub rcr: Piix3Rcr,
}

impl Default for Piix3 {
    fn default() -> Self {
        Piix3 {
            dev: PciDevice::new(piix3_config()),
            pci_irq_levels_vmstate: [0; PIIX_NUM_PIRQS],
            rcr: Piix3Rcr::default(),
        }
    }
}

impl Piix3 {
    /// `piix3_rcr_needed`.
    #[inline]
    fn rcr_needed(&self) -> bool {
        self.rcr.rcr != 0
    }
}

/// Subsection `PIIX3/rcr` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "PIIX3/rcr", version = 1, minimum_version = 1)]
pub struct Piix3Rcr {
    /// The reset control register (port 0xcf9).
    pub rcr: u8,
}
