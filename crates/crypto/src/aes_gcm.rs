//! AES-256-GCM with caller-chosen IVs, shared by the root key and symmetric encryption.
//!
//! Callers pick IVs at random (root key) or use each key once (per-call derived data keys),
//! so `LessSafeKey` with an explicit nonce is sound here and lets tests pin exact outputs.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use zeroize::Zeroizing;

use crate::CryptoError;

/// AES-256 key length.
pub(crate) const KEY_LEN: usize = 32;
/// GCM IV length.
pub(crate) const IV_LEN: usize = 12;
/// GCM tag length.
pub(crate) const TAG_LEN: usize = 16;

/// An AES-256-GCM key. aws-lc cleanses its key schedule when the key is freed.
pub(crate) fn key(bytes: &[u8; KEY_LEN]) -> Result<LessSafeKey, CryptoError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| CryptoError::Internal("AES-256-GCM key setup failed"))
}

/// Encrypts `plaintext` and appends ciphertext ‖ tag to `out`.
///
/// `out` should be zeroizing: it briefly holds the plaintext.
pub(crate) fn seal_append(
    key: &LessSafeKey,
    iv: [u8; IV_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CryptoError> {
    let start = out.len();
    out.extend_from_slice(plaintext);
    let in_out = out
        .get_mut(start..)
        .ok_or(CryptoError::Internal("seal buffer"))?;
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(iv), Aad::from(aad), in_out)
        .map_err(|_| CryptoError::Internal("AES-256-GCM seal failed"))?;
    out.extend_from_slice(tag.as_ref());
    Ok(())
}

/// Decrypts and authenticates `ciphertext_and_tag`; `None` on any failure.
pub(crate) fn open(
    key: &LessSafeKey,
    iv: [u8; IV_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(ciphertext_and_tag.to_vec());
    let len = key
        .open_in_place(Nonce::assume_unique_for_key(iv), Aad::from(aad), &mut buf)
        .ok()?
        .len();
    buf.truncate(len);
    Some(buf)
}
