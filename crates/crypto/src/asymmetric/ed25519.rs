//! ECC_NIST_EDWARDS25519: ED25519_SHA_512 (PureEdDSA, message type RAW only) and
//! ED25519_PH_SHA_512 (HashEdDSA "Ed25519ph", RFC 8032 §5.1 with an empty context; message type
//! DIGEST only).
//!
//! As AWS documents for ED25519_PH_SHA_512 with DIGEST, the 64-byte digest the caller sends is
//! the message M of FIPS 186-5 §7.8.1, and KMS still applies the prehash PH(M) = SHA-512(M): the
//! input is hashed twice, once by the caller and once here. A standard Ed25519ph verifier checks
//! such a signature with the caller's digest as the message.
//!
//! aws-lc-rs 1.19 signs PureEdDSA but does not expose Ed25519ph, so the prehash variant uses
//! ed25519-dalek's `sign_prehashed` / `verify_prehashed` on the same seed.

use aws_lc_rs::encoding::{AsBigEndian, AsDer, Curve25519SeedBin, PublicKeyX509Der};
use aws_lc_rs::signature::{self, Ed25519KeyPair, KeyPair as _, ParsedPublicKey};
use ed25519_dalek::{Digest as _, Sha512};
use zeroize::Zeroizing;

use crate::algorithms::{MessageType, SigningAlgorithm};
use crate::{CryptoError, SecretBytes};

/// Length of an ED25519_PH_SHA_512 DIGEST message (SHA-512).
const DIGEST_LEN: usize = 64;

/// A parsed Ed25519 private key: aws-lc-rs for PureEdDSA, ed25519-dalek (same seed) for
/// Ed25519ph.
pub(super) struct Ed25519Key {
    key_pair: Ed25519KeyPair,
    prehash_signer: ed25519_dalek::SigningKey,
    verifier: ParsedPublicKey,
    public_key_der: Vec<u8>,
}

impl Ed25519Key {
    pub(super) fn generate() -> Result<Self, CryptoError> {
        let key_pair =
            Ed25519KeyPair::generate().map_err(|_| CryptoError::Internal("Ed25519 generation"))?;
        let pkcs8 = pkcs8_of(&key_pair)?;
        Self::from_pkcs8(pkcs8.as_bytes())
    }

    /// Parses an RFC 8410 PKCS#8 (v1 or v2) Ed25519 private key.
    pub(super) fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let key_pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|_| CryptoError::InvalidKeyMaterial("not a PKCS#8 Ed25519 key"))?;
        let seed_bin: Curve25519SeedBin = key_pair
            .seed()
            .and_then(|seed| seed.as_be_bytes())
            .map_err(|_| CryptoError::Internal("Ed25519 seed"))?;
        let mut seed = Zeroizing::new([0u8; 32]);
        if seed_bin.as_ref().len() != seed.len() {
            return Err(CryptoError::Internal("Ed25519 seed length"));
        }
        seed.copy_from_slice(seed_bin.as_ref());
        let prehash_signer = ed25519_dalek::SigningKey::from_bytes(&seed);
        if prehash_signer.verifying_key().as_bytes().as_slice() != key_pair.public_key().as_ref() {
            return Err(CryptoError::Internal("Ed25519 implementations disagree"));
        }
        let public_key_der = AsDer::<PublicKeyX509Der>::as_der(key_pair.public_key())
            .map_err(|_| CryptoError::Internal("Ed25519 SubjectPublicKeyInfo"))?
            .as_ref()
            .to_vec();
        let verifier = ParsedPublicKey::new(&signature::ED25519, key_pair.public_key().as_ref())
            .map_err(|_| CryptoError::Internal("Ed25519 public key"))?;
        Ok(Self {
            key_pair,
            prehash_signer,
            verifier,
            public_key_der,
        })
    }

    pub(super) fn pkcs8(&self) -> Result<SecretBytes, CryptoError> {
        pkcs8_of(&self.key_pair)
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
        match (alg, message_type) {
            (SigningAlgorithm::Ed25519Sha512, MessageType::Raw) => self
                .key_pair
                .try_sign(message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| CryptoError::Internal("Ed25519 signing")),
            (SigningAlgorithm::Ed25519PhSha512, MessageType::Digest) => {
                check_digest(message)?;
                self.sign_ed25519ph(message)
            }
            _ => Err(CryptoError::UnsupportedAlgorithm),
        }
    }

    /// RFC 8032 Ed25519ph of `message` (any length): PureEdDSA with dom2(1, "") over
    /// SHA-512(`message`).
    pub(super) fn sign_ed25519ph(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.prehash_signer
            .sign_prehashed(Sha512::new().chain_update(message), None)
            .map(|s| s.to_bytes().to_vec())
            .map_err(|_| CryptoError::Internal("Ed25519ph signing"))
    }

    pub(super) fn verify(
        &self,
        alg: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        match (alg, message_type) {
            (SigningAlgorithm::Ed25519Sha512, MessageType::Raw) => {
                Ok(self.verifier.verify_sig(message, signature).is_ok())
            }
            (SigningAlgorithm::Ed25519PhSha512, MessageType::Digest) => {
                check_digest(message)?;
                let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
                    return Ok(false);
                };
                Ok(self
                    .prehash_signer
                    .verifying_key()
                    .verify_prehashed(Sha512::new().chain_update(message), None, &signature)
                    .is_ok())
            }
            _ => Err(CryptoError::UnsupportedAlgorithm),
        }
    }
}

fn check_digest(message: &[u8]) -> Result<(), CryptoError> {
    if message.len() == DIGEST_LEN {
        Ok(())
    } else {
        Err(CryptoError::InvalidMessage(
            "the digest length does not match the signing algorithm",
        ))
    }
}

fn pkcs8_of(key_pair: &Ed25519KeyPair) -> Result<SecretBytes, CryptoError> {
    let doc = key_pair
        .to_pkcs8v1()
        .map_err(|_| CryptoError::Internal("Ed25519 PKCS#8 encoding"))?;
    Ok(SecretBytes::copy_from_slice(doc.as_ref()))
}
