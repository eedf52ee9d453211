//! ML_DSA_44/65/87: ML-DSA (FIPS 204) signatures, pure mode with an empty context, as AWS KMS's
//! `ML_DSA_SHAKE_256` with message type RAW.
//!
//! `EXTERNAL_MU` (signing a caller-computed 64-byte μ) is [`CryptoError::UnsupportedAlgorithm`]:
//! aws-lc-rs 1.19 signs and verifies only whole messages (its `PqdsaKeyPair::sign` computes μ
//! itself and it exposes no μ-taking entry point), and this crate does not call aws-lc's C API
//! directly (`unsafe` is forbidden).
//!
//! The private key is stored as aws-lc-rs's PKCS#8 v1, which holds the 32-byte seed ξ; the key
//! pair is re-derived from it (FIPS 204 ML-DSA.KeyGen_internal is deterministic).

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::signature::{
    self, KeyPair as _, ParsedPublicKey, PqdsaKeyPair, PqdsaSigningAlgorithm,
    PqdsaVerificationAlgorithm,
};

use crate::algorithms::{MessageType, SigningAlgorithm};
use crate::{CryptoError, SecretBytes};

/// The three ML-DSA parameter sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Level {
    MlDsa44,
    MlDsa65,
    MlDsa87,
}

impl Level {
    fn signing(self) -> &'static PqdsaSigningAlgorithm {
        match self {
            Self::MlDsa44 => &signature::ML_DSA_44_SIGNING,
            Self::MlDsa65 => &signature::ML_DSA_65_SIGNING,
            Self::MlDsa87 => &signature::ML_DSA_87_SIGNING,
        }
    }

    fn verification(self) -> &'static PqdsaVerificationAlgorithm {
        match self {
            Self::MlDsa44 => &signature::ML_DSA_44,
            Self::MlDsa65 => &signature::ML_DSA_65,
            Self::MlDsa87 => &signature::ML_DSA_87,
        }
    }
}

/// A parsed ML-DSA key pair with a cached verifier.
pub(super) struct MlDsaKey {
    key_pair: PqdsaKeyPair,
    verifier: ParsedPublicKey,
    public_key_der: Vec<u8>,
}

impl MlDsaKey {
    pub(super) fn generate(level: Level) -> Result<Self, CryptoError> {
        let key_pair = PqdsaKeyPair::generate(level.signing())
            .map_err(|_| CryptoError::Internal("ML-DSA key generation"))?;
        Self::from_key_pair(level, key_pair)
    }

    /// Parses a PKCS#8 ML-DSA private key of `level` (seed or expanded form).
    pub(super) fn from_pkcs8(level: Level, pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let key_pair = PqdsaKeyPair::from_pkcs8(level.signing(), pkcs8).map_err(|_| {
            CryptoError::InvalidKeyMaterial("not a PKCS#8 ML-DSA key of the key spec's level")
        })?;
        Self::from_key_pair(level, key_pair)
    }

    fn from_key_pair(level: Level, key_pair: PqdsaKeyPair) -> Result<Self, CryptoError> {
        let public_key_der = AsDer::<PublicKeyX509Der>::as_der(key_pair.public_key())
            .map_err(|_| CryptoError::Internal("ML-DSA SubjectPublicKeyInfo"))?
            .as_ref()
            .to_vec();
        let verifier = ParsedPublicKey::new(level.verification(), key_pair.public_key().as_ref())
            .map_err(|_| CryptoError::Internal("ML-DSA public key"))?;
        Ok(Self {
            key_pair,
            verifier,
            public_key_der,
        })
    }

    /// PKCS#8 v1 in seed form (what aws-lc-rs writes).
    pub(super) fn pkcs8(&self) -> Result<SecretBytes, CryptoError> {
        let doc = self
            .key_pair
            .to_pkcs8v1()
            .map_err(|_| CryptoError::Internal("ML-DSA PKCS#8 encoding"))?;
        Ok(SecretBytes::copy_from_slice(doc.as_ref()))
    }

    pub(super) fn public_key_der(&self) -> &[u8] {
        &self.public_key_der
    }

    pub(super) fn sign(
        &self,
        alg: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if alg != SigningAlgorithm::MlDsaShake256 || message_type != MessageType::Raw {
            return Err(CryptoError::UnsupportedAlgorithm);
        }
        let mut signature = vec![0u8; self.key_pair.algorithm().signature_len()];
        let len = self
            .key_pair
            .sign(message, &mut signature)
            .map_err(|_| CryptoError::Internal("ML-DSA signing"))?;
        signature.truncate(len);
        Ok(signature)
    }

    pub(super) fn verify(
        &self,
        alg: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        if alg != SigningAlgorithm::MlDsaShake256 || message_type != MessageType::Raw {
            return Err(CryptoError::UnsupportedAlgorithm);
        }
        Ok(self.verifier.verify_sig(message, signature).is_ok())
    }
}
