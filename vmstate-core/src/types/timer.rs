use crate::context::Context;
use crate::error::Result;
use crate::field::VmField;
use crate::stream::{Reader, Sink, Source, Writer};

/// A QEMU timer (`VMSTATE_TIMER`): the absolute expiry time in nanoseconds
/// on the timer's clock as be64, or -1 when the timer is not armed.
///
/// ```
/// use vmstate_core::types::Timer;
/// assert!(!Timer::NOT_ARMED.is_armed());
/// assert_eq!(Timer::armed(5_000).expire_ns(), Some(5_000));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timer {
    /// The raw be64 value: -1 means "not armed".
    pub raw: i64,
}

impl Timer {
    /// A timer that is not armed.
    pub const NOT_ARMED: Timer = Timer { raw: -1 };

    /// A timer armed to fire at `ns`.
    pub const fn armed(ns: i64) -> Self {
        Timer { raw: ns }
    }

    /// Whether the timer is armed.
    pub const fn is_armed(self) -> bool {
        self.raw != -1
    }

    /// The expiry time, if armed.
    pub const fn expire_ns(self) -> Option<i64> {
        if self.is_armed() {
            Some(self.raw)
        } else {
            None
        }
    }
}

impl Default for Timer {
    fn default() -> Self {
        Timer::NOT_ARMED
    }
}

impl VmField for Timer {
    const INFO: &'static str = "timer";
    const ELEM_SIZE: usize = 8;

    #[inline]
    fn save<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        self.raw.save(w, ctx)
    }

    #[inline]
    fn load<S: Source>(&mut self, r: &mut Reader<S>, ctx: &Context) -> Result<()> {
        self.raw.load(r, ctx)
    }

    const FIXED: bool = true;
    const FIXED_SIZE: usize = 8;

    #[inline(always)]
    fn decode_fixed(&mut self, b: &[u8]) -> bool {
        self.raw.decode_fixed(b)
    }

    #[inline(always)]
    fn encode_fixed(&self, b: &mut [u8]) {
        self.raw.encode_fixed(b)
    }
}
