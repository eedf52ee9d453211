//! The request's condition keys (ARCHITECTURE.md §5), built once per request from its decoded JSON and
//! its connection, for every operation alike: `kms:EncryptionContext:…`,
//! `kms:EncryptionContextKeys`, `kms:EncryptionAlgorithm`, `kms:SigningAlgorithm`,
//! `kms:MacAlgorithm`, `kms:MessageType`, the import keys `kms:WrappingAlgorithm` /
//! `kms:WrappingKeySpec` / `kms:ExpirationModel` / `kms:ValidTo`, CreateKey's `kms:KeySpec` / `kms:KeyUsage` /
//! `kms:KeyOrigin` / `kms:MultiRegion`, CreateGrant's `kms:GrantOperations` /
//! `kms:GrantConstraintType` / `kms:GrantIsForAWSResource` / `kms:GranteePrincipal` /
//! `kms:RetiringPrincipal`, `kms:RequestAlias`, `aws:RequestTag/…` and `aws:TagKeys`,
//! `kms:CallerAccount`, `aws:SourceIp`, `aws:CurrentTime`, `aws:EpochTime`,
//! `aws:SecureTransport`, `aws:RequestedRegion`.
//!
//! The key's own keys (`aws:ResourceTag/…`, `kms:ResourceAliases`, the key's spec, usage and
//! origin) are added by core when it evaluates, from its caches.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use trent_core::model::AccountId;
use trent_core::policy::ContextKeys;
use trent_core::{CoreError, RequestConditions};
use trent_wire::Operation;

/// The request members that condition keys are made of. Only these are kept for the keys,
/// which are built later and only if a policy asks (plaintexts, ciphertexts, messages and
/// policies are never copied).
const CONDITION_MEMBERS: [&str; 36] = [
    "WrappingAlgorithm",
    "WrappingKeySpec",
    "ExpirationModel",
    "ValidTo",
    "ReplicaRegion",
    "PrimaryRegion",
    "EncryptionContext",
    "SourceEncryptionContext",
    "DestinationEncryptionContext",
    "Constraints",
    "EncryptionAlgorithm",
    "SourceEncryptionAlgorithm",
    "DestinationEncryptionAlgorithm",
    "SigningAlgorithm",
    "MacAlgorithm",
    "MessageType",
    "KeyPairSpec",
    "KeyAgreementAlgorithm",
    "KeySpec",
    "CustomerMasterKeySpec",
    "KeyUsage",
    "Origin",
    "MultiRegion",
    "BypassPolicyLockoutSafetyCheck",
    "PendingWindowInDays",
    "RotationPeriodInDays",
    "Operations",
    "GranteePrincipal",
    "GranteeServicePrincipal",
    "RetiringPrincipal",
    "RetiringServicePrincipal",
    "KeyId",
    "SourceKeyId",
    "DestinationKeyId",
    "Tags",
    "TagKeys",
];

/// [`GlobalSource`] and the caller's account, owned by the deferred keys.
struct Source {
    caller_account: AccountId,
    region: String,
    source_ip: Option<IpAddr>,
    secure_transport: bool,
    now: OffsetDateTime,
}

/// The condition keys and encryption contexts of one decoded request. The encryption contexts
/// are copied now (grant constraints compare them); the keys are built on the first lookup,
/// from a copy of the members they need.
pub fn request_conditions(
    op: Operation,
    body: &Value,
    caller_account: &AccountId,
    src: &GlobalSource<'_>,
) -> RequestConditions {
    let empty = Map::new();
    let obj = body.as_object().unwrap_or(&empty);
    let members: Map<String, Value> = obj
        .iter()
        .filter(|(name, _)| CONDITION_MEMBERS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let source = Source {
        caller_account: caller_account.clone(),
        region: src.region.to_string(),
        source_ip: src.source_ip,
        secure_transport: src.secure_transport,
        now: src.now,
    };
    RequestConditions {
        encryption_contexts: encryption_contexts(obj),
        keys: Arc::new(ContextKeys::deferred(move |keys| {
            fill(op, &members, &source, keys)
        })),
    }
}

/// The encryption contexts a request carries: one for most operations, source and destination
/// for ReEncrypt.
fn encryption_contexts(obj: &Map<String, Value>) -> Vec<BTreeMap<String, String>> {
    [
        "EncryptionContext",
        "SourceEncryptionContext",
        "DestinationEncryptionContext",
    ]
    .iter()
    .filter_map(|field| string_map(obj.get(*field)))
    .collect()
}

/// What the global condition keys of any request (KMS, IAM or STS) are built from.
pub struct GlobalSource<'a> {
    /// The Region the request is for (`aws:RequestedRegion`).
    pub region: &'a str,
    /// The client's address (`aws:SourceIp`).
    pub source_ip: Option<IpAddr>,
    /// The request arrived over TLS (`aws:SecureTransport`).
    pub secure_transport: bool,
    /// The request's time (`aws:CurrentTime`, `aws:EpochTime`), from the server's clock.
    pub now: OffsetDateTime,
}

/// The global condition keys every protocol sets alike: `aws:SourceIp`, `aws:CurrentTime`,
/// `aws:EpochTime`, `aws:SecureTransport`, `aws:RequestedRegion`. The one place they are
/// built, so that no protocol can miss one (a "deny unless TLS" statement must fire for
/// AssumeRole as it does for Encrypt).
pub fn global_keys(src: &GlobalSource<'_>) -> ContextKeys {
    let mut keys = ContextKeys::new();
    fill_global(&mut keys, src);
    keys
}

fn fill_global(keys: &mut ContextKeys, src: &GlobalSource<'_>) {
    if let Some(ip) = src.source_ip {
        keys.insert("aws:SourceIp", ip.to_string());
    }
    let now = src.now.replace_nanosecond(0).unwrap_or(src.now);
    if let Ok(t) = now.format(&Rfc3339) {
        keys.insert("aws:CurrentTime", t);
    }
    keys.insert("aws:EpochTime", now.unix_timestamp().to_string());
    keys.insert(
        "aws:SecureTransport",
        if src.secure_transport {
            "true"
        } else {
            "false"
        },
    );
    keys.insert("aws:RequestedRegion", src.region);
}

/// Builds the condition keys of a request from its members.
fn fill(op: Operation, obj: &Map<String, Value>, src: &Source, keys: &mut ContextKeys) {
    // Who, where, when.
    keys.insert("kms:CallerAccount", src.caller_account.as_str());
    fill_global(
        keys,
        &GlobalSource {
            region: &src.region,
            source_ip: src.source_ip,
            secure_transport: src.secure_transport,
            now: src.now,
        },
    );

    // Encryption contexts: one for most operations, source and destination for ReEncrypt;
    // CreateGrant's constraints are tested by the same keys.
    let contexts = encryption_contexts(obj);
    let constraint_contexts: Vec<BTreeMap<String, String>> = obj
        .get("Constraints")
        .and_then(Value::as_object)
        .map(|c| {
            ["EncryptionContextSubset", "EncryptionContextEquals"]
                .iter()
                .filter_map(|f| string_map(c.get(*f)))
                .collect()
        })
        .unwrap_or_default();
    let mut context_keys: Vec<String> = Vec::new();
    for ctx in contexts.iter().chain(constraint_contexts.iter()) {
        for (k, v) in ctx {
            keys.insert(&format!("kms:EncryptionContext:{k}"), v.clone());
            if !context_keys.contains(k) {
                context_keys.push(k.clone());
            }
        }
    }
    keys.set("kms:EncryptionContextKeys", context_keys);

    // Algorithms and message types.
    let algorithm_default = matches!(
        op,
        Operation::Encrypt
            | Operation::Decrypt
            | Operation::ReEncrypt
            | Operation::GenerateDataKey
            | Operation::GenerateDataKeyWithoutPlaintext
    );
    let mut algorithms: Vec<String> = [
        "EncryptionAlgorithm",
        "SourceEncryptionAlgorithm",
        "DestinationEncryptionAlgorithm",
    ]
    .iter()
    .filter_map(|f| string(obj.get(*f)))
    .collect();
    if algorithms.is_empty() && algorithm_default {
        algorithms.push("SYMMETRIC_DEFAULT".into());
    }
    keys.set("kms:EncryptionAlgorithm", algorithms);
    copy(keys, obj, "SigningAlgorithm", "kms:SigningAlgorithm");
    copy(keys, obj, "MacAlgorithm", "kms:MacAlgorithm");
    copy(keys, obj, "MessageType", "kms:MessageType");
    // GetParametersForImport and ImportKeyMaterial (imported key material).
    copy(keys, obj, "WrappingAlgorithm", "kms:WrappingAlgorithm");
    copy(keys, obj, "WrappingKeySpec", "kms:WrappingKeySpec");
    copy(keys, obj, "ExpirationModel", "kms:ExpirationModel");
    if let Some(t) = obj.get("ValidTo").and_then(Value::as_f64) {
        // A date condition key; the policy language compares epoch seconds and ISO 8601.
        keys.insert("kms:ValidTo", (t as i64).to_string());
    }
    copy(keys, obj, "KeyPairSpec", "kms:DataKeyPairSpec");
    // Multi-Region keys (ARCHITECTURE.md §10): ReplicateKey's and UpdatePrimaryRegion's Region.
    copy(keys, obj, "ReplicaRegion", "kms:ReplicaRegion");
    copy(keys, obj, "PrimaryRegion", "kms:PrimaryRegion");
    copy(
        keys,
        obj,
        "KeyAgreementAlgorithm",
        "kms:KeyAgreementAlgorithm",
    );

    // CreateKey describes the key it makes (the key's own keys do not exist yet).
    if op == Operation::CreateKey {
        let spec = string(obj.get("KeySpec"))
            .or_else(|| string(obj.get("CustomerMasterKeySpec")))
            .unwrap_or_else(|| "SYMMETRIC_DEFAULT".into());
        keys.insert("kms:KeySpec", spec);
        keys.insert(
            "kms:KeyUsage",
            string(obj.get("KeyUsage")).unwrap_or_else(|| "ENCRYPT_DECRYPT".into()),
        );
        keys.insert(
            "kms:KeyOrigin",
            string(obj.get("Origin")).unwrap_or_else(|| "AWS_KMS".into()),
        );
        let multi = obj
            .get("MultiRegion")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        keys.insert("kms:MultiRegion", multi.to_string());
    }
    if let Some(b) = obj
        .get("BypassPolicyLockoutSafetyCheck")
        .and_then(Value::as_bool)
    {
        keys.insert("kms:BypassPolicyLockoutSafetyCheck", b.to_string());
    }
    if let Some(n) = obj.get("PendingWindowInDays").and_then(Value::as_i64) {
        keys.insert("kms:ScheduleKeyDeletionPendingWindowInDays", n.to_string());
    }
    if let Some(n) = obj.get("RotationPeriodInDays").and_then(Value::as_i64) {
        keys.insert("kms:RotationPeriodInDays", n.to_string());
    }

    // CreateGrant.
    if op == Operation::CreateGrant {
        let ops: Vec<String> = obj
            .get("Operations")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| string(Some(v))).collect())
            .unwrap_or_default();
        keys.set("kms:GrantOperations", ops);
        let constraint_types: Vec<String> = obj
            .get("Constraints")
            .and_then(Value::as_object)
            .map(|c| {
                ["EncryptionContextSubset", "EncryptionContextEquals"]
                    .iter()
                    .filter(|f| c.get(**f).is_some_and(|v| !v.is_null()))
                    .map(|f| f.to_string())
                    .collect()
            })
            .unwrap_or_default();
        keys.set("kms:GrantConstraintType", constraint_types);
        // No AWS service calls Trent on anyone's behalf.
        keys.insert("kms:GrantIsForAWSResource", "false");
        copy(keys, obj, "GranteePrincipal", "kms:GranteePrincipal");
        copy(keys, obj, "GranteeServicePrincipal", "kms:GranteePrincipal");
    }
    copy(keys, obj, "RetiringPrincipal", "kms:RetiringPrincipal");
    copy(
        keys,
        obj,
        "RetiringServicePrincipal",
        "kms:RetiringPrincipal",
    );

    // The caller named the key by alias.
    let aliases: Vec<String> = ["KeyId", "SourceKeyId", "DestinationKeyId"]
        .iter()
        .filter_map(|f| string(obj.get(*f)))
        .filter_map(|k| alias_name(&k))
        .collect();
    keys.set("kms:RequestAlias", aliases);

    // Tags in the request.
    let mut tag_keys: Vec<String> = Vec::new();
    if let Some(tags) = obj.get("Tags").and_then(Value::as_array) {
        for t in tags {
            if let (Some(k), Some(v)) = (string(t.get("TagKey")), string(t.get("TagValue"))) {
                keys.insert(&format!("aws:RequestTag/{k}"), v);
                tag_keys.push(k);
            }
        }
    }
    if let Some(removed) = obj.get("TagKeys").and_then(Value::as_array) {
        tag_keys.extend(removed.iter().filter_map(|v| string(Some(v))));
    }
    keys.set("aws:TagKeys", tag_keys);
}

/// The request's GrantTokens, each checked for form (InvalidGrantTokenException).
pub fn check_grant_tokens(body: &Value) -> Result<(), CoreError> {
    let tokens: Vec<String> = body
        .get("GrantTokens")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| string(Some(v))).collect())
        .unwrap_or_default();
    trent_core::grant::check_grant_tokens(&tokens)
}

/// `alias/NAME` for an alias name or alias ARN; `None` for a key id or key ARN.
fn alias_name(key_id: &str) -> Option<String> {
    if key_id.starts_with("alias/") {
        return Some(key_id.to_string());
    }
    key_id
        .strip_prefix("arn:")
        .and_then(|rest| rest.splitn(5, ':').nth(4))
        .filter(|r| r.starts_with("alias/"))
        .map(str::to_string)
}

fn string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn string_map(v: Option<&Value>) -> Option<BTreeMap<String, String>> {
    let m = v?.as_object()?;
    Some(
        m.iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
    )
}

fn copy(keys: &mut ContextKeys, obj: &Map<String, Value>, field: &str, key: &str) {
    if let Some(v) = string(obj.get(field)) {
        keys.insert(key, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn build(op: Operation, body: Value) -> RequestConditions {
        let account = AccountId::parse("111122223333").unwrap();
        request_conditions(
            op,
            &body,
            &account,
            &GlobalSource {
                region: "us-east-1",
                source_ip: Some("10.1.2.3".parse().unwrap()),
                secure_transport: false,
                now: time::macros::datetime!(2026-11-29 10:00:00.5 UTC),
            },
        )
    }

    fn get(c: &RequestConditions, k: &str) -> Option<Vec<String>> {
        c.keys.get(k).map(<[String]>::to_vec)
    }

    #[test]
    fn encryption_context_becomes_per_key_values_and_a_key_list() {
        let c = build(
            Operation::Encrypt,
            json!({"KeyId": "alias/app", "EncryptionContext": {"Dept": "IT", "Project": "x"}}),
        );
        assert_eq!(
            get(&c, "kms:EncryptionContext:Dept"),
            Some(vec!["IT".into()])
        );
        assert_eq!(
            get(&c, "kms:EncryptionContextKeys"),
            Some(vec!["Dept".into(), "Project".into()])
        );
        assert_eq!(get(&c, "kms:RequestAlias"), Some(vec!["alias/app".into()]));
        assert_eq!(
            get(&c, "kms:EncryptionAlgorithm"),
            Some(vec!["SYMMETRIC_DEFAULT".into()])
        );
        assert_eq!(c.encryption_contexts.len(), 1);
        assert_eq!(c.encryption_contexts[0]["Dept"], "IT");
    }

    #[test]
    fn import_parameters_become_the_import_condition_keys() {
        let c = build(
            Operation::GetParametersForImport,
            json!({"KeyId": "k", "WrappingAlgorithm": "RSA_AES_KEY_WRAP_SHA_256",
                   "WrappingKeySpec": "RSA_4096"}),
        );
        assert_eq!(
            get(&c, "kms:WrappingAlgorithm"),
            Some(vec!["RSA_AES_KEY_WRAP_SHA_256".into()])
        );
        assert_eq!(
            get(&c, "kms:WrappingKeySpec"),
            Some(vec!["RSA_4096".into()])
        );
        let c = build(
            Operation::ImportKeyMaterial,
            json!({"KeyId": "k", "ImportToken": "AA==", "EncryptedKeyMaterial": "AA==",
                   "ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidTo": 1_800_000_000.0}),
        );
        assert_eq!(
            get(&c, "kms:ExpirationModel"),
            Some(vec!["KEY_MATERIAL_EXPIRES".into()])
        );
        // AWS's example policy compares it with NumericLessThan on epoch seconds.
        assert_eq!(get(&c, "kms:ValidTo"), Some(vec!["1800000000".into()]));
    }

    #[test]
    fn connection_and_time_keys_are_always_there() {
        let c = build(Operation::ListKeys, json!({}));
        assert_eq!(get(&c, "aws:SourceIp"), Some(vec!["10.1.2.3".into()]));
        assert_eq!(
            get(&c, "kms:CallerAccount"),
            Some(vec!["111122223333".into()])
        );
        assert_eq!(
            get(&c, "aws:CurrentTime"),
            Some(vec!["2026-11-29T10:00:00Z".into()])
        );
        assert_eq!(get(&c, "aws:SecureTransport"), Some(vec!["false".into()]));
        assert!(get(&c, "aws:EpochTime").is_some());
        assert_eq!(get(&c, "kms:RequestAlias"), None);
        assert_eq!(get(&c, "kms:ViaService"), None);
    }

    #[test]
    fn create_grant_keys_describe_the_grant() {
        let c = build(
            Operation::CreateGrant,
            json!({"KeyId": "arn:aws:kms:us-east-1:111122223333:alias/a",
                   "GranteePrincipal": "arn:aws:iam::444455556666:root",
                   "Operations": ["Encrypt", "Decrypt"],
                   "Constraints": {"EncryptionContextSubset": {"Dept": "IT"}}}),
        );
        assert_eq!(
            get(&c, "kms:GrantOperations"),
            Some(vec!["Encrypt".into(), "Decrypt".into()])
        );
        assert_eq!(
            get(&c, "kms:GrantConstraintType"),
            Some(vec!["EncryptionContextSubset".into()])
        );
        assert_eq!(
            get(&c, "kms:GrantIsForAWSResource"),
            Some(vec!["false".into()])
        );
        assert_eq!(
            get(&c, "kms:GranteePrincipal"),
            Some(vec!["arn:aws:iam::444455556666:root".into()])
        );
        assert_eq!(
            get(&c, "kms:EncryptionContext:Dept"),
            Some(vec!["IT".into()])
        );
        assert_eq!(get(&c, "kms:RequestAlias"), Some(vec!["alias/a".into()]));
        assert!(
            c.encryption_contexts.is_empty(),
            "constraints are no request context"
        );
    }

    #[test]
    fn create_key_and_tag_keys() {
        let c = build(
            Operation::CreateKey,
            json!({"Tags": [{"TagKey": "Env", "TagValue": "prod"}], "KeyUsage": "ENCRYPT_DECRYPT"}),
        );
        assert_eq!(
            get(&c, "kms:KeySpec"),
            Some(vec!["SYMMETRIC_DEFAULT".into()])
        );
        assert_eq!(get(&c, "kms:KeyOrigin"), Some(vec!["AWS_KMS".into()]));
        assert_eq!(get(&c, "aws:RequestTag/Env"), Some(vec!["prod".into()]));
        assert_eq!(get(&c, "aws:TagKeys"), Some(vec!["Env".into()]));
        // GenerateDataKey's KeySpec is the data key's, not the KMS key's.
        let g = build(
            Operation::GenerateDataKey,
            json!({"KeyId": "k", "KeySpec": "AES_256"}),
        );
        assert_eq!(get(&g, "kms:KeySpec"), None);
    }

    #[test]
    fn malformed_grant_tokens_are_refused() {
        assert!(check_grant_tokens(&json!({})).is_ok());
        assert!(matches!(
            check_grant_tokens(&json!({"GrantTokens": ["garbage"]})),
            Err(CoreError::InvalidGrantToken(_))
        ));
    }
}
