//! The IAM/STS domain's typed error: one variant per IAM error code the domain can answer.
//! The server maps each to IAM's `Code` and HTTP status in one place (ARCHITECTURE.md §1).

use crate::error::CoreError;
use crate::store::StoreError;

/// Why an IAM or STS operation failed, in IAM's terms. Messages never contain secrets.
#[derive(thiserror::Error, Debug)]
pub enum IamError {
    /// `NoSuchEntity`: the user, role, policy or access key does not exist.
    #[error("{0}")]
    NoSuchEntity(String),
    /// `EntityAlreadyExists`: a user or role of that name exists.
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// `MalformedPolicyDocument`: a policy does not parse or breaks IAM's grammar.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// `ValidationError`: a member breaks a constraint.
    #[error("{0}")]
    Validation(String),
    /// `LimitExceeded`: an IAM quota.
    #[error("{0}")]
    LimitExceeded(String),
    /// `DeleteConflict`: the entity still has dependents.
    #[error("{0}")]
    DeleteConflict(String),
    /// `AccessDenied`: no policy allows the call, or one denies it.
    #[error("{0}")]
    AccessDenied(String),
    /// `ServiceFailure`: Trent's fault. The detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for IamError {
    fn from(e: StoreError) -> Self {
        IamError::Internal(e.to_string())
    }
}

impl From<CoreError> for IamError {
    fn from(e: CoreError) -> Self {
        IamError::Internal(e.to_string())
    }
}

impl From<trent_crypto::CryptoError> for IamError {
    fn from(e: trent_crypto::CryptoError) -> Self {
        IamError::Internal(format!("crypto: {e}"))
    }
}
