//! Which mirror loads a section: a static table keyed by VMSD name.
//!
//! A FULL section's idstr is either the VMSD name itself (`i8259`,
//! `fw_cfg`) or, for devices on a bus with a qdev path, `<qdev
//! path>/<vmsd name>` (`0000:00:01.0/PIIX3`). [`lookup`] accepts both:
//! the idstr must equal an entry's name, or end with `/` followed by it.
//! The instance id does not matter (`dma` 0 and 1 share a mirror).
//!
//! Each [`Entry`] holds plain function pointers, one set per section
//! type, never per field:
//!
//! ```
//! use vmstate_core::Context;
//! use vmstate_qemu::registry;
//!
//! let e = registry::lookup("port92").unwrap();
//! // A port92 payload saved at version 1, then the footer of a stream.
//! let rt = (e.roundtrip)(&[0x02, 0x7e, 0, 0, 0, 0x1d], 1, &Context::new()).unwrap();
//! assert_eq!(rt.consumed, 1);
//! assert_eq!(rt.resaved, [0x02]);
//! assert!(rt.needed && rt.record.is_none());
//! let rt = (e.roundtrip_recorded)(&[0x02], 1, &Context::new()).unwrap();
//! let json = vmstate_migration::record::section_json("port92", 0, &rt.record.unwrap());
//! assert!(json.ends_with(r#""fields": [{"name": "outport", "type": "uint8", "size": 1}]}"#));
//! assert_eq!(registry::lookup("0000:00:01.0/PIIX3").unwrap().name, "PIIX3");
//! assert!(registry::lookup("0000:00:03.0/virtio-blk").is_none()); // not mirrored
//! ```

use vmstate_core::record::VmsdRecord;
use vmstate_core::{Context, Error, Reader, VmState, Vmsd, Writer};
use vmstate_migration::LoadSection;

use crate::machine::{ForMachine, Machine};
use crate::{
    acpi_build, ahci, apic, cpu, cpu_common, dma, e1000, fdc, fw_cfg, globalstate, hpet, i2c_bus,
    i440fx, i8254, i8259, ich9_smb, ide, ioapic, kvm_tpr_opt, lpc_ich9, mc146818rtc, mch, pci_bus,
    pci_host, pckbd, pcspk, piix3, piix4_pm, port92, ps2, serial, slirp, timer, virtio_net,
    vmmouse,
};

/// The outcome of [`Entry::roundtrip`] and [`Entry::roundtrip_recorded`].
#[derive(Clone, Debug)]
pub struct Roundtrip {
    /// Payload bytes the load consumed (what follows is the footer or the
    /// next section).
    pub consumed: usize,
    /// The payload saved again from the loaded mirror.
    pub resaved: Vec<u8>,
    /// What the save wrote, for QEMU's vmdesc entry of the section
    /// ([`vmstate_migration::record::section_json`]); only from
    /// [`Entry::roundtrip_recorded`].
    pub record: Option<VmsdRecord>,
    /// Whether the loaded mirror would be sent at all
    /// ([`VmState::section_needed`]).
    pub needed: bool,
}

/// Loads a section payload into a fresh mirror and saves it again.
///
/// `payload` starts at the first payload byte and may run on past the
/// payload; `version` is the section header's version.
pub type RoundtripFn = fn(payload: &[u8], version: u32, ctx: &Context) -> Result<Roundtrip, Error>;

/// [`RoundtripFn`] into the destination built for a machine
/// ([`ForMachine`]); `record` asks for the vmdesc record.
pub type RoundtripOnFn = fn(
    machine: Machine,
    payload: &[u8],
    version: u32,
    ctx: &Context,
    record: bool,
) -> Result<Roundtrip, Error>;

/// A fresh mirror behind a trait object ([`Entry::new_mirror`]): a
/// [`Dispatcher`](vmstate_migration::Dispatcher) target that can
/// save its payload again.
pub trait Mirror {
    /// The mirror as a dispatcher target.
    fn as_target(&mut self) -> &mut dyn LoadSection;
    /// Saves the mirror's payload.
    fn save_payload(&mut self, ctx: &Context) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.save_into(&mut out, ctx)?;
        Ok(out)
    }
    /// Appends the mirror's payload to `out`.
    fn save_into(&mut self, out: &mut Vec<u8>, ctx: &Context) -> Result<(), Error>;
    /// Saves the mirror's payload into the start of `buf` and returns its
    /// length ([`VmState::save_to_slice`]); a payload that does not fit is
    /// an error at the field that does not.
    fn save_into_slice(&mut self, buf: &mut [u8], ctx: &Context) -> Result<usize, Error>;
    /// The largest payload the mirror saves, when its size has a static
    /// bound ([`VmState::MAX_PAYLOAD`]); 0 otherwise.
    fn max_payload(&self) -> usize;
}

impl<T: VmState + Clone + 'static> Mirror for T {
    fn as_target(&mut self) -> &mut dyn LoadSection {
        self
    }

    fn save_into(&mut self, out: &mut Vec<u8>, ctx: &Context) -> Result<(), Error> {
        self.save(&mut Writer::new(out), ctx)
    }

    fn save_into_slice(&mut self, buf: &mut [u8], ctx: &Context) -> Result<usize, Error> {
        VmState::save_to_slice(self, buf, ctx)
    }

    fn max_payload(&self) -> usize {
        T::MAX_PAYLOAD
    }
}

/// One mirrored section type.
#[derive(Debug)]
pub struct Entry {
    /// The VMSD name, which ends the section idstr.
    pub name: &'static str,
    /// The mirror's description.
    pub vmsd: &'static Vmsd,
    /// The Rust type of the mirror (for messages).
    pub type_name: &'static str,
    /// Load into `Default::default()` and save again.
    pub roundtrip: RoundtripFn,
    /// The same, saving through a recording writer: the outcome has the
    /// vmdesc record.
    pub roundtrip_recorded: RoundtripFn,
    /// What QEMU's description has that the mirror lacks; empty when the
    /// mirror is complete.
    pub gaps: &'static str,
    /// A mirror in its `Default` state (the destination's configuration).
    pub new_mirror: fn() -> Box<dyn Mirror>,
    /// Load into the destination built for a machine and save again (the
    /// other two use the `pc-i440fx` destination).
    pub roundtrip_on: RoundtripOnFn,
    /// A mirror in the destination state of a machine.
    pub new_mirror_on: fn(Machine) -> Box<dyn Mirror>,
}

impl Entry {
    /// The QEMU device type whose class description this mirror stands
    /// for, as `-dump-vmstate` names it (`isa-i8259` for `i8259`); `None`
    /// for state that QEMU registers without a device class (`timer`,
    /// `cpu`, `apic`, ...), which its dump does not list.
    pub fn qemu_type(&self) -> Option<&'static str> {
        Some(match self.name {
            "kvm-tpr-opt" => "kvmvapic",
            "fw_cfg" => "fw_cfg_io",
            "PCIHost" => "i440FX-pcihost",
            "I440FX" => "i440FX",
            "dma" => "i8257",
            "PIIX3" => "PIIX3",
            "i8259" => "isa-i8259",
            "ioapic" => "ioapic",
            "hpet" => "hpet",
            "mc146818rtc" => "mc146818rtc",
            "i8254" => "isa-pit",
            "pcspk" => "isa-pcspk",
            "fdc" => "isa-fdc",
            "ps2kbd" => "ps2-kbd",
            "ps2mouse" => "ps2-mouse",
            "pckbd" => "i8042",
            "vmmouse" => "vmmouse",
            "port92" => "port92",
            // QEMU 7.2's dump does not list this type (its description was
            // registered per device, not set on the class).
            "ide" => "piix3-ide",
            "serial" => "isa-serial",
            "e1000" => "e1000",
            "piix4_pm" => "PIIX4_PM",
            "virtio-net" => "virtio-net-device",
            // q35 only.
            "mch" => "mch",
            "ICH9LPC" => "ICH9-LPC",
            "ich9_smb" => "ICH9-SMB",
            "ich9_ahci" => "ich9-ahci",
            _ => return None,
        })
    }

    /// Whether this entry mirrors the section named `idstr`.
    pub fn matches(&self, idstr: &str) -> bool {
        idstr == self.name
            || idstr
                .strip_suffix(self.name)
                .is_some_and(|head| head.ends_with('/'))
    }
}

/// The generic body of every [`RoundtripFn`]: the mirror's `Default` is the
/// destination's configuration, which `equal` checks and configuration
/// fields (`skip`) need.
fn roundtrip_with<T: VmState + Clone + ForMachine>(
    machine: Machine,
    payload: &[u8],
    version: u32,
    ctx: &Context,
    record: bool,
) -> Result<Roundtrip, Error> {
    let mut dev = T::for_machine(machine);
    let mut r = Reader::from_slice(payload);
    dev.load(&mut r, version, ctx)?;
    let consumed = payload.len() - r.remaining().len();
    let mut resaved = Vec::new();
    let mut w = if record {
        Writer::recording(&mut resaved)
    } else {
        Writer::new(&mut resaved)
    };
    dev.save(&mut w, ctx)?;
    let record = w.take_record();
    Ok(Roundtrip {
        consumed,
        resaved,
        record,
        needed: dev.section_needed(),
    })
}

fn roundtrip<T: VmState + Clone + ForMachine>(
    payload: &[u8],
    version: u32,
    ctx: &Context,
) -> Result<Roundtrip, Error> {
    roundtrip_with::<T>(Machine::I440fx, payload, version, ctx, false)
}

fn roundtrip_recorded<T: VmState + Clone + ForMachine>(
    payload: &[u8],
    version: u32,
    ctx: &Context,
) -> Result<Roundtrip, Error> {
    roundtrip_with::<T>(Machine::I440fx, payload, version, ctx, true)
}

fn new_mirror<T: VmState + Clone + ForMachine + 'static>() -> Box<dyn Mirror> {
    Box::new(T::default())
}

fn new_mirror_on<T: VmState + Clone + ForMachine + 'static>(m: Machine) -> Box<dyn Mirror> {
    Box::new(T::for_machine(m))
}

const fn entry<T: VmState + Clone + ForMachine + 'static>(
    type_name: &'static str,
    gaps: &'static str,
) -> Entry {
    Entry {
        name: T::VMSD.name,
        vmsd: T::VMSD,
        type_name,
        roundtrip: roundtrip::<T>,
        roundtrip_recorded: roundtrip_recorded::<T>,
        gaps,
        new_mirror: new_mirror::<T>,
        roundtrip_on: roundtrip_with::<T>,
        new_mirror_on: new_mirror_on::<T>,
    }
}

/// Every mirrored section type, in the order of a `pc` machine's stream.
pub static ENTRIES: &[Entry] = &[
    entry::<timer::Timers>("timer::Timers", ""),
    entry::<cpu_common::CpuCommon>("cpu_common::CpuCommon", ""),
    entry::<cpu::X86Cpu>("cpu::X86Cpu", ""),
    entry::<kvm_tpr_opt::VapicRomState>("kvm_tpr_opt::VapicRomState", ""),
    entry::<apic::ApicCommon>("apic::ApicCommon", ""),
    entry::<fw_cfg::FwCfg>("fw_cfg::FwCfg", ""),
    entry::<pci_host::PciHost>("pci_host::PciHost", ""),
    entry::<pci_bus::PciBus>("pci_bus::PciBus", ""),
    entry::<i440fx::I440fx>("i440fx::I440fx", ""),
    entry::<dma::I8257>("dma::I8257", ""),
    entry::<piix3::Piix3>("piix3::Piix3", ""),
    entry::<i8259::PicCommon>("i8259::PicCommon", ""),
    entry::<ioapic::IoapicCommon>("ioapic::IoapicCommon", ""),
    entry::<hpet::Hpet>("hpet::Hpet", ""),
    entry::<mc146818rtc::Rtc>("mc146818rtc::Rtc", ""),
    entry::<i8254::PitCommon>("i8254::PitCommon", ""),
    entry::<pcspk::PcSpk>("pcspk::PcSpk", ""),
    entry::<fdc::IsaFdc>("fdc::IsaFdc", ""),
    entry::<ps2::Ps2Kbd>("ps2::Ps2Kbd", ""),
    entry::<ps2::Ps2Mouse>("ps2::Ps2Mouse", ""),
    entry::<pckbd::KbdIsa>("pckbd::KbdIsa", ""),
    entry::<vmmouse::VmMouse>("vmmouse::VmMouse", ""),
    entry::<port92::Port92>("port92::Port92", ""),
    entry::<ide::PciIde>("ide::PciIde", ""),
    entry::<i2c_bus::I2cBus>("i2c_bus::I2cBus", ""),
    entry::<serial::IsaSerial>("serial::IsaSerial", ""),
    entry::<e1000::E1000>("e1000::E1000", ""),
    entry::<piix4_pm::Piix4Pm>("piix4_pm::Piix4Pm", ""),
    entry::<acpi_build::AcpiBuild>("acpi_build::AcpiBuild", ""),
    entry::<globalstate::GlobalState>("globalstate::GlobalState", ""),
    // q35 only.
    entry::<mch::Mch>("mch::Mch", ""),
    entry::<lpc_ich9::Ich9Lpc>("lpc_ich9::Ich9Lpc", ""),
    entry::<ich9_smb::Ich9Smb>("ich9_smb::Ich9Smb", ""),
    entry::<ahci::Ich9Ahci>("ahci::Ich9Ahci", ""),
    // Not a description in QEMU: libslirp's bytes (see the module).
    entry::<slirp::Slirp>("slirp::Slirp", ""),
    // QEMU's hand-written virtio save, part by part (see the module).
    entry::<virtio_net::VirtioNetPci>("virtio_net::VirtioNetPci", ""),
];

/// The entry that mirrors the section named `idstr`, if any.
pub fn lookup(idstr: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.matches(idstr))
}
