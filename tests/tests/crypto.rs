//! Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext), GenerateRandom and DryRun
//! through aws-sdk-kms.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use aws_sdk_kms::types::{DataKeySpec, EncryptionAlgorithmSpec};
use aws_sdk_kms::Client;
use trent_tests::*;

async fn encrypt(kms: &Client, key_id: &str, pt: &[u8], ctx: &[(&str, &str)]) -> Blob {
    let mut req = kms
        .encrypt()
        .key_id(key_id)
        .plaintext(Blob::new(pt.to_vec()));
    for (k, v) in ctx {
        req = req.encryption_context(*k, *v);
    }
    req.send()
        .await
        .expect("Encrypt")
        .ciphertext_blob
        .expect("CiphertextBlob")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypt_decrypt_round_trip_without_context() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key_id = create_key(&kms).await;
    let out = kms
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"hello, trent".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.key_id.as_deref(), Some(key_arn(&key_id).as_str()));
    assert_eq!(
        out.encryption_algorithm,
        Some(EncryptionAlgorithmSpec::SymmetricDefault)
    );
    let blob = out.ciphertext_blob.unwrap();
    assert!(!blob.as_ref().windows(12).any(|w| w == b"hello, trent"));

    let dec = kms
        .decrypt()
        .key_id(&key_id)
        .ciphertext_blob(blob)
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref(), b"hello, trent");
    assert_eq!(dec.key_id.as_deref(), Some(key_arn(&key_id).as_str()));
    assert_eq!(
        dec.encryption_algorithm,
        Some(EncryptionAlgorithmSpec::SymmetricDefault)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypt_decrypt_round_trip_with_context() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key_id = create_key(&kms).await;
    let ctx = [("purpose", "test"), ("tenant", "42")];
    let blob = encrypt(&kms, &key_id, b"context bound", &ctx).await;
    let dec = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .encryption_context("tenant", "42")
        .encryption_context("purpose", "test")
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref(), b"context bound");

    // Omitting the context is a wrong context.
    assert_aws_error!(
        kms.decrypt().ciphertext_blob(blob).send().await,
        "InvalidCiphertextException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_encryptions_of_the_same_plaintext_differ() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key_id = create_key(&kms).await;
    let a = encrypt(&kms, &key_id, b"same", &[]).await;
    let b = encrypt(&kms, &key_id, b"same", &[]).await;
    assert_ne!(a.as_ref(), b.as_ref());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decrypt_without_key_id_finds_the_key_from_the_blob() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k1 = create_key(&kms).await;
    let k2 = create_key(&kms).await;
    let b1 = encrypt(&kms, &k1, b"one", &[]).await;
    let b2 = encrypt(&kms, &k2, b"two", &[]).await;
    let d1 = kms.decrypt().ciphertext_blob(b1).send().await.unwrap();
    let d2 = kms.decrypt().ciphertext_blob(b2).send().await.unwrap();
    assert_eq!(d1.plaintext.unwrap().as_ref(), b"one");
    assert_eq!(d1.key_id.as_deref(), Some(key_arn(&k1).as_str()));
    assert_eq!(d2.plaintext.unwrap().as_ref(), b"two");
    assert_eq!(d2.key_id.as_deref(), Some(key_arn(&k2).as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decrypt_with_the_wrong_context_is_invalid_ciphertext() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key_id = create_key(&kms).await;
    let blob = encrypt(&kms, &key_id, b"ctx", &[("ab", "c")]).await;
    for wrong in [
        vec![("ab", "d")],
        vec![("a", "bc")],
        vec![("ab", "c"), ("extra", "1")],
    ] {
        let mut req = kms.decrypt().ciphertext_blob(blob.clone());
        for (k, v) in &wrong {
            req = req.encryption_context(*k, *v);
        }
        assert_aws_error!(req.send().await, "InvalidCiphertextException");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decrypt_naming_another_key_is_incorrect_key() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k1 = create_key(&kms).await;
    let k2 = create_key(&kms).await;
    let blob = encrypt(&kms, &k1, b"for k1", &[]).await;
    let e = assert_aws_error!(
        kms.decrypt()
            .key_id(&k2)
            .ciphertext_blob(blob.clone())
            .send()
            .await,
        "IncorrectKeyException"
    );
    assert_eq!(e.status, Some(400));
    // Also through the other key's ARN.
    assert_aws_error!(
        kms.decrypt()
            .key_id(key_arn(&k2))
            .ciphertext_blob(blob)
            .send()
            .await,
        "IncorrectKeyException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flipped_bits_and_truncation_are_invalid_ciphertext() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key_id = create_key(&kms).await;
    let blob = encrypt(&kms, &key_id, b"tamper with me", &[])
        .await
        .into_inner();
    let n = blob.len();
    // One position in each part of the blob: version, key id, material id, nonce, IV,
    // ciphertext, tag.
    let positions = [0usize, 1, 20, 50, 82, 95, n - 20, n - 1];
    for &i in positions.iter().filter(|&&i| i < n) {
        let mut bad = blob.clone();
        bad[i] ^= 0x01;
        let e = kms
            .decrypt()
            .ciphertext_blob(Blob::new(bad))
            .send()
            .await
            .aws_error();
        // A flipped bit inside the key id names a key that does not exist; AWS answers
        // InvalidCiphertextException there too, never anything that tells the blob apart.
        assert_eq!(
            e.code, "InvalidCiphertextException",
            "bit flipped at {i}: {e:?}"
        );
    }
    for len in [1usize, 16, 60, n - 17, n - 1] {
        let e = kms
            .decrypt()
            .ciphertext_blob(Blob::new(blob[..len].to_vec()))
            .send()
            .await
            .aws_error();
        assert_eq!(
            e.code, "InvalidCiphertextException",
            "truncated to {len}: {e:?}"
        );
    }
    // With KeyId given, a tampered blob is still InvalidCiphertextException.
    let mut bad = blob.clone();
    bad[n - 1] ^= 0x80;
    assert_aws_error!(
        kms.decrypt()
            .key_id(&key_id)
            .ciphertext_blob(Blob::new(bad))
            .send()
            .await,
        "InvalidCiphertextException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_of_4097_bytes_is_a_validation_error_and_4096_is_fine() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key_id = create_key(&kms).await;
    let blob = encrypt(&kms, &key_id, &[7u8; 4096], &[]).await;
    let pt = kms
        .decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap();
    assert_eq!(pt.as_ref(), &[7u8; 4096][..]);
    let e = assert_aws_error!(
        kms.encrypt()
            .key_id(&key_id)
            .plaintext(Blob::new(vec![7u8; 4097]))
            .send()
            .await,
        "ValidationException"
    );
    assert!(
        e.message
            .contains("at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"),
        "{}",
        e.message
    );
    assert_aws_error!(
        kms.encrypt()
            .key_id(&key_id)
            .plaintext(Blob::new(Vec::new()))
            .send()
            .await,
        "ValidationException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_encrypt_moves_a_ciphertext_to_another_key() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let src = create_key(&kms).await;
    let dst = create_key(&kms).await;
    let blob = encrypt(&kms, &src, b"moving house", &[("from", "src")]).await;
    let out = kms
        .re_encrypt()
        .ciphertext_blob(blob)
        .source_encryption_context("from", "src")
        .destination_key_id(&dst)
        .destination_encryption_context("to", "dst")
        .send()
        .await
        .unwrap();
    assert_eq!(out.source_key_id.as_deref(), Some(key_arn(&src).as_str()));
    assert_eq!(out.key_id.as_deref(), Some(key_arn(&dst).as_str()));
    let moved = out.ciphertext_blob.unwrap();
    let dec = kms
        .decrypt()
        .ciphertext_blob(moved.clone())
        .encryption_context("to", "dst")
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref(), b"moving house");
    assert_eq!(dec.key_id.as_deref(), Some(key_arn(&dst).as_str()));
    // Naming the source key for the new blob is IncorrectKeyException.
    assert_aws_error!(
        kms.decrypt()
            .key_id(&src)
            .ciphertext_blob(moved)
            .encryption_context("to", "dst")
            .send()
            .await,
        "IncorrectKeyException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_encrypt_with_wrong_source_context_or_source_key_fails() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let src = create_key(&kms).await;
    let dst = create_key(&kms).await;
    let blob = encrypt(&kms, &src, b"x", &[("a", "1")]).await;
    assert_aws_error!(
        kms.re_encrypt()
            .ciphertext_blob(blob.clone())
            .destination_key_id(&dst)
            .send()
            .await,
        "InvalidCiphertextException"
    );
    assert_aws_error!(
        kms.re_encrypt()
            .ciphertext_blob(blob)
            .source_key_id(&dst)
            .source_encryption_context("a", "1")
            .destination_key_id(&dst)
            .send()
            .await,
        "IncorrectKeyException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_sizes_and_the_blob_decrypts_to_the_plaintext() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key_id = create_key(&kms).await;
    for (spec, bytes, expected) in [
        (Some(DataKeySpec::Aes256), None, 32usize),
        (Some(DataKeySpec::Aes128), None, 16),
        (None, Some(64), 64),
        (None, Some(1), 1),
        (None, Some(1024), 1024),
    ] {
        let out = kms
            .generate_data_key()
            .key_id(&key_id)
            .set_key_spec(spec.clone())
            .set_number_of_bytes(bytes)
            .encryption_context("dk", "yes")
            .send()
            .await
            .unwrap();
        let pt = out.plaintext.unwrap();
        assert_eq!(pt.as_ref().len(), expected, "{spec:?} {bytes:?}");
        assert_eq!(out.key_id.as_deref(), Some(key_arn(&key_id).as_str()));
        let dec = kms
            .decrypt()
            .ciphertext_blob(out.ciphertext_blob.unwrap())
            .encryption_context("dk", "yes")
            .send()
            .await
            .unwrap();
        assert_eq!(dec.plaintext.unwrap().as_ref(), pt.as_ref());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_needs_exactly_one_of_key_spec_and_number_of_bytes() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key_id = create_key(&kms).await;
    assert_aws_error!(
        kms.generate_data_key()
            .key_id(&key_id)
            .key_spec(DataKeySpec::Aes256)
            .number_of_bytes(32)
            .send()
            .await,
        "ValidationException"
    );
    assert_aws_error!(
        kms.generate_data_key().key_id(&key_id).send().await,
        "ValidationException"
    );
    assert_aws_error!(
        kms.generate_data_key_without_plaintext()
            .key_id(&key_id)
            .key_spec(DataKeySpec::Aes128)
            .number_of_bytes(16)
            .send()
            .await,
        "ValidationException"
    );
    assert_aws_error!(
        kms.generate_data_key_without_plaintext()
            .key_id(&key_id)
            .send()
            .await,
        "ValidationException"
    );
    for n in [0, 1025] {
        assert_aws_error!(
            kms.generate_data_key()
                .key_id(&key_id)
                .number_of_bytes(n)
                .send()
                .await,
            "ValidationException"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_without_plaintext_returns_only_a_blob_that_decrypts() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key_id = create_key(&kms).await;
    for (spec, bytes, expected) in [
        (Some(DataKeySpec::Aes256), None, 32usize),
        (Some(DataKeySpec::Aes128), None, 16),
        (None, Some(64), 64),
    ] {
        let out = kms
            .generate_data_key_without_plaintext()
            .key_id(&key_id)
            .set_key_spec(spec)
            .set_number_of_bytes(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(out.key_id.as_deref(), Some(key_arn(&key_id).as_str()));
        let dec = kms
            .decrypt()
            .ciphertext_blob(out.ciphertext_blob.unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(dec.plaintext.unwrap().as_ref().len(), expected);
    }
    // Raw: the answer has no Plaintext member at all.
    let resp = server
        .call(
            "GenerateDataKeyWithoutPlaintext",
            &serde_json::json!({"KeyId": key_id, "KeySpec": "AES_256"}),
        )
        .await
        .unwrap();
    let j = resp.assert_ok();
    assert!(j.get("Plaintext").is_none(), "{j}");
    assert!(j.get("CiphertextBlob").is_some(), "{j}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_with_a_bad_key_spec_is_validation() {
    let server = TestServer::start().await.unwrap();
    let key_id = create_key(&server.kms_client().await).await;
    let resp = server
        .call(
            "GenerateDataKey",
            &serde_json::json!({"KeyId": key_id, "KeySpec": "AES_512"}),
        )
        .await
        .unwrap();
    let msg = resp.assert_error(400, "ValidationException");
    assert!(
        msg.contains("Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_random_gives_1_to_1024_bytes_and_refuses_0_and_1025() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    for n in [1, 32, 1024] {
        let out = kms
            .generate_random()
            .number_of_bytes(n)
            .send()
            .await
            .unwrap();
        assert_eq!(out.plaintext.unwrap().as_ref().len(), n as usize);
    }
    let a = kms
        .generate_random()
        .number_of_bytes(32)
        .send()
        .await
        .unwrap();
    let b = kms
        .generate_random()
        .number_of_bytes(32)
        .send()
        .await
        .unwrap();
    assert_ne!(a.plaintext.unwrap().as_ref(), b.plaintext.unwrap().as_ref());
    let e = assert_aws_error!(
        kms.generate_random().number_of_bytes(0).send().await,
        "ValidationException"
    );
    assert!(
        e.message.contains(
            "Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ),
        "{}",
        e.message
    );
    let e = assert_aws_error!(
        kms.generate_random().number_of_bytes(1025).send().await,
        "ValidationException"
    );
    assert!(
        e.message.contains(
            "Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"
        ),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_is_dry_run_operation_exception_with_status_400() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k1 = create_key(&kms).await;
    let k2 = create_key(&kms).await;
    let blob = encrypt(&kms, &k1, b"dry", &[]).await;
    let errors = [
        kms.encrypt()
            .key_id(&k1)
            .plaintext(Blob::new(b"x".to_vec()))
            .dry_run(true)
            .send()
            .await
            .aws_error(),
        kms.decrypt()
            .ciphertext_blob(blob.clone())
            .dry_run(true)
            .send()
            .await
            .aws_error(),
        kms.generate_data_key()
            .key_id(&k1)
            .key_spec(DataKeySpec::Aes256)
            .dry_run(true)
            .send()
            .await
            .aws_error(),
        kms.generate_data_key_without_plaintext()
            .key_id(&k1)
            .key_spec(DataKeySpec::Aes256)
            .dry_run(true)
            .send()
            .await
            .aws_error(),
        kms.re_encrypt()
            .ciphertext_blob(blob.clone())
            .destination_key_id(&k2)
            .dry_run(true)
            .send()
            .await
            .aws_error(),
    ];
    for (i, e) in errors.iter().enumerate() {
        assert_eq!(e.code, "DryRunOperationException", "call {i}: {e:?}");
        assert_eq!(e.status, Some(400), "call {i}: {e:?}");
    }
    // DryRun false is an ordinary call.
    kms.encrypt()
        .key_id(&k1)
        .plaintext(Blob::new(b"x".to_vec()))
        .dry_run(false)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_on_a_disabled_key_reports_the_disabled_key() {
    // AWS checks permissions and key state before answering DryRunOperationException.
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    kms.disable_key().key_id(&k).send().await.unwrap();
    assert_aws_error!(
        kms.encrypt()
            .key_id(&k)
            .plaintext(Blob::new(b"x".to_vec()))
            .dry_run(true)
            .send()
            .await,
        "DisabledException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_encryption_algorithm_for_a_symmetric_key_is_refused() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    let e = kms
        .encrypt()
        .key_id(&k)
        .plaintext(Blob::new(b"x".to_vec()))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .aws_error();
    assert_eq!(e.code, "InvalidKeyUsageException", "{e:?}");
}
