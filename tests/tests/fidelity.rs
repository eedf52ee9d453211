//! Answers that are not errors but must still be AWS's: which keys show CurrentKeyMaterialId,
//! ListGrants' GranteeServicePrincipal filter, and Decrypt/ReEncrypt dry runs that ignore the
//! ciphertext (`DryRunModifiers: ["IGNORE_CIPHERTEXT"]`).
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use serde_json::{json, Value};
use trent_tests::{TestServer, ACCOUNT};

#[tokio::test]
async fn only_keys_that_rotate_show_current_key_material_id() {
    let server = TestServer::start().await.unwrap();
    let sym = server.create_key_with(json!({})).await;
    let meta = &server.call_ok("DescribeKey", json!({"KeyId": sym})).await["KeyMetadata"];
    let id = meta["CurrentKeyMaterialId"].as_str().unwrap();
    assert_eq!(id.len(), 64);
    for (spec, usage) in [
        ("HMAC_256", "GENERATE_VERIFY_MAC"),
        ("ECC_NIST_P256", "SIGN_VERIFY"),
        ("RSA_2048", "ENCRYPT_DECRYPT"),
    ] {
        let k = server
            .create_key_with(json!({"KeySpec": spec, "KeyUsage": usage}))
            .await;
        let meta = &server.call_ok("DescribeKey", json!({"KeyId": k})).await["KeyMetadata"];
        assert!(meta.get("CurrentKeyMaterialId").is_none(), "{spec}: {meta}");
        let created = server
            .call_ok("CreateKey", json!({"KeySpec": spec, "KeyUsage": usage}))
            .await;
        assert!(
            created["KeyMetadata"].get("CurrentKeyMaterialId").is_none(),
            "{spec}"
        );
    }
}

#[tokio::test]
async fn list_grants_filters_by_grantee_service_principal() {
    let server = TestServer::start().await.unwrap();
    let k = server.create_key_with(json!({})).await;
    let root = format!("arn:aws:iam::{ACCOUNT}:root");
    server
        .call_ok(
            "CreateGrant",
            json!({"KeyId": k, "GranteePrincipal": root, "Operations": ["Decrypt"]}),
        )
        .await;
    let service = server
        .call_ok(
            "CreateGrant",
            json!({"KeyId": k, "GranteeServicePrincipal": "logs.us-east-1.amazonaws.com",
               "Operations": ["Encrypt"]}),
        )
        .await["GrantId"]
        .as_str()
        .unwrap()
        .to_string();
    let all = server.call_ok("ListGrants", json!({"KeyId": k})).await;
    assert_eq!(all["Grants"].as_array().unwrap().len(), 2);
    let filtered = server
        .call_ok(
            "ListGrants",
            json!({"KeyId": k, "GranteeServicePrincipal": "logs.us-east-1.amazonaws.com"}),
        )
        .await;
    let grants = filtered["Grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "{filtered}");
    assert_eq!(grants[0]["GrantId"], service.as_str());
    let none = server
        .call_ok(
            "ListGrants",
            json!({"KeyId": k, "GranteeServicePrincipal": "s3.amazonaws.com"}),
        )
        .await;
    assert_eq!(none["Grants"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn dry_runs_that_ignore_the_ciphertext_check_the_named_key_only() {
    let server = TestServer::start().await.unwrap();
    let sym = server.create_key_with(json!({})).await;
    let hmac = server
        .create_key_with(json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}))
        .await;
    let disabled = server.create_key_with(json!({})).await;
    server
        .call_ok("DisableKey", json!({"KeyId": disabled}))
        .await;
    let ignore = json!(["IGNORE_CIPHERTEXT"]);
    let call = |op: &'static str, body: Value| {
        let server = &server;
        async move { server.call(op, &body).await.unwrap() }
    };

    // Decrypt: no ciphertext needed; the key must be able to decrypt and be usable.
    call(
        "Decrypt",
        json!({"KeyId": sym, "DryRun": true, "DryRunModifiers": ignore}),
    )
    .await
    .assert_error(400, "DryRunOperationException");
    call(
        "Decrypt",
        json!({"KeyId": sym, "CiphertextBlob": "AAAA", "DryRun": true, "DryRunModifiers": ignore}),
    )
    .await
    .assert_error(400, "DryRunOperationException");
    call(
        "Decrypt",
        json!({"KeyId": hmac, "DryRun": true, "DryRunModifiers": ignore}),
    )
    .await
    .assert_error(400, "IncorrectKeyException");
    call(
        "Decrypt",
        json!({"KeyId": disabled, "DryRun": true, "DryRunModifiers": ignore}),
    )
    .await
    .assert_error(400, "DisabledException");
    let m = call(
        "Decrypt",
        json!({"DryRun": true, "DryRunModifiers": ignore}),
    )
    .await
    .assert_error(400, "ValidationException");
    assert!(m.contains("KeyId"), "{m}");
    // The modifier means nothing without DryRun: the ciphertext is required.
    let m = call("Decrypt", json!({"KeyId": sym, "DryRunModifiers": ignore}))
        .await
        .assert_error(400, "ValidationException");
    assert!(m.contains("ciphertextBlob"), "{m}");
    // Any other modifier is refused by the model.
    call(
        "Decrypt",
        json!({"KeyId": sym, "DryRun": true, "DryRunModifiers": ["OTHER"]}),
    )
    .await
    .assert_error(400, "ValidationException");

    // ReEncrypt: the source key by SourceKeyId, the destination as always.
    call(
        "ReEncrypt",
        json!({"SourceKeyId": sym, "DestinationKeyId": sym, "DryRun": true,
               "DryRunModifiers": ignore}),
    )
    .await
    .assert_error(400, "DryRunOperationException");
    call(
        "ReEncrypt",
        json!({"SourceKeyId": hmac, "DestinationKeyId": sym, "DryRun": true,
               "DryRunModifiers": ignore}),
    )
    .await
    .assert_error(400, "IncorrectKeyException");
    call(
        "ReEncrypt",
        json!({"SourceKeyId": sym, "DestinationKeyId": disabled, "DryRun": true,
               "DryRunModifiers": ignore}),
    )
    .await
    .assert_error(400, "DisabledException");
    let m = call(
        "ReEncrypt",
        json!({"DestinationKeyId": sym, "DryRun": true, "DryRunModifiers": ignore}),
    )
    .await
    .assert_error(400, "ValidationException");
    assert!(m.contains("SourceKeyId"), "{m}");
}

#[tokio::test]
async fn describe_custom_key_stores_lists_none_and_an_unknown_store_is_not_found() {
    let server = TestServer::start().await.unwrap();
    let listed = server.call_ok("DescribeCustomKeyStores", json!({})).await;
    assert_eq!(listed, json!({"CustomKeyStores": [], "Truncated": false}));
    for body in [
        json!({"CustomKeyStoreId": "cks-1234567890abcdef0"}),
        json!({"CustomKeyStoreName": "ExampleKeyStore"}),
    ] {
        let err = server.call("DescribeCustomKeyStores", &body).await.unwrap();
        assert_eq!(err.status, 400, "{body}");
        assert_eq!(
            err.json()["__type"],
            "CustomKeyStoreNotFoundException",
            "{body}"
        );
    }
}

#[tokio::test]
async fn replicate_key_on_a_single_region_key_is_unsupported_after_authorization() {
    let server = TestServer::start().await.unwrap();
    let k = server.create_key_with(json!({})).await;
    let err = server
        .call(
            "ReplicateKey",
            &json!({"KeyId": k, "ReplicaRegion": "eu-west-1"}),
        )
        .await
        .unwrap();
    assert_eq!(err.status, 400);
    assert_eq!(err.json()["__type"], "UnsupportedOperationException");
    assert!(err.json()["message"]
        .as_str()
        .unwrap()
        .ends_with("is not a multi-Region primary key."));
}
