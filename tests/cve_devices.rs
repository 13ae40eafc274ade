//! The 2013-2014 "invalid state load" CVE class, continued: the ARM and
//! embedded devices, USB and PS/2 (`cve_virtio.rs` has the table of all
//! patterns and the method).

use vmstate_core::types::Timer;
use vmstate_core::{ErrorKind, VmState};

#[path = "support/cve.rs"]
mod cve;
use cve::*;

// ---------------------------------------------------------------------------
// CVE-2013-4529: pcie_aer log_num
// ---------------------------------------------------------------------------

/// `vmstate_pcie_aer_err` (hw/pci/pcie_aer.c).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "PCIE_AER_ERROR", version = 1, minimum_version = 1)]
struct PcieAerErr {
    status: u32,
    source_id: u16,
    flags: u16,
    header: [u32; 4],
    prefix: [u32; 4],
}

/// `vmstate_pcie_aer_log`: `UINT16(log_num)`, `UINT16_EQUAL(log_max)`,
/// `VALIDATE("log_num <= log_max")`, `STRUCT_VARRAY_POINTER_UINT16(log,
/// log_num)`.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "PCIE_AER_ERROR_LOG", version = 1, minimum_version = 1)]
struct PcieAerLog {
    log_num: u16,
    #[vmstate(equal)]
    log_max: u16,
    #[vmstate(validate = Self::log_num_ok, rename = "log_num <= log_max")]
    _log_num_ok: (),
    #[vmstate(count = log_num)]
    log: Vec<PcieAerErr>,
}

impl PcieAerLog {
    fn log_num_ok(&self, _version: u32) -> bool {
        self.log_num <= self.log_max
    }
}

impl Default for PcieAerLog {
    fn default() -> Self {
        // log_max is the device's configuration (the `aer_log_max` property).
        PcieAerLog {
            log_num: 1,
            log_max: 8,
            _log_num_ok: (),
            log: vec![PcieAerErr {
                status: 0x20,
                ..PcieAerErr::default()
            }],
        }
    }
}

#[test]
fn cve_2013_4529_pcie_aer_log_num() {
    let dst = PcieAerLog::default();
    let ok = Wire::new()
        .u16(1)
        .u16(8)
        .u32(1)
        .u16(2)
        .u16(3)
        .zeros(32)
        .done();
    assert_eq!(loads(&dst, &ok, 1, &ctx()).log[0].source_id, 2);
    // log_num = 0xFFFF: 65535 records into an 8-record log.
    let wire = Wire::new().u16(0xffff).u16(8).zeros(44 * 32).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_invalid(
        &e,
        "log_num <= log_max",
        "PCIE_AER_ERROR_LOG/log_num <= log_max",
        4,
    );
    // A source with another log_max: refused by the equal check.
    let wire = Wire::new().u16(100).u16(100).zeros(44 * 100).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::NotEqual {
                expected: 8,
                found: 100,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        (e.path().as_str(), e.offset()),
        ("PCIE_AER_ERROR_LOG/log_max", 2)
    );
}

// ---------------------------------------------------------------------------
// CVE-2013-4530: pl022 FIFO heads
// ---------------------------------------------------------------------------

/// `vmstate_pl022` (hw/ssi/pl022.c): the FIFO heads are `INT32`s used as
/// indices into `tx_fifo[8]` / `rx_fifo[8]`. The FIFOs are sent
/// interleaved (`tx_fifo[0]`, `rx_fifo[0]`, `tx_fifo[1]`, ...).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "pl022_ssp", version = 1, minimum_version = 1)]
struct Pl022 {
    cr0: u32,
    cr1: u32,
    bitmask: u32,
    sr: u32,
    cpsr: u32,
    is: u32,
    im: u32,
    #[vmstate(min = 0, max = 7)]
    tx_fifo_head: i32,
    #[vmstate(min = 0, max = 7)]
    rx_fifo_head: i32,
    #[vmstate(min = 0, max = 8)]
    tx_fifo_len: i32,
    #[vmstate(min = 0, max = 8)]
    rx_fifo_len: i32,
    /// `[tx_fifo[i], rx_fifo[i]]` pairs, as QEMU lists them.
    fifos: [[u16; 2]; 8],
}

fn pl022_wire(tx_head: i32, rx_head: i32) -> Vec<u8> {
    Wire::new()
        .zeros(7 * 4)
        .i32(tx_head)
        .i32(rx_head)
        .i32(1)
        .i32(1)
        .zeros(32)
        .done()
}

#[test]
fn cve_2013_4530_pl022_fifo_heads() {
    let dst = Pl022 {
        cr0: 7,
        tx_fifo_head: 3,
        ..Pl022::default()
    };
    assert_eq!(loads(&dst, &pl022_wire(7, 0), 1, &ctx()).tx_fifo_head, 7);
    let e = hostile(&dst, &pl022_wire(-1, 0), 1, &ctx());
    assert_out_of_range(&e, -1, 0, 7, "pl022_ssp/tx_fifo_head", 28);
    let e = hostile(&dst, &pl022_wire(0x1000_0000, 0), 1, &ctx());
    assert_out_of_range(&e, 0x1000_0000, 0, 7, "pl022_ssp/tx_fifo_head", 28);
    let e = hostile(&dst, &pl022_wire(0, 8), 1, &ctx());
    assert_out_of_range(&e, 8, 0, 7, "pl022_ssp/rx_fifo_head", 32);
}

// ---------------------------------------------------------------------------
// CVE-2013-4531: target-arm cpreg_vmstate_array_len
// ---------------------------------------------------------------------------

/// The cpreg part of `vmstate_arm_cpu` (target/arm/machine.c):
/// `VMSTATE_INT32_POSITIVE_LE(cpreg_vmstate_array_len)`, then two
/// `VMSTATE_VARRAY_INT32` arrays of `uint64` sized by it. The destination
/// sizes its arrays from its own CPU model before the load.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "cpu", version = 22, minimum_version = 22)]
struct ArmCpuCpregs {
    #[vmstate(positive_le)]
    cpreg_vmstate_array_len: i32,
    #[vmstate(count = cpreg_vmstate_array_len)]
    cpreg_vmstate_indexes: Vec<u64>,
    #[vmstate(count = cpreg_vmstate_array_len)]
    cpreg_vmstate_values: Vec<u64>,
}

impl Default for ArmCpuCpregs {
    fn default() -> Self {
        ArmCpuCpregs {
            cpreg_vmstate_array_len: 4,
            cpreg_vmstate_indexes: vec![0x4010_0000, 0x4010_0001, 0x4010_0002, 0x4010_0003],
            cpreg_vmstate_values: vec![1, 2, 3, 4],
        }
    }
}

#[test]
fn cve_2013_4531_arm_cpreg_array_len() {
    let dst = ArmCpuCpregs::default();
    // Fewer registers than configured is allowed (0 <= v <= current).
    let ok = Wire::new().i32(1).u64(9).u64(10).done();
    let l = loads(&dst, &ok, 22, &ctx());
    assert_eq!(
        (l.cpreg_vmstate_indexes, l.cpreg_vmstate_values),
        (vec![9], vec![10])
    );
    // 0x7FFFFFFF registers, 16 of data.
    let wire = Wire::new().i32(0x7fff_ffff).zeros(16 * 8).done();
    let e = hostile(&dst, &wire, 22, &ctx());
    assert_out_of_range(&e, 0x7fff_ffff, 0, 4, "cpu/cpreg_vmstate_array_len", 0);
    // Negative.
    let wire = Wire::new().i32(-1).done();
    let e = hostile(&dst, &wire, 22, &ctx());
    assert_out_of_range(&e, -1, 0, 4, "cpu/cpreg_vmstate_array_len", 0);
    // 5 > 4, with 5 registers of data present.
    let wire = Wire::new().i32(5).zeros(80).done();
    let e = hostile(&dst, &wire, 22, &ctx());
    assert_out_of_range(&e, 5, 0, 4, "cpu/cpreg_vmstate_array_len", 0);
}

// ---------------------------------------------------------------------------
// CVE-2013-4532: stellaris_enet
// ---------------------------------------------------------------------------

/// `vmstate_rx_frame`.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "stellaris_enet/rx_frame", version = 1, minimum_version = 1)]
struct RxFrame {
    #[vmstate(buffer)]
    data: [u8; 2048],
    #[vmstate(max = 2048)]
    len: u32,
}

impl Default for RxFrame {
    fn default() -> Self {
        RxFrame {
            data: [0; 2048],
            len: 0,
        }
    }
}

/// `vmstate_stellaris_enet` (hw/net/stellaris_enet.c, version 2), whose
/// `post_load` checks every index and length; here each bound sits on its
/// field.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "stellaris_enet", version = 2, minimum_version = 2)]
struct StellarisEnet {
    ris: u32,
    im: u32,
    rctl: u32,
    tctl: u32,
    thr: u32,
    mctl: u32,
    mdv: u32,
    mtxd: u32,
    mrxd: u32,
    /// A count of frames: at most 31.
    #[vmstate(max = 31)]
    np: u32,
    #[vmstate(max = 2048)]
    tx_fifo_len: u32,
    #[vmstate(buffer)]
    tx_fifo: [u8; 2048],
    rx: [RxFrame; 31],
    #[vmstate(max = 2044)]
    rx_fifo_offset: u32,
    /// An index: at most 30.
    #[vmstate(max = 30)]
    next_packet: u32,
}

impl Default for StellarisEnet {
    fn default() -> Self {
        StellarisEnet {
            ris: 0,
            im: 0,
            rctl: 0,
            tctl: 0,
            thr: 0,
            mctl: 0,
            mdv: 0,
            mtxd: 0,
            mrxd: 0,
            np: 0,
            tx_fifo_len: 0,
            tx_fifo: [0; 2048],
            rx: std::array::from_fn(|_| RxFrame::default()),
            rx_fifo_offset: 0,
            next_packet: 0,
        }
    }
}

#[test]
fn cve_2013_4532_stellaris_enet() {
    let dst = StellarisEnet {
        np: 2,
        ..StellarisEnet::default()
    };
    // tx_fifo_len = 0xFFFFFFFF.
    let wire = Wire::new().zeros(40).u32(0xffff_ffff).zeros(2048).done();
    let e = hostile(&dst, &wire, 2, &ctx());
    assert_out_of_range(&e, 0xffff_ffff, 0, 2048, "stellaris_enet/tx_fifo_len", 40);
    // np = 32 frames.
    let wire = Wire::new().zeros(36).u32(32).done();
    let e = hostile(&dst, &wire, 2, &ctx());
    assert_out_of_range(&e, 32, 0, 31, "stellaris_enet/np", 36);
    // rx[3].len = 0x10000: the error names the frame.
    let mut w = Wire::new().zeros(44).zeros(2048);
    for _ in 0..3 {
        w = w.zeros(2048).u32(64);
    }
    let w = w.zeros(2048);
    let at = w.at();
    let wire = w.u32(0x10000).done();
    let e = hostile(&dst, &wire, 2, &ctx());
    assert_out_of_range(&e, 0x10000, 0, 2048, "stellaris_enet/rx[3].len", at);
    // next_packet = 31 (an index one past the ring), everything else good.
    let mut w = Wire::new().zeros(44).zeros(2048);
    for _ in 0..31 {
        w = w.zeros(2048).u32(0);
    }
    let w = w.u32(0);
    let at = w.at();
    let wire = w.u32(31).done();
    let e = hostile(&dst, &wire, 2, &ctx());
    assert_out_of_range(&e, 31, 0, 30, "stellaris_enet/next_packet", at);
}

// ---------------------------------------------------------------------------
// CVE-2013-4533: pxa2xx SSP
// ---------------------------------------------------------------------------

/// `vmstate_pxa2xx_ssp` (hw/arm/pxa2xx.c): `rx_level` and `rx_start` are
/// checked by `VMSTATE_VALIDATE("fifo is 16 bytes")` before `rx_fifo`.
/// (QEMU's predicate compares `rx_start` with `sizeof(rx_fifo)`, 64 bytes;
/// the entries are 16, which this one checks, for both.)
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "pxa2xx-ssp", version = 1, minimum_version = 1)]
struct Pxa2xxSsp {
    enable: u32,
    sscr: [u32; 2],
    sspsp: u32,
    ssto: u32,
    ssitr: u32,
    sssr: u32,
    sstsa: u8,
    ssrsa: u8,
    ssacd: u8,
    rx_level: u32,
    rx_start: u32,
    #[vmstate(validate = Self::fifo_ok, rename = "fifo is 16 bytes")]
    _fifo_ok: (),
    rx_fifo: [u32; 16],
}

impl Pxa2xxSsp {
    fn fifo_ok(&self, _version: u32) -> bool {
        self.rx_start < 16 && self.rx_level <= 16
    }
}

#[test]
fn cve_2013_4533_pxa2xx_ssp() {
    let dst = Pxa2xxSsp {
        rx_level: 2,
        ..Pxa2xxSsp::default()
    };
    let good = Wire::new().zeros(31).u32(16).u32(15).zeros(64).done();
    assert_eq!(loads(&dst, &good, 1, &ctx()).rx_start, 15);
    let wire = Wire::new().zeros(31).u32(1).u32(0x100).zeros(64).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_invalid(&e, "fifo is 16 bytes", "pxa2xx-ssp/fifo is 16 bytes", 39);
    let wire = Wire::new().zeros(31).u32(17).u32(0).zeros(64).done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_invalid(&e, "fifo is 16 bytes", "pxa2xx-ssp/fifo is 16 bytes", 39);
}

// ---------------------------------------------------------------------------
// CVE-2013-4537: ssi-sd
// ---------------------------------------------------------------------------

const SSI_SD_CMDARG: u32 = 1;
const SSI_SD_RESPONSE: u32 = 3;
const SSI_SD_SKIP_CRC16: u32 = 9;

/// `vmstate_ssi_peripheral`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "SSISlave", version = 1, minimum_version = 1)]
struct SsiPeripheral {
    cs: bool,
}

/// `vmstate_ssi_sd` (hw/sd/ssi-sd.c, version 7): `arglen` and
/// `response_pos` index `cmdarg[4]` / `response[5]` depending on `mode`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ssi_sd", version = 7, minimum_version = 7)]
struct SsiSd {
    #[vmstate(max = 9)]
    mode: u32,
    cmd: i32,
    cmdarg: [u8; 4],
    response: [u8; 5],
    crc16: u16,
    read_bytes: i32,
    write_bytes: i32,
    arglen: i32,
    response_pos: i32,
    stopping: i32,
    #[vmstate(validate = Self::cursors_ok, rename = "ssi_sd cursors in range")]
    _cursors_ok: (),
    ssidev: SsiPeripheral,
}

impl SsiSd {
    /// QEMU's `ssi_sd_post_load`, at the end of the fields.
    fn cursors_ok(&self, _version: u32) -> bool {
        if self.mode > SSI_SD_SKIP_CRC16 {
            return false;
        }
        if self.mode == SSI_SD_CMDARG && !(0..4).contains(&self.arglen) {
            return false;
        }
        if self.mode == SSI_SD_RESPONSE
            && (!(0..5).contains(&self.response_pos) || (self.stopping == 0 && self.arglen > 5))
        {
            return false;
        }
        true
    }
}

fn ssi_sd_wire(mode: u32, arglen: i32, response_pos: i32) -> Vec<u8> {
    Wire::new()
        .u32(mode)
        .i32(17)
        .zeros(4 + 5 + 2)
        .i32(0)
        .i32(0)
        .i32(arglen)
        .i32(response_pos)
        .i32(0)
        .u8(1)
        .done()
}

#[test]
fn cve_2013_4537_ssi_sd() {
    let dst = SsiSd::default();
    assert_eq!(
        loads(&dst, &ssi_sd_wire(SSI_SD_CMDARG, 3, 0), 7, &ctx()).arglen,
        3
    );
    let e = hostile(&dst, &ssi_sd_wire(SSI_SD_CMDARG, 0x100, 0), 7, &ctx());
    assert_invalid(
        &e,
        "ssi_sd cursors in range",
        "ssi_sd/ssi_sd cursors in range",
        39,
    );
    let e = hostile(&dst, &ssi_sd_wire(SSI_SD_RESPONSE, 1, -5), 7, &ctx());
    assert_invalid(
        &e,
        "ssi_sd cursors in range",
        "ssi_sd/ssi_sd cursors in range",
        39,
    );
    let e = hostile(&dst, &ssi_sd_wire(0x1000, 0, 0), 7, &ctx());
    assert_out_of_range(&e, 0x1000, 0, 9, "ssi_sd/mode", 0);
}

// ---------------------------------------------------------------------------
// CVE-2013-4538: ssd0323
// ---------------------------------------------------------------------------

/// `vmstate_ssd0323` (hw/display/ssd0323.c, version 2): `cmd_len` indexes
/// `cmd_data[8]`; the row and column cursors index the 128x80 4-bit
/// framebuffer.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ssd0323_oled", version = 2, minimum_version = 2)]
struct Ssd0323 {
    #[vmstate(max = 8)]
    cmd_len: u32,
    cmd: i32,
    cmd_data: [i32; 8],
    row: i32,
    row_start: i32,
    row_end: i32,
    col: i32,
    col_start: i32,
    col_end: i32,
    redraw: i32,
    remap: i32,
    #[vmstate(max = 1)]
    mode: u32,
    #[vmstate(validate = Self::cursors_ok, rename = "ssd0323 cursors in range")]
    _cursors_ok: (),
    #[vmstate(buffer)]
    framebuffer: [u8; 128 * 80 / 2],
    ssidev: SsiPeripheral,
}

impl Default for Ssd0323 {
    fn default() -> Self {
        Ssd0323 {
            cmd_len: 0,
            cmd: 0,
            cmd_data: [0; 8],
            row: 0,
            row_start: 0,
            row_end: 79,
            col: 0,
            col_start: 0,
            col_end: 63,
            redraw: 0,
            remap: 0,
            mode: 0,
            _cursors_ok: (),
            framebuffer: [0; 128 * 80 / 2],
            ssidev: SsiPeripheral::default(),
        }
    }
}

impl Ssd0323 {
    /// QEMU's `ssd0323_post_load` cursor checks.
    fn cursors_ok(&self, _version: u32) -> bool {
        (0..=self.row_end).contains(&self.row_start)
            && self.row_end < 80
            && (0..=self.col_end).contains(&self.col_start)
            && self.col_end < 64
            && (self.row_start..=self.row_end).contains(&self.row)
            && (self.col_start..=self.col_end).contains(&self.col)
    }
}

fn ssd0323_wire(cmd_len: u32, row: i32) -> Vec<u8> {
    Wire::new()
        .u32(cmd_len)
        .i32(0)
        .zeros(32)
        .i32(row)
        .i32(0)
        .i32(79)
        .i32(0)
        .i32(0)
        .i32(63)
        .i32(0)
        .i32(0)
        .u32(0)
        .zeros(5120)
        .u8(0)
        .done()
}

#[test]
fn cve_2013_4538_ssd0323() {
    let dst = Ssd0323::default();
    assert_eq!(loads(&dst, &ssd0323_wire(8, 79), 2, &ctx()).row, 79);
    let e = hostile(&dst, &ssd0323_wire(0x100, 0), 2, &ctx());
    assert_out_of_range(&e, 0x100, 0, 8, "ssd0323_oled/cmd_len", 0);
    let e = hostile(&dst, &ssd0323_wire(0, 80), 2, &ctx());
    assert_invalid(
        &e,
        "ssd0323 cursors in range",
        "ssd0323_oled/ssd0323 cursors in range",
        76,
    );
}

// ---------------------------------------------------------------------------
// CVE-2013-4539: tsc210x
// ---------------------------------------------------------------------------

/// `vmstatefields_tsc210x` (hw/input/tsc210x.c, "tsc2102" version 1):
/// `function`/`nextfunction` index `mode_regs[16]`, `precision` /
/// `nextprecision` index `resolution[4]`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "tsc2102", version = 1, minimum_version = 1)]
struct Tsc210x {
    enabled: bool,
    host_mode: bool,
    irq: bool,
    command: bool,
    pressure: bool,
    softstep: bool,
    state: bool,
    dav: u16,
    x: i32,
    y: i32,
    offset: u8,
    page: u8,
    filter: u8,
    pin_func: u8,
    r#ref: u8,
    timing: u8,
    noise: u8,
    #[vmstate(max = 15)]
    function: u8,
    #[vmstate(max = 15)]
    nextfunction: u8,
    #[vmstate(max = 3)]
    precision: u8,
    #[vmstate(max = 3)]
    nextprecision: u8,
    audio_ctrl1: u16,
    audio_ctrl2: u16,
    audio_ctrl3: u16,
    pll: [u16; 3],
    volume: u16,
    dac_power: u16,
    volume_change: i64,
    powerdown: i64,
    now: i64,
    filter_data: [u16; 0x14],
    timer: Timer,
}

fn tsc210x_wire(index_bytes: [u8; 4]) -> Vec<u8> {
    Wire::new()
        .zeros(7)
        .u16(0)
        .i32(160)
        .i32(160)
        .zeros(7)
        .bytes(&index_bytes)
        .zeros(2 * 3 + 2 * 3 + 2 + 2)
        .zeros(8 * 3)
        .zeros(2 * 0x14)
        .i64(-1)
        .done()
}

#[test]
fn cve_2013_4539_tsc210x() {
    let dst = Tsc210x::default();
    assert_eq!(
        loads(&dst, &tsc210x_wire([15, 15, 3, 3]), 1, &ctx()).precision,
        3
    );
    for (i, (field, bad, max)) in [
        ("function", 16u8, 15i128),
        ("nextfunction", 0xff, 15),
        ("precision", 4, 3),
        ("nextprecision", 0x80, 3),
    ]
    .into_iter()
    .enumerate()
    {
        let mut idx = [0u8; 4];
        idx[i] = bad;
        let e = hostile(&dst, &tsc210x_wire(idx), 1, &ctx());
        assert_out_of_range(
            &e,
            bad.into(),
            0,
            max,
            &format!("tsc2102/{field}"),
            24 + i as u64,
        );
    }
}

// ---------------------------------------------------------------------------
// CVE-2013-4540: zaurus scoop
// ---------------------------------------------------------------------------

/// `vmstate_scoop_regs` (hw/gpio/zaurus.c).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "scoop", version = 1, minimum_version = 0)]
struct Scoop {
    status: u16,
    power: u16,
    gpio_level: u32,
    gpio_dir: u32,
    prev_level: u32,
    #[vmstate(validate = Self::levels_ok, rename = "irq levels are 16 bit")]
    _levels_ok: (),
    mcr: u16,
    cdr: u16,
    ccr: u16,
    irr: u16,
    imr: u16,
    isr: u16,
    #[vmstate(unused = 2, exists = Self::is_version_0)]
    _v0: (),
}

impl Scoop {
    fn levels_ok(&self, _version: u32) -> bool {
        (self.prev_level | self.gpio_level | self.gpio_dir) & 0xffff_0000 == 0
    }
    fn is_version_0(&self, version: u32) -> bool {
        version == 0
    }
}

#[test]
fn cve_2013_4540_zaurus_scoop() {
    let dst = Scoop::default();
    let ok = Wire::new()
        .zeros(4)
        .u32(0xffff)
        .u32(0)
        .u32(0)
        .zeros(12)
        .done();
    assert_eq!(loads(&dst, &ok, 1, &ctx()).gpio_level, 0xffff);
    // gpio_level bit 16: the device shifts 1 << bit over a 16-entry table.
    let wire = Wire::new()
        .zeros(4)
        .u32(0x1_0000)
        .u32(0)
        .u32(0)
        .zeros(12)
        .done();
    let e = hostile(&dst, &wire, 1, &ctx());
    assert_invalid(
        &e,
        "irq levels are 16 bit",
        "scoop/irq levels are 16 bit",
        16,
    );
    let wire = Wire::new()
        .zeros(4)
        .u32(0)
        .u32(0)
        .u32(0xffff_ffff)
        .zeros(14)
        .done();
    let e = hostile(&dst, &wire, 0, &ctx());
    assert_invalid(
        &e,
        "irq levels are 16 bit",
        "scoop/irq levels are 16 bit",
        16,
    );
}

// ---------------------------------------------------------------------------
// CVE-2013-4541 / CVE-2014-3461: USB device setup_len / setup_index
// ---------------------------------------------------------------------------

/// `vmstate_usb_device` (hw/usb/bus.c): `setup_len` and `setup_index` are
/// a length and an offset into the 4096-byte `data_buf`.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "USBDevice", version = 1, minimum_version = 1)]
struct UsbDevice {
    addr: u8,
    state: i32,
    remote_wakeup: i32,
    setup_state: i32,
    #[vmstate(min = 0, max = 4095)]
    setup_len: i32,
    #[vmstate(min = 0, max = 4095)]
    setup_index: i32,
    setup_buf: [u8; 8],
}

fn usb_wire(setup_len: i32, setup_index: i32) -> Vec<u8> {
    Wire::new()
        .u8(2)
        .i32(3)
        .i32(0)
        .i32(1)
        .i32(setup_len)
        .i32(setup_index)
        .bytes(&[0x80, 6, 0, 1, 0, 0, 0x12, 0])
        .done()
}

#[test]
fn cve_2013_4541_2014_3461_usb_setup_len() {
    let dst = UsbDevice {
        addr: 1,
        ..UsbDevice::default()
    };
    assert_eq!(loads(&dst, &usb_wire(18, 0), 1, &ctx()).setup_len, 18);
    let e = hostile(&dst, &usb_wire(0x10000, 0), 1, &ctx());
    assert_out_of_range(&e, 0x10000, 0, 4095, "USBDevice/setup_len", 13);
    let e = hostile(&dst, &usb_wire(8, -8), 1, &ctx());
    assert_out_of_range(&e, -8, 0, 4095, "USBDevice/setup_index", 17);
    let e = hostile(&dst, &usb_wire(-1, 0), 1, &ctx());
    assert_out_of_range(&e, -1, 0, 4095, "USBDevice/setup_len", 13);
}

// ---------------------------------------------------------------------------
// CVE-2017-16845: ps2 queue pointers
// ---------------------------------------------------------------------------

/// `vmstate_ps2_common` ("PS2 Common State", hw/input/ps2.c): `rptr`,
/// `wptr` and `count` index the 256-byte `queue.data`.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "PS2 Common State", version = 3, minimum_version = 2)]
struct Ps2Common {
    write_cmd: i32,
    #[vmstate(rename = "queue.rptr", min = 0, max = 255)]
    rptr: i32,
    #[vmstate(rename = "queue.wptr", min = 0, max = 255)]
    wptr: i32,
    #[vmstate(rename = "queue.count", min = 0, max = 256)]
    count: i32,
    #[vmstate(rename = "queue.data", buffer)]
    data: [u8; 256],
}

impl Default for Ps2Common {
    fn default() -> Self {
        Ps2Common {
            write_cmd: -1,
            rptr: 0,
            wptr: 0,
            count: 0,
            data: [0; 256],
        }
    }
}

/// `vmstate_ps2_keyboard` ("ps2kbd", version 3) without its subsections.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ps2kbd", version = 3, minimum_version = 2)]
struct Ps2Kbd {
    common: Ps2Common,
    scan_enabled: i32,
    translate: i32,
    #[vmstate(version = 3)]
    scancode_set: i32,
}

fn ps2_wire(rptr: i32, wptr: i32, count: i32) -> Vec<u8> {
    Wire::new()
        .i32(-1)
        .i32(rptr)
        .i32(wptr)
        .i32(count)
        .zeros(256)
        .i32(1)
        .i32(0)
        .i32(2)
        .done()
}

#[test]
fn cve_2017_16845_ps2_queue() {
    let dst = Ps2Kbd::default();
    assert_eq!(
        loads(&dst, &ps2_wire(255, 3, 256), 3, &ctx()).common.count,
        256
    );
    let e = hostile(&dst, &ps2_wire(0x1000, 0, 1), 3, &ctx());
    assert_out_of_range(&e, 0x1000, 0, 255, "ps2kbd/common.queue.rptr", 4);
    let e = hostile(&dst, &ps2_wire(0, 0, -1), 3, &ctx());
    assert_out_of_range(&e, -1, 0, 256, "ps2kbd/common.queue.count", 12);
    let e = hostile(&dst, &ps2_wire(0, -2, 0), 3, &ctx());
    assert_out_of_range(&e, -2, 0, 255, "ps2kbd/common.queue.wptr", 8);
}
