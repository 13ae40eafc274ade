//! ISA platform devices: dma, i8259, ioapic, hpet, mc146818rtc, i8254,
//! pcspk, port92, i2c_bus.

use vmstate_qemu::dma::{DmaRegs, I8257};
use vmstate_qemu::hpet::{
    Hpet, HpetTimer, HPET_ID_NUM_TIM_MASK, HPET_ID_NUM_TIM_SHIFT, HPET_MAX_TIMERS, HPET_MIN_TIMERS,
};
use vmstate_qemu::i2c_bus::{I2cBus, I2cTransfer, I2C_BROADCAST, NO_TRANSFER};
use vmstate_qemu::i8254::{PitChannel, PitCommon};
use vmstate_qemu::i8259::PicCommon;
use vmstate_qemu::ioapic::IoapicCommon;
use vmstate_qemu::mc146818rtc::Rtc;
use vmstate_qemu::pcspk::PcSpk;
use vmstate_qemu::port92::Port92;

use super::*;

/// dma: version 1; four channels of `dma_regs`, 75 bytes.
fn load_dma(d: &mut I8257, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 1)?;
    let [command, mask, flip_flop] = *take(r)?;
    (d.command, d.mask, d.flip_flop) = (command, mask, flip_flop);
    d.dshift = gi32(r)?;
    for c in &mut d.regs {
        gwords(&mut c.now, r)?;
        gwords(&mut c.base, r)?;
        let [mode, page, pageh, dack, eop] = *take(r)?;
        (c.mode, c.page, c.pageh, c.dack, c.eop) = (mode, page, pageh, dack, eop);
    }
    Ok(())
}

fn save_dma<O: Out>(d: &I8257, o: &mut O) {
    o.put([d.command, d.mask, d.flip_flop]);
    o.pi32(d.dshift);
    for c in &d.regs {
        let DmaRegs {
            now,
            base,
            mode,
            page,
            pageh,
            dack,
            eop,
        } = c;
        o.words(now);
        o.words(base);
        o.put([*mode, *page, *pageh, *dack, *eop]);
    }
}
hand!(I8257, load_dma, save_dma, 75);

/// i8259: version 1; sixteen bytes and the `ltim` subsection.
fn load_i8259(d: &mut PicCommon, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 1)?;
    let b = take::<16>(r)?;
    d.last_irr = b[0];
    d.irr = b[1];
    d.imr = b[2];
    d.isr = b[3];
    d.priority_add = b[4];
    d.irq_base = b[5];
    d.read_reg_select = b[6];
    d.poll = b[7];
    d.special_mask = b[8];
    d.init_state = b[9];
    d.auto_eoi = b[10];
    d.rotate_on_auto_eoi = b[11];
    d.special_fully_nested_mode = b[12];
    d.init4 = b[13];
    d.single_mode = b[14];
    d.elcr = b[15];
    while let Some((name, sv)) = sub_header(r, b"i8259")? {
        match name {
            b"i8259/ltim" => {
                ver(sv, 1, 1)?;
                d.ltim.ltim = g8(r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    Ok(())
}

fn save_i8259<O: Out>(d: &PicCommon, o: &mut O) {
    o.put([
        d.last_irr,
        d.irr,
        d.imr,
        d.isr,
        d.priority_add,
        d.irq_base,
        d.read_reg_select,
        d.poll,
        d.special_mask,
        d.init_state,
        d.auto_eoi,
        d.rotate_on_auto_eoi,
        d.special_fully_nested_mode,
        d.init4,
        d.single_mode,
        d.elcr,
    ]);
    if d.ltim.ltim != 0 {
        o.sub(b"i8259/ltim", 1);
        o.p8(d.ltim.ltim);
    }
}
hand!(PicCommon, load_i8259, save_i8259, 16);

/// ioapic: versions 1..=3; 8 unused bytes and `irr` from version 2.
fn load_ioapic(d: &mut IoapicCommon, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 3)?;
    let [id, ioregsel] = *take(r)?;
    (d.id, d.ioregsel) = (id, ioregsel);
    if v >= 2 {
        skip::<8>(r)?;
        d.irr = g32(r)?;
    }
    gwords(&mut d.ioredtbl, r)
}

fn save_ioapic<O: Out>(d: &IoapicCommon, o: &mut O) {
    o.put([d.id, d.ioregsel]);
    o.put([0; 8]);
    o.p32(d.irr);
    o.words(&d.ioredtbl);
}
hand!(IoapicCommon, load_ioapic, save_ioapic, 206);

/// hpet: versions 1..=2. `pre_load` resets the timer count; `num_timers`
/// (from version 2) must be 3..=32 before the timers are read; two
/// subsections; `post_load` sets the capability's timer count.
fn load_hpet(d: &mut Hpet, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 2)?;
    d.num_timers = HPET_MIN_TIMERS;
    d.config = g64(r)?;
    d.isr = g64(r)?;
    d.hpet_counter = g64(r)?;
    if v >= 2 {
        d.num_timers = g8(r)?;
    }
    let n = usize::from(d.num_timers);
    if !(usize::from(HPET_MIN_TIMERS)..=HPET_MAX_TIMERS).contains(&n) {
        return Err(Bad::Invalid);
    }
    for t in &mut d.timer[..n] {
        let b = take::<42>(r)?;
        let w = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().unwrap());
        t.tn = b[0];
        t.config = w(1);
        t.cmp = w(9);
        t.fsb = w(17);
        t.period = w(25);
        t.wrap_flag = b[33];
        t.qemu_timer.raw = w(34) as i64;
    }
    while let Some((name, sv)) = sub_header(r, b"hpet")? {
        match name {
            b"hpet/rtc_irq_level" => {
                ver(sv, 1, 1)?;
                d.rtc_irq_level.rtc_irq_level = g8(r)?;
            }
            b"hpet/offset" => {
                ver(sv, 1, 1)?;
                d.offset.hpet_offset = g64(r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    d.capability &= !HPET_ID_NUM_TIM_MASK;
    d.capability |= u64::from(d.num_timers.saturating_sub(1)) << HPET_ID_NUM_TIM_SHIFT;
    Ok(())
}

fn save_hpet<O: Out>(d: &Hpet, o: &mut O) {
    o.p64(d.config);
    o.p64(d.isr);
    o.p64(d.hpet_counter);
    o.p8(d.num_timers);
    for t in &d.timer[..usize::from(d.num_timers)] {
        let HpetTimer {
            tn,
            config,
            cmp,
            fsb,
            period,
            wrap_flag,
            qemu_timer,
        } = t;
        o.p8(*tn);
        o.words(&[*config, *cmp, *fsb, *period]);
        o.p8(*wrap_flag);
        o.ptimer(*qemu_timer);
    }
    if d.rtc_irq_level.rtc_irq_level != 0 {
        o.sub(b"hpet/rtc_irq_level", 1);
        o.p8(d.rtc_irq_level.rtc_irq_level);
    }
    if d.enabled() && d.hpet_offset_saved {
        o.sub(b"hpet/offset", 1);
        o.p64(d.offset.hpet_offset);
    }
}
hand!(Hpet, load_hpet, save_hpet);

/// mc146818rtc: versions 1..=3 (fields gated at 2 and 3), 52 unused
/// bytes, one subsection; `post_load` clears the offset of an old stream
/// and recomputes the period from the CMOS registers.
fn load_rtc(d: &mut Rtc, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 3)?;
    d.cmos_data = *take(r)?;
    d.cmos_index = g8(r)?;
    skip::<28>(r)?;
    d.periodic_timer = gtimer(r)?;
    d.next_periodic_time = gi64(r)?;
    skip::<24>(r)?;
    if v >= 2 {
        d.irq_coalesced = g32(r)?;
        d.period = g32(r)?;
    }
    if v >= 3 {
        let b = take::<40>(r)?;
        let w = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().unwrap());
        d.base_rtc = w(0);
        d.last_update = w(8);
        d.offset = w(16) as i64;
        d.update_timer.raw = w(24) as i64;
        d.next_alarm_time = w(32);
    }
    while let Some((name, sv)) = sub_header(r, b"mc146818rtc")? {
        match name {
            b"mc146818rtc/irq_reinject_on_ack_count" => {
                ver(sv, 1, 1)?;
                d.irq_reinject.irq_reinject_on_ack_count = g16(r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    if v <= 2 {
        d.offset = 0;
    }
    d.period = d.periodic_clock_ticks();
    Ok(())
}

fn save_rtc<O: Out>(d: &Rtc, o: &mut O) {
    o.bytes(&d.cmos_data);
    o.p8(d.cmos_index);
    o.put([0; 28]);
    o.ptimer(d.periodic_timer);
    o.pi64(d.next_periodic_time);
    o.put([0; 24]);
    o.p32(d.irq_coalesced);
    o.p32(d.period);
    o.p64(d.base_rtc);
    o.p64(d.last_update);
    o.pi64(d.offset);
    o.ptimer(d.update_timer);
    o.p64(d.next_alarm_time);
    let n = d.irq_reinject.irq_reinject_on_ack_count;
    if n != 0 {
        o.sub(b"mc146818rtc/irq_reinject_on_ack_count", 1);
        o.p16(n);
    }
}
hand!(Rtc, load_rtc, save_rtc, 245);

/// i8254: versions 2..=3 (`irq_disabled` from 3), three channels;
/// `post_load` copies channel 0's transition time from its own field.
fn load_pit(d: &mut PitCommon, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 2, 3)?;
    if v >= 3 {
        d.irq_disabled = g32(r)?;
    }
    for c in &mut d.channels {
        let b = take::<32>(r)?;
        c.count = i32::from_be_bytes(b[0..4].try_into().unwrap());
        c.latched_count = u16::from_be_bytes([b[4], b[5]]);
        c.count_latched = b[6];
        c.status_latched = b[7];
        c.status = b[8];
        c.read_state = b[9];
        c.write_state = b[10];
        c.write_latch = b[11];
        c.rw_mode = b[12];
        c.mode = b[13];
        c.bcd = b[14];
        c.gate = b[15];
        c.count_load_time = i64::from_be_bytes(b[16..24].try_into().unwrap());
        c.next_transition_time = i64::from_be_bytes(b[24..32].try_into().unwrap());
    }
    d.channel0_next_transition_time = gi64(r)?;
    d.channels[0].next_transition_time = d.channel0_next_transition_time;
    Ok(())
}

fn save_pit<O: Out>(d: &PitCommon, o: &mut O) {
    o.p32(d.irq_disabled);
    for c in &d.channels {
        let PitChannel {
            count,
            latched_count,
            count_latched,
            status_latched,
            status,
            read_state,
            write_state,
            write_latch,
            rw_mode,
            mode,
            bcd,
            gate,
            count_load_time,
            next_transition_time,
        } = c;
        o.pi32(*count);
        o.p16(*latched_count);
        o.put([
            *count_latched,
            *status_latched,
            *status,
            *read_state,
            *write_state,
            *write_latch,
            *rw_mode,
            *mode,
            *bcd,
            *gate,
        ]);
        o.pi64(*count_load_time);
        o.pi64(*next_transition_time);
    }
    // pre_save: channel 0's time goes in its own field.
    o.pi64(d.channels[0].next_transition_time);
}
hand!(PitCommon, load_pit, save_pit, 108);

/// pcspk: version 1; two bytes.
fn load_pcspk(d: &mut PcSpk, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 1)?;
    let [a, b] = *take(r)?;
    (d.data_on, d.dummy_refresh_clock) = (a, b);
    Ok(())
}

fn save_pcspk<O: Out>(d: &PcSpk, o: &mut O) {
    o.put([d.data_on, d.dummy_refresh_clock]);
}
hand!(PcSpk, load_pcspk, save_pcspk, 2);

/// port92: version 1; one byte.
fn load_port92(d: &mut Port92, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 1)?;
    d.outport = g8(r)?;
    Ok(())
}

fn save_port92<O: Out>(d: &Port92, o: &mut O) {
    o.p8(d.outport);
}
hand!(Port92, load_port92, save_port92, 1);

/// i2c_bus: version 1; `post_load` turns the saved address into the
/// transfer state (`pre_save` the other way).
fn load_i2c(d: &mut I2cBus, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 1)?;
    d.saved_address = g8(r)?;
    d.transfer = match d.saved_address {
        NO_TRANSFER => I2cTransfer::Idle,
        I2C_BROADCAST => I2cTransfer::Broadcast,
        a => I2cTransfer::Device(a),
    };
    Ok(())
}

fn save_i2c<O: Out>(d: &I2cBus, o: &mut O) {
    o.p8(match d.transfer {
        I2cTransfer::Idle => NO_TRANSFER,
        I2cTransfer::Broadcast => I2C_BROADCAST,
        I2cTransfer::Device(a) => a,
    });
}
hand!(I2cBus, load_i2c, save_i2c, 1);
