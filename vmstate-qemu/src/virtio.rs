//! The virtio core and the virtio-pci transport, as QEMU's hand-written
//! `virtio_save` / `virtio_load` lay them out in a virtio device's section
//! (QEMU 7.2 and 10.0 `hw/virtio/virtio.c`, `hw/virtio/virtio-pci.c`).
//!
//! A virtio device's description has one field, `virtio`, whose
//! `VMStateInfo` is `virtio_save`: QEMU's vmdesc shows it as one opaque
//! field. Its bytes are, in order:
//!
//! 1. the transport's configuration (`virtio_pci_save_config`): the PCI
//!    function (`PCIDevice`), the MSI-X table and pending bits, the config
//!    vector;
//! 2. the core's header, written by hand: status, ISR, selected queue, the
//!    low 32 feature bits, the device configuration (be32 length, bytes),
//!    the number of queues and, per queue, its size, descriptor address,
//!    last available index and (with MSI-X) vector ([`VirtioHeader`]);
//! 3. the device's own description (`vdc->vmsd`);
//! 4. the description `virtio`, which has no fields, only subsections
//!    ([`VirtioCore`]).
//!
//! [`VirtioHeader`] reads and writes part 2 with QEMU's checks; the other
//! parts are descriptions. A device mirror combines them in a
//! [`Codec`](vmstate_core::codec::Codec) for its `virtio` field (see
//! [`virtio_net`](crate::virtio_net)).

use vmstate_core::stream::{Sink, Source};
use vmstate_core::{Context, Error, ErrorKind, Reader, Result, VmState, Writer};

/// `VIRTIO_QUEUE_MAX`: queues a device can have.
pub const VIRTIO_QUEUE_MAX: usize = 1024;
/// `VIRTIO_NO_VECTOR`: no MSI-X vector.
pub const VIRTIO_NO_VECTOR: u16 = 0xffff;
/// `PCI_MSIX_ENTRY_SIZE`: bytes per MSI-X table entry.
pub const PCI_MSIX_ENTRY_SIZE: usize = 16;
/// `VIRTIO_DEVICE_ENDIAN_LITTLE`.
pub const VIRTIO_DEVICE_ENDIAN_LITTLE: u8 = 1;
/// `VIRTIO_F_VERSION_1` (a feature bit number).
pub const VIRTIO_F_VERSION_1: u32 = 32;
/// `VIRTIO_F_RING_PACKED`.
pub const VIRTIO_F_RING_PACKED: u32 = 34;

fn invalid(message: &'static str, at: u64) -> Error {
    Error::new(ErrorKind::Invalid { message }, at)
}

/// One queue as the core's header carries it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueHeader {
    /// Ring size (`vring.num`); a queue of size 0 ends the list on save.
    pub num: u32,
    /// Guest address of the descriptor table.
    pub desc: u64,
    /// The last available index the device consumed.
    pub last_avail_idx: u16,
    /// The queue's MSI-X vector (with MSI-X only).
    pub vector: u16,
}

/// Parts 1 and 2 of a virtio-pci device's section, after the `PCIDevice`:
/// MSI-X state and the core's hand-written header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtioHeader {
    /// MSI-X vectors of the function (the `vectors` property; 0: no
    /// MSI-X); configuration, not on the wire.
    pub nvectors: u16,
    /// The MSI-X table (`nvectors` entries of 16 bytes).
    pub msix_table: Vec<u8>,
    /// The MSI-X pending bits (`ceil(nvectors / 8)` bytes).
    pub msix_pba: Vec<u8>,
    /// The configuration-change vector (with MSI-X).
    pub config_vector: u16,
    /// Device status.
    pub status: u8,
    /// Interrupt status.
    pub isr: u8,
    /// The queue the guest selected.
    pub queue_sel: u16,
    /// The low 32 bits of the negotiated features.
    pub guest_features_lo: u32,
    /// The device configuration space, as large as the destination's
    /// (`config_len`): a longer one in the stream is cut, a shorter one
    /// fills only its part (as `virtio_load` does).
    pub config: Vec<u8>,
    /// The queues, up to the first of size 0.
    pub queues: Vec<QueueHeader>,
}

impl VirtioHeader {
    /// A function with `nvectors` MSI-X vectors (all masked, no vector
    /// assigned) and a `config_len`-byte configuration space.
    pub fn new(nvectors: u16, config_len: usize) -> Self {
        let n = usize::from(nvectors);
        let mut table = vec![0u8; n * PCI_MSIX_ENTRY_SIZE];
        // Each entry's vector control: masked.
        for e in table.chunks_mut(PCI_MSIX_ENTRY_SIZE) {
            e[12] = 1;
        }
        VirtioHeader {
            nvectors,
            msix_table: table,
            msix_pba: vec![0; n.div_ceil(8)],
            config_vector: VIRTIO_NO_VECTOR,
            status: 0,
            isr: 0,
            queue_sel: 0,
            guest_features_lo: 0,
            config: vec![0; config_len],
            queues: Vec::new(),
        }
    }

    fn msix(&self) -> bool {
        self.nvectors > 0
    }

    /// The vector check of `virtio_pci_load_config` and `_load_queue`.
    fn check_vector(&self, v: u16, at: u64) -> Result<()> {
        if v != VIRTIO_NO_VECTOR && v >= self.nvectors {
            return Err(invalid("MSI-X vector beyond the function's vectors", at));
        }
        Ok(())
    }

    /// Writes the MSI-X state and the header.
    pub fn save<W: Sink>(&self, w: &mut Writer<W>) -> Result<()> {
        if self.msix() {
            w.put_bytes(&self.msix_table)?;
            w.put_bytes(&self.msix_pba)?;
            w.put_u16(self.config_vector)?;
        }
        w.put_u8(self.status)?;
        w.put_u8(self.isr)?;
        w.put_u16(self.queue_sel)?;
        w.put_u32(self.guest_features_lo)?;
        w.put_u32(self.config.len() as u32)?;
        w.put_bytes(&self.config)?;
        let n = self.queues.iter().take_while(|q| q.num != 0).count();
        w.put_u32(n as u32)?;
        for q in &self.queues[..n] {
            w.put_u32(q.num)?;
            w.put_u64(q.desc)?;
            w.put_u16(q.last_avail_idx)?;
            if self.msix() {
                w.put_u16(q.vector)?;
            }
        }
        Ok(())
    }

    /// Reads the MSI-X state and the header, with `virtio_load`'s checks.
    pub fn load<S: Source>(&mut self, r: &mut Reader<S>) -> Result<()> {
        if self.msix() {
            r.get_bytes(&mut self.msix_table)?;
            r.get_bytes(&mut self.msix_pba)?;
            let at = r.offset();
            let v = r.get_u16()?;
            self.check_vector(v, at)?;
            self.config_vector = v;
        }
        self.status = r.get_u8()?;
        self.isr = r.get_u8()?;
        let at = r.offset();
        self.queue_sel = r.get_u16()?;
        if usize::from(self.queue_sel) >= VIRTIO_QUEUE_MAX {
            return Err(invalid("queue_sel beyond VIRTIO_QUEUE_MAX", at));
        }
        self.guest_features_lo = r.get_u32()?;
        let len = u64::from(r.get_u32()?);
        let have = self.config.len() as u64;
        let take = len.min(have) as usize;
        r.get_bytes(&mut self.config[..take])?;
        r.skip(len.saturating_sub(have))?;
        let at = r.offset();
        let num = r.get_u32()?;
        if num as usize > VIRTIO_QUEUE_MAX {
            return Err(invalid("Invalid number of virtqueues", at));
        }
        let mut queues = Vec::with_capacity(num as usize);
        for _ in 0..num {
            let mut q = QueueHeader {
                num: r.get_u32()?,
                desc: r.get_u64()?,
                ..QueueHeader::default()
            };
            let at = r.offset();
            q.last_avail_idx = r.get_u16()?;
            if q.desc == 0 && q.last_avail_idx != 0 {
                return Err(invalid("VQ address 0x0 inconsistent with Host index", at));
            }
            if self.msix() {
                let at = r.offset();
                q.vector = r.get_u16()?;
                self.check_vector(q.vector, at)?;
            } else {
                q.vector = VIRTIO_NO_VECTOR;
            }
            queues.push(q);
        }
        self.queues = queues;
        Ok(())
    }
}

/// Section part 4: QEMU's `vmstate_virtio` ("virtio", version 1): no
/// fields, nine subsections.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "virtio", version = 1, minimum_version = 1, pre_load = Self::pre_load)]
pub struct VirtioCore {
    /// Subsection `virtio/device_endian`.
    #[vmstate(subsection, needed = Self::device_endian_needed)]
    pub device_endian: VirtioDeviceEndian,
    /// Subsection `virtio/64bit_features`.
    #[vmstate(subsection, needed = Self::features64_needed)]
    pub features64: Virtio64bitFeatures,
    /// Subsection `virtio/virtqueues`.
    #[vmstate(subsection, needed = Self::virtqueues_needed)]
    pub virtqueues: VirtioVirtqueues,
    /// Subsection `virtio/ringsize`.
    #[vmstate(subsection, needed = Self::ringsize_needed)]
    pub ringsize: VirtioRingsize,
    /// Subsection `virtio/broken`.
    #[vmstate(subsection, needed = Self::broken_needed)]
    pub broken: VirtioBroken,
    /// Subsection `virtio/extra_state`.
    #[vmstate(subsection, needed = Self::extra_state_needed)]
    pub extra_state: VirtioExtraState,
    /// Subsection `virtio/started`.
    #[vmstate(subsection, needed = Self::started_needed)]
    pub started: VirtioStarted,
    /// Subsection `virtio/packed_virtqueues`.
    #[vmstate(subsection, needed = Self::packed_needed)]
    pub packed_virtqueues: VirtioPackedVirtqueues,
    /// Subsection `virtio/disabled`.
    #[vmstate(subsection, needed = Self::disabled_needed)]
    pub disabled: VirtioDisabled,
    /// The features the device offers (`host_features`); configuration.
    #[vmstate(skip)]
    pub host_features: u64,
    /// The transport migrates extra state (virtio-pci's
    /// `VIRTIO_PCI_FLAG_MIGRATE_EXTRA`, on by default); configuration.
    #[vmstate(skip)]
    pub migrate_extra: bool,
    /// The ring sizes of the header's queues (`vring.num`), which the
    /// ring-size rule compares with the defaults; set by the device codec.
    #[vmstate(skip)]
    pub vring_num: Vec<u32>,
}

impl VirtioCore {
    /// The core of a device offering `host_features` with `queues` ring
    /// sizes (the defaults too), over virtio-pci.
    pub fn new(host_features: u64, queues: &[u32]) -> Self {
        let mut ringsize = VirtioRingsize::default();
        for (r, &n) in ringsize.vq.iter_mut().zip(queues) {
            r.num_default = n;
        }
        VirtioCore {
            device_endian: VirtioDeviceEndian {
                device_endian: VIRTIO_DEVICE_ENDIAN_LITTLE,
            },
            features64: Virtio64bitFeatures::default(),
            virtqueues: VirtioVirtqueues::default(),
            ringsize,
            broken: VirtioBroken::default(),
            extra_state: VirtioExtraState::default(),
            started: VirtioStarted::default(),
            packed_virtqueues: VirtioPackedVirtqueues::default(),
            disabled: VirtioDisabled::default(),
            host_features,
            migrate_extra: true,
            vring_num: queues.to_vec(),
        }
    }

    fn has_host_feature(&self, bit: u32) -> bool {
        self.host_features & (1 << bit) != 0
    }

    /// Without the subsection, the endianness is the default
    /// (`virtio_load` after the subsections).
    #[inline]
    fn pre_load(&mut self) -> std::result::Result<(), &'static str> {
        self.device_endian.device_endian = VIRTIO_DEVICE_ENDIAN_LITTLE;
        Ok(())
    }

    /// `virtio_device_endian_needed` (x86: the default is little).
    #[inline]
    fn device_endian_needed(&self) -> bool {
        self.device_endian.device_endian != VIRTIO_DEVICE_ENDIAN_LITTLE
    }
    /// `virtio_64bit_features_needed`.
    #[inline]
    fn features64_needed(&self) -> bool {
        self.host_features >> 32 != 0
    }
    /// `virtio_virtqueue_needed`.
    #[inline]
    fn virtqueues_needed(&self) -> bool {
        self.has_host_feature(VIRTIO_F_VERSION_1)
    }
    /// `virtio_ringsize_needed`: a queue's size is not its default.
    #[inline]
    fn ringsize_needed(&self) -> bool {
        self.ringsize
            .vq
            .iter()
            .enumerate()
            .any(|(i, r)| self.vring_num.get(i).copied().unwrap_or(0) != r.num_default)
    }
    /// `virtio_broken_needed`.
    #[inline]
    fn broken_needed(&self) -> bool {
        self.broken.broken
    }
    /// `virtio_extra_state_needed`.
    #[inline]
    fn extra_state_needed(&self) -> bool {
        self.migrate_extra
    }
    /// `virtio_started_needed`.
    #[inline]
    fn started_needed(&self) -> bool {
        self.started.started
    }
    /// `virtio_packed_virtqueue_needed`.
    #[inline]
    fn packed_needed(&self) -> bool {
        self.has_host_feature(VIRTIO_F_RING_PACKED)
    }
    /// `virtio_disabled_needed`.
    #[inline]
    fn disabled_needed(&self) -> bool {
        self.disabled.disabled
    }
}

impl Default for VirtioCore {
    fn default() -> Self {
        VirtioCore::new(0, &[])
    }
}

/// Subsection `virtio/device_endian` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio/device_endian", version = 1, minimum_version = 1)]
pub struct VirtioDeviceEndian {
    /// `VIRTIO_DEVICE_ENDIAN_*`.
    pub device_endian: u8,
}

/// Subsection `virtio/64bit_features` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio/64bit_features", version = 1, minimum_version = 1)]
pub struct Virtio64bitFeatures {
    /// All 64 negotiated feature bits.
    pub guest_features: u64,
}

/// `vmstate_virtqueue` ("virtqueue_state", version 1).
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "virtqueue_state", version = 1, minimum_version = 1)]
pub struct VirtqueueState {
    /// Guest address of the available ring.
    #[vmstate(rename = "vring.avail")]
    pub avail: u64,
    /// Guest address of the used ring.
    #[vmstate(rename = "vring.used")]
    pub used: u64,
}

/// Subsection `virtio/virtqueues` (version 1): every queue slot's ring
/// addresses (`VMSTATE_STRUCT_VARRAY_POINTER_KNOWN`, 1024).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "virtio/virtqueues", version = 1, minimum_version = 1)]
pub struct VirtioVirtqueues {
    /// `VIRTIO_QUEUE_MAX`; not on the wire.
    #[vmstate(skip)]
    pub n: u32,
    /// Per queue slot.
    #[vmstate(count = n)]
    pub vq: Vec<VirtqueueState>,
}

impl Default for VirtioVirtqueues {
    fn default() -> Self {
        VirtioVirtqueues {
            n: VIRTIO_QUEUE_MAX as u32,
            vq: vec![VirtqueueState::default(); VIRTIO_QUEUE_MAX],
        }
    }
}

/// `vmstate_ringsize` ("ringsize_state", version 1).
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "ringsize_state", version = 1, minimum_version = 1)]
pub struct RingsizeState {
    /// The queue's default size.
    #[vmstate(rename = "vring.num_default")]
    pub num_default: u32,
}

/// Subsection `virtio/ringsize` (version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "virtio/ringsize", version = 1, minimum_version = 1)]
pub struct VirtioRingsize {
    /// `VIRTIO_QUEUE_MAX`; not on the wire.
    #[vmstate(skip)]
    pub n: u32,
    /// Per queue slot.
    #[vmstate(count = n)]
    pub vq: Vec<RingsizeState>,
}

impl Default for VirtioRingsize {
    fn default() -> Self {
        VirtioRingsize {
            n: VIRTIO_QUEUE_MAX as u32,
            vq: vec![RingsizeState::default(); VIRTIO_QUEUE_MAX],
        }
    }
}

/// Subsection `virtio/broken` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio/broken", version = 1, minimum_version = 1)]
pub struct VirtioBroken {
    /// The device saw a guest error and stopped.
    pub broken: bool,
}

/// Subsection `virtio/extra_state` (version 1): the transport's own
/// description, through the `virtqueue_extra_state` info.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio/extra_state", version = 1, minimum_version = 1)]
pub struct VirtioExtraState {
    /// virtio-pci's `vmstate_virtio_pci`.
    pub extra_state: VirtioPciExtra,
}

/// Subsection `virtio/started` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio/started", version = 1, minimum_version = 1)]
pub struct VirtioStarted {
    /// The device was started (driver OK with the VM running).
    pub started: bool,
}

/// `vmstate_packed_virtqueue` ("packed_virtqueue_state", version 1).
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "packed_virtqueue_state", version = 1, minimum_version = 1)]
pub struct PackedVirtqueueState {
    /// Last available index.
    pub last_avail_idx: u16,
    /// Its wrap counter.
    pub last_avail_wrap_counter: bool,
    /// Used index.
    pub used_idx: u16,
    /// Its wrap counter.
    pub used_wrap_counter: bool,
    /// Buffers in flight.
    pub inuse: u32,
}

/// Subsection `virtio/packed_virtqueues` (version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "virtio/packed_virtqueues", version = 1, minimum_version = 1)]
pub struct VirtioPackedVirtqueues {
    /// `VIRTIO_QUEUE_MAX`; not on the wire.
    #[vmstate(skip)]
    pub n: u32,
    /// Per queue slot.
    #[vmstate(count = n)]
    pub vq: Vec<PackedVirtqueueState>,
}

impl Default for VirtioPackedVirtqueues {
    fn default() -> Self {
        VirtioPackedVirtqueues {
            n: VIRTIO_QUEUE_MAX as u32,
            vq: vec![PackedVirtqueueState::default(); VIRTIO_QUEUE_MAX],
        }
    }
}

/// Subsection `virtio/disabled` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "virtio/disabled", version = 1, minimum_version = 1)]
pub struct VirtioDisabled {
    /// The device is disabled (a modern-only device on a legacy bus).
    pub disabled: bool,
}

/// `vmstate_virtio_pci` ("virtio_pci", version 1): only a subsection.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "virtio_pci", version = 1, minimum_version = 1)]
pub struct VirtioPciExtra {
    /// Subsection `virtio_pci/modern_state`.
    #[vmstate(subsection, needed = Self::modern_needed)]
    pub modern_state: VirtioPciModernState,
    /// The function has the modern (virtio 1.0) interface; configuration.
    #[vmstate(skip)]
    pub modern: bool,
}

impl Default for VirtioPciExtra {
    fn default() -> Self {
        VirtioPciExtra {
            modern_state: VirtioPciModernState::default(),
            modern: true,
        }
    }
}

impl VirtioPciExtra {
    /// `virtio_pci_modern_state_needed`.
    #[inline]
    fn modern_needed(&self) -> bool {
        self.modern
    }
}

/// Subsection `virtio_pci/modern_state` (version 1): the modern
/// interface's registers.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "virtio_pci/modern_state", version = 1, minimum_version = 1)]
pub struct VirtioPciModernState {
    /// Device feature select.
    pub dfselect: u32,
    /// Guest feature select.
    pub gfselect: u32,
    /// Guest features, two 32-bit halves.
    pub guest_features: [u32; 2],
    /// `VIRTIO_QUEUE_MAX`; not on the wire.
    #[vmstate(skip)]
    pub n: u32,
    /// Per queue slot (`VMSTATE_STRUCT_ARRAY`, 1024).
    #[vmstate(count = n)]
    pub vqs: Vec<VirtioPciQueue>,
}

impl Default for VirtioPciModernState {
    fn default() -> Self {
        VirtioPciModernState {
            dfselect: 0,
            gfselect: 0,
            guest_features: [0; 2],
            n: VIRTIO_QUEUE_MAX as u32,
            vqs: vec![VirtioPciQueue::default(); VIRTIO_QUEUE_MAX],
        }
    }
}

/// `vmstate_virtio_pci_modern_queue_state`
/// ("virtio_pci/modern_queue_state", version 1).
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(
    name = "virtio_pci/modern_queue_state",
    version = 1,
    minimum_version = 1
)]
pub struct VirtioPciQueue {
    /// Queue size the guest wrote.
    pub num: u16,
    /// `VMSTATE_UNUSED(1)`: `enabled` was a be16.
    #[vmstate(unused = 1)]
    pub unused: (),
    /// The queue is enabled.
    pub enabled: bool,
    /// Descriptor table address, low and high.
    pub desc: [u32; 2],
    /// Available ring address.
    pub avail: [u32; 2],
    /// Used ring address.
    pub used: [u32; 2],
}

/// Saves a derived part of a virtio section into `w` without recording
/// it (QEMU's vmdesc shows the whole `virtio` field as one).
pub fn save_part<T: VmState, W: Sink>(v: &mut T, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
    let mut buf = Vec::new();
    v.save_state(&mut Writer::new(&mut buf), ctx)
        .map_err(|e| e.within(vmstate_core::Segment::Vmsd(T::VMSD.name)))?;
    w.put_bytes(&buf)
}

/// Loads a derived part of a virtio section at `version`.
pub fn load_part<T: VmState, S: Source>(
    v: &mut T,
    r: &mut Reader<S>,
    version: u32,
    ctx: &Context,
) -> Result<()> {
    v.load_state_in_place(r, version, ctx)
        .map_err(|e| e.within(vmstate_core::Segment::Vmsd(T::VMSD.name)))
}
