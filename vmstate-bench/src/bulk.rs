//! The bulk structs of benchmark 2: 1 MiB each, as `[u8; 1 Mi]`,
//! `[u32; 256 Ki]` and `[u64; 128 Ki]` fields of derived structs (QEMU's
//! `VMSTATE_BUFFER` / `VMSTATE_UINT32_ARRAY` / `VMSTATE_UINT64_ARRAY`).
//!
//! They are too big for a test thread's stack, so they live in `Box`es
//! made by [`BulkU8::boxed`] and friends, zeroed on the heap.

use vmstate_core::VmState;

/// Bytes in every bulk struct.
pub const BULK_BYTES: usize = 1 << 20;

/// 1 MiB of bytes (`VMSTATE_BUFFER`).
#[derive(VmState, Clone)]
#[vmstate(name = "bulk_u8", version = 1)]
pub struct BulkU8 {
    /// The buffer.
    pub data: [u8; BULK_BYTES],
}

/// 256 Ki be32 (`VMSTATE_UINT32_ARRAY`).
#[derive(VmState, Clone)]
#[vmstate(name = "bulk_u32", version = 1)]
pub struct BulkU32 {
    /// The array.
    pub data: [u32; BULK_BYTES / 4],
}

/// 128 Ki be64 (`VMSTATE_UINT64_ARRAY`).
#[derive(VmState, Clone)]
#[vmstate(name = "bulk_u64", version = 1)]
pub struct BulkU64 {
    /// The array.
    pub data: [u64; BULK_BYTES / 8],
}

macro_rules! boxed {
    ($($t:ident: $e:ty),*) => {$(
        impl $t {
            /// A zeroed value on the heap, never on the stack.
            pub fn boxed() -> Box<Self> {
                let layout = std::alloc::Layout::new::<Self>();
                // SAFETY: the layout is not zero-sized; the struct is one
                // array of integers, for which all-zero bytes are a valid
                // value; the pointer comes from the global allocator with
                // the layout of `Self`, as `Box` requires.
                unsafe {
                    let p = std::alloc::alloc_zeroed(layout).cast::<Self>();
                    if p.is_null() {
                        std::alloc::handle_alloc_error(layout);
                    }
                    Box::from_raw(p)
                }
            }

            /// A value on the heap whose elements follow a fixed
            /// pseudo-random pattern (every byte position differs).
            pub fn boxed_pattern() -> Box<Self> {
                let mut b = Self::boxed();
                let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
                for v in b.data.iter_mut() {
                    // xorshift64
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *v = x as $e;
                }
                b
            }
        }
    )*};
}

boxed!(BulkU8: u8, BulkU32: u32, BulkU64: u64);
