//! AWS's error shape: `{"__type": "<ErrorCode>", "message": "..."}` with an HTTP status.

use serde::Serialize;

/// Why a request failed while being framed or decoded (before it reached the KMS).
#[derive(thiserror::Error, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Malformed JSON or a member of the wrong JSON type.
    #[error("{0}")]
    Serialization(String),
    /// A member broke a constraint of the model.
    #[error("{0}")]
    Validation(String),
}

macro_rules! error_codes {
    ($($name:ident = $status:literal),+ $(,)?) => {
        /// Every error name Trent answers with, and its HTTP status.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $(#[doc = concat!("`", stringify!($name), "` (HTTP ", stringify!($status), ").")] $name),+ }
        impl ErrorCode {
            /// Every error code, in declaration order ([`ErrorCode::index`] is the position).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name),+];
            /// The position in [`ErrorCode::ALL`] (for tables indexed by error code).
            pub fn index(self) -> usize {
                self as usize
            }
            /// The `__type` value.
            pub fn name(&self) -> &'static str {
                match self { $(ErrorCode::$name => stringify!($name)),+ }
            }
            /// The HTTP status AWS answers with.
            pub fn http_status(&self) -> u16 {
                match self { $(ErrorCode::$name => $status),+ }
            }
        }
    };
}

error_codes!(
    // Protocol and authentication errors common to AWS JSON services.
    AccessDeniedException = 400,
    IncompleteSignatureException = 400,
    InvalidSignatureException = 400,
    MissingAuthenticationTokenException = 400,
    UnrecognizedClientException = 400,
    ExpiredTokenException = 400,
    SerializationException = 400,
    UnknownOperationException = 400,
    ValidationException = 400,
    ThrottlingException = 400,
    RequestEntityTooLargeException = 413,
    // The KMS model's errors.
    AlreadyExistsException = 400,
    ConflictException = 400,
    CustomKeyStoreNotFoundException = 400,
    DependencyTimeoutException = 503,
    DisabledException = 400,
    // 400, as AWS answers (the API Reference gives no status; recorded answers are 400).
    DryRunOperationException = 400,
    ExpiredImportTokenException = 400,
    IncorrectKeyException = 400,
    IncorrectKeyMaterialException = 400,
    InvalidAliasNameException = 400,
    InvalidArnException = 400,
    InvalidCiphertextException = 400,
    InvalidGrantIdException = 400,
    InvalidGrantTokenException = 400,
    InvalidImportTokenException = 400,
    InvalidKeyUsageException = 400,
    InvalidMarkerException = 400,
    KMSInternalException = 500,
    KMSInvalidMacException = 400,
    KMSInvalidSignatureException = 400,
    KMSInvalidStateException = 400,
    KeyUnavailableException = 500,
    LimitExceededException = 400,
    MalformedPolicyDocumentException = 400,
    NotFoundException = 400,
    NotAuthorizedException = 400,
    TagException = 400,
    UnsupportedOperationException = 400,
);

/// The JSON body of an error answer.
#[derive(Serialize, Debug)]
pub struct ErrorBody<'a> {
    /// The error name.
    #[serde(rename = "__type")]
    pub error_type: &'a str,
    /// What went wrong, for a person. Absent when empty: AWS sends no `message` member for
    /// KMSInvalidSignatureException, KMSInvalidMacException, InvalidCiphertextException and
    /// a few others, and clients can tell `""` from no member.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub message: &'a str,
}

/// Serializes an error body; an empty `message` is left out (see [`ErrorBody::message`]).
pub fn error_body(code: ErrorCode, message: &str) -> Vec<u8> {
    serde_json::to_vec(&ErrorBody {
        error_type: code.name(),
        message,
    })
    .unwrap_or_else(|_| br#"{"__type":"KMSInternalException","message":"internal error"}"#.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_message_is_left_out_and_others_are_kept() {
        assert_eq!(
            error_body(ErrorCode::KMSInvalidSignatureException, ""),
            br#"{"__type":"KMSInvalidSignatureException"}"#
        );
        assert_eq!(
            error_body(ErrorCode::NotFoundException, "gone"),
            br#"{"__type":"NotFoundException","message":"gone"}"#
        );
    }

    #[test]
    fn dry_run_is_400_as_in_aws() {
        assert_eq!(ErrorCode::DryRunOperationException.http_status(), 400);
    }
}
