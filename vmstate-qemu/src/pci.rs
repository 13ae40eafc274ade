//! `PCIDevice`: the state every PCI function migrates (QEMU 7.2
//! `hw/pci/pci.c`, `vmstate_pci_device`, embedded by
//! `VMSTATE_PCI_DEVICE`), with QEMU's two device-private field codecs:
//! `pci config` ([`PciConfigCodec`]) and `pci irq state`
//! ([`PciIrqStateCodec`]).
//!
//! Constructs shown:
//! * **custom codecs** (`with = Codec`): fields whose wire form QEMU
//!   writes by hand (`VMStateInfo`), with QEMU's type names in the
//!   description;
//! * a codec that **checks the incoming bytes against the destination**:
//!   QEMU's `get_pci_config_device` refuses a configuration space whose
//!   read-only bits (those in the check mask `cmask` that are neither
//!   writable, `wmask`, nor write-one-to-clear, `w1cmask`) differ from
//!   the destination device's: a different vendor or device ID, class,
//!   header type, capability pointer or BAR type bits mean another
//!   device, not another state;
//! * a codec that **validates values** (`pci irq state`: four be32 levels,
//!   each 0 or 1, kept as a bitmask);
//! * `positive_le` (`version_id`: the stream's PCI device version may not
//!   exceed the destination's);
//! * two fields with one name, chosen by `exists`: QEMU sends the 256-byte
//!   space of a conventional function or the 4096-byte space of a PCI
//!   Express one, both called `config`.
//!
//! QEMU keeps the configuration space and its masks in the device; the
//! mirror's [`PciConfig`] carries them together, so that the destination's
//! masks and read-only values are there when a load checks the stream.
//! [`PciConfig::new`] builds what QEMU's `do_pci_register_device` does for
//! every function (IDs, class, the default subsystem IDs and the common
//! masks), and [`PciConfig::register_bar`] what `pci_register_bar` adds.
//! Device-specific changes to the masks outside the checked header are
//! not modelled: they cannot affect the check.
//!
//! QEMU keeps one buffer for both `config` fields; the mirror keeps a
//! conventional function's space in [`PciDevice::config`] and an express
//! function's in [`PciDevice::express_config`] (empty for conventional
//! functions, which every device of the pc machine is).

use vmstate_core::codec::Codec;
use vmstate_core::stream::{Sink, Source};
use vmstate_core::{Context, Error, ErrorKind, Reader, Result, VmState, Writer};

/// `PCI_CONFIG_SPACE_SIZE`: a conventional function's configuration space.
pub const PCI_CONFIG_SPACE_SIZE: usize = 256;
/// `PCIE_CONFIG_SPACE_SIZE`: a PCI Express function's.
pub const PCIE_CONFIG_SPACE_SIZE: usize = 4096;
/// `PCI_NUM_PINS`: interrupt pins INTA-INTD.
pub const PCI_NUM_PINS: usize = 4;

/// `PCI_VENDOR_ID_INTEL`.
pub const PCI_VENDOR_ID_INTEL: u16 = 0x8086;
/// `PCI_SUBVENDOR_ID_REDHAT_QUMRANET`: QEMU's default subsystem vendor.
pub const PCI_SUBVENDOR_ID_REDHAT_QUMRANET: u16 = 0x1af4;
/// `PCI_SUBDEVICE_ID_QEMU`: QEMU's default subsystem ID.
pub const PCI_SUBDEVICE_ID_QEMU: u16 = 0x1100;

/// Configuration-space offsets (`PCI_*` in `pci_regs.h`).
pub mod reg {
    /// Vendor ID (16 bits).
    pub const VENDOR_ID: usize = 0x00;
    /// Device ID (16 bits).
    pub const DEVICE_ID: usize = 0x02;
    /// Command register (16 bits).
    pub const COMMAND: usize = 0x04;
    /// Status register (16 bits).
    pub const STATUS: usize = 0x06;
    /// Revision ID.
    pub const REVISION_ID: usize = 0x08;
    /// Programming interface.
    pub const CLASS_PROG: usize = 0x09;
    /// Class and subclass (16 bits).
    pub const CLASS_DEVICE: usize = 0x0a;
    /// Cache line size.
    pub const CACHE_LINE_SIZE: usize = 0x0c;
    /// Header type (bit 7: multi-function).
    pub const HEADER_TYPE: usize = 0x0e;
    /// The first base address register.
    pub const BASE_ADDRESS_0: usize = 0x10;
    /// Subsystem vendor ID (16 bits).
    pub const SUBSYSTEM_VENDOR_ID: usize = 0x2c;
    /// Subsystem ID (16 bits).
    pub const SUBSYSTEM_ID: usize = 0x2e;
    /// Expansion ROM base address.
    pub const ROM_ADDRESS: usize = 0x30;
    /// Capability list pointer.
    pub const CAPABILITY_LIST: usize = 0x34;
    /// Interrupt line.
    pub const INTERRUPT_LINE: usize = 0x3c;
    /// Interrupt pin.
    pub const INTERRUPT_PIN: usize = 0x3d;
    /// End of the standard header (`PCI_CONFIG_HEADER_SIZE`).
    pub const CONFIG_HEADER_SIZE: usize = 0x40;
}

/// `PCI_HEADER_TYPE_MULTI_FUNCTION`.
pub const PCI_HEADER_TYPE_MULTI_FUNCTION: u8 = 0x80;
/// `PCI_STATUS_CAP_LIST`.
pub const PCI_STATUS_CAP_LIST: u16 = 0x0010;
/// `PCI_BASE_ADDRESS_SPACE_IO`: a BAR in I/O space.
pub const PCI_BASE_ADDRESS_SPACE_IO: u8 = 0x01;
/// `PCI_BASE_ADDRESS_SPACE_MEMORY`: a BAR in memory space.
pub const PCI_BASE_ADDRESS_SPACE_MEMORY: u8 = 0x00;
/// `PCI_BASE_ADDRESS_MEM_TYPE_64`: a 64-bit memory BAR.
pub const PCI_BASE_ADDRESS_MEM_TYPE_64: u8 = 0x04;
/// `PCI_ROM_SLOT`: the region number of the expansion ROM.
pub const PCI_ROM_SLOT: usize = 6;

/// A PCI function's identity, as its QEMU class declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciIds {
    /// Vendor ID.
    pub vendor_id: u16,
    /// Device ID.
    pub device_id: u16,
    /// Revision ID.
    pub revision: u8,
    /// Class and subclass (`class_id`, e.g. 0x0600 host bridge).
    pub class_id: u16,
}

/// A PCI function's configuration space and QEMU's three masks over it:
/// which bits the load check compares (`cmask`), which the guest may
/// write (`wmask`), and which it clears by writing one (`w1cmask`).
///
/// Only `config` is on the wire ([`PciConfigCodec`]).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PciConfig {
    /// The configuration space (little-endian registers), 256 or 4096
    /// bytes; empty for "no such space".
    pub config: Vec<u8>,
    /// Bits a load compares with the destination's (`cmask`).
    pub cmask: Vec<u8>,
    /// Bits the guest may write (`wmask`).
    pub wmask: Vec<u8>,
    /// Bits the guest clears by writing one (`w1cmask`).
    pub w1cmask: Vec<u8>,
}

/// A configuration space the destination refused (QEMU: "Bad config
/// data").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadConfig {
    /// Offset of the first differing byte.
    pub offset: usize,
    /// The byte in the stream.
    pub read: u8,
    /// The destination device's byte.
    pub device: u8,
    /// The masks at that offset.
    pub cmask: u8,
    /// Writable bits at that offset.
    pub wmask: u8,
    /// Write-one-to-clear bits at that offset.
    pub w1cmask: u8,
}

impl std::fmt::Display for BadConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "bad PCI config data at {:#x}: read {:#04x}, device {:#04x} \
             (cmask {:#04x}, wmask {:#04x}, w1cmask {:#04x})",
            self.offset, self.read, self.device, self.cmask, self.wmask, self.w1cmask
        )
    }
}

impl std::error::Error for BadConfig {}

fn set_word(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn set_long(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

impl PciConfig {
    /// A conventional function's space as `do_pci_register_device` leaves
    /// it: IDs, revision, class, QEMU's default subsystem IDs, and the
    /// masks of `pci_init_cmask`, `pci_init_wmask`, `pci_init_w1cmask`.
    pub fn new(ids: PciIds) -> Self {
        Self::with_size(ids, PCI_CONFIG_SPACE_SIZE)
    }

    /// The same for a PCI Express function (4096 bytes).
    pub fn new_express(ids: PciIds) -> Self {
        Self::with_size(ids, PCIE_CONFIG_SPACE_SIZE)
    }

    fn with_size(ids: PciIds, size: usize) -> Self {
        let mut c = PciConfig {
            config: vec![0; size],
            cmask: vec![0; size],
            wmask: vec![0; size],
            w1cmask: vec![0; size],
        };
        set_word(&mut c.config, reg::VENDOR_ID, ids.vendor_id);
        set_word(&mut c.config, reg::DEVICE_ID, ids.device_id);
        c.config[reg::REVISION_ID] = ids.revision;
        set_word(&mut c.config, reg::CLASS_DEVICE, ids.class_id);
        set_word(
            &mut c.config,
            reg::SUBSYSTEM_VENDOR_ID,
            PCI_SUBVENDOR_ID_REDHAT_QUMRANET,
        );
        set_word(&mut c.config, reg::SUBSYSTEM_ID, PCI_SUBDEVICE_ID_QEMU);
        // pci_init_cmask: identity and structure are checked on load.
        set_word(&mut c.cmask, reg::VENDOR_ID, 0xffff);
        set_word(&mut c.cmask, reg::DEVICE_ID, 0xffff);
        c.cmask[reg::STATUS] = PCI_STATUS_CAP_LIST as u8;
        c.cmask[reg::REVISION_ID] = 0xff;
        c.cmask[reg::CLASS_PROG] = 0xff;
        set_word(&mut c.cmask, reg::CLASS_DEVICE, 0xffff);
        c.cmask[reg::HEADER_TYPE] = 0xff;
        c.cmask[reg::CAPABILITY_LIST] = 0xff;
        // pci_init_wmask: IO, memory, bus master, SERR, INTx disable; the
        // cache line, the interrupt line, and all device-specific space.
        c.wmask[reg::CACHE_LINE_SIZE] = 0xff;
        c.wmask[reg::INTERRUPT_LINE] = 0xff;
        set_word(
            &mut c.wmask,
            reg::COMMAND,
            0x0001 | 0x0002 | 0x0004 | 0x0100 | 0x0400,
        );
        c.wmask[reg::CONFIG_HEADER_SIZE..].fill(0xff);
        // pci_init_w1cmask: the status error bits.
        set_word(
            &mut c.w1cmask,
            reg::STATUS,
            0x0100 | 0x0800 | 0x1000 | 0x2000 | 0x4000 | 0x8000,
        );
        c
    }

    /// `pci_init_multifunction` for a function of a multi-function device
    /// (function 0 announces it in its header type).
    pub fn set_multifunction(&mut self) {
        self.config[reg::HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI_FUNCTION;
    }

    /// `pci_register_bar`: region `region` (0-5, or [`PCI_ROM_SLOT`]) of
    /// `size` bytes (a power of two) and type `bar_type`
    /// ([`PCI_BASE_ADDRESS_SPACE_IO`], ...): the BAR holds the type, its
    /// size bits are read-only and checked.
    pub fn register_bar(&mut self, region: usize, bar_type: u8, size: u64) {
        let addr = if region == PCI_ROM_SLOT {
            reg::ROM_ADDRESS
        } else {
            reg::BASE_ADDRESS_0 + region * 4
        };
        let mut wmask = !(size.wrapping_sub(1));
        if region == PCI_ROM_SLOT {
            wmask |= 1; // PCI_ROM_ADDRESS_ENABLE
        }
        set_long(&mut self.config, addr, u32::from(bar_type));
        let is_64 = bar_type & PCI_BASE_ADDRESS_SPACE_IO == 0
            && bar_type & PCI_BASE_ADDRESS_MEM_TYPE_64 != 0;
        if is_64 {
            self.wmask[addr..addr + 8].copy_from_slice(&wmask.to_le_bytes());
            self.cmask[addr..addr + 8].fill(0xff);
        } else {
            set_long(&mut self.wmask, addr, wmask as u32);
            set_long(&mut self.cmask, addr, 0xffff_ffff);
        }
    }

    /// Adds a capability of `size` bytes at `offset` to the front of the
    /// capability list (`pci_add_capability`): its ID and next pointer
    /// are written, and its bytes become read-only and checked on load.
    pub fn add_capability(&mut self, cap_id: u8, offset: usize, size: usize) {
        let end = (offset + size).min(self.config.len());
        if offset + 1 >= end {
            return;
        }
        self.config[offset] = cap_id;
        self.config[offset + 1] = self.config[reg::CAPABILITY_LIST];
        self.config[reg::CAPABILITY_LIST] = offset as u8;
        self.config[reg::STATUS] |= PCI_STATUS_CAP_LIST as u8;
        self.wmask[offset..end].fill(0);
        self.cmask[offset..end].fill(0xff);
    }

    /// The bits of byte `i` that must match on load: checked, neither
    /// writable nor write-one-to-clear.
    pub fn fixed_bits(&self, i: usize) -> u8 {
        let m = |v: &Vec<u8>| v.get(i).copied().unwrap_or(0);
        m(&self.cmask) & !m(&self.wmask) & !m(&self.w1cmask)
    }

    /// Whether `incoming` agrees with this space in every fixed bit, all
    /// bytes folded without a branch (it vectorizes; the byte loop of
    /// [`PciConfig::check`], which names the first byte that differs,
    /// runs only when this fails). `false` when a mask is shorter than
    /// the bytes compared, which that loop handles.
    fn all_fixed_bits_match(&self, incoming: &[u8]) -> bool {
        let n = incoming.len().min(self.config.len());
        let (Some(read), Some(device), Some(c), Some(w), Some(w1)) = (
            incoming.get(..n),
            self.config.get(..n),
            self.cmask.get(..n),
            self.wmask.get(..n),
            self.w1cmask.get(..n),
        ) else {
            return false;
        };
        let mut differ = 0u8;
        for i in 0..n {
            differ |= (read[i] ^ device[i]) & c[i] & !w[i] & !w1[i];
        }
        differ == 0
    }

    /// `get_pci_config_device`'s check: `incoming` may differ from this
    /// space only in bits that are not fixed.
    pub fn check(&self, incoming: &[u8]) -> std::result::Result<(), BadConfig> {
        if self.all_fixed_bits_match(incoming) {
            return Ok(());
        }
        for (i, (&read, &device)) in incoming.iter().zip(&self.config).enumerate() {
            let fixed = self.fixed_bits(i);
            if (read ^ device) & fixed != 0 {
                let m = |v: &Vec<u8>| v.get(i).copied().unwrap_or(0);
                return Err(BadConfig {
                    offset: i,
                    read,
                    device,
                    cmask: m(&self.cmask),
                    wmask: m(&self.wmask),
                    w1cmask: m(&self.w1cmask),
                });
            }
        }
        Ok(())
    }

    /// A 16-bit register.
    pub fn word(&self, at: usize) -> u16 {
        match self.config.get(at..at + 2) {
            Some(&[a, b]) => u16::from_le_bytes([a, b]),
            _ => 0,
        }
    }
}

/// The `pci config` field codec for a space of `N` bytes: the bytes as
/// they are on save; on load, all `N` bytes are read, checked against the
/// destination ([`PciConfig::check`]) and only then copied in.
pub struct PciConfigSpace<const N: usize>;

/// A conventional function's `pci config` (256 bytes).
pub type PciConfigCodec = PciConfigSpace<PCI_CONFIG_SPACE_SIZE>;
/// A PCI Express function's `pci config` (4096 bytes).
pub type PcieConfigCodec = PciConfigSpace<PCIE_CONFIG_SPACE_SIZE>;

fn wrong_size(have: usize, offset: u64) -> Error {
    let message = if have == 0 {
        "this device has no configuration space of that size"
    } else {
        "the configuration space has another size than the field"
    };
    Error::new(ErrorKind::Invalid { message }, offset)
}

impl<const N: usize> Codec<PciConfig> for PciConfigSpace<N> {
    const INFO: &'static str = "pci config";
    const SIZE: usize = N;

    fn save<W: Sink>(v: &mut PciConfig, w: &mut Writer<W>, _: &Context) -> Result<()> {
        if v.config.len() != N {
            return Err(wrong_size(v.config.len(), w.offset()));
        }
        w.put_bytes(&v.config)
    }

    fn load<S: Source>(v: &mut PciConfig, r: &mut Reader<S>, _: &Context) -> Result<()> {
        let start = r.offset();
        if v.config.len() != N {
            return Err(wrong_size(v.config.len(), start));
        }
        // Checked where it lies when the source holds it in memory; else
        // read onto the stack first. No allocation either way.
        let mut buf = [0u8; N];
        let incoming: &[u8] = match r.take(N) {
            Some(b) => b,
            None => {
                r.get_bytes(&mut buf)?;
                &buf
            }
        };
        if let Err(bad) = v.check(incoming) {
            let at = start + bad.offset as u64;
            return Err(Error::new(
                ErrorKind::Invalid {
                    message: "PCI config: read-only bits differ from the device's",
                },
                at,
            )
            .with_source(bad));
        }
        v.config.copy_from_slice(incoming);
        Ok(())
    }
}

/// An interrupt level other than 0 or 1 in `pci irq state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadIrqState {
    /// The pin (0 = INTA).
    pub pin: usize,
    /// The value in the stream.
    pub level: u32,
}

impl std::fmt::Display for BadIrqState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "irq state {}: must be 0 or 1", self.level)
    }
}

impl std::error::Error for BadIrqState {}

/// The `pci irq state` field codec: the device's interrupt pins, a
/// bitmask in memory (bit *n* = pin *n* asserted), four be32 levels on
/// the wire. A level other than 0 or 1 fails the load, before any pin
/// changes.
pub struct PciIrqStateCodec;

/// A level of `pci irq state` other than 0 or 1, at `at`.
#[cold]
fn bad_irq_level(at: u64, pin: usize, level: u32) -> Error {
    Error::new(
        ErrorKind::Invalid {
            message: "pci irq state: a level must be 0 or 1",
        },
        at,
    )
    .with_source(BadIrqState { pin, level })
}

impl Codec<u32> for PciIrqStateCodec {
    const INFO: &'static str = "pci irq state";
    const SIZE: usize = 4 * PCI_NUM_PINS;

    #[inline]
    fn save<W: Sink>(v: &mut u32, w: &mut Writer<W>, _: &Context) -> Result<()> {
        let mut b = [0u8; 4 * PCI_NUM_PINS];
        for (pin, c) in b.chunks_exact_mut(4).enumerate() {
            c.copy_from_slice(&((*v >> pin) & 1).to_be_bytes());
        }
        w.put_bytes(&b)
    }

    #[inline]
    fn load<S: Source>(v: &mut u32, r: &mut Reader<S>, _: &Context) -> Result<()> {
        let at = r.offset();
        let mut levels = [0u32; PCI_NUM_PINS];
        // All 16 bytes at once when they are in memory; else level by
        // level, so that a short input names the level it cut, stopping
        // at a bad level as QEMU's `get_pci_irq_state` does.
        match r.take(4 * PCI_NUM_PINS) {
            Some(b) => {
                for (level, c) in levels.iter_mut().zip(b.chunks_exact(4)) {
                    *level = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
                }
            }
            None => {
                for level in levels.iter_mut() {
                    *level = r.get_u32()?;
                    if *level > 1 {
                        break;
                    }
                }
            }
        }
        if let Some(pin) = levels.iter().position(|&l| l > 1) {
            return Err(bad_irq_level(at + 4 * pin as u64, pin, levels[pin]));
        }
        for (pin, level) in levels.into_iter().enumerate() {
            *v = (*v & !(1 << pin)) | (level << pin);
        }
        Ok(())
    }
}

/// `vmstate_pci_device` ("PCIDevice", version 2, minimum 1).
///
/// ```
/// use vmstate_core::{Context, VmState};
/// use vmstate_qemu::pci::{PciConfig, PciDevice, PciIds};
///
/// let ids = PciIds { vendor_id: 0x8086, device_id: 0x1237, revision: 2, class_id: 0x0600 };
/// let mut dev = PciDevice::new(PciConfig::new(ids));
/// dev.irq_state = 0b0001; // INTA asserted
/// let bytes = dev.to_bytes(&Context::new()).unwrap();
/// assert_eq!(bytes.len(), 4 + 256 + 16);
/// assert_eq!(&bytes[4..8], &[0x86, 0x80, 0x37, 0x12]);
/// assert_eq!(&bytes[260..], &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
/// ```
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "PCIDevice", version = 2, minimum_version = 1)]
pub struct PciDevice {
    /// The PCI device state version (2); the stream's may not exceed the
    /// destination's (`VMSTATE_INT32_POSITIVE_LE`).
    #[vmstate(positive_le)]
    pub version_id: i32,
    /// A conventional function's configuration space (sent when the
    /// function is not PCI Express).
    #[vmstate(with = PciConfigCodec, exists = Self::is_not_pcie)]
    pub config: PciConfig,
    /// A PCI Express function's configuration space (sent when it is);
    /// empty for conventional functions.
    #[vmstate(with = PcieConfigCodec, exists = Self::is_pcie, rename = "config")]
    pub express_config: PciConfig,
    /// The interrupt pins, bit *n* = pin *n* (from version 2).
    #[vmstate(with = PciIrqStateCodec, version = 2)]
    pub irq_state: u32,
}

impl PciDevice {
    /// A conventional function with configuration space `config`, no
    /// interrupt asserted.
    pub fn new(config: PciConfig) -> Self {
        PciDevice {
            version_id: 2,
            config,
            express_config: PciConfig::default(),
            irq_state: 0,
        }
    }

    /// `migrate_is_pcie`.
    #[inline]
    fn is_pcie(&self, _version: u32) -> bool {
        !self.express_config.config.is_empty()
    }

    /// `migrate_is_not_pcie`.
    #[inline]
    fn is_not_pcie(&self, version: u32) -> bool {
        !self.is_pcie(version)
    }
}
