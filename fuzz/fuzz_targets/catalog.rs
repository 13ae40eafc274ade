//! Every mirror in `vmstate-qemu`'s registry: byte 0 picks the entry, the
//! rest is framed as for the derived targets. Each entry's `roundtrip`
//! loads into `Default` and saves again; the re-saved bytes must load and
//! save to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vmstate_fuzz::context;
use vmstate_qemu::registry::ENTRIES;

fuzz_target!(|data: &[u8]| {
    let [pick, v, flags, payload @ ..] = data else {
        return;
    };
    let entry = &ENTRIES[usize::from(*pick) % ENTRIES.len()];
    let version = u32::from(*v) % (entry.vmsd.version_id + 2);
    let ctx = context(*flags);
    if let Ok(rt) = (entry.roundtrip)(payload, version, &ctx) {
        assert!(rt.consumed <= payload.len());
        // The reload lifts the `Vec` limit: a mirror's `Default` may hold
        // more than a small fuzzed limit (finding F3 in FUZZING.md).
        let reload_ctx = ctx.with_max_vec_len(u64::MAX);
        let again = (entry.roundtrip)(&rt.resaved, entry.vmsd.version_id, &reload_ctx)
            .unwrap_or_else(|e| panic!("{}: re-saved bytes do not load: {e}", entry.name));
        assert_eq!(again.consumed, rt.resaved.len(), "{}", entry.name);
        assert_eq!(
            again.resaved, rt.resaved,
            "{}: not a fixed point",
            entry.name
        );
    }
});
