//! Migration compatibility from descriptions alone: can a stream saved by
//! one build load on another? The input is two `-dump-vmstate` dumps
//! ([`VmstateDump`]): QEMU's own, or the export of static descriptions
//! ([`VmstateDump::from_vmsds`]). [`check`] answers for one direction,
//! [`check_both`] for both.
//!
//! ```
//! use vmstate_core::desc::{Field, FieldKind, Vmsd};
//! use vmstate_migration::compat::{check, check_both, Kind};
//! use vmstate_migration::dump::VmstateDump;
//!
//! static OLD: [Field; 1] = [Field::new("count", "uint32", FieldKind::Leaf).with_elem_size(4)];
//! static NEW: [Field; 1] = [Field::new("count", "int32", FieldKind::Leaf).with_elem_size(4)];
//! static V1: Vmsd = Vmsd::new("timer", 1, 1, &OLD, &[]);
//! static V2: Vmsd = Vmsd::new("timer", 1, 1, &NEW, &[]);
//! let old = VmstateDump::from_vmsds("pc", [("my-timer", &V1)]);
//! let new = VmstateDump::from_vmsds("pc", [("my-timer", &V2)]);
//! let findings = check(&old, &new);
//! assert_eq!(findings[0].kind, Kind::TypeChanged);
//! assert_eq!(
//!     findings[0].line("old.json", "new.json"),
//!     "my-timer: timer > count: type uint32 -> int32 at the same size (breaks old.json -> new.json)"
//! );
//! assert_eq!(check_both(&old, &new).len(), 2);
//! ```
//!
//! # Rules shared with QEMU's `vmstate-static-checker.py`
//!
//! The checker follows the rules of the script that QEMU ships (7.2 and
//! 10.0 agree except that 10.0 counts padding by total size), so the two
//! give the same verdict on the same pair of dumps:
//!
//! * every device type of the source must exist on the destination (two
//!   known type renames are accepted);
//! * a version newer than the destination's fails (the device type, each
//!   description, each field's `version_id`, each subsection), and so does
//!   a version below the destination's minimum;
//! * descriptions must keep their name (QEMU's known renames accepted);
//! * fields are compared in wire order by name, with QEMU's table of
//!   fields that were renamed without a wire change. A field of one side
//!   that is a nested description whose first field has the other side's
//!   name is opened, so moving fields into a struct is accepted. Padding
//!   (`unused`) on one side may stand for fields of the same total size on
//!   the other. The first mismatch ends the comparison of that list;
//! * a field the source sends and the destination lacks fails;
//! * an element's `size` must not change (not compared for a nested
//!   description, whose size is its C struct's);
//! * a nested description on the source needs one on the destination,
//!   compared with the same rules at any depth;
//! * every subsection of the source must be known to the destination
//!   (matched by name: their order does not matter on the wire);
//! * another machine type is a warning.
//!
//! # Rules the script does not have
//!
//! These findings are this checker's own ([`Kind::qemu_rule`] is false);
//! they make the verdict stricter than the script's:
//!
//! * **type changed** ([`Kind::TypeChanged`]): the same size but another
//!   QEMU type (`uint32` to `int32`, `uint8` to `bool`). QEMU's dump has no
//!   types: this needs dumps written with
//!   [`DumpOptions::with_types`](crate::dump::DumpOptions::with_types) on
//!   both sides;
//! * **array length changed** ([`Kind::ArrayLengthChanged`]): a fixed
//!   array's `num`, at any depth (the script compares one element's size
//!   only). Needs dumps that list `num` (QEMU 8.1 and later, and ours) on
//!   both sides;
//! * **field added** ([`Kind::FieldAdded`]): a field after the source's last
//!   one that the destination reads although the source never sends it:
//!   neither behind a test nor, in a section or subsection, newer than the
//!   version the stream carries (a nested struct is read at the
//!   destination's own version, so a version does not help there). The
//!   script stops at the source's last field;
//! * **`field_exists` changed** ([`Kind::FieldExistsChanged`]): a warning,
//!   since whether the two tests agree cannot be told from the dumps. The
//!   script ignores `field_exists`.
//!
//! And one that reports better what the script also rejects: **fields
//! reordered** ([`Kind::FieldsReordered`]) names the two fields that swapped
//! places, where the script reports a name mismatch.
//!
//! # Where the checker differs on purpose
//!
//! A source's empty subsection list, or empty field list, against a
//! destination without one is not a finding (nothing is sent); the script
//! reports the missing key.

mod finding;
mod renames;
mod render;
mod rules;

pub use finding::{Direction, Finding, Kind, Severity};
pub use render::{render_json, render_lines};

use crate::dump::VmstateDump;

/// What prevents a stream saved by `src` from loading on `dest` (all
/// findings have [`Direction::Forward`]), and warnings.
pub fn check(src: &VmstateDump, dest: &VmstateDump) -> Vec<Finding> {
    rules::Checker::run(src, dest)
}

/// Both directions: `a` to `b` ([`Direction::Forward`]), then `b` to `a`
/// ([`Direction::Backward`]).
pub fn check_both(a: &VmstateDump, b: &VmstateDump) -> Vec<Finding> {
    let mut out = check(a, b);
    out.extend(check(b, a).into_iter().map(|mut f| {
        f.direction = Direction::Backward;
        f
    }));
    out
}

/// Whether none of `findings` breaks a migration.
pub fn is_compatible(findings: &[Finding]) -> bool {
    !findings.iter().any(Finding::is_incompatible)
}
