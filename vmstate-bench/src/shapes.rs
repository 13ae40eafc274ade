//! The third bench device: field shapes the first two leave out, as
//! device models have them (a virtio or network device's rings and
//! queues): arrays of nested structs sized by an earlier count field
//! (`Vec`s, QEMU's `VMSTATE_STRUCT_VARRAY_*`), one of them with elements
//! whose first byte is sometimes 0x05 (a subsection marker as data), an
//! unused gap, an `equal` field, a range-checked one, a long bool array,
//! and an array of nested structs that each carry a subsection.
//!
//! Wire layout of [`Shapes::sample`] ([`PAYLOAD_LEN`] = 2322 bytes):
//!
//! | bytes | what |
//! |---|---|
//! | 0..4 | `num_desc` be32 (64) |
//! | 4..772 | `descs`: 64 x [`Desc`] (be64, be16, u8, bool = 12 bytes each) |
//! | 772..774 | `num_slots` be16 (128) |
//! | 774..1798 | `slots`: 128 x [`Slot`] (be32, be32); every 16th starts with 0x05 |
//! | 1798..1802 | unused (zeros) |
//! | 1802..1806 | `ncpus` be32, must equal the destination's |
//! | 1806..2062 | `stats`: 32 x be64 |
//! | 2062..2126 | `enabled`: 64 bools |
//! | 2126..2270 | `queues`: 4 x [`Queue`]: be64, be16, then its subsection (`05`, length 18, `"shapes/queue/event"`, be32 1, be16): 36 bytes each |
//! | 2270..2274 | `mtu` be32, 68 ..= 65535 |
//! | 2274..2322 | `temps`: 24 x be16 |

use vmstate_core::VmState;

/// The version the device saves at.
pub const VERSION: u32 = 1;
/// The subsection of each queue.
pub const EVENT_NAME: &str = "shapes/queue/event";
/// Descriptors in [`Shapes::sample`].
pub const NUM_DESC: usize = 64;
/// Slots in [`Shapes::sample`].
pub const NUM_SLOTS: usize = 128;
/// Bytes of a saved [`Shapes::sample`].
pub const PAYLOAD_LEN: usize =
    4 + NUM_DESC * 12 + 2 + NUM_SLOTS * 8 + 4 + 4 + 32 * 8 + 64 + 4 * (10 + 26) + 4 + 24 * 2;

/// A ring descriptor: 12 bytes, a size that does not divide 16.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "shapes/desc", version = 1)]
pub struct Desc {
    /// be64.
    pub addr: u64,
    /// be16.
    pub len: u16,
    /// One byte.
    pub flags: u8,
    /// One byte, 0/1.
    pub own: bool,
}

/// A slot: 8 bytes, a size that divides 16.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "shapes/slot", version = 1)]
pub struct Slot {
    /// be32.
    pub head: u32,
    /// be32.
    pub tail: u32,
}

/// A queue's pending event: the subsection of each [`Queue`].
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "shapes/queue/event", version = 1)]
pub struct QueueEvent {
    /// be16.
    pub idx: u16,
}

/// A queue: not of fixed size (its subsection), loaded element by element.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "shapes/queue", version = 1)]
pub struct Queue {
    /// be64.
    pub base: u64,
    /// be16.
    pub size: u16,
    /// Sent when an event is pending.
    #[vmstate(subsection, needed = Self::event_needed)]
    pub event: QueueEvent,
}

impl Queue {
    /// The subsection is needed when an event is pending.
    pub fn event_needed(&self) -> bool {
        self.event.idx != 0
    }
}

/// The device (description "shapes", version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "shapes", version = 1)]
pub struct Shapes {
    /// Descriptors on the wire.
    pub num_desc: u32,
    /// `VMSTATE_STRUCT_VARRAY_UINT32`.
    #[vmstate(count = num_desc)]
    pub descs: Vec<Desc>,
    /// Slots on the wire.
    pub num_slots: u16,
    /// `VMSTATE_STRUCT_VARRAY_UINT16`.
    #[vmstate(count = num_slots)]
    pub slots: Vec<Slot>,
    /// Four bytes a field no longer uses.
    #[vmstate(unused = 4)]
    pub gap: (),
    /// Must equal the destination's.
    #[vmstate(equal)]
    pub ncpus: u32,
    /// Counters.
    pub stats: [u64; 32],
    /// Per-vector enables.
    pub enabled: [bool; 64],
    /// Queues with a subsection each.
    pub queues: [Queue; 4],
    /// Checked on load.
    #[vmstate(min = 68, max = 65535)]
    pub mtu: u32,
    /// Signed readings.
    pub temps: [i16; 24],
}

impl Default for Shapes {
    fn default() -> Self {
        Shapes {
            num_desc: 0,
            descs: Vec::new(),
            num_slots: 0,
            slots: Vec::new(),
            gap: (),
            ncpus: 4,
            stats: [0; 32],
            enabled: [false; 64],
            queues: Default::default(),
            mtu: 1500,
            temps: [0; 24],
        }
    }
}

impl Shapes {
    /// A device with every wire byte set, 64 descriptors and 128 slots
    /// (every 16th slot's first byte 0x05), every queue's event pending.
    pub fn sample() -> Self {
        Shapes {
            num_desc: NUM_DESC as u32,
            descs: (0..NUM_DESC as u64)
                .map(|i| Desc {
                    addr: 0x0000_7f00_0000_0000 + (i << 12),
                    len: 0x0600 + i as u16,
                    flags: (i as u8) & 0x0f,
                    own: i % 3 == 0,
                })
                .collect(),
            num_slots: NUM_SLOTS as u16,
            slots: (0..NUM_SLOTS as u32)
                .map(|i| Slot {
                    head: if i % 16 == 7 {
                        0x0500_0000 | i
                    } else {
                        0x1000_0000 | i
                    },
                    tail: i.wrapping_mul(0x0101_0101),
                })
                .collect(),
            gap: (),
            ncpus: 4,
            stats: std::array::from_fn(|i| (i as u64 + 1).wrapping_mul(0x0123_4567_89ab_cdef)),
            enabled: std::array::from_fn(|i| i % 5 != 0),
            queues: std::array::from_fn(|i| Queue {
                base: 0x1_0000_0000 + i as u64 * 0x10000,
                size: 256,
                event: QueueEvent { idx: i as u16 + 1 },
            }),
            mtu: 9000,
            temps: std::array::from_fn(|i| (i as i16 - 12) * 321),
        }
    }
}
