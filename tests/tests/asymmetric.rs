//! Every key spec through the real server and aws-sdk-kms: CreateKey's (KeySpec, KeyUsage)
//! table and DescribeKey's algorithm lists; Sign/Verify, GetPublicKey, RSA-OAEP and SM2PKE
//! Encrypt/Decrypt/ReEncrypt, GenerateMac/VerifyMac, DeriveSharedSecret,
//! Encapsulate/Decapsulate, GenerateDataKeyPair(WithoutPlaintext), DryRun, and the errors AWS
//! gives for each misuse. Signatures, RSA-OAEP ciphertexts and ECDH secrets are also checked
//! against aws-lc-rs outside Trent, with the public key GetPublicKey returns.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::{agreement, digest, rand, rsa, signature};
use aws_sdk_kms::types::{
    DataKeyPairSpec, EncapsulationAlgorithmSpec, EncryptionAlgorithmSpec,
    KeyAgreementAlgorithmSpec, KeySpec, KeyUsageType, MacAlgorithmSpec, MessageType, OriginType,
    SigningAlgorithmSpec,
};
use aws_sdk_kms::Client;
use shake::{ExtendableOutput, Shake256, Update, XofReader};
use trent_tests::*;

// ------------------------------------------------------------------------------ helpers

/// Creates a key of `spec` and `usage` and returns its key id.
async fn create(kms: &Client, spec: &str, usage: &str) -> String {
    kms.create_key()
        .key_spec(KeySpec::from(spec))
        .key_usage(KeyUsageType::from(usage))
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateKey {spec} {usage}: {e:?}"))
        .key_metadata
        .expect("KeyMetadata")
        .key_id
}

async fn sign(kms: &Client, key: &str, message: &[u8], mt: &str, alg: &str) -> Vec<u8> {
    let out = kms
        .sign()
        .key_id(key)
        .message(Blob::new(message.to_vec()))
        .message_type(MessageType::from(mt))
        .signing_algorithm(SigningAlgorithmSpec::from(alg))
        .send()
        .await
        .unwrap_or_else(|e| panic!("Sign {alg} {mt}: {e:?}"));
    if !key.starts_with("alias/") {
        assert_eq!(out.key_id.as_deref(), Some(key_arn(key).as_str()));
    }
    assert_eq!(out.signing_algorithm, Some(SigningAlgorithmSpec::from(alg)));
    out.signature.expect("Signature").into_inner()
}

async fn verify(
    kms: &Client,
    key: &str,
    message: &[u8],
    mt: &str,
    signature: &[u8],
    alg: &str,
) -> Result<
    aws_sdk_kms::operation::verify::VerifyOutput,
    aws_sdk_kms::error::SdkError<
        aws_sdk_kms::operation::verify::VerifyError,
        aws_sdk_kms::config::http::HttpResponse,
    >,
> {
    kms.verify()
        .key_id(key)
        .message(Blob::new(message.to_vec()))
        .message_type(MessageType::from(mt))
        .signature(Blob::new(signature.to_vec()))
        .signing_algorithm(SigningAlgorithmSpec::from(alg))
        .send()
        .await
}

async fn public_key(kms: &Client, key: &str) -> Vec<u8> {
    kms.get_public_key()
        .key_id(key)
        .send()
        .await
        .expect("GetPublicKey")
        .public_key
        .expect("PublicKey")
        .into_inner()
}

/// The digest a DIGEST message must be for `alg` (SHA-2 by the algorithm's suffix).
fn digest_for(alg: &str, message: &[u8]) -> Vec<u8> {
    let d = if alg.ends_with("SHA_256") {
        &digest::SHA256
    } else if alg.ends_with("SHA_384") {
        &digest::SHA384
    } else {
        &digest::SHA512
    };
    digest::digest(d, message).as_ref().to_vec()
}

/// ML-DSA's external μ of `message` (FIPS 204 §6.2, pure, empty context) for the public key
/// in `spki` (a 22-byte SubjectPublicKeyInfo header, then the raw key).
fn external_mu(spki: &[u8], message: &[u8]) -> Vec<u8> {
    let shake64 = |parts: &[&[u8]]| {
        let mut h = Shake256::default();
        for p in parts {
            h.update(p);
        }
        let mut out = vec![0u8; 64];
        h.finalize_xof().read(&mut out);
        out
    };
    let tr = shake64(&[&spki[22..]]);
    shake64(&[&tr, &[0u8, 0u8], message])
}

fn encryption_algorithm(alg: &str) -> EncryptionAlgorithmSpec {
    EncryptionAlgorithmSpec::from(alg)
}

/// (KeySpec, KeyUsage, the algorithm list DescribeKey shows, its algorithms) for every pair
/// AWS accepts, written out here independently of Trent's own table.
const VALID_PAIRS: &[(&str, &str, &str, &[&str])] = &[
    (
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
        "Encryption",
        &["SYMMETRIC_DEFAULT"],
    ),
    (
        "RSA_2048",
        "ENCRYPT_DECRYPT",
        "Encryption",
        &["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
    ),
    (
        "RSA_3072",
        "ENCRYPT_DECRYPT",
        "Encryption",
        &["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
    ),
    (
        "RSA_4096",
        "ENCRYPT_DECRYPT",
        "Encryption",
        &["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
    ),
    ("RSA_2048", "SIGN_VERIFY", "Signing", RSA_SIGNING),
    ("RSA_3072", "SIGN_VERIFY", "Signing", RSA_SIGNING),
    ("RSA_4096", "SIGN_VERIFY", "Signing", RSA_SIGNING),
    (
        "ECC_NIST_P256",
        "SIGN_VERIFY",
        "Signing",
        &["ECDSA_SHA_256"],
    ),
    (
        "ECC_NIST_P384",
        "SIGN_VERIFY",
        "Signing",
        &["ECDSA_SHA_384"],
    ),
    (
        "ECC_NIST_P521",
        "SIGN_VERIFY",
        "Signing",
        &["ECDSA_SHA_512"],
    ),
    ("ECC_NIST_P256", "KEY_AGREEMENT", "KeyAgreement", &["ECDH"]),
    ("ECC_NIST_P384", "KEY_AGREEMENT", "KeyAgreement", &["ECDH"]),
    ("ECC_NIST_P521", "KEY_AGREEMENT", "KeyAgreement", &["ECDH"]),
    (
        "ECC_SECG_P256K1",
        "SIGN_VERIFY",
        "Signing",
        &["ECDSA_SHA_256"],
    ),
    (
        "ECC_NIST_EDWARDS25519",
        "SIGN_VERIFY",
        "Signing",
        &["ED25519_SHA_512", "ED25519_PH_SHA_512"],
    ),
    ("HMAC_224", "GENERATE_VERIFY_MAC", "Mac", &["HMAC_SHA_224"]),
    ("HMAC_256", "GENERATE_VERIFY_MAC", "Mac", &["HMAC_SHA_256"]),
    ("HMAC_384", "GENERATE_VERIFY_MAC", "Mac", &["HMAC_SHA_384"]),
    ("HMAC_512", "GENERATE_VERIFY_MAC", "Mac", &["HMAC_SHA_512"]),
    ("ML_DSA_44", "SIGN_VERIFY", "Signing", &["ML_DSA_SHAKE_256"]),
    ("ML_DSA_65", "SIGN_VERIFY", "Signing", &["ML_DSA_SHAKE_256"]),
    ("ML_DSA_87", "SIGN_VERIFY", "Signing", &["ML_DSA_SHAKE_256"]),
    (
        "ML_KEM_512",
        "ENCAPSULATE_DECAPSULATE",
        "Encapsulation",
        &["ML_KEM"],
    ),
    (
        "ML_KEM_768",
        "ENCAPSULATE_DECAPSULATE",
        "Encapsulation",
        &["ML_KEM"],
    ),
    (
        "ML_KEM_1024",
        "ENCAPSULATE_DECAPSULATE",
        "Encapsulation",
        &["ML_KEM"],
    ),
    ("SM2", "SIGN_VERIFY", "Signing", &["SM2DSA"]),
    ("SM2", "ENCRYPT_DECRYPT", "Encryption", &["SM2PKE"]),
    ("SM2", "KEY_AGREEMENT", "KeyAgreement", &["ECDH"]),
];

const RSA_SIGNING: &[&str] = &[
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
];

const ALL_USAGES: &[&str] = &[
    "SIGN_VERIFY",
    "ENCRYPT_DECRYPT",
    "GENERATE_VERIFY_MAC",
    "KEY_AGREEMENT",
    "ENCAPSULATE_DECAPSULATE",
];

/// A signing algorithm and the message types it takes.
type AlgorithmMessageTypes = (&'static str, &'static [&'static str]);

/// The signing keys and the message types each of their algorithms takes.
const SIGNING: &[(&str, &[AlgorithmMessageTypes])] = &[
    (
        "RSA_2048",
        &[
            ("RSASSA_PSS_SHA_256", &["RAW", "DIGEST"]),
            ("RSASSA_PSS_SHA_384", &["RAW", "DIGEST"]),
            ("RSASSA_PSS_SHA_512", &["RAW", "DIGEST"]),
            ("RSASSA_PKCS1_V1_5_SHA_256", &["RAW", "DIGEST"]),
            ("RSASSA_PKCS1_V1_5_SHA_384", &["RAW", "DIGEST"]),
            ("RSASSA_PKCS1_V1_5_SHA_512", &["RAW", "DIGEST"]),
        ],
    ),
    (
        "RSA_3072",
        &[
            ("RSASSA_PSS_SHA_384", &["RAW", "DIGEST"]),
            ("RSASSA_PKCS1_V1_5_SHA_256", &["RAW", "DIGEST"]),
        ],
    ),
    (
        "RSA_4096",
        &[
            ("RSASSA_PSS_SHA_512", &["RAW", "DIGEST"]),
            ("RSASSA_PKCS1_V1_5_SHA_512", &["RAW", "DIGEST"]),
        ],
    ),
    ("ECC_NIST_P256", &[("ECDSA_SHA_256", &["RAW", "DIGEST"])]),
    ("ECC_NIST_P384", &[("ECDSA_SHA_384", &["RAW", "DIGEST"])]),
    ("ECC_NIST_P521", &[("ECDSA_SHA_512", &["RAW", "DIGEST"])]),
    ("ECC_SECG_P256K1", &[("ECDSA_SHA_256", &["RAW", "DIGEST"])]),
    (
        "ECC_NIST_EDWARDS25519",
        &[
            ("ED25519_SHA_512", &["RAW"]),
            ("ED25519_PH_SHA_512", &["DIGEST"]),
        ],
    ),
    ("ML_DSA_44", &[("ML_DSA_SHAKE_256", &["RAW"])]),
    ("ML_DSA_65", &[("ML_DSA_SHAKE_256", &["RAW"])]),
    ("ML_DSA_87", &[("ML_DSA_SHAKE_256", &["RAW"])]),
    ("SM2", &[("SM2DSA", &["RAW", "DIGEST"])]),
];

// ------------------------------------------------------------------------------ CreateKey

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(deprecated)] // CustomerMasterKeySpec is deprecated, and AWS still returns it.
async fn create_key_accepts_every_valid_pair_and_describe_key_lists_its_algorithms() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    for (spec, usage, list, algorithms) in VALID_PAIRS {
        let created = kms
            .create_key()
            .key_spec(KeySpec::from(*spec))
            .key_usage(KeyUsageType::from(*usage))
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateKey {spec} {usage}: {e:?}"))
            .key_metadata
            .expect("KeyMetadata");
        let m = kms
            .describe_key()
            .key_id(&created.key_id)
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        assert_eq!(m.key_spec.as_ref().map(|s| s.as_str()), Some(*spec));
        assert_eq!(m.key_usage.as_ref().map(|u| u.as_str()), Some(*usage));
        assert_eq!(
            m.customer_master_key_spec.as_ref().map(|s| s.as_str()),
            Some(*spec)
        );
        let names = |v: Option<Vec<String>>| v;
        let lists = [
            (
                "Encryption",
                names(
                    m.encryption_algorithms
                        .map(|v| v.iter().map(|a| a.as_str().to_string()).collect()),
                ),
            ),
            (
                "Signing",
                names(
                    m.signing_algorithms
                        .map(|v| v.iter().map(|a| a.as_str().to_string()).collect()),
                ),
            ),
            (
                "KeyAgreement",
                names(
                    m.key_agreement_algorithms
                        .map(|v| v.iter().map(|a| a.as_str().to_string()).collect()),
                ),
            ),
            (
                "Encapsulation",
                names(
                    m.encapsulation_algorithms
                        .map(|v| v.iter().map(|a| a.as_str().to_string()).collect()),
                ),
            ),
            (
                "Mac",
                names(
                    m.mac_algorithms
                        .map(|v| v.iter().map(|a| a.as_str().to_string()).collect()),
                ),
            ),
        ];
        for (name, got) in lists {
            if name == *list {
                let want: Vec<String> = algorithms.iter().map(|a| a.to_string()).collect();
                assert_eq!(got, Some(want), "{spec} {usage}: {name}Algorithms");
            } else {
                assert_eq!(got, None, "{spec} {usage}: {name}Algorithms must be absent");
            }
        }
        // CreateKey's own KeyMetadata is the same.
        assert_eq!(created.key_spec, m.key_spec);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_refuses_every_invalid_pair_with_a_validation_exception() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let specs: Vec<&str> = KeySpec::values().to_vec();
    assert_eq!(specs.len(), 20, "the SDK's KeySpec list changed");
    for spec in specs {
        for usage in ALL_USAGES {
            if VALID_PAIRS
                .iter()
                .any(|(s, u, _, _)| *s == spec && u == usage)
            {
                continue;
            }
            let e = assert_aws_error!(
                kms.create_key()
                    .key_spec(KeySpec::from(spec))
                    .key_usage(KeyUsageType::from(*usage))
                    .send()
                    .await,
                "ValidationException"
            );
            assert_eq!(
                e.message,
                format!("KeyUsage {usage} is not compatible with KeySpec {spec}"),
                "{spec} {usage}"
            );
        }
    }
    let keys = kms.list_keys().send().await.unwrap();
    assert!(
        keys.keys.unwrap_or_default().is_empty(),
        "nothing was created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_without_key_usage_is_refused_for_every_spec_but_symmetric_default() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    for spec in [
        "HMAC_256",
        "RSA_2048",
        "ECC_NIST_P256",
        "ML_KEM_768",
        "ML_DSA_44",
    ] {
        let e = assert_aws_error!(
            kms.create_key().key_spec(KeySpec::from(spec)).send().await,
            "ValidationException"
        );
        assert_eq!(
            e.message,
            "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
        );
    }
    let m = kms
        .create_key()
        .key_spec(KeySpec::SymmetricDefault)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(m.key_usage, Some(KeyUsageType::EncryptDecrypt));
}

// ------------------------------------------------------------------------------ Sign / Verify

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_and_verify_round_trip_for_every_spec_algorithm_and_message_type() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let message = b"the quick brown fox signs a message".to_vec();
    for (spec, algorithms) in SIGNING {
        let key = create(&kms, spec, "SIGN_VERIFY").await;
        for (alg, message_types) in *algorithms {
            for mt in *message_types {
                let input = match *mt {
                    "RAW" => message.clone(),
                    "DIGEST" if *alg == "SM2DSA" => vec![0x5a; 32],
                    _ => digest_for(alg, &message),
                };
                let sig = sign(&kms, &key, &input, mt, alg).await;
                let out = verify(&kms, &key, &input, mt, &sig, alg)
                    .await
                    .unwrap_or_else(|e| panic!("Verify {spec} {alg} {mt}: {e:?}"));
                assert!(out.signature_valid, "{spec} {alg} {mt}");
                assert_eq!(out.key_id.as_deref(), Some(key_arn(&key).as_str()));
                assert_eq!(
                    out.signing_algorithm,
                    Some(SigningAlgorithmSpec::from(*alg))
                );
                // A signature over the message verifies against its digest too: the message
                // type need not match the one used to sign.
                if *mt == "RAW" && message_types.contains(&"DIGEST") && *alg != "SM2DSA" {
                    let d = digest_for(alg, &message);
                    let out = verify(&kms, &key, &d, "DIGEST", &sig, alg).await.unwrap();
                    assert!(out.signature_valid, "{spec} {alg} RAW→DIGEST");
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ml_dsa_signs_an_external_mu_and_the_signature_verifies_the_message() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let message = b"a message too large to send, represented by its mu".to_vec();
    for spec in ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"] {
        let key = create(&kms, spec, "SIGN_VERIFY").await;
        let mu = external_mu(&public_key(&kms, &key).await, &message);
        let sig = sign(&kms, &key, &mu, "EXTERNAL_MU", "ML_DSA_SHAKE_256").await;
        for (input, mt) in [(&mu, "EXTERNAL_MU"), (&message, "RAW")] {
            let out = verify(&kms, &key, input, mt, &sig, "ML_DSA_SHAKE_256")
                .await
                .unwrap_or_else(|e| panic!("Verify {spec} {mt}: {e:?}"));
            assert!(out.signature_valid, "{spec} {mt}");
        }
        // And a RAW signature verifies against μ.
        let raw_sig = sign(&kms, &key, &message, "RAW", "ML_DSA_SHAKE_256").await;
        assert!(
            verify(&kms, &key, &mu, "EXTERNAL_MU", &raw_sig, "ML_DSA_SHAKE_256")
                .await
                .unwrap()
                .signature_valid
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecdsa_rsa_and_ed25519_signatures_verify_outside_trent_with_get_public_key() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let message = b"verified offline".as_slice();
    let cases: &[(&str, &str, &'static dyn signature::VerificationAlgorithm)] = &[
        (
            "ECC_NIST_P256",
            "ECDSA_SHA_256",
            &signature::ECDSA_P256_SHA256_ASN1,
        ),
        (
            "ECC_NIST_P384",
            "ECDSA_SHA_384",
            &signature::ECDSA_P384_SHA384_ASN1,
        ),
        (
            "ECC_NIST_P521",
            "ECDSA_SHA_512",
            &signature::ECDSA_P521_SHA512_ASN1,
        ),
        (
            "ECC_SECG_P256K1",
            "ECDSA_SHA_256",
            &signature::ECDSA_P256K1_SHA256_ASN1,
        ),
        (
            "RSA_2048",
            "RSASSA_PSS_SHA_256",
            &signature::RSA_PSS_2048_8192_SHA256,
        ),
        (
            "RSA_2048",
            "RSASSA_PKCS1_V1_5_SHA_384",
            &signature::RSA_PKCS1_2048_8192_SHA384,
        ),
        (
            "ECC_NIST_EDWARDS25519",
            "ED25519_SHA_512",
            &signature::ED25519,
        ),
        ("ML_DSA_65", "ML_DSA_SHAKE_256", &signature::ML_DSA_65),
    ];
    for (spec, alg, verifier) in cases {
        let key = create(&kms, spec, "SIGN_VERIFY").await;
        let spki = public_key(&kms, &key).await;
        for mt in ["RAW", "DIGEST"] {
            if mt == "DIGEST" && (alg.starts_with("ED25519") || alg.starts_with("ML_DSA")) {
                continue;
            }
            let input = if mt == "RAW" {
                message.to_vec()
            } else {
                digest_for(alg, message)
            };
            let sig = sign(&kms, &key, &input, mt, alg).await;
            let parsed = signature::ParsedPublicKey::new(*verifier, &spki)
                .unwrap_or_else(|e| panic!("{spec}: SPKI does not parse: {e:?}"));
            parsed
                .verify_sig(message, &sig)
                .unwrap_or_else(|_| panic!("{spec} {alg} {mt}: offline verification failed"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_refuses_a_wrong_signature_with_kms_invalid_signature_exception() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    for (spec, alg) in [
        ("ECC_NIST_P256", "ECDSA_SHA_256"),
        ("RSA_2048", "RSASSA_PSS_SHA_256"),
        ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"),
        ("ML_DSA_44", "ML_DSA_SHAKE_256"),
    ] {
        let key = create(&kms, spec, "SIGN_VERIFY").await;
        let sig = sign(&kms, &key, b"original", "RAW", alg).await;
        let e = assert_aws_error!(
            verify(&kms, &key, b"tampered", "RAW", &sig, alg).await,
            "KMSInvalidSignatureException"
        );
        assert_eq!(e.message, "", "{spec}: AWS sends no message");
        let mut flipped = sig.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_aws_error!(
            verify(&kms, &key, b"original", "RAW", &flipped, alg).await,
            "KMSInvalidSignatureException"
        );
        assert_aws_error!(
            verify(&kms, &key, b"original", "RAW", b"not a signature", alg).await,
            "KMSInvalidSignatureException"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_of_the_wrong_length_is_a_validation_exception_on_sign_and_verify() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    for (spec, alg) in [
        ("ECC_NIST_P256", "ECDSA_SHA_256"),
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512"),
        ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512"),
    ] {
        let key = create(&kms, spec, "SIGN_VERIFY").await;
        let short = vec![1u8; 20];
        let e = assert_aws_error!(
            kms.sign()
                .key_id(&key)
                .message(Blob::new(short.clone()))
                .message_type(MessageType::Digest)
                .signing_algorithm(SigningAlgorithmSpec::from(alg))
                .send()
                .await,
            "ValidationException"
        );
        assert_eq!(
            e.message,
            format!("Digest is invalid length for algorithm {alg}.")
        );
        let e = assert_aws_error!(
            verify(&kms, &key, &short, "DIGEST", &[0u8; 64], alg).await,
            "ValidationException"
        );
        assert_eq!(
            e.message,
            format!("Digest is invalid length for algorithm {alg}.")
        );
    }
    // An ML-DSA μ must be 64 bytes.
    let key = create(&kms, "ML_DSA_44", "SIGN_VERIFY").await;
    assert_aws_error!(
        kms.sign()
            .key_id(&key)
            .message(Blob::new(vec![0u8; 32]))
            .message_type(MessageType::ExternalMu)
            .signing_algorithm(SigningAlgorithmSpec::MlDsaShake256)
            .send()
            .await,
        "ValidationException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_4096_bytes_is_a_validation_exception() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key = create(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await;
    let e = assert_aws_error!(
        kms.sign()
            .key_id(&key)
            .message(Blob::new(vec![7u8; 4097]))
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await,
        "ValidationException"
    );
    assert!(e.message.contains("'message'"), "{e:?}");
    assert!(e.message.contains("4096"), "{e:?}");
    // Exactly 4096 bytes is accepted.
    sign(&kms, &key, &[7u8; 4096], "RAW", "ECDSA_SHA_256").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_algorithm_of_another_key_spec_is_invalid_key_usage() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    for (spec, wrong) in [
        ("ECC_NIST_P256", "ECDSA_SHA_384"),
        ("ECC_NIST_P384", "RSASSA_PSS_SHA_384"),
        ("RSA_2048", "ECDSA_SHA_256"),
        ("ECC_NIST_EDWARDS25519", "ECDSA_SHA_512"),
        ("ML_DSA_65", "ED25519_SHA_512"),
        ("ECC_SECG_P256K1", "SM2DSA"),
    ] {
        let key = create(&kms, spec, "SIGN_VERIFY").await;
        let e = assert_aws_error!(
            kms.sign()
                .key_id(&key)
                .message(Blob::new(b"m".to_vec()))
                .signing_algorithm(SigningAlgorithmSpec::from(wrong))
                .send()
                .await,
            "InvalidKeyUsageException"
        );
        assert_eq!(
            e.message,
            format!("Algorithm {wrong} is incompatible with key spec {spec}.")
        );
        assert_aws_error!(
            verify(&kms, &key, b"m", "RAW", &[1u8; 64], wrong).await,
            "InvalidKeyUsageException"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_types_an_algorithm_does_not_take_are_validation_exceptions() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let cases = [
        (
            "ML_DSA_44",
            "ML_DSA_SHAKE_256",
            "DIGEST",
            "Message type DIGEST is incompatible with key spec ML_DSA_44.",
        ),
        (
            "ECC_NIST_EDWARDS25519",
            "ED25519_SHA_512",
            "DIGEST",
            "Message type DIGEST is incompatible with algorithm ED25519_SHA_512.",
        ),
        (
            "ECC_NIST_EDWARDS25519",
            "ED25519_PH_SHA_512",
            "RAW",
            "Message type RAW is incompatible with algorithm ED25519_PH_SHA_512.",
        ),
        (
            "ECC_NIST_P256",
            "ECDSA_SHA_256",
            "EXTERNAL_MU",
            "Message type EXTERNAL_MU is incompatible with key spec ECC_NIST_P256.",
        ),
        (
            "RSA_2048",
            "RSASSA_PSS_SHA_256",
            "EXTERNAL_MU",
            "Message type EXTERNAL_MU is incompatible with key spec RSA_2048.",
        ),
    ];
    for (spec, alg, mt, message) in cases {
        let key = create(&kms, spec, "SIGN_VERIFY").await;
        let e = assert_aws_error!(
            kms.sign()
                .key_id(&key)
                .message(Blob::new(vec![3u8; 64]))
                .message_type(MessageType::from(mt))
                .signing_algorithm(SigningAlgorithmSpec::from(alg))
                .send()
                .await,
            "ValidationException"
        );
        assert_eq!(e.message, message);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_a_key_usage_does_not_allow_are_invalid_key_usage() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let symmetric = create_key(&kms).await;
    let hmac = create(&kms, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let rsa_sign = create(&kms, "RSA_2048", "SIGN_VERIFY").await;
    let ecdh = create(&kms, "ECC_NIST_P256", "KEY_AGREEMENT").await;

    let e = assert_aws_error!(
        kms.sign()
            .key_id(&symmetric)
            .message(Blob::new(b"m".to_vec()))
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_eq!(
        e.message,
        format!(
            "{} key usage is ENCRYPT_DECRYPT which is not valid for Sign.",
            key_arn(&symmetric)
        )
    );
    let e = assert_aws_error!(
        verify(&kms, &hmac, b"m", "RAW", &[0u8; 8], "ECDSA_SHA_256").await,
        "InvalidKeyUsageException"
    );
    assert_eq!(
        e.message,
        format!(
            "{} key usage is GENERATE_VERIFY_MAC which is not valid for Verify.",
            key_arn(&hmac)
        )
    );
    let e = assert_aws_error!(
        kms.encrypt()
            .key_id(&rsa_sign)
            .plaintext(Blob::new(b"m".to_vec()))
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_eq!(
        e.message,
        format!(
            "{} key usage is SIGN_VERIFY which is not valid for Encrypt.",
            key_arn(&rsa_sign)
        )
    );
    let e = assert_aws_error!(
        kms.generate_mac()
            .key_id(&symmetric)
            .message(Blob::new(b"m".to_vec()))
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_eq!(
        e.message,
        format!(
            "{} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.",
            key_arn(&symmetric)
        )
    );
    assert_aws_error!(
        kms.sign()
            .key_id(&ecdh)
            .message(Blob::new(b"m".to_vec()))
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    let peer = public_key(&kms, &ecdh).await;
    assert_aws_error!(
        kms.derive_shared_secret()
            .key_id(&rsa_sign)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(Blob::new(peer))
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_aws_error!(
        kms.encapsulate()
            .key_id(&ecdh)
            .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_aws_error!(
        kms.generate_data_key()
            .key_id(&hmac)
            .number_of_bytes(32)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_aws_error!(
        kms.generate_data_key_pair()
            .key_id(&hmac)
            .key_pair_spec(DataKeyPairSpec::EccNistP256)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_usable_through_aliases_and_refused_while_disabled() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key = create(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await;
    kms.create_alias()
        .alias_name("alias/signer")
        .target_key_id(&key)
        .send()
        .await
        .unwrap();
    let out = kms
        .sign()
        .key_id("alias/signer")
        .message(Blob::new(b"via alias".to_vec()))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.key_id.as_deref(),
        Some(key_arn(&key).as_str()),
        "the key ARN, not the alias"
    );
    let sig = out.signature.unwrap().into_inner();
    assert!(
        verify(&kms, &key, b"via alias", "RAW", &sig, "ECDSA_SHA_256")
            .await
            .unwrap()
            .signature_valid
    );
    kms.disable_key().key_id(&key).send().await.unwrap();
    assert_aws_error!(
        verify(&kms, &key, b"via alias", "RAW", &sig, "ECDSA_SHA_256").await,
        "DisabledException"
    );
    assert_aws_error!(
        kms.get_public_key().key_id(&key).send().await,
        "DisabledException"
    );
}

// ------------------------------------------------------------------------------ GetPublicKey

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(deprecated)] // CustomerMasterKeySpec is deprecated, and AWS still returns it.
async fn get_public_key_returns_the_der_public_key_with_spec_usage_and_algorithms() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let cases: &[(&str, &str, usize)] = &[
        ("ECC_NIST_P256", "SIGN_VERIFY", 91),
        ("ECC_NIST_P384", "KEY_AGREEMENT", 120),
        ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY", 44),
        ("ML_DSA_44", "SIGN_VERIFY", 1334),
        ("ML_DSA_65", "SIGN_VERIFY", 1974),
        ("ML_DSA_87", "SIGN_VERIFY", 2614),
        ("RSA_2048", "ENCRYPT_DECRYPT", 294),
    ];
    for (spec, usage, len) in cases {
        let key = create(&kms, spec, usage).await;
        let out = kms.get_public_key().key_id(&key).send().await.unwrap();
        assert_eq!(out.key_id.as_deref(), Some(key_arn(&key).as_str()));
        assert_eq!(
            out.public_key.as_ref().map(|b| b.as_ref().len()),
            Some(*len),
            "{spec}"
        );
        assert_eq!(
            out.public_key.as_ref().map(|b| b.as_ref()[0]),
            Some(0x30),
            "{spec}: DER"
        );
        assert_eq!(out.key_spec.as_ref().map(|s| s.as_str()), Some(*spec));
        assert_eq!(
            out.customer_master_key_spec.as_ref().map(|s| s.as_str()),
            Some(*spec)
        );
        assert_eq!(out.key_usage.as_ref().map(|u| u.as_str()), Some(*usage));
        let (_, _, list, algorithms) = VALID_PAIRS
            .iter()
            .find(|(s, u, _, _)| s == spec && u == usage)
            .unwrap();
        let want: Vec<String> = algorithms.iter().map(|a| a.to_string()).collect();
        let got: Option<Vec<String>> = match *list {
            "Signing" => out
                .signing_algorithms
                .map(|v| v.iter().map(|a| a.as_str().into()).collect()),
            "Encryption" => out
                .encryption_algorithms
                .map(|v| v.iter().map(|a| a.as_str().into()).collect()),
            _ => out
                .key_agreement_algorithms
                .map(|v| v.iter().map(|a| a.as_str().into()).collect()),
        };
        assert_eq!(got, Some(want), "{spec} {usage}");
    }
    let kem = create(&kms, "ML_KEM_768", "ENCAPSULATE_DECAPSULATE").await;
    let out = kms.get_public_key().key_id(&kem).send().await.unwrap();
    assert_eq!(
        out.encapsulation_algorithms,
        Some(vec![EncapsulationAlgorithmSpec::MlKem])
    );
    assert!(out.signing_algorithms.is_none() && out.encryption_algorithms.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_public_key_of_a_symmetric_or_hmac_key_is_unsupported_operation() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let symmetric = create_key(&kms).await;
    let hmac = create(&kms, "HMAC_384", "GENERATE_VERIFY_MAC").await;
    for key in [symmetric, hmac] {
        assert_aws_error!(
            kms.get_public_key().key_id(&key).send().await,
            "UnsupportedOperationException"
        );
    }
}

// ------------------------------------------------------------------------------ RSA-OAEP, SM2PKE

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_oaep_round_trips_for_both_hashes_up_to_the_aws_plaintext_limits() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let limits: &[(&str, usize, usize)] = &[
        ("RSA_2048", 214, 190),
        ("RSA_3072", 342, 318),
        ("RSA_4096", 470, 446),
    ];
    for (spec, sha1_limit, sha256_limit) in limits {
        let key = create(&kms, spec, "ENCRYPT_DECRYPT").await;
        for (alg, limit) in [
            ("RSAES_OAEP_SHA_1", sha1_limit),
            ("RSAES_OAEP_SHA_256", sha256_limit),
        ] {
            let plaintext = vec![0xA5u8; *limit];
            let out = kms
                .encrypt()
                .key_id(&key)
                .plaintext(Blob::new(plaintext.clone()))
                .encryption_algorithm(encryption_algorithm(alg))
                .send()
                .await
                .unwrap_or_else(|e| panic!("Encrypt {spec} {alg}: {e:?}"));
            assert_eq!(out.encryption_algorithm, Some(encryption_algorithm(alg)));
            assert_eq!(out.key_id.as_deref(), Some(key_arn(&key).as_str()));
            let ciphertext = out.ciphertext_blob.unwrap();
            let bits: usize = spec[4..].parse().unwrap();
            assert_eq!(
                ciphertext.as_ref().len(),
                bits / 8,
                "{spec}: bare RSA output"
            );
            let dec = kms
                .decrypt()
                .key_id(&key)
                .ciphertext_blob(ciphertext)
                .encryption_algorithm(encryption_algorithm(alg))
                .send()
                .await
                .unwrap_or_else(|e| panic!("Decrypt {spec} {alg}: {e:?}"));
            assert_eq!(dec.plaintext.unwrap().as_ref(), plaintext.as_slice());
            assert_eq!(dec.encryption_algorithm, Some(encryption_algorithm(alg)));
            assert_eq!(dec.key_id.as_deref(), Some(key_arn(&key).as_str()));

            let e = assert_aws_error!(
                kms.encrypt()
                    .key_id(&key)
                    .plaintext(Blob::new(vec![1u8; limit + 1]))
                    .encryption_algorithm(encryption_algorithm(alg))
                    .send()
                    .await,
                "ValidationException"
            );
            assert_eq!(
                e.message,
                format!("Algorithm {alg} and key spec {spec} cannot encrypt data larger than {limit} bytes.")
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_oaep_ciphertext_made_outside_trent_with_get_public_key_decrypts() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key = create(&kms, "RSA_3072", "ENCRYPT_DECRYPT").await;
    let spki = public_key(&kms, &key).await;
    let encrypting = rsa::OaepPublicEncryptingKey::new(
        rsa::PublicEncryptingKey::from_der(&spki).expect("RSA SubjectPublicKeyInfo"),
    )
    .unwrap();
    for (alg, oaep) in [
        ("RSAES_OAEP_SHA_1", &rsa::OAEP_SHA1_MGF1SHA1),
        ("RSAES_OAEP_SHA_256", &rsa::OAEP_SHA256_MGF1SHA256),
    ] {
        let mut buf = vec![0u8; encrypting.ciphertext_size()];
        let ciphertext = encrypting
            .encrypt(oaep, b"sealed offline", &mut buf, None)
            .unwrap()
            .to_vec();
        let dec = kms
            .decrypt()
            .key_id(&key)
            .ciphertext_blob(Blob::new(ciphertext.clone()))
            .encryption_algorithm(encryption_algorithm(alg))
            .send()
            .await
            .unwrap();
        assert_eq!(dec.plaintext.unwrap().as_ref(), b"sealed offline");
        // The other OAEP hash cannot decrypt it, and says nothing more.
        let other = if alg == "RSAES_OAEP_SHA_1" {
            "RSAES_OAEP_SHA_256"
        } else {
            "RSAES_OAEP_SHA_1"
        };
        let e = assert_aws_error!(
            kms.decrypt()
                .key_id(&key)
                .ciphertext_blob(Blob::new(ciphertext))
                .encryption_algorithm(encryption_algorithm(other))
                .send()
                .await,
            "InvalidCiphertextException"
        );
        assert_eq!(e.message, "");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_ciphertexts_need_their_key_id_and_algorithm_as_in_aws() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key = create(&kms, "RSA_2048", "ENCRYPT_DECRYPT").await;
    let symmetric = create_key(&kms).await;

    // Encrypt with an RSA key and the default algorithm.
    let e = assert_aws_error!(
        kms.encrypt()
            .key_id(&key)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_eq!(
        e.message,
        "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."
    );
    // Encrypt with a symmetric key and an RSA algorithm.
    let e = assert_aws_error!(
        kms.encrypt()
            .key_id(&symmetric)
            .plaintext(Blob::new(b"x".to_vec()))
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_eq!(
        e.message,
        "Algorithm RSAES_OAEP_SHA_1 is incompatible with key spec SYMMETRIC_DEFAULT."
    );

    let ciphertext = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"x".to_vec()))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    // Without the key id the ciphertext names no key.
    assert_aws_error!(
        kms.decrypt()
            .ciphertext_blob(ciphertext.clone())
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .send()
            .await,
        "InvalidCiphertextException"
    );
    // With the key id but the default algorithm it is read as a symmetric blob.
    assert_aws_error!(
        kms.decrypt()
            .key_id(&key)
            .ciphertext_blob(ciphertext.clone())
            .send()
            .await,
        "InvalidCiphertextException"
    );
    // A symmetric key cannot decrypt with an RSA algorithm.
    let sym_blob = kms
        .encrypt()
        .key_id(&symmetric)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    assert_aws_error!(
        kms.decrypt()
            .key_id(&symmetric)
            .ciphertext_blob(sym_blob.clone())
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    // A symmetric blob sent to the RSA key names another key.
    assert_aws_error!(
        kms.decrypt()
            .key_id(&key)
            .ciphertext_blob(sym_blob)
            .send()
            .await,
        "IncorrectKeyException"
    );
    // A corrupted RSA ciphertext.
    let mut bad = ciphertext.into_inner();
    bad[10] ^= 0xff;
    assert_aws_error!(
        kms.decrypt()
            .key_id(&key)
            .ciphertext_blob(Blob::new(bad))
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .send()
            .await,
        "InvalidCiphertextException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_encrypt_moves_data_between_symmetric_and_rsa_keys_and_echoes_both_algorithms() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let symmetric = create_key(&kms).await;
    let rsa_key = create(&kms, "RSA_2048", "ENCRYPT_DECRYPT").await;
    let blob = kms
        .encrypt()
        .key_id(&symmetric)
        .plaintext(Blob::new(b"moving".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let to_rsa = kms
        .re_encrypt()
        .ciphertext_blob(blob)
        .destination_key_id(&rsa_key)
        .destination_encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap();
    assert_eq!(
        to_rsa.source_encryption_algorithm,
        Some(EncryptionAlgorithmSpec::SymmetricDefault)
    );
    assert_eq!(
        to_rsa.destination_encryption_algorithm,
        Some(EncryptionAlgorithmSpec::RsaesOaepSha256)
    );
    assert_eq!(to_rsa.key_id.as_deref(), Some(key_arn(&rsa_key).as_str()));
    let back = kms
        .re_encrypt()
        .ciphertext_blob(to_rsa.ciphertext_blob.unwrap())
        .source_key_id(&rsa_key)
        .source_encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .destination_key_id(&symmetric)
        .send()
        .await
        .unwrap();
    assert_eq!(
        back.source_encryption_algorithm,
        Some(EncryptionAlgorithmSpec::RsaesOaepSha256)
    );
    assert_eq!(
        back.destination_encryption_algorithm,
        Some(EncryptionAlgorithmSpec::SymmetricDefault)
    );
    let dec = kms
        .decrypt()
        .ciphertext_blob(back.ciphertext_blob.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref(), b"moving");
    // Re-encrypting to an RSA key without its algorithm is refused.
    let blob = kms
        .encrypt()
        .key_id(&symmetric)
        .plaintext(Blob::new(b"moving".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    assert_aws_error!(
        kms.re_encrypt()
            .ciphertext_blob(blob)
            .destination_key_id(&rsa_key)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sm2_keys_encrypt_sign_and_agree() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let enc = create(&kms, "SM2", "ENCRYPT_DECRYPT").await;
    let ciphertext = kms
        .encrypt()
        .key_id(&enc)
        .plaintext(Blob::new(b"sm2 secret".to_vec()))
        .encryption_algorithm(EncryptionAlgorithmSpec::Sm2Pke)
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let dec = kms
        .decrypt()
        .key_id(&enc)
        .ciphertext_blob(ciphertext)
        .encryption_algorithm(EncryptionAlgorithmSpec::Sm2Pke)
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref(), b"sm2 secret");
    let e = assert_aws_error!(
        kms.encrypt()
            .key_id(&enc)
            .plaintext(Blob::new(vec![0u8; 1025]))
            .encryption_algorithm(EncryptionAlgorithmSpec::Sm2Pke)
            .send()
            .await,
        "ValidationException"
    );
    assert_eq!(
        e.message,
        "Algorithm SM2PKE and key spec SM2 cannot encrypt data larger than 1024 bytes."
    );

    let a = create(&kms, "SM2", "KEY_AGREEMENT").await;
    let b = create(&kms, "SM2", "KEY_AGREEMENT").await;
    let ab = derive(&kms, &a, &public_key(&kms, &b).await).await;
    let ba = derive(&kms, &b, &public_key(&kms, &a).await).await;
    assert_eq!(ab, ba);
}

// ------------------------------------------------------------------------------ HMAC

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_and_verify_mac_round_trip_for_every_hmac_spec() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    for (spec, alg, len) in [
        ("HMAC_224", "HMAC_SHA_224", 28),
        ("HMAC_256", "HMAC_SHA_256", 32),
        ("HMAC_384", "HMAC_SHA_384", 48),
        ("HMAC_512", "HMAC_SHA_512", 64),
    ] {
        let key = create(&kms, spec, "GENERATE_VERIFY_MAC").await;
        let out = kms
            .generate_mac()
            .key_id(&key)
            .message(Blob::new(b"authentic".to_vec()))
            .mac_algorithm(MacAlgorithmSpec::from(alg))
            .send()
            .await
            .unwrap();
        assert_eq!(out.mac_algorithm, Some(MacAlgorithmSpec::from(alg)));
        assert_eq!(out.key_id.as_deref(), Some(key_arn(&key).as_str()));
        let mac = out.mac.unwrap();
        assert_eq!(mac.as_ref().len(), len, "{spec}");
        // Deterministic: the same message gives the same MAC.
        let again = kms
            .generate_mac()
            .key_id(&key)
            .message(Blob::new(b"authentic".to_vec()))
            .mac_algorithm(MacAlgorithmSpec::from(alg))
            .send()
            .await
            .unwrap()
            .mac
            .unwrap();
        assert_eq!(again, mac);
        let ok = kms
            .verify_mac()
            .key_id(&key)
            .message(Blob::new(b"authentic".to_vec()))
            .mac(mac.clone())
            .mac_algorithm(MacAlgorithmSpec::from(alg))
            .send()
            .await
            .unwrap();
        assert!(ok.mac_valid);
        assert_eq!(ok.mac_algorithm, Some(MacAlgorithmSpec::from(alg)));
        let e = assert_aws_error!(
            kms.verify_mac()
                .key_id(&key)
                .message(Blob::new(b"forged".to_vec()))
                .mac(mac.clone())
                .mac_algorithm(MacAlgorithmSpec::from(alg))
                .send()
                .await,
            "KMSInvalidMacException"
        );
        assert_eq!(e.message, "");
        assert_aws_error!(
            kms.verify_mac()
                .key_id(&key)
                .message(Blob::new(b"authentic".to_vec()))
                .mac(Blob::new(mac.as_ref()[..len - 1].to_vec()))
                .mac_algorithm(MacAlgorithmSpec::from(alg))
                .send()
                .await,
            "KMSInvalidMacException"
        );
    }
    // Two keys of the same spec give different MACs.
    let k1 = create(&kms, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let k2 = create(&kms, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let mac = |k: String| {
        let kms = kms.clone();
        async move {
            kms.generate_mac()
                .key_id(k)
                .message(Blob::new(b"m".to_vec()))
                .mac_algorithm(MacAlgorithmSpec::HmacSha256)
                .send()
                .await
                .unwrap()
                .mac
                .unwrap()
        }
    };
    assert_ne!(mac(k1).await, mac(k2).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mac_algorithm_of_another_hmac_spec_is_invalid_key_usage() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key = create(&kms, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let e = assert_aws_error!(
        kms.generate_mac()
            .key_id(&key)
            .message(Blob::new(b"m".to_vec()))
            .mac_algorithm(MacAlgorithmSpec::HmacSha512)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_eq!(
        e.message,
        "Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256."
    );
    assert_aws_error!(
        kms.verify_mac()
            .key_id(&key)
            .message(Blob::new(b"m".to_vec()))
            .mac(Blob::new(vec![0u8; 64]))
            .mac_algorithm(MacAlgorithmSpec::HmacSha224)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
}

// ------------------------------------------------------------------------------ DeriveSharedSecret

async fn derive(kms: &Client, key: &str, peer: &[u8]) -> Vec<u8> {
    let out = kms
        .derive_shared_secret()
        .key_id(key)
        .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
        .public_key(Blob::new(peer.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("DeriveSharedSecret: {e:?}"));
    assert_eq!(
        out.key_agreement_algorithm,
        Some(KeyAgreementAlgorithmSpec::Ecdh)
    );
    assert_eq!(out.key_origin, Some(OriginType::AwsKms));
    assert_eq!(out.key_id.as_deref(), Some(key_arn(key).as_str()));
    out.shared_secret.expect("SharedSecret").into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derive_shared_secret_between_two_kms_keys_agrees_on_every_nist_curve() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    for (spec, len) in [
        ("ECC_NIST_P256", 32),
        ("ECC_NIST_P384", 48),
        ("ECC_NIST_P521", 66),
    ] {
        let a = create(&kms, spec, "KEY_AGREEMENT").await;
        let b = create(&kms, spec, "KEY_AGREEMENT").await;
        let ab = derive(&kms, &a, &public_key(&kms, &b).await).await;
        let ba = derive(&kms, &b, &public_key(&kms, &a).await).await;
        assert_eq!(ab, ba, "{spec}");
        assert_eq!(ab.len(), len, "{spec}: the raw x-coordinate");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derive_shared_secret_matches_an_ecdh_peer_outside_trent() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    for (spec, curve) in [
        ("ECC_NIST_P256", &agreement::ECDH_P256),
        ("ECC_NIST_P384", &agreement::ECDH_P384),
        ("ECC_NIST_P521", &agreement::ECDH_P521),
    ] {
        let key = create(&kms, spec, "KEY_AGREEMENT").await;
        let kms_public = public_key(&kms, &key).await;
        let peer = agreement::PrivateKey::generate(curve).unwrap();
        let peer_public = peer.compute_public_key().unwrap();
        let peer_spki: aws_lc_rs::encoding::PublicKeyX509Der<'static> =
            peer_public.as_der().unwrap();
        let peer_spki = peer_spki.as_ref().to_vec();
        let from_kms = derive(&kms, &key, &peer_spki).await;
        let offline = agreement::agree(
            &peer,
            agreement::UnparsedPublicKey::new(curve, &kms_public),
            "agreement failed",
            |secret| Ok(secret.to_vec()),
        )
        .unwrap();
        assert_eq!(from_kms, offline, "{spec}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derive_shared_secret_refuses_a_public_key_of_another_curve_or_garbage() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let p256 = create(&kms, "ECC_NIST_P256", "KEY_AGREEMENT").await;
    let p384 = create(&kms, "ECC_NIST_P384", "KEY_AGREEMENT").await;
    let other_curve = public_key(&kms, &p384).await;
    for peer in [other_curve, b"not a public key".to_vec()] {
        assert_aws_error!(
            kms.derive_shared_secret()
                .key_id(&p256)
                .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
                .public_key(Blob::new(peer))
                .send()
                .await,
            "ValidationException"
        );
    }
}

// ------------------------------------------------------------------------------ ML-KEM

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encapsulate_and_decapsulate_agree_for_every_ml_kem_spec() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    for (spec, ct_len) in [
        ("ML_KEM_512", 768),
        ("ML_KEM_768", 1088),
        ("ML_KEM_1024", 1568),
    ] {
        let key = create(&kms, spec, "ENCAPSULATE_DECAPSULATE").await;
        let enc = kms
            .encapsulate()
            .key_id(&key)
            .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
            .send()
            .await
            .unwrap();
        assert_eq!(
            enc.encapsulation_algorithm,
            Some(EncapsulationAlgorithmSpec::MlKem)
        );
        assert_eq!(enc.key_id.as_deref(), Some(key_arn(&key).as_str()));
        let secret = enc.shared_secret.unwrap().into_inner();
        let ciphertext = enc.shared_secret_ciphertext_blob.unwrap().into_inner();
        assert_eq!(secret.len(), 32, "{spec}");
        assert_eq!(ciphertext.len(), ct_len, "{spec}");
        let dec = kms
            .decapsulate()
            .key_id(&key)
            .shared_secret_ciphertext_blob(Blob::new(ciphertext.clone()))
            .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
            .send()
            .await
            .unwrap();
        assert_eq!(dec.shared_secret.unwrap().into_inner(), secret, "{spec}");

        // Implicit rejection: an altered ciphertext of the right length yields another
        // 32-byte secret, not an error.
        let mut altered = ciphertext.clone();
        altered[0] ^= 1;
        let rejected = kms
            .decapsulate()
            .key_id(&key)
            .shared_secret_ciphertext_blob(Blob::new(altered))
            .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
            .send()
            .await
            .unwrap()
            .shared_secret
            .unwrap()
            .into_inner();
        assert_eq!(rejected.len(), 32);
        assert_ne!(rejected, secret, "{spec}");

        // A ciphertext of the wrong length is InvalidCiphertextException.
        assert_aws_error!(
            kms.decapsulate()
                .key_id(&key)
                .shared_secret_ciphertext_blob(Blob::new(ciphertext[..ct_len - 1].to_vec()))
                .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
                .send()
                .await,
            "InvalidCiphertextException"
        );
    }
}

// ------------------------------------------------------------------------------ data key pairs

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_pair_for_every_spec_decrypts_to_its_private_key() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key = create_key(&kms).await;
    let specs = DataKeyPairSpec::values();
    assert_eq!(specs.len(), 12, "the SDK's DataKeyPairSpec list changed");
    for spec in specs {
        let out = kms
            .generate_data_key_pair()
            .key_id(&key)
            .key_pair_spec(DataKeyPairSpec::from(*spec))
            .encryption_context("purpose", "pair")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GenerateDataKeyPair {spec}: {e:?}"));
        assert_eq!(out.key_pair_spec.as_ref().map(|s| s.as_str()), Some(*spec));
        assert_eq!(out.key_id.as_deref(), Some(key_arn(&key).as_str()));
        assert_eq!(out.key_material_id.as_ref().map(|m| m.len()), Some(64));
        let private = out.private_key_plaintext.unwrap().into_inner();
        let public = out.public_key.unwrap().into_inner();
        assert_eq!(private[0], 0x30, "{spec}: PKCS#8 DER");
        assert_eq!(public[0], 0x30, "{spec}: SubjectPublicKeyInfo DER");
        let dec = kms
            .decrypt()
            .ciphertext_blob(out.private_key_ciphertext_blob.clone().unwrap())
            .encryption_context("purpose", "pair")
            .send()
            .await
            .unwrap();
        assert_eq!(dec.plaintext.unwrap().into_inner(), private, "{spec}");
        // The context is bound to the encrypted private key.
        assert_aws_error!(
            kms.decrypt()
                .ciphertext_blob(out.private_key_ciphertext_blob.unwrap())
                .send()
                .await,
            "InvalidCiphertextException"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_key_pair_private_key_signs_what_its_public_key_verifies() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key = create_key(&kms).await;
    let rng = rand::SystemRandom::new();

    let pair = kms
        .generate_data_key_pair()
        .key_id(&key)
        .key_pair_spec(DataKeyPairSpec::EccNistP384)
        .send()
        .await
        .unwrap();
    let signer = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        pair.private_key_plaintext.unwrap().as_ref(),
    )
    .unwrap();
    let sig = signer.sign(&rng, b"data key pair").unwrap();
    signature::ParsedPublicKey::new(
        &signature::ECDSA_P384_SHA384_ASN1,
        pair.public_key.unwrap().as_ref(),
    )
    .unwrap()
    .verify_sig(b"data key pair", sig.as_ref())
    .unwrap();

    let pair = kms
        .generate_data_key_pair()
        .key_id(&key)
        .key_pair_spec(DataKeyPairSpec::EccNistEdwards25519)
        .send()
        .await
        .unwrap();
    let signer = signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(
        pair.private_key_plaintext.unwrap().as_ref(),
    )
    .unwrap();
    let sig = signer.sign(b"data key pair");
    signature::ParsedPublicKey::new(&signature::ED25519, pair.public_key.unwrap().as_ref())
        .unwrap()
        .verify_sig(b"data key pair", sig.as_ref())
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_pair_without_plaintext_returns_only_the_encrypted_private_key() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key = create_key(&kms).await;
    let out = kms
        .generate_data_key_pair_without_plaintext()
        .key_id(&key)
        .key_pair_spec(DataKeyPairSpec::Rsa2048)
        .send()
        .await
        .unwrap();
    assert_eq!(out.key_pair_spec, Some(DataKeyPairSpec::Rsa2048));
    let public = out.public_key.unwrap().into_inner();
    let private = kms
        .decrypt()
        .ciphertext_blob(out.private_key_ciphertext_blob.unwrap())
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap()
        .into_inner();
    let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&private).expect("PKCS#8 RSA private key");
    let rng = rand::SystemRandom::new();
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(&signature::RSA_PSS_SHA256, &rng, b"offline", &mut sig)
        .unwrap();
    signature::ParsedPublicKey::new(&signature::RSA_PSS_2048_8192_SHA256, &public)
        .unwrap()
        .verify_sig(b"offline", &sig)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_keys_and_data_key_pairs_need_a_symmetric_encryption_key() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let rsa_enc = create(&kms, "RSA_2048", "ENCRYPT_DECRYPT").await;
    let signer = create(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await;
    let e = assert_aws_error!(
        kms.generate_data_key_pair()
            .key_id(&rsa_enc)
            .key_pair_spec(DataKeyPairSpec::EccNistP256)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_eq!(
        e.message,
        format!(
            "{} key KeySpec is RSA_2048 which is not valid for GenerateDataKeyPair.",
            key_arn(&rsa_enc)
        )
    );
    let e = assert_aws_error!(
        kms.generate_data_key_pair_without_plaintext()
            .key_id(&signer)
            .key_pair_spec(DataKeyPairSpec::EccNistP256)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_eq!(
        e.message,
        format!(
            "{} key usage is SIGN_VERIFY which is not valid for GenerateDataKeyPairWithoutPlaintext.",
            key_arn(&signer)
        )
    );
    let e = assert_aws_error!(
        kms.generate_data_key()
            .key_id(&rsa_enc)
            .number_of_bytes(32)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_eq!(
        e.message,
        format!(
            "{} key KeySpec is RSA_2048 which is not valid for GenerateDataKey.",
            key_arn(&rsa_enc)
        )
    );
    assert_aws_error!(
        kms.generate_data_key_without_plaintext()
            .key_id(&signer)
            .number_of_bytes(32)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
}

// ------------------------------------------------------------------------------ DryRun

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_of_every_new_operation_is_dry_run_operation_exception() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let signer = create(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await;
    let hmac = create(&kms, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let ecdh = create(&kms, "ECC_NIST_P256", "KEY_AGREEMENT").await;
    let kem = create(&kms, "ML_KEM_512", "ENCAPSULATE_DECAPSULATE").await;
    let rsa_enc = create(&kms, "RSA_2048", "ENCRYPT_DECRYPT").await;
    let symmetric = create_key(&kms).await;
    let msg = || Blob::new(b"dry".to_vec());
    let code = "DryRunOperationException";

    assert_aws_error!(
        kms.sign()
            .key_id(&signer)
            .message(msg())
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .dry_run(true)
            .send()
            .await,
        code
    );
    assert_aws_error!(
        kms.verify()
            .key_id(&signer)
            .message(msg())
            .signature(Blob::new(vec![0u8; 70]))
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .dry_run(true)
            .send()
            .await,
        code
    );
    assert_aws_error!(
        kms.generate_mac()
            .key_id(&hmac)
            .message(msg())
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .dry_run(true)
            .send()
            .await,
        code
    );
    assert_aws_error!(
        kms.verify_mac()
            .key_id(&hmac)
            .message(msg())
            .mac(Blob::new(vec![0u8; 32]))
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .dry_run(true)
            .send()
            .await,
        code
    );
    let peer_key = create(&kms, "ECC_NIST_P256", "KEY_AGREEMENT").await;
    let peer = public_key(&kms, &peer_key).await;
    assert_aws_error!(
        kms.derive_shared_secret()
            .key_id(&ecdh)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(Blob::new(peer))
            .dry_run(true)
            .send()
            .await,
        code
    );
    assert_aws_error!(
        kms.encapsulate()
            .key_id(&kem)
            .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
            .dry_run(true)
            .send()
            .await,
        code
    );
    assert_aws_error!(
        kms.decapsulate()
            .key_id(&kem)
            .shared_secret_ciphertext_blob(Blob::new(vec![0u8; 768]))
            .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
            .dry_run(true)
            .send()
            .await,
        code
    );
    assert_aws_error!(
        kms.encrypt()
            .key_id(&rsa_enc)
            .plaintext(msg())
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
            .dry_run(true)
            .send()
            .await,
        code
    );
    assert_aws_error!(
        kms.decrypt()
            .key_id(&rsa_enc)
            .ciphertext_blob(Blob::new(vec![0u8; 256]))
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
            .dry_run(true)
            .send()
            .await,
        code
    );
    assert_aws_error!(
        kms.generate_data_key_pair()
            .key_id(&symmetric)
            .key_pair_spec(DataKeyPairSpec::EccNistP256)
            .dry_run(true)
            .send()
            .await,
        code
    );
    assert_aws_error!(
        kms.generate_data_key_pair_without_plaintext()
            .key_id(&symmetric)
            .key_pair_spec(DataKeyPairSpec::EccNistP256)
            .dry_run(true)
            .send()
            .await,
        code
    );
    // A dry run that would fail reports the failure instead.
    assert_aws_error!(
        kms.sign()
            .key_id(&hmac)
            .message(msg())
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .dry_run(true)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    // Nothing ran, so no key was used.
    for key in [&signer, &hmac, &ecdh, &kem, &rsa_enc, &symmetric] {
        let usage = kms.get_key_last_usage().key_id(key).send().await.unwrap();
        assert!(
            usage.key_last_usage.is_none(),
            "{key} was used by a dry run"
        );
    }
}

// ------------------------------------------------------------------------------ lifecycle

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asymmetric_and_hmac_keys_refuse_automatic_and_on_demand_rotation() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let keys = [
        create(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await,
        create(&kms, "HMAC_512", "GENERATE_VERIFY_MAC").await,
        create(&kms, "ML_KEM_768", "ENCAPSULATE_DECAPSULATE").await,
    ];
    for key in &keys {
        assert_aws_error!(
            kms.enable_key_rotation().key_id(key).send().await,
            "UnsupportedOperationException"
        );
        assert_aws_error!(
            kms.rotate_key_on_demand().key_id(key).send().await,
            "UnsupportedOperationException"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_every_kind_still_work_after_a_restart() {
    let mut server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let signer = create(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await;
    let ml_dsa = create(&kms, "ML_DSA_44", "SIGN_VERIFY").await;
    let hmac = create(&kms, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let rsa_enc = create(&kms, "RSA_2048", "ENCRYPT_DECRYPT").await;
    let kem = create(&kms, "ML_KEM_768", "ENCAPSULATE_DECAPSULATE").await;

    let public_before = public_key(&kms, &signer).await;
    let sig = sign(&kms, &signer, b"before", "RAW", "ECDSA_SHA_256").await;
    let dsa_sig = sign(&kms, &ml_dsa, b"before", "RAW", "ML_DSA_SHAKE_256").await;
    let mac = kms
        .generate_mac()
        .key_id(&hmac)
        .message(Blob::new(b"before".to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap()
        .mac
        .unwrap();
    let rsa_ct = kms
        .encrypt()
        .key_id(&rsa_enc)
        .plaintext(Blob::new(b"before".to_vec()))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let enc = kms
        .encapsulate()
        .key_id(&kem)
        .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
        .send()
        .await
        .unwrap();

    server.restart().await.unwrap();
    let kms = server.kms_client().await;

    assert_eq!(public_key(&kms, &signer).await, public_before);
    assert!(
        verify(&kms, &signer, b"before", "RAW", &sig, "ECDSA_SHA_256")
            .await
            .unwrap()
            .signature_valid
    );
    assert!(
        verify(
            &kms,
            &ml_dsa,
            b"before",
            "RAW",
            &dsa_sig,
            "ML_DSA_SHAKE_256"
        )
        .await
        .unwrap()
        .signature_valid
    );
    let after = sign(&kms, &signer, b"after", "RAW", "ECDSA_SHA_256").await;
    assert!(
        verify(&kms, &signer, b"after", "RAW", &after, "ECDSA_SHA_256")
            .await
            .unwrap()
            .signature_valid
    );
    let again = kms
        .generate_mac()
        .key_id(&hmac)
        .message(Blob::new(b"before".to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap()
        .mac
        .unwrap();
    assert_eq!(again, mac, "the same HMAC key after the restart");
    let dec = kms
        .decrypt()
        .key_id(&rsa_enc)
        .ciphertext_blob(rsa_ct)
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref(), b"before");
    let dec = kms
        .decapsulate()
        .key_id(&kem)
        .shared_secret_ciphertext_blob(enc.shared_secret_ciphertext_blob.unwrap())
        .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
        .send()
        .await
        .unwrap();
    assert_eq!(dec.shared_secret, enc.shared_secret);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_keys_are_stored_only_wrapped() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    // Key pairs are stored wrapped by the root key: no clear PKCS#8 or RSAPrivateKey
    // structure may appear anywhere in the data dir's files.
    let _signer = create(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await;
    let _rsa = create(&kms, "RSA_2048", "SIGN_VERIFY").await;
    let _hmac = create(&kms, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(server.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            stored.extend(std::fs::read(&path).unwrap());
        }
    }
    // PKCS#8 v1 of an EC key and of an RSA key, and a raw RSAPrivateKey, all start so.
    for marker in [
        &[0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13][..],
        &[
            0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
        ][..],
    ] {
        assert!(
            !stored.windows(marker.len()).any(|w| w == marker),
            "a clear private key structure is in the data dir"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_records_of_the_new_operations_hold_no_message_signature_mac_or_secret() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let signer = create(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await;
    let hmac = create(&kms, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let ecdh = create(&kms, "ECC_NIST_P256", "KEY_AGREEMENT").await;
    let peer_key = create(&kms, "ECC_NIST_P256", "KEY_AGREEMENT").await;
    let kem = create(&kms, "ML_KEM_512", "ENCAPSULATE_DECAPSULATE").await;
    let symmetric = create_key(&kms).await;

    let message = b"audit-probe message 0123456789".to_vec();
    let mut secrets: Vec<(&str, Vec<u8>)> = vec![("Message", message.clone())];
    let signature = sign(&kms, &signer, &message, "RAW", "ECDSA_SHA_256").await;
    verify(&kms, &signer, &message, "RAW", &signature, "ECDSA_SHA_256")
        .await
        .unwrap();
    secrets.push(("Signature", signature));
    let mac = kms
        .generate_mac()
        .key_id(&hmac)
        .message(Blob::new(message.clone()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap()
        .mac
        .unwrap();
    kms.verify_mac()
        .key_id(&hmac)
        .message(Blob::new(message.clone()))
        .mac(mac.clone())
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap();
    secrets.push(("Mac", mac.into_inner()));
    let peer = public_key(&kms, &peer_key).await;
    secrets.push(("SharedSecret", derive(&kms, &ecdh, &peer).await));
    secrets.push(("PublicKey", peer));
    let enc = kms
        .encapsulate()
        .key_id(&kem)
        .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
        .send()
        .await
        .unwrap();
    let kem_ct = enc.shared_secret_ciphertext_blob.unwrap();
    kms.decapsulate()
        .key_id(&kem)
        .shared_secret_ciphertext_blob(kem_ct.clone())
        .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
        .send()
        .await
        .unwrap();
    secrets.push((
        "SharedSecret (ML-KEM)",
        enc.shared_secret.unwrap().into_inner(),
    ));
    secrets.push(("SharedSecretCiphertextBlob", kem_ct.into_inner()));
    let pair = kms
        .generate_data_key_pair()
        .key_id(&symmetric)
        .key_pair_spec(DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .unwrap();
    secrets.push((
        "PrivateKeyPlaintext",
        pair.private_key_plaintext.unwrap().into_inner(),
    ));
    secrets.push((
        "PrivateKeyCiphertextBlob",
        pair.private_key_ciphertext_blob.unwrap().into_inner(),
    ));

    let records = server.audit_records().unwrap();
    let log = serde_json::to_string(&records).unwrap();
    for (what, bytes) in &secrets {
        let encoded = b64(bytes);
        assert!(
            !log.contains(&encoded) && !log.contains(&encoded.replace('/', "\\/")),
            "the audit log holds the {what}"
        );
    }
    assert!(
        !log.contains("audit-probe"),
        "the audit log holds the message text"
    );
    let sign_record = records
        .iter()
        .find(|r| r["eventName"] == "Sign")
        .expect("a Sign record");
    assert_eq!(
        sign_record["requestParameters"]["signingAlgorithm"],
        "ECDSA_SHA_256"
    );
    assert!(sign_record["requestParameters"].get("message").is_none());
    assert!(sign_record["responseElements"].is_null());
}
