//! `ICH9LPC`: the ICH9 LPC bridge, function 00:1f.0 of a q35 machine, with
//! the chipset's power management (QEMU 10.0 `hw/isa/lpc_ich9.c`,
//! `vmstate_ich9_lpc`; `hw/acpi/ich9.c`, `vmstate_ich9_pm`;
//! `hw/acpi/ich9_tco.c`, `vmstate_tco_io_sts`; device `ICH9-LPC`).
//!
//! Constructs shown: a nested description with **four subsections of its
//! own** (`ich9_pm/...`), one of them without a `needed` rule (always
//! sent), one with a `pre_load`; QEMU's pointer-to-array GPE registers
//! (`VMS_ARRAY | VMS_POINTER`) as plain arrays (the bytes are the same); a
//! 16 KiB `uint8` array (the chipset configuration registers, not a
//! `buffer`: its vmdesc type is `uint8`); timers in a nested struct.
//!
//! QEMU's `post_load`s re-map the PM I/O space, the RCBA window and the
//! PIRQ routing from the loaded registers; the mirror has no memory map.

use vmstate_core::types::Timer;
use vmstate_core::VmState;

use crate::pci::{PciConfig, PciDevice, PciIds, PCI_VENDOR_ID_INTEL};
use crate::piix3::PCI_CLASS_BRIDGE_ISA;
use crate::piix4_pm::{
    AcpiCpuStatus, AcpiPcihpPciStatus, ApmState, CpuHotplugState, MemHotplugState,
    ACPI_PCIHP_MAX_HOTPLUG_BUS,
};

/// `PCI_DEVICE_ID_INTEL_ICH9_8`: the ICH9 LPC bridge (ICH9DO).
pub const PCI_DEVICE_ID_INTEL_ICH9_8: u16 = 0x2918;
/// `ICH9_CC_SIZE`: the chipset configuration registers (RCBA window).
pub const ICH9_CC_SIZE: usize = 16 * 1024;
/// `ICH9_PMIO_GPE0_LEN`: GPE0 status and enable bytes.
pub const ICH9_PMIO_GPE0_LEN: usize = 16;
/// `ICH9_CC_DIR_DEFAULT`: a device's default interrupt route.
pub const ICH9_CC_DIR_DEFAULT: u32 = 0x3210;
/// `ICH9_CC_GCS_DEFAULT`: general control and status (no reboot strap).
pub const ICH9_CC_GCS_DEFAULT: u32 = 0x20;
/// Bytes of the guest-visible SMI feature word (a `uint64_t`).
pub const SMI_FEATURES_LEN: usize = 8;

/// The LPC bridge's configuration space after reset: ICH9 revision 2, an
/// ISA bridge, multi-function; PMBASE's resource-type bit (0x40), PIRQ A-H
/// routing disabled (0x60-0x63, 0x68-0x6b).
pub fn ich9_lpc_config() -> PciConfig {
    let mut c = PciConfig::new(PciIds {
        vendor_id: PCI_VENDOR_ID_INTEL,
        device_id: PCI_DEVICE_ID_INTEL_ICH9_8,
        revision: 0x02,
        class_id: PCI_CLASS_BRIDGE_ISA,
    });
    c.set_multifunction();
    c.config[0x40] = 0x01;
    for at in [0x60, 0x61, 0x62, 0x63, 0x68, 0x69, 0x6a, 0x6b] {
        c.config[at] = 0x80;
    }
    c
}

/// The chipset configuration registers after `ich9_cc_reset` (interrupt
/// routes of devices 31 to 25, device 30's cleared, and GCS), each a
/// little-endian 32-bit store in QEMU's order (device 30's overlaps 31's).
pub fn ich9_cc_reset() -> Box<[u8; ICH9_CC_SIZE]> {
    let mut c = Box::new([0u8; ICH9_CC_SIZE]);
    for (at, v) in [
        (0x3140, ICH9_CC_DIR_DEFAULT),
        (0x3142, 0),
        (0x3144, ICH9_CC_DIR_DEFAULT),
        (0x3146, ICH9_CC_DIR_DEFAULT),
        (0x3148, ICH9_CC_DIR_DEFAULT),
        (0x314c, ICH9_CC_DIR_DEFAULT),
        (0x3150, ICH9_CC_DIR_DEFAULT),
        (0x3410, ICH9_CC_GCS_DEFAULT),
    ] {
        c[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    c
}

/// Section `ICH9LPC` (version 1, minimum 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ICH9LPC", version = 1, minimum_version = 1)]
pub struct Ich9Lpc {
    /// The PCI function.
    pub d: PciDevice,
    /// The APM ports.
    pub apm: ApmState,
    /// Power management.
    pub pm: Ich9Pm,
    /// The chipset configuration registers (`VMSTATE_UINT8_ARRAY`).
    pub chip_config: Box<[u8; ICH9_CC_SIZE]>,
    /// The SCI line's level, one bit per source.
    pub sci_level: u32,
    /// Subsection `ICH9LPC/rst_cnt`.
    #[vmstate(subsection, needed = Self::rst_cnt_needed)]
    pub rst_cnt: Ich9LpcRstCnt,
    /// Subsection `ICH9LPC/smi_feat`.
    #[vmstate(subsection, needed = Self::smi_feat_needed)]
    pub smi_feat: Ich9LpcSmiFeat,
}

impl Default for Ich9Lpc {
    fn default() -> Self {
        Ich9Lpc {
            d: PciDevice::new(ich9_lpc_config()),
            apm: ApmState::default(),
            pm: Ich9Pm::default(),
            chip_config: ich9_cc_reset(),
            sci_level: 0,
            rst_cnt: Ich9LpcRstCnt::default(),
            smi_feat: Ich9LpcSmiFeat::default(),
        }
    }
}

impl Ich9Lpc {
    /// `ich9_rst_cnt_needed`.
    #[inline]
    fn rst_cnt_needed(&self) -> bool {
        self.rst_cnt.rst_cnt != 0
    }

    /// `ich9_smi_feat_needed`: the guest wrote features or confirmed them.
    #[inline]
    fn smi_feat_needed(&self) -> bool {
        self.smi_feat.smi_guest_features_le != [0; SMI_FEATURES_LEN]
            || self.smi_feat.smi_features_ok != 0
    }
}

/// Subsection `ICH9LPC/rst_cnt` (version 1): the reset control register
/// (port 0xcf9).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ICH9LPC/rst_cnt", version = 1, minimum_version = 1)]
pub struct Ich9LpcRstCnt {
    /// Reset control.
    pub rst_cnt: u8,
}

/// Subsection `ICH9LPC/smi_feat` (version 1): the SMI feature negotiation
/// through fw_cfg.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ICH9LPC/smi_feat", version = 1, minimum_version = 1)]
pub struct Ich9LpcSmiFeat {
    /// The features the guest asked for, little-endian.
    pub smi_guest_features_le: [u8; SMI_FEATURES_LEN],
    /// The guest confirmed them.
    pub smi_features_ok: u8,
    /// The features in effect.
    pub smi_negotiated_features: u64,
}

/// `vmstate_ich9_pm` ("ich9_pm", version 1): the ACPI registers of the
/// LPC bridge.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ich9_pm", version = 1, minimum_version = 1)]
pub struct Ich9Pm {
    /// PM1 event status.
    #[vmstate(rename = "acpi_regs.pm1.evt.sts")]
    pub pm1_evt_sts: u16,
    /// PM1 event enable.
    #[vmstate(rename = "acpi_regs.pm1.evt.en")]
    pub pm1_evt_en: u16,
    /// PM1 control.
    #[vmstate(rename = "acpi_regs.pm1.cnt.cnt")]
    pub pm1_cnt: u16,
    /// The PM timer's overflow timer.
    #[vmstate(rename = "acpi_regs.tmr.timer")]
    pub tmr_timer: Timer,
    /// When the PM timer next overflows.
    #[vmstate(rename = "acpi_regs.tmr.overflow_time")]
    pub tmr_overflow_time: i64,
    /// GPE0 status (`VMSTATE_GPE_ARRAY`).
    #[vmstate(rename = "acpi_regs.gpe.sts")]
    pub gpe_sts: [u8; ICH9_PMIO_GPE0_LEN],
    /// GPE0 enable.
    #[vmstate(rename = "acpi_regs.gpe.en")]
    pub gpe_en: [u8; ICH9_PMIO_GPE0_LEN],
    /// SMI enable.
    pub smi_en: u32,
    /// SMI status.
    pub smi_sts: u32,
    /// Subsection `ich9_pm/memhp` (no `needed`: always sent).
    #[vmstate(subsection)]
    pub memhp: Ich9PmMemhp,
    /// Subsection `ich9_pm/tco`.
    #[vmstate(subsection, needed = Self::use_tco)]
    pub tco: Ich9PmTco,
    /// Subsection `ich9_pm/cpuhp`.
    #[vmstate(subsection, needed = Self::use_cpuhp)]
    pub cpuhp: Ich9PmCpuhp,
    /// Subsection `ich9_pm/pcihp`.
    #[vmstate(subsection, needed = Self::use_pcihp)]
    pub pcihp: Ich9PmPcihp,
    /// The `enable_tco` property (true from pc-q35-2.x on); not on the
    /// wire.
    #[vmstate(skip)]
    pub enable_tco: bool,
    /// The `acpi-pci-hotplug-with-bridge-support` property (true from
    /// pc-q35-6.1 on); not on the wire.
    #[vmstate(skip)]
    pub use_acpi_hotplug_bridge: bool,
}

impl Default for Ich9Pm {
    /// The registers after `pm_reset`: the timer's status bit set (the
    /// overflow status that a reset leaves), no timer armed.
    fn default() -> Self {
        Ich9Pm {
            pm1_evt_sts: 0x0001,
            pm1_evt_en: 0,
            pm1_cnt: 0,
            tmr_timer: Timer::NOT_ARMED,
            tmr_overflow_time: 0,
            gpe_sts: [0; ICH9_PMIO_GPE0_LEN],
            gpe_en: [0; ICH9_PMIO_GPE0_LEN],
            smi_en: 0,
            smi_sts: 0,
            memhp: Ich9PmMemhp::default(),
            tco: Ich9PmTco::default(),
            cpuhp: Ich9PmCpuhp::default(),
            pcihp: Ich9PmPcihp::default(),
            enable_tco: true,
            use_acpi_hotplug_bridge: true,
        }
    }
}

impl Ich9Pm {
    /// `vmstate_test_use_tco`.
    #[inline]
    fn use_tco(&self) -> bool {
        self.enable_tco
    }

    /// `vmstate_test_use_cpuhp`: the modern CPU hot-plug interface is in
    /// use.
    #[inline]
    fn use_cpuhp(&self) -> bool {
        !self.cpuhp.cpu_hotplug_legacy
    }

    /// `vmstate_test_use_pcihp`.
    #[inline]
    fn use_pcihp(&self) -> bool {
        self.use_acpi_hotplug_bridge
    }
}

/// Subsection `ich9_pm/memhp` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ich9_pm/memhp", version = 1, minimum_version = 1)]
pub struct Ich9PmMemhp {
    /// Memory hot-plug (`VMSTATE_MEMORY_HOTPLUG`, field version 1); no
    /// DIMM slots on the fixtures' machine.
    #[vmstate(version = 1)]
    pub acpi_memory_hotplug: MemHotplugState,
}

/// Subsection `ich9_pm/tco` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ich9_pm/tco", version = 1, minimum_version = 1)]
pub struct Ich9PmTco {
    /// The TCO watchdog (field version 1).
    #[vmstate(version = 1)]
    pub tco_regs: TcoIoRegs,
}

/// `vmstate_tco_io_sts` ("tco io device status", version 1): the TCO
/// watchdog's registers.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "tco io device status", version = 1, minimum_version = 1)]
pub struct TcoIoRegs {
    /// TCO timer reload and current value.
    #[vmstate(rename = "tco.rld")]
    pub rld: u16,
    /// TCO data in.
    #[vmstate(rename = "tco.din")]
    pub din: u8,
    /// TCO data out.
    #[vmstate(rename = "tco.dout")]
    pub dout: u8,
    /// TCO status 1.
    #[vmstate(rename = "tco.sts1")]
    pub sts1: u16,
    /// TCO status 2.
    #[vmstate(rename = "tco.sts2")]
    pub sts2: u16,
    /// TCO control 1.
    #[vmstate(rename = "tco.cnt1")]
    pub cnt1: u16,
    /// TCO control 2.
    #[vmstate(rename = "tco.cnt2")]
    pub cnt2: u16,
    /// Message 1.
    #[vmstate(rename = "tco.msg1")]
    pub msg1: u8,
    /// Message 2.
    #[vmstate(rename = "tco.msg2")]
    pub msg2: u8,
    /// Watchdog status.
    #[vmstate(rename = "tco.wdcnt")]
    pub wdcnt: u8,
    /// Timer initial value.
    #[vmstate(rename = "tco.tmr")]
    pub tmr: u16,
    /// Software IRQ generation.
    pub sw_irq_gen: u8,
    /// The watchdog timer.
    pub tco_timer: Timer,
    /// When the watchdog expires (-1: not running).
    pub expire_time: i64,
    /// Timeouts since the last reload.
    pub timeouts_no: u8,
}

impl Default for TcoIoRegs {
    /// The watchdog after `acpi_pm_tco_reset`: halted with its reset
    /// control, timer and interrupt values.
    fn default() -> Self {
        TcoIoRegs {
            rld: 0,
            din: 0,
            dout: 0,
            sts1: 0,
            sts2: 0,
            cnt1: 0,
            cnt2: 0x0008,
            msg1: 0,
            msg2: 0,
            wdcnt: 0,
            tmr: 0x0004,
            sw_irq_gen: 0x03,
            tco_timer: Timer::NOT_ARMED,
            expire_time: -1,
            timeouts_no: 0,
        }
    }
}

/// Subsection `ich9_pm/cpuhp` (version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "ich9_pm/cpuhp",
    version = 1,
    minimum_version = 1,
    pre_load = Self::pre_load
)]
pub struct Ich9PmCpuhp {
    /// CPU hot-plug (`VMSTATE_CPU_HOTPLUG`, field version 1).
    #[vmstate(version = 1)]
    pub cpuhp_state: CpuHotplugState,
    /// The `cpu-hotplug-legacy` property (true until the guest switches
    /// to the modern interface); not on the wire.
    #[vmstate(skip)]
    pub cpu_hotplug_legacy: bool,
}

impl Default for Ich9PmCpuhp {
    /// One possible CPU (`-smp 1`), legacy interface.
    fn default() -> Self {
        Ich9PmCpuhp {
            cpuhp_state: CpuHotplugState {
                dev_count: 1,
                devs: vec![AcpiCpuStatus::default()],
                ..CpuHotplugState::default()
            },
            cpu_hotplug_legacy: true,
        }
    }
}

impl Ich9PmCpuhp {
    /// `vmstate_cpuhp_pre_load`: the source used the modern interface.
    #[inline]
    fn pre_load(&mut self) -> Result<(), &'static str> {
        self.cpu_hotplug_legacy = false;
        Ok(())
    }
}

/// Subsection `ich9_pm/pcihp` (version 1): ACPI PCI hot-plug
/// (`VMSTATE_PCI_HOTPLUG` with no tests: all three fields always).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ich9_pm/pcihp", version = 1, minimum_version = 1)]
pub struct Ich9PmPcihp {
    /// The selected hot-plug bus.
    #[vmstate(rename = "acpi_pci_hotplug.hotplug_select")]
    pub hotplug_select: u32,
    /// Per bus, the slots being plugged and unplugged (field version 1).
    #[vmstate(rename = "acpi_pci_hotplug.acpi_pcihp_pci_status", version = 1)]
    pub acpi_pcihp_pci_status: [AcpiPcihpPciStatus; ACPI_PCIHP_MAX_HOTPLUG_BUS],
    /// The ACPI index the guest last asked for.
    #[vmstate(rename = "acpi_pci_hotplug.acpi_index")]
    pub acpi_index: u32,
}

impl Default for Ich9PmPcihp {
    fn default() -> Self {
        Ich9PmPcihp {
            hotplug_select: 0,
            acpi_pcihp_pci_status: [AcpiPcihpPciStatus::default(); ACPI_PCIHP_MAX_HOTPLUG_BUS],
            acpi_index: 0,
        }
    }
}
