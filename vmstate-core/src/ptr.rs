//! Pointer values for `#[vmstate(void_ptr)]` and
//! `#[vmstate(u64_from_ptr = ...)]`.
//!
//! Only the address travels, as be64 on every host. The target is never
//! read, and a loaded pointer is rebuilt from the address alone: it carries
//! no provenance and the framework never dereferences it. What the old
//! address means is the device's business (e.g. iommufd's DMA mapping id
//! in QEMU's CPR work).

use std::ptr::NonNull;

use crate::error::ErrorKind;

/// A raw pointer type whose address can be migrated.
///
/// Implemented for `*mut T`, `*const T`, `NonNull<T>` and
/// `Option<NonNull<T>>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a raw pointer type",
    label = "void_ptr and u64_from_ptr need a pointer here",
    note = "use *mut T, *const T, NonNull<T> or Option<NonNull<T>>"
)]
pub trait VoidPtr: Sized {
    /// The address, zero-extended to 64 bits.
    fn addr_u64(&self) -> u64;

    /// A pointer holding `addr` and nothing else (no provenance).
    fn from_addr_u64(addr: u64) -> Result<Self, ErrorKind>;
}

fn to_usize(addr: u64) -> Result<usize, ErrorKind> {
    usize::try_from(addr).map_err(|_| ErrorKind::PointerTooWide { found: addr })
}

impl<T> VoidPtr for *mut T {
    fn addr_u64(&self) -> u64 {
        self.addr() as u64
    }
    fn from_addr_u64(addr: u64) -> Result<Self, ErrorKind> {
        Ok(std::ptr::without_provenance_mut(to_usize(addr)?))
    }
}

impl<T> VoidPtr for *const T {
    fn addr_u64(&self) -> u64 {
        self.addr() as u64
    }
    fn from_addr_u64(addr: u64) -> Result<Self, ErrorKind> {
        Ok(std::ptr::without_provenance(to_usize(addr)?))
    }
}

impl<T> VoidPtr for Option<NonNull<T>> {
    fn addr_u64(&self) -> u64 {
        self.map_or(0, |p| p.as_ptr().addr() as u64)
    }
    fn from_addr_u64(addr: u64) -> Result<Self, ErrorKind> {
        Ok(NonNull::new(std::ptr::without_provenance_mut(to_usize(
            addr,
        )?)))
    }
}

impl<T> VoidPtr for NonNull<T> {
    fn addr_u64(&self) -> u64 {
        self.as_ptr().addr() as u64
    }
    fn from_addr_u64(addr: u64) -> Result<Self, ErrorKind> {
        Option::<NonNull<T>>::from_addr_u64(addr)?.ok_or(ErrorKind::NullPointer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_address_only() {
        let p = std::ptr::without_provenance_mut::<u32>(0x7f00_dead_b000);
        let back = <*mut u32>::from_addr_u64(p.addr_u64()).unwrap();
        assert_eq!(back.addr(), 0x7f00_dead_b000);
        assert!(matches!(
            NonNull::<u8>::from_addr_u64(0),
            Err(ErrorKind::NullPointer)
        ));
        assert_eq!(Option::<NonNull<u8>>::from_addr_u64(0).unwrap(), None);
    }

    #[cfg(target_pointer_width = "32")]
    #[test]
    fn too_wide_on_32_bit() {
        assert!(<*const u8>::from_addr_u64(1 << 40).is_err());
    }
}
