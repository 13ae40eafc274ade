//! Firmware, ISA and legacy devices: `fw_cfg`, `PCIHost`, `pcspk`, `dma`,
//! `i8259`, `ioapic`, `i8254`, `pckbd`, `vmmouse`, `i2c_bus`, `acpi_build`,
//! `port92`, `serial`, and the registry's idstr matching.
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
