//! `dma`: an Intel 8257 DMA controller (QEMU 7.2 `hw/dma/i8257.c`,
//! `vmstate_i8257`). A pc machine has two, instance 0 (8-bit channels,
//! `dshift` 0) and instance 1 (16-bit channels, `dshift` 1).
//!
//! Constructs shown: an array of nested structs (`VMSTATE_STRUCT_ARRAY`)
//! with a field version (`version = 1`, which QEMU records on the field),
//! and `i32`/`u16` arrays inside the element.

use vmstate_core::VmState;

/// `dma_regs` (version 1): one channel.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "dma_regs", version = 1, minimum_version = 1)]
pub struct DmaRegs {
    /// Current address and count (`ADDR`, `COUNT`).
    pub now: [i32; 2],
    /// Base address and count.
    pub base: [u16; 2],
    /// Mode register.
    pub mode: u8,
    /// Page register.
    pub page: u8,
    /// High page register.
    pub pageh: u8,
    /// DMA acknowledge.
    pub dack: u8,
    /// End of process.
    pub eop: u8,
}

/// Section `dma` (version 1, minimum 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "dma", version = 1, minimum_version = 1)]
pub struct I8257 {
    /// Command register.
    pub command: u8,
    /// Channel mask register.
    pub mask: u8,
    /// The byte-pointer flip-flop.
    pub flip_flop: u8,
    /// 0 for the 8-bit controller, 1 for the 16-bit one.
    pub dshift: i32,
    /// The four channels.
    #[vmstate(version = 1)]
    pub regs: [DmaRegs; 4],
}
