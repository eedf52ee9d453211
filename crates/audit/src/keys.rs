//! The audit log's keys: an HMAC-SHA256 key that chains the records, and an Ed25519 key pair
//! that signs checkpoints. Both are derived from the root key by the caller
//! (`RootKey::derive_audit_mac_key`, `RootKey::derive_audit_signing_seed`), so the root key is
//! never used directly and the same data dir always gives the same keys.

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use crate::chain::Hash;

/// Length of an Ed25519 public key and of each derived secret.
const KEY_LEN: usize = 32;

/// Why keys could not be built from the given secrets.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid audit key: {0}")]
pub struct KeyError(&'static str);

/// The keys of one audit log. `Debug` shows only the public key.
pub struct AuditKeys {
    mac: hmac::Key,
    signing: Ed25519KeyPair,
    public: CheckpointPublicKey,
}

impl AuditKeys {
    /// Keys from a 32-byte HMAC-SHA256 key and a 32-byte Ed25519 seed. The caller zeroizes
    /// its copies; aws-lc cleanses its own when the keys drop.
    pub fn new(mac_key: &[u8], signing_seed: &[u8]) -> Result<AuditKeys, KeyError> {
        if mac_key.len() != KEY_LEN {
            return Err(KeyError("the HMAC key must be 32 bytes"));
        }
        if signing_seed.len() != KEY_LEN {
            return Err(KeyError("the Ed25519 seed must be 32 bytes"));
        }
        let signing = Ed25519KeyPair::from_seed_unchecked(signing_seed)
            .map_err(|_| KeyError("the Ed25519 seed was rejected"))?;
        let mut public = [0u8; KEY_LEN];
        public.copy_from_slice(signing.public_key().as_ref());
        Ok(AuditKeys {
            mac: hmac::Key::new(hmac::HMAC_SHA256, mac_key),
            signing,
            public: CheckpointPublicKey(public),
        })
    }

    /// The public key that checks checkpoint signatures (`trent audit public-key`).
    pub fn public_key(&self) -> CheckpointPublicKey {
        self.public
    }

    /// HMAC-SHA256 of a record's line: its chain value.
    pub(crate) fn mac(&self, line: &[u8]) -> Hash {
        let tag = hmac::sign(&self.mac, line);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Ed25519 signature of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        let sig = self.signing.sign(message);
        let mut out = [0u8; 64];
        out.copy_from_slice(sig.as_ref());
        out
    }
}

impl std::fmt::Debug for AuditKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKeys")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// The Ed25519 public key of checkpoint signatures, shown and parsed as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPublicKey([u8; KEY_LEN]);

impl CheckpointPublicKey {
    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<CheckpointPublicKey> {
        let mut k = [0u8; KEY_LEN];
        hex::decode_to_slice(s.trim(), &mut k).ok()?;
        Some(CheckpointPublicKey(k))
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&signature::ED25519, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}

impl std::fmt::Display for CheckpointPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for CheckpointPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckpointPublicKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_under_their_own_key_and_message() {
        let k = AuditKeys::new(&[1; 32], &[2; 32]).unwrap();
        let other = AuditKeys::new(&[1; 32], &[3; 32]).unwrap();
        let sig = k.sign(b"message");
        assert!(k.public_key().verifies(b"message", &sig));
        assert!(!k.public_key().verifies(b"messagf", &sig));
        assert!(!other.public_key().verifies(b"message", &sig));
        let parsed = CheckpointPublicKey::from_hex(&k.public_key().to_string()).unwrap();
        assert_eq!(parsed, k.public_key());
    }

    #[test]
    fn the_mac_depends_on_the_key_and_wrong_lengths_are_refused() {
        let a = AuditKeys::new(&[1; 32], &[2; 32]).unwrap();
        let b = AuditKeys::new(&[9; 32], &[2; 32]).unwrap();
        assert_ne!(a.mac(b"line"), b.mac(b"line"));
        assert_eq!(a.mac(b"line"), a.mac(b"line"));
        assert!(AuditKeys::new(&[1; 31], &[2; 32]).is_err());
        assert!(AuditKeys::new(&[1; 32], &[2; 33]).is_err());
        assert!(!format!("{a:?}").contains("0101"));
    }
}
