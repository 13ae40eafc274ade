//! `i8254`: the Intel 8254 programmable interval timer (QEMU 7.2
//! `hw/timer/i8254_common.c`, `vmstate_pit_common`; device `isa-pit`).
//!
//! Constructs shown:
//! * description names that are not Rust identifiers, through `rename`:
//!   QEMU migrates two members of channel 0 as top-level fields named
//!   `channels[0].irq_disabled` and `channels[0].next_transition_time`;
//! * an array of nested structs with a field version (`version = 2`);
//! * one value on the wire twice: `channels[0].next_transition_time` is
//!   both inside the first `pit channel` element and the last field (its
//!   old place, "formerly irq_timer"). In QEMU both are the same memory;
//!   the mirror keeps a copy that `pre_save` fills and `post_load` copies
//!   back, so the last one read wins, as in QEMU.

use std::convert::Infallible;

use vmstate_core::VmState;

/// `pit channel` (version 2, minimum 2): one counter.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "pit channel", version = 2, minimum_version = 2)]
pub struct PitChannel {
    /// Reload value (0 means 0x10000).
    pub count: i32,
    /// The latched count.
    pub latched_count: u16,
    /// Which bytes of the latched count are still to be read.
    pub count_latched: u8,
    /// A status byte is latched.
    pub status_latched: u8,
    /// The latched status byte.
    pub status: u8,
    /// Read access state (LSB, MSB, word).
    pub read_state: u8,
    /// Write access state.
    pub write_state: u8,
    /// First byte of a 16-bit write.
    pub write_latch: u8,
    /// Read/write mode from the control word.
    pub rw_mode: u8,
    /// Counter mode 0-5.
    pub mode: u8,
    /// BCD counting.
    pub bcd: u8,
    /// Gate input level.
    pub gate: u8,
    /// Virtual time when `count` was loaded.
    pub count_load_time: i64,
    /// Next output transition, -1 for none.
    pub next_transition_time: i64,
}

/// Section `i8254` (version 3, minimum 2).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(
    name = "i8254",
    version = 3,
    minimum_version = 2,
    pre_save = Self::pre_save,
    post_load = Self::post_load
)]
pub struct PitCommon {
    /// Channel 0's "IRQ output disabled" flag (HPET legacy mode); from
    /// version 3.
    #[vmstate(rename = "channels[0].irq_disabled", version = 3)]
    pub irq_disabled: u32,
    /// The three counters.
    #[vmstate(version = 2)]
    pub channels: [PitChannel; 3],
    /// Channel 0's next transition again, where it was before the channel
    /// description had it. Filled from `channels[0]` on save; copied back
    /// on load.
    #[vmstate(rename = "channels[0].next_transition_time")]
    pub channel0_next_transition_time: i64,
}

impl PitCommon {
    /// The second copy is the same memory in QEMU.
    #[inline]
    fn pre_save(&mut self) -> Result<(), Infallible> {
        self.channel0_next_transition_time = self.channels[0].next_transition_time;
        Ok(())
    }

    /// The last field read is what channel 0 keeps. (QEMU then re-arms
    /// channel 0's IRQ timer unless `irq_disabled`.)
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), Infallible> {
        self.channels[0].next_transition_time = self.channel0_next_transition_time;
        Ok(())
    }
}
