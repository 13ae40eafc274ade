//! `apic`: the local APIC of a vCPU (QEMU 7.2 `hw/intc/apic_common.c`,
//! `vmstate_apic_common`), registered per vCPU with the APIC id as the
//! instance id.
//!
//! Constructs shown: scalar fields of three widths, `u32` arrays, an `i64`
//! that carries a timer's expiry by hand (QEMU open-codes it instead of
//! using `VMSTATE_TIMER`, so the vmdesc says `int64`), and a subsection
//! whose name has the parent's prefix without a `/` (`apic_sipi`), which
//! QEMU's plain prefix compare accepts. `pre_load` resets the subsection's
//! value so that an absent subsection means "not waiting for SIPI".

use std::convert::Infallible;

use vmstate_core::VmState;

/// Number of local vector table entries (`APIC_LVT_NB`).
pub const APIC_LVT_NB: usize = 6;

/// Section `apic` (version 3, minimum 3).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(
    name = "apic",
    version = 3,
    minimum_version = 3,
    pre_load = Self::pre_load
)]
pub struct ApicCommon {
    /// `IA32_APIC_BASE` MSR.
    pub apicbase: u32,
    /// APIC id.
    pub id: u8,
    /// Arbitration id.
    pub arb_id: u8,
    /// Task priority register.
    pub tpr: u8,
    /// Spurious interrupt vector register.
    pub spurious_vec: u32,
    /// Logical destination register.
    pub log_dest: u8,
    /// Destination format register.
    pub dest_mode: u8,
    /// In-service register, 256 bits.
    pub isr: [u32; 8],
    /// Trigger mode register, 256 bits.
    pub tmr: [u32; 8],
    /// Interrupt request register, 256 bits.
    pub irr: [u32; 8],
    /// Local vector table.
    pub lvt: [u32; APIC_LVT_NB],
    /// Error status register.
    pub esr: u32,
    /// Interrupt command register (low, high).
    pub icr: [u32; 2],
    /// Timer divide configuration.
    pub divide_conf: u32,
    /// Timer divide shift derived from `divide_conf`.
    pub count_shift: i32,
    /// Timer initial count.
    pub initial_count: u32,
    /// Virtual time at which the count was loaded.
    pub initial_count_load_time: i64,
    /// Next timer event.
    pub next_time: i64,
    /// The APIC timer's expiry, -1 when it is not armed.
    pub timer_expiry: i64,
    /// Subsection `apic_sipi`: sent while an AP waits for its SIPI.
    #[vmstate(subsection, needed = Self::sipi_needed)]
    pub sipi: ApicSipi,
}

impl ApicCommon {
    /// `apic_common_sipi_needed`.
    #[inline]
    fn sipi_needed(&self) -> bool {
        self.sipi.wait_for_sipi != 0
    }

    /// `apic_pre_load`: 0 is what an absent `apic_sipi` stands for.
    #[inline]
    fn pre_load(&mut self) -> Result<(), Infallible> {
        self.sipi.wait_for_sipi = 0;
        Ok(())
    }
}

/// Subsection `apic_sipi` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "apic_sipi", version = 1, minimum_version = 1)]
pub struct ApicSipi {
    /// Vector of the startup IPI.
    pub sipi_vector: i32,
    /// Non-zero while the vCPU waits for a SIPI.
    pub wait_for_sipi: i32,
}
