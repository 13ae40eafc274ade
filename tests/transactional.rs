//! `VmState::load` is transactional for values of every size: a value of
//! 16 bytes or less loads into a clone that replaces it on success, a
//! larger one loads in place over a backup clone that is put back on
//! error. Either way a failed load (a short payload after some fields, a
//! refusing `post_load`) leaves the value as it was, and a good one
//! leaves exactly what the stream holds.

use vmstate_core::{Context, ErrorKind, Reader, VmState};

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "tx/small", version = 1, post_load = Self::check)]
struct Small {
    a: u8,
    b: u16,
    c: u32,
}

impl Small {
    fn check(&mut self, _version: u32) -> Result<(), String> {
        if self.c == 0xdead {
            return Err("c refused".into());
        }
        Ok(())
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "tx/large", version = 1, post_load = Self::check)]
struct Large {
    a: u8,
    b: u16,
    c: u32,
    regs: [u64; 4],
}

impl Large {
    fn check(&mut self, _version: u32) -> Result<(), String> {
        if self.c == 0xdead {
            return Err("c refused".into());
        }
        Ok(())
    }
}

/// QEMU's encoding: `a` (u8), `b` (be16), `c` (be32).
fn head(c: u32) -> Vec<u8> {
    let mut v = vec![0x11, 0x22, 0x33];
    v.extend_from_slice(&c.to_be_bytes());
    v
}

fn transactional<T: VmState + Clone + PartialEq + std::fmt::Debug>(start: T, good: &[u8], want: T) {
    let ctx = Context::new();
    // A short payload fails after `a` and `b` were read.
    for cut in [1, 3, good.len() - 1] {
        let mut dev = start.clone();
        let e = dev
            .load(&mut Reader::from_slice(&good[..cut]), 1, &ctx)
            .unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::UnexpectedEof { .. }),
            "cut {cut}: {e}"
        );
        assert_eq!(dev, start, "cut {cut}");
    }
    // A `post_load` that refuses sees the loaded fields; the value does not
    // keep them.
    let mut refused = good.to_vec();
    refused[3..7].copy_from_slice(&0xdeadu32.to_be_bytes());
    let mut dev = start.clone();
    let e = dev
        .load(&mut Reader::from_slice(&refused), 1, &ctx)
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Hook { hook: "post_load" }));
    assert_eq!(dev, start);
    // A good payload replaces every field.
    let mut dev = start;
    let mut r = Reader::from_slice(good);
    dev.load(&mut r, 1, &ctx).unwrap();
    assert_eq!((dev, r.offset()), (want, good.len() as u64));
}

#[test]
fn a_small_value_is_replaced_only_by_a_whole_load() {
    assert!(size_of::<Small>() <= 16);
    let start = Small { a: 1, b: 2, c: 3 };
    let want = Small {
        a: 0x11,
        b: 0x2233,
        c: 0x0405_0607,
    };
    transactional(start, &head(0x0405_0607), want);
}

#[test]
fn a_large_value_is_put_back_after_a_failed_load() {
    assert!(size_of::<Large>() > 16);
    let start = Large {
        a: 1,
        b: 2,
        c: 3,
        regs: [4, 5, 6, 7],
    };
    let mut good = head(0x0405_0607);
    for r in [8u64, 9, 10, 11] {
        good.extend_from_slice(&r.to_be_bytes());
    }
    let want = Large {
        a: 0x11,
        b: 0x2233,
        c: 0x0405_0607,
        regs: [8, 9, 10, 11],
    };
    transactional(start, &good, want);
}
