//! Machine-level state: timer, cpu_common, kvm-tpr-opt, apic, fw_cfg,
//! acpi_build, globalstate.

use vmstate_qemu::acpi_build::AcpiBuild;
use vmstate_qemu::apic::ApicCommon;
use vmstate_qemu::cpu_common::CpuCommon;
use vmstate_qemu::fw_cfg::FwCfg;
use vmstate_qemu::globalstate::{GlobalState, RunState, RUNSTATE_LEN};
use vmstate_qemu::kvm_tpr_opt::{VapicHandlers, VapicRomState, VAPIC_INACTIVE, VAPIC_STANDBY};
use vmstate_qemu::timer::{IcountMode, Timers};

use super::*;

/// timer: versions 1..=2 (`cpu_clock_offset` from 2), 8 unused bytes;
/// the `timer/icount` subsection with its own three nested ones.
fn load_timer(d: &mut Timers, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 2)?;
    d.cpu_ticks_offset = gi64(r)?;
    skip::<8>(r)?;
    if v >= 2 {
        d.cpu_clock_offset = gi64(r)?;
    }
    while let Some((name, sv)) = sub_header(r, b"timer")? {
        if name != b"timer/icount" {
            return Err(Bad::UnknownSubsection);
        }
        ver(sv, 1, 1)?;
        let ic = &mut d.icount;
        ic.qemu_icount_bias = gi64(r)?;
        ic.qemu_icount = gi64(r)?;
        while let Some((name, sv)) = sub_header(r, b"timer/icount")? {
            match name {
                b"timer/icount/warp_timer" => {
                    ver(sv, 1, 1)?;
                    ic.warp_timer.vm_clock_warp_start = gi64(r)?;
                    ic.warp_timer.icount_warp_timer = gtimer(r)?;
                }
                b"timer/icount/timers" => {
                    ver(sv, 1, 1)?;
                    ic.timers.icount_rt_timer = gtimer(r)?;
                    ic.timers.icount_vm_timer = gtimer(r)?;
                }
                b"timer/icount/shift" => {
                    ver(sv, 2, 2)?;
                    ic.shift.icount_time_shift = gi16(r)?;
                    ic.shift.last_delta = gi64(r)?;
                }
                _ => return Err(Bad::UnknownSubsection),
            }
        }
    }
    Ok(())
}

fn save_timer<O: Out>(d: &Timers, o: &mut O) {
    o.pi64(d.cpu_ticks_offset);
    o.put([0; 8]);
    o.pi64(d.cpu_clock_offset);
    let ic = &d.icount;
    if ic.mode != IcountMode::Off {
        o.sub(b"timer/icount", 1);
        o.pi64(ic.qemu_icount_bias);
        o.pi64(ic.qemu_icount);
        if ic.has_warp_timer {
            o.sub(b"timer/icount/warp_timer", 1);
            o.pi64(ic.warp_timer.vm_clock_warp_start);
            o.ptimer(ic.warp_timer.icount_warp_timer);
        }
        if ic.has_rt_timer {
            o.sub(b"timer/icount/timers", 1);
            o.ptimer(ic.timers.icount_rt_timer);
            o.ptimer(ic.timers.icount_vm_timer);
        }
        if ic.mode == IcountMode::Adaptive {
            o.sub(b"timer/icount/shift", 2);
            o.pi16(ic.shift.icount_time_shift);
            o.pi64(ic.shift.last_delta);
        }
    }
}
hand!(Timers, load_timer, save_timer, 24);

/// cpu_common: version 1; `pre_load` resets the exception index, two
/// subsections, `post_load` clears the old interrupt-exit bit.
fn load_cpu_common(d: &mut CpuCommon, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 1)?;
    d.exception_index.exception_index = -1;
    d.halted = g32(r)?;
    d.interrupt_request = g32(r)?;
    while let Some((name, sv)) = sub_header(r, b"cpu_common")? {
        match name {
            b"cpu_common/exception_index" => {
                ver(sv, 1, 1)?;
                d.exception_index.exception_index = gi32(r)?;
            }
            b"cpu_common/crash_occurred" => {
                ver(sv, 1, 1)?;
                d.crash_occurred.crash_occurred = gbool(r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    d.interrupt_request &= !0x01;
    Ok(())
}

fn save_cpu_common<O: Out>(d: &CpuCommon, o: &mut O) {
    o.p32(d.halted);
    o.p32(d.interrupt_request);
    if d.exception_index.exception_index != -1 {
        o.sub(b"cpu_common/exception_index", 1);
        o.pi32(d.exception_index.exception_index);
    }
    if d.crash_occurred.crash_occurred {
        o.sub(b"cpu_common/crash_occurred", 1);
        o.p8(1);
    }
}
hand!(CpuCommon, load_cpu_common, save_cpu_common, 8);

fn load_vapic_handlers(h: &mut VapicHandlers, r: &mut &[u8]) -> Result<(), Bad> {
    h.set_tpr = g32(r)?;
    h.set_tpr_eax = g32(r)?;
    gwords(&mut h.get_tpr, r)?;
    h.get_tpr_stack = g32(r)?;
    Ok(())
}

fn save_vapic_handlers<O: Out>(h: &VapicHandlers, o: &mut O) {
    o.p32(h.set_tpr);
    o.p32(h.set_tpr_eax);
    o.words(&h.get_tpr);
    o.p32(h.get_tpr_stack);
}

/// kvm-tpr-opt: version 1; the guest ROM state (8 unused bytes, two
/// handler tables) and five words; `post_load` puts an inactive vapic
/// with a ROM address on standby.
fn load_vapic(d: &mut VapicRomState, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 1)?;
    let g = &mut d.rom_state;
    skip::<8>(r)?;
    let mut w = [0u32; 7];
    gwords(&mut w, r)?;
    [
        g.vaddr,
        g.fixup_start,
        g.fixup_end,
        g.vapic_vaddr,
        g.vapic_size,
        g.vcpu_shift,
        g.real_tpr_addr,
    ] = w;
    load_vapic_handlers(&mut g.up, r)?;
    load_vapic_handlers(&mut g.mp, r)?;
    let mut w = [0u32; 5];
    gwords(&mut w, r)?;
    [
        d.state,
        d.real_tpr_addr,
        d.rom_state_vaddr,
        d.vapic_paddr,
        d.rom_state_paddr,
    ] = w;
    if d.state == VAPIC_INACTIVE && d.rom_state_paddr != 0 {
        d.state = VAPIC_STANDBY;
    }
    Ok(())
}

fn save_vapic<O: Out>(d: &VapicRomState, o: &mut O) {
    let g = &d.rom_state;
    o.put([0; 8]);
    o.words(&[
        g.vaddr,
        g.fixup_start,
        g.fixup_end,
        g.vapic_vaddr,
        g.vapic_size,
        g.vcpu_shift,
        g.real_tpr_addr,
    ]);
    save_vapic_handlers(&g.up, o);
    save_vapic_handlers(&g.mp, o);
    o.words(&[
        d.state,
        d.real_tpr_addr,
        d.rom_state_vaddr,
        d.vapic_paddr,
        d.rom_state_paddr,
    ]);
}
hand!(VapicRomState, load_vapic, save_vapic, 144);

/// apic: version 3; `pre_load` clears the SIPI wait, the `apic_sipi`
/// subsection.
fn load_apic(d: &mut ApicCommon, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 3, 3)?;
    d.sipi.wait_for_sipi = 0;
    d.apicbase = g32(r)?;
    let [id, arb_id, tpr] = *take(r)?;
    (d.id, d.arb_id, d.tpr) = (id, arb_id, tpr);
    d.spurious_vec = g32(r)?;
    let [log_dest, dest_mode] = *take(r)?;
    (d.log_dest, d.dest_mode) = (log_dest, dest_mode);
    gwords(&mut d.isr, r)?;
    gwords(&mut d.tmr, r)?;
    gwords(&mut d.irr, r)?;
    gwords(&mut d.lvt, r)?;
    d.esr = g32(r)?;
    gwords(&mut d.icr, r)?;
    d.divide_conf = g32(r)?;
    d.count_shift = gi32(r)?;
    d.initial_count = g32(r)?;
    d.initial_count_load_time = gi64(r)?;
    d.next_time = gi64(r)?;
    d.timer_expiry = gi64(r)?;
    while let Some((name, sv)) = sub_header(r, b"apic")? {
        match name {
            b"apic_sipi" => {
                ver(sv, 1, 1)?;
                d.sipi.sipi_vector = gi32(r)?;
                d.sipi.wait_for_sipi = gi32(r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    Ok(())
}

fn save_apic<O: Out>(d: &ApicCommon, o: &mut O) {
    o.p32(d.apicbase);
    o.put([d.id, d.arb_id, d.tpr]);
    o.p32(d.spurious_vec);
    o.put([d.log_dest, d.dest_mode]);
    o.words(&d.isr);
    o.words(&d.tmr);
    o.words(&d.irr);
    o.words(&d.lvt);
    o.p32(d.esr);
    o.words(&d.icr);
    o.p32(d.divide_conf);
    o.pi32(d.count_shift);
    o.p32(d.initial_count);
    o.pi64(d.initial_count_load_time);
    o.pi64(d.next_time);
    o.pi64(d.timer_expiry);
    if d.sipi.wait_for_sipi != 0 {
        o.sub(b"apic_sipi", 1);
        o.pi32(d.sipi.sipi_vector);
        o.pi32(d.sipi.wait_for_sipi);
    }
}
hand!(ApicCommon, load_apic, save_apic, 181);

/// fw_cfg: versions 1..=2 (a 16-bit offset in 1, 32-bit from 2), two
/// subsections (`fw_cfg/dma` at version 0); `post_load` widens the old
/// offset.
fn load_fw_cfg(d: &mut FwCfg, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 2)?;
    d.cur_entry = g16(r)?;
    if v == 1 {
        d.cur_offset_v1 = g16(r)?;
    }
    if v >= 2 {
        d.cur_offset = g32(r)?;
    }
    while let Some((name, sv)) = sub_header(r, b"fw_cfg")? {
        match name {
            b"fw_cfg/dma" => {
                ver(sv, 0, 0)?;
                d.dma.dma_addr = g64(r)?;
            }
            b"fw_cfg/acpi_mr" => {
                ver(sv, 1, 1)?;
                let m = &mut d.acpi_mr;
                m.table_mr_size = g64(r)?;
                m.linker_mr_size = g64(r)?;
                m.rsdp_mr_size = g64(r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    if v == 1 {
        d.cur_offset = u32::from(d.cur_offset_v1);
    }
    Ok(())
}

fn save_fw_cfg<O: Out>(d: &FwCfg, o: &mut O) {
    o.p16(d.cur_entry);
    o.p32(d.cur_offset);
    if d.dma_enabled {
        o.sub(b"fw_cfg/dma", 0);
        o.p64(d.dma.dma_addr);
    }
    if d.acpi_mr_needed() {
        let m = &d.acpi_mr;
        o.sub(b"fw_cfg/acpi_mr", 1);
        o.p64(m.table_mr_size);
        o.p64(m.linker_mr_size);
        o.p64(m.rsdp_mr_size);
    }
}
hand!(FwCfg, load_fw_cfg, save_fw_cfg);

/// acpi_build: version 1; one byte.
fn load_acpi_build(d: &mut AcpiBuild, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 1)?;
    d.patched = g8(r)?;
    Ok(())
}

fn save_acpi_build<O: Out>(d: &AcpiBuild, o: &mut O) {
    o.p8(d.patched);
}
hand!(AcpiBuild, load_acpi_build, save_acpi_build, 1);

/// globalstate: version 1; a size and a 100-byte run-state buffer;
/// `post_load` terminates the name and parses it (an unknown run state
/// fails the load). `pre_save` computes the size from the name.
fn load_globalstate(d: &mut GlobalState, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 1)?;
    d.size = g32(r)?;
    d.runstate = *take(r)?;
    if !d.runstate.contains(&0) {
        d.runstate[RUNSTATE_LEN - 1] = 0;
    }
    d.state = Some(RunState::parse(d.name()).ok_or(Bad::Invalid)?);
    Ok(())
}

fn save_globalstate<O: Out>(d: &GlobalState, o: &mut O) {
    o.p32(d.name().len() as u32 + 1);
    o.bytes(&d.runstate);
}
hand!(GlobalState, load_globalstate, save_globalstate, 104);
