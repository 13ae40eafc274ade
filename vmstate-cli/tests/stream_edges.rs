//! The edges of whole-stream loads: readers that are not ready
//! (`WouldBlock`, `Interrupted`), per-section transactions versus the
//! all-or-nothing load.

use std::io::{self, Read};

use vmstate_core::{Context, VmState};
use vmstate_migration::{DeviceStreamWriter, Dispatcher, ReadOptions, WriteOptions};

#[derive(VmState, Clone, Default, PartialEq, Debug)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    a: u32,
    b: u8,
}

/// Three sections `dev:0`, `dev:1`, `dev:2`.
fn stream() -> Vec<u8> {
    let mut w =
        DeviceStreamWriter::new(Vec::new(), WriteOptions::default(), Context::new()).unwrap();
    for i in 0..3 {
        w.section(
            "dev",
            i,
            &mut Dev {
                a: 100 + i,
                b: i as u8,
            },
        )
        .unwrap();
    }
    w.finish(4096).unwrap()
}

/// Hands out one byte per call, with `WouldBlock` and `Interrupted` in
/// between (a non-blocking socket).
struct Stutter {
    data: Vec<u8>,
    pos: usize,
    calls: u64,
}

impl Read for Stutter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        match self.calls % 3 {
            0 => Err(io::ErrorKind::WouldBlock.into()),
            1 => Err(io::ErrorKind::Interrupted.into()),
            _ => {
                let Some(&b) = self.data.get(self.pos) else {
                    return Ok(0);
                };
                if buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = b;
                self.pos += 1;
                Ok(1)
            }
        }
    }
}

#[test]
fn would_block_and_interrupted_are_retried() {
    let bytes = stream();
    let mut devs = [Dev::default(), Dev::default(), Dev::default()];
    let mut d = Dispatcher::new(Context::new());
    for (i, v) in devs.iter_mut().enumerate() {
        d.register("dev", i as u32, v);
    }
    let input = Stutter {
        data: bytes,
        pos: 0,
        calls: 0,
    };
    let rep = d
        .load_read(input, None, ReadOptions::default(), |_| Ok(()))
        .unwrap();
    assert_eq!(rep.loaded, 3);
    drop(d);
    assert_eq!(devs[2], Dev { a: 102, b: 2 });
}

#[test]
fn each_section_is_its_own_transaction_unless_all_or_nothing() {
    let mut bytes = stream();
    // Break the last section's footer (its section id).
    let eof = bytes
        .windows(6)
        .rposition(|w| w == [0x7e, 0, 0, 0, 2, 0])
        .unwrap();
    bytes[eof + 4] = 9;
    let fresh = || [Dev::default(), Dev::default(), Dev::default()];

    let mut devs = fresh();
    let mut d = Dispatcher::new(Context::new());
    for (i, v) in devs.iter_mut().enumerate() {
        d.register("dev", i as u32, v);
    }
    let e = d
        .load_read(&bytes[..], None, ReadOptions::default(), |_| Ok(()))
        .unwrap_err();
    assert!(e.to_string().contains("dev:2"), "{e}");
    drop(d);
    // The first two sections are loaded, the failing one is not.
    assert_eq!(devs[0], Dev { a: 100, b: 0 });
    assert_eq!(devs[1], Dev { a: 101, b: 1 });
    assert_eq!(devs[2], Dev::default());

    let mut devs = fresh();
    let mut d = Dispatcher::new(Context::new());
    for (i, v) in devs.iter_mut().enumerate() {
        d.register("dev", i as u32, v);
    }
    d.load_read_all_or_nothing(&bytes[..], None, ReadOptions::default(), |_| Ok(()))
        .unwrap_err();
    drop(d);
    assert_eq!(devs, fresh(), "an all-or-nothing load changed nothing");

    // And it loads everything when nothing fails.
    let good = stream();
    let mut devs = fresh();
    let mut d = Dispatcher::new(Context::new());
    for (i, v) in devs.iter_mut().enumerate() {
        d.register("dev", i as u32, v);
    }
    d.load_read_all_or_nothing(&good[..], None, ReadOptions::default(), |_| Ok(()))
        .unwrap();
    drop(d);
    assert_eq!(devs[1], Dev { a: 101, b: 1 });
}
