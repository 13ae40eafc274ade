//! `ich9_ahci`: the ICH9 SATA controller in AHCI mode, function 00:1f.2
//! of a q35 machine (QEMU 10.0 `hw/ide/ich.c`, `vmstate_ich9_ahci`;
//! `hw/ide/ahci.c`, `vmstate_ahci`, `vmstate_ahci_device`,
//! `vmstate_ncq_tfs`; device `ich9-ahci`).
//!
//! Constructs shown:
//! * a **variable array of structs whose count comes after it**: QEMU
//!   sizes `dev` by `ports` (`VMSTATE_STRUCT_VARRAY_POINTER_UINT32`), which
//!   the destination set at realize and which the stream repeats only
//!   later as an `equal` check. The mirror counts by a `skip` field (the
//!   destination's ports) and checks the wire `ports` against it;
//! * the IDE bus and drive descriptions of [`ide`](crate::ide) reused in
//!   another device, with their subsections;
//! * a PCI configuration space with two **capabilities** (SATA and MSI),
//!   whose read-only bytes the load checks;
//! * a rejecting `post_load`: DMA engines that claim to run while stopped,
//!   inconsistent NCQ slots, an out-of-range busy slot.
//!
//! QEMU's `post_load` also restarts the engines and re-reads command
//! headers from guest memory (a halted NCQ command or a busy slot need
//! them); the mirror has no guest memory, keeps the port registers as
//! loaded, and does not check what only guest memory can tell.

use vmstate_core::VmState;

use crate::ide::{IdeBus, IdeDrive};
use crate::pci::{
    PciConfig, PciDevice, PciIds, PCI_BASE_ADDRESS_SPACE_IO, PCI_BASE_ADDRESS_SPACE_MEMORY,
    PCI_VENDOR_ID_INTEL,
};

/// `PCI_DEVICE_ID_INTEL_82801IR`: the ICH9 AHCI controller.
pub const PCI_DEVICE_ID_INTEL_82801IR: u16 = 0x2922;
/// `PCI_CLASS_STORAGE_SATA`.
pub const PCI_CLASS_STORAGE_SATA: u16 = 0x0106;
/// `AHCI_PROGMODE_MAJOR_REV_1`.
pub const AHCI_PROGMODE_MAJOR_REV_1: u8 = 1;
/// `SATA_PORTS` of the ICH9: six.
pub const ICH9_SATA_PORTS: u32 = 6;
/// `AHCI_MAX_CMDS`: command slots per port.
pub const AHCI_MAX_CMDS: usize = 32;
/// `ICH9_IDP_BAR`: the index/data pair I/O BAR.
pub const ICH9_IDP_BAR: usize = 4;
/// `ICH9_MEM_BAR`: the AHCI register BAR (ABAR).
pub const ICH9_MEM_BAR: usize = 5;
/// `AHCI_MEM_BAR_SIZE`.
pub const AHCI_MEM_BAR_SIZE: u64 = 0x1000;
/// `ICH9_MSI_CAP_OFFSET`.
pub const ICH9_MSI_CAP_OFFSET: usize = 0x80;
/// `ICH9_SATA_CAP_OFFSET`.
pub const ICH9_SATA_CAP_OFFSET: usize = 0xa8;
/// `PCI_CAP_ID_MSI`.
pub const PCI_CAP_ID_MSI: u8 = 0x05;
/// `PCI_CAP_ID_SATA`.
pub const PCI_CAP_ID_SATA: u8 = 0x12;
/// `PORT_CMD_START`: the port's command list engine is enabled.
pub const PORT_CMD_START: u32 = 1 << 0;
/// `PORT_CMD_FIS_RX`: FIS receive is enabled.
pub const PORT_CMD_FIS_RX: u32 = 1 << 4;
/// `PORT_CMD_FIS_ON`: the FIS receive engine runs.
pub const PORT_CMD_FIS_ON: u32 = 1 << 14;
/// `PORT_CMD_LIST_ON`: the command list engine runs.
pub const PORT_CMD_LIST_ON: u32 = 1 << 15;

/// The AHCI function's configuration space after realize and reset:
/// ICH9 revision 2, SATA AHCI 1.0, multi-function, interrupt pin A, the
/// address map register in AHCI mode (0x90), I/O BAR 4 (32 bytes) and
/// memory BAR 5, a SATA capability at 0xa8 (revision 1.0, index/data pair
/// in BAR 4 at offset 0x10) and, in front of it, a 64-bit single-vector
/// MSI capability at 0x80 (`msi_init`: its flags, address and data are
/// writable).
pub fn ich9_ahci_config() -> PciConfig {
    let mut c = PciConfig::new(PciIds {
        vendor_id: PCI_VENDOR_ID_INTEL,
        device_id: PCI_DEVICE_ID_INTEL_82801IR,
        revision: 0x02,
        class_id: PCI_CLASS_STORAGE_SATA,
    });
    c.config[crate::pci::reg::CLASS_PROG] = AHCI_PROGMODE_MAJOR_REV_1;
    c.set_multifunction();
    c.config[crate::pci::reg::INTERRUPT_PIN] = 0x01;
    c.config[0x90] = 1 << 6;
    c.register_bar(ICH9_IDP_BAR, PCI_BASE_ADDRESS_SPACE_IO, 32);
    c.register_bar(
        ICH9_MEM_BAR,
        PCI_BASE_ADDRESS_SPACE_MEMORY,
        AHCI_MEM_BAR_SIZE,
    );
    let sata = ICH9_SATA_CAP_OFFSET;
    c.add_capability(PCI_CAP_ID_SATA, sata, 8);
    c.config[sata + 2] = 0x10;
    c.config[sata + 4] = (ICH9_IDP_BAR as u8 + 4) | (0x04 << 4);
    let msi = ICH9_MSI_CAP_OFFSET;
    c.add_capability(PCI_CAP_ID_MSI, msi, 0x0e);
    // Flags: 64-bit addresses; writable: the enable bit and the vector
    // count; then address low (dword aligned), address high and data.
    c.config[msi + 2] = 0x80;
    c.wmask[msi + 2] = 0x71;
    c.wmask[msi + 4..msi + 8].copy_from_slice(&0xffff_fffcu32.to_le_bytes());
    c.wmask[msi + 8..msi + 12].fill(0xff);
    c.wmask[msi + 12..msi + 14].fill(0xff);
    c
}

/// Section `ich9_ahci` (version 1, minimum 0).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ich9_ahci", version = 1, minimum_version = 0)]
pub struct Ich9Ahci {
    /// The PCI function.
    pub parent_obj: PciDevice,
    /// The AHCI controller (`VMSTATE_AHCI`).
    pub ahci: Ahci,
}

impl Default for Ich9Ahci {
    fn default() -> Self {
        Ich9Ahci {
            parent_obj: PciDevice::new(ich9_ahci_config()),
            ahci: Ahci::default(),
        }
    }
}

/// `vmstate_ahci` ("ahci", version 1, minimum 0): the HBA.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ahci", version = 1, minimum_version = 0, post_load = Self::post_load)]
pub struct Ahci {
    /// The destination's ports (realize: `SATA_PORTS`); not on the wire
    /// here, it sizes `dev`.
    #[vmstate(skip)]
    pub num_ports: u32,
    /// The ports (`VMSTATE_STRUCT_VARRAY_POINTER_UINT32` by `ports`).
    #[vmstate(count = num_ports)]
    pub dev: Vec<AhciPort>,
    /// Host capabilities.
    #[vmstate(rename = "control_regs.cap")]
    pub cap: u32,
    /// Global host control.
    #[vmstate(rename = "control_regs.ghc")]
    pub ghc: u32,
    /// Interrupt status, one bit per port.
    #[vmstate(rename = "control_regs.irqstatus")]
    pub irqstatus: u32,
    /// Ports implemented.
    #[vmstate(rename = "control_regs.impl")]
    pub ports_impl: u32,
    /// AHCI version.
    #[vmstate(rename = "control_regs.version")]
    pub version: u32,
    /// The index register of the index/data pair.
    pub idp_index: u32,
    /// The source's ports, which must be the destination's
    /// (`VMSTATE_UINT32_EQUAL`).
    #[vmstate(equal, hint = "the number of AHCI ports must match")]
    pub ports: u32,
}

impl Default for Ahci {
    /// The ICH9's six ports after reset: capabilities (64-bit, NCQ, 32
    /// slots, 6 ports...), AHCI enabled, AHCI 1.0.
    fn default() -> Self {
        Ahci {
            num_ports: ICH9_SATA_PORTS,
            dev: vec![AhciPort::default(); ICH9_SATA_PORTS as usize],
            cap: 0xc014_1f05,
            ghc: 0x8000_0000,
            irqstatus: 0,
            ports_impl: 0x3f,
            version: 0x0001_0000,
            idp_index: 0,
            ports: ICH9_SATA_PORTS,
        }
    }
}

/// Why a loaded AHCI state was refused (QEMU's `ahci_state_post_load`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AhciStateError {
    /// A port's command list engine runs while the port is stopped.
    ListOnWhileStopped(usize),
    /// A port's FIS engine runs while FIS receive is off.
    FisOnWhileStopped(usize),
    /// An NCQ slot is used but not halted, or halted but not used.
    NcqUsedNotHalted(usize, usize),
    /// A halted NCQ command is not in the slot its tag says.
    NcqSlotNotTag(usize, usize),
    /// The busy slot is neither -1 nor a slot.
    BusySlot(usize, i32),
}

impl std::fmt::Display for AhciStateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AhciStateError::ListOnWhileStopped(p) => write!(
                f,
                "port {p}: DMA engine should be off, but status bit indicates it is still running"
            ),
            AhciStateError::FisOnWhileStopped(p) => write!(
                f,
                "port {p}: FIS RX engine should be off, but status bit indicates it is still running"
            ),
            AhciStateError::NcqUsedNotHalted(p, s) => {
                write!(f, "port {p}: NCQ slot {s} used and halted differ")
            }
            AhciStateError::NcqSlotNotTag(p, s) => {
                write!(f, "port {p}: halted NCQ slot {s} is not its tag")
            }
            AhciStateError::BusySlot(p, s) => write!(f, "port {p}: busy slot {s} out of range"),
        }
    }
}

impl std::error::Error for AhciStateError {}

impl Ahci {
    /// The checks of `ahci_state_post_load` that need no guest memory.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), AhciStateError> {
        for (i, ad) in self.dev.iter().enumerate() {
            let cmd = ad.cmd;
            if cmd & PORT_CMD_START == 0 && cmd & PORT_CMD_LIST_ON != 0 {
                return Err(AhciStateError::ListOnWhileStopped(i));
            }
            if cmd & PORT_CMD_FIS_RX == 0 && cmd & PORT_CMD_FIS_ON != 0 {
                return Err(AhciStateError::FisOnWhileStopped(i));
            }
            for (j, t) in ad.ncq_tfs.iter().enumerate() {
                if t.used != t.halt {
                    return Err(AhciStateError::NcqUsedNotHalted(i, j));
                }
                if t.halt && t.slot != t.tag {
                    return Err(AhciStateError::NcqSlotNotTag(i, j));
                }
            }
            if ad.busy_slot != -1 && !(0..AHCI_MAX_CMDS as i32).contains(&ad.busy_slot) {
                return Err(AhciStateError::BusySlot(i, ad.busy_slot));
            }
        }
        Ok(())
    }
}

/// `vmstate_ahci_device` ("ahci port", version 1, minimum 0): one port,
/// its IDE bus and drive, registers and NCQ slots.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ahci port", version = 1, minimum_version = 0)]
pub struct AhciPort {
    /// The port's IDE bus (`VMSTATE_IDE_BUS`, field version 1).
    #[vmstate(version = 1)]
    pub port: IdeBus,
    /// The port's drive (`VMSTATE_IDE_DRIVE`, field version 1).
    #[vmstate(rename = "port.ifs[0]", version = 1)]
    pub ifs0: IdeDrive,
    /// The port's state machine.
    pub port_state: u32,
    /// Completed command slots, one bit each.
    pub finished: u32,
    /// Command list base address, low.
    #[vmstate(rename = "port_regs.lst_addr")]
    pub lst_addr: u32,
    /// Command list base address, high.
    #[vmstate(rename = "port_regs.lst_addr_hi")]
    pub lst_addr_hi: u32,
    /// FIS base address, low.
    #[vmstate(rename = "port_regs.fis_addr")]
    pub fis_addr: u32,
    /// FIS base address, high.
    #[vmstate(rename = "port_regs.fis_addr_hi")]
    pub fis_addr_hi: u32,
    /// Interrupt status.
    #[vmstate(rename = "port_regs.irq_stat")]
    pub irq_stat: u32,
    /// Interrupt enable.
    #[vmstate(rename = "port_regs.irq_mask")]
    pub irq_mask: u32,
    /// Command and status.
    #[vmstate(rename = "port_regs.cmd")]
    pub cmd: u32,
    /// Task file data.
    #[vmstate(rename = "port_regs.tfdata")]
    pub tfdata: u32,
    /// Signature.
    #[vmstate(rename = "port_regs.sig")]
    pub sig: u32,
    /// SATA status.
    #[vmstate(rename = "port_regs.scr_stat")]
    pub scr_stat: u32,
    /// SATA control.
    #[vmstate(rename = "port_regs.scr_ctl")]
    pub scr_ctl: u32,
    /// SATA error.
    #[vmstate(rename = "port_regs.scr_err")]
    pub scr_err: u32,
    /// SATA active.
    #[vmstate(rename = "port_regs.scr_act")]
    pub scr_act: u32,
    /// Command issue.
    #[vmstate(rename = "port_regs.cmd_issue")]
    pub cmd_issue: u32,
    /// The first DRQ of a PIO command was seen.
    pub done_first_drq: bool,
    /// The slot of the command in progress (-1: none).
    pub busy_slot: i32,
    /// The initial D2H register FIS went out.
    pub init_d2h_sent: bool,
    /// NCQ transfers, one per command slot (field version 1).
    #[vmstate(version = 1)]
    pub ncq_tfs: [NcqTransfer; AHCI_MAX_CMDS],
}

impl Default for AhciPort {
    /// A port without a drive after reset: spin-up and power-on set, the
    /// task file "no device" (0x7f), no signature.
    fn default() -> Self {
        AhciPort {
            port: IdeBus::default(),
            ifs0: IdeDrive {
                error: 0,
                ..IdeDrive::default()
            },
            port_state: 0,
            finished: 0,
            lst_addr: 0,
            lst_addr_hi: 0,
            fis_addr: 0,
            fis_addr_hi: 0,
            irq_stat: 0,
            irq_mask: 0,
            cmd: 0x6,
            tfdata: 0x7f,
            sig: 0xffff_ffff,
            scr_stat: 0,
            scr_ctl: 0,
            scr_err: 0,
            scr_act: 0,
            cmd_issue: 0,
            done_first_drq: false,
            busy_slot: -1,
            init_d2h_sent: false,
            ncq_tfs: [NcqTransfer::default(); AHCI_MAX_CMDS],
        }
    }
}

/// `vmstate_ncq_tfs` ("ncq state", version 1, minimum 0): one NCQ
/// command slot.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "ncq state", version = 1, minimum_version = 0)]
pub struct NcqTransfer {
    /// Sectors to transfer.
    pub sector_count: u32,
    /// Starting sector.
    pub lba: u64,
    /// The command's tag.
    pub tag: u8,
    /// The ATA command.
    pub cmd: u8,
    /// The command slot.
    pub slot: u8,
    /// The slot is in use.
    pub used: bool,
    /// The command halted on an error (to be retried).
    pub halt: bool,
}
