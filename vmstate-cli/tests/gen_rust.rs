//! `vmstate gen-rust`: what it generates from QEMU 10.0's `-dump-vmstate`
//! and from its streams, and (ignored by default: two cargo builds, a few
//! minutes the first time) that the modules of all device types of the pc
//! dump (its 232 entries: 231 types and the machine) compile, except those needing a codec the catalog does not
//! implement, each failing with one error naming its codecs, and that the
//! generated `i8259` and `hpet` mirrors re-save QEMU's bytes.
//!
//! Run the compile test with
//! `cargo test -p vmstate-cli --test gen_rust -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

use vmstate_migration::gen_rust::{from_dump, from_dump_refined, from_vmdesc, parse_json};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/qemu-10.0")
        .join(name)
}

fn dump() -> serde_json::Value {
    parse_json(&std::fs::read(fixture("vmstate-pc.json")).unwrap()).unwrap()
}

fn vmdesc(stream: &str) -> serde_json::Value {
    let text = vmstate_cli::analyze(&fixture(stream), true).unwrap();
    parse_json(text.as_bytes()).unwrap()
}

#[test]
fn i8259_from_the_dump() {
    let g = from_dump(&dump(), &["isa-i8259".to_owned()]).unwrap();
    assert_eq!(g.modules, ["isa_i8259"]);
    assert!(g.codecs.is_empty());
    let s = &g.source;
    assert!(s.contains("#[vmstate(name = \"i8259\", version = 1, minimum_version = 1)]"));
    assert!(s.contains("pub struct I8259 {"));
    assert!(s.contains("pub elcr: u8,"));
    // The subsection, with a hook for QEMU's `needed`.
    assert!(s.contains("#[vmstate(name = \"i8259/ltim\", version = 1, minimum_version = 1)]"));
    assert!(s.contains(
        "#[vmstate(subsection, needed = Self::needed_ltim)]\n        pub ltim: I8259Ltim,"
    ));
    assert!(s.contains("pub needed_ltim: fn(&I8259) -> bool,"));
}

#[test]
fn exists_versions_unused_arrays_and_catalog_types() {
    let g = from_dump(
        &dump(),
        &[
            "e1000".to_owned(),
            "mc146818rtc".to_owned(),
            "ICH9-SMB".to_owned(),
        ],
    )
    .unwrap();
    let s = &g.source;
    // e1000: the PCI function through the catalog, `unused`, arrays, a
    // renamed field, field tests as hooks.
    assert!(s.contains("pub parent_obj: vmstate_qemu::pci::PciDevice,"));
    assert!(
        s.contains("#[vmstate(unused = 4, exists = Self::exists_unused)]\n        pub unused: (),")
    );
    assert!(s.contains("pub exists_unused: fn(&E1000, u32) -> bool,"));
    assert!(s.contains("#[vmstate(unused = 4)]\n        pub unused_2: (),"));
    assert!(s.contains("pub eeprom_data: [u16; 64],"));
    assert!(s.contains("#[vmstate(rename = \"mac_reg[CTRL]\")]\n        pub mac_reg_ctrl: u32,"));
    assert!(
        s.contains("#[vmstate(rename = \"tx.data\", buffer)]\n        pub tx_data: [u8; 65536],")
    );
    assert!(s.contains("exists = Self::exists_"));
    // mc146818rtc: field versions.
    assert!(s.contains("#[vmstate(version = 3)]\n        pub base_rtc: u64,"));
    // ICH9-SMB isn't in the pc dump's machine but its type is listed.
    assert!(s.contains("pub struct Pmsmb {"));
}

#[test]
fn codecs_the_catalog_has_and_has_not() {
    let g = from_dump(
        &dump(),
        &[
            "virtio-net-device".to_owned(),
            "virtio-blk-device".to_owned(),
        ],
    )
    .unwrap();
    assert!(g.source.contains(
        "#[vmstate(with = vmstate_qemu::virtio_net::VirtioNetCodec)]\n        pub virtio: vmstate_qemu::virtio_net::VirtioNetState,"
    ));
    assert_eq!(
        g.codecs,
        [("virtio_blk_device".to_owned(), vec!["virtio".to_owned()])]
    );
    assert!(g
        .source
        .contains("use crate::codecs::{virtio as virtio_codec};"));
}

#[test]
fn a_stream_tells_types_equal_checks_and_variable_arrays() {
    // From the vmdesc alone: QEMU's type names.
    let v = vmdesc("q35.mig");
    let g = from_vmdesc(&v, &["PCIBUS".to_owned()]).unwrap();
    assert!(g
        .source
        .contains("#[vmstate(equal)]\n        pub nirq: i32,"));
    assert!(g.source.contains("pub irq_count: [i32; 8],"));
    // The dump refined by the stream: hpet's timers are a variable array
    // (the dump shows one), typed timers.
    let g = from_dump_refined(&dump(), &["hpet".to_owned()], Some(&vmdesc("pc.mig"))).unwrap();
    assert!(g
        .source
        .contains("#[vmstate(count = timer_len)]\n        pub timer: Vec<HpetTimer>,"));
    assert!(g
        .source
        .contains("pub qemu_timer: vmstate_core::types::Timer,"));
    // VMSTATE_WITH_TMP: the temporary, and its conversions as hooks.
    let g = from_vmdesc(&vmdesc("pc.mig"), &["cpu".to_owned()]).unwrap();
    assert!(g.codecs.is_empty(), "{:?}", g.codecs);
    assert!(g
        .source
        .contains("#[vmstate(tmp = FpregTmp)]\n        pub tmp: (),"));
    assert!(g
        .source
        .contains("impl vmstate_core::codec::VmTmp<Fpreg> for FpregTmp {"));
    // Unknown names are errors.
    assert!(from_dump(&dump(), &["no-such-device".to_owned()]).is_err());
    assert!(from_vmdesc(&v, &["nope".to_owned()]).is_err());
}

#[test]
fn the_command_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_vmstate"))
        .args(["gen-rust", "--dump"])
        .arg(fixture("vmstate-pc.json"))
        .args(["--type", "port92"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("pub mod port92 {"), "{text}");
    assert!(text.contains("pub outport: u8,"), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_vmstate"))
        .args(["gen-rust", "--dump"])
        .arg(fixture("vmstate-pc.json"))
        .args(["--type", "no-such-device"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-device"));
}

const MANIFEST: &str = r#"[package]
name = "gen-rust-check"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
vmstate-core = { path = "ROOT/vmstate-core" }
vmstate-qemu = { path = "ROOT/vmstate-qemu" }

[workspace]
"#;

/// Stub codecs: `pub type Value = ()` and a `Codec` that reads and writes
/// nothing, so that the modules needing them can be type-checked.
fn stub_codecs(names: &[String]) -> String {
    let mut s = String::from("pub mod codecs {\n");
    for c in names {
        s.push_str(&format!(
            "    pub mod {c} {{\n        pub type Value = ();\n        pub struct Codec;\n        impl vmstate_core::codec::Codec<()> for Codec {{\n            const INFO: &'static str = {c:?};\n            const SIZE: usize = 0;\n            fn save<W: vmstate_core::stream::Sink>(_: &mut (), _: &mut vmstate_core::Writer<W>, _: &vmstate_core::Context) -> vmstate_core::Result<()> {{ Ok(()) }}\n            fn load<S: vmstate_core::stream::Source>(_: &mut (), _: &mut vmstate_core::Reader<S>, _: &vmstate_core::Context) -> vmstate_core::Result<()> {{ Ok(()) }}\n        }}\n    }}\n"
        ));
    }
    s.push_str("}\n");
    s
}

/// Loads a payload file into the generated i8259 and hpet mirrors, saves
/// them again, and fails unless the bytes are QEMU's.
const CHECK_BIN: &str = r#"use vmstate_core::{Context, Reader, VmState};
use gen_rust_check::generated::{hpet, isa_i8259};

fn check<T: VmState + Clone>(mut dev: T, file: &str) {
    let bytes = std::fs::read(file).unwrap();
    let mut r = Reader::from_slice(&bytes);
    dev.load(&mut r, T::VMSD.version_id, &Context::new()).unwrap();
    assert_eq!(r.offset() as usize, bytes.len(), "{file}: consumed");
    assert_eq!(dev.to_bytes(&Context::new()).unwrap(), bytes, "{file}: re-saved");
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let pic = isa_i8259::I8259 {
        last_irr: 0, irr: 0, imr: 0, isr: 0, priority_add: 0, irq_base: 0,
        read_reg_select: 0, poll: 0, special_mask: 0, init_state: 0, auto_eoi: 0,
        rotate_on_auto_eoi: 0, special_fully_nested_mode: 0, init4: 0, single_mode: 0,
        elcr: 0, ltim: isa_i8259::I8259Ltim { ltim: 0 },
        hooks: isa_i8259::I8259Hooks { needed_ltim: |s| s.ltim.ltim != 0 },
    };
    check(pic, &a[1]);
    let timer = hpet::HpetTimer {
        tn: 0, config: 0, cmp: 0, fsb: 0, period: 0, wrap_flag: 0,
        qemu_timer: vmstate_core::types::Timer::NOT_ARMED,
    };
    let h = hpet::Hpet {
        config: 0, isr: 0, hpet_counter: 0, num_timers_save: 0,
        // The stream's count: hpet's `num_timers_save`, 3 on pc.
        timer_len: 3, timer: vec![timer; 3],
        rtc_irq_level: hpet::HpetRtcIrqLevel { rtc_irq_level: 0 },
        offset: hpet::HpetOffset { hpet_offset: 0 },
        // QEMU's C: the RTC level when set; the offset when the HPET is
        // enabled (and `hpet-offset-saved`, true).
        hooks: hpet::HpetHooks { needed_rtc_irq_level: |s| s.rtc_irq_level.rtc_irq_level != 0, needed_offset: |s| s.config & 1 != 0 },
    };
    check(h, &a[2]);
}
"#;

fn cargo(dir: &Path, target: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO"))
        .args(args)
        .arg("--offline")
        .arg("--quiet")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap()
}

/// The generation run on all of QEMU 10.0's pc device types.
#[test]
#[ignore = "two cargo builds of generated code (minutes); run with --ignored"]
fn all_pc_device_types_compile_or_name_their_codecs() {
    let d = dump();
    let v = vmdesc("pc-devices.mig");
    let g = from_dump_refined(&d, &[], Some(&v)).unwrap();
    // The dump's 232 entries: 231 device types and `vmschkmachine` (the
    // machine's name, no description).
    assert_eq!(d.as_object().unwrap().len(), 232);
    assert_eq!(g.modules.len(), 231, "device types in the pc dump");

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap();
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target = base.join("gen-rust-check");
    let dir = std::env::temp_dir().join(format!("vmstate-gen-rust-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("src/bin")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        MANIFEST.replace("ROOT", &root.display().to_string()),
    )
    .unwrap();
    std::fs::write(dir.join("src/generated.rs"), &g.source).unwrap();

    // 1. No codecs written: exactly one error per module that needs some,
    //    naming them all.
    std::fs::write(
        dir.join("src/lib.rs"),
        "pub mod generated;\npub mod codecs {}\n",
    )
    .unwrap();
    let out = cargo(&dir, &target, &["build", "--lib"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
    let e0432: Vec<&&str> = errors
        .iter()
        .filter(|l| l.starts_with("error[E0432]"))
        .collect();
    let others: Vec<&&str> = errors
        .iter()
        .filter(|l| !l.starts_with("error[E0432]") && !l.starts_with("error: could not compile"))
        .collect();
    assert!(
        others.is_empty(),
        "errors other than missing codecs: {others:?}\n{err}"
    );
    assert_eq!(
        e0432.len(),
        g.codecs.len(),
        "one error per module needing codecs:\n{err}"
    );
    for (module, codecs) in &g.codecs {
        for c in codecs {
            assert!(
                err.contains(&format!("`crate::codecs::{c}`")),
                "{module}: codec {c} not named:\n{err}"
            );
        }
    }
    let mut all: Vec<String> = g.codecs.iter().flat_map(|(_, c)| c.clone()).collect();
    all.sort();
    all.dedup();
    println!(
        "{} of 231 modules compile as generated; {} need codecs: {all:?}",
        231 - g.codecs.len(),
        g.codecs.len()
    );

    // 2. With stub codecs everything type-checks (and the modules
    //    generated from the q35 and pc-devices streams alone), and the
    //    generated i8259 and hpet mirrors re-save QEMU's bytes.
    let q35 = from_vmdesc(&vmdesc("q35.mig"), &[]).unwrap();
    let devices = from_vmdesc(&v, &[]).unwrap();
    std::fs::write(dir.join("src/q35.rs"), &q35.source).unwrap();
    std::fs::write(dir.join("src/pc_devices.rs"), &devices.source).unwrap();
    for g in [&q35, &devices] {
        all.extend(g.codecs.iter().flat_map(|(_, c)| c.clone()));
    }
    all.sort();
    all.dedup();
    let mut lib = String::from("pub mod generated;\npub mod q35;\npub mod pc_devices;\n");
    lib.push_str(&stub_codecs(&all));
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    std::fs::write(dir.join("src/bin/check.rs"), CHECK_BIN).unwrap();
    let stream = std::fs::read(fixture("pc.mig")).unwrap();
    let parsed = vmstate_migration::Stream::parse(&stream, Default::default()).unwrap();
    for (idstr, file) in [("i8259", "i8259.bin"), ("hpet", "hpet.bin")] {
        let s = parsed.section(idstr, 0).unwrap();
        std::fs::write(dir.join(file), &s.vmsd().unwrap().bytes).unwrap();
    }
    let out = cargo(
        &dir,
        &target,
        &["run", "--bin", "check", "--", "i8259.bin", "hpet.bin"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
