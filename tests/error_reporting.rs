//! What an error says: the path syntax and the offset each kind points at
//! (as `vmstate_core::Error`'s docs state), `load_exact`, and the queue
//! marker policy.

use std::collections::VecDeque;

use vmstate_core::{Context, Error, ErrorKind, Reader, VmState};

#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "hpet_timer", version = 1)]
struct Timer {
    tn: u8,
    cmp: u64,
}

#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "hpet/ext", version = 1)]
struct Ext {
    flags: u32,
}

#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "hpet", version = 2, post_load = Self::check)]
struct Hpet {
    #[vmstate(equal)]
    n: u8,
    on: bool,
    timers: [Timer; 3],
    #[vmstate(subsection)]
    ext: Ext,
    #[vmstate(skip)]
    refuse: bool,
}

impl Hpet {
    fn check(&mut self, _v: u32) -> Result<(), &'static str> {
        if self.refuse {
            return Err("refused");
        }
        Ok(())
    }
}

/// n, on, 3 x (tn, cmp), then the subsection `hpet/ext` with flags.
fn wire() -> Vec<u8> {
    let mut w = vec![3, 1];
    for i in 0..3u8 {
        w.push(i);
        w.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, i]);
    }
    w.push(0x05);
    w.push(8);
    w.extend_from_slice(b"hpet/ext");
    w.extend_from_slice(&[0, 0, 0, 1]); // subsection version
    w.extend_from_slice(&[0, 0, 0, 7]);
    w
}

const TIMERS_AT: u64 = 2;
const SUB_AT: u64 = 2 + 27;

fn dest() -> Hpet {
    Hpet {
        n: 3,
        ..Hpet::default()
    }
}

fn load_err(bytes: &[u8], version: u32, ctx: &Context) -> Error {
    let mut d = dest();
    let before = d.clone();
    let e = d
        .load(&mut Reader::from_slice(bytes), version, ctx)
        .unwrap_err();
    assert_eq!(d, before, "a failed load changes nothing");
    e
}

#[test]
fn the_wire_loads() {
    let mut d = dest();
    d.load_exact(&wire(), 2, &Context::new()).unwrap();
    assert_eq!((d.timers[2].cmp, d.ext.flags), (2, 7));
}

#[test]
fn eof_inside_an_element_names_the_element_and_its_first_byte() {
    let w = wire();
    // Cut inside timers[2].cmp (after its tn byte and 3 of its 8 bytes).
    let cut = TIMERS_AT as usize + 2 * 9 + 1 + 3;
    let e = load_err(&w[..cut], 2, &Context::new());
    assert_eq!(e.path(), "hpet/timers[2].cmp");
    assert_eq!(e.offset(), TIMERS_AT + 2 * 9 + 1);
    assert!(matches!(
        e.kind(),
        ErrorKind::UnexpectedEof {
            needed: 8,
            available: 3
        }
    ));
    assert_eq!(
        e.to_string(),
        "hpet/timers[2].cmp at byte 21: unexpected end of stream: needed 8 bytes, only 3 left"
    );
}

#[test]
fn equal_points_at_the_field() {
    let mut w = wire();
    w[0] = 4;
    let e = load_err(&w, 2, &Context::new());
    assert_eq!((e.path().as_str(), e.offset()), ("hpet/n", 0));
    assert!(matches!(
        e.kind(),
        ErrorKind::NotEqual {
            expected: 3,
            found: 4,
            ..
        }
    ));
}

#[test]
fn version_errors_point_at_the_payload_start() {
    let e = load_err(&wire(), 3, &Context::new());
    assert_eq!((e.path().as_str(), e.offset()), ("hpet", 0));
    assert!(matches!(
        e.kind(),
        ErrorKind::VersionTooNew { version: 3, .. }
    ));
}

#[test]
fn subsection_errors_point_at_the_marker() {
    let mut w = wire();
    // Same prefix, unknown name: "hpet/ext" -> "hpet/exx".
    let at = SUB_AT as usize + 2 + 7;
    w[at] = b'x';
    let e = load_err(&w, 2, &Context::new());
    assert_eq!(e.offset(), SUB_AT);
    assert!(matches!(e.kind(), ErrorKind::UnknownSubsection { name } if name == "hpet/exx"));

    // The same subsection twice.
    let mut w = wire();
    let sub = w[SUB_AT as usize..].to_vec();
    w.extend_from_slice(&sub);
    let e = load_err(&w, 2, &Context::new());
    assert_eq!(e.offset(), SUB_AT + sub.len() as u64);
    assert!(matches!(
        e.kind(),
        ErrorKind::DuplicateSubsection { name: "hpet/ext" }
    ));
}

#[test]
fn subsection_fields_are_after_a_slash() {
    let w = wire();
    let e = load_err(&w[..w.len() - 1], 2, &Context::new());
    assert_eq!(e.path(), "hpet/hpet/ext/flags");
    assert_eq!(e.offset(), w.len() as u64 - 4);
}

#[test]
fn post_load_points_after_the_subsections() {
    let mut d = Hpet {
        refuse: true,
        ..dest()
    };
    let w = wire();
    let e = d
        .load(&mut Reader::from_slice(&w), 2, &Context::new())
        .unwrap_err();
    assert_eq!((e.path().as_str(), e.offset()), ("hpet", w.len() as u64));
    assert!(matches!(e.kind(), ErrorKind::Hook { hook: "post_load" }));
}

#[test]
fn a_payload_cut_before_a_subsection_loads_but_not_exactly() {
    let w = wire();
    let cut = &w[..SUB_AT as usize];
    // As in QEMU: subsections are optional, so this is a complete payload.
    let mut d = dest();
    d.load(&mut Reader::from_slice(cut), 2, &Context::new())
        .unwrap();
    // With the payload's length known, leftovers are an error.
    let mut long = w.clone();
    long.push(0xee);
    let mut d = dest();
    let e = d.load_exact(&long, 2, &Context::new()).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TrailingBytes { count: 1 }));
    assert_eq!((e.path().as_str(), e.offset()), ("hpet", w.len() as u64));
    assert_eq!(d, dest(), "load_exact is transactional");
}

#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "req", version = 1)]
struct Req {
    tag: u8,
}

#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "scsi", version = 1)]
struct Scsi {
    #[vmstate(qtailq, version = 1)]
    reqs: VecDeque<Req>,
}

#[test]
fn queue_markers_follow_qemu_unless_strict() {
    // QEMU's get_qtailq: any non-zero byte means "an element follows".
    let wire = [0x01, 7, 0x02, 8, 0x00];
    let mut s = Scsi::default();
    s.load_exact(&wire, 1, &Context::new()).unwrap();
    let tags: Vec<u8> = s.reqs.iter().map(|r| r.tag).collect();
    assert_eq!(tags, [7, 8]);

    let strict = Context::new().with_strict_markers(true);
    let mut s = Scsi::default();
    let e = s.load_exact(&wire, 1, &strict).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Malformed { .. }));
    assert_eq!((e.path().as_str(), e.offset()), ("scsi/reqs[1]", 2));
    assert!(e.to_string().contains("malformed stream"), "{e}");
}

/// Not of fixed size (its hooks), so arrays of it load and save element
/// by element: a few of them in a loop inlined into the parent.
#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "drive", version = 1, pre_save = Self::check, pre_load = Self::start)]
struct Drive {
    head: u8,
    track: u8,
}

impl Drive {
    fn check(&mut self) -> Result<(), &'static str> {
        if self.head == 0xff {
            return Err("no such head");
        }
        Ok(())
    }

    fn start(&mut self) -> Result<(), &'static str> {
        Ok(())
    }
}

#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "drives", version = 1)]
struct Drives {
    row: [Drive; 3],
    grid: [[Drive; 2]; 2],
}

#[test]
fn elements_of_short_arrays_of_structs_are_indexed_and_2d_arrays_flatten() {
    let wire: Vec<u8> = (0..14).collect();
    let mut d = Drives::default();
    d.load_exact(&wire, 1, &Context::new()).unwrap();
    assert_eq!((d.row[2].track, d.grid[1][1].track), (5, 13));

    let cut = |n: usize| {
        let mut d = Drives::default();
        let e = d
            .load(&mut Reader::from_slice(&wire[..n]), 1, &Context::new())
            .unwrap_err();
        assert_eq!(d, Drives::default(), "a failed load changes nothing");
        (e.path(), e.offset())
    };
    assert_eq!(cut(5), ("drives/row[2].track".to_string(), 5));
    // QEMU's 2-D arrays are one array of all their elements.
    assert_eq!(cut(13), ("drives/grid[3].track".to_string(), 13));

    for (at, path) in [(2, "drives/row[1]"), (12, "drives/grid[3]")] {
        let mut d = Drives::default();
        d.load_exact(&wire, 1, &Context::new()).unwrap();
        let i = at / 2;
        if i < 3 {
            d.row[i].head = 0xff;
        } else {
            d.grid[(i - 3) / 2][(i - 3) % 2].head = 0xff;
        }
        let e = d.to_bytes(&Context::new()).unwrap_err();
        assert_eq!((e.path().as_str(), e.offset()), (path, at as u64));
        assert!(matches!(e.kind(), ErrorKind::Hook { hook: "pre_save" }));
    }
}
