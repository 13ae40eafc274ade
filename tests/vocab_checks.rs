//! Load-time checks: `validate`, `min`/`max`, and the HPET count
//! (CVE-2013-4527) that combines them.
//!
//! Every golden byte string is typed in from QEMU's documented encoding
//! (docs/wire-format.md): integers big-endian two's complement; a VARRAY
//! sends its elements only (the count lives in an earlier field); `buffer`
//! sends raw bytes; `unused_buffer` sends zeros; `bitmap` sends
//! ceil(nbits/64) be64 words; `timer` is be64 with -1 for "not armed";
//! queues are `01` + element ... `00`; a GTree is be32 count, `01` + key +
//! value ..., `00`; a null pointer slot is `30`. None of them is produced
//! by this crate.

use std::cell::Cell;
use std::fmt::Debug;

use vmstate_core::desc::Check;
use vmstate_core::types::Timer;
use vmstate_core::{ErrorKind, FieldKind, Reader, VmState};
use vmstate_qemu::hpet::{HpetTimer, HPET_MAX_TIMERS, HPET_MIN_TIMERS};

#[path = "support/vocab.rs"]
mod vocab;
use vocab::*;

// ---------------------------------------------------------------------------
// validate = path: VMSTATE_VALIDATE
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "validated", version = 3, minimum_version = 1)]
struct Validated {
    level: u32,
    #[vmstate(validate = Self::levels_16_bit, rename = "irq levels are 16 bit")]
    _check: (),
    after: u8,
    #[vmstate(skip)]
    seen_version: Cell<u32>,
}

impl Validated {
    fn levels_16_bit(&self, version: u32) -> bool {
        self.seen_version.set(version);
        self.level <= 0xffff
    }
}

#[test]
fn validate_true_is_invisible_on_the_wire() {
    let mut v = Validated {
        level: 0x1234,
        after: 0xab,
        ..Validated::default()
    };
    assert_eq!(save(&mut v), [0x00, 0x00, 0x12, 0x34, 0xab]);
    assert_eq!(v.seen_version.get(), 3, "save runs it at the save version");
    let mut d = Validated::default();
    d.load(&mut Reader::from_slice(&[0, 0, 0, 9, 0xcd]), 2, &ctx())
        .unwrap();
    assert_eq!((d.level, d.after, d.seen_version.get()), (9, 0xcd, 2));
    let f = field::<Validated>("irq levels are 16 bit");
    assert_eq!((f.info, f.kind, f.elem_size), ("", FieldKind::Validate, 0));
}

/// A validate puts nothing on the wire (QEMU: `VMS_ARRAY` with `num = 0`),
/// so its description's wire size is 0, not "varies".
#[test]
fn validate_wire_size_is_zero() {
    assert_eq!(
        field::<Validated>("irq levels are 16 bit").wire_size(),
        Some(0)
    );
}

#[test]
fn validate_false_is_a_load_error_with_the_message() {
    let mut d = Validated::default();
    let e = load_err(&mut d, &[0x00, 0x01, 0x00, 0x00, 0xab], 3, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Invalid {
                message: "irq levels are 16 bit"
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 4, "it runs at its position, after `level`");
    assert_eq!(e.path(), "validated/irq levels are 16 bit");
    assert_eq!(
        e.to_string(),
        "validated/irq levels are 16 bit at byte 4: validation failed: irq levels are 16 bit"
    );
}

#[test]
fn validate_false_on_save_is_an_error() {
    // QEMU asserts; here it is an error.
    let mut v = Validated {
        level: 0x10000,
        ..Validated::default()
    };
    let e = v.to_bytes(&ctx()).unwrap_err();
    assert!(matches!(
        e.kind(),
        ErrorKind::Invalid {
            message: "irq levels are 16 bit"
        }
    ));
    assert_eq!(e.offset(), 4);
}

// ---------------------------------------------------------------------------
// min / max
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ranges", version = 1)]
struct Ranges {
    #[vmstate(max = 15)]
    head: u8,
    #[vmstate(min = -1, max = 7)]
    sel: i32,
    #[vmstate(min = 1)]
    div: u16,
    #[vmstate(min = -5, max = 5)]
    off: i8,
}

// head = 15, sel = -1, div = 1, off = -5: every bound exactly.
const RANGES_WIRE: [u8; 8] = [0x0f, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0xfb];

#[test]
fn min_max_accept_the_bounds() {
    let mut v = Ranges {
        head: 15,
        sel: -1,
        div: 1,
        off: -5,
    };
    assert_eq!(save(&mut v), RANGES_WIRE);
    let mut d = Ranges::default();
    load_all(&mut d, &RANGES_WIRE, 1);
    assert_eq!(d, v);
    // The other ends.
    load_all(&mut d, &[0x00, 0x00, 0x00, 0x00, 0x07, 0xff, 0xff, 0x05], 1);
    assert_eq!((d.head, d.sel, d.div, d.off), (0, 7, 0xffff, 5));
}

#[test]
fn min_max_description() {
    assert_eq!(
        field::<Ranges>("head").check,
        Check::Range { min: 0, max: 15 }
    );
    assert_eq!(
        field::<Ranges>("sel").check,
        Check::Range { min: -1, max: 7 }
    );
    assert!(matches!(
        field::<Ranges>("div").check,
        Check::Range { min: 1, .. }
    ));
    assert_eq!(field::<Ranges>("head").info, "uint8");
}

/// A field name, its first byte, replacement bytes, and the expected
/// found/min/max of the error.
type RangeCase = (&'static str, usize, &'static [u8], i128, i128, i128);

#[test]
fn min_max_out_of_range_is_an_error_naming_the_field() {
    // (field, its first byte, replacement bytes, found, min, max)
    let cases: [RangeCase; 6] = [
        ("head", 0, &[0x10], 16, 0, 15),
        ("sel", 1, &[0x00, 0x00, 0x00, 0x08], 8, -1, 7),
        ("sel", 1, &[0xff, 0xff, 0xff, 0xfe], -2, -1, 7),
        ("div", 5, &[0x00, 0x00], 0, 1, 0),
        ("off", 7, &[0x06], 6, -5, 5),
        ("off", 7, &[0xfa], -6, -5, 5),
    ];
    for (name, at, bytes, found, min, max) in cases {
        let mut wire = RANGES_WIRE;
        wire[at..at + bytes.len()].copy_from_slice(bytes);
        let mut d = Ranges::default();
        let e = load_err(&mut d, &wire, 1, &ctx());
        assert_eq!(e.path(), format!("ranges/{name}"), "{e}");
        match e.kind() {
            ErrorKind::OutOfRange {
                found: f,
                min: lo,
                max: hi,
            } => {
                assert_eq!((*f, *lo), (found, min), "{e}");
                // `min` alone has no type-specific upper bound.
                if name != "div" {
                    assert_eq!(*hi, max, "{e}");
                }
            }
            k => panic!("{name}: {k:?}"),
        }
        assert_eq!(e.offset(), at as u64, "checked right after {name} is read");
    }
    let mut d = Ranges::default();
    let mut wire = RANGES_WIRE;
    wire[0] = 0x10;
    assert_eq!(
        load_err(&mut d, &wire, 1, &ctx()).to_string(),
        "ranges/head at byte 0: value out of range: expected 0..=15, found 16"
    );
}

// ---------------------------------------------------------------------------
// HPET (CVE-2013-4527): a u8 count over a fixed array of 32 timers
// ---------------------------------------------------------------------------

/// QEMU 7.2's `vmstate_hpet` fields: the count is validated between the
/// counter and the array that uses it.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet", version = 2, minimum_version = 1, pre_load = Self::pre_load)]
struct Hpet {
    config: u64,
    isr: u64,
    hpet_counter: u64,
    #[vmstate(version = 2)]
    num_timers: u8,
    #[vmstate(validate = Self::num_timers_ok, rename = "num_timers in range")]
    _v: (),
    #[vmstate(count = num_timers)]
    timers: [HpetTimer; 32],
}

impl Hpet {
    /// Version 1 only supports 3 timers; later versions load the value.
    fn pre_load(&mut self) -> std::result::Result<(), String> {
        self.num_timers = HPET_MIN_TIMERS;
        Ok(())
    }
    fn num_timers_ok(&self, _version: u32) -> bool {
        (HPET_MIN_TIMERS..=HPET_MAX_TIMERS as u8).contains(&self.num_timers)
    }
}

/// The same layout without the validate: the capacity check alone.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "hpet", version = 2, minimum_version = 1)]
struct HpetUnchecked {
    config: u64,
    isr: u64,
    hpet_counter: u64,
    #[vmstate(version = 2)]
    num_timers: u8,
    #[vmstate(count = num_timers)]
    timers: [HpetTimer; 32],
}

const HPET_HEADER: [u8; 24] = [
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, // config
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // isr
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // hpet_counter
];

const HPET_TIMER0: [u8; 42] = [
    0x00, // tn
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, // config
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, // cmp
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // fsb
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, // period
    0x00, // wrap_flag
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // not armed
];

const HPET_TIMER1: [u8; 42] = [
    0x01, // tn
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, // config
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, // cmp
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // fsb
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // period
    0x01, // wrap_flag
    0x00, 0x00, 0x00, 0x00, 0x3b, 0x9a, 0xca, 0x00, // armed at 1e9 ns
];

const HPET_TIMER2: [u8; 42] = [
    0x02, // tn
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // config
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, // cmp
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // fsb
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // period
    0x00, // wrap_flag
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // not armed
];

fn hpet_timers() -> [HpetTimer; 3] {
    [
        HpetTimer {
            tn: 0,
            config: 4,
            cmp: 0x1000,
            fsb: 0,
            period: 0x10,
            wrap_flag: 0,
            qemu_timer: Timer::NOT_ARMED,
        },
        HpetTimer {
            tn: 1,
            config: 0xc,
            cmp: 0x2000,
            fsb: 0,
            period: 0,
            wrap_flag: 1,
            qemu_timer: Timer::armed(1_000_000_000),
        },
        HpetTimer {
            tn: 2,
            config: 0,
            cmp: 0xffff_ffff,
            fsb: 0,
            period: 0,
            wrap_flag: 0,
            qemu_timer: Timer::NOT_ARMED,
        },
    ]
}

fn hpet() -> Hpet {
    let mut h = Hpet {
        config: 3,
        isr: 0,
        hpet_counter: 1 << 32,
        num_timers: 3,
        ..Hpet::default()
    };
    h.timers[..3].clone_from_slice(&hpet_timers());
    // Timers beyond num_timers are not migrated.
    h.timers[3].cmp = 0xdead;
    h
}

/// Header, optional num_timers byte, then the given timers.
fn hpet_wire(num_timers: Option<u8>, timers: &[&[u8; 42]]) -> Vec<u8> {
    let mut w = HPET_HEADER.to_vec();
    w.extend(num_timers);
    for t in timers {
        w.extend_from_slice(&t[..]);
    }
    w
}

#[test]
fn hpet_round_trip_v2() {
    let wire = hpet_wire(Some(3), &[&HPET_TIMER0, &HPET_TIMER1, &HPET_TIMER2]);
    assert_eq!(wire.len(), 24 + 1 + 3 * 42);
    let mut h = hpet();
    assert_eq!(save(&mut h), wire);
    let mut d = Hpet::default();
    d.timers[3].cmp = 0xdead;
    load_all(&mut d, &wire, 2);
    assert_eq!(d, h);
    let f = field::<Hpet>("timers");
    assert_eq!(
        (
            f.info,
            f.kind,
            f.elem_size,
            f.length_from,
            f.vmsd.map(|v| v.name)
        ),
        (
            "struct",
            FieldKind::Struct,
            0,
            Some("num_timers"),
            Some("hpet_timer")
        )
    );
    assert_eq!(
        field::<Hpet>("num_timers in range").kind,
        FieldKind::Validate
    );
}

#[test]
fn hpet_v1_stream_uses_the_pre_load_count() {
    // Version 1 has no num_timers on the wire: pre_load sets 3.
    let wire = hpet_wire(None, &[&HPET_TIMER0, &HPET_TIMER1, &HPET_TIMER2]);
    let mut d = Hpet {
        num_timers: 32,
        ..Hpet::default()
    };
    load_all(&mut d, &wire, 1);
    assert_eq!(d.num_timers, 3);
    assert_eq!(d.timers[..3], hpet_timers());
}

#[test]
fn hpet_num_timers_40_is_rejected_by_validate() {
    // num_timers = 40, followed by as many timer bytes as a naive loader
    // would consume.
    let mut wire = hpet_wire(Some(40), &[]);
    for _ in 0..40 {
        wire.extend_from_slice(&HPET_TIMER0);
    }
    let mut d = hpet();
    let e = load_err(&mut d, &wire, 2, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Invalid {
                message: "num_timers in range"
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 25);
    assert_eq!(
        e.to_string(),
        "hpet/num_timers in range at byte 25: validation failed: num_timers in range"
    );
    // Also below the minimum, which the capacity check alone accepts.
    let low = hpet_wire(Some(2), &[&HPET_TIMER0, &HPET_TIMER1]);
    let e = load_err(&mut d, &low, 2, &ctx());
    assert!(matches!(e.kind(), ErrorKind::Invalid { .. }), "{e:?}");
    // In place: the validate stops the load before any timer moves.
    let mut r = Reader::from_slice(&wire);
    let e = d.load_state_in_place(&mut r, 2, &ctx()).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Invalid { .. }));
    assert_eq!(r.offset(), 25);
    assert_eq!(d.timers, hpet().timers);
}

#[test]
fn hpet_num_timers_40_is_rejected_by_the_capacity_check() {
    let mut wire = hpet_wire(Some(40), &[]);
    for _ in 0..40 {
        wire.extend_from_slice(&HPET_TIMER0);
    }
    let mut d = HpetUnchecked {
        num_timers: 3,
        ..HpetUnchecked::default()
    };
    d.timers[..3].clone_from_slice(&hpet_timers());
    let e = load_err(&mut d, &wire, 2, &ctx());
    assert!(
        matches!(
            e.kind(),
            ErrorKind::LengthOutOfRange {
                field: "num_timers",
                found: 40,
                multiply: 1,
                max: 32
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), 25);
    assert!(
        e.to_string()
            .ends_with("at byte 25: length from `num_timers` out of range: 40, expected 0..=32"),
        "{e}"
    );
    let before = d.timers.clone();
    let mut r = Reader::from_slice(&wire);
    d.load_state_in_place(&mut r, 2, &ctx()).unwrap_err();
    assert_eq!(r.offset(), 25, "no timer byte was read");
    assert_eq!(d.timers, before);
    // 32 is the most the array holds, and loads.
    let mut ok = hpet_wire(Some(32), &[]);
    for _ in 0..32 {
        ok.extend_from_slice(&HPET_TIMER1);
    }
    load_all(&mut d, &ok, 2);
    assert!(d.timers.iter().all(|t| t.tn == 1));
}

#[test]
fn hpet_capacity_error_names_the_array() {
    let wire = hpet_wire(Some(40), &[]);
    let e = load_err(&mut HpetUnchecked::default(), &wire, 2, &ctx());
    assert_eq!(e.path(), "hpet/timers");
    assert_eq!(
        e.to_string(),
        "hpet/timers at byte 25: length from `num_timers` out of range: 40, expected 0..=32"
    );
}

// ---------------------------------------------------------------------------
// Renamed length fields
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "renamed", version = 1)]
struct Renamed {
    #[vmstate(rename = "mac_table.in_use")]
    in_use: u32,
    #[vmstate(count = in_use, rename = "mac_table.macs")]
    macs: Vec<u8>,
}

/// `length_from` must name a field of the description, i.e. the count
/// field's description name, so that tools can resolve it.
#[test]
fn length_from_uses_the_description_name() {
    let f = field::<Renamed>("mac_table.macs");
    assert_eq!(f.length_from, Some("mac_table.in_use"));
    assert!(Renamed::VMSD
        .fields
        .iter()
        .any(|g| Some(g.name) == f.length_from));
}
