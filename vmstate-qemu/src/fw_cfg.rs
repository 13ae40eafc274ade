//! `fw_cfg`: the firmware configuration device (QEMU 7.2
//! `hw/nvram/fw_cfg.c`, `vmstate_fw_cfg`; on pc it is `fw_cfg_io`).
//!
//! Constructs shown:
//! * two fields with the **same description name** `cur_offset`: a
//!   version-1 form read by an `exists` test and a version-2 form gated by
//!   `version = 2`. QEMU's vmdesc writer makes repeated names unique, so
//!   the sent field appears there as `cur_offset[1]`; the description keeps
//!   QEMU's plain name (`rename = "cur_offset"` on both);
//! * a `post_load` that moves the old form into the new field;
//! * two subsections with `needed`, one of version 0 (`fw_cfg/dma`, which
//!   has no `version_id` in QEMU).

use std::convert::Infallible;

use vmstate_core::VmState;

/// Section `fw_cfg` (version 2, minimum 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "fw_cfg",
    version = 2,
    minimum_version = 1,
    post_load = Self::post_load
)]
pub struct FwCfg {
    /// The selected entry.
    pub cur_entry: u16,
    /// Version 1 streams carried the offset as a be16 (QEMU's
    /// `VMSTATE_UINT16_HACK` with type `int32_as_uint16`). Only read, only
    /// from version-1 streams; QEMU never writes it, and neither does the
    /// mirror (the test is false at the save version 2).
    #[vmstate(rename = "cur_offset", exists = Self::is_version_1, qemu_size = 4)]
    pub cur_offset_v1: u16,
    /// Read offset within the selected entry.
    #[vmstate(rename = "cur_offset", version = 2)]
    pub cur_offset: u32,
    /// Subsection `fw_cfg/dma`: sent when the DMA interface is enabled.
    #[vmstate(subsection, needed = Self::dma_needed)]
    pub dma: FwCfgDma,
    /// Subsection `fw_cfg/acpi_mr`: sent when the ACPI blobs' sizes must
    /// travel (see [`FwCfg::acpi_mr_needed`]).
    #[vmstate(subsection, needed = Self::acpi_mr_needed)]
    pub acpi_mr: FwCfgAcpiMr,
    /// The `dma_enabled` property (true on `pc-i440fx-7.2`); not on the
    /// wire.
    #[vmstate(skip)]
    pub dma_enabled: bool,
    /// The `acpi-mr-restore` property (true on `pc-i440fx-7.2`); not on
    /// the wire.
    #[vmstate(skip)]
    pub acpi_mr_restore: bool,
    /// The host page size that QEMU aligns the ACPI regions to (4096 on
    /// x86 hosts); not on the wire.
    #[vmstate(skip)]
    pub host_page_size: u64,
}

impl Default for FwCfg {
    /// A `pc-i440fx-7.2` fw_cfg on a 4 KiB-page host.
    fn default() -> Self {
        FwCfg {
            cur_entry: 0,
            cur_offset_v1: 0,
            cur_offset: 0,
            dma: FwCfgDma::default(),
            acpi_mr: FwCfgAcpiMr::default(),
            dma_enabled: true,
            acpi_mr_restore: true,
            host_page_size: 4096,
        }
    }
}

impl FwCfg {
    /// QEMU's `is_version_1` field test.
    #[inline]
    fn is_version_1(&self, version: u32) -> bool {
        version == 1
    }

    /// `fw_cfg_dma_enabled`.
    #[inline]
    fn dma_needed(&self) -> bool {
        self.dma_enabled
    }

    /// `fw_cfg_acpi_mr_restore`: the property is on and at least one of
    /// the three sizes is not a multiple of the host page size (aligned
    /// sizes are what the destination computes by itself).
    #[inline]
    pub fn acpi_mr_needed(&self) -> bool {
        let page = self.host_page_size.max(1);
        let m = &self.acpi_mr;
        let aligned = [m.table_mr_size, m.linker_mr_size, m.rsdp_mr_size]
            .iter()
            .all(|s| s % page == 0);
        self.acpi_mr_restore && !aligned
    }

    /// A version-1 stream filled the 16-bit form; widen it.
    #[inline]
    fn post_load(&mut self, version: u32) -> Result<(), Infallible> {
        if version == 1 {
            self.cur_offset = u32::from(self.cur_offset_v1);
        }
        Ok(())
    }
}

/// Subsection `fw_cfg/dma` (version 0).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fw_cfg/dma", version = 0)]
pub struct FwCfgDma {
    /// Guest address of the DMA control structure.
    pub dma_addr: u64,
}

/// Subsection `fw_cfg/acpi_mr` (version 1): sizes of the ACPI blobs, so
/// that the destination resizes its regions to the source's (QEMU does so
/// in the subsection's `post_load`).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fw_cfg/acpi_mr", version = 1, minimum_version = 1)]
pub struct FwCfgAcpiMr {
    /// Size of `etc/acpi/tables`.
    pub table_mr_size: u64,
    /// Size of `etc/table-loader`.
    pub linker_mr_size: u64,
    /// Size of `etc/acpi/rsdp`.
    pub rsdp_mr_size: u64,
}
