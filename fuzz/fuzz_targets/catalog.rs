//! Every mirror in `vmstate-qemu`'s registry: byte 0 picks the entry, the
//! rest is framed as for the derived targets. Each entry's `roundtrip`
//! loads into `Default` and saves again; the re-saved bytes must load and
//! save to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vmstate_core::ErrorKind;
use vmstate_fuzz::{context, subsection_lookalike};
use vmstate_qemu::registry::ENTRIES;

/// Mirrors whose saved form settles after two load-save rounds, not one,
/// as QEMU's own does: `ide`'s bus-master `pre_save` copies the bus's
/// retry fields, which an `ide_bus/error` subsection sent with no error
/// status sets but which the next save, with no subsection, does not;
/// `virtio-net` saves its queues only up to the first of size 0, while
/// the ring-size rule looks at all of those loaded (finding F6).
const TWO_ROUNDS: &[&str] = &["ide", "virtio-net"];

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
        let again = match (entry.roundtrip)(&rt.resaved, entry.vmsd.version_id, &reload_ctx) {
            Ok(again) => again,
            // Data saved right after a nested description that spells a
            // subsection header with its name as prefix: QEMU's peek reads
            // it as one and fails the same way (findings F1 and F7). A
            // mirror writes only the subsections of its tables, so an
            // unknown name here is data.
            Err(e)
                if matches!(e.kind(), ErrorKind::UnknownSubsection { .. })
                    && subsection_lookalike(entry.vmsd, &rt.resaved) =>
            {
                return;
            }
            Err(e) => panic!("{}: re-saved bytes do not load: {e}", entry.name),
        };
        assert_eq!(again.consumed, rt.resaved.len(), "{}", entry.name);
        if TWO_ROUNDS.contains(&entry.name) && again.resaved != rt.resaved {
            // The hooks of these devices move state between fields, so
            // what a stream carries that QEMU would not send can survive
            // one save and not the next (finding F5 in FUZZING.md).
            let third = (entry.roundtrip)(&again.resaved, entry.vmsd.version_id, &reload_ctx)
                .unwrap_or_else(|e| panic!("{}: second re-save does not load: {e}", entry.name));
            assert_eq!(
                third.resaved, again.resaved,
                "{}: not a fixed point",
                entry.name
            );
            return;
        }
        assert_eq!(
            again.resaved, rt.resaved,
            "{}: not a fixed point",
            entry.name
        );
    }
});
