//! `vmstate dump-vmstate`: the catalog's descriptions as QEMU's
//! `-dump-vmstate` JSON.

use std::io::{self, Write};

use vmstate_migration::dump::{DumpOptions, VmstateDump};
use vmstate_qemu::registry;

/// The machine type written when none is given: the catalog mirrors this
/// machine's devices.
pub const DEFAULT_MACHINE: &str = "pc-i440fx-7.2";

/// The dump of every mirror that stands for a QEMU device type, in catalog
/// order (state that QEMU registers without a device class, such as
/// `timer` or `cpu`, is not in QEMU's dump either).
pub fn catalog_dump(machine: &str) -> VmstateDump {
    VmstateDump::from_vmsds(
        machine,
        registry::ENTRIES
            .iter()
            .filter_map(|e| e.qemu_type().map(|t| (t, e.vmsd))),
    )
}

/// Writes the catalog's dump to `out`; `types` adds each field's type.
pub fn dump_vmstate(machine: &str, types: bool, out: &mut dyn Write) -> io::Result<()> {
    let opts = if types {
        DumpOptions::with_types()
    } else {
        DumpOptions::qemu()
    };
    out.write_all(catalog_dump(machine).to_json(&opts).as_bytes())?;
    out.flush()
}
