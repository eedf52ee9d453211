//! Asymmetric KMS keys: RSA, ECC (NIST and secp256k1), Ed25519, SM2, ML-DSA and ML-KEM.
//!
//! A [`PrivateKey`] is one version of an asymmetric KMS key's private key. It keeps the parsed
//! key objects (and cached public-key verifiers), so Sign, Verify, Decrypt and the rest never
//! re-parse key bytes per call. It is stored wrapped under the root key with the same binding
//! as symmetric material ([`material_wrapping_aad`]: key ARN ‖ key material id); the wrapped
//! plaintext is, by key spec:
//!
//! | key spec | stored private key |
//! |---|---|
//! | RSA_*, ECC_*, SM2 | PKCS#8 v1 DER (RFC 5208; EC keys as RFC 5915 `ECPrivateKey`) |
//! | ECC_NIST_EDWARDS25519 | PKCS#8 v1 DER (RFC 8410, the 32-byte seed) |
//! | ML_DSA_* | PKCS#8 v1 DER in seed form (the 32-byte ξ), as aws-lc-rs writes it |
//! | ML_KEM_* | the raw FIPS 203 decapsulation key (see the `ml_kem` module) |
//!
//! GenerateDataKeyPair's private keys are PKCS#8 v1 DER; ML-KEM ones in seed form.
//!
//! Public keys ([`PrivateKey::public_key_der`]) are DER SubjectPublicKeyInfo, which
//! `openssl pkey -pubin -inform DER` reads (ML-DSA/ML-KEM need OpenSSL 3.5 or later).
//!
//! Algorithm choice follows AWS: each key spec allows the algorithms listed by
//! [`KeyPairSpec::signing_algorithms`] and its siblings, each signing algorithm the message
//! types of [`SigningAlgorithm::message_types`]; anything else is
//! [`CryptoError::UnsupportedAlgorithm`]. Key usage (SIGN_VERIFY vs ENCRYPT_DECRYPT vs
//! KEY_AGREEMENT …) is the caller's to enforce. Exceptions to AWS's feature set, each
//! [`CryptoError::UnsupportedAlgorithm`]: ML-DSA with `EXTERNAL_MU` (aws-lc-rs cannot sign a
//! caller-supplied μ).

use std::fmt;

use aws_lc_rs::digest::{self, Digest};

use crate::algorithms::{
    aws_enum, AsymmetricEncryptionAlgorithm, DataKeyPairSpec, EncapsulationAlgorithm,
    KeyAgreementAlgorithm, MessageType, SigningAlgorithm,
};
use crate::blob::KEY_MATERIAL_ID_LEN;
use crate::root::{material_wrapping_aad, RootKey};
use crate::{CryptoError, SecretBytes};

mod der;
mod ecc;
mod ed25519;
mod ml_dsa;
mod ml_kem;
mod rsa;
mod sm2;
#[cfg(test)]
mod tests;

pub use self::sm2::DISTINGUISHING_ID as SM2_DISTINGUISHING_ID;

aws_enum! {
    /// The asymmetric members of `KeySpec`.
    pub enum KeyPairSpec {
        /// RSA, 2048-bit modulus, e = 65537.
        Rsa2048 = "RSA_2048",
        /// RSA, 3072-bit modulus, e = 65537.
        Rsa3072 = "RSA_3072",
        /// RSA, 4096-bit modulus, e = 65537.
        Rsa4096 = "RSA_4096",
        /// NIST P-256 (secp256r1).
        EccNistP256 = "ECC_NIST_P256",
        /// NIST P-384 (secp384r1).
        EccNistP384 = "ECC_NIST_P384",
        /// NIST P-521 (secp521r1).
        EccNistP521 = "ECC_NIST_P521",
        /// secp256k1.
        EccSecgP256k1 = "ECC_SECG_P256K1",
        /// Ed25519.
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
        /// SM2 (China Regions in AWS).
        Sm2 = "SM2",
        /// ML-DSA-44.
        MlDsa44 = "ML_DSA_44",
        /// ML-DSA-65.
        MlDsa65 = "ML_DSA_65",
        /// ML-DSA-87.
        MlDsa87 = "ML_DSA_87",
        /// ML-KEM-512.
        MlKem512 = "ML_KEM_512",
        /// ML-KEM-768.
        MlKem768 = "ML_KEM_768",
        /// ML-KEM-1024.
        MlKem1024 = "ML_KEM_1024",
    }
}

const RSA_SIGNING: &[SigningAlgorithm] = &[
    SigningAlgorithm::RsassaPssSha256,
    SigningAlgorithm::RsassaPssSha384,
    SigningAlgorithm::RsassaPssSha512,
    SigningAlgorithm::RsassaPkcs1V15Sha256,
    SigningAlgorithm::RsassaPkcs1V15Sha384,
    SigningAlgorithm::RsassaPkcs1V15Sha512,
];
const RSA_ENCRYPTION: &[AsymmetricEncryptionAlgorithm] = &[
    AsymmetricEncryptionAlgorithm::RsaesOaepSha1,
    AsymmetricEncryptionAlgorithm::RsaesOaepSha256,
];

impl KeyPairSpec {
    /// Signing algorithms AWS allows for this spec (with key usage SIGN_VERIFY).
    pub const fn signing_algorithms(self) -> &'static [SigningAlgorithm] {
        match self {
            Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096 => RSA_SIGNING,
            Self::EccNistP256 | Self::EccSecgP256k1 => &[SigningAlgorithm::EcdsaSha256],
            Self::EccNistP384 => &[SigningAlgorithm::EcdsaSha384],
            Self::EccNistP521 => &[SigningAlgorithm::EcdsaSha512],
            Self::EccNistEdwards25519 => &[
                SigningAlgorithm::Ed25519Sha512,
                SigningAlgorithm::Ed25519PhSha512,
            ],
            Self::Sm2 => &[SigningAlgorithm::Sm2Dsa],
            Self::MlDsa44 | Self::MlDsa65 | Self::MlDsa87 => &[SigningAlgorithm::MlDsaShake256],
            Self::MlKem512 | Self::MlKem768 | Self::MlKem1024 => &[],
        }
    }

    /// Encryption algorithms AWS allows for this spec (with key usage ENCRYPT_DECRYPT).
    pub const fn encryption_algorithms(self) -> &'static [AsymmetricEncryptionAlgorithm] {
        match self {
            Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096 => RSA_ENCRYPTION,
            Self::Sm2 => &[AsymmetricEncryptionAlgorithm::Sm2Pke],
            _ => &[],
        }
    }

    /// Key agreement algorithms AWS allows for this spec (with key usage KEY_AGREEMENT).
    pub const fn key_agreement_algorithms(self) -> &'static [KeyAgreementAlgorithm] {
        match self {
            Self::EccNistP256 | Self::EccNistP384 | Self::EccNistP521 | Self::Sm2 => {
                &[KeyAgreementAlgorithm::Ecdh]
            }
            _ => &[],
        }
    }

    /// Encapsulation algorithms for this spec (with key usage ENCAPSULATE_DECAPSULATE).
    pub const fn encapsulation_algorithms(self) -> &'static [EncapsulationAlgorithm] {
        match self {
            Self::MlKem512 | Self::MlKem768 | Self::MlKem1024 => &[EncapsulationAlgorithm::MlKem],
            _ => &[],
        }
    }
}

impl From<DataKeyPairSpec> for KeyPairSpec {
    fn from(spec: DataKeyPairSpec) -> Self {
        match spec {
            DataKeyPairSpec::Rsa2048 => Self::Rsa2048,
            DataKeyPairSpec::Rsa3072 => Self::Rsa3072,
            DataKeyPairSpec::Rsa4096 => Self::Rsa4096,
            DataKeyPairSpec::EccNistP256 => Self::EccNistP256,
            DataKeyPairSpec::EccNistP384 => Self::EccNistP384,
            DataKeyPairSpec::EccNistP521 => Self::EccNistP521,
            DataKeyPairSpec::EccSecgP256k1 => Self::EccSecgP256k1,
            DataKeyPairSpec::Sm2 => Self::Sm2,
            DataKeyPairSpec::EccNistEdwards25519 => Self::EccNistEdwards25519,
            DataKeyPairSpec::MlKem512 => Self::MlKem512,
            DataKeyPairSpec::MlKem768 => Self::MlKem768,
            DataKeyPairSpec::MlKem1024 => Self::MlKem1024,
        }
    }
}

/// The parsed key of one family.
enum Family {
    Rsa(rsa::RsaKey),
    Ecc(ecc::EccKey),
    Ed25519(ed25519::Ed25519Key),
    Sm2(sm2::Sm2Key),
    MlDsa(ml_dsa::MlDsaKey),
    MlKem(ml_kem::MlKemKey),
}

/// One version of an asymmetric KMS key's private key, parsed and ready to use.
///
/// Holds the aws-lc-rs (or, for SM2 and Ed25519ph, RustCrypto `sm2` / ed25519-dalek) key
/// objects and cached verifiers. `Debug` shows only the spec.
pub struct PrivateKey {
    spec: KeyPairSpec,
    family: Family,
}

impl PrivateKey {
    /// A fresh key pair (CreateKey, GenerateDataKeyPair).
    pub fn generate(spec: KeyPairSpec) -> Result<Self, CryptoError> {
        let family = match spec {
            KeyPairSpec::Rsa2048 => Family::Rsa(rsa::RsaKey::generate(2048)?),
            KeyPairSpec::Rsa3072 => Family::Rsa(rsa::RsaKey::generate(3072)?),
            KeyPairSpec::Rsa4096 => Family::Rsa(rsa::RsaKey::generate(4096)?),
            KeyPairSpec::EccNistP256
            | KeyPairSpec::EccNistP384
            | KeyPairSpec::EccNistP521
            | KeyPairSpec::EccSecgP256k1 => Family::Ecc(ecc::EccKey::generate(curve(spec)?)?),
            KeyPairSpec::EccNistEdwards25519 => Family::Ed25519(ed25519::Ed25519Key::generate()?),
            KeyPairSpec::Sm2 => Family::Sm2(sm2::Sm2Key::generate()?),
            KeyPairSpec::MlDsa44 | KeyPairSpec::MlDsa65 | KeyPairSpec::MlDsa87 => {
                Family::MlDsa(ml_dsa::MlDsaKey::generate(ml_dsa_level(spec)?)?)
            }
            KeyPairSpec::MlKem512 | KeyPairSpec::MlKem768 | KeyPairSpec::MlKem1024 => {
                Family::MlKem(ml_kem::MlKemKey::generate(ml_kem_level(spec)?)?)
            }
        };
        Ok(Self { spec, family })
    }

    /// Parses the stored encoding of a `spec` private key (the table in the module docs).
    fn from_stored(spec: KeyPairSpec, bytes: &[u8]) -> Result<Self, CryptoError> {
        let family = match spec {
            KeyPairSpec::Rsa2048 => Family::Rsa(rsa::RsaKey::from_pkcs8(bytes, 2048)?),
            KeyPairSpec::Rsa3072 => Family::Rsa(rsa::RsaKey::from_pkcs8(bytes, 3072)?),
            KeyPairSpec::Rsa4096 => Family::Rsa(rsa::RsaKey::from_pkcs8(bytes, 4096)?),
            KeyPairSpec::EccNistP256
            | KeyPairSpec::EccNistP384
            | KeyPairSpec::EccNistP521
            | KeyPairSpec::EccSecgP256k1 => {
                Family::Ecc(ecc::EccKey::from_pkcs8(curve(spec)?, bytes)?)
            }
            KeyPairSpec::EccNistEdwards25519 => {
                Family::Ed25519(ed25519::Ed25519Key::from_pkcs8(bytes)?)
            }
            KeyPairSpec::Sm2 => Family::Sm2(sm2::Sm2Key::from_pkcs8(bytes)?),
            KeyPairSpec::MlDsa44 | KeyPairSpec::MlDsa65 | KeyPairSpec::MlDsa87 => {
                Family::MlDsa(ml_dsa::MlDsaKey::from_pkcs8(ml_dsa_level(spec)?, bytes)?)
            }
            KeyPairSpec::MlKem512 | KeyPairSpec::MlKem768 | KeyPairSpec::MlKem1024 => {
                Family::MlKem(ml_kem::MlKemKey::from_decapsulation_key(
                    ml_kem_level(spec)?,
                    bytes,
                )?)
            }
        };
        Ok(Self { spec, family })
    }

    /// Imported key material (ImportKeyMaterial): a PKCS#8 DER private key that must be of
    /// `spec`'s type and size. AWS imports RSA, ECC and SM2 private keys this way; other specs
    /// are [`CryptoError::UnsupportedAlgorithm`], a key of another type or size
    /// [`CryptoError::InvalidKeyMaterial`].
    pub fn from_imported_pkcs8(spec: KeyPairSpec, pkcs8: &[u8]) -> Result<Self, CryptoError> {
        match spec {
            KeyPairSpec::Rsa2048
            | KeyPairSpec::Rsa3072
            | KeyPairSpec::Rsa4096
            | KeyPairSpec::EccNistP256
            | KeyPairSpec::EccNistP384
            | KeyPairSpec::EccNistP521
            | KeyPairSpec::EccSecgP256k1
            | KeyPairSpec::Sm2 => Self::from_stored(spec, pkcs8).map_err(|_| {
                CryptoError::InvalidKeyMaterial("not a PKCS#8 private key of the key spec")
            }),
            _ => Err(CryptoError::UnsupportedAlgorithm),
        }
    }

    /// The stored encoding (the table in the module docs).
    fn to_stored(&self) -> Result<SecretBytes, CryptoError> {
        match &self.family {
            Family::MlKem(key) => key.decapsulation_key(),
            _ => self.to_pkcs8(),
        }
    }

    /// The private key as PKCS#8 v1 DER (GenerateDataKeyPair's `PrivateKeyPlaintext`). ML-KEM
    /// keys made by aws-lc-rs have no seed, hence no PKCS#8 in the form clients read; ML-KEM
    /// data key pairs come from [`ml_kem::data_key_pair`] instead.
    fn to_pkcs8(&self) -> Result<SecretBytes, CryptoError> {
        match &self.family {
            Family::Rsa(key) => key.pkcs8(),
            Family::Ecc(key) => key.pkcs8(),
            Family::Ed25519(key) => key.pkcs8(),
            Family::Sm2(key) => key.pkcs8(),
            Family::MlDsa(key) => key.pkcs8(),
            Family::MlKem(_) => Err(CryptoError::Internal("ML-KEM keys have no seed PKCS#8")),
        }
    }

    /// The key spec.
    pub fn spec(&self) -> KeyPairSpec {
        self.spec
    }

    /// Wraps the private key under the root key for storage, bound to its key ARN and
    /// material id (see [`material_wrapping_aad`]).
    pub fn wrap(
        &self,
        root: &RootKey,
        key_arn: &str,
        key_material_id: &[u8; KEY_MATERIAL_ID_LEN],
    ) -> Result<Vec<u8>, CryptoError> {
        let stored = self.to_stored()?;
        root.wrap(
            &material_wrapping_aad(key_arn, key_material_id),
            stored.as_bytes(),
        )
    }

    /// Unwraps a private key stored by [`PrivateKey::wrap`]. A wrong root key, ARN, material
    /// id, spec or tampered value is [`CryptoError::UnwrapFailed`].
    pub fn unwrap(
        spec: KeyPairSpec,
        root: &RootKey,
        key_arn: &str,
        key_material_id: &[u8; KEY_MATERIAL_ID_LEN],
        wrapped: &[u8],
    ) -> Result<Self, CryptoError> {
        let stored = root.unwrap(&material_wrapping_aad(key_arn, key_material_id), wrapped)?;
        Self::from_stored(spec, stored.as_bytes()).map_err(|_| CryptoError::UnwrapFailed)
    }

    /// The public key as DER SubjectPublicKeyInfo (GetPublicKey's `PublicKey`).
    pub fn public_key_der(&self) -> Vec<u8> {
        match &self.family {
            Family::Rsa(key) => key.public_key_der(),
            Family::Ecc(key) => key.public_key_der(),
            Family::Ed25519(key) => key.public_key_der(),
            Family::Sm2(key) => key.public_key_der(),
            Family::MlDsa(key) => key.public_key_der(),
            Family::MlKem(key) => key.public_key_der(),
        }
        .to_vec()
    }

    /// Checks `alg`/`message_type` against the spec and a DIGEST's length.
    fn check_signing(
        &self,
        alg: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<(), CryptoError> {
        if !self.spec.signing_algorithms().contains(&alg)
            || !alg.message_types().contains(&message_type)
        {
            return Err(CryptoError::UnsupportedAlgorithm);
        }
        if message_type == MessageType::Digest && Some(message.len()) != alg.digest_len() {
            return Err(CryptoError::InvalidMessage(
                "the digest length does not match the signing algorithm",
            ));
        }
        Ok(())
    }

    /// Sign: `message` is the message (RAW), its digest under the algorithm's hash (DIGEST;
    /// a wrong length is [`CryptoError::InvalidMessage`]) or, for ML-DSA, μ (EXTERNAL_MU; not
    /// supported, see the module docs). An algorithm or message type the spec does not allow
    /// is [`CryptoError::UnsupportedAlgorithm`]. ECDSA and SM2DSA signatures are DER.
    pub fn sign(
        &self,
        alg: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.check_signing(alg, message_type, message)?;
        match &self.family {
            Family::Rsa(key) => key.sign(alg, message_type, message),
            Family::Ecc(key) => key.sign(alg, message_type, message),
            Family::Ed25519(key) => key.sign(alg, message_type, message),
            Family::Sm2(key) => key.sign(alg, message_type, message),
            Family::MlDsa(key) => key.sign(alg, message_type, message),
            Family::MlKem(_) => Err(CryptoError::UnsupportedAlgorithm),
        }
    }

    /// Verify with the cached public key: `Ok(true)` for a good signature, `Ok(false)` for a
    /// bad or malformed one. Errors as for [`PrivateKey::sign`].
    pub fn verify(
        &self,
        alg: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        self.check_signing(alg, message_type, message)?;
        match &self.family {
            Family::Rsa(key) => key.verify(alg, message_type, message, signature),
            Family::Ecc(key) => key.verify(alg, message_type, message, signature),
            Family::Ed25519(key) => key.verify(alg, message_type, message, signature),
            Family::Sm2(key) => key.verify(alg, message_type, message, signature),
            Family::MlDsa(key) => key.verify(alg, message_type, message, signature),
            Family::MlKem(_) => Err(CryptoError::UnsupportedAlgorithm),
        }
    }

    /// Encrypt with the public key: RSAES-OAEP (SHA-1 or SHA-256, MGF1 with the same hash,
    /// empty label) or SM2PKE. A plaintext over [`max_plaintext_len`] is
    /// [`CryptoError::InvalidMessage`].
    pub fn encrypt(
        &self,
        alg: AsymmetricEncryptionAlgorithm,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let max = max_plaintext_len(self.spec, alg).ok_or(CryptoError::UnsupportedAlgorithm)?;
        if plaintext.len() > max {
            return Err(CryptoError::InvalidMessage(
                "plaintext is too long for the key spec and encryption algorithm",
            ));
        }
        match &self.family {
            Family::Rsa(key) => key.encrypt(alg, plaintext),
            Family::Sm2(key) => key.encrypt(alg, plaintext),
            _ => Err(CryptoError::UnsupportedAlgorithm),
        }
    }

    /// Decrypt with the private key. Every failure is [`CryptoError::DecryptFailed`] (no
    /// oracle detail), except an algorithm the spec does not support
    /// ([`CryptoError::UnsupportedAlgorithm`]).
    pub fn decrypt(
        &self,
        alg: AsymmetricEncryptionAlgorithm,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        if !self.spec.encryption_algorithms().contains(&alg) {
            return Err(CryptoError::UnsupportedAlgorithm);
        }
        match &self.family {
            Family::Rsa(key) => key.decrypt(alg, ciphertext),
            Family::Sm2(key) => key.decrypt(alg, ciphertext),
            _ => Err(CryptoError::UnsupportedAlgorithm),
        }
    }

    /// ECDH (NIST curves and SM2): the raw shared secret, i.e. the x-coordinate of the shared
    /// point, as OpenSSL's `pkeyutl -derive` gives it. The peer key must be a DER
    /// SubjectPublicKeyInfo on the same curve, else [`CryptoError::InvalidPublicKey`]; other
    /// specs are [`CryptoError::UnsupportedAlgorithm`].
    pub fn derive_shared_secret(
        &self,
        peer_public_key_der: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        match &self.family {
            Family::Ecc(key) => key.derive_shared_secret(peer_public_key_der),
            Family::Sm2(key) => key.derive_shared_secret(peer_public_key_der),
            _ => Err(CryptoError::UnsupportedAlgorithm),
        }
    }

    /// ML-KEM encapsulation with the public key: (ciphertext, 32-byte shared secret).
    pub fn encapsulate(&self) -> Result<(Vec<u8>, SecretBytes), CryptoError> {
        match &self.family {
            Family::MlKem(key) => key.encapsulate(),
            _ => Err(CryptoError::UnsupportedAlgorithm),
        }
    }

    /// ML-KEM decapsulation with implicit rejection: a wrong but well-sized ciphertext yields
    /// a pseudo-random secret, not an error; a wrongly sized one is
    /// [`CryptoError::InvalidCiphertext`].
    pub fn decapsulate(&self, ciphertext: &[u8]) -> Result<SecretBytes, CryptoError> {
        match &self.family {
            Family::MlKem(key) => key.decapsulate(ciphertext),
            _ => Err(CryptoError::UnsupportedAlgorithm),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({}, <redacted>)", self.spec)
    }
}

/// The largest plaintext AWS accepts for Encrypt with this key spec and algorithm: RSA-OAEP's
/// k − 2·hLen − 2 (RSA_2048: 214 bytes with SHA-1, 190 with SHA-256; RSA_3072: 342/318;
/// RSA_4096: 470/446) and 1024 bytes for SM2PKE. `None` if the spec does not support `alg`.
pub fn max_plaintext_len(spec: KeyPairSpec, alg: AsymmetricEncryptionAlgorithm) -> Option<usize> {
    if !spec.encryption_algorithms().contains(&alg) {
        return None;
    }
    match spec {
        KeyPairSpec::Rsa2048 => Some(rsa::max_oaep_plaintext(2048, alg)),
        KeyPairSpec::Rsa3072 => Some(rsa::max_oaep_plaintext(3072, alg)),
        KeyPairSpec::Rsa4096 => Some(rsa::max_oaep_plaintext(4096, alg)),
        KeyPairSpec::Sm2 => Some(1024),
        _ => None,
    }
}

/// GenerateDataKeyPair: a fresh key pair as (PKCS#8 v1 DER private key, DER
/// SubjectPublicKeyInfo public key). ML-KEM private keys are in seed form (`[0]` 64 bytes).
pub fn generate_data_key_pair(
    spec: DataKeyPairSpec,
) -> Result<(SecretBytes, Vec<u8>), CryptoError> {
    let spec = KeyPairSpec::from(spec);
    match spec {
        KeyPairSpec::MlKem512 | KeyPairSpec::MlKem768 | KeyPairSpec::MlKem1024 => {
            ml_kem::data_key_pair(ml_kem_level(spec)?)
        }
        _ => {
            let key = PrivateKey::generate(spec)?;
            Ok((key.to_pkcs8()?, key.public_key_der()))
        }
    }
}

fn curve(spec: KeyPairSpec) -> Result<ecc::Curve, CryptoError> {
    match spec {
        KeyPairSpec::EccNistP256 => Ok(ecc::Curve::P256),
        KeyPairSpec::EccNistP384 => Ok(ecc::Curve::P384),
        KeyPairSpec::EccNistP521 => Ok(ecc::Curve::P521),
        KeyPairSpec::EccSecgP256k1 => Ok(ecc::Curve::Secp256k1),
        _ => Err(CryptoError::Internal("not an ECC key spec")),
    }
}

fn ml_dsa_level(spec: KeyPairSpec) -> Result<ml_dsa::Level, CryptoError> {
    match spec {
        KeyPairSpec::MlDsa44 => Ok(ml_dsa::Level::MlDsa44),
        KeyPairSpec::MlDsa65 => Ok(ml_dsa::Level::MlDsa65),
        KeyPairSpec::MlDsa87 => Ok(ml_dsa::Level::MlDsa87),
        _ => Err(CryptoError::Internal("not an ML-DSA key spec")),
    }
}

fn ml_kem_level(spec: KeyPairSpec) -> Result<ml_kem::Level, CryptoError> {
    match spec {
        KeyPairSpec::MlKem512 => Ok(ml_kem::Level::MlKem512),
        KeyPairSpec::MlKem768 => Ok(ml_kem::Level::MlKem768),
        KeyPairSpec::MlKem1024 => Ok(ml_kem::Level::MlKem1024),
        _ => Err(CryptoError::Internal("not an ML-KEM key spec")),
    }
}

/// A caller-supplied digest for `algorithm`; a wrong length is [`CryptoError::InvalidMessage`].
fn import_digest(
    bytes: &[u8],
    algorithm: &'static digest::Algorithm,
) -> Result<Digest, CryptoError> {
    Digest::import_less_safe(bytes, algorithm).map_err(|_| {
        CryptoError::InvalidMessage("the digest length does not match the signing algorithm")
    })
}
