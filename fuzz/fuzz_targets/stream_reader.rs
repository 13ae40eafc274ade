//! The whole-stream reader (`vmstate_migration::Stream`): header,
//! configuration, sections (FULL ones through the generic decoder with the
//! stream's own vmdesc), RAM, commands, trailer. On any input: no panic,
//! and a stream that parses writes back to bytes that parse and write to
//! themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vmstate_fuzz::stream_options;
use vmstate_migration::Stream;

fuzz_target!(|data: &[u8]| {
    let opts = stream_options();
    let Ok(stream) = Stream::parse(data, opts.clone()) else {
        return;
    };
    let bytes = stream
        .to_bytes()
        .unwrap_or_else(|e| panic!("a parsed stream does not write: {e}"));
    let again = Stream::parse(&bytes, opts).unwrap_or_else(|e| panic!("rewritten stream: {e}"));
    let bytes2 = again.to_bytes().unwrap_or_else(|e| panic!("{e}"));
    assert!(bytes2 == bytes, "stream rewrite is not a fixed point");
});
