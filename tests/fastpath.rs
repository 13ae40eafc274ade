//! The fixed-size fast path (runs of fields loaded with one length check
//! from bytes in memory) must be invisible: for every truncation and every
//! single-byte change of a payload, a load from a slice (fast path where
//! it applies) and a load through an io reader fed one byte per call (the
//! field-by-field code, the fast path only where a peek happened to buffer
//! a whole run) give the same result: the same value, or the same error
//! kind, path and offset. Likewise with `strict_bool`, which the fast path
//! leaves to the ordinary code. Saves into a `Vec` (fast) and through an
//! io sink (field by field) give the same bytes.

use vmstate_core::{Context, Reader, VmState, Writer};

#[path = "support/trickle.rs"]
mod trickle;
use trickle::Trickle;

/// Nested, fixed-size: a parent's run takes it whole; the byte after it is
/// what its subsection peek sees.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/leaf", version = 1)]
struct Leaf {
    a: u32,
    on: bool,
    b: i16,
}

/// Nested, fixed-size, ending with a nested struct.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/pair", version = 1)]
struct Pair {
    x: u8,
    leaf: Leaf,
}

/// Nested with a subsection: not fixed, its run falls back.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/opt", version = 1)]
struct WithSub {
    v: u16,
    #[vmstate(subsection, needed = Self::sub_needed)]
    sub: OptSub,
}

impl WithSub {
    fn sub_needed(&self) -> bool {
        self.sub.w != 0
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/opt/sub", version = 1)]
struct OptSub {
    w: u32,
}

/// One run and nothing else: a payload of static size, which
/// `save_to_slice` encodes without a writer.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/gapped", version = 1)]
struct Gapped {
    a: u16,
    #[vmstate(unused = 3)]
    gap: (),
    b: [u32; 2],
    pair: Pair,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/ext", version = 2)]
struct Ext {
    n: u64,
    flag: bool,
    data: [u8; 3],
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp", version = 3, minimum_version = 1)]
struct Dev {
    a: u8,
    b: i8,
    c: u16,
    d: bool,
    regs: [u32; 3],
    #[vmstate(unused = 3)]
    gap: (),
    #[vmstate(buffer)]
    cmos: [u8; 8],
    #[vmstate(buffer, start = 2)]
    part: [u8; 6],
    timer: vmstate_core::types::Timer,
    boxed: Box<u16>,
    wide: [u16; 32],
    pairs: [Pair; 2],
    /// Alone (its own gate): the array's own fast path.
    #[vmstate(exists = Self::has_more)]
    more: [Leaf; 2],
    /// Sized by a field: the fast path for a count of fixed-size structs.
    n_cnt: u8,
    #[vmstate(count = n_cnt)]
    cnt: [Pair; 3],
    leaf: Leaf,
    /// A run that ends with a nested struct: the byte after is peeked.
    f: f64,
    #[vmstate(version = 2)]
    g1: u32,
    #[vmstate(version = 2)]
    g2: [bool; 2],
    /// A run with a value of variable size inside: two stretches of
    /// fixed-size fields around it, the second ending with a nested struct.
    pre: [u8; 2],
    opt: WithSub,
    o2: u32,
    ot: vmstate_core::types::Timer,
    /// Plain fields after a fixed nested value in the same stretch: one
    /// step, refused under `strict_bool` after that value decoded.
    o4: bool,
    o5: u16,
    o3: Pair,
    #[vmstate(version = 3)]
    last: Leaf,
    #[vmstate(subsection, needed = Self::ext_needed)]
    ext: Ext,
}

impl Dev {
    fn has_more(&self, _version: u32) -> bool {
        self.a != 0
    }

    fn ext_needed(&self) -> bool {
        self.ext.n != 0
    }

    fn sample() -> Self {
        let leaf = |i: u32| Leaf {
            a: 0x0102_0304 * (i + 1),
            on: i % 2 == 0,
            b: -(i as i16) - 2,
        };
        Dev {
            a: 0x11,
            b: -2,
            c: 0x0506,
            d: true,
            regs: [0x0a0b_0c0d, 5, 0x0505_0505],
            gap: (),
            cmos: [5, 4, 3, 2, 1, 0, 0xff, 5],
            part: [0, 0, 5, 6, 7, 5],
            timer: vmstate_core::types::Timer::NOT_ARMED,
            boxed: Box::new(0x0506),
            wide: std::array::from_fn(|i| 0x0501u16.wrapping_mul(i as u16 + 1)),
            pairs: [
                Pair {
                    x: 7,
                    leaf: leaf(0),
                },
                Pair {
                    x: 5,
                    leaf: leaf(1),
                },
            ],
            more: [leaf(4), leaf(5)],
            n_cnt: 2,
            cnt: [
                Pair {
                    x: 5,
                    leaf: leaf(7),
                },
                Pair {
                    x: 5,
                    leaf: leaf(8),
                },
                Pair::default(),
            ],
            leaf: leaf(2),
            f: 1.5,
            g1: 0xdead_beef,
            g2: [true, false],
            pre: [5, 1],
            opt: WithSub {
                v: 0x0505,
                sub: OptSub { w: 9 },
            },
            o2: 0x0500_0005,
            ot: vmstate_core::types::Timer::NOT_ARMED,
            o4: true,
            o5: 0x0605,
            o3: Pair {
                x: 5,
                leaf: leaf(6),
            },
            last: leaf(3),
            ext: Ext {
                n: 0x0102_0304_0506_0708,
                flag: true,
                data: [5, 0, 5],
            },
        }
    }
}

/// What a load did: the value (as the bytes it saves to, so that a NaN
/// compares) and the bytes consumed, or the error.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok(Vec<u8>, u64),
    Err(String, String, u64),
}

fn outcome<T: VmState>(res: vmstate_core::Result<()>, mut dev: T, consumed: u64) -> Outcome {
    match res {
        Ok(()) => Outcome::Ok(dev.to_bytes(&Context::new()).unwrap(), consumed),
        Err(e) => Outcome::Err(format!("{:?}", e.kind()), e.path(), e.offset()),
    }
}

/// Transactional and in-place loads from a slice and through a trickle.
fn loads<T: VmState + Clone + Default>(wire: &[u8], version: u32, ctx: &Context) -> [Outcome; 2] {
    let start = T::default();
    let mut fast = start.clone();
    let mut r = Reader::from_slice(wire);
    let res = fast.load(&mut r, version, ctx);
    let fast_out = outcome(res, fast, r.offset());

    let mut slow = start.clone();
    let mut r = Reader::new(Trickle(wire));
    let res = slow.load(&mut r, version, ctx);
    let slow_out = outcome(res, slow, r.offset());

    // In place: the same on success (on error the value is unspecified).
    let mut fast = start.clone();
    let mut r = Reader::from_slice(wire);
    if fast.load_state_in_place(&mut r, version, ctx).is_ok() {
        let got = outcome(Ok(()), fast, r.offset());
        assert_eq!(got, fast_out);
    }
    [fast_out, slow_out]
}

fn check<T: VmState + Clone + Default>(wire: &[u8], version: u32, what: &str) {
    for ctx in [Context::new(), Context::new().with_strict_bool(true)] {
        let [fast, slow] = loads::<T>(wire, version, &ctx);
        assert_eq!(
            fast, slow,
            "{what}, version {version}, strict {}",
            ctx.strict_bool
        );
    }
}

#[test]
fn fast_and_field_by_field_saves_agree() {
    let ctx = Context::new();
    let mut dev = Dev::sample();
    let fast = dev.to_bytes(&ctx).unwrap();
    let mut io_bytes = Vec::new();
    dev.save(&mut Writer::from_write(&mut io_bytes), &ctx)
        .unwrap();
    assert_eq!(fast, io_bytes);
    // A subsection header, then the nested subsection's own header.
    assert!(fast.windows(12).any(|w| w == b"\x05\x0afp/opt/sub"));
    assert!(fast.windows(8).any(|w| w == b"\x05\x06fp/ext"));
}

/// A caller's buffer takes runs straight (no stack buffer, no zero fill):
/// every byte must still be written, whatever the buffer held, and a
/// buffer that is too short fails where a field-by-field save into it
/// fails, with the same path, having written the same bytes.
#[test]
fn saves_into_a_callers_buffer_write_every_byte_and_stop_at_its_end() {
    use vmstate_core::stream::SliceSink;
    let ctx = Context::new();
    let mut dev = Dev::sample();
    let want = dev.to_bytes(&ctx).unwrap();
    for fill in [0x00, 0xaa, 0x05] {
        let mut buf = vec![fill; want.len() + 3];
        let n = dev.save_to_slice(&mut buf, &ctx).unwrap();
        assert_eq!((n, &buf[..n]), (want.len(), &want[..]), "fill {fill:#x}");
        assert_eq!(buf[n..], [fill; 3], "nothing past the payload");
    }
    for len in 0..want.len() {
        let mut buf = vec![0xaa; len];
        let mut w = Writer::new(SliceSink::new(&mut buf));
        let err = dev.save(&mut w, &ctx).unwrap_err();
        let written = w.get_ref().written();
        assert_eq!(buf[..written], want[..written], "cut at {len}");

        let mut io_buf = vec![0xaa; len];
        let io_err = dev
            .save(&mut Writer::from_write(&mut io_buf[..]), &ctx)
            .unwrap_err();
        assert_eq!(
            (err.path(), err.offset(), format!("{:?}", err.kind())),
            (
                io_err.path(),
                io_err.offset(),
                format!("{:?}", io_err.kind())
            ),
            "cut at {len}"
        );
        assert_eq!(err.offset(), written as u64, "cut at {len}");
        assert!(err.to_string().contains("buffer is full"), "{err}");
    }
}

/// `save_to_slice` of a payload of static size skips the writer: the same
/// bytes, every one written, and a short buffer takes the writer's way to
/// the same error.
#[test]
fn static_payloads_save_into_a_callers_buffer_as_through_a_writer() {
    use vmstate_core::stream::SliceSink;
    let ctx = Context::new();
    let mut g = Gapped {
        a: 0x0102,
        gap: (),
        b: [0x0304_0506, 0x0708_090a],
        pair: Pair {
            x: 0x0b,
            leaf: Leaf {
                a: 0x0c0d_0e0f,
                on: true,
                b: -2,
            },
        },
    };
    assert_eq!(<Gapped as VmState>::FIXED_PAYLOAD, 2 + 3 + 8 + 8, "one run");
    let want = g.to_bytes(&ctx).unwrap();
    let mut buf = [0xaa; 32];
    let n = g.save_to_slice(&mut buf, &ctx).unwrap();
    assert_eq!(&buf[..n], &want[..]);
    assert_eq!(buf[n..], [0xaa; 32 - 21]);
    for len in 0..want.len() {
        let err = g.save_to_slice(&mut vec![0xaa; len], &ctx).unwrap_err();
        let mut io_buf = vec![0xaa; len];
        let via_writer = g
            .save(&mut Writer::new(SliceSink::new(&mut io_buf)), &ctx)
            .unwrap_err();
        assert_eq!(
            (err.path(), err.offset()),
            (via_writer.path(), via_writer.offset())
        );
    }
}

#[test]
fn every_truncation_and_byte_change_loads_alike() {
    let ctx = Context::new();
    let wire = Dev::sample().to_bytes(&ctx).unwrap();
    // The sample loads back exactly, through both paths.
    let [fast, slow] = loads::<Dev>(&wire, 3, &ctx);
    assert_eq!(fast, Outcome::Ok(wire.clone(), wire.len() as u64));
    assert_eq!(slow, fast);
    every_change_loads_alike::<Dev>(&wire, 3);
}

/// Every version, truncation and single-byte change of `wire` (saved at
/// `version`) loads alike through both paths.
fn every_change_loads_alike<T: VmState + Clone + Default>(wire: &[u8], version: u32) {
    for v in [1, 2, 3, 4] {
        check::<T>(wire, v, "whole");
    }
    for n in 0..wire.len() {
        check::<T>(&wire[..n], version, &format!("cut at {n}"));
    }
    for at in 0..wire.len() {
        for v in [0x00, 0x01, 0x02, 0x05, 0x06, 0xff] {
            let mut w = wire.to_vec();
            w[at] = v;
            check::<T>(&w, version, &format!("byte {at} = {v:#04x}"));
        }
    }
}

/// Nested with a version-gated field: nested structs load and save at
/// their current version, where the gate passes, so a parent's run takes
/// it whole.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/gated", version = 2)]
struct GatedLeaf {
    a: u16,
    #[vmstate(version = 2)]
    b: u32,
    on: bool,
}

/// Runs under different version gates back to back: one run when the
/// version passes every gate, run by run below it.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/layers", version = 4, minimum_version = 1)]
struct Layers {
    a: u32,
    leaves: [GatedLeaf; 2],
    #[vmstate(version = 2)]
    b: u16,
    #[vmstate(version = 2)]
    on: bool,
    #[vmstate(version = 4)]
    c: [u8; 3],
    d: i64,
    #[vmstate(version = 3)]
    e: GatedLeaf,
}

#[test]
fn runs_under_different_gates_save_and_load_at_every_version() {
    let ctx = Context::new();
    let leaf = |a: u16, b: u32, on: bool| GatedLeaf { a, b, on };
    let mut dev = Layers {
        a: 0x0102_0304,
        leaves: [leaf(0x0506, 0x0708_090a, true), leaf(5, 0x0505_0505, false)],
        b: 0x0b0c,
        on: true,
        c: [0x0d, 5, 0x0e],
        d: -2,
        e: leaf(0x0f10, 0x1112_1314, true),
    };
    const { assert!(<GatedLeaf as vmstate_core::VmField>::FIXED) };
    assert_eq!(
        <Layers as VmState>::FIXED_PAYLOAD,
        4 + 2 * 7 + 3 + 3 + 8 + 7
    );

    // QEMU's encoding: big-endian fields in order, a field present when
    // the saved version reaches its own.
    let leaf_bytes = |l: &GatedLeaf| {
        let mut v = l.a.to_be_bytes().to_vec();
        v.extend(l.b.to_be_bytes());
        v.push(l.on as u8);
        v
    };
    let orig = dev.clone();
    let golden = |version: u32| {
        let dev = &orig;
        let mut v = dev.a.to_be_bytes().to_vec();
        dev.leaves.iter().for_each(|l| v.extend(leaf_bytes(l)));
        if version >= 2 {
            v.extend(dev.b.to_be_bytes());
            v.push(dev.on as u8);
        }
        if version >= 4 {
            v.extend(dev.c);
        }
        v.extend(dev.d.to_be_bytes());
        if version >= 3 {
            v.extend(leaf_bytes(&dev.e));
        }
        v
    };
    assert_eq!(dev.to_bytes(&ctx).unwrap(), golden(4));
    let mut buf = [0xaa; 64];
    let n = dev.save_to_slice(&mut buf, &ctx).unwrap();
    assert_eq!(buf[..n], golden(4));

    for version in 1..=4 {
        let want = golden(version);
        let mut saved = Vec::new();
        dev.save_state_v(&mut Writer::new(&mut saved), version, &ctx)
            .unwrap();
        assert_eq!(saved, want, "save at version {version}");
        let mut io_saved = Vec::new();
        dev.save_state_v(&mut Writer::from_write(&mut io_saved), version, &ctx)
            .unwrap();
        assert_eq!(io_saved, want, "field by field at version {version}");

        // Fields the version does not have keep their value.
        let mut back = Layers {
            c: [9; 3],
            e: leaf(9, 9, false),
            ..Layers::default()
        };
        back.load(&mut Reader::from_slice(&want), version, &ctx)
            .unwrap();
        let mut expect = dev.clone();
        if version < 4 {
            expect.c = [9; 3];
        }
        if version < 3 {
            expect.e = leaf(9, 9, false);
        }
        if version < 2 {
            (expect.b, expect.on) = (0, false);
        }
        assert_eq!(back, expect, "load at version {version}");
        every_change_loads_alike::<Layers>(&want, version);
    }

    // A short payload fails at the field that does not fit, in place.
    let wire = golden(4);
    let err = Layers::default()
        .load(&mut Reader::from_slice(&wire[..4 + 7 + 3]), 4, &ctx)
        .unwrap_err();
    assert_eq!(
        (err.path(), err.offset()),
        ("fp/layers/leaves[1].b".to_string(), 4 + 7 + 2)
    );
}

/// A subsection marker right after a nested struct inside a run sends the
/// load to the ordinary code, which reads it as QEMU does: here the marker
/// is the first byte of the next field, followed by a length and a name
/// that do not belong to the nested struct, so it is data.
#[test]
fn marker_bytes_inside_runs_are_data_when_the_name_does_not_match() {
    let ctx = Context::new();
    let mut dev = Dev::sample();
    // pairs[1].x follows pairs[0] and is 5: a marker at a struct boundary.
    assert_eq!(dev.pairs[1].x, 5);
    let wire = dev.to_bytes(&ctx).unwrap();
    let mut back = Dev::default();
    back.load(&mut Reader::from_slice(&wire), 3, &ctx).unwrap();
    assert_eq!(back, dev);
}

/// A name that extends the nested struct's name is an unknown subsection
/// at that offset, from the fast path's input as from the slow one's.
#[test]
fn unknown_subsection_after_a_nested_struct_in_a_run_is_an_error() {
    #[derive(VmState, Clone, Debug, Default, PartialEq)]
    #[vmstate(name = "fp/two", version = 1)]
    struct Two {
        leaf: Leaf,
        tail: [u8; 16],
    }
    /// The nested struct ends a run of its own: the byte after the run.
    #[derive(VmState, Clone, Debug, Default, PartialEq)]
    #[vmstate(name = "fp/three", version = 2)]
    struct Three {
        leaf: Leaf,
        #[vmstate(version = 2)]
        tail: [u8; 16],
    }

    /// A nested struct that ends with a nested struct: both peeks see the
    /// byte after it, and either name claims.
    #[derive(VmState, Clone, Debug, Default, PartialEq)]
    #[vmstate(name = "fp/four", version = 2)]
    struct Four {
        pair: Pair,
        #[vmstate(version = 2)]
        tail: [u8; 16],
    }

    /// A count of nested structs: each element's peek sees the byte after
    /// it, the last one's the byte after the array.
    #[derive(VmState, Clone, Debug, Default, PartialEq)]
    #[vmstate(name = "fp/five", version = 1)]
    struct Five {
        n: u8,
        #[vmstate(count = n)]
        leaves: [Leaf; 4],
        tail: [u8; 16],
    }

    fn fails_alike<T: VmState + Clone + Default>(wire: &[u8], version: u32, at: u64) {
        let ctx = Context::new();
        let e = T::default()
            .load(&mut Reader::from_slice(wire), version, &ctx)
            .unwrap_err();
        let e2 = T::default()
            .load(&mut Reader::new(Trickle(wire)), version, &ctx)
            .unwrap_err();
        assert_eq!((e.path(), e.offset()), (e2.path(), e2.offset()));
        assert_eq!(e.offset(), at, "{e}");
        assert!(
            format!("{:?}", e.kind()).contains("UnknownSubsection"),
            "{e}"
        );
    }

    let mut two = Two::default();
    two.tail[..11].copy_from_slice(b"\x05\x09fp/leaf/x");
    fails_alike::<Two>(&two.to_bytes(&Context::new()).unwrap(), 1, 7);
    let mut three = Three::default();
    three.tail[..11].copy_from_slice(b"\x05\x09fp/leaf/x");
    fails_alike::<Three>(&three.to_bytes(&Context::new()).unwrap(), 2, 7);
    for name in [&b"\x05\x09fp/leaf/x"[..], b"\x05\x09fp/pair/x"] {
        let mut four = Four::default();
        four.tail[..11].copy_from_slice(name);
        fails_alike::<Four>(&four.to_bytes(&Context::new()).unwrap(), 2, 8);
    }
    let mut five = Five {
        n: 2,
        ..Five::default()
    };
    five.tail[..11].copy_from_slice(b"\x05\x09fp/leaf/x");
    fails_alike::<Five>(&five.to_bytes(&Context::new()).unwrap(), 1, 15);
    // Between elements: the second of three starts with the header.
    let mut wire = vec![3u8; 1];
    wire.extend([0; 7]);
    wire.extend(b"\x05\x09fp/leaf/x\0\0\0");
    wire.extend([0; 16]);
    fails_alike::<Five>(&wire, 1, 8);
    // A name neither claims is the parent's: an unknown subsection of
    // `fp/four` would be an error too, so an accepted one is the test.
    let mut four = Four::default();
    four.tail[..11].copy_from_slice(b"\x05\x09fp/lea/xy");
    let wire = four.to_bytes(&Context::new()).unwrap();
    let mut back = Four::default();
    back.load(&mut Reader::from_slice(&wire), 2, &Context::new())
        .unwrap();
    assert_eq!(back, four);
}

/// A long array of small nested structs (a size that divides 16, like
/// piix4_pm's 256 hot-plug status pairs) has the bytes its peeks see
/// scanned in one pass: at every boundary, a header the struct claims
/// fails there as element by element, one it does not claim is data, and
/// a marker byte inside an element is data.
#[test]
fn markers_between_the_elements_of_a_long_array() {
    #[derive(VmState, Clone, Debug, Default, PartialEq)]
    #[vmstate(name = "fp/st", version = 1)]
    struct St {
        up: u32,
        down: u32,
    }
    #[derive(VmState, Clone, Debug, Default, PartialEq)]
    #[vmstate(name = "fp/sts", version = 1)]
    struct Sts {
        a: u8,
        sts: [[St; 16]; 4],
        tail: [u8; 16],
    }

    let ctx = Context::new();
    let load = |wire: &[u8]| {
        let fast = Sts::default().load(&mut Reader::from_slice(wire), 1, &ctx);
        let slow = Sts::default().load(&mut Reader::new(Trickle(wire)), 1, &ctx);
        (fast, slow)
    };
    for k in 1..64 {
        let at = 1 + 8 * k;
        for (header, claimed) in [(b"\x05\x07fp/st/x", true), (b"\x05\x07fp/sx/x", false)] {
            let mut dev = Sts::default();
            let mut wire = dev.to_bytes(&ctx).unwrap();
            wire[at..at + header.len()].copy_from_slice(header);
            match load(&wire) {
                (Err(fast), Err(slow)) => {
                    assert!(claimed, "{k}: {fast}");
                    assert_eq!((fast.path(), fast.offset()), (slow.path(), slow.offset()));
                    assert_eq!(fast.offset(), at as u64, "{k}: {fast}");
                    assert!(
                        format!("{:?}", fast.kind()).contains("UnknownSubsection"),
                        "{fast}"
                    );
                }
                (Ok(()), Ok(())) => {
                    assert!(!claimed, "{k}: the claimed header was read as data");
                    dev.load(&mut Reader::from_slice(&wire), 1, &ctx).unwrap();
                    let mut slow = Sts::default();
                    slow.load(&mut Reader::new(Trickle(&wire)), 1, &ctx)
                        .unwrap();
                    assert_eq!(dev, slow, "{k}");
                    assert_eq!(dev.to_bytes(&ctx).unwrap(), wire, "{k}");
                }
                (fast, slow) => panic!("{k}: {fast:?} against {slow:?}"),
            }
        }
        // Inside an element: never a peek.
        let mut wire = Sts::default().to_bytes(&ctx).unwrap();
        wire[at + 1..at + 1 + 9].copy_from_slice(b"\x05\x07fp/st/x");
        assert!(matches!(load(&wire), (Ok(()), Ok(()))), "{k}");
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/bounded/one", version = 3)]
struct BoundedOne {
    x: u16,
    leaf: Leaf,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/bounded/two", version = 1)]
struct BoundedTwo {
    y: [u8; 3],
}

/// Fixed-size fields and subsections of static size: the payload's size
/// has a bound, the one with every subsection sent.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/bounded", version = 2)]
struct Bounded {
    a: u32,
    #[vmstate(version = 2)]
    b: GatedLeaf,
    #[vmstate(subsection, needed = Self::one_needed)]
    one: BoundedOne,
    #[vmstate(subsection)]
    two: BoundedTwo,
}

impl Bounded {
    fn one_needed(&self) -> bool {
        self.one.x != 0
    }
}

/// A buffer that holds the bound takes the payload with one length check,
/// whichever subsections are sent; a shorter one takes the writer's way,
/// to the same bytes or the same error.
#[test]
fn payloads_of_bounded_size_save_into_a_callers_buffer_in_one_piece() {
    use vmstate_core::stream::SliceSink;
    let ctx = Context::new();
    let max = 4 + 7 + (2 + 14 + 4 + 2 + 7) + (2 + 14 + 4 + 3);
    assert_eq!(Bounded::MAX_PAYLOAD, max);
    // One run: its size; fields of variable size or an `exists` test:
    // no bound.
    assert_eq!(Gapped::MAX_PAYLOAD, Gapped::FIXED_PAYLOAD);
    assert_eq!(Layers::MAX_PAYLOAD, 4 + 2 * 7 + 3 + 3 + 8 + 7);
    assert_eq!(Dev::MAX_PAYLOAD, 0);
    for x in [0, 0x0102] {
        let mut dev = Bounded {
            a: 0x0304_0506,
            b: GatedLeaf {
                a: 0x0708,
                b: 0x090a_0b0c,
                on: true,
            },
            one: BoundedOne {
                x,
                leaf: Leaf {
                    a: 0x0d0e_0f10,
                    on: false,
                    b: -3,
                },
            },
            two: BoundedTwo { y: [0x11, 5, 0x12] },
        };
        // QEMU's encoding: the fields, then each subsection sent: 05, the
        // name's length and name, the be32 version, its fields.
        let mut want = vec![3, 4, 5, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 1];
        if x != 0 {
            want.extend(b"\x05\x0efp/bounded/one\0\0\0\x03\x01\x02");
            want.extend([0x0d, 0x0e, 0x0f, 0x10, 0, 0xff, 0xfd]);
        }
        want.extend(b"\x05\x0efp/bounded/two\0\0\0\x01\x11\x05\x12");
        assert_eq!(dev.to_bytes(&ctx).unwrap(), want);

        let mut short = vec![0xaa; max - 1];
        assert_eq!(dev.encode_bounded(&mut short), None, "below the bound");
        for len in [max + 3, max] {
            let mut buf = vec![0xaa; len];
            assert_eq!(dev.encode_bounded(&mut buf), Some(want.len()));
            assert_eq!(buf[..want.len()], want);
            let mut buf = vec![0xaa; len];
            let n = dev.save_to_slice(&mut buf, &ctx).unwrap();
            assert_eq!(buf[..n], want, "x {x:#x}, buffer of {len}");
            assert!(buf[n..].iter().all(|&b| b == 0xaa), "nothing past it");
        }
        for len in 0..max {
            let mut buf = vec![0xaa; len];
            let got = dev.save_to_slice(&mut buf, &ctx);
            let mut io_buf = vec![0xaa; len];
            let mut w = Writer::new(SliceSink::new(&mut io_buf));
            let via_writer = dev.save(&mut w, &ctx).map(|()| w.get_ref().written());
            match (got, via_writer) {
                (Ok(n), Ok(m)) => assert_eq!((n, &buf[..n]), (m, &want[..])),
                (Err(e), Err(f)) => assert_eq!(
                    (e.path(), e.offset()),
                    (f.path(), f.offset()),
                    "buffer of {len}"
                ),
                (got, via) => panic!("buffer of {len}: {got:?} against {via:?}"),
            }
        }
    }
}

/// Two subsections whose names have the same length and differ in their
/// last byte, for the lookup by name.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/twin/aa", version = 1)]
struct TwinA {
    a: u8,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/twin/ab", version = 1)]
struct TwinB {
    b: u16,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/twin", version = 1)]
struct Twins {
    x: u8,
    #[vmstate(subsection)]
    aa: TwinA,
    #[vmstate(subsection)]
    ab: TwinB,
}

/// A subsection goes to the field whose name matches byte for byte, not
/// to the first name of its length: from a header in memory (slice) and
/// through peeks (trickle) alike, in either order.
#[test]
fn subsections_with_names_of_one_length_are_told_apart() {
    // QEMU's encoding: 05, name length, name, be32 version, fields.
    let sub = |name: &[u8], fields: &[u8]| {
        let mut v = vec![0x05, name.len() as u8];
        v.extend_from_slice(name);
        v.extend_from_slice(&[0, 0, 0, 1]);
        v.extend_from_slice(fields);
        v
    };
    let (ab, aa) = (
        sub(b"fp/twin/ab", &[0x22, 0x33]),
        sub(b"fp/twin/aa", &[0x44]),
    );
    let want = Twins {
        x: 0x11,
        aa: TwinA { a: 0x44 },
        ab: TwinB { b: 0x2233 },
    };
    for wire in [
        [&[0x11][..], &ab, &aa].concat(),
        [&[0x11][..], &aa, &ab].concat(),
    ] {
        let mut dev = Twins::default();
        let mut r = Reader::from_slice(&wire);
        dev.load(&mut r, 1, &Context::new()).unwrap();
        assert_eq!((&dev, r.offset()), (&want, wire.len() as u64), "slice");
        let mut dev = Twins::default();
        let mut r = Reader::new(Trickle(&wire));
        dev.load(&mut r, 1, &Context::new()).unwrap();
        assert_eq!((&dev, r.offset()), (&want, wire.len() as u64), "trickle");
    }
    // Only one of the two: the other keeps its value.
    let wire = [&[0x11][..], &ab].concat();
    let mut dev = Twins::default();
    dev.load(&mut Reader::from_slice(&wire), 1, &Context::new())
        .unwrap();
    assert_eq!((dev.aa.a, dev.ab.b), (0, 0x2233));
}

/// One-byte fields between wider ones: the fast path decodes consecutive
/// `u8`/`i8` fields as groups from a copy of their bytes, bools one by one.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fp/bytes", version = 1)]
struct Bytes {
    w: u32,
    a: u8,
    b: i8,
    on: bool,
    h: u16,
    c: u8,
    off: bool,
    d: u8,
    arr: [u8; 2],
    e: i8,
    f: u8,
}

/// The value of the payloads below: signed and unsigned bytes, bools,
/// wider integers between them.
fn bytes_sample() -> Bytes {
    Bytes {
        w: 0x0102_0304,
        a: 0x81,
        b: -2,
        on: true,
        h: 0x0506,
        c: 7,
        off: false,
        d: 9,
        arr: [0x0a, 0x0b],
        e: -16,
        f: 0x0c,
    }
}

/// Each field of a group takes its own byte (a group that starts inside
/// the run, not at its first byte), the bools between and after them by
/// QEMU's rule (non-zero is true), and the groups agree with the
/// field-by-field load on every change of the payload.
#[test]
fn groups_of_one_byte_fields_load_from_their_own_offsets() {
    let wire = [
        0x01, 0x02, 0x03, 0x04, // w
        0x81, 0xfe, 0x02, // a, b, on (2: true)
        0x05, 0x06, // h
        0x07, 0x00, 0x09, // c, off, d
        0x0a, 0x0b, // arr
        0xf0, 0x0c, // e, f
    ];
    let want = bytes_sample();
    for ctx in [Context::new(), Context::new().with_strict_bool(true)] {
        let mut dev = Bytes::default();
        let res = dev.load(&mut Reader::from_slice(&wire), 1, &ctx);
        if ctx.strict_bool {
            assert!(res.is_err(), "strict_bool refuses 2 for a bool");
        } else {
            res.unwrap();
            assert_eq!(dev, want);
        }
    }
    let mut dev = Bytes::default();
    dev.load_state_in_place(&mut Reader::from_slice(&wire), 1, &Context::new())
        .unwrap();
    assert_eq!(dev, want);
    every_change_loads_alike::<Bytes>(&wire, 1);
}

/// The save moves the same groups, each from its own fields to its own
/// bytes, into a `Vec` (through a stack array) and into a caller's buffer
/// (straight); a bool is saved as `01`.
#[test]
fn groups_of_one_byte_fields_save_at_their_own_offsets() {
    let mut dev = bytes_sample();
    let wire = [
        0x01, 0x02, 0x03, 0x04, 0x81, 0xfe, 0x01, 0x05, 0x06, 0x07, 0x00, 0x09, 0x0a, 0x0b, 0xf0,
        0x0c,
    ];
    assert_eq!(dev.to_bytes(&Context::new()).unwrap(), wire);
    let mut buf = [0x55u8; 17];
    let n = dev.save_to_slice(&mut buf, &Context::new()).unwrap();
    assert_eq!((&buf[..n], buf[n]), (&wire[..], 0x55));
}
