//! The device mix of benchmark 1: a device-like struct of a few hundred
//! bytes with integers of every width, bools, fixed arrays, an array of
//! nested structs, a version-gated field and a needed subsection.
//!
//! Wire layout at version 3 ([`PAYLOAD_LEN`] = 308 bytes):
//!
//! | bytes | what |
//! |---|---|
//! | 0..37 | `ctrl` u8, `status` u8, `irq_line` i8, `divider` be16, `scratch` be16, `config` be32, `intr_mask` be32, `offset` be32, `counter` be64, `stamp` be64, `enabled` bool, `irq_pending` bool |
//! | 37..101 | `regs`: 16 x be32 |
//! | 101..133 | `fifo`: 32 x u8 |
//! | 133..253 | `timers`: 4 x [`MixTimer`] (be64, be64, be64, be32, bool, u8 = 30 bytes each) |
//! | 253..261 | `rtc_base` be64, only in version >= 3 streams |
//! | 261..279 | subsection header: `05`, `0c`, `"benchdev/ext"`, be32 version 1 |
//! | 279..308 | [`MixExt`]: `flags` be32, `counter` be64, `pending` bool, `data` 16 x u8 |

use vmstate_core::VmState;

/// The version the device mix saves at (the stream version of its section).
pub const VERSION: u32 = 3;
/// Bytes of a saved [`DeviceMix`] with its subsection.
pub const PAYLOAD_LEN: usize = 308;
/// The subsection's wire name.
pub const EXT_NAME: &str = "benchdev/ext";
/// The subsection's version.
pub const EXT_VERSION: u32 = 1;

/// One of the four timers (as an HPET timer block): `VMSTATE_STRUCT_ARRAY`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "benchdev/timer", version = 1)]
pub struct MixTimer {
    /// be64.
    pub config: u64,
    /// be64.
    pub cmp: u64,
    /// be64.
    pub fsb: u64,
    /// be32.
    pub period: u32,
    /// One byte, 0/1.
    pub wrap: bool,
    /// One byte.
    pub level: u8,
}

/// The subsection "benchdev/ext" (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "benchdev/ext", version = 1)]
pub struct MixExt {
    /// be32.
    pub flags: u32,
    /// be64.
    pub counter: u64,
    /// One byte, 0/1.
    pub pending: bool,
    /// 16 bytes.
    pub data: [u8; 16],
}

/// The device mix (description "benchdev", version 3, minimum 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "benchdev", version = 3, minimum_version = 1)]
pub struct DeviceMix {
    /// u8.
    pub ctrl: u8,
    /// u8.
    pub status: u8,
    /// i8.
    pub irq_line: i8,
    /// be16.
    pub divider: u16,
    /// be16.
    pub scratch: i16,
    /// be32.
    pub config: u32,
    /// be32.
    pub intr_mask: u32,
    /// be32.
    pub offset: i32,
    /// be64.
    pub counter: u64,
    /// be64.
    pub stamp: i64,
    /// bool.
    pub enabled: bool,
    /// bool.
    pub irq_pending: bool,
    /// A fixed array of be32 registers.
    pub regs: [u32; 16],
    /// A fixed byte array.
    pub fifo: [u8; 32],
    /// An array of nested structs.
    pub timers: [MixTimer; 4],
    /// Version-gated: absent from streams older than version 3.
    #[vmstate(version = 3)]
    pub rtc_base: u64,
    /// A subsection, sent when [`DeviceMix::ext_needed`] says so.
    #[vmstate(subsection, needed = Self::ext_needed)]
    pub ext: MixExt,
}

impl DeviceMix {
    /// The subsection is needed when it holds state.
    pub fn ext_needed(&self) -> bool {
        self.ext.flags != 0 || self.ext.pending
    }

    /// A device with every wire byte set (mostly non-zero, all distinct
    /// between fields), and the subsection needed.
    pub fn sample() -> Self {
        let timer = |i: u64| MixTimer {
            config: 0x0102_0304_0506_0708 ^ (i << 56),
            cmp: 0x1122_3344_5566_7788 + i,
            fsb: 0xfedc_ba98_7654_3210 - i,
            period: 0x0a0b_0c0d + i as u32,
            wrap: i % 2 == 1,
            level: 0x80 | i as u8,
        };
        DeviceMix {
            ctrl: 0xc3,
            status: 0x5a,
            irq_line: -7,
            divider: 0x1234,
            scratch: -300,
            config: 0xdead_beef,
            intr_mask: 0x0f0f_00ff,
            offset: -123_456,
            counter: 0x0123_4567_89ab_cdef,
            stamp: -9_876_543_210,
            enabled: true,
            irq_pending: false,
            regs: std::array::from_fn(|i| 0x1000_0001u32.wrapping_mul(i as u32 + 1)),
            fifo: std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(1)),
            timers: std::array::from_fn(|i| timer(i as u64)),
            rtc_base: 0x7766_5544_3322_1100,
            ext: MixExt {
                flags: 0x8000_0001,
                counter: 0x0bad_cafe_f00d_d00d,
                pending: true,
                data: std::array::from_fn(|i| 0xf0 - i as u8),
            },
        }
    }
}
