//! The one error type of this crate.

/// What went wrong in a cryptographic operation.
///
/// Messages never contain key bytes, plaintext or ciphertext. Decryption failures of any
/// kind (wrong key, wrong context, tampering, truncation, unknown version) are all
/// [`CryptoError::InvalidCiphertext`] so callers cannot build an oracle from them.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A client-supplied ciphertext blob is malformed, corrupted, made under other key
    /// material, or bound to another encryption context.
    #[error(
        "the ciphertext is invalid, corrupted, or does not match the key or encryption context"
    )]
    InvalidCiphertext,

    /// A root-key-wrapped value failed to unwrap: wrong root key, wrong binding (AAD) or
    /// corrupted stored data. For data read from the store this means tampering or a
    /// wrong root key, not a client error.
    #[error(
        "unwrapping with the root key failed (wrong root key, wrong binding, or corrupted data)"
    )]
    UnwrapFailed,

    /// Key bytes of the wrong length or shape were supplied.
    #[error("invalid key material: {0}")]
    InvalidKeyMaterial(&'static str),

    /// The root key file is readable or writable by group or others, or is not a regular
    /// file. Carries the path and the reason.
    #[error("insecure root key file: {0}")]
    InsecureRootKeyFile(String),

    /// The root key file has the wrong format. Carries the path and the reason.
    #[error("invalid root key file: {0}")]
    RootKeyFile(String),

    /// `create_file` refused to overwrite an existing root key file. Carries the path.
    #[error("root key file already exists: {0}")]
    RootKeyFileExists(String),

    /// Reading or writing the root key file failed.
    #[error("root key file {path}: {source}")]
    RootKeyIo {
        /// The file's path.
        path: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Any other I/O failure.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// A failure that should not happen (e.g. the system random generator failed).
    #[error("internal cryptographic failure: {0}")]
    Internal(&'static str),
}
