//! `Fifo8`: QEMU's byte FIFO (QEMU 7.2 `util/fifo8.c`, `vmstate_fifo8`),
//! nested in device descriptions (the 16550A's receive and transmit
//! FIFOs, in [`serial`](crate::serial)).
//!
//! Constructs shown: a **variable buffer** (`vbuffer = capacity`: QEMU's
//! `VMSTATE_VBUFFER_UINT32(data, Fifo8, 1, NULL, capacity)`) whose length
//! is a configuration field that is not on the wire: the destination's
//! FIFO must have been created with the source's capacity, and exactly
//! that many bytes travel, as type `buffer`. The field is from version 1
//! of a version-1 description, so it is always there.

use vmstate_core::VmState;

/// `vmstate_fifo8` ("Fifo8", version 1, minimum 1).
///
/// ```
/// use vmstate_core::{Context, VmState};
/// use vmstate_qemu::fifo8::Fifo8;
///
/// let mut f = Fifo8::new(4);
/// f.data.copy_from_slice(b"ab\0\0");
/// f.num = 2;
/// let bytes = f.to_bytes(&Context::new()).unwrap();
/// assert_eq!(bytes, b"ab\0\0\0\0\0\0\0\0\0\x02");
/// ```
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "Fifo8", version = 1, minimum_version = 1)]
pub struct Fifo8 {
    /// Bytes the FIFO holds (`fifo8_create`'s `capacity`): configuration,
    /// not on the wire; it sizes `data`.
    #[vmstate(skip)]
    pub capacity: u32,
    /// The ring (`VMSTATE_VBUFFER_UINT32` by `capacity`).
    #[vmstate(vbuffer = capacity, version = 1)]
    pub data: Vec<u8>,
    /// Index of the oldest byte.
    pub head: u32,
    /// Bytes in the FIFO.
    pub num: u32,
}

impl Fifo8 {
    /// An empty FIFO of `capacity` bytes (`fifo8_create`).
    pub fn new(capacity: u32) -> Self {
        Fifo8 {
            capacity,
            data: vec![0; capacity as usize],
            head: 0,
            num: 0,
        }
    }

    /// `fifo8_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.num == 0
    }
}
