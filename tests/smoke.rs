use vmstate_core::{Context, VmState};

#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "pckbd/extended_state", version = 0)]
struct KbdExt {
    migration_flags: u32,
    obsrc: u32,
    obdata: u8,
    cbdata: u8,
}

#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "pckbd", version = 3)]
struct Kbd {
    write_cmd: u8,
    status: u8,
    mode: u8,
    pending_tmp: u8,
    #[vmstate(subsection, needed = Self::ext_needed)]
    ext: KbdExt,
}
impl Kbd {
    fn ext_needed(&self) -> bool {
        true
    }
}

#[derive(VmState, Clone, Default, Debug, PartialEq)]
#[vmstate(name = "pckbd", version = 3)]
struct Pckbd {
    kbd: Kbd,
}

#[test]
fn smoke() {
    let mut payload = vec![0x00, 0x18, 0x03, 0x00, 0x05, 20];
    payload.extend_from_slice(b"pckbd/extended_state");
    payload.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut p = Pckbd::default();
    let n = p.load_from_slice(&payload, &Context::new()).unwrap();
    assert_eq!(n, payload.len());
    assert_eq!(p.kbd.status, 0x18);
    assert_eq!(p.to_bytes(&Context::new()).unwrap(), payload);
    let e = p
        .load_from_slice(&payload[..payload.len() - 3], &Context::new())
        .unwrap_err();
    println!("{e}");
}
