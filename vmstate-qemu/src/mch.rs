//! `mch`: the Q35 host bridge's PCI function, 00:00.0 (QEMU 10.0
//! `hw/pci-host/q35.c`, `vmstate_mch`; device `mch`). The q35
//! counterpart of [`i440fx`](crate::i440fx): a [`PciDevice`] and one
//! `unused` byte left by a removed `smm_enabled`.
//!
//! QEMU's `post_load` re-applies the PAM, SMRAM and PCIEXBAR registers of
//! the configuration space to the memory map; the mirror has no memory
//! map.

use vmstate_core::VmState;

use crate::i440fx::PCI_CLASS_BRIDGE_HOST;
use crate::pci::{PciConfig, PciDevice, PciIds, PCI_VENDOR_ID_INTEL};

/// `PCI_DEVICE_ID_INTEL_Q35_MCH`.
pub const PCI_DEVICE_ID_INTEL_Q35_MCH: u16 = 0x29c0;

/// The MCH's configuration space after reset: Intel Q35 MCH revision 0, a
/// host bridge; the graphics control (0x50), PCIEXBAR at 0xb0000000
/// (0x60, not enabled), SMRAM (0x9d) and extended SMRAM (0x9e) registers
/// at their reset values.
pub fn mch_config() -> PciConfig {
    let mut c = PciConfig::new(PciIds {
        vendor_id: PCI_VENDOR_ID_INTEL,
        device_id: PCI_DEVICE_ID_INTEL_Q35_MCH,
        revision: 0,
        class_id: PCI_CLASS_BRIDGE_HOST,
    });
    for (at, v) in [(0x50, 0x10), (0x63, 0xb0), (0x9d, 0x02), (0x9e, 0x38)] {
        c.config[at] = v;
    }
    c
}

/// Section `mch` (version 1, minimum 1).
///
/// ```
/// use vmstate_core::{Context, VmState};
/// use vmstate_qemu::mch::Mch;
///
/// let mut dev = Mch::default();
/// let bytes = dev.to_bytes(&Context::new()).unwrap();
/// assert_eq!(bytes.len(), 4 + 256 + 16 + 1);
/// assert_eq!(bytes[4..8], [0x86, 0x80, 0xc0, 0x29]);
/// ```
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "mch", version = 1, minimum_version = 1)]
pub struct Mch {
    /// The PCI function.
    pub parent_obj: PciDevice,
    /// `VMSTATE_UNUSED(1)`: was `smm_enabled`.
    #[vmstate(unused = 1)]
    pub unused: (),
}

impl Default for Mch {
    fn default() -> Self {
        Mch {
            parent_obj: PciDevice::new(mch_config()),
            unused: (),
        }
    }
}
