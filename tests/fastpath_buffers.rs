//! Runs of fixed-size fields with `buffer` pieces, saved into a `Vec`:
//! a run longer than the stack array appends each buffer from its field
//! and encodes the stretches between them (on the stack, or into the
//! grown `Vec` when a stretch is long too); a run that holds a long
//! nested struct with a buffer saves field by field, the struct by its own
//! split. Every layout must give QEMU's
//! encoding, written out here field by field, and the same bytes as an io
//! sink (field by field) and as a caller's buffer (encoded in place),
//! appended after what the `Vec` held, whatever its capacity.

use vmstate_core::{Context, VmState, Writer};

#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "fb/leaf", version = 1)]
struct Leaf {
    a: u32,
    on: bool,
}

/// Buffers first, in the middle, last, whole and in part, next to byte
/// groups, a gap, a nested struct and a stretch longer than the stack
/// array (`regs`, 80 bytes).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "fb/every", version = 1)]
struct Every {
    #[vmstate(buffer)]
    head: [u8; 24],
    x: u8,
    y: u8,
    #[vmstate(buffer, start = 10, size = 70)]
    part: [u8; 100],
    #[vmstate(buffer)]
    next: [u8; 5],
    regs: [u32; 20],
    #[vmstate(unused = 5)]
    _gap: (),
    leaf: Leaf,
    #[vmstate(buffer, size = 3)]
    tail: [u8; 9],
}

fn every() -> Every {
    let bytes =
        |n: usize, k: u8| -> Vec<u8> { (0..n).map(|i| (i as u8).wrapping_mul(k)).collect() };
    Every {
        head: bytes(24, 3).try_into().unwrap(),
        x: 0xa1,
        y: 0xb2,
        part: bytes(100, 5).try_into().unwrap(),
        next: [0x05, 1, 2, 3, 4],
        regs: std::array::from_fn(|i| 0x0102_0304 * (i as u32 + 1)),
        _gap: (),
        leaf: Leaf {
            a: 0xdead_beef,
            on: true,
        },
        tail: [7, 8, 9, 10, 11, 12, 13, 14, 15],
    }
}

/// QEMU's encoding of [`Every`], field by field.
fn every_wire(d: &Every) -> Vec<u8> {
    let mut w = Vec::new();
    w.extend_from_slice(&d.head);
    w.extend_from_slice(&[d.x, d.y]);
    w.extend_from_slice(&d.part[10..80]);
    w.extend_from_slice(&d.next);
    for r in d.regs {
        w.extend_from_slice(&r.to_be_bytes());
    }
    w.extend_from_slice(&[0; 5]);
    w.extend_from_slice(&d.leaf.a.to_be_bytes());
    w.push(u8::from(d.leaf.on));
    w.extend_from_slice(&d.tail[..3]);
    w
}

/// One buffer between stretches, after a `pre_save` hook that writes what
/// the save reads (QEMU's `global_state_pre_save`).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "fb/hooked", version = 1, pre_save = Self::pre_save)]
struct Hooked {
    size: u32,
    #[vmstate(buffer)]
    name: [u8; 100],
    a: u8,
    b: u8,
}

impl Hooked {
    fn pre_save(&mut self) -> Result<(), std::convert::Infallible> {
        self.size = self.name.iter().position(|&c| c == 0).unwrap_or(100) as u32 + 1;
        self.b = self.a.wrapping_add(1);
        Ok(())
    }
}

/// Runs under two version gates, merged at the current version.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "fb/gated", version = 2)]
struct Gated {
    a: u16,
    #[vmstate(buffer)]
    one: [u8; 64],
    #[vmstate(version = 2)]
    b: u32,
    #[vmstate(version = 2, buffer)]
    two: [u8; 40],
}

/// `Parent` saves `Gated` at version 1 too (`struct_version`).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "fb/parent", version = 1)]
struct Parent {
    #[vmstate(struct_version = 1)]
    old: Gated,
    #[vmstate(struct_version = 2)]
    new: Gated,
}

fn gated() -> Gated {
    Gated {
        a: 0x1234,
        one: std::array::from_fn(|i| i as u8),
        b: 0x5678_9abc,
        two: std::array::from_fn(|i| 0xff - i as u8),
    }
}

/// The saves of `dev` into an empty `Vec`, into `Vec`s that held bytes
/// (with and without room), through an io sink and into a caller's
/// buffer, which must all give `want`.
fn saves_give<T: VmState>(dev: &mut T, want: &[u8]) {
    let ctx = Context::new();
    assert!(want.len() > 64, "longer than the stack array");
    assert_eq!(dev.to_bytes(&ctx).unwrap(), want, "to_bytes");
    for (held, cap) in [(0, 0), (3, 3), (7, 4096), (1, want.len() + 1)] {
        let mut v = Vec::with_capacity(cap);
        v.extend(std::iter::repeat_n(0xee, held));
        dev.save(&mut Writer::new(&mut v), &ctx).unwrap();
        assert_eq!(&v[..held], &vec![0xee; held][..], "held {held}");
        assert_eq!(&v[held..], want, "held {held}, capacity {cap}");
    }
    let mut io = Vec::new();
    dev.save(&mut Writer::from_write(&mut io), &ctx).unwrap();
    assert_eq!(io, want, "io sink");
    let mut buf = vec![0xaa; want.len()];
    let n = dev.save_to_slice(&mut buf, &ctx).unwrap();
    assert_eq!(&buf[..n], want, "caller's buffer");
}

#[test]
fn every_layout_of_buffers_saves_as_qemu_encodes_it() {
    let mut d = every();
    let want = every_wire(&d);
    saves_give(&mut d, &want);
    // The load takes it back.
    let mut back = Every {
        part: [0; 100],
        ..every()
    };
    back.part[..10].copy_from_slice(&d.part[..10]);
    back.part[80..].copy_from_slice(&d.part[80..]);
    back.head = [0; 24];
    back.load_exact(&want, 1, &Context::new()).unwrap();
    assert_eq!(back, d);
}

#[test]
fn a_buffer_after_a_pre_save_hook_saves_what_the_hook_wrote() {
    let mut name = [0u8; 100];
    name[..7].copy_from_slice(b"running");
    let mut d = Hooked {
        size: 0,
        name,
        a: 0x41,
        b: 0,
    };
    let mut want = 8u32.to_be_bytes().to_vec();
    want.extend_from_slice(&name);
    want.extend_from_slice(&[0x41, 0x42]);
    saves_give(&mut d, &want);
    assert_eq!((d.size, d.b), (8, 0x42));
}

#[test]
fn merged_runs_with_buffers_save_at_every_version() {
    let mut p = Parent {
        old: gated(),
        new: gated(),
    };
    let g = gated();
    let mut want = Vec::new();
    // Version 1: `a` and `one`.
    want.extend_from_slice(&g.a.to_be_bytes());
    want.extend_from_slice(&g.one);
    // Version 2: all of it.
    want.extend_from_slice(&g.a.to_be_bytes());
    want.extend_from_slice(&g.one);
    want.extend_from_slice(&g.b.to_be_bytes());
    want.extend_from_slice(&g.two);
    saves_give(&mut p, &want);
    saves_give(&mut gated(), &want[2 + 64..]);
}

/// A nested struct longer than the stack array that holds a buffer (as
/// QEMU's PS/2 queue does): a parent's long run into a `Vec` saves field
/// by field, and the struct's own save appends its buffer, instead of
/// growing the run as zeros and copying the buffer over them
/// (`VmField::SAVE_ALONE`).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "fb/queue", version = 1)]
struct Queue {
    rptr: i32,
    wptr: i32,
    #[vmstate(buffer)]
    data: [u8; 96],
    count: u16,
}

/// Short: its zero fill is a few stores, so it is encoded in its run.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "fb/small", version = 1)]
struct Small {
    n: u8,
    #[vmstate(buffer)]
    b: [u8; 8],
}

/// Two levels: a queue inside a struct with no buffer of its own.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "fb/outer", version = 1)]
struct Outer {
    id: u32,
    q: Queue,
    leaf: Leaf,
}

/// Nested queues alone, in an array, boxed and two levels down, next to
/// nested structs that do not save alone, in a run with no `buffer` of its
/// own.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "fb/nested", version = 1)]
struct Nested {
    a: u32,
    q: Queue,
    leaf: Leaf,
    pair: [Queue; 2],
    small: Small,
    boxed: Box<Queue>,
    outer: Outer,
    z: u8,
}

/// A run with a `buffer` of its own and a nested queue.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "fb/both", version = 2)]
struct Both {
    #[vmstate(buffer)]
    head: [u8; 70],
    leaf: Leaf,
    q: Queue,
    small: Small,
    #[vmstate(version = 2)]
    late: Queue,
    #[vmstate(version = 2)]
    x: u32,
}

/// `Both` at version 1 (one gate passed) and 2.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "fb/both_parent", version = 1)]
struct BothParent {
    #[vmstate(struct_version = 1)]
    old: Both,
    #[vmstate(struct_version = 2)]
    new: Both,
}

fn queue(k: u8) -> Queue {
    Queue {
        rptr: -2 - i32::from(k),
        wptr: 0x0102_0304 + i32::from(k),
        data: std::array::from_fn(|i| (i as u8).wrapping_mul(k | 1)),
        count: 0xa0b0 + u16::from(k),
    }
}

fn queue_wire(w: &mut Vec<u8>, q: &Queue) {
    w.extend_from_slice(&q.rptr.to_be_bytes());
    w.extend_from_slice(&q.wptr.to_be_bytes());
    w.extend_from_slice(&q.data);
    w.extend_from_slice(&q.count.to_be_bytes());
}

fn leaf_wire(w: &mut Vec<u8>, l: &Leaf) {
    w.extend_from_slice(&l.a.to_be_bytes());
    w.push(u8::from(l.on));
}

fn small_wire(w: &mut Vec<u8>, s: &Small) {
    w.push(s.n);
    w.extend_from_slice(&s.b);
}

fn nested() -> Nested {
    Nested {
        a: 0x1122_3344,
        q: queue(1),
        leaf: Leaf { a: 7, on: true },
        pair: [queue(2), queue(3)],
        small: Small {
            n: 9,
            b: *b"smallbuf",
        },
        boxed: Box::new(queue(4)),
        outer: Outer {
            id: 0x5566_7788,
            q: queue(5),
            leaf: Leaf { a: 8, on: false },
        },
        z: 0xfe,
    }
}

fn both() -> Both {
    Both {
        head: std::array::from_fn(|i| 0x80 ^ i as u8),
        leaf: Leaf { a: 3, on: true },
        q: queue(6),
        small: Small {
            n: 1,
            b: *b"12345678",
        },
        late: queue(7),
        x: 0xcafe_f00d,
    }
}

#[test]
fn which_types_save_alone() {
    use vmstate_core::VmField;
    let cases = [
        ("Queue", <Queue as VmField>::SAVE_ALONE, true),
        ("[Queue; 2]", <[Queue; 2] as VmField>::SAVE_ALONE, true),
        ("Box<Queue>", <Box<Queue> as VmField>::SAVE_ALONE, true),
        // A queue two levels down.
        ("Outer", <Outer as VmField>::SAVE_ALONE, true),
        // Short.
        ("Small", <Small as VmField>::SAVE_ALONE, false),
        // No buffer.
        ("Leaf", <Leaf as VmField>::SAVE_ALONE, false),
        ("[u8; 96]", <[u8; 96] as VmField>::SAVE_ALONE, false),
        // Not fixed-size: never in a run.
        ("Hooked", <Hooked as VmField>::SAVE_ALONE, false),
    ];
    for (ty, got, want) in cases {
        assert_eq!(got, want, "{ty}");
    }
}

#[test]
fn nested_buffers_save_as_qemu_encodes_them() {
    let mut d = nested();
    let mut want = d.a.to_be_bytes().to_vec();
    queue_wire(&mut want, &d.q);
    leaf_wire(&mut want, &d.leaf);
    queue_wire(&mut want, &d.pair[0]);
    queue_wire(&mut want, &d.pair[1]);
    small_wire(&mut want, &d.small);
    queue_wire(&mut want, &d.boxed);
    want.extend_from_slice(&d.outer.id.to_be_bytes());
    queue_wire(&mut want, &d.outer.q);
    leaf_wire(&mut want, &d.outer.leaf);
    want.push(d.z);
    saves_give(&mut d, &want);
    saves_give(
        &mut d.outer.clone(),
        &want[want.len() - 1 - 5 - 106 - 4..want.len() - 1],
    );
    let mut back = nested();
    back.pair[1] = queue(0);
    back.outer.q = queue(0);
    back.load_exact(&want, 1, &Context::new()).unwrap();
    assert_eq!(back, d);
}

#[test]
fn nested_buffers_next_to_a_buffer_save_at_every_version() {
    let b = both();
    let mut v1 = b.head.to_vec();
    leaf_wire(&mut v1, &b.leaf);
    queue_wire(&mut v1, &b.q);
    small_wire(&mut v1, &b.small);
    let mut v2 = v1.clone();
    queue_wire(&mut v2, &b.late);
    v2.extend_from_slice(&b.x.to_be_bytes());
    saves_give(&mut both(), &v2);
    let mut p = BothParent {
        old: both(),
        new: both(),
    };
    saves_give(&mut p, &[v1, v2].concat());
}

/// A hand-written field type that says it saves alone, whose `save`
/// writes other bytes than its `encode_fixed` (which no real type may
/// do): which of the two a parent's save ran shows in the bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Spy(u8);

impl vmstate_core::VmField for Spy {
    const INFO: &'static str = "uint8";
    const ELEM_SIZE: usize = 1;
    const FIXED: bool = true;
    const FIXED_SIZE: usize = 1;
    const SAVE_ALONE: bool = true;

    fn save<W: vmstate_core::stream::Sink>(
        &mut self,
        w: &mut Writer<W>,
        ctx: &Context,
    ) -> vmstate_core::Result<()> {
        (!self.0).save(w, ctx)
    }

    fn load<S: vmstate_core::stream::Source>(
        &mut self,
        r: &mut vmstate_core::Reader<S>,
        ctx: &Context,
    ) -> vmstate_core::Result<()> {
        self.0.load(r, ctx)
    }

    fn encode_fixed(&self, b: &mut [u8]) {
        b[0] = self.0;
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "fb/spied", version = 1)]
struct Spied {
    regs: [u32; 20],
    spy: Spy,
    tail: u8,
}

#[test]
fn a_long_run_into_a_vec_saves_field_by_field_around_what_saves_alone() {
    let ctx = Context::new();
    let mut d = Spied {
        regs: [0x0101_0101; 20],
        spy: Spy(0x0f),
        tail: 0x33,
    };
    let mut v = Vec::new();
    d.save(&mut Writer::new(&mut v), &ctx).unwrap();
    assert_eq!(&v[80..], &[0xf0, 0x33], "saved alone into a Vec");
    let mut buf = [0u8; 82];
    d.save_to_slice(&mut buf, &ctx).unwrap();
    assert_eq!(&buf[80..], &[0x0f, 0x33], "encoded in place");
}
