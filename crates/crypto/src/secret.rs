//! Zeroizing byte buffers for keys and plaintext.

use std::fmt;

use zeroize::Zeroizing;

/// Secret bytes (key material, plaintext, data keys) that are wiped when dropped.
///
/// `Debug` prints only the length. There is deliberately no `Display`, `PartialEq`
/// (which would not be constant-time) or serialization.
#[derive(Clone, Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps `bytes`; they are zeroized when the result is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Copies `bytes` into a new zeroizing buffer.
    pub fn copy_from_slice(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }

    /// The secret bytes. Keep the borrow short and do not copy them into plain buffers.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Unwraps into the underlying zeroizing vector.
    pub fn into_zeroizing(self) -> Zeroizing<Vec<u8>> {
        self.0
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self::new(bytes)
    }
}

impl From<Zeroizing<Vec<u8>>> for SecretBytes {
    fn from(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<redacted>, {} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = SecretBytes::from(vec![0xAB; 5]);
        let shown = format!("{s:?} {s:#?}");
        assert!(shown.contains("SecretBytes(<redacted>, 5 bytes)"));
        assert!(!shown.to_lowercase().contains("ab"));
        assert!(!shown.contains("171"));
    }

    #[test]
    fn accessors() {
        let s = SecretBytes::copy_from_slice(b"abc");
        assert_eq!(s.as_bytes(), b"abc");
        assert_eq!(s.len(), 3);
        assert!(!s.is_empty());
        assert!(SecretBytes::default().is_empty());
        assert_eq!(&*s.clone().into_zeroizing(), b"abc");
    }
}
