//! `void_ptr` (the seed patch's form, CPR only) and `u64_from_ptr` (the
//! reviewed form: a u64 shadow field), per docs/wire-format.md#cpr.

use std::ptr::NonNull;

use vmstate_core::{Context, ErrorKind, MigMode, Reader, VmState};

const ADDR: usize = 0x7f12_3456_7000;

fn addr_ptr<T>(a: usize) -> *mut T {
    std::ptr::without_provenance_mut(a)
}

/// A RAM-block-like device: the pointer's value travels as be64.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ram_block", version = 1, minimum_version = 1)]
struct RamBlockCpr {
    align: u64,
    #[vmstate(void_ptr)]
    host: *mut u8,
    #[vmstate(void_ptr)]
    opt: Option<NonNull<u8>>,
    used_length: u64,
}

fn cpr_block() -> RamBlockCpr {
    RamBlockCpr {
        align: 0x1000,
        host: addr_ptr(ADDR),
        opt: None,
        used_length: 0x10_0000,
    }
}

/// Expected bytes, written out by hand from the encoding rule: be64 fields,
/// the pointer value as be64, a null Option as eight zero bytes.
fn cpr_wire() -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0x1000u64.to_be_bytes());
    v.extend_from_slice(&[0x00, 0x00, 0x7f, 0x12, 0x34, 0x56, 0x70, 0x00]);
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&[0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00]);
    v
}

#[test]
fn void_ptr_refused_in_normal_mode_naming_the_field() {
    let mut b = cpr_block();
    let e = b.to_bytes(&Context::new()).unwrap_err();
    assert!(matches!(
        e.kind(),
        ErrorKind::VoidPtrRefused {
            mode: MigMode::Normal
        }
    ));
    assert_eq!(e.path(), "ram_block/host");
    assert_eq!(e.offset(), 0, "refused before anything is written");
    assert!(e.to_string().contains("ram_block/host"), "{e}");

    let before = b.clone();
    let e = b.load_from_slice(&cpr_wire(), &Context::new()).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::VoidPtrRefused { .. }));
    assert_eq!(e.path(), "ram_block/host");
    assert_eq!(b, before, "a refused load leaves the value untouched");
}

#[test]
fn void_ptr_round_trips_in_every_cpr_mode_as_8_bytes() {
    for mode in [MigMode::CprReboot, MigMode::CprTransfer, MigMode::CprExec] {
        let ctx = Context::new().with_mode(mode);
        let mut b = cpr_block();
        let bytes = b.to_bytes(&ctx).unwrap();
        assert_eq!(bytes, cpr_wire(), "{mode}");
        assert_eq!(bytes.len(), 32);

        let mut back = RamBlockCpr {
            align: 0,
            host: std::ptr::null_mut(),
            opt: NonNull::new(addr_ptr(0x1000)),
            used_length: 0,
        };
        assert_eq!(back.load_from_slice(&bytes, &ctx).unwrap(), 32);
        assert_eq!(back.host.addr(), ADDR);
        assert_eq!(back.opt, None);
        assert_eq!(back, cpr_block());
    }
}

#[test]
fn void_ptr_description_says_void_ptr() {
    let f = &RamBlockCpr::VMSD.fields[1];
    assert_eq!(f.name, "host");
    assert_eq!(f.info, "void_ptr");
    assert_eq!(f.wire_size(), Some(8));
}

#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "nn", version = 1)]
struct NonNullHolder {
    #[vmstate(void_ptr)]
    p: NonNull<u32>,
}

#[test]
fn non_null_void_ptr_rejects_zero() {
    let ctx = Context::new().with_mode(MigMode::CprExec);
    let mut h = NonNullHolder {
        p: NonNull::dangling(),
    };
    let e = h.load_from_slice(&[0; 8], &ctx).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NullPointer));
    assert_eq!(h.p, NonNull::dangling());
}

#[cfg(target_pointer_width = "32")]
#[test]
fn void_ptr_too_wide_for_host() {
    let ctx = Context::new().with_mode(MigMode::CprExec);
    let mut b = cpr_block();
    let mut wire = cpr_wire();
    wire[8] = 1;
    let e = b.load_from_slice(&wire, &ctx).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::PointerTooWide { .. }));
}

/// The reviewed form: a u64 shadow filled before `pre_save` runs.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ram_block", version = 1, pre_save = Self::check_shadow)]
struct RamBlockShadow {
    #[vmstate(skip)]
    host: *mut u8,
    #[vmstate(u64_from_ptr = host, pre_save)]
    old_host: u64,
    #[vmstate(skip)]
    seen_by_hook: u64,
}

impl RamBlockShadow {
    fn check_shadow(&mut self) -> Result<(), String> {
        self.seen_by_hook = self.old_host;
        Ok(())
    }
}

/// The computed form: the address is written, the field is not touched.
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "ram_block", version = 1)]
struct RamBlockComputed {
    #[vmstate(skip)]
    host: *const u8,
    #[vmstate(u64_from_ptr = host)]
    old_host: u64,
}

#[test]
fn u64_from_ptr_pre_save_is_visible_to_the_hook_and_works_in_normal_mode() {
    let mut b = RamBlockShadow {
        host: addr_ptr(ADDR),
        old_host: 0,
        seen_by_hook: 0,
    };
    let bytes = b.to_bytes(&Context::new()).unwrap();
    assert_eq!(bytes, (ADDR as u64).to_be_bytes());
    assert_eq!(b.old_host, ADDR as u64, "stored into the field");
    assert_eq!(
        b.seen_by_hook, ADDR as u64,
        "stored before the user's pre_save"
    );

    // After a load it is a plain number; the pointer is left alone.
    let mut dst = RamBlockShadow {
        host: std::ptr::null_mut(),
        old_host: 0,
        seen_by_hook: 0,
    };
    dst.load_from_slice(&0xdead_beefu64.to_be_bytes(), &Context::new())
        .unwrap();
    assert_eq!(dst.old_host, 0xdead_beef);
    assert!(dst.host.is_null());
    let f = &RamBlockShadow::VMSD.fields[0];
    assert_eq!(
        (f.name, f.info, f.from_ptr),
        ("old_host", "uint64", Some("host"))
    );
}

#[test]
fn u64_from_ptr_without_pre_save_computes_while_saving() {
    let mut b = RamBlockComputed {
        host: std::ptr::without_provenance(ADDR),
        old_host: 7,
    };
    let bytes = b.to_bytes(&Context::new()).unwrap();
    assert_eq!(bytes, (ADDR as u64).to_be_bytes());
    assert_eq!(b.old_host, 7, "the field is not written by save");
    let mut r = Reader::from_slice(&bytes);
    b.load(&mut r, 1, &Context::new()).unwrap();
    assert_eq!(b.old_host, ADDR as u64);
}
