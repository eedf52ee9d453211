//! Trent's cryptography: everything that touches key bytes lives in this crate.
//!
//! * [`root`] — the root key that wraps all key material at rest (ARCHITECTURE.md §3).
//! * [`symmetric`] — `SYMMETRIC_DEFAULT` key material and Encrypt/Decrypt (ARCHITECTURE.md §4).
//! * [`asymmetric`] — RSA, ECC, Ed25519, SM2, ML-DSA and ML-KEM key pairs: Sign/Verify,
//!   Encrypt/Decrypt, DeriveSharedSecret, Encapsulate/Decapsulate, GetPublicKey and
//!   GenerateDataKeyPair.
//! * [`hmac`] — HMAC keys: GenerateMac/VerifyMac.
//! * [`import`] — imported key material: wrapping key pairs and unwrapping.
//! * [`algorithms`] — the AWS algorithm and spec enums these modules take.
//! * [`blob`] — the versioned, self-describing symmetric ciphertext blob codec.
//! * [`context`] — the canonical, unambiguous encoding of an encryption context.
//! * [`secret`] and [`random`] — zeroizing byte buffers and the system CSPRNG.
//!
//! Primitives come from `aws-lc-rs`, except where it has none: SM2 (RustCrypto `sm2`) and
//! Ed25519ph (`ed25519-dalek`). Every buffer holding a key or plaintext is zeroized when
//! dropped, and no `Debug` output or error message contains secret bytes.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod aes_gcm;
pub mod algorithms;
pub mod asymmetric;
pub mod blob;
pub mod context;
mod error;
pub mod hmac;
pub mod import;
pub mod random;
pub mod root;
pub mod secret;
pub mod symmetric;

pub use algorithms::{
    AsymmetricEncryptionAlgorithm, DataKeyPairSpec, EncapsulationAlgorithm, KeyAgreementAlgorithm,
    MacAlgorithm, MessageType, SigningAlgorithm,
};
pub use asymmetric::{generate_data_key_pair, max_plaintext_len, KeyPairSpec, PrivateKey};
pub use error::CryptoError;
pub use hmac::{HmacKey, HmacKeySpec};
pub use secret::SecretBytes;
