//! Every mirror of the catalog is guarded by a committed description
//! snapshot (`vmstate-qemu/snapshots/`): a change that breaks migration
//! with the snapshot's build, either way, fails here with the findings.
//! `VMSTATE_UPDATE_SNAPSHOTS=1 cargo test -p vmstate-qemu --test snapshots`
//! accepts a deliberate change.

use std::path::PathBuf;

use vmstate_core::desc::{Field, Vmsd};
use vmstate_migration::compat::Kind;
use vmstate_migration::snapshot::{self, Outcome, SnapshotError};
use vmstate_qemu::registry::{self, Entry};

fn snapshot_path(e: &Entry) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(format!("{}.json", e.name))
}

/// The snapshot's device type: QEMU's type name, or the section name for
/// state that QEMU registers without a device class.
fn device_type(e: &Entry) -> &'static str {
    e.qemu_type().unwrap_or(e.name)
}

#[test]
fn every_mirror_matches_its_snapshot() {
    let mut failures = Vec::new();
    for e in registry::ENTRIES {
        match snapshot::check(snapshot_path(e), device_type(e), e.vmsd) {
            Ok(Outcome::Compatible | Outcome::Updated) => {}
            Ok(Outcome::Created) => println!("wrote {}", snapshot_path(e).display()),
            Err(err) => failures.push(err.to_string()),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A copy of `vmsd` with field `name` changed by `f` (leaked: the tables
/// are `'static`).
fn with_field(vmsd: &'static Vmsd, name: &str, f: impl Fn(&mut Field)) -> &'static Vmsd {
    let mut fields = vmsd.fields.to_vec();
    for field in fields.iter_mut().filter(|x| x.name == name) {
        f(field);
    }
    let fields: &'static [Field] = Box::leak(fields.into_boxed_slice());
    Box::leak(Box::new(Vmsd::new(
        vmsd.name,
        vmsd.version_id,
        vmsd.minimum_version_id,
        fields,
        vmsd.subsections,
    )))
}

#[test]
fn an_incompatible_change_to_a_mirror_fails_with_the_findings() {
    let e = registry::lookup("i8254").unwrap();
    let path = snapshot_path(e);
    assert!(path.exists(), "{} is committed", path.display());
    // The PIT's `channels[0].irq_disabled` as an i32 instead of a u32, and
    // then as a u16.
    let signed = with_field(e.vmsd, "channels[0].irq_disabled", |f| {
        f.info = "int32";
    });
    let narrow = with_field(e.vmsd, "channels[0].irq_disabled", |f| {
        f.info = "uint16";
        f.elem_size = 2;
    });
    // `compare` never writes, whatever VMSTATE_UPDATE_SNAPSHOTS says.
    let err = snapshot::compare(&path, "isa-pit", signed).unwrap_err();
    let SnapshotError::Incompatible { findings, .. } = &err else {
        panic!("{err}");
    };
    assert!(findings.iter().all(|f| f.kind == Kind::TypeChanged));
    let msg = err.to_string();
    let lines: Vec<&str> = msg.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "isa-pit: the description is no longer migration-compatible with {}:",
            path.display()
        )
    );
    assert_eq!(
        lines[1],
        "isa-pit: i8254 > channels[0].irq_disabled: type uint32 -> int32 at the same size (breaks snapshot -> current)"
    );
    assert_eq!(
        lines[2],
        "isa-pit: i8254 > channels[0].irq_disabled: type int32 -> uint32 at the same size (breaks current -> snapshot)"
    );
    assert!(lines[3]
        .starts_with("If the change is deliberate, run the tests with VMSTATE_UPDATE_SNAPSHOTS=1"));

    let err = snapshot::compare(&path, "isa-pit", narrow)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("isa-pit: i8254 > channels[0].irq_disabled: element size 4 -> 2 (breaks snapshot -> current)"),
        "{err}"
    );
    // The unchanged mirror still passes.
    snapshot::compare(&path, "isa-pit", e.vmsd).unwrap();
}

#[test]
fn a_missing_snapshot_is_written_then_checked() {
    let dir = std::env::temp_dir().join(format!("vmstate-snap-{}", std::process::id()));
    let path = dir.join("port92.json");
    let e = registry::lookup("port92").unwrap();
    if std::env::var("CI").as_deref() == Ok("true") {
        assert!(matches!(
            snapshot::check(&path, "port92", e.vmsd),
            Err(SnapshotError::Missing(_))
        ));
        return;
    }
    // Written (rewritten under VMSTATE_UPDATE_SNAPSHOTS=1).
    let first = snapshot::check(&path, "port92", e.vmsd).unwrap();
    assert!(
        matches!(first, Outcome::Created | Outcome::Updated),
        "{first:?}"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"field\": \"outport\""), "{text}");
    assert!(text.contains("\"type\": \"uint8\""), "{text}");
    snapshot::compare(&path, "port92", e.vmsd).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
