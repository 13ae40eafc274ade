//! Load-time checks: QEMU's `*_EQUAL` infos, `INT32_POSITIVE_LE`, strict
//! bools, and version-gated `unused` bytes. Expected bytes follow QEMU's
//! encoding rules (docs/wire-format.md#leaf-values): big-endian, two's complement.

use vmstate_core::desc::Check;
use vmstate_core::{Context, ErrorKind, Reader, VmState};

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "eq", version = 1)]
struct Equals {
    #[vmstate(equal)]
    a: u8,
    #[vmstate(equal)]
    b: u16,
    #[vmstate(equal, hint = "ioapic count differs")]
    c: u32,
    #[vmstate(equal)]
    d: u64,
    #[vmstate(equal)]
    e: i32,
}

fn equals() -> Equals {
    Equals {
        a: 1,
        b: 0x0203,
        c: 0x0405_0607,
        d: 0x0809_0a0b_0c0d_0e0f,
        e: -2,
    }
}

const EQ_WIRE: [u8; 19] = [
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xff,
    0xff, 0xff, 0xfe,
];

#[test]
fn equal_info_names_are_qemus() {
    let infos: Vec<_> = Equals::VMSD.fields.iter().map(|f| f.info).collect();
    // u64's codec is QEMU's `int64 equal` (sic).
    assert_eq!(
        infos,
        [
            "uint8 equal",
            "uint16 equal",
            "uint32 equal",
            "int64 equal",
            "int32 equal"
        ]
    );
    assert_eq!(
        Equals::VMSD.fields[2].check,
        Check::Equal {
            hint: Some("ioapic count differs")
        }
    );
}

#[test]
fn equal_saves_plainly_and_loads_only_matching_values() {
    let mut v = equals();
    assert_eq!(v.to_bytes(&Context::new()).unwrap(), EQ_WIRE);
    v.load_from_slice(&EQ_WIRE, &Context::new()).unwrap();
    assert_eq!(v, equals());

    // Each field in turn differs: the error names it, shows both values,
    // and the destination is untouched.
    let offsets = [0usize, 1, 3, 7, 15];
    let names = ["a", "b", "c", "d", "e"];
    for (off, name) in offsets.into_iter().zip(names) {
        let mut wire = EQ_WIRE;
        wire[off] ^= 0x80;
        let mut v = equals();
        let e = v.load_from_slice(&wire, &Context::new()).unwrap_err();
        assert_eq!(e.path(), format!("eq/{name}"));
        assert_eq!(e.offset(), off as u64);
        assert!(matches!(e.kind(), ErrorKind::NotEqual { .. }), "{e}");
        assert_eq!(v, equals());
    }
    let mut wire = EQ_WIRE;
    wire[6] = 0;
    let e = equals()
        .load_from_slice(&wire, &Context::new())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "eq/c at byte 3: value must equal the destination's: expected 0x4050607, found 0x4050600 (ioapic count differs)"
    );
}

#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "le", version = 1)]
struct Le {
    #[vmstate(positive_le)]
    len: i32,
}

#[test]
fn positive_le_accepts_zero_to_current_and_stores() {
    assert_eq!(Le::VMSD.fields[0].info, "int32 le");
    for (wire, ok) in [
        ([0, 0, 0, 0], Some(0)),
        ([0, 0, 0, 16], Some(16)),
        ([0, 0, 0, 17], None),
        ([0xff, 0xff, 0xff, 0xff], None),
        ([0x80, 0, 0, 0], None),
    ] {
        let mut v = Le { len: 16 };
        let res = v.load_from_slice(&wire, &Context::new());
        match ok {
            Some(n) => {
                res.unwrap();
                assert_eq!(v.len, n);
            }
            None => {
                let e = res.unwrap_err();
                assert!(
                    matches!(
                        e.kind(),
                        ErrorKind::OutOfRange {
                            min: 0,
                            max: 16,
                            ..
                        }
                    ),
                    "{e}"
                );
                assert_eq!(e.path(), "le/len");
                assert_eq!(v.len, 16);
            }
        }
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "flags", version = 2)]
struct Flags {
    on: bool,
    #[vmstate(unused = 3, version = 2)]
    _gap: (),
    levels: [bool; 2],
}

#[test]
fn bools_and_version_gated_unused() {
    let mut f = Flags {
        on: true,
        levels: [false, true],
        ..Flags::default()
    };
    assert_eq!(f.to_bytes(&Context::new()).unwrap(), [1, 0, 0, 0, 0, 1]);
    let desc = &Flags::VMSD.fields[1];
    assert_eq!(
        (desc.name, desc.info, desc.elem_size, desc.version_id),
        ("unused", "unused_buffer", 3, 2)
    );

    // v2: unused bytes are skipped whatever they hold; bools take any
    // non-zero byte as true, as QEMU does.
    let mut g = Flags::default();
    g.load(
        &mut Reader::from_slice(&[0x02, 0xaa, 0xbb, 0xcc, 0x00, 0xff]),
        2,
        &Context::new(),
    )
    .unwrap();
    assert_eq!((g.on, g.levels), (true, [false, true]));
    // v1: no unused bytes on the wire.
    let mut g = Flags::default();
    g.load(&mut Reader::from_slice(&[1, 1, 0]), 1, &Context::new())
        .unwrap();
    assert_eq!((g.on, g.levels), (true, [true, false]));
    // Strict mode refuses 0x02, naming the element.
    let strict = Context::new().with_strict_bool(true);
    let e = g
        .load(&mut Reader::from_slice(&[1, 1, 2]), 1, &strict)
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidBool { found: 2 }));
    assert_eq!(e.path(), "flags/levels[1]");
    assert_eq!(e.offset(), 2);
}

#[test]
fn io_reader_gives_the_same_results_as_slices() {
    let mut v = equals();
    let mut r = Reader::new(&EQ_WIRE[..]);
    v.load(&mut r, 1, &Context::new()).unwrap();
    assert_eq!(r.offset(), EQ_WIRE.len() as u64);
    let mut r = Reader::new(&EQ_WIRE[..10]);
    let e = v.load(&mut r, 1, &Context::new()).unwrap_err();
    assert_eq!((e.path(), e.offset()), ("eq/d".to_string(), 7));
}
