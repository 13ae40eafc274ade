//! `I440FX`: the host bridge's PCI function, 00:00.0 (QEMU 7.2
//! `hw/pci-host/i440fx.c`, `vmstate_i440fx`; device `i440FX`).
//!
//! Constructs shown: a [`PciDevice`] as a nested struct
//! (`VMSTATE_PCI_DEVICE`, with its `pci config` and `pci irq state`
//! codecs), and an `unused` byte left by a removed field (`smm_enabled`).
//!
//! QEMU's `post_load` re-applies the PAM and SMRAM registers of the
//! configuration space to the memory map; the mirror has no memory map.

use vmstate_core::VmState;

use crate::pci::{PciConfig, PciDevice, PciIds, PCI_VENDOR_ID_INTEL};

/// `PCI_DEVICE_ID_INTEL_82441`: the 440FX memory controller.
pub const PCI_DEVICE_ID_INTEL_82441: u16 = 0x1237;
/// `PCI_CLASS_BRIDGE_HOST`.
pub const PCI_CLASS_BRIDGE_HOST: u16 = 0x0600;
/// `I440FX_SMRAM`: the SMRAM control register.
pub const I440FX_SMRAM: usize = 0x72;

/// The 440FX's configuration space after realize: Intel 82441 revision
/// 2, a host bridge, SMRAM control 0x02.
pub fn i440fx_config() -> PciConfig {
    let mut c = PciConfig::new(PciIds {
        vendor_id: PCI_VENDOR_ID_INTEL,
        device_id: PCI_DEVICE_ID_INTEL_82441,
        revision: 0x02,
        class_id: PCI_CLASS_BRIDGE_HOST,
    });
    c.config[I440FX_SMRAM] = 0x02;
    c
}

/// Section `I440FX` (version 3, minimum 3).
///
/// ```
/// use vmstate_core::{Context, VmState};
/// use vmstate_qemu::i440fx::I440fx;
///
/// let mut dev = I440fx::default();
/// let bytes = dev.to_bytes(&Context::new()).unwrap();
/// assert_eq!(bytes.len(), 4 + 256 + 16 + 1);
///
/// // Another device's configuration (here: another device ID) is refused.
/// let mut other = bytes.clone();
/// other[6] = 0x38;
/// let err = dev.load_from_slice(&other, &Context::new()).unwrap_err();
/// assert!(err.to_string().contains("bad PCI config data at 0x2"), "{err}");
/// ```
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "I440FX", version = 3, minimum_version = 3)]
pub struct I440fx {
    /// The PCI function.
    pub parent_obj: PciDevice,
    /// `VMSTATE_UNUSED(1)`: was `smm_enabled`.
    #[vmstate(unused = 1)]
    pub unused: (),
}

impl Default for I440fx {
    fn default() -> Self {
        I440fx {
            parent_obj: PciDevice::new(i440fx_config()),
            unused: (),
        }
    }
}
