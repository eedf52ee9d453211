//! The symmetric ciphertext blob (ARCHITECTURE.md §4), format version 1.
//!
//! ```text
//! version (1 = 0x01) | key id (16) | key material id (32) | derivation nonce (32) | IV (12) | ciphertext | tag (16)
//! ```
//!
//! The header (everything before the ciphertext) is authenticated as part of the AAD, so
//! the blob names its own key (`Decrypt` works without `KeyId`) and cannot be relabelled.
//! The parser is strict and total: any input yields a value or
//! [`CryptoError::InvalidCiphertext`], never a panic.

use crate::aes_gcm::{IV_LEN, TAG_LEN};
use crate::CryptoError;

/// The version byte of format version 1.
pub const VERSION_1: u8 = 0x01;
/// Length of the key id (a UUID's 16 bytes).
pub const KEY_ID_LEN: usize = 16;
/// Length of a key material id (shown to clients as 64 hex digits).
pub const KEY_MATERIAL_ID_LEN: usize = 32;
/// Length of the per-call derivation nonce (the HKDF salt).
pub const NONCE_LEN: usize = 32;
/// Length of the AES-GCM IV.
pub const BLOB_IV_LEN: usize = IV_LEN;
/// Length of the AES-GCM tag.
pub const BLOB_TAG_LEN: usize = TAG_LEN;
/// Length of the version 1 header.
pub const HEADER_LEN: usize = 1 + KEY_ID_LEN + KEY_MATERIAL_ID_LEN + NONCE_LEN + BLOB_IV_LEN;
/// Smallest valid version 1 blob (empty plaintext).
pub const MIN_BLOB_LEN: usize = HEADER_LEN + BLOB_TAG_LEN;

/// The decoded header of a version 1 blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CiphertextHeader {
    /// The KMS key's id (UUID bytes).
    pub key_id: [u8; KEY_ID_LEN],
    /// Which version of the key's material encrypted this blob.
    pub key_material_id: [u8; KEY_MATERIAL_ID_LEN],
    /// The derivation nonce: HKDF salt for the per-call data key.
    pub nonce: [u8; NONCE_LEN],
    /// The AES-GCM IV.
    pub iv: [u8; BLOB_IV_LEN],
}

impl CiphertextHeader {
    /// The header's wire form (the first [`HEADER_LEN`] bytes of a version 1 blob).
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let parts: [&[u8]; 5] = [
            &[VERSION_1],
            &self.key_id,
            &self.key_material_id,
            &self.nonce,
            &self.iv,
        ];
        let mut at = 0;
        for part in parts {
            let end = at + part.len();
            out[at..end].copy_from_slice(part);
            at = end;
        }
        out
    }
}

/// A parsed blob borrowing from its input.
#[derive(Clone, Copy, Debug)]
pub struct ParsedBlob<'a> {
    /// The decoded header.
    pub header: CiphertextHeader,
    /// The header exactly as received (authenticated as AAD).
    pub header_bytes: &'a [u8],
    /// Ciphertext followed by the 16-byte tag.
    pub ciphertext_and_tag: &'a [u8],
}

/// Parses a ciphertext blob. Empty, truncated, or unknown-version input is
/// [`CryptoError::InvalidCiphertext`]; this never panics.
pub fn parse(blob: &[u8]) -> Result<ParsedBlob<'_>, CryptoError> {
    let (header_bytes, ciphertext_and_tag) = blob
        .split_at_checked(HEADER_LEN)
        .ok_or(CryptoError::InvalidCiphertext)?;
    if ciphertext_and_tag.len() < BLOB_TAG_LEN {
        return Err(CryptoError::InvalidCiphertext);
    }
    let mut r = Reader(header_bytes);
    let [version] = r.take::<1>()?;
    if version != VERSION_1 {
        return Err(CryptoError::InvalidCiphertext);
    }
    let header = CiphertextHeader {
        key_id: r.take()?,
        key_material_id: r.take()?,
        nonce: r.take()?,
        iv: r.take()?,
    };
    Ok(ParsedBlob {
        header,
        header_bytes,
        ciphertext_and_tag,
    })
}

/// The key id a blob names, if it parses; lets `Decrypt` without `KeyId` find its key.
pub fn peek_key_id(blob: &[u8]) -> Option<[u8; KEY_ID_LEN]> {
    parse(blob).ok().map(|p| p.header.key_id)
}

/// Takes fixed-size fields off the front of a byte slice.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], CryptoError> {
        let (field, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(CryptoError::InvalidCiphertext)?;
        self.0 = rest;
        Ok(*field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample_header() -> CiphertextHeader {
        CiphertextHeader {
            key_id: [1; 16],
            key_material_id: [2; 32],
            nonce: [3; 32],
            iv: [4; 12],
        }
    }

    #[test]
    fn lengths() {
        assert_eq!(HEADER_LEN, 93);
        assert_eq!(MIN_BLOB_LEN, 109);
    }

    #[test]
    fn header_round_trip() {
        let h = sample_header();
        let mut blob = h.to_bytes().to_vec();
        blob.extend_from_slice(&[9; 20]);
        let p = parse(&blob).unwrap();
        assert_eq!(p.header, h);
        assert_eq!(p.header_bytes, &h.to_bytes());
        assert_eq!(p.ciphertext_and_tag, &[9; 20]);
        assert_eq!(peek_key_id(&blob), Some([1; 16]));
    }

    #[test]
    fn layout_is_version_then_fields_in_order() {
        let b = sample_header().to_bytes();
        assert_eq!(b[0], 0x01);
        assert_eq!(&b[1..17], &[1; 16]);
        assert_eq!(&b[17..49], &[2; 32]);
        assert_eq!(&b[49..81], &[3; 32]);
        assert_eq!(&b[81..93], &[4; 12]);
    }

    #[test]
    fn too_short_or_unknown_version_is_invalid() {
        let mut blob = sample_header().to_bytes().to_vec();
        blob.extend_from_slice(&[0; 16]);
        assert!(parse(&blob).is_ok(), "empty plaintext is a valid shape");
        for len in 0..blob.len() {
            assert!(matches!(
                parse(&blob[..len]),
                Err(CryptoError::InvalidCiphertext)
            ));
            assert_eq!(peek_key_id(&blob[..len]), None);
        }
        for v in [0x00, 0x02, 0xFF] {
            blob[0] = v;
            assert!(matches!(parse(&blob), Err(CryptoError::InvalidCiphertext)));
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let parsed = parse(&bytes);
            prop_assert_eq!(parsed.is_ok(), bytes.len() >= MIN_BLOB_LEN && bytes[0] == VERSION_1);
            if let Ok(p) = parsed {
                prop_assert_eq!(p.header_bytes.len() + p.ciphertext_and_tag.len(), bytes.len());
                prop_assert_eq!(&p.header.to_bytes()[..], p.header_bytes);
            }
        }

        #[test]
        fn version_one_prefix_parses(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut bytes = vec![VERSION_1];
            bytes.extend_from_slice(&tail);
            prop_assert_eq!(parse(&bytes).is_ok(), bytes.len() >= MIN_BLOB_LEN);
        }
    }
}
