//! The one place where every layer's error becomes an AWS error: `__type`, message, status.
//! Internal failures reach clients only as `KMSInternalException` with a generic message;
//! their detail goes to the log (it never contains secrets).
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)] // guard rails: lifted after the IAM refactor lands

use trent_core::CoreError;
use trent_sigv4::SigV4Error;
use trent_wire::{ErrorCode, WireError};

/// Why a request failed, by the layer that refused it.
#[derive(Debug)]
pub enum ApiError {
    /// ① framing: not a KMS JSON request.
    UnknownOperation(String),
    /// ① framing: the body is larger than the limit.
    TooLarge(usize),
    /// ① framing: the body could not be read.
    BadBody(String),
    /// ② authentication.
    Auth(SigV4Error),
    /// ② a session token whose credentials have expired.
    ExpiredToken,
    /// ③④ decode and validation.
    Wire(WireError),
    /// ⑤ the KMS.
    Core(CoreError),
    /// ⑥ the audit record could not be written: fail closed.
    Audit(String),
    /// Anything else that is Trent's fault.
    Internal(String),
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError::Core(e)
    }
}

impl From<WireError> for ApiError {
    fn from(e: WireError) -> Self {
        ApiError::Wire(e)
    }
}

impl From<SigV4Error> for ApiError {
    fn from(e: SigV4Error) -> Self {
        ApiError::Auth(e)
    }
}

/// AWS's message for temporary credentials past their expiration.
pub const EXPIRED_TOKEN_MESSAGE: &str = "The security token included in the request is expired";

const INTERNAL_MESSAGE: &str =
    "The request was rejected because of an internal exception. The request can be retried.";

impl ApiError {
    /// The AWS error code and message a client sees.
    pub fn to_aws(&self) -> (ErrorCode, String) {
        use ErrorCode as E;
        match self {
            ApiError::UnknownOperation(m) => (E::UnknownOperationException, m.clone()),
            ApiError::TooLarge(limit) => (
                E::RequestEntityTooLargeException,
                format!("Request body is larger than the limit of {limit} bytes"),
            ),
            ApiError::BadBody(m) => (E::SerializationException, m.clone()),
            ApiError::Auth(e) => {
                let code = match e {
                    SigV4Error::MissingAuthenticationToken => {
                        E::MissingAuthenticationTokenException
                    }
                    SigV4Error::IncompleteSignature(_) => E::IncompleteSignatureException,
                    SigV4Error::UnrecognizedClient | SigV4Error::InvalidSecurityToken => {
                        E::UnrecognizedClientException
                    }
                    SigV4Error::InvalidSignature(_) | SigV4Error::SignatureExpired(_) => {
                        E::InvalidSignatureException
                    }
                };
                (code, e.message())
            }
            ApiError::ExpiredToken => (E::ExpiredTokenException, EXPIRED_TOKEN_MESSAGE.into()),
            ApiError::Wire(WireError::Serialization(m)) => (E::SerializationException, m.clone()),
            ApiError::Wire(WireError::Validation(m)) => (E::ValidationException, m.clone()),
            ApiError::Core(e) => {
                let code = match e {
                    CoreError::NotFound(_) => E::NotFoundException,
                    CoreError::InvalidArn(_) => E::InvalidArnException,
                    CoreError::Disabled(_) => E::DisabledException,
                    CoreError::InvalidState(_) => E::KMSInvalidStateException,
                    CoreError::InvalidKeyUsage(_) => E::InvalidKeyUsageException,
                    CoreError::InvalidCiphertext(_) => E::InvalidCiphertextException,
                    CoreError::IncorrectKey(_) => E::IncorrectKeyException,
                    CoreError::AlreadyExists(_) => E::AlreadyExistsException,
                    CoreError::InvalidAliasName(_) => E::InvalidAliasNameException,
                    CoreError::InvalidMarker(_) => E::InvalidMarkerException,
                    CoreError::NotAuthorized(_) => E::NotAuthorizedException,
                    CoreError::LimitExceeded(_) => E::LimitExceededException,
                    CoreError::Conflict(_) => E::ConflictException,
                    CoreError::Tag(_) => E::TagException,
                    CoreError::Validation(_) => E::ValidationException,
                    CoreError::MalformedPolicyDocument(_) => E::MalformedPolicyDocumentException,
                    CoreError::AccessDenied(_) => E::AccessDeniedException,
                    CoreError::InvalidSignature => E::KMSInvalidSignatureException,
                    CoreError::InvalidMac => E::KMSInvalidMacException,
                    CoreError::DryRun => E::DryRunOperationException,
                    CoreError::UnsupportedOperation(_) => E::UnsupportedOperationException,
                    CoreError::InvalidGrantToken(_) => E::InvalidGrantTokenException,
                    CoreError::InvalidGrantId(_) => E::InvalidGrantIdException,
                    CoreError::Internal(_) => {
                        return (E::KMSInternalException, INTERNAL_MESSAGE.into())
                    }
                };
                (code, e.to_string())
            }
            ApiError::Audit(_) | ApiError::Internal(_) => {
                (E::KMSInternalException, INTERNAL_MESSAGE.into())
            }
        }
    }

    /// Whether the failure is Trent's fault (logged at error level).
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            ApiError::Audit(_) | ApiError::Internal(_) | ApiError::Core(CoreError::Internal(_))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_never_reach_the_client() {
        let (code, msg) = ApiError::Core(CoreError::Internal("disk /secret/path".into())).to_aws();
        assert_eq!(code, ErrorCode::KMSInternalException);
        assert!(!msg.contains("secret"));
        let (code, _) = ApiError::Audit("ENOSPC".into()).to_aws();
        assert_eq!(code.http_status(), 500);
    }

    #[test]
    fn bad_signatures_and_macs_have_their_own_codes_and_no_message() {
        let (code, msg) = ApiError::Core(CoreError::InvalidSignature).to_aws();
        assert_eq!(code, ErrorCode::KMSInvalidSignatureException);
        assert_eq!(msg, "");
        let (code, msg) = ApiError::Core(CoreError::InvalidMac).to_aws();
        assert_eq!(code, ErrorCode::KMSInvalidMacException);
        assert_eq!(msg, "");
        assert_eq!(code.http_status(), 400);
    }

    #[test]
    fn grant_errors_have_their_aws_codes() {
        let (code, msg) = ApiError::Core(CoreError::InvalidGrantToken(
            "Grant token is not valid.".into(),
        ))
        .to_aws();
        assert_eq!(code, ErrorCode::InvalidGrantTokenException);
        assert_eq!(msg, "Grant token is not valid.");
        let (code, _) = ApiError::Core(CoreError::InvalidGrantId("bad".into())).to_aws();
        assert_eq!(code, ErrorCode::InvalidGrantIdException);
    }

    #[test]
    fn dry_run_is_400() {
        let (code, _) = ApiError::Core(CoreError::DryRun).to_aws();
        assert_eq!(code.http_status(), 400);
    }
}
