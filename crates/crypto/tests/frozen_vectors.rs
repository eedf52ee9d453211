//! Frozen test vectors.
//!
//! THESE VECTORS MUST NEVER CHANGE. They were produced once by this crate and pin the
//! on-disk and on-the-wire formats: symmetric ciphertext blob format version 1 (ARCHITECTURE.md §4:
//! header layout, HKDF-SHA256 data-key derivation, AAD = header ‖ canonical encryption
//! context) and the root-key wrapping format version 1 with its key-material AAD and key
//! file. Customers hold ciphertexts and stores hold wrapped material made in these formats,
//! so if a test here fails, the code is wrong, not the vector. A new format gets a new
//! version byte and new vectors beside these.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::collections::BTreeMap;

use trent_crypto::blob;
use trent_crypto::context::canonical_encryption_context;
use trent_crypto::root::{material_wrapping_aad, RootKey};
use trent_crypto::symmetric::{self, SymmetricKeyMaterial};
use trent_crypto::{CryptoError, SecretBytes};

const MATERIAL: &str = "bc8ab56b467627701551bb2f67d43a446c620edb4d5bfd8a9469427d6d3f1312";
const KEY_ID: &str = "5b2dce1c32ee03b549bc8e9b70ef1110";
const KEY_MATERIAL_ID: &str = "f9639f2477989c8701594bf1acc6c0a8247ed339d6f0b2e5c8f3de738fc62460";

/// Context of `BLOB_V1_WITH_CONTEXT`.
const CONTEXT: [(&str, &str); 2] = [("purpose", "frozen-vector"), ("département", "crypto ✓")];
/// `canonical_encryption_context(CONTEXT)`.
const CONTEXT_ENCODING: &str =
    "000000020000000c64c3a970617274656d656e740000000a63727970746f20e29c93\
                                00000007707572706f73650000000d66726f7a656e2d766563746f72";
const PLAINTEXT_WITH_CONTEXT: &[u8] = b"Trent format v1 frozen plaintext";
const BLOB_V1_WITH_CONTEXT: &str = "015b2dce1c32ee03b549bc8e9b70ef1110f9639f2477989c8701594bf1acc6c0\
                                    a8247ed339d6f0b2e5c8f3de738fc62460292af588fe55a1f21d8496fc38edef\
                                    2db1b91d4970dbf73a864fc6b0a85384e6e113ebf0a0abc3179b0ba322398f41\
                                    afbf4fd0fc2a376429ce2c4c32cc1429866882a7155f66146f3150a5eca68c2a\
                                    b34d289b8a56e06b2cf1710e0e";

/// Same key, empty encryption context.
const PLAINTEXT_EMPTY_CONTEXT: &[u8] = b"x";
const BLOB_V1_EMPTY_CONTEXT: &str = "015b2dce1c32ee03b549bc8e9b70ef1110f9639f2477989c8701594bf1acc6c0\
                                     a8247ed339d6f0b2e5c8f3de738fc62460962f3a49c939a18d23a8185fe31294\
                                     dc2241e599a36b6884767fc55d792e72e0ec317323565c141100ba90b45a7e1f\
                                     75da985200dd4adb75f31800e934";

/// Root key; `WRAPPED_MATERIAL` is `MATERIAL` wrapped under it for `KEY_ARN` and
/// `KEY_MATERIAL_ID`.
const ROOT_KEY: &str = "9b7b78e42201d6ba2087ef2835e713fb8714265c4ea784866836e065605f6bea";
const KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const WRAPPED_MATERIAL: &str = "0191cfa3264b378454cdc8015753c6c1a12adf6e43ce15e1cd0bf55dd1134422\
                                2f8e23b2672c5eee5b8e6966c979b27152f8055ebb7e2f4438850415b6";

fn unhex(s: &str) -> Vec<u8> {
    let compact: String = s.split_whitespace().collect();
    hex::decode(compact).expect("valid hex in a frozen vector")
}

fn arr<const N: usize>(s: &str) -> [u8; N] {
    unhex(s).try_into().expect("frozen vector length")
}

fn material() -> SymmetricKeyMaterial {
    SymmetricKeyMaterial::from_secret(SecretBytes::new(unhex(MATERIAL))).unwrap()
}

fn context() -> BTreeMap<String, String> {
    CONTEXT
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn root_key() -> RootKey {
    RootKey::from_secret(SecretBytes::new(unhex(ROOT_KEY))).unwrap()
}

#[test]
fn canonical_context_encoding_v1() {
    assert_eq!(
        canonical_encryption_context(&context()),
        unhex(CONTEXT_ENCODING)
    );
    assert_eq!(canonical_encryption_context(&BTreeMap::new()), [0, 0, 0, 0]);
}

#[test]
fn blob_v1_header_fields() {
    for blob_hex in [BLOB_V1_WITH_CONTEXT, BLOB_V1_EMPTY_CONTEXT] {
        let bytes = unhex(blob_hex);
        let parsed = blob::parse(&bytes).unwrap();
        assert_eq!(bytes[0], blob::VERSION_1);
        assert_eq!(parsed.header.key_id, arr::<16>(KEY_ID));
        assert_eq!(parsed.header.key_material_id, arr::<32>(KEY_MATERIAL_ID));
        assert_eq!(blob::peek_key_id(&bytes), Some(arr::<16>(KEY_ID)));
        assert_eq!(parsed.header_bytes.len(), 93);
    }
}

#[test]
fn blob_v1_with_context_decrypts() {
    let bytes = unhex(BLOB_V1_WITH_CONTEXT);
    let parsed = blob::parse(&bytes).unwrap();
    let pt = symmetric::decrypt(&material(), &parsed, &context()).unwrap();
    assert_eq!(pt.as_bytes(), PLAINTEXT_WITH_CONTEXT);
    assert!(matches!(
        symmetric::decrypt(&material(), &parsed, &BTreeMap::new()),
        Err(CryptoError::InvalidCiphertext)
    ));
}

#[test]
fn blob_v1_empty_context_decrypts() {
    let bytes = unhex(BLOB_V1_EMPTY_CONTEXT);
    let parsed = blob::parse(&bytes).unwrap();
    let pt = symmetric::decrypt(&material(), &parsed, &BTreeMap::new()).unwrap();
    assert_eq!(pt.as_bytes(), PLAINTEXT_EMPTY_CONTEXT);
}

#[test]
fn root_wrap_v1_unwraps() {
    let mid = arr::<32>(KEY_MATERIAL_ID);
    let wrapped = unhex(WRAPPED_MATERIAL);
    assert_eq!(wrapped[0], 0x01);
    let aad = material_wrapping_aad(KEY_ARN, &mid);
    assert_eq!(
        root_key().unwrap(&aad, &wrapped).unwrap().as_bytes(),
        unhex(MATERIAL)
    );

    // The same through the key-material helper, then used to decrypt a frozen blob.
    let m = SymmetricKeyMaterial::unwrap(&root_key(), KEY_ARN, &mid, &wrapped).unwrap();
    let bytes = unhex(BLOB_V1_EMPTY_CONTEXT);
    let pt = symmetric::decrypt(&m, &blob::parse(&bytes).unwrap(), &BTreeMap::new()).unwrap();
    assert_eq!(pt.as_bytes(), PLAINTEXT_EMPTY_CONTEXT);
}

#[cfg(unix)]
#[test]
fn root_key_file_v1_loads() {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("root.key");
    let mut contents = b"TRENTRK1".to_vec();
    contents.extend_from_slice(&unhex(ROOT_KEY));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .unwrap()
        .write_all(&contents)
        .unwrap();

    let root = RootKey::load_file(&path).unwrap();
    let aad = material_wrapping_aad(KEY_ARN, &arr::<32>(KEY_MATERIAL_ID));
    assert_eq!(
        root.unwrap(&aad, &unhex(WRAPPED_MATERIAL))
            .unwrap()
            .as_bytes(),
        unhex(MATERIAL)
    );
}
