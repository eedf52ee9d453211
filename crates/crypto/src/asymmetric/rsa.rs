//! RSA_2048/3072/4096: RSASSA-PSS and RSASSA-PKCS1-v1_5 signatures, RSAES-OAEP encryption.

use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeyPair, KeySize, OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
};
use aws_lc_rs::signature::{self, KeyPair as _, ParsedPublicKey, RsaEncoding, RsaParameters};
use zeroize::Zeroizing;

use super::import_digest;
use crate::algorithms::{AsymmetricEncryptionAlgorithm, MessageType, SigningAlgorithm};
use crate::{CryptoError, SecretBytes};

/// The six RSA signing algorithms, in the order of [`RsaKey::verifiers`].
const SIGNING: [SigningAlgorithm; 6] = [
    SigningAlgorithm::RsassaPssSha256,
    SigningAlgorithm::RsassaPssSha384,
    SigningAlgorithm::RsassaPssSha512,
    SigningAlgorithm::RsassaPkcs1V15Sha256,
    SigningAlgorithm::RsassaPkcs1V15Sha384,
    SigningAlgorithm::RsassaPkcs1V15Sha512,
];

/// aws-lc-rs parameters of one RSA signing algorithm. PSS salts are as long as the digest,
/// as AWS KMS uses.
struct Scheme {
    signing: &'static dyn RsaEncoding,
    verification: &'static RsaParameters,
    digest: &'static digest::Algorithm,
}

fn scheme(alg: SigningAlgorithm) -> Result<Scheme, CryptoError> {
    let (signing, verification, digest): (&'static dyn RsaEncoding, _, _) = match alg {
        SigningAlgorithm::RsassaPssSha256 => (
            &signature::RSA_PSS_SHA256,
            &signature::RSA_PSS_2048_8192_SHA256,
            &digest::SHA256,
        ),
        SigningAlgorithm::RsassaPssSha384 => (
            &signature::RSA_PSS_SHA384,
            &signature::RSA_PSS_2048_8192_SHA384,
            &digest::SHA384,
        ),
        SigningAlgorithm::RsassaPssSha512 => (
            &signature::RSA_PSS_SHA512,
            &signature::RSA_PSS_2048_8192_SHA512,
            &digest::SHA512,
        ),
        SigningAlgorithm::RsassaPkcs1V15Sha256 => (
            &signature::RSA_PKCS1_SHA256,
            &signature::RSA_PKCS1_2048_8192_SHA256,
            &digest::SHA256,
        ),
        SigningAlgorithm::RsassaPkcs1V15Sha384 => (
            &signature::RSA_PKCS1_SHA384,
            &signature::RSA_PKCS1_2048_8192_SHA384,
            &digest::SHA384,
        ),
        SigningAlgorithm::RsassaPkcs1V15Sha512 => (
            &signature::RSA_PKCS1_SHA512,
            &signature::RSA_PKCS1_2048_8192_SHA512,
            &digest::SHA512,
        ),
        _ => return Err(CryptoError::UnsupportedAlgorithm),
    };
    Ok(Scheme {
        signing,
        verification,
        digest,
    })
}

fn oaep(alg: AsymmetricEncryptionAlgorithm) -> Result<&'static OaepAlgorithm, CryptoError> {
    match alg {
        AsymmetricEncryptionAlgorithm::RsaesOaepSha1 => Ok(&OAEP_SHA1_MGF1SHA1),
        AsymmetricEncryptionAlgorithm::RsaesOaepSha256 => Ok(&OAEP_SHA256_MGF1SHA256),
        AsymmetricEncryptionAlgorithm::Sm2Pke => Err(CryptoError::UnsupportedAlgorithm),
    }
}

/// Largest OAEP plaintext for a `modulus_bits` key: k − 2·hLen − 2 (RFC 8017 §7.1.1).
pub(super) fn max_oaep_plaintext(modulus_bits: usize, alg: AsymmetricEncryptionAlgorithm) -> usize {
    let hash_len = match alg {
        AsymmetricEncryptionAlgorithm::RsaesOaepSha1 => 20,
        _ => 32,
    };
    modulus_bits / 8 - 2 * hash_len - 2
}

/// A parsed RSA private key with its public halves ready for verification and encryption.
pub(super) struct RsaKey {
    key_pair: KeyPair,
    decrypting: OaepPrivateDecryptingKey,
    encrypting: OaepPublicEncryptingKey,
    /// One parsed public key per entry of [`SIGNING`] (aws-lc-rs binds the algorithm to it).
    verifiers: Vec<ParsedPublicKey>,
    public_key_der: Vec<u8>,
}

impl RsaKey {
    /// A fresh key with a `modulus_bits` modulus (2048, 3072 or 4096) and exponent 65537.
    pub(super) fn generate(modulus_bits: usize) -> Result<Self, CryptoError> {
        let size = match modulus_bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            _ => return Err(CryptoError::Internal("unsupported RSA modulus size")),
        };
        let key_pair =
            KeyPair::generate(size).map_err(|_| CryptoError::Internal("RSA key generation"))?;
        let pkcs8 = pkcs8_of(&key_pair)?;
        Self::from_pkcs8(pkcs8.as_bytes(), modulus_bits)
    }

    /// Parses a PKCS#8 RSA private key, which must have a `modulus_bits` modulus.
    pub(super) fn from_pkcs8(pkcs8: &[u8], modulus_bits: usize) -> Result<Self, CryptoError> {
        let bad =
            |_| CryptoError::InvalidKeyMaterial("not a PKCS#8 RSA key of the key spec's size");
        let key_pair = KeyPair::from_pkcs8(pkcs8).map_err(bad)?;
        if key_pair.public_modulus_len() * 8 != modulus_bits {
            return Err(CryptoError::InvalidKeyMaterial(
                "not a PKCS#8 RSA key of the key spec's size",
            ));
        }
        let private = PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(bad)?;
        let encrypting = OaepPublicEncryptingKey::new(private.public_key())
            .map_err(|_| CryptoError::Internal("RSA-OAEP public key"))?;
        let decrypting = OaepPrivateDecryptingKey::new(private)
            .map_err(|_| CryptoError::Internal("RSA-OAEP private key"))?;
        let public_key_der = AsDer::<PublicKeyX509Der>::as_der(key_pair.public_key())
            .map_err(|_| CryptoError::Internal("RSA SubjectPublicKeyInfo"))?
            .as_ref()
            .to_vec();
        let verifiers = SIGNING
            .iter()
            .map(|&alg| {
                let scheme = scheme(alg)?;
                ParsedPublicKey::new(scheme.verification, &public_key_der)
                    .map_err(|_| CryptoError::Internal("RSA public key"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            key_pair,
            decrypting,
            encrypting,
            verifiers,
            public_key_der,
        })
    }

    pub(super) fn pkcs8(&self) -> Result<SecretBytes, CryptoError> {
        pkcs8_of(&self.key_pair)
    }

    pub(super) fn public_key_der(&self) -> &[u8] {
        &self.public_key_der
    }

    /// Signs `message` (RAW) or a digest of it (DIGEST, length already checked).
    pub(super) fn sign(
        &self,
        alg: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let scheme = scheme(alg)?;
        let mut signature = vec![0u8; self.key_pair.public_modulus_len()];
        let result = match message_type {
            MessageType::Raw => self.key_pair.sign(
                scheme.signing,
                &SystemRandom::new(),
                message,
                &mut signature,
            ),
            MessageType::Digest => {
                let digest = import_digest(message, scheme.digest)?;
                self.key_pair
                    .sign_digest(scheme.signing, &digest, &mut signature)
            }
            MessageType::ExternalMu => return Err(CryptoError::UnsupportedAlgorithm),
        };
        result.map_err(|_| CryptoError::Internal("RSA signing"))?;
        Ok(signature)
    }

    pub(super) fn verify(
        &self,
        alg: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        let scheme = scheme(alg)?;
        let index = SIGNING
            .iter()
            .position(|&a| a == alg)
            .ok_or(CryptoError::UnsupportedAlgorithm)?;
        let verifier = self
            .verifiers
            .get(index)
            .ok_or(CryptoError::Internal("RSA verifier table"))?;
        Ok(match message_type {
            MessageType::Raw => verifier.verify_sig(message, signature).is_ok(),
            MessageType::Digest => {
                let digest = import_digest(message, scheme.digest)?;
                verifier.verify_digest_sig(&digest, signature).is_ok()
            }
            MessageType::ExternalMu => return Err(CryptoError::UnsupportedAlgorithm),
        })
    }

    pub(super) fn encrypt(
        &self,
        alg: AsymmetricEncryptionAlgorithm,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let oaep = oaep(alg)?;
        if plaintext.len() > self.encrypting.max_plaintext_size(oaep) {
            return Err(CryptoError::InvalidMessage(
                "plaintext is too long for the key spec and encryption algorithm",
            ));
        }
        let mut ciphertext = vec![0u8; self.encrypting.ciphertext_size()];
        let len = self
            .encrypting
            .encrypt(oaep, plaintext, &mut ciphertext, None)
            .map_err(|_| CryptoError::Internal("RSA-OAEP encryption"))?
            .len();
        ciphertext.truncate(len);
        Ok(ciphertext)
    }

    pub(super) fn decrypt(
        &self,
        alg: AsymmetricEncryptionAlgorithm,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let oaep = oaep(alg)?;
        let mut plaintext = Zeroizing::new(vec![0u8; self.decrypting.min_output_size()]);
        let len = self
            .decrypting
            .decrypt(oaep, ciphertext, &mut plaintext, None)
            .map_err(|_| CryptoError::DecryptFailed)?
            .len();
        plaintext.truncate(len);
        Ok(SecretBytes::from(plaintext))
    }
}

fn pkcs8_of(key_pair: &KeyPair) -> Result<SecretBytes, CryptoError> {
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(key_pair)
        .map_err(|_| CryptoError::Internal("RSA PKCS#8 encoding"))?;
    Ok(SecretBytes::copy_from_slice(der.as_ref()))
}
