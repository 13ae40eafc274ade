//! `pcspk`: the PC speaker (QEMU 7.2 `hw/audio/pcspk.c`, `vmstate_spk`).
//!
//! Constructs shown: a section-level `needed` rule (the `migrate`
//! property) with struct-level `needed = path`: when it is false a stream
//! writer leaves the whole section out ([`VmState::section_needed`]).

use vmstate_core::VmState;

/// Section `pcspk` (version 1, minimum 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "pcspk",
    version = 1,
    minimum_version = 1,
    needed = Self::migrate_needed
)]
pub struct PcSpk {
    /// Speaker data enable (port 0x61 bit 1).
    pub data_on: u8,
    /// The refresh-clock bit that port 0x61 reads toggle.
    pub dummy_refresh_clock: u8,
    /// The `migrate` property (true except on old machine types); not on
    /// the wire.
    #[vmstate(skip)]
    pub migrate: bool,
}

impl Default for PcSpk {
    fn default() -> Self {
        PcSpk {
            data_on: 0,
            dummy_refresh_clock: 0,
            migrate: true,
        }
    }
}

impl PcSpk {
    /// `migrate_needed`: whether QEMU writes this section at all.
    #[inline]
    fn migrate_needed(&self) -> bool {
        self.migrate
    }
}
