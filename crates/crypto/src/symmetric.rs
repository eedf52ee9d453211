//! `SYMMETRIC_DEFAULT` keys: key material and Encrypt/Decrypt (ARCHITECTURE.md §4).
//!
//! Each call derives a fresh AES-256-GCM data key from the key material and a random
//! 32-byte nonce, so no AES-GCM key is ever used more than once, however hot a KMS key is:
//!
//! ```text
//! data key = HKDF-SHA256(salt = nonce, ikm = key material, info = "trent/v1/symmetric-data-key")
//! AAD      = blob header ‖ canonical_encryption_context(ctx)
//! ```

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::aead::{LessSafeKey, AES_256_GCM};
use aws_lc_rs::hkdf;
use zeroize::Zeroizing;

use crate::aes_gcm::{self, KEY_LEN};
use crate::blob::{
    self, CiphertextHeader, ParsedBlob, BLOB_IV_LEN, KEY_ID_LEN, KEY_MATERIAL_ID_LEN, NONCE_LEN,
};
use crate::context::canonical_encryption_context;
use crate::random;
use crate::root::{material_wrapping_aad, RootKey};
use crate::{CryptoError, SecretBytes};

/// Length of symmetric key material in bytes.
pub const MATERIAL_LEN: usize = KEY_LEN;

/// HKDF `info` for per-call data keys; part of format version 1, must never change.
const DATA_KEY_INFO: &[u8] = b"trent/v1/symmetric-data-key";

/// One version of a symmetric KMS key's material: 32 secret bytes, zeroized on drop.
/// `Debug` is redacted.
pub struct SymmetricKeyMaterial {
    bytes: Zeroizing<[u8; MATERIAL_LEN]>,
}

impl SymmetricKeyMaterial {
    /// Fresh random material (CreateKey, rotation).
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; MATERIAL_LEN]);
        random::fill(&mut bytes[..])?;
        Ok(Self { bytes })
    }

    /// Material from 32 secret bytes (imported key material, or after unwrapping).
    pub fn from_secret(secret: SecretBytes) -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; MATERIAL_LEN]);
        if secret.len() != MATERIAL_LEN {
            return Err(CryptoError::InvalidKeyMaterial(
                "symmetric key material must be 32 bytes",
            ));
        }
        bytes.copy_from_slice(secret.as_bytes());
        Ok(Self { bytes })
    }

    /// Wraps this material under the root key for storage, bound to its key ARN and
    /// material id (see [`material_wrapping_aad`]).
    pub fn wrap(
        &self,
        root: &RootKey,
        key_arn: &str,
        key_material_id: &[u8; KEY_MATERIAL_ID_LEN],
    ) -> Result<Vec<u8>, CryptoError> {
        root.wrap(
            &material_wrapping_aad(key_arn, key_material_id),
            &self.bytes[..],
        )
    }

    /// Unwraps material stored by [`SymmetricKeyMaterial::wrap`]. A wrong root key, ARN,
    /// material id or tampered blob is [`CryptoError::UnwrapFailed`].
    pub fn unwrap(
        root: &RootKey,
        key_arn: &str,
        key_material_id: &[u8; KEY_MATERIAL_ID_LEN],
        wrapped: &[u8],
    ) -> Result<Self, CryptoError> {
        let secret = root.unwrap(&material_wrapping_aad(key_arn, key_material_id), wrapped)?;
        Self::from_secret(secret).map_err(|_| CryptoError::UnwrapFailed)
    }

    /// The per-call data key for `nonce`.
    fn data_key(&self, nonce: &[u8; NONCE_LEN]) -> Result<LessSafeKey, CryptoError> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, nonce).extract(&self.bytes[..]);
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        prk.expand(&[DATA_KEY_INFO], &AES_256_GCM)
            .and_then(|okm| okm.fill(&mut key[..]))
            .map_err(|_| CryptoError::Internal("HKDF-SHA256 failed"))?;
        aes_gcm::key(&key)
    }
}

impl fmt::Debug for SymmetricKeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SymmetricKeyMaterial(<redacted>)")
    }
}

/// Encrypts `plaintext` under `material` into a format version 1 blob naming `key_id`
/// and `key_material_id`, bound to the encryption context `ctx`.
///
/// Size limits (AWS: 1–4096 bytes of plaintext) are the caller's to enforce.
pub fn encrypt(
    material: &SymmetricKeyMaterial,
    key_id: [u8; KEY_ID_LEN],
    key_material_id: [u8; KEY_MATERIAL_ID_LEN],
    plaintext: &[u8],
    ctx: &BTreeMap<String, String>,
) -> Result<Vec<u8>, CryptoError> {
    // Nonce and IV in one draw: each call into aws-lc's generator also mixes in fresh CPU
    // entropy (RDRAND), which costs more than the bytes themselves.
    let fresh: [u8; NONCE_LEN + BLOB_IV_LEN] = random::random_array()?;
    let (nonce, iv) = fresh.split_at(NONCE_LEN);
    let header = CiphertextHeader {
        key_id,
        key_material_id,
        nonce: nonce
            .try_into()
            .map_err(|_| CryptoError::Internal("nonce length"))?,
        iv: iv
            .try_into()
            .map_err(|_| CryptoError::Internal("IV length"))?,
    };
    encrypt_with_header(material, &header, plaintext, ctx)
}

/// [`encrypt`] with a given header (nonce and IV); tests pin exact outputs with it.
pub(crate) fn encrypt_with_header(
    material: &SymmetricKeyMaterial,
    header: &CiphertextHeader,
    plaintext: &[u8],
    ctx: &BTreeMap<String, String>,
) -> Result<Vec<u8>, CryptoError> {
    let key = material.data_key(&header.nonce)?;
    let header_bytes = header.to_bytes();
    let aad = aad(&header_bytes, ctx);
    let mut out = Zeroizing::new(Vec::with_capacity(
        blob::HEADER_LEN + plaintext.len() + blob::BLOB_TAG_LEN,
    ));
    out.extend_from_slice(&header_bytes);
    aes_gcm::seal_append(&key, header.iv, &aad, plaintext, &mut out)?;
    Ok(std::mem::take(&mut *out))
}

/// Decrypts a parsed blob under `material` and the encryption context `ctx`.
///
/// Every failure (other material, other context, tampering, inconsistent `ParsedBlob`)
/// is [`CryptoError::InvalidCiphertext`]. The caller picks `material` by the header's
/// key id and key material id.
pub fn decrypt(
    material: &SymmetricKeyMaterial,
    blob: &ParsedBlob<'_>,
    ctx: &BTreeMap<String, String>,
) -> Result<SecretBytes, CryptoError> {
    let header_bytes = blob.header.to_bytes();
    if blob.header_bytes != header_bytes {
        return Err(CryptoError::InvalidCiphertext);
    }
    let key = material
        .data_key(&blob.header.nonce)
        .map_err(|_| CryptoError::InvalidCiphertext)?;
    aes_gcm::open(
        &key,
        blob.header.iv,
        &aad(&header_bytes, ctx),
        blob.ciphertext_and_tag,
    )
    .map(SecretBytes::from)
    .ok_or(CryptoError::InvalidCiphertext)
}

fn aad(header_bytes: &[u8], ctx: &BTreeMap<String, String>) -> Vec<u8> {
    let mut aad = header_bytes.to_vec();
    aad.extend_from_slice(&canonical_encryption_context(ctx));
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::aead::{Aad, Nonce, UnboundKey};
    use aws_lc_rs::hmac;
    use proptest::prelude::*;

    const KEY_ID: [u8; 16] = [0x11; 16];
    const MATERIAL_ID: [u8; 32] = [0x22; 32];

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn material() -> SymmetricKeyMaterial {
        SymmetricKeyMaterial::generate().unwrap()
    }

    fn try_decrypt(
        m: &SymmetricKeyMaterial,
        blob: &[u8],
        c: &BTreeMap<String, String>,
    ) -> Result<SecretBytes, CryptoError> {
        decrypt(m, &blob::parse(blob)?, c)
    }

    #[test]
    fn round_trips() {
        let m = material();
        for pt in [&b""[..], b"a", b"hello world", &[0xEE; 4096]] {
            for c in [
                ctx(&[]),
                ctx(&[("purpose", "test")]),
                ctx(&[("a", "1"), ("b", "2")]),
            ] {
                let b = encrypt(&m, KEY_ID, MATERIAL_ID, pt, &c).unwrap();
                assert_eq!(b.len(), blob::HEADER_LEN + pt.len() + blob::BLOB_TAG_LEN);
                let parsed = blob::parse(&b).unwrap();
                assert_eq!(parsed.header.key_id, KEY_ID);
                assert_eq!(parsed.header.key_material_id, MATERIAL_ID);
                assert_eq!(blob::peek_key_id(&b), Some(KEY_ID));
                assert_eq!(decrypt(&m, &parsed, &c).unwrap().as_bytes(), pt);
            }
        }
    }

    #[test]
    fn fresh_nonce_and_iv_per_call() {
        let m = material();
        let a = encrypt(&m, KEY_ID, MATERIAL_ID, b"same", &ctx(&[])).unwrap();
        let b = encrypt(&m, KEY_ID, MATERIAL_ID, b"same", &ctx(&[])).unwrap();
        let (pa, pb) = (blob::parse(&a).unwrap(), blob::parse(&b).unwrap());
        assert_ne!(pa.header.nonce, pb.header.nonce);
        assert_ne!(pa.header.iv, pb.header.iv);
        assert_ne!(pa.ciphertext_and_tag, pb.ciphertext_and_tag);
    }

    #[test]
    fn wrong_context_is_invalid_ciphertext() {
        let m = material();
        let good = ctx(&[("ab", "c")]);
        let b = encrypt(&m, KEY_ID, MATERIAL_ID, b"secret", &good).unwrap();
        for bad in [
            ctx(&[]),
            ctx(&[("a", "bc")]),
            ctx(&[("AB", "c")]),
            ctx(&[("ab", "C")]),
            ctx(&[("ab", "c"), ("x", "y")]),
        ] {
            assert!(matches!(
                try_decrypt(&m, &b, &bad),
                Err(CryptoError::InvalidCiphertext)
            ));
        }
        let b = encrypt(&m, KEY_ID, MATERIAL_ID, b"secret", &ctx(&[])).unwrap();
        assert!(matches!(
            try_decrypt(&m, &b, &ctx(&[("", "")])),
            Err(CryptoError::InvalidCiphertext)
        ));
    }

    #[test]
    fn flipped_bit_anywhere_is_invalid_ciphertext() {
        let m = material();
        let c = ctx(&[("k", "v")]);
        let b = encrypt(&m, KEY_ID, MATERIAL_ID, b"0123456789abcdef", &c).unwrap();
        for i in 0..b.len() {
            for bit in 0..8 {
                let mut t = b.clone();
                t[i] ^= 1 << bit;
                assert!(
                    matches!(try_decrypt(&m, &t, &c), Err(CryptoError::InvalidCiphertext)),
                    "byte {i} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        let m = material();
        let c = ctx(&[("k", "v")]);
        let b = encrypt(&m, KEY_ID, MATERIAL_ID, b"0123456789abcdef", &c).unwrap();
        for len in 0..b.len() {
            assert!(matches!(
                try_decrypt(&m, &b[..len], &c),
                Err(CryptoError::InvalidCiphertext)
            ));
        }
        let mut longer = b.clone();
        longer.push(0);
        assert!(try_decrypt(&m, &longer, &c).is_err());
    }

    #[test]
    fn blob_of_another_key_fails() {
        let (m1, m2) = (material(), material());
        let c = ctx(&[]);
        let b = encrypt(&m1, KEY_ID, MATERIAL_ID, b"secret", &c).unwrap();
        assert!(matches!(
            try_decrypt(&m2, &b, &c),
            Err(CryptoError::InvalidCiphertext)
        ));
    }

    #[test]
    fn relabelled_header_fails() {
        // The header is authenticated: moving a blob to another key id or material id fails
        // even with the right material.
        let m = material();
        let c = ctx(&[]);
        let b = encrypt(&m, KEY_ID, MATERIAL_ID, b"secret", &c).unwrap();
        let mut t = b.clone();
        t[1..17].copy_from_slice(&[0x33; 16]);
        assert!(try_decrypt(&m, &t, &c).is_err());
        let mut t = b.clone();
        t[17..49].copy_from_slice(&[0x44; 32]);
        assert!(try_decrypt(&m, &t, &c).is_err());
    }

    #[test]
    fn inconsistent_parsed_blob_is_rejected() {
        let m = material();
        let c = ctx(&[]);
        let b = encrypt(&m, KEY_ID, MATERIAL_ID, b"secret", &c).unwrap();
        let mut parsed = blob::parse(&b).unwrap();
        parsed.header.key_id = [0; 16];
        assert!(matches!(
            decrypt(&m, &parsed, &c),
            Err(CryptoError::InvalidCiphertext)
        ));
    }

    /// The data key is exactly RFC 5869 HKDF-SHA256 as documented, computed here by hand
    /// from HMAC-SHA256.
    #[test]
    fn data_key_is_documented_hkdf() {
        let m = SymmetricKeyMaterial::from_secret(SecretBytes::new((0..32).collect())).unwrap();
        let header = CiphertextHeader {
            key_id: KEY_ID,
            key_material_id: MATERIAL_ID,
            nonce: [0x5A; 32],
            iv: [0x0C; 12],
        };
        let c = ctx(&[("a", "b")]);
        let b = encrypt_with_header(&m, &header, b"plaintext", &c).unwrap();

        let prk = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &header.nonce),
            &m.bytes[..],
        );
        let mut t1_input = DATA_KEY_INFO.to_vec();
        t1_input.push(1);
        let okm = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, prk.as_ref()), &t1_input);
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, okm.as_ref()).unwrap());
        let mut aad = header.to_bytes().to_vec();
        aad.extend_from_slice(&canonical_encryption_context(&c));
        let mut buf = b[blob::HEADER_LEN..].to_vec();
        let pt = key
            .open_in_place(
                Nonce::assume_unique_for_key(header.iv),
                Aad::from(&aad),
                &mut buf,
            )
            .unwrap();
        assert_eq!(pt, b"plaintext");
    }

    #[test]
    fn from_secret_checks_length() {
        for n in [0, 16, 31, 33] {
            assert!(matches!(
                SymmetricKeyMaterial::from_secret(SecretBytes::new(vec![1; n])),
                Err(CryptoError::InvalidKeyMaterial(_))
            ));
        }
    }

    #[test]
    fn wrap_for_storage_binds_arn_and_material_id() {
        let root = RootKey::generate().unwrap();
        let m = material();
        let arn = "arn:aws:kms:eu-west-1:111122223333:key/1234";
        let w = m.wrap(&root, arn, &MATERIAL_ID).unwrap();
        let back = SymmetricKeyMaterial::unwrap(&root, arn, &MATERIAL_ID, &w).unwrap();
        let b = encrypt(&m, KEY_ID, MATERIAL_ID, b"x", &ctx(&[])).unwrap();
        assert_eq!(try_decrypt(&back, &b, &ctx(&[])).unwrap().as_bytes(), b"x");

        let other_arn = "arn:aws:kms:eu-west-1:111122223333:key/5678";
        for res in [
            SymmetricKeyMaterial::unwrap(&root, other_arn, &MATERIAL_ID, &w),
            SymmetricKeyMaterial::unwrap(&root, arn, &[0; 32], &w),
            SymmetricKeyMaterial::unwrap(&RootKey::generate().unwrap(), arn, &MATERIAL_ID, &w),
        ] {
            assert!(matches!(res, Err(CryptoError::UnwrapFailed)));
        }
        // A wrapped value of the wrong length is not accepted as material.
        let short = root
            .wrap(&material_wrapping_aad(arn, &MATERIAL_ID), &[1; 16])
            .unwrap();
        assert!(matches!(
            SymmetricKeyMaterial::unwrap(&root, arn, &MATERIAL_ID, &short),
            Err(CryptoError::UnwrapFailed)
        ));
    }

    #[test]
    fn debug_and_errors_never_show_secrets() {
        let m = SymmetricKeyMaterial::from_secret(SecretBytes::new(vec![0xA7; 32])).unwrap();
        let shown = format!("{m:?} {m:#?}");
        assert_eq!(format!("{m:?}"), "SymmetricKeyMaterial(<redacted>)");
        assert!(!shown.to_lowercase().contains("a7a7"));
        let b = encrypt(&m, KEY_ID, MATERIAL_ID, b"CANARY-PLAINTEXT", &ctx(&[])).unwrap();
        let err = try_decrypt(&m, &b, &ctx(&[("x", "y")])).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("CANARY"));
        let pt = try_decrypt(&m, &b, &ctx(&[])).unwrap();
        assert!(!format!("{pt:?}").contains("CANARY"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn blob_under_one_context_never_decrypts_under_another(
            c1 in proptest::collection::btree_map("[abc]{0,3}", "[abc]{0,3}", 0..4),
            c2 in proptest::collection::btree_map("[abc]{0,3}", "[abc]{0,3}", 0..4),
            pt in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let m = material();
            let b = encrypt(&m, KEY_ID, MATERIAL_ID, &pt, &c1).unwrap();
            let res = try_decrypt(&m, &b, &c2);
            if c1 == c2 {
                let got = res.unwrap();
                prop_assert_eq!(got.as_bytes(), &pt[..]);
            } else {
                prop_assert!(matches!(res, Err(CryptoError::InvalidCiphertext)));
            }
        }

        #[test]
        fn arbitrary_bytes_never_decrypt(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let m = material();
            prop_assert!(try_decrypt(&m, &bytes, &BTreeMap::new()).is_err());
        }
    }
}
