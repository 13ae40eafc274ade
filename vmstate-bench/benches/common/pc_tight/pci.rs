//! PCI: PCIHost, PCIBUS, and the devices with a PCI header: I440FX, PIIX3,
//! ide, piix4_pm.

use vmstate_qemu::i440fx::I440fx;
use vmstate_qemu::ide::{
    Bmdma, IdeBus, IdeDrive, PciIde, BM_MIGRATION_COMPAT_STATUS_BITS, DRQ_STAT, IDE_RETRY_PIO,
    TRANSFER_END_TABLE_LEN,
};
use vmstate_qemu::pci::{PciDevice, PCI_CONFIG_SPACE_SIZE, PCI_NUM_PINS};
use vmstate_qemu::pci_bus::PciBus;
use vmstate_qemu::pci_host::PciHost;
use vmstate_qemu::piix3::Piix3;
use vmstate_qemu::piix4_pm::{AcpiCpuStatus, MemStatus, Piix4Pm, PmSmbus};

use super::*;

/// PCIHost: version 1; the config address register.
fn load_pci_host(d: &mut PciHost, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 1)?;
    d.config_reg = g32(r)?;
    Ok(())
}

fn save_pci_host<O: Out>(d: &PciHost, o: &mut O) {
    o.p32(d.config_reg);
}
hand!(PciHost, load_pci_host, save_pci_host, 4);

/// PCIBUS: version 1; `nirq` must equal the destination's, then as many
/// IRQ counts.
fn load_pci_bus(d: &mut PciBus, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 1, 1)?;
    if gi32(r)? != d.nirq {
        return Err(Bad::NotEqual);
    }
    let n = vec_len(i64::from(d.nirq))?;
    let b = take_n(r, 4 * n)?;
    d.irq_count.clear();
    d.irq_count.extend(
        b.chunks_exact(4)
            .map(|c| i32::from_be_bytes(c.try_into().unwrap())),
    );
    Ok(())
}

fn save_pci_bus<O: Out>(d: &PciBus, o: &mut O) {
    o.pi32(d.nirq);
    o.words(&d.irq_count);
}
hand!(PciBus, load_pci_bus, save_pci_bus);

/// `PCIDevice` (nested, version 2): `version_id` in `0..=` the
/// destination's, the 256-byte config space whose read-only bits must
/// match the device's, four IRQ levels of 0 or 1.
#[inline(always)]
fn load_pci_device(d: &mut PciDevice, r: &mut &[u8]) -> Result<(), Bad> {
    let version_id = gi32(r)?;
    if version_id < 0 || version_id > d.version_id {
        return Err(Bad::Invalid);
    }
    d.version_id = version_id;
    // A conventional PCI device: 256 bytes of configuration space.
    if d.config.config.len() != PCI_CONFIG_SPACE_SIZE {
        return Err(Bad::Invalid);
    }
    let config = take::<PCI_CONFIG_SPACE_SIZE>(r)?;
    d.config.check(config).map_err(|_| Bad::Invalid)?;
    d.config.config.copy_from_slice(config);
    let mut levels = [0u32; PCI_NUM_PINS];
    gwords(&mut levels, r)?;
    if levels.iter().any(|&l| l > 1) {
        return Err(Bad::Invalid);
    }
    for (pin, l) in levels.into_iter().enumerate() {
        d.irq_state = (d.irq_state & !(1 << pin)) | (l << pin);
    }
    Ok(())
}

#[inline(always)]
fn save_pci_device<O: Out>(d: &PciDevice, o: &mut O) {
    o.pi32(d.version_id);
    o.bytes(&d.config.config);
    for pin in 0..PCI_NUM_PINS {
        o.p32((d.irq_state >> pin) & 1);
    }
}

/// I440FX: version 3; the PCI device and one unused byte.
fn load_i440fx(d: &mut I440fx, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 3, 3)?;
    load_pci_device(&mut d.parent_obj, r)?;
    skip::<1>(r)
}

fn save_i440fx<O: Out>(d: &I440fx, o: &mut O) {
    save_pci_device(&d.parent_obj, o);
    o.p8(0);
}
hand!(I440fx, load_i440fx, save_i440fx, 277);

/// PIIX3: versions 2..=3; the PCI device, the IRQ levels from 3, the
/// `PIIX3/rcr` subsection.
fn load_piix3(d: &mut Piix3, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 2, 3)?;
    load_pci_device(&mut d.dev, r)?;
    if v >= 3 {
        gwords(&mut d.pci_irq_levels_vmstate, r)?;
    }
    while let Some((name, sv)) = sub_header(r, b"PIIX3")? {
        match name {
            b"PIIX3/rcr" => {
                ver(sv, 1, 1)?;
                d.rcr.rcr = g8(r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    Ok(())
}

fn save_piix3<O: Out>(d: &Piix3, o: &mut O) {
    save_pci_device(&d.dev, o);
    o.words(&d.pci_irq_levels_vmstate);
    if d.rcr.rcr != 0 {
        o.sub(b"PIIX3/rcr", 1);
        o.p8(d.rcr.rcr);
    }
}
hand!(Piix3, load_piix3, save_piix3, 292);

/// One `ide bmdma` (nested, version 3) with its two subsections.
#[inline(always)]
fn load_bmdma(b: &mut Bmdma, r: &mut &[u8]) -> Result<(), Bad> {
    let [cmd, status] = *take(r)?;
    (b.cmd, b.migration_compat_status) = (cmd, status);
    b.addr = g32(r)?;
    b.migration_retry_sector_num = gi64(r)?;
    b.migration_retry_nsector = g32(r)?;
    b.migration_retry_unit = g8(r)?;
    while let Some((name, sv)) = sub_header(r, b"ide bmdma")? {
        match name {
            b"ide bmdma_current" => {
                ver(sv, 1, 1)?;
                let c = &mut b.current;
                c.cur_addr = g32(r)?;
                c.cur_prd_last = g32(r)?;
                c.cur_prd_addr = g32(r)?;
                c.cur_prd_len = g32(r)?;
            }
            b"ide bmdma/status" => {
                ver(sv, 1, 1)?;
                b.status.status = g8(r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    Ok(())
}

/// One `ide_bus` (nested, version 1) with its `error` subsection, whose
/// retry fields come from its version 2.
#[inline(always)]
fn load_ide_bus(b: &mut IdeBus, r: &mut &[u8]) -> Result<(), Bad> {
    let [cmd, unit] = *take(r)?;
    (b.cmd, b.unit) = (cmd, unit);
    while let Some((name, sv)) = sub_header(r, b"ide_bus")? {
        match name {
            b"ide_bus/error" => {
                ver(sv, 1, 2)?;
                let e = &mut b.error;
                e.error_status = gi32(r)?;
                if sv >= 2 {
                    e.retry_sector_num = gi64(r)?;
                    e.retry_nsector = g32(r)?;
                    e.retry_unit = g8(r)?;
                }
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    Ok(())
}

/// One `ide_drive` (nested, version 3): the identify data only when
/// `identify_set`, three subsections; the PIO state's buffer length is
/// the destination's and its transfer index must be below the table's.
#[inline(always)]
fn load_ide_drive(d: &mut IdeDrive, r: &mut &[u8]) -> Result<(), Bad> {
    d.mult_sectors = gi32(r)?;
    d.identify_set = gi32(r)?;
    if d.identify_set != 0 {
        d.identify_data = *take(r)?;
    }
    let [feature, error] = *take(r)?;
    (d.feature, d.error) = (feature, error);
    d.nsector = g32(r)?;
    let b = take::<14>(r)?;
    d.sector = b[0];
    d.lcyl = b[1];
    d.hcyl = b[2];
    d.hob_feature = b[3];
    d.hob_sector = b[4];
    d.hob_nsector = b[5];
    d.hob_lcyl = b[6];
    d.hob_hcyl = b[7];
    d.select = b[8];
    d.status = b[9];
    d.lba48 = b[10];
    d.sense_key = b[11];
    d.asc = b[12];
    d.cdrom_changed = b[13];
    while let Some((name, sv)) = sub_header(r, b"ide_drive")? {
        match name {
            b"ide_drive/pio_state" => {
                ver(sv, 1, 1)?;
                let p = &mut d.pio_state;
                p.req_nb_sectors = gi32(r)?;
                let n = vec_len(i64::from(p.io_buffer_total_len))?;
                let buf = take_n(r, n)?;
                p.io_buffer.clear();
                p.io_buffer.extend_from_slice(buf);
                p.cur_io_buffer_offset = gi32(r)?;
                p.cur_io_buffer_len = gi32(r)?;
                p.end_transfer_fn_idx = g8(r)?;
                p.elementary_transfer_size = gi32(r)?;
                p.packet_transfer_size = gi32(r)?;
                if p.end_transfer_fn_idx >= TRANSFER_END_TABLE_LEN {
                    return Err(Bad::Invalid);
                }
            }
            b"ide_drive/tray_state" => {
                ver(sv, 1, 1)?;
                d.tray_state.tray_open = gbool(r)?;
                d.tray_state.tray_locked = gbool(r)?;
            }
            b"ide_drive/atapi/gesn_state" => {
                ver(sv, 1, 1)?;
                d.gesn_state.new_media = gbool(r)?;
                d.gesn_state.eject_request = gbool(r)?;
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    Ok(())
}

/// ide: versions 0..=3; the PCI device, two bus-master states, the buses
/// from 1, the four drives from 3; `post_load` moves the retry state the
/// bus-master fields carried back to the buses.
fn load_ide(d: &mut PciIde, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 0, 3)?;
    load_pci_device(&mut d.parent_obj, r)?;
    for b in &mut d.bmdma {
        load_bmdma(b, r)?;
    }
    if v >= 1 {
        for b in &mut d.bus {
            load_ide_bus(b, r)?;
        }
    }
    if v >= 3 {
        for drive in d.bus0_ifs.iter_mut().chain(&mut d.bus1_ifs) {
            load_ide_drive(drive, r)?;
        }
    }
    let abused = BM_MIGRATION_COMPAT_STATUS_BITS;
    for (bm, bus) in d.bmdma.iter_mut().zip(d.bus.iter_mut()) {
        bm.migration_retry_unit &= 1;
        let e = &mut bus.error;
        if bm.status.status == 0 {
            bm.status.status = bm.migration_compat_status & !abused;
            e.error_status |= i32::from(bm.migration_compat_status & abused);
        }
        if e.error_status != 0 {
            e.retry_sector_num = bm.migration_retry_sector_num;
            e.retry_nsector = bm.migration_retry_nsector;
            e.retry_unit = bm.migration_retry_unit;
        }
    }
    Ok(())
}

fn save_drive<O: Out>(d: &IdeDrive, bus_error_status: i32, o: &mut O) {
    o.pi32(d.mult_sectors);
    o.pi32(d.identify_set);
    if d.identify_set != 0 {
        o.bytes(&d.identify_data);
    }
    o.put([d.feature, d.error]);
    o.p32(d.nsector);
    o.put([
        d.sector,
        d.lcyl,
        d.hcyl,
        d.hob_feature,
        d.hob_sector,
        d.hob_nsector,
        d.hob_lcyl,
        d.hob_hcyl,
        d.select,
        d.status,
        d.lba48,
        d.sense_key,
        d.asc,
        d.cdrom_changed,
    ]);
    if d.status & DRQ_STAT != 0 || bus_error_status & IDE_RETRY_PIO != 0 {
        let p = &d.pio_state;
        o.sub(b"ide_drive/pio_state", 1);
        o.pi32(p.req_nb_sectors);
        o.bytes(&p.io_buffer);
        o.pi32(p.cur_io_buffer_offset);
        o.pi32(p.cur_io_buffer_len);
        o.p8(p.end_transfer_fn_idx);
        o.pi32(p.elementary_transfer_size);
        o.pi32(p.packet_transfer_size);
    }
    let t = &d.tray_state;
    if t.tray_open || t.tray_locked {
        o.sub(b"ide_drive/tray_state", 1);
        o.put([u8::from(t.tray_open), u8::from(t.tray_locked)]);
    }
    let g = &d.gesn_state;
    if g.new_media || g.eject_request {
        o.sub(b"ide_drive/atapi/gesn_state", 1);
        o.put([u8::from(g.new_media), u8::from(g.eject_request)]);
    }
}

/// `pre_save` computed on the fly: the bus-master fields carry the
/// buses' retry state, the drives see their bus's error status.
fn save_ide<O: Out>(d: &PciIde, o: &mut O) {
    save_pci_device(&d.parent_obj, o);
    let abused = BM_MIGRATION_COMPAT_STATUS_BITS;
    for (bm, bus) in d.bmdma.iter().zip(&d.bus) {
        let e = &bus.error;
        o.put([
            bm.cmd,
            (bm.status.status & !abused) | (e.error_status as u8 & abused),
        ]);
        o.p32(bm.addr);
        o.pi64(e.retry_sector_num);
        o.p32(e.retry_nsector);
        o.p8(e.retry_unit);
        let c = &bm.current;
        if c.cur_prd_len != 0 {
            o.sub(b"ide bmdma_current", 1);
            o.words(&[c.cur_addr, c.cur_prd_last, c.cur_prd_addr, c.cur_prd_len]);
        }
        if bm.status.status & abused != 0 {
            o.sub(b"ide bmdma/status", 1);
            o.p8(bm.status.status);
        }
    }
    for bus in &d.bus {
        o.put([bus.cmd, bus.unit]);
        let e = &bus.error;
        if e.error_status != 0 {
            o.sub(b"ide_bus/error", 2);
            o.pi32(e.error_status);
            o.pi64(e.retry_sector_num);
            o.p32(e.retry_nsector);
            o.p8(e.retry_unit);
        }
    }
    for (drives, bus) in [&d.bus0_ifs, &d.bus1_ifs].into_iter().zip(&d.bus) {
        for drive in drives {
            save_drive(drive, bus.error.error_status, o);
        }
    }
}
hand!(PciIde, load_ide, save_ide, 430);

#[inline(always)]
fn load_smbus(s: &mut PmSmbus, r: &mut &[u8]) -> Result<(), Bad> {
    let b = take::<48>(r)?;
    s.smb_stat = b[0];
    s.smb_ctl = b[1];
    s.smb_cmd = b[2];
    s.smb_addr = b[3];
    s.smb_data0 = b[4];
    s.smb_data1 = b[5];
    s.smb_index = u32::from_be_bytes(b[6..10].try_into().unwrap());
    s.smb_data.copy_from_slice(&b[10..42]);
    s.smb_auxctl = b[42];
    s.smb_blkdata = b[43];
    s.i2c_enable = b[44] != 0;
    s.op_done = b[45] != 0;
    s.in_i2c_block_read = b[46] != 0;
    s.start_transaction_on_status_read = b[47] != 0;
    Ok(())
}

/// piix4_pm: version 3; the PCI device, PM registers, the SMBus when
/// the machine migrates it, the GPE pair, the PCI hotplug state in the
/// form the machine uses, two subsections with device arrays sized by
/// the destination (`memhp`, `cpuhp` whose `pre_load` marks the modern
/// CPU hotplug); `post_load` copies the legacy hotplug status.
fn load_piix4_pm(d: &mut Piix4Pm, r: &mut &[u8], v: u32) -> Result<(), Bad> {
    sec_ver(v, 3, 3)?;
    load_pci_device(&mut d.parent_obj, r)?;
    d.pm1_evt_sts = g16(r)?;
    d.pm1_evt_en = g16(r)?;
    d.pm1_cnt = g16(r)?;
    let [apmc, apms] = *take(r)?;
    (d.apm.apmc, d.apm.apms) = (apmc, apms);
    if d.smbus_migration {
        load_smbus(&mut d.smb, r)?;
    }
    d.tmr_timer = gtimer(r)?;
    d.tmr_overflow_time = gi64(r)?;
    *d.gpe.sts = g16(r)?;
    *d.gpe.en = g16(r)?;
    if !d.use_acpi_hotplug_bridge {
        d.pci_status_bsel_default.up = g32(r)?;
        d.pci_status_bsel_default.down = g32(r)?;
    } else {
        d.hotplug_select = g32(r)?;
        let b = take_n(r, 8 * d.acpi_pcihp_pci_status.len())?;
        for (s, c) in d.acpi_pcihp_pci_status.iter_mut().zip(b.chunks_exact(8)) {
            s.up = u32::from_be_bytes(c[..4].try_into().unwrap());
            s.down = u32::from_be_bytes(c[4..].try_into().unwrap());
        }
        if !d.not_migrate_acpi_index {
            d.acpi_index = g32(r)?;
        }
    }
    while let Some((name, sv)) = sub_header(r, b"piix4_pm")? {
        match name {
            b"piix4_pm/memhp" => {
                ver(sv, 1, 1)?;
                let m = &mut d.memhp.acpi_memory_hotplug;
                m.selector = g32(r)?;
                let n = vec_len(i64::from(m.dev_count))?;
                let b = take_n(r, 10 * n)?;
                m.devs.clear();
                m.devs.extend(b.chunks_exact(10).map(|c| MemStatus {
                    is_enabled: c[0] != 0,
                    is_inserting: c[1] != 0,
                    ost_event: u32::from_be_bytes(c[2..6].try_into().unwrap()),
                    ost_status: u32::from_be_bytes(c[6..10].try_into().unwrap()),
                }));
            }
            b"piix4_pm/cpuhp" => {
                ver(sv, 1, 1)?;
                d.cpuhp.cpu_hotplug_legacy = false;
                let c = &mut d.cpuhp.cpuhp_state;
                c.selector = g32(r)?;
                c.command = g8(r)?;
                let n = vec_len(i64::from(c.dev_count))?;
                let b = take_n(r, 10 * n)?;
                c.devs.clear();
                c.devs.extend(b.chunks_exact(10).map(|c| AcpiCpuStatus {
                    is_inserting: c[0] != 0,
                    is_removing: c[1] != 0,
                    ost_event: u32::from_be_bytes(c[2..6].try_into().unwrap()),
                    ost_status: u32::from_be_bytes(c[6..10].try_into().unwrap()),
                }));
            }
            _ => return Err(Bad::UnknownSubsection),
        }
    }
    if !d.use_acpi_hotplug_bridge {
        let s = d.pci_status_bsel_default;
        d.acpi_pcihp_pci_status[0].up = s.up;
        d.acpi_pcihp_pci_status[0].down = s.down;
    }
    Ok(())
}

fn save_piix4_pm<O: Out>(d: &Piix4Pm, o: &mut O) {
    save_pci_device(&d.parent_obj, o);
    o.p16(d.pm1_evt_sts);
    o.p16(d.pm1_evt_en);
    o.p16(d.pm1_cnt);
    o.put([d.apm.apmc, d.apm.apms]);
    if d.smbus_migration {
        let s = &d.smb;
        o.put([
            s.smb_stat,
            s.smb_ctl,
            s.smb_cmd,
            s.smb_addr,
            s.smb_data0,
            s.smb_data1,
        ]);
        o.p32(s.smb_index);
        o.bytes(&s.smb_data);
        o.put([
            s.smb_auxctl,
            s.smb_blkdata,
            u8::from(s.i2c_enable),
            u8::from(s.op_done),
            u8::from(s.in_i2c_block_read),
            u8::from(s.start_transaction_on_status_read),
        ]);
    }
    o.ptimer(d.tmr_timer);
    o.pi64(d.tmr_overflow_time);
    o.p16(*d.gpe.sts);
    o.p16(*d.gpe.en);
    if !d.use_acpi_hotplug_bridge {
        // pre_save: bus 0's status.
        let s = d.acpi_pcihp_pci_status[0];
        o.p32(s.up);
        o.p32(s.down);
    } else {
        o.p32(d.hotplug_select);
        for s in &d.acpi_pcihp_pci_status {
            o.p32(s.up);
            o.p32(s.down);
        }
        if !d.not_migrate_acpi_index {
            o.p32(d.acpi_index);
        }
    }
    let m = &d.memhp.acpi_memory_hotplug;
    if m.is_enabled {
        o.sub(b"piix4_pm/memhp", 1);
        o.p32(m.selector);
        for s in &m.devs {
            o.put([u8::from(s.is_enabled), u8::from(s.is_inserting)]);
            o.p32(s.ost_event);
            o.p32(s.ost_status);
        }
    }
    if !d.cpuhp.cpu_hotplug_legacy {
        let c = &d.cpuhp.cpuhp_state;
        o.sub(b"piix4_pm/cpuhp", 1);
        o.p32(c.selector);
        o.p8(c.command);
        for s in &c.devs {
            o.put([u8::from(s.is_inserting), u8::from(s.is_removing)]);
            o.p32(s.ost_event);
            o.p32(s.ost_status);
        }
    }
}
hand!(Piix4Pm, load_piix4_pm, save_piix4_pm);
