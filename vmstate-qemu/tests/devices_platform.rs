//! Platform devices: `PCIBUS`, `hpet`, `mc146818rtc`, `ps2kbd`,
//! `ps2mouse`, `globalstate`, `fdc`.
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
