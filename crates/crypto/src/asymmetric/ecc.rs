//! ECC_NIST_P256/P384/P521 and ECC_SECG_P256K1: ECDSA (DER signatures) and, on the NIST
//! curves, ECDH key agreement.
//!
//! AWS pairs each curve with one hash: P-256 ↔ ECDSA_SHA_256, P-384 ↔ ECDSA_SHA_384,
//! P-521 ↔ ECDSA_SHA_512, secp256k1 ↔ ECDSA_SHA_256.

use aws_lc_rs::agreement::{self, ParsedPublicKeyFormat, UnparsedPublicKey};
use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, KeyPair as _,
    ParsedPublicKey,
};

use super::import_digest;
use crate::algorithms::{MessageType, SigningAlgorithm};
use crate::{CryptoError, SecretBytes};

/// The four ECDSA curves of AWS KMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Curve {
    P256,
    P384,
    P521,
    Secp256k1,
}

impl Curve {
    fn signing(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Self::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Self::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            Self::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
            Self::Secp256k1 => &signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
        }
    }

    fn verification(self) -> &'static EcdsaVerificationAlgorithm {
        match self {
            Self::P256 => &signature::ECDSA_P256_SHA256_ASN1,
            Self::P384 => &signature::ECDSA_P384_SHA384_ASN1,
            Self::P521 => &signature::ECDSA_P521_SHA512_ASN1,
            Self::Secp256k1 => &signature::ECDSA_P256K1_SHA256_ASN1,
        }
    }

    /// The one signing algorithm AWS allows on this curve.
    pub(super) fn signing_algorithm(self) -> SigningAlgorithm {
        match self {
            Self::P256 | Self::Secp256k1 => SigningAlgorithm::EcdsaSha256,
            Self::P384 => SigningAlgorithm::EcdsaSha384,
            Self::P521 => SigningAlgorithm::EcdsaSha512,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Self::P256 | Self::Secp256k1 => &digest::SHA256,
            Self::P384 => &digest::SHA384,
            Self::P521 => &digest::SHA512,
        }
    }

    /// ECDH on the NIST curves; AWS offers no key agreement on secp256k1.
    fn agreement(self) -> Option<&'static agreement::Algorithm> {
        match self {
            Self::P256 => Some(&agreement::ECDH_P256),
            Self::P384 => Some(&agreement::ECDH_P384),
            Self::P521 => Some(&agreement::ECDH_P521),
            Self::Secp256k1 => None,
        }
    }
}

/// A parsed EC private key: the ECDSA key pair, the cached verifier, and (NIST curves) the
/// same private key as an ECDH key.
pub(super) struct EccKey {
    curve: Curve,
    signing: EcdsaKeyPair,
    verifier: ParsedPublicKey,
    agreement: Option<agreement::PrivateKey>,
    public_key_der: Vec<u8>,
}

impl EccKey {
    pub(super) fn generate(curve: Curve) -> Result<Self, CryptoError> {
        let key_pair = EcdsaKeyPair::generate(curve.signing())
            .map_err(|_| CryptoError::Internal("EC key generation"))?;
        let pkcs8 = pkcs8_of(&key_pair)?;
        Self::from_pkcs8(curve, pkcs8.as_bytes())
    }

    /// Parses a PKCS#8 EC private key on `curve`.
    pub(super) fn from_pkcs8(curve: Curve, pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let bad =
            |_| CryptoError::InvalidKeyMaterial("not a PKCS#8 EC key on the key spec's curve");
        let signing = EcdsaKeyPair::from_pkcs8(curve.signing(), pkcs8).map_err(bad)?;
        let agreement = match curve.agreement() {
            Some(alg) => {
                Some(agreement::PrivateKey::from_private_key_der(alg, pkcs8).map_err(bad)?)
            }
            None => None,
        };
        let public_key_der = AsDer::<PublicKeyX509Der>::as_der(signing.public_key())
            .map_err(|_| CryptoError::Internal("EC SubjectPublicKeyInfo"))?
            .as_ref()
            .to_vec();
        let verifier = ParsedPublicKey::new(curve.verification(), &public_key_der)
            .map_err(|_| CryptoError::Internal("EC public key"))?;
        Ok(Self {
            curve,
            signing,
            verifier,
            agreement,
            public_key_der,
        })
    }

    pub(super) fn pkcs8(&self) -> Result<SecretBytes, CryptoError> {
        pkcs8_of(&self.signing)
    }

    pub(super) fn public_key_der(&self) -> &[u8] {
        &self.public_key_der
    }

    fn check_algorithm(&self, alg: SigningAlgorithm) -> Result<(), CryptoError> {
        if alg == self.curve.signing_algorithm() {
            Ok(())
        } else {
            Err(CryptoError::UnsupportedAlgorithm)
        }
    }

    /// ECDSA over `message` (RAW) or over a digest (DIGEST); DER-encoded signature.
    pub(super) fn sign(
        &self,
        alg: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.check_algorithm(alg)?;
        let signature = match message_type {
            MessageType::Raw => self.signing.sign(&SystemRandom::new(), message),
            MessageType::Digest => {
                let digest = import_digest(message, self.curve.digest())?;
                self.signing.sign_digest(&digest)
            }
            MessageType::ExternalMu => return Err(CryptoError::UnsupportedAlgorithm),
        }
        .map_err(|_| CryptoError::Internal("ECDSA signing"))?;
        Ok(signature.as_ref().to_vec())
    }

    pub(super) fn verify(
        &self,
        alg: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        self.check_algorithm(alg)?;
        Ok(match message_type {
            MessageType::Raw => self.verifier.verify_sig(message, signature).is_ok(),
            MessageType::Digest => {
                let digest = import_digest(message, self.curve.digest())?;
                self.verifier.verify_digest_sig(&digest, signature).is_ok()
            }
            MessageType::ExternalMu => return Err(CryptoError::UnsupportedAlgorithm),
        })
    }

    /// ECDH with a peer's DER SubjectPublicKeyInfo on the same curve: the raw shared
    /// x-coordinate. secp256k1 keys do not do key agreement.
    pub(super) fn derive_shared_secret(
        &self,
        peer_public_key_der: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let Some(private) = &self.agreement else {
            return Err(CryptoError::UnsupportedAlgorithm);
        };
        let peer = agreement::ParsedPublicKey::try_from(&UnparsedPublicKey::new(
            private.algorithm(),
            peer_public_key_der,
        ))
        .map_err(|_| CryptoError::InvalidPublicKey)?;
        // aws-lc-rs also accepts bare SEC1 points; AWS takes SubjectPublicKeyInfo only.
        if peer.format() != ParsedPublicKeyFormat::X509 {
            return Err(CryptoError::InvalidPublicKey);
        }
        agreement::agree(private, peer, CryptoError::InvalidPublicKey, |secret| {
            Ok(SecretBytes::copy_from_slice(secret))
        })
    }
}

fn pkcs8_of(key_pair: &EcdsaKeyPair) -> Result<SecretBytes, CryptoError> {
    let doc = key_pair
        .to_pkcs8v1()
        .map_err(|_| CryptoError::Internal("EC PKCS#8 encoding"))?;
    Ok(SecretBytes::copy_from_slice(doc.as_ref()))
}
