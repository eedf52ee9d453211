//! Why a request failed authentication, in AWS's codes and words.

/// AWS's message for a signature that does not verify (wrong secret, tampered request).
pub const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the \
     signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
     service documentation for details.";

/// AWS's message for an unknown access key id and for a wrong or missing session token.
pub const INVALID_SECURITY_TOKEN: &str = "The security token included in the request is invalid.";

/// AWS's message when the request carries no SigV4 `Authorization` header.
pub const MISSING_AUTHENTICATION_TOKEN: &str = "Request is missing Authentication Token";

/// Why SigV4 verification refused a request.
///
/// Messages are AWS's wording. None of them contains a secret, a signature or the canonical
/// request, and none says more about whether an access key exists than AWS does.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum SigV4Error {
    /// No `Authorization` header, or one that is not an `AWS4-…` signature at all.
    #[error("{}", MISSING_AUTHENTICATION_TOKEN)]
    MissingAuthenticationToken,
    /// A malformed `Authorization` header, or no `X-Amz-Date`/`Date` header, or a malformed date.
    #[error("{0}")]
    IncompleteSignature(String),
    /// The access key id is unknown.
    #[error("{}", INVALID_SECURITY_TOKEN)]
    UnrecognizedClient,
    /// Wrong signature, wrong credential scope, unsigned required header or body-hash mismatch.
    #[error("{0}")]
    InvalidSignature(String),
    /// The request's time is outside the allowed skew (AWS sends `InvalidSignatureException`).
    #[error("{0}")]
    SignatureExpired(String),
    /// The credential has a session token and the request's `x-amz-security-token` is missing or
    /// different, or the request carries a token the credential does not have.
    #[error("{}", INVALID_SECURITY_TOKEN)]
    InvalidSecurityToken,
}

impl SigV4Error {
    /// The AWS error code (`__type`) for this failure.
    pub fn aws_code(&self) -> &'static str {
        match self {
            SigV4Error::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            SigV4Error::IncompleteSignature(_) => "IncompleteSignatureException",
            SigV4Error::UnrecognizedClient | SigV4Error::InvalidSecurityToken => {
                "UnrecognizedClientException"
            }
            SigV4Error::InvalidSignature(_) | SigV4Error::SignatureExpired(_) => {
                "InvalidSignatureException"
            }
        }
    }

    /// The message AWS sends with [`aws_code`](Self::aws_code).
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The HTTP status: AWS JSON services (KMS among them) answer every one of these with 400.
    pub fn http_status(&self) -> u16 {
        match self {
            SigV4Error::MissingAuthenticationToken
            | SigV4Error::IncompleteSignature(_)
            | SigV4Error::UnrecognizedClient
            | SigV4Error::InvalidSignature(_)
            | SigV4Error::SignatureExpired(_)
            | SigV4Error::InvalidSecurityToken => 400,
        }
    }

    pub(crate) fn mismatch() -> Self {
        SigV4Error::InvalidSignature(SIGNATURE_MISMATCH.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_mismatch_reads_exactly_as_aws_writes_it() {
        assert_eq!(
            SigV4Error::mismatch().message(),
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details."
        );
        assert!(!SIGNATURE_MISMATCH.contains("  "));
    }

    #[test]
    fn every_variant_has_an_aws_code_a_message_and_status_400() {
        let all = [
            (
                SigV4Error::MissingAuthenticationToken,
                "MissingAuthenticationTokenException",
                "Request is missing Authentication Token",
            ),
            (
                SigV4Error::IncompleteSignature("m".into()),
                "IncompleteSignatureException",
                "m",
            ),
            (
                SigV4Error::UnrecognizedClient,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
            (
                SigV4Error::InvalidSignature("m".into()),
                "InvalidSignatureException",
                "m",
            ),
            (
                SigV4Error::SignatureExpired("m".into()),
                "InvalidSignatureException",
                "m",
            ),
            (
                SigV4Error::InvalidSecurityToken,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
        ];
        for (error, code, message) in all {
            assert_eq!(error.aws_code(), code);
            assert_eq!(error.message(), message);
            assert_eq!(error.http_status(), 400);
        }
    }
}
