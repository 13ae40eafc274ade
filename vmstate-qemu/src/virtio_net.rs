//! `virtio-net`: a virtio-net-pci network card (QEMU 7.2 and 10.0
//! `hw/net/virtio-net.c`, `vmstate_virtio_net` and
//! `vmstate_virtio_net_device`, over [`virtio`](crate::virtio)'s core and
//! PCI transport; device `virtio-net-pci`).
//!
//! The section's description has one field, `virtio`, a hand-written
//! `VMStateInfo` (`virtio_save`); QEMU's vmdesc shows it as one opaque
//! field and the mirror records it the same way. Inside, the mirror
//! follows QEMU part by part ([`VirtioNetCodec`]): the `PCIDevice`, the
//! MSI-X state and core header ([`VirtioHeader`]), the device's
//! description ([`VirtioNetDevice`]: `tmp` temporaries, a guarded
//! `vbuffer` with a `multiply`, an `unused` run sized by a field, an
//! `equal` field behind a test, a variable array, two subsections), then
//! the core's subsections ([`VirtioCore`]).
//!
//! Limits, each refused with an error rather than misread: more than one
//! queue pair in use (the extra `tx_waiting` flags are counted from the
//! parent, which QEMU's temporary reads and the mirror's cannot); a peer
//! without a vnet header or UFO receiving a stream that needs them (as
//! QEMU refuses).

use vmstate_core::codec::{Codec, VmTmp};
use vmstate_core::error::BoxError;
use vmstate_core::stream::{Sink, Source};
use vmstate_core::{Context, Reader, Result, VmState, Writer};

use crate::pci::{
    reg, PciConfig, PciDevice, PciIds, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_BASE_ADDRESS_SPACE_IO,
    PCI_BASE_ADDRESS_SPACE_MEMORY,
};
use crate::virtio::{load_part, save_part, VirtioCore, VirtioHeader};

/// `PCI_VENDOR_ID_REDHAT_QUMRANET`: virtio's PCI vendor.
pub const PCI_VENDOR_ID_REDHAT_QUMRANET: u16 = 0x1af4;
/// `PCI_DEVICE_ID_VIRTIO_NET`: the transitional virtio-net function.
pub const PCI_DEVICE_ID_VIRTIO_NET: u16 = 0x1000;
/// `PCI_CLASS_NETWORK_ETHERNET`.
pub const PCI_CLASS_NETWORK_ETHERNET: u16 = 0x0200;
/// `VIRTIO_ID_NET`: the subsystem ID of a transitional virtio-net.
pub const VIRTIO_ID_NET: u16 = 1;
/// `PCI_CAP_ID_VNDR`: a vendor capability (virtio's structures).
pub const PCI_CAP_ID_VNDR: u8 = 0x09;
/// `PCI_CAP_ID_MSIX`.
pub const PCI_CAP_ID_MSIX: u8 = 0x11;
/// `PCI_BASE_ADDRESS_MEM_PREFETCH`.
pub const PCI_BASE_ADDRESS_MEM_PREFETCH: u8 = 0x08;
/// `VIRTIO_NET_VM_VERSION`.
pub const VIRTIO_NET_VM_VERSION: u32 = 11;
/// `ETH_ALEN`.
pub const ETH_ALEN: usize = 6;
/// `MAC_TABLE_ENTRIES`: the receive filter's MAC addresses.
pub const MAC_TABLE_ENTRIES: usize = 64;
/// `MAX_VLAN`: VLAN IDs, one filter bit each.
pub const MAX_VLAN: usize = 1 << 12;
/// `VIRTIO_NET_RSS_MAX_KEY_SIZE`.
pub const VIRTIO_NET_RSS_MAX_KEY_SIZE: usize = 40;
/// `VIRTIO_NET_F_CTRL_GUEST_OFFLOADS` (a feature bit number).
pub const VIRTIO_NET_F_CTRL_GUEST_OFFLOADS: u32 = 2;
/// `VIRTIO_NET_S_LINK_UP`.
pub const VIRTIO_NET_S_LINK_UP: u16 = 1;
/// Of the features the device offers (`host_features`), the bits the
/// core's `needed` rules read: `VIRTIO_F_VERSION_1` (a transitional device
/// offers virtio 1.0), not `VIRTIO_F_RING_PACKED` (`packed=off`). The
/// mirror does not negotiate features, so no other bit matters to it.
pub const VIRTIO_NET_HOST_FEATURES: u64 = 1 << crate::virtio::VIRTIO_F_VERSION_1;
/// The ring size of each of the three queues (rx, tx, control).
pub const VIRTIO_NET_QUEUE_SIZES: [u32; 3] = [256, 256, 64];

/// Adds a virtio PCI vendor capability (`struct virtio_pci_cap`): its
/// type, BAR, offset and length in the BAR, and `extra` bytes after it.
fn virtio_cap(
    c: &mut PciConfig,
    at: usize,
    cfg_type: u8,
    bar: u8,
    off: u32,
    len: u32,
    extra: &[u8],
) {
    let cap_len = 16 + extra.len();
    c.add_capability(PCI_CAP_ID_VNDR, at, cap_len);
    c.config[at + 2] = cap_len as u8;
    c.config[at + 3] = cfg_type;
    c.config[at + 4] = bar;
    c.config[at + 8..at + 12].copy_from_slice(&off.to_le_bytes());
    c.config[at + 12..at + 16].copy_from_slice(&len.to_le_bytes());
    c.config[at + 16..at + cap_len].copy_from_slice(extra);
}

/// The function's configuration space after realize (transitional
/// virtio-pci with MSI-X, four vectors): legacy I/O BAR 0 (32 bytes),
/// MSI-X BAR 1 (4 KiB: table at 0, pending bits at 0x800), modern 64-bit
/// prefetchable BAR 4 (16 KiB); the virtio capabilities common (0x40),
/// ISR (0x50), device (0x60), notify (0x70, multiplier 4) and PCI-config
/// access (0x84, whose window fields the guest writes), then MSI-X (0x98).
pub fn virtio_net_pci_config() -> PciConfig {
    let mut c = PciConfig::new(PciIds {
        vendor_id: PCI_VENDOR_ID_REDHAT_QUMRANET,
        device_id: PCI_DEVICE_ID_VIRTIO_NET,
        revision: 0,
        class_id: PCI_CLASS_NETWORK_ETHERNET,
    });
    c.config[reg::SUBSYSTEM_ID..reg::SUBSYSTEM_ID + 2]
        .copy_from_slice(&VIRTIO_ID_NET.to_le_bytes());
    c.config[reg::INTERRUPT_PIN] = 0x01;
    c.register_bar(0, PCI_BASE_ADDRESS_SPACE_IO, 32);
    c.register_bar(1, PCI_BASE_ADDRESS_SPACE_MEMORY, 0x1000);
    c.register_bar(
        4,
        PCI_BASE_ADDRESS_SPACE_MEMORY
            | PCI_BASE_ADDRESS_MEM_TYPE_64
            | PCI_BASE_ADDRESS_MEM_PREFETCH,
        0x4000,
    );
    virtio_cap(&mut c, 0x40, 1, 4, 0x0000, 0x1000, &[]);
    virtio_cap(&mut c, 0x50, 3, 4, 0x1000, 0x1000, &[]);
    virtio_cap(&mut c, 0x60, 4, 4, 0x2000, 0x1000, &[]);
    virtio_cap(&mut c, 0x70, 2, 4, 0x3000, 0x1000, &4u32.to_le_bytes());
    virtio_cap(&mut c, 0x84, 5, 0, 0, 0, &[0; 4]);
    // The PCI-config access window: BAR, offset, length and data.
    c.wmask[0x84 + 4] = 0xff;
    c.wmask[0x84 + 8..0x84 + 20].fill(0xff);
    // MSI-X: 4 entries in BAR 1; the guest writes enable and mask-all.
    c.add_capability(PCI_CAP_ID_MSIX, 0x98, 12);
    c.config[0x98 + 2] = 3;
    c.config[0x98 + 4] = 1;
    c.config[0x98 + 8..0x98 + 12].copy_from_slice(&0x801u32.to_le_bytes());
    c.wmask[0x98 + 3] |= 0xc0;
    c
}

/// Section `virtio-net` (`vmstate_virtio_net`, version 11, minimum 11).
///
/// ```
/// use vmstate_core::{Context, VmState};
/// use vmstate_qemu::virtio_net::VirtioNetPci;
///
/// let mut dev = VirtioNetPci::default();
/// let bytes = dev.to_bytes(&Context::new()).unwrap();
/// // PCIDevice, MSI-X (4 entries, 1 byte of pending bits, the config
/// // vector), then the header: status, ISR, queue_sel, features,
/// // config_len 8 and the config, 3 queues.
/// assert_eq!(bytes[276 + 64..276 + 64 + 3], [0, 0xff, 0xff]);
/// let mut back = VirtioNetPci::default();
/// assert_eq!(back.load_from_slice(&bytes, &Context::new()).unwrap(), bytes.len());
/// assert_eq!(back, dev);
/// ```
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio-net", version = 11, minimum_version = 11)]
pub struct VirtioNetPci {
    /// Everything `virtio_save` writes (`VMSTATE_VIRTIO_DEVICE`).
    #[vmstate(with = VirtioNetCodec)]
    pub virtio: VirtioNetState,
}

/// The parts of a virtio-net-pci section.
#[derive(Clone, Debug, PartialEq)]
pub struct VirtioNetState {
    /// The PCI function (`pci_device_save`).
    pub pci: PciDevice,
    /// MSI-X state and the core's header.
    pub header: VirtioHeader,
    /// The device's description.
    pub device: VirtioNetDevice,
    /// The core's subsections.
    pub core: VirtioCore,
}

impl Default for VirtioNetState {
    /// A virtio-net-pci after reset on the fixtures' machine: four MSI-X
    /// vectors, an 8-byte configuration (MAC and status), three queues.
    fn default() -> Self {
        let mut header = VirtioHeader::new(4, 8);
        header.queues = VIRTIO_NET_QUEUE_SIZES
            .iter()
            .map(|&num| crate::virtio::QueueHeader {
                num,
                vector: crate::virtio::VIRTIO_NO_VECTOR,
                ..Default::default()
            })
            .collect();
        VirtioNetState {
            pci: PciDevice::new(virtio_net_pci_config()),
            header,
            device: VirtioNetDevice::default(),
            core: VirtioCore::new(VIRTIO_NET_HOST_FEATURES, &VIRTIO_NET_QUEUE_SIZES),
        }
    }
}

/// The `virtio` info of a virtio-net-pci: the four parts in QEMU's order.
pub struct VirtioNetCodec;

impl Codec<VirtioNetState> for VirtioNetCodec {
    const INFO: &'static str = "virtio";
    const SIZE: usize = 0;

    fn save<W: Sink>(v: &mut VirtioNetState, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        save_part(&mut v.pci, w, ctx)?;
        v.header.save(w)?;
        v.device.guest_features_lo = v.header.guest_features_lo;
        save_part(&mut v.device, w, ctx)?;
        v.core.vring_num = v.header.queues.iter().map(|q| q.num).collect();
        save_part(&mut v.core, w, ctx)
    }

    fn load<S: Source>(v: &mut VirtioNetState, r: &mut Reader<S>, ctx: &Context) -> Result<()> {
        load_part(&mut v.pci, r, PciDevice::VMSD.version_id, ctx)?;
        v.header.load(r)?;
        // The device's tests read the low feature bits (QEMU sets them
        // before loading the device's description).
        v.device.guest_features_lo = v.header.guest_features_lo;
        load_part(&mut v.device, r, VIRTIO_NET_VM_VERSION, ctx)?;
        v.core.vring_num = v.header.queues.iter().map(|q| q.num).collect();
        load_part(&mut v.core, r, 1, ctx)
    }
}

/// `vmstate_virtio_net_queue_tx_waiting` ("virtio-net-queue-tx_waiting",
/// version 0).
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "virtio-net-queue-tx_waiting")]
pub struct TxWaiting {
    /// A transmit is pending on the queue pair.
    pub tx_waiting: u32,
}

/// `vmstate_virtio_net_device` ("virtio-net-device", version 11,
/// minimum 11).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "virtio-net-device",
    version = 11,
    minimum_version = 11,
    pre_save = Self::pre_save,
    post_load = Self::post_load
)]
pub struct VirtioNetDevice {
    /// The MAC address.
    pub mac: [u8; ETH_ALEN],
    /// Queue pair 0's `tx_waiting` (`VMSTATE_STRUCT_POINTER` to the first
    /// queue pair).
    pub vqs: TxWaiting,
    /// Mergeable receive buffers negotiated.
    pub mergeable_rx_bufs: u32,
    /// Link status (`VIRTIO_NET_S_*`).
    pub status: u16,
    /// Receive filter: promiscuous.
    pub promisc: u8,
    /// Receive filter: all multicast.
    pub allmulti: u8,
    /// MAC filter entries in use.
    #[vmstate(rename = "mac_table.in_use")]
    pub mac_table_in_use: u32,
    /// The MAC filter, when it fits (`VMSTATE_VBUFFER_MULTIPLY`).
    #[vmstate(
        rename = "mac_table.macs",
        vbuffer = mac_table_in_use,
        multiply = 6,
        exists = Self::mac_table_fits
    )]
    pub mac_table_macs: [u8; MAC_TABLE_ENTRIES * ETH_ALEN],
    /// A filter larger than this destination's, skipped
    /// (`VMSTATE_UNUSED_VARRAY_UINT32`).
    #[vmstate(
        unused = 6,
        count = mac_table_in_use,
        exists = Self::mac_table_doesnt_fit
    )]
    pub unused: (),
    /// The VLAN filter, one bit per VLAN ID (`VMSTATE_BUFFER_POINTER_UNSAFE`).
    #[vmstate(buffer)]
    pub vlans: [u8; MAX_VLAN >> 3],
    /// `VMSTATE_WITH_TMP`: whether the source's peer had a vnet header.
    #[vmstate(tmp = VirtioNetVnet, rename = "tmp")]
    pub tmp_vnet: (),
    /// The MAC filter overflowed with multicast addresses.
    #[vmstate(rename = "mac_table.multi_overflow")]
    pub multi_overflow: u8,
    /// ... with unicast addresses.
    #[vmstate(rename = "mac_table.uni_overflow")]
    pub uni_overflow: u8,
    /// Receive filter: all unicast.
    pub alluni: u8,
    /// Receive filter: no multicast.
    pub nomulti: u8,
    /// Receive filter: no unicast.
    pub nouni: u8,
    /// Receive filter: no broadcast.
    pub nobcast: u8,
    /// `VMSTATE_WITH_TMP`: whether the source's peer had UFO.
    #[vmstate(tmp = VirtioNetUfo, rename = "tmp")]
    pub tmp_ufo: (),
    /// Queue pairs of the device, which must be the destination's
    /// (`uint16 equal`, multiqueue only).
    #[vmstate(equal, exists = Self::max_queue_pairs_gt_1)]
    pub max_queue_pairs: u16,
    /// Queue pairs in use (multiqueue only).
    #[vmstate(exists = Self::max_queue_pairs_gt_1)]
    pub curr_queue_pairs: u16,
    /// The mirror's limit: the `tx_waiting` flags of queue pairs 1 and up
    /// are not mirrored.
    #[vmstate(validate = Self::one_queue_pair, rename = "one queue pair in use")]
    pub one_queue_pair_in_use: (),
    /// `VMSTATE_WITH_TMP`: `tx_waiting` of queue pairs 1 and up.
    #[vmstate(tmp = VirtioNetTxWaiting, rename = "tmp")]
    pub tmp_tx_waiting: (),
    /// Guest offloads in effect (with `VIRTIO_NET_F_CTRL_GUEST_OFFLOADS`).
    #[vmstate(exists = Self::has_ctrl_guest_offloads)]
    pub curr_guest_offloads: u64,
    /// Subsection `virtio-net-device/rss`.
    #[vmstate(subsection, needed = Self::rss_needed)]
    pub rss: VirtioNetRss,
    /// Subsection `virtio-net-device/backend`.
    #[vmstate(subsection, needed = Self::backend_needed)]
    pub backend: VirtioNetBackend,
    /// The low feature bits from the core's header; set by the codec.
    #[vmstate(skip)]
    pub guest_features_lo: u32,
    /// The peer's vnet header (`peer_has_vnet_hdr`; slirp: none), and the
    /// device's `has_vnet_hdr`; configuration.
    #[vmstate(skip)]
    pub has_vnet_hdr: bool,
    /// The peer supports UFO (slirp: no); the device's `has_ufo`.
    #[vmstate(skip)]
    pub has_ufo: bool,
    /// The back end is vhost-user with internal state migration;
    /// configuration.
    #[vmstate(skip)]
    pub vhost_user_state: bool,
}

impl Default for VirtioNetDevice {
    /// The device after reset with a slirp peer: link up, promiscuous,
    /// every VLAN passing, one queue pair.
    fn default() -> Self {
        VirtioNetDevice {
            mac: [0x52, 0x54, 0, 0x12, 0x34, 0x57],
            vqs: TxWaiting::default(),
            mergeable_rx_bufs: 0,
            status: VIRTIO_NET_S_LINK_UP,
            promisc: 1,
            allmulti: 0,
            mac_table_in_use: 0,
            mac_table_macs: [0; MAC_TABLE_ENTRIES * ETH_ALEN],
            unused: (),
            vlans: [0xff; MAX_VLAN >> 3],
            tmp_vnet: (),
            multi_overflow: 0,
            uni_overflow: 0,
            alluni: 0,
            nomulti: 0,
            nouni: 0,
            nobcast: 0,
            tmp_ufo: (),
            max_queue_pairs: 1,
            curr_queue_pairs: 1,
            one_queue_pair_in_use: (),
            tmp_tx_waiting: (),
            curr_guest_offloads: 0,
            rss: VirtioNetRss::default(),
            backend: VirtioNetBackend::default(),
            guest_features_lo: 0,
            has_vnet_hdr: false,
            has_ufo: false,
            vhost_user_state: false,
        }
    }
}

impl VirtioNetDevice {
    /// `mac_table_fits`.
    #[inline]
    fn mac_table_fits(&self, _version: u32) -> bool {
        self.mac_table_in_use as usize <= MAC_TABLE_ENTRIES
    }
    /// `mac_table_doesnt_fit`.
    #[inline]
    fn mac_table_doesnt_fit(&self, version: u32) -> bool {
        !self.mac_table_fits(version)
    }
    /// `max_queue_pairs_gt_1` (the destination's).
    #[inline]
    fn max_queue_pairs_gt_1(&self, _version: u32) -> bool {
        self.max_queue_pairs > 1
    }
    /// At most one queue pair in use.
    #[inline]
    fn one_queue_pair(&self, _version: u32) -> bool {
        self.curr_queue_pairs <= 1
    }
    /// `has_ctrl_guest_offloads`: the guest negotiated the feature.
    #[inline]
    fn has_ctrl_guest_offloads(&self, _version: u32) -> bool {
        self.guest_features_lo & (1 << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) != 0
    }
    /// `virtio_net_rss_needed`.
    #[inline]
    fn rss_needed(&self) -> bool {
        self.rss.enabled
    }
    /// `vhost_user_net_is_internal_migration`.
    #[inline]
    fn backend_needed(&self) -> bool {
        self.vhost_user_state
    }
    #[inline]
    fn pre_save(&mut self) -> std::result::Result<(), &'static str> {
        Ok(())
    }
    /// `virtio_net_post_load_device`: a MAC filter that did not fit is
    /// dropped.
    #[inline]
    fn post_load(&mut self, _version: u32) -> std::result::Result<(), &'static str> {
        if self.mac_table_in_use as usize > MAC_TABLE_ENTRIES {
            self.mac_table_in_use = 0;
        }
        Ok(())
    }
}

/// `vmstate_virtio_net_has_vnet` ("virtio-net-vnet", version 0).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio-net-vnet")]
pub struct VirtioNetVnet {
    /// The source's peer had a vnet header.
    pub has_vnet_hdr: u32,
}

impl VmTmp<VirtioNetDevice> for VirtioNetVnet {
    fn fill_from_parent(&mut self, p: &VirtioNetDevice) -> std::result::Result<(), BoxError> {
        self.has_vnet_hdr = u32::from(p.has_vnet_hdr);
        Ok(())
    }
    fn apply_to_parent(&mut self, p: &mut VirtioNetDevice) -> std::result::Result<(), BoxError> {
        if self.has_vnet_hdr != 0 && !p.has_vnet_hdr {
            return Err("virtio-net: saved image requires vnet_hdr=on".into());
        }
        Ok(())
    }
}

/// `vmstate_virtio_net_has_ufo` ("virtio-net-ufo", version 0).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio-net-ufo")]
pub struct VirtioNetUfo {
    /// The source's peer had UFO.
    pub has_ufo: u8,
}

impl VmTmp<VirtioNetDevice> for VirtioNetUfo {
    fn fill_from_parent(&mut self, p: &VirtioNetDevice) -> std::result::Result<(), BoxError> {
        self.has_ufo = u8::from(p.has_ufo);
        Ok(())
    }
    fn apply_to_parent(&mut self, p: &mut VirtioNetDevice) -> std::result::Result<(), BoxError> {
        if self.has_ufo != 0 && !p.has_ufo {
            return Err("virtio-net: saved image requires TUN_F_UFO support".into());
        }
        Ok(())
    }
}

/// `vmstate_virtio_net_tx_waiting` ("virtio-net-tx_waiting", version 0):
/// the `tx_waiting` flags of queue pairs 1 and up.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio-net-tx_waiting")]
pub struct VirtioNetTxWaiting {
    /// Queue pairs in use less one; not on the wire.
    #[vmstate(skip)]
    pub curr_queue_pairs_1: u16,
    /// Their flags (`VMSTATE_STRUCT_VARRAY_POINTER_UINT16`).
    #[vmstate(count = curr_queue_pairs_1)]
    pub vqs_1: Vec<TxWaiting>,
}

impl VmTmp<VirtioNetDevice> for VirtioNetTxWaiting {
    fn fill_from_parent(&mut self, p: &VirtioNetDevice) -> std::result::Result<(), BoxError> {
        self.curr_queue_pairs_1 = p.curr_queue_pairs.saturating_sub(1);
        self.vqs_1 = vec![TxWaiting::default(); usize::from(self.curr_queue_pairs_1)];
        Ok(())
    }
    fn apply_to_parent(&mut self, _p: &mut VirtioNetDevice) -> std::result::Result<(), BoxError> {
        Ok(())
    }
}

/// Subsection `virtio-net-device/rss` (version 1): receive-side scaling.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "virtio-net-device/rss", version = 1, minimum_version = 1)]
pub struct VirtioNetRss {
    /// RSS is on.
    #[vmstate(rename = "rss_data.enabled")]
    pub enabled: bool,
    /// Steering by the indirection table.
    #[vmstate(rename = "rss_data.redirect")]
    pub redirect: bool,
    /// Hash reports in the vnet header.
    #[vmstate(rename = "rss_data.populate_hash")]
    pub populate_hash: bool,
    /// Hash types (`VIRTIO_NET_RSS_HASH_TYPE_*`).
    #[vmstate(rename = "rss_data.hash_types")]
    pub hash_types: u32,
    /// Entries of the indirection table.
    #[vmstate(rename = "rss_data.indirections_len")]
    pub indirections_len: u16,
    /// The queue of unclassified packets.
    #[vmstate(rename = "rss_data.default_queue")]
    pub default_queue: u16,
    /// The hash key.
    #[vmstate(rename = "rss_data.key")]
    pub key: [u8; VIRTIO_NET_RSS_MAX_KEY_SIZE],
    /// The indirection table (`VMSTATE_VARRAY_UINT16_ALLOC`).
    #[vmstate(rename = "rss_data.indirections_table", count = indirections_len)]
    pub indirections_table: Vec<u16>,
}

impl Default for VirtioNetRss {
    fn default() -> Self {
        VirtioNetRss {
            enabled: false,
            redirect: false,
            populate_hash: false,
            hash_types: 0,
            indirections_len: 0,
            default_queue: 0,
            key: [0; VIRTIO_NET_RSS_MAX_KEY_SIZE],
            indirections_table: Vec::new(),
        }
    }
}

/// Subsection `virtio-net-device/backend` (version 0): a vhost-user back
/// end's own state, passed through in chunks.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio-net-device/backend")]
pub struct VirtioNetBackend {
    /// The chunks (`vhost_save_backend_state`).
    #[vmstate(with = BackendStateCodec)]
    pub backend: Vec<Vec<u8>>,
}

/// QEMU's `virtio-net vhost-user backend state` info: chunks of be32
/// length and bytes, ended by a zero length.
pub struct BackendStateCodec;

impl Codec<Vec<Vec<u8>>> for BackendStateCodec {
    const INFO: &'static str = "virtio-net vhost-user backend state";
    const SIZE: usize = 0;

    fn save<W: Sink>(v: &mut Vec<Vec<u8>>, w: &mut Writer<W>, _: &Context) -> Result<()> {
        for c in v.iter().filter(|c| !c.is_empty()) {
            w.put_u32(c.len() as u32)?;
            w.put_bytes(c)?;
        }
        w.put_u32(0)
    }

    fn load<S: Source>(v: &mut Vec<Vec<u8>>, r: &mut Reader<S>, ctx: &Context) -> Result<()> {
        let mut chunks = Vec::new();
        let mut total = 0u64;
        loop {
            let at = r.offset();
            let len = r.get_u32()?;
            if len == 0 {
                break;
            }
            total += u64::from(len);
            if total > ctx.max_vec_len {
                return Err(vmstate_core::Error::new(
                    vmstate_core::ErrorKind::Invalid {
                        message: "vhost-user back-end state larger than the context allows",
                    },
                    at,
                ));
            }
            // Read in bounded steps: memory follows the bytes that arrive.
            let mut chunk = Vec::new();
            let mut left = len as usize;
            while left > 0 {
                let n = left.min(1 << 16);
                let start = chunk.len();
                chunk.resize(start + n, 0);
                r.get_bytes(&mut chunk[start..])?;
                left -= n;
            }
            chunks.push(chunk);
        }
        *v = chunks;
        Ok(())
    }
}
