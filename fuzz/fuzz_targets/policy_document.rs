#![no_main]
//! Parsing any policy document never panics, and evaluating one that parses never panics.
use libfuzzer_sys::fuzz_target;
use trent_policy::{ContextKeys, Policy, PolicyKind, Principal, RequestContext};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(principal) = Principal::from_arn("arn:aws:iam::111122223333:user/fuzz") else {
        return;
    };
    let mut keys = ContextKeys::new();
    keys.insert("kms:EncryptionContext:Team", "blue");
    keys.insert("aws:SourceIp", "192.0.2.7");
    keys.insert("aws:CurrentTime", "2026-11-29T10:00:00Z");
    let ctx = RequestContext {
        principal: &principal,
        action: "kms:Encrypt",
        resource: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        keys: &keys,
    };
    for kind in [PolicyKind::Resource, PolicyKind::Identity] {
        if let Ok(policy) = Policy::parse(text, kind, 32 * 1024) {
            let _ = policy.evaluate(&ctx);
        }
    }
});
