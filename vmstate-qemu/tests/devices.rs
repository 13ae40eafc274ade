//! Each mirror with non-zero state, against byte strings written out by
//! hand from QEMU's encoding rules: big-endian scalars in field order,
//! `unused` as zeros, version-gated fields only when the stream version
//! has them, a nested struct inline, and a subsection as `05`, name length,
//! name, be32 version, then its fields, after the parent's fields and in
//! the parent's list order. The fixture payloads are mostly zeros; these
//! tests pin the field order and widths.

use std::fmt::Debug;

use vmstate_core::types::Timer;
use vmstate_core::{Context, ErrorKind, Reader, VmState};
use vmstate_qemu::*;

/// A hand-written wire image.
#[derive(Default)]
struct W(Vec<u8>);

impl W {
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u16(mut self, v: u16) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    fn i32(self, v: i32) -> Self {
        self.u32(v as u32)
    }
    fn u64(mut self, v: u64) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    fn i64(self, v: i64) -> Self {
        self.u64(v as u64)
    }
    fn zeros(mut self, n: usize) -> Self {
        self.0.extend(std::iter::repeat_n(0, n));
        self
    }
    /// A subsection header: `05`, u8 length, name, be32 version.
    fn sub(mut self, name: &str, version: u32) -> Self {
        self.0.push(0x05);
        self.0.push(name.len() as u8);
        self.0.extend(name.as_bytes());
        self.u32(version)
    }
}

fn ctx() -> Context {
    Context::new()
}

/// `dev` saves to exactly `want`; `want` followed by a section footer
/// loads (at the current version) into a default mirror, stops before the
/// footer and gives back `loaded`.
fn check<T: VmState + Clone + Default + PartialEq + Debug>(dev: &T, want: &[u8], loaded: &T) {
    check_into(dev, want, T::default(), loaded);
}

/// [`check`] with a configured destination `dst` instead of the default.
fn check_into<T: VmState + Clone + PartialEq + Debug>(dev: &T, want: &[u8], dst: T, loaded: &T) {
    let mut d = dev.clone();
    let got = d.to_bytes(&ctx()).unwrap();
    assert_eq!(got, want, "save of {}", T::VMSD.name);
    let mut input = want.to_vec();
    input.extend([0x7e, 0, 0, 0, 0x2a]);
    let mut back = dst;
    let mut r = Reader::from_slice(&input);
    back.load(&mut r, T::VMSD.version_id, &ctx()).unwrap();
    assert_eq!(r.offset() as usize, want.len(), "{}", T::VMSD.name);
    assert_eq!(&back, loaded, "load of {}", T::VMSD.name);
}

/// Loads `bytes` at stream version `version` into `dev`.
fn load_v<T: VmState + Clone>(
    dev: &mut T,
    bytes: &[u8],
    version: u32,
) -> vmstate_core::Result<usize> {
    let mut r = Reader::from_slice(bytes);
    dev.load(&mut r, version, &ctx())?;
    Ok(r.offset() as usize)
}

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
fn fw_cfg_versions_and_subsections() {
    use fw_cfg::*;
    let mut f = FwCfg {
        cur_entry: 0x0019,
        cur_offset: 0x0001_0002,
        dma: FwCfgDma {
            dma_addr: 0x1234_5678_9abc,
        },
        acpi_mr: FwCfgAcpiMr {
            table_mr_size: 0x2_0000,
            linker_mr_size: 0x1000,
            rsdp_mr_size: 0x24,
        },
        ..FwCfg::default()
    };
    let want = W::default()
        .u16(0x19)
        .u32(0x0001_0002)
        .sub("fw_cfg/dma", 0)
        .u64(0x1234_5678_9abc)
        .sub("fw_cfg/acpi_mr", 1)
        .u64(0x2_0000)
        .u64(0x1000)
        .u64(0x24)
        .0;
    check(&f, &want, &f);

    // Page-aligned sizes need no subsection; neither does a machine
    // without DMA.
    f.acpi_mr.rsdp_mr_size = 0x1000;
    f.dma_enabled = false;
    assert_eq!(
        f.to_bytes(&ctx()).unwrap(),
        W::default().u16(0x19).u32(0x0001_0002).0
    );

    // Version 1: the offset was a be16 (the `int32_as_uint16` hack); the
    // 32-bit form is absent.
    let mut old = FwCfg::default();
    let wire = W::default().u16(0x8000).u16(0xbeef).u8(0x7e).0;
    assert_eq!(load_v(&mut old, &wire, 1).unwrap(), 4);
    assert_eq!((old.cur_entry, old.cur_offset), (0x8000, 0xbeef));
    // Saving is always at version 2.
    assert_eq!(
        &old.to_bytes(&ctx()).unwrap()[..6],
        &[0x80, 0, 0, 0, 0xbe, 0xef]
    );
}

/// Struct-level `needed`: a stream writer leaves the section out.
#[test]
fn pci_host_and_pcspk_section_needed() {
    let h = pci_host::PciHost {
        config_reg: 0x8000_0cf8,
        mig_enabled: true,
    };
    check(&h, &[0x80, 0x00, 0x0c, 0xf8], &h);
    assert!(h.section_needed());
    assert!(!pci_host::PciHost {
        mig_enabled: false,
        ..h
    }
    .section_needed());

    let s = pcspk::PcSpk {
        data_on: 1,
        dummy_refresh_clock: 1,
        migrate: true,
    };
    check(&s, &[1, 1], &s);
    assert!(!pcspk::PcSpk {
        migrate: false,
        ..s.clone()
    }
    .section_needed());
}

#[test]
fn dma_struct_array() {
    use dma::*;
    let mut d = I8257 {
        command: 0x04,
        mask: 0x0e,
        flip_flop: 1,
        dshift: 1,
        ..I8257::default()
    };
    d.regs[2] = DmaRegs {
        now: [-1, 0x0001_0000],
        base: [0x1234, 0xffff],
        mode: 0x46,
        page: 0x09,
        pageh: 0x00,
        dack: 1,
        eop: 0,
    };
    let mut w = W::default().u8(0x04).u8(0x0e).u8(1).i32(1);
    for i in 0..4 {
        w = if i == 2 {
            w.i32(-1)
                .i32(0x0001_0000)
                .u16(0x1234)
                .u16(0xffff)
                .u8(0x46)
                .u8(0x09)
                .u8(0)
                .u8(1)
                .u8(0)
        } else {
            w.zeros(17)
        };
    }
    assert_eq!(w.0.len(), 7 + 4 * 17);
    check(&d, &w.0, &d);
}

#[test]
fn i8259_registers() {
    let p = i8259::PicCommon {
        last_irr: 0x01,
        irr: 0x02,
        imr: 0xb8,
        isr: 0x04,
        priority_add: 5,
        irq_base: 0x08,
        read_reg_select: 1,
        poll: 0,
        special_mask: 1,
        init_state: 2,
        auto_eoi: 1,
        rotate_on_auto_eoi: 1,
        special_fully_nested_mode: 1,
        init4: 1,
        single_mode: 0,
        elcr: 0x0c,
        ltim: i8259::PicLtim::default(),
    };
    check(
        &p,
        &[1, 2, 0xb8, 4, 5, 8, 1, 0, 1, 2, 1, 1, 1, 1, 0, 0x0c],
        &p,
    );
}

#[test]
fn ioapic_version_gates() {
    use ioapic::*;
    let mut io = IoapicCommon {
        id: 0,
        ioregsel: 0x10,
        irr: 0x0000_0100,
        ..IoapicCommon::default()
    };
    io.ioredtbl = std::array::from_fn(|i| 0x0001_0000 | (0x20 + i as u64));
    io.ioredtbl[8] = 0xff00_0000_0000_a038;
    let mut w = W::default().u8(0).u8(0x10).zeros(8).u32(0x100);
    for v in io.ioredtbl {
        w = w.u64(v);
    }
    check(&io, &w.0, &io);

    // The unused gap is skipped whatever it holds.
    let mut junk = w.0.clone();
    junk[2..10].copy_from_slice(&[0xaa; 8]);
    let mut back = IoapicCommon::default();
    back.load_from_slice(&junk, &ctx()).unwrap();
    assert_eq!(back, io);

    // Version 1 has neither the gap nor irr.
    let mut v1 = W::default().u8(2).u8(0x11);
    for v in io.ioredtbl {
        v1 = v1.u64(v);
    }
    let mut old = IoapicCommon {
        irr: 7,
        ..IoapicCommon::default()
    };
    assert_eq!(load_v(&mut old, &v1.0, 1).unwrap(), 2 + 24 * 8);
    assert_eq!((old.id, old.ioregsel, old.irr), (2, 0x11, 7));
    assert_eq!(old.ioredtbl, io.ioredtbl);
}

#[test]
fn i8254_aliases_and_versions() {
    use i8254::*;
    let ch = |n: i32, next: i64| PitChannel {
        count: n,
        latched_count: 0x1234,
        count_latched: 1,
        status_latched: 0,
        status: 0x34,
        read_state: 3,
        write_state: 3,
        write_latch: 0x9b,
        rw_mode: 3,
        mode: 2,
        bcd: 0,
        gate: 1,
        count_load_time: 0x1000,
        next_transition_time: next,
    };
    let pit = PitCommon {
        irq_disabled: 1,
        channels: [ch(0x2e9b, 0x5000), ch(18, -1), ch(0x0533, -1)],
        channel0_next_transition_time: 0x5000,
    };
    let channel = |w: W, n: i32, next: i64| {
        w.i32(n)
            .u16(0x1234)
            .u8(1)
            .u8(0)
            .u8(0x34)
            .u8(3)
            .u8(3)
            .u8(0x9b)
            .u8(3)
            .u8(2)
            .u8(0)
            .u8(1)
            .i64(0x1000)
            .i64(next)
    };
    let w = channel(W::default().u32(1), 0x2e9b, 0x5000);
    let w = channel(channel(w, 18, -1), 0x0533, -1).i64(0x5000);
    assert_eq!(w.0.len(), 4 + 3 * 32 + 8);
    check(&pit, &w.0, &pit);

    // pre_save copies channel 0's transition into the trailing field.
    let mut stale = pit.clone();
    stale.channel0_next_transition_time = 0;
    assert_eq!(stale.to_bytes(&ctx()).unwrap(), w.0);

    // On load the trailing copy wins, as in QEMU (same memory). Version 2
    // has no irq_disabled.
    let mut v2 = w.0[4..].to_vec();
    let tail = v2.len() - 8;
    v2[tail..].copy_from_slice(&0x6000i64.to_be_bytes());
    let mut back = PitCommon {
        irq_disabled: 5,
        ..PitCommon::default()
    };
    assert_eq!(load_v(&mut back, &v2, 2).unwrap(), v2.len());
    assert_eq!(back.irq_disabled, 5);
    assert_eq!(back.channels[0].next_transition_time, 0x6000);
    assert_eq!(back.channels[1], pit.channels[1]);
}

#[test]
fn pckbd_outport_pending_and_flags() {
    use pckbd::*;
    let mut k = KbdIsa::default();
    k.kbd.write_cmd = 0xd1;
    k.kbd.status = 0x1d; // OBF: the default outport is 0xdf
    k.kbd.outport.outport = 0xdd; // A20 off
    k.kbd.pending = 0x10;
    k.kbd.ext.obsrc = KBD_OBSRC_KBD;
    k.kbd.ext.obdata = 0xfa;
    k.kbd.ext.cbdata = 0x20;
    k.kbd.ext.throttle_timer_pending = true;
    let want = W::default()
        .u8(0xd1)
        .u8(0x1d)
        .u8(0x03)
        .u8(0x10)
        .sub("pckbd_outport", 1)
        .u8(0xdd)
        .sub("pckbd/extended_state", 0)
        .u32(KBD_MIGR_TIMER_PENDING)
        .u32(KBD_OBSRC_KBD)
        .u8(0xfa)
        .u8(0x20)
        .0;
    let mut loaded = k.clone();
    loaded.kbd.pending_tmp = 0x10;
    loaded.kbd.outport.present = true;
    loaded.kbd.ext.migration_flags = KBD_MIGR_TIMER_PENDING;
    loaded.kbd.ext.loaded = true;
    loaded.kbd.ext.throttle_timer_pending = false;
    loaded.kbd.ext.throttle_timeout_due = true;
    check(&k, &want, &loaded);

    // Without the extended state: only the compat bits of `pending` go,
    // and a load expands them again (and derives obsrc from the status).
    let mut old = KbdIsa::default();
    old.kbd.extended_state = false;
    old.kbd.status = 0x3d; // OBF | MOUSE_OBF
    old.kbd.outport.outport = outport_default(0x3d);
    old.kbd.pending = 0x30;
    let bytes = old.to_bytes(&ctx()).unwrap();
    assert_eq!(bytes, [0x00, 0x3d, 0x03, 0x03]);
    let mut back = KbdIsa::default();
    back.load_from_slice(&bytes, &ctx()).unwrap();
    assert_eq!(back.kbd.pending, 0x30);
    assert_eq!(back.kbd.ext.obsrc, KBD_OBSRC_MOUSE);
    assert_eq!(back.kbd.outport.outport, 0xff);
    assert!(!back.kbd.outport.present && !back.kbd.ext.loaded);
}

#[test]
fn vmmouse_equal_and_queue() {
    use vmmouse::*;
    let mut m = VmMouse {
        nb_queue: 4,
        status: 4,
        absolute: 1,
        ..VmMouse::default()
    };
    m.queue[..4].copy_from_slice(&[0x28, 0x1000, 0x2000, 0]);
    let mut w = W::default().i32(1024);
    for v in m.queue {
        w = w.u32(v);
    }
    let w = w.u16(4).u16(4).u8(1);
    assert_eq!(w.0.len(), 4105);
    check(&m, &w.0, &m);

    // The destination's queue size must match the stream's.
    let mut bad = w.0.clone();
    bad[..4].copy_from_slice(&512i32.to_be_bytes());
    let mut dst = VmMouse::default();
    let e = dst.load_from_slice(&bad, &ctx()).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::NotEqual {
                expected: 1024,
                found: 512,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.path(), "vmmouse/queue_size");
    assert!(
        e.to_string().contains("the vmmouse queue size must match"),
        "{e}"
    );
    assert_eq!(dst, VmMouse::default());
}

#[test]
fn i2c_bus_transfer_roundtrip() {
    use i2c_bus::*;
    for (transfer, byte) in [
        (I2cTransfer::Idle, 0xff),
        (I2cTransfer::Broadcast, 0x00),
        (I2cTransfer::Device(0x50), 0x50),
    ] {
        let bus = I2cBus {
            saved_address: 0x11, // stale: pre_save recomputes it
            transfer,
        };
        let loaded = I2cBus {
            saved_address: byte,
            transfer,
        };
        check(&bus, &[byte], &loaded);
    }
}

#[test]
fn acpi_build_and_port92() {
    let a = acpi_build::AcpiBuild { patched: 1 };
    check(&a, &[1], &a);
    let p = port92::Port92 { outport: 0x03 };
    check(&p, &[3], &p);
}

/// A busy UART: every subsection but the FIFOs (empty FIFOs are not
/// sent).
fn busy_serial() -> serial::IsaSerial {
    use serial::*;
    IsaSerial {
        state: Serial {
            divider: 0x0001,
            rbr: 0x41,
            ier: UART_IER_THRI,
            iir: 0xc1, // FIFOs on, no interrupt
            lcr: 0x03,
            mcr: 0x0b,
            lsr: 0x21, // data ready, THR empty, transmitter busy
            msr: 0xb0,
            scr: 0x5a,
            fcr_vmstate: 0,
            thr_ipending: SerialThrIpending { thr_ipending: 1 },
            tsr: SerialTsr {
                tsr_retry: 2,
                thr: 0x42,
                tsr: 0x43,
            },
            recv_fifo: SerialRecvFifo::default(),
            xmit_fifo: SerialXmitFifo::default(),
            fifo_timeout_timer: SerialFifoTimeoutTimer {
                fifo_timeout_timer: Timer::armed(0x0123_4567),
            },
            timeout_ipending: SerialTimeoutIpending {
                timeout_ipending: 1,
            },
            poll: SerialPoll {
                poll_msl: 1,
                modem_status_poll: Timer::armed(0x10),
            },
            fcr: 0x81,
        },
    }
}

fn busy_serial_bytes() -> Vec<u8> {
    W::default()
        .u16(1)
        .u8(0x41)
        .u8(0x02)
        .u8(0xc1)
        .u8(0x03)
        .u8(0x0b)
        .u8(0x21)
        .u8(0xb0)
        .u8(0x5a)
        .u8(0x81)
        .sub("serial/thr_ipending", 1)
        .i32(1)
        .sub("serial/tsr", 1)
        .u32(2)
        .u8(0x42)
        .u8(0x43)
        .sub("serial/fifo_timeout_timer", 1)
        .i64(0x0123_4567)
        .sub("serial/timeout_ipending", 1)
        .i32(1)
        .sub("serial/poll", 1)
        .i32(1)
        .i64(0x10)
        .0
}

#[test]
fn serial_subsections() {
    let s = busy_serial();
    let mut loaded = s.clone();
    loaded.state.fcr_vmstate = 0x81;
    check(&s, &busy_serial_bytes(), &loaded);

    // At reset only the registers go (the payload of pc-devices.mig).
    let mut idle = serial::IsaSerial::default();
    assert_eq!(
        idle.to_bytes(&ctx()).unwrap(),
        [0, 0x0c, 0, 0, 0x01, 0, 0x08, 0x60, 0xb0, 0, 0]
    );
}

#[test]
fn serial_post_load_checks() {
    use serial::*;
    let good = busy_serial_bytes();
    // tsr_retry > 0 with the transmitter empty: QEMU refuses the state.
    let mut temt = good.clone();
    temt[7] |= UART_LSR_TEMT;
    let mut dst = IsaSerial::default();
    let e = dst.load_from_slice(&temt, &ctx()).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Hook { hook: "post_load" }),
        "{e}"
    );
    assert_eq!(e.path(), "serial/state");
    assert!(
        e.to_string()
            .ends_with("inconsistent state in serial device (tsr empty, tsr_retry=2)"),
        "{e}"
    );
    assert_eq!(dst, IsaSerial::default(), "transactional");

    // No tsr subsection (tsr_retry 0) with the transmitter busy.
    let mut s = busy_serial();
    s.state.tsr.tsr_retry = 0;
    let bytes = s.to_bytes(&ctx()).unwrap();
    let e = IsaSerial::default()
        .load_from_slice(&bytes, &ctx())
        .unwrap_err();
    assert!(
        e.to_string().ends_with("(tsr not empty, tsr_retry=0)"),
        "{e}"
    );

    // Too many retries are clamped.
    let mut s = busy_serial();
    s.state.tsr.tsr_retry = 9;
    let bytes = s.to_bytes(&ctx()).unwrap();
    let mut back = IsaSerial::default();
    back.load_from_slice(&bytes, &ctx()).unwrap();
    assert_eq!(back.state.tsr.tsr_retry, MAX_XMIT_RETRY);

    // fcr drives IIR's FIFO bits. A version-2 `serial` description has
    // no fcr_vmstate. (Inside `isa-serial` the nested description is
    // always read at its own version 3, as QEMU reads nested structs; the
    // version-2 form is that of the bare description.)
    let v2 = W::default()
        .u16(0x0c)
        .u8(0)
        .u8(0)
        .u8(0xc1)
        .u8(0)
        .u8(0)
        .u8(0x60)
        .u8(0)
        .u8(0)
        .0;
    let mut back = Serial {
        fcr_vmstate: 0x81,
        ..Serial::default()
    };
    assert_eq!(load_v(&mut back, &v2, 2).unwrap(), 10);
    assert_eq!((back.fcr_vmstate, back.fcr, back.iir), (0, 0, 0x01));
    assert_eq!(back.thr_ipending.thr_ipending, 0);
    let mut v3 = v2.clone();
    v3.push(0x01); // FIFO enable
    let mut back = Serial::default();
    assert_eq!(load_v(&mut back, &v3, 3).unwrap(), 11);
    assert_eq!((back.fcr, back.iir), (0x01, 0xc1));
}

/// The FIFO subsections: a `Fifo8` each, its 16 data bytes a variable
/// buffer sized by the FIFO's capacity, in QEMU's subsection order
/// (after `serial/tsr`, before the timer).
#[test]
fn serial_fifo_subsections() {
    let mut s = busy_serial();
    let rx = &mut s.state.recv_fifo.recv_fifo;
    rx.data[14] = b'h';
    rx.data[15] = b'i';
    rx.data[0] = b'!';
    rx.head = 14;
    rx.num = 3;
    let tx = &mut s.state.xmit_fifo.xmit_fifo;
    tx.data[..2].copy_from_slice(b"ok");
    tx.num = 2;
    let fifo = |w: W, f: &vmstate_qemu::fifo8::Fifo8| {
        let mut w = w;
        w.0.extend(&f.data);
        w.u32(f.head).u32(f.num)
    };
    let regs = busy_serial_bytes();
    // The registers, thr_ipending and tsr come first: 11 + 29 + 22 bytes.
    let head = &regs[..11 + 29 + 22];
    let mut w = W(head.to_vec()).sub("serial/recv_fifo", 1);
    w = fifo(w, &s.state.recv_fifo.recv_fifo).sub("serial/xmit_fifo", 1);
    w = fifo(w, &s.state.xmit_fifo.xmit_fifo);
    let mut want = w.0;
    want.extend(&regs[11 + 29 + 22..]);
    assert_eq!(want.len(), regs.len() + 2 * (2 + 16 + 4 + 24));
    let mut loaded = s.clone();
    loaded.state.fcr_vmstate = 0x81;
    check(&s, &want, &loaded);
    assert_eq!(&want[62..80], b"\x05\x10serial/recv_fifo");

    // A destination whose FIFO has another capacity reads that many bytes,
    // as QEMU does: the capacity is configuration, not on the wire. The
    // description cannot notice; the section framing does (the load stops
    // short of the payload's end, where the footer check fails).
    let mut small = serial::IsaSerial::default();
    small.state.recv_fifo.recv_fifo = vmstate_qemu::fifo8::Fifo8::new(8);
    let consumed = small.load_from_slice(&want, &ctx()).unwrap();
    assert!(consumed < want.len());
    assert_eq!(small.state.recv_fifo.recv_fifo.data.len(), 8);
}

#[test]
fn registry_matches_idstrs() {
    assert_eq!(registry::lookup("dma").unwrap().name, "dma");
    assert_eq!(
        registry::lookup("pci/0000:00:01.0/dma").unwrap().name,
        "dma"
    );
    assert!(registry::lookup("xdma").is_none());
    assert!(registry::lookup("dma/x").is_none());
    assert_eq!(registry::lookup("cpu").unwrap().type_name, "cpu::X86Cpu");
    assert_eq!(
        registry::lookup("0000:00:03.0/virtio-net").unwrap().name,
        "virtio-net"
    );
    assert_eq!(registry::lookup("slirp").unwrap().name, "slirp");
    assert!(registry::lookup("virtio-net-pci").is_none());
    assert_eq!(
        registry::lookup("kvm-tpr-opt").unwrap().type_name,
        "kvm_tpr_opt::VapicRomState"
    );
    // Names are unique, and each entry's name is its description's.
    for (i, e) in registry::ENTRIES.iter().enumerate() {
        assert_eq!(e.name, e.vmsd.name);
        assert!(registry::ENTRIES[..i].iter().all(|o| o.name != e.name));
    }
    assert!(registry::ENTRIES.iter().all(|e| e.gaps.is_empty()));
}

#[test]
fn pci_bus_variable_array() {
    use pci_bus::*;
    let bus = PciBus {
        nirq: 4,
        irq_count: vec![1, 0, 3, 0x7fff_ffff],
    };
    let want = W::default().i32(4).i32(1).i32(0).i32(3).i32(0x7fff_ffff).0;
    check(&bus, &want, &bus);

    // A bus with another number of lines is refused at the count, before
    // any counter is read.
    let wire = W::default().i32(8).0;
    let mut dst = PciBus::default();
    let e = dst.load_from_slice(&wire, &ctx()).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::NotEqual {
                expected: 4,
                found: 8,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.path(), "PCIBUS/nirq");
    assert_eq!(dst, PciBus::default());

    // Saving a vector that disagrees with its count is an error, not a
    // short array on the wire.
    let mut odd = PciBus {
        irq_count: vec![0; 3],
        ..PciBus::default()
    };
    let e = odd.to_bytes(&ctx()).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthMismatch {
                field: "nirq",
                expected: 4,
                found: 3
            }
        ),
        "{e}"
    );
}

fn hpet_timer_bytes(w: W, t: &hpet::HpetTimer) -> W {
    w.u8(t.tn)
        .u64(t.config)
        .u64(t.cmp)
        .u64(t.fsb)
        .u64(t.period)
        .u8(t.wrap_flag)
        .i64(t.qemu_timer.raw)
}

/// An enabled HPET with four timers, legacy RTC interrupt up.
fn busy_hpet() -> hpet::Hpet {
    let mut h = hpet::Hpet {
        config: 0x3, // enabled, legacy route
        isr: 0x2,
        hpet_counter: 0x0000_0001_2345_6789,
        num_timers: 4,
        ..hpet::Hpet::default()
    };
    h.timer[1].config = 0x0000_0004_0000_004c; // periodic, enabled, level
    h.timer[1].cmp = 0x0000_0001_2346_0000;
    h.timer[1].period = 0x1_0000;
    h.timer[1].qemu_timer = Timer::armed(0x5_0000_0000);
    h.timer[3].fsb = 0xfee0_0000_0000_0041;
    h.timer[3].wrap_flag = 1;
    h.rtc_irq_level.rtc_irq_level = 1;
    h.offset.hpet_offset = 0xffff_ffff_f000_0000;
    h
}

#[test]
fn hpet_variable_timers_and_subsections() {
    let h = busy_hpet();
    let mut w = W::default()
        .u64(0x3)
        .u64(0x2)
        .u64(0x0000_0001_2345_6789)
        .u8(4);
    for t in &h.timer[..4] {
        w = hpet_timer_bytes(w, t);
    }
    let want = w
        .sub("hpet/rtc_irq_level", 1)
        .u8(1)
        .sub("hpet/offset", 1)
        .u64(0xffff_ffff_f000_0000)
        .0;
    assert_eq!(want.len(), 25 + 4 * 42 + 2 + 18 + 4 + 1 + 2 + 11 + 4 + 8);
    // post_load puts the number of timers into the capability register.
    let mut loaded = h.clone();
    loaded.capability = (loaded.capability & !hpet::HPET_ID_NUM_TIM_MASK) | (3 << 8);
    check(&h, &want, &loaded);

    // Timers beyond num_timers are not sent, and a load leaves them alone.
    let mut dst = hpet::Hpet::default();
    dst.timer[7].cmp = 7;
    dst.load_from_slice(&want, &ctx()).unwrap();
    assert_eq!(dst.timer[7].cmp, 7);
    assert_eq!(dst.timer[..4], h.timer[..4]);

    // The offset is sent only while the counter runs.
    let mut halted = h.clone();
    halted.config = 0;
    let bytes = halted.to_bytes(&ctx()).unwrap();
    assert_eq!(bytes.len(), want.len() - (2 + 11 + 4 + 8));

    // A version-1 stream has no num_timers: three timers, by pre_load.
    let mut w = W::default().u64(0).u64(0).u64(5);
    for t in &h.timer[..3] {
        w = hpet_timer_bytes(w, t);
    }
    let mut old = busy_hpet();
    assert_eq!(load_v(&mut old, &w.0, 1).unwrap(), 24 + 3 * 42);
    assert_eq!(old.num_timers, 3);
    assert_eq!(old.hpet_counter, 5);
}

/// CVE-2013-4527: a stream whose `num_timers` does not fit the timer
/// array (or is below the hardware's minimum) is refused by QEMU's
/// "num_timers in range" step, before any timer is read.
#[test]
fn hpet_hostile_num_timers_is_rejected_by_validate() {
    for hostile in [0u8, 2, 33, 40, 255] {
        // The stream stops right after num_timers: a loader that read a
        // timer first would fail with an end-of-stream error instead.
        let wire = W::default().u64(1).u64(0).u64(0).u8(hostile).0;
        let mut dst = busy_hpet();
        let e = dst.load_from_slice(&wire, &ctx()).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::Invalid {
                    message: "num_timers in range"
                }
            ),
            "num_timers {hostile}: {e}"
        );
        assert_eq!(e.path(), "hpet/num_timers in range", "{e}");
        assert_eq!(e.offset(), 25, "{e}");
        assert!(e.to_string().contains("num_timers in range"), "{e}");
        assert_eq!(dst, busy_hpet(), "a refused load changes nothing");
    }
    // The bounds themselves load.
    for ok in [3u8, 32] {
        let mut h = hpet::Hpet {
            num_timers: ok,
            ..hpet::Hpet::default()
        };
        let bytes = h.to_bytes(&ctx()).unwrap();
        assert_eq!(bytes.len(), 25 + usize::from(ok) * 42);
        let mut back = hpet::Hpet::default();
        back.load_from_slice(&bytes, &ctx()).unwrap();
        assert_eq!(back.num_timers, ok);
        assert_eq!(back.capability >> 8 & 0x1f, u64::from(ok) - 1);
    }
}

#[test]
fn mc146818rtc_buffer_gaps_and_period() {
    use mc146818rtc::*;
    let mut rtc = Rtc::default();
    rtc.cmos_data[..14].copy_from_slice(&[
        0x30, 0, 0x15, 0, 0x12, 0, 0x04, 0x01, 0x01, 0x20, 0x26, 0x42, 0x00, 0x80,
    ]);
    rtc.cmos_data[0x7f] = 0xee;
    rtc.cmos_index = 0x8f;
    rtc.periodic_timer = Timer::armed(0x1000);
    rtc.next_periodic_time = 0x1000;
    rtc.irq_coalesced = 2;
    rtc.period = 32; // rate 6 with PIE: 1024 Hz, 32 ticks of 32 kHz
    rtc.base_rtc = 1_577_836_800;
    rtc.last_update = 0x3b9a_ca00;
    rtc.offset = 0x4e94_914f;
    rtc.update_timer = Timer::armed(0x7777);
    rtc.next_alarm_time = 0x8888;
    rtc.irq_reinject.irq_reinject_on_ack_count = 5;
    let mut w = W::default();
    w.0.extend(rtc.cmos_data);
    let want = w
        .u8(0x8f)
        .zeros(28)
        .i64(0x1000)
        .i64(0x1000)
        .zeros(24)
        .u32(2)
        .u32(32)
        .u64(1_577_836_800)
        .u64(0x3b9a_ca00)
        .i64(0x4e94_914f)
        .i64(0x7777)
        .u64(0x8888)
        .sub("mc146818rtc/irq_reinject_on_ack_count", 1)
        .u16(5)
        .0;
    assert_eq!(want.len(), 245 + 2 + 37 + 4 + 2);
    check(&rtc, &want, &rtc);

    // post_load derives the period from registers A and B.
    let mut stale = want.clone();
    stale[128 + 1 + 28 + 16 + 24 + 4..][..4].copy_from_slice(&[0, 0, 0, 9]);
    let mut back = Rtc::default();
    back.load_from_slice(&stale, &ctx()).unwrap();
    assert_eq!(back.period, 32);
    assert_eq!(periodic_period_to_clock(1), 128);
    assert_eq!(periodic_period_to_clock(3), 4);

    // Version 2: no version-3 fields; the offset is reset.
    let v2 = &want[..128 + 1 + 28 + 16 + 24 + 8];
    let mut old = rtc.clone();
    assert_eq!(load_v(&mut old, v2, 2).unwrap(), v2.len());
    assert_eq!((old.offset, old.base_rtc), (0, 1_577_836_800));
}

fn ps2_common_bytes(w: W, c: &ps2::Ps2Common) -> W {
    let mut w = w.i32(c.write_cmd).i32(c.rptr).i32(c.wptr).i32(c.count);
    w.0.extend(c.data);
    w
}

#[test]
fn ps2kbd_queue_buffer_and_subsections() {
    use ps2::*;
    let mut k = Ps2Kbd::default();
    k.parent_obj.write_cmd = 0xed; // set LEDs: argument pending
    k.parent_obj.rptr = 250;
    k.parent_obj.count = 10;
    k.parent_obj.wptr = 4; // (250 + 10) mod 256
    for (i, b) in (250..256).chain(0..4).enumerate() {
        k.parent_obj.data[b] = 0xa0 + i as u8;
    }
    k.translate = 1;
    k.scancode_set = 1;
    k.ledstate.ledstate = 4;
    k.need_high_bit.need_high_bit = true;
    k.cqueue.cwptr = 252; // two command replies ahead of the scancodes
    let want = ps2_common_bytes(W::default(), &k.parent_obj)
        .i32(1)
        .i32(1)
        .i32(1)
        .sub("ps2kbd/ledstate", 3)
        .i32(4)
        .sub("ps2kbd/need_high_bit", 1)
        .u8(1)
        .sub("ps2kbd/command_reply_queue", 0)
        .i32(252)
        .0;
    assert_eq!(want.len(), 272 + 12 + 21 + 4 + 26 + 1 + 32 + 4);
    assert_eq!(&want[16..20], &[0xa6, 0xa7, 0xa8, 0xa9], "the ring wraps");
    assert_eq!(want[16 + 250], 0xa0);
    check(&k, &want, &k);

    // At reset only the fields go (the fixtures' payload).
    let mut idle = Ps2Kbd::default();
    let bytes = idle.to_bytes(&ctx()).unwrap();
    assert_eq!(bytes.len(), 284);
    assert_eq!(&bytes[..4], &[0xff; 4]);

    // post_load bounds the queue as QEMU does: an oversized count and an
    // out-of-ring read pointer come back sanitised.
    let mut bad = Ps2Kbd::default();
    bad.parent_obj.rptr = 300;
    bad.parent_obj.count = 100;
    let bytes = bad.to_bytes(&ctx()).unwrap();
    let mut back = Ps2Kbd::default();
    back.load_from_slice(&bytes, &ctx()).unwrap();
    let q = &back.parent_obj;
    assert_eq!((q.rptr, q.count, q.wptr), (44, PS2_QUEUE_SIZE, 60));
    assert_eq!(back.cqueue.cwptr, -1);

    // Version 2 had no scancode_set: set 2.
    let v2 = &want[..272 + 8];
    let mut old = Ps2Kbd {
        scancode_set: 3,
        ..Ps2Kbd::default()
    };
    assert_eq!(load_v(&mut old, v2, 2).unwrap(), v2.len());
    assert_eq!(old.scancode_set, 2);
}

#[test]
fn ps2mouse_fields() {
    use ps2::*;
    let mut m = Ps2Mouse {
        mouse_status: 0x20,
        mouse_resolution: 2,
        mouse_sample_rate: 100,
        mouse_wrap: 0,
        mouse_type: 3,
        mouse_detect_state: 1,
        mouse_dx: -5,
        mouse_dy: 7,
        mouse_dz: -1,
        mouse_buttons: 0x01,
        ..Ps2Mouse::default()
    };
    m.parent_obj.count = 3;
    m.parent_obj.wptr = 3;
    m.parent_obj.data[..3].copy_from_slice(&[0x08, 0x05, 0xf9]);
    let want = ps2_common_bytes(W::default(), &m.parent_obj)
        .u8(0x20)
        .u8(2)
        .u8(100)
        .u8(0)
        .u8(3)
        .u8(1)
        .i32(-5)
        .i32(7)
        .i32(-1)
        .u8(1)
        .0;
    assert_eq!(want.len(), 291);
    check(&m, &want, &m);
}

#[test]
fn globalstate_buffer_needed_and_check() {
    use globalstate::*;
    let g = GlobalState::new(RunState::GuestPanicked);
    let mut want = W::default().u32(15).0;
    want.extend(b"guest-panicked");
    want.extend([0; 86]);
    let mut loaded = g.clone();
    loaded.size = 15;
    check(&g, &want, &loaded);
    // The fixtures' payload: "prelaunch".
    let mut pre = W::default().u32(10).0;
    pre.extend(b"prelaunch");
    pre.extend([0; 91]);
    let mut back = GlobalState::default();
    back.load_from_slice(&pre, &ctx()).unwrap();
    assert_eq!(back.state, Some(RunState::Prelaunch));

    // Section-level needed: running and paused are implied, unless the
    // machine stores the state always.
    for (state, store, needed) in [
        (RunState::Running, false, false),
        (RunState::Paused, false, false),
        (RunState::Shutdown, false, true),
        (RunState::Running, true, true),
    ] {
        let g = GlobalState {
            store_global_state: store,
            ..GlobalState::new(state)
        };
        assert_eq!(g.section_needed(), needed, "{state:?} store={store}");
    }

    // An unknown name is refused; so is one with no NUL, after QEMU's
    // truncation to 99 bytes.
    let mut bad = want.clone();
    bad[4..9].copy_from_slice(b"haxor");
    let mut dst = GlobalState::default();
    let e = dst.load_from_slice(&bad, &ctx()).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Hook { hook: "post_load" }),
        "{e}"
    );
    assert!(
        e.to_string()
            .ends_with("run state \"haxor-panicked\" is not one of QEMU's"),
        "{e}"
    );
    assert_eq!(dst, GlobalState::default());
    let mut full = W::default().u32(100).0;
    full.extend([b'r'; 100]);
    let e = dst.load_from_slice(&full, &ctx()).unwrap_err();
    assert!(
        e.to_string().contains(&format!("\"{}\"", "r".repeat(99))),
        "{e}"
    );

    // A name without room for its NUL cannot be saved.
    let mut long = GlobalState {
        runstate: [b'x'; RUNSTATE_LEN],
        ..GlobalState::default()
    };
    let e = long.to_bytes(&ctx()).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Hook { hook: "pre_save" }),
        "{e}"
    );
}

#[test]
fn fdc_fifo_drives_and_phase() {
    use fdc::*;
    let mut f = IsaFdc::default();
    let c = &mut f.state;
    c.sra = 0x40;
    c.msr = 0xd0; // RQM | DIO | busy: the result phase, by MSR
    c.status0 = 0x20;
    c.fifo[..7].copy_from_slice(&[0x20, 0, 0, 0, 0, 1, 2]);
    c.fifo[511] = 0xee;
    c.data_pos = 3;
    c.data_len = 7;
    c.data_state = 0x01;
    c.data_dir = 1;
    c.eot = 18;
    c.timer0 = 0xaf;
    c.timer1 = 0x02;
    c.config = 0x20;
    c.dor = 0x1c; // motor A, DMA, not reset
    c.cur_drv = 1;
    c.drives[0] = FDrive {
        head: 1,
        track: 40,
        sect: 9,
        has_blk: true,
        media_changed: FDriveMediaChanged { media_changed: 0 },
        media_rate: FDriveMediaRate { media_rate: 2 },
        perpendicular: FDrivePerpendicular { perpendicular: 1 },
    };
    c.reset_sensei.reset_sensei = 2;
    c.result_timer.result_timer = Timer::armed(0x100);
    c.phase.phase = FD_PHASE_COMMAND; // MSR says result: sent
    let mut w = W::default()
        .u8(0x40)
        .u8(0xc0)
        .u8(0x1d) // dor | cur_drv, by pre_save
        .u8(0)
        .u8(0)
        .u8(0xd0)
        .u8(0x20)
        .u8(0)
        .u8(0);
    w.0.extend(c.fifo.iter());
    let want = w
        .u32(3)
        .u32(7)
        .u8(1)
        .u8(1)
        .u8(18)
        .u8(0xaf)
        .u8(2)
        .u8(0)
        .u8(0x20)
        .u8(0)
        .u8(0)
        .u8(2)
        // drive 0 and its subsections, then drive 1
        .u8(1)
        .u8(40)
        .u8(9)
        .sub("fdrive/media_changed", 1)
        .u8(0)
        .sub("fdrive/media_rate", 1)
        .u8(2)
        .sub("fdrive/perpendicular", 1)
        .u8(1)
        .zeros(3)
        .sub("fdrive/media_rate", 1)
        .u8(0)
        .sub("fdc/reset_sensei", 1)
        .i32(2)
        .sub("fdc/result_timer", 1)
        .i64(0x100)
        .sub("fdc/phase", 1)
        .u8(FD_PHASE_COMMAND)
        .0;
    // registers, FIFO, data_pos/len, 10 bytes, drive 0 (3 + three
    // subsections), drive 1 (3 + one), three fdc subsections
    assert_eq!(
        want.len(),
        9 + 512 + 8 + 10 + (3 + 27 + 24 + 27) + (3 + 24) + 26 + 30 + 16
    );
    let mut loaded = f.clone();
    loaded.state.dor_vmstate = 0x1d;
    loaded.state.drives[0].has_blk = false; // configuration
    check(&f, &want, &loaded);

    // Without the phase subsection, post_load reconstructs it from MSR.
    let mut same = f.clone();
    same.state.phase.phase = FD_PHASE_RESULT;
    let bytes = same.to_bytes(&ctx()).unwrap();
    assert_eq!(bytes.len(), want.len() - 16);
    let mut back = IsaFdc::default();
    back.load_from_slice(&bytes, &ctx()).unwrap();
    assert_eq!(back.state.phase.phase, FD_PHASE_RESULT);
    assert_eq!((back.state.dor, back.state.cur_drv), (0x1c, 1));

    // A controller with another number of drives is refused.
    let mut bad = want.clone();
    bad[9 + 512 + 8 + 9] = 4;
    let e = IsaFdc::default().load_from_slice(&bad, &ctx()).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::NotEqual {
                expected: 2,
                found: 4,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.path(), "fdc/state.num_floppies");
}

/// `PCIDevice` on the wire: be32 version, the configuration space as is,
/// then each interrupt pin's level as be32.
fn pci_bytes(w: W, d: &pci::PciDevice) -> W {
    let mut w = w.i32(d.version_id);
    w.0.extend(&d.config.config);
    (0..4).fold(w, |w, pin| w.u32((d.irq_state >> pin) & 1))
}

#[test]
fn pci_config_and_irq_state_codecs() {
    use pci::*;
    let mut dev = PciDevice::new(vmstate_qemu::i440fx::i440fx_config());
    dev.irq_state = 0b1010;
    dev.config.config[reg::COMMAND] = 0x07;
    dev.config.config[reg::STATUS + 1] = 0x02;
    dev.config.config[reg::INTERRUPT_LINE] = 0x0b;
    dev.config.config[0x59] = 0x30; // PAM0: BIOS shadow read/write
    let want = pci_bytes(W::default(), &dev).0;
    assert_eq!(want.len(), 4 + 256 + 16);
    assert_eq!(&want[..8], &[0, 0, 0, 2, 0x86, 0x80, 0x37, 0x12]);
    assert_eq!(
        &want[260..],
        &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    );
    let fresh = PciDevice::new(vmstate_qemu::i440fx::i440fx_config());
    let mut back = fresh.clone();
    back.load_from_slice(&want, &ctx()).unwrap();
    assert_eq!(back, dev);
    let mut d = dev.clone();
    assert_eq!(d.to_bytes(&ctx()).unwrap(), want);

    // Read-only bits that differ are refused, before the space changes:
    // the device ID, the class, the capability-list status bit.
    for (at, xor) in [(2, 0x01), (0x0b, 0x01), (reg::STATUS, 0x10), (0x0e, 0x80)] {
        let mut bad = want.clone();
        bad[4 + at] ^= xor;
        let mut dst = fresh.clone();
        let e = dst.load_from_slice(&bad, &ctx()).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::Invalid {
                    message: "PCI config: read-only bits differ from the device's"
                }
            ),
            "{e}"
        );
        assert_eq!(e.path(), "PCIDevice/config");
        assert_eq!(e.offset(), 4 + at as u64);
        assert!(
            e.to_string()
                .contains(&format!("bad PCI config data at {at:#x}")),
            "{e}"
        );
        assert_eq!(dst, fresh, "a refused load changes nothing");
    }
    // Bits that are writable or unchecked may differ.
    let mut ok = want.clone();
    ok[4 + reg::STATUS] ^= 0x01;
    ok[4 + 0xf0] = 0x55;
    fresh.clone().load_from_slice(&ok, &ctx()).unwrap();

    // An interrupt level other than 0 or 1.
    let mut bad = want.clone();
    bad[4 + 256 + 7] = 2;
    let e = fresh.clone().load_from_slice(&bad, &ctx()).unwrap_err();
    assert_eq!(e.path(), "PCIDevice/irq_state");
    assert!(
        e.to_string().ends_with("irq state 2: must be 0 or 1"),
        "{e}"
    );

    // A newer PCI device version than the destination's.
    let mut bad = want.clone();
    bad[3] = 3;
    let e = fresh.clone().load_from_slice(&bad, &ctx()).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::OutOfRange {
                found: 3,
                min: 0,
                max: 2
            }
        ),
        "{e}"
    );

    // Version 1 had no interrupt state.
    let mut v1 = fresh.clone();
    assert_eq!(load_v(&mut v1, &want[..260], 1).unwrap(), 260);
    assert_eq!(v1.irq_state, 0);

    // BAR type bits are checked, the address bits are not.
    let ide = vmstate_qemu::ide::piix3_ide_config();
    assert_eq!(ide.config[0x20], PCI_BASE_ADDRESS_SPACE_IO);
    assert_eq!(ide.fixed_bits(0x20), 0x0f);
    let mut moved = ide.config.clone();
    moved[0x20..0x24].copy_from_slice(&0xc041u32.to_le_bytes());
    assert_eq!(ide.check(&moved), Ok(()));
    moved[0x20] = 0x40;
    assert_eq!(ide.check(&moved).unwrap_err().offset, 0x20);
    let e1000 = vmstate_qemu::e1000::e1000_config();
    assert_eq!(
        (
            e1000.fixed_bits(0x10),
            e1000.fixed_bits(0x12),
            e1000.fixed_bits(0x13)
        ),
        (0xff, 0x01, 0x00),
        "BAR 0: 128 KiB of memory"
    );
}

#[test]
fn i440fx_and_piix3() {
    let mut h = i440fx::I440fx::default();
    h.parent_obj.config.config[0x72] = 0x0a; // SMRAM: D_OPEN
    let want = pci_bytes(W::default(), &h.parent_obj).u8(0).0;
    check(&h, &want, &h);

    let mut p = piix3::Piix3::default();
    p.dev.irq_state = 0b0001;
    p.dev.config.config[0x60] = 0x0b; // PIRQA routed to IRQ 11
    p.pci_irq_levels_vmstate = [1, 0, 0, 1];
    p.rcr.rcr = 0x04;
    let want = pci_bytes(W::default(), &p.dev)
        .i32(1)
        .i32(0)
        .i32(0)
        .i32(1)
        .sub("PIIX3/rcr", 1)
        .u8(4)
        .0;
    assert_eq!(want[4 + 0x0e], 0x80, "multi-function");
    check(&p, &want, &p);

    // The host bridge's function is not the ISA bridge: refused at its
    // device ID.
    let mut h = i440fx::I440fx::default();
    let bytes = h.to_bytes(&ctx()).unwrap();
    let e = piix3::Piix3::default()
        .load_from_slice(&bytes, &ctx())
        .unwrap_err();
    assert!(e.to_string().contains("bad PCI config data at 0x2"), "{e}");
    // A version-2 PIIX3 stream has no interrupt levels.
    let mut old = piix3::Piix3::default();
    assert_eq!(load_v(&mut old, &want[..276], 2).unwrap(), 276);
}

fn ide_drive_bytes(w: W, d: &ide::IdeDrive) -> W {
    let mut w = w.i32(d.mult_sectors).i32(d.identify_set);
    if d.identify_set != 0 {
        w.0.extend(d.identify_data);
    }
    w.u8(d.feature)
        .u8(d.error)
        .u32(d.nsector)
        .u8(d.sector)
        .u8(d.lcyl)
        .u8(d.hcyl)
        .u8(d.hob_feature)
        .u8(d.hob_sector)
        .u8(d.hob_nsector)
        .u8(d.hob_lcyl)
        .u8(d.hob_hcyl)
        .u8(d.select)
        .u8(d.status)
        .u8(d.lba48)
        .u8(d.sense_key)
        .u8(d.asc)
        .u8(d.cdrom_changed)
}

fn pio_bytes(w: W, p: &ide::IdeDrivePioState) -> W {
    let mut w = w.sub("ide_drive/pio_state", 1).i32(p.req_nb_sectors);
    w.0.extend(&p.io_buffer);
    w.i32(p.cur_io_buffer_offset)
        .i32(p.cur_io_buffer_len)
        .u8(p.end_transfer_fn_idx)
        .i32(p.elementary_transfer_size)
        .i32(p.packet_transfer_size)
}

/// A busy IDE controller: a PIO read on the primary master, a DMA error
/// to retry on the secondary channel, a CD with its tray open.
fn busy_ide() -> ide::PciIde {
    use ide::*;
    let mut d = PciIde::default();
    let c = &mut d.parent_obj.config.config;
    c[0x04] = 0x05;
    c[0x20..0x24].copy_from_slice(&0xc001u32.to_le_bytes());
    c[0x40..0x44].copy_from_slice(&[0x00, 0x80, 0x00, 0x80]);
    d.bmdma[0].cmd = 0x09;
    d.bmdma[0].addr = 0x0009_f000;
    d.bmdma[0].current = BmdmaCurrent {
        cur_addr: 0x2000,
        cur_prd_last: 1,
        cur_prd_addr: 0x3000,
        cur_prd_len: 0x200,
    };
    d.bmdma[0].status.status = 0x01; // DMA active: fits the compat byte
    d.bmdma[0].migration_compat_status = 0x01;
    d.bmdma[1].status.status = 0x21; // a bit old versions used: sent
    d.bus[1].cmd = 0xc8;
    d.bus[1].unit = 1;
    d.bus[1].error = IdeBusError {
        error_status: IDE_RETRY_DMA | IDE_RETRY_READ,
        retry_sector_num: 100,
        retry_nsector: 8,
        retry_unit: 1,
    };
    // What pre_save puts in the engine from its channel.
    let bm = &mut d.bmdma[1];
    bm.migration_compat_status = 0x01 | 0x28;
    bm.migration_retry_sector_num = 100;
    bm.migration_retry_nsector = 8;
    bm.migration_retry_unit = 1;
    let m = &mut d.bus0_ifs[0];
    m.identify_set = 1;
    m.identify_data[0] = 0x40;
    m.identify_data[54..58].copy_from_slice(b"EQMU");
    m.status = 0x58; // ready, seek complete, data request
    m.nsector = 4;
    m.lcyl = 0;
    m.hcyl = 0;
    m.pio_state.req_nb_sectors = 1;
    m.pio_state.io_buffer[..4].copy_from_slice(b"boot");
    m.pio_state.io_buffer[131_075] = 0x99;
    m.pio_state.cur_io_buffer_offset = 4;
    m.pio_state.cur_io_buffer_len = 508;
    let cd = &mut d.bus1_ifs[0];
    cd.tray_state.tray_open = true;
    cd.gesn_state.new_media = true;
    d
}

#[test]
fn ide_bmdma_buses_and_drives() {
    let d = busy_ide();
    let mut w = pci_bytes(W::default(), &d.parent_obj);
    for (k, bm) in d.bmdma.iter().enumerate() {
        w = w
            .u8(bm.cmd)
            .u8(bm.migration_compat_status)
            .u32(bm.addr)
            .i64(bm.migration_retry_sector_num)
            .u32(bm.migration_retry_nsector)
            .u8(bm.migration_retry_unit);
        w = if k == 0 {
            w.sub("ide bmdma_current", 1)
                .u32(0x2000)
                .u32(1)
                .u32(0x3000)
                .u32(0x200)
        } else {
            w.sub("ide bmdma/status", 1).u8(0x21)
        };
    }
    let w = w
        .u8(0)
        .u8(0)
        .u8(0xc8)
        .u8(1)
        .sub("ide_bus/error", 2)
        .i32(0x28)
        .i64(100)
        .u32(8)
        .u8(1);
    let w = pio_bytes(ide_drive_bytes(w, &d.bus0_ifs[0]), &d.bus0_ifs[0].pio_state);
    let w = ide_drive_bytes(w, &d.bus0_ifs[1]);
    let w = ide_drive_bytes(w, &d.bus1_ifs[0])
        .sub("ide_drive/tray_state", 1)
        .u8(1)
        .u8(0)
        .sub("ide_drive/atapi/gesn_state", 1)
        .u8(1)
        .u8(0);
    let want = ide_drive_bytes(w, &d.bus1_ifs[1]).0;
    check(&d, &want, &d);

    // A PIO retry on a channel sends both of its drives' PIO state (the
    // drive's `needed` rule reads the channel's error status).
    let mut retry = d.clone();
    retry.bus[1].error.error_status |= ide::IDE_RETRY_PIO;
    let bytes = retry.to_bytes(&ctx()).unwrap();
    let pio = (2 + 19 + 4) + 4 + 131_076 + 4 + 4 + 1 + 4 + 4;
    assert_eq!(bytes.len(), want.len() + 2 * pio);

    // An engine whose status subsection is absent takes the status from
    // the compatibility byte, and its retry bits go to the channel.
    let mut old = d.clone();
    old.bmdma[1].status.status = 0;
    old.bus[1].error.error_status = 0;
    let mut bytes = old.to_bytes(&ctx()).unwrap();
    let at = 276 + 19 + 2 + 17 + 4 + 16 + 1; // bmdma[1].migration_compat_status
    bytes[at] = 0x01 | ide::IDE_RETRY_FLUSH as u8;
    let mut back = ide::PciIde::default();
    back.load_from_slice(&bytes, &ctx()).unwrap();
    assert_eq!(back.bmdma[1].status.status, 0x01);
    assert_eq!(back.bus[1].error.error_status, ide::IDE_RETRY_FLUSH);
    assert_eq!(back.bus[1].error.retry_sector_num, 100);

    // A transfer-end function outside QEMU's table is refused.
    let mut bad = d.clone();
    bad.bus0_ifs[0].pio_state.end_transfer_fn_idx = 6;
    let bytes = bad.to_bytes(&ctx()).unwrap();
    let mut dst = ide::PciIde::default();
    let e = dst.load_from_slice(&bytes, &ctx()).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Hook { hook: "post_load" }),
        "{e}"
    );
    assert!(
        e.to_string()
            .ends_with("end_transfer_fn_idx 6 is not below 6"),
        "{e}"
    );
    assert_eq!(dst, ide::PciIde::default());
}

#[test]
fn piix4_pm_hotplug_and_smbus() {
    use piix4_pm::*;
    let mut pm = Piix4Pm::default();
    pm.parent_obj.config.config[0x40..0x42].copy_from_slice(&0x0601u16.to_le_bytes());
    pm.parent_obj.config.config[0x80] = 0x01; // PM I/O enabled
    pm.pm1_evt_sts = 0x0001;
    pm.pm1_evt_en = 0x0120;
    pm.pm1_cnt = 0x2001;
    pm.apm = ApmState {
        apmc: 0xf1,
        apms: 0x00,
    };
    pm.smb.smb_stat = 0x02;
    pm.smb.smb_addr = 0xa1;
    pm.smb.smb_index = 3;
    pm.smb.smb_data[..3].copy_from_slice(&[1, 2, 3]);
    pm.smb.i2c_enable = true;
    pm.tmr_timer = Timer::armed(0x1234_5678);
    pm.tmr_overflow_time = 0x1234_5678;
    pm.gpe = Gpe {
        sts: Box::new(0x0002),
        en: Box::new(0x000e),
    };
    pm.hotplug_select = 0;
    pm.acpi_pcihp_pci_status[0] = AcpiPcihpPciStatus {
        up: 1 << 5,
        down: 0,
    };
    pm.acpi_pcihp_pci_status[255].down = 1 << 31;
    pm.acpi_index = 7;
    pm.memhp.acpi_memory_hotplug.selector = 1;
    pm.memhp.acpi_memory_hotplug.dev_count = 2;
    pm.memhp.acpi_memory_hotplug.devs = vec![
        MemStatus::default(),
        MemStatus {
            is_enabled: true,
            is_inserting: true,
            ost_event: 1,
            ost_status: 0x80,
        },
    ];
    let mut w = pci_bytes(W::default(), &pm.parent_obj)
        .u16(0x0001)
        .u16(0x0120)
        .u16(0x2001)
        .u8(0xf1)
        .u8(0)
        .u8(0x02)
        .u8(0)
        .u8(0)
        .u8(0xa1)
        .u8(0)
        .u8(0)
        .u32(3)
        .u8(1)
        .u8(2)
        .u8(3)
        .zeros(29)
        .u8(0)
        .u8(0)
        .u8(1)
        .u8(0)
        .u8(0)
        .u8(0)
        .i64(0x1234_5678)
        .i64(0x1234_5678)
        .u16(0x0002)
        .u16(0x000e)
        .u32(0); // hotplug_select
    for s in pm.acpi_pcihp_pci_status.iter() {
        w = w.u32(s.up).u32(s.down);
    }
    let want = w
        .u32(7)
        .sub("piix4_pm/memhp", 1)
        .u32(1)
        .u8(0)
        .u8(0)
        .u32(0)
        .u32(0)
        .u8(1)
        .u8(1)
        .u32(1)
        .u32(0x80)
        .0;
    // (The legacy copy of bus 0's status is filled by pre_save only.)
    let loaded = pm.clone();
    // The destination has the source's two DIMM slots (configuration).
    let mut dst = Piix4Pm::default();
    dst.memhp.acpi_memory_hotplug.dev_count = 2;
    check_into(&pm, &want, dst, &loaded);

    // Modern CPU hot-plug sends its subsection; loading it switches the
    // destination off the legacy interface.
    let mut modern = pm.clone();
    modern.cpuhp.cpu_hotplug_legacy = false;
    modern.cpuhp.cpuhp_state.dev_count = 1;
    modern.cpuhp.cpuhp_state.devs = vec![AcpiCpuStatus {
        is_inserting: true,
        ..AcpiCpuStatus::default()
    }];
    let bytes = modern.to_bytes(&ctx()).unwrap();
    let tail = W::default()
        .sub("piix4_pm/cpuhp", 1)
        .u32(0)
        .u8(0)
        .u8(1)
        .u8(0)
        .u32(0)
        .u32(0)
        .0;
    assert_eq!(&bytes[want.len()..], &tail[..]);
    let mut dst = Piix4Pm::default();
    dst.memhp.acpi_memory_hotplug.dev_count = 2;
    dst.cpuhp.cpuhp_state.dev_count = 1;
    dst.load_from_slice(&bytes, &ctx()).unwrap();
    assert!(!dst.cpuhp.cpu_hotplug_legacy);
    assert!(dst.cpuhp.cpuhp_state.devs[0].is_inserting);

    // Without bridge hot-plug: bus 0's status under its legacy name, and
    // no selector, array or ACPI index. Old machine types send no SMBus.
    let mut legacy = pm.clone();
    legacy.use_acpi_hotplug_bridge = false;
    legacy.smbus_migration = false;
    let bytes = legacy.to_bytes(&ctx()).unwrap();
    assert_eq!(bytes.len(), want.len() - 48 + 8 - (4 + 256 * 8 + 4));
    let mut dst = Piix4Pm {
        use_acpi_hotplug_bridge: false,
        smbus_migration: false,
        ..Piix4Pm::default()
    };
    dst.memhp.acpi_memory_hotplug.dev_count = 2;
    dst.load_from_slice(&bytes, &ctx()).unwrap();
    assert_eq!(dst.acpi_pcihp_pci_status[0].up, 1 << 5);
    assert_eq!(dst.acpi_pcihp_pci_status[255].down, 0, "not sent");
}

/// An e1000 that has run: link up, a TSO context, packets counted, a
/// receive address and filters set.
fn busy_e1000() -> e1000::E1000 {
    use e1000::*;
    let mut d = E1000::default();
    let c = &mut d.parent_obj.config.config;
    c[0x04] = 0x07;
    c[0x10..0x14].copy_from_slice(&0xfebc_0000u32.to_le_bytes());
    c[0x14..0x18].copy_from_slice(&0xc001u32.to_le_bytes());
    c[0x3c] = 11;
    d.rxbuf_size = 2048;
    d.rxbuf_min_shift = 1;
    d.eecd_val_in = 0x5a;
    d.eecd_bitnum_in = 9;
    d.eecd_bitnum_out = 16;
    d.eecd_reading = 1;
    d.eecd_old_eecd = 0x0104;
    d.tx_props = TxdProps {
        ipcss: 14,
        ipcso: 24,
        ipcse: 33,
        tucss: 34,
        tucso: 50,
        ip: 1,
        tcp: 1,
        ..TxdProps::default()
    };
    d.tx_tso_state.set_props(TxdProps {
        paylen: 3 * 1448,
        hdr_len: 54,
        mss: 1448,
        ..d.tx_props
    });
    d.tx_size = 60;
    d.tx_tso_frames = 2;
    d.tx_sum_needed = 3;
    d.tx_header[..4].copy_from_slice(&[0x52, 0x54, 0x00, 0x12]);
    d.tx_data[59] = 0xfe;
    d.tx_data[0xffff] = 0x01;
    d.eeprom_data[..3].copy_from_slice(&[0x5452, 0x1200, 0x5634]);
    d.phy_reg[PHY_CTRL] = 0x1140;
    d.phy_reg[PHY_STATUS] = 0x796d;
    let m = &mut d.mac_reg;
    m[reg::CTRL] = 0x0014_0240;
    m[reg::STATUS] = 0x8008_0783;
    m[reg::RCTL] = 0x0400_8002;
    m[reg::TDT] = 5;
    m[reg::GPTC] = 17;
    m[reg::VET] = 0x8100;
    m[reg::RA] = 0x1200_5452;
    m[reg::RA + 1] = 0x8000_5634;
    m[reg::MTA + 5] = 1 << 3;
    m[reg::VFTA] = 1;
    m[reg::ITR] = 500;
    m[reg::RADV] = 8;
    m[0x5800 >> 2] = 1; // WUC: only in the full register array
    d.mit_state.mit_irq_level = true;
    d
}

#[test]
fn e1000_registers_buffers_and_subsections() {
    use e1000::*;
    let d = busy_e1000();
    let mac = &d.mac_reg;
    let p = d.tx_props;
    let mut w = pci_bytes(W::default(), &d.parent_obj)
        .zeros(4)
        .u32(2048)
        .u32(1)
        .u32(0x5a)
        .u16(9)
        .u16(16)
        .u16(1)
        .u32(0x0104)
        .u8(p.ipcss)
        .u8(p.ipcso)
        .u16(p.ipcse)
        .u8(p.tucss)
        .u8(p.tucso)
        .u16(p.tucse)
        .u32(p.paylen)
        .u8(p.hdr_len)
        .u16(p.mss)
        .u16(60)
        .u16(2)
        .u8(3)
        .u8(p.ip as u8)
        .u8(p.tcp as u8);
    w.0.extend(d.tx_header);
    w.0.extend(d.tx_data);
    for v in d.eeprom_data.iter().chain(&d.phy_reg) {
        w = w.u16(*v);
    }
    for r in NAMED_REGS {
        w = w.u32(mac[r]);
    }
    for (at, n) in [(reg::RA, 32), (reg::MTA, 128), (reg::VFTA, 128)] {
        for v in &mac[at..at + n] {
            w = w.u32(*v);
        }
    }
    w = w
        .sub("e1000/mit_state", 1)
        .u32(mac[reg::RDTR])
        .u32(mac[reg::RADV])
        .u32(mac[reg::TADV])
        .u32(mac[reg::ITR])
        .u8(1)
        .sub("e1000/full_mac_state", 1);
    for v in mac.iter() {
        w = w.u32(*v);
    }
    let t = d.tx_tso_state.props();
    let want = w
        .sub("e1000/tx_tso_state", 1)
        .u8(t.ipcss)
        .u8(t.ipcso)
        .u16(t.ipcse)
        .u8(t.tucss)
        .u8(t.tucso)
        .u16(t.tucse)
        .u32(t.paylen)
        .u8(t.hdr_len)
        .u16(t.mss)
        .u8(t.ip as u8)
        .u8(t.tcp as u8)
        .0;
    assert_eq!(
        want.len(),
        198_785,
        "the size of pc-devices.mig's e1000 payload"
    );
    let mut src = d.clone();
    assert_eq!(src.to_bytes(&ctx()).unwrap(), want);
    assert_eq!(&want[276..280], &[0; 4], "unused[1]");
    assert_eq!(
        &want[280..284],
        &[0, 0, 8, 0],
        "rxbuf_size follows the unused block"
    );

    let mut back = E1000::default();
    assert_eq!(back.load_from_slice(&want, &ctx()).unwrap(), want.len());
    assert_eq!(back.mac_reg, d.mac_reg);
    assert_eq!(back.mac_reg[0x5800 >> 2], 1);
    assert_eq!((back.tx_props, back.tx_tso_state.props()), (d.tx_props, t));
    assert_eq!(back.tx_data[..], d.tx_data[..]);
    assert!(back.mit_state.mit_irq_level);
    assert!(!back.link_down, "STATUS.LU is set");
    assert_eq!(
        back.to_bytes(&ctx()).unwrap(),
        want,
        "load, save: same bytes"
    );

    // Without the TSO subsection (machine types before 2.9, say), the
    // main fields carry the TSO context when it was the last one set, and
    // a load duplicates it.
    let mut old = d.clone();
    old.compat_flags &= !E1000_FLAG_TSO;
    old.use_tso_for_migration = true;
    let bytes = old.to_bytes(&ctx()).unwrap();
    assert_eq!(bytes.len(), want.len() - (2 + 18 + 4 + 17));
    let mut back = E1000 {
        compat_flags: old.compat_flags,
        ..E1000::default()
    };
    back.load_from_slice(&bytes, &ctx()).unwrap();
    assert_eq!(back.tx_props, t);
    assert_eq!(back.tx_tso_state.props(), t);
    assert!(!back.tx_tso_state.received);

    // A destination without mitigation clears its registers.
    let mut back = E1000 {
        compat_flags: E1000_FLAG_AUTONEG | E1000_FLAG_MAC | E1000_FLAG_TSO,
        ..E1000::default()
    };
    back.load_from_slice(&want, &ctx()).unwrap();
    assert_eq!((back.mac_reg[reg::ITR], back.mac_reg[reg::RADV]), (0, 0));
    assert!(!back.mit_state.mit_irq_level);

    // Link down at the source: auto-negotiation is marked complete on
    // save, and the destination infers the link state from STATUS.LU.
    let mut down = d.clone();
    down.link_down = true;
    down.mac_reg[reg::STATUS] &= !E1000_STATUS_LU;
    down.phy_reg[PHY_STATUS] &= !MII_SR_AUTONEG_COMPLETE;
    let bytes = down.to_bytes(&ctx()).unwrap();
    let mut back = E1000::default();
    back.load_from_slice(&bytes, &ctx()).unwrap();
    assert!(back.link_down);
    assert_ne!(back.phy_reg[PHY_STATUS] & MII_SR_AUTONEG_COMPLETE, 0);

    // Version 1 streams carry the old instance id (4 bytes, skipped).
    let mut v1 = want[..276].to_vec();
    v1.extend([0xde, 0xad, 0xbe, 0xef]);
    v1.extend(&want[276..]);
    let mut back = E1000::default();
    assert_eq!(load_v(&mut back, &v1, 1).unwrap(), v1.len());
    assert_eq!(back.mac_reg, d.mac_reg);
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
