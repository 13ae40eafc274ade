//! The fourth bench device: a controller whose registers surround a
//! 512-byte data FIFO saved as raw bytes (`VMSTATE_BUFFER`), as QEMU's
//! floppy, IDE and network models hold sector or packet buffers. Its
//! save into a `Vec` is a run of fixed-size fields longer than the stack
//! array, most of it one buffer.
//!
//! Wire layout ([`PAYLOAD_LEN`] = 557 bytes):
//!
//! | bytes | what |
//! |---|---|
//! | 0..32 | `regs`: 8 x be32 |
//! | 32..34 | `head` be16 |
//! | 34..36 | `tail` be16 |
//! | 36..548 | `data`: 512 raw bytes |
//! | 548..552 | `ctrl` be32 |
//! | 552..556 | `status` be32 |
//! | 556 | `irq` bool |

use vmstate_core::VmState;

/// The version the device saves at.
pub const VERSION: u32 = 1;
/// Bytes in the FIFO.
pub const FIFO_LEN: usize = 512;
/// Bytes of the payload.
pub const PAYLOAD_LEN: usize = 8 * 4 + 2 + 2 + FIFO_LEN + 4 + 4 + 1;

/// The device (description "fifo", version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "fifo", version = 1)]
pub struct Fifo {
    /// Configuration registers.
    pub regs: [u32; 8],
    /// Read index into `data`.
    pub head: u16,
    /// Write index into `data`.
    pub tail: u16,
    /// The FIFO's bytes.
    #[vmstate(buffer)]
    pub data: [u8; FIFO_LEN],
    /// Control register.
    pub ctrl: u32,
    /// Status register.
    pub status: u32,
    /// Interrupt line level.
    pub irq: bool,
}

impl Default for Fifo {
    fn default() -> Self {
        Fifo {
            regs: [0; 8],
            head: 0,
            tail: 0,
            data: [0; FIFO_LEN],
            ctrl: 0,
            status: 0,
            irq: false,
        }
    }
}

impl Fifo {
    /// A device with every wire byte set.
    pub fn sample() -> Self {
        Fifo {
            regs: std::array::from_fn(|i| 0x0102_0304u32.wrapping_mul(i as u32 + 1)),
            head: 17,
            tail: 301,
            data: std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11)),
            ctrl: 0x8000_0001,
            status: 0x0000_00c3,
            irq: true,
        }
    }
}
