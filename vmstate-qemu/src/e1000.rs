//! `e1000`: the Intel 82540EM gigabit Ethernet controller (QEMU 7.2
//! `hw/net/e1000.c`, `vmstate_e1000`; device `e1000`).
//!
//! Constructs shown:
//! * a [`PciDevice`] with a memory BAR and an I/O BAR (their type bits are
//!   checked by `pci config`);
//! * **`unused` with `exists`** (`VMSTATE_UNUSED_TEST(is_version_1, 4)`:
//!   the old instance id, only in version-1 streams) next to a plain
//!   `unused`; QEMU's vmdesc names them `unused[0]` and `unused[1]`;
//! * **`buffer`s** (`tx.header`, 256 bytes, and `tx.data`, 64 KiB);
//! * **one array under many names**: QEMU's 32768 MAC registers travel as
//!   37 single registers (`mac_reg[CTRL]`, ...), three sub-arrays (all
//!   named `mac_reg`, which the vmdesc makes `mac_reg[0..2]`), four more
//!   registers in `e1000/mit_state` and the whole array again in
//!   `e1000/full_mac_state`. The mirror keeps the array once
//!   ([`E1000::mac_reg`], not on the wire) and the wire fields as copies:
//!   `pre_save` fills them, `post_load` writes them back in QEMU's order
//!   (the fields, then the subsections in the order QEMU sends them);
//! * **subsection `post_load` hooks that record arrival** (QEMU's
//!   `received_tx_tso`), reset by the parent's `pre_load`, and a parent
//!   `post_load` that falls back when a subsection did not come;
//! * `needed` rules driven by the device's compatibility flags (properties
//!   that are not on the wire).
//!
//! QEMU's `post_load` also re-arms the mitigation and auto-negotiation
//! timers; the mirror has no clock.

use vmstate_core::VmState;

use crate::pci::{
    PciConfig, PciDevice, PciIds, PCI_BASE_ADDRESS_SPACE_IO, PCI_BASE_ADDRESS_SPACE_MEMORY,
    PCI_VENDOR_ID_INTEL,
};

/// `E1000_DEV_ID_82540EM`.
pub const E1000_DEV_ID_82540EM: u16 = 0x100e;
/// `PCI_CLASS_NETWORK_ETHERNET`.
pub const PCI_CLASS_NETWORK_ETHERNET: u16 = 0x0200;
/// `PNPMMIO_SIZE`: BAR 0.
pub const PNPMMIO_SIZE: u64 = 0x20000;
/// `IOPORT_SIZE`: BAR 1.
pub const IOPORT_SIZE: u64 = 0x40;
/// MAC registers (32-bit words of the 128 KiB register space).
pub const MAC_REG_LEN: usize = 0x8000;

/// `E1000_FLAG_AUTONEG`: the `autonegotiation` property.
pub const E1000_FLAG_AUTONEG: u32 = 1 << 0;
/// `E1000_FLAG_MIT`: the `mitigation` property.
pub const E1000_FLAG_MIT: u32 = 1 << 1;
/// `E1000_FLAG_MAC`: the `extra_mac_registers` property.
pub const E1000_FLAG_MAC: u32 = 1 << 2;
/// `E1000_FLAG_TSO`: the `migrate_tso_props` property.
pub const E1000_FLAG_TSO: u32 = 1 << 3;
/// `E1000_FLAG_VET`: the `init-vet` property.
pub const E1000_FLAG_VET: u32 = 1 << 4;

/// `PHY_CTRL`: PHY control register index.
pub const PHY_CTRL: usize = 0x00;
/// `PHY_STATUS`: PHY status register index.
pub const PHY_STATUS: usize = 0x01;
/// `MII_CR_AUTO_NEG_EN`.
pub const MII_CR_AUTO_NEG_EN: u16 = 0x1000;
/// `MII_SR_AUTONEG_COMPLETE`.
pub const MII_SR_AUTONEG_COMPLETE: u16 = 0x0020;
/// `E1000_STATUS_LU`: link up.
pub const E1000_STATUS_LU: u32 = 0x0000_0002;

/// MAC register indices (`defreg`: the byte offset / 4).
pub mod reg {
    /// Device control.
    pub const CTRL: usize = 0x00000 >> 2;
    /// Device status.
    pub const STATUS: usize = 0x00008 >> 2;
    /// EEPROM/flash control.
    pub const EECD: usize = 0x00010 >> 2;
    /// EEPROM read.
    pub const EERD: usize = 0x00014 >> 2;
    /// MDI control.
    pub const MDIC: usize = 0x00020 >> 2;
    /// VLAN ether type.
    pub const VET: usize = 0x00038 >> 2;
    /// Interrupt cause read.
    pub const ICR: usize = 0x000c0 >> 2;
    /// Interrupt throttling rate.
    pub const ITR: usize = 0x000c4 >> 2;
    /// Interrupt cause set.
    pub const ICS: usize = 0x000c8 >> 2;
    /// Interrupt mask set.
    pub const IMS: usize = 0x000d0 >> 2;
    /// Interrupt mask clear.
    pub const IMC: usize = 0x000d8 >> 2;
    /// Receive control.
    pub const RCTL: usize = 0x00100 >> 2;
    /// Transmit control.
    pub const TCTL: usize = 0x00400 >> 2;
    /// LED control.
    pub const LEDCTL: usize = 0x00e00 >> 2;
    /// Packet buffer allocation.
    pub const PBA: usize = 0x01000 >> 2;
    /// RX descriptor base low.
    pub const RDBAL: usize = 0x02800 >> 2;
    /// RX descriptor base high.
    pub const RDBAH: usize = 0x02804 >> 2;
    /// RX descriptor ring length.
    pub const RDLEN: usize = 0x02808 >> 2;
    /// RX descriptor head.
    pub const RDH: usize = 0x02810 >> 2;
    /// RX descriptor tail.
    pub const RDT: usize = 0x02818 >> 2;
    /// RX delay timer.
    pub const RDTR: usize = 0x02820 >> 2;
    /// RX absolute delay.
    pub const RADV: usize = 0x0282c >> 2;
    /// TX descriptor base low.
    pub const TDBAL: usize = 0x03800 >> 2;
    /// TX descriptor base high.
    pub const TDBAH: usize = 0x03804 >> 2;
    /// TX descriptor ring length.
    pub const TDLEN: usize = 0x03808 >> 2;
    /// TX descriptor head.
    pub const TDH: usize = 0x03810 >> 2;
    /// TX descriptor tail.
    pub const TDT: usize = 0x03818 >> 2;
    /// TX descriptor control.
    pub const TXDCTL: usize = 0x03828 >> 2;
    /// TX absolute delay.
    pub const TADV: usize = 0x0382c >> 2;
    /// Missed packets.
    pub const MPC: usize = 0x04010 >> 2;
    /// Good packets received.
    pub const GPRC: usize = 0x04074 >> 2;
    /// Good packets transmitted.
    pub const GPTC: usize = 0x04080 >> 2;
    /// Total octets received, low.
    pub const TORL: usize = 0x040c0 >> 2;
    /// Total octets received, high.
    pub const TORH: usize = 0x040c4 >> 2;
    /// Total octets transmitted, low.
    pub const TOTL: usize = 0x040c8 >> 2;
    /// Total octets transmitted, high.
    pub const TOTH: usize = 0x040cc >> 2;
    /// Total packets received.
    pub const TPR: usize = 0x040d0 >> 2;
    /// Total packets transmitted.
    pub const TPT: usize = 0x040d4 >> 2;
    /// Multicast table array (128 words).
    pub const MTA: usize = 0x05200 >> 2;
    /// Receive addresses (32 words).
    pub const RA: usize = 0x05400 >> 2;
    /// VLAN filter table array (128 words).
    pub const VFTA: usize = 0x05600 >> 2;
    /// Wake-up filter control.
    pub const WUFC: usize = 0x05808 >> 2;
    /// Management control.
    pub const MANC: usize = 0x05820 >> 2;
    /// Software semaphore.
    pub const SWSM: usize = 0x05b50 >> 2;
}

/// The registers sent one by one, in the description's order.
pub const NAMED_REGS: [usize; 37] = [
    reg::CTRL,
    reg::EECD,
    reg::EERD,
    reg::GPRC,
    reg::GPTC,
    reg::ICR,
    reg::ICS,
    reg::IMC,
    reg::IMS,
    reg::LEDCTL,
    reg::MANC,
    reg::MDIC,
    reg::MPC,
    reg::PBA,
    reg::RCTL,
    reg::RDBAH,
    reg::RDBAL,
    reg::RDH,
    reg::RDLEN,
    reg::RDT,
    reg::STATUS,
    reg::SWSM,
    reg::TCTL,
    reg::TDBAH,
    reg::TDBAL,
    reg::TDH,
    reg::TDLEN,
    reg::TDT,
    reg::TORH,
    reg::TORL,
    reg::TOTH,
    reg::TOTL,
    reg::TPR,
    reg::TPT,
    reg::TXDCTL,
    reg::WUFC,
    reg::VET,
];

/// The 82540EM's configuration space: revision 3, BAR 0 (128 KiB of
/// memory), BAR 1 (64 bytes of I/O).
pub fn e1000_config() -> PciConfig {
    let mut c = PciConfig::new(PciIds {
        vendor_id: PCI_VENDOR_ID_INTEL,
        device_id: E1000_DEV_ID_82540EM,
        revision: 0x03,
        class_id: PCI_CLASS_NETWORK_ETHERNET,
    });
    c.config[crate::pci::reg::INTERRUPT_PIN] = 1;
    c.register_bar(0, PCI_BASE_ADDRESS_SPACE_MEMORY, PNPMMIO_SIZE);
    c.register_bar(1, PCI_BASE_ADDRESS_SPACE_IO, IOPORT_SIZE);
    c
}

/// Transmit offload parameters of a context descriptor
/// (`e1000x_txd_props`, without `tse`, which is not migrated).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxdProps {
    /// IP checksum start.
    pub ipcss: u8,
    /// IP checksum offset.
    pub ipcso: u8,
    /// IP checksum end.
    pub ipcse: u16,
    /// TCP/UDP checksum start.
    pub tucss: u8,
    /// TCP/UDP checksum offset.
    pub tucso: u8,
    /// TCP/UDP checksum end.
    pub tucse: u16,
    /// TSO payload length.
    pub paylen: u32,
    /// TSO header length.
    pub hdr_len: u8,
    /// TSO maximum segment size.
    pub mss: u16,
    /// IPv4 (1) or IPv6 (0).
    pub ip: i8,
    /// TCP (1) or UDP (0).
    pub tcp: i8,
}

/// Section `e1000` (`vmstate_e1000`, version 2, minimum 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "e1000",
    version = 2,
    minimum_version = 1,
    pre_save = Self::pre_save,
    pre_load = Self::pre_load,
    post_load = Self::post_load
)]
pub struct E1000 {
    /// The PCI function.
    pub parent_obj: PciDevice,
    /// `VMSTATE_UNUSED_TEST(is_version_1, 4)`: the old instance id.
    #[vmstate(unused = 4, exists = Self::is_version_1)]
    pub unused: (),
    /// `VMSTATE_UNUSED(4)`: the old MMIO base.
    #[vmstate(unused = 4)]
    pub unused2: (),
    /// Receive buffer size (from RCTL).
    pub rxbuf_size: u32,
    /// Receive descriptor minimum threshold shift.
    pub rxbuf_min_shift: u32,
    /// EEPROM bits shifted in from the driver.
    #[vmstate(rename = "eecd_state.val_in")]
    pub eecd_val_in: u32,
    /// Bits shifted in.
    #[vmstate(rename = "eecd_state.bitnum_in")]
    pub eecd_bitnum_in: u16,
    /// Bits shifted out.
    #[vmstate(rename = "eecd_state.bitnum_out")]
    pub eecd_bitnum_out: u16,
    /// A read is under way.
    #[vmstate(rename = "eecd_state.reading")]
    pub eecd_reading: u16,
    /// The last EECD value written.
    #[vmstate(rename = "eecd_state.old_eecd")]
    pub eecd_old_eecd: u32,
    /// The offload parameters sent (`mig_props`, chosen by `pre_save`).
    #[vmstate(rename = "mig_props.ipcss")]
    pub mig_ipcss: u8,
    /// See [`TxdProps::ipcso`].
    #[vmstate(rename = "mig_props.ipcso")]
    pub mig_ipcso: u8,
    /// See [`TxdProps::ipcse`].
    #[vmstate(rename = "mig_props.ipcse")]
    pub mig_ipcse: u16,
    /// See [`TxdProps::tucss`].
    #[vmstate(rename = "mig_props.tucss")]
    pub mig_tucss: u8,
    /// See [`TxdProps::tucso`].
    #[vmstate(rename = "mig_props.tucso")]
    pub mig_tucso: u8,
    /// See [`TxdProps::tucse`].
    #[vmstate(rename = "mig_props.tucse")]
    pub mig_tucse: u16,
    /// See [`TxdProps::paylen`].
    #[vmstate(rename = "mig_props.paylen")]
    pub mig_paylen: u32,
    /// See [`TxdProps::hdr_len`].
    #[vmstate(rename = "mig_props.hdr_len")]
    pub mig_hdr_len: u8,
    /// See [`TxdProps::mss`].
    #[vmstate(rename = "mig_props.mss")]
    pub mig_mss: u16,
    /// Bytes of the packet being assembled.
    #[vmstate(rename = "tx.size")]
    pub tx_size: u16,
    /// TSO frames sent of the current packet.
    #[vmstate(rename = "tx.tso_frames")]
    pub tx_tso_frames: u16,
    /// Checksums to insert.
    #[vmstate(rename = "tx.sum_needed")]
    pub tx_sum_needed: u8,
    /// See [`TxdProps::ip`].
    #[vmstate(rename = "mig_props.ip")]
    pub mig_ip: i8,
    /// See [`TxdProps::tcp`].
    #[vmstate(rename = "mig_props.tcp")]
    pub mig_tcp: i8,
    /// The TSO header template.
    #[vmstate(buffer, rename = "tx.header")]
    pub tx_header: [u8; 256],
    /// The packet being assembled.
    #[vmstate(buffer, rename = "tx.data")]
    pub tx_data: [u8; 0x10000],
    /// The EEPROM.
    pub eeprom_data: [u16; 64],
    /// The PHY registers.
    pub phy_reg: [u16; 0x20],
    /// Copy of `mac_reg[CTRL]`.
    #[vmstate(rename = "mac_reg[CTRL]")]
    pub mac_ctrl: u32,
    /// Copy of `mac_reg[EECD]`.
    #[vmstate(rename = "mac_reg[EECD]")]
    pub mac_eecd: u32,
    /// Copy of `mac_reg[EERD]`.
    #[vmstate(rename = "mac_reg[EERD]")]
    pub mac_eerd: u32,
    /// Copy of `mac_reg[GPRC]`.
    #[vmstate(rename = "mac_reg[GPRC]")]
    pub mac_gprc: u32,
    /// Copy of `mac_reg[GPTC]`.
    #[vmstate(rename = "mac_reg[GPTC]")]
    pub mac_gptc: u32,
    /// Copy of `mac_reg[ICR]`.
    #[vmstate(rename = "mac_reg[ICR]")]
    pub mac_icr: u32,
    /// Copy of `mac_reg[ICS]`.
    #[vmstate(rename = "mac_reg[ICS]")]
    pub mac_ics: u32,
    /// Copy of `mac_reg[IMC]`.
    #[vmstate(rename = "mac_reg[IMC]")]
    pub mac_imc: u32,
    /// Copy of `mac_reg[IMS]`.
    #[vmstate(rename = "mac_reg[IMS]")]
    pub mac_ims: u32,
    /// Copy of `mac_reg[LEDCTL]`.
    #[vmstate(rename = "mac_reg[LEDCTL]")]
    pub mac_ledctl: u32,
    /// Copy of `mac_reg[MANC]`.
    #[vmstate(rename = "mac_reg[MANC]")]
    pub mac_manc: u32,
    /// Copy of `mac_reg[MDIC]`.
    #[vmstate(rename = "mac_reg[MDIC]")]
    pub mac_mdic: u32,
    /// Copy of `mac_reg[MPC]`.
    #[vmstate(rename = "mac_reg[MPC]")]
    pub mac_mpc: u32,
    /// Copy of `mac_reg[PBA]`.
    #[vmstate(rename = "mac_reg[PBA]")]
    pub mac_pba: u32,
    /// Copy of `mac_reg[RCTL]`.
    #[vmstate(rename = "mac_reg[RCTL]")]
    pub mac_rctl: u32,
    /// Copy of `mac_reg[RDBAH]`.
    #[vmstate(rename = "mac_reg[RDBAH]")]
    pub mac_rdbah: u32,
    /// Copy of `mac_reg[RDBAL]`.
    #[vmstate(rename = "mac_reg[RDBAL]")]
    pub mac_rdbal: u32,
    /// Copy of `mac_reg[RDH]`.
    #[vmstate(rename = "mac_reg[RDH]")]
    pub mac_rdh: u32,
    /// Copy of `mac_reg[RDLEN]`.
    #[vmstate(rename = "mac_reg[RDLEN]")]
    pub mac_rdlen: u32,
    /// Copy of `mac_reg[RDT]`.
    #[vmstate(rename = "mac_reg[RDT]")]
    pub mac_rdt: u32,
    /// Copy of `mac_reg[STATUS]`.
    #[vmstate(rename = "mac_reg[STATUS]")]
    pub mac_status: u32,
    /// Copy of `mac_reg[SWSM]`.
    #[vmstate(rename = "mac_reg[SWSM]")]
    pub mac_swsm: u32,
    /// Copy of `mac_reg[TCTL]`.
    #[vmstate(rename = "mac_reg[TCTL]")]
    pub mac_tctl: u32,
    /// Copy of `mac_reg[TDBAH]`.
    #[vmstate(rename = "mac_reg[TDBAH]")]
    pub mac_tdbah: u32,
    /// Copy of `mac_reg[TDBAL]`.
    #[vmstate(rename = "mac_reg[TDBAL]")]
    pub mac_tdbal: u32,
    /// Copy of `mac_reg[TDH]`.
    #[vmstate(rename = "mac_reg[TDH]")]
    pub mac_tdh: u32,
    /// Copy of `mac_reg[TDLEN]`.
    #[vmstate(rename = "mac_reg[TDLEN]")]
    pub mac_tdlen: u32,
    /// Copy of `mac_reg[TDT]`.
    #[vmstate(rename = "mac_reg[TDT]")]
    pub mac_tdt: u32,
    /// Copy of `mac_reg[TORH]`.
    #[vmstate(rename = "mac_reg[TORH]")]
    pub mac_torh: u32,
    /// Copy of `mac_reg[TORL]`.
    #[vmstate(rename = "mac_reg[TORL]")]
    pub mac_torl: u32,
    /// Copy of `mac_reg[TOTH]`.
    #[vmstate(rename = "mac_reg[TOTH]")]
    pub mac_toth: u32,
    /// Copy of `mac_reg[TOTL]`.
    #[vmstate(rename = "mac_reg[TOTL]")]
    pub mac_totl: u32,
    /// Copy of `mac_reg[TPR]`.
    #[vmstate(rename = "mac_reg[TPR]")]
    pub mac_tpr: u32,
    /// Copy of `mac_reg[TPT]`.
    #[vmstate(rename = "mac_reg[TPT]")]
    pub mac_tpt: u32,
    /// Copy of `mac_reg[TXDCTL]`.
    #[vmstate(rename = "mac_reg[TXDCTL]")]
    pub mac_txdctl: u32,
    /// Copy of `mac_reg[WUFC]`.
    #[vmstate(rename = "mac_reg[WUFC]")]
    pub mac_wufc: u32,
    /// Copy of `mac_reg[VET]`.
    #[vmstate(rename = "mac_reg[VET]")]
    pub mac_vet: u32,
    /// Copy of the receive addresses (`VMSTATE_UINT32_SUB_ARRAY(mac_reg,
    /// ..., RA, 32)`).
    #[vmstate(rename = "mac_reg")]
    pub mac_ra: [u32; 32],
    /// Copy of the multicast table (`MTA`, 128 words).
    #[vmstate(rename = "mac_reg")]
    pub mac_mta: [u32; 128],
    /// Copy of the VLAN filter table (`VFTA`, 128 words).
    #[vmstate(rename = "mac_reg")]
    pub mac_vfta: [u32; 128],
    /// Subsection `e1000/mit_state`.
    #[vmstate(subsection, needed = Self::mit_state_needed)]
    pub mit_state: E1000MitState,
    /// Subsection `e1000/full_mac_state`.
    #[vmstate(subsection, needed = Self::full_mac_needed)]
    pub full_mac_state: E1000FullMacState,
    /// Subsection `e1000/tx_tso_state`: the TSO context's parameters
    /// (`tx.tso_props`).
    #[vmstate(subsection, needed = Self::tso_state_needed)]
    pub tx_tso_state: E1000TxTsoState,
    /// The MAC registers: the device's state, of which the fields above
    /// are the wire copies; not on the wire itself.
    #[vmstate(skip)]
    pub mac_reg: Box<[u32; MAC_REG_LEN]>,
    /// The non-TSO context's parameters (`tx.props`); not on the wire
    /// itself.
    #[vmstate(skip)]
    pub tx_props: TxdProps,
    /// Whether the last context descriptor was a TSO one
    /// (`use_tso_for_migration`); not on the wire.
    #[vmstate(skip)]
    pub use_tso_for_migration: bool,
    /// `E1000_FLAG_*` properties (all on by default); not on the wire.
    #[vmstate(skip)]
    pub compat_flags: u32,
    /// The network backend's link is down; not on the wire (a load
    /// infers it from the registers).
    #[vmstate(skip)]
    pub link_down: bool,
}

impl Default for E1000 {
    /// An e1000 with all compatibility flags on and its registers zero
    /// (a load fills them).
    fn default() -> Self {
        E1000 {
            parent_obj: PciDevice::new(e1000_config()),
            unused: (),
            unused2: (),
            rxbuf_size: 0,
            rxbuf_min_shift: 0,
            eecd_val_in: 0,
            eecd_bitnum_in: 0,
            eecd_bitnum_out: 0,
            eecd_reading: 0,
            eecd_old_eecd: 0,
            mig_ipcss: 0,
            mig_ipcso: 0,
            mig_ipcse: 0,
            mig_tucss: 0,
            mig_tucso: 0,
            mig_tucse: 0,
            mig_paylen: 0,
            mig_hdr_len: 0,
            mig_mss: 0,
            tx_size: 0,
            tx_tso_frames: 0,
            tx_sum_needed: 0,
            mig_ip: 0,
            mig_tcp: 0,
            tx_header: [0; 256],
            tx_data: [0; 0x10000],
            eeprom_data: [0; 64],
            phy_reg: [0; 0x20],
            mac_ctrl: 0,
            mac_eecd: 0,
            mac_eerd: 0,
            mac_gprc: 0,
            mac_gptc: 0,
            mac_icr: 0,
            mac_ics: 0,
            mac_imc: 0,
            mac_ims: 0,
            mac_ledctl: 0,
            mac_manc: 0,
            mac_mdic: 0,
            mac_mpc: 0,
            mac_pba: 0,
            mac_rctl: 0,
            mac_rdbah: 0,
            mac_rdbal: 0,
            mac_rdh: 0,
            mac_rdlen: 0,
            mac_rdt: 0,
            mac_status: 0,
            mac_swsm: 0,
            mac_tctl: 0,
            mac_tdbah: 0,
            mac_tdbal: 0,
            mac_tdh: 0,
            mac_tdlen: 0,
            mac_tdt: 0,
            mac_torh: 0,
            mac_torl: 0,
            mac_toth: 0,
            mac_totl: 0,
            mac_tpr: 0,
            mac_tpt: 0,
            mac_txdctl: 0,
            mac_wufc: 0,
            mac_vet: 0,
            mac_ra: [0; 32],
            mac_mta: [0; 128],
            mac_vfta: [0; 128],
            mit_state: E1000MitState::default(),
            full_mac_state: E1000FullMacState::default(),
            tx_tso_state: E1000TxTsoState::default(),
            mac_reg: Box::new([0; MAC_REG_LEN]),
            tx_props: TxdProps::default(),
            use_tso_for_migration: false,
            compat_flags: E1000_FLAG_AUTONEG
                | E1000_FLAG_MIT
                | E1000_FLAG_MAC
                | E1000_FLAG_TSO
                | E1000_FLAG_VET,
            link_down: false,
        }
    }
}

impl E1000 {
    /// `chkflag`.
    pub fn flag(&self, flag: u32) -> bool {
        self.compat_flags & flag != 0
    }

    /// `have_autoneg`.
    pub fn have_autoneg(&self) -> bool {
        self.flag(E1000_FLAG_AUTONEG) && self.phy_reg[PHY_CTRL] & MII_CR_AUTO_NEG_EN != 0
    }

    /// `is_version_1`.
    #[inline]
    fn is_version_1(&self, version: u32) -> bool {
        version == 1
    }

    /// `e1000_mit_state_needed`.
    #[inline]
    fn mit_state_needed(&self) -> bool {
        self.flag(E1000_FLAG_MIT)
    }

    /// `e1000_full_mac_needed`.
    #[inline]
    fn full_mac_needed(&self) -> bool {
        self.flag(E1000_FLAG_MAC)
    }

    /// `e1000_tso_state_needed`.
    #[inline]
    fn tso_state_needed(&self) -> bool {
        self.flag(E1000_FLAG_TSO)
    }

    /// The single-register wire copies, in [`NAMED_REGS`] order.
    fn named_copies(&mut self) -> [&mut u32; 37] {
        [
            &mut self.mac_ctrl,
            &mut self.mac_eecd,
            &mut self.mac_eerd,
            &mut self.mac_gprc,
            &mut self.mac_gptc,
            &mut self.mac_icr,
            &mut self.mac_ics,
            &mut self.mac_imc,
            &mut self.mac_ims,
            &mut self.mac_ledctl,
            &mut self.mac_manc,
            &mut self.mac_mdic,
            &mut self.mac_mpc,
            &mut self.mac_pba,
            &mut self.mac_rctl,
            &mut self.mac_rdbah,
            &mut self.mac_rdbal,
            &mut self.mac_rdh,
            &mut self.mac_rdlen,
            &mut self.mac_rdt,
            &mut self.mac_status,
            &mut self.mac_swsm,
            &mut self.mac_tctl,
            &mut self.mac_tdbah,
            &mut self.mac_tdbal,
            &mut self.mac_tdh,
            &mut self.mac_tdlen,
            &mut self.mac_tdt,
            &mut self.mac_torh,
            &mut self.mac_torl,
            &mut self.mac_toth,
            &mut self.mac_totl,
            &mut self.mac_tpr,
            &mut self.mac_tpt,
            &mut self.mac_txdctl,
            &mut self.mac_wufc,
            &mut self.mac_vet,
        ]
    }

    fn mig_props(&self) -> TxdProps {
        TxdProps {
            ipcss: self.mig_ipcss,
            ipcso: self.mig_ipcso,
            ipcse: self.mig_ipcse,
            tucss: self.mig_tucss,
            tucso: self.mig_tucso,
            tucse: self.mig_tucse,
            paylen: self.mig_paylen,
            hdr_len: self.mig_hdr_len,
            mss: self.mig_mss,
            ip: self.mig_ip,
            tcp: self.mig_tcp,
        }
    }

    fn set_mig_props(&mut self, p: TxdProps) {
        self.mig_ipcss = p.ipcss;
        self.mig_ipcso = p.ipcso;
        self.mig_ipcse = p.ipcse;
        self.mig_tucss = p.tucss;
        self.mig_tucso = p.tucso;
        self.mig_tucse = p.tucse;
        self.mig_paylen = p.paylen;
        self.mig_hdr_len = p.hdr_len;
        self.mig_mss = p.mss;
        self.mig_ip = p.ip;
        self.mig_tcp = p.tcp;
    }

    /// `e1000_pre_save`, and the wire copies of the MAC registers.
    #[inline]
    fn pre_save(&mut self) -> Result<(), &'static str> {
        if self.link_down && self.have_autoneg() {
            self.phy_reg[PHY_STATUS] |= MII_SR_AUTONEG_COMPLETE;
        }
        let props = if self.flag(E1000_FLAG_TSO) || !self.use_tso_for_migration {
            self.tx_props
        } else {
            self.tx_tso_state.props()
        };
        self.set_mig_props(props);

        let mac = self.mac_reg.clone();
        for (copy, i) in self.named_copies().into_iter().zip(NAMED_REGS) {
            *copy = mac[i];
        }
        self.mac_ra.copy_from_slice(&mac[reg::RA..reg::RA + 32]);
        self.mac_mta.copy_from_slice(&mac[reg::MTA..reg::MTA + 128]);
        self.mac_vfta
            .copy_from_slice(&mac[reg::VFTA..reg::VFTA + 128]);
        let m = &mut self.mit_state;
        m.rdtr = mac[reg::RDTR];
        m.radv = mac[reg::RADV];
        m.tadv = mac[reg::TADV];
        m.itr = mac[reg::ITR];
        self.full_mac_state.mac_reg = mac;
        Ok(())
    }

    /// Arrival markers for the subsections.
    #[inline]
    fn pre_load(&mut self) -> Result<(), &'static str> {
        self.mit_state.received = false;
        self.full_mac_state.received = false;
        self.tx_tso_state.received = false;
        Ok(())
    }

    /// The wire copies back into the registers, in the order QEMU writes
    /// them on load (fields, `mit_state`, `full_mac_state`), then
    /// `e1000_post_load`.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), &'static str> {
        let mut mac = std::mem::replace(&mut self.mac_reg, Box::new([0; MAC_REG_LEN]));
        for (copy, i) in self.named_copies().into_iter().zip(NAMED_REGS) {
            mac[i] = *copy;
        }
        mac[reg::RA..reg::RA + 32].copy_from_slice(&self.mac_ra);
        mac[reg::MTA..reg::MTA + 128].copy_from_slice(&self.mac_mta);
        mac[reg::VFTA..reg::VFTA + 128].copy_from_slice(&self.mac_vfta);
        if self.mit_state.received {
            let m = &self.mit_state;
            mac[reg::RDTR] = m.rdtr;
            mac[reg::RADV] = m.radv;
            mac[reg::TADV] = m.tadv;
            mac[reg::ITR] = m.itr;
        }
        if self.full_mac_state.received {
            mac.copy_from_slice(&self.full_mac_state.mac_reg[..]);
        }
        if !self.flag(E1000_FLAG_MIT) {
            for r in [reg::ITR, reg::RDTR, reg::RADV, reg::TADV] {
                mac[r] = 0;
            }
            self.mit_state.mit_irq_level = false;
        }
        self.link_down = mac[reg::STATUS] & E1000_STATUS_LU == 0;
        self.mac_reg = mac;
        if self.have_autoneg() && self.phy_reg[PHY_STATUS] & MII_SR_AUTONEG_COMPLETE == 0 {
            self.link_down = false;
        }
        self.tx_props = self.mig_props();
        if !self.tx_tso_state.received {
            self.tx_tso_state.set_props(self.tx_props);
        }
        Ok(())
    }
}

/// Subsection `e1000/mit_state` (version 1): interrupt mitigation.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(
    name = "e1000/mit_state",
    version = 1,
    minimum_version = 1,
    post_load = Self::post_load
)]
pub struct E1000MitState {
    /// Copy of `mac_reg[RDTR]`.
    #[vmstate(rename = "mac_reg[RDTR]")]
    pub rdtr: u32,
    /// Copy of `mac_reg[RADV]`.
    #[vmstate(rename = "mac_reg[RADV]")]
    pub radv: u32,
    /// Copy of `mac_reg[TADV]`.
    #[vmstate(rename = "mac_reg[TADV]")]
    pub tadv: u32,
    /// Copy of `mac_reg[ITR]`.
    #[vmstate(rename = "mac_reg[ITR]")]
    pub itr: u32,
    /// The interrupt pin's level under mitigation.
    pub mit_irq_level: bool,
    /// Set when the subsection was loaded; not on the wire.
    #[vmstate(skip)]
    pub received: bool,
}

impl E1000MitState {
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), &'static str> {
        self.received = true;
        Ok(())
    }
}

/// Subsection `e1000/full_mac_state` (version 1): every MAC register.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "e1000/full_mac_state",
    version = 1,
    minimum_version = 1,
    post_load = Self::post_load
)]
pub struct E1000FullMacState {
    /// Copy of the whole register array.
    pub mac_reg: Box<[u32; MAC_REG_LEN]>,
    /// Set when the subsection was loaded; not on the wire.
    #[vmstate(skip)]
    pub received: bool,
}

impl Default for E1000FullMacState {
    fn default() -> Self {
        E1000FullMacState {
            mac_reg: Box::new([0; MAC_REG_LEN]),
            received: false,
        }
    }
}

impl E1000FullMacState {
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), &'static str> {
        self.received = true;
        Ok(())
    }
}

/// Subsection `e1000/tx_tso_state` (version 1): the TSO context.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(
    name = "e1000/tx_tso_state",
    version = 1,
    minimum_version = 1,
    post_load = Self::post_load
)]
pub struct E1000TxTsoState {
    /// See [`TxdProps::ipcss`].
    #[vmstate(rename = "tx.tso_props.ipcss")]
    pub ipcss: u8,
    /// See [`TxdProps::ipcso`].
    #[vmstate(rename = "tx.tso_props.ipcso")]
    pub ipcso: u8,
    /// See [`TxdProps::ipcse`].
    #[vmstate(rename = "tx.tso_props.ipcse")]
    pub ipcse: u16,
    /// See [`TxdProps::tucss`].
    #[vmstate(rename = "tx.tso_props.tucss")]
    pub tucss: u8,
    /// See [`TxdProps::tucso`].
    #[vmstate(rename = "tx.tso_props.tucso")]
    pub tucso: u8,
    /// See [`TxdProps::tucse`].
    #[vmstate(rename = "tx.tso_props.tucse")]
    pub tucse: u16,
    /// See [`TxdProps::paylen`].
    #[vmstate(rename = "tx.tso_props.paylen")]
    pub paylen: u32,
    /// See [`TxdProps::hdr_len`].
    #[vmstate(rename = "tx.tso_props.hdr_len")]
    pub hdr_len: u8,
    /// See [`TxdProps::mss`].
    #[vmstate(rename = "tx.tso_props.mss")]
    pub mss: u16,
    /// See [`TxdProps::ip`].
    #[vmstate(rename = "tx.tso_props.ip")]
    pub ip: i8,
    /// See [`TxdProps::tcp`].
    #[vmstate(rename = "tx.tso_props.tcp")]
    pub tcp: i8,
    /// `received_tx_tso`: set when the subsection was loaded; not on the
    /// wire.
    #[vmstate(skip)]
    pub received: bool,
}

impl E1000TxTsoState {
    /// The TSO parameters.
    pub fn props(&self) -> TxdProps {
        TxdProps {
            ipcss: self.ipcss,
            ipcso: self.ipcso,
            ipcse: self.ipcse,
            tucss: self.tucss,
            tucso: self.tucso,
            tucse: self.tucse,
            paylen: self.paylen,
            hdr_len: self.hdr_len,
            mss: self.mss,
            ip: self.ip,
            tcp: self.tcp,
        }
    }

    /// Sets the TSO parameters.
    pub fn set_props(&mut self, p: TxdProps) {
        self.ipcss = p.ipcss;
        self.ipcso = p.ipcso;
        self.ipcse = p.ipcse;
        self.tucss = p.tucss;
        self.tucso = p.tucso;
        self.tucse = p.tucse;
        self.paylen = p.paylen;
        self.hdr_len = p.hdr_len;
        self.mss = p.mss;
        self.ip = p.ip;
        self.tcp = p.tcp;
    }

    /// `e1000_tx_tso_post_load`.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), &'static str> {
        self.received = true;
        Ok(())
    }
}
