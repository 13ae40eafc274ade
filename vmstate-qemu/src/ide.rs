//! `ide`: the PIIX3 IDE controller, function 1 of the PIIX3 (QEMU 7.2
//! `hw/ide/pci.c` `vmstate_ide_pci` with `vmstate_bmdma`, and
//! `hw/ide/core.c` `vmstate_ide_bus` and `vmstate_ide_drive`; device
//! `piix3-ide`, registered by `hw/ide/piix.c`).
//!
//! Constructs shown:
//! * a [`PciDevice`] with a BAR (the bus-master DMA registers, BAR 4) and a
//!   non-default programming interface, both checked by `pci config`;
//! * struct arrays whose elements have subsections (`bmdma`, `bus`,
//!   `bus[0].ifs`), with QEMU's dotted names through `rename`;
//! * a **`buffer` with `exists`** (`identify_data`, sent only once the
//!   IDENTIFY data was built: `VMSTATE_BUFFER_TEST`);
//! * a **variable array in a subsection** sized by an unmigrated field
//!   (`io_buffer`, `count = io_buffer_total_len`) and a subsection
//!   `post_load` that **rejects** a stream (an out-of-table transfer
//!   function index);
//! * subsection names with a space and an unslashed prefix
//!   (`ide bmdma_current` under `ide bmdma`);
//! * hooks that move state between siblings: QEMU's `ide bmdma` `pre_save`
//!   and the `ide` `post_load` read and write the IDE bus of the same
//!   channel, and a drive's `needed` rule reads its bus's error status.
//!   Hooks of a nested description see only their own struct here, so the
//!   mirror runs that logic in the top-level [`PciIde`] hooks (which QEMU
//!   runs at the same points: before anything is written, after
//!   everything is read), and copies each bus's error status into its
//!   drives ([`IdeDrive::bus_error_status`]) before saving.
//!
//! QEMU's bus-master `pre_save` also records a DMA request in flight
//! (`dma_cb`) as an error status to retry; the mirror has no requests in
//! flight. The drives' `post_load` sets the backend's write cache; the
//! `pio_state` hooks translate between buffer pointers and the sent
//! offsets, which the mirror keeps as plain numbers.

use vmstate_core::VmState;

use crate::pci::{PciConfig, PciDevice, PciIds, PCI_BASE_ADDRESS_SPACE_IO, PCI_VENDOR_ID_INTEL};

/// `PCI_DEVICE_ID_INTEL_82371SB_1`: the PIIX3 IDE function.
pub const PCI_DEVICE_ID_INTEL_82371SB_1: u16 = 0x7010;
/// `PCI_CLASS_STORAGE_IDE`.
pub const PCI_CLASS_STORAGE_IDE: u16 = 0x0101;
/// `DRQ_STAT`: a drive's data request bit.
pub const DRQ_STAT: u8 = 0x08;
/// `IDE_RETRY_DMA`.
pub const IDE_RETRY_DMA: i32 = 0x08;
/// `IDE_RETRY_PIO`.
pub const IDE_RETRY_PIO: i32 = 0x10;
/// `IDE_RETRY_READ`.
pub const IDE_RETRY_READ: i32 = 0x20;
/// `IDE_RETRY_FLUSH`.
pub const IDE_RETRY_FLUSH: i32 = 0x40;
/// `BM_MIGRATION_COMPAT_STATUS_BITS`: status-register bits that old QEMU
/// versions used for the bus's error state.
pub const BM_MIGRATION_COMPAT_STATUS_BITS: u8 =
    (IDE_RETRY_DMA | IDE_RETRY_PIO | IDE_RETRY_READ | IDE_RETRY_FLUSH) as u8;
/// `IDE_DMA_BUF_SECTORS`.
pub const IDE_DMA_BUF_SECTORS: i32 = 256;
/// The size of a drive's I/O buffer (`io_buffer_total_len`).
pub const IO_BUFFER_TOTAL_LEN: i32 = IDE_DMA_BUF_SECTORS * 512 + 4;
/// Entries of QEMU's `transfer_end_table` (the valid
/// `end_transfer_fn_idx` values are below it).
pub const TRANSFER_END_TABLE_LEN: u8 = 6;

/// The PIIX3 IDE function's configuration space after realize:
/// legacy-mode programming interface 0x80, BAR 4 (16 bytes of I/O).
pub fn piix3_ide_config() -> PciConfig {
    let mut c = PciConfig::new(PciIds {
        vendor_id: PCI_VENDOR_ID_INTEL,
        device_id: PCI_DEVICE_ID_INTEL_82371SB_1,
        revision: 0,
        class_id: PCI_CLASS_STORAGE_IDE,
    });
    c.config[crate::pci::reg::CLASS_PROG] = 0x80;
    c.register_bar(4, PCI_BASE_ADDRESS_SPACE_IO, 16);
    c
}

/// Section `ide` (`vmstate_ide_pci`, version 3, minimum 0).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "ide",
    version = 3,
    minimum_version = 0,
    pre_save = Self::pre_save,
    post_load = Self::post_load
)]
pub struct PciIde {
    /// The PCI function.
    pub parent_obj: PciDevice,
    /// The two bus-master DMA engines, one per channel.
    pub bmdma: [Bmdma; 2],
    /// The two channels (`VMSTATE_IDE_BUS_ARRAY`, field version 1).
    #[vmstate(version = 1)]
    pub bus: [IdeBus; 2],
    /// The primary channel's master and slave (`VMSTATE_IDE_DRIVES`,
    /// field version 3).
    #[vmstate(rename = "bus[0].ifs", version = 3)]
    pub bus0_ifs: [IdeDrive; 2],
    /// The secondary channel's drives.
    #[vmstate(rename = "bus[1].ifs", version = 3)]
    pub bus1_ifs: [IdeDrive; 2],
}

impl Default for PciIde {
    fn default() -> Self {
        PciIde {
            parent_obj: PciDevice::new(piix3_ide_config()),
            bmdma: Default::default(),
            bus: Default::default(),
            bus0_ifs: Default::default(),
            bus1_ifs: Default::default(),
        }
    }
}

impl PciIde {
    /// `ide_bmdma_pre_save` for both engines (it reads each channel's
    /// bus), and the bus error status each drive's `needed` rule reads.
    #[inline]
    fn pre_save(&mut self) -> Result<(), &'static str> {
        let abused = BM_MIGRATION_COMPAT_STATUS_BITS;
        for (bm, bus) in self.bmdma.iter_mut().zip(&self.bus) {
            let e = &bus.error;
            bm.migration_retry_unit = e.retry_unit;
            bm.migration_retry_sector_num = e.retry_sector_num;
            bm.migration_retry_nsector = e.retry_nsector;
            bm.migration_compat_status =
                (bm.status.status & !abused) | (e.error_status as u8 & abused);
        }
        for (drives, bus) in [&mut self.bus0_ifs, &mut self.bus1_ifs]
            .into_iter()
            .zip(&self.bus)
        {
            for d in drives.iter_mut() {
                d.bus_error_status = bus.error.error_status;
            }
        }
        Ok(())
    }

    /// `ide_pci_post_load`: the retry unit's last bit, and
    /// `ide_bmdma_post_load` for both engines.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), &'static str> {
        let abused = BM_MIGRATION_COMPAT_STATUS_BITS;
        for (bm, bus) in self.bmdma.iter_mut().zip(self.bus.iter_mut()) {
            bm.migration_retry_unit &= 1;
            let e = &mut bus.error;
            if bm.status.status == 0 {
                bm.status.status = bm.migration_compat_status & !abused;
                e.error_status |= i32::from(bm.migration_compat_status & abused);
            }
            if e.error_status != 0 {
                e.retry_sector_num = bm.migration_retry_sector_num;
                e.retry_nsector = bm.migration_retry_nsector;
                e.retry_unit = bm.migration_retry_unit;
            }
        }
        Ok(())
    }
}

/// `vmstate_bmdma` ("ide bmdma", version 3, minimum 0): one bus-master
/// DMA engine.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ide bmdma", version = 3, minimum_version = 0)]
pub struct Bmdma {
    /// Command register.
    pub cmd: u8,
    /// The status register with the bus's retry bits in the bits old
    /// versions used for them (computed before saving).
    pub migration_compat_status: u8,
    /// PRD table address.
    pub addr: u32,
    /// The bus's retry sector (a copy, for the stream).
    pub migration_retry_sector_num: i64,
    /// The bus's retry sector count.
    pub migration_retry_nsector: u32,
    /// The bus's retry unit.
    pub migration_retry_unit: u8,
    /// Subsection `ide bmdma_current`.
    #[vmstate(subsection, needed = Self::current_needed)]
    pub current: BmdmaCurrent,
    /// Subsection `ide bmdma/status`: the real status register.
    #[vmstate(subsection, needed = Self::status_needed)]
    pub status: BmdmaStatus,
}

impl Bmdma {
    /// `ide_bmdma_current_needed`: a PRD is being processed.
    #[inline]
    fn current_needed(&self) -> bool {
        self.current.cur_prd_len != 0
    }

    /// `ide_bmdma_status_needed`: the status has bits that the
    /// compatibility byte cannot carry.
    #[inline]
    fn status_needed(&self) -> bool {
        self.status.status & BM_MIGRATION_COMPAT_STATUS_BITS != 0
    }
}

/// Subsection `ide bmdma_current` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ide bmdma_current", version = 1, minimum_version = 1)]
pub struct BmdmaCurrent {
    /// Guest address of the transfer.
    pub cur_addr: u32,
    /// The current PRD is the last.
    pub cur_prd_last: u32,
    /// Guest address of the current PRD's buffer.
    pub cur_prd_addr: u32,
    /// Bytes left in the current PRD.
    pub cur_prd_len: u32,
}

/// Subsection `ide bmdma/status` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ide bmdma/status", version = 1, minimum_version = 1)]
pub struct BmdmaStatus {
    /// The status register.
    pub status: u8,
}

/// `vmstate_ide_bus` ("ide_bus", version 1, minimum 1): one channel.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ide_bus", version = 1, minimum_version = 1)]
pub struct IdeBus {
    /// The last command written to the channel.
    pub cmd: u8,
    /// The selected drive.
    pub unit: u8,
    /// Subsection `ide_bus/error`.
    #[vmstate(subsection, needed = Self::error_needed)]
    pub error: IdeBusError,
}

impl IdeBus {
    /// `ide_error_needed`.
    #[inline]
    fn error_needed(&self) -> bool {
        self.error.error_status != 0
    }
}

/// Subsection `ide_bus/error` (version 2, minimum 1): a request to retry.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ide_bus/error", version = 2, minimum_version = 1)]
pub struct IdeBusError {
    /// `IDE_RETRY_*` bits of the failed request.
    pub error_status: i32,
    /// Its first sector (from version 2).
    #[vmstate(version = 2)]
    pub retry_sector_num: i64,
    /// Its sector count.
    #[vmstate(version = 2)]
    pub retry_nsector: u32,
    /// Its drive.
    #[vmstate(version = 2)]
    pub retry_unit: u8,
}

/// `vmstate_ide_drive` ("ide_drive", version 3, minimum 0): one drive
/// slot's registers.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ide_drive", version = 3, minimum_version = 0)]
pub struct IdeDrive {
    /// Sectors per READ/WRITE MULTIPLE block.
    pub mult_sectors: i32,
    /// Whether `identify_data` has been built.
    pub identify_set: i32,
    /// The IDENTIFY DEVICE data (`VMSTATE_BUFFER_TEST`: only when
    /// `identify_set`).
    #[vmstate(buffer, exists = Self::is_identify_set)]
    pub identify_data: [u8; 512],
    /// Features register.
    pub feature: u8,
    /// Error register.
    pub error: u8,
    /// Sector count.
    pub nsector: u32,
    /// Sector number.
    pub sector: u8,
    /// Cylinder low.
    pub lcyl: u8,
    /// Cylinder high.
    pub hcyl: u8,
    /// LBA48 high-order features.
    pub hob_feature: u8,
    /// LBA48 high-order sector.
    pub hob_sector: u8,
    /// LBA48 high-order count.
    pub hob_nsector: u8,
    /// LBA48 high-order cylinder low.
    pub hob_lcyl: u8,
    /// LBA48 high-order cylinder high.
    pub hob_hcyl: u8,
    /// Drive/head select register.
    pub select: u8,
    /// Status register.
    pub status: u8,
    /// The current command is LBA48.
    pub lba48: u8,
    /// ATAPI sense key.
    pub sense_key: u8,
    /// ATAPI additional sense code.
    pub asc: u8,
    /// ATAPI medium changed (from version 3).
    #[vmstate(version = 3)]
    pub cdrom_changed: u8,
    /// Subsection `ide_drive/pio_state`.
    #[vmstate(subsection, needed = Self::pio_state_needed)]
    pub pio_state: IdeDrivePioState,
    /// Subsection `ide_drive/tray_state`.
    #[vmstate(subsection, needed = Self::tray_state_needed)]
    pub tray_state: IdeDriveTrayState,
    /// Subsection `ide_drive/atapi/gesn_state`.
    #[vmstate(subsection, needed = Self::gesn_needed)]
    pub gesn_state: IdeDriveGesnState,
    /// The channel's error status, which QEMU's `needed` rule for
    /// `pio_state` reads through the drive's bus pointer; the section's
    /// `pre_save` copies it here. Not on the wire.
    #[vmstate(skip)]
    pub bus_error_status: i32,
}

impl Default for IdeDrive {
    /// An empty drive slot after reset: status ready and seek complete,
    /// the "no device" signature.
    fn default() -> Self {
        IdeDrive {
            mult_sectors: 16,
            identify_set: 0,
            identify_data: [0; 512],
            feature: 0,
            error: 1,
            nsector: 1,
            sector: 1,
            lcyl: 0xff,
            hcyl: 0xff,
            hob_feature: 0,
            hob_sector: 0,
            hob_nsector: 0,
            hob_lcyl: 0,
            hob_hcyl: 0,
            select: 0xa0,
            status: 0x50,
            lba48: 0,
            sense_key: 0,
            asc: 0,
            cdrom_changed: 0,
            pio_state: IdeDrivePioState::default(),
            tray_state: IdeDriveTrayState::default(),
            gesn_state: IdeDriveGesnState::default(),
            bus_error_status: 0,
        }
    }
}

impl IdeDrive {
    /// `is_identify_set`.
    #[inline]
    fn is_identify_set(&self, _version: u32) -> bool {
        self.identify_set != 0
    }

    /// `ide_drive_pio_state_needed`: a PIO transfer is under way or to be
    /// retried.
    #[inline]
    fn pio_state_needed(&self) -> bool {
        self.status & DRQ_STAT != 0 || self.bus_error_status & IDE_RETRY_PIO != 0
    }

    /// `ide_tray_state_needed`.
    #[inline]
    fn tray_state_needed(&self) -> bool {
        self.tray_state.tray_open || self.tray_state.tray_locked
    }

    /// `ide_atapi_gesn_needed`.
    #[inline]
    fn gesn_needed(&self) -> bool {
        self.gesn_state.new_media || self.gesn_state.eject_request
    }
}

/// An `end_transfer_fn_idx` outside QEMU's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadTransferFn(pub u8);

impl std::fmt::Display for BadTransferFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "end_transfer_fn_idx {} is not below {TRANSFER_END_TABLE_LEN}",
            self.0
        )
    }
}

impl std::error::Error for BadTransferFn {}

/// Subsection `ide_drive/pio_state` (version 1): a PIO transfer in
/// progress, with the drive's whole I/O buffer.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "ide_drive/pio_state",
    version = 1,
    minimum_version = 1,
    post_load = Self::post_load
)]
pub struct IdeDrivePioState {
    /// Sectors per interrupt of the current request.
    pub req_nb_sectors: i32,
    /// The I/O buffer's size: configuration, not on the wire.
    #[vmstate(skip)]
    pub io_buffer_total_len: i32,
    /// The I/O buffer (`VMSTATE_VARRAY_INT32` by `io_buffer_total_len`,
    /// field version 1).
    #[vmstate(count = io_buffer_total_len, version = 1)]
    pub io_buffer: Vec<u8>,
    /// Where the transfer is in the buffer.
    pub cur_io_buffer_offset: i32,
    /// Bytes left in this part of the transfer.
    pub cur_io_buffer_len: i32,
    /// Which function ends the transfer (an index into QEMU's table).
    pub end_transfer_fn_idx: u8,
    /// ATAPI: bytes of the current elementary transfer.
    pub elementary_transfer_size: i32,
    /// ATAPI: bytes of the whole packet transfer.
    pub packet_transfer_size: i32,
}

impl Default for IdeDrivePioState {
    fn default() -> Self {
        IdeDrivePioState {
            req_nb_sectors: 0,
            io_buffer_total_len: IO_BUFFER_TOTAL_LEN,
            io_buffer: vec![0; IO_BUFFER_TOTAL_LEN as usize],
            cur_io_buffer_offset: 0,
            cur_io_buffer_len: 0,
            end_transfer_fn_idx: 0,
            elementary_transfer_size: 0,
            packet_transfer_size: 0,
        }
    }
}

impl IdeDrivePioState {
    /// `ide_drive_pio_post_load`'s check: the index must name one of the
    /// six transfer-end functions.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), BadTransferFn> {
        if self.end_transfer_fn_idx >= TRANSFER_END_TABLE_LEN {
            return Err(BadTransferFn(self.end_transfer_fn_idx));
        }
        Ok(())
    }
}

/// Subsection `ide_drive/tray_state` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ide_drive/tray_state", version = 1, minimum_version = 1)]
pub struct IdeDriveTrayState {
    /// The CD tray is open.
    pub tray_open: bool,
    /// The tray is locked.
    pub tray_locked: bool,
}

/// Subsection `ide_drive/atapi/gesn_state` (version 1): events for GET
/// EVENT STATUS NOTIFICATION.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ide_drive/atapi/gesn_state", version = 1, minimum_version = 1)]
pub struct IdeDriveGesnState {
    /// A new medium was inserted.
    #[vmstate(rename = "events.new_media")]
    pub new_media: bool,
    /// The guest was asked to eject.
    #[vmstate(rename = "events.eject_request")]
    pub eject_request: bool,
}
