//! `piix4_pm`: the PIIX4 power-management function, 00:01.3: ACPI PM
//! registers and timer, APM, SMBus, GPE, PCI and memory/CPU hot-plug
//! (QEMU 7.2 `hw/acpi/piix4.c`, `vmstate_acpi`, with descriptions from
//! `hw/isa/apm.c`, `hw/i2c/pm_smbus.c`, `hw/acpi/pcihp.c`,
//! `hw/acpi/memory_hotplug.c` and `hw/acpi/cpu.c`; device `PIIX4_PM`).
//!
//! Constructs shown:
//! * **struct fields with `exists` and a field version** (`smb`: only when
//!   the machine type migrates the SMBus; QEMU's `VMSTATE_STRUCT_TEST`,
//!   whose version is then ignored);
//! * a **struct array with `exists`**, which QEMU's vmdesc lists element
//!   by element (`acpi_pci_hotplug.acpi_pcihp_pci_status`, 256 buses);
//! * **one state under two names**: the legacy
//!   `acpi_pci_hotplug.acpi_pcihp_pci_status[0x0]` (sent without ACPI
//!   bridge hot-plug) is element 0 of the array (sent with it). The
//!   mirror keeps the array and copies element 0 to and from the legacy
//!   field in `pre_save` / `post_load`;
//! * **pointer fields** (`Box<u16>`: QEMU's `VMS_POINTER` GPE registers);
//! * **variable arrays of structs whose count is not on the wire**
//!   (`count = dev_count`: `VMSTATE_STRUCT_VARRAY_POINTER_UINT32`); with
//!   no element, QEMU's vmdesc leaves the field out;
//! * subsections whose `needed` rules read configuration kept in the
//!   subsection, and a subsection `pre_load` that changes it (CPU
//!   hot-plug switches to the modern interface when the source used it).
//!
//! QEMU's `post_load` re-maps the PM and SMBus I/O windows from the
//! configuration space; the mirror has no I/O space.

use vmstate_core::types::Timer;
use vmstate_core::VmState;

use crate::pci::{PciConfig, PciDevice, PciIds, PCI_VENDOR_ID_INTEL};

/// `PCI_DEVICE_ID_INTEL_82371AB_3`: the PIIX4 power-management function.
pub const PCI_DEVICE_ID_INTEL_82371AB_3: u16 = 0x7113;
/// `PCI_CLASS_BRIDGE_OTHER`.
pub const PCI_CLASS_BRIDGE_OTHER: u16 = 0x0680;
/// `ACPI_PCIHP_MAX_HOTPLUG_BUS`: buses the PCI hot-plug state covers.
pub const ACPI_PCIHP_MAX_HOTPLUG_BUS: usize = 256;
/// `PM_SMBUS_MAX_MSG_SIZE`.
pub const PM_SMBUS_MAX_MSG_SIZE: usize = 32;
/// The SMBus I/O base of the pc machine (`smb_io_base`).
pub const PC_SMB_IO_BASE: u16 = 0xb100;

/// The PM function's configuration space after realize and reset on pc:
/// Intel 82371AB function 3, revision 3, SMM marked done, SMBus at
/// [`PC_SMB_IO_BASE`] and enabled.
pub fn piix4_pm_config() -> PciConfig {
    let mut c = PciConfig::new(PciIds {
        vendor_id: PCI_VENDOR_ID_INTEL,
        device_id: PCI_DEVICE_ID_INTEL_82371AB_3,
        revision: 0x03,
        class_id: PCI_CLASS_BRIDGE_OTHER,
    });
    let [lo, hi] = PC_SMB_IO_BASE.to_le_bytes();
    for (at, v) in [
        (0x06, 0x80),
        (0x07, 0x02),
        (0x3d, 0x01),
        (0x40, 0x01),
        (0x5b, 0x02),
        (0x90, lo | 1),
        (0x91, hi),
        (0xd2, 0x09),
    ] {
        c.config[at] = v;
    }
    c
}

/// Section `piix4_pm` (`vmstate_acpi`, version 3, minimum 3).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "piix4_pm",
    version = 3,
    minimum_version = 3,
    pre_save = Self::pre_save,
    post_load = Self::post_load
)]
pub struct Piix4Pm {
    /// The PCI function.
    pub parent_obj: PciDevice,
    /// PM1 event status.
    #[vmstate(rename = "ar.pm1.evt.sts")]
    pub pm1_evt_sts: u16,
    /// PM1 event enable.
    #[vmstate(rename = "ar.pm1.evt.en")]
    pub pm1_evt_en: u16,
    /// PM1 control.
    #[vmstate(rename = "ar.pm1.cnt.cnt")]
    pub pm1_cnt: u16,
    /// The APM ports.
    pub apm: ApmState,
    /// The SMBus controller (`VMSTATE_STRUCT_TEST`, version 3: when the
    /// machine type migrates it).
    #[vmstate(exists = Self::need_smbus, version = 3)]
    pub smb: PmSmbus,
    /// The PM timer's overflow timer.
    #[vmstate(rename = "ar.tmr.timer")]
    pub tmr_timer: Timer,
    /// When the PM timer next overflows.
    #[vmstate(rename = "ar.tmr.overflow_time")]
    pub tmr_overflow_time: i64,
    /// The GPE block (field version 2).
    #[vmstate(rename = "ar.gpe", version = 2)]
    pub gpe: Gpe,
    /// The legacy form of bus 0's hot-plug status, sent without ACPI
    /// bridge hot-plug (field version 2); the same state as
    /// `acpi_pcihp_pci_status[0]`.
    #[vmstate(
        rename = "acpi_pci_hotplug.acpi_pcihp_pci_status[0x0]",
        exists = Self::no_use_acpi_hotplug_bridge,
        version = 2
    )]
    pub pci_status_bsel_default: PciStatus,
    /// The selected hot-plug bus.
    #[vmstate(
        rename = "acpi_pci_hotplug.hotplug_select",
        exists = Self::use_acpi_hotplug_bridge
    )]
    pub hotplug_select: u32,
    /// Per bus, the slots being plugged and unplugged (field version 1).
    #[vmstate(
        rename = "acpi_pci_hotplug.acpi_pcihp_pci_status",
        exists = Self::use_acpi_hotplug_bridge,
        version = 1
    )]
    pub acpi_pcihp_pci_status: [AcpiPcihpPciStatus; ACPI_PCIHP_MAX_HOTPLUG_BUS],
    /// The ACPI index the guest last asked for.
    #[vmstate(
        rename = "acpi_pci_hotplug.acpi_index",
        exists = Self::migrate_acpi_index
    )]
    pub acpi_index: u32,
    /// Subsection `piix4_pm/memhp`.
    #[vmstate(subsection, needed = Self::use_memhp)]
    pub memhp: Piix4PmMemhp,
    /// Subsection `piix4_pm/cpuhp`.
    #[vmstate(subsection, needed = Self::use_cpuhp)]
    pub cpuhp: Piix4PmCpuhp,
    /// The `acpi-pci-hotplug-with-bridge-support` property (true); not on
    /// the wire.
    #[vmstate(skip)]
    pub use_acpi_hotplug_bridge: bool,
    /// The `x-not-migrate-acpi-index` property (false); not on the wire.
    #[vmstate(skip)]
    pub not_migrate_acpi_index: bool,
    /// Whether the machine type migrates the SMBus (true from
    /// pc-i440fx-4.0 on: `!smbus_no_migration_support`); not on the wire.
    #[vmstate(skip)]
    pub smbus_migration: bool,
}

impl Default for Piix4Pm {
    /// The PM function of a `pc-i440fx-7.2` machine after reset.
    fn default() -> Self {
        Piix4Pm {
            parent_obj: PciDevice::new(piix4_pm_config()),
            pm1_evt_sts: 0,
            pm1_evt_en: 0,
            pm1_cnt: 0,
            apm: ApmState::default(),
            smb: PmSmbus::default(),
            tmr_timer: Timer::NOT_ARMED,
            tmr_overflow_time: 0,
            gpe: Gpe::default(),
            pci_status_bsel_default: PciStatus::default(),
            hotplug_select: 0,
            acpi_pcihp_pci_status: [AcpiPcihpPciStatus::default(); ACPI_PCIHP_MAX_HOTPLUG_BUS],
            acpi_index: 0,
            memhp: Piix4PmMemhp::default(),
            cpuhp: Piix4PmCpuhp::default(),
            use_acpi_hotplug_bridge: true,
            not_migrate_acpi_index: false,
            smbus_migration: true,
        }
    }
}

impl Piix4Pm {
    /// `piix4_vmstate_need_smbus`.
    #[inline]
    fn need_smbus(&self, _version: u32) -> bool {
        self.smbus_migration
    }

    /// `vmstate_test_use_acpi_hotplug_bridge`.
    #[inline]
    fn use_acpi_hotplug_bridge(&self, _version: u32) -> bool {
        self.use_acpi_hotplug_bridge
    }

    /// `vmstate_test_no_use_acpi_hotplug_bridge`.
    #[inline]
    fn no_use_acpi_hotplug_bridge(&self, _version: u32) -> bool {
        !self.use_acpi_hotplug_bridge
    }

    /// `vmstate_test_migrate_acpi_index`.
    #[inline]
    fn migrate_acpi_index(&self, _version: u32) -> bool {
        self.use_acpi_hotplug_bridge && !self.not_migrate_acpi_index
    }

    /// `vmstate_test_use_memhp`.
    #[inline]
    fn use_memhp(&self) -> bool {
        self.memhp.acpi_memory_hotplug.is_enabled
    }

    /// `vmstate_test_use_cpuhp`: the modern CPU hot-plug interface is in
    /// use.
    #[inline]
    fn use_cpuhp(&self) -> bool {
        !self.cpuhp.cpu_hotplug_legacy
    }

    /// The legacy field is bus 0's status.
    #[inline]
    fn pre_save(&mut self) -> Result<(), &'static str> {
        let s = self.acpi_pcihp_pci_status[0];
        self.pci_status_bsel_default = PciStatus {
            up: s.up,
            down: s.down,
        };
        Ok(())
    }

    /// The legacy field, when it was the one sent, is bus 0's status.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), &'static str> {
        if !self.use_acpi_hotplug_bridge {
            let s = self.pci_status_bsel_default;
            self.acpi_pcihp_pci_status[0] = AcpiPcihpPciStatus {
                up: s.up,
                down: s.down,
            };
        }
        Ok(())
    }
}

/// `vmstate_apm` ("APM State", version 1): the APM control and status
/// ports (0xb2, 0xb3).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "APM State", version = 1, minimum_version = 1)]
pub struct ApmState {
    /// APM control (the SMI command port).
    pub apmc: u8,
    /// APM status.
    pub apms: u8,
}

/// `pmsmb_vmstate` ("pmsmb", version 1): the SMBus host controller.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "pmsmb", version = 1, minimum_version = 1)]
pub struct PmSmbus {
    /// Host status.
    pub smb_stat: u8,
    /// Host control.
    pub smb_ctl: u8,
    /// Host command.
    pub smb_cmd: u8,
    /// Slave address.
    pub smb_addr: u8,
    /// Data 0.
    pub smb_data0: u8,
    /// Data 1.
    pub smb_data1: u8,
    /// Index into the block data.
    pub smb_index: u32,
    /// Block data.
    pub smb_data: [u8; PM_SMBUS_MAX_MSG_SIZE],
    /// Auxiliary control.
    pub smb_auxctl: u8,
    /// Block data byte.
    pub smb_blkdata: u8,
    /// I2C mode.
    pub i2c_enable: bool,
    /// The operation completed.
    pub op_done: bool,
    /// An I2C block read is under way.
    pub in_i2c_block_read: bool,
    /// Start the transaction when the status is read.
    pub start_transaction_on_status_read: bool,
}

/// `vmstate_gpe` ("gpe", version 1): the general-purpose event block.
/// QEMU's registers are pointers into a byte array, each sent as one
/// `uint16` (`VMS_SINGLE | VMS_POINTER`).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "gpe", version = 1, minimum_version = 1)]
pub struct Gpe {
    /// GPE0 status.
    pub sts: Box<u16>,
    /// GPE0 enable.
    pub en: Box<u16>,
}

/// `vmstate_pci_status` ("pci_status", version 1): the legacy form of a
/// bus's hot-plug status.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "pci_status", version = 1, minimum_version = 1)]
pub struct PciStatus {
    /// Slots being plugged.
    pub up: u32,
    /// Slots being unplugged.
    pub down: u32,
}

/// `vmstate_acpi_pcihp_pci_status` ("acpi_pcihp_pci_status", version 1).
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "acpi_pcihp_pci_status", version = 1, minimum_version = 1)]
pub struct AcpiPcihpPciStatus {
    /// Slots being plugged.
    pub up: u32,
    /// Slots being unplugged.
    pub down: u32,
}

/// Subsection `piix4_pm/memhp` (version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "piix4_pm/memhp", version = 1, minimum_version = 1)]
pub struct Piix4PmMemhp {
    /// Memory hot-plug (`VMSTATE_MEMORY_HOTPLUG`, field version 1).
    #[vmstate(version = 1)]
    pub acpi_memory_hotplug: MemHotplugState,
}

impl Default for Piix4PmMemhp {
    fn default() -> Self {
        Piix4PmMemhp {
            acpi_memory_hotplug: MemHotplugState {
                is_enabled: true,
                ..MemHotplugState::default()
            },
        }
    }
}

/// `vmstate_memory_hotplug` ("memory hotplug state", version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "memory hotplug state", version = 1, minimum_version = 1)]
pub struct MemHotplugState {
    /// The `memory-hotplug-support` property; not on the wire.
    #[vmstate(skip)]
    pub is_enabled: bool,
    /// The selected DIMM slot.
    pub selector: u32,
    /// DIMM slots (the machine's `slots`); not on the wire.
    #[vmstate(skip)]
    pub dev_count: u32,
    /// Per slot status (`VMSTATE_STRUCT_VARRAY_POINTER_UINT32` by
    /// `dev_count`).
    #[vmstate(count = dev_count)]
    pub devs: Vec<MemStatus>,
}

/// `vmstate_memhp_sts` ("memory hotplug device state", version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "memory hotplug device state", version = 1, minimum_version = 1)]
pub struct MemStatus {
    /// A DIMM is present.
    pub is_enabled: bool,
    /// It is being inserted.
    pub is_inserting: bool,
    /// The guest's last _OST event.
    pub ost_event: u32,
    /// The guest's last _OST status.
    pub ost_status: u32,
}

/// Subsection `piix4_pm/cpuhp` (version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "piix4_pm/cpuhp",
    version = 1,
    minimum_version = 1,
    pre_load = Self::pre_load
)]
pub struct Piix4PmCpuhp {
    /// CPU hot-plug (`VMSTATE_CPU_HOTPLUG`, field version 1).
    #[vmstate(version = 1)]
    pub cpuhp_state: CpuHotplugState,
    /// The `cpu-hotplug-legacy` property (true until the guest switches
    /// to the modern interface); not on the wire.
    #[vmstate(skip)]
    pub cpu_hotplug_legacy: bool,
}

impl Default for Piix4PmCpuhp {
    fn default() -> Self {
        Piix4PmCpuhp {
            cpuhp_state: CpuHotplugState::default(),
            cpu_hotplug_legacy: true,
        }
    }
}

impl Piix4PmCpuhp {
    /// `vmstate_cpuhp_pre_load`: the source used the modern interface.
    #[inline]
    fn pre_load(&mut self) -> Result<(), &'static str> {
        self.cpu_hotplug_legacy = false;
        Ok(())
    }
}

/// `vmstate_cpu_hotplug` ("CPU hotplug state", version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "CPU hotplug state", version = 1, minimum_version = 1)]
pub struct CpuHotplugState {
    /// The selected CPU.
    pub selector: u32,
    /// The last command.
    pub command: u8,
    /// Possible CPUs; not on the wire.
    #[vmstate(skip)]
    pub dev_count: u32,
    /// Per CPU status (`VMSTATE_STRUCT_VARRAY_POINTER_UINT32` by
    /// `dev_count`).
    #[vmstate(count = dev_count)]
    pub devs: Vec<AcpiCpuStatus>,
}

/// `vmstate_cpuhp_sts` ("CPU hotplug device state", version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "CPU hotplug device state", version = 1, minimum_version = 1)]
pub struct AcpiCpuStatus {
    /// The CPU is being inserted.
    pub is_inserting: bool,
    /// It is being removed.
    pub is_removing: bool,
    /// The guest's last _OST event.
    pub ost_event: u32,
    /// The guest's last _OST status.
    pub ost_status: u32,
}
