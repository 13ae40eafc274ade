//! Legacy ISA I/O: fdc, ps2kbd, ps2mouse, pckbd, vmmouse.

use vmstate_qemu::fdc::{FDrive, FdCtrl, IsaFdc, FD_DOR_SELMASK, FD_PHASE_RECONSTRUCT};
use vmstate_qemu::pckbd::{
    outport_default, Kbd, KbdIsa, KBD_MIGR_TIMER_PENDING, KBD_OBSRC_KBD, KBD_OBSRC_MOUSE,
    KBD_STAT_MOUSE_OBF, KBD_STAT_OBF,
};
use vmstate_qemu::ps2::{Ps2Common, Ps2Kbd, Ps2Mouse};
use vmstate_qemu::vmmouse::VmMouse;

use super::*;

/// One `fdrive` (nested, version 1) with its three subsections.
#[inline(always)]
fn load_fdrive(f: &mut FDrive, r: &mut &[u8]) -> Result<(), Bad> {
    let [head, track, sect] = *take(r)?;
    (f.head, f.track, f.sect) = (head, track, sect);
    while let Some((name, sv)) = sub_header(r, b"fdrive")? {
        match name {
            b"fdrive/media_changed" => {
                ver(sv, 1, 1)?;
                f.media_changed.media_changed = g8(r)?;
            }
            b"fdrive/media_rate" => {
                ver(sv, 1, 1)?;
                f.media_rate.media_rate = g8(r)?;
            }
            b"fdrive/perpendicular" => {
                ver(sv, 1, 1)?;
                f.perpendicular.perpendicular = g8(r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    Ok(())
}

/// fdc: version 2, the controller nested (version 2): `pre_load` marks
/// the phase for reconstruction; the FIFO is as long as the
/// destination's; `num_floppies` must equal the destination's; two
/// drives with subsections, three controller subsections; `post_load`
/// splits the DOR and reconstructs the phase when none came.
fn load_fdc(d: &mut IsaFdc, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 2, 2)?;
    let s = &mut d.state;
    s.phase.phase = FD_PHASE_RECONSTRUCT;
    let b = take::<9>(r)?;
    s.sra = b[0];
    s.srb = b[1];
    s.dor_vmstate = b[2];
    s.tdr = b[3];
    s.dsr = b[4];
    s.msr = b[5];
    s.status0 = b[6];
    s.status1 = b[7];
    s.status2 = b[8];
    let n = vec_len(i64::from(s.fifo_size))?;
    let fifo = take_n(r, n)?;
    s.fifo.clear();
    s.fifo.extend_from_slice(fifo);
    s.data_pos = g32(r)?;
    s.data_len = g32(r)?;
    let b = take::<10>(r)?;
    s.data_state = b[0];
    s.data_dir = b[1];
    s.eot = b[2];
    s.timer0 = b[3];
    s.timer1 = b[4];
    s.precomp_trk = b[5];
    s.config = b[6];
    s.lock = b[7];
    s.pwrd = b[8];
    if b[9] != s.num_floppies {
        return Err(Bad::NotEqual);
    }
    for f in &mut s.drives {
        load_fdrive(f, r)?;
    }
    while let Some((name, sv)) = sub_header(r, b"fdc")? {
        match name {
            b"fdc/reset_sensei" => {
                ver(sv, 1, 1)?;
                s.reset_sensei.reset_sensei = gi32(r)?;
            }
            b"fdc/result_timer" => {
                ver(sv, 1, 1)?;
                s.result_timer.result_timer = gtimer(r)?;
            }
            b"fdc/phase" => {
                ver(sv, 1, 1)?;
                s.phase.phase = g8(r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    s.cur_drv = s.dor_vmstate & FD_DOR_SELMASK;
    s.dor = s.dor_vmstate & !FD_DOR_SELMASK;
    if s.phase.phase == FD_PHASE_RECONSTRUCT {
        s.phase.phase = s.reconstruct_phase();
    }
    Ok(())
}

fn save_fdc<O: Out>(d: &IsaFdc, o: &mut O) {
    let s: &FdCtrl = &d.state;
    o.put([
        s.sra,
        s.srb,
        s.dor | s.cur_drv,
        s.tdr,
        s.dsr,
        s.msr,
        s.status0,
        s.status1,
        s.status2,
    ]);
    o.bytes(&s.fifo);
    o.p32(s.data_pos);
    o.p32(s.data_len);
    o.put([
        s.data_state,
        s.data_dir,
        s.eot,
        s.timer0,
        s.timer1,
        s.precomp_trk,
        s.config,
        s.lock,
        s.pwrd,
        s.num_floppies,
    ]);
    for f in &s.drives {
        o.put([f.head, f.track, f.sect]);
        if f.has_blk && f.media_changed.media_changed != 1 {
            o.sub(b"fdrive/media_changed", 1);
            o.p8(f.media_changed.media_changed);
        }
        o.sub(b"fdrive/media_rate", 1);
        o.p8(f.media_rate.media_rate);
        if f.perpendicular.perpendicular != 0 {
            o.sub(b"fdrive/perpendicular", 1);
            o.p8(f.perpendicular.perpendicular);
        }
    }
    if s.reset_sensei.reset_sensei != 0 {
        o.sub(b"fdc/reset_sensei", 1);
        o.pi32(s.reset_sensei.reset_sensei);
    }
    if s.result_timer.result_timer.is_armed() {
        o.sub(b"fdc/result_timer", 1);
        o.ptimer(s.result_timer.result_timer);
    }
    if s.reconstruct_phase() != s.phase.phase {
        o.sub(b"fdc/phase", 1);
        o.p8(s.phase.phase);
    }
}
hand!(IsaFdc, load_fdc, save_fdc);

/// `PS2 Common State` (nested, version 3): four words and the 256-byte
/// queue.
#[inline(always)]
fn load_ps2_common(c: &mut Ps2Common, r: &mut &[u8]) -> Result<(), Bad> {
    let mut w = [0i32; 4];
    gwords(&mut w, r)?;
    [c.write_cmd, c.rptr, c.wptr, c.count] = w;
    c.data = *take(r)?;
    Ok(())
}

#[inline(always)]
fn save_ps2_common<O: Out>(c: &Ps2Common, o: &mut O) {
    o.words(&[c.write_cmd, c.rptr, c.wptr, c.count]);
    o.bytes(&c.data);
}

/// ps2kbd: versions 2..=3 (`scancode_set` from 3), three subsections;
/// `post_load` defaults the scancode set of an old stream and sanitizes
/// the queues.
fn load_ps2kbd(d: &mut Ps2Kbd, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 2, 3)?;
    load_ps2_common(&mut d.parent_obj, r)?;
    d.scan_enabled = gi32(r)?;
    d.translate = gi32(r)?;
    if v >= 3 {
        d.scancode_set = gi32(r)?;
    }
    while let Some((name, sv)) = sub_header(r, b"ps2kbd")? {
        match name {
            b"ps2kbd/ledstate" => {
                ver(sv, 2, 3)?;
                d.ledstate.ledstate = gi32(r)?;
            }
            b"ps2kbd/need_high_bit" => {
                ver(sv, 1, 1)?;
                d.need_high_bit.need_high_bit = gbool(r)?;
            }
            b"ps2kbd/command_reply_queue" => {
                ver(sv, 0, 0)?;
                d.cqueue.cwptr = gi32(r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    if v == 2 {
        d.scancode_set = 2;
    }
    d.parent_obj.sanitize_queue(&mut d.cqueue.cwptr);
    Ok(())
}

fn save_ps2kbd<O: Out>(d: &Ps2Kbd, o: &mut O) {
    save_ps2_common(&d.parent_obj, o);
    o.words(&[d.scan_enabled, d.translate, d.scancode_set]);
    if d.ledstate.ledstate != 0 {
        o.sub(b"ps2kbd/ledstate", 3);
        o.pi32(d.ledstate.ledstate);
    }
    if d.need_high_bit.need_high_bit {
        o.sub(b"ps2kbd/need_high_bit", 1);
        o.p8(1);
    }
    if d.cqueue.cwptr != -1 {
        o.sub(b"ps2kbd/command_reply_queue", 0);
        o.pi32(d.cqueue.cwptr);
    }
}
hand!(Ps2Kbd, load_ps2kbd, save_ps2kbd, 284);

/// ps2mouse: version 2; `post_load` sanitizes the queue.
fn load_ps2mouse(d: &mut Ps2Mouse, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 2, 2)?;
    load_ps2_common(&mut d.parent_obj, r)?;
    let b = take::<19>(r)?;
    d.mouse_status = b[0];
    d.mouse_resolution = b[1];
    d.mouse_sample_rate = b[2];
    d.mouse_wrap = b[3];
    d.mouse_type = b[4];
    d.mouse_detect_state = b[5];
    d.mouse_dx = i32::from_be_bytes(b[6..10].try_into().unwrap());
    d.mouse_dy = i32::from_be_bytes(b[10..14].try_into().unwrap());
    d.mouse_dz = i32::from_be_bytes(b[14..18].try_into().unwrap());
    d.mouse_buttons = b[18];
    d.parent_obj.sanitize_queue(&mut d.cwptr);
    Ok(())
}

fn save_ps2mouse<O: Out>(d: &Ps2Mouse, o: &mut O) {
    save_ps2_common(&d.parent_obj, o);
    o.put([
        d.mouse_status,
        d.mouse_resolution,
        d.mouse_sample_rate,
        d.mouse_wrap,
        d.mouse_type,
        d.mouse_detect_state,
    ]);
    o.words(&[d.mouse_dx, d.mouse_dy, d.mouse_dz]);
    o.p8(d.mouse_buttons);
}
hand!(Ps2Mouse, load_ps2mouse, save_ps2mouse, 291);

const KBD_PENDING_KBD_COMPAT: u8 = 0x01;
const KBD_PENDING_AUX_COMPAT: u8 = 0x02;
const KBD_PENDING_CTRL_KBD: u8 = 0x04;
const KBD_PENDING_CTRL_AUX: u8 = 0x08;
const KBD_PENDING_KBD: u8 = 0x10;
const KBD_PENDING_AUX: u8 = 0x20;

/// pckbd: version 3, the controller nested (version 3) with its hooks:
/// `pre_load` forgets both subsections, which may come in any order;
/// `post_load` defaults the output port and the output-buffer source
/// when they did not come, and maps the pending bits.
fn load_pckbd(d: &mut KbdIsa, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 3, 3)?;
    let k: &mut Kbd = &mut d.kbd;
    k.outport.present = false;
    k.ext.loaded = false;
    let [write_cmd, status, mode, pending_tmp] = *take(r)?;
    (k.write_cmd, k.status, k.mode, k.pending_tmp) = (write_cmd, status, mode, pending_tmp);
    while let Some((name, sv)) = sub_header(r, b"pckbd")? {
        match name {
            b"pckbd_outport" => {
                ver(sv, 1, 1)?;
                k.outport.outport = g8(r)?;
                k.outport.present = true;
            }
            b"pckbd/extended_state" => {
                ver(sv, 0, 0)?;
                let e = &mut k.ext;
                e.migration_flags = g32(r)?;
                e.obsrc = g32(r)?;
                let [obdata, cbdata] = *take(r)?;
                (e.obdata, e.cbdata) = (obdata, cbdata);
                e.throttle_timeout_due = e.migration_flags & KBD_MIGR_TIMER_PENDING != 0;
                e.loaded = true;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    if !k.outport.present {
        k.outport.outport = outport_default(k.status);
    }
    k.pending = k.pending_tmp;
    if !k.ext.loaded {
        k.ext.obsrc = if k.status & KBD_STAT_OBF == 0 {
            0
        } else if k.status & KBD_STAT_MOUSE_OBF != 0 {
            KBD_OBSRC_MOUSE
        } else {
            KBD_OBSRC_KBD
        };
        if k.pending & KBD_PENDING_KBD_COMPAT != 0 {
            k.pending |= KBD_PENDING_KBD;
        }
        if k.pending & KBD_PENDING_AUX_COMPAT != 0 {
            k.pending |= KBD_PENDING_AUX;
        }
    }
    k.pending &= KBD_PENDING_CTRL_KBD | KBD_PENDING_CTRL_AUX | KBD_PENDING_KBD | KBD_PENDING_AUX;
    Ok(())
}

/// Both `pre_save` hooks computed on the fly: the pending byte in the
/// old form without the extended state, the throttle flag.
fn save_pckbd<O: Out>(d: &KbdIsa, o: &mut O) {
    let k = &d.kbd;
    let pending_tmp = if k.extended_state {
        k.pending
    } else {
        let mut p = 0;
        if k.pending & KBD_PENDING_KBD != 0 {
            p |= KBD_PENDING_KBD_COMPAT;
        }
        if k.pending & KBD_PENDING_AUX != 0 {
            p |= KBD_PENDING_AUX_COMPAT;
        }
        p
    };
    o.put([k.write_cmd, k.status, k.mode, pending_tmp]);
    if k.outport.outport != outport_default(k.status) {
        o.sub(b"pckbd_outport", 1);
        o.p8(k.outport.outport);
    }
    if k.extended_state {
        let e = &k.ext;
        o.sub(b"pckbd/extended_state", 0);
        o.p32(if e.throttle_timer_pending {
            KBD_MIGR_TIMER_PENDING
        } else {
            0
        });
        o.p32(e.obsrc);
        o.put([e.obdata, e.cbdata]);
    }
}
hand!(KbdIsa, load_pckbd, save_pckbd);

/// vmmouse: version 0; the queue size must equal the destination's, then
/// the 1024-entry queue taken at once.
fn load_vmmouse(d: &mut VmMouse, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 0, 0)?;
    if gi32(r)? != d.queue_size {
        return Err(Bad::NotEqual);
    }
    gwords(&mut d.queue, r)?;
    d.nb_queue = g16(r)?;
    d.status = g16(r)?;
    d.absolute = g8(r)?;
    Ok(())
}

fn save_vmmouse<O: Out>(d: &VmMouse, o: &mut O) {
    o.pi32(d.queue_size);
    o.words(&d.queue);
    o.p16(d.nb_queue);
    o.p16(d.status);
    o.p8(d.absolute);
}
hand!(VmMouse, load_vmmouse, save_vmmouse, 4105);
