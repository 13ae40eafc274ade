//! `cpu_common`: the target-independent part of a vCPU (QEMU 7.2 `cpu.c`,
//! `vmstate_cpu_common`), one section per vCPU.
//!
//! Constructs shown: `pre_load` that sets the value an absent subsection
//! stands for, `post_load` that normalises a loaded field, and two
//! subsections with `needed` rules (one of them a `bool`).

use std::convert::Infallible;

use vmstate_core::VmState;

/// Bit 0 of `interrupt_request` once meant `CPU_INTERRUPT_EXIT`; QEMU
/// clears it on every load.
const OLD_INTERRUPT_EXIT: u32 = 0x01;

/// Section `cpu_common` (version 1, minimum 1).
///
/// The mirror assumes TCG, where `exception_index` is sent whenever it is
/// not -1 (under KVM QEMU never sends it).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "cpu_common",
    version = 1,
    minimum_version = 1,
    pre_load = Self::pre_load,
    post_load = Self::post_load
)]
pub struct CpuCommon {
    /// Whether the vCPU is halted (`HLT`).
    pub halted: u32,
    /// Pending `CPU_INTERRUPT_*` bits.
    pub interrupt_request: u32,
    /// Subsection `cpu_common/exception_index`.
    #[vmstate(subsection, needed = Self::exception_index_needed)]
    pub exception_index: CpuExceptionIndex,
    /// Subsection `cpu_common/crash_occurred`.
    #[vmstate(subsection, needed = Self::crash_occurred_needed)]
    pub crash_occurred: CpuCrashOccurred,
}

impl Default for CpuCommon {
    fn default() -> Self {
        CpuCommon {
            halted: 0,
            interrupt_request: 0,
            exception_index: CpuExceptionIndex {
                exception_index: -1,
            },
            crash_occurred: CpuCrashOccurred::default(),
        }
    }
}

impl CpuCommon {
    /// `cpu_common_exception_index_needed` under TCG.
    #[inline]
    fn exception_index_needed(&self) -> bool {
        self.exception_index.exception_index != -1
    }

    /// `cpu_common_crash_occurred_needed`.
    #[inline]
    fn crash_occurred_needed(&self) -> bool {
        self.crash_occurred.crash_occurred
    }

    /// `cpu_common_pre_load`: without the subsection the index is -1.
    #[inline]
    fn pre_load(&mut self) -> Result<(), Infallible> {
        self.exception_index.exception_index = -1;
        Ok(())
    }

    /// `cpu_common_post_load`: drop the obsolete exit bit (QEMU also
    /// flushes its TLB and translation cache here).
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), Infallible> {
        self.interrupt_request &= !OLD_INTERRUPT_EXIT;
        Ok(())
    }
}

/// Subsection `cpu_common/exception_index` (version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "cpu_common/exception_index", version = 1, minimum_version = 1)]
pub struct CpuExceptionIndex {
    /// The exception being delivered, -1 for none.
    pub exception_index: i32,
}

/// Subsection `cpu_common/crash_occurred` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "cpu_common/crash_occurred", version = 1, minimum_version = 1)]
pub struct CpuCrashOccurred {
    /// The guest reported a crash (pvpanic, Hyper-V crash MSRs).
    pub crash_occurred: bool,
}
