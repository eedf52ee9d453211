//! AWS KMS algorithm and spec names, spelled exactly as the KMS API spells them.
//!
//! Every enum here has `ALL` (every value, in the API model's order), `as_str()` (the AWS
//! spelling), `FromStr` (the AWS spelling only; `Err = ()`) and `Display` (= `as_str()`).
//! The crypto crate does not depend on the KMS core, so the core maps its own types to these.

/// Defines a fieldless enum whose variants carry AWS's spelling, with `ALL`, `as_str`,
/// `FromStr` and `Display`.
macro_rules! aws_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order of the AWS API model.
            pub const ALL: &'static [Self] = &[ $( Self::$variant, )+ ];

            /// The AWS spelling of this value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ();

            /// Parses AWS's exact spelling (case-sensitive, as the KMS API is).
            fn from_str(s: &str) -> Result<Self, ()> {
                match s {
                    $( $text => Ok(Self::$variant), )+
                    _ => Err(()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use aws_enum;

aws_enum! {
    /// `SigningAlgorithmSpec`: how Sign and Verify sign.
    pub enum SigningAlgorithm {
        /// RSASSA-PSS, SHA-256, MGF1 with SHA-256, salt length 32.
        RsassaPssSha256 = "RSASSA_PSS_SHA_256",
        /// RSASSA-PSS, SHA-384, MGF1 with SHA-384, salt length 48.
        RsassaPssSha384 = "RSASSA_PSS_SHA_384",
        /// RSASSA-PSS, SHA-512, MGF1 with SHA-512, salt length 64.
        RsassaPssSha512 = "RSASSA_PSS_SHA_512",
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        RsassaPkcs1V15Sha256 = "RSASSA_PKCS1_V1_5_SHA_256",
        /// RSASSA-PKCS1-v1_5 with SHA-384.
        RsassaPkcs1V15Sha384 = "RSASSA_PKCS1_V1_5_SHA_384",
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        RsassaPkcs1V15Sha512 = "RSASSA_PKCS1_V1_5_SHA_512",
        /// ECDSA with SHA-256 (ECC_NIST_P256 and ECC_SECG_P256K1); DER signature.
        EcdsaSha256 = "ECDSA_SHA_256",
        /// ECDSA with SHA-384 (ECC_NIST_P384); DER signature.
        EcdsaSha384 = "ECDSA_SHA_384",
        /// ECDSA with SHA-512 (ECC_NIST_P521); DER signature.
        EcdsaSha512 = "ECDSA_SHA_512",
        /// SM2DSA with SM3 and AWS's default distinguishing ID `1234567812345678`.
        Sm2Dsa = "SM2DSA",
        /// ML-DSA (FIPS 204, pure, empty context).
        MlDsaShake256 = "ML_DSA_SHAKE_256",
        /// PureEdDSA Ed25519 (RFC 8032).
        Ed25519Sha512 = "ED25519_SHA_512",
        /// HashEdDSA Ed25519ph (RFC 8032, empty context) over a 64-byte DIGEST, which is
        /// prehashed once more with SHA-512 as AWS documents.
        Ed25519PhSha512 = "ED25519_PH_SHA_512",
    }
}

impl SigningAlgorithm {
    /// Length in bytes of the digest a `DIGEST` message must have for this algorithm, or
    /// `None` if the algorithm does not accept `DIGEST` messages.
    pub const fn digest_len(self) -> Option<usize> {
        match self {
            Self::RsassaPssSha256
            | Self::RsassaPkcs1V15Sha256
            | Self::EcdsaSha256
            | Self::Sm2Dsa => Some(32),
            Self::RsassaPssSha384 | Self::RsassaPkcs1V15Sha384 | Self::EcdsaSha384 => Some(48),
            Self::RsassaPssSha512
            | Self::RsassaPkcs1V15Sha512
            | Self::EcdsaSha512
            | Self::Ed25519PhSha512 => Some(64),
            Self::MlDsaShake256 | Self::Ed25519Sha512 => None,
        }
    }

    /// The message types AWS accepts with this algorithm. ED25519_SHA_512 takes RAW only and
    /// ED25519_PH_SHA_512 DIGEST only ("these message types cannot be used interchangeably").
    pub const fn message_types(self) -> &'static [MessageType] {
        match self {
            Self::MlDsaShake256 => &[MessageType::Raw, MessageType::ExternalMu],
            Self::Ed25519Sha512 => &[MessageType::Raw],
            Self::Ed25519PhSha512 => &[MessageType::Digest],
            _ => &[MessageType::Raw, MessageType::Digest],
        }
    }
}

aws_enum! {
    /// `MessageType` of Sign and Verify: what the `Message` parameter holds.
    pub enum MessageType {
        /// The message itself; the algorithm hashes it.
        Raw = "RAW",
        /// A digest of the message made with the algorithm's hash.
        Digest = "DIGEST",
        /// ML-DSA only: the 64-byte message representative μ (FIPS 204 §6.2).
        ExternalMu = "EXTERNAL_MU",
    }
}

aws_enum! {
    /// `MacAlgorithmSpec`: the HMAC of GenerateMac and VerifyMac.
    pub enum MacAlgorithm {
        /// HMAC with SHA-224 (HMAC_224 keys).
        HmacSha224 = "HMAC_SHA_224",
        /// HMAC with SHA-256 (HMAC_256 keys).
        HmacSha256 = "HMAC_SHA_256",
        /// HMAC with SHA-384 (HMAC_384 keys).
        HmacSha384 = "HMAC_SHA_384",
        /// HMAC with SHA-512 (HMAC_512 keys).
        HmacSha512 = "HMAC_SHA_512",
    }
}

aws_enum! {
    /// `KeyAgreementAlgorithmSpec` of DeriveSharedSecret.
    pub enum KeyAgreementAlgorithm {
        /// Elliptic-curve Diffie-Hellman; the result is the raw shared x-coordinate.
        Ecdh = "ECDH",
    }
}

aws_enum! {
    /// The asymmetric members of `EncryptionAlgorithmSpec` (Encrypt/Decrypt with RSA and SM2
    /// keys). `SYMMETRIC_DEFAULT` is the symmetric module's business.
    pub enum AsymmetricEncryptionAlgorithm {
        /// RSAES-OAEP with SHA-1 and MGF1-SHA-1, empty label.
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        /// RSAES-OAEP with SHA-256 and MGF1-SHA-256, empty label.
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        /// SM2 public key encryption (GB/T 32918.4, SM3), ciphertext in GM/T 0009 DER form.
        Sm2Pke = "SM2PKE",
    }
}

aws_enum! {
    /// `EncapsulationAlgorithmSpec` of Encapsulate/Decapsulate (ML-KEM keys).
    pub enum EncapsulationAlgorithm {
        /// ML-KEM (FIPS 203).
        MlKem = "ML_KEM",
    }
}

aws_enum! {
    /// `DataKeyPairSpec` of GenerateDataKeyPair(WithoutPlaintext).
    pub enum DataKeyPairSpec {
        /// RSA, 2048-bit modulus.
        Rsa2048 = "RSA_2048",
        /// RSA, 3072-bit modulus.
        Rsa3072 = "RSA_3072",
        /// RSA, 4096-bit modulus.
        Rsa4096 = "RSA_4096",
        /// NIST P-256.
        EccNistP256 = "ECC_NIST_P256",
        /// NIST P-384.
        EccNistP384 = "ECC_NIST_P384",
        /// NIST P-521.
        EccNistP521 = "ECC_NIST_P521",
        /// secp256k1.
        EccSecgP256k1 = "ECC_SECG_P256K1",
        /// SM2 (China Regions in AWS).
        Sm2 = "SM2",
        /// Ed25519.
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
        /// ML-KEM-512.
        MlKem512 = "ML_KEM_512",
        /// ML-KEM-768.
        MlKem768 = "ML_KEM_768",
        /// ML-KEM-1024.
        MlKem1024 = "ML_KEM_1024",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T])
    where
        T: Copy + Eq + std::fmt::Debug + std::fmt::Display + std::str::FromStr<Err = ()>,
    {
        for &value in all {
            let text = value.to_string();
            assert_eq!(text.parse::<T>(), Ok(value), "{text}");
            assert_eq!(
                text.to_lowercase().parse::<T>(),
                Err(()),
                "{text} is case-sensitive"
            );
        }
        assert_eq!("".parse::<T>(), Err(()));
    }

    #[test]
    fn every_enum_parses_its_own_aws_spelling_only() {
        round_trips(SigningAlgorithm::ALL);
        round_trips(MessageType::ALL);
        round_trips(MacAlgorithm::ALL);
        round_trips(KeyAgreementAlgorithm::ALL);
        round_trips(AsymmetricEncryptionAlgorithm::ALL);
        round_trips(EncapsulationAlgorithm::ALL);
        round_trips(DataKeyPairSpec::ALL);
    }

    #[test]
    fn spellings_match_the_aws_model() {
        let signing: Vec<&str> = SigningAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            signing,
            [
                "RSASSA_PSS_SHA_256",
                "RSASSA_PSS_SHA_384",
                "RSASSA_PSS_SHA_512",
                "RSASSA_PKCS1_V1_5_SHA_256",
                "RSASSA_PKCS1_V1_5_SHA_384",
                "RSASSA_PKCS1_V1_5_SHA_512",
                "ECDSA_SHA_256",
                "ECDSA_SHA_384",
                "ECDSA_SHA_512",
                "SM2DSA",
                "ML_DSA_SHAKE_256",
                "ED25519_SHA_512",
                "ED25519_PH_SHA_512",
            ]
        );
        let pairs: Vec<&str> = DataKeyPairSpec::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            pairs,
            [
                "RSA_2048",
                "RSA_3072",
                "RSA_4096",
                "ECC_NIST_P256",
                "ECC_NIST_P384",
                "ECC_NIST_P521",
                "ECC_SECG_P256K1",
                "SM2",
                "ECC_NIST_EDWARDS25519",
                "ML_KEM_512",
                "ML_KEM_768",
                "ML_KEM_1024",
            ]
        );
        assert_eq!(MacAlgorithm::HmacSha224.as_str(), "HMAC_SHA_224");
        assert_eq!(MessageType::ExternalMu.as_str(), "EXTERNAL_MU");
        assert_eq!(AsymmetricEncryptionAlgorithm::Sm2Pke.as_str(), "SM2PKE");
        assert_eq!(EncapsulationAlgorithm::MlKem.as_str(), "ML_KEM");
        assert_eq!(KeyAgreementAlgorithm::Ecdh.as_str(), "ECDH");
    }

    #[test]
    fn digest_lengths_follow_the_algorithm_hash() {
        assert_eq!(SigningAlgorithm::RsassaPssSha384.digest_len(), Some(48));
        assert_eq!(SigningAlgorithm::EcdsaSha512.digest_len(), Some(64));
        assert_eq!(SigningAlgorithm::Sm2Dsa.digest_len(), Some(32));
        assert_eq!(SigningAlgorithm::Ed25519PhSha512.digest_len(), Some(64));
        assert_eq!(SigningAlgorithm::Ed25519Sha512.digest_len(), None);
        assert_eq!(SigningAlgorithm::MlDsaShake256.digest_len(), None);
        for alg in SigningAlgorithm::ALL {
            assert_eq!(
                alg.digest_len().is_some(),
                alg.message_types().contains(&MessageType::Digest),
                "{alg}"
            );
        }
    }
}
