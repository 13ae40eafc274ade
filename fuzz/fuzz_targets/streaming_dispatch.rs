//! One-pass loading of a whole stream into the catalog's mirrors
//! (`Dispatcher::load_read`), as a VMM receiving a migration does: every
//! FULL section of QEMU's `pc.mig` has a registered mirror, and sections
//! are sized by loading them, not by a vmdesc. On any input: no panic, and
//! memory stays bounded by the reader's options.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vmstate_core::Context;
use vmstate_fuzz::stream_options;
use vmstate_migration::{Dispatcher, ReadOptions, SectionKind, Stream};
use vmstate_qemu::registry;

/// `(idstr, instance)` of every FULL section of `pc.mig`.
fn sections() -> &'static [(String, u32)] {
    static S: OnceLock<Vec<(String, u32)>> = OnceLock::new();
    S.get_or_init(|| {
        let bytes = include_bytes!("../../tests/fixtures/qemu-7.2/pc.mig");
        let stream = Stream::parse(bytes, ReadOptions::default()).expect("fixture parses");
        stream
            .sections()
            .filter(|s| s.kind == SectionKind::Full)
            .map(|s| (s.idstr.clone(), s.instance_id))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut mirrors: Vec<_> = sections()
        .iter()
        .filter_map(|(idstr, inst)| {
            let e = registry::lookup(idstr)?;
            Some((idstr, *inst, (e.new_mirror)()))
        })
        .collect();
    let mut d = Dispatcher::new(Context::new().with_max_vec_len(1 << 16));
    for (idstr, inst, m) in &mut mirrors {
        d.register(idstr, *inst, m.as_target());
    }
    let opts = stream_options();
    let _ = d.load_read(data, None, opts, |_| Ok(()));
});
