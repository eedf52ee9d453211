//! Helpers shared by the unit tests: small policies and requests.

use crate::{ContextKeys, Evaluation, Policy, PolicyKind, Principal, RequestContext};

pub(crate) const KEY_ARN: &str =
    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

pub(crate) fn principal(arn: &str) -> Principal {
    match Principal::from_arn(arn) {
        Ok(p) => p,
        Err(e) => panic!("test principal: {e}"),
    }
}

pub(crate) fn alice() -> Principal {
    principal("arn:aws:iam::111122223333:user/alice")
}

pub(crate) fn parse(doc: &str, kind: PolicyKind) -> Policy {
    match Policy::parse(doc, kind, 32_768) {
        Ok(p) => p,
        Err(e) => panic!("test policy does not parse: {e}\n{doc}"),
    }
}

/// An identity policy of one Allow statement for `kms:*` on `*` under `condition` (a JSON
/// object), in Version 2012-10-17.
pub(crate) fn with_condition(condition: &str) -> Policy {
    parse(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{condition}}}]}}"#
        ),
        PolicyKind::Identity,
    )
}

/// Context keys as `(key, values)` pairs.
pub(crate) type Pairs<'a> = &'a [(&'a str, &'a [&'a str])];

/// Context keys from `(key, values)` pairs.
pub(crate) fn keys(pairs: Pairs<'_>) -> ContextKeys {
    let mut keys = ContextKeys::new();
    for (k, vs) in pairs {
        keys.set(k, vs.iter().copied());
    }
    keys
}

/// Whether `policy` allows `kms:Encrypt` on the test key to `who` with `keys`.
pub(crate) fn allows_for(policy: &Policy, who: &Principal, keys: &ContextKeys) -> bool {
    let ctx = RequestContext {
        principal: who,
        action: "kms:Encrypt",
        resource: KEY_ARN,
        keys,
    };
    matches!(policy.evaluate(&ctx), Evaluation::Allow { .. })
}

/// Whether the condition (a JSON object) holds for alice with `pairs` as context keys.
pub(crate) fn holds(condition: &str, pairs: Pairs<'_>) -> bool {
    allows_for(&with_condition(condition), &alice(), &keys(pairs))
}
