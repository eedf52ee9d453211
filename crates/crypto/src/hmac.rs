//! HMAC KMS keys (`HMAC_224` … `HMAC_512`): key material, GenerateMac and VerifyMac.
//!
//! Key lengths follow AWS: HMAC_224 = 28, HMAC_256 = 32, HMAC_384 = 48, HMAC_512 = 64 bytes,
//! and each key spec works with exactly one MAC algorithm (HMAC_256 ↔ HMAC_SHA_256, …).
//! The key is wrapped under the root key with the same binding (AAD) as symmetric material.

use std::fmt;

use aws_lc_rs::hmac;
use zeroize::Zeroizing;

use crate::algorithms::{aws_enum, MacAlgorithm};
use crate::blob::KEY_MATERIAL_ID_LEN;
use crate::random;
use crate::root::{material_wrapping_aad, RootKey};
use crate::{CryptoError, SecretBytes};

aws_enum! {
    /// The HMAC members of `KeySpec`.
    pub enum HmacKeySpec {
        /// 28-byte key for HMAC-SHA-224.
        Hmac224 = "HMAC_224",
        /// 32-byte key for HMAC-SHA-256.
        Hmac256 = "HMAC_256",
        /// 48-byte key for HMAC-SHA-384.
        Hmac384 = "HMAC_384",
        /// 64-byte key for HMAC-SHA-512.
        Hmac512 = "HMAC_512",
    }
}

impl HmacKeySpec {
    /// Key length in bytes (AWS: the hash's output length).
    pub const fn key_len(self) -> usize {
        match self {
            Self::Hmac224 => 28,
            Self::Hmac256 => 32,
            Self::Hmac384 => 48,
            Self::Hmac512 => 64,
        }
    }

    /// The longest key material of this spec (AWS's limits for imported HMAC key material:
    /// the hash's block size, 64 bytes for SHA-224/256 and 128 for SHA-384/512). Generated
    /// keys are [`HmacKeySpec::key_len`] long; imported ones anywhere from that to this.
    pub const fn max_key_len(self) -> usize {
        match self {
            Self::Hmac224 | Self::Hmac256 => 64,
            Self::Hmac384 | Self::Hmac512 => 128,
        }
    }

    /// The one MAC algorithm keys of this spec support.
    pub const fn mac_algorithm(self) -> MacAlgorithm {
        match self {
            Self::Hmac224 => MacAlgorithm::HmacSha224,
            Self::Hmac256 => MacAlgorithm::HmacSha256,
            Self::Hmac384 => MacAlgorithm::HmacSha384,
            Self::Hmac512 => MacAlgorithm::HmacSha512,
        }
    }
}

impl MacAlgorithm {
    /// Length in bytes of the MAC (tag) this algorithm produces.
    pub const fn mac_len(self) -> usize {
        match self {
            Self::HmacSha224 => 28,
            Self::HmacSha256 => 32,
            Self::HmacSha384 => 48,
            Self::HmacSha512 => 64,
        }
    }

    fn aws_lc(self) -> hmac::Algorithm {
        match self {
            Self::HmacSha224 => hmac::HMAC_SHA224,
            Self::HmacSha256 => hmac::HMAC_SHA256,
            Self::HmacSha384 => hmac::HMAC_SHA384,
            Self::HmacSha512 => hmac::HMAC_SHA512,
        }
    }
}

/// One version of an HMAC KMS key's material. The raw bytes are kept (zeroizing) for
/// wrapping; the prepared aws-lc-rs key is kept so MACs do not re-derive the pads per call.
/// `Debug` is redacted.
pub struct HmacKey {
    spec: HmacKeySpec,
    bytes: Zeroizing<Vec<u8>>,
    key: hmac::Key,
}

impl HmacKey {
    /// Fresh random key material of the spec's length (CreateKey, rotation).
    pub fn generate(spec: HmacKeySpec) -> Result<Self, CryptoError> {
        let secret = random::random_bytes(spec.key_len())?;
        Self::from_secret(spec, secret)
    }

    /// Key material from secret bytes, from the spec's key length to its
    /// [`HmacKeySpec::max_key_len`] (imported material may be longer than generated).
    pub fn from_secret(spec: HmacKeySpec, secret: SecretBytes) -> Result<Self, CryptoError> {
        if secret.len() < spec.key_len() || secret.len() > spec.max_key_len() {
            return Err(CryptoError::InvalidKeyMaterial(
                "HMAC key material has the wrong length for its key spec",
            ));
        }
        let key = hmac::Key::new(spec.mac_algorithm().aws_lc(), secret.as_bytes());
        Ok(Self {
            spec,
            bytes: secret.into_zeroizing(),
            key,
        })
    }

    /// The key spec.
    pub fn spec(&self) -> HmacKeySpec {
        self.spec
    }

    /// Wraps the key under the root key for storage, bound to its key ARN and material id
    /// (see [`material_wrapping_aad`]).
    pub fn wrap(
        &self,
        root: &RootKey,
        key_arn: &str,
        key_material_id: &[u8; KEY_MATERIAL_ID_LEN],
    ) -> Result<Vec<u8>, CryptoError> {
        root.wrap(
            &material_wrapping_aad(key_arn, key_material_id),
            &self.bytes,
        )
    }

    /// Unwraps a key stored by [`HmacKey::wrap`]. A wrong root key, ARN, material id, spec
    /// or tampered value is [`CryptoError::UnwrapFailed`].
    pub fn unwrap(
        spec: HmacKeySpec,
        root: &RootKey,
        key_arn: &str,
        key_material_id: &[u8; KEY_MATERIAL_ID_LEN],
        wrapped: &[u8],
    ) -> Result<Self, CryptoError> {
        let secret = root.unwrap(&material_wrapping_aad(key_arn, key_material_id), wrapped)?;
        Self::from_secret(spec, secret).map_err(|_| CryptoError::UnwrapFailed)
    }

    /// GenerateMac: the HMAC of `message`. `alg` must be the spec's algorithm, else
    /// [`CryptoError::UnsupportedAlgorithm`].
    pub fn generate_mac(&self, alg: MacAlgorithm, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.check_algorithm(alg)?;
        Ok(hmac::sign(&self.key, message).as_ref().to_vec())
    }

    /// VerifyMac: whether `mac` is the HMAC of `message`, compared in constant time. A MAC of
    /// the wrong length is `Ok(false)`. `alg` must be the spec's algorithm, else
    /// [`CryptoError::UnsupportedAlgorithm`].
    pub fn verify_mac(
        &self,
        alg: MacAlgorithm,
        message: &[u8],
        mac: &[u8],
    ) -> Result<bool, CryptoError> {
        self.check_algorithm(alg)?;
        Ok(hmac::verify(&self.key, message, mac).is_ok())
    }

    fn check_algorithm(&self, alg: MacAlgorithm) -> Result<(), CryptoError> {
        if alg == self.spec.mac_algorithm() {
            Ok(())
        } else {
            Err(CryptoError::UnsupportedAlgorithm)
        }
    }
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HmacKey({}, <redacted>)", self.spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/hmac";
    const MATERIAL_ID: [u8; 32] = [7; 32];

    /// The primitive under HmacKey, for keys of any length (RFC 4231 uses 4–131 bytes).
    fn hmac_of(alg: MacAlgorithm, key: &[u8], message: &[u8]) -> String {
        hex::encode(hmac::sign(&hmac::Key::new(alg.aws_lc(), key), message))
    }

    /// RFC 4231 test cases 1, 2, 3 and 6: (key, data, [HMAC-SHA-224, -256, -384, -512]).
    fn rfc4231_cases() -> Vec<(Vec<u8>, Vec<u8>, [&'static str; 4])> {
        vec![
            (
                vec![0x0b; 20],
                b"Hi There".to_vec(),
                [
                    "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
                    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c\
                     faea9ea9076ede7f4af152e8b2fa9cb6",
                    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
                     daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
                ],
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                [
                    "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
                     8e2240ca5e69e2c78b3239ecfab21649",
                    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                     9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
                ],
            ),
            (
                vec![0xaa; 20],
                vec![0xdd; 50],
                [
                    "7fb3cb3588c6c1f6ffa9694d7d6ad2649365b0c1f65d69d1ec8333ea",
                    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
                    "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b\
                     2a5ab39dc13814b94e3ab6e101a34f27",
                    "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39\
                     bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
                ],
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                [
                    "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e",
                    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6\
                     0c2ef6ab4030fe8296248df163f44952",
                    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
                     6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
                ],
            ),
        ]
    }

    #[test]
    fn primitive_matches_rfc4231_vectors() {
        for (key, data, expected) in rfc4231_cases() {
            for (alg, want) in MacAlgorithm::ALL.iter().zip(expected) {
                assert_eq!(
                    hmac_of(*alg, &key, &data),
                    want,
                    "{alg} key len {}",
                    key.len()
                );
            }
        }
    }

    #[test]
    fn keys_of_spec_length_mac_like_the_primitive() {
        // RFC 4231 test case 2 data under a key of each spec's own length.
        for &spec in HmacKeySpec::ALL {
            let bytes: Vec<u8> = (0..spec.key_len() as u8).collect();
            let key = HmacKey::from_secret(spec, SecretBytes::copy_from_slice(&bytes)).unwrap();
            let mac = key.generate_mac(spec.mac_algorithm(), b"message").unwrap();
            assert_eq!(mac.len(), spec.mac_algorithm().mac_len());
            assert_eq!(
                hex::encode(&mac),
                hmac_of(spec.mac_algorithm(), &bytes, b"message")
            );
        }
    }

    #[test]
    fn generated_keys_have_aws_lengths() {
        for (&spec, len) in HmacKeySpec::ALL.iter().zip([28, 32, 48, 64]) {
            let key = HmacKey::generate(spec).unwrap();
            assert_eq!(key.bytes.len(), len);
            assert_eq!(key.spec(), spec);
        }
    }

    #[test]
    fn verify_accepts_own_mac_and_rejects_altered_ones() {
        for &spec in HmacKeySpec::ALL {
            let key = HmacKey::generate(spec).unwrap();
            let alg = spec.mac_algorithm();
            let mac = key.generate_mac(alg, b"hello").unwrap();
            assert!(key.verify_mac(alg, b"hello", &mac).unwrap());
            assert!(!key.verify_mac(alg, b"hellp", &mac).unwrap());
            let mut flipped = mac.clone();
            flipped[0] ^= 1;
            assert!(!key.verify_mac(alg, b"hello", &flipped).unwrap());
            assert!(!key
                .verify_mac(alg, b"hello", &mac[..mac.len() - 1])
                .unwrap());
            assert!(!key.verify_mac(alg, b"hello", &[]).unwrap());
            let other = HmacKey::generate(spec).unwrap();
            assert!(!other.verify_mac(alg, b"hello", &mac).unwrap());
        }
    }

    #[test]
    fn mismatched_algorithm_is_unsupported() {
        for &spec in HmacKeySpec::ALL {
            let key = HmacKey::generate(spec).unwrap();
            for &alg in MacAlgorithm::ALL {
                if alg == spec.mac_algorithm() {
                    continue;
                }
                assert!(matches!(
                    key.generate_mac(alg, b"m"),
                    Err(CryptoError::UnsupportedAlgorithm)
                ));
                assert!(matches!(
                    key.verify_mac(alg, b"m", &[0; 64]),
                    Err(CryptoError::UnsupportedAlgorithm)
                ));
            }
        }
    }

    #[test]
    fn wrong_length_material_is_rejected() {
        let err = HmacKey::from_secret(HmacKeySpec::Hmac256, SecretBytes::from(vec![1; 31]));
        assert!(matches!(err, Err(CryptoError::InvalidKeyMaterial(_))));
    }

    #[test]
    fn wrap_unwrap_round_trips_and_is_bound_to_arn_material_id_and_spec() {
        let root = RootKey::generate().unwrap();
        for &spec in HmacKeySpec::ALL {
            let key = HmacKey::generate(spec).unwrap();
            let wrapped = key.wrap(&root, ARN, &MATERIAL_ID).unwrap();
            let back = HmacKey::unwrap(spec, &root, ARN, &MATERIAL_ID, &wrapped).unwrap();
            let mac = key.generate_mac(spec.mac_algorithm(), b"x").unwrap();
            assert!(back.verify_mac(spec.mac_algorithm(), b"x", &mac).unwrap());

            let other_arn = HmacKey::unwrap(spec, &root, "arn:other", &MATERIAL_ID, &wrapped);
            assert!(matches!(other_arn, Err(CryptoError::UnwrapFailed)));
            let other_id = HmacKey::unwrap(spec, &root, ARN, &[8; 32], &wrapped);
            assert!(matches!(other_id, Err(CryptoError::UnwrapFailed)));
            let other_root = RootKey::generate().unwrap();
            let wrong_root = HmacKey::unwrap(spec, &other_root, ARN, &MATERIAL_ID, &wrapped);
            assert!(matches!(wrong_root, Err(CryptoError::UnwrapFailed)));
        }
        let key = HmacKey::generate(HmacKeySpec::Hmac256).unwrap();
        let wrapped = key.wrap(&root, ARN, &MATERIAL_ID).unwrap();
        let other_spec = HmacKey::unwrap(HmacKeySpec::Hmac512, &root, ARN, &MATERIAL_ID, &wrapped);
        assert!(matches!(other_spec, Err(CryptoError::UnwrapFailed)));
    }

    #[test]
    fn debug_is_redacted() {
        let key =
            HmacKey::from_secret(HmacKeySpec::Hmac224, SecretBytes::from(vec![0xAB; 28])).unwrap();
        assert_eq!(format!("{key:?}"), "HmacKey(HMAC_224, <redacted>)");
        assert_eq!(format!("{key:#?}"), "HmacKey(HMAC_224, <redacted>)");
    }
}
