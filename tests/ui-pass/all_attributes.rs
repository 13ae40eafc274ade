//! Many attributes together on one device.

use std::ptr::NonNull;

use vmstate_core::{Context, MigMode, VmState};

#[derive(VmState, Clone, Default)]
#[vmstate(name = "dev/queues", version = 2, minimum_version = 1)]
struct Queues {
    count: u16,
    #[vmstate(version = 2)]
    sizes: [u32; 4],
}

#[derive(VmState, Clone, Default)]
#[vmstate(name = "dev/legacy")]
struct Legacy {
    flags: u8,
}

#[derive(VmState, Clone)]
#[vmstate(
    name = "dev",
    version = 4,
    minimum_version = 2,
    pre_save = Self::pre_save,
    post_save = Self::post_save,
    pre_load = "Self::pre_load",
    post_load = Self::post_load,
)]
struct Dev {
    #[vmstate(equal, hint = "the device model must match")]
    model: u32,
    #[vmstate(rename = "ctrl_reg", version = 2)]
    ctrl: u32,
    #[vmstate(positive_le)]
    head: i32,
    #[vmstate(unused = 3)]
    _pad: (),
    #[vmstate(skip)]
    cache: Vec<u8>,
    #[vmstate(version = 3, exists = Self::has_irq)]
    irq: bool,
    matrix: [[i16; 2]; 3],
    scale: f64,
    #[vmstate(void_ptr)]
    host_buf: Option<NonNull<u8>>,
    #[vmstate(skip)]
    ring: *mut u8,
    #[vmstate(u64_from_ptr = ring, pre_save)]
    ring_addr: u64,
    #[vmstate(u64_from_ptr = host_buf)]
    host_buf_addr: u64,
    #[vmstate(subsection, needed = Self::queues_needed)]
    queues: Queues,
    #[vmstate(subsection)]
    legacy: Legacy,
}

impl Dev {
    fn pre_save(&mut self) -> Result<(), String> {
        assert_eq!(self.ring_addr, self.ring as usize as u64);
        Ok(())
    }
    fn post_save(&mut self) -> Result<(), std::io::Error> {
        Ok(())
    }
    fn pre_load(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn post_load(&mut self, version: u32) -> Result<(), String> {
        if version < 3 {
            self.irq = false;
        }
        Ok(())
    }
    fn has_irq(&self, version: u32) -> bool {
        version >= 3 && self.model != 0
    }
    fn queues_needed(&self) -> bool {
        self.queues.count != 0
    }
}

fn main() {
    let mut dev = Dev {
        model: 7,
        ctrl: 1,
        head: 2,
        _pad: (),
        cache: vec![1, 2, 3],
        irq: true,
        matrix: [[1, -2], [3, -4], [5, -6]],
        scale: 1.5,
        host_buf: None,
        ring: std::ptr::null_mut(),
        ring_addr: 0,
        host_buf_addr: 0,
        queues: Queues {
            count: 1,
            sizes: [1, 2, 3, 4],
        },
        legacy: Legacy::default(),
    };
    let ctx = Context::new().with_mode(MigMode::CprReboot);
    let bytes = dev.to_bytes(&ctx).unwrap();
    let mut back = dev.clone();
    back.load_from_slice(&bytes, &ctx).unwrap();
    assert_eq!(<Dev as VmState>::VMSD.name, "dev");
}
