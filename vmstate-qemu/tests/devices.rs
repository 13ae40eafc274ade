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
    let mut d = dev.clone();
    let got = d.to_bytes(&ctx()).unwrap();
    assert_eq!(got, want, "save of {}", T::VMSD.name);
    let mut input = want.to_vec();
    input.extend([0x7e, 0, 0, 0, 0x2a]);
    let mut back = T::default();
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

/// A busy UART: every subsection the mirror has.
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

#[test]
fn serial_fifo_subsections_are_refused_not_misread() {
    // A FIFO with data: QEMU sends `serial/recv_fifo` (a Fifo8: be32
    // length + 16 data bytes, head, num). The partial mirror has no such
    // subsection and says so.
    let mut bytes = W::default()
        .u16(0x0c)
        .u8(0)
        .u8(0)
        .u8(0xc1)
        .u8(0)
        .u8(0x08)
        .u8(0x61)
        .u8(0xb0)
        .u8(0)
        .u8(0x01)
        .sub("serial/recv_fifo", 1)
        .u32(16)
        .0;
    bytes.extend([0x41; 16]);
    bytes.extend(W::default().u32(0).u32(1).0);
    let mut dst = serial::IsaSerial::default();
    let e = dst.load_from_slice(&bytes, &ctx()).unwrap_err();
    match e.kind() {
        ErrorKind::UnknownSubsection { name } => assert_eq!(name, "serial/recv_fifo"),
        other => panic!("expected an unknown subsection, got {other:?}: {e}"),
    }
    assert_eq!(e.offset(), 11);
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
    assert!(registry::lookup("cpu").is_none());
    assert_eq!(
        registry::lookup("kvm-tpr-opt").unwrap().type_name,
        "kvm_tpr_opt::VapicRomState"
    );
    // Names are unique, and each entry's name is its description's.
    for (i, e) in registry::ENTRIES.iter().enumerate() {
        assert_eq!(e.name, e.vmsd.name);
        assert!(registry::ENTRIES[..i].iter().all(|o| o.name != e.name));
    }
    assert!(!registry::lookup("serial").unwrap().gaps.is_empty());
}
