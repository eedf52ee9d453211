//! Tests of asymmetric keys: every spec, every AWS-allowed (and disallowed) algorithm, the
//! stored and published formats, and cross-checks against independent implementations
//! (aws-lc-rs used directly, RustCrypto `ml-dsa`/`ml-kem`/`sm3`, RFC 8032 vectors).

use std::sync::OnceLock;

use aws_lc_rs::agreement;
use aws_lc_rs::digest as lc_digest;
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::signature::{self as lc_sig, UnparsedPublicKey};

use super::*;

const ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const MATERIAL_ID: [u8; 32] = [0x5a; 32];
const MESSAGE: &[u8] = b"Trent signs this message";

/// One generated key per spec, shared by the tests (RSA-4096 generation is slow).
fn key(spec: KeyPairSpec) -> &'static PrivateKey {
    static KEYS: [OnceLock<PrivateKey>; 15] = [const { OnceLock::new() }; 15];
    let index = KeyPairSpec::ALL
        .iter()
        .position(|&s| s == spec)
        .expect("spec in ALL");
    KEYS[index].get_or_init(|| PrivateKey::generate(spec).expect("generate"))
}

fn sha(len: usize, message: &[u8]) -> Vec<u8> {
    let alg = match len {
        32 => &lc_digest::SHA256,
        48 => &lc_digest::SHA384,
        _ => &lc_digest::SHA512,
    };
    lc_digest::digest(alg, message).as_ref().to_vec()
}

/// SM2DSA's e = SM3(Z_A ‖ M) with Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A)
/// (GB/T 32918.2), computed here independently of the `sm2` crate.
fn sm2_e(spki: &[u8], message: &[u8]) -> Vec<u8> {
    use sm3::{Digest, Sm3};
    let point = &spki[spki.len() - 64..];
    let id = SM2_DISTINGUISHING_ID.as_bytes();
    let mut z = Sm3::new();
    z.update(((id.len() * 8) as u16).to_be_bytes());
    z.update(id);
    for param in [
        "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
        "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
        "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7",
        "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
    ] {
        z.update(hex::decode(param).unwrap());
    }
    z.update(point);
    let z = z.finalize();
    let mut e = Sm3::new();
    e.update(z);
    e.update(message);
    e.finalize().to_vec()
}

/// What a client would send as a DIGEST of `message` for `alg` with `key`.
fn digest_of(key: &PrivateKey, alg: SigningAlgorithm, message: &[u8]) -> Vec<u8> {
    match alg {
        SigningAlgorithm::Sm2Dsa => sm2_e(&key.public_key_der(), message),
        _ => sha(alg.digest_len().expect("DIGEST-capable"), message),
    }
}

fn message_for(
    key: &PrivateKey,
    alg: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
) -> Vec<u8> {
    match message_type {
        MessageType::Digest => digest_of(key, alg, message),
        MessageType::ExternalMu => external_mu(key, message).to_vec(),
        MessageType::Raw => message.to_vec(),
    }
}

/// μ = SHAKE256(SHAKE256(pk, 64) ‖ 0 ‖ 0 ‖ M, 64) (FIPS 204 pure ML-DSA, empty context),
/// computed by RustCrypto `ml-dsa` from the public key only.
fn external_mu(key: &PrivateKey, message: &[u8]) -> [u8; 64] {
    macro_rules! mu {
        ($params:ty, $pk_len:expr) => {{
            use ::ml_dsa::signature::digest::Update as _;
            let spki = key.public_key_der();
            let raw = &spki[spki.len() - $pk_len..];
            let vk = ::ml_dsa::VerifyingKey::<$params>::decode(&raw.try_into().unwrap());
            let mu = vk
                .compute_mu(
                    |h| {
                        h.update(message);
                        Ok(())
                    },
                    &[],
                )
                .unwrap();
            mu.as_slice().try_into().unwrap()
        }};
    }
    match key.spec() {
        KeyPairSpec::MlDsa44 => mu!(::ml_dsa::MlDsa44, 1312),
        KeyPairSpec::MlDsa65 => mu!(::ml_dsa::MlDsa65, 1952),
        KeyPairSpec::MlDsa87 => mu!(::ml_dsa::MlDsa87, 2592),
        other => panic!("no external mu for {other}"),
    }
}

fn is_unsupported<T>(result: Result<T, CryptoError>) -> bool {
    matches!(result, Err(CryptoError::UnsupportedAlgorithm))
}

#[test]
fn private_keys_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PrivateKey>();
}

#[test]
fn every_spec_wraps_and_unwraps_to_the_same_key() {
    let root = RootKey::generate().unwrap();
    for &spec in KeyPairSpec::ALL {
        let key = key(spec);
        assert_eq!(key.spec(), spec);
        let wrapped = key.wrap(&root, ARN, &MATERIAL_ID).unwrap();
        let back = PrivateKey::unwrap(spec, &root, ARN, &MATERIAL_ID, &wrapped).unwrap();
        assert_eq!(back.spec(), spec);
        assert_eq!(back.public_key_der(), key.public_key_der(), "{spec}");
        assert_eq!(
            back.to_stored().unwrap().as_bytes(),
            key.to_stored().unwrap().as_bytes(),
            "{spec}"
        );
        // The unwrapped key works with the original's public half.
        if let Some(&alg) = spec.signing_algorithms().first() {
            let signature = back.sign(alg, MessageType::Raw, MESSAGE).unwrap();
            assert!(key
                .verify(alg, MessageType::Raw, MESSAGE, &signature)
                .unwrap());
        }
        if let Some(&alg) = spec.encryption_algorithms().first() {
            let ciphertext = key.encrypt(alg, b"secret").unwrap();
            assert_eq!(
                back.decrypt(alg, &ciphertext).unwrap().as_bytes(),
                b"secret"
            );
        }
        if !spec.encapsulation_algorithms().is_empty() {
            let (ciphertext, secret) = key.encapsulate().unwrap();
            assert_eq!(
                back.decapsulate(&ciphertext).unwrap().as_bytes(),
                secret.as_bytes()
            );
        }
    }
}

#[test]
fn unwrap_is_bound_to_arn_material_id_root_and_spec() {
    let root = RootKey::generate().unwrap();
    let other_root = RootKey::generate().unwrap();
    for &spec in KeyPairSpec::ALL {
        let wrapped = key(spec).wrap(&root, ARN, &MATERIAL_ID).unwrap();
        let failed =
            |r: Result<PrivateKey, CryptoError>| matches!(r, Err(CryptoError::UnwrapFailed));
        assert!(
            failed(PrivateKey::unwrap(
                spec,
                &root,
                "arn:aws:kms:us-east-1:111122223333:key/other",
                &MATERIAL_ID,
                &wrapped
            )),
            "{spec}"
        );
        assert!(
            failed(PrivateKey::unwrap(spec, &root, ARN, &[0x5b; 32], &wrapped)),
            "{spec}"
        );
        assert!(
            failed(PrivateKey::unwrap(
                spec,
                &other_root,
                ARN,
                &MATERIAL_ID,
                &wrapped
            )),
            "{spec}"
        );
        let mut tampered = wrapped.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(
            failed(PrivateKey::unwrap(
                spec,
                &root,
                ARN,
                &MATERIAL_ID,
                &tampered
            )),
            "{spec}"
        );
        // Stored under another spec of a different family or size: parsing refuses it.
        for &other in KeyPairSpec::ALL {
            if other != spec {
                assert!(
                    failed(PrivateKey::unwrap(
                        other,
                        &root,
                        ARN,
                        &MATERIAL_ID,
                        &wrapped
                    )),
                    "{spec} unwrapped as {other}"
                );
            }
        }
    }
}

#[test]
fn every_allowed_algorithm_and_message_type_signs_and_verifies() {
    let mut combinations = 0;
    for &spec in KeyPairSpec::ALL {
        let key = key(spec);
        for &alg in spec.signing_algorithms() {
            for &message_type in alg.message_types() {
                let message = message_for(key, alg, message_type, MESSAGE);
                let signature = key.sign(alg, message_type, &message).unwrap();
                assert!(
                    key.verify(alg, message_type, &message, &signature).unwrap(),
                    "{spec} {alg} {message_type}"
                );
                let other = message_for(key, alg, message_type, b"another message");
                assert!(!key.verify(alg, message_type, &other, &signature).unwrap());
                let mut flipped = signature.clone();
                let middle = flipped.len() / 2;
                flipped[middle] ^= 0x01;
                assert!(!key.verify(alg, message_type, &message, &flipped).unwrap());
                assert!(!key.verify(alg, message_type, &message, &[]).unwrap());
                assert!(!key.verify(alg, message_type, &message, &[0x30; 7]).unwrap());
                assert!(!key
                    .verify(
                        alg,
                        message_type,
                        &message,
                        &signature[..signature.len() - 1]
                    )
                    .unwrap());
                combinations += 1;
            }
        }
    }
    // RSA 3×6×2, ECC 4×2, Ed25519 1 (RAW) + 1 (PH with DIGEST), SM2 2, ML-DSA 3×2 (RAW, EXTERNAL_MU).
    assert_eq!(combinations, 36 + 8 + 2 + 2 + 3 + 3);
}

#[test]
fn signatures_have_the_published_shapes() {
    let rsa = key(KeyPairSpec::Rsa3072)
        .sign(SigningAlgorithm::RsassaPssSha256, MessageType::Raw, MESSAGE)
        .unwrap();
    assert_eq!(rsa.len(), 384);
    for spec in [KeyPairSpec::EccNistP521, KeyPairSpec::Sm2] {
        let alg = spec.signing_algorithms()[0];
        let der = key(spec).sign(alg, MessageType::Raw, MESSAGE).unwrap();
        assert_eq!(der[0], 0x30, "{spec} signature is a DER SEQUENCE");
    }
    let ed = key(KeyPairSpec::EccNistEdwards25519)
        .sign(SigningAlgorithm::Ed25519Sha512, MessageType::Raw, MESSAGE)
        .unwrap();
    assert_eq!(ed.len(), 64);
    for (spec, len) in [
        (KeyPairSpec::MlDsa44, 2420),
        (KeyPairSpec::MlDsa65, 3309),
        (KeyPairSpec::MlDsa87, 4627),
    ] {
        let sig = key(spec)
            .sign(SigningAlgorithm::MlDsaShake256, MessageType::Raw, MESSAGE)
            .unwrap();
        assert_eq!(sig.len(), len, "{spec}");
    }
}

#[test]
fn every_disallowed_algorithm_or_message_type_is_unsupported() {
    let mut rejected = 0;
    for &spec in KeyPairSpec::ALL {
        let key = key(spec);
        for &alg in SigningAlgorithm::ALL {
            for &message_type in MessageType::ALL {
                let allowed = spec.signing_algorithms().contains(&alg)
                    && alg.message_types().contains(&message_type);
                if allowed {
                    continue;
                }
                // Right-sized input, so only the algorithm choice can be wrong.
                let message = match message_type {
                    MessageType::Digest => vec![0u8; alg.digest_len().unwrap_or(32)],
                    MessageType::ExternalMu => vec![0u8; 64],
                    MessageType::Raw => MESSAGE.to_vec(),
                };
                assert!(
                    is_unsupported(key.sign(alg, message_type, &message)),
                    "sign {spec} {alg} {message_type}"
                );
                assert!(
                    is_unsupported(key.verify(alg, message_type, &message, &[0u8; 64])),
                    "verify {spec} {alg} {message_type}"
                );
                rejected += 1;
            }
        }
    }
    assert_eq!(rejected, 15 * 13 * 3 - (36 + 8 + 2 + 2 + 3 + 3));
}

#[test]
fn an_ml_dsa_external_mu_signature_is_a_pure_ml_dsa_signature_of_the_message() {
    for spec in [
        KeyPairSpec::MlDsa44,
        KeyPairSpec::MlDsa65,
        KeyPairSpec::MlDsa87,
    ] {
        let key = key(spec);
        let mu = external_mu(key, MESSAGE);
        let signature = key
            .sign(
                SigningAlgorithm::MlDsaShake256,
                MessageType::ExternalMu,
                &mu,
            )
            .unwrap();
        // aws-lc-rs verifies it as an ordinary signature over the message …
        assert!(
            key.verify(
                SigningAlgorithm::MlDsaShake256,
                MessageType::Raw,
                MESSAGE,
                &signature
            )
            .unwrap(),
            "{spec}"
        );
        // … and a RAW signature verifies against μ.
        let raw = key
            .sign(SigningAlgorithm::MlDsaShake256, MessageType::Raw, MESSAGE)
            .unwrap();
        assert!(
            key.verify(
                SigningAlgorithm::MlDsaShake256,
                MessageType::ExternalMu,
                &mu,
                &raw
            )
            .unwrap(),
            "{spec}"
        );
        assert!(matches!(
            key.sign(
                SigningAlgorithm::MlDsaShake256,
                MessageType::ExternalMu,
                &mu[..63]
            ),
            Err(CryptoError::InvalidMessage(_))
        ));
    }
}

#[test]
fn ecc_curves_take_only_their_aws_hash() {
    let cases = [
        (KeyPairSpec::EccNistP256, SigningAlgorithm::EcdsaSha256),
        (KeyPairSpec::EccSecgP256k1, SigningAlgorithm::EcdsaSha256),
        (KeyPairSpec::EccNistP384, SigningAlgorithm::EcdsaSha384),
        (KeyPairSpec::EccNistP521, SigningAlgorithm::EcdsaSha512),
    ];
    for (spec, good) in cases {
        assert_eq!(spec.signing_algorithms(), [good]);
        for alg in [
            SigningAlgorithm::EcdsaSha256,
            SigningAlgorithm::EcdsaSha384,
            SigningAlgorithm::EcdsaSha512,
        ] {
            let result = key(spec).sign(alg, MessageType::Raw, MESSAGE);
            assert_eq!(result.is_ok(), alg == good, "{spec} {alg}");
        }
    }
}

#[test]
fn digest_signatures_verify_as_raw_and_raw_as_digest() {
    for &spec in KeyPairSpec::ALL {
        let key = key(spec);
        for &alg in spec.signing_algorithms() {
            let types = alg.message_types();
            if !types.contains(&MessageType::Digest) || !types.contains(&MessageType::Raw) {
                continue; // Ed25519ph takes DIGEST only; see its own test
            }
            let digest = digest_of(key, alg, MESSAGE);
            let from_digest = key.sign(alg, MessageType::Digest, &digest).unwrap();
            assert!(
                key.verify(alg, MessageType::Raw, MESSAGE, &from_digest)
                    .unwrap(),
                "{spec} {alg}: DIGEST signature as RAW"
            );
            let from_raw = key.sign(alg, MessageType::Raw, MESSAGE).unwrap();
            assert!(
                key.verify(alg, MessageType::Digest, &digest, &from_raw)
                    .unwrap(),
                "{spec} {alg}: RAW signature as DIGEST"
            );
            // A digest that is hashed again (RAW) is a different message.
            assert!(!key
                .verify(alg, MessageType::Raw, &digest, &from_raw)
                .unwrap());
        }
    }
}

#[test]
fn digest_of_the_wrong_length_is_rejected() {
    for &spec in KeyPairSpec::ALL {
        let key = key(spec);
        for &alg in spec.signing_algorithms() {
            let Some(len) = alg.digest_len() else {
                continue;
            };
            for wrong in [0, len - 1, len + 1, 2 * len] {
                let digest = vec![1u8; wrong];
                assert!(
                    matches!(
                        key.sign(alg, MessageType::Digest, &digest),
                        Err(CryptoError::InvalidMessage(_))
                    ),
                    "{spec} {alg} {wrong}"
                );
                assert!(matches!(
                    key.verify(alg, MessageType::Digest, &digest, &[0u8; 64]),
                    Err(CryptoError::InvalidMessage(_))
                ));
            }
        }
    }
}

#[test]
fn signatures_verify_with_aws_lc_rs_from_the_published_public_key() {
    // What a client does offline: verify with GetPublicKey's SPKI and an independent verifier.
    let cases: [(
        KeyPairSpec,
        SigningAlgorithm,
        &'static dyn lc_sig::VerificationAlgorithm,
    ); 10] = [
        (
            KeyPairSpec::Rsa2048,
            SigningAlgorithm::RsassaPssSha256,
            &lc_sig::RSA_PSS_2048_8192_SHA256,
        ),
        (
            KeyPairSpec::Rsa3072,
            SigningAlgorithm::RsassaPssSha512,
            &lc_sig::RSA_PSS_2048_8192_SHA512,
        ),
        (
            KeyPairSpec::Rsa4096,
            SigningAlgorithm::RsassaPkcs1V15Sha384,
            &lc_sig::RSA_PKCS1_2048_8192_SHA384,
        ),
        (
            KeyPairSpec::EccNistP256,
            SigningAlgorithm::EcdsaSha256,
            &lc_sig::ECDSA_P256_SHA256_ASN1,
        ),
        (
            KeyPairSpec::EccNistP384,
            SigningAlgorithm::EcdsaSha384,
            &lc_sig::ECDSA_P384_SHA384_ASN1,
        ),
        (
            KeyPairSpec::EccNistP521,
            SigningAlgorithm::EcdsaSha512,
            &lc_sig::ECDSA_P521_SHA512_ASN1,
        ),
        (
            KeyPairSpec::EccSecgP256k1,
            SigningAlgorithm::EcdsaSha256,
            &lc_sig::ECDSA_P256K1_SHA256_ASN1,
        ),
        (
            KeyPairSpec::EccNistEdwards25519,
            SigningAlgorithm::Ed25519Sha512,
            &lc_sig::ED25519,
        ),
        (
            KeyPairSpec::MlDsa44,
            SigningAlgorithm::MlDsaShake256,
            &lc_sig::ML_DSA_44,
        ),
        (
            KeyPairSpec::MlDsa87,
            SigningAlgorithm::MlDsaShake256,
            &lc_sig::ML_DSA_87,
        ),
    ];
    for (spec, alg, verifier) in cases {
        let key = key(spec);
        let signature = key.sign(alg, MessageType::Raw, MESSAGE).unwrap();
        let public = UnparsedPublicKey::new(verifier, key.public_key_der());
        assert!(public.verify(MESSAGE, &signature).is_ok(), "{spec} {alg}");
        assert!(
            public.verify(b"tampered", &signature).is_err(),
            "{spec} {alg}"
        );
    }
}

/// DER prefix of each spec's SubjectPublicKeyInfo up to the key bits, and the SPKI's length.
fn spki_prefix(spec: KeyPairSpec) -> (&'static str, usize) {
    match spec {
        // rsaEncryption with NULL parameters; the length varies with the modulus.
        KeyPairSpec::Rsa2048 => ("30820122300d06092a864886f70d0101010500", 294),
        KeyPairSpec::Rsa3072 => ("308201a2300d06092a864886f70d0101010500", 422),
        KeyPairSpec::Rsa4096 => ("30820222300d06092a864886f70d0101010500", 550),
        // id-ecPublicKey + named curve, uncompressed point.
        KeyPairSpec::EccNistP256 => ("3059301306072a8648ce3d020106082a8648ce3d030107034200", 91),
        KeyPairSpec::EccNistP384 => ("3076301006072a8648ce3d020106052b81040022036200", 120),
        KeyPairSpec::EccNistP521 => ("30819b301006072a8648ce3d020106052b8104002303818600", 158),
        KeyPairSpec::EccSecgP256k1 => ("3056301006072a8648ce3d020106052b8104000a034200", 88),
        KeyPairSpec::Sm2 => ("3059301306072a8648ce3d020106082a811ccf5501822d034200", 91),
        // id-Ed25519 (RFC 8410).
        KeyPairSpec::EccNistEdwards25519 => ("302a300506032b6570032100", 44),
        // id-ml-dsa-44/65/87 (2.16.840.1.101.3.4.3.17/18/19), absent parameters.
        KeyPairSpec::MlDsa44 => ("30820532300b06096086480165030403110382052100", 1334),
        KeyPairSpec::MlDsa65 => ("308207b2300b0609608648016503040312038207a100", 1974),
        KeyPairSpec::MlDsa87 => ("30820a32300b060960864801650304031303820a2100", 2614),
        // id-alg-ml-kem-512/768/1024 (2.16.840.1.101.3.4.4.1/2/3), absent parameters.
        KeyPairSpec::MlKem512 => ("30820332300b06096086480165030404010382032100", 822),
        KeyPairSpec::MlKem768 => ("308204b2300b0609608648016503040402038204a100", 1206),
        KeyPairSpec::MlKem1024 => ("30820632300b06096086480165030404030382062100", 1590),
    }
}

#[test]
fn public_keys_are_standard_subject_public_key_info() {
    for &spec in KeyPairSpec::ALL {
        let der = key(spec).public_key_der();
        let (prefix, len) = spki_prefix(spec);
        assert!(
            hex::encode(&der).starts_with(prefix),
            "{spec}: {}",
            hex::encode(&der[..24])
        );
        assert_eq!(der.len(), len, "{spec}");
    }
}

#[test]
fn oaep_round_trips_up_to_the_documented_maximum() {
    let expected = [
        (KeyPairSpec::Rsa2048, 214, 190),
        (KeyPairSpec::Rsa3072, 342, 318),
        (KeyPairSpec::Rsa4096, 470, 446),
    ];
    for (spec, sha1_max, sha256_max) in expected {
        let key = key(spec);
        for (alg, max) in [
            (AsymmetricEncryptionAlgorithm::RsaesOaepSha1, sha1_max),
            (AsymmetricEncryptionAlgorithm::RsaesOaepSha256, sha256_max),
        ] {
            assert_eq!(max_plaintext_len(spec, alg), Some(max), "{spec} {alg}");
            for len in [1, max / 2, max] {
                let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let ciphertext = key.encrypt(alg, &plaintext).unwrap();
                assert_eq!(
                    ciphertext.len() * 8,
                    match spec {
                        KeyPairSpec::Rsa2048 => 2048,
                        KeyPairSpec::Rsa3072 => 3072,
                        _ => 4096,
                    }
                );
                assert_eq!(key.decrypt(alg, &ciphertext).unwrap().as_bytes(), plaintext);
            }
            assert!(matches!(
                key.encrypt(alg, &vec![0u8; max + 1]),
                Err(CryptoError::InvalidMessage(_))
            ));
        }
    }
}

#[test]
fn oaep_decryption_failures_are_all_decrypt_failed() {
    let key = self::key(KeyPairSpec::Rsa2048);
    let sha1 = AsymmetricEncryptionAlgorithm::RsaesOaepSha1;
    let sha256 = AsymmetricEncryptionAlgorithm::RsaesOaepSha256;
    let ciphertext = key.encrypt(sha256, b"attack at dawn").unwrap();
    let decrypt_failed =
        |r: Result<SecretBytes, CryptoError>| matches!(r, Err(CryptoError::DecryptFailed));
    assert!(
        decrypt_failed(key.decrypt(sha1, &ciphertext)),
        "wrong OAEP hash"
    );
    let mut tampered = ciphertext.clone();
    tampered[10] ^= 0x80;
    assert!(decrypt_failed(key.decrypt(sha256, &tampered)));
    assert!(decrypt_failed(key.decrypt(sha256, &ciphertext[1..])));
    assert!(decrypt_failed(key.decrypt(sha256, &[])));
    let other = PrivateKey::generate(KeyPairSpec::Rsa2048).unwrap();
    assert!(decrypt_failed(other.decrypt(sha256, &ciphertext)));
}

#[test]
fn oaep_ciphertexts_from_aws_lc_rs_with_the_public_key_decrypt() {
    // A client encrypting offline with the SPKI from GetPublicKey.
    use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey, OAEP_SHA256_MGF1SHA256};
    let key = key(KeyPairSpec::Rsa2048);
    let public = PublicEncryptingKey::from_der(&key.public_key_der()).unwrap();
    let public = OaepPublicEncryptingKey::new(public).unwrap();
    let mut ciphertext = vec![0u8; public.ciphertext_size()];
    let ciphertext = public
        .encrypt(&OAEP_SHA256_MGF1SHA256, b"offline", &mut ciphertext, None)
        .unwrap();
    let plaintext = key
        .decrypt(AsymmetricEncryptionAlgorithm::RsaesOaepSha256, ciphertext)
        .unwrap();
    assert_eq!(plaintext.as_bytes(), b"offline");
}

#[test]
fn sm2pke_round_trips_and_rejects_tampering() {
    let key = key(KeyPairSpec::Sm2);
    let alg = AsymmetricEncryptionAlgorithm::Sm2Pke;
    assert_eq!(max_plaintext_len(KeyPairSpec::Sm2, alg), Some(1024));
    for len in [1, 100, 1024] {
        let plaintext = vec![0xc3; len];
        let ciphertext = key.encrypt(alg, &plaintext).unwrap();
        assert_eq!(ciphertext[0], 0x30, "GM/T 0009 DER");
        assert_eq!(key.decrypt(alg, &ciphertext).unwrap().as_bytes(), plaintext);
        let mut tampered = ciphertext.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(
            key.decrypt(alg, &tampered),
            Err(CryptoError::DecryptFailed)
        ));
    }
    assert!(matches!(
        key.encrypt(alg, &[0; 1025]),
        Err(CryptoError::InvalidMessage(_))
    ));
    assert!(matches!(
        key.decrypt(alg, b"junk"),
        Err(CryptoError::DecryptFailed)
    ));
}

#[test]
fn encryption_algorithms_outside_the_spec_are_unsupported() {
    for &spec in KeyPairSpec::ALL {
        let key = key(spec);
        for &alg in AsymmetricEncryptionAlgorithm::ALL {
            if spec.encryption_algorithms().contains(&alg) {
                continue;
            }
            assert_eq!(max_plaintext_len(spec, alg), None, "{spec} {alg}");
            assert!(is_unsupported(key.encrypt(alg, b"x")), "{spec} {alg}");
            assert!(is_unsupported(key.decrypt(alg, &[0; 256])), "{spec} {alg}");
        }
    }
}

#[test]
fn ecdh_keys_derive_the_same_secret() {
    for (spec, len) in [
        (KeyPairSpec::EccNistP256, 32),
        (KeyPairSpec::EccNistP384, 48),
        (KeyPairSpec::EccNistP521, 66),
        (KeyPairSpec::Sm2, 32),
    ] {
        let a = key(spec);
        let b = PrivateKey::generate(spec).unwrap();
        let ab = a.derive_shared_secret(&b.public_key_der()).unwrap();
        let ba = b.derive_shared_secret(&a.public_key_der()).unwrap();
        assert_eq!(ab.as_bytes(), ba.as_bytes(), "{spec}");
        assert_eq!(ab.len(), len, "{spec}");
        let c = PrivateKey::generate(spec).unwrap();
        let ac = a.derive_shared_secret(&c.public_key_der()).unwrap();
        assert_ne!(ab.as_bytes(), ac.as_bytes());
    }
}

#[test]
fn ecdh_matches_an_independent_peer() {
    // The peer side as OpenSSL's `pkeyutl -derive` would do it: aws-lc-rs ECDH used directly.
    for (spec, alg) in [
        (KeyPairSpec::EccNistP256, &agreement::ECDH_P256),
        (KeyPairSpec::EccNistP384, &agreement::ECDH_P384),
        (KeyPairSpec::EccNistP521, &agreement::ECDH_P521),
    ] {
        let ours = key(spec);
        let peer = agreement::PrivateKey::generate(alg).unwrap();
        let peer_spki = AsDer::<PublicKeyX509Der>::as_der(&peer.compute_public_key().unwrap())
            .unwrap()
            .as_ref()
            .to_vec();
        let ours_secret = ours.derive_shared_secret(&peer_spki).unwrap();
        let our_public = ours.public_key_der();
        let peer_secret = agreement::agree(
            &peer,
            agreement::UnparsedPublicKey::new(alg, &our_public),
            (),
            |s| Ok(s.to_vec()),
        )
        .unwrap();
        assert_eq!(ours_secret.as_bytes(), peer_secret, "{spec}");
    }
}

#[test]
fn ecdh_rejects_peers_on_other_curves_and_malformed_keys() {
    let curves = [
        KeyPairSpec::EccNistP256,
        KeyPairSpec::EccNistP384,
        KeyPairSpec::EccNistP521,
        KeyPairSpec::Sm2,
    ];
    let invalid =
        |r: Result<SecretBytes, CryptoError>| matches!(r, Err(CryptoError::InvalidPublicKey));
    for &spec in &curves {
        let ours = key(spec);
        for &other in curves.iter().chain(&[
            KeyPairSpec::EccSecgP256k1,
            KeyPairSpec::Rsa2048,
            KeyPairSpec::EccNistEdwards25519,
        ]) {
            if other != spec {
                assert!(
                    invalid(ours.derive_shared_secret(&key(other).public_key_der())),
                    "{spec} with {other}"
                );
            }
        }
        let spki = key(spec).public_key_der();
        // A bare SEC1 point (the SPKI's BIT STRING contents) is not an SPKI.
        let point_len = match spec {
            KeyPairSpec::EccNistP384 => 97,
            KeyPairSpec::EccNistP521 => 133,
            _ => 65,
        };
        assert!(
            invalid(ours.derive_shared_secret(&spki[spki.len() - point_len..])),
            "{spec}"
        );
        // A point off the curve.
        let mut off_curve = spki.clone();
        let last = off_curve.len() - 1;
        off_curve[last] ^= 1;
        assert!(invalid(ours.derive_shared_secret(&off_curve)), "{spec}");
        assert!(invalid(ours.derive_shared_secret(b"")), "{spec}");
        assert!(invalid(ours.derive_shared_secret(b"not a key")), "{spec}");
    }
}

#[test]
fn key_agreement_outside_its_specs_is_unsupported() {
    for &spec in KeyPairSpec::ALL {
        if !spec.key_agreement_algorithms().is_empty() {
            continue;
        }
        let peer = key(KeyPairSpec::EccNistP256).public_key_der();
        assert!(
            is_unsupported(key(spec).derive_shared_secret(&peer)),
            "{spec}"
        );
    }
}

#[test]
fn ml_kem_encapsulates_and_decapsulates() {
    for (spec, ciphertext_len) in [
        (KeyPairSpec::MlKem512, 768),
        (KeyPairSpec::MlKem768, 1088),
        (KeyPairSpec::MlKem1024, 1568),
    ] {
        let key = key(spec);
        let (ciphertext, secret) = key.encapsulate().unwrap();
        assert_eq!(ciphertext.len(), ciphertext_len, "{spec}");
        assert_eq!(secret.len(), 32);
        assert_eq!(
            key.decapsulate(&ciphertext).unwrap().as_bytes(),
            secret.as_bytes()
        );
        let (ciphertext2, secret2) = key.encapsulate().unwrap();
        assert_ne!(ciphertext, ciphertext2);
        assert_ne!(secret.as_bytes(), secret2.as_bytes());
    }
}

#[test]
fn ml_kem_flipped_ciphertext_gets_implicit_rejection() {
    for spec in [
        KeyPairSpec::MlKem512,
        KeyPairSpec::MlKem768,
        KeyPairSpec::MlKem1024,
    ] {
        let key = key(spec);
        let (mut ciphertext, secret) = key.encapsulate().unwrap();
        ciphertext[0] ^= 1;
        let rejected = key.decapsulate(&ciphertext).unwrap();
        assert_eq!(rejected.len(), 32);
        assert_ne!(rejected.as_bytes(), secret.as_bytes(), "{spec}");
        // Implicit rejection is deterministic: J(z ‖ c).
        assert_eq!(
            key.decapsulate(&ciphertext).unwrap().as_bytes(),
            rejected.as_bytes()
        );
    }
}

#[test]
fn ml_kem_wrongly_sized_ciphertext_is_invalid() {
    let key = key(KeyPairSpec::MlKem768);
    for len in [0, 1, 1087, 1089, 1568] {
        assert!(
            matches!(
                key.decapsulate(&vec![0; len]),
                Err(CryptoError::InvalidCiphertext)
            ),
            "{len}"
        );
    }
}

#[test]
fn kem_operations_outside_ml_kem_are_unsupported() {
    for &spec in KeyPairSpec::ALL {
        if !spec.encapsulation_algorithms().is_empty() {
            continue;
        }
        assert!(is_unsupported(key(spec).encapsulate()), "{spec}");
        assert!(is_unsupported(key(spec).decapsulate(&[0; 768])), "{spec}");
    }
}

macro_rules! ml_kem_cross_check {
    ($spec:expr, $params:ty) => {{
        use ::ml_kem::array::Array;
        use ::ml_kem::{Decapsulate, DecapsulationKey, EncapsulationKey};
        let ours = key($spec);
        let spki = ours.public_key_der();
        let ek_len = match $spec {
            KeyPairSpec::MlKem512 => 800,
            KeyPairSpec::MlKem768 => 1184,
            _ => 1568,
        };
        let ek_bytes = Array::try_from(&spki[spki.len() - ek_len..]).unwrap();
        let theirs_ek = EncapsulationKey::<$params>::new(&ek_bytes).unwrap();
        // RustCrypto encapsulates to our published key; we decapsulate.
        let (ciphertext, shared) = theirs_ek.encapsulate_deterministic(&Array::from([9u8; 32]));
        assert_eq!(
            ours.decapsulate(ciphertext.as_slice()).unwrap().as_bytes(),
            shared.as_slice()
        );
        // RustCrypto loads our stored decapsulation key and decapsulates our ciphertexts,
        // including the implicit-rejection value of a tampered one.
        let stored = ours.to_stored().unwrap();
        #[allow(deprecated)]
        let theirs_dk = DecapsulationKey::<$params>::from_expanded(
            &Array::try_from(stored.as_bytes()).unwrap(),
        )
        .unwrap();
        let (mut ciphertext, secret) = ours.encapsulate().unwrap();
        let ct = Array::try_from(ciphertext.as_slice()).unwrap();
        assert_eq!(theirs_dk.decapsulate(&ct).as_slice(), secret.as_bytes());
        ciphertext[5] ^= 0x10;
        let ct = Array::try_from(ciphertext.as_slice()).unwrap();
        assert_eq!(
            theirs_dk.decapsulate(&ct).as_slice(),
            ours.decapsulate(&ciphertext).unwrap().as_bytes()
        );
    }};
}

#[test]
fn ml_kem_interoperates_with_rustcrypto_ml_kem() {
    ml_kem_cross_check!(KeyPairSpec::MlKem512, ::ml_kem::MlKem512);
    ml_kem_cross_check!(KeyPairSpec::MlKem768, ::ml_kem::MlKem768);
    ml_kem_cross_check!(KeyPairSpec::MlKem1024, ::ml_kem::MlKem1024);
}

#[test]
fn ml_kem_stored_key_with_a_bad_embedded_hash_is_refused() {
    let stored = key(KeyPairSpec::MlKem512).to_stored().unwrap();
    let mut bad = stored.as_bytes().to_vec();
    bad[768 + 5] ^= 1; // inside the embedded ek, so H(ek) no longer matches
    assert!(matches!(
        PrivateKey::from_stored(KeyPairSpec::MlKem512, &bad),
        Err(CryptoError::InvalidKeyMaterial(_))
    ));
}

macro_rules! ml_dsa_cross_check {
    ($spec:expr, $params:ty, $pk_len:expr) => {{
        use ::ml_dsa::signature::{Keypair as _, Verifier as _};
        use ::ml_dsa::{Signature, SigningKey, VerifyingKey};
        let ours = key($spec);
        // Stored form: PKCS#8 v1 with the 32-byte seed as `[0] IMPLICIT OCTET STRING`.
        let stored = ours.to_stored().unwrap();
        let stored = stored.as_bytes();
        assert_eq!(stored.len(), 54);
        assert_eq!(stored[20..22], [0x80, 0x20]);
        let seed = ::ml_dsa::Seed::try_from(&stored[22..]).unwrap();
        let theirs = SigningKey::<$params>::from_seed(&seed);
        let spki = ours.public_key_der();
        let raw_public = &spki[spki.len() - $pk_len..];
        assert_eq!(theirs.verifying_key().encode().as_slice(), raw_public);
        // Our signature verifies with RustCrypto (pure ML-DSA, empty context) …
        let signature = ours
            .sign(SigningAlgorithm::MlDsaShake256, MessageType::Raw, MESSAGE)
            .unwrap();
        let vk = VerifyingKey::<$params>::decode(&raw_public.try_into().unwrap());
        let parsed = Signature::<$params>::try_from(signature.as_slice()).unwrap();
        assert!(vk.verify(MESSAGE, &parsed).is_ok());
        assert!(vk.verify(b"tampered", &parsed).is_err());
        // … and RustCrypto's (deterministic) signature verifies with us.
        let theirs_sig = theirs.signing_key_sign(MESSAGE);
        assert!(ours
            .verify(
                SigningAlgorithm::MlDsaShake256,
                MessageType::Raw,
                MESSAGE,
                &theirs_sig
            )
            .unwrap());
    }};
}

/// RustCrypto's deterministic ML-DSA signature of `message` with an empty context.
trait DeterministicSign {
    fn signing_key_sign(&self, message: &[u8]) -> Vec<u8>;
}

impl<P: ::ml_dsa::MlDsaParams> DeterministicSign for ::ml_dsa::SigningKey<P> {
    fn signing_key_sign(&self, message: &[u8]) -> Vec<u8> {
        self.expanded_key()
            .sign_deterministic(message, b"")
            .unwrap()
            .encode()
            .to_vec()
    }
}

#[test]
fn ml_dsa_interoperates_with_rustcrypto_ml_dsa() {
    ml_dsa_cross_check!(KeyPairSpec::MlDsa44, ::ml_dsa::MlDsa44, 1312);
    ml_dsa_cross_check!(KeyPairSpec::MlDsa65, ::ml_dsa::MlDsa65, 1952);
    ml_dsa_cross_check!(KeyPairSpec::MlDsa87, ::ml_dsa::MlDsa87, 2592);
}

/// RFC 8032 §7.1 TEST 1 and §7.3 (Ed25519ph "abc") as PKCS#8 v1 keys.
fn rfc8032_key(seed_hex: &str) -> PrivateKey {
    let pkcs8 = hex::decode(format!("302e020100300506032b657004220420{seed_hex}")).unwrap();
    PrivateKey::from_stored(KeyPairSpec::EccNistEdwards25519, &pkcs8).unwrap()
}

#[test]
fn ed25519_matches_rfc8032_test_1() {
    let key = rfc8032_key("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    assert_eq!(
        hex::encode(key.public_key_der()),
        "302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
    let signature = key
        .sign(SigningAlgorithm::Ed25519Sha512, MessageType::Raw, b"")
        .unwrap();
    assert_eq!(
        hex::encode(signature),
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    );
}

#[test]
fn ed25519ph_primitive_matches_rfc8032_section_7_3() {
    let key = rfc8032_key("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
    let Family::Ed25519(inner) = &key.family else {
        panic!("Ed25519 family")
    };
    assert_eq!(
        hex::encode(inner.sign_ed25519ph(b"abc").unwrap()),
        "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41\
         31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
    );
}

#[test]
fn ed25519ph_hashes_the_callers_digest_once_more_as_aws_documents() {
    // ED25519_PH_SHA_512 + DIGEST d signs Ed25519ph(M = d), i.e. PH = SHA-512(d).
    let key = rfc8032_key("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
    let Family::Ed25519(inner) = &key.family else {
        panic!("Ed25519 family")
    };
    let alg = SigningAlgorithm::Ed25519PhSha512;
    let digest = sha(64, MESSAGE);
    let signature = key.sign(alg, MessageType::Digest, &digest).unwrap();
    assert_eq!(signature, inner.sign_ed25519ph(&digest).unwrap());
    assert_ne!(signature, inner.sign_ed25519ph(MESSAGE).unwrap());
    assert!(key
        .verify(alg, MessageType::Digest, &digest, &signature)
        .unwrap());
    assert!(!key
        .verify(alg, MessageType::Digest, &sha(64, b"other"), &signature)
        .unwrap());
    // An independent check of the construction with dalek's own prehash verifier.
    use ed25519_dalek::{Digest as _, Sha512};
    let public: [u8; 32] = key.public_key_der()[12..].try_into().unwrap();
    let verifying = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
    let parsed = ed25519_dalek::Signature::from_slice(&signature).unwrap();
    assert!(verifying
        .verify_prehashed(Sha512::new().chain_update(&digest), None, &parsed)
        .is_ok());
    // Ed25519ph and PureEdDSA signatures are not interchangeable, and RAW is refused.
    assert!(!key
        .verify(
            SigningAlgorithm::Ed25519Sha512,
            MessageType::Raw,
            &digest,
            &signature
        )
        .unwrap());
    assert!(is_unsupported(key.sign(alg, MessageType::Raw, MESSAGE)));
}

#[test]
fn sm2dsa_signs_with_the_aws_distinguishing_id() {
    // sm2_e computes Z_A with "1234567812345678" independently; a RAW signature must verify
    // as a DIGEST of that e, and a signature under another ID must not.
    use ::sm2::dsa::signature::RandomizedSigner as _;
    use ::sm2::pkcs8::DecodePrivateKey as _;
    let key = key(KeyPairSpec::Sm2);
    let alg = SigningAlgorithm::Sm2Dsa;
    let raw = key.sign(alg, MessageType::Raw, MESSAGE).unwrap();
    let e = sm2_e(&key.public_key_der(), MESSAGE);
    assert!(key.verify(alg, MessageType::Digest, &e, &raw).unwrap());
    let Family::Sm2(inner) = &key.family else {
        panic!("SM2 family")
    };
    let secret = ::sm2::SecretKey::from_pkcs8_der(inner.pkcs8().unwrap().as_bytes()).unwrap();
    let other_id = ::sm2::dsa::SigningKey::new("ALICE123@YAHOO.COM", &secret).unwrap();
    let signature: ::sm2::dsa::Signature = other_id
        .try_sign_with_rng(
            &mut ::sm2::elliptic_curve::common::getrandom::SysRng,
            MESSAGE,
        )
        .unwrap();
    let der = ::sm2::dsa::DerSignature::from(signature).to_vec();
    assert!(!key.verify(alg, MessageType::Raw, MESSAGE, &der).unwrap());
}

#[test]
fn data_key_pairs_reparse_and_sign_what_their_spki_verifies() {
    for &spec in DataKeyPairSpec::ALL {
        let (private, public) = generate_data_key_pair(spec).unwrap();
        let pair_spec = KeyPairSpec::from(spec);
        assert_eq!(pair_spec.as_str(), spec.as_str());
        assert_eq!(
            private.as_bytes()[0],
            0x30,
            "{spec}: PKCS#8 is a DER SEQUENCE"
        );
        let content = der_sequence_content(private.as_bytes());
        assert_eq!(content[..3], [0x02, 0x01, 0x00], "{spec}: PKCS#8 v1");
        let (prefix, _) = spki_prefix(pair_spec);
        assert!(hex::encode(&public).starts_with(prefix), "{spec}");
        match spec {
            DataKeyPairSpec::MlKem512 | DataKeyPairSpec::MlKem768 | DataKeyPairSpec::MlKem1024 => {
                // PKCS#8 v1 in seed form, byte for byte as pyca/cryptography writes it.
                let oid_last = match spec {
                    DataKeyPairSpec::MlKem512 => 1,
                    DataKeyPairSpec::MlKem768 => 2,
                    _ => 3,
                };
                let der = private.as_bytes();
                assert_eq!(der.len(), 86);
                assert_eq!(
                    hex::encode(&der[..22]),
                    format!("3054020100300b06096086480165030404{oid_last:02x}04428040")
                );
                // The seed expands (RustCrypto FIPS 203) to a dk that aws-lc-rs loads, whose
                // public key is the one published, and which decapsulates.
                let seed: [u8; 64] = der[22..].try_into().unwrap();
                let dk = expand_ml_kem_seed(spec, seed);
                let reparsed = PrivateKey::from_stored(pair_spec, &dk).unwrap();
                assert_eq!(reparsed.public_key_der(), public);
                let (ciphertext, secret) = reparsed.encapsulate().unwrap();
                assert_eq!(
                    reparsed.decapsulate(&ciphertext).unwrap().as_bytes(),
                    secret.as_bytes()
                );
            }
            _ => {
                // Re-parse the PKCS#8 as the key type's own parser would and sign.
                let reparsed = PrivateKey::from_stored(pair_spec, private.as_bytes()).unwrap();
                assert_eq!(reparsed.public_key_der(), public, "{spec}");
                let alg = pair_spec.signing_algorithms()[0];
                let signature = reparsed.sign(alg, MessageType::Raw, MESSAGE).unwrap();
                // Verify with a key made from the published SPKI alone.
                let verifier = verifier_from_spki(pair_spec, &public);
                assert!(verifier(MESSAGE, &signature), "{spec}");
                assert!(!verifier(b"other", &signature), "{spec}");
            }
        }
    }
}

/// The FIPS 203 expanded decapsulation key of an ML-KEM seed, by RustCrypto `ml-kem`.
#[allow(deprecated)] // the expanded form is deprecated there in favour of seeds
fn expand_ml_kem_seed(spec: DataKeyPairSpec, seed: [u8; 64]) -> Vec<u8> {
    use ::ml_kem::{DecapsulationKey, ExpandedKeyEncoding as _, Seed};
    let seed = Seed::from(seed);
    match spec {
        DataKeyPairSpec::MlKem512 => DecapsulationKey::<::ml_kem::MlKem512>::from_seed(seed)
            .to_expanded_bytes()
            .to_vec(),
        DataKeyPairSpec::MlKem768 => DecapsulationKey::<::ml_kem::MlKem768>::from_seed(seed)
            .to_expanded_bytes()
            .to_vec(),
        _ => DecapsulationKey::<::ml_kem::MlKem1024>::from_seed(seed)
            .to_expanded_bytes()
            .to_vec(),
    }
}

/// The content octets of a DER SEQUENCE that fills `der` exactly.
fn der_sequence_content(der: &[u8]) -> &[u8] {
    assert_eq!(der[0], 0x30);
    let (len, header) = match der[1] {
        n if n < 0x80 => (n as usize, 2),
        0x81 => (der[2] as usize, 3),
        0x82 => (u16::from_be_bytes([der[2], der[3]]) as usize, 4),
        other => panic!("unexpected DER length byte {other:#x}"),
    };
    assert_eq!(der.len(), header + len, "SEQUENCE fills the buffer");
    &der[header..]
}

/// `verify(message, signature)`.
type Verifier = Box<dyn Fn(&[u8], &[u8]) -> bool>;

/// A verifier built only from an SPKI, independent of [`PrivateKey`].
fn verifier_from_spki(spec: KeyPairSpec, spki: &[u8]) -> Verifier {
    let algorithm: &'static dyn lc_sig::VerificationAlgorithm = match spec {
        KeyPairSpec::Rsa2048 | KeyPairSpec::Rsa3072 | KeyPairSpec::Rsa4096 => {
            &lc_sig::RSA_PSS_2048_8192_SHA256
        }
        KeyPairSpec::EccNistP256 => &lc_sig::ECDSA_P256_SHA256_ASN1,
        KeyPairSpec::EccNistP384 => &lc_sig::ECDSA_P384_SHA384_ASN1,
        KeyPairSpec::EccNistP521 => &lc_sig::ECDSA_P521_SHA512_ASN1,
        KeyPairSpec::EccSecgP256k1 => &lc_sig::ECDSA_P256K1_SHA256_ASN1,
        KeyPairSpec::EccNistEdwards25519 => &lc_sig::ED25519,
        KeyPairSpec::Sm2 => {
            use ::sm2::dsa::signature::Verifier as _;
            use ::sm2::pkcs8::DecodePublicKey as _;
            let public = ::sm2::PublicKey::from_public_key_der(spki).unwrap();
            let vk = ::sm2::dsa::VerifyingKey::new(SM2_DISTINGUISHING_ID, public).unwrap();
            return Box::new(move |m: &[u8], s: &[u8]| {
                let Ok(sig) = ::sm2::dsa::DerSignature::from_bytes(s)
                    .and_then(::sm2::dsa::Signature::try_from)
                else {
                    return false;
                };
                vk.verify(m, &sig).is_ok()
            });
        }
        _ => unreachable!("not a signing data key pair spec"),
    };
    let public = UnparsedPublicKey::new(algorithm, spki.to_vec());
    Box::new(move |m: &[u8], s: &[u8]| public.verify(m, s).is_ok())
}

#[test]
fn data_key_pair_specs_all_generate() {
    let specs: Vec<KeyPairSpec> = DataKeyPairSpec::ALL.iter().map(|&s| s.into()).collect();
    assert!(specs.iter().all(|s| s.as_str() != "ML_DSA_44"));
    assert_eq!(specs.len(), 12);
}

#[test]
fn spec_algorithm_tables_match_aws() {
    use KeyPairSpec as K;
    for spec in [K::Rsa2048, K::Rsa3072, K::Rsa4096] {
        assert_eq!(spec.signing_algorithms().len(), 6);
        assert_eq!(spec.encryption_algorithms().len(), 2);
        assert!(spec.key_agreement_algorithms().is_empty());
    }
    assert_eq!(K::Sm2.signing_algorithms(), [SigningAlgorithm::Sm2Dsa]);
    assert_eq!(
        K::Sm2.encryption_algorithms(),
        [AsymmetricEncryptionAlgorithm::Sm2Pke]
    );
    assert_eq!(
        K::Sm2.key_agreement_algorithms(),
        [KeyAgreementAlgorithm::Ecdh]
    );
    assert!(K::EccSecgP256k1.key_agreement_algorithms().is_empty());
    assert!(K::EccNistEdwards25519.key_agreement_algorithms().is_empty());
    assert_eq!(
        K::MlKem768.encapsulation_algorithms(),
        [EncapsulationAlgorithm::MlKem]
    );
    assert!(K::MlKem768.signing_algorithms().is_empty());
    assert_eq!(
        K::MlDsa65.signing_algorithms(),
        [SigningAlgorithm::MlDsaShake256]
    );
}

#[test]
fn debug_shows_only_the_spec() {
    for &spec in [KeyPairSpec::EccNistP256, KeyPairSpec::MlKem512].iter() {
        let shown = format!("{:?}", key(spec));
        assert_eq!(shown, format!("PrivateKey({spec}, <redacted>)"));
    }
}
