//! The CPU side: `timer`, `cpu_common`, `kvm-tpr-opt`, `apic` and `cpu`.
//!
//! Each mirror with non-zero state, against byte strings written out by
//! hand from QEMU's encoding rules: big-endian scalars in field order,
//! `unused` as zeros, version-gated fields only when the stream version
//! has them, a nested struct inline, and a subsection as `05`, name length,
//! name, be32 version, then its fields, after the parent's fields and in
//! the parent's list order. The fixture payloads are mostly zeros; these
//! tests pin the field order and widths.

use vmstate_core::types::Timer;
use vmstate_core::{ErrorKind, VmState};
use vmstate_qemu::*;

#[path = "devices_common/mod.rs"]
mod devices_common;
use devices_common::*;

#[test]
fn timer_with_nested_icount_subsections() {
    use timer::*;
    let t = Timers {
        cpu_ticks_offset: 0x0102_0304_0506_0708,
        unused: (),
        cpu_clock_offset: -2,
        icount: TimersIcount {
            qemu_icount_bias: 0x10,
            qemu_icount: 0x20,
            warp_timer: TimersIcountWarpTimer {
                vm_clock_warp_start: -1,
                icount_warp_timer: Timer::armed(0x1234),
            },
            timers: TimersIcountTimers {
                icount_rt_timer: Timer::NOT_ARMED,
                icount_vm_timer: Timer::armed(5),
            },
            shift: TimersIcountShift {
                icount_time_shift: -3,
                last_delta: 7,
            },
            mode: IcountMode::Adaptive,
            has_warp_timer: true,
            has_rt_timer: true,
        },
    };
    let want = W::default()
        .u64(0x0102_0304_0506_0708)
        .zeros(8)
        .i64(-2)
        .sub("timer/icount", 1)
        .i64(0x10)
        .i64(0x20)
        .sub("timer/icount/warp_timer", 1)
        .i64(-1)
        .i64(0x1234)
        .sub("timer/icount/timers", 1)
        .i64(-1)
        .i64(5)
        .sub("timer/icount/shift", 2)
        .u16(0xfffd)
        .i64(7)
        .0;
    // What a load gives: the wire values; the configuration flags are the
    // destination's.
    let mut loaded = t.clone();
    loaded.icount.mode = IcountMode::Off;
    loaded.icount.has_warp_timer = false;
    loaded.icount.has_rt_timer = false;
    check(&t, &want, &loaded);

    // Fixed-shift icount without the optional timers: only the icount
    // fields.
    let mut fixed = t.clone();
    fixed.icount.mode = IcountMode::Fixed;
    fixed.icount.has_warp_timer = false;
    fixed.icount.has_rt_timer = false;
    let bytes = fixed.to_bytes(&ctx()).unwrap();
    assert_eq!(bytes.len(), 24 + 2 + 12 + 4 + 16);

    // A version-1 stream has no cpu_clock_offset: the destination keeps
    // its own.
    let mut v1 = Timers {
        cpu_clock_offset: 99,
        ..Timers::default()
    };
    let wire = W::default().i64(3).u64(u64::MAX).0;
    assert_eq!(load_v(&mut v1, &wire, 1).unwrap(), 16);
    assert_eq!((v1.cpu_ticks_offset, v1.cpu_clock_offset), (3, 99));
}

#[test]
fn cpu_common_subsections_and_hooks() {
    use cpu_common::*;
    let c = CpuCommon {
        halted: 1,
        interrupt_request: 0x0002,
        exception_index: CpuExceptionIndex {
            exception_index: 13,
        },
        crash_occurred: CpuCrashOccurred {
            crash_occurred: true,
        },
    };
    let want = W::default()
        .u32(1)
        .u32(2)
        .sub("cpu_common/exception_index", 1)
        .i32(13)
        .sub("cpu_common/crash_occurred", 1)
        .u8(1)
        .0;
    check(&c, &want, &c);

    // The obsolete exit bit is dropped by post_load; an absent
    // exception_index subsection means -1 whatever the destination had.
    let mut dst = c.clone();
    let wire = W::default().u32(0).u32(0x13).0;
    assert_eq!(load_v(&mut dst, &wire, 1).unwrap(), 8);
    assert_eq!(dst.interrupt_request, 0x12);
    assert_eq!(dst.exception_index.exception_index, -1);
    assert!(dst.crash_occurred.crash_occurred, "absent: unchanged");
}

#[test]
fn kvm_tpr_opt_nested_structs_and_standby() {
    use kvm_tpr_opt::*;
    let handlers = |base: u32| VapicHandlers {
        set_tpr: base,
        set_tpr_eax: base + 1,
        get_tpr: std::array::from_fn(|i| base + 0x10 + i as u32),
        get_tpr_stack: base + 2,
    };
    let dev = VapicRomState {
        rom_state: GuestRomState {
            signature: (),
            vaddr: 0xc000_0000,
            fixup_start: 0x100,
            fixup_end: 0x200,
            vapic_vaddr: 0xc000_1000,
            vapic_size: 0x1000,
            vcpu_shift: 7,
            real_tpr_addr: 0xfee0_0080,
            up: handlers(0x1000),
            mp: handlers(0x2000),
        },
        state: VAPIC_ACTIVE,
        real_tpr_addr: 0xfee0_0080,
        rom_state_vaddr: 0xc000_0040,
        vapic_paddr: 0x9_f000,
        rom_state_paddr: 0xd_0040,
    };
    let h = |w: W, base: u32| {
        let mut w = w.u32(base).u32(base + 1);
        for i in 0..8 {
            w = w.u32(base + 0x10 + i);
        }
        w.u32(base + 2)
    };
    let w = W::default()
        .zeros(8)
        .u32(0xc000_0000)
        .u32(0x100)
        .u32(0x200)
        .u32(0xc000_1000)
        .u32(0x1000)
        .u32(7)
        .u32(0xfee0_0080);
    let w = h(h(w, 0x1000), 0x2000)
        .u32(VAPIC_ACTIVE)
        .u32(0xfee0_0080)
        .u32(0xc000_0040)
        .u32(0x9_f000)
        .u32(0xd_0040);
    assert_eq!(w.0.len(), 144);
    check(&dev, &w.0, &dev);

    // qemu-kvm's "inactive with a ROM" is standby.
    let mut inactive = dev.clone();
    inactive.state = VAPIC_INACTIVE;
    let bytes = inactive.to_bytes(&ctx()).unwrap();
    let mut back = VapicRomState::default();
    back.load_from_slice(&bytes, &ctx()).unwrap();
    assert_eq!(back.state, VAPIC_STANDBY);
    // The signature bytes are skipped on load and saved as zeros.
    let mut signed = bytes.clone();
    signed[..8].copy_from_slice(b"kvm aPiC");
    let mut back2 = VapicRomState::default();
    back2.load_from_slice(&signed, &ctx()).unwrap();
    assert_eq!(back2, back);
    assert_eq!(&back2.to_bytes(&ctx()).unwrap()[..8], &[0; 8]);
}

#[test]
fn apic_registers_and_sipi() {
    use apic::*;
    let mut a = ApicCommon {
        apicbase: 0xfee0_0900,
        id: 1,
        arb_id: 2,
        tpr: 0x30,
        spurious_vec: 0x1ff,
        log_dest: 0x04,
        dest_mode: 0x0f,
        esr: 0x40,
        icr: [0x000c_4500, 0x0100_0000],
        divide_conf: 0x0b,
        count_shift: 0,
        initial_count: 0x0098_9680,
        initial_count_load_time: 1_000_000,
        next_time: 2_000_000,
        timer_expiry: -1,
        ..ApicCommon::default()
    };
    a.isr[1] = 0x0000_0100; // vector 0x28
    a.tmr[7] = 0x8000_0000;
    a.irr[0] = 1;
    a.lvt = [
        0x0001_0000,
        0x0001_0000,
        0x0000_0700,
        0x0000_0400,
        0x0001_0000,
        0x0001_00fe,
    ];
    a.sipi = ApicSipi {
        sipi_vector: 0x9a,
        wait_for_sipi: 1,
    };
    let mut w = W::default()
        .u32(0xfee0_0900)
        .u8(1)
        .u8(2)
        .u8(0x30)
        .u32(0x1ff)
        .u8(4)
        .u8(0x0f);
    for arr in [a.isr, a.tmr, a.irr] {
        for v in arr {
            w = w.u32(v);
        }
    }
    for v in a.lvt {
        w = w.u32(v);
    }
    let w = w
        .u32(0x40)
        .u32(0x000c_4500)
        .u32(0x0100_0000)
        .u32(0x0b)
        .i32(0)
        .u32(0x0098_9680)
        .i64(1_000_000)
        .i64(2_000_000)
        .i64(-1)
        .sub("apic_sipi", 1)
        .i32(0x9a)
        .i32(1);
    check(&a, &w.0, &a);
    assert_eq!(
        &w.0[7..11],
        &[0, 0, 1, 0xff],
        "spurious_vec after three u8s"
    );

    // Without the subsection, pre_load's 0 stands.
    let mut dst = a.clone();
    let no_sipi = &w.0[..w.0.len() - (2 + 9 + 4 + 8)];
    assert_eq!(load_v(&mut dst, no_sipi, 3).unwrap(), no_sipi.len());
    assert_eq!(dst.sipi.wait_for_sipi, 0);
    assert_eq!(dst.sipi.sipi_vector, 0x9a, "not reset by pre_load");
}

#[test]
fn cpu_registers_tmp_and_subsections() {
    use cpu::*;
    let c = busy_cpu();
    let main = cpu_main_bytes(&c);
    let main_len = main.0.len();
    assert_eq!(
        main_len,
        1851 - 34,
        "the fixtures' payload less poll_control"
    );
    let mut w = main
        .sub("cpu/async_pf_msr", 1)
        .u64(0x1234_5001)
        .sub("cpu/avx512", 1);
    for k in c.avx512.opmask_regs {
        w = w.u64(k);
    }
    for z in &c.avx512.zmmh_regs {
        w = w.u64(z.q4).u64(z.q5).u64(z.q6).u64(z.q7);
    }
    for h in &c.avx512.hi16_zmm_regs {
        for q in [h.q0, h.q1, h.q2, h.q3, h.q4, h.q5, h.q6, h.q7] {
            w = w.u64(q);
        }
    }
    let want = w
        .sub("cpu/tsc_khz", 1)
        .i64(2_000_000)
        .sub("cpu/pkru", 1)
        .u32(0x5555_5554)
        .sub("cpu/spec_ctrl", 1)
        .u64(1)
        .sub("cpu/svm_guest", 1)
        .u32(5)
        .sub("cpu/triple_fault", 1)
        .u8(1)
        .0;
    // post_load turns the tag word around (QEMU's quirk: it keeps the
    // inverted word, and pre_save computes it afresh).
    let mut loaded = c.clone();
    loaded.fptag_vmstate = 0x1f;
    check(&c, &want, &loaded);
    assert_eq!(
        c.zmm(1).unwrap()[..2],
        [0x1122_3344_5566_7788, 0x99aa_bbcc_ddee_ff00]
    );
    assert_eq!(c.zmm(2).unwrap()[3], 0x0123);
    assert_eq!(c.zmm(0).unwrap()[7], 7);
    assert_eq!(c.zmm(31).unwrap()[0], 31);
    assert_eq!(c.zmm(32), None);

    // pre_save derives the x87 words and the virtual TPR from the
    // working state.
    let mut stale = c.clone();
    stale.fpus_vmstate = 0;
    stale.fptag_vmstate = 0;
    stale.v_tpr = 0;
    assert_eq!(stale.to_bytes(&ctx()).unwrap(), want);

    // A version-11 stream has no XSAVE fields.
    let v11_main = main_len - 16 - 16 * 16;
    let mut v11 = want[..v11_main].to_vec();
    v11.extend(&want[main_len..]);
    let mut back = X86Cpu::default();
    assert_eq!(load_v(&mut back, &v11, 11).unwrap(), v11.len());
    assert_eq!((back.xcr0, back.ymmh_regs[2].q3), (0, 0));
    assert_eq!(back.fpregs[5].exp, 0x3fff);
}

#[test]
fn cpu_post_load_checks() {
    use cpu::*;
    let c = busy_cpu();
    let good = c.clone().to_bytes(&ctx()).unwrap();
    let refused = |bytes: &[u8], dst: X86Cpu| {
        let mut d = dst.clone();
        let e = d.load_from_slice(bytes, &ctx()).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Hook { hook: "post_load" }),
            "{e}"
        );
        assert_eq!(d, dst, "a refused load changes nothing");
        e.to_string()
    };

    // The pre-softfloat FPU format (fpregs_format_vmstate at 16*8+8+8+4+6).
    let mut old_fpu = good.clone();
    old_fpu[128 + 20 + 7] = 1;
    let e = refused(&old_fpu, X86Cpu::default());
    assert!(
        e.ends_with("unsupported old non-softfloat CPU state (format 1)"),
        "{e}"
    );

    // A destination started with another TSC frequency.
    let mut dst = X86Cpu::default();
    dst.config.user_tsc_khz = 1_000_000;
    let e = refused(&good, dst.clone());
    assert!(
        e.contains("2000000 kHz differs from the user-specified 1000000 kHz"),
        "{e}"
    );
    dst.config.user_tsc_khz = 2_000_000;
    dst.clone().load_from_slice(&good, &ctx()).unwrap();

    // SVM guest mode needs nested state.
    let mut guest = c.clone();
    guest.hflags |= HF_GUEST_MASK;
    let bytes = guest.to_bytes(&ctx()).unwrap();
    let e = refused(&bytes, X86Cpu::default());
    assert!(
        e.ends_with("vCPU set in guest-mode inconsistent with migrated kernel nested state"),
        "{e}"
    );

    // Re-enlightenment without a fixed TSC frequency.
    let mut hv = c.clone();
    hv.tsc_khz.tsc_khz = 0;
    hv.msr_hyperv_reenlightenment.msr_hv_reenlightenment_control = HV_REENLIGHTENMENT_ENABLE_BIT;
    let bytes = hv.to_bytes(&ctx()).unwrap();
    let e = refused(&bytes, X86Cpu::default());
    assert!(e.contains("re-enlightenment"), "{e}");
}

#[test]
fn cpu_exception_dpl_and_nested_state() {
    use cpu::*;
    // A pending page fault outside guest mode goes as an injected one,
    // its address in CR2; the subsection is not sent.
    let mut c = busy_cpu();
    c.exception_nr = EXCP0E_PAGE;
    c.exception_info = CpuExceptionInfo {
        exception_pending: 1,
        exception_injected: 0,
        exception_has_payload: 1,
        exception_payload: 0xdead_b000,
    };
    let bytes = c.to_bytes(&ctx()).unwrap();
    let mut back = X86Cpu::default();
    back.load_from_slice(&bytes, &ctx()).unwrap();
    assert_eq!(back.cr2, 0xdead_b000);
    assert_eq!(back.exception_info.exception_injected, 1, "derived on load");

    // Real mode with a CS of DPL 3 (old KVM): every segment's DPL is
    // cleared on save.
    let mut real = X86Cpu::default();
    real.segs[R_CS].flags = 3 << DESC_DPL_SHIFT | 0x9b00;
    real.segs[R_SS].flags = 3 << DESC_DPL_SHIFT | 0x9300;
    let bytes = real.to_bytes(&ctx()).unwrap();
    // regs, eip, eflags, hflags, four x87 words, 8 x87 registers, ES,
    // then CS's selector, base and limit.
    let cs_flags = 16 * 8 + 8 + 8 + 4 + 4 * 2 + 8 * 10 + 20 + 16;
    assert_eq!(&bytes[cs_flags..cs_flags + 4], &[0, 0, 0x9b, 0]);

    // KVM nested state: a struct pointer with subsections of its own.
    let mut n = busy_cpu();
    n.hflags |= HF_GUEST_MASK;
    n.nested_state.present = true;
    let s = &mut n.nested_state.nested_state;
    s.flags = KVM_STATE_NESTED_GUEST_MODE;
    s.format = KVM_STATE_NESTED_FORMAT_VMX;
    s.size = KVM_NESTED_STATE_HEADER + 0x1000;
    s.vmx.vmxon_pa = 0x7000;
    s.vmx.vmcs12_pa = 0x8000;
    s.vmx.vmcs12.vmcs12[0] = 0x12;
    let bytes = n.to_bytes(&ctx()).unwrap();
    let sub = W::default()
        .sub("cpu/nested_state", 1)
        .u16(1)
        .u16(0)
        .u32(128 + 0x1000)
        .sub("cpu/kvm_nested_state/vmx", 1)
        .u64(0x7000)
        .u64(0x8000)
        .u16(0)
        .sub("cpu/kvm_nested_state/vmx/vmcs12", 1)
        .u8(0x12)
        .0;
    let at = bytes
        .windows(sub.len())
        .position(|w| w == &sub[..])
        .expect("the nested-state subsections, in QEMU's layout");
    // the rest of the VMCS12, then `cpu/triple_fault`
    assert_eq!(bytes.len() - at - sub.len(), 4095 + (2 + 16 + 4 + 1));
    // This destination's kernel cannot restore nested state.
    let mut dst = X86Cpu::default();
    dst.nested_state.present = true;
    let e = dst.load_from_slice(&bytes, &ctx()).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("nested state: received nested state that the kernel cannot restore"),
        "{e}"
    );
    // This one can.
    dst.config.max_nested_state_len = 128 + 0x2000;
    dst.load_from_slice(&bytes, &ctx()).unwrap();
    assert_eq!(dst.nested_state.nested_state.vmx.vmcs12.vmcs12[0], 0x12);
    assert!(dst.nested_state.received);
}

fn segment_bytes(w: W, s: &cpu::Segment) -> W {
    w.u32(s.selector).u64(s.base).u32(s.limit).u32(s.flags)
}

/// The main fields of `cpu`, in QEMU's order and widths (x86-64:
/// `target_ulong` is 64 bits), at stream version 12.
fn cpu_main_bytes(c: &cpu::X86Cpu) -> W {
    let mut w = W::default();
    for r in c.regs {
        w = w.u64(r);
    }
    w = w
        .u64(c.eip)
        .u64(c.eflags)
        .u32(c.hflags)
        .u16(c.fpuc)
        .u16(c.fpus_vmstate)
        .u16(c.fptag_vmstate)
        .u16(c.fpregs_format_vmstate);
    for f in &c.fpregs {
        w = w.u64(f.mant).u16(f.exp); // fpreg_tmp: tmp_mant, tmp_exp
    }
    for s in c.segs.iter().chain([&c.ldt, &c.tr, &c.gdt, &c.idt]) {
        w = segment_bytes(w, s);
    }
    w = w
        .u32(c.sysenter_cs)
        .u64(c.sysenter_esp)
        .u64(c.sysenter_eip)
        .u64(c.cr0)
        .u64(c.cr2)
        .u64(c.cr3)
        .u64(c.cr4);
    for d in c.dr {
        w = w.u64(d);
    }
    w = w.i32(c.a20_mask).u32(c.mxcsr);
    for x in &c.xmm_regs {
        w = w.u64(x.q0).u64(x.q1);
    }
    w = w
        .u64(c.efer)
        .u64(c.star)
        .u64(c.lstar)
        .u64(c.cstar)
        .u64(c.fmask)
        .u64(c.kernelgsbase)
        .u32(c.smbase)
        .u64(c.pat)
        .u32(c.hflags2)
        .u64(c.vm_hsave)
        .u64(c.vm_vmcb)
        .u64(c.tsc_offset)
        .u64(c.intercept)
        .u16(c.intercept_cr_read)
        .u16(c.intercept_cr_write)
        .u16(c.intercept_dr_read)
        .u16(c.intercept_dr_write)
        .u32(c.intercept_exceptions)
        .u8(c.v_tpr);
    for m in c.mtrr_fixed {
        w = w.u64(m);
    }
    w = w.u64(c.mtrr_deftype);
    for v in &c.mtrr_var {
        w = w.u64(v.base).u64(v.mask);
    }
    w = w
        .i32(c.interrupt_injected)
        .u32(c.mp_state)
        .u64(c.tsc)
        .i32(c.exception_nr)
        .u8(c.soft_interrupt)
        .u8(c.nmi_injected)
        .u8(c.nmi_pending)
        .u8(c.has_error_code)
        .u32(c.sipi_vector)
        .u64(c.mcg_cap)
        .u64(c.mcg_status)
        .u64(c.mcg_ctl);
    for b in c.mce_banks {
        w = w.u64(b);
    }
    w = w
        .u64(c.tsc_aux)
        .u64(c.system_time_msr)
        .u64(c.wall_clock_msr)
        .u64(c.xcr0)
        .u64(c.xstate_bv);
    for y in &c.ymmh_regs {
        w = w.u64(y.q2).u64(y.q3);
    }
    w
}

/// A 64-bit guest in the middle of things: x87 stack in use, AVX-512
/// state, a few MSRs off their reset values.
fn busy_cpu() -> cpu::X86Cpu {
    use cpu::*;
    let mut c = X86Cpu {
        regs: std::array::from_fn(|i| 0x1000 * i as u64 + 1),
        eip: 0xffff_ffff_8100_0000,
        eflags: 0x246,
        hflags: 0x0040_c0b3 & !HF_CPL_MASK, // CPL 0 (from SS.DPL)
        fpuc: 0x037f,
        fpus: 0x0020,
        fpstt: 5,
        fpus_vmstate: 0x0020 | 5 << 11,
        fptags: [1, 1, 1, 1, 1, 0, 0, 0],
        fptag_vmstate: 0xe0,
        ..X86Cpu::default()
    };
    c.fpregs[5] = FpReg {
        mant: 0x8000_0000_0000_0000,
        exp: 0x3fff, // 1.0
        ..FpReg::default()
    };
    c.fpregs[7].mant = 0xdead_beef; // an MMX register
    c.segs[R_CS] = Segment {
        selector: 0x10,
        base: 0,
        limit: 0xffff_ffff,
        flags: 0x00af_9b00,
    };
    c.segs[R_SS] = Segment {
        selector: 0x18,
        base: 0,
        limit: 0xffff_ffff,
        flags: 0x00cf_9300,
    };
    c.gdt = Segment {
        limit: 0x7f,
        base: 0xffff_8880_0000_1000,
        ..Segment::default()
    };
    c.cr0 = 0x8005_0033;
    c.cr3 = 0x0010_a000;
    c.cr4 = 0x0034_06f0;
    c.dr[7] = 0x400;
    c.mxcsr = 0x1f80;
    c.xmm_regs[1] = XmmReg {
        q0: 0x1122_3344_5566_7788,
        q1: 0x99aa_bbcc_ddee_ff00,
    };
    c.ymmh_regs[2].q3 = 0x0123;
    c.efer = 0xd01;
    c.pat = 0x0007_0406_0007_0406;
    c.v_tpr = 5;
    c.mtrr_var[0] = MtrrVar {
        base: 0x6,
        mask: 0xf_8000_0800,
    };
    c.tsc = 0x1_0000_0000;
    c.mce_banks[39] = 1;
    c.xcr0 = 0xe7;
    c.xstate_bv = 0xe7;
    c.async_pf_msr.async_pf_en_msr = 0x1234_5001;
    c.avx512.opmask_regs[1] = 0xff;
    c.avx512.zmmh_regs[0].q7 = 7;
    c.avx512.hi16_zmm_regs[15].q0 = 31;
    c.tsc_khz.tsc_khz = 2_000_000;
    c.pkru.pkru = 0x5555_5554;
    c.spec_ctrl.spec_ctrl = 1;
    c.svm_guest.int_ctl = 0x05; // TCG: sent, and the virtual TPR
    c.triple_fault.triple_fault_pending = 1;
    c
}
