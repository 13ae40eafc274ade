//! `crate = "..."`: the derive used through a re-export, with no
//! `vmstate_core` in scope under that name.

mod platform {
    pub use vmstate_core as vmstate;
}

use platform::vmstate::{Context, VmState};

#[derive(VmState, Clone, Default)]
#[vmstate(crate = "crate::platform::vmstate", name = "timer/extra")]
struct TimerExtra {
    #[vmstate(equal)]
    divisor: u8,
}

#[derive(VmState, Clone, Default)]
#[vmstate(
    crate = "crate::platform::vmstate",
    name = "timer",
    version = 2,
    post_load = Self::post_load
)]
struct Timer {
    count: u64,
    #[vmstate(version = 2)]
    reload: [u16; 2],
    #[vmstate(subsection, needed = Self::extra_needed)]
    extra: TimerExtra,
}

impl Timer {
    fn post_load(&mut self, _version: u32) -> Result<(), String> {
        Ok(())
    }
    fn extra_needed(&self) -> bool {
        self.extra.divisor != 0
    }
}

fn main() {
    let mut t = Timer {
        count: 5,
        reload: [1, 2],
        extra: TimerExtra { divisor: 3 },
    };
    let bytes = t.to_bytes(&Context::new()).unwrap();
    let mut back = t.clone();
    back.load_from_slice(&bytes, &Context::new()).unwrap();
    assert_eq!(back.count, 5);
}
