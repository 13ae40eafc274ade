//! `cpu`: an x86-64 CPU (QEMU 7.2 and 10.0 `target/i386/machine.c`,
//! `vmstate_x86_cpu`, as built for `qemu-system-x86_64` with KVM support
//! compiled in).
//!
//! QEMU 10.0 added three subsections, which a 7.2 stream never carries:
//! `cpu/xen_vcpu` (Xen emulation), `cpu/msr_hwcr` and `cpu/fred`. Its
//! `cpu/efer32` exists only in `qemu-system-i386` and is not here.
//!
//! Constructs shown:
//! * **`tmp = Type`** (`VMSTATE_WITH_TMP`): each x87 register is an 80-bit
//!   float in QEMU, sent through a temporary `fpreg_tmp` that splits it
//!   into a 64-bit mantissa and a 16-bit sign/exponent
//!   ([`FpRegTmp`], [`VmTmp`]);
//! * **one register file seen through several descriptions**: QEMU's
//!   `env.xmm_regs` (32 × 512 bits) goes out as four struct sub-arrays
//!   (`VMSTATE_STRUCT_SUB_ARRAY`): bits 0-127 and 128-255 of registers
//!   0-15 in the main description (both fields named `env.xmm_regs`), bits
//!   256-511 of 0-15 and all of 16-31 in `cpu/avx512`. The mirror stores
//!   each view where it travels ([`X86Cpu::xmm_regs`],
//!   [`X86Cpu::ymmh_regs`], [`CpuAvx512`]); [`X86Cpu::zmm`] assembles a
//!   register;
//! * fields from version 8 and 12 in a description whose minimum is 11,
//!   struct arrays (`env.segs`, `env.mtrr_var`), `rename` for QEMU's
//!   `env.cr[0]`-style names;
//! * **47 subsections**, most a single MSR sent when not at its reset
//!   value, some decided by CPU features or machine properties (kept in
//!   [`CpuConfig`], not on the wire), one (`cpu/nested_state`) holding a
//!   **struct pointer** (`Box`) whose description has subsections of its
//!   own, and `post_load` checks that **reject** streams (an old FPU
//!   format, a TSC frequency other than the one the destination was
//!   started with, guest mode without nested state, nested state this
//!   destination cannot restore);
//! * a `pre_save` that computes wire fields from the CPU's working state
//!   (the x87 status word and tag word, the virtual TPR) and a `post_load`
//!   that derives it back.
//!
//! (vmstate-core's vmdesc recorder currently nests a `tmp` field's
//! description under `"struct"`, where QEMU writes it inline in the field;
//! the catalog's tests rewrite that one detail before comparing with the
//! fixtures' trailers.)
//!
//! QEMU's `post_load` also refreshes TCG's floating-point status,
//! breakpoints and TLB, and the SynIC's pages; the mirror has no TCG.
//! The KVM capability checks of QEMU's `pre_save` do not apply (the
//! mirror is not a KVM vCPU).

use vmstate_core::codec::VmTmp;
use vmstate_core::error::BoxError;
use vmstate_core::VmState;

/// `CPU_NB_REGS` on x86-64.
pub const CPU_NB_REGS: usize = 16;
/// `MCE_BANKS_DEF`.
pub const MCE_BANKS_DEF: usize = 10;
/// `MSR_MTRRcap_VCNT`: variable MTRRs.
pub const MSR_MTRRCAP_VCNT: usize = 8;
/// `MAX_FIXED_COUNTERS`.
pub const MAX_FIXED_COUNTERS: usize = 3;
/// `MAX_GP_COUNTERS` (`MSR_IA32_PERF_STATUS - MSR_P6_EVNTSEL0`).
pub const MAX_GP_COUNTERS: usize = 18;
/// `NB_OPMASK_REGS`.
pub const NB_OPMASK_REGS: usize = 8;
/// `HV_CRASH_PARAMS`.
pub const HV_CRASH_PARAMS: usize = 5;
/// `HV_SINT_COUNT`.
pub const HV_SINT_COUNT: usize = 16;
/// `HV_STIMER_COUNT`.
pub const HV_STIMER_COUNT: usize = 4;
/// `MAX_RTIT_ADDRS`.
pub const MAX_RTIT_ADDRS: usize = 8;
/// `ARCH_LBR_NR_ENTRIES`.
pub const ARCH_LBR_NR_ENTRIES: usize = 32;
/// `MSR_IA32_MISC_ENABLE_DEFAULT`.
pub const MSR_IA32_MISC_ENABLE_DEFAULT: u64 = 1;
/// `HF_CPL_MASK`: the current privilege level in `hflags`.
pub const HF_CPL_MASK: u32 = 3;
/// `HF_GUEST_MASK`: SVM guest mode (intercepts active).
pub const HF_GUEST_MASK: u32 = 1 << 21;
/// `HF2_NPT_MASK`: nested paging.
pub const HF2_NPT_MASK: u32 = 1 << 6;
/// `CR0_PE_MASK`: protected mode.
pub const CR0_PE_MASK: u64 = 1;
/// `DESC_DPL_SHIFT`.
pub const DESC_DPL_SHIFT: u32 = 13;
/// `DESC_DPL_MASK`.
pub const DESC_DPL_MASK: u32 = 3 << DESC_DPL_SHIFT;
/// `V_TPR_MASK`.
pub const V_TPR_MASK: u32 = 0x0f;
/// `HV_REENLIGHTENMENT_ENABLE_BIT`.
pub const HV_REENLIGHTENMENT_ENABLE_BIT: u64 = 1 << 16;
/// `EXCP01_DB`.
pub const EXCP01_DB: i32 = 1;
/// `EXCP0E_PAGE`.
pub const EXCP0E_PAGE: i32 = 14;
/// `R_SS`: index of SS in `env.segs` (ES, CS, SS, DS, FS, GS).
pub const R_SS: usize = 2;
/// `R_CS`.
pub const R_CS: usize = 1;
/// `KVM_STATE_NESTED_FORMAT_VMX`.
pub const KVM_STATE_NESTED_FORMAT_VMX: u16 = 0;
/// `KVM_STATE_NESTED_FORMAT_SVM`.
pub const KVM_STATE_NESTED_FORMAT_SVM: u16 = 1;
/// `KVM_STATE_NESTED_GUEST_MODE`.
pub const KVM_STATE_NESTED_GUEST_MODE: u16 = 1;
/// `KVM_STATE_NESTED_VMX_VMCS_SIZE` (and the SVM VMCB's).
pub const KVM_STATE_NESTED_VMCS_SIZE: usize = 0x1000;
/// `offsetof(struct kvm_nested_state, data)`: the header's size.
pub const KVM_NESTED_STATE_HEADER: u32 = 128;

/// Machine and CPU configuration that `needed` rules and checks read; not
/// on the wire. The defaults are those of the fixtures' TCG
/// `qemu64` CPU on `pc-i440fx-7.2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuConfig {
    /// TCG is the accelerator (`tcg_enabled()`).
    pub tcg: bool,
    /// The machine type sends the TSC frequency (`save_tsc_khz`).
    pub save_tsc_khz: bool,
    /// The `x-migrate-smi-count` property.
    pub migrate_smi_count: bool,
    /// The `lmce` property.
    pub enable_lmce: bool,
    /// The Hyper-V runtime enlightenment is enabled.
    pub hyperv_runtime: bool,
    /// `tsc-frequency=` as given by the user, in kHz (0: none).
    pub user_tsc_khz: i64,
    /// CPUID: SVM TSC scaling.
    pub svm_tsc_scale: bool,
    /// The TSX_CTRL MSR is advertised.
    pub tsx_ctrl_msr: bool,
    /// CPUID: SGX launch control.
    pub sgx_lc: bool,
    /// CPUID: XFD.
    pub xfd: bool,
    /// CPUID: AMX tiles.
    pub amx_tile: bool,
    /// CPUID: architectural LBRs.
    pub arch_lbr: bool,
    /// CPUID: FRED (flexible return and event delivery).
    pub fred: bool,
    /// The machine emulates Xen (`xen_mode == XEN_EMULATE`).
    pub xen_emulate: bool,
    /// The largest nested state the kernel can restore
    /// (`kvm_max_nested_state_length()`; 0 without KVM).
    pub max_nested_state_len: u32,
}

impl Default for CpuConfig {
    fn default() -> Self {
        CpuConfig {
            tcg: true,
            save_tsc_khz: true,
            migrate_smi_count: true,
            enable_lmce: false,
            hyperv_runtime: false,
            user_tsc_khz: 0,
            svm_tsc_scale: false,
            tsx_ctrl_msr: false,
            sgx_lc: false,
            xfd: false,
            amx_tile: false,
            arch_lbr: false,
            fred: false,
            xen_emulate: false,
            max_nested_state_len: 0,
        }
    }
}

/// Why a loaded CPU state was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CpuStateError {
    /// The stream's TSC frequency differs from the user's `tsc-frequency`.
    TscFrequencyMismatch {
        /// The stream's, in kHz.
        migrated: i64,
        /// The destination's, in kHz.
        user: i64,
    },
    /// `fpregs_format_vmstate` is not 0: a pre-softfloat FPU format.
    OldFpuFormat(u16),
    /// The guest uses re-enlightenment notifications, and the destination
    /// has no fixed TSC frequency.
    ReenlightenmentWithoutTscFrequency,
    /// The CPU is in SVM guest mode without nested state.
    GuestModeWithoutNestedState,
    /// Nested state this destination cannot restore.
    NestedState(&'static str),
}

impl std::fmt::Display for CpuStateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CpuStateError::TscFrequencyMismatch { migrated, user } => write!(
                f,
                "migrated TSC frequency {migrated} kHz differs from the user-specified {user} kHz"
            ),
            CpuStateError::OldFpuFormat(v) => {
                write!(f, "unsupported old non-softfloat CPU state (format {v})")
            }
            CpuStateError::ReenlightenmentWithoutTscFrequency => write!(
                f,
                "the guest enabled re-enlightenment notifications; 'tsc-frequency=' has to be specified"
            ),
            CpuStateError::GuestModeWithoutNestedState => write!(
                f,
                "vCPU set in guest-mode inconsistent with migrated kernel nested state"
            ),
            CpuStateError::NestedState(why) => write!(f, "nested state: {why}"),
        }
    }
}

impl std::error::Error for CpuStateError {}

/// `vmstate_segment` ("segment", version 1): a segment register's cache.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "segment", version = 1, minimum_version = 1)]
pub struct Segment {
    /// Selector.
    pub selector: u32,
    /// Base address.
    pub base: u64,
    /// Limit.
    pub limit: u32,
    /// Descriptor flags (type, DPL, present, ...).
    pub flags: u32,
}

/// An x87 register: the 80-bit extended float, as QEMU's `floatx80`
/// (64-bit mantissa with explicit integer bit, 16-bit sign and exponent).
/// With MMX in use, `mant` is the MMX register.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "fpreg", version = 0)]
pub struct FpReg {
    /// The register through its temporary (`VMSTATE_WITH_TMP`).
    #[vmstate(tmp = FpRegTmp)]
    pub tmp: (),
    /// Mantissa; not on the wire as such.
    #[vmstate(skip)]
    pub mant: u64,
    /// Sign and exponent; not on the wire as such.
    #[vmstate(skip)]
    pub exp: u16,
}

/// `vmstate_fpreg_tmp` ("fpreg_tmp", version 0): an x87 register split in
/// two integers on the wire.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "fpreg_tmp", version = 0)]
pub struct FpRegTmp {
    /// The mantissa.
    pub tmp_mant: u64,
    /// Sign and exponent.
    pub tmp_exp: u16,
}

impl VmTmp<FpReg> for FpRegTmp {
    /// `fpreg_pre_save`.
    fn fill_from_parent(&mut self, parent: &FpReg) -> Result<(), BoxError> {
        self.tmp_mant = parent.mant;
        self.tmp_exp = parent.exp;
        Ok(())
    }

    /// `fpreg_post_load`.
    fn apply_to_parent(&mut self, parent: &mut FpReg) -> Result<(), BoxError> {
        parent.mant = self.tmp_mant;
        parent.exp = self.tmp_exp;
        Ok(())
    }
}

/// `vmstate_xmm_reg` ("xmm_reg", version 1): bits 0-127 of a vector
/// register.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "xmm_reg", version = 1, minimum_version = 1)]
pub struct XmmReg {
    /// Bits 0-63 (`ZMM_Q(0)`).
    #[vmstate(rename = "_q_ZMMReg[0]")]
    pub q0: u64,
    /// Bits 64-127.
    #[vmstate(rename = "_q_ZMMReg[1]")]
    pub q1: u64,
}

/// `vmstate_ymmh_reg` ("ymmh_reg", version 1): bits 128-255.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "ymmh_reg", version = 1, minimum_version = 1)]
pub struct YmmhReg {
    /// Bits 128-191 (`ZMM_Q(2)`).
    #[vmstate(rename = "_q_ZMMReg[2]")]
    pub q2: u64,
    /// Bits 192-255.
    #[vmstate(rename = "_q_ZMMReg[3]")]
    pub q3: u64,
}

/// `vmstate_zmmh_reg` ("zmmh_reg", version 1): bits 256-511.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "zmmh_reg", version = 1, minimum_version = 1)]
pub struct ZmmhReg {
    /// Bits 256-319 (`ZMM_Q(4)`).
    #[vmstate(rename = "_q_ZMMReg[4]")]
    pub q4: u64,
    /// Bits 320-383.
    #[vmstate(rename = "_q_ZMMReg[5]")]
    pub q5: u64,
    /// Bits 384-447.
    #[vmstate(rename = "_q_ZMMReg[6]")]
    pub q6: u64,
    /// Bits 448-511.
    #[vmstate(rename = "_q_ZMMReg[7]")]
    pub q7: u64,
}

/// `vmstate_hi16_zmm_reg` ("hi16_zmm_reg", version 1): a whole register of
/// 16-31.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "hi16_zmm_reg", version = 1, minimum_version = 1)]
pub struct Hi16ZmmReg {
    /// Bits 0-63.
    #[vmstate(rename = "_q_ZMMReg[0]")]
    pub q0: u64,
    /// Bits 64-127.
    #[vmstate(rename = "_q_ZMMReg[1]")]
    pub q1: u64,
    /// Bits 128-191.
    #[vmstate(rename = "_q_ZMMReg[2]")]
    pub q2: u64,
    /// Bits 192-255.
    #[vmstate(rename = "_q_ZMMReg[3]")]
    pub q3: u64,
    /// Bits 256-319.
    #[vmstate(rename = "_q_ZMMReg[4]")]
    pub q4: u64,
    /// Bits 320-383.
    #[vmstate(rename = "_q_ZMMReg[5]")]
    pub q5: u64,
    /// Bits 384-447.
    #[vmstate(rename = "_q_ZMMReg[6]")]
    pub q6: u64,
    /// Bits 448-511.
    #[vmstate(rename = "_q_ZMMReg[7]")]
    pub q7: u64,
}

/// `vmstate_mtrr_var` ("mtrr_var", version 1): a variable-range MTRR.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "mtrr_var", version = 1, minimum_version = 1)]
pub struct MtrrVar {
    /// PHYSBASE.
    pub base: u64,
    /// PHYSMASK.
    pub mask: u64,
}

/// `vmstate_bnd_regs` ("bnd_regs", version 1): an MPX bound register.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "bnd_regs", version = 1, minimum_version = 1)]
pub struct BndReg {
    /// Lower bound.
    pub lb: u64,
    /// Upper bound.
    pub ub: u64,
}

/// `vmstate_lbr_records_var` ("lbr_records_var", version 1): a
/// last-branch record.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "lbr_records_var", version = 1, minimum_version = 1)]
pub struct LbrEntry {
    /// Branch source.
    pub from: u64,
    /// Branch target.
    pub to: u64,
    /// Branch info.
    pub info: u64,
}

/// Declares a subsection of one plain field.
macro_rules! single_field_subsection {
    ($(#[doc = $doc:literal] $ty:ident $name:literal { $field:ident: $t:ty = $wire:literal })*) => {$(
        #[doc = $doc]
        #[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
        #[vmstate(name = $name, version = 1, minimum_version = 1)]
        pub struct $ty {
            #[doc = concat!("`", $wire, "`.")]
            #[vmstate(rename = $wire)]
            pub $field: $t,
        }
    )*};
}

single_field_subsection! {
    /// Subsection `cpu/async_pf_msr`: the async page-fault MSR.
    CpuAsyncPfMsr "cpu/async_pf_msr" { async_pf_en_msr: u64 = "env.async_pf_en_msr" }
    /// Subsection `cpu/async_pf_int_msr`.
    CpuAsyncPfIntMsr "cpu/async_pf_int_msr" { async_pf_int_msr: u64 = "env.async_pf_int_msr" }
    /// Subsection `cpu/async_pv_eoi_msr`: the PV EOI MSR.
    CpuPvEoiMsr "cpu/async_pv_eoi_msr" { pv_eoi_en_msr: u64 = "env.pv_eoi_en_msr" }
    /// Subsection `cpu/steal_time_msr`.
    CpuStealTimeMsr "cpu/steal_time_msr" { steal_time_msr: u64 = "env.steal_time_msr" }
    /// Subsection `cpu/poll_control_msr` (sent when not 1).
    CpuPollControlMsr "cpu/poll_control_msr" { poll_control_msr: u64 = "env.poll_control_msr" }
    /// Subsection `cpu/msr_tsc_adjust`.
    CpuMsrTscAdjust "cpu/msr_tsc_adjust" { tsc_adjust: u64 = "env.tsc_adjust" }
    /// Subsection `cpu/msr_tscdeadline`.
    CpuMsrTscDeadline "cpu/msr_tscdeadline" { tsc_deadline: u64 = "env.tsc_deadline" }
    /// Subsection `cpu/msr_ia32_misc_enable` (sent when not the default).
    CpuMsrIa32MiscEnable "cpu/msr_ia32_misc_enable" { msr_ia32_misc_enable: u64 = "env.msr_ia32_misc_enable" }
    /// Subsection `cpu/msr_ia32_feature_control`.
    CpuMsrIa32FeatureControl "cpu/msr_ia32_feature_control" { msr_ia32_feature_control: u64 = "env.msr_ia32_feature_control" }
    /// Subsection `cpu/msr_hyperv_vapic`.
    CpuMsrHypervVapic "cpu/msr_hyperv_vapic" { msr_hv_vapic: u64 = "env.msr_hv_vapic" }
    /// Subsection `cpu/msr_hyperv_time`.
    CpuMsrHypervTime "cpu/msr_hyperv_time" { msr_hv_tsc: u64 = "env.msr_hv_tsc" }
    /// Subsection `cpu/msr_hyperv_crash`.
    CpuMsrHypervCrash "cpu/msr_hyperv_crash" { msr_hv_crash_params: [u64; HV_CRASH_PARAMS] = "env.msr_hv_crash_params" }
    /// Subsection `cpu/msr_hyperv_runtime`.
    CpuMsrHypervRuntime "cpu/msr_hyperv_runtime" { msr_hv_runtime: u64 = "env.msr_hv_runtime" }
    /// Subsection `cpu/xss`.
    CpuXss "cpu/xss" { xss: u64 = "env.xss" }
    /// Subsection `cpu/umwait`.
    CpuUmwait "cpu/umwait" { umwait: u32 = "env.umwait" }
    /// Subsection `cpu/tsc_khz`: the TSC frequency.
    CpuTscKhz "cpu/tsc_khz" { tsc_khz: i64 = "env.tsc_khz" }
    /// Subsection `cpu/msr_smi_count`.
    CpuMsrSmiCount "cpu/msr_smi_count" { msr_smi_count: u64 = "env.msr_smi_count" }
    /// Subsection `cpu/pkru`.
    CpuPkru "cpu/pkru" { pkru: u32 = "env.pkru" }
    /// Subsection `cpu/pkrs`.
    CpuPkrs "cpu/pkrs" { pkrs: u32 = "env.pkrs" }
    /// Subsection `cpu/spec_ctrl`.
    CpuSpecCtrl "cpu/spec_ctrl" { spec_ctrl: u64 = "env.spec_ctrl" }
    /// Subsection `cpu/amd_tsc_scale_msr`.
    CpuAmdTscScaleMsr "cpu/amd_tsc_scale_msr" { amd_tsc_scale_msr: u64 = "env.amd_tsc_scale_msr" }
    /// Subsection `cpu/mcg_ext_ctl`.
    CpuMcgExtCtl "cpu/mcg_ext_ctl" { mcg_ext_ctl: u64 = "env.mcg_ext_ctl" }
    /// Subsection `cpu/virt_ssbd`.
    CpuVirtSsbd "cpu/virt_ssbd" { virt_ssbd: u64 = "env.virt_ssbd" }
    /// Subsection `cpu/svm_guest`.
    CpuSvmGuest "cpu/svm_guest" { int_ctl: u32 = "env.int_ctl" }
    /// Subsection `cpu/msr_tsx_ctrl`.
    CpuMsrTsxCtrl "cpu/msr_tsx_ctrl" { tsx_ctrl: u32 = "env.tsx_ctrl" }
    /// Subsection `cpu/intel_sgx`.
    CpuIntelSgx "cpu/intel_sgx" { msr_ia32_sgxlepubkeyhash: [u64; 4] = "env.msr_ia32_sgxlepubkeyhash" }
    /// Subsection `cpu/triple_fault`.
    CpuTripleFault "cpu/triple_fault" { triple_fault_pending: u8 = "env.triple_fault_pending" }
    /// Subsection `cpu/msr_hwcr` (QEMU 8.2 on): AMD's HWCR, if not zero.
    CpuMsrHwcr "cpu/msr_hwcr" { msr_hwcr: u64 = "env.msr_hwcr" }
}

/// Subsection `cpu/exception_info` (version 1): a pending exception of an
/// L2 guest.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/exception_info", version = 1, minimum_version = 1)]
pub struct CpuExceptionInfo {
    /// The exception is pending (not yet injected).
    #[vmstate(rename = "env.exception_pending")]
    pub exception_pending: u8,
    /// The exception has been injected.
    #[vmstate(rename = "env.exception_injected")]
    pub exception_injected: u8,
    /// `exception_payload` is valid.
    #[vmstate(rename = "env.exception_has_payload")]
    pub exception_has_payload: u8,
    /// CR2 (page fault) or DR6 (debug) for the exception.
    #[vmstate(rename = "env.exception_payload")]
    pub exception_payload: u64,
}

/// Subsection `cpu/fpop_ip_dp` (version 1): the last x87 instruction.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/fpop_ip_dp", version = 1, minimum_version = 1)]
pub struct CpuFpopIpDp {
    /// Opcode.
    #[vmstate(rename = "env.fpop")]
    pub fpop: u16,
    /// Instruction pointer.
    #[vmstate(rename = "env.fpip")]
    pub fpip: u64,
    /// Data pointer.
    #[vmstate(rename = "env.fpdp")]
    pub fpdp: u64,
}

/// Subsection `cpu/msr_architectural_pmu` (version 1).
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/msr_architectural_pmu", version = 1, minimum_version = 1)]
pub struct CpuMsrArchitecturalPmu {
    /// Fixed-counter control.
    #[vmstate(rename = "env.msr_fixed_ctr_ctrl")]
    pub msr_fixed_ctr_ctrl: u64,
    /// Global control.
    #[vmstate(rename = "env.msr_global_ctrl")]
    pub msr_global_ctrl: u64,
    /// Global status.
    #[vmstate(rename = "env.msr_global_status")]
    pub msr_global_status: u64,
    /// Global overflow control.
    #[vmstate(rename = "env.msr_global_ovf_ctrl")]
    pub msr_global_ovf_ctrl: u64,
    /// Fixed counters.
    #[vmstate(rename = "env.msr_fixed_counters")]
    pub msr_fixed_counters: [u64; MAX_FIXED_COUNTERS],
    /// General-purpose counters.
    #[vmstate(rename = "env.msr_gp_counters")]
    pub msr_gp_counters: [u64; MAX_GP_COUNTERS],
    /// Their event selectors.
    #[vmstate(rename = "env.msr_gp_evtsel")]
    pub msr_gp_evtsel: [u64; MAX_GP_COUNTERS],
}

impl CpuMsrArchitecturalPmu {
    /// `pmu_enable_needed`.
    fn any(&self) -> bool {
        self.msr_fixed_ctr_ctrl != 0
            || self.msr_global_ctrl != 0
            || self.msr_global_status != 0
            || self.msr_global_ovf_ctrl != 0
            || self.msr_fixed_counters.iter().any(|&c| c != 0)
            || self
                .msr_gp_counters
                .iter()
                .zip(&self.msr_gp_evtsel)
                .any(|(&c, &e)| c != 0 || e != 0)
    }
}

/// Subsection `cpu/mpx` (version 1): MPX bounds.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/mpx", version = 1, minimum_version = 1)]
pub struct CpuMpx {
    /// BND0-BND3.
    #[vmstate(rename = "env.bnd_regs")]
    pub bnd_regs: [BndReg; 4],
    /// BNDCFGU.
    #[vmstate(rename = "env.bndcs_regs.cfgu")]
    pub bndcs_cfgu: u64,
    /// BNDSTATUS.
    #[vmstate(rename = "env.bndcs_regs.sts")]
    pub bndcs_sts: u64,
    /// IA32_BNDCFGS.
    #[vmstate(rename = "env.msr_bndcfgs")]
    pub msr_bndcfgs: u64,
}

/// Subsection `cpu/msr_hyperv_hypercall` (version 1).
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/msr_hyperv_hypercall", version = 1, minimum_version = 1)]
pub struct CpuMsrHypervHypercall {
    /// HV_X64_MSR_GUEST_OS_ID.
    #[vmstate(rename = "env.msr_hv_guest_os_id")]
    pub msr_hv_guest_os_id: u64,
    /// HV_X64_MSR_HYPERCALL.
    #[vmstate(rename = "env.msr_hv_hypercall")]
    pub msr_hv_hypercall: u64,
}

/// Subsection `cpu/msr_hyperv_synic` (version 1).
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/msr_hyperv_synic", version = 1, minimum_version = 1)]
pub struct CpuMsrHypervSynic {
    /// SCONTROL.
    #[vmstate(rename = "env.msr_hv_synic_control")]
    pub msr_hv_synic_control: u64,
    /// SIEFP.
    #[vmstate(rename = "env.msr_hv_synic_evt_page")]
    pub msr_hv_synic_evt_page: u64,
    /// SIMP.
    #[vmstate(rename = "env.msr_hv_synic_msg_page")]
    pub msr_hv_synic_msg_page: u64,
    /// SINT0-15.
    #[vmstate(rename = "env.msr_hv_synic_sint")]
    pub msr_hv_synic_sint: [u64; HV_SINT_COUNT],
}

/// Subsection `cpu/msr_hyperv_stimer` (version 1).
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/msr_hyperv_stimer", version = 1, minimum_version = 1)]
pub struct CpuMsrHypervStimer {
    /// Synthetic timer configurations.
    #[vmstate(rename = "env.msr_hv_stimer_config")]
    pub msr_hv_stimer_config: [u64; HV_STIMER_COUNT],
    /// Synthetic timer counts.
    #[vmstate(rename = "env.msr_hv_stimer_count")]
    pub msr_hv_stimer_count: [u64; HV_STIMER_COUNT],
}

/// Subsection `cpu/msr_hyperv_reenlightenment` (version 1).
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(
    name = "cpu/msr_hyperv_reenlightenment",
    version = 1,
    minimum_version = 1,
    post_load = Self::post_load
)]
pub struct CpuMsrHypervReenlightenment {
    /// Re-enlightenment control.
    #[vmstate(rename = "env.msr_hv_reenlightenment_control")]
    pub msr_hv_reenlightenment_control: u64,
    /// TSC emulation control.
    #[vmstate(rename = "env.msr_hv_tsc_emulation_control")]
    pub msr_hv_tsc_emulation_control: u64,
    /// TSC emulation status.
    #[vmstate(rename = "env.msr_hv_tsc_emulation_status")]
    pub msr_hv_tsc_emulation_status: u64,
    /// Set when the subsection was loaded (its check, which needs the
    /// CPU's configuration, runs in [`X86Cpu`]'s `post_load`); not on the
    /// wire.
    #[vmstate(skip)]
    pub received: bool,
}

impl CpuMsrHypervReenlightenment {
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), CpuStateError> {
        self.received = true;
        Ok(())
    }
}

/// Subsection `cpu/avx512` (version 1): opmask registers and the upper
/// parts of the vector registers.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/avx512", version = 1, minimum_version = 1)]
pub struct CpuAvx512 {
    /// K0-K7.
    #[vmstate(rename = "env.opmask_regs")]
    pub opmask_regs: [u64; NB_OPMASK_REGS],
    /// Bits 256-511 of ZMM0-15 (`VMSTATE_ZMMH_REGS_VARS`).
    #[vmstate(rename = "env.xmm_regs")]
    pub zmmh_regs: [ZmmhReg; CPU_NB_REGS],
    /// ZMM16-31 (`VMSTATE_Hi16_ZMM_REGS_VARS`).
    #[vmstate(rename = "env.xmm_regs")]
    pub hi16_zmm_regs: [Hi16ZmmReg; CPU_NB_REGS],
}

impl CpuAvx512 {
    /// `avx512_needed`: any of its state is not zero.
    fn any(&self) -> bool {
        self.opmask_regs.iter().any(|&k| k != 0)
            || self.zmmh_regs.iter().any(|r| *r != ZmmhReg::default())
            || self
                .hi16_zmm_regs
                .iter()
                .any(|r| *r != Hi16ZmmReg::default())
    }
}

/// Subsection `cpu/intel_pt` (version 1): processor trace MSRs.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/intel_pt", version = 1, minimum_version = 1)]
pub struct CpuIntelPt {
    /// RTIT_CTL.
    #[vmstate(rename = "env.msr_rtit_ctrl")]
    pub msr_rtit_ctrl: u64,
    /// RTIT_STATUS.
    #[vmstate(rename = "env.msr_rtit_status")]
    pub msr_rtit_status: u64,
    /// RTIT_OUTPUT_BASE.
    #[vmstate(rename = "env.msr_rtit_output_base")]
    pub msr_rtit_output_base: u64,
    /// RTIT_OUTPUT_MASK_PTRS.
    #[vmstate(rename = "env.msr_rtit_output_mask")]
    pub msr_rtit_output_mask: u64,
    /// RTIT_CR3_MATCH.
    #[vmstate(rename = "env.msr_rtit_cr3_match")]
    pub msr_rtit_cr3_match: u64,
    /// RTIT_ADDRn_A/B.
    #[vmstate(rename = "env.msr_rtit_addrs")]
    pub msr_rtit_addrs: [u64; MAX_RTIT_ADDRS],
}

impl CpuIntelPt {
    /// `intel_pt_enable_needed`.
    fn any(&self) -> bool {
        self.msr_rtit_ctrl != 0
            || self.msr_rtit_status != 0
            || self.msr_rtit_output_base != 0
            || self.msr_rtit_output_mask != 0
            || self.msr_rtit_cr3_match != 0
            || self.msr_rtit_addrs.iter().any(|&a| a != 0)
    }
}

/// Subsection `cpu/svn_npt` (version 1; QEMU's spelling): nested paging.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/svn_npt", version = 1, minimum_version = 1)]
pub struct CpuSvmNpt {
    /// The L1 hypervisor's nested CR3.
    #[vmstate(rename = "env.nested_cr3")]
    pub nested_cr3: u64,
    /// Its paging mode.
    #[vmstate(rename = "env.nested_pg_mode")]
    pub nested_pg_mode: u32,
}

/// Subsection `cpu/nested_state` (version 1): KVM's nested
/// virtualization state (`VMSTATE_STRUCT_POINTER`).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(
    name = "cpu/nested_state",
    version = 1,
    minimum_version = 1,
    post_load = Self::post_load
)]
pub struct CpuNestedState {
    /// The kernel's nested state.
    #[vmstate(rename = "env.nested_state")]
    pub nested_state: Box<KvmNestedState>,
    /// Whether the vCPU has nested state at all (QEMU: the pointer is not
    /// NULL, only under KVM); not on the wire.
    #[vmstate(skip)]
    pub present: bool,
    /// Set when the subsection was loaded (its checks, which need the
    /// kernel's limit, run in [`X86Cpu`]'s `post_load`); not on the wire.
    #[vmstate(skip)]
    pub received: bool,
}

impl CpuNestedState {
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), CpuStateError> {
        self.received = true;
        Ok(())
    }
}

/// `vmstate_kvm_nested_state` ("cpu/kvm_nested_state", version 1): the
/// header of `struct kvm_nested_state` and, in subsections, its data.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/kvm_nested_state", version = 1, minimum_version = 1)]
pub struct KvmNestedState {
    /// `KVM_STATE_NESTED_*` flags.
    pub flags: u16,
    /// VMX (0) or SVM (1).
    pub format: u16,
    /// Bytes of the whole state, header included.
    pub size: u32,
    /// Subsection `cpu/kvm_nested_state/vmx`.
    #[vmstate(subsection, needed = Self::vmx_needed)]
    pub vmx: KvmNestedStateVmx,
    /// Subsection `cpu/kvm_nested_state/svm`.
    #[vmstate(subsection, needed = Self::svm_needed)]
    pub svm: KvmNestedStateSvm,
}

impl KvmNestedState {
    /// `vmx_nested_state_needed`: a VMX state with VMXON done.
    #[inline]
    pub fn vmx_needed(&self) -> bool {
        self.format == KVM_STATE_NESTED_FORMAT_VMX && self.vmx.vmxon_pa != u64::MAX
    }

    /// `svm_nested_state_needed`: an SVM state with data.
    #[inline]
    pub fn svm_needed(&self) -> bool {
        self.format == KVM_STATE_NESTED_FORMAT_SVM && self.size > KVM_NESTED_STATE_HEADER
    }
}

/// A zeroed 4 KiB page of nested state (a VMCS12 or a VMCB12).
fn zero_page() -> Box<[u8; KVM_STATE_NESTED_VMCS_SIZE]> {
    Box::new([0; KVM_STATE_NESTED_VMCS_SIZE])
}

/// Subsection `cpu/kvm_nested_state/vmx` (version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "cpu/kvm_nested_state/vmx", version = 1, minimum_version = 1)]
pub struct KvmNestedStateVmx {
    /// The VMXON region's address (-1: VMX off).
    #[vmstate(rename = "hdr.vmx.vmxon_pa")]
    pub vmxon_pa: u64,
    /// The current VMCS12's address.
    #[vmstate(rename = "hdr.vmx.vmcs12_pa")]
    pub vmcs12_pa: u64,
    /// SMM flags.
    #[vmstate(rename = "hdr.vmx.smm.flags")]
    pub smm_flags: u16,
    /// Subsection `cpu/kvm_nested_state/vmx/vmcs12`.
    #[vmstate(subsection, needed = Self::vmcs12_needed)]
    pub vmcs12: KvmNestedVmcs12,
    /// Subsection `cpu/kvm_nested_state/vmx/shadow_vmcs12`.
    #[vmstate(subsection, needed = Self::shadow_vmcs12_needed)]
    pub shadow_vmcs12: KvmNestedShadowVmcs12,
    /// The state's `size` (the parent's), which these `needed` rules
    /// read; set by [`X86Cpu`]'s `pre_save`. Not on the wire.
    #[vmstate(skip)]
    pub size: u32,
}

impl Default for KvmNestedStateVmx {
    fn default() -> Self {
        KvmNestedStateVmx {
            vmxon_pa: u64::MAX,
            vmcs12_pa: u64::MAX,
            smm_flags: 0,
            vmcs12: KvmNestedVmcs12::default(),
            shadow_vmcs12: KvmNestedShadowVmcs12::default(),
            size: 0,
        }
    }
}

impl KvmNestedStateVmx {
    /// `vmx_vmcs12_needed`: the state reaches into the VMCS12.
    #[inline]
    fn vmcs12_needed(&self) -> bool {
        self.size > KVM_NESTED_STATE_HEADER
    }

    /// `vmx_shadow_vmcs12_needed`: it reaches into the shadow VMCS12.
    #[inline]
    fn shadow_vmcs12_needed(&self) -> bool {
        self.size > KVM_NESTED_STATE_HEADER + KVM_STATE_NESTED_VMCS_SIZE as u32
    }
}

/// Subsection `cpu/kvm_nested_state/vmx/vmcs12` (version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "cpu/kvm_nested_state/vmx/vmcs12",
    version = 1,
    minimum_version = 1
)]
pub struct KvmNestedVmcs12 {
    /// The L1 hypervisor's current VMCS.
    #[vmstate(rename = "data.vmx[0].vmcs12")]
    pub vmcs12: Box<[u8; KVM_STATE_NESTED_VMCS_SIZE]>,
}

impl Default for KvmNestedVmcs12 {
    fn default() -> Self {
        KvmNestedVmcs12 {
            vmcs12: zero_page(),
        }
    }
}

/// Subsection `cpu/kvm_nested_state/vmx/shadow_vmcs12` (version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "cpu/kvm_nested_state/vmx/shadow_vmcs12",
    version = 1,
    minimum_version = 1
)]
pub struct KvmNestedShadowVmcs12 {
    /// Its shadow VMCS.
    #[vmstate(rename = "data.vmx[0].shadow_vmcs12")]
    pub shadow_vmcs12: Box<[u8; KVM_STATE_NESTED_VMCS_SIZE]>,
}

impl Default for KvmNestedShadowVmcs12 {
    fn default() -> Self {
        KvmNestedShadowVmcs12 {
            shadow_vmcs12: zero_page(),
        }
    }
}

/// Subsection `cpu/kvm_nested_state/svm` (version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "cpu/kvm_nested_state/svm", version = 1, minimum_version = 1)]
pub struct KvmNestedStateSvm {
    /// The VMCB's address.
    #[vmstate(rename = "hdr.svm.vmcb_pa")]
    pub vmcb_pa: u64,
    /// The L1 hypervisor's VMCB.
    #[vmstate(rename = "data.svm[0].vmcb12")]
    pub vmcb12: Box<[u8; KVM_STATE_NESTED_VMCS_SIZE]>,
}

impl Default for KvmNestedStateSvm {
    fn default() -> Self {
        KvmNestedStateSvm {
            vmcb_pa: 0,
            vmcb12: zero_page(),
        }
    }
}

/// Subsection `cpu/pdptrs` (version 1): PAE page-directory pointers.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(
    name = "cpu/pdptrs",
    version = 1,
    minimum_version = 1,
    post_load = Self::post_load
)]
pub struct CpuPdptrs {
    /// PDPTE0-3.
    #[vmstate(rename = "env.pdptrs")]
    pub pdptrs: [u64; 4],
    /// The PDPTEs are loaded; not on the wire.
    #[vmstate(skip)]
    pub pdptrs_valid: bool,
}

impl CpuPdptrs {
    /// `pdptrs_post_load`.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), CpuStateError> {
        self.pdptrs_valid = true;
        Ok(())
    }
}

/// `XEN_NR_VIRQS`: the Xen virtual IRQs a vCPU binds.
pub const XEN_NR_VIRQS: usize = 24;

/// Subsection `cpu/xen_vcpu` (version 1, QEMU 8.0 on): the vCPU's Xen
/// guest state under Xen emulation.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/xen_vcpu", version = 1, minimum_version = 1)]
pub struct CpuXenVcpu {
    /// Guest address of the vCPU info.
    #[vmstate(rename = "env.xen_vcpu_info_gpa")]
    pub xen_vcpu_info_gpa: u64,
    /// The default vCPU info address (in the shared info page).
    #[vmstate(rename = "env.xen_vcpu_info_default_gpa")]
    pub xen_vcpu_info_default_gpa: u64,
    /// Guest address of the time info.
    #[vmstate(rename = "env.xen_vcpu_time_info_gpa")]
    pub xen_vcpu_time_info_gpa: u64,
    /// Guest address of the runstate area.
    #[vmstate(rename = "env.xen_vcpu_runstate_gpa")]
    pub xen_vcpu_runstate_gpa: u64,
    /// The upcall vector.
    #[vmstate(rename = "env.xen_vcpu_callback_vector")]
    pub xen_vcpu_callback_vector: u8,
    /// Event channel port per virtual IRQ.
    #[vmstate(rename = "env.xen_virq")]
    pub xen_virq: [u16; XEN_NR_VIRQS],
    /// Deadline of the single-shot timer (ns).
    #[vmstate(rename = "env.xen_singleshot_timer_ns")]
    pub xen_singleshot_timer_ns: u64,
    /// Period of the periodic timer (ns).
    #[vmstate(rename = "env.xen_periodic_timer_period")]
    pub xen_periodic_timer_period: u64,
}

/// Subsection `cpu/fred` (version 1, QEMU 9.1 on): the FRED MSRs.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/fred", version = 1, minimum_version = 1)]
pub struct CpuFred {
    /// IA32_FRED_RSP0.
    #[vmstate(rename = "env.fred_rsp0")]
    pub fred_rsp0: u64,
    /// IA32_FRED_RSP1.
    #[vmstate(rename = "env.fred_rsp1")]
    pub fred_rsp1: u64,
    /// IA32_FRED_RSP2.
    #[vmstate(rename = "env.fred_rsp2")]
    pub fred_rsp2: u64,
    /// IA32_FRED_RSP3.
    #[vmstate(rename = "env.fred_rsp3")]
    pub fred_rsp3: u64,
    /// IA32_FRED_STKLVLS.
    #[vmstate(rename = "env.fred_stklvls")]
    pub fred_stklvls: u64,
    /// IA32_FRED_SSP1.
    #[vmstate(rename = "env.fred_ssp1")]
    pub fred_ssp1: u64,
    /// IA32_FRED_SSP2.
    #[vmstate(rename = "env.fred_ssp2")]
    pub fred_ssp2: u64,
    /// IA32_FRED_SSP3.
    #[vmstate(rename = "env.fred_ssp3")]
    pub fred_ssp3: u64,
    /// IA32_FRED_CONFIG.
    #[vmstate(rename = "env.fred_config")]
    pub fred_config: u64,
}

/// Subsection `cpu/msr_xfd` (version 1).
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/msr_xfd", version = 1, minimum_version = 1)]
pub struct CpuMsrXfd {
    /// IA32_XFD.
    #[vmstate(rename = "env.msr_xfd")]
    pub msr_xfd: u64,
    /// IA32_XFD_ERR.
    #[vmstate(rename = "env.msr_xfd_err")]
    pub msr_xfd_err: u64,
}

/// Subsection `cpu/intel_amx_xtile` (version 1): AMX tile state.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "cpu/intel_amx_xtile", version = 1, minimum_version = 1)]
pub struct CpuAmxXtile {
    /// TILECFG.
    #[vmstate(rename = "env.xtilecfg")]
    pub xtilecfg: [u8; 64],
    /// TILEDATA (8 tiles of 1 KiB).
    #[vmstate(rename = "env.xtiledata")]
    pub xtiledata: Box<[u8; 8192]>,
}

impl Default for CpuAmxXtile {
    fn default() -> Self {
        CpuAmxXtile {
            xtilecfg: [0; 64],
            xtiledata: Box::new([0; 8192]),
        }
    }
}

/// Subsection `cpu/arch_lbr` (version 1): architectural LBRs.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "cpu/arch_lbr", version = 1, minimum_version = 1)]
pub struct CpuArchLbr {
    /// IA32_LBR_CTL.
    #[vmstate(rename = "env.msr_lbr_ctl")]
    pub msr_lbr_ctl: u64,
    /// IA32_LBR_DEPTH.
    #[vmstate(rename = "env.msr_lbr_depth")]
    pub msr_lbr_depth: u64,
    /// The records (field version 1).
    #[vmstate(rename = "env.lbr_records", version = 1)]
    pub lbr_records: [LbrEntry; ARCH_LBR_NR_ENTRIES],
}

/// Section `cpu` (`vmstate_x86_cpu`, version 12, minimum 11).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "cpu",
    version = 12,
    minimum_version = 11,
    pre_save = Self::pre_save,
    pre_load = Self::pre_load,
    post_load = Self::post_load
)]
pub struct X86Cpu {
    /// RAX ... R15.
    #[vmstate(rename = "env.regs")]
    pub regs: [u64; CPU_NB_REGS],
    /// RIP.
    #[vmstate(rename = "env.eip")]
    pub eip: u64,
    /// RFLAGS.
    #[vmstate(rename = "env.eflags")]
    pub eflags: u64,
    /// QEMU's hidden flags (CPL, modes, ...).
    #[vmstate(rename = "env.hflags")]
    pub hflags: u32,
    /// x87 control word.
    #[vmstate(rename = "env.fpuc")]
    pub fpuc: u16,
    /// x87 status word with the stack top in bits 11-13 (from `pre_save`).
    #[vmstate(rename = "env.fpus_vmstate")]
    pub fpus_vmstate: u16,
    /// x87 abridged tag word, 1 = valid (from `pre_save`).
    #[vmstate(rename = "env.fptag_vmstate")]
    pub fptag_vmstate: u16,
    /// The x87 register format: 0 (softfloat); anything else is refused.
    #[vmstate(rename = "env.fpregs_format_vmstate")]
    pub fpregs_format_vmstate: u16,
    /// ST0-ST7.
    #[vmstate(rename = "env.fpregs")]
    pub fpregs: [FpReg; 8],
    /// ES, CS, SS, DS, FS, GS.
    #[vmstate(rename = "env.segs")]
    pub segs: [Segment; 6],
    /// LDTR.
    #[vmstate(rename = "env.ldt")]
    pub ldt: Segment,
    /// TR.
    #[vmstate(rename = "env.tr")]
    pub tr: Segment,
    /// GDTR.
    #[vmstate(rename = "env.gdt")]
    pub gdt: Segment,
    /// IDTR.
    #[vmstate(rename = "env.idt")]
    pub idt: Segment,
    /// SYSENTER_CS.
    #[vmstate(rename = "env.sysenter_cs")]
    pub sysenter_cs: u32,
    /// SYSENTER_ESP.
    #[vmstate(rename = "env.sysenter_esp")]
    pub sysenter_esp: u64,
    /// SYSENTER_EIP.
    #[vmstate(rename = "env.sysenter_eip")]
    pub sysenter_eip: u64,
    /// CR0.
    #[vmstate(rename = "env.cr[0]")]
    pub cr0: u64,
    /// CR2.
    #[vmstate(rename = "env.cr[2]")]
    pub cr2: u64,
    /// CR3.
    #[vmstate(rename = "env.cr[3]")]
    pub cr3: u64,
    /// CR4.
    #[vmstate(rename = "env.cr[4]")]
    pub cr4: u64,
    /// DR0-DR7.
    #[vmstate(rename = "env.dr")]
    pub dr: [u64; 8],
    /// The A20 mask.
    #[vmstate(rename = "env.a20_mask")]
    pub a20_mask: i32,
    /// MXCSR.
    #[vmstate(rename = "env.mxcsr")]
    pub mxcsr: u32,
    /// Bits 0-127 of XMM0-15 (`VMSTATE_XMM_REGS`).
    #[vmstate(rename = "env.xmm_regs")]
    pub xmm_regs: [XmmReg; CPU_NB_REGS],
    /// EFER.
    #[vmstate(rename = "env.efer")]
    pub efer: u64,
    /// STAR.
    #[vmstate(rename = "env.star")]
    pub star: u64,
    /// LSTAR.
    #[vmstate(rename = "env.lstar")]
    pub lstar: u64,
    /// CSTAR.
    #[vmstate(rename = "env.cstar")]
    pub cstar: u64,
    /// SFMASK.
    #[vmstate(rename = "env.fmask")]
    pub fmask: u64,
    /// KERNEL_GS_BASE.
    #[vmstate(rename = "env.kernelgsbase")]
    pub kernelgsbase: u64,
    /// SMBASE.
    #[vmstate(rename = "env.smbase")]
    pub smbase: u32,
    /// PAT.
    #[vmstate(rename = "env.pat")]
    pub pat: u64,
    /// More hidden flags (GIF, NMI masking, NPT, ...).
    #[vmstate(rename = "env.hflags2")]
    pub hflags2: u32,
    /// SVM host save area.
    #[vmstate(rename = "env.vm_hsave")]
    pub vm_hsave: u64,
    /// The current VMCB.
    #[vmstate(rename = "env.vm_vmcb")]
    pub vm_vmcb: u64,
    /// TSC offset under SVM.
    #[vmstate(rename = "env.tsc_offset")]
    pub tsc_offset: u64,
    /// SVM intercepts.
    #[vmstate(rename = "env.intercept")]
    pub intercept: u64,
    /// CR read intercepts.
    #[vmstate(rename = "env.intercept_cr_read")]
    pub intercept_cr_read: u16,
    /// CR write intercepts.
    #[vmstate(rename = "env.intercept_cr_write")]
    pub intercept_cr_write: u16,
    /// DR read intercepts.
    #[vmstate(rename = "env.intercept_dr_read")]
    pub intercept_dr_read: u16,
    /// DR write intercepts.
    #[vmstate(rename = "env.intercept_dr_write")]
    pub intercept_dr_write: u16,
    /// Exception intercepts.
    #[vmstate(rename = "env.intercept_exceptions")]
    pub intercept_exceptions: u32,
    /// The virtual TPR (from `int_ctl` by `pre_save`).
    #[vmstate(rename = "env.v_tpr")]
    pub v_tpr: u8,
    /// Fixed-range MTRRs.
    #[vmstate(rename = "env.mtrr_fixed")]
    pub mtrr_fixed: [u64; 11],
    /// MTRR default type.
    #[vmstate(rename = "env.mtrr_deftype")]
    pub mtrr_deftype: u64,
    /// Variable-range MTRRs (field version 8).
    #[vmstate(rename = "env.mtrr_var", version = 8)]
    pub mtrr_var: [MtrrVar; MSR_MTRRCAP_VCNT],
    /// An interrupt being injected (-1: none).
    #[vmstate(rename = "env.interrupt_injected")]
    pub interrupt_injected: i32,
    /// KVM's multiprocessing state.
    #[vmstate(rename = "env.mp_state")]
    pub mp_state: u32,
    /// The TSC.
    #[vmstate(rename = "env.tsc")]
    pub tsc: u64,
    /// An exception being delivered (-1: none).
    #[vmstate(rename = "env.exception_nr")]
    pub exception_nr: i32,
    /// It is a software interrupt.
    #[vmstate(rename = "env.soft_interrupt")]
    pub soft_interrupt: u8,
    /// An NMI is being injected.
    #[vmstate(rename = "env.nmi_injected")]
    pub nmi_injected: u8,
    /// An NMI is pending.
    #[vmstate(rename = "env.nmi_pending")]
    pub nmi_pending: u8,
    /// The exception has an error code.
    #[vmstate(rename = "env.has_error_code")]
    pub has_error_code: u8,
    /// The SIPI vector.
    #[vmstate(rename = "env.sipi_vector")]
    pub sipi_vector: u32,
    /// MCG_CAP.
    #[vmstate(rename = "env.mcg_cap")]
    pub mcg_cap: u64,
    /// MCG_STATUS.
    #[vmstate(rename = "env.mcg_status")]
    pub mcg_status: u64,
    /// MCG_CTL.
    #[vmstate(rename = "env.mcg_ctl")]
    pub mcg_ctl: u64,
    /// The machine-check banks (4 MSRs each).
    #[vmstate(rename = "env.mce_banks")]
    pub mce_banks: [u64; MCE_BANKS_DEF * 4],
    /// TSC_AUX.
    #[vmstate(rename = "env.tsc_aux")]
    pub tsc_aux: u64,
    /// kvmclock system time MSR.
    #[vmstate(rename = "env.system_time_msr")]
    pub system_time_msr: u64,
    /// kvmclock wall clock MSR.
    #[vmstate(rename = "env.wall_clock_msr")]
    pub wall_clock_msr: u64,
    /// XCR0 (from version 12).
    #[vmstate(rename = "env.xcr0", version = 12)]
    pub xcr0: u64,
    /// XSTATE_BV (from version 12).
    #[vmstate(rename = "env.xstate_bv", version = 12)]
    pub xstate_bv: u64,
    /// Bits 128-255 of YMM0-15 (from version 12).
    #[vmstate(rename = "env.xmm_regs", version = 12)]
    pub ymmh_regs: [YmmhReg; CPU_NB_REGS],

    /// Subsection `cpu/exception_info`.
    #[vmstate(subsection, needed = Self::exception_info_needed)]
    pub exception_info: CpuExceptionInfo,
    /// Subsection `cpu/async_pf_msr`.
    #[vmstate(subsection, needed = Self::async_pf_msr_needed)]
    pub async_pf_msr: CpuAsyncPfMsr,
    /// Subsection `cpu/async_pf_int_msr`.
    #[vmstate(subsection, needed = Self::async_pf_int_msr_needed)]
    pub async_pf_int_msr: CpuAsyncPfIntMsr,
    /// Subsection `cpu/async_pv_eoi_msr`.
    #[vmstate(subsection, needed = Self::pv_eoi_msr_needed)]
    pub pv_eoi_msr: CpuPvEoiMsr,
    /// Subsection `cpu/steal_time_msr`.
    #[vmstate(subsection, needed = Self::steal_time_msr_needed)]
    pub steal_time_msr: CpuStealTimeMsr,
    /// Subsection `cpu/poll_control_msr`.
    #[vmstate(subsection, needed = Self::poll_control_msr_needed)]
    pub poll_control_msr: CpuPollControlMsr,
    /// Subsection `cpu/fpop_ip_dp`.
    #[vmstate(subsection, needed = Self::fpop_ip_dp_needed)]
    pub fpop_ip_dp: CpuFpopIpDp,
    /// Subsection `cpu/msr_tsc_adjust`.
    #[vmstate(subsection, needed = Self::tsc_adjust_needed)]
    pub msr_tsc_adjust: CpuMsrTscAdjust,
    /// Subsection `cpu/msr_tscdeadline`.
    #[vmstate(subsection, needed = Self::tscdeadline_needed)]
    pub msr_tscdeadline: CpuMsrTscDeadline,
    /// Subsection `cpu/msr_ia32_misc_enable`.
    #[vmstate(subsection, needed = Self::misc_enable_needed)]
    pub msr_ia32_misc_enable: CpuMsrIa32MiscEnable,
    /// Subsection `cpu/msr_ia32_feature_control`.
    #[vmstate(subsection, needed = Self::feature_control_needed)]
    pub msr_ia32_feature_control: CpuMsrIa32FeatureControl,
    /// Subsection `cpu/msr_architectural_pmu`.
    #[vmstate(subsection, needed = Self::pmu_enable_needed)]
    pub msr_architectural_pmu: CpuMsrArchitecturalPmu,
    /// Subsection `cpu/mpx`.
    #[vmstate(subsection, needed = Self::mpx_needed)]
    pub mpx: CpuMpx,
    /// Subsection `cpu/msr_hyperv_hypercall`.
    #[vmstate(subsection, needed = Self::hyperv_hypercall_needed)]
    pub msr_hyperv_hypercall: CpuMsrHypervHypercall,
    /// Subsection `cpu/msr_hyperv_vapic`.
    #[vmstate(subsection, needed = Self::hyperv_vapic_needed)]
    pub msr_hyperv_vapic: CpuMsrHypervVapic,
    /// Subsection `cpu/msr_hyperv_time`.
    #[vmstate(subsection, needed = Self::hyperv_time_needed)]
    pub msr_hyperv_time: CpuMsrHypervTime,
    /// Subsection `cpu/msr_hyperv_crash`.
    #[vmstate(subsection, needed = Self::hyperv_crash_needed)]
    pub msr_hyperv_crash: CpuMsrHypervCrash,
    /// Subsection `cpu/msr_hyperv_runtime`.
    #[vmstate(subsection, needed = Self::hyperv_runtime_needed)]
    pub msr_hyperv_runtime: CpuMsrHypervRuntime,
    /// Subsection `cpu/msr_hyperv_synic`.
    #[vmstate(subsection, needed = Self::hyperv_synic_needed)]
    pub msr_hyperv_synic: CpuMsrHypervSynic,
    /// Subsection `cpu/msr_hyperv_stimer`.
    #[vmstate(subsection, needed = Self::hyperv_stimer_needed)]
    pub msr_hyperv_stimer: CpuMsrHypervStimer,
    /// Subsection `cpu/msr_hyperv_reenlightenment`.
    #[vmstate(subsection, needed = Self::hyperv_reenlightenment_needed)]
    pub msr_hyperv_reenlightenment: CpuMsrHypervReenlightenment,
    /// Subsection `cpu/avx512`.
    #[vmstate(subsection, needed = Self::avx512_needed)]
    pub avx512: CpuAvx512,
    /// Subsection `cpu/xss`.
    #[vmstate(subsection, needed = Self::xss_needed)]
    pub xss: CpuXss,
    /// Subsection `cpu/umwait`.
    #[vmstate(subsection, needed = Self::umwait_needed)]
    pub umwait: CpuUmwait,
    /// Subsection `cpu/tsc_khz`.
    #[vmstate(subsection, needed = Self::tsc_khz_needed)]
    pub tsc_khz: CpuTscKhz,
    /// Subsection `cpu/msr_smi_count`.
    #[vmstate(subsection, needed = Self::msr_smi_count_needed)]
    pub msr_smi_count: CpuMsrSmiCount,
    /// Subsection `cpu/pkru`.
    #[vmstate(subsection, needed = Self::pkru_needed)]
    pub pkru: CpuPkru,
    /// Subsection `cpu/pkrs`.
    #[vmstate(subsection, needed = Self::pkrs_needed)]
    pub pkrs: CpuPkrs,
    /// Subsection `cpu/spec_ctrl`.
    #[vmstate(subsection, needed = Self::spec_ctrl_needed)]
    pub spec_ctrl: CpuSpecCtrl,
    /// Subsection `cpu/amd_tsc_scale_msr`.
    #[vmstate(subsection, needed = Self::amd_tsc_scale_msr_needed)]
    pub amd_tsc_scale_msr: CpuAmdTscScaleMsr,
    /// Subsection `cpu/mcg_ext_ctl`.
    #[vmstate(subsection, needed = Self::mcg_ext_ctl_needed)]
    pub mcg_ext_ctl: CpuMcgExtCtl,
    /// Subsection `cpu/intel_pt`.
    #[vmstate(subsection, needed = Self::intel_pt_needed)]
    pub intel_pt: CpuIntelPt,
    /// Subsection `cpu/virt_ssbd`.
    #[vmstate(subsection, needed = Self::virt_ssbd_needed)]
    pub virt_ssbd: CpuVirtSsbd,
    /// Subsection `cpu/svn_npt`.
    #[vmstate(subsection, needed = Self::svm_npt_needed)]
    pub svm_npt: CpuSvmNpt,
    /// Subsection `cpu/svm_guest`.
    #[vmstate(subsection, needed = Self::svm_guest_needed)]
    pub svm_guest: CpuSvmGuest,
    /// Subsection `cpu/nested_state`.
    #[vmstate(subsection, needed = Self::nested_state_needed)]
    pub nested_state: CpuNestedState,
    /// Subsection `cpu/xen_vcpu`.
    #[vmstate(subsection, needed = Self::xen_vcpu_needed)]
    pub xen_vcpu: CpuXenVcpu,
    /// Subsection `cpu/msr_tsx_ctrl`.
    #[vmstate(subsection, needed = Self::msr_tsx_ctrl_needed)]
    pub msr_tsx_ctrl: CpuMsrTsxCtrl,
    /// Subsection `cpu/intel_sgx`.
    #[vmstate(subsection, needed = Self::intel_sgx_needed)]
    pub intel_sgx: CpuIntelSgx,
    /// Subsection `cpu/pdptrs`.
    #[vmstate(subsection, needed = Self::pdptrs_needed)]
    pub pdptrs: CpuPdptrs,
    /// Subsection `cpu/msr_xfd`.
    #[vmstate(subsection, needed = Self::xfd_needed)]
    pub msr_xfd: CpuMsrXfd,
    /// Subsection `cpu/msr_hwcr`.
    #[vmstate(subsection, needed = Self::msr_hwcr_needed)]
    pub msr_hwcr: CpuMsrHwcr,
    /// Subsection `cpu/fred`.
    #[vmstate(subsection, needed = Self::fred_needed)]
    pub fred: CpuFred,
    /// Subsection `cpu/intel_amx_xtile`.
    #[vmstate(subsection, needed = Self::amx_xtile_needed)]
    pub amx_xtile: CpuAmxXtile,
    /// Subsection `cpu/arch_lbr`.
    #[vmstate(subsection, needed = Self::arch_lbr_needed)]
    pub arch_lbr: CpuArchLbr,
    /// Subsection `cpu/triple_fault`.
    #[vmstate(subsection, needed = Self::triple_fault_needed)]
    pub triple_fault: CpuTripleFault,

    /// The x87 status word without the stack top; not on the wire as
    /// such.
    #[vmstate(skip)]
    pub fpus: u16,
    /// The x87 stack top; not on the wire as such.
    #[vmstate(skip)]
    pub fpstt: u32,
    /// Per x87 register, 1 = empty; not on the wire as such.
    #[vmstate(skip)]
    pub fptags: [u8; 8],
    /// Configuration; not on the wire.
    #[vmstate(skip)]
    pub config: CpuConfig,
}

impl Default for X86Cpu {
    /// A CPU with every register zero except what QEMU's reset sets and
    /// the subsection rules compare against: no exception or interrupt in
    /// flight, the A20 gate open, all x87 registers empty, the
    /// miscellaneous-enable and poll-control MSRs at their defaults.
    fn default() -> Self {
        X86Cpu {
            regs: [0; CPU_NB_REGS],
            eip: 0,
            eflags: 0,
            hflags: 0,
            fpuc: 0,
            fpus_vmstate: 0,
            fptag_vmstate: 0,
            fpregs_format_vmstate: 0,
            fpregs: [FpReg::default(); 8],
            segs: [Segment::default(); 6],
            ldt: Segment::default(),
            tr: Segment::default(),
            gdt: Segment::default(),
            idt: Segment::default(),
            sysenter_cs: 0,
            sysenter_esp: 0,
            sysenter_eip: 0,
            cr0: 0,
            cr2: 0,
            cr3: 0,
            cr4: 0,
            dr: [0; 8],
            a20_mask: -1,
            mxcsr: 0,
            xmm_regs: [XmmReg::default(); CPU_NB_REGS],
            efer: 0,
            star: 0,
            lstar: 0,
            cstar: 0,
            fmask: 0,
            kernelgsbase: 0,
            smbase: 0,
            pat: 0,
            hflags2: 0,
            vm_hsave: 0,
            vm_vmcb: 0,
            tsc_offset: 0,
            intercept: 0,
            intercept_cr_read: 0,
            intercept_cr_write: 0,
            intercept_dr_read: 0,
            intercept_dr_write: 0,
            intercept_exceptions: 0,
            v_tpr: 0,
            mtrr_fixed: [0; 11],
            mtrr_deftype: 0,
            mtrr_var: [MtrrVar::default(); MSR_MTRRCAP_VCNT],
            interrupt_injected: -1,
            mp_state: 0,
            tsc: 0,
            exception_nr: -1,
            soft_interrupt: 0,
            nmi_injected: 0,
            nmi_pending: 0,
            has_error_code: 0,
            sipi_vector: 0,
            mcg_cap: 0,
            mcg_status: 0,
            mcg_ctl: 0,
            mce_banks: [0; MCE_BANKS_DEF * 4],
            tsc_aux: 0,
            system_time_msr: 0,
            wall_clock_msr: 0,
            xcr0: 0,
            xstate_bv: 0,
            ymmh_regs: [YmmhReg::default(); CPU_NB_REGS],
            exception_info: CpuExceptionInfo::default(),
            async_pf_msr: CpuAsyncPfMsr::default(),
            async_pf_int_msr: CpuAsyncPfIntMsr::default(),
            pv_eoi_msr: CpuPvEoiMsr::default(),
            steal_time_msr: CpuStealTimeMsr::default(),
            poll_control_msr: CpuPollControlMsr {
                poll_control_msr: 1,
            },
            fpop_ip_dp: CpuFpopIpDp::default(),
            msr_tsc_adjust: CpuMsrTscAdjust::default(),
            msr_tscdeadline: CpuMsrTscDeadline::default(),
            msr_ia32_misc_enable: CpuMsrIa32MiscEnable {
                msr_ia32_misc_enable: MSR_IA32_MISC_ENABLE_DEFAULT,
            },
            msr_ia32_feature_control: CpuMsrIa32FeatureControl::default(),
            msr_architectural_pmu: CpuMsrArchitecturalPmu::default(),
            mpx: CpuMpx::default(),
            msr_hyperv_hypercall: CpuMsrHypervHypercall::default(),
            msr_hyperv_vapic: CpuMsrHypervVapic::default(),
            msr_hyperv_time: CpuMsrHypervTime::default(),
            msr_hyperv_crash: CpuMsrHypervCrash::default(),
            msr_hyperv_runtime: CpuMsrHypervRuntime::default(),
            msr_hyperv_synic: CpuMsrHypervSynic::default(),
            msr_hyperv_stimer: CpuMsrHypervStimer::default(),
            msr_hyperv_reenlightenment: CpuMsrHypervReenlightenment::default(),
            avx512: CpuAvx512::default(),
            xss: CpuXss::default(),
            umwait: CpuUmwait::default(),
            tsc_khz: CpuTscKhz::default(),
            msr_smi_count: CpuMsrSmiCount::default(),
            pkru: CpuPkru::default(),
            pkrs: CpuPkrs::default(),
            spec_ctrl: CpuSpecCtrl::default(),
            amd_tsc_scale_msr: CpuAmdTscScaleMsr::default(),
            mcg_ext_ctl: CpuMcgExtCtl::default(),
            intel_pt: CpuIntelPt::default(),
            virt_ssbd: CpuVirtSsbd::default(),
            svm_npt: CpuSvmNpt::default(),
            svm_guest: CpuSvmGuest::default(),
            nested_state: CpuNestedState::default(),
            msr_tsx_ctrl: CpuMsrTsxCtrl::default(),
            intel_sgx: CpuIntelSgx::default(),
            pdptrs: CpuPdptrs::default(),
            msr_xfd: CpuMsrXfd::default(),
            amx_xtile: CpuAmxXtile::default(),
            xen_vcpu: CpuXenVcpu::default(),
            msr_hwcr: CpuMsrHwcr::default(),
            fred: CpuFred::default(),
            arch_lbr: CpuArchLbr::default(),
            triple_fault: CpuTripleFault::default(),
            fpus: 0,
            fpstt: 0,
            fptags: [1; 8],
            config: CpuConfig::default(),
        }
    }
}

impl X86Cpu {
    /// Vector register `i` (0-31) as eight 64-bit lanes (bits 0-63
    /// first), assembled from the views the descriptions send.
    pub fn zmm(&self, i: usize) -> Option<[u64; 8]> {
        if let Some(r) = i
            .checked_sub(CPU_NB_REGS)
            .and_then(|k| self.avx512.hi16_zmm_regs.get(k))
        {
            return Some([r.q0, r.q1, r.q2, r.q3, r.q4, r.q5, r.q6, r.q7]);
        }
        let x = self.xmm_regs.get(i)?;
        let y = self.ymmh_regs.get(i)?;
        let z = self.avx512.zmmh_regs.get(i)?;
        Some([x.q0, x.q1, y.q2, y.q3, z.q4, z.q5, z.q6, z.q7])
    }

    #[inline]
    fn exception_info_needed(&self) -> bool {
        self.exception_info.exception_pending != 0 && self.hflags & HF_GUEST_MASK != 0
    }
    #[inline]
    fn async_pf_msr_needed(&self) -> bool {
        self.async_pf_msr.async_pf_en_msr != 0
    }
    #[inline]
    fn async_pf_int_msr_needed(&self) -> bool {
        self.async_pf_int_msr.async_pf_int_msr != 0
    }
    #[inline]
    fn pv_eoi_msr_needed(&self) -> bool {
        self.pv_eoi_msr.pv_eoi_en_msr != 0
    }
    #[inline]
    fn steal_time_msr_needed(&self) -> bool {
        self.steal_time_msr.steal_time_msr != 0
    }
    #[inline]
    fn poll_control_msr_needed(&self) -> bool {
        self.poll_control_msr.poll_control_msr != 1
    }
    #[inline]
    fn fpop_ip_dp_needed(&self) -> bool {
        let f = &self.fpop_ip_dp;
        f.fpop != 0 || f.fpip != 0 || f.fpdp != 0
    }
    #[inline]
    fn tsc_adjust_needed(&self) -> bool {
        self.msr_tsc_adjust.tsc_adjust != 0
    }
    #[inline]
    fn tscdeadline_needed(&self) -> bool {
        self.msr_tscdeadline.tsc_deadline != 0
    }
    #[inline]
    fn misc_enable_needed(&self) -> bool {
        self.msr_ia32_misc_enable.msr_ia32_misc_enable != MSR_IA32_MISC_ENABLE_DEFAULT
    }
    #[inline]
    fn feature_control_needed(&self) -> bool {
        self.msr_ia32_feature_control.msr_ia32_feature_control != 0
    }
    #[inline]
    fn pmu_enable_needed(&self) -> bool {
        self.msr_architectural_pmu.any()
    }
    #[inline]
    fn mpx_needed(&self) -> bool {
        let m = &self.mpx;
        m.bnd_regs.iter().any(|b| b.lb != 0 || b.ub != 0)
            || m.bndcs_cfgu != 0
            || m.bndcs_sts != 0
            || m.msr_bndcfgs != 0
    }
    #[inline]
    fn hyperv_hypercall_needed(&self) -> bool {
        let h = &self.msr_hyperv_hypercall;
        h.msr_hv_hypercall != 0 || h.msr_hv_guest_os_id != 0
    }
    #[inline]
    fn hyperv_vapic_needed(&self) -> bool {
        self.msr_hyperv_vapic.msr_hv_vapic != 0
    }
    #[inline]
    fn hyperv_time_needed(&self) -> bool {
        self.msr_hyperv_time.msr_hv_tsc != 0
    }
    #[inline]
    fn hyperv_crash_needed(&self) -> bool {
        self.msr_hyperv_crash
            .msr_hv_crash_params
            .iter()
            .any(|&p| p != 0)
    }
    #[inline]
    fn hyperv_runtime_needed(&self) -> bool {
        self.config.hyperv_runtime && self.msr_hyperv_runtime.msr_hv_runtime != 0
    }
    #[inline]
    fn hyperv_synic_needed(&self) -> bool {
        let s = &self.msr_hyperv_synic;
        s.msr_hv_synic_control != 0
            || s.msr_hv_synic_evt_page != 0
            || s.msr_hv_synic_msg_page != 0
            || s.msr_hv_synic_sint.iter().any(|&v| v != 0)
    }
    #[inline]
    fn hyperv_stimer_needed(&self) -> bool {
        let s = &self.msr_hyperv_stimer;
        s.msr_hv_stimer_config
            .iter()
            .zip(&s.msr_hv_stimer_count)
            .any(|(&c, &n)| c != 0 || n != 0)
    }
    #[inline]
    fn hyperv_reenlightenment_needed(&self) -> bool {
        let r = &self.msr_hyperv_reenlightenment;
        r.msr_hv_reenlightenment_control != 0
            || r.msr_hv_tsc_emulation_control != 0
            || r.msr_hv_tsc_emulation_status != 0
    }
    #[inline]
    fn avx512_needed(&self) -> bool {
        self.avx512.any()
    }
    #[inline]
    fn xss_needed(&self) -> bool {
        self.xss.xss != 0
    }
    #[inline]
    fn umwait_needed(&self) -> bool {
        self.umwait.umwait != 0
    }
    #[inline]
    fn tsc_khz_needed(&self) -> bool {
        self.tsc_khz.tsc_khz != 0 && self.config.save_tsc_khz
    }
    #[inline]
    fn msr_smi_count_needed(&self) -> bool {
        self.config.migrate_smi_count && self.msr_smi_count.msr_smi_count != 0
    }
    #[inline]
    fn pkru_needed(&self) -> bool {
        self.pkru.pkru != 0
    }
    #[inline]
    fn pkrs_needed(&self) -> bool {
        self.pkrs.pkrs != 0
    }
    #[inline]
    fn spec_ctrl_needed(&self) -> bool {
        self.spec_ctrl.spec_ctrl != 0
    }
    #[inline]
    fn amd_tsc_scale_msr_needed(&self) -> bool {
        self.config.svm_tsc_scale
    }
    #[inline]
    fn mcg_ext_ctl_needed(&self) -> bool {
        self.config.enable_lmce && self.mcg_ext_ctl.mcg_ext_ctl != 0
    }
    #[inline]
    fn intel_pt_needed(&self) -> bool {
        self.intel_pt.any()
    }
    #[inline]
    fn virt_ssbd_needed(&self) -> bool {
        self.virt_ssbd.virt_ssbd != 0
    }
    #[inline]
    fn svm_npt_needed(&self) -> bool {
        self.hflags2 & HF2_NPT_MASK != 0
    }
    #[inline]
    fn svm_guest_needed(&self) -> bool {
        self.config.tcg && self.svm_guest.int_ctl != 0
    }
    #[inline]
    fn nested_state_needed(&self) -> bool {
        let n = &self.nested_state;
        n.present && (n.nested_state.vmx_needed() || n.nested_state.svm_needed())
    }
    #[inline]
    fn msr_tsx_ctrl_needed(&self) -> bool {
        self.config.tsx_ctrl_msr
    }
    #[inline]
    fn intel_sgx_needed(&self) -> bool {
        self.config.sgx_lc
    }
    #[inline]
    fn pdptrs_needed(&self) -> bool {
        self.pdptrs.pdptrs_valid
    }
    #[inline]
    fn xfd_needed(&self) -> bool {
        self.config.xfd
    }
    #[inline]
    fn xen_vcpu_needed(&self) -> bool {
        self.config.xen_emulate
    }
    #[inline]
    fn msr_hwcr_needed(&self) -> bool {
        self.msr_hwcr.msr_hwcr != 0
    }
    #[inline]
    fn fred_needed(&self) -> bool {
        self.config.fred
    }
    #[inline]
    fn amx_xtile_needed(&self) -> bool {
        self.config.amx_tile
    }
    #[inline]
    fn arch_lbr_needed(&self) -> bool {
        self.config.arch_lbr
    }
    #[inline]
    fn triple_fault_needed(&self) -> bool {
        self.triple_fault.triple_fault_pending != 0
    }

    /// Real-mode segments must have DPL 0 (older KVM set it wrongly).
    fn fix_real_mode_dpl(&mut self) {
        if self.cr0 & CR0_PE_MASK == 0 && (self.segs[R_CS].flags >> DESC_DPL_SHIFT) & 3 != 0 {
            for s in &mut self.segs {
                s.flags &= !DESC_DPL_MASK;
            }
        }
    }

    /// `cpu_pre_save`.
    #[inline]
    fn pre_save(&mut self) -> Result<(), CpuStateError> {
        self.v_tpr = (self.svm_guest.int_ctl & V_TPR_MASK) as u8;
        self.fpus_vmstate = (self.fpus & !0x3800) | (((self.fpstt & 7) as u16) << 11);
        self.fptag_vmstate = self
            .fptags
            .iter()
            .enumerate()
            .fold(0, |t, (i, &empty)| t | (u16::from(empty == 0) << i));
        self.fpregs_format_vmstate = 0;
        self.fix_real_mode_dpl();
        // A pending exception outside guest mode goes as an injected one,
        // its payload applied.
        let e = &mut self.exception_info;
        if e.exception_pending != 0 && self.hflags & HF_GUEST_MASK == 0 {
            e.exception_pending = 0;
            e.exception_injected = 1;
            if e.exception_has_payload != 0 {
                if self.exception_nr == EXCP01_DB {
                    self.dr[6] = e.exception_payload;
                } else if self.exception_nr == EXCP0E_PAGE {
                    self.cr2 = e.exception_payload;
                }
            }
        }
        // The nested-state subsections' rules read the state's size.
        let n = &mut self.nested_state.nested_state;
        n.vmx.size = n.size;
        Ok(())
    }

    /// Arrival markers of the subsections whose checks run here.
    #[inline]
    fn pre_load(&mut self) -> Result<(), CpuStateError> {
        self.nested_state.received = false;
        self.msr_hyperv_reenlightenment.received = false;
        Ok(())
    }

    /// `nested_state_post_load`'s checks.
    fn check_nested_state(&self) -> Result<(), CpuStateError> {
        let n = &self.nested_state.nested_state;
        let max = self.config.max_nested_state_len;
        if max == 0 {
            return Err(CpuStateError::NestedState(
                "received nested state that the kernel cannot restore",
            ));
        }
        if n.size < KVM_NESTED_STATE_HEADER {
            return Err(CpuStateError::NestedState("size less than the header"));
        }
        if n.size > max {
            return Err(CpuStateError::NestedState(
                "size above what the kernel supports",
            ));
        }
        if n.format != KVM_STATE_NESTED_FORMAT_VMX && n.format != KVM_STATE_NESTED_FORMAT_SVM {
            return Err(CpuStateError::NestedState("invalid format"));
        }
        Ok(())
    }

    /// `cpu_post_load`, with the checks of the `nested_state` and
    /// `msr_hyperv_reenlightenment` subsections' `post_load` (they read
    /// the CPU's configuration, which the subsections do not hold).
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), CpuStateError> {
        if self.nested_state.received {
            self.check_nested_state()?;
        }
        let r = &self.msr_hyperv_reenlightenment;
        if r.received
            && r.msr_hv_reenlightenment_control & HV_REENLIGHTENMENT_ENABLE_BIT != 0
            && self.config.user_tsc_khz == 0
        {
            return Err(CpuStateError::ReenlightenmentWithoutTscFrequency);
        }
        let (migrated, user) = (self.tsc_khz.tsc_khz, self.config.user_tsc_khz);
        if migrated != 0 && user != 0 && migrated != user {
            return Err(CpuStateError::TscFrequencyMismatch { migrated, user });
        }
        if self.fpregs_format_vmstate != 0 {
            return Err(CpuStateError::OldFpuFormat(self.fpregs_format_vmstate));
        }
        self.fix_real_mode_dpl();
        self.hflags &= !HF_CPL_MASK;
        self.hflags |= (self.segs[R_SS].flags >> DESC_DPL_SHIFT) & HF_CPL_MASK;
        if self.hflags & HF_GUEST_MASK != 0
            && !(self.nested_state.present
                && self.nested_state.nested_state.flags & KVM_STATE_NESTED_GUEST_MODE != 0)
        {
            return Err(CpuStateError::GuestModeWithoutNestedState);
        }
        let e = &mut self.exception_info;
        if self.exception_nr != -1 && e.exception_pending == 0 && e.exception_injected == 0 {
            e.exception_injected = 1;
        }
        self.fpstt = u32::from(self.fpus_vmstate >> 11) & 7;
        self.fpus = self.fpus_vmstate & !0x3800;
        self.fptag_vmstate ^= 0xff;
        for (i, t) in self.fptags.iter_mut().enumerate() {
            *t = ((self.fptag_vmstate >> i) & 1) as u8;
        }
        Ok(())
    }
}
