//! `vmmouse`: the VMware absolute-pointer backdoor (QEMU 7.2
//! `hw/i386/vmmouse.c`, `vmstate_vmmouse`).
//!
//! Constructs shown: an `equal` check on an `i32` (`VMSTATE_INT32_EQUAL`:
//! the destination's queue size must match the stream's; the value is not
//! stored), and a large fixed array. The queue really is a fixed array in
//! QEMU (`VMSTATE_UINT32_ARRAY(queue, ..., VMMOUSE_QUEUE_SIZE)`): all 1024
//! slots travel whatever `nb_queue` says, which the array form makes
//! plain. (QEMU 7.2 does not check `nb_queue` against the queue on load.)

use vmstate_core::VmState;

/// `VMMOUSE_QUEUE_SIZE`.
pub const VMMOUSE_QUEUE_SIZE: usize = 1024;

/// Section `vmmouse` (version 0, minimum 0).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "vmmouse", version = 0)]
pub struct VmMouse {
    /// Must equal the destination's queue size (1024).
    #[vmstate(equal, hint = "the vmmouse queue size must match")]
    pub queue_size: i32,
    /// The event queue (4 words per event).
    pub queue: [u32; VMMOUSE_QUEUE_SIZE],
    /// Words in the queue.
    pub nb_queue: u16,
    /// Status word (`VMMOUSE_STATUS`).
    pub status: u16,
    /// Absolute (1) or relative (0) mode.
    pub absolute: u8,
}

impl Default for VmMouse {
    fn default() -> Self {
        VmMouse {
            queue_size: VMMOUSE_QUEUE_SIZE as i32,
            queue: [0; VMMOUSE_QUEUE_SIZE],
            nb_queue: 0,
            status: 0,
            absolute: 0,
        }
    }
}
