//! `pckbd`: the i8042 keyboard controller (QEMU 7.2 `hw/input/pckbd.c`;
//! the section is `vmstate_kbd_isa`, which wraps `vmstate_kbd`).
//!
//! Constructs shown:
//! * a section whose only field is a nested struct with the **same
//!   description name** (`pckbd` inside `pckbd`), saved at its own version;
//! * subsections inside the nested struct, one named with the parent's
//!   prefix and no `/` (`pckbd_outport`);
//! * hooks on three levels that cooperate through fields that are not on
//!   the wire (`skip`): the parent's `pre_load` clears "loaded" flags, each
//!   subsection's `post_load` sets its own, and the parent's `post_load`
//!   supplies the defaults of the subsections that did not come;
//! * `pre_save` hooks that compute wire fields from device state
//!   (`pending_tmp` from `pending`, `migration_flags` from the throttle
//!   timer).

use std::convert::Infallible;

use vmstate_core::VmState;

/// Status: output buffer full.
pub const KBD_STAT_OBF: u8 = 0x01;
/// Status: the output buffer holds mouse data.
pub const KBD_STAT_MOUSE_OBF: u8 = 0x20;
/// Status after reset: command/data flag and keyboard unlocked.
pub const KBD_STAT_RESET: u8 = 0x08 | 0x10;
/// Mode after reset: keyboard and mouse interrupts enabled.
pub const KBD_MODE_RESET: u8 = 0x01 | 0x02;

const KBD_OUT_RESET: u8 = 0x01;
const KBD_OUT_A20: u8 = 0x02;
const KBD_OUT_OBF: u8 = 0x10;
const KBD_OUT_MOUSE_OBF: u8 = 0x20;
const KBD_OUT_ONES: u8 = 0xcc;

/// `pending` bits as older QEMUs sent them.
const KBD_PENDING_KBD_COMPAT: u8 = 0x01;
const KBD_PENDING_AUX_COMPAT: u8 = 0x02;
const KBD_PENDING_CTRL_KBD: u8 = 0x04;
const KBD_PENDING_CTRL_AUX: u8 = 0x08;
const KBD_PENDING_KBD: u8 = 0x10;
const KBD_PENDING_AUX: u8 = 0x20;

/// `migration_flags`: the throttle timer was running.
pub const KBD_MIGR_TIMER_PENDING: u32 = 0x1;
/// `obsrc`: the output byte came from the keyboard.
pub const KBD_OBSRC_KBD: u32 = 0x01;
/// `obsrc`: the output byte came from the mouse.
pub const KBD_OBSRC_MOUSE: u32 = 0x02;

/// Section `pckbd` (`vmstate_kbd_isa`, version 3, minimum 3).
///
/// ```
/// use vmstate_core::{Context, VmState};
/// use vmstate_qemu::pckbd::KbdIsa;
///
/// let mut dev = KbdIsa::default();
/// let bytes = dev.to_bytes(&Context::new()).unwrap();
/// // write_cmd, status, mode, pending_tmp, then `pckbd/extended_state`.
/// assert_eq!(&bytes[..6], &[0x00, 0x18, 0x03, 0x00, 0x05, 20]);
/// assert_eq!(&bytes[6..26], b"pckbd/extended_state");
/// ```
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "pckbd", version = 3, minimum_version = 3)]
pub struct KbdIsa {
    /// The controller state (`VMSTATE_STRUCT(kbd, ..., 0, vmstate_kbd,
    /// KBDState)`).
    pub kbd: Kbd,
}

/// `vmstate_kbd` ("pckbd", version 3, minimum 3).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "pckbd",
    version = 3,
    minimum_version = 3,
    pre_save = Self::pre_save,
    pre_load = Self::pre_load,
    post_load = Self::post_load
)]
pub struct Kbd {
    /// Command byte waiting for its data byte.
    pub write_cmd: u8,
    /// Status register.
    pub status: u8,
    /// Controller command byte (mode).
    pub mode: u8,
    /// `pending` as sent (computed by `pre_save`).
    pub pending_tmp: u8,
    /// Subsection `pckbd_outport`: sent when the output port differs from
    /// what the status implies.
    #[vmstate(subsection, needed = Self::outport_needed)]
    pub outport: KbdOutport,
    /// Subsection `pckbd/extended_state`: sent when the `extended-state`
    /// property is on.
    #[vmstate(subsection, needed = Self::extended_state_needed)]
    pub ext: KbdExtendedState,
    /// Pending interrupt sources (`KBD_PENDING_*`); not on the wire.
    #[vmstate(skip)]
    pub pending: u8,
    /// The `extended-state` property: true from QEMU 6.2 machine types on.
    #[vmstate(skip)]
    pub extended_state: bool,
}

impl Default for Kbd {
    /// The state after `kbd_reset` on a `pc-i440fx-7.2`.
    fn default() -> Self {
        Kbd {
            write_cmd: 0,
            status: KBD_STAT_RESET,
            mode: KBD_MODE_RESET,
            pending_tmp: 0,
            outport: KbdOutport {
                outport: outport_default(KBD_STAT_RESET),
                present: false,
            },
            ext: KbdExtendedState::default(),
            pending: 0,
            extended_state: true,
        }
    }
}

/// `kbd_outport_default`: the output port value that the status implies.
pub fn outport_default(status: u8) -> u8 {
    let mut v = KBD_OUT_RESET | KBD_OUT_A20 | KBD_OUT_ONES;
    if status & KBD_STAT_OBF != 0 {
        v |= KBD_OUT_OBF;
    }
    if status & KBD_STAT_MOUSE_OBF != 0 {
        v |= KBD_OUT_MOUSE_OBF;
    }
    v
}

impl Kbd {
    /// `kbd_outport_needed`.
    #[inline]
    fn outport_needed(&self) -> bool {
        self.outport.outport != outport_default(self.status)
    }

    /// `kbd_extended_state_needed`: just the property.
    #[inline]
    fn extended_state_needed(&self) -> bool {
        self.extended_state
    }

    /// `kbd_pre_save`: with the extended state `pending` goes as is;
    /// without it only its two old bits can be expressed.
    #[inline]
    fn pre_save(&mut self) -> Result<(), Infallible> {
        if self.extended_state {
            self.pending_tmp = self.pending;
        } else {
            self.pending_tmp = 0;
            if self.pending & KBD_PENDING_KBD != 0 {
                self.pending_tmp |= KBD_PENDING_KBD_COMPAT;
            }
            if self.pending & KBD_PENDING_AUX != 0 {
                self.pending_tmp |= KBD_PENDING_AUX_COMPAT;
            }
        }
        Ok(())
    }

    /// `kbd_pre_load`.
    #[inline]
    fn pre_load(&mut self) -> Result<(), Infallible> {
        self.outport.present = false;
        self.ext.loaded = false;
        Ok(())
    }

    /// `kbd_post_load`: defaults for absent subsections, then `pending`
    /// from its wire form.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), Infallible> {
        if !self.outport.present {
            self.outport.outport = outport_default(self.status);
        }
        self.pending = self.pending_tmp;
        if !self.ext.loaded {
            self.ext.obsrc = if self.status & KBD_STAT_OBF == 0 {
                0
            } else if self.status & KBD_STAT_MOUSE_OBF != 0 {
                KBD_OBSRC_MOUSE
            } else {
                KBD_OBSRC_KBD
            };
            if self.pending & KBD_PENDING_KBD_COMPAT != 0 {
                self.pending |= KBD_PENDING_KBD;
            }
            if self.pending & KBD_PENDING_AUX_COMPAT != 0 {
                self.pending |= KBD_PENDING_AUX;
            }
        }
        self.pending &=
            KBD_PENDING_CTRL_KBD | KBD_PENDING_CTRL_AUX | KBD_PENDING_KBD | KBD_PENDING_AUX;
        Ok(())
    }
}

/// Subsection `pckbd_outport` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(
    name = "pckbd_outport",
    version = 1,
    minimum_version = 1,
    post_load = Self::post_load
)]
pub struct KbdOutport {
    /// The controller's output port (A20, reset, buffer-full lines).
    pub outport: u8,
    /// QEMU's `outport_present`: this subsection was loaded.
    #[vmstate(skip)]
    pub present: bool,
}

impl KbdOutport {
    /// `kbd_outport_post_load`.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), Infallible> {
        self.present = true;
        Ok(())
    }
}

/// Subsection `pckbd/extended_state` (version 0).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(
    name = "pckbd/extended_state",
    version = 0,
    pre_save = Self::pre_save,
    post_load = Self::post_load
)]
pub struct KbdExtendedState {
    /// `KBD_MIGR_*` flags (computed by `pre_save`).
    pub migration_flags: u32,
    /// Source of the byte in the output buffer (`KBD_OBSRC_*`).
    pub obsrc: u32,
    /// The byte in the output buffer.
    pub obdata: u8,
    /// Controller-generated byte.
    pub cbdata: u8,
    /// Whether the keyboard throttle timer is running; not on the wire.
    #[vmstate(skip)]
    pub throttle_timer_pending: bool,
    /// Set by a load whose flags said the timer was running: QEMU then
    /// runs the throttle timeout at once instead of re-arming the timer.
    #[vmstate(skip)]
    pub throttle_timeout_due: bool,
    /// QEMU's `extended_state_loaded`.
    #[vmstate(skip)]
    pub loaded: bool,
}

impl KbdExtendedState {
    /// `kbd_extended_state_pre_save`.
    #[inline]
    fn pre_save(&mut self) -> Result<(), Infallible> {
        self.migration_flags = 0;
        if self.throttle_timer_pending {
            self.migration_flags |= KBD_MIGR_TIMER_PENDING;
        }
        Ok(())
    }

    /// `kbd_extended_state_post_load`.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), Infallible> {
        self.throttle_timeout_due = self.migration_flags & KBD_MIGR_TIMER_PENDING != 0;
        self.loaded = true;
        Ok(())
    }
}
