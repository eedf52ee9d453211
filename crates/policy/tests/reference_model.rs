//! The evaluator against a deliberately naive reference model, on generated policies and
//! requests.
//!
//! The reference reads the policy straight from its `serde_json::Value` on every request,
//! matches wildcards by plain recursion over character slices, and spells AWS's rules out
//! one case at a time; it shares no code with the crate. Generated policies mix Allow and
//! Deny statements with `Action`/`NotAction`, `Resource`/`NotResource` with wildcards,
//! principals (`*`, account ids, root, user and role ARNs), and `StringEquals`,
//! `StringNotEquals`, `StringLike`, `StringNotLike`, `Null`, `ForAnyValue:`/`ForAllValues:`
//! and `…IfExists` conditions over mixed-case keys.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{json, Value};
use trent_policy::{
    authorize, ContextKeys, Decision, Evaluation, Policy, PolicyKind, PolicyType, Principal,
    RequestContext, RequestFacts,
};

const ACCOUNT: &str = "111122223333";
const OTHER: &str = "444455556666";

// ---------------------------------------------------------------------------------------
// The reference model.

/// `*` any run, `?` one character; `fold` ignores ASCII case. Plain recursion.
fn naive_glob(pattern: &[char], text: &[char], fold: bool) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => {
            naive_glob(rest, text, fold)
                || (!text.is_empty() && naive_glob(pattern, &text[1..], fold))
        }
        Some(('?', rest)) => !text.is_empty() && naive_glob(rest, &text[1..], fold),
        Some((c, rest)) => {
            !text.is_empty()
                && (if fold {
                    c.eq_ignore_ascii_case(&text[0])
                } else {
                    *c == text[0]
                })
                && naive_glob(rest, &text[1..], fold)
        }
    }
}

fn glob_str(pattern: &str, text: &str, fold: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    naive_glob(&p, &t, fold)
}

/// A string or array of strings as a list.
fn list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        other => vec![other.to_string()],
    }
}

#[derive(Debug, Clone)]
struct Caller {
    arn: String,
    account: String,
    root: bool,
    role_arn: Option<String>,
    user_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefResult {
    Deny,
    Allow { via_account: bool },
    NotApplicable,
}

struct RefRequest<'a> {
    caller: &'a Caller,
    action: &'a str,
    resource: &'a str,
    keys: &'a BTreeMap<String, Vec<String>>,
}

impl RefRequest<'_> {
    /// The values of a condition key, case-insensitively; `None` when absent or empty.
    fn values(&self, key: &str) -> Option<Vec<String>> {
        for (k, vs) in self.keys {
            if k.eq_ignore_ascii_case(key) {
                if vs.is_empty() {
                    break;
                }
                return Some(vs.clone());
            }
        }
        if key.eq_ignore_ascii_case("aws:username") {
            return self.caller.user_name.clone().map(|n| vec![n]);
        }
        None
    }
}

/// 0 = no match, 1 = via the account, 2 = direct.
fn ref_principal_rank(principal: &Value, caller: &Caller) -> u8 {
    let ids = match principal {
        Value::String(s) if s == "*" => return 2,
        Value::Object(m) => m.get("AWS").map(list).unwrap_or_default(),
        _ => return 0,
    };
    let mut best = 0;
    for id in ids {
        let rank = if id == "*" {
            2
        } else if id == caller.account || id == format!("arn:aws:iam::{}:root", caller.account) {
            if caller.root {
                2
            } else {
                1
            }
        } else if id == caller.arn || Some(&id) == caller.role_arn.as_ref() {
            2
        } else {
            0
        };
        best = best.max(rank);
    }
    best
}

fn ref_condition(op: &str, key: &str, policy_values: &[String], req: &RefRequest<'_>) -> bool {
    let (set, rest) = if let Some(r) = op.strip_prefix("ForAllValues:") {
        ("all", r)
    } else if let Some(r) = op.strip_prefix("ForAnyValue:") {
        ("any", r)
    } else {
        ("", op)
    };
    let (if_exists, base) = match rest.strip_suffix("IfExists") {
        Some(b) => (true, b),
        None => (false, rest),
    };
    let request_values = req.values(key);
    if base == "Null" {
        return policy_values
            .iter()
            .any(|v| (v == "true") == request_values.is_none());
    }
    let negated = base.contains("Not");
    let like = base.contains("Like");
    let one_matches = |policy: &str, request: &str| {
        if like {
            glob_str(policy, request, false)
        } else {
            policy == request
        }
    };
    let Some(request_values) = request_values else {
        return match set {
            "all" => true,
            "any" => if_exists,
            _ => if_exists || negated,
        };
    };
    // Whether the operator (negation included) holds for one request value.
    let holds_for = |request: &str| {
        let hit = policy_values.iter().any(|p| one_matches(p, request));
        if negated {
            !hit
        } else {
            hit
        }
    };
    match set {
        "all" => request_values.iter().all(|v| holds_for(v)),
        "any" => request_values.iter().any(|v| holds_for(v)),
        _ if negated => request_values
            .iter()
            .all(|v| policy_values.iter().all(|p| !one_matches(p, v))),
        _ => request_values
            .iter()
            .any(|v| policy_values.iter().any(|p| one_matches(p, v))),
    }
}

fn ref_evaluate(policy: &Value, req: &RefRequest<'_>) -> RefResult {
    let statements = match &policy["Statement"] {
        Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    let mut allow_rank = 0;
    for st in &statements {
        let action_ok = if let Some(a) = st.get("Action") {
            list(a).iter().any(|p| glob_str(p, req.action, true))
        } else {
            !list(&st["NotAction"])
                .iter()
                .any(|p| glob_str(p, req.action, true))
        };
        let resource_ok = if let Some(r) = st.get("Resource") {
            list(r).iter().any(|p| glob_str(p, req.resource, false))
        } else {
            !list(&st["NotResource"])
                .iter()
                .any(|p| glob_str(p, req.resource, false))
        };
        let rank = match st.get("Principal") {
            Some(p) => ref_principal_rank(p, req.caller),
            None => 2,
        };
        let conditions_ok = match st.get("Condition") {
            Some(Value::Object(ops)) => ops.iter().all(|(op, block)| {
                block.as_object().is_some_and(|keys| {
                    keys.iter()
                        .all(|(key, vals)| ref_condition(op, key, &list(vals), req))
                })
            }),
            _ => true,
        };
        if action_ok && resource_ok && rank > 0 && conditions_ok {
            if st["Effect"] == "Deny" {
                return RefResult::Deny;
            }
            allow_rank = allow_rank.max(rank);
        }
    }
    match allow_rank {
        0 => RefResult::NotApplicable,
        1 => RefResult::Allow { via_account: true },
        _ => RefResult::Allow { via_account: false },
    }
}

/// KMS's rules, case by case.
fn ref_authorize(
    key: RefResult,
    identity: &[RefResult],
    caller: &Caller,
    granted: bool,
    cross_account: bool,
) -> Decision {
    if key == RefResult::Deny {
        return Decision::ExplicitDeny(PolicyType::ResourceBased);
    }
    if identity.contains(&RefResult::Deny) {
        return Decision::ExplicitDeny(PolicyType::IdentityBased);
    }
    let iam_ok = caller.root
        || identity
            .iter()
            .any(|r| matches!(r, RefResult::Allow { .. }));
    let outcome = match key {
        RefResult::Allow { via_account: false } if !cross_account => None,
        RefResult::Allow { .. } => (!iam_ok).then_some(PolicyType::IdentityBased),
        _ => Some(PolicyType::ResourceBased),
    };
    match outcome {
        None => Decision::Allow,
        Some(_) if granted => Decision::Allow,
        Some(t) => Decision::ImplicitDeny(t),
    }
}

// ---------------------------------------------------------------------------------------
// Generators.

fn callers() -> Vec<(Caller, Principal)> {
    let arns = [
        format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        format!("arn:aws:iam::{ACCOUNT}:root"),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/Admin/s1"),
        format!("arn:aws:iam::{OTHER}:user/bob"),
        format!("arn:aws:iam::{OTHER}:root"),
    ];
    arns.iter()
        .map(|arn| {
            let principal = Principal::from_arn(arn).expect("generator ARNs are valid");
            let caller = Caller {
                arn: arn.clone(),
                account: principal.account_id().to_owned(),
                root: principal.is_root(),
                role_arn: principal.role_arn().map(str::to_owned),
                user_name: arn
                    .contains(":user/")
                    .then(|| arn.rsplit('/').next().unwrap_or_default().to_owned()),
            };
            (caller, principal)
        })
        .collect()
}

/// Short strings over a tiny alphabet, so that patterns and values collide often.
fn word(with_wildcards: bool) -> BoxedStrategy<String> {
    let chars: Vec<char> = if with_wildcards {
        vec!['a', 'b', 'A', '*', '?']
    } else {
        vec!['a', 'b', 'A', '*']
    };
    proptest::collection::vec(proptest::sample::select(chars), 0..4)
        .prop_map(|cs| cs.into_iter().collect())
        .boxed()
}

fn one_or_many(item: BoxedStrategy<String>) -> BoxedStrategy<Value> {
    prop_oneof![
        item.clone().prop_map(Value::String),
        proptest::collection::vec(item, 1..3).prop_map(|v| json!(v)),
    ]
    .boxed()
}

fn action_pattern() -> BoxedStrategy<String> {
    proptest::sample::select(vec![
        "*",
        "kms:*",
        "kms:Encrypt",
        "KMS:encrypt",
        "kms:Gen*",
        "kms:?ecrypt",
        "kms:*Key*",
        "s3:*",
    ])
    .prop_map(str::to_owned)
    .boxed()
}

fn resource_pattern() -> BoxedStrategy<String> {
    prop_oneof![
        Just("*".to_owned()),
        word(true).prop_map(|w| format!("arn:x:{w}")),
    ]
    .boxed()
}

fn principal_value() -> BoxedStrategy<Value> {
    let ids = proptest::sample::select(vec![
        "*".to_owned(),
        ACCOUNT.to_owned(),
        format!("arn:aws:iam::{ACCOUNT}:root"),
        format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        format!("arn:aws:iam::{ACCOUNT}:role/Admin"),
        format!("arn:aws:iam::{OTHER}:root"),
        OTHER.to_owned(),
        format!("arn:aws:iam::{OTHER}:user/bob"),
    ])
    .boxed();
    prop_oneof![
        Just(json!("*")),
        one_or_many(ids).prop_map(|v| json!({ "AWS": v })),
    ]
    .boxed()
}

const KEYS: &[&str] = &["k1", "K1", "k2", "aws:username"];

fn condition() -> BoxedStrategy<Value> {
    let operator = proptest::sample::select(vec![
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "StringNotLike",
        "StringEqualsIfExists",
        "StringNotLikeIfExists",
        "Null",
        "ForAnyValue:StringEquals",
        "ForAnyValue:StringLike",
        "ForAnyValue:StringNotEquals",
        "ForAllValues:StringEquals",
        "ForAllValues:StringNotLike",
        "ForAnyValue:StringLikeIfExists",
    ]);
    let entry = (
        operator,
        proptest::sample::select(KEYS.to_vec()),
        proptest::collection::vec(prop_oneof![word(true), Just("alice".to_owned())], 1..3),
        any::<bool>(),
    );
    proptest::collection::vec(entry, 1..3)
        .prop_map(|entries| {
            let mut ops = serde_json::Map::new();
            for (op, key, values, null_value) in entries {
                let values = if op == "Null" {
                    json!(null_value.to_string())
                } else {
                    json!(values)
                };
                let block = ops.entry(op.to_owned()).or_insert_with(|| json!({}));
                if let Value::Object(block) = block {
                    block.insert(key.to_owned(), values);
                }
            }
            Value::Object(ops)
        })
        .boxed()
}

fn statement(resource_policy: bool) -> BoxedStrategy<Value> {
    (
        any::<bool>(),
        any::<bool>(),
        one_or_many(action_pattern()),
        any::<bool>(),
        one_or_many(resource_pattern()),
        principal_value(),
        proptest::option::of(condition()),
    )
        .prop_map(
            move |(deny, not_action, actions, not_resource, resources, principal, condition)| {
                let mut st = serde_json::Map::new();
                st.insert("Effect".into(), json!(if deny { "Deny" } else { "Allow" }));
                st.insert(
                    if not_action { "NotAction" } else { "Action" }.into(),
                    actions,
                );
                st.insert(
                    if not_resource {
                        "NotResource"
                    } else {
                        "Resource"
                    }
                    .into(),
                    resources,
                );
                if resource_policy {
                    st.insert("Principal".into(), principal);
                }
                if let Some(c) = condition {
                    st.insert("Condition".into(), c);
                }
                Value::Object(st)
            },
        )
        .boxed()
}

fn policy(resource_policy: bool) -> BoxedStrategy<Value> {
    proptest::collection::vec(statement(resource_policy), 1..4)
        .prop_map(|sts| json!({ "Version": "2012-10-17", "Statement": sts }))
        .boxed()
}

fn context_keys() -> BoxedStrategy<BTreeMap<String, Vec<String>>> {
    proptest::collection::btree_map(
        proptest::sample::select(vec!["k1", "K2", "AWS:UserName"]).prop_map(str::to_owned),
        proptest::collection::vec(prop_oneof![word(false), Just("alice".to_owned())], 0..3),
        0..3,
    )
    .boxed()
}

#[derive(Debug, Clone)]
struct GeneratedRequest {
    caller: usize,
    action: String,
    resource: String,
    keys: BTreeMap<String, Vec<String>>,
}

fn request() -> BoxedStrategy<GeneratedRequest> {
    (
        0..callers().len(),
        proptest::sample::select(vec![
            "kms:Encrypt",
            "kms:Decrypt",
            "KMS:GenerateDataKey",
            "kms:ReEncryptFrom",
            "s3:GetObject",
        ]),
        word(false),
        context_keys(),
    )
        .prop_map(|(caller, action, resource, keys)| GeneratedRequest {
            caller,
            action: action.to_owned(),
            resource: format!("arn:x:{resource}"),
            keys,
        })
        .boxed()
}

fn to_context_keys(map: &BTreeMap<String, Vec<String>>) -> ContextKeys {
    let mut keys = ContextKeys::new();
    for (k, vs) in map {
        keys.set(k, vs.iter().cloned());
    }
    keys
}

fn to_ref(e: Evaluation) -> RefResult {
    match e {
        Evaluation::ExplicitDeny => RefResult::Deny,
        Evaluation::Allow { via_account } => RefResult::Allow { via_account },
        Evaluation::NotApplicable => RefResult::NotApplicable,
    }
}

// ---------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn evaluator_agrees_with_the_reference_on_resource_policies(
        doc in policy(true),
        req in request(),
    ) {
        let parsed = Policy::parse(&doc.to_string(), PolicyKind::Resource, 32_768)
            .map_err(|e| TestCaseError::fail(format!("generated policy refused: {e}")))?;
        let all = callers();
        let (caller, principal) = &all[req.caller];
        let keys = to_context_keys(&req.keys);
        let ctx = RequestContext { principal, action: &req.action, resource: &req.resource, keys: &keys };
        let reference = ref_evaluate(&doc, &RefRequest { caller, action: &req.action, resource: &req.resource, keys: &req.keys });
        prop_assert_eq!(to_ref(parsed.evaluate(&ctx)), reference, "policy {}", doc);
    }

    #[test]
    fn evaluator_agrees_with_the_reference_on_identity_policies(
        doc in policy(false),
        req in request(),
    ) {
        let parsed = Policy::parse(&doc.to_string(), PolicyKind::Identity, 32_768)
            .map_err(|e| TestCaseError::fail(format!("generated policy refused: {e}")))?;
        let all = callers();
        let (caller, principal) = &all[req.caller];
        let keys = to_context_keys(&req.keys);
        let ctx = RequestContext { principal, action: &req.action, resource: &req.resource, keys: &keys };
        let reference = ref_evaluate(&doc, &RefRequest { caller, action: &req.action, resource: &req.resource, keys: &req.keys });
        prop_assert_eq!(to_ref(parsed.evaluate(&ctx)), reference, "policy {}", doc);
    }

    #[test]
    fn kms_decision_agrees_with_the_reference(
        key_doc in policy(true),
        identity_docs in proptest::collection::vec(policy(false), 0..3),
        req in request(),
        granted in any::<bool>(),
    ) {
        let key = Policy::parse(&key_doc.to_string(), PolicyKind::Resource, 32_768)
            .map_err(|e| TestCaseError::fail(format!("generated key policy refused: {e}")))?;
        let identity = identity_docs
            .iter()
            .map(|d| Policy::parse(&d.to_string(), PolicyKind::Identity, 32_768))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TestCaseError::fail(format!("generated identity policy refused: {e}")))?;
        let all = callers();
        let (caller, principal) = &all[req.caller];
        let cross_account = caller.account != ACCOUNT;
        let keys = to_context_keys(&req.keys);
        let ctx = RequestContext { principal, action: &req.action, resource: &req.resource, keys: &keys };
        let ref_req = RefRequest { caller, action: &req.action, resource: &req.resource, keys: &req.keys };
        let expected = ref_authorize(
            ref_evaluate(&key_doc, &ref_req),
            &identity_docs.iter().map(|d| ref_evaluate(d, &ref_req)).collect::<Vec<_>>(),
            caller,
            granted,
            cross_account,
        );
        let decision = authorize(&key, &identity, &ctx, RequestFacts { granted, cross_account });
        prop_assert_eq!(decision, expected);
    }
}
