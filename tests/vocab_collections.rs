//! Queues and trees (`qtailq`, `qlist`, `gtree`), `Timer`, and `Box<T>` /
//! `Option<T>` pointer slots.
//!
//! Every golden byte string is typed in from QEMU's documented encoding
//! (docs/wire-format.md): integers big-endian two's complement; a VARRAY
//! sends its elements only (the count lives in an earlier field); `buffer`
//! sends raw bytes; `unused_buffer` sends zeros; `bitmap` sends
//! ceil(nbits/64) be64 words; `timer` is be64 with -1 for "not armed";
//! queues are `01` + element ... `00`; a GTree is be32 count, `01` + key +
//! value ..., `00`; a null pointer slot is `30`. None of them is produced
//! by this crate.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Debug;

use vmstate_core::types::Timer;
use vmstate_core::{ErrorKind, FieldKind, VmState, Writer};
use vmstate_migration::record;

#[path = "support/vocab.rs"]
mod vocab;
use vocab::*;

// ---------------------------------------------------------------------------
// qtailq / qlist / gtree
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "req", version = 2, minimum_version = 1)]
struct Req {
    id: u32,
    #[vmstate(version = 2)]
    flags: u8,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "tag", version = 0)]
struct Tag {
    v: u16,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "reqs", version = 2)]
struct Reqs {
    // Elements are loaded at the field's version (QEMU's QTAILQ_V).
    #[vmstate(qtailq, version = 2)]
    pending: Vec<Req>,
    #[vmstate(qlist)]
    done: VecDeque<Tag>,
    #[vmstate(gtree)]
    by_addr: BTreeMap<u64, Tag>,
}

const REQS_WIRE: [u8; 44] = [
    0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, // pending[0]: id 1, flags 0x0a
    0x01, 0x00, 0x00, 0x00, 0x02, 0x0b, // pending[1]
    0x00, // end of queue
    0x01, 0x01, 0x02, // done[0]: v = 0x0102
    0x00, // end of list
    0x00, 0x00, 0x00, 0x02, // gtree: 2 nodes
    0x01, 0, 0, 0, 0, 0, 0, 0x00, 0x20, 0x00, 0x08, // key 0x20 -> v 8
    0x01, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0x00, 0x07, // key 0x1000 -> v 7
    0x00, // end of tree
];

fn reqs() -> Reqs {
    Reqs {
        pending: vec![Req { id: 1, flags: 0x0a }, Req { id: 2, flags: 0x0b }],
        done: VecDeque::from([Tag { v: 0x0102 }]),
        by_addr: BTreeMap::from([(0x1000, Tag { v: 7 }), (0x20, Tag { v: 8 })]),
    }
}

#[test]
fn queues_and_tree_round_trip() {
    assert_eq!(save(&mut reqs()), REQS_WIRE);
    let mut d = Reqs {
        pending: vec![Req::default(); 5],
        ..Reqs::default()
    };
    load_all(&mut d, &REQS_WIRE, 2);
    assert_eq!(d, reqs());
    // Empty collections: one end marker each, and a zero node count.
    let mut e = Reqs::default();
    assert_eq!(save(&mut e), [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
}

#[test]
fn queue_field_version_gates_the_field() {
    // A version-1 stream has no `pending` at all.
    let mut d = reqs();
    load_all(&mut d, &REQS_WIRE[13..], 1);
    assert_eq!(d.pending, reqs().pending, "absent field left alone");
    assert_eq!(d.by_addr, reqs().by_addr);
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "reqs_v1", version = 1)]
struct ReqsV1 {
    #[vmstate(qtailq, version = 1)]
    pending: Vec<Req>,
}

/// QEMU loads queue elements at the *field's* version (here 1), not the
/// element description's own (2), and saves them at their own version:
/// `Req::flags` (version 2) is written but not read back.
#[test]
fn queue_elements_load_at_the_field_version() {
    let mut v = ReqsV1 {
        pending: vec![Req { id: 5, flags: 9 }],
    };
    assert_eq!(save(&mut v), [0x01, 0x00, 0x00, 0x00, 0x05, 0x09, 0x00]);
    let mut d = ReqsV1::default();
    load_all(&mut d, &[0x01, 0x00, 0x00, 0x00, 0x05, 0x00], 1);
    assert_eq!(d.pending, [Req { id: 5, flags: 0 }]);
}

#[test]
fn queue_and_tree_descriptions() {
    let got: Vec<_> = Reqs::VMSD
        .fields
        .iter()
        .map(|f| (f.name, f.info, f.kind, f.vmsd.map(|v| v.name), f.version_id))
        .collect();
    assert_eq!(
        got,
        [
            ("pending", "qtailq", FieldKind::Queue, Some("req"), 2),
            ("done", "qlist", FieldKind::Queue, Some("tag"), 0),
            ("by_addr", "gtree", FieldKind::Gtree, Some("tag"), 0),
        ]
    );
}

/// The vmdesc of queue and tree fields, as QEMU 7.2 writes it: the field
/// object (`name`, `type`) gets each element's description written into it
/// by `put_qtailq`/`put_qlist`/`put_gtree` (keys repeat, one set per element;
/// a struct key's set comes before its value's, a direct key has none),
/// then `size`, the bytes of the whole field.
#[test]
fn queue_and_tree_vmdesc_repeat_element_descriptions() {
    let req = r#""vmsd_name": "req", "version": 2, "fields": [{"name": "id", "type": "uint32", "size": 4}, {"name": "flags", "type": "uint8", "size": 1}]"#;
    let tag = r#""vmsd_name": "tag", "version": 0, "fields": [{"name": "v", "type": "uint16", "size": 2}]"#;
    let expected = format!(
        concat!(
            r#"{{"name": "reqs", "instance_id": 0, "vmsd_name": "reqs", "version": 2, "fields": ["#,
            r#"{{"name": "pending", "type": "qtailq", {req}, {req}, "size": 13}}, "#,
            r#"{{"name": "done", "type": "qlist", {tag}, "size": 4}}, "#,
            r#"{{"name": "by_addr", "type": "gtree", {tag}, {tag}, "size": 27}}]}}"#,
        ),
        req = req,
        tag = tag,
    );
    let mut out = Vec::new();
    let mut w = Writer::recording(&mut out);
    reqs().save(&mut w, &ctx()).unwrap();
    let rec = w.take_record().unwrap();
    assert_eq!(out, REQS_WIRE);
    assert_eq!(record::section_json("reqs", 0, &rec), expected);

    // A stream with that trailer parses (repeated keys: the last wins, as
    // in Python's json), and the queue fields decode as raw bytes of their
    // recorded size, as analyze-migration.py reads them.
    use vmstate_migration::{DeviceStreamWriter, ReadOptions, Stream, WriteOptions};
    let mut w = DeviceStreamWriter::new(Vec::new(), WriteOptions::default(), ctx()).unwrap();
    w.section("reqs", 0, &mut reqs()).unwrap();
    let bytes = w.finish(4096).unwrap();
    let stream = Stream::parse(&bytes, ReadOptions::default()).unwrap();
    let s = stream.section("reqs", 0).unwrap();
    assert_eq!(s.vmsd().unwrap().bytes, REQS_WIRE);
    assert_eq!(stream.to_bytes().unwrap(), bytes);

    // Empty collections: no element descriptions, only the markers' size.
    let mut w = Writer::recording(Vec::new());
    Reqs::default().save(&mut w, &ctx()).unwrap();
    let rec = w.take_record().unwrap();
    assert_eq!(
        record::section_json("reqs", 0, &rec),
        concat!(
            r#"{"name": "reqs", "instance_id": 0, "vmsd_name": "reqs", "version": 2, "fields": ["#,
            r#"{"name": "pending", "type": "qtailq", "size": 1}, "#,
            r#"{"name": "done", "type": "qlist", "size": 1}, "#,
            r#"{"name": "by_addr", "type": "gtree", "size": 5}]}"#,
        )
    );
}

#[derive(VmState, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
#[vmstate(name = "range", version = 1)]
struct TreeKey {
    start: u32,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ranges", version = 1)]
struct KeyedTree {
    #[vmstate(gtree)]
    map: BTreeMap<TreeKey, Tag>,
}

#[test]
fn tree_with_struct_keys_describes_key_then_value() {
    let mut v = KeyedTree {
        map: BTreeMap::from([(TreeKey { start: 9 }, Tag { v: 3 })]),
    };
    let mut w = Writer::recording(Vec::new());
    v.save(&mut w, &ctx()).unwrap();
    let rec = w.take_record().unwrap();
    assert_eq!(
        w.into_inner(),
        [0, 0, 0, 1, 0x01, 0, 0, 0, 9, 0, 3, 0x00],
        "count, marker, key, value, end"
    );
    assert_eq!(
        record::section_json("ranges", 0, &rec),
        concat!(
            r#"{"name": "ranges", "instance_id": 0, "vmsd_name": "ranges", "version": 1, "fields": ["#,
            r#"{"name": "map", "type": "gtree", "#,
            r#""vmsd_name": "range", "version": 1, "fields": [{"name": "start", "type": "uint32", "size": 4}], "#,
            r#""vmsd_name": "tag", "version": 0, "fields": [{"name": "v", "type": "uint16", "size": 2}], "#,
            r#""size": 12}]}"#,
        )
    );
}

#[test]
fn tree_node_count_must_match() {
    let mut bad = REQS_WIRE;
    bad[20] = 3; // says 3 nodes, 2 follow
    let e = load_err(&mut Reqs::default(), &bad, 2, &ctx());
    assert!(matches!(e.kind(), ErrorKind::Malformed { .. }), "{e:?}");
    assert_eq!(innermost_field(&e), Some("by_addr"));
}

// ---------------------------------------------------------------------------
// Timer, Box<T>, Option<T> pointer slots
// ---------------------------------------------------------------------------

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "timers", version = 1)]
struct Timers {
    t: Timer,
    arr: [Timer; 2],
}

#[test]
fn timer_round_trip_including_not_armed() {
    let mut v = Timers {
        t: Timer::armed(0x0102_0304_0506_0708),
        arr: [Timer::NOT_ARMED, Timer::armed(0)],
    };
    let wire = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // armed
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // -1: not armed
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // armed at 0
    ];
    assert_eq!(save(&mut v), wire);
    let mut d = Timers {
        t: Timer::NOT_ARMED,
        arr: [Timer::armed(5), Timer::NOT_ARMED],
    };
    load_all(&mut d, &wire, 1);
    assert_eq!(d, v);
    assert!(!d.arr[0].is_armed());
    assert_eq!(d.arr[0].expire_ns(), None);
    assert_eq!(d.arr[1].expire_ns(), Some(0));
    let t = field::<Timers>("t");
    let a = field::<Timers>("arr");
    assert_eq!((t.info, t.elem_size, t.array_len), ("timer", 8, None));
    assert_eq!((a.info, a.elem_size, a.array_len), ("timer", 8, Some(2)));
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "elem", version = 1)]
struct Elem {
    x: u16,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "ptrs", version = 1)]
struct Ptrs {
    single: Box<u32>,
    st: Box<Elem>,
    n: u8,
    #[vmstate(count = n)]
    slots: [Option<Box<Elem>>; 4],
}

fn some(x: u16) -> Option<Box<Elem>> {
    Some(Box::new(Elem { x }))
}

const PTRS_WIRE: [u8; 12] = [
    0xca, 0xfe, 0xba, 0xbe, // *single
    0x01, 0x02, // *st
    0x03, // n
    0x0a, 0x0b, // slots[0]
    0x30, // slots[1]: null marker
    0x0c, 0x0d, // slots[2]; slots[3] beyond n
];

#[test]
fn box_and_option_pointer_slots() {
    let mut v = Ptrs {
        single: Box::new(0xcafe_babe),
        st: Box::new(Elem { x: 0x0102 }),
        n: 3,
        slots: [some(0x0a0b), None, some(0x0c0d), some(0xffff)],
    };
    assert_eq!(save(&mut v), PTRS_WIRE);
    let mut d = Ptrs {
        slots: [some(0), None, some(0), some(0x7777)],
        ..Ptrs::default()
    };
    load_all(&mut d, &PTRS_WIRE, 1);
    assert_eq!(*d.single, 0xcafe_babe);
    assert_eq!(d.st.x, 0x0102);
    assert_eq!(d.slots, [some(0x0a0b), None, some(0x0c0d), some(0x7777)]);
    let f = field::<Ptrs>("slots");
    assert_eq!(
        (f.info, f.kind, f.length_from, f.vmsd.map(|v| v.name)),
        ("struct", FieldKind::Struct, Some("n"), Some("elem"))
    );
    assert_eq!(field::<Ptrs>("single").info, "uint32");

    // A null destination slot needs the marker.
    let mut bad = PTRS_WIRE;
    bad[9] = 0x31;
    let e = load_err(&mut d, &bad, 1, &ctx());
    assert!(matches!(e.kind(), ErrorKind::Malformed { .. }), "{e:?}");
    assert_eq!((e.offset(), e.path().as_str()), (9, "ptrs/slots[1]"));
}
