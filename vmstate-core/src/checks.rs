//! Load-time value checks: QEMU's `*_EQUAL` infos and `INT32_POSITIVE_LE`.

use crate::field::VmField;

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
