//! Redaction: what of a request and its response may enter a record.
//!
//! CloudTrail omits "the `Plaintext` parameter of an Encrypt request, and the response to
//! GetKeyPolicy or any cryptographic operation" (KMS developer guide, *Logging AWS KMS API calls
//! with AWS CloudTrail*), but records the encryption context in the clear. Trent goes further
//! and keeps every member that can carry plaintext, ciphertext, key material, a MAC, a
//! signature, a token or a secret out of the log:
//!
//! 1. every member named in [`REDACTED_MEMBERS`] (compared without case), wherever it appears;
//! 2. every other member whose name contains one of [`SECRET_WORDS`] as a word
//!    (`SharedSecretCiphertextBlob`, `RawSecretAccessKey`, `FooToken`), unless the name ends in
//!    one of [`SAFE_SUFFIX_WORDS`] (`MacAlgorithm`, `KeyMaterialId`, `SigningAlgorithm` stay).
//!
//! Member names come out in CloudTrail's lowerCamelCase (`keyId`, `encryptionContext`), except
//! inside encryption-context maps (`EncryptionContext`, `SourceEncryptionContext`,
//! `DestinationEncryptionContext`, grant constraints' `EncryptionContextSubset` /
//! `EncryptionContextEquals`): those keys are the caller's data and are kept verbatim.

use serde_json::{Map, Value};

/// Members dropped wherever they appear (compared without case). The list is the union of the
/// KMS model's blob and sensitive members and the secret-bearing structures:
///
/// - `Plaintext`, `PrivateKeyPlaintext`, `PrivateKey`, `Message`, `SharedSecret`: plaintext;
/// - `CiphertextBlob`, `CiphertextForRecipient`, `PrivateKeyCiphertextBlob`,
///   `SharedSecretCiphertextBlob`, `EncryptedKeyMaterial`, `KeyMaterial`: ciphertext and key
///   material;
/// - `Signature`, `Mac`: signatures and MACs;
/// - `PublicKey`: the peer key of `DeriveSharedSecret` and public keys in responses (not secret,
///   but a cryptographic payload CloudTrail does not show);
/// - `ImportToken`, `GrantTokens`, `GrantToken`: bearer tokens;
/// - `AttestationDocument` (inside `Recipient`): the enclave's attestation;
/// - `Policy`, `ReplicaPolicy`: key-policy documents (CloudTrail omits GetKeyPolicy's too);
/// - `KeyStorePassword`, `XksProxyAuthenticationCredential`, `RawSecretAccessKey`: custom key
///   store credentials.
pub const REDACTED_MEMBERS: &[&str] = &[
    "Plaintext",
    "PrivateKeyPlaintext",
    "PrivateKey",
    "Message",
    "SharedSecret",
    "CiphertextBlob",
    "CiphertextForRecipient",
    "PrivateKeyCiphertextBlob",
    "SharedSecretCiphertextBlob",
    "EncryptedKeyMaterial",
    "KeyMaterial",
    "Signature",
    "Mac",
    "PublicKey",
    "ImportToken",
    "GrantTokens",
    "GrantToken",
    "AttestationDocument",
    "Policy",
    "ReplicaPolicy",
    "KeyStorePassword",
    "XksProxyAuthenticationCredential",
    "RawSecretAccessKey",
];

/// Words (lower case) that make an unknown member look like it carries a payload or a secret.
pub const SECRET_WORDS: &[&str] = &[
    "plaintext",
    "ciphertext",
    "blob",
    "secret",
    "signature",
    "mac",
    "token",
    "tokens",
    "password",
    "material",
    "credential",
    "credentials",
];

/// Last words (lower case) that make a member metadata about a payload rather than the payload
/// (`MacAlgorithm`, `KeyMaterialId`, `SignatureType`), so [`SECRET_WORDS`] does not drop it.
pub const SAFE_SUFFIX_WORDS: &[&str] = &[
    "algorithm",
    "algorithms",
    "spec",
    "specs",
    "type",
    "id",
    "ids",
    "name",
    "description",
];

/// Operations whose response CloudTrail records in `responseElements`: those that change
/// something. Read-only and cryptographic operations get `null`.
const MUTATING_OPERATIONS: &[&str] = &[
    "CancelKeyDeletion",
    "ConnectCustomKeyStore",
    "CreateAlias",
    "CreateCustomKeyStore",
    "CreateGrant",
    "CreateKey",
    "DeleteAlias",
    "DeleteCustomKeyStore",
    "DeleteImportedKeyMaterial",
    "DisableKey",
    "DisableKeyRotation",
    "DisconnectCustomKeyStore",
    "EnableKey",
    "EnableKeyRotation",
    "ImportKeyMaterial",
    "PutKeyPolicy",
    "ReplicateKey",
    "RetireGrant",
    "RevokeGrant",
    "RotateKeyOnDemand",
    "ScheduleKeyDeletion",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateCustomKeyStore",
    "UpdateKeyDescription",
    "UpdatePrimaryRegion",
];

/// Whether CloudTrail shows the response of `operation` (a mutating one) in `responseElements`.
pub fn records_response_elements(operation: &str) -> bool {
    MUTATING_OPERATIONS.contains(&operation)
}

/// Builds `requestParameters` from a request's JSON: drops every secret-bearing member (see the
/// module docs), recursively, and lowerCamelCases member names outside encryption-context maps.
/// Anything but a JSON object (a body that did not parse as one) gives `null`.
pub fn redact_request_parameters(operation: &str, params: &serde_json::Value) -> serde_json::Value {
    let _ = operation; // the rules are the same for every operation, so unknown ones are safe too
    match params {
        Value::Object(_) => walk(params, true),
        _ => Value::Null,
    }
}

/// Builds `responseElements` from a response's JSON: `None` for read-only and cryptographic
/// operations (CloudTrail shows `null` there) and for empty responses; otherwise the redacted,
/// lowerCamelCased response (`keyMetadata`, `grantId`, …), never a plaintext, ciphertext, key,
/// signature, MAC, token or policy.
pub fn redact_response_elements(
    operation: &str,
    resp: &serde_json::Value,
) -> Option<serde_json::Value> {
    if !records_response_elements(operation) {
        return None;
    }
    match walk(resp, true) {
        Value::Object(m) if !m.is_empty() => Some(Value::Object(m)),
        _ => None,
    }
}

/// lowerCamelCases every member name (`KeyId` → `keyId`; names that start with an acronym, like
/// `AWSAccountId`, stay as CloudTrail writes them), recursively, except the keys of
/// encryption-context maps, which are user data.
pub fn camel_case_keys(v: &serde_json::Value) -> serde_json::Value {
    walk(v, false)
}

/// Copies `v` with member names lowerCamelCased and, with `redact`, secret members left out.
/// Works by reference so a secret is never copied just to be dropped.
fn walk(v: &Value, redact: bool) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if redact && is_redacted(k) {
                    continue;
                }
                let v = if is_user_map(k) && is_string_map(v) {
                    v.clone()
                } else {
                    walk(v, redact)
                };
                out.insert(camel(k), v);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| walk(v, redact)).collect()),
        other => other.clone(),
    }
}

fn is_string_map(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.values().all(Value::is_string))
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Whether a member holds an encryption context (user data: keys kept verbatim).
fn is_user_map(key: &str) -> bool {
    [
        "EncryptionContext",
        "EncryptionContextSubset",
        "EncryptionContextEquals",
    ]
    .iter()
    .any(|s| ends_with_ignore_case(key, s))
}

fn is_redacted(key: &str) -> bool {
    if REDACTED_MEMBERS.iter().any(|m| m.eq_ignore_ascii_case(key)) {
        return true;
    }
    let words = split_words(key);
    match words.last() {
        None => false,
        Some(last)
            if SAFE_SUFFIX_WORDS
                .iter()
                .any(|s| s.eq_ignore_ascii_case(last)) =>
        {
            false
        }
        Some(_) => words
            .iter()
            .any(|w| SECRET_WORDS.iter().any(|s| s.eq_ignore_ascii_case(w))),
    }
}

/// Splits a member name into words: `SharedSecretCiphertextBlob` → Shared, Secret, Ciphertext,
/// Blob; `AWSAccountId` → AWS, Account, Id; `_` and `-` separate too.
fn split_words(key: &str) -> Vec<&str> {
    let b = key.as_bytes();
    let mut words = Vec::new();
    let mut start = 0;
    for i in 0..b.len() {
        let c = b[i];
        if c == b'_' || c == b'-' || c == b' ' {
            if start < i {
                words.push(&key[start..i]);
            }
            start = i + 1;
            continue;
        }
        if i > start && c.is_ascii_uppercase() {
            let prev = b[i - 1];
            let next_lower = b.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                words.push(&key[start..i]);
                start = i;
            }
        }
    }
    if start < b.len() {
        words.push(&key[start..]);
    }
    words
}

/// `KeyId` → `keyId`; `AWSAccountId` (two leading capitals: an acronym) stays.
fn camel(key: &str) -> String {
    let b = key.as_bytes();
    match b {
        [first, second, ..] if first.is_ascii_uppercase() && second.is_ascii_uppercase() => {
            key.to_owned()
        }
        [first, ..] if first.is_ascii_uppercase() => {
            let mut s = String::with_capacity(key.len());
            s.push(first.to_ascii_lowercase() as char);
            s.push_str(&key[1..]);
            s
        }
        _ => key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn encrypt_request_loses_plaintext_and_keeps_context_casing() {
        let req = json!({
            "KeyId": "alias/app",
            "Plaintext": "c2VjcmV0",
            "EncryptionContext": {"Department": "Engineering", "PlaintextHint": "x", "tenant_ID": "7"},
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "GrantTokens": ["token-1"],
            "DryRun": false
        });
        let out = redact_request_parameters("Encrypt", &req);
        assert_eq!(
            out,
            json!({
                "keyId": "alias/app",
                "encryptionContext": {"Department": "Engineering", "PlaintextHint": "x", "tenant_ID": "7"},
                "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                "dryRun": false
            })
        );
    }

    #[test]
    fn every_payload_and_secret_member_is_dropped() {
        let cases = [
            (
                "Decrypt",
                json!({"CiphertextBlob": "AQ==", "KeyId": "k", "Recipient": {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": "AQ=="}}),
                json!({"keyId": "k", "recipient": {"keyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}}),
            ),
            (
                "ReEncrypt",
                json!({"CiphertextBlob": "AQ==", "SourceEncryptionContext": {"A": "1"}, "DestinationKeyId": "k2", "DestinationEncryptionContext": {"B": "2"}}),
                json!({"sourceEncryptionContext": {"A": "1"}, "destinationKeyId": "k2", "destinationEncryptionContext": {"B": "2"}}),
            ),
            (
                "Sign",
                json!({"KeyId": "k", "Message": "bXNn", "MessageType": "RAW", "SigningAlgorithm": "ECDSA_SHA_256"}),
                json!({"keyId": "k", "messageType": "RAW", "signingAlgorithm": "ECDSA_SHA_256"}),
            ),
            (
                "Verify",
                json!({"KeyId": "k", "Message": "bXNn", "Signature": "c2ln", "SigningAlgorithm": "ECDSA_SHA_256"}),
                json!({"keyId": "k", "signingAlgorithm": "ECDSA_SHA_256"}),
            ),
            (
                "VerifyMac",
                json!({"KeyId": "k", "Message": "bXNn", "Mac": "bWFj", "MacAlgorithm": "HMAC_SHA_256"}),
                json!({"keyId": "k", "macAlgorithm": "HMAC_SHA_256"}),
            ),
            (
                "DeriveSharedSecret",
                json!({"KeyId": "k", "KeyAgreementAlgorithm": "ECDH", "PublicKey": "cGs="}),
                json!({"keyId": "k", "keyAgreementAlgorithm": "ECDH"}),
            ),
            (
                "Decapsulate",
                json!({"KeyId": "k", "SharedSecretCiphertextBlob": "AQ==", "KeyEncapsulationAlgorithm": "ML_KEM"}),
                json!({"keyId": "k", "keyEncapsulationAlgorithm": "ML_KEM"}),
            ),
            (
                "ImportKeyMaterial",
                json!({"KeyId": "k", "ImportToken": "dG9r", "EncryptedKeyMaterial": "AQ==", "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE", "KeyMaterialId": "ab12"}),
                json!({"keyId": "k", "expirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE", "keyMaterialId": "ab12"}),
            ),
            (
                "CreateCustomKeyStore",
                json!({"CustomKeyStoreName": "s", "KeyStorePassword": "hunter2", "XksProxyAuthenticationCredential": {"AccessKeyId": "A", "RawSecretAccessKey": "S"}}),
                json!({"customKeyStoreName": "s"}),
            ),
            (
                "CreateKey",
                json!({"Policy": "{\"Statement\":[]}", "KeySpec": "RSA_2048", "Tags": [{"TagKey": "env", "TagValue": "prod"}]}),
                json!({"keySpec": "RSA_2048", "tags": [{"tagKey": "env", "tagValue": "prod"}]}),
            ),
            (
                "RetireGrant",
                json!({"GrantToken": "t", "GrantId": "g", "KeyId": "k"}),
                json!({"grantId": "g", "keyId": "k"}),
            ),
            (
                "GenerateDataKey",
                json!({"KeyId": "k", "NumberOfBytes": 32, "KeySpec": "AES_256"}),
                json!({"keyId": "k", "numberOfBytes": 32, "keySpec": "AES_256"}),
            ),
        ];
        for (op, req, want) in cases {
            assert_eq!(redact_request_parameters(op, &req), want, "{op}");
        }
    }

    #[test]
    fn grant_constraints_keep_user_keys() {
        let req = json!({
            "KeyId": "k", "GranteePrincipal": "arn:aws:iam::111122223333:role/R",
            "Operations": ["Decrypt"],
            "Constraints": {"EncryptionContextSubset": {"Dept": "IT", "SecretLevel": "low"}}
        });
        let out = redact_request_parameters("CreateGrant", &req);
        assert_eq!(
            out["constraints"]["encryptionContextSubset"],
            json!({"Dept": "IT", "SecretLevel": "low"})
        );
        assert_eq!(out["operations"], json!(["Decrypt"]));
    }

    #[test]
    fn unknown_blob_like_members_are_dropped_recursively() {
        let req = json!({
            "Outer": {"SomeSecretThing": "x", "FooCiphertext": "y", "BarCount": 1,
                      "List": [{"DataBlob": "z", "Ok": true}], "MacAlgorithm": "HMAC_SHA_384",
                      "session_token": "t", "AdminPassword": "p"}
        });
        let out = redact_request_parameters("Future", &req);
        assert_eq!(
            out,
            json!({"outer": {"barCount": 1, "list": [{"ok": true}], "macAlgorithm": "HMAC_SHA_384"}})
        );
    }

    #[test]
    fn a_non_object_request_gives_null() {
        assert_eq!(
            redact_request_parameters("Encrypt", &json!("AQ==")),
            Value::Null
        );
        assert_eq!(
            redact_request_parameters("Encrypt", &json!([1])),
            Value::Null
        );
    }

    #[test]
    fn responses_of_crypto_and_read_operations_are_null() {
        for op in [
            "Encrypt",
            "Decrypt",
            "GenerateDataKey",
            "GenerateDataKeyPair",
            "GenerateRandom",
            "Sign",
            "GenerateMac",
            "DeriveSharedSecret",
            "GetKeyPolicy",
            "GetPublicKey",
            "GetParametersForImport",
            "DescribeKey",
            "ListKeys",
            "NotAnOperation",
        ] {
            let resp = json!({"Plaintext": "AQ==", "CiphertextBlob": "AQ==", "KeyId": "k", "Policy": "{}"});
            assert_eq!(redact_response_elements(op, &resp), None, "{op}");
        }
    }

    #[test]
    fn management_responses_are_recorded_without_secrets() {
        let resp = json!({"KeyMetadata": {"AWSAccountId": "111122223333", "KeyId": "k", "Arn": "arn:aws:kms:us-east-1:111122223333:key/k",
                                          "KeySpec": "SYMMETRIC_DEFAULT", "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"]}});
        let out = redact_response_elements("CreateKey", &resp).unwrap();
        assert_eq!(
            out,
            json!({"keyMetadata": {"AWSAccountId": "111122223333", "keyId": "k", "arn": "arn:aws:kms:us-east-1:111122223333:key/k",
                                   "keySpec": "SYMMETRIC_DEFAULT", "encryptionAlgorithms": ["SYMMETRIC_DEFAULT"]}})
        );
        let grant =
            redact_response_elements("CreateGrant", &json!({"GrantId": "g", "GrantToken": "t"}));
        assert_eq!(grant, Some(json!({"grantId": "g"})));
        let replica = redact_response_elements(
            "ReplicateKey",
            &json!({"ReplicaKeyMetadata": {"KeyId": "k"}, "ReplicaPolicy": "{}"}),
        );
        assert_eq!(replica, Some(json!({"replicaKeyMetadata": {"keyId": "k"}})));
        assert_eq!(redact_response_elements("EnableKey", &json!({})), None);
        assert_eq!(redact_response_elements("EnableKey", &Value::Null), None);
    }

    #[test]
    fn camel_case_keeps_acronyms_and_context_keys() {
        let v = json!({"KeyId": "k", "AWSAccountId": "1", "EncryptionContext": {"UserKey": "v"},
                       "Nested": [{"TagKey": "a"}], "already": 1});
        assert_eq!(
            camel_case_keys(&v),
            json!({"keyId": "k", "AWSAccountId": "1", "encryptionContext": {"UserKey": "v"},
                   "nested": [{"tagKey": "a"}], "already": 1})
        );
    }

    #[test]
    fn words_split_like_member_names() {
        assert_eq!(
            split_words("SharedSecretCiphertextBlob"),
            ["Shared", "Secret", "Ciphertext", "Blob"]
        );
        assert_eq!(split_words("AWSAccountId"), ["AWS", "Account", "Id"]);
        assert_eq!(split_words("session_token"), ["session", "token"]);
        assert_eq!(split_words("SHA256Digest"), ["SHA256", "Digest"]);
    }

    const SECRET_MARK: &str = "SECRETVALUE";

    fn secret_member() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "Plaintext",
            "CiphertextBlob",
            "Message",
            "Signature",
            "Mac",
            "PublicKey",
            "SharedSecret",
            "ImportToken",
            "EncryptedKeyMaterial",
            "CiphertextForRecipient",
            "AttestationDocument",
            "GrantTokens",
            "Policy",
            "KeyStorePassword",
            "PrivateKeyPlaintext",
            "plaintext",
            "privateKeyCiphertextBlob",
            "NewSecretField",
            "WrappedKeyMaterial",
            "SessionToken",
        ])
    }

    fn safe_member() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "KeyId",
            "Outer",
            "Inner",
            "Items",
            "MacAlgorithm",
            "KeySpec",
            "Description",
            "Recipient",
            "Constraints",
        ])
    }

    /// Safe structures with secret members (holding SECRET_MARK) scattered at any depth.
    fn request() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(json!("plain")),
            Just(json!(1)),
            Just(json!(true)),
            Just(Value::Null)
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                (
                    prop::collection::vec((safe_member(), inner), 0..4),
                    prop::collection::vec((secret_member(), any::<u8>()), 0..3),
                )
                    .prop_map(|(safe, secret)| {
                        let mut m = Map::new();
                        for (k, v) in safe {
                            m.insert(k.to_owned(), v);
                        }
                        for (k, n) in secret {
                            m.insert(k.to_owned(), json!(format!("{SECRET_MARK}{n}")));
                        }
                        Value::Object(m)
                    }),
            ]
        })
    }

    proptest! {
        #[test]
        fn no_secret_survives_redaction(body in request(), op in prop::sample::select(MUTATING_OPERATIONS.to_vec())) {
            let wrapped = json!({"Body": body});
            let req = redact_request_parameters(op, &wrapped).to_string();
            prop_assert!(!req.contains(SECRET_MARK), "{}", req);
            if let Some(resp) = redact_response_elements(op, &wrapped) {
                let resp = resp.to_string();
                prop_assert!(!resp.contains(SECRET_MARK), "{}", resp);
            }
        }
    }
}
