//! The x86 CPU (`cpu`, 1851 bytes in pc.mig): the biggest section and the
//! one with the most subsections (48, in any order, matched by name).

use vmstate_qemu::cpu::{
    FpReg, KvmNestedState, Segment, X86Cpu, CR0_PE_MASK, DESC_DPL_MASK, DESC_DPL_SHIFT, EXCP01_DB,
    EXCP0E_PAGE, HF2_NPT_MASK, HF_CPL_MASK, HF_GUEST_MASK, HV_REENLIGHTENMENT_ENABLE_BIT,
    KVM_NESTED_STATE_HEADER, KVM_STATE_NESTED_FORMAT_SVM, KVM_STATE_NESTED_FORMAT_VMX,
    KVM_STATE_NESTED_GUEST_MODE, KVM_STATE_NESTED_VMCS_SIZE, MSR_IA32_MISC_ENABLE_DEFAULT, R_CS,
    R_SS, V_TPR_MASK,
};

use super::*;

#[inline(always)]
fn load_segment(s: &mut Segment, r: &mut &[u8]) -> Result<(), Bad> {
    let b = take::<20>(r)?;
    s.selector = u32::from_be_bytes(b[0..4].try_into().unwrap());
    s.base = u64::from_be_bytes(b[4..12].try_into().unwrap());
    s.limit = u32::from_be_bytes(b[12..16].try_into().unwrap());
    s.flags = u32::from_be_bytes(b[16..20].try_into().unwrap());
    Ok(())
}

#[inline(always)]
fn save_segment<O: Out>(s: &Segment, flags: u32, o: &mut O) {
    o.p32(s.selector);
    o.p64(s.base);
    o.p32(s.limit);
    o.p32(flags);
}

/// `u64` pairs (xmm, ymmh, mtrr_var, bnd) from `16 * N` bytes at once.
#[inline(always)]
fn load_pairs<T, const N: usize>(
    dst: &mut [T; N],
    r: &mut &[u8],
    set: impl Fn(&mut T, u64, u64),
) -> Result<(), Bad> {
    let b = take_n(r, 16 * N)?;
    for (x, c) in dst.iter_mut().zip(b.chunks_exact(16)) {
        let (a, b) = c.split_at(8);
        set(
            x,
            u64::from_be_bytes(a.try_into().unwrap()),
            u64::from_be_bytes(b.try_into().unwrap()),
        );
    }
    Ok(())
}

/// A nested-state blob (`Box<[u8; 4096]>`).
#[inline(always)]
fn load_page(dst: &mut [u8; KVM_STATE_NESTED_VMCS_SIZE], r: &mut &[u8]) -> Result<(), Bad> {
    *dst = *take(r)?;
    Ok(())
}

/// `cpu/kvm_nested_state` (behind the `cpu/nested_state` pointer) with its
/// `vmx` (itself with two subsections) and `svm` subsections.
fn load_nested(n: &mut KvmNestedState, r: &mut &[u8]) -> Result<(), Bad> {
    n.flags = g16(r)?;
    n.format = g16(r)?;
    n.size = g32(r)?;
    while let Some((name, sv)) = sub_header(r, b"cpu/kvm_nested_state")? {
        match name {
            b"cpu/kvm_nested_state/vmx" => {
                ver(sv, 1, 1)?;
                let x = &mut n.vmx;
                x.vmxon_pa = g64(r)?;
                x.vmcs12_pa = g64(r)?;
                x.smm_flags = g16(r)?;
                while let Some((name, sv)) = sub_header(r, b"cpu/kvm_nested_state/vmx")? {
                    match name {
                        b"cpu/kvm_nested_state/vmx/vmcs12" => {
                            ver(sv, 1, 1)?;
                            load_page(&mut x.vmcs12.vmcs12, r)?;
                        }
                        b"cpu/kvm_nested_state/vmx/shadow_vmcs12" => {
                            ver(sv, 1, 1)?;
                            load_page(&mut x.shadow_vmcs12.shadow_vmcs12, r)?;
                        }
                        _ => return Err(Bad::UnknownSubsection),
                    }
                }
            }
            b"cpu/kvm_nested_state/svm" => {
                ver(sv, 1, 1)?;
                n.svm.vmcb_pa = g64(r)?;
                load_page(&mut n.svm.vmcb12, r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    Ok(())
}

/// One subsection of `cpu` by name (its header read, version `sv`).
fn load_cpu_sub(d: &mut X86Cpu, name: &[u8], sv: u32, r: &mut &[u8]) -> Result<(), Bad> {
    // Every subsection of `cpu` is at version 1.
    ver(sv, 1, 1)?;
    match name {
        b"cpu/exception_info" => {
            let e = &mut d.exception_info;
            let [pending, injected, has_payload] = *take(r)?;
            (
                e.exception_pending,
                e.exception_injected,
                e.exception_has_payload,
            ) = (pending, injected, has_payload);
            e.exception_payload = g64(r)?;
        }
        b"cpu/async_pf_msr" => d.async_pf_msr.async_pf_en_msr = g64(r)?,
        b"cpu/async_pf_int_msr" => d.async_pf_int_msr.async_pf_int_msr = g64(r)?,
        b"cpu/async_pv_eoi_msr" => d.pv_eoi_msr.pv_eoi_en_msr = g64(r)?,
        b"cpu/steal_time_msr" => d.steal_time_msr.steal_time_msr = g64(r)?,
        b"cpu/poll_control_msr" => d.poll_control_msr.poll_control_msr = g64(r)?,
        b"cpu/fpop_ip_dp" => {
            d.fpop_ip_dp.fpop = g16(r)?;
            d.fpop_ip_dp.fpip = g64(r)?;
            d.fpop_ip_dp.fpdp = g64(r)?;
        }
        b"cpu/msr_tsc_adjust" => d.msr_tsc_adjust.tsc_adjust = g64(r)?,
        b"cpu/msr_tscdeadline" => d.msr_tscdeadline.tsc_deadline = g64(r)?,
        b"cpu/msr_ia32_misc_enable" => {
            d.msr_ia32_misc_enable.msr_ia32_misc_enable = g64(r)?;
        }
        b"cpu/msr_ia32_feature_control" => {
            d.msr_ia32_feature_control.msr_ia32_feature_control = g64(r)?;
        }
        b"cpu/msr_architectural_pmu" => {
            let p = &mut d.msr_architectural_pmu;
            p.msr_fixed_ctr_ctrl = g64(r)?;
            p.msr_global_ctrl = g64(r)?;
            p.msr_global_status = g64(r)?;
            p.msr_global_ovf_ctrl = g64(r)?;
            gwords(&mut p.msr_fixed_counters, r)?;
            gwords(&mut p.msr_gp_counters, r)?;
            gwords(&mut p.msr_gp_evtsel, r)?;
        }
        b"cpu/mpx" => {
            let m = &mut d.mpx;
            load_pairs(&mut m.bnd_regs, r, |b, lb, ub| (b.lb, b.ub) = (lb, ub))?;
            m.bndcs_cfgu = g64(r)?;
            m.bndcs_sts = g64(r)?;
            m.msr_bndcfgs = g64(r)?;
        }
        b"cpu/msr_hyperv_hypercall" => {
            d.msr_hyperv_hypercall.msr_hv_guest_os_id = g64(r)?;
            d.msr_hyperv_hypercall.msr_hv_hypercall = g64(r)?;
        }
        b"cpu/msr_hyperv_vapic" => d.msr_hyperv_vapic.msr_hv_vapic = g64(r)?,
        b"cpu/msr_hyperv_time" => d.msr_hyperv_time.msr_hv_tsc = g64(r)?,
        b"cpu/msr_hyperv_crash" => gwords(&mut d.msr_hyperv_crash.msr_hv_crash_params, r)?,
        b"cpu/msr_hyperv_runtime" => d.msr_hyperv_runtime.msr_hv_runtime = g64(r)?,
        b"cpu/msr_hyperv_synic" => {
            let s = &mut d.msr_hyperv_synic;
            s.msr_hv_synic_control = g64(r)?;
            s.msr_hv_synic_evt_page = g64(r)?;
            s.msr_hv_synic_msg_page = g64(r)?;
            gwords(&mut s.msr_hv_synic_sint, r)?;
        }
        b"cpu/msr_hyperv_stimer" => {
            let s = &mut d.msr_hyperv_stimer;
            gwords(&mut s.msr_hv_stimer_config, r)?;
            gwords(&mut s.msr_hv_stimer_count, r)?;
        }
        b"cpu/msr_hyperv_reenlightenment" => {
            let e = &mut d.msr_hyperv_reenlightenment;
            e.msr_hv_reenlightenment_control = g64(r)?;
            e.msr_hv_tsc_emulation_control = g64(r)?;
            e.msr_hv_tsc_emulation_status = g64(r)?;
            e.received = true;
        }
        b"cpu/avx512" => {
            let a = &mut d.avx512;
            gwords(&mut a.opmask_regs, r)?;
            let b = take_n(r, 32 * a.zmmh_regs.len())?;
            for (z, c) in a.zmmh_regs.iter_mut().zip(b.chunks_exact(32)) {
                let w = |i: usize| u64::from_be_bytes(c[i..i + 8].try_into().unwrap());
                (z.q4, z.q5, z.q6, z.q7) = (w(0), w(8), w(16), w(24));
            }
            let b = take_n(r, 64 * a.hi16_zmm_regs.len())?;
            for (z, c) in a.hi16_zmm_regs.iter_mut().zip(b.chunks_exact(64)) {
                let w = |i: usize| u64::from_be_bytes(c[i..i + 8].try_into().unwrap());
                (z.q0, z.q1, z.q2, z.q3) = (w(0), w(8), w(16), w(24));
                (z.q4, z.q5, z.q6, z.q7) = (w(32), w(40), w(48), w(56));
            }
        }
        b"cpu/xss" => d.xss.xss = g64(r)?,
        b"cpu/umwait" => d.umwait.umwait = g32(r)?,
        b"cpu/tsc_khz" => d.tsc_khz.tsc_khz = gi64(r)?,
        b"cpu/msr_smi_count" => d.msr_smi_count.msr_smi_count = g64(r)?,
        b"cpu/pkru" => d.pkru.pkru = g32(r)?,
        b"cpu/pkrs" => d.pkrs.pkrs = g32(r)?,
        b"cpu/spec_ctrl" => d.spec_ctrl.spec_ctrl = g64(r)?,
        b"cpu/amd_tsc_scale_msr" => d.amd_tsc_scale_msr.amd_tsc_scale_msr = g64(r)?,
        b"cpu/mcg_ext_ctl" => d.mcg_ext_ctl.mcg_ext_ctl = g64(r)?,
        b"cpu/intel_pt" => {
            let p = &mut d.intel_pt;
            p.msr_rtit_ctrl = g64(r)?;
            p.msr_rtit_status = g64(r)?;
            p.msr_rtit_output_base = g64(r)?;
            p.msr_rtit_output_mask = g64(r)?;
            p.msr_rtit_cr3_match = g64(r)?;
            gwords(&mut p.msr_rtit_addrs, r)?;
        }
        b"cpu/virt_ssbd" => d.virt_ssbd.virt_ssbd = g64(r)?,
        b"cpu/svn_npt" => {
            d.svm_npt.nested_cr3 = g64(r)?;
            d.svm_npt.nested_pg_mode = g32(r)?;
        }
        b"cpu/svm_guest" => d.svm_guest.int_ctl = g32(r)?,
        b"cpu/nested_state" => {
            load_nested(&mut d.nested_state.nested_state, r)?;
            d.nested_state.received = true;
        }
        b"cpu/xen_vcpu" => {
            let x = &mut d.xen_vcpu;
            x.xen_vcpu_info_gpa = g64(r)?;
            x.xen_vcpu_info_default_gpa = g64(r)?;
            x.xen_vcpu_time_info_gpa = g64(r)?;
            x.xen_vcpu_runstate_gpa = g64(r)?;
            x.xen_vcpu_callback_vector = g8(r)?;
            gwords(&mut x.xen_virq, r)?;
            x.xen_singleshot_timer_ns = g64(r)?;
            x.xen_periodic_timer_period = g64(r)?;
        }
        b"cpu/msr_tsx_ctrl" => d.msr_tsx_ctrl.tsx_ctrl = g32(r)?,
        b"cpu/intel_sgx" => gwords(&mut d.intel_sgx.msr_ia32_sgxlepubkeyhash, r)?,
        b"cpu/pdptrs" => {
            gwords(&mut d.pdptrs.pdptrs, r)?;
            d.pdptrs.pdptrs_valid = true;
        }
        b"cpu/msr_xfd" => {
            d.msr_xfd.msr_xfd = g64(r)?;
            d.msr_xfd.msr_xfd_err = g64(r)?;
        }
        b"cpu/msr_hwcr" => d.msr_hwcr.msr_hwcr = g64(r)?,
        b"cpu/fred" => {
            let mut w = [0u64; 9];
            gwords(&mut w, r)?;
            let f = &mut d.fred;
            [
                f.fred_rsp0,
                f.fred_rsp1,
                f.fred_rsp2,
                f.fred_rsp3,
                f.fred_stklvls,
                f.fred_ssp1,
                f.fred_ssp2,
                f.fred_ssp3,
                f.fred_config,
            ] = w;
        }
        b"cpu/intel_amx_xtile" => {
            d.amx_xtile.xtilecfg = *take(r)?;
            *d.amx_xtile.xtiledata = *take(r)?;
        }
        b"cpu/arch_lbr" => {
            let l = &mut d.arch_lbr;
            l.msr_lbr_ctl = g64(r)?;
            l.msr_lbr_depth = g64(r)?;
            let b = take_n(r, 24 * l.lbr_records.len())?;
            for (e, c) in l.lbr_records.iter_mut().zip(b.chunks_exact(24)) {
                let w = |i: usize| u64::from_be_bytes(c[i..i + 8].try_into().unwrap());
                (e.from, e.to, e.info) = (w(0), w(8), w(16));
            }
        }
        b"cpu/triple_fault" => d.triple_fault.triple_fault_pending = g8(r)?,
        _ => return Err(Bad::UnknownSubsection),
    }
    Ok(())
}

/// The checks of `post_load` on received nested state.
fn check_nested_state(d: &X86Cpu) -> Result<(), Bad> {
    let n = &d.nested_state.nested_state;
    let max = d.config.max_nested_state_len;
    if max == 0
        || n.size < KVM_NESTED_STATE_HEADER
        || n.size > max
        || (n.format != KVM_STATE_NESTED_FORMAT_VMX && n.format != KVM_STATE_NESTED_FORMAT_SVM)
    {
        return Err(Bad::Invalid);
    }
    Ok(())
}

fn fix_real_mode_dpl(d: &mut X86Cpu) {
    if d.cr0 & CR0_PE_MASK == 0 && (d.segs[R_CS].flags >> DESC_DPL_SHIFT) & 3 != 0 {
        for s in &mut d.segs {
            s.flags &= !DESC_DPL_MASK;
        }
    }
}

/// cpu: versions 11..=12 (the AVX state from 12); `pre_load` clears the
/// "received" marks; the floating-point registers through their wire
/// form; then subsections in any order; `post_load` checks the nested
/// state, the TSC frequency and the FPU format, fixes real-mode segment
/// privileges, the CPL, the exception state and the FPU tags.
fn load_cpu(d: &mut X86Cpu, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 11, 12)?;
    d.nested_state.received = false;
    d.msr_hyperv_reenlightenment.received = false;
    gwords(&mut d.regs, r)?;
    d.eip = g64(r)?;
    d.eflags = g64(r)?;
    d.hflags = g32(r)?;
    let mut w = [0u16; 4];
    gwords(&mut w, r)?;
    [
        d.fpuc,
        d.fpus_vmstate,
        d.fptag_vmstate,
        d.fpregs_format_vmstate,
    ] = w;
    let b = take::<80>(r)?;
    for (f, c) in d.fpregs.iter_mut().zip(b.chunks_exact(10)) {
        f.mant = u64::from_be_bytes(c[..8].try_into().unwrap());
        f.exp = u16::from_be_bytes([c[8], c[9]]);
    }
    for s in &mut d.segs {
        load_segment(s, r)?;
    }
    load_segment(&mut d.ldt, r)?;
    load_segment(&mut d.tr, r)?;
    load_segment(&mut d.gdt, r)?;
    load_segment(&mut d.idt, r)?;
    d.sysenter_cs = g32(r)?;
    d.sysenter_esp = g64(r)?;
    d.sysenter_eip = g64(r)?;
    d.cr0 = g64(r)?;
    d.cr2 = g64(r)?;
    d.cr3 = g64(r)?;
    d.cr4 = g64(r)?;
    gwords(&mut d.dr, r)?;
    d.a20_mask = gi32(r)?;
    d.mxcsr = g32(r)?;
    load_pairs(&mut d.xmm_regs, r, |x, a, b| (x.q0, x.q1) = (a, b))?;
    let mut w = [0u64; 6];
    gwords(&mut w, r)?;
    [d.efer, d.star, d.lstar, d.cstar, d.fmask, d.kernelgsbase] = w;
    d.smbase = g32(r)?;
    d.pat = g64(r)?;
    d.hflags2 = g32(r)?;
    let mut w = [0u64; 4];
    gwords(&mut w, r)?;
    [d.vm_hsave, d.vm_vmcb, d.tsc_offset, d.intercept] = w;
    let mut w = [0u16; 4];
    gwords(&mut w, r)?;
    [
        d.intercept_cr_read,
        d.intercept_cr_write,
        d.intercept_dr_read,
        d.intercept_dr_write,
    ] = w;
    d.intercept_exceptions = g32(r)?;
    d.v_tpr = g8(r)?;
    gwords(&mut d.mtrr_fixed, r)?;
    d.mtrr_deftype = g64(r)?;
    load_pairs(&mut d.mtrr_var, r, |m, a, b| (m.base, m.mask) = (a, b))?;
    d.interrupt_injected = gi32(r)?;
    d.mp_state = g32(r)?;
    d.tsc = g64(r)?;
    d.exception_nr = gi32(r)?;
    let [soft_interrupt, nmi_injected, nmi_pending, has_error_code] = *take(r)?;
    (
        d.soft_interrupt,
        d.nmi_injected,
        d.nmi_pending,
        d.has_error_code,
    ) = (soft_interrupt, nmi_injected, nmi_pending, has_error_code);
    d.sipi_vector = g32(r)?;
    d.mcg_cap = g64(r)?;
    d.mcg_status = g64(r)?;
    d.mcg_ctl = g64(r)?;
    gwords(&mut d.mce_banks, r)?;
    d.tsc_aux = g64(r)?;
    d.system_time_msr = g64(r)?;
    d.wall_clock_msr = g64(r)?;
    if v >= 12 {
        d.xcr0 = g64(r)?;
        d.xstate_bv = g64(r)?;
        load_pairs(&mut d.ymmh_regs, r, |y, a, b| (y.q2, y.q3) = (a, b))?;
    }
    while let Some((name, sv)) = sub_header(r, b"cpu")? {
        load_cpu_sub(d, name, sv, r)?;
    }
    // post_load
    if d.nested_state.received {
        check_nested_state(d)?;
    }
    let e = &d.msr_hyperv_reenlightenment;
    if e.received
        && e.msr_hv_reenlightenment_control & HV_REENLIGHTENMENT_ENABLE_BIT != 0
        && d.config.user_tsc_khz == 0
    {
        return Err(Bad::Invalid);
    }
    let (migrated, user) = (d.tsc_khz.tsc_khz, d.config.user_tsc_khz);
    if migrated != 0 && user != 0 && migrated != user {
        return Err(Bad::Invalid);
    }
    if d.fpregs_format_vmstate != 0 {
        return Err(Bad::Invalid);
    }
    fix_real_mode_dpl(d);
    d.hflags &= !HF_CPL_MASK;
    d.hflags |= (d.segs[R_SS].flags >> DESC_DPL_SHIFT) & HF_CPL_MASK;
    if d.hflags & HF_GUEST_MASK != 0
        && !(d.nested_state.present
            && d.nested_state.nested_state.flags & KVM_STATE_NESTED_GUEST_MODE != 0)
    {
        return Err(Bad::Invalid);
    }
    let e = &mut d.exception_info;
    if d.exception_nr != -1 && e.exception_pending == 0 && e.exception_injected == 0 {
        e.exception_injected = 1;
    }
    d.fpstt = u32::from(d.fpus_vmstate >> 11) & 7;
    d.fpus = d.fpus_vmstate & !0x3800;
    d.fptag_vmstate ^= 0xff;
    for (i, t) in d.fptags.iter_mut().enumerate() {
        *t = ((d.fptag_vmstate >> i) & 1) as u8;
    }
    Ok(())
}

#[inline(always)]
fn save_fpreg<O: Out>(f: &FpReg, o: &mut O) {
    o.p64(f.mant);
    o.p16(f.exp);
}

/// `pre_save` computed on the fly: the TPR from the SVM state, the FPU
/// status and tag words, real-mode segment privileges, a pending
/// exception outside guest mode sent as injected with its payload applied.
fn save_cpu<O: Out>(d: &X86Cpu, o: &mut O) {
    let fpus = (d.fpus & !0x3800) | (((d.fpstt & 7) as u16) << 11);
    let fptag = d
        .fptags
        .iter()
        .enumerate()
        .fold(0u16, |t, (i, &empty)| t | (u16::from(empty == 0) << i));
    let dpl_mask = if d.cr0 & CR0_PE_MASK == 0 && (d.segs[R_CS].flags >> DESC_DPL_SHIFT) & 3 != 0 {
        !DESC_DPL_MASK
    } else {
        !0
    };
    let ei = &d.exception_info;
    let guest = d.hflags & HF_GUEST_MASK != 0;
    let (mut dr6, mut cr2) = (d.dr[6], d.cr2);
    let (mut pending, mut injected) = (ei.exception_pending, ei.exception_injected);
    if pending != 0 && !guest {
        (pending, injected) = (0, 1);
        if ei.exception_has_payload != 0 {
            if d.exception_nr == EXCP01_DB {
                dr6 = ei.exception_payload;
            } else if d.exception_nr == EXCP0E_PAGE {
                cr2 = ei.exception_payload;
            }
        }
    }

    o.words(&d.regs);
    o.p64(d.eip);
    o.p64(d.eflags);
    o.p32(d.hflags);
    o.words(&[d.fpuc, fpus, fptag, 0]);
    for f in &d.fpregs {
        save_fpreg(f, o);
    }
    for s in &d.segs {
        save_segment(s, s.flags & dpl_mask, o);
    }
    for s in [&d.ldt, &d.tr, &d.gdt, &d.idt] {
        save_segment(s, s.flags, o);
    }
    o.p32(d.sysenter_cs);
    o.p64(d.sysenter_esp);
    o.p64(d.sysenter_eip);
    o.words(&[d.cr0, cr2, d.cr3, d.cr4]);
    o.words(&d.dr[..6]);
    o.p64(dr6);
    o.p64(d.dr[7]);
    o.pi32(d.a20_mask);
    o.p32(d.mxcsr);
    for x in &d.xmm_regs {
        o.words(&[x.q0, x.q1]);
    }
    o.words(&[d.efer, d.star, d.lstar, d.cstar, d.fmask, d.kernelgsbase]);
    o.p32(d.smbase);
    o.p64(d.pat);
    o.p32(d.hflags2);
    o.words(&[d.vm_hsave, d.vm_vmcb, d.tsc_offset, d.intercept]);
    o.words(&[
        d.intercept_cr_read,
        d.intercept_cr_write,
        d.intercept_dr_read,
        d.intercept_dr_write,
    ]);
    o.p32(d.intercept_exceptions);
    o.p8((d.svm_guest.int_ctl & V_TPR_MASK) as u8);
    o.words(&d.mtrr_fixed);
    o.p64(d.mtrr_deftype);
    for m in &d.mtrr_var {
        o.words(&[m.base, m.mask]);
    }
    o.pi32(d.interrupt_injected);
    o.p32(d.mp_state);
    o.p64(d.tsc);
    o.pi32(d.exception_nr);
    o.put([
        d.soft_interrupt,
        d.nmi_injected,
        d.nmi_pending,
        d.has_error_code,
    ]);
    o.p32(d.sipi_vector);
    o.words(&[d.mcg_cap, d.mcg_status, d.mcg_ctl]);
    o.words(&d.mce_banks);
    o.words(&[
        d.tsc_aux,
        d.system_time_msr,
        d.wall_clock_msr,
        d.xcr0,
        d.xstate_bv,
    ]);
    for y in &d.ymmh_regs {
        o.words(&[y.q2, y.q3]);
    }
    save_cpu_subs(d, pending, injected, o);
}

/// A subsection of one `u64`.
#[inline(always)]
fn sub64<O: Out>(o: &mut O, needed: bool, name: &[u8], v: u64) {
    if needed {
        o.sub(name, 1);
        o.p64(v);
    }
}

/// The subsections in declaration order, each when its rule says so.
fn save_cpu_subs<O: Out>(d: &X86Cpu, pending: u8, injected: u8, o: &mut O) {
    let c = &d.config;
    if pending != 0 && d.hflags & HF_GUEST_MASK != 0 {
        let e = &d.exception_info;
        o.sub(b"cpu/exception_info", 1);
        o.put([pending, injected, e.exception_has_payload]);
        o.p64(e.exception_payload);
    }
    let v = d.async_pf_msr.async_pf_en_msr;
    sub64(o, v != 0, b"cpu/async_pf_msr", v);
    let v = d.async_pf_int_msr.async_pf_int_msr;
    sub64(o, v != 0, b"cpu/async_pf_int_msr", v);
    let v = d.pv_eoi_msr.pv_eoi_en_msr;
    sub64(o, v != 0, b"cpu/async_pv_eoi_msr", v);
    let v = d.steal_time_msr.steal_time_msr;
    sub64(o, v != 0, b"cpu/steal_time_msr", v);
    let v = d.poll_control_msr.poll_control_msr;
    sub64(o, v != 1, b"cpu/poll_control_msr", v);
    let f = &d.fpop_ip_dp;
    if f.fpop != 0 || f.fpip != 0 || f.fpdp != 0 {
        o.sub(b"cpu/fpop_ip_dp", 1);
        o.p16(f.fpop);
        o.p64(f.fpip);
        o.p64(f.fpdp);
    }
    let v = d.msr_tsc_adjust.tsc_adjust;
    sub64(o, v != 0, b"cpu/msr_tsc_adjust", v);
    let v = d.msr_tscdeadline.tsc_deadline;
    sub64(o, v != 0, b"cpu/msr_tscdeadline", v);
    let v = d.msr_ia32_misc_enable.msr_ia32_misc_enable;
    sub64(
        o,
        v != MSR_IA32_MISC_ENABLE_DEFAULT,
        b"cpu/msr_ia32_misc_enable",
        v,
    );
    let v = d.msr_ia32_feature_control.msr_ia32_feature_control;
    sub64(o, v != 0, b"cpu/msr_ia32_feature_control", v);
    let p = &d.msr_architectural_pmu;
    if p.msr_fixed_ctr_ctrl != 0
        || p.msr_global_ctrl != 0
        || p.msr_global_status != 0
        || p.msr_global_ovf_ctrl != 0
        || p.msr_fixed_counters.iter().any(|&c| c != 0)
        || p.msr_gp_counters.iter().any(|&c| c != 0)
        || p.msr_gp_evtsel.iter().any(|&e| e != 0)
    {
        o.sub(b"cpu/msr_architectural_pmu", 1);
        o.words(&[
            p.msr_fixed_ctr_ctrl,
            p.msr_global_ctrl,
            p.msr_global_status,
            p.msr_global_ovf_ctrl,
        ]);
        o.words(&p.msr_fixed_counters);
        o.words(&p.msr_gp_counters);
        o.words(&p.msr_gp_evtsel);
    }
    let m = &d.mpx;
    if m.bnd_regs.iter().any(|b| b.lb != 0 || b.ub != 0)
        || m.bndcs_cfgu != 0
        || m.bndcs_sts != 0
        || m.msr_bndcfgs != 0
    {
        o.sub(b"cpu/mpx", 1);
        for b in &m.bnd_regs {
            o.words(&[b.lb, b.ub]);
        }
        o.words(&[m.bndcs_cfgu, m.bndcs_sts, m.msr_bndcfgs]);
    }
    let h = &d.msr_hyperv_hypercall;
    if h.msr_hv_hypercall != 0 || h.msr_hv_guest_os_id != 0 {
        o.sub(b"cpu/msr_hyperv_hypercall", 1);
        o.words(&[h.msr_hv_guest_os_id, h.msr_hv_hypercall]);
    }
    let v = d.msr_hyperv_vapic.msr_hv_vapic;
    sub64(o, v != 0, b"cpu/msr_hyperv_vapic", v);
    let v = d.msr_hyperv_time.msr_hv_tsc;
    sub64(o, v != 0, b"cpu/msr_hyperv_time", v);
    let p = &d.msr_hyperv_crash.msr_hv_crash_params;
    if p.iter().any(|&p| p != 0) {
        o.sub(b"cpu/msr_hyperv_crash", 1);
        o.words(p);
    }
    let v = d.msr_hyperv_runtime.msr_hv_runtime;
    sub64(o, c.hyperv_runtime && v != 0, b"cpu/msr_hyperv_runtime", v);
    let s = &d.msr_hyperv_synic;
    if s.msr_hv_synic_control != 0
        || s.msr_hv_synic_evt_page != 0
        || s.msr_hv_synic_msg_page != 0
        || s.msr_hv_synic_sint.iter().any(|&v| v != 0)
    {
        o.sub(b"cpu/msr_hyperv_synic", 1);
        o.words(&[
            s.msr_hv_synic_control,
            s.msr_hv_synic_evt_page,
            s.msr_hv_synic_msg_page,
        ]);
        o.words(&s.msr_hv_synic_sint);
    }
    let s = &d.msr_hyperv_stimer;
    if s.msr_hv_stimer_config.iter().any(|&c| c != 0)
        || s.msr_hv_stimer_count.iter().any(|&n| n != 0)
    {
        o.sub(b"cpu/msr_hyperv_stimer", 1);
        o.words(&s.msr_hv_stimer_config);
        o.words(&s.msr_hv_stimer_count);
    }
    let e = &d.msr_hyperv_reenlightenment;
    let w = [
        e.msr_hv_reenlightenment_control,
        e.msr_hv_tsc_emulation_control,
        e.msr_hv_tsc_emulation_status,
    ];
    if w.iter().any(|&v| v != 0) {
        o.sub(b"cpu/msr_hyperv_reenlightenment", 1);
        o.words(&w);
    }
    save_cpu_subs_2(d, o);
}

/// The subsections from `cpu/avx512` on.
fn save_cpu_subs_2<O: Out>(d: &X86Cpu, o: &mut O) {
    let c = &d.config;
    let a = &d.avx512;
    if a.opmask_regs.iter().any(|&k| k != 0)
        || a.zmmh_regs
            .iter()
            .any(|z| [z.q4, z.q5, z.q6, z.q7] != [0; 4])
        || a.hi16_zmm_regs
            .iter()
            .any(|z| [z.q0, z.q1, z.q2, z.q3, z.q4, z.q5, z.q6, z.q7] != [0; 8])
    {
        o.sub(b"cpu/avx512", 1);
        o.words(&a.opmask_regs);
        for z in &a.zmmh_regs {
            o.words(&[z.q4, z.q5, z.q6, z.q7]);
        }
        for z in &a.hi16_zmm_regs {
            o.words(&[z.q0, z.q1, z.q2, z.q3, z.q4, z.q5, z.q6, z.q7]);
        }
    }
    let v = d.xss.xss;
    sub64(o, v != 0, b"cpu/xss", v);
    if d.umwait.umwait != 0 {
        o.sub(b"cpu/umwait", 1);
        o.p32(d.umwait.umwait);
    }
    let v = d.tsc_khz.tsc_khz;
    sub64(o, v != 0 && c.save_tsc_khz, b"cpu/tsc_khz", v as u64);
    let v = d.msr_smi_count.msr_smi_count;
    sub64(o, c.migrate_smi_count && v != 0, b"cpu/msr_smi_count", v);
    if d.pkru.pkru != 0 {
        o.sub(b"cpu/pkru", 1);
        o.p32(d.pkru.pkru);
    }
    if d.pkrs.pkrs != 0 {
        o.sub(b"cpu/pkrs", 1);
        o.p32(d.pkrs.pkrs);
    }
    let v = d.spec_ctrl.spec_ctrl;
    sub64(o, v != 0, b"cpu/spec_ctrl", v);
    let v = d.amd_tsc_scale_msr.amd_tsc_scale_msr;
    sub64(o, c.svm_tsc_scale, b"cpu/amd_tsc_scale_msr", v);
    let v = d.mcg_ext_ctl.mcg_ext_ctl;
    sub64(o, c.enable_lmce && v != 0, b"cpu/mcg_ext_ctl", v);
    let p = &d.intel_pt;
    let w = [
        p.msr_rtit_ctrl,
        p.msr_rtit_status,
        p.msr_rtit_output_base,
        p.msr_rtit_output_mask,
        p.msr_rtit_cr3_match,
    ];
    if w.iter().chain(&p.msr_rtit_addrs).any(|&v| v != 0) {
        o.sub(b"cpu/intel_pt", 1);
        o.words(&w);
        o.words(&p.msr_rtit_addrs);
    }
    let v = d.virt_ssbd.virt_ssbd;
    sub64(o, v != 0, b"cpu/virt_ssbd", v);
    if d.hflags2 & HF2_NPT_MASK != 0 {
        o.sub(b"cpu/svn_npt", 1);
        o.p64(d.svm_npt.nested_cr3);
        o.p32(d.svm_npt.nested_pg_mode);
    }
    if c.tcg && d.svm_guest.int_ctl != 0 {
        o.sub(b"cpu/svm_guest", 1);
        o.p32(d.svm_guest.int_ctl);
    }
    let ns = &d.nested_state;
    let n = &ns.nested_state;
    if ns.present && (n.vmx_needed() || n.svm_needed()) {
        o.sub(b"cpu/nested_state", 1);
        o.p16(n.flags);
        o.p16(n.format);
        o.p32(n.size);
        if n.vmx_needed() {
            let x = &n.vmx;
            o.sub(b"cpu/kvm_nested_state/vmx", 1);
            o.p64(x.vmxon_pa);
            o.p64(x.vmcs12_pa);
            o.p16(x.smm_flags);
            // pre_save: the vmx rules read the state's size.
            if n.size > KVM_NESTED_STATE_HEADER {
                o.sub(b"cpu/kvm_nested_state/vmx/vmcs12", 1);
                o.bytes(&x.vmcs12.vmcs12[..]);
            }
            if n.size > KVM_NESTED_STATE_HEADER + KVM_STATE_NESTED_VMCS_SIZE as u32 {
                o.sub(b"cpu/kvm_nested_state/vmx/shadow_vmcs12", 1);
                o.bytes(&x.shadow_vmcs12.shadow_vmcs12[..]);
            }
        }
        if n.svm_needed() {
            o.sub(b"cpu/kvm_nested_state/svm", 1);
            o.p64(n.svm.vmcb_pa);
            o.bytes(&n.svm.vmcb12[..]);
        }
    }
    if c.xen_emulate {
        let x = &d.xen_vcpu;
        o.sub(b"cpu/xen_vcpu", 1);
        o.words(&[
            x.xen_vcpu_info_gpa,
            x.xen_vcpu_info_default_gpa,
            x.xen_vcpu_time_info_gpa,
            x.xen_vcpu_runstate_gpa,
        ]);
        o.p8(x.xen_vcpu_callback_vector);
        o.words(&x.xen_virq);
        o.words(&[x.xen_singleshot_timer_ns, x.xen_periodic_timer_period]);
    }
    if c.tsx_ctrl_msr {
        o.sub(b"cpu/msr_tsx_ctrl", 1);
        o.p32(d.msr_tsx_ctrl.tsx_ctrl);
    }
    if c.sgx_lc {
        o.sub(b"cpu/intel_sgx", 1);
        o.words(&d.intel_sgx.msr_ia32_sgxlepubkeyhash);
    }
    if d.pdptrs.pdptrs_valid {
        o.sub(b"cpu/pdptrs", 1);
        o.words(&d.pdptrs.pdptrs);
    }
    if c.xfd {
        o.sub(b"cpu/msr_xfd", 1);
        o.words(&[d.msr_xfd.msr_xfd, d.msr_xfd.msr_xfd_err]);
    }
    let v = d.msr_hwcr.msr_hwcr;
    sub64(o, v != 0, b"cpu/msr_hwcr", v);
    if c.fred {
        let f = &d.fred;
        o.sub(b"cpu/fred", 1);
        o.words(&[
            f.fred_rsp0,
            f.fred_rsp1,
            f.fred_rsp2,
            f.fred_rsp3,
            f.fred_stklvls,
            f.fred_ssp1,
            f.fred_ssp2,
            f.fred_ssp3,
            f.fred_config,
        ]);
    }
    if c.amx_tile {
        o.sub(b"cpu/intel_amx_xtile", 1);
        o.bytes(&d.amx_xtile.xtilecfg);
        o.bytes(&d.amx_xtile.xtiledata[..]);
    }
    if c.arch_lbr {
        let l = &d.arch_lbr;
        o.sub(b"cpu/arch_lbr", 1);
        o.words(&[l.msr_lbr_ctl, l.msr_lbr_depth]);
        for e in &l.lbr_records {
            o.words(&[e.from, e.to, e.info]);
        }
    }
    if d.triple_fault.triple_fault_pending != 0 {
        o.sub(b"cpu/triple_fault", 1);
        o.p8(d.triple_fault.triple_fault_pending);
    }
}
hand!(X86Cpu, load_cpu, save_cpu);
