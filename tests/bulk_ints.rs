//! Integer arrays and `Vec`s of derived structs through every sink and
//! reader kind, against a per-element big-endian encoding: short arrays
//! take the inline conversion, longer ones the CPU-specific kernels (see
//! `vmstate_core::field`). A truncated input names the element it cut.

use vmstate_core::{Context, ErrorKind, Reader, VmState, Writer};

#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "bulk", version = 1)]
struct Bulk {
    head: u8,
    regs: [u32; 16],
    words: [u16; 33],
    quads: [u64; 9],
    big: [i32; 300],
    n: u32,
    #[vmstate(count = n)]
    v: Vec<i64>,
    m: u16,
    #[vmstate(count = m)]
    w: Vec<u16>,
    tail: i8,
}

// (By hand: std's `Default` stops at 32-element arrays.)
impl Default for Bulk {
    fn default() -> Self {
        Bulk {
            head: 0,
            regs: [0; 16],
            words: [0; 33],
            quads: [0; 9],
            big: [0; 300],
            n: 0,
            v: Vec::new(),
            m: 0,
            w: Vec::new(),
            tail: 0,
        }
    }
}

/// A value whose every element differs, with `n` and `m` elements in the
/// two `Vec`s.
fn sample(n: usize, m: usize) -> Bulk {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    Bulk {
        head: 0xA5,
        regs: std::array::from_fn(|_| next() as u32),
        words: std::array::from_fn(|_| next() as u16),
        quads: std::array::from_fn(|_| next()),
        big: std::array::from_fn(|_| next() as i32),
        n: n as u32,
        v: (0..n).map(|_| next() as i64).collect(),
        m: m as u16,
        w: (0..m).map(|_| next() as u16).collect(),
        tail: -3,
    }
}

/// The wire bytes, element by element.
fn reference(b: &Bulk) -> Vec<u8> {
    let mut o = vec![b.head];
    b.regs.iter().for_each(|x| o.extend(x.to_be_bytes()));
    b.words.iter().for_each(|x| o.extend(x.to_be_bytes()));
    b.quads.iter().for_each(|x| o.extend(x.to_be_bytes()));
    b.big.iter().for_each(|x| o.extend(x.to_be_bytes()));
    o.extend(b.n.to_be_bytes());
    b.v.iter().for_each(|x| o.extend(x.to_be_bytes()));
    o.extend(b.m.to_be_bytes());
    b.w.iter().for_each(|x| o.extend(x.to_be_bytes()));
    o.extend(b.tail.to_be_bytes());
    o
}

#[test]
fn derived_arrays_and_vecs_through_every_sink_and_reader() {
    let ctx = Context::new();
    for (n, m) in [
        (0, 0),
        (1, 7),
        (8, 32),
        (9, 33),
        (300, 299),
        (70_000, 40_000),
    ] {
        let mut src = sample(n, m);
        let want = reference(&src);

        let mut out = Vec::new();
        src.save(&mut Writer::new(&mut out), &ctx).unwrap();
        assert!(out == want, "vec sink, {n}/{m}");

        let mut w = Writer::from_write(Vec::new());
        src.save(&mut w, &ctx).unwrap();
        assert!(w.into_inner().into_inner() == want, "io sink, {n}/{m}");

        let mut dst = Bulk::default();
        dst.load_state_in_place(&mut Reader::from_slice(&want), 1, &ctx)
            .unwrap();
        assert!(dst == src, "slice reader, {n}/{m}");

        let mut dst = Bulk::default();
        let mut r = Reader::new(&want[..]);
        dst.load_state_in_place(&mut r, 1, &ctx).unwrap();
        assert!(dst == src, "io reader, {n}/{m}");
        assert_eq!(r.offset(), want.len() as u64);
    }
}

#[test]
fn truncated_arrays_name_the_cut_element() {
    let ctx = Context::new();
    let want = reference(&sample(20, 3));
    // Field start offsets, element sizes and names, in wire order.
    let fields: [(&str, usize, usize); 4] = [
        ("regs", 1, 4),
        ("words", 1 + 64, 2),
        ("quads", 1 + 64 + 66, 8),
        ("big", 1 + 64 + 66 + 72, 4),
    ];
    let v_start = 1 + 64 + 66 + 72 + 1200 + 4;
    for cut in 1..v_start - 4 {
        let (name, start, size) = fields.iter().rev().find(|f| f.1 <= cut).copied().unwrap();
        let i = (cut - start) / size;
        let at = (start + i * size) as u64;
        for io in [false, true] {
            let mut dst = Bulk::default();
            let e = if io {
                dst.load_state_in_place(&mut Reader::new(&want[..cut]), 1, &ctx)
            } else {
                dst.load_state_in_place(&mut Reader::from_slice(&want[..cut]), 1, &ctx)
            }
            .unwrap_err();
            let what = format!("cut {cut}, io {io}: {e}");
            assert_eq!(e.path(), format!("{name}[{i}]"), "{what}");
            assert_eq!(e.offset(), at, "{what}");
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::UnexpectedEof { needed, available }
                        if *needed == size as u64 && *available == ((cut - start) % size) as u64
                ),
                "{what}"
            );
        }
    }
    // In a `Vec`, through an io reader (a slice reader refuses the count
    // up front: the bytes left cannot hold it).
    for cut in v_start..v_start + 20 * 8 {
        let i = (cut - v_start) / 8;
        let mut dst = Bulk::default();
        let e = dst
            .load_state_in_place(&mut Reader::new(&want[..cut]), 1, &ctx)
            .unwrap_err();
        assert_eq!(e.path(), format!("v[{i}]"), "cut {cut}: {e}");
        assert_eq!(e.offset(), (v_start + i * 8) as u64, "cut {cut}: {e}");
        let mut dst = Bulk::default();
        let e = dst
            .load_state_in_place(&mut Reader::from_slice(&want[..cut]), 1, &ctx)
            .unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::UnexpectedEof { needed: 160, .. }),
            "cut {cut}: {e}"
        );
        assert_eq!(e.offset(), v_start as u64, "cut {cut}: {e}");
    }
}
