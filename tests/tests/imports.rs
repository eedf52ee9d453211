//! Imported key material (BYOK, issue 16) through the real server with aws-sdk-kms: the key
//! material is wrapped offline as a user does (aws-lc-rs here, `cryptography` and `openssl` in
//! tests/python/test_imports.py), imported, used, expired by the clock, deleted and reimported.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use aws_lc_rs::key_wrap::{AesKek, KeyWrapPadded, AES_256};
use aws_lc_rs::rsa::{
    OaepPublicEncryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
};
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::{Blob, DateTime};
use aws_sdk_kms::types::{
    AlgorithmSpec, ExpirationModelType, ImportType, KeySpec, KeyState, KeyUsageType,
    MacAlgorithmSpec, OriginType, WrappingKeySpec,
};
use aws_sdk_kms::Client;
use time::Duration;
use trent_tests::*;

/// What GetParametersForImport gave.
struct Params {
    token: Vec<u8>,
    public_key: Vec<u8>,
}

async fn external_key(kms: &Client, spec: KeySpec, usage: KeyUsageType) -> String {
    let out = kms
        .create_key()
        .origin(OriginType::External)
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .unwrap();
    let meta = out.key_metadata.unwrap();
    assert_eq!(meta.key_state, Some(KeyState::PendingImport));
    assert_eq!(meta.origin, Some(OriginType::External));
    assert!(!meta.enabled);
    meta.key_id
}

async fn params(kms: &Client, key: &str, alg: AlgorithmSpec, spec: WrappingKeySpec) -> Params {
    params_at(
        kms,
        key,
        alg,
        spec,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
    .await
}

/// GetParametersForImport on a server whose clock says `now`.
async fn params_at(
    kms: &Client,
    key: &str,
    alg: AlgorithmSpec,
    spec: WrappingKeySpec,
    now: i64,
) -> Params {
    let out = kms
        .get_parameters_for_import()
        .key_id(key)
        .wrapping_algorithm(alg)
        .wrapping_key_spec(spec)
        .send()
        .await
        .unwrap();
    let valid_to = out.parameters_valid_to.unwrap().secs();
    assert!(
        (valid_to - now - 24 * 3600).abs() < 60,
        "ParametersValidTo is 24 hours out"
    );
    Params {
        token: out.import_token.unwrap().into_inner(),
        public_key: out.public_key.unwrap().into_inner(),
    }
}

/// Wraps `material` as the Developer Guide's steps do.
fn wrap(public_der: &[u8], alg: &AlgorithmSpec, material: &[u8]) -> Vec<u8> {
    let public =
        OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(public_der).unwrap()).unwrap();
    let (oaep, aes) = match alg {
        AlgorithmSpec::RsaesOaepSha1 => (&OAEP_SHA1_MGF1SHA1, false),
        AlgorithmSpec::RsaesOaepSha256 => (&OAEP_SHA256_MGF1SHA256, false),
        AlgorithmSpec::RsaAesKeyWrapSha1 => (&OAEP_SHA1_MGF1SHA1, true),
        AlgorithmSpec::RsaAesKeyWrapSha256 => (&OAEP_SHA256_MGF1SHA256, true),
        other => panic!("{other:?}"),
    };
    let mut rsa_out = vec![0u8; public.ciphertext_size()];
    if !aes {
        return public
            .encrypt(oaep, material, &mut rsa_out, None)
            .unwrap()
            .to_vec();
    }
    let aes_key: [u8; 32] = std::array::from_fn(|i| i as u8 ^ 0x5a);
    let mut out = public
        .encrypt(oaep, &aes_key, &mut rsa_out, None)
        .unwrap()
        .to_vec();
    let mut wrapped = vec![0u8; material.len() + 16];
    let kek = AesKek::new(&AES_256, &aes_key).unwrap();
    out.extend_from_slice(kek.wrap_with_padding(material, &mut wrapped).unwrap());
    out
}

async fn import(
    kms: &Client,
    key: &str,
    p: &Params,
    alg: &AlgorithmSpec,
    material: &[u8],
    valid_to: Option<i64>,
) -> Result<String, (String, Option<String>)> {
    let mut req = kms
        .import_key_material()
        .key_id(key)
        .import_token(Blob::new(p.token.clone()))
        .encrypted_key_material(Blob::new(wrap(&p.public_key, alg, material)));
    req = match valid_to {
        Some(t) => req
            .expiration_model(ExpirationModelType::KeyMaterialExpires)
            .valid_to(DateTime::from_secs(t)),
        None => req.expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire),
    };
    match req.send().await {
        Ok(out) => Ok(out.key_material_id.unwrap_or_default()),
        Err(e) => Err((
            e.code().unwrap_or("?").to_string(),
            e.message().map(str::to_string),
        )),
    }
}

async fn state(kms: &Client, key: &str) -> KeyState {
    kms.describe_key()
        .key_id(key)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_state
        .unwrap()
}

async fn encrypt(kms: &Client, key: &str, pt: &[u8]) -> Vec<u8> {
    kms.encrypt()
        .key_id(key)
        .plaintext(Blob::new(pt))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap()
        .into_inner()
}

async fn decrypt_code(kms: &Client, ct: &[u8]) -> Result<Vec<u8>, String> {
    kms.decrypt()
        .ciphertext_blob(Blob::new(ct))
        .send()
        .await
        .map(|o| o.plaintext.unwrap().into_inner())
        .map_err(|e| e.code().unwrap_or("?").to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symmetric_material_imported_with_every_rsa_wrapping_algorithm_is_used() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    for (alg, spec) in [
        (AlgorithmSpec::RsaesOaepSha1, WrappingKeySpec::Rsa2048),
        (AlgorithmSpec::RsaesOaepSha256, WrappingKeySpec::Rsa3072),
        (AlgorithmSpec::RsaAesKeyWrapSha1, WrappingKeySpec::Rsa2048),
        (AlgorithmSpec::RsaAesKeyWrapSha256, WrappingKeySpec::Rsa4096),
    ] {
        let key = external_key(
            &kms,
            KeySpec::SymmetricDefault,
            KeyUsageType::EncryptDecrypt,
        )
        .await;
        let err = kms
            .encrypt()
            .key_id(&key)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await;
        assert_eq!(
            err.unwrap_err().code(),
            Some("KMSInvalidStateException"),
            "no material yet"
        );
        let p = params(&kms, &key, alg.clone(), spec).await;
        let id = import(&kms, &key, &p, &alg, &[0x11; 32], None)
            .await
            .unwrap();
        assert_eq!(id.len(), 64, "{alg:?}");
        assert_eq!(state(&kms, &key).await, KeyState::Enabled, "{alg:?}");
        let meta = kms
            .describe_key()
            .key_id(&key)
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        assert_eq!(
            meta.expiration_model,
            Some(ExpirationModelType::KeyMaterialDoesNotExpire)
        );
        assert_eq!(meta.current_key_material_id.as_deref(), Some(id.as_str()));
        let ct = encrypt(&kms, &key, b"imported").await;
        assert_eq!(decrypt_code(&kms, &ct).await.unwrap(), b"imported");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_bound_to_their_key_used_once_and_wrong_material_is_refused() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let alg = AlgorithmSpec::RsaesOaepSha256;
    let a = external_key(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let b = external_key(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let pa = params(&kms, &a, alg.clone(), WrappingKeySpec::Rsa2048).await;

    // A token of another key.
    let err = import(&kms, &b, &pa, &alg, &[1; 32], None)
        .await
        .unwrap_err();
    assert_eq!(err.0, "InvalidImportTokenException");
    // A forged token.
    let mut forged = Params {
        token: pa.token.clone(),
        public_key: pa.public_key.clone(),
    };
    let last = forged.token.len() - 1;
    forged.token[last] ^= 1;
    let err = import(&kms, &a, &forged, &alg, &[1; 32], None)
        .await
        .unwrap_err();
    assert_eq!(err.0, "InvalidImportTokenException");
    // Material wrapped with another algorithm than the token's does not unwrap.
    let err = import(&kms, &a, &pa, &AlgorithmSpec::RsaesOaepSha1, &[1; 32], None)
        .await
        .unwrap_err();
    assert_eq!(err.0, "InvalidCiphertextException");
    // Material of the wrong length for the key spec.
    let err = import(&kms, &a, &pa, &alg, &[1; 16], None)
        .await
        .unwrap_err();
    assert_eq!(err.0, "IncorrectKeyMaterialException");

    let first = import(&kms, &a, &pa, &alg, &[1; 32], None).await.unwrap();
    // The token is used: its wrapping key is gone.
    let err = import(&kms, &a, &pa, &alg, &[1; 32], None)
        .await
        .unwrap_err();
    assert_eq!(err.0, "InvalidImportTokenException");
    // Other material for the same key.
    let p2 = params(&kms, &a, alg.clone(), WrappingKeySpec::Rsa2048).await;
    let err = import(&kms, &a, &p2, &alg, &[2; 32], None)
        .await
        .unwrap_err();
    assert_eq!(err.0, "IncorrectKeyMaterialException");
    // The same material again is allowed (and changes the expiration).
    let p3 = params(&kms, &a, alg.clone(), WrappingKeySpec::Rsa2048).await;
    let in_a_day = time::OffsetDateTime::now_utc().unix_timestamp() + 86_400;
    let again = import(&kms, &a, &p3, &alg, &[1; 32], Some(in_a_day))
        .await
        .unwrap();
    assert_eq!(first, again, "same material, same key material id");
    let meta = kms
        .describe_key()
        .key_id(&a)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(
        meta.expiration_model,
        Some(ExpirationModelType::KeyMaterialExpires)
    );
    assert_eq!(meta.valid_to.unwrap().secs(), in_a_day);

    // The same material in key b makes a key that still decrypts only its own ciphertexts.
    let pb = params(&kms, &b, alg.clone(), WrappingKeySpec::Rsa2048).await;
    let id_b = import(&kms, &b, &pb, &alg, &[1; 32], None).await.unwrap();
    assert_ne!(first, id_b, "the id depends on the key too");
    let ct_a = encrypt(&kms, &a, b"for a").await;
    let ct_b = encrypt(&kms, &b, b"for b").await;
    let err = kms
        .decrypt()
        .key_id(&b)
        .ciphertext_blob(Blob::new(ct_a.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("IncorrectKeyException"));
    assert_eq!(decrypt_code(&kms, &ct_a).await.unwrap(), b"for a");
    assert_eq!(decrypt_code(&kms, &ct_b).await.unwrap(), b"for b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_to_rules_and_wrapping_combinations_are_validated() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let alg = AlgorithmSpec::RsaesOaepSha256;
    let key = external_key(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let p = params(&kms, &key, alg.clone(), WrappingKeySpec::Rsa2048).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for valid_to in [now - 10, now + 366 * 86_400] {
        let err = import(&kms, &key, &p, &alg, &[1; 32], Some(valid_to))
            .await
            .unwrap_err();
        assert_eq!(err.0, "ValidationException", "{valid_to}");
    }
    // KEY_MATERIAL_EXPIRES (the default) without ValidTo.
    let err = kms
        .import_key_material()
        .key_id(&key)
        .import_token(Blob::new(p.token.clone()))
        .encrypted_key_material(Blob::new(wrap(&p.public_key, &alg, &[1; 32])))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));

    // RSA private keys need an RSA_AES wrapping algorithm; SM2 and PKCS#1 v1.5 are refused.
    let rsa = external_key(&kms, KeySpec::Rsa2048, KeyUsageType::SignVerify).await;
    for (alg, spec) in [
        (AlgorithmSpec::RsaesOaepSha256, WrappingKeySpec::Rsa4096),
        (AlgorithmSpec::RsaesPkcs1V15, WrappingKeySpec::Rsa2048),
        (AlgorithmSpec::Sm2Pke, WrappingKeySpec::Sm2),
        (AlgorithmSpec::RsaAesKeyWrapSha256, WrappingKeySpec::Sm2),
    ] {
        let err = kms
            .get_parameters_for_import()
            .key_id(&rsa)
            .wrapping_algorithm(alg.clone())
            .wrapping_key_spec(spec.clone())
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("ValidationException"), "{alg:?} {spec:?}");
    }
    // Keys Trent made are not for import.
    let own = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let err = kms
        .get_parameters_for_import()
        .key_id(&own)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnsupportedOperationException"));
    // DeleteImportedKeyMaterial of a key still pending import.
    let err = kms
        .delete_imported_key_material()
        .key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("KMSInvalidStateException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_material_and_tokens_by_the_clock_then_delete_and_reimport() {
    let (server, clock) = TestServer::start_with_manual_clock().await.unwrap();
    let kms = server.kms_client().await;
    let alg = AlgorithmSpec::RsaAesKeyWrapSha256;
    let key = external_key(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let material = [0x42u8; 32];
    let p = params_at(
        &kms,
        &key,
        alg.clone(),
        WrappingKeySpec::Rsa2048,
        clock.now_for_test().unix_timestamp(),
    )
    .await;
    let valid_to = clock.now_for_test().unix_timestamp() + 3_600;
    import(&kms, &key, &p, &alg, &material, Some(valid_to))
        .await
        .unwrap();
    let ct = encrypt(&kms, &key, b"before expiry").await;

    assert_eq!(server.run_maintenance().await.expired_imports, 0, "not yet");
    clock.advance(Duration::hours(2));
    assert_eq!(server.run_maintenance().await.expired_imports, 1);
    assert_eq!(state(&kms, &key).await, KeyState::PendingImport);
    assert_eq!(
        decrypt_code(&kms, &ct).await.unwrap_err(),
        "KMSInvalidStateException"
    );
    let records = server.audit_records().unwrap();
    let imports: Vec<_> = records
        .iter()
        .filter(|r| r["eventName"] == "ImportKeyMaterial")
        .collect();
    assert!(!imports.is_empty());
    for r in imports {
        let params = &r["requestParameters"];
        assert_eq!(params["expirationModel"], "KEY_MATERIAL_EXPIRES", "{r}");
        assert!(params.get("importToken").is_none(), "no token in {r}");
        assert!(
            params.get("encryptedKeyMaterial").is_none(),
            "no material in {r}"
        );
    }
    assert!(
        records
            .iter()
            .any(|r| r["eventName"] == "DeleteExpiredKeyMaterial"
                && r["eventType"] == "AwsServiceEvent"),
        "the expiry is audited"
    );

    // A token older than 24 hours has expired.
    let old = params_at(
        &kms,
        &key,
        alg.clone(),
        WrappingKeySpec::Rsa2048,
        clock.now_for_test().unix_timestamp(),
    )
    .await;
    clock.advance(Duration::hours(25));
    let err = import(&kms, &key, &old, &alg, &material, None)
        .await
        .unwrap_err();
    assert_eq!(err.0, "ExpiredImportTokenException");
    // The job erases the expired parameter set, wrapped wrapping key and all.
    server.run_maintenance().await;
    let key_id = trent_core::model::KeyId::parse(&key).unwrap();
    let region = server.app().config.region.clone();
    let doc = server
        .app()
        .kms
        .store()
        .get_import_record(trent_core::model::KeyAddr::new(&region, key_id))
        .await
        .unwrap()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&doc.document).unwrap();
    assert_eq!(doc["parameters"], serde_json::json!([]), "{doc}");

    // The same material again: the old ciphertext decrypts again.
    let p = params_at(
        &kms,
        &key,
        alg.clone(),
        WrappingKeySpec::Rsa2048,
        clock.now_for_test().unix_timestamp(),
    )
    .await;
    import(&kms, &key, &p, &alg, &material, None).await.unwrap();
    assert_eq!(decrypt_code(&kms, &ct).await.unwrap(), b"before expiry");

    // DeleteImportedKeyMaterial does the same at once.
    kms.delete_imported_key_material()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(state(&kms, &key).await, KeyState::PendingImport);
    assert_eq!(
        decrypt_code(&kms, &ct).await.unwrap_err(),
        "KMSInvalidStateException"
    );
    let p = params_at(
        &kms,
        &key,
        alg.clone(),
        WrappingKeySpec::Rsa2048,
        clock.now_for_test().unix_timestamp(),
    )
    .await;
    import(&kms, &key, &p, &alg, &material, None).await.unwrap();
    assert_eq!(decrypt_code(&kms, &ct).await.unwrap(), b"before expiry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hmac_material_is_the_one_in_use() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let alg = AlgorithmSpec::RsaesOaepSha256;
    let key = external_key(&kms, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let p = params(&kms, &key, alg.clone(), WrappingKeySpec::Rsa2048).await;
    // 48 bytes: HMAC_256 takes 32 to 64.
    let material = [0x24u8; 48];
    import(&kms, &key, &p, &alg, &material, None).await.unwrap();
    let mac = kms
        .generate_mac()
        .key_id(&key)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .message(Blob::new(b"message".to_vec()))
        .send()
        .await
        .unwrap()
        .mac
        .unwrap()
        .into_inner();
    let offline = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &material),
        b"message",
    );
    assert_eq!(mac, offline.as_ref());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_key_material_waits_until_rotate_key_on_demand() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let alg = AlgorithmSpec::RsaesOaepSha256;
    let key = external_key(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let p = params(&kms, &key, alg.clone(), WrappingKeySpec::Rsa2048).await;
    let first = import(&kms, &key, &p, &alg, &[1; 32], None).await.unwrap();
    let ct1 = encrypt(&kms, &key, b"one").await;

    let p = params(&kms, &key, alg.clone(), WrappingKeySpec::Rsa2048).await;
    let second = kms
        .import_key_material()
        .key_id(&key)
        .import_token(Blob::new(p.token.clone()))
        .encrypted_key_material(Blob::new(wrap(&p.public_key, &alg, &[2; 32])))
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .import_type(ImportType::NewKeyMaterial)
        .send()
        .await
        .unwrap()
        .key_material_id
        .unwrap();
    assert_ne!(first, second);
    let listed = kms
        .list_key_rotations()
        .key_id(&key)
        .include_key_material(aws_sdk_kms::types::IncludeKeyMaterial::AllKeyMaterial)
        .send()
        .await
        .unwrap()
        .rotations
        .unwrap();
    let states: Vec<_> = listed
        .iter()
        .map(|r| {
            (
                r.key_material_id.clone().unwrap(),
                r.key_material_state.clone().unwrap(),
                r.import_state.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            (
                first.clone(),
                aws_sdk_kms::types::KeyMaterialState::Current,
                aws_sdk_kms::types::ImportState::Imported
            ),
            (
                second.clone(),
                aws_sdk_kms::types::KeyMaterialState::PendingRotation,
                aws_sdk_kms::types::ImportState::Imported
            ),
        ]
    );
    let meta = kms
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(
        meta.current_key_material_id.as_deref(),
        Some(first.as_str()),
        "waits"
    );

    kms.rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    let meta = kms
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(
        meta.current_key_material_id.as_deref(),
        Some(second.as_str())
    );
    let ct2 = encrypt(&kms, &key, b"two").await;
    assert_eq!(decrypt_code(&kms, &ct1).await.unwrap(), b"one");
    assert_eq!(decrypt_code(&kms, &ct2).await.unwrap(), b"two");
    // Automatic rotation stays refused for EXTERNAL keys.
    let err = kms
        .enable_key_rotation()
        .key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnsupportedOperationException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_condition_keys_are_evaluated_by_key_policies() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:GetParametersForImport",
             "Resource": "*",
             "Condition": {"StringEquals": {"kms:WrappingAlgorithm": "RSAES_OAEP_SHA_1"}}},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:ImportKeyMaterial",
             "Resource": "*",
             "Condition": {"StringEquals": {"kms:ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}}}
        ]
    });
    let key = kms
        .create_key()
        .origin(OriginType::External)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let err = kms
        .get_parameters_for_import()
        .key_id(&key)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha1)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    let alg = AlgorithmSpec::RsaesOaepSha256;
    let p = params(&kms, &key, alg.clone(), WrappingKeySpec::Rsa2048).await;
    let err = import(&kms, &key, &p, &alg, &[3; 32], None)
        .await
        .unwrap_err();
    assert_eq!(err.0, "AccessDeniedException", "no expiry is denied");
    let in_a_day = time::OffsetDateTime::now_utc().unix_timestamp() + 86_400;
    import(&kms, &key, &p, &alg, &[3; 32], Some(in_a_day))
        .await
        .unwrap();
}

/// A multi-Region key for imported material would need the same material imported into each
/// replica; until that is built, CreateKey refuses it whole instead of making a key that
/// cannot be replicated correctly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_region_key_for_imported_material_is_refused_until_replicas_can_import() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let err = kms
        .create_key()
        .origin(OriginType::External)
        .multi_region(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnsupportedOperationException"));
    let keys = kms.list_keys().send().await.unwrap();
    assert!(keys.keys().is_empty(), "nothing was created: {keys:?}");
}
