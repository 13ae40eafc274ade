//! `kvm-tpr-opt`: the VAPIC option ROM that patches guest TPR accesses
//! (QEMU 7.2 `hw/i386/kvmvapic.c`, device `kvmvapic`).
//!
//! Constructs shown: a struct nested two levels deep (`rom_state.up`), the
//! same nested description used twice (`up`, `mp`), an `unused` gap inside
//! a nested struct, a `u32` array, and a `post_load` that rebuilds a state
//! older senders did not have.

use std::convert::Infallible;

use vmstate_core::VmState;

/// `VAPIC_INACTIVE`.
pub const VAPIC_INACTIVE: u32 = 0;
/// `VAPIC_ACTIVE`.
pub const VAPIC_ACTIVE: u32 = 1;
/// `VAPIC_STANDBY`.
pub const VAPIC_STANDBY: u32 = 2;

/// `kvmvapic-handlers` (version 1): the guest addresses of one set of TPR
/// access handlers in the ROM.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "kvmvapic-handlers", version = 1, minimum_version = 1)]
pub struct VapicHandlers {
    /// Handler for TPR writes.
    pub set_tpr: u32,
    /// Handler for TPR writes from `eax`.
    pub set_tpr_eax: u32,
    /// Handlers for TPR reads, one per destination register.
    pub get_tpr: [u32; 8],
    /// Handler for TPR reads onto the stack.
    pub get_tpr_stack: u32,
}

/// `kvmvapic-guest-rom` (version 1): the ROM's state block, as the guest
/// sees it.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "kvmvapic-guest-rom", version = 1, minimum_version = 1)]
pub struct GuestRomState {
    /// The ROM's 8-byte signature: not migrated, zeros on the wire.
    #[vmstate(unused = 8)]
    pub signature: (),
    /// Guest virtual address of the ROM.
    pub vaddr: u32,
    /// Start of the fixup table.
    pub fixup_start: u32,
    /// End of the fixup table.
    pub fixup_end: u32,
    /// Guest virtual address of the VAPIC page.
    pub vapic_vaddr: u32,
    /// Size of the VAPIC area.
    pub vapic_size: u32,
    /// Per-vCPU shift within the VAPIC area.
    pub vcpu_shift: u32,
    /// Address of the real TPR register.
    pub real_tpr_addr: u32,
    /// Uniprocessor handlers.
    pub up: VapicHandlers,
    /// Multiprocessor handlers.
    pub mp: VapicHandlers,
}

/// Section `kvm-tpr-opt` (version 1, minimum 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(
    name = "kvm-tpr-opt",
    version = 1,
    minimum_version = 1,
    post_load = Self::post_load
)]
pub struct VapicRomState {
    /// The ROM state block.
    pub rom_state: GuestRomState,
    /// [`VAPIC_INACTIVE`], [`VAPIC_ACTIVE`] or [`VAPIC_STANDBY`].
    pub state: u32,
    /// Address of the real TPR register.
    pub real_tpr_addr: u32,
    /// Guest virtual address of the ROM state block.
    pub rom_state_vaddr: u32,
    /// Guest physical address of the VAPIC page.
    pub vapic_paddr: u32,
    /// Guest physical address of the ROM state block.
    pub rom_state_paddr: u32,
}

impl VapicRomState {
    /// `vapic_post_load`: qemu-kvm had no standby state, so an inactive
    /// VAPIC with a known ROM is really on standby. (QEMU then maps the ROM
    /// from guest memory, which can fail; a mirror has no guest memory.)
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), Infallible> {
        if self.state == VAPIC_INACTIVE && self.rom_state_paddr != 0 {
            self.state = VAPIC_STANDBY;
        }
        Ok(())
    }
}
