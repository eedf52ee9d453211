//! Trent's cryptography: everything that touches key bytes lives in this crate.
//!
//! * [`root`] — the root key that wraps all key material at rest (DESIGN §3).
//! * [`symmetric`] — `SYMMETRIC_DEFAULT` key material and Encrypt/Decrypt (DESIGN §4).
//! * [`blob`] — the versioned, self-describing symmetric ciphertext blob codec.
//! * [`context`] — the canonical, unambiguous encoding of an encryption context.
//! * [`secret`] and [`random`] — zeroizing byte buffers and the system CSPRNG.
//!
//! All primitives come from `aws-lc-rs`. Every buffer holding a key or plaintext is
//! zeroized when dropped, and no `Debug` output or error message contains secret bytes.
//! Asymmetric and HMAC keys will get their own modules beside [`symmetric`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod aes_gcm;
pub mod blob;
pub mod context;
mod error;
pub mod random;
pub mod root;
pub mod secret;
pub mod symmetric;

pub use error::CryptoError;
pub use secret::SecretBytes;
