#![forbid(unsafe_code)]
//! Server-side AWS Signature Version 4 verification (the `Authorization` header form).
//!
//! [`Verifier::verify`] takes the signed parts of a request ([`SignedRequest`]), the current time,
//! what the credential scope must name ([`Expectation`]) and a [`CredentialSource`], and answers
//! with the caller ([`Verified`]) or a [`SigV4Error`] carrying AWS's code and message.
//!
//! The checks, in order: an `AWS4-HMAC-SHA256` `Authorization` header with `Credential`,
//! `SignedHeaders` and `Signature`, and an `X-Amz-Date` (or `Date`) header; `host` signed; the
//! date well formed and within the allowed skew (5 minutes each way by default); the scope's
//! region, service, terminator and date; `x-amz-date`, `content-type`, `x-amz-target` and
//! `x-amz-content-sha256` signed when present; `x-amz-content-sha256` equal to the body's hash;
//! the access key known; the signature (compared in constant time); the session token.
//!
//! A replay of the same signed request inside the window is accepted, as AWS does.
//! [`client::sign`] is the matching signer, for tests and benchmarks.
//!
//! ```
//! use trent_sigv4::{client, Credential, CredentialSource, Expectation, SignedRequest, Verifier};
//!
//! struct OneKey;
//! impl CredentialSource for OneKey {
//!     type Principal = &'static str;
//!     fn lookup(&self, akid: &str) -> Option<Credential<&'static str>> {
//!         (akid == "AKIDEXAMPLE").then(|| Credential {
//!             secret_access_key: "secret".to_owned().into(),
//!             session_token: None,
//!             principal: "alice",
//!         })
//!     }
//! }
//!
//! let now = time::OffsetDateTime::now_utc();
//! let mut headers = http::HeaderMap::new();
//! headers.insert("host", "kms.us-east-1.amazonaws.com".parse().unwrap());
//! let params = client::SigningParams {
//!     access_key_id: "AKIDEXAMPLE",
//!     secret_access_key: "secret",
//!     session_token: None,
//!     region: "us-east-1",
//!     service: "kms",
//!     time: now,
//! };
//! client::sign("POST", "/", "", &mut headers, b"{}", &params).unwrap();
//!
//! let req = SignedRequest { method: "POST", path: "/", query: "", headers: &headers, body: b"{}" };
//! let expect = Expectation { service: "kms", region: "us-east-1" };
//! let caller = Verifier::new(1024).verify(&req, now, &expect, &OneKey).unwrap();
//! assert_eq!(caller.principal, "alice");
//! ```

mod auth;
mod canonical;
pub mod client;
mod date;
mod error;
mod verify;

use std::fmt;

pub use auth::{parse_authorization, AuthorizationHeader, CredentialScope, ALGORITHM, TERMINATOR};
pub use error::{
    SigV4Error, INVALID_SECURITY_TOKEN, MISSING_AUTHENTICATION_TOKEN, SIGNATURE_MISMATCH,
};
pub use verify::{CacheStats, Unauthenticated, Verifier, DEFAULT_MAX_SKEW};

/// The parts of an HTTP request that SigV4 signs.
#[derive(Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The method, e.g. `POST`.
    pub method: &'a str,
    /// The raw path as received, e.g. `/`.
    pub path: &'a str,
    /// The raw query string without `?`; may be empty.
    pub query: &'a str,
    /// All request headers (the `Host` header must be among them).
    pub headers: &'a http::HeaderMap,
    /// The whole body.
    pub body: &'a [u8],
}

impl fmt::Debug for SignedRequest<'_> {
    /// Header names and the body length only: never the signature or the body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What the verifier expects of the credential scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expectation<'a> {
    /// The signing name of the service, e.g. `kms`.
    pub service: &'a str,
    /// This server's region, e.g. `us-east-1`.
    pub region: &'a str,
}

/// A secret looked up by access key id.
#[derive(Clone)]
pub struct Credential<P> {
    /// The secret access key; zeroized when dropped.
    pub secret_access_key: zeroize::Zeroizing<String>,
    /// For temporary credentials, the token the request must carry in `x-amz-security-token`.
    pub session_token: Option<String>,
    /// Who the key belongs to; handed back in [`Verified`].
    pub principal: P,
}

impl<P: fmt::Debug> fmt::Debug for Credential<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("principal", &self.principal)
            .finish()
    }
}

/// Where the verifier finds the secret of an access key.
pub trait CredentialSource {
    /// Who a key belongs to.
    type Principal: Clone;
    /// The credential of `access_key_id`, or `None` if there is no such (active) key.
    fn lookup(&self, access_key_id: &str) -> Option<Credential<Self::Principal>>;
}

impl<T: CredentialSource + ?Sized> CredentialSource for &T {
    type Principal = T::Principal;
    fn lookup(&self, access_key_id: &str) -> Option<Credential<Self::Principal>> {
        (**self).lookup(access_key_id)
    }
}

/// A request whose signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified<P> {
    /// The access key id that signed it.
    pub access_key_id: String,
    /// The key's owner, from the [`CredentialSource`].
    pub principal: P,
    /// The region of the credential scope (equal to the expected one).
    pub region: String,
    /// The request's `X-Amz-Date` (or `Date`).
    pub signed_at: time::OffsetDateTime,
}

#[cfg(test)]
mod tests;
