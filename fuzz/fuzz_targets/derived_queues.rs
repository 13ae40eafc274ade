//! Derived load of `vmstate_fuzz::Queues` on arbitrary bytes: no panic, the two readers
//! agree, a failed load changes nothing, a successful one re-saves to a
//! fixed point (see `vmstate_fuzz::check_load`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vmstate_fuzz::{check_load, frame};

type Dev = vmstate_fuzz::Queues;

fuzz_target!(|data: &[u8]| {
    if let Some((version, ctx, payload)) = frame::<Dev>(data) {
        check_load(&Dev::default(), payload, version, &ctx);
    }
});
