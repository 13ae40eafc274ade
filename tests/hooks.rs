//! Hook order and rules, per QEMU (docs/wire-format.md#hooks): pre_save before anything
//! is written, a failing pre_save aborts and skips post_save, post_save runs
//! even after a failed field, pre_load after the version check, post_load
//! with the stream version after the subsections.

use std::cell::RefCell;
use std::error::Error as _;

use vmstate_core::{Context, ErrorKind, Reader, VmState};

thread_local! {
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn log(s: impl Into<String>) {
    LOG.with(|l| l.borrow_mut().push(s.into()));
}

fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

#[derive(Debug)]
struct DevError(&'static str);
impl std::fmt::Display for DevError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for DevError {}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(
    name = "dev/extra",
    version = 2,
    pre_save = Self::pre_save,
    post_save = Self::post_save,
    pre_load = Self::pre_load,
    post_load = Self::post_load
)]
struct Extra {
    x: u16,
}

impl Extra {
    fn pre_save(&mut self) -> Result<(), DevError> {
        log("sub pre_save");
        Ok(())
    }
    fn post_save(&mut self) -> Result<(), DevError> {
        log("sub post_save");
        Ok(())
    }
    fn pre_load(&mut self) -> Result<(), DevError> {
        log("sub pre_load");
        Ok(())
    }
    fn post_load(&mut self, v: u32) -> Result<(), DevError> {
        log(format!("sub post_load v{v}"));
        Ok(())
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(
    name = "dev",
    version = 3,
    minimum_version = 2,
    pre_save = Self::pre_save,
    post_save = Self::post_save,
    pre_load = Self::pre_load,
    post_load = Self::post_load
)]
struct Dev {
    a: u8,
    #[vmstate(version = 3)]
    b: u8,
    #[vmstate(exists = Self::c_exists, version = 3)]
    c: u8,
    #[vmstate(subsection)]
    extra: Extra,
    #[vmstate(skip)]
    fail_pre_save: bool,
    #[vmstate(skip)]
    fail_post_save: bool,
    #[vmstate(skip)]
    fail_post_load: bool,
    #[vmstate(skip)]
    c_present: bool,
}

impl Dev {
    fn pre_save(&mut self) -> Result<(), DevError> {
        log("pre_save");
        if self.fail_pre_save {
            return Err(DevError("pre_save refused"));
        }
        self.a = 0x5a;
        Ok(())
    }
    fn post_save(&mut self) -> Result<(), DevError> {
        log("post_save");
        if self.fail_post_save {
            return Err(DevError("post_save refused"));
        }
        Ok(())
    }
    fn pre_load(&mut self) -> Result<(), &'static str> {
        log("pre_load");
        Ok(())
    }
    fn post_load(&mut self, version: u32) -> Result<(), String> {
        log(format!(
            "post_load v{version} a={:#x} x={}",
            self.a, self.extra.x
        ));
        if self.fail_post_load {
            return Err(format!("a={:#x} rejected", self.a));
        }
        Ok(())
    }
    fn c_exists(&self, _version: u32) -> bool {
        self.c_present
    }
}

/// fields a, b, then the always-sent subsection `dev/extra` v2 with x.
fn wire_v3(a: u8, b: u8, x: u16) -> Vec<u8> {
    let mut v = vec![a, b, 0x05, 9];
    v.extend_from_slice(b"dev/extra");
    v.extend_from_slice(&[0, 0, 0, 2]);
    v.extend_from_slice(&x.to_be_bytes());
    v
}

#[test]
fn save_order_and_pre_save_effect() {
    take_log();
    let mut d = Dev {
        b: 7,
        extra: Extra { x: 0x1234 },
        ..Dev::default()
    };
    let bytes = d.to_bytes(&Context::new()).unwrap();
    assert_eq!(bytes, wire_v3(0x5a, 7, 0x1234));
    assert_eq!(
        take_log(),
        ["pre_save", "sub pre_save", "sub post_save", "post_save"]
    );
}

#[test]
fn failing_pre_save_aborts_without_post_save() {
    take_log();
    let mut d = Dev {
        fail_pre_save: true,
        ..Dev::default()
    };
    let mut out = Vec::new();
    let e = d
        .save(&mut vmstate_core::Writer::new(&mut out), &Context::new())
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Hook { hook: "pre_save" }));
    assert!(out.is_empty(), "nothing written");
    assert_eq!(take_log(), ["pre_save"]);
    let src = e.source().unwrap();
    assert_eq!(src.to_string(), "pre_save refused");
    assert!(src.downcast_ref::<DevError>().is_some());
    assert_eq!(e.path(), "dev");
}

#[test]
fn post_save_runs_after_a_failed_field_and_the_field_error_wins() {
    #[derive(VmState, Clone)]
    #[vmstate(name = "inner", version = 1, pre_save = Self::refuse)]
    struct Inner {
        v: u8,
    }
    impl Inner {
        fn refuse(&mut self) -> Result<(), String> {
            Err("inner refuses".into())
        }
    }
    #[derive(VmState, Clone)]
    #[vmstate(name = "p", version = 1, post_save = Self::post_save)]
    struct P {
        a: u8,
        inner: Inner,
    }
    impl P {
        fn post_save(&mut self) -> Result<(), String> {
            log("P post_save");
            Err("post_save error".into())
        }
    }
    take_log();
    let mut p = P {
        a: 1,
        inner: Inner { v: 2 },
    };
    let e = p.to_bytes(&Context::new()).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Hook { hook: "pre_save" }),
        "{e}"
    );
    assert_eq!(e.path(), "p/inner");
    assert_eq!(e.offset(), 1);
    assert_eq!(p.inner.v, 2);
    assert_eq!(take_log(), ["P post_save"]);
}

#[test]
fn failing_post_save_is_the_result() {
    let mut d = Dev {
        fail_post_save: true,
        ..Dev::default()
    };
    let e = d.to_bytes(&Context::new()).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Hook { hook: "post_save" }));
}

#[test]
fn load_order_versions_and_post_load_after_subsections() {
    take_log();
    let mut d = Dev::default();
    let wire = wire_v3(1, 2, 0x0304);
    d.load(&mut Reader::from_slice(&wire), 3, &Context::new())
        .unwrap();
    assert_eq!((d.a, d.b, d.extra.x), (1, 2, 0x0304));
    assert_eq!(
        take_log(),
        [
            "pre_load",
            "sub pre_load",
            "sub post_load v2",
            "post_load v3 a=0x1 x=772"
        ]
    );

    // At version 2, `b` is not on the wire.
    let mut d = Dev::default();
    let mut wire = wire_v3(9, 0, 5);
    wire.remove(1);
    d.load(&mut Reader::from_slice(&wire), 2, &Context::new())
        .unwrap();
    assert_eq!((d.a, d.b, d.extra.x), (9, 0, 5));
    assert!(take_log().contains(&"post_load v2 a=0x9 x=5".to_string()));
}

#[test]
fn exists_overrides_version() {
    // `c` has version = 3 but its predicate says no: not on the wire.
    let mut d = Dev {
        c: 0xcc,
        c_present: false,
        ..Dev::default()
    };
    let bytes = d.to_bytes(&Context::new()).unwrap();
    assert_eq!(bytes.len(), wire_v3(0, 0, 0).len());
    // With the predicate true, it is there even when loading version 2.
    d.c_present = true;
    let mut wire = vec![1u8, 0xcc];
    wire.extend_from_slice(&wire_v3(0, 0, 0)[2..]);
    d.load(&mut Reader::from_slice(&wire), 2, &Context::new())
        .unwrap();
    assert_eq!((d.a, d.c), (1, 0xcc));
}

#[test]
fn version_check_runs_before_pre_load() {
    take_log();
    let mut d = Dev::default();
    let e = d
        .load(&mut Reader::from_slice(&[]), 4, &Context::new())
        .unwrap_err();
    assert!(matches!(
        e.kind(),
        ErrorKind::VersionTooNew {
            version: 4,
            max: 3,
            ..
        }
    ));
    let e = d
        .load(&mut Reader::from_slice(&[]), 1, &Context::new())
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::VersionTooOld { min: 2, .. }));
    assert!(take_log().is_empty());
}

#[test]
fn failing_post_load_leaves_destination_unchanged() {
    let mut d = Dev {
        a: 0x77,
        fail_post_load: true,
        ..Dev::default()
    };
    let before = d.clone();
    let e = d
        .load(
            &mut Reader::from_slice(&wire_v3(1, 2, 3)),
            3,
            &Context::new(),
        )
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Hook { hook: "post_load" }));
    assert_eq!(e.source().unwrap().to_string(), "a=0x1 rejected");
    assert_eq!(d, before);
}

#[test]
fn subsection_error_path_and_version_truncation() {
    // Subsection version 0x0102 is truncated to 8 bits (2), as QEMU does.
    let mut wire = wire_v3(1, 2, 3);
    wire[15] = 0x01;
    let mut d = Dev::default();
    d.load(&mut Reader::from_slice(&wire), 3, &Context::new())
        .unwrap();
    // A truncated subsection names its path.
    let wire = wire_v3(1, 2, 3);
    let e = d
        .load(
            &mut Reader::from_slice(&wire[..wire.len() - 1]),
            3,
            &Context::new(),
        )
        .unwrap_err();
    assert_eq!(e.path(), "dev/dev/extra/x");
    assert_eq!(e.offset(), wire.len() as u64 - 2);
}

#[test]
fn struct_level_needed_decides_the_section() {
    #[derive(VmState, Clone, Default)]
    #[vmstate(name = "pcspk", version = 1, needed = Self::migrate)]
    struct Pcspk {
        data_on: u8,
        #[vmstate(skip)]
        enabled: bool,
    }
    impl Pcspk {
        fn migrate(&self) -> bool {
            self.enabled
        }
    }
    #[derive(VmState, Clone, Default)]
    #[vmstate(name = "port92", version = 1)]
    struct Port92 {
        outport: u8,
    }
    let mut p = Pcspk::default();
    assert!(!p.section_needed());
    p.enabled = true;
    assert!(p.section_needed());
    assert_eq!(p.to_bytes(&Context::new()).unwrap(), [0]);
    assert!(Port92::default().section_needed());
}
