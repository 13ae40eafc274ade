//! `i8259`: an Intel 8259 interrupt controller (QEMU 7.2 and 10.0
//! `hw/intc/i8259_common.c`, `vmstate_pic_common`). A pc machine has two,
//! instance 0 (master) and instance 1 (slave).
//!
//! Constructs shown: a flat list of `u8` registers, the simplest shape of
//! a description, and a subsection that a newer QEMU added (`i8259/ltim`,
//! QEMU 8.2 on): a 7.2 stream never carries it, a 10.0 stream only when
//! the guest set level-triggered mode, so one mirror reads both.

use vmstate_core::VmState;

/// Section `i8259` (version 1, minimum 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "i8259", version = 1, minimum_version = 1)]
pub struct PicCommon {
    /// Edge detection: the IRR lines at the last sample.
    pub last_irr: u8,
    /// Interrupt request register.
    pub irr: u8,
    /// Interrupt mask register.
    pub imr: u8,
    /// In-service register.
    pub isr: u8,
    /// Highest-priority IRQ offset (rotation).
    pub priority_add: u8,
    /// Vector of IRQ 0.
    pub irq_base: u8,
    /// OCW3: read ISR (1) or IRR (0).
    pub read_reg_select: u8,
    /// OCW3 poll command pending.
    pub poll: u8,
    /// Special mask mode.
    pub special_mask: u8,
    /// Initialisation sequence step.
    pub init_state: u8,
    /// Automatic end of interrupt.
    pub auto_eoi: u8,
    /// Rotate on automatic EOI.
    pub rotate_on_auto_eoi: u8,
    /// Special fully nested mode.
    pub special_fully_nested_mode: u8,
    /// ICW4 expected.
    pub init4: u8,
    /// Single (no cascade) mode.
    pub single_mode: u8,
    /// Edge/level control register.
    pub elcr: u8,
    /// Subsection `i8259/ltim` (QEMU 8.2 on): sent when `ltim` is set.
    #[vmstate(subsection, needed = Self::ltim_needed)]
    pub ltim: PicLtim,
}

impl PicCommon {
    /// `ltim_state_needed`.
    #[inline]
    fn ltim_needed(&self) -> bool {
        self.ltim.ltim != 0
    }
}

/// Subsection `i8259/ltim` (version 1): ICW1's level-triggered mode bit.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "i8259/ltim", version = 1, minimum_version = 1)]
pub struct PicLtim {
    /// Level-triggered interrupt mode (all inputs).
    pub ltim: u8,
}
