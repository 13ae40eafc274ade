//! Shared fixtures for the benchmarks (`cargo bench -p
//! vmstate-bench`) and for the tests that back their claims (`tests/`).
//!
//! * [`device`]: the device mix, a derived struct of a few hundred bytes;
//! * [`device356`]: a second device, 356 bytes, laid out like one measured
//!   outside the project;
//! * [`shapes`]: a third device with the shapes the first two leave out
//!   (arrays of nested structs sized by a count, a gap, checked fields,
//!   nested structs with subsections);
//! * [`fifo`]: a fourth device, registers around a 512-byte buffer;
//! * [`bulk`]: 1 MiB of `u8`, `u32` and `u64` in derived structs;
//! * [`pc`]: mirrors of five QEMU 7.2 device descriptions (copied from the
//!   root crate's `tests/pc_payloads.rs`) and a locator for their sections
//!   in `tests/fixtures/qemu-7.2/pc.mig`;
//! * [`CountingWrite`]: a sink that counts the `write` calls it gets.
//!
//! Only `vmstate-core` is a dependency here; the competitors (byteorder,
//! binrw) are dev-dependencies used by the benches themselves.

pub mod bulk;
pub mod device;
pub mod device356;
pub mod fifo;
pub mod pc;
pub mod shapes;

use std::io::{self, Write};

/// A `Write` that keeps nothing and counts what it is given: one `write`
/// call is what a syscall would be for a file, pipe or socket.
#[derive(Debug, Default)]
pub struct CountingWrite {
    /// Calls to `write`.
    pub writes: usize,
    /// Bytes accepted.
    pub bytes: usize,
    /// Calls to `flush`.
    pub flushes: usize,
}

impl Write for CountingWrite {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes += 1;
        self.bytes += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flushes += 1;
        Ok(())
    }
}
