//! `ich9_smb`: the ICH9 SMBus controller, function 00:1f.3 of a q35
//! machine (QEMU 10.0 `hw/i2c/smbus_ich9.c`, `vmstate_ich9_smbus`;
//! device `ICH9-SMB`).
//!
//! Constructs shown: fields present by a machine property
//! (`VMSTATE_BOOL_TEST`, `VMSTATE_STRUCT_TEST`: machine types before
//! pc-q35-4.0 did not migrate the controller), and a description shared
//! with another device ([`PmSmbus`], the PIIX4's too).

use vmstate_core::VmState;

use crate::pci::{PciConfig, PciDevice, PciIds, PCI_BASE_ADDRESS_SPACE_IO, PCI_VENDOR_ID_INTEL};
use crate::piix4_pm::PmSmbus;

/// `PCI_DEVICE_ID_INTEL_ICH9_6`: the ICH9 SMBus controller.
pub const PCI_DEVICE_ID_INTEL_ICH9_6: u16 = 0x2930;
/// `PCI_CLASS_SERIAL_SMBUS`.
pub const PCI_CLASS_SERIAL_SMBUS: u16 = 0x0c05;
/// `ICH9_SMB_SMB_BASE_BAR`: the I/O BAR of the host interface.
pub const ICH9_SMB_SMB_BASE_BAR: usize = 4;
/// `ICH9_SMB_SMB_BASE_SIZE`.
pub const ICH9_SMB_SMB_BASE_SIZE: u64 = 1 << 5;

/// The SMBus function's configuration space after realize: ICH9 revision
/// 2 (`ICH9_A2_SMB_REVISION`), multi-function, interrupt pin A, an I/O
/// BAR 4.
pub fn ich9_smb_config() -> PciConfig {
    let mut c = PciConfig::new(PciIds {
        vendor_id: PCI_VENDOR_ID_INTEL,
        device_id: PCI_DEVICE_ID_INTEL_ICH9_6,
        revision: 0x02,
        class_id: PCI_CLASS_SERIAL_SMBUS,
    });
    c.set_multifunction();
    c.config[crate::pci::reg::INTERRUPT_PIN] = 0x01;
    c.register_bar(
        ICH9_SMB_SMB_BASE_BAR,
        PCI_BASE_ADDRESS_SPACE_IO,
        ICH9_SMB_SMB_BASE_SIZE,
    );
    c
}

/// Section `ich9_smb` (version 1, minimum 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ich9_smb", version = 1, minimum_version = 1)]
pub struct Ich9Smb {
    /// The PCI function.
    pub dev: PciDevice,
    /// The SMBus interrupt is enabled (`ich9_vmstate_need_smbus`).
    #[vmstate(exists = Self::need_smbus)]
    pub irq_enabled: bool,
    /// The controller (`ich9_vmstate_need_smbus`, field version 1).
    #[vmstate(exists = Self::need_smbus, version = 1)]
    pub smb: PmSmbus,
    /// Whether the machine type migrates the SMBus (true from
    /// pc-q35-4.0 on: `!smbus_no_migration_support`); not on the wire.
    #[vmstate(skip)]
    pub smbus_migration: bool,
}

impl Default for Ich9Smb {
    /// The controller after reset: no operation pending (`op_done`).
    fn default() -> Self {
        Ich9Smb {
            dev: PciDevice::new(ich9_smb_config()),
            irq_enabled: false,
            smb: PmSmbus {
                op_done: true,
                ..PmSmbus::default()
            },
            smbus_migration: true,
        }
    }
}

impl Ich9Smb {
    /// `ich9_vmstate_need_smbus`.
    #[inline]
    fn need_smbus(&self, _version: u32) -> bool {
        self.smbus_migration
    }
}
