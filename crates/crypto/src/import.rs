//! Imported key material (BYOK, ARCHITECTURE.md §3.1): the RSA wrapping key pairs that
//! GetParametersForImport hands out, and the unwrapping of the material ImportKeyMaterial
//! receives, in every wrapping algorithm AWS accepts:
//!
//! * `RSAES_OAEP_SHA_1`, `RSAES_OAEP_SHA_256`: the material is one RSA-OAEP ciphertext
//!   (MGF1 with the same hash, no label).
//! * `RSA_AES_KEY_WRAP_SHA_1`, `RSA_AES_KEY_WRAP_SHA_256`: the RSA-OAEP ciphertext of an
//!   ephemeral AES key (as long as the wrapping key's modulus), followed by the material
//!   wrapped under that AES key with AES key wrap with padding (RFC 5649), exactly the
//!   concatenation the Developer Guide's `openssl` example builds.
//!
//! Every intermediate secret (the wrapping private key, the AES key, the material) lives in
//! zeroizing buffers; errors name no secret.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::key_wrap::{AesKek, KeyWrapPadded, AES_128, AES_256};
use aws_lc_rs::rsa::{
    KeySize, OaepAlgorithm, OaepPrivateDecryptingKey, PrivateDecryptingKey, OAEP_SHA1_MGF1SHA1,
    OAEP_SHA256_MGF1SHA256,
};
use zeroize::Zeroizing;

use aws_lc_rs::hmac;

use crate::algorithms::aws_enum;
use crate::root::RootKey;
use crate::{CryptoError, SecretBytes};

aws_enum! {
    /// `WrappingKeySpec`: the kind of key pair GetParametersForImport makes.
    pub enum WrappingKeySpec {
        /// RSA, 2048-bit modulus.
        Rsa2048 = "RSA_2048",
        /// RSA, 3072-bit modulus.
        Rsa3072 = "RSA_3072",
        /// RSA, 4096-bit modulus.
        Rsa4096 = "RSA_4096",
        /// SM2 (AWS offers it in the China Regions only).
        Sm2 = "SM2",
    }
}

aws_enum! {
    /// `AlgorithmSpec`: how the key material is wrapped for import.
    pub enum WrappingAlgorithm {
        /// RSAES-PKCS1-v1_5 (AWS stopped accepting it on October 10, 2023).
        RsaesPkcs1V15 = "RSAES_PKCS1_V1_5",
        /// RSAES-OAEP with SHA-1 and MGF1-SHA-1.
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        /// RSAES-OAEP with SHA-256 and MGF1-SHA-256.
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        /// An AES key under RSAES-OAEP-SHA-1, then the material under AES-KWP.
        RsaAesKeyWrapSha1 = "RSA_AES_KEY_WRAP_SHA_1",
        /// An AES key under RSAES-OAEP-SHA-256, then the material under AES-KWP.
        RsaAesKeyWrapSha256 = "RSA_AES_KEY_WRAP_SHA_256",
        /// SM2 public key encryption (AWS offers it in the China Regions only).
        Sm2Pke = "SM2PKE",
    }
}

impl WrappingAlgorithm {
    /// Whether this is one of the two-layer `RSA_AES_KEY_WRAP_*` algorithms.
    pub fn is_rsa_aes(self) -> bool {
        matches!(self, Self::RsaAesKeyWrapSha1 | Self::RsaAesKeyWrapSha256)
    }

    fn oaep(self) -> Result<&'static OaepAlgorithm, CryptoError> {
        match self {
            Self::RsaesOaepSha1 | Self::RsaAesKeyWrapSha1 => Ok(&OAEP_SHA1_MGF1SHA1),
            Self::RsaesOaepSha256 | Self::RsaAesKeyWrapSha256 => Ok(&OAEP_SHA256_MGF1SHA256),
            Self::RsaesPkcs1V15 | Self::Sm2Pke => Err(CryptoError::UnsupportedAlgorithm),
        }
    }
}

/// A fresh wrapping key pair: the private key as PKCS#8 (secret; the caller stores it only
/// wrapped under the root key) and the public key as DER SubjectPublicKeyInfo, the form
/// GetParametersForImport returns.
pub struct WrappingKeyPair {
    /// The private key, PKCS#8 v1 DER.
    pub private_pkcs8: SecretBytes,
    /// The public key, DER SubjectPublicKeyInfo.
    pub public_der: Vec<u8>,
}

impl std::fmt::Debug for WrappingKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WrappingKeyPair(<redacted>)")
    }
}

impl WrappingKeyPair {
    /// A fresh RSA key pair of `spec` (RSA 4096 takes about a second: call it off the async
    /// worker threads). SM2 is [`CryptoError::UnsupportedAlgorithm`].
    pub fn generate(spec: WrappingKeySpec) -> Result<Self, CryptoError> {
        let size = match spec {
            WrappingKeySpec::Rsa2048 => KeySize::Rsa2048,
            WrappingKeySpec::Rsa3072 => KeySize::Rsa3072,
            WrappingKeySpec::Rsa4096 => KeySize::Rsa4096,
            WrappingKeySpec::Sm2 => return Err(CryptoError::UnsupportedAlgorithm),
        };
        let private = PrivateDecryptingKey::generate(size)
            .map_err(|_| CryptoError::Internal("RSA wrapping key generation"))?;
        let pkcs8 = AsDer::<Pkcs8V1Der>::as_der(&private)
            .map_err(|_| CryptoError::Internal("RSA wrapping key PKCS#8 encoding"))?;
        let public_der = AsDer::<PublicKeyX509Der>::as_der(&private.public_key())
            .map_err(|_| CryptoError::Internal("RSA wrapping key SubjectPublicKeyInfo"))?
            .as_ref()
            .to_vec();
        Ok(Self {
            private_pkcs8: SecretBytes::copy_from_slice(pkcs8.as_ref()),
            public_der,
        })
    }
}

/// Unwraps `encrypted` (ImportKeyMaterial's `EncryptedKeyMaterial`) with the wrapping private
/// key `private_pkcs8` under `algorithm`. Anything that does not unwrap (another wrapping key,
/// another algorithm, a truncated or tampered blob) is [`CryptoError::DecryptFailed`].
pub fn unwrap_key_material(
    private_pkcs8: &[u8],
    algorithm: WrappingAlgorithm,
    encrypted: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let oaep = algorithm.oaep()?;
    let private = PrivateDecryptingKey::from_pkcs8(private_pkcs8)
        .map_err(|_| CryptoError::Internal("stored wrapping key does not parse"))?;
    let modulus_len = private.key_size_bytes();
    let key = OaepPrivateDecryptingKey::new(private)
        .map_err(|_| CryptoError::Internal("RSA-OAEP wrapping key"))?;
    let rsa_part = if algorithm.is_rsa_aes() {
        encrypted
            .get(..modulus_len)
            .ok_or(CryptoError::DecryptFailed)?
    } else {
        encrypted
    };
    let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
    let len = key
        .decrypt(oaep, rsa_part, &mut out, None)
        .map_err(|_| CryptoError::DecryptFailed)?
        .len();
    out.truncate(len);
    if !algorithm.is_rsa_aes() {
        return Ok(SecretBytes::from(out));
    }
    let wrapped = &encrypted[modulus_len..];
    let kek = match out.len() {
        16 => AesKek::new(&AES_128, &out),
        32 => AesKek::new(&AES_256, &out),
        _ => return Err(CryptoError::DecryptFailed),
    }
    .map_err(|_| CryptoError::DecryptFailed)?;
    let mut material = Zeroizing::new(vec![0u8; wrapped.len()]);
    let len = kek
        .unwrap_with_padding(wrapped, &mut material)
        .map_err(|_| CryptoError::DecryptFailed)?
        .len();
    material.truncate(len);
    Ok(SecretBytes::from(material))
}

/// The key material id of imported material: HMAC-SHA256, under
/// [`RootKey::derive_imported_material_id_key`], of the KMS key id and the material's canonical
/// form. Deterministic (a reimport of the same material into the same key gets the same id,
/// as AWS's ids are) and, being keyed, no hash of the material anyone could test guesses
/// against.
pub fn material_id(
    root: &RootKey,
    key_id: &[u8; 16],
    canonical: &[u8],
) -> Result<[u8; 32], CryptoError> {
    let id_key = root.derive_imported_material_id_key()?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, id_key.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(key_id);
    ctx.update(canonical);
    let tag = ctx.sign();
    let mut id = [0u8; 32];
    id.copy_from_slice(tag.as_ref());
    Ok(id)
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey};

    use super::*;

    /// What a client does with the wrapping public key (the Developer Guide's steps).
    fn client_wrap(public_der: &[u8], algorithm: WrappingAlgorithm, material: &[u8]) -> Vec<u8> {
        let public =
            OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(public_der).unwrap())
                .unwrap();
        let oaep = algorithm.oaep().unwrap();
        let mut rsa_out = vec![0u8; public.ciphertext_size()];
        if !algorithm.is_rsa_aes() {
            return public
                .encrypt(oaep, material, &mut rsa_out, None)
                .unwrap()
                .to_vec();
        }
        let aes = [0x42u8; 32];
        let mut out = public
            .encrypt(oaep, &aes, &mut rsa_out, None)
            .unwrap()
            .to_vec();
        let mut wrapped = vec![0u8; material.len() + 16];
        let kek = AesKek::new(&AES_256, &aes).unwrap();
        out.extend_from_slice(kek.wrap_with_padding(material, &mut wrapped).unwrap());
        out
    }

    #[test]
    fn every_rsa_wrapping_algorithm_round_trips_what_a_client_wraps() {
        let pair = WrappingKeyPair::generate(WrappingKeySpec::Rsa2048).unwrap();
        // 121 bytes: a P-256 PKCS#8 key, larger than OAEP-SHA-256 takes under RSA 2048 only
        // for bigger keys, so the AES layer is exercised with an odd length too.
        for material in [vec![7u8; 32], vec![9u8; 121]] {
            for alg in [
                WrappingAlgorithm::RsaesOaepSha1,
                WrappingAlgorithm::RsaesOaepSha256,
                WrappingAlgorithm::RsaAesKeyWrapSha1,
                WrappingAlgorithm::RsaAesKeyWrapSha256,
            ] {
                let wrapped = client_wrap(&pair.public_der, alg, &material);
                let back =
                    unwrap_key_material(pair.private_pkcs8.as_bytes(), alg, &wrapped).unwrap();
                assert_eq!(back.as_bytes(), &material[..], "{alg}");
            }
        }
    }

    #[test]
    fn material_under_another_algorithm_or_key_or_tampered_does_not_unwrap() {
        let pair = WrappingKeyPair::generate(WrappingKeySpec::Rsa2048).unwrap();
        let other = WrappingKeyPair::generate(WrappingKeySpec::Rsa2048).unwrap();
        let wrapped = client_wrap(
            &pair.public_der,
            WrappingAlgorithm::RsaesOaepSha256,
            &[1; 32],
        );
        let err = |key: &WrappingKeyPair, alg, blob: &[u8]| {
            unwrap_key_material(key.private_pkcs8.as_bytes(), alg, blob).unwrap_err()
        };
        assert!(matches!(
            err(&pair, WrappingAlgorithm::RsaesOaepSha1, &wrapped),
            CryptoError::DecryptFailed
        ));
        assert!(matches!(
            err(&other, WrappingAlgorithm::RsaesOaepSha256, &wrapped),
            CryptoError::DecryptFailed
        ));
        let aes = client_wrap(
            &pair.public_der,
            WrappingAlgorithm::RsaAesKeyWrapSha256,
            &[1; 32],
        );
        let mut tampered = aes.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(
            err(&pair, WrappingAlgorithm::RsaAesKeyWrapSha256, &tampered),
            CryptoError::DecryptFailed
        ));
        assert!(matches!(
            err(&pair, WrappingAlgorithm::RsaAesKeyWrapSha256, &aes[..100]),
            CryptoError::DecryptFailed
        ));
        assert!(matches!(
            err(&pair, WrappingAlgorithm::Sm2Pke, &aes),
            CryptoError::UnsupportedAlgorithm
        ));
    }

    #[test]
    fn material_ids_depend_on_key_and_material_and_root_key() {
        let root = RootKey::generate().unwrap();
        let a = material_id(&root, &[1; 16], b"material").unwrap();
        assert_eq!(a, material_id(&root, &[1; 16], b"material").unwrap());
        assert_ne!(a, material_id(&root, &[2; 16], b"material").unwrap());
        assert_ne!(a, material_id(&root, &[1; 16], b"materiaL").unwrap());
        let other = RootKey::generate().unwrap();
        assert_ne!(a, material_id(&other, &[1; 16], b"material").unwrap());
    }

    #[test]
    fn wrapping_key_pairs_have_the_spec_size_and_redact_debug() {
        for (spec, bits) in [
            (WrappingKeySpec::Rsa2048, 2048),
            (WrappingKeySpec::Rsa3072, 3072),
        ] {
            let pair = WrappingKeyPair::generate(spec).unwrap();
            let public = PublicEncryptingKey::from_der(&pair.public_der).unwrap();
            assert_eq!(public.key_size_bits(), bits);
            assert_eq!(format!("{pair:?}"), "WrappingKeyPair(<redacted>)");
        }
        assert!(WrappingKeyPair::generate(WrappingKeySpec::Sm2).is_err());
    }
}
