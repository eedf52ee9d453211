#![no_main]
//! Any request body, checked against every operation's input shape, never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        for op in trent_wire::Operation::ALL {
            let _ = trent_wire::model::check_request(*op, &value);
        }
    }
});
