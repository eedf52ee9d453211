//! What each key spec is for: the key usages CreateKey accepts with it, and the algorithms
//! DescribeKey and GetPublicKey list for each (key spec, key usage) pair. One table, used by
//! CreateKey's validation, by the algorithm checks of every cryptographic operation, and by
//! the responses that list algorithms.
//!
//! The pairs are AWS's (CreateKey API reference, `KeyUsage`): symmetric keys encrypt; HMAC keys
//! make MACs; RSA keys encrypt or sign; NIST P-curves sign or agree on keys; secp256k1,
//! Ed25519 and ML-DSA keys only sign; ML-KEM keys only encapsulate; SM2 keys encrypt, sign or
//! agree on keys.

use trent_crypto::asymmetric::KeyPairSpec;
use trent_crypto::hmac::HmacKeySpec;

use crate::model::{
    EncapsulationAlgorithm, EncryptionAlgorithm, KeyAgreementAlgorithm, KeySpec, KeyUsage,
    MacAlgorithm, SigningAlgorithm,
};

/// The algorithms a KMS key supports, as DescribeKey and GetPublicKey list them. A list is
/// empty when AWS omits it for the key (e.g. `SigningAlgorithms` of an encryption key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Algorithms {
    /// `EncryptionAlgorithms` (ENCRYPT_DECRYPT keys).
    pub encryption: &'static [EncryptionAlgorithm],
    /// `SigningAlgorithms` (SIGN_VERIFY keys).
    pub signing: &'static [SigningAlgorithm],
    /// `KeyAgreementAlgorithms` (KEY_AGREEMENT keys).
    pub key_agreement: &'static [KeyAgreementAlgorithm],
    /// `EncapsulationAlgorithms` (ENCAPSULATE_DECAPSULATE keys).
    pub encapsulation: &'static [EncapsulationAlgorithm],
    /// `MacAlgorithms` (GENERATE_VERIFY_MAC keys).
    pub mac: &'static [MacAlgorithm],
}

const NONE: Algorithms = Algorithms {
    encryption: &[],
    signing: &[],
    key_agreement: &[],
    encapsulation: &[],
    mac: &[],
};

impl KeySpec {
    /// The key usages CreateKey accepts with this key spec.
    pub fn key_usages(self) -> &'static [KeyUsage] {
        use KeySpec::*;
        use KeyUsage as U;
        match self {
            SymmetricDefault => &[U::EncryptDecrypt],
            Hmac224 | Hmac256 | Hmac384 | Hmac512 => &[U::GenerateVerifyMac],
            Rsa2048 | Rsa3072 | Rsa4096 => &[U::EncryptDecrypt, U::SignVerify],
            EccNistP256 | EccNistP384 | EccNistP521 => &[U::SignVerify, U::KeyAgreement],
            EccSecgP256k1 | EccNistEdwards25519 | MlDsa44 | MlDsa65 | MlDsa87 => &[U::SignVerify],
            MlKem512 | MlKem768 | MlKem1024 => &[U::EncapsulateDecapsulate],
            Sm2 => &[U::EncryptDecrypt, U::SignVerify, U::KeyAgreement],
        }
    }

    /// Whether keys of this spec hold a public/private key pair.
    pub fn is_asymmetric(self) -> bool {
        self.key_pair_spec().is_some()
    }

    /// The HMAC key spec, for HMAC keys.
    pub fn hmac_key_spec(self) -> Option<HmacKeySpec> {
        match self {
            KeySpec::Hmac224 => Some(HmacKeySpec::Hmac224),
            KeySpec::Hmac256 => Some(HmacKeySpec::Hmac256),
            KeySpec::Hmac384 => Some(HmacKeySpec::Hmac384),
            KeySpec::Hmac512 => Some(HmacKeySpec::Hmac512),
            _ => None,
        }
    }

    /// The key pair the cryptography makes, for asymmetric keys.
    pub fn key_pair_spec(self) -> Option<KeyPairSpec> {
        use KeySpec::*;
        Some(match self {
            Rsa2048 => KeyPairSpec::Rsa2048,
            Rsa3072 => KeyPairSpec::Rsa3072,
            Rsa4096 => KeyPairSpec::Rsa4096,
            EccNistP256 => KeyPairSpec::EccNistP256,
            EccNistP384 => KeyPairSpec::EccNistP384,
            EccNistP521 => KeyPairSpec::EccNistP521,
            EccSecgP256k1 => KeyPairSpec::EccSecgP256k1,
            EccNistEdwards25519 => KeyPairSpec::EccNistEdwards25519,
            Sm2 => KeyPairSpec::Sm2,
            MlDsa44 => KeyPairSpec::MlDsa44,
            MlDsa65 => KeyPairSpec::MlDsa65,
            MlDsa87 => KeyPairSpec::MlDsa87,
            MlKem512 => KeyPairSpec::MlKem512,
            MlKem768 => KeyPairSpec::MlKem768,
            MlKem1024 => KeyPairSpec::MlKem1024,
            SymmetricDefault | Hmac224 | Hmac256 | Hmac384 | Hmac512 => return None,
        })
    }

    /// Whether this is an ML-DSA key spec (the only ones that take `EXTERNAL_MU` messages).
    pub fn is_ml_dsa(self) -> bool {
        matches!(self, KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87)
    }

    /// The algorithms a key of this spec and `usage` supports; all empty for a pair
    /// CreateKey refuses.
    pub fn algorithms(self, usage: KeyUsage) -> Algorithms {
        use EncryptionAlgorithm as E;
        use KeySpec::*;
        use KeyUsage as U;
        use SigningAlgorithm as S;
        const ECDH: &[KeyAgreementAlgorithm] = &[KeyAgreementAlgorithm::Ecdh];
        match (self, usage) {
            (SymmetricDefault, U::EncryptDecrypt) => Algorithms {
                encryption: &[E::SymmetricDefault],
                ..NONE
            },
            (Rsa2048 | Rsa3072 | Rsa4096, U::EncryptDecrypt) => Algorithms {
                encryption: &[E::RsaesOaepSha1, E::RsaesOaepSha256],
                ..NONE
            },
            (Rsa2048 | Rsa3072 | Rsa4096, U::SignVerify) => Algorithms {
                // The order DescribeKey shows (Developer Guide, "Viewing the cryptographic
                // configuration of KMS keys").
                signing: &[
                    S::RsassaPkcs1V15Sha256,
                    S::RsassaPkcs1V15Sha384,
                    S::RsassaPkcs1V15Sha512,
                    S::RsassaPssSha256,
                    S::RsassaPssSha384,
                    S::RsassaPssSha512,
                ],
                ..NONE
            },
            (EccNistP256 | EccSecgP256k1, U::SignVerify) => Algorithms {
                signing: &[S::EcdsaSha256],
                ..NONE
            },
            (EccNistP384, U::SignVerify) => Algorithms {
                signing: &[S::EcdsaSha384],
                ..NONE
            },
            (EccNistP521, U::SignVerify) => Algorithms {
                signing: &[S::EcdsaSha512],
                ..NONE
            },
            (EccNistP256 | EccNistP384 | EccNistP521 | Sm2, U::KeyAgreement) => Algorithms {
                key_agreement: ECDH,
                ..NONE
            },
            (EccNistEdwards25519, U::SignVerify) => Algorithms {
                signing: &[S::Ed25519Sha512, S::Ed25519PhSha512],
                ..NONE
            },
            (MlDsa44 | MlDsa65 | MlDsa87, U::SignVerify) => Algorithms {
                signing: &[S::MlDsaShake256],
                ..NONE
            },
            (MlKem512 | MlKem768 | MlKem1024, U::EncapsulateDecapsulate) => Algorithms {
                encapsulation: &[EncapsulationAlgorithm::MlKem],
                ..NONE
            },
            (Sm2, U::SignVerify) => Algorithms {
                signing: &[S::Sm2Dsa],
                ..NONE
            },
            (Sm2, U::EncryptDecrypt) => Algorithms {
                encryption: &[E::Sm2Pke],
                ..NONE
            },
            (Hmac224, U::GenerateVerifyMac) => Algorithms {
                mac: &[MacAlgorithm::HmacSha224],
                ..NONE
            },
            (Hmac256, U::GenerateVerifyMac) => Algorithms {
                mac: &[MacAlgorithm::HmacSha256],
                ..NONE
            },
            (Hmac384, U::GenerateVerifyMac) => Algorithms {
                mac: &[MacAlgorithm::HmacSha384],
                ..NONE
            },
            (Hmac512, U::GenerateVerifyMac) => Algorithms {
                mac: &[MacAlgorithm::HmacSha512],
                ..NONE
            },
            _ => NONE,
        }
    }
}

impl EncryptionAlgorithm {
    /// The asymmetric algorithm the cryptography implements, or `None` for SYMMETRIC_DEFAULT.
    pub fn asymmetric(self) -> Option<trent_crypto::algorithms::AsymmetricEncryptionAlgorithm> {
        use trent_crypto::algorithms::AsymmetricEncryptionAlgorithm as A;
        match self {
            EncryptionAlgorithm::SymmetricDefault => None,
            EncryptionAlgorithm::RsaesOaepSha1 => Some(A::RsaesOaepSha1),
            EncryptionAlgorithm::RsaesOaepSha256 => Some(A::RsaesOaepSha256),
            EncryptionAlgorithm::Sm2Pke => Some(A::Sm2Pke),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_key_pairs_follow_the_aws_table() {
        use KeySpec::*;
        use KeyUsage::*;
        let expected: &[(KeySpec, &[KeyUsage])] = &[
            (SymmetricDefault, &[EncryptDecrypt]),
            (Rsa2048, &[EncryptDecrypt, SignVerify]),
            (Rsa3072, &[EncryptDecrypt, SignVerify]),
            (Rsa4096, &[EncryptDecrypt, SignVerify]),
            (EccNistP256, &[SignVerify, KeyAgreement]),
            (EccNistP384, &[SignVerify, KeyAgreement]),
            (EccNistP521, &[SignVerify, KeyAgreement]),
            (EccSecgP256k1, &[SignVerify]),
            (EccNistEdwards25519, &[SignVerify]),
            (Hmac224, &[GenerateVerifyMac]),
            (Hmac256, &[GenerateVerifyMac]),
            (Hmac384, &[GenerateVerifyMac]),
            (Hmac512, &[GenerateVerifyMac]),
            (MlDsa44, &[SignVerify]),
            (MlDsa65, &[SignVerify]),
            (MlDsa87, &[SignVerify]),
            (MlKem512, &[EncapsulateDecapsulate]),
            (MlKem768, &[EncapsulateDecapsulate]),
            (MlKem1024, &[EncapsulateDecapsulate]),
            (Sm2, &[EncryptDecrypt, SignVerify, KeyAgreement]),
        ];
        assert_eq!(expected.len(), KeySpec::ALL.len());
        for (spec, usages) in expected {
            let mut got = spec.key_usages().to_vec();
            let mut want = usages.to_vec();
            got.sort_by_key(|u| u.as_str());
            want.sort_by_key(|u| u.as_str());
            assert_eq!(got, want, "{spec}");
        }
    }

    #[test]
    fn every_valid_pair_lists_algorithms_of_its_usage_only() {
        for spec in KeySpec::ALL {
            for usage in KeyUsage::ALL {
                let a = spec.algorithms(*usage);
                let lists = [
                    (KeyUsage::EncryptDecrypt, !a.encryption.is_empty()),
                    (KeyUsage::SignVerify, !a.signing.is_empty()),
                    (KeyUsage::KeyAgreement, !a.key_agreement.is_empty()),
                    (
                        KeyUsage::EncapsulateDecapsulate,
                        !a.encapsulation.is_empty(),
                    ),
                    (KeyUsage::GenerateVerifyMac, !a.mac.is_empty()),
                ];
                let valid = spec.key_usages().contains(usage);
                for (list_usage, present) in lists {
                    assert_eq!(present, valid && list_usage == *usage, "{spec} {usage}");
                }
            }
        }
    }

    #[test]
    fn curve_keys_sign_with_the_hash_of_their_curve() {
        use SigningAlgorithm as S;
        let signing = |s: KeySpec| s.algorithms(KeyUsage::SignVerify).signing;
        assert_eq!(signing(KeySpec::EccNistP256), [S::EcdsaSha256]);
        assert_eq!(signing(KeySpec::EccSecgP256k1), [S::EcdsaSha256]);
        assert_eq!(signing(KeySpec::EccNistP384), [S::EcdsaSha384]);
        assert_eq!(signing(KeySpec::EccNistP521), [S::EcdsaSha512]);
        assert_eq!(
            signing(KeySpec::EccNistEdwards25519),
            [S::Ed25519Sha512, S::Ed25519PhSha512]
        );
        assert_eq!(signing(KeySpec::MlDsa65), [S::MlDsaShake256]);
        assert_eq!(signing(KeySpec::Rsa3072).len(), 6);
    }

    #[test]
    fn only_pairs_are_asymmetric_and_only_hmac_specs_have_hmac_keys() {
        for spec in KeySpec::ALL {
            let hmac = spec.as_str().starts_with("HMAC_");
            assert_eq!(spec.hmac_key_spec().is_some(), hmac, "{spec}");
            assert_eq!(
                spec.is_asymmetric(),
                !hmac && *spec != KeySpec::SymmetricDefault,
                "{spec}"
            );
            if let Some(h) = spec.hmac_key_spec() {
                assert_eq!(h.as_str(), spec.as_str());
            }
        }
    }
}
