//! ② Authentication for every protocol on the listener (ARCHITECTURE.md §1): SigV4 against
//! the IAM directory, long-term and session keys alike; in dev mode any well-formed request
//! is the dev account's root.

use trent_core::clock::{Clock, SystemClock};
use trent_core::iam::KeyOwner;
use trent_sigv4::{Expectation, SignedRequest};

use crate::app::App;
use crate::credentials::RequestCredentials;
use crate::http::header;

/// Why authentication refused a request.
#[derive(Debug)]
pub enum AuthFailure {
    /// SigV4 (signature, scope, date, unknown key, wrong session token).
    SigV4(trent_sigv4::SigV4Error),
    /// The session token is valid but its credentials have expired.
    ExpiredToken,
}

/// The Region of the request's SigV4 credential scope, as the `Authorization` header names it
/// (not yet verified): the request's Region (ARCHITECTURE.md §10).
pub(crate) fn signed_region(parts: &http::request::Parts) -> Option<&str> {
    header(&parts.headers, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(2))
}

/// Verifies the SigV4 signature for signing name `service`, with a credential scope naming
/// one of `regions` (IAM is signed for us-east-1 wherever it is served), and answers the
/// access key id and its owner. `access_key_id` is set once the signature verified (for the
/// audit record, also of a request refused later). Long-term keys and session keys (with
/// `x-amz-security-token`) are both accepted; an expired session is `ExpiredToken`, judged by
/// the KMS clock. In dev mode any well-formed request is the dev account's root.
pub(crate) fn verify_signature(
    app: &App,
    parts: &http::request::Parts,
    body: &[u8],
    service: &str,
    regions: &[&str],
    access_key_id: &mut Option<String>,
) -> Result<(String, KeyOwner), AuthFailure> {
    let req = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body,
    };
    let signed_region = signed_region(parts);
    let region = regions
        .iter()
        .copied()
        .find(|r| Some(*r) == signed_region)
        .or_else(|| regions.first().copied())
        .unwrap_or(&app.config.region);
    let expect = Expectation { service, region };
    // The SigV4 window is about agreeing with the client's clock in the real world, so it is
    // checked against real time, not the KMS clock (which tests move to run key lifecycles).
    let now = Clock::now(&SystemClock);
    if let Some(dev_account) = &app.config.dev_account {
        let checked = app
            .verifier
            .check_without_signature(&req, now, &expect)
            .map_err(AuthFailure::SigV4)?;
        *access_key_id = Some(checked.access_key_id.clone());
        let owner = KeyOwner::account_root(
            dev_account,
            std::sync::Arc::new(trent_core::Identity::account_root(dev_account)),
        );
        return Ok((checked.access_key_id, owner));
    }
    let token = header(&parts.headers, "x-amz-security-token");
    let verified = app
        .verifier
        .verify(
            &req,
            now,
            &expect,
            &RequestCredentials::new(&app.credentials, token),
        )
        .map_err(AuthFailure::SigV4)?;
    *access_key_id = Some(verified.access_key_id.clone());
    if let Some(expiration) = verified.principal.expiration {
        if expiration <= app.kms.now() {
            return Err(AuthFailure::ExpiredToken);
        }
    }
    Ok((verified.access_key_id, verified.principal))
}
