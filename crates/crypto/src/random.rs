//! Randomness from the system CSPRNG (aws-lc-rs `SystemRandom`).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::{CryptoError, SecretBytes};

/// Fills `buf` with cryptographically secure random bytes.
pub fn fill(buf: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new()
        .fill(buf)
        .map_err(|_| CryptoError::Internal("system random generator failed"))
}

/// `n` secret random bytes in a zeroizing buffer (data keys, `GenerateRandom`, key material).
pub fn random_bytes(n: usize) -> Result<SecretBytes, CryptoError> {
    let mut buf = Zeroizing::new(vec![0u8; n]);
    fill(&mut buf)?;
    Ok(SecretBytes::from(buf))
}

/// `N` random bytes for non-secret values: ids, nonces, IVs. Not zeroized.
pub fn random_array<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_variety() {
        assert_eq!(random_bytes(0).unwrap().len(), 0);
        let a = random_bytes(32).unwrap();
        let b = random_bytes(32).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a.as_bytes(), b.as_bytes());
        let x: [u8; 16] = random_array().unwrap();
        let y: [u8; 16] = random_array().unwrap();
        assert_ne!(x, y);
    }
}
