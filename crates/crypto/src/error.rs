//! The one error type of this crate.

/// What went wrong in a cryptographic operation.
///
/// Messages never contain key bytes, plaintext or ciphertext. Decryption failures of any
/// kind (wrong key, wrong context, tampering, truncation, unknown version) are all
/// [`CryptoError::InvalidCiphertext`] so callers cannot build an oracle from them.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A client-supplied ciphertext blob is malformed, corrupted, made under other key
    /// material, or bound to another encryption context; or an ML-KEM ciphertext has the
    /// wrong length for the key's parameter set.
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

    /// The algorithm (or message type) is not one this key spec supports, e.g.
    /// `ECDSA_SHA_384` with an `ECC_NIST_P256` key, `RSAES_OAEP_SHA_1` with an ECC key, or
    /// `HMAC_SHA_256` with an `HMAC_384` key.
    #[error("the algorithm or message type is not supported for this key spec")]
    UnsupportedAlgorithm,

    /// The message, digest, μ or plaintext handed to an operation is unacceptable: a `DIGEST`
    /// of the wrong length for the algorithm's hash, or a plaintext too long for RSA-OAEP.
    /// Carries a fixed description, never the data.
    #[error("invalid message: {0}")]
    InvalidMessage(&'static str),

    /// A peer public key (DeriveSharedSecret) is not a DER SubjectPublicKeyInfo of a valid
    /// point on the private key's curve.
    #[error("the public key is not a valid DER SubjectPublicKeyInfo on the key's curve")]
    InvalidPublicKey,

    /// Asymmetric decryption failed (wrong key, wrong algorithm, tampering, bad padding or
    /// length). Deliberately carries no detail, so callers cannot build a padding oracle.
    #[error("decryption failed")]
    DecryptFailed,

    /// A failure that should not happen (e.g. the system random generator failed).
    #[error("internal cryptographic failure: {0}")]
    Internal(&'static str),
}
