#![no_main]
//! Parsing any ciphertext blob never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = trent_crypto::blob::parse(data);
    let _ = trent_crypto::blob::peek_key_id(data);
});
