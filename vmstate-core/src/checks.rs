//! Load-time value checks: QEMU's `*_EQUAL` infos and `INT32_POSITIVE_LE`.

use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::field::VmField;
use crate::stream::{Reader, Source};

/// An integer type QEMU has an `_EQUAL` info for. The loaded value must
/// equal the destination's current value, and is not stored.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no QEMU `equal` codec",
    label = "`equal` is not available for this type",
    note = "QEMU has equal codecs for u8, u16, u32, u64 and i32 only"
)]
pub trait EqualField: VmField + Copy + PartialEq {
    /// QEMU's type name (`uint32 equal`; u64 is QEMU's `int64 equal`, sic).
    const EQUAL_INFO: &'static str;
    /// The value for error messages.
    fn to_i128(self) -> i128;

    /// Loads a value that must equal `cur` (the destination's); it is not
    /// stored. Errors show both values and `hint`.
    fn load_equal<S: Source>(
        cur: &Self,
        r: &mut Reader<S>,
        ctx: &Context,
        hint: Option<&'static str>,
    ) -> Result<()>
    where
        Self: Default,
    {
        let at = r.offset();
        let mut v = Self::default();
        v.load(r, ctx)?;
        if v != *cur {
            return Err(Error::new(
                ErrorKind::NotEqual {
                    expected: cur.to_i128(),
                    found: v.to_i128(),
                    hint,
                },
                at,
            ));
        }
        Ok(())
    }
}

/// An integer type QEMU has a positive-less-or-equal info for.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no QEMU `positive_le` codec",
    label = "`positive_le` needs an i32 field",
    note = "QEMU's `int32 le` (VMSTATE_INT32_POSITIVE_LE) exists for i32 only"
)]
pub trait PositiveLeField: VmField + Copy + PartialOrd {
    /// QEMU's type name (`int32 le`: *less or equal*, not little-endian).
    const LE_INFO: &'static str;
    /// Zero of the type.
    const ZERO: Self;
    /// The value for error messages.
    fn to_i128(self) -> i128;

    /// Loads a value that must satisfy `0 <= v <= *cur`, then stores it.
    fn load_positive_le<S: Source>(cur: &mut Self, r: &mut Reader<S>, ctx: &Context) -> Result<()>
    where
        Self: Default,
    {
        let at = r.offset();
        let mut v = Self::default();
        v.load(r, ctx)?;
        if v < Self::ZERO || v > *cur {
            return Err(Error::new(
                ErrorKind::OutOfRange {
                    found: v.to_i128(),
                    min: 0,
                    max: cur.to_i128(),
                },
                at,
            ));
        }
        *cur = v;
        Ok(())
    }
}

macro_rules! equal {
    ($($t:ty => $name:literal),*) => {$(
        impl EqualField for $t {
            const EQUAL_INFO: &'static str = $name;
            fn to_i128(self) -> i128 { self as i128 }
        }
    )*};
}
equal!(u8 => "uint8 equal", u16 => "uint16 equal", u32 => "uint32 equal",
       u64 => "int64 equal", i32 => "int32 equal");

impl PositiveLeField for i32 {
    const LE_INFO: &'static str = "int32 le";
    const ZERO: i32 = 0;
    fn to_i128(self) -> i128 {
        self as i128
    }
}
