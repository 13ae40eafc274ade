//! `ps2kbd` and `ps2mouse`: the PS/2 keyboard and mouse behind the i8042
//! (QEMU 7.2 `hw/input/ps2.c`: `vmstate_ps2_keyboard`,
//! `vmstate_ps2_mouse` and their common part `vmstate_ps2_common`).
//!
//! Constructs shown:
//! * a **`buffer`** inside a nested struct (`queue.data`, 256 raw bytes
//!   of the device's byte queue), and `rename` for QEMU's dotted names of
//!   a C sub-struct's members (`queue.rptr`);
//! * one nested description (`PS2 Common State`) shared by two sections;
//! * a subsection whose only field belongs, in QEMU, to the *nested*
//!   common state (`parent_obj.queue.cwptr`): the mirror keeps it in the
//!   subsection and hands it to the common `post_load` logic, which the
//!   parent's `post_load` runs after the subsections;
//! * a `post_load` that sanitises wire fields (the queue pointers and
//!   count, clamped and recomputed as QEMU does), so that a load followed
//!   by a save gives QEMU's bytes, and a version-2 default
//!   (`scancode_set`).

use vmstate_core::VmState;

/// `PS2_BUFFER_SIZE`: bytes in a PS/2 device's queue ring.
pub const PS2_BUFFER_SIZE: usize = 256;
/// `PS2_QUEUE_SIZE`: queued scancode bytes the protocol allows.
pub const PS2_QUEUE_SIZE: i32 = 16;
/// `PS2_QUEUE_HEADROOM`: room kept for command replies.
pub const PS2_QUEUE_HEADROOM: i32 = 8;

/// `vmstate_ps2_common` ("PS2 Common State", version 3, minimum 2): the
/// command being processed and the output queue.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "PS2 Common State", version = 3, minimum_version = 2)]
pub struct Ps2Common {
    /// The command byte awaiting its argument (-1: none).
    pub write_cmd: i32,
    /// Queue read index.
    #[vmstate(rename = "queue.rptr")]
    pub rptr: i32,
    /// Queue write index.
    #[vmstate(rename = "queue.wptr")]
    pub wptr: i32,
    /// Bytes in the queue.
    #[vmstate(rename = "queue.count")]
    pub count: i32,
    /// The queue ring (`VMSTATE_BUFFER`).
    #[vmstate(buffer, rename = "queue.data")]
    pub data: [u8; PS2_BUFFER_SIZE],
}

impl Default for Ps2Common {
    /// After `ps2_common_reset`: no command, an empty queue.
    fn default() -> Self {
        Ps2Common {
            write_cmd: -1,
            rptr: 0,
            wptr: 0,
            count: 0,
            data: [0; PS2_BUFFER_SIZE],
        }
    }
}

impl Ps2Common {
    /// `ps2_common_post_load`: bounds the queue (command replies to
    /// [`PS2_QUEUE_HEADROOM`], scancodes to [`PS2_QUEUE_SIZE`]) and
    /// recomputes the write pointers from the read pointer. `cwptr` is
    /// the command-reply write pointer (-1: no replies queued).
    pub fn sanitize_queue(&mut self, cwptr: &mut i32) {
        const MASK: i32 = PS2_BUFFER_SIZE as i32 - 1;
        let ccount = if *cwptr == -1 {
            0
        } else {
            (cwptr.wrapping_sub(self.rptr) & MASK).min(PS2_QUEUE_HEADROOM)
        };
        if self.count < ccount {
            self.count = ccount;
        } else if self.count > ccount + PS2_QUEUE_SIZE {
            self.count = ccount + PS2_QUEUE_SIZE;
        }
        self.rptr &= MASK;
        self.wptr = self.rptr.wrapping_add(self.count) & MASK;
        *cwptr = if ccount != 0 {
            self.rptr.wrapping_add(ccount) & MASK
        } else {
            -1
        };
    }
}

/// Section `ps2kbd` (`vmstate_ps2_keyboard`, version 3, minimum 2).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "ps2kbd",
    version = 3,
    minimum_version = 2,
    post_load = Self::post_load
)]
pub struct Ps2Kbd {
    /// The common PS/2 state.
    pub parent_obj: Ps2Common,
    /// Scanning enabled (`F4`/`F5` commands).
    pub scan_enabled: i32,
    /// Translate set-2 scancodes to set 1 (the i8042's translation).
    pub translate: i32,
    /// Scancode set 1, 2 or 3; from version 3 (version 2 meant set 2).
    #[vmstate(version = 3)]
    pub scancode_set: i32,
    /// Subsection `ps2kbd/ledstate`.
    #[vmstate(subsection, needed = Self::ledstate_needed)]
    pub ledstate: Ps2KbdLedstate,
    /// Subsection `ps2kbd/need_high_bit`.
    #[vmstate(subsection, needed = Self::need_high_bit_needed)]
    pub need_high_bit: Ps2KbdNeedHighBit,
    /// Subsection `ps2kbd/command_reply_queue`.
    #[vmstate(subsection, needed = Self::cqueue_needed)]
    pub cqueue: Ps2KbdCommandReplyQueue,
}

impl Default for Ps2Kbd {
    /// After `ps2_kbd_reset`: scanning on, scancode set 2.
    fn default() -> Self {
        Ps2Kbd {
            parent_obj: Ps2Common::default(),
            scan_enabled: 1,
            translate: 0,
            scancode_set: 2,
            ledstate: Ps2KbdLedstate::default(),
            need_high_bit: Ps2KbdNeedHighBit::default(),
            cqueue: Ps2KbdCommandReplyQueue::default(),
        }
    }
}

impl Ps2Kbd {
    /// `ps2_keyboard_ledstate_needed`.
    #[inline]
    fn ledstate_needed(&self) -> bool {
        self.ledstate.ledstate != 0
    }

    /// `ps2_keyboard_need_high_bit_needed`.
    #[inline]
    fn need_high_bit_needed(&self) -> bool {
        self.need_high_bit.need_high_bit
    }

    /// `ps2_keyboard_cqueue_needed`: command replies are queued.
    #[inline]
    fn cqueue_needed(&self) -> bool {
        self.cqueue.cwptr != -1
    }

    /// `ps2_kbd_post_load`.
    #[inline]
    fn post_load(&mut self, version: u32) -> Result<(), &'static str> {
        if version == 2 {
            self.scancode_set = 2;
        }
        self.parent_obj.sanitize_queue(&mut self.cqueue.cwptr);
        Ok(())
    }
}

/// Subsection `ps2kbd/ledstate` (version 3, minimum 2).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ps2kbd/ledstate", version = 3, minimum_version = 2)]
pub struct Ps2KbdLedstate {
    /// The keyboard LEDs (scroll, num, caps lock bits).
    pub ledstate: i32,
}

/// Subsection `ps2kbd/need_high_bit` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ps2kbd/need_high_bit", version = 1, minimum_version = 1)]
pub struct Ps2KbdNeedHighBit {
    /// A set-1 `E0`-prefixed key release is half sent.
    pub need_high_bit: bool,
}

/// Subsection `ps2kbd/command_reply_queue` (version 0).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ps2kbd/command_reply_queue", version = 0)]
pub struct Ps2KbdCommandReplyQueue {
    /// The command-reply write pointer of the common queue (-1: no
    /// replies queued). QEMU keeps it in the common state; only the
    /// keyboard sends it.
    #[vmstate(rename = "parent_obj.queue.cwptr")]
    pub cwptr: i32,
}

impl Default for Ps2KbdCommandReplyQueue {
    fn default() -> Self {
        Ps2KbdCommandReplyQueue { cwptr: -1 }
    }
}

/// Section `ps2mouse` (`vmstate_ps2_mouse`, version 2, minimum 2).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "ps2mouse",
    version = 2,
    minimum_version = 2,
    post_load = Self::post_load
)]
pub struct Ps2Mouse {
    /// The common PS/2 state.
    pub parent_obj: Ps2Common,
    /// Status byte (stream mode, enable, scaling, buttons).
    pub mouse_status: u8,
    /// Resolution code.
    pub mouse_resolution: u8,
    /// Samples per second.
    pub mouse_sample_rate: u8,
    /// Wrap (echo) mode.
    pub mouse_wrap: u8,
    /// 0: PS/2, 3: IntelliMouse, 4: Explorer.
    pub mouse_type: u8,
    /// Progress through the magic sample-rate sequences.
    pub mouse_detect_state: u8,
    /// Pending X motion.
    pub mouse_dx: i32,
    /// Pending Y motion.
    pub mouse_dy: i32,
    /// Pending wheel motion.
    pub mouse_dz: i32,
    /// Buttons held.
    pub mouse_buttons: u8,
    /// The command-reply write pointer of the common queue; not sent for
    /// the mouse, so a load sanitises the queue with the destination's.
    #[vmstate(skip)]
    pub cwptr: i32,
}

impl Default for Ps2Mouse {
    /// After `ps2_mouse_reset`: everything 0.
    fn default() -> Self {
        Ps2Mouse {
            parent_obj: Ps2Common::default(),
            mouse_status: 0,
            mouse_resolution: 0,
            mouse_sample_rate: 0,
            mouse_wrap: 0,
            mouse_type: 0,
            mouse_detect_state: 0,
            mouse_dx: 0,
            mouse_dy: 0,
            mouse_dz: 0,
            mouse_buttons: 0,
            cwptr: -1,
        }
    }
}

impl Ps2Mouse {
    /// `ps2_mouse_post_load`.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), &'static str> {
        self.parent_obj.sanitize_queue(&mut self.cwptr);
        Ok(())
    }
}
