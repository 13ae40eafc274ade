//! `fdc`: the ISA floppy controller (QEMU 7.2 `hw/block/fdc.c`,
//! `vmstate_fdc` with `vmstate_fdrive`, wrapped by `hw/block/fdc-isa.c`'s
//! `vmstate_isa_fdc`; device `isa-fdc`).
//!
//! Constructs shown:
//! * a **variable array** whose count is a configuration field that is
//!   *not* on the wire (`count = fifo_size`, a `skip` field declared
//!   before it: QEMU's `VMSTATE_VARRAY_INT32(fifo, ..., fifo_size, ...)`
//!   reads the size from the destination's own struct);
//! * an `equal` on a `u8` (`num_floppies`, type `uint8 equal`);
//! * a **struct array whose element has subsections** (`drives`): QEMU's
//!   vmdesc then describes each element on its own (`index`), and each
//!   element's subsections follow its own fields on the wire;
//! * `pre_save` / `pre_load` / `post_load` that split one wire byte into
//!   two pieces of state (`dor_vmstate` = `dor` | current drive), and a
//!   subsection whose absence means "reconstruct it" (`fdc/phase`, with
//!   `pre_load` setting the marker and the parent's `needed` comparing
//!   with the reconstruction).
//!
//! `fdrive`'s `post_load` re-reads the drive geometry from the block
//! backend (`fd_revalidate`); the mirror has no backend.

use vmstate_core::types::Timer;
use vmstate_core::VmState;

/// `MAX_FD`: drives per controller in this build.
pub const MAX_FD: usize = 2;
/// `FD_SECTOR_LEN`: the FIFO's size.
pub const FD_SECTOR_LEN: i32 = 512;
/// `FD_DOR_SELMASK`: the drive-select bits of DOR (one bit for two
/// drives).
pub const FD_DOR_SELMASK: u8 = 0x01;
/// `FD_MSR_NONDMA`: non-DMA execution phase.
pub const FD_MSR_NONDMA: u8 = 0x20;
/// `FD_MSR_DIO`: data direction controller-to-host.
pub const FD_MSR_DIO: u8 = 0x40;
/// `FD_MSR_RQM`: request for master (the FIFO is ready).
pub const FD_MSR_RQM: u8 = 0x80;
/// `FD_PHASE_RECONSTRUCT`: "derive the phase from MSR" (only while
/// loading).
pub const FD_PHASE_RECONSTRUCT: u8 = 0;
/// `FD_PHASE_COMMAND`.
pub const FD_PHASE_COMMAND: u8 = 1;
/// `FD_PHASE_EXECUTION`.
pub const FD_PHASE_EXECUTION: u8 = 2;
/// `FD_PHASE_RESULT`.
pub const FD_PHASE_RESULT: u8 = 3;

/// Section `fdc` (`vmstate_isa_fdc`, version 2, minimum 2).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fdc", version = 2, minimum_version = 2)]
pub struct IsaFdc {
    /// The controller (`VMSTATE_STRUCT(state, ..., vmstate_fdc, FDCtrl)`).
    pub state: FdCtrl,
}

/// `vmstate_fdc` ("fdc", version 2, minimum 2).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "fdc",
    version = 2,
    minimum_version = 2,
    pre_save = Self::pre_save,
    pre_load = Self::pre_load,
    post_load = Self::post_load
)]
pub struct FdCtrl {
    /// Status register A.
    pub sra: u8,
    /// Status register B.
    pub srb: u8,
    /// DOR with the current drive in its select bits (set by `pre_save`).
    pub dor_vmstate: u8,
    /// Tape drive register.
    pub tdr: u8,
    /// Data-rate select register.
    pub dsr: u8,
    /// Main status register.
    pub msr: u8,
    /// Status register 0.
    pub status0: u8,
    /// Status register 1.
    pub status1: u8,
    /// Status register 2.
    pub status2: u8,
    /// The FIFO's size: configuration (512), not on the wire; it gives
    /// the length of `fifo`.
    #[vmstate(skip)]
    pub fifo_size: i32,
    /// The command/data FIFO (`VMSTATE_VARRAY_INT32` by `fifo_size`).
    #[vmstate(count = fifo_size)]
    pub fifo: Vec<u8>,
    /// Position in the FIFO.
    pub data_pos: u32,
    /// Bytes in the current transfer.
    pub data_len: u32,
    /// Transfer state flags.
    pub data_state: u8,
    /// Transfer direction.
    pub data_dir: u8,
    /// End-of-track sector.
    pub eot: u8,
    /// `SPECIFY`'s step-rate / head-unload byte, kept to be read back.
    pub timer0: u8,
    /// `SPECIFY`'s head-load / non-DMA byte.
    pub timer1: u8,
    /// `CONFIGURE`'s precompensation track.
    pub precomp_trk: u8,
    /// `CONFIGURE`'s configuration byte.
    pub config: u8,
    /// `LOCK` state.
    pub lock: u8,
    /// `POWERDOWN MODE` byte.
    pub pwrd: u8,
    /// Drives the controller has: must match the destination's.
    #[vmstate(equal)]
    pub num_floppies: u8,
    /// The drives (`VMSTATE_STRUCT_ARRAY(drives, ..., MAX_FD, 1, ...)`).
    #[vmstate(version = 1)]
    pub drives: [FDrive; MAX_FD],
    /// Subsection `fdc/reset_sensei`.
    #[vmstate(subsection, needed = Self::reset_sensei_needed)]
    pub reset_sensei: FdcResetSensei,
    /// Subsection `fdc/result_timer`.
    #[vmstate(subsection, needed = Self::result_timer_needed)]
    pub result_timer: FdcResultTimer,
    /// Subsection `fdc/phase`.
    #[vmstate(subsection, needed = Self::phase_needed)]
    pub phase: FdcPhase,
    /// DOR without the drive-select bits; not on the wire as such.
    #[vmstate(skip)]
    pub dor: u8,
    /// The selected drive; not on the wire as such.
    #[vmstate(skip)]
    pub cur_drv: u8,
}

impl Default for FdCtrl {
    /// A controller after `fdctrl_reset` (no second drive, DMA channel
    /// 2: DOR has nRESET and DMAEN).
    fn default() -> Self {
        FdCtrl {
            sra: 0x40,
            srb: 0xc0,
            dor_vmstate: 0,
            tdr: 0,
            dsr: 0,
            msr: FD_MSR_RQM,
            status0: 0,
            status1: 0,
            status2: 0,
            fifo_size: FD_SECTOR_LEN,
            fifo: vec![0; FD_SECTOR_LEN as usize],
            data_pos: 0,
            data_len: 0,
            data_state: 0,
            data_dir: 0,
            eot: 0,
            timer0: 0,
            timer1: 0,
            precomp_trk: 0,
            config: 0,
            lock: 0,
            pwrd: 0,
            num_floppies: MAX_FD as u8,
            drives: Default::default(),
            reset_sensei: FdcResetSensei::default(),
            result_timer: FdcResultTimer::default(),
            phase: FdcPhase {
                phase: FD_PHASE_COMMAND,
            },
            dor: 0x0c,
            cur_drv: 0,
        }
    }
}

impl FdCtrl {
    /// `reconstruct_phase`: the phase that QEMU 2.3 implied by MSR (part
    /// of the migration ABI: a stream without `fdc/phase` means this).
    pub fn reconstruct_phase(&self) -> u8 {
        if self.msr & FD_MSR_NONDMA != 0 || self.msr & FD_MSR_RQM == 0 {
            FD_PHASE_EXECUTION
        } else if self.msr & FD_MSR_DIO != 0 {
            FD_PHASE_RESULT
        } else {
            FD_PHASE_COMMAND
        }
    }

    /// `fdc_reset_sensei_needed`.
    #[inline]
    fn reset_sensei_needed(&self) -> bool {
        self.reset_sensei.reset_sensei != 0
    }

    /// `fdc_result_timer_needed`: the timer is pending.
    #[inline]
    fn result_timer_needed(&self) -> bool {
        self.result_timer.result_timer.is_armed()
    }

    /// `fdc_phase_needed`: the phase is not what MSR implies.
    #[inline]
    fn phase_needed(&self) -> bool {
        self.reconstruct_phase() != self.phase.phase
    }

    /// `fdc_pre_save`.
    #[inline]
    fn pre_save(&mut self) -> Result<(), &'static str> {
        self.dor_vmstate = self.dor | self.cur_drv;
        Ok(())
    }

    /// `fdc_pre_load`: mark the phase "to reconstruct" in case the
    /// subsection is absent.
    #[inline]
    fn pre_load(&mut self) -> Result<(), &'static str> {
        self.phase.phase = FD_PHASE_RECONSTRUCT;
        Ok(())
    }

    /// `fdc_post_load`.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), &'static str> {
        self.cur_drv = self.dor_vmstate & FD_DOR_SELMASK;
        self.dor = self.dor_vmstate & !FD_DOR_SELMASK;
        if self.phase.phase == FD_PHASE_RECONSTRUCT {
            self.phase.phase = self.reconstruct_phase();
        }
        Ok(())
    }
}

/// `vmstate_fdrive` ("fdrive", version 1, minimum 1): one drive.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "fdrive", version = 1, minimum_version = 1)]
pub struct FDrive {
    /// Current head.
    pub head: u8,
    /// Current track.
    pub track: u8,
    /// Current sector.
    pub sect: u8,
    /// Subsection `fdrive/media_changed`.
    #[vmstate(subsection, needed = Self::media_changed_needed)]
    pub media_changed: FDriveMediaChanged,
    /// Subsection `fdrive/media_rate` (always sent).
    #[vmstate(subsection)]
    pub media_rate: FDriveMediaRate,
    /// Subsection `fdrive/perpendicular`.
    #[vmstate(subsection, needed = Self::perpendicular_needed)]
    pub perpendicular: FDrivePerpendicular,
    /// Whether a block backend is attached (configuration, not on the
    /// wire).
    #[vmstate(skip)]
    pub has_blk: bool,
}

impl Default for FDrive {
    /// A drive slot with no backend, media "changed" as after reset.
    fn default() -> Self {
        FDrive {
            head: 0,
            track: 0,
            sect: 0,
            media_changed: FDriveMediaChanged { media_changed: 1 },
            media_rate: FDriveMediaRate::default(),
            perpendicular: FDrivePerpendicular::default(),
            has_blk: false,
        }
    }
}

impl FDrive {
    /// `fdrive_media_changed_needed`: a backend whose media flag is not
    /// the default "changed".
    #[inline]
    fn media_changed_needed(&self) -> bool {
        self.has_blk && self.media_changed.media_changed != 1
    }

    /// `fdrive_perpendicular_needed`.
    #[inline]
    fn perpendicular_needed(&self) -> bool {
        self.perpendicular.perpendicular != 0
    }
}

/// Subsection `fdrive/media_changed` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fdrive/media_changed", version = 1, minimum_version = 1)]
pub struct FDriveMediaChanged {
    /// The disk-change line.
    pub media_changed: u8,
}

/// Subsection `fdrive/media_rate` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fdrive/media_rate", version = 1, minimum_version = 1)]
pub struct FDriveMediaRate {
    /// The data rate of the inserted medium.
    pub media_rate: u8,
}

/// Subsection `fdrive/perpendicular` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fdrive/perpendicular", version = 1, minimum_version = 1)]
pub struct FDrivePerpendicular {
    /// Perpendicular recording mode.
    pub perpendicular: u8,
}

/// Subsection `fdc/reset_sensei` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fdc/reset_sensei", version = 1, minimum_version = 1)]
pub struct FdcResetSensei {
    /// `SENSE INTERRUPT STATUS` replies still owed after a reset.
    pub reset_sensei: i32,
}

/// Subsection `fdc/result_timer` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fdc/result_timer", version = 1, minimum_version = 1)]
pub struct FdcResultTimer {
    /// The timer that delivers a command's result.
    pub result_timer: Timer,
}

/// Subsection `fdc/phase` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fdc/phase", version = 1, minimum_version = 1)]
pub struct FdcPhase {
    /// Command, execution or result phase.
    pub phase: u8,
}
