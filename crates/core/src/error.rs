//! Core's typed error. Each variant corresponds to one AWS error; the server maps them to
//! AWS error names and HTTP statuses in exactly one place.

use crate::store::StoreError;

/// Why a KMS operation failed, in AWS's terms. Messages never contain secrets.
#[derive(thiserror::Error, Debug)]
pub enum CoreError {
    /// NotFoundException.
    #[error("{0}")]
    NotFound(String),
    /// InvalidArnException.
    #[error("{0}")]
    InvalidArn(String),
    /// DisabledException.
    #[error("{0}")]
    Disabled(String),
    /// KMSInvalidStateException.
    #[error("{0}")]
    InvalidState(String),
    /// InvalidKeyUsageException.
    #[error("{0}")]
    InvalidKeyUsage(String),
    /// InvalidCiphertextException.
    #[error("{0}")]
    InvalidCiphertext(String),
    /// IncorrectKeyException.
    #[error("{0}")]
    IncorrectKey(String),
    /// AlreadyExistsException.
    #[error("{0}")]
    AlreadyExists(String),
    /// InvalidAliasNameException.
    #[error("{0}")]
    InvalidAliasName(String),
    /// ConflictException.
    #[error("{0}")]
    Conflict(String),
    /// LimitExceededException.
    #[error("{0}")]
    LimitExceeded(String),
    /// InvalidMarkerException.
    #[error("{0}")]
    InvalidMarker(String),
    /// NotAuthorizedException (reserved alias names).
    #[error("{0}")]
    NotAuthorized(String),
    /// TagException.
    #[error("{0}")]
    Tag(String),
    /// ValidationException.
    #[error("{0}")]
    Validation(String),
    /// MalformedPolicyDocumentException.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// AccessDeniedException.
    #[error("{0}")]
    AccessDenied(String),
    /// KMSInvalidSignatureException: Verify found the signature wrong. AWS sends no message.
    #[error("")]
    InvalidSignature,
    /// KMSInvalidMacException: VerifyMac found the MAC wrong. AWS sends no message.
    #[error("")]
    InvalidMac,
    /// DryRunOperationException: the call would have succeeded.
    #[error("The request would have succeeded, but the DryRun option is set.")]
    DryRun,
    /// UnsupportedOperationException.
    #[error("{0}")]
    UnsupportedOperation(String),
    /// CustomKeyStoreNotFoundException: no custom key store has this id or name (Trent has
    /// none yet, so every id names nothing).
    #[error("{0}")]
    CustomKeyStoreNotFound(String),
    /// InvalidGrantTokenException.
    #[error("{0}")]
    InvalidGrantToken(String),
    /// InvalidGrantIdException.
    #[error("{0}")]
    InvalidGrantId(String),
    /// ExpiredImportTokenException: the import token of ImportKeyMaterial is past its
    /// ParametersValidTo.
    #[error("{0}")]
    ExpiredImportToken(String),
    /// InvalidImportTokenException: the import token is not one GetParametersForImport gave
    /// for this key (forged, of another key, or already used).
    #[error("{0}")]
    InvalidImportToken(String),
    /// IncorrectKeyMaterialException: the imported material is invalid for the key spec or
    /// is not the material the key had before.
    #[error("{0}")]
    IncorrectKeyMaterial(String),
    /// KMSInternalException. The detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected(inner) => *inner,
            other => CoreError::Internal(other.to_string()),
        }
    }
}

impl From<trent_crypto::CryptoError> for CoreError {
    fn from(e: trent_crypto::CryptoError) -> Self {
        CoreError::Internal(format!("crypto: {e}"))
    }
}
