//! The hand-written wire image and checks shared by the `devices_*` tests.
#![allow(dead_code)]

use std::fmt::Debug;

use vmstate_core::{Context, Reader, VmState};

/// A hand-written wire image.
#[derive(Default)]
pub struct W(pub Vec<u8>);

impl W {
    pub fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    pub fn u16(mut self, v: u16) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    pub fn u32(mut self, v: u32) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    pub fn i32(self, v: i32) -> Self {
        self.u32(v as u32)
    }
    pub fn u64(mut self, v: u64) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    pub fn i64(self, v: i64) -> Self {
        self.u64(v as u64)
    }
    pub fn zeros(mut self, n: usize) -> Self {
        self.0.extend(std::iter::repeat_n(0, n));
        self
    }
    /// A subsection header: `05`, u8 length, name, be32 version.
    pub fn sub(mut self, name: &str, version: u32) -> Self {
        self.0.push(0x05);
        self.0.push(name.len() as u8);
        self.0.extend(name.as_bytes());
        self.u32(version)
    }
}

pub fn ctx() -> Context {
    Context::new()
}

/// `dev` saves to exactly `want`; `want` followed by a section footer
/// loads (at the current version) into a default mirror, stops before the
/// footer and gives back `loaded`.
pub fn check<T: VmState + Clone + Default + PartialEq + Debug>(dev: &T, want: &[u8], loaded: &T) {
    check_into(dev, want, T::default(), loaded);
}

/// [`check`] with a configured destination `dst` instead of the default.
pub fn check_into<T: VmState + Clone + PartialEq + Debug>(
    dev: &T,
    want: &[u8],
    dst: T,
    loaded: &T,
) {
    let mut d = dev.clone();
    let got = d.to_bytes(&ctx()).unwrap();
    assert_eq!(got, want, "save of {}", T::VMSD.name);
    let mut input = want.to_vec();
    input.extend([0x7e, 0, 0, 0, 0x2a]);
    let mut back = dst;
    let mut r = Reader::from_slice(&input);
    back.load(&mut r, T::VMSD.version_id, &ctx()).unwrap();
    assert_eq!(r.offset() as usize, want.len(), "{}", T::VMSD.name);
    assert_eq!(&back, loaded, "load of {}", T::VMSD.name);
}

/// Loads `bytes` at stream version `version` into `dev`.
pub fn load_v<T: VmState + Clone>(
    dev: &mut T,
    bytes: &[u8],
    version: u32,
) -> vmstate_core::Result<usize> {
    let mut r = Reader::from_slice(bytes);
    dev.load(&mut r, version, &ctx())?;
    Ok(r.offset() as usize)
}
