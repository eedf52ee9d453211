//! ML_DSA_44/65/87: ML-DSA (FIPS 204) signatures, pure mode with an empty context, as AWS KMS's
//! `ML_DSA_SHAKE_256` with message type RAW.
//!
//! `EXTERNAL_MU` (a caller-computed 64-byte μ = SHAKE256(SHAKE256(pk, 64) ‖ 0 ‖ 0 ‖ M, 64)) is
//! signed and verified with RustCrypto `ml-dsa` (hedged ML-DSA.Sign with a pre-computed μ,
//! FIPS 204 Algorithm 2): aws-lc-rs 1.19 signs only whole messages and this crate does not call
//! aws-lc's C API (`unsafe` is forbidden). That key is derived from the same stored seed, on
//! first use, and a test checks both libraries derive the same public key.
//!
//! The private key is stored as aws-lc-rs's PKCS#8 v1, which holds the 32-byte seed ξ; the key
//! pair is re-derived from it (FIPS 204 ML-DSA.KeyGen_internal is deterministic).

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::signature::{
    self, KeyPair as _, ParsedPublicKey, PqdsaKeyPair, PqdsaSigningAlgorithm,
    PqdsaVerificationAlgorithm,
};

use std::sync::OnceLock;

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
    level: Level,
    key_pair: PqdsaKeyPair,
    verifier: ParsedPublicKey,
    public_key_der: Vec<u8>,
    /// The same key in RustCrypto `ml-dsa`, for EXTERNAL_MU; derived on first use.
    external_mu: OnceLock<MuKey>,
}

/// A RustCrypto ML-DSA signing key of one level (it zeroizes itself on drop).
enum MuKey {
    MlDsa44(Box<::ml_dsa::SigningKey<::ml_dsa::MlDsa44>>),
    MlDsa65(Box<::ml_dsa::SigningKey<::ml_dsa::MlDsa65>>),
    MlDsa87(Box<::ml_dsa::SigningKey<::ml_dsa::MlDsa87>>),
}

/// Length of μ.
const MU_LEN: usize = 64;

macro_rules! with_mu_key {
    ($key:expr, $k:ident => $body:expr) => {
        match $key {
            MuKey::MlDsa44($k) => $body,
            MuKey::MlDsa65($k) => $body,
            MuKey::MlDsa87($k) => $body,
        }
    };
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
            level,
            key_pair,
            verifier,
            public_key_der,
            external_mu: OnceLock::new(),
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
        if alg != SigningAlgorithm::MlDsaShake256 {
            return Err(CryptoError::UnsupportedAlgorithm);
        }
        match message_type {
            MessageType::Raw => {}
            MessageType::ExternalMu => {
                let mu: [u8; MU_LEN] = message.try_into().map_err(|_| {
                    CryptoError::InvalidMessage("an EXTERNAL_MU message must be 64 bytes")
                })?;
                let mut rng = ::ml_dsa::common::getrandom::SysRng;
                return with_mu_key!(self.mu_key()?, k => k
                    .expanded_key()
                    .sign_mu_randomized(&mu.into(), &mut rng)
                    .map(|s| s.encode().to_vec())
                    .map_err(|_| CryptoError::Internal("ML-DSA signing with external mu")));
            }
            MessageType::Digest => return Err(CryptoError::UnsupportedAlgorithm),
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
        if alg != SigningAlgorithm::MlDsaShake256 {
            return Err(CryptoError::UnsupportedAlgorithm);
        }
        match message_type {
            MessageType::Raw => Ok(self.verifier.verify_sig(message, signature).is_ok()),
            MessageType::ExternalMu => {
                let mu: [u8; MU_LEN] = message.try_into().map_err(|_| {
                    CryptoError::InvalidMessage("an EXTERNAL_MU message must be 64 bytes")
                })?;
                Ok(with_mu_key!(self.mu_key()?, k => {
                    match ::ml_dsa::Signature::try_from(signature) {
                        Ok(sig) => ::ml_dsa::Keypair::verifying_key(k.as_ref()).verify_mu(&mu.into(), &sig),
                        Err(_) => false,
                    }
                }))
            }
            MessageType::Digest => Err(CryptoError::UnsupportedAlgorithm),
        }
    }

    /// The RustCrypto key for EXTERNAL_MU, derived from the seed in the stored PKCS#8 (seed
    /// form: `[0] IMPLICIT OCTET STRING (SIZE 32)` at offset 20).
    fn mu_key(&self) -> Result<&MuKey, CryptoError> {
        if let Some(k) = self.external_mu.get() {
            return Ok(k);
        }
        let pkcs8 = self.pkcs8()?;
        let der = pkcs8.as_bytes();
        if der.len() != 54 || der[20..22] != [0x80, 0x20] {
            return Err(CryptoError::Internal("ML-DSA PKCS#8 is not in seed form"));
        }
        let seed = ::ml_dsa::Seed::try_from(&der[22..54])
            .map_err(|_| CryptoError::Internal("ML-DSA seed"))?;
        let key = match self.level {
            Level::MlDsa44 => MuKey::MlDsa44(Box::new(::ml_dsa::SigningKey::from_seed(&seed))),
            Level::MlDsa65 => MuKey::MlDsa65(Box::new(::ml_dsa::SigningKey::from_seed(&seed))),
            Level::MlDsa87 => MuKey::MlDsa87(Box::new(::ml_dsa::SigningKey::from_seed(&seed))),
        };
        // A concurrent first use may have set it meanwhile; both derive the same key.
        let _ = self.external_mu.set(key);
        self.external_mu
            .get()
            .ok_or(CryptoError::Internal("ML-DSA external mu key"))
    }
}
