//! `serial`: a 16550A UART on the ISA bus (QEMU 7.2 `hw/char/serial.c`,
//! `vmstate_serial`, wrapped by `hw/char/serial-isa.c`'s
//! `vmstate_isa_serial`; device `isa-serial`).
//!
//! Constructs shown:
//! * a section that wraps a nested struct of the same name, saved at the
//!   nested struct's own version;
//! * fields gated by `version = 2` and `version = 3` below a minimum of 2;
//! * `pre_load` that sets "absent" markers (-1) for subsections, and a
//!   `post_load` that derives what absent subsections stand for;
//! * a **`post_load` check** that rejects inconsistent state, as QEMU's
//!   does (`tsr_retry` against `LSR.TEMT`), and clamps a value;
//! * [`Timer`] fields in subsections, one `needed` by "timer armed";
//! * the FIFOs, sent only when not empty: a nested [`Fifo8`] (a struct
//!   field from version 1) whose data is a **variable buffer** sized by
//!   the FIFO's capacity (`vbuffer`).

use vmstate_core::types::Timer;
use vmstate_core::VmState;

use crate::fifo8::Fifo8;

/// `UART_IER_THRI`: transmitter-holding-register-empty interrupt enable.
pub const UART_IER_THRI: u8 = 0x02;
/// `UART_IIR_ID`: the interrupt-id bits of IIR.
pub const UART_IIR_ID: u8 = 0x06;
/// `UART_IIR_THRI`: "THR empty" interrupt id.
pub const UART_IIR_THRI: u8 = 0x02;
/// `UART_IIR_FE`: FIFOs enabled (IIR bits 6-7).
pub const UART_IIR_FE: u8 = 0xc0;
/// `UART_LSR_TEMT`: transmitter empty.
pub const UART_LSR_TEMT: u8 = 0x40;
/// `UART_FCR_FE`: FIFO enable.
pub const UART_FCR_FE: u8 = 0x01;
/// `UART_FIFO_LENGTH`: bytes in each FIFO of a 16550A.
pub const UART_FIFO_LENGTH: u32 = 16;
/// `MAX_XMIT_RETRY`.
pub const MAX_XMIT_RETRY: u32 = 4;

/// Section `serial` (`vmstate_isa_serial`, version 3, minimum 2).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "serial", version = 3, minimum_version = 2)]
pub struct IsaSerial {
    /// The UART (`VMSTATE_STRUCT(state, ISASerialState, 0, vmstate_serial,
    /// SerialState)`).
    pub state: Serial,
}

/// Why a loaded UART state was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InconsistentSerial {
    /// QEMU's wording of the inconsistency.
    pub message: String,
}

impl std::fmt::Display for InconsistentSerial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "inconsistent state in serial device ({})", self.message)
    }
}

impl std::error::Error for InconsistentSerial {}

/// `vmstate_serial` ("serial", version 3, minimum 2).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "serial",
    version = 3,
    minimum_version = 2,
    pre_save = Self::pre_save,
    pre_load = Self::pre_load,
    post_load = Self::post_load
)]
pub struct Serial {
    /// Baud-rate divisor latch.
    #[vmstate(version = 2)]
    pub divider: u16,
    /// Receiver buffer register.
    pub rbr: u8,
    /// Interrupt enable register.
    pub ier: u8,
    /// Interrupt identification register.
    pub iir: u8,
    /// Line control register.
    pub lcr: u8,
    /// Modem control register.
    pub mcr: u8,
    /// Line status register.
    pub lsr: u8,
    /// Modem status register.
    pub msr: u8,
    /// Scratch register.
    pub scr: u8,
    /// FIFO control register as sent (computed by `pre_save`), from
    /// version 3.
    #[vmstate(version = 3)]
    pub fcr_vmstate: u8,
    /// Subsection `serial/thr_ipending`.
    #[vmstate(subsection, needed = Self::thr_ipending_needed)]
    pub thr_ipending: SerialThrIpending,
    /// Subsection `serial/tsr`.
    #[vmstate(subsection, needed = Self::tsr_needed)]
    pub tsr: SerialTsr,
    /// Subsection `serial/recv_fifo`.
    #[vmstate(subsection, needed = Self::recv_fifo_needed)]
    pub recv_fifo: SerialRecvFifo,
    /// Subsection `serial/xmit_fifo`.
    #[vmstate(subsection, needed = Self::xmit_fifo_needed)]
    pub xmit_fifo: SerialXmitFifo,
    /// Subsection `serial/fifo_timeout_timer`.
    #[vmstate(subsection, needed = Self::fifo_timeout_timer_needed)]
    pub fifo_timeout_timer: SerialFifoTimeoutTimer,
    /// Subsection `serial/timeout_ipending`.
    #[vmstate(subsection, needed = Self::timeout_ipending_needed)]
    pub timeout_ipending: SerialTimeoutIpending,
    /// Subsection `serial/poll`.
    #[vmstate(subsection, needed = Self::poll_needed)]
    pub poll: SerialPoll,
    /// The FIFO control register; not on the wire as such.
    #[vmstate(skip)]
    pub fcr: u8,
}

impl Default for Serial {
    /// The state after `serial_reset` (divisor 0x0c: 9600 baud; THR and
    /// transmitter empty; DCD, DSR, CTS asserted).
    fn default() -> Self {
        Serial {
            divider: 0x0c,
            rbr: 0,
            ier: 0,
            iir: 0x01,
            lcr: 0,
            mcr: 0x08,
            lsr: 0x60,
            msr: 0xb0,
            scr: 0,
            fcr_vmstate: 0,
            thr_ipending: SerialThrIpending::default(),
            tsr: SerialTsr::default(),
            recv_fifo: SerialRecvFifo::default(),
            xmit_fifo: SerialXmitFifo::default(),
            fifo_timeout_timer: SerialFifoTimeoutTimer::default(),
            timeout_ipending: SerialTimeoutIpending::default(),
            poll: SerialPoll::default(),
            fcr: 0,
        }
    }
}

impl Serial {
    /// The value of `thr_ipending` that IIR implies.
    fn expected_thr_ipending(&self) -> i32 {
        i32::from(self.iir & UART_IIR_ID == UART_IIR_THRI)
    }

    /// `serial_thr_ipending_needed`: only with the THRI interrupt enabled,
    /// and only when IIR does not already say it.
    #[inline]
    fn thr_ipending_needed(&self) -> bool {
        self.ier & UART_IER_THRI != 0
            && self.thr_ipending.thr_ipending != self.expected_thr_ipending()
    }

    /// `serial_tsr_needed`.
    #[inline]
    fn tsr_needed(&self) -> bool {
        self.tsr.tsr_retry != 0
    }

    /// `serial_recv_fifo_needed`: the receive FIFO holds data.
    #[inline]
    fn recv_fifo_needed(&self) -> bool {
        !self.recv_fifo.recv_fifo.is_empty()
    }

    /// `serial_xmit_fifo_needed`: the transmit FIFO holds data.
    #[inline]
    fn xmit_fifo_needed(&self) -> bool {
        !self.xmit_fifo.xmit_fifo.is_empty()
    }

    /// `serial_fifo_timeout_timer_needed`: the timer is armed.
    #[inline]
    fn fifo_timeout_timer_needed(&self) -> bool {
        self.fifo_timeout_timer.fifo_timeout_timer.is_armed()
    }

    /// `serial_timeout_ipending_needed`.
    #[inline]
    fn timeout_ipending_needed(&self) -> bool {
        self.timeout_ipending.timeout_ipending != 0
    }

    /// `serial_poll_needed`.
    #[inline]
    fn poll_needed(&self) -> bool {
        self.poll.poll_msl >= 0
    }

    /// `serial_pre_save`.
    #[inline]
    fn pre_save(&mut self) -> Result<(), InconsistentSerial> {
        self.fcr_vmstate = self.fcr;
        Ok(())
    }

    /// `serial_pre_load`: -1 marks "subsection absent".
    #[inline]
    fn pre_load(&mut self) -> Result<(), InconsistentSerial> {
        self.thr_ipending.thr_ipending = -1;
        self.poll.poll_msl = -1;
        Ok(())
    }

    /// `serial_post_load`, including its consistency check between the
    /// `serial/tsr` subsection and `LSR.TEMT`.
    #[inline]
    fn post_load(&mut self, version: u32) -> Result<(), InconsistentSerial> {
        if version < 3 {
            self.fcr_vmstate = 0;
        }
        if self.thr_ipending.thr_ipending == -1 {
            self.thr_ipending.thr_ipending = self.expected_thr_ipending();
        }
        let temt = self.lsr & UART_LSR_TEMT != 0;
        if self.tsr.tsr_retry > 0 {
            if temt {
                return Err(InconsistentSerial {
                    message: format!("tsr empty, tsr_retry={}", self.tsr.tsr_retry),
                });
            }
            self.tsr.tsr_retry = self.tsr.tsr_retry.min(MAX_XMIT_RETRY);
        } else if !temt {
            return Err(InconsistentSerial {
                message: "tsr not empty, tsr_retry=0".to_owned(),
            });
        }
        // `serial_write_fcr`: the FIFO-enable bit shows in IIR.
        self.fcr = self.fcr_vmstate;
        if self.fcr & UART_FCR_FE != 0 {
            self.iir |= UART_IIR_FE;
        } else {
            self.iir &= !UART_IIR_FE;
        }
        Ok(())
    }
}

/// Subsection `serial/thr_ipending` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "serial/thr_ipending", version = 1, minimum_version = 1)]
pub struct SerialThrIpending {
    /// "THR empty" interrupt pending.
    pub thr_ipending: i32,
}

/// Subsection `serial/tsr` (version 1): a transmission being retried.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "serial/tsr", version = 1, minimum_version = 1)]
pub struct SerialTsr {
    /// Retries of the byte in the transmit shift register.
    pub tsr_retry: u32,
    /// Transmitter holding register.
    pub thr: u8,
    /// Transmit shift register.
    pub tsr: u8,
}

/// Subsection `serial/recv_fifo` (version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "serial/recv_fifo", version = 1, minimum_version = 1)]
pub struct SerialRecvFifo {
    /// The receive FIFO (`VMSTATE_STRUCT(recv_fifo, ..., 1, vmstate_fifo8,
    /// Fifo8)`).
    #[vmstate(version = 1)]
    pub recv_fifo: Fifo8,
}

impl Default for SerialRecvFifo {
    fn default() -> Self {
        SerialRecvFifo {
            recv_fifo: Fifo8::new(UART_FIFO_LENGTH),
        }
    }
}

/// Subsection `serial/xmit_fifo` (version 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "serial/xmit_fifo", version = 1, minimum_version = 1)]
pub struct SerialXmitFifo {
    /// The transmit FIFO.
    #[vmstate(version = 1)]
    pub xmit_fifo: Fifo8,
}

impl Default for SerialXmitFifo {
    fn default() -> Self {
        SerialXmitFifo {
            xmit_fifo: Fifo8::new(UART_FIFO_LENGTH),
        }
    }
}

/// Subsection `serial/fifo_timeout_timer` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "serial/fifo_timeout_timer", version = 1, minimum_version = 1)]
pub struct SerialFifoTimeoutTimer {
    /// The receive FIFO's character-timeout timer.
    pub fifo_timeout_timer: Timer,
}

/// Subsection `serial/timeout_ipending` (version 1).
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "serial/timeout_ipending", version = 1, minimum_version = 1)]
pub struct SerialTimeoutIpending {
    /// Character-timeout interrupt pending.
    pub timeout_ipending: i32,
}

/// Subsection `serial/poll` (version 1): modem-status polling.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "serial/poll", version = 1, minimum_version = 1)]
pub struct SerialPoll {
    /// Poll the modem status lines (-1: the backend cannot).
    pub poll_msl: i32,
    /// The polling timer.
    pub modem_status_poll: Timer,
}

impl Default for SerialPoll {
    fn default() -> Self {
        SerialPoll {
            poll_msl: -1,
            modem_status_poll: Timer::NOT_ARMED,
        }
    }
}
