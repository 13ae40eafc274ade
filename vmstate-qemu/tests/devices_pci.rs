//! PCI devices: the `pci config` and `pci irq state` codecs, `I440FX`,
//! `PIIX3`, `ide`, `piix4_pm`, `e1000`.
//!
//! Each mirror with non-zero state, against byte strings written out by
//! hand from QEMU's encoding rules: big-endian scalars in field order,
//! `unused` as zeros, version-gated fields only when the stream version
//! has them, a nested struct inline, and a subsection as `05`, name length,
//! name, be32 version, then its fields, after the parent's fields and in
//! the parent's list order. The fixture payloads are mostly zeros; these
//! tests pin the field order and widths.

use vmstate_core::types::Timer;
use vmstate_core::{ErrorKind, Reader, VmState};
use vmstate_qemu::*;

#[path = "devices_common/mod.rs"]
mod devices_common;
use devices_common::*;

#[path = "../../tests/support/trickle.rs"]
mod trickle;
use trickle::Trickle;

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
        // Through a reader that holds nothing in memory (the space is
        // read onto the stack, not checked in place): the same error.
        let mut dst = fresh.clone();
        let v = <PciDevice as VmState>::VMSD.version_id;
        let e2 = dst
            .load(&mut Reader::new(Trickle(&bad)), v, &ctx())
            .unwrap_err();
        assert_eq!((e2.path(), e2.offset()), (e.path(), e.offset()));
        assert_eq!(dst, fresh);
    }
    let mut back = fresh.clone();
    let v = <PciDevice as VmState>::VMSD.version_id;
    back.load(&mut Reader::new(Trickle(&want)), v, &ctx())
        .unwrap();
    assert_eq!(back, dev);
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
    assert_eq!(e.offset(), 4 + 256 + 4, "level 1 starts there: {e}");
    assert!(
        e.to_string().ends_with("irq state 2: must be 0 or 1"),
        "{e}"
    );

    // Cut inside level 1: the error names that level and what was left.
    let e = fresh
        .clone()
        .load_from_slice(&want[..4 + 256 + 6], &ctx())
        .unwrap_err();
    assert_eq!(e.path(), "PCIDevice/irq_state");
    assert_eq!(e.offset(), 4 + 256 + 4, "{e}");
    assert!(
        matches!(
            e.kind(),
            ErrorKind::UnexpectedEof {
                needed: 4,
                available: 2
            }
        ),
        "{e}"
    );

    // A bad level 0 in a short input: the bad level is the error, as
    // QEMU reports it before reading on.
    let mut bad = want[..4 + 256 + 6].to_vec();
    bad[4 + 256 + 3] = 2;
    let e = fresh.clone().load_from_slice(&bad, &ctx()).unwrap_err();
    assert_eq!(e.offset(), 4 + 256, "{e}");
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

/// `PCIDevice` on the wire: be32 version, the configuration space as is,
/// then each interrupt pin's level as be32.
fn pci_bytes(w: W, d: &pci::PciDevice) -> W {
    let mut w = w.i32(d.version_id);
    w.0.extend(&d.config.config);
    (0..4).fold(w, |w, pin| w.u32((d.irq_state >> pin) & 1))
}
