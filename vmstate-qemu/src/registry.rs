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
//! assert!(registry::lookup("0000:00:01.0/PIIX3").is_none()); // not mirrored yet
//! ```

use vmstate_core::{Context, Error, Reader, VmState, Vmsd};

use crate::{
    acpi_build, apic, cpu_common, dma, fw_cfg, i2c_bus, i8254, i8259, ioapic, kvm_tpr_opt,
    pci_host, pckbd, pcspk, port92, serial, timer, vmmouse,
};

/// The outcome of [`Entry::roundtrip`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roundtrip {
    /// Payload bytes the load consumed (what follows is the footer or the
    /// next section).
    pub consumed: usize,
    /// The payload saved again from the loaded mirror.
    pub resaved: Vec<u8>,
}

/// Loads a section payload into a fresh mirror and saves it again.
///
/// `payload` starts at the first payload byte and may run on past the
/// payload; `version` is the section header's version.
pub type RoundtripFn = fn(payload: &[u8], version: u32, ctx: &Context) -> Result<Roundtrip, Error>;

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
    /// What QEMU's description has that the mirror lacks; empty when the
    /// mirror is complete.
    pub gaps: &'static str,
}

impl Entry {
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
fn roundtrip<T: VmState + Clone + Default>(
    payload: &[u8],
    version: u32,
    ctx: &Context,
) -> Result<Roundtrip, Error> {
    let mut dev = T::default();
    let mut r = Reader::from_slice(payload);
    dev.load(&mut r, version, ctx)?;
    let consumed = payload.len() - r.remaining().len();
    let resaved = dev.to_bytes(ctx)?;
    Ok(Roundtrip { consumed, resaved })
}

const fn entry<T: VmState + Clone + Default>(type_name: &'static str, gaps: &'static str) -> Entry {
    Entry {
        name: T::VMSD.name,
        vmsd: T::VMSD,
        type_name,
        roundtrip: roundtrip::<T>,
        gaps,
    }
}

/// Every mirrored section type, in the order of a `pc` machine's stream.
pub static ENTRIES: &[Entry] = &[
    entry::<timer::Timers>("timer::Timers", ""),
    entry::<cpu_common::CpuCommon>("cpu_common::CpuCommon", ""),
    entry::<kvm_tpr_opt::VapicRomState>("kvm_tpr_opt::VapicRomState", ""),
    entry::<apic::ApicCommon>("apic::ApicCommon", ""),
    entry::<fw_cfg::FwCfg>("fw_cfg::FwCfg", ""),
    entry::<pci_host::PciHost>("pci_host::PciHost", ""),
    entry::<dma::I8257>("dma::I8257", ""),
    entry::<i8259::PicCommon>("i8259::PicCommon", ""),
    entry::<ioapic::IoapicCommon>("ioapic::IoapicCommon", ""),
    entry::<i8254::PitCommon>("i8254::PitCommon", ""),
    entry::<pcspk::PcSpk>("pcspk::PcSpk", ""),
    entry::<pckbd::KbdIsa>("pckbd::KbdIsa", ""),
    entry::<vmmouse::VmMouse>("vmmouse::VmMouse", ""),
    entry::<port92::Port92>("port92::Port92", ""),
    entry::<i2c_bus::I2cBus>("i2c_bus::I2cBus", ""),
    entry::<serial::IsaSerial>(
        "serial::IsaSerial",
        "subsections serial/recv_fifo and serial/xmit_fifo (Fifo8 data: vbuffer)",
    ),
    entry::<acpi_build::AcpiBuild>("acpi_build::AcpiBuild", ""),
];

/// The entry that mirrors the section named `idstr`, if any.
pub fn lookup(idstr: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.matches(idstr))
}
