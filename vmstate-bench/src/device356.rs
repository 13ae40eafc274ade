//! The second bench device: 356 bytes laid out like a device measured
//! outside the project (integers of every width, six bools, a `[u32; 32]`,
//! two `[u8; 32]`, an array of four nested structs, a version-gated field
//! and one subsection), so that measurement is reproduced here next to
//! [`DeviceMix`](crate::device::DeviceMix).
//!
//! Wire layout at version 2 ([`PAYLOAD_LEN`] = 356 bytes):
//!
//! | bytes | what |
//! |---|---|
//! | 0..30 | `id` u8, `irq` i8, `ctrl` be16, `delta` be16, `mask` be32, `bias` be32, `base` be64, `skew` be64 |
//! | 30..36 | six bools |
//! | 36..164 | `regs`: 32 x be32 |
//! | 164..228 | `rx`, `tx`: 32 bytes each |
//! | 228..292 | `chans`: 4 x [`Chan`] (be64, be32, be16, u8, bool = 16 bytes each) |
//! | 292..300 | `stamp` be64, only in version >= 2 streams |
//! | 300..320 | subsection header: `05`, `0e`, `"device356/tail"`, be32 version 1 |
//! | 320..356 | [`Tail`]: `seq` be64, `acked` be64, `window` be32, `flags` be32, `note` 12 x u8 |

use vmstate_core::VmState;

/// The version the device saves at.
pub const VERSION: u32 = 2;
/// Bytes of a saved [`Device356`] with its subsection.
pub const PAYLOAD_LEN: usize = 356;
/// The subsection's wire name.
pub const TAIL_NAME: &str = "device356/tail";
/// The subsection's version.
pub const TAIL_VERSION: u32 = 1;

/// One of the four channels: `VMSTATE_STRUCT_ARRAY`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "device356/chan", version = 1)]
pub struct Chan {
    /// be64.
    pub addr: u64,
    /// be32.
    pub len: u32,
    /// be16.
    pub head: u16,
    /// One byte.
    pub status: u8,
    /// One byte, 0/1.
    pub busy: bool,
}

/// The subsection "device356/tail" (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "device356/tail", version = 1)]
pub struct Tail {
    /// be64.
    pub seq: u64,
    /// be64.
    pub acked: u64,
    /// be32.
    pub window: u32,
    /// be32.
    pub flags: u32,
    /// 12 bytes.
    pub note: [u8; 12],
}

/// The device (description "device356", version 2, minimum 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "device356", version = 2, minimum_version = 1)]
pub struct Device356 {
    /// u8.
    pub id: u8,
    /// i8.
    pub irq: i8,
    /// be16.
    pub ctrl: u16,
    /// be16.
    pub delta: i16,
    /// be32.
    pub mask: u32,
    /// be32.
    pub bias: i32,
    /// be64.
    pub base: u64,
    /// be64.
    pub skew: i64,
    /// bool.
    pub enabled: bool,
    /// bool.
    pub running: bool,
    /// bool.
    pub irq_level: bool,
    /// bool.
    pub dma_on: bool,
    /// bool.
    pub fault: bool,
    /// bool.
    pub locked: bool,
    /// Registers.
    pub regs: [u32; 32],
    /// Receive FIFO.
    pub rx: [u8; 32],
    /// Transmit FIFO.
    pub tx: [u8; 32],
    /// An array of nested structs.
    pub chans: [Chan; 4],
    /// Version-gated: absent from version 1 streams.
    #[vmstate(version = 2)]
    pub stamp: u64,
    /// A subsection, sent when [`Device356::tail_needed`] says so.
    #[vmstate(subsection, needed = Self::tail_needed)]
    pub tail: Tail,
}

impl Device356 {
    /// The subsection is needed when it holds state.
    pub fn tail_needed(&self) -> bool {
        self.tail.seq != 0 || self.tail.flags != 0
    }

    /// A device with every wire byte set (mostly non-zero, distinct
    /// between fields), and the subsection needed.
    pub fn sample() -> Self {
        let chan = |i: u64| Chan {
            addr: 0x1000_2000_3000_4000 + (i << 12),
            len: 0x0100_0200 + i as u32,
            head: 0x0a0b + i as u16,
            status: 0x40 | i as u8,
            busy: i & 1 == 0,
        };
        Device356 {
            id: 0x9c,
            irq: -3,
            ctrl: 0xbeef,
            delta: -1234,
            mask: 0x00ff_ff00,
            bias: -77_777,
            base: 0xfeed_face_cafe_beef,
            skew: -1_234_567_890_123,
            enabled: true,
            running: false,
            irq_level: true,
            dma_on: true,
            fault: false,
            locked: true,
            regs: std::array::from_fn(|i| 0x0301_0701u32.wrapping_mul(i as u32 + 3)),
            rx: std::array::from_fn(|i| (i as u8).wrapping_mul(29).wrapping_add(3)),
            tx: std::array::from_fn(|i| 0xff - (i as u8).wrapping_mul(7)),
            chans: std::array::from_fn(|i| chan(i as u64)),
            stamp: 0x0011_2233_4455_6677,
            tail: Tail {
                seq: 0x8877_6655_4433_2211,
                acked: 0x1122_3344_5566_7788,
                window: 0x0001_0000,
                flags: 0x0000_0081,
                note: std::array::from_fn(|i| b'a' + i as u8),
            },
        }
    }
}
