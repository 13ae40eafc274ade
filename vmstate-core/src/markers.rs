//! The load of an array of small nested structs, with a vectorized search
//! for subsection markers between its elements.
//!
//! QEMU peeks for a subsection after every nested struct, so in an array
//! of them each element's load ends with a look at the next element's
//! first byte. One compare and branch per element cost piix4_pm's 256
//! hot-plug status structs (8 bytes each) about a fifth of the section's
//! load. Here every byte is compared, 64 at a time, and the lanes that
//! fall on element boundaries are picked at the end: no branch per
//! element, two AVX2 compares per 64 bytes. The scan and the decode that
//! follows are one function compiled for AVX2 (detected at run time, as
//! for the swap kernels), where the compiler vectorizes the decode loop
//! too. Without AVX2 (an SSE2 build of the scan measured no faster than
//! the branch) there is none of this and the caller tests element by
//! element.
//!
//! When the scan finds a marker, the fallback (`fixed::decode_past_markers`)
//! wants each one's position, to test the header there by name: a byte
//! 0x05 that starts an element is often data. `each_boundary_marker` gives
//! them, 64 bytes at a time, and `decode_checked` is the decode without
//! the scan.

// Only the call of the AVX2 copy, after the feature check, needs unsafe.
#![deny(unsafe_code)]
// Elsewhere only the tests call the scan.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

use crate::fixed::SUBSECTION;
use crate::VmField;

/// Loads `items`, consecutive fixed-size nested structs, from `b` as
/// [`VmField::decode_fixed_slice`] does, after one scan of the bytes their
/// subsection peeks see (each element's first byte but the first's):
/// `Some(false)` when a marker is there (or an element's decode says so),
/// for the caller's fallback (the retry past markers, then the ordinary
/// code); `None` when this CPU has no fast scan. Scan and
/// decode are one function compiled for AVX2, so the decode loop may use
/// its shuffles too.
///
/// [`VmField::decode_fixed_slice`]: crate::VmField::decode_fixed_slice
#[inline]
pub(crate) fn decode_after_scan<T: VmField>(items: &mut [T], b: &[u8]) -> Option<bool> {
    decode_avx2::<T, true>(items, b)
}

/// The decode of [`decode_after_scan`] without the scan, for elements
/// whose boundaries the caller has checked: `None` without AVX2.
#[inline]
pub(crate) fn decode_checked<T: VmField>(items: &mut [T], b: &[u8]) -> Option<bool> {
    decode_avx2::<T, false>(items, b)
}

#[inline(always)]
fn decode_avx2<T: VmField, const SCAN: bool>(items: &mut [T], b: &[u8]) -> Option<bool> {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::swap::{tier, Tier};
        if cfg!(target_feature = "avx2") {
            return Some(scan_and_decode::<T, SCAN>(items, b));
        }
        if let Tier::Avx2 = tier() {
            // SAFETY: tier() detected AVX2 on this CPU.
            #[allow(unsafe_code)]
            return Some(unsafe { scan_and_decode_avx2::<T, SCAN>(items, b) });
        }
    }
    let _ = (items, b);
    None
}

/// [`scan_and_decode`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx2")]
unsafe fn scan_and_decode_avx2<T: VmField, const SCAN: bool>(items: &mut [T], b: &[u8]) -> bool {
    scan_and_decode::<T, SCAN>(items, b)
}

#[inline(always)]
fn scan_and_decode<T: VmField, const SCAN: bool>(items: &mut [T], b: &[u8]) -> bool {
    let size = T::FIXED_SIZE;
    if size == 0 || (SCAN && marker_at_stride(b.get(size..).unwrap_or_default(), size)) {
        return false;
    }
    let mut ok = true;
    for (item, chunk) in items.iter_mut().zip(b.chunks_exact(size)) {
        ok &= item.decode_fixed(chunk);
    }
    ok
}

/// Whether `b` holds a subsection marker at an offset that is a multiple
/// of `stride` (1, 2, 4, 8 or 16; a larger value is taken as 16, a
/// smaller one finds more).
#[inline(always)]
fn marker_at_stride(b: &[u8], stride: usize) -> bool {
    match stride {
        0 | 1 => kernel::<1>(b),
        2 | 3 => kernel::<2>(b),
        4..=7 => kernel::<4>(b),
        8..=15 => kernel::<8>(b),
        _ => kernel::<16>(b),
    }
}

/// The scan: a lane is 0xff once a marker was seen there (a compare's own
/// result, so the loop is a compare and an or per vector). The bytes
/// after the last whole block are one more block, the last 64 bytes:
/// `b`'s length is a multiple of `S` when it holds whole elements, so
/// the lanes keep their alignment; otherwise a byte test.
#[inline(always)]
fn kernel<const S: usize>(b: &[u8]) -> bool {
    const LANES: usize = 64;
    let mut lanes = [0u8; LANES];
    let mut mark = |block: &[u8]| {
        for (lane, &byte) in lanes.iter_mut().zip(block) {
            *lane |= 0u8.wrapping_sub(u8::from(byte == SUBSECTION));
        }
    };
    let blocks = b.chunks_exact(LANES);
    let rest = blocks.remainder();
    blocks.for_each(&mut mark);
    let mut hit = false;
    if !rest.is_empty() {
        match b.len().checked_sub(LANES) {
            Some(start) if start % S == 0 => mark(b.get(start..).unwrap_or_default()),
            _ => hit = rest_hit::<S>(b, b.len() - rest.len()),
        }
    }
    let mut any = 0u8;
    for (i, &lane) in lanes.iter().enumerate() {
        any |= lane & if i % S == 0 { 0xff } else { 0 };
    }
    hit || any != 0
}

/// Calls `at_marker(offset)` for each subsection marker in `b` at a
/// nonzero multiple of `stride` (an element boundary), in order, and
/// stops with `false` when it says so: 64 bytes at a time, with a vector
/// compare to pass over the blocks that hold none. `None` when this CPU
/// has no AVX2 or `stride` is not 1, 2, 4, 8 or 16 (the caller then tests
/// each boundary itself).
#[inline]
pub(crate) fn each_boundary_marker<F: FnMut(usize) -> bool>(
    b: &[u8],
    stride: usize,
    at_marker: F,
) -> Option<bool> {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::swap::{tier, Tier};
        if !matches!(stride, 1 | 2 | 4 | 8 | 16) {
            return None;
        }
        if cfg!(target_feature = "avx2") {
            return Some(each_marker_by_stride(b, stride, at_marker));
        }
        if let Tier::Avx2 = tier() {
            // SAFETY: tier() detected AVX2 on this CPU.
            #[allow(unsafe_code)]
            return Some(unsafe { each_marker_avx2(b, stride, at_marker) });
        }
    }
    let _ = (b, stride, at_marker);
    None
}

/// [`each_marker_by_stride`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx2")]
unsafe fn each_marker_avx2<F: FnMut(usize) -> bool>(b: &[u8], stride: usize, f: F) -> bool {
    each_marker_by_stride(b, stride, f)
}

#[inline(always)]
fn each_marker_by_stride<F: FnMut(usize) -> bool>(b: &[u8], stride: usize, f: F) -> bool {
    match stride {
        1 => each_marker::<1, F>(b, f),
        2 => each_marker::<2, F>(b, f),
        4 => each_marker::<4, F>(b, f),
        8 => each_marker::<8, F>(b, f),
        _ => each_marker::<16, F>(b, f),
    }
}

/// [`each_boundary_marker`] for a stride `S` that divides 64, so that
/// each block of 64 bytes starts on a boundary. A block is tested as an
/// array (a known length, which the compiler vectorizes); the bytes after
/// the last whole block one by one.
#[inline(always)]
fn each_marker<const S: usize, F: FnMut(usize) -> bool>(b: &[u8], mut f: F) -> bool {
    const LANES: usize = 64;
    let blocks = b.chunks_exact(LANES);
    let rest_at = b.len() - blocks.remainder().len();
    let mut visit = |from: usize, to: usize| {
        (from..to)
            .step_by(S)
            .all(|at| at == 0 || b.get(at) != Some(&SUBSECTION) || f(at))
    };
    for (k, block) in blocks.enumerate() {
        let Ok(block) = <&[u8; LANES]>::try_from(block) else {
            continue;
        };
        // The boundary lanes as a constant vector, so that the test is a
        // compare, an and and an or per 32 bytes.
        let on: [u8; LANES] = const {
            let mut on = [0u8; LANES];
            let mut i = 0;
            while i < LANES {
                if i % S == 0 {
                    on[i] = 0xff;
                }
                i += 1;
            }
            on
        };
        let mut any = 0u8;
        for (&byte, &on) in block.iter().zip(&on) {
            any |= 0u8.wrapping_sub(u8::from(byte == SUBSECTION)) & on;
        }
        if any != 0 && !visit(k * LANES, (k + 1) * LANES) {
            return false;
        }
    }
    visit(rest_at, b.len())
}

/// The byte test of `b[from..]` at offsets that are multiples of `S`.
#[inline(never)]
fn rest_hit<const S: usize>(b: &[u8], from: usize) -> bool {
    (from.next_multiple_of(S)..b.len())
        .step_by(S)
        .any(|i| b.get(i) == Some(&SUBSECTION))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(b: &[u8], stride: usize) -> bool {
        b.iter().step_by(stride).any(|&x| x == SUBSECTION)
    }

    /// Every stride, every length up to three blocks and a bit, a marker
    /// at every offset (a 5 between boundaries must not count): the scan
    /// as built for the tests, and the AVX2 copy where the CPU has it,
    /// through the load it serves.
    #[test]
    fn finds_exactly_the_markers_on_boundaries() {
        for len in 0..200 {
            let mut b = vec![0x55u8; len];
            for at in 0..=len {
                b.fill(0x55);
                if let Some(x) = b.get_mut(at) {
                    *x = SUBSECTION;
                }
                check::<1>(&b);
                check::<2>(&b);
                check::<4>(&b);
                check::<8>(&b);
                check::<16>(&b);
            }
        }
    }

    fn check<const S: usize>(b: &[u8]) {
        let want = naive(b, S);
        let at = format!("stride {S}, {b:?}");
        assert_eq!(marker_at_stride(b, S), want, "{at}");
        // Elements of S bytes: a first one, then b's whole elements, whose
        // first bytes are what the peeks see.
        let whole = &b[..b.len() / S * S];
        let mut wire = vec![0x55u8; S];
        wire.extend_from_slice(whole);
        let mut items = vec![[0u8; S]; wire.len() / S];
        let got = decode_after_scan(&mut items, &wire);
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            assert_eq!(got, Some(!naive(whole, S)), "{at}");
            if got == Some(true) {
                assert_eq!(items.concat(), wire, "{at}");
            }
            return;
        }
        assert_eq!(got, None);
    }

    /// Every boundary marker is reported once, in order, and only those;
    /// `false` from the callback stops the walk.
    #[test]
    fn reports_each_marker_on_a_boundary() {
        for len in 0..300 {
            for stride in [1usize, 2, 4, 8, 16] {
                let b: Vec<u8> = (0..len)
                    .map(|i| {
                        if (i * 7 + len) % 5 == 0 {
                            SUBSECTION
                        } else {
                            0x55
                        }
                    })
                    .collect();
                let want: Vec<usize> = (stride..len)
                    .step_by(stride)
                    .filter(|&i| b[i] == SUBSECTION)
                    .collect();
                let mut got = Vec::new();
                let done = each_boundary_marker(&b, stride, |at| {
                    got.push(at);
                    true
                });
                #[cfg(target_arch = "x86_64")]
                if std::is_x86_feature_detected!("avx2") {
                    assert_eq!((done, &got), (Some(true), &want), "{len} {stride}");
                    if let Some(&first) = want.first() {
                        let mut seen = 0;
                        let stopped = each_boundary_marker(&b, stride, |_| {
                            seen += 1;
                            false
                        });
                        assert_eq!((stopped, seen), (Some(false), 1), "{first}");
                    }
                    continue;
                }
                assert_eq!(done, None);
            }
        }
        assert_eq!(each_boundary_marker(&[0; 40], 12, |_| true), None);
    }

    /// With AVX2 (x86-64 CI runners, the bench machine) the scan runs:
    /// `tests/fastpath.rs` covers the AVX2 copy through the derived code.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn scans_where_avx2_is() {
        let avx2 = std::is_x86_feature_detected!("avx2");
        let mut items = [0u8; 100];
        assert_eq!(decode_after_scan(&mut items, &[0; 100]).is_some(), avx2);
    }
}
