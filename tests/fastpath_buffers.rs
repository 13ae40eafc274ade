//! Runs of fixed-size fields with `buffer` pieces, saved into a `Vec`:
//! a run longer than the stack array appends each buffer from its field
//! and encodes the stretches between them (on the stack, or into the
//! grown `Vec` when a stretch is long too). Every layout must give QEMU's
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
