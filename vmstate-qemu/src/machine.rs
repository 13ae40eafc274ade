//! The machine a stream was saved from, as its configuration section names
//! it, and what of a mirror's destination configuration depends on it.
//!
//! QEMU checks some fields against the destination's board (`*_EQUAL`
//! fields such as `PCIBUS`'s number of interrupt lines): the destination
//! must be built for the same machine. [`ForMachine`] builds a mirror's
//! destination for a [`Machine`]; most mirrors do not depend on it and keep
//! their `Default`.

/// A machine family of `qemu-system-x86_64`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Machine {
    /// `pc-i440fx-*` (and the alias `pc`): i440FX host bridge, PIIX3/PIIX4.
    #[default]
    I440fx,
    /// `pc-q35-*` (and the alias `q35`): Q35 host bridge (MCH), ICH9.
    Q35,
}

impl Machine {
    /// The family of a machine type name, as the configuration section
    /// carries it (`pc-i440fx-10.0`, `pc-q35-7.2`); `None` for others.
    ///
    /// ```
    /// use vmstate_qemu::machine::Machine;
    /// assert_eq!(Machine::from_name("pc-q35-10.0"), Some(Machine::Q35));
    /// assert_eq!(Machine::from_name("pc-i440fx-7.2"), Some(Machine::I440fx));
    /// assert_eq!(Machine::from_name("microvm"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Machine> {
        if name == "pc" || name.starts_with("pc-i440fx-") {
            Some(Machine::I440fx)
        } else if name == "q35" || name.starts_with("pc-q35-") {
            Some(Machine::Q35)
        } else {
            None
        }
    }

    /// Interrupt lines of the root PCI bus: the PIIX3's four PIRQs, or the
    /// ICH9 LPC bridge's eight.
    pub fn pci_irqs(self) -> i32 {
        match self {
            Machine::I440fx => 4,
            Machine::Q35 => 8,
        }
    }
}

/// A mirror's destination as QEMU builds it for a machine.
pub trait ForMachine: Default {
    /// The destination on `machine`; the `Default` unless the board
    /// matters.
    fn for_machine(machine: Machine) -> Self {
        let _ = machine;
        Self::default()
    }
}

macro_rules! machine_independent {
    ($($t:ty),* $(,)?) => {$(impl ForMachine for $t {})*};
}

machine_independent!(
    crate::timer::Timers,
    crate::cpu_common::CpuCommon,
    crate::cpu::X86Cpu,
    crate::kvm_tpr_opt::VapicRomState,
    crate::apic::ApicCommon,
    crate::fw_cfg::FwCfg,
    crate::pci_host::PciHost,
    crate::i440fx::I440fx,
    crate::dma::I8257,
    crate::piix3::Piix3,
    crate::i8259::PicCommon,
    crate::ioapic::IoapicCommon,
    crate::hpet::Hpet,
    crate::mc146818rtc::Rtc,
    crate::i8254::PitCommon,
    crate::pcspk::PcSpk,
    crate::fdc::IsaFdc,
    crate::ps2::Ps2Kbd,
    crate::ps2::Ps2Mouse,
    crate::pckbd::KbdIsa,
    crate::vmmouse::VmMouse,
    crate::port92::Port92,
    crate::ide::PciIde,
    crate::i2c_bus::I2cBus,
    crate::serial::IsaSerial,
    crate::e1000::E1000,
    crate::piix4_pm::Piix4Pm,
    crate::acpi_build::AcpiBuild,
    crate::globalstate::GlobalState,
    crate::mch::Mch,
    crate::lpc_ich9::Ich9Lpc,
    crate::ich9_smb::Ich9Smb,
    crate::ahci::Ich9Ahci,
    crate::slirp::Slirp,
    crate::virtio_net::VirtioNetPci,
);

impl ForMachine for crate::pci_bus::PciBus {
    fn for_machine(machine: Machine) -> Self {
        crate::pci_bus::PciBus::with_irqs(machine.pci_irqs())
    }
}
