//! The one place where every layer's error becomes an AWS error (ARCHITECTURE.md §1): for KMS
//! ([`ApiError`]) its `__type`, message and status; for IAM and STS ([`QueryError`]) its
//! `Code`, `Type`, message and status. Every `match` here is exhaustive over our own enums, so
//! a new variant anywhere must be given its AWS answer here. Internal failures reach clients
//! only as `KMSInternalException` (or IAM's `ServiceFailure`) with a generic message; their
//! detail goes to the log (it never contains secrets).

use trent_core::iam::IamError;
use trent_core::CoreError;
use trent_sigv4::SigV4Error;
use trent_wire::{ErrorCode, WireError};

use crate::authenticate::AuthFailure;
use crate::http::BodyError;

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

impl From<AuthFailure> for ApiError {
    fn from(e: AuthFailure) -> Self {
        match e {
            AuthFailure::SigV4(e) => ApiError::Auth(e),
            AuthFailure::ExpiredToken => ApiError::ExpiredToken,
        }
    }
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge(limit) => ApiError::TooLarge(limit),
            BodyError::Unreadable(m) => ApiError::BadBody(m),
        }
    }
}

/// AWS's message for temporary credentials past their expiration.
pub const EXPIRED_TOKEN_MESSAGE: &str = "The security token included in the request is expired";

/// The message of a body over the limit, in every protocol.
fn too_large_message(limit: usize) -> String {
    format!("Request body is larger than the limit of {limit} bytes")
}

const INTERNAL_MESSAGE: &str =
    "The request was rejected because of an internal exception. The request can be retried.";

impl ApiError {
    /// The AWS error code and message a client sees.
    pub fn to_aws(&self) -> (ErrorCode, String) {
        use ErrorCode as E;
        match self {
            ApiError::UnknownOperation(m) => (E::UnknownOperationException, m.clone()),
            ApiError::TooLarge(limit) => {
                (E::RequestEntityTooLargeException, too_large_message(*limit))
            }
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
                    CoreError::CustomKeyStoreNotFound(_) => E::CustomKeyStoreNotFoundException,
                    CoreError::InvalidGrantToken(_) => E::InvalidGrantTokenException,
                    CoreError::InvalidGrantId(_) => E::InvalidGrantIdException,
                    CoreError::ExpiredImportToken(_) => E::ExpiredImportTokenException,
                    CoreError::InvalidImportToken(_) => E::InvalidImportTokenException,
                    CoreError::IncorrectKeyMaterial(_) => E::IncorrectKeyMaterialException,
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

/// Why an IAM or STS request failed, by the layer that refused it.
#[derive(Debug)]
pub enum QueryError {
    /// ① framing: not a query API request, or an action the version does not have.
    InvalidAction(String),
    /// ① framing: the body is larger than the limit.
    TooLarge(usize),
    /// ① framing: the body could not be read.
    BadBody(String),
    /// ② authentication.
    Auth(SigV4Error),
    /// ② a session token whose credentials have expired.
    ExpiredToken,
    /// ③ the query parameters' checks and ⑤ the IAM domain.
    Iam(IamError),
    /// ⑥ the audit record could not be written: fail closed.
    Audit(String),
}

impl From<IamError> for QueryError {
    fn from(e: IamError) -> Self {
        QueryError::Iam(e)
    }
}

impl From<AuthFailure> for QueryError {
    fn from(e: AuthFailure) -> Self {
        match e {
            AuthFailure::SigV4(e) => QueryError::Auth(e),
            AuthFailure::ExpiredToken => QueryError::ExpiredToken,
        }
    }
}

impl From<BodyError> for QueryError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge(limit) => QueryError::TooLarge(limit),
            BodyError::Unreadable(m) => QueryError::BadBody(m),
        }
    }
}

/// IAM's answer to an error: `Code`, HTTP status, and whether the sender is at fault
/// (`<Type>Sender</Type>`, else `Receiver`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryCode {
    /// IAM's or STS's error code.
    pub code: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// Whether the sender is at fault.
    pub sender: bool,
}

const fn query_code(code: &'static str, status: u16, sender: bool) -> QueryCode {
    QueryCode {
        code,
        status,
        sender,
    }
}

/// IAM's `ServiceFailure` message (it says nothing of the cause).
const SERVICE_FAILURE_MESSAGE: &str =
    "The request processing has failed because of an unknown error, exception or failure.";

impl QueryError {
    /// IAM's error code, HTTP status, and whether the sender is at fault.
    pub fn code(&self) -> QueryCode {
        match self {
            QueryError::InvalidAction(_) => query_code("InvalidAction", 400, true),
            QueryError::TooLarge(_) => query_code("RequestEntityTooLarge", 413, true),
            QueryError::BadBody(_) => query_code("ValidationError", 400, true),
            QueryError::Auth(e) => match e {
                SigV4Error::MissingAuthenticationToken => {
                    query_code("MissingAuthenticationToken", 403, true)
                }
                SigV4Error::IncompleteSignature(_) => query_code("IncompleteSignature", 400, true),
                SigV4Error::UnrecognizedClient | SigV4Error::InvalidSecurityToken => {
                    query_code("InvalidClientTokenId", 403, true)
                }
                SigV4Error::InvalidSignature(_) | SigV4Error::SignatureExpired(_) => {
                    query_code("SignatureDoesNotMatch", 403, true)
                }
            },
            QueryError::ExpiredToken => query_code("ExpiredToken", 400, true),
            QueryError::Iam(e) => match e {
                IamError::NoSuchEntity(_) => query_code("NoSuchEntity", 404, true),
                IamError::EntityAlreadyExists(_) => query_code("EntityAlreadyExists", 409, true),
                IamError::MalformedPolicyDocument(_) => {
                    query_code("MalformedPolicyDocument", 400, true)
                }
                IamError::Validation(_) => query_code("ValidationError", 400, true),
                IamError::LimitExceeded(_) => query_code("LimitExceeded", 409, true),
                IamError::DeleteConflict(_) => query_code("DeleteConflict", 409, true),
                IamError::AccessDenied(_) => query_code("AccessDenied", 403, true),
                IamError::Internal(_) => query_code("ServiceFailure", 500, false),
            },
            QueryError::Audit(_) => query_code("ServiceFailure", 500, false),
        }
    }

    /// The message sent to the client.
    pub fn message(&self) -> String {
        match self {
            QueryError::InvalidAction(m) | QueryError::BadBody(m) => m.clone(),
            QueryError::TooLarge(limit) => too_large_message(*limit),
            // AWS's words, as for KMS (e.g. `INVALID_SECURITY_TOKEN` for an unknown key).
            QueryError::Auth(e) => e.message(),
            QueryError::ExpiredToken => EXPIRED_TOKEN_MESSAGE.into(),
            QueryError::Iam(e) => match e {
                IamError::Internal(_) => SERVICE_FAILURE_MESSAGE.into(),
                IamError::NoSuchEntity(_)
                | IamError::EntityAlreadyExists(_)
                | IamError::MalformedPolicyDocument(_)
                | IamError::Validation(_)
                | IamError::LimitExceeded(_)
                | IamError::DeleteConflict(_)
                | IamError::AccessDenied(_) => e.to_string(),
            },
            QueryError::Audit(_) => SERVICE_FAILURE_MESSAGE.into(),
        }
    }

    /// Whether the failure is Trent's fault (logged at error level).
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            QueryError::Audit(_) | QueryError::Iam(IamError::Internal(_))
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

    /// The message a row expects: exactly this text, or the generic internal one (the detail
    /// must not leak).
    enum Says {
        Exactly(&'static str),
        Generic,
    }

    /// A name per variant of every error the KMS path maps, written as an exhaustive `match`:
    /// a new variant does not compile until it is named here, and the table test then wants
    /// its row.
    fn api_variant(e: &ApiError) -> &'static str {
        match e {
            ApiError::UnknownOperation(_) => "UnknownOperation",
            ApiError::TooLarge(_) => "TooLarge",
            ApiError::BadBody(_) => "BadBody",
            ApiError::Auth(a) => match a {
                SigV4Error::MissingAuthenticationToken => "Auth::MissingAuthenticationToken",
                SigV4Error::IncompleteSignature(_) => "Auth::IncompleteSignature",
                SigV4Error::UnrecognizedClient => "Auth::UnrecognizedClient",
                SigV4Error::InvalidSignature(_) => "Auth::InvalidSignature",
                SigV4Error::SignatureExpired(_) => "Auth::SignatureExpired",
                SigV4Error::InvalidSecurityToken => "Auth::InvalidSecurityToken",
            },
            ApiError::ExpiredToken => "ExpiredToken",
            ApiError::Wire(WireError::Serialization(_)) => "Wire::Serialization",
            ApiError::Wire(WireError::Validation(_)) => "Wire::Validation",
            ApiError::Core(c) => match c {
                CoreError::NotFound(_) => "Core::NotFound",
                CoreError::InvalidArn(_) => "Core::InvalidArn",
                CoreError::Disabled(_) => "Core::Disabled",
                CoreError::InvalidState(_) => "Core::InvalidState",
                CoreError::InvalidKeyUsage(_) => "Core::InvalidKeyUsage",
                CoreError::InvalidCiphertext(_) => "Core::InvalidCiphertext",
                CoreError::IncorrectKey(_) => "Core::IncorrectKey",
                CoreError::AlreadyExists(_) => "Core::AlreadyExists",
                CoreError::InvalidAliasName(_) => "Core::InvalidAliasName",
                CoreError::Conflict(_) => "Core::Conflict",
                CoreError::LimitExceeded(_) => "Core::LimitExceeded",
                CoreError::InvalidMarker(_) => "Core::InvalidMarker",
                CoreError::NotAuthorized(_) => "Core::NotAuthorized",
                CoreError::Tag(_) => "Core::Tag",
                CoreError::Validation(_) => "Core::Validation",
                CoreError::MalformedPolicyDocument(_) => "Core::MalformedPolicyDocument",
                CoreError::AccessDenied(_) => "Core::AccessDenied",
                CoreError::InvalidSignature => "Core::InvalidSignature",
                CoreError::InvalidMac => "Core::InvalidMac",
                CoreError::DryRun => "Core::DryRun",
                CoreError::UnsupportedOperation(_) => "Core::UnsupportedOperation",
                CoreError::CustomKeyStoreNotFound(_) => "Core::CustomKeyStoreNotFound",
                CoreError::InvalidGrantToken(_) => "Core::InvalidGrantToken",
                CoreError::InvalidGrantId(_) => "Core::InvalidGrantId",
                CoreError::ExpiredImportToken(_) => "Core::ExpiredImportToken",
                CoreError::InvalidImportToken(_) => "Core::InvalidImportToken",
                CoreError::IncorrectKeyMaterial(_) => "Core::IncorrectKeyMaterial",
                CoreError::Internal(_) => "Core::Internal",
            },
            ApiError::Audit(_) => "Audit",
            ApiError::Internal(_) => "Internal",
        }
    }

    #[test]
    fn every_kms_path_error_has_its_aws_type_status_and_message() {
        use ErrorCode as E;
        let m = || "m".to_string();
        let rows: Vec<(ApiError, ErrorCode, u16, Says)> = vec![
            (
                ApiError::UnknownOperation(m()),
                E::UnknownOperationException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::TooLarge(10),
                E::RequestEntityTooLargeException,
                413,
                Says::Exactly("Request body is larger than the limit of 10 bytes"),
            ),
            (
                ApiError::BadBody(m()),
                E::SerializationException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Auth(SigV4Error::MissingAuthenticationToken),
                E::MissingAuthenticationTokenException,
                400,
                Says::Exactly(trent_sigv4::MISSING_AUTHENTICATION_TOKEN),
            ),
            (
                ApiError::Auth(SigV4Error::IncompleteSignature(m())),
                E::IncompleteSignatureException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Auth(SigV4Error::UnrecognizedClient),
                E::UnrecognizedClientException,
                400,
                Says::Exactly(trent_sigv4::INVALID_SECURITY_TOKEN),
            ),
            (
                ApiError::Auth(SigV4Error::InvalidSignature(m())),
                E::InvalidSignatureException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Auth(SigV4Error::SignatureExpired(m())),
                E::InvalidSignatureException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Auth(SigV4Error::InvalidSecurityToken),
                E::UnrecognizedClientException,
                400,
                Says::Exactly(trent_sigv4::INVALID_SECURITY_TOKEN),
            ),
            (
                ApiError::ExpiredToken,
                E::ExpiredTokenException,
                400,
                Says::Exactly(EXPIRED_TOKEN_MESSAGE),
            ),
            (
                ApiError::Wire(WireError::Serialization(m())),
                E::SerializationException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Wire(WireError::Validation(m())),
                E::ValidationException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::NotFound(m())),
                E::NotFoundException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::InvalidArn(m())),
                E::InvalidArnException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::Disabled(m())),
                E::DisabledException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::InvalidState(m())),
                E::KMSInvalidStateException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::InvalidKeyUsage(m())),
                E::InvalidKeyUsageException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::InvalidCiphertext(m())),
                E::InvalidCiphertextException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::IncorrectKey(m())),
                E::IncorrectKeyException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::AlreadyExists(m())),
                E::AlreadyExistsException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::InvalidAliasName(m())),
                E::InvalidAliasNameException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::Conflict(m())),
                E::ConflictException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::LimitExceeded(m())),
                E::LimitExceededException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::InvalidMarker(m())),
                E::InvalidMarkerException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::NotAuthorized(m())),
                E::NotAuthorizedException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::Tag(m())),
                E::TagException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::Validation(m())),
                E::ValidationException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::MalformedPolicyDocument(m())),
                E::MalformedPolicyDocumentException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::AccessDenied(m())),
                E::AccessDeniedException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::InvalidSignature),
                E::KMSInvalidSignatureException,
                400,
                Says::Exactly(""),
            ),
            (
                ApiError::Core(CoreError::InvalidMac),
                E::KMSInvalidMacException,
                400,
                Says::Exactly(""),
            ),
            (
                ApiError::Core(CoreError::DryRun),
                E::DryRunOperationException,
                400,
                Says::Exactly("The request would have succeeded, but the DryRun option is set."),
            ),
            (
                ApiError::Core(CoreError::UnsupportedOperation(m())),
                E::UnsupportedOperationException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::CustomKeyStoreNotFound(m())),
                E::CustomKeyStoreNotFoundException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::InvalidGrantToken(m())),
                E::InvalidGrantTokenException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::InvalidGrantId(m())),
                E::InvalidGrantIdException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::ExpiredImportToken(m())),
                E::ExpiredImportTokenException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::InvalidImportToken(m())),
                E::InvalidImportTokenException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::IncorrectKeyMaterial(m())),
                E::IncorrectKeyMaterialException,
                400,
                Says::Exactly("m"),
            ),
            (
                ApiError::Core(CoreError::Internal("secret detail".into())),
                E::KMSInternalException,
                500,
                Says::Generic,
            ),
            (
                ApiError::Audit("secret detail".into()),
                E::KMSInternalException,
                500,
                Says::Generic,
            ),
            (
                ApiError::Internal("secret detail".into()),
                E::KMSInternalException,
                500,
                Says::Generic,
            ),
        ];
        let mut named = std::collections::BTreeSet::new();
        for (error, code, status, says) in &rows {
            let variant = api_variant(error);
            assert!(named.insert(variant), "two rows for {variant}");
            let (got_code, message) = error.to_aws();
            assert_eq!(got_code, *code, "{variant}");
            assert_eq!(got_code.http_status(), *status, "{variant}");
            match says {
                Says::Exactly(text) => assert_eq!(message, *text, "{variant}"),
                Says::Generic => {
                    assert_eq!(message, INTERNAL_MESSAGE, "{variant}");
                    assert!(error.is_internal(), "{variant}");
                }
            }
        }
        // One row per variant: 6 ApiError variants of their own, 6 of SigV4, 2 of the wire,
        // 28 of core.
        assert_eq!(named.len(), 42);
    }

    /// As [`api_variant`], for the IAM/STS path.
    fn query_variant(e: &QueryError) -> &'static str {
        match e {
            QueryError::InvalidAction(_) => "InvalidAction",
            QueryError::TooLarge(_) => "TooLarge",
            QueryError::BadBody(_) => "BadBody",
            QueryError::Auth(a) => match a {
                SigV4Error::MissingAuthenticationToken => "Auth::MissingAuthenticationToken",
                SigV4Error::IncompleteSignature(_) => "Auth::IncompleteSignature",
                SigV4Error::UnrecognizedClient => "Auth::UnrecognizedClient",
                SigV4Error::InvalidSignature(_) => "Auth::InvalidSignature",
                SigV4Error::SignatureExpired(_) => "Auth::SignatureExpired",
                SigV4Error::InvalidSecurityToken => "Auth::InvalidSecurityToken",
            },
            QueryError::ExpiredToken => "ExpiredToken",
            QueryError::Iam(i) => match i {
                IamError::NoSuchEntity(_) => "Iam::NoSuchEntity",
                IamError::EntityAlreadyExists(_) => "Iam::EntityAlreadyExists",
                IamError::MalformedPolicyDocument(_) => "Iam::MalformedPolicyDocument",
                IamError::Validation(_) => "Iam::Validation",
                IamError::LimitExceeded(_) => "Iam::LimitExceeded",
                IamError::DeleteConflict(_) => "Iam::DeleteConflict",
                IamError::AccessDenied(_) => "Iam::AccessDenied",
                IamError::Internal(_) => "Iam::Internal",
            },
            QueryError::Audit(_) => "Audit",
        }
    }

    #[test]
    fn every_iam_and_sts_error_has_its_code_status_type_and_message() {
        let m = || "m".to_string();
        let q = query_code;
        let rows: Vec<(QueryError, QueryCode, Says)> = vec![
            (
                QueryError::InvalidAction(m()),
                q("InvalidAction", 400, true),
                Says::Exactly("m"),
            ),
            (
                QueryError::TooLarge(10),
                q("RequestEntityTooLarge", 413, true),
                Says::Exactly("Request body is larger than the limit of 10 bytes"),
            ),
            (
                QueryError::BadBody(m()),
                q("ValidationError", 400, true),
                Says::Exactly("m"),
            ),
            (
                QueryError::Auth(SigV4Error::MissingAuthenticationToken),
                q("MissingAuthenticationToken", 403, true),
                Says::Exactly(trent_sigv4::MISSING_AUTHENTICATION_TOKEN),
            ),
            (
                QueryError::Auth(SigV4Error::IncompleteSignature(m())),
                q("IncompleteSignature", 400, true),
                Says::Exactly("m"),
            ),
            (
                QueryError::Auth(SigV4Error::UnrecognizedClient),
                q("InvalidClientTokenId", 403, true),
                Says::Exactly(trent_sigv4::INVALID_SECURITY_TOKEN),
            ),
            (
                QueryError::Auth(SigV4Error::InvalidSignature(m())),
                q("SignatureDoesNotMatch", 403, true),
                Says::Exactly("m"),
            ),
            (
                QueryError::Auth(SigV4Error::SignatureExpired(m())),
                q("SignatureDoesNotMatch", 403, true),
                Says::Exactly("m"),
            ),
            (
                QueryError::Auth(SigV4Error::InvalidSecurityToken),
                q("InvalidClientTokenId", 403, true),
                Says::Exactly(trent_sigv4::INVALID_SECURITY_TOKEN),
            ),
            (
                QueryError::ExpiredToken,
                q("ExpiredToken", 400, true),
                Says::Exactly(EXPIRED_TOKEN_MESSAGE),
            ),
            (
                QueryError::Iam(IamError::NoSuchEntity(m())),
                q("NoSuchEntity", 404, true),
                Says::Exactly("m"),
            ),
            (
                QueryError::Iam(IamError::EntityAlreadyExists(m())),
                q("EntityAlreadyExists", 409, true),
                Says::Exactly("m"),
            ),
            (
                QueryError::Iam(IamError::MalformedPolicyDocument(m())),
                q("MalformedPolicyDocument", 400, true),
                Says::Exactly("m"),
            ),
            (
                QueryError::Iam(IamError::Validation(m())),
                q("ValidationError", 400, true),
                Says::Exactly("m"),
            ),
            (
                QueryError::Iam(IamError::LimitExceeded(m())),
                q("LimitExceeded", 409, true),
                Says::Exactly("m"),
            ),
            (
                QueryError::Iam(IamError::DeleteConflict(m())),
                q("DeleteConflict", 409, true),
                Says::Exactly("m"),
            ),
            (
                QueryError::Iam(IamError::AccessDenied(m())),
                q("AccessDenied", 403, true),
                Says::Exactly("m"),
            ),
            (
                QueryError::Iam(IamError::Internal("secret detail".into())),
                q("ServiceFailure", 500, false),
                Says::Generic,
            ),
            (
                QueryError::Audit("secret detail".into()),
                q("ServiceFailure", 500, false),
                Says::Generic,
            ),
        ];
        let mut named = std::collections::BTreeSet::new();
        for (error, code, says) in &rows {
            let variant = query_variant(error);
            assert!(named.insert(variant), "two rows for {variant}");
            assert_eq!(error.code(), *code, "{variant}");
            let message = error.message();
            match says {
                Says::Exactly(text) => assert_eq!(message, *text, "{variant}"),
                Says::Generic => {
                    assert_eq!(message, SERVICE_FAILURE_MESSAGE, "{variant}");
                    assert!(error.is_internal(), "{variant}");
                }
            }
        }
        // One row per variant: 5 QueryError variants of their own, 6 of SigV4, 8 of IAM.
        assert_eq!(named.len(), 19);
    }
}
