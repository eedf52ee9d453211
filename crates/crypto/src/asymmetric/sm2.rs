//! SM2 (GB/T 32918, AWS China Regions): SM2DSA signatures, SM2PKE encryption and ECDH, with
//! the RustCrypto `sm2` crate (aws-lc-rs has no SM2).
//!
//! * SM2DSA uses AWS's default distinguishing ID `1234567812345678`: a RAW message M is signed
//!   as e = SM3(Z_A ‖ M); a DIGEST message is e itself (32 bytes). Signatures are DER
//!   `SEQUENCE { r INTEGER, s INTEGER }`, randomised (RFC 6979 nonces with added entropy).
//! * SM2PKE ciphertexts are the GM/T 0009 DER form `SEQUENCE { x, y, C3 hash, C2 ciphertext }`
//!   (C1C3C2, as OpenSSL writes them).
//! * ECDH yields the raw x-coordinate of d·Q, as for the NIST curves.

use sm2::dsa::signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
use sm2::dsa::signature::{RandomizedSigner, Verifier};
use sm2::dsa::{DerSignature, Signature, SigningKey};
use sm2::elliptic_curve::common::getrandom::SysRng;
use sm2::elliptic_curve::point::AffineCoordinates as _;
use sm2::elliptic_curve::Generate as _;
use sm2::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use sm2::pke::DecryptingKey;
use sm2::{PublicKey, SecretKey};

use crate::algorithms::{AsymmetricEncryptionAlgorithm, MessageType, SigningAlgorithm};
use crate::{CryptoError, SecretBytes};

/// AWS KMS's SM2DSA distinguishing ID, the GM/T 0009 default (ENTL_A = 128 bits).
pub const DISTINGUISHING_ID: &str = "1234567812345678";

/// Length of an SM2DSA digest e (SM3).
const DIGEST_LEN: usize = 32;

/// A parsed SM2 private key, ready for SM2DSA, SM2PKE and ECDH.
pub(super) struct Sm2Key {
    secret: SecretKey,
    signing: SigningKey,
    decrypting: DecryptingKey,
    public_key_der: Vec<u8>,
}

impl Sm2Key {
    pub(super) fn generate() -> Result<Self, CryptoError> {
        let secret =
            SecretKey::try_generate().map_err(|_| CryptoError::Internal("SM2 key generation"))?;
        Self::from_secret(secret)
    }

    /// Parses a PKCS#8 SM2 private key (id-ecPublicKey with the SM2 curve OID).
    pub(super) fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let secret = SecretKey::from_pkcs8_der(pkcs8)
            .map_err(|_| CryptoError::InvalidKeyMaterial("not a PKCS#8 SM2 key"))?;
        Self::from_secret(secret)
    }

    fn from_secret(secret: SecretKey) -> Result<Self, CryptoError> {
        let signing = SigningKey::new(DISTINGUISHING_ID, &secret)
            .map_err(|_| CryptoError::Internal("SM2DSA signing key"))?;
        let decrypting = DecryptingKey::new(secret.clone());
        let public_key_der = secret
            .public_key()
            .to_public_key_der()
            .map_err(|_| CryptoError::Internal("SM2 SubjectPublicKeyInfo"))?
            .into_vec();
        Ok(Self {
            secret,
            signing,
            decrypting,
            public_key_der,
        })
    }

    pub(super) fn pkcs8(&self) -> Result<SecretBytes, CryptoError> {
        let doc = self
            .secret
            .to_pkcs8_der()
            .map_err(|_| CryptoError::Internal("SM2 PKCS#8 encoding"))?;
        Ok(SecretBytes::copy_from_slice(doc.as_bytes()))
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
        if alg != SigningAlgorithm::Sm2Dsa {
            return Err(CryptoError::UnsupportedAlgorithm);
        }
        let signature: Signature = match message_type {
            MessageType::Raw => self.signing.try_sign_with_rng(&mut SysRng, message),
            MessageType::Digest => {
                check_digest(message)?;
                self.signing.sign_prehash_with_rng(&mut SysRng, message)
            }
            MessageType::ExternalMu => return Err(CryptoError::UnsupportedAlgorithm),
        }
        .map_err(|_| CryptoError::Internal("SM2DSA signing"))?;
        Ok(DerSignature::from(signature).to_vec())
    }

    pub(super) fn verify(
        &self,
        alg: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        if alg != SigningAlgorithm::Sm2Dsa {
            return Err(CryptoError::UnsupportedAlgorithm);
        }
        if message_type == MessageType::Digest {
            check_digest(message)?;
        }
        let Ok(signature) = DerSignature::from_bytes(signature).and_then(Signature::try_from)
        else {
            return Ok(false);
        };
        let verifying = self.signing.verifying_key();
        Ok(match message_type {
            MessageType::Raw => verifying.verify(message, &signature).is_ok(),
            MessageType::Digest => verifying.verify_prehash(message, &signature).is_ok(),
            MessageType::ExternalMu => return Err(CryptoError::UnsupportedAlgorithm),
        })
    }

    pub(super) fn encrypt(
        &self,
        alg: AsymmetricEncryptionAlgorithm,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if alg != AsymmetricEncryptionAlgorithm::Sm2Pke {
            return Err(CryptoError::UnsupportedAlgorithm);
        }
        if plaintext.is_empty() {
            return Err(CryptoError::InvalidMessage(
                "SM2PKE cannot encrypt an empty plaintext",
            ));
        }
        self.decrypting
            .encrypting_key()
            .encrypt_der(&mut SysRng, plaintext)
            .map_err(|_| CryptoError::Internal("SM2PKE encryption"))
    }

    pub(super) fn decrypt(
        &self,
        alg: AsymmetricEncryptionAlgorithm,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        if alg != AsymmetricEncryptionAlgorithm::Sm2Pke {
            return Err(CryptoError::UnsupportedAlgorithm);
        }
        self.decrypting
            .decrypt_der(ciphertext)
            .map(SecretBytes::from)
            .map_err(|_| CryptoError::DecryptFailed)
    }

    /// ECDH on the SM2 curve with a peer's DER SubjectPublicKeyInfo: the x-coordinate of d·Q.
    pub(super) fn derive_shared_secret(
        &self,
        peer_public_key_der: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let peer = PublicKey::from_public_key_der(peer_public_key_der)
            .map_err(|_| CryptoError::InvalidPublicKey)?;
        let shared = (peer.to_projective() * *self.secret.to_nonzero_scalar()).to_affine();
        Ok(SecretBytes::copy_from_slice(&shared.x()))
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
