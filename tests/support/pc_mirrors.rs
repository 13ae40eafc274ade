//! The mirrors of `pc_payloads.rs`: six device sections of QEMU 7.2's
//! `pc.mig`, declared with the derive alone (see that file's docs for why
//! they are not the catalog's).
#![allow(dead_code)]

use std::convert::Infallible;

use vmstate_core::VmState;

/// `vmstate_pic_common` ("i8259", version 1, minimum 1): 16 `uint8`s.
/// Registered twice on a pc machine, instance 0 (master) and 1 (slave).
#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "i8259", version = 1, minimum_version = 1)]
pub struct I8259 {
    pub last_irr: u8,
    pub irr: u8,
    pub imr: u8,
    pub isr: u8,
    pub priority_add: u8,
    pub irq_base: u8,
    pub read_reg_select: u8,
    pub poll: u8,
    pub special_mask: u8,
    pub init_state: u8,
    pub auto_eoi: u8,
    pub rotate_on_auto_eoi: u8,
    pub special_fully_nested_mode: u8,
    pub init4: u8,
    pub single_mode: u8,
    pub elcr: u8,
}

/// `vmstate_port92` ("port92", version 1, minimum 1).
#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "port92", version = 1, minimum_version = 1)]
pub struct Port92 {
    pub outport: u8,
}

/// `vmstate_timers` ("timer", version 2, minimum 1). `cpu_clock_offset` is
/// `VMSTATE_INT64_V(..., 2)`: absent from version 1 streams. The middle 8
/// bytes are `VMSTATE_UNUSED(8)` (a removed `dummy` field).
///
/// Not mirrored: QEMU's subsection `timer/icount` (needed only with
/// `-icount`); a stream that has it is rejected here as an unknown
/// subsection.
#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "timer", version = 2, minimum_version = 1)]
pub struct Timers {
    pub cpu_ticks_offset: i64,
    #[vmstate(unused = 8)]
    pub dummy: (),
    #[vmstate(version = 2)]
    pub cpu_clock_offset: i64,
}

/// `vmstate_cpu_common` ("cpu_common", version 1, minimum 1), with both of
/// its subsections. Neither was sent in the fixture (the vmdesc lists no
/// `subsections` for it): `exception_index` was -1 and no crash occurred.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "cpu_common",
    version = 1,
    minimum_version = 1,
    pre_load = Self::pre_load,
    post_load = Self::post_load
)]
pub struct CpuCommon {
    pub halted: u32,
    pub interrupt_request: u32,
    #[vmstate(subsection, needed = Self::exception_index_needed)]
    pub exception_index: CpuExceptionIndex,
    #[vmstate(subsection, needed = Self::crash_occurred_needed)]
    pub crash_occurred: CpuCrashOccurred,
}

/// `vmstate_cpu_common_exception_index`.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "cpu_common/exception_index", version = 1, minimum_version = 1)]
pub struct CpuExceptionIndex {
    pub exception_index: i32,
}

/// `vmstate_cpu_common_crash_occurred`.
#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "cpu_common/crash_occurred", version = 1, minimum_version = 1)]
pub struct CpuCrashOccurred {
    pub crash_occurred: bool,
}

impl Default for CpuCommon {
    fn default() -> Self {
        CpuCommon {
            halted: 0,
            interrupt_request: 0,
            exception_index: CpuExceptionIndex {
                exception_index: -1,
            },
            crash_occurred: CpuCrashOccurred::default(),
        }
    }
}

impl CpuCommon {
    /// `cpu_common_exception_index_needed`: `tcg_enabled() &&
    /// cpu->exception_index != -1` (the mirror is "TCG").
    pub fn exception_index_needed(&self) -> bool {
        self.exception_index.exception_index != -1
    }

    /// `cpu_common_crash_occurred_needed`.
    pub fn crash_occurred_needed(&self) -> bool {
        self.crash_occurred.crash_occurred
    }

    /// `cpu_common_pre_load`: an absent `exception_index` subsection means -1.
    pub fn pre_load(&mut self) -> Result<(), Infallible> {
        self.exception_index.exception_index = -1;
        Ok(())
    }

    /// `cpu_common_post_load`: "0x01 was CPU_INTERRUPT_EXIT", cleared on
    /// every load (QEMU also flushes the TLB and TBs here).
    pub fn post_load(&mut self, _version: u32) -> Result<(), Infallible> {
        self.interrupt_request &= !0x01;
        Ok(())
    }
}

/// The section: `vmstate_kbd_isa` ("pckbd", version 3, minimum 3), whose
/// only field is `VMSTATE_STRUCT(kbd, ISAKBDState, 0, vmstate_kbd,
/// KBDState)`. A nested struct has no framing and is saved at its own
/// version.
#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "pckbd", version = 3, minimum_version = 3)]
pub struct Pckbd {
    pub kbd: Kbd,
}

/// `vmstate_kbd` ("pckbd", version 3, minimum 3): 4 `uint8`s and the
/// subsections `pckbd_outport` and `pckbd/extended_state`, in that order.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "pckbd",
    version = 3,
    minimum_version = 3,
    pre_load = Self::pre_load,
    post_load = Self::post_load
)]
pub struct Kbd {
    pub write_cmd: u8,
    pub status: u8,
    pub mode: u8,
    pub pending_tmp: u8,
    /// `pckbd_outport`: note the name has the parent's prefix without a
    /// `/`, which QEMU's plain byte-prefix rule accepts.
    #[vmstate(subsection, needed = Self::outport_needed)]
    pub outport: KbdOutport,
    #[vmstate(subsection, needed = Self::extended_state_needed)]
    pub ext: KbdExtendedState,
    /// The `extended-state` property of the i8042 device; not on the wire.
    /// QEMU 7.2 defaults it to true (false only for old machine types).
    #[vmstate(skip)]
    pub extended_state: bool,
}

/// `vmstate_kbd_outport` ("pckbd_outport", version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "pckbd_outport", version = 1, minimum_version = 1, post_load = Self::post_load)]
pub struct KbdOutport {
    pub outport: u8,
    /// QEMU's `outport_present`: set by this subsection's post_load,
    /// cleared by the parent's pre_load.
    #[vmstate(skip)]
    pub present: bool,
}

/// `vmstate_kbd_extended_state` ("pckbd/extended_state", version 0).
#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "pckbd/extended_state", version = 0, post_load = Self::post_load)]
pub struct KbdExtendedState {
    pub migration_flags: u32,
    pub obsrc: u32,
    pub obdata: u8,
    pub cbdata: u8,
    /// QEMU's `extended_state_loaded`.
    #[vmstate(skip)]
    pub loaded: bool,
}

pub const KBD_STAT_OBF: u8 = 0x01;
pub const KBD_STAT_MOUSE_OBF: u8 = 0x20;
pub const KBD_OUT_RESET: u8 = 0x01;
pub const KBD_OUT_A20: u8 = 0x02;
pub const KBD_OUT_OBF: u8 = 0x10;
pub const KBD_OUT_MOUSE_OBF: u8 = 0x20;
pub const KBD_OUT_ONES: u8 = 0xcc;
pub const KBD_OBSRC_KBD: u32 = 0x01;
pub const KBD_OBSRC_MOUSE: u32 = 0x02;

/// `kbd_outport_default()`.
pub fn kbd_outport_default(status: u8) -> u8 {
    let mut v = KBD_OUT_RESET | KBD_OUT_A20 | KBD_OUT_ONES;
    if status & KBD_STAT_OBF != 0 {
        v |= KBD_OUT_OBF;
    }
    if status & KBD_STAT_MOUSE_OBF != 0 {
        v |= KBD_OUT_MOUSE_OBF;
    }
    v
}

impl Default for Kbd {
    /// The state after `kbd_reset()` with the 7.2 defaults.
    fn default() -> Self {
        let status = 0x18; // KBD_STAT_CMD | KBD_STAT_UNLOCKED
        Kbd {
            write_cmd: 0,
            status,
            mode: 0x03, // KBD_MODE_KBD_INT | KBD_MODE_MOUSE_INT
            pending_tmp: 0,
            outport: KbdOutport {
                outport: kbd_outport_default(status),
                present: false,
            },
            ext: KbdExtendedState::default(),
            extended_state: true,
        }
    }
}

impl Kbd {
    /// `kbd_outport_needed()`: the outport differs from what the status
    /// implies.
    pub fn outport_needed(&self) -> bool {
        self.outport.outport != kbd_outport_default(self.status)
    }

    /// QEMU's `kbd_extended_state_needed()` is just `return
    /// s->extended_state;`: the property, true by default in 7.2, so the
    /// subsection goes out even when all its fields are zero (as in the
    /// fixture). The mirror keeps that flag and also sends the subsection
    /// whenever one of its fields is non-zero, so that a non-zero value is
    /// never dropped silently when the flag is off.
    pub fn extended_state_needed(&self) -> bool {
        let e = &self.ext;
        self.extended_state
            || e.migration_flags != 0
            || e.obsrc != 0
            || e.obdata != 0
            || e.cbdata != 0
    }

    /// `kbd_pre_load()`.
    pub fn pre_load(&mut self) -> Result<(), Infallible> {
        self.outport.present = false;
        self.ext.loaded = false;
        Ok(())
    }

    /// `kbd_post_load()` (without the `pending` compat bits): an absent
    /// `pckbd_outport` means the default outport; an absent extended state
    /// means `obsrc` is derived from the status.
    pub fn post_load(&mut self, _version: u32) -> Result<(), Infallible> {
        if !self.outport.present {
            self.outport.outport = kbd_outport_default(self.status);
        }
        if !self.ext.loaded {
            self.ext.obsrc = if self.status & KBD_STAT_OBF != 0 {
                if self.status & KBD_STAT_MOUSE_OBF != 0 {
                    KBD_OBSRC_MOUSE
                } else {
                    KBD_OBSRC_KBD
                }
            } else {
                0
            };
        }
        Ok(())
    }
}

impl KbdOutport {
    /// `kbd_outport_post_load()`.
    pub fn post_load(&mut self, _version: u32) -> Result<(), Infallible> {
        self.present = true;
        Ok(())
    }
}

impl KbdExtendedState {
    /// `kbd_extended_state_post_load()` sets `extended_state_loaded` (and
    /// restarts the throttle timer if `migration_flags` says so).
    pub fn post_load(&mut self, _version: u32) -> Result<(), Infallible> {
        self.loaded = true;
        Ok(())
    }
}
