//! `PCIHost`: the configuration-address latch of a PCI host bridge (QEMU
//! 7.2 `hw/pci/pci_host.c`, `vmstate_pcihost`; on pc the
//! `i440FX-pcihost`).
//!
//! Constructs shown: the smallest section there is (one `u32`), and a
//! **section-level** `needed` rule (struct-level `needed = path`). QEMU
//! skips the whole section when its description's `needed` returns false;
//! a stream writer asks [`VmState::section_needed`] before writing it.

use vmstate_core::VmState;

/// Section `PCIHost` (version 1, minimum 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "PCIHost",
    version = 1,
    minimum_version = 1,
    needed = Self::pci_host_needed
)]
pub struct PciHost {
    /// The last value written to the `0xcf8` address port.
    pub config_reg: u32,
    /// The `x-config-reg-migration-enabled` property (true except on very
    /// old machine types); not on the wire.
    #[vmstate(skip)]
    pub mig_enabled: bool,
}

impl Default for PciHost {
    fn default() -> Self {
        PciHost {
            config_reg: 0,
            mig_enabled: true,
        }
    }
}

impl PciHost {
    /// `pci_host_needed`: whether QEMU writes this section at all.
    #[inline]
    fn pci_host_needed(&self) -> bool {
        self.mig_enabled
    }
}
