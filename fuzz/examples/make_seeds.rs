//! Writes the seed corpora of the fuzz targets into `fuzz/seeds/<target>/`,
//! from the QEMU 7.2 fixture streams (`tests/fixtures/qemu-7.2/*.mig`), the
//! QEMU unit-test vectors (docs/wire-format.md#qemu-unit-tests) and populated devices.
//!
//! ```sh
//! cd fuzz && cargo run --example make_seeds
//! ```
//!
//! Every seed is a valid input that loads; the fuzzer mutates from there.

use std::fs;
use std::path::{Path, PathBuf};

use vmstate_core::{Context, VmState};
use vmstate_fuzz::{input_for, queues_sample, Hpet, HpetTimer};
use vmstate_migration::{ReadOptions, Stream, StreamWriter, WriteOptions};
use vmstate_qemu::registry::ENTRIES;
use vmstate_qemu::{i8259, pckbd};

const FIXTURES: &[&str] = &[
    "none.mig",
    "none-8k.mig",
    "pc.mig",
    "pc-devices.mig",
    "pc-nofooter.mig",
];

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/qemu-7.2")
        .join(name);
    fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

struct Seeds {
    root: PathBuf,
    count: usize,
}

impl Seeds {
    fn put(&mut self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.root.join(target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), bytes).unwrap();
        self.count += 1;
    }
}

/// The FULL sections of a fixture: (idstr, instance, version, payload).
fn sections(stream: &[u8]) -> Vec<(String, u32, u32, Vec<u8>)> {
    let s = Stream::parse(stream, ReadOptions::default()).expect("fixture parses");
    s.sections()
        .filter_map(|sec| {
            let v = sec.vmsd()?;
            Some((
                sec.idstr.clone(),
                sec.instance_id,
                sec.version_id,
                v.bytes.clone(),
            ))
        })
        .collect()
}

/// One small stream per FULL section of `stream`: header, that section,
/// EOF, and a vmdesc describing only it.
fn mini_streams(stream: &[u8]) -> Vec<Vec<u8>> {
    let s = Stream::parse(stream, ReadOptions::default()).expect("fixture parses");
    let Some(desc) = &s.vmdesc else {
        return Vec::new();
    };
    let tree = desc.json().expect("a parsed vmdesc is JSON");
    let devices = tree.get("devices").and_then(|d| d.as_array());
    let mut out = Vec::new();
    for sec in s.sections() {
        let Some(v) = sec.vmsd() else { continue };
        let Some(dev) = devices.and_then(|ds| {
            ds.iter().find(|d| {
                d.get("name").and_then(|n| n.as_str()) == Some(sec.idstr.as_str())
                    && d.get("instance_id").and_then(|i| i.as_u64())
                        == Some(u64::from(sec.instance_id))
            })
        }) else {
            continue;
        };
        let json = format!(
            "{{\"page_size\": {}, \"devices\": [{dev}]}}",
            desc.page_size
        );
        let opts = if sec.footer {
            WriteOptions::default()
        } else {
            WriteOptions::old_style()
        };
        let mut w = StreamWriter::new(Vec::new(), opts);
        let ok = w.header().is_ok()
            && w.full_section(
                sec.section_id,
                &sec.idstr,
                sec.instance_id,
                sec.version_id,
                &v.bytes,
            )
            .is_ok()
            && w.eof().is_ok()
            && w.vmdesc(json.as_bytes()).is_ok();
        if ok {
            out.push(w.into_inner());
        }
    }
    out
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let _ = fs::remove_dir_all(&root);
    let mut seeds = Seeds { root, count: 0 };
    let ctx = Context::new();

    // Whole streams, and every payload of every mirrored section.
    for name in FIXTURES {
        let bytes = fixture(name);
        seeds.put("stream_reader", name, &bytes);
        seeds.put("streaming_dispatch", name, &bytes);
        seeds.put("cli_commands", name, &bytes);
        // Small streams run far faster than whole fixtures (whose vmdesc
        // alone is 100 to 300 KiB): one per FULL section, with a vmdesc of
        // just that section.
        for (i, mini) in mini_streams(&bytes).iter().enumerate() {
            let file = format!("{name}-mini-{i}");
            for t in ["stream_reader", "streaming_dispatch", "cli_commands"] {
                seeds.put(t, &file, mini);
            }
        }
        let s = Stream::parse(&bytes, ReadOptions::default()).expect("fixture parses");
        let devices = s.vmdesc.as_ref().map(|d| d.devices.clone());
        for (idstr, inst, version, payload) in sections(&bytes) {
            let file = format!("{name}-{}-{inst}", idstr.replace('/', "_"));
            if let Some(devs) = &devices {
                if let Some(i) = devs
                    .iter()
                    .position(|d| d.name == idstr && d.instance_id == inst)
                {
                    if name == &"pc-devices.mig" && i < 256 {
                        let mut g = vec![i as u8];
                        g.extend_from_slice(&payload);
                        seeds.put("generic_decoder", &file, &g);
                    }
                }
            }
            if let Some(pos) = ENTRIES.iter().position(|e| e.matches(&idstr)) {
                let mut c = vec![pos as u8, version as u8, 0];
                c.extend_from_slice(&payload);
                seeds.put("catalog", &file, &c);
            }
            if idstr == "pckbd" {
                seeds.put(
                    "derived_pckbd",
                    &file,
                    &input_for::<pckbd::KbdIsa>(&payload),
                );
            }
            if idstr == "i8259" {
                seeds.put(
                    "derived_i8259",
                    &file,
                    &input_for::<i8259::PicCommon>(&payload),
                );
            }
        }
    }

    // Non-zero devices (the fixture payloads are mostly zeros).
    let mut pic = i8259::PicCommon {
        imr: 0xb8,
        irq_base: 0x08,
        elcr: 0x0c,
        ..i8259::PicCommon::default()
    };
    let b = pic.to_bytes(&ctx).unwrap();
    seeds.put("derived_i8259", "busy", &input_for::<i8259::PicCommon>(&b));

    let mut hpet = Hpet {
        config: 3,
        hpet_counter: 1 << 32,
        ..Hpet::default()
    };
    hpet.rtc_irq_level.rtc_irq_level = 1;
    hpet.offset.hpet_offset = 0x1234;
    for (i, t) in hpet.timers.iter_mut().take(3).enumerate() {
        *t = HpetTimer {
            tn: i as u8,
            config: 4,
            cmp: 0x1000,
            period: 0x10,
            ..HpetTimer::default()
        };
    }
    let b = hpet.to_bytes(&ctx).unwrap();
    seeds.put("derived_hpet", "three-timers", &input_for::<Hpet>(&b));
    let mut v1 = vec![1, 0];
    v1.extend_from_slice(&b[..24]);
    v1.extend_from_slice(&b[25..25 + 3 * 42]);
    seeds.put("derived_hpet", "version-1", &v1);

    let b = queues_sample().to_bytes(&ctx).unwrap();
    seeds.put(
        "derived_queues",
        "sample",
        &input_for::<vmstate_fuzz::Queues>(&b),
    );
    let b = vmstate_fuzz::Queues::default().to_bytes(&ctx).unwrap();
    seeds.put(
        "derived_queues",
        "empty",
        &input_for::<vmstate_fuzz::Queues>(&b),
    );

    eprintln!("wrote {} seeds under {}", seeds.count, seeds.root.display());
}
