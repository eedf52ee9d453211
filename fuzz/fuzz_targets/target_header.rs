#![no_main]
//! `X-Amz-Target` parsing never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = trent_wire::Operation::from_target(s);
    }
});
