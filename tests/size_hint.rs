//! `VmState::payload_size_hint`, what `to_bytes` sizes its vector by:
//! every role that writes bytes counts them, from the state (a counted
//! `Vec` by its length, a nested struct by its own hint), so that a
//! payload with no static bound takes one allocation. A hint that runs
//! short only costs regrowths, one that runs over a little memory; these
//! tests pin it exact where the state says what is sent.

use vmstate_core::codec::Codec;
use vmstate_core::stream::{Sink, Source};
use vmstate_core::{Context, Reader, Result, VmField, VmState, Writer};

/// Four bytes on the wire for a `u16` (a device-private `VMStateInfo`).
struct Wide16;
impl Codec<u16> for Wide16 {
    const INFO: &'static str = "wide16";
    const SIZE: usize = 4;
    fn save<W: Sink>(v: &mut u16, w: &mut Writer<W>, _: &Context) -> Result<()> {
        w.put_u32(u32::from(*v))
    }
    fn load<S: Source>(v: &mut u16, r: &mut Reader<S>, _: &Context) -> Result<()> {
        *v = r.get_u32()? as u16;
        Ok(())
    }
}

#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "elem", version = 1)]
struct Elem {
    a: u32,
    b: u8,
}

/// A nested struct whose size depends on its state.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "grows", version = 1)]
struct Grows {
    n: u8,
    #[vmstate(count = n)]
    words: Vec<u64>,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "versioned", version = 2)]
struct Versioned {
    a: u16,
    #[vmstate(version = 2)]
    b: u32,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "every/sub", version = 1)]
struct Sub {
    n: u16,
    #[vmstate(count = n)]
    elems: Vec<Elem>,
}

#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "every", version = 3)]
struct Every {
    n: u32,
    #[vmstate(count = n)]
    ints: Vec<u32>,
    #[vmstate(count = n)]
    elems: Vec<Elem>,
    #[vmstate(count = n)]
    grows: Vec<Grows>,
    #[vmstate(buffer, start = 2, size = 4)]
    part: [u8; 8],
    len: u8,
    #[vmstate(vbuffer = len)]
    bytes: Vec<u8>,
    bits: u32,
    #[vmstate(bitmap = bits)]
    map: Vec<u64>,
    #[vmstate(unused = 3)]
    _gap: (),
    slots: [Option<Box<Elem>>; 3],
    boxed: Box<Grows>,
    #[vmstate(with = Wide16)]
    wide: u16,
    #[vmstate(struct_version = 1)]
    old: Versioned,
    nested: [Grows; 2],
    #[vmstate(subsection)]
    sub: Sub,
}

fn grows(n: u8) -> Grows {
    Grows {
        n,
        words: (0..u64::from(n)).collect(),
    }
}

fn every(n: u32) -> Every {
    let elem = |i: u32| Elem { a: i, b: i as u8 };
    Every {
        n,
        ints: (0..n).collect(),
        elems: (0..n).map(elem).collect(),
        grows: (0..n).map(|i| grows(i as u8)).collect(),
        part: [1; 8],
        len: 5,
        bytes: vec![7; 5],
        bits: 130,
        map: vec![1, 2, 3],
        _gap: (),
        slots: [Some(Box::new(elem(1))), None, Some(Box::new(elem(2)))],
        boxed: Box::new(grows(3)),
        wide: 9,
        old: Versioned::default(),
        nested: [grows(1), grows(4)],
        sub: Sub {
            n: 2,
            elems: vec![elem(5), elem(6)],
        },
    }
}

#[test]
fn the_hint_of_every_role_is_what_the_save_writes() {
    let ctx = Context::new();
    for n in [0, 1, 7, 300] {
        let mut dev = every(n);
        let hint = dev.payload_size_hint();
        let bytes = dev.to_bytes(&ctx).unwrap();
        // The one overcount: `old`, saved at version 1, counts its
        // version-2 `u32` (a hint runs no version gates).
        assert_eq!(hint, bytes.len() + 4, "n = {n}");
        // The hint is of the state, not of a stream: it reads nothing.
        let mut back = every(n);
        back.load_exact(&bytes, 3, &ctx).unwrap();
        assert_eq!(back, dev);
    }
}

#[test]
fn nested_values_add_up_their_contents() {
    assert_eq!(grows(5).size_hint(), 1 + 5 * 8);
    assert_eq!([grows(1), grows(2)].size_hint(), (1 + 8) + (1 + 16));
    assert_eq!(Box::new(grows(2)).size_hint(), 1 + 16);
    // A null slot is its one marker byte.
    assert_eq!(None::<Elem>.size_hint(), 1);
    assert_eq!(Some(Elem::default()).size_hint(), 5);
    // Fixed-size types: their static size, whatever the values.
    assert_eq!([Elem::default(); 4].size_hint(), 20);
    assert_eq!(0u64.size_hint(), 8);
}

#[test]
fn a_payload_of_static_size_hints_that_size() {
    #[derive(VmState, Clone, Default)]
    #[vmstate(name = "bounded", version = 1)]
    struct Bounded {
        a: u32,
        b: [u16; 3],
    }
    assert_eq!(Bounded::default().payload_size_hint(), 10);
    assert_eq!(Bounded::MAX_PAYLOAD, 10);
}
