//! Bulk conversion of integer arrays to and from big-endian bytes.
//!
//! The default x86-64 target (SSE2 only) has no byte shuffle, so LLVM
//! vectorizes `to_be_bytes`/`from_be_bytes` loops into long
//! unpack/shuffle/pack sequences (about 0.3x of `memcpy`). With AVX2 the
//! same loops become one `vpshufb` per 32 bytes (SSSE3: `pshufb` per 16).
//! On x86-64 each function therefore checks the CPU at run time (cached by
//! the standard library) and runs a copy of the loop compiled for AVX2,
//! else SSSE3, else the plain one; builds that enable AVX2 statically
//! (`-C target-cpu=...`) skip the check, and other architectures only have
//! the plain loop.
//!
//! Contract, for every function: `src`'s length must be `dst.len()` times
//! the element size. When it is not, only the common prefix (as many whole
//! elements as both sides hold) is converted and the rest of `dst` is left
//! untouched; nothing panics.

// Only the calls of the feature-specific copies, after the feature check,
// need unsafe.
#![deny(unsafe_code)]

/// The integer types converted here (`i8` too, for the library's own
/// generic bulk paths: its "conversion" is a copy).
pub(crate) trait Word: Copy {
    /// Bytes per element.
    const SIZE: usize;
    /// Decodes `b`, which is `SIZE` bytes long (else 0, never reached
    /// through `chunks_exact`, and free of panics).
    fn from_be_slice(b: &[u8]) -> Self;
    /// Encodes `self` into `out`, which is `SIZE` bytes long (else it is
    /// left alone, as above).
    fn write_be(self, out: &mut [u8]);
}

macro_rules! word {
    ($($t:ty),*) => {$(
        impl Word for $t {
            const SIZE: usize = size_of::<$t>();
            #[inline(always)]
            fn from_be_slice(b: &[u8]) -> Self {
                // try_into on a chunks_exact chunk: the failure branch is
                // folded away, leaving a plain vectorizable load.
                match b.try_into() {
                    Ok(a) => <$t>::from_be_bytes(a),
                    Err(_) => 0,
                }
            }
            #[inline(always)]
            fn write_be(self, out: &mut [u8]) {
                if let Ok(a) = <&mut [u8; size_of::<$t>()]>::try_from(out) {
                    *a = self.to_be_bytes();
                }
            }
        }
    )*};
}
word!(i8, u16, u32, u64, i16, i32, i64);

/// The loops themselves, inlined into each compiled copy so that each is
/// vectorized with that copy's instruction set. The library also inlines
/// them directly for short arrays, where the call and the feature check
/// of [`load`]/[`store`] would cost more than they save.
#[inline(always)]
pub(crate) fn load_kernel<T: Word>(dst: &mut [T], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src.chunks_exact(T::SIZE)) {
        *d = T::from_be_slice(s);
    }
}

#[inline(always)]
pub(crate) fn store_kernel<T: Word>(dst: &mut [u8], src: &[T]) {
    for (d, s) in dst.chunks_exact_mut(T::SIZE).zip(src) {
        s.write_be(d);
    }
}

/// Plain copies: SSE2 on the default x86-64 target, or whatever the build
/// enables.
fn load_plain<T: Word>(dst: &mut [T], src: &[u8]) {
    load_kernel(dst, src)
}

fn store_plain<T: Word>(dst: &mut [u8], src: &[T]) {
    store_kernel(dst, src)
}

/// Copies compiled for one x86-64 feature. `unsafe fn` because the
/// crate's MSRV (1.84) predates safe `#[target_feature]` functions; the
/// bodies are the safe kernels.
macro_rules! tier {
    ($feature:literal, $load:ident, $store:ident) => {
        #[doc = concat!("[`load_kernel`] compiled for ", $feature, ".")]
        ///
        /// # Safety
        #[doc = concat!("The CPU must support ", $feature, ".")]
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        #[target_feature(enable = $feature)]
        unsafe fn $load<T: Word>(dst: &mut [T], src: &[u8]) {
            load_kernel(dst, src)
        }

        #[doc = concat!("[`store_kernel`] compiled for ", $feature, ".")]
        ///
        /// # Safety
        #[doc = concat!("The CPU must support ", $feature, ".")]
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        #[target_feature(enable = $feature)]
        unsafe fn $store<T: Word>(dst: &mut [u8], src: &[T]) {
            store_kernel(dst, src)
        }
    };
}
// AVX2: one vpshufb per 32 bytes, the main tier.
tier!("avx2", load_avx2, store_avx2);
// SSSE3 (pshufb, 16 bytes) for CPUs without AVX2 (pre-Haswell, Atom-class
// Pentium/Celeron): forced on the bench machine it ran 2x to 3.7x faster
// than the SSE2 loop (4 KiB and 1 MiB arrays), and at 1 MiB about as fast
// as AVX2 (AVX2 is still 1.3x to 2x faster on 4 KiB).
tier!("ssse3", load_ssse3, store_ssse3);

/// Which copy to run.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) enum Tier {
    Plain,
    Ssse3,
    Avx2,
}

/// Picks the best copy this CPU runs. Detection is at run time (the
/// standard library caches the answer in an atomic: a load and a test per
/// call) for what the build does not enable statically; with AVX2 enabled
/// at build time (`-C target-cpu=...`) the plain copy is AVX2 code
/// already and nothing is checked.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn tier() -> Tier {
    if cfg!(target_feature = "avx2") {
        Tier::Plain
    } else if std::is_x86_feature_detected!("avx2") {
        Tier::Avx2
    } else if !cfg!(target_feature = "ssse3") && std::is_x86_feature_detected!("ssse3") {
        Tier::Ssse3
    } else {
        Tier::Plain
    }
}

/// [`load_kernel`], the best copy for this CPU.
#[inline]
pub(crate) fn load<T: Word>(dst: &mut [T], src: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    match tier() {
        // SAFETY: tier() detected AVX2 on this CPU.
        #[allow(unsafe_code)]
        Tier::Avx2 => unsafe { load_avx2(dst, src) },
        // SAFETY: tier() detected SSSE3 on this CPU.
        #[allow(unsafe_code)]
        Tier::Ssse3 => unsafe { load_ssse3(dst, src) },
        Tier::Plain => load_plain(dst, src),
    }
    #[cfg(not(target_arch = "x86_64"))]
    load_plain(dst, src)
}

/// [`store_kernel`], the best copy for this CPU.
#[inline]
pub(crate) fn store<T: Word>(dst: &mut [u8], src: &[T]) {
    #[cfg(target_arch = "x86_64")]
    match tier() {
        // SAFETY: tier() detected AVX2 on this CPU.
        #[allow(unsafe_code)]
        Tier::Avx2 => unsafe { store_avx2(dst, src) },
        // SAFETY: tier() detected SSSE3 on this CPU.
        #[allow(unsafe_code)]
        Tier::Ssse3 => unsafe { store_ssse3(dst, src) },
        Tier::Plain => store_plain(dst, src),
    }
    #[cfg(not(target_arch = "x86_64"))]
    store_plain(dst, src)
}

macro_rules! api {
    ($($t:ty, $n:literal: $load:ident, $store:ident;)*) => {$(
        #[doc = concat!(
            "Decodes big-endian bytes into `", stringify!($t), "`s: `src.len()` must be ",
            "`dst.len() * ", stringify!($n), "`; on a mismatch only the ",
            "common prefix of whole elements is converted (no panic).",
        )]
        #[inline]
        pub fn $load(dst: &mut [$t], src: &[u8]) {
            load(dst, src)
        }

        #[doc = concat!(
            "Encodes `", stringify!($t), "`s as big-endian bytes: `dst.len()` must be ",
            "`src.len() * ", stringify!($n), "`; on a mismatch only the ",
            "common prefix of whole elements is converted (no panic).",
        )]
        #[inline]
        pub fn $store(dst: &mut [u8], src: &[$t]) {
            store(dst, src)
        }
    )*};
}

api! {
    u16, 2: load_be_u16, store_be_u16;
    u32, 4: load_be_u32, store_be_u32;
    u64, 8: load_be_u64, store_be_u64;
    i16, 2: load_be_i16, store_be_i16;
    i32, 4: load_be_i32, store_be_i32;
    i64, 8: load_be_i64, store_be_i64;
}

#[cfg(test)]
mod tests {
    use super::*;

    type Load<T> = fn(&mut [T], &[u8]);
    type Store<T> = fn(&mut [u8], &[T]);

    /// Every implementation this CPU can run: the dispatched entry point,
    /// the plain loop, and the AVX2 and SSSE3 copies when available.
    fn impls<T: Word>(public: (Load<T>, Store<T>)) -> Vec<(&'static str, Load<T>, Store<T>)> {
        #[allow(unused_mut)]
        let mut v: Vec<(&'static str, Load<T>, Store<T>)> = vec![
            ("dispatched", public.0, public.1),
            ("plain", load_plain::<T>, store_plain::<T>),
        ];
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            #[allow(unsafe_code)]
            fn l<T: Word>(d: &mut [T], s: &[u8]) {
                // SAFETY: only used after AVX2 was detected.
                unsafe { load_avx2(d, s) }
            }
            #[allow(unsafe_code)]
            fn s<T: Word>(d: &mut [u8], s: &[T]) {
                // SAFETY: only used after AVX2 was detected.
                unsafe { store_avx2(d, s) }
            }
            v.push(("avx2", l::<T>, s::<T>));
        }
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("ssse3") {
            #[allow(unsafe_code)]
            fn l<T: Word>(d: &mut [T], s: &[u8]) {
                // SAFETY: only used after SSSE3 was detected.
                unsafe { load_ssse3(d, s) }
            }
            #[allow(unsafe_code)]
            fn s<T: Word>(d: &mut [u8], s: &[T]) {
                // SAFETY: only used after SSSE3 was detected.
                unsafe { store_ssse3(d, s) }
            }
            v.push(("ssse3", l::<T>, s::<T>));
        }
        v
    }

    /// Lengths 0..=300 and a few large ones, at every byte misalignment
    /// 0..8, against per-element `from_be_bytes`/`to_be_bytes`.
    macro_rules! exhaustive {
        ($name:ident, $t:ty, $load:ident, $store:ident) => {
            #[test]
            fn $name() {
                const N: usize = size_of::<$t>();
                let impls = impls::<$t>(($load, $store));
                let lens = (0..=300).chain([1023, 1024, 1025, 4099]);
                for len in lens {
                    // Values with every byte distinct-ish, so a wrong
                    // byte order or element offset shows.
                    let vals: Vec<$t> = (0..len)
                        .map(|i| (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) as $t)
                        .collect();
                    let want: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();
                    for off in 0..8 {
                        for (what, load, store) in &impls {
                            // Store at a misaligned start, guarded by
                            // sentinels either side.
                            let mut buf = vec![0xAAu8; off + len * N + 8];
                            store(&mut buf[off..off + len * N], &vals);
                            assert_eq!(
                                &buf[off..off + len * N],
                                &want[..],
                                "{what} store len {len} off {off}"
                            );
                            assert!(buf[..off]
                                .iter()
                                .chain(&buf[off + len * N..])
                                .all(|&b| b == 0xAA));

                            let mut back: Vec<$t> = vec![0 as $t; len];
                            load(&mut back, &buf[off..off + len * N]);
                            assert_eq!(back, vals, "{what} load len {len} off {off}");
                        }
                    }
                }
            }
        };
    }
    exhaustive!(all_u16, u16, load_be_u16, store_be_u16);
    exhaustive!(all_u32, u32, load_be_u32, store_be_u32);
    exhaustive!(all_u64, u64, load_be_u64, store_be_u64);
    exhaustive!(all_i16, i16, load_be_i16, store_be_i16);
    exhaustive!(all_i32, i32, load_be_i32, store_be_i32);
    exhaustive!(all_i64, i64, load_be_i64, store_be_i64);
    // i8 has no public entry point; the library's generic paths use it.
    exhaustive!(all_i8, i8, load, store);

    #[test]
    fn golden() {
        let mut b = [0u8; 4];
        store_be_u32(&mut b, &[0x0102_0304]);
        assert_eq!(b, [1, 2, 3, 4]);
        let mut v = [0u32; 1];
        load_be_u32(&mut v, &[1, 2, 3, 4]);
        assert_eq!(v, [0x0102_0304]);

        let mut b = [0u8; 4];
        store_be_u16(&mut b, &[0x0102, 0x0304]);
        assert_eq!(b, [1, 2, 3, 4]);
        let mut v = [0u16; 2];
        load_be_u16(&mut v, &[1, 2, 3, 4]);
        assert_eq!(v, [0x0102, 0x0304]);

        let mut b = [0u8; 8];
        store_be_u64(&mut b, &[0x0102_0304_0506_0708]);
        assert_eq!(b, [1, 2, 3, 4, 5, 6, 7, 8]);
        let mut v = [0u64; 1];
        load_be_u64(&mut v, &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(v, [0x0102_0304_0506_0708]);

        let mut b = [0u8; 4];
        store_be_i32(&mut b, &[-2]);
        assert_eq!(b, [0xFF, 0xFF, 0xFF, 0xFE]);
        let mut v = [0i16; 1];
        load_be_i16(&mut v, &[0x80, 0x00]);
        assert_eq!(v, [i16::MIN]);
    }

    /// Mismatched lengths convert the whole elements both sides hold and
    /// leave the rest alone.
    #[test]
    fn mismatch_converts_prefix() {
        for (what, load, store) in impls::<u32>((load_be_u32, store_be_u32)) {
            // Source bytes short by a partial element: 2 whole elements.
            let mut v = [7u32; 4];
            load(&mut v, &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0]);
            assert_eq!(v, [1, 2, 7, 7], "{what}");
            // More source bytes than elements: 1 element.
            let mut v = [7u32; 1];
            load(&mut v, &[0, 0, 0, 1, 0, 0, 0, 2]);
            assert_eq!(v, [1], "{what}");
            // Empty either side.
            load(&mut [], &[1, 2, 3, 4]);
            let mut v = [7u32; 2];
            load(&mut v, &[]);
            assert_eq!(v, [7, 7], "{what}");

            // Destination short by a partial element: 1 element written.
            let mut b = [0xAAu8; 6];
            store(&mut b, &[0x0102_0304, 0x0506_0708]);
            assert_eq!(b, [1, 2, 3, 4, 0xAA, 0xAA], "{what}");
            // Fewer elements than bytes: the tail is untouched.
            let mut b = [0xAAu8; 8];
            store(&mut b, &[0x0102_0304]);
            assert_eq!(b, [1, 2, 3, 4, 0xAA, 0xAA, 0xAA, 0xAA], "{what}");
            store(&mut [], &[1, 2]);
        }
        // Other element sizes, through the dispatched functions.
        let mut v = [9u64; 2];
        load_be_u64(&mut v, &[0, 0, 0, 0, 0, 0, 0, 5, 1]);
        assert_eq!(v, [5, 9]);
        let mut b = [0u8; 3];
        store_be_u16(&mut b, &[0x0102, 0x0304]);
        assert_eq!(b, [1, 2, 0]);
    }
}
