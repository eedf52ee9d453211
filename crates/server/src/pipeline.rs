//! The request path, straight down (ARCHITECTURE.md §1):
//!
//! ① frame → ② authenticate → ③ decode → ④ convert → ⑤ execute → ⑥ audit → ⑦ encode.
//!
//! Every request ends in exactly one audit record, written before the answer is sent; if it
//! cannot be written, the answer is `KMSInternalException` and nothing is acknowledged. While
//! the log is failing, mutations are refused before they execute.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)] // guard rails: lifted after the IAM refactor lands

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::Value;
use trent_audit::{
    format_event_time, new_event_id, redact_request_parameters, redact_response_elements,
    AuditRecord, Resource, TlsDetails, UserIdentity,
};
use trent_core::audit_intent::{self, AuditIntent};
use trent_core::authorize::is_keyless;
use trent_core::model::AccountId;
use trent_core::{Action, Caller, RequestConditions};
use trent_sigv4::{Expectation, SignedRequest};
use trent_wire::error::{error_body, ErrorCode};
use trent_wire::model::check_request;
use trent_wire::{Operation, WireError};

use crate::api::convert::{execute, Outcome};
use crate::api::errors::ApiError;
use crate::app::App;
use crate::conditions::{check_grant_tokens, request_conditions, RequestSource};
use crate::credentials::{KeyOwner, OwnerKind};
use crate::recorder;

/// The JSON protocol's content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Marks a request that arrived over TLS, with what the handshake agreed (a request
/// extension set by the listener): `aws:SecureTransport` is `true` for it, and its audit
/// record has `tlsDetails`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecureTransport {
    /// `TLSv1.2` or `TLSv1.3`.
    pub tls_version: &'static str,
    /// The cipher suite's name as CloudTrail writes it.
    pub cipher_suite: &'static str,
}

/// Whether the request arrived over TLS.
pub(crate) fn is_secure(parts: &http::request::Parts) -> bool {
    parts.extensions.get::<SecureTransport>().is_some()
}

/// The longest `Host` header copied into `tlsDetails` (a host name is at most 253 characters,
/// plus a port).
const MAX_HOST_HEADER_CHARS: usize = 260;

/// CloudTrail's `tlsDetails` for a request that arrived over TLS.
pub(crate) fn tls_details(parts: &http::request::Parts) -> Option<TlsDetails> {
    let tls = parts.extensions.get::<SecureTransport>()?;
    Some(TlsDetails {
        tls_version: tls.tls_version.to_string(),
        cipher_suite: tls.cipher_suite.to_string(),
        client_provided_host_header: header(&parts.headers, "host")
            .map(|h| h.chars().take(MAX_HOST_HEADER_CHARS).collect()),
    })
}

/// What the audit record needs to know, filled in as the request goes down the path.
#[derive(Clone)]
struct Facts {
    request_id: String,
    event_id: String,
    operation: Option<Operation>,
    target: String,
    user_agent: Option<String>,
    caller: Option<Caller>,
    access_key_id: Option<String>,
    /// What kind of principal signed, and its `principalId`.
    owner: Option<(OwnerKind, String)>,
    request_parameters: Option<Value>,
    tls_details: Option<TlsDetails>,
    /// The audit intent of a request that may change state (committed with its change).
    intent: Option<AuditIntent>,
}

/// Handles one HTTP request end to end.
pub async fn handle(
    app: Arc<App>,
    req: http::Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let _in_flight = app.audit.request_started();
    let started = std::time::Instant::now();
    let (parts, body) = req.into_parts();
    // The IAM and STS query protocol (form-encoded POST, XML answers) shares the listener.
    if crate::iam::is_query_request(&parts) {
        return crate::iam::handle(app, parts, body, peer).await;
    }
    let mut facts = Facts {
        request_id: trent_audit::new_request_id(),
        event_id: new_event_id(),
        operation: None,
        target: header(&parts.headers, "x-amz-target")
            .unwrap_or_default()
            .to_string(),
        user_agent: header(&parts.headers, "user-agent").map(str::to_string),
        caller: None,
        access_key_id: None,
        owner: None,
        request_parameters: None,
        tls_details: tls_details(&parts),
        intent: None,
    };

    let result = run(&app, &parts, body, peer, &mut facts).await;

    // ⑥ audit — before anything is sent.
    let intent = facts.intent.take();
    let record = audit_record(&app, &mut facts, peer, Some(&result));
    let result = match recorder::record(&app, record, intent.as_ref()).await {
        Ok(()) => result,
        Err(e) => Err(ApiError::Audit(e.to_string())),
    };

    // ⑦ encode
    let (response, error) = encode(&facts.request_id, result);
    app.metrics
        .record(facts.operation, error, started.elapsed());
    response
}

async fn run(
    app: &App,
    parts: &http::request::Parts,
    body: Incoming,
    peer: SocketAddr,
    facts: &mut Facts,
) -> Result<Outcome, ApiError> {
    // ① frame
    let op = frame(parts)?;
    facts.operation = Some(op);
    let body = read_body(body, &parts.headers, app.config.max_body_bytes).await?;

    // ② authenticate
    let caller = authenticate(app, parts, &body, peer, facts)?;
    // Kept in the facts (the audit record names the caller even if a later step fails) and
    // used from there, not cloned.
    let caller = facts.caller.insert(caller);

    // ③ decode: JSON, then the model's type checks and member constraints.
    let value: Value = if body.is_empty() {
        Value::Object(Default::default())
    } else {
        crate::strict_json::from_slice(&body)
            .map_err(|e| WireError::Serialization(format!("Malformed JSON: {e}")))?
    };
    facts.request_parameters = Some(redact_request_parameters(op.name(), &value));
    check_request(op, &value)?;

    // The request's condition keys, for key policies, IAM policies and grants; then the
    // operations on no key are authorized by identity policies alone.
    check_grant_tokens(&value)?;
    caller.request = Arc::new(request_conditions(
        op,
        &value,
        &RequestSource {
            caller_account: &caller.account_id,
            region: &app.config.region,
            source_ip: caller.source_ip,
            secure_transport: is_secure(parts),
            now: app.kms.now(),
        },
    ));
    if let Some(action) = Action::from_name(op.name()).filter(|a| is_keyless(*a)) {
        app.kms.authorize_keyless(caller, action)?;
    }

    // Fail closed before changing anything when the audit log is known to be unwritable: a
    // mutation must not be committed when its record cannot be written. (A write that fails
    // for the first time after the commit still fails the request, like a crash would.)
    if !op.is_read_only() && !app.audit.is_healthy() {
        return Err(ApiError::Audit("the audit log is not writable".into()));
    }

    // ④⑤ convert and execute; a change commits with the request's audit intent.
    if op.is_read_only() {
        return execute(&app.kms, caller, op, value).await;
    }
    let intent = recorder::intent(
        &audit_record(app, &mut facts.clone(), peer, None),
        app.kms.now(),
    );
    facts.intent = intent.clone();
    let caller = facts
        .caller
        .as_ref()
        .ok_or_else(|| ApiError::Core(trent_core::CoreError::Internal("caller missing".into())))?;
    audit_intent::scope(intent, execute(&app.kms, caller, op, value)).await
}

pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// ① A KMS request is `POST /` with the JSON 1.1 content type and a `TrentService.*` target.
fn frame(parts: &http::request::Parts) -> Result<Operation, ApiError> {
    let target = header(&parts.headers, "x-amz-target").unwrap_or_default();
    if parts.method != http::Method::POST || parts.uri.path() != "/" {
        return Err(ApiError::UnknownOperation(format!(
            "{} {} is not a KMS API request",
            parts.method,
            parts.uri.path()
        )));
    }
    let content_type = header(&parts.headers, "content-type").unwrap_or_default();
    if !is_json_media_type(content_type) {
        return Err(ApiError::UnknownOperation(format!(
            "Content-Type must be {CONTENT_TYPE}"
        )));
    }
    Operation::from_target(target).ok_or_else(|| {
        ApiError::UnknownOperation(if target.is_empty() {
            "Missing X-Amz-Target header".to_string()
        } else {
            format!("Unknown operation {target}")
        })
    })
}

/// Whether `content_type` names JSON exactly: the JSON 1.1 protocol's media type (what
/// botocore, the AWS SDK for Rust and the JavaScript SDK v3 send, without parameters) or
/// `application/json`, case-insensitively, with at most a `charset=utf-8` parameter. A prefix
/// such as `application/jsonX` is not JSON.
fn is_json_media_type(content_type: &str) -> bool {
    is_media_type(content_type, &[CONTENT_TYPE, "application/json"])
}

/// Whether `content_type` is exactly one of `accepted` (case-insensitively), with at most a
/// `charset=utf-8` parameter: a prefix match would let `application/jsonX` through.
pub(crate) fn is_media_type(content_type: &str, accepted: &[&str]) -> bool {
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or_default().trim();
    if !accepted.iter().any(|a| media.eq_ignore_ascii_case(a)) {
        return false;
    }
    parts.all(|param| {
        param.split_once('=').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("charset")
                && value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        })
    })
}

/// The first allocation for a body of unknown or large declared length (a smaller declared
/// length is allocated exactly); it doubles from there, so a body sent slowly holds memory in
/// proportion to what has arrived.
const INITIAL_BODY_CAPACITY: usize = 4 * 1024;

/// Reads the body into one buffer, refusing one over the limit before buffering it.
///
/// The memory a body holds is at most twice its bytes received (plus a constant), however it
/// is framed: each frame is copied into one buffer and released, not kept (hyper's frames
/// each pin a read buffer of several KiB; a body sent one byte at a time used to hold ~8 KB
/// per byte). The buffer is allocated when the first bytes arrive, at the declared
/// `Content-Length` up to 4 KiB, and doubles,
/// never beyond the declared length or the limit; a buffer outgrown is zeroized, as the body
/// may be a plaintext. How long a body may take is bounded by the connection's request
/// deadline ([`crate::transport`]).
pub(crate) async fn read_body(
    mut body: Incoming,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, ApiError> {
    check_transfer_encoding(headers)?;
    let declared = match header(headers, "content-length").map(|v| v.parse::<u64>()) {
        Some(Ok(len)) if len > limit as u64 => return Err(ApiError::TooLarge(limit)),
        Some(Ok(len)) => Some(len as usize),
        _ => None,
    };
    let mut buf = BodyBuffer::new(declared.unwrap_or(limit).min(limit), limit);
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::BadBody(format!("Could not read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            buf.push(&data)?;
        }
    }
    Ok(buf.into_bytes())
}

/// Hyper reads a body as chunked when the last coding of `Transfer-Encoding` is `chunked`
/// (`gzip, chunked` too, and it does not decompress); Trent takes exactly one
/// `Transfer-Encoding: chunked` or none.
fn check_transfer_encoding(headers: &HeaderMap) -> Result<(), ApiError> {
    let mut values = headers.get_all(http::header::TRANSFER_ENCODING).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(()),
        (Some(v), None) if v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"chunked") => Ok(()),
        _ => Err(ApiError::BadBody(
            "Transfer-Encoding must be chunked, and only chunked".into(),
        )),
    }
}

/// One growing buffer for a request body (see [`read_body`]).
struct BodyBuffer {
    buf: Vec<u8>,
    /// The most it may hold: the declared length, or the limit.
    most: usize,
    limit: usize,
}

impl BodyBuffer {
    fn new(most: usize, limit: usize) -> BodyBuffer {
        BodyBuffer {
            buf: Vec::new(),
            most,
            limit,
        }
    }

    fn push(&mut self, data: &[u8]) -> Result<(), ApiError> {
        let needed = self.buf.len() + data.len();
        if needed > self.limit {
            return Err(ApiError::TooLarge(self.limit));
        }
        if needed > self.buf.capacity() {
            let capacity = needed
                .max(self.buf.capacity().saturating_mul(2))
                .max(self.most.min(INITIAL_BODY_CAPACITY))
                .min(self.most.max(needed));
            let mut bigger = Vec::with_capacity(capacity);
            bigger.extend_from_slice(&self.buf);
            zeroize::Zeroize::zeroize(&mut self.buf);
            self.buf = bigger;
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    fn into_bytes(self) -> Bytes {
        Bytes::from(self.buf)
    }
}

/// ② SigV4, or in dev mode any well-formed SigV4 request as the dev account's root.
fn authenticate(
    app: &App,
    parts: &http::request::Parts,
    body: &[u8],
    peer: SocketAddr,
    facts: &mut Facts,
) -> Result<Caller, ApiError> {
    let mut access_key_id = None;
    let verified = verify_signature(
        app,
        parts,
        body,
        "kms",
        &[&app.config.region],
        &mut access_key_id,
    );
    facts.access_key_id = access_key_id;
    let (access_key_id, owner) = verified.map_err(|e| match e {
        AuthFailure::SigV4(e) => ApiError::Auth(e),
        AuthFailure::ExpiredToken => ApiError::ExpiredToken,
    })?;
    facts.owner = Some((owner.kind, owner.user_id.clone()));
    Ok(Caller {
        account_id: owner.account_id,
        principal_arn: owner.principal_arn,
        identity: owner.identity,
        access_key_id,
        source_ip: Some(peer.ip()),
        request_id: facts.request_id.clone(),
        event_id: facts.event_id.clone(),
        request: RequestConditions::none(),
    })
}

/// Why authentication refused a request.
pub(crate) enum AuthFailure {
    /// SigV4 (signature, scope, date, unknown key, wrong session token).
    SigV4(trent_sigv4::SigV4Error),
    /// The session token is valid but its credentials have expired.
    ExpiredToken,
}

/// ② for every protocol: verifies the SigV4 signature for signing name `service`, with a
/// credential scope naming one of `regions` (IAM is signed for us-east-1 wherever it is
/// served), and answers the access key id and its owner. `access_key_id` is set once the
/// signature verified (for the audit record, also of a request refused later). Long-term keys and
/// session keys (with `x-amz-security-token`) are both accepted; an expired session is
/// `ExpiredToken`, judged by the KMS clock. In dev mode any well-formed request is the dev
/// account's root.
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
    let signed_region = header(&parts.headers, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(2));
    let region = regions
        .iter()
        .copied()
        .find(|r| Some(*r) == signed_region)
        .or_else(|| regions.first().copied())
        .unwrap_or(&app.config.region);
    let expect = Expectation { service, region };
    // The SigV4 window is about agreeing with the client's clock in the real world, so it is
    // checked against real time, not the KMS clock (which tests move to run key lifecycles).
    let now = time::OffsetDateTime::now_utc();
    if let Some(dev_account) = &app.config.dev_account {
        let checked = app
            .verifier
            .check_without_signature(&req, now, &expect)
            .map_err(AuthFailure::SigV4)?;
        *access_key_id = Some(checked.access_key_id.clone());
        let owner = KeyOwner {
            account_id: dev_account.clone(),
            principal_arn: format!("arn:aws:iam::{dev_account}:root"),
            identity: std::sync::Arc::new(trent_core::Identity::account_root(dev_account)),
            user_id: dev_account.to_string(),
            kind: OwnerKind::Root,
            user_name: None,
            expiration: None,
        };
        return Ok((checked.access_key_id, owner));
    }
    let token = header(&parts.headers, "x-amz-security-token");
    let verified = app
        .verifier
        .verify(&req, now, &expect, &app.credentials.for_request(token))
        .map_err(AuthFailure::SigV4)?;
    *access_key_id = Some(verified.access_key_id.clone());
    if let Some(expiration) = verified.principal.expiration {
        if expiration <= app.kms.now() {
            return Err(AuthFailure::ExpiredToken);
        }
    }
    Ok((verified.access_key_id, verified.principal))
}

fn identity(caller: Caller, owner: Option<(OwnerKind, String)>) -> UserIdentity {
    let (kind, principal_id) = match owner {
        Some((kind, id)) => (kind, id),
        None => (OwnerKind::Root, caller.account_id.to_string()),
    };
    UserIdentity {
        type_: kind.cloudtrail_type().to_string(),
        principal_id: Some(principal_id),
        arn: Some(caller.principal_arn),
        account_id: Some(caller.account_id.to_string()),
        access_key_id: Some(caller.access_key_id),
        invoked_by: None,
    }
}

/// The request's audit record, taking what it needs out of `facts` (only the request id is
/// used afterwards, for the response). Without a `result`, the record as known before the
/// request executes (its audit intent).
fn audit_record(
    app: &App,
    facts: &mut Facts,
    peer: SocketAddr,
    result: Option<&Result<Outcome, ApiError>>,
) -> AuditRecord {
    let event_name = match facts.operation {
        Some(op) => op.name().to_string(),
        None => facts
            .target
            .strip_prefix(trent_wire::operation::TARGET_PREFIX)
            .unwrap_or(&facts.target)
            .chars()
            .take(128)
            .collect(),
    };
    let account: Option<AccountId> = facts.caller.as_ref().map(|c| c.account_id.clone());
    let owner = facts.owner.take();
    let mut record = AuditRecord {
        user_identity: match (facts.caller.take(), facts.access_key_id.take()) {
            (Some(caller), _) => Some(identity(caller, owner)),
            (None, Some(akid)) => Some(UserIdentity {
                type_: "Unknown".into(),
                access_key_id: Some(akid),
                ..Default::default()
            }),
            (None, None) => None,
        },
        event_time: format_event_time(app.kms.now()),
        event_name,
        aws_region: app.config.region.clone(),
        source_ip_address: peer.ip().to_string(),
        user_agent: facts.user_agent.take(),
        request_parameters: facts.request_parameters.take(),
        request_id: facts.request_id.clone(),
        event_id: std::mem::take(&mut facts.event_id),
        read_only: facts.operation.is_some_and(|o| o.is_read_only()),
        recipient_account_id: account.as_ref().map(|a| a.to_string()),
        tls_details: facts.tls_details.take(),
        ..Default::default()
    };
    match result {
        None => {}
        Some(Ok(outcome)) => {
            if let (Some(arn), Some(acct)) = (&outcome.key_arn, &account) {
                record
                    .resources
                    .push(Resource::kms_key(acct.to_string(), arn.clone()));
            }
            record.response_elements = outcome
                .response_elements
                .as_ref()
                .and_then(|v| redact_response_elements(&record.event_name, v));
        }
        Some(Err(e)) => {
            let (code, message) = e.to_aws();
            record.error_code = Some(code.name().to_string());
            record.error_message = Some(message);
        }
    }
    record
}

/// ⑦ The response: JSON body or AWS error shape, always with `x-amzn-RequestId`; and the
/// error code it carries, if any (for the metrics).
fn encode(
    request_id: &str,
    result: Result<Outcome, ApiError>,
) -> (Response<Full<Bytes>>, Option<ErrorCode>) {
    let mut error = None;
    let (status, body) = match result {
        // The body moves into hyper's buffer without a copy. Hyper does not zeroize what it
        // sends, so a copy would only leave a second, unzeroized plaintext behind.
        Ok(mut outcome) => (
            StatusCode::OK,
            Bytes::from(std::mem::take(&mut *outcome.body)),
        ),
        Err(e) => {
            if e.is_internal() {
                tracing::error!(request_id, error = ?e, "request failed inside Trent");
            }
            let (code, message) = e.to_aws();
            error = Some(code);
            let status =
                StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, Bytes::from(error_body(code, &message)))
        }
    };
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    (resp, error)
}

#[cfg(test)]
mod framing_tests {
    use super::*;

    #[test]
    fn only_exact_json_media_types_are_kms_requests() {
        for ok in [
            "application/x-amz-json-1.1",
            "Application/X-Amz-Json-1.1",
            "application/x-amz-json-1.1; charset=utf-8",
            "application/json",
            "application/json;charset=\"UTF-8\"",
        ] {
            assert!(is_json_media_type(ok), "{ok}");
        }
        for bad in [
            "",
            "application/jsonX",
            "application/x-amz-json-1.1x",
            "application/x-amz-json-1.0",
            "application/json; charset=latin1",
            "application/json; boundary",
            "text/plain",
        ] {
            assert!(!is_json_media_type(bad), "{bad}");
        }
    }

    #[test]
    fn a_body_buffer_grows_with_what_arrived_not_with_what_was_declared() {
        let mut buf = BodyBuffer::new(300 * 1024, 300 * 1024);
        assert_eq!(
            buf.buf.capacity(),
            0,
            "nothing is allocated before a byte arrives"
        );
        buf.push(b"x").unwrap();
        assert_eq!(buf.buf.capacity(), INITIAL_BODY_CAPACITY);
        for _ in 1..20_000 {
            buf.push(b"x").unwrap();
        }
        assert!(buf.buf.capacity() <= 2 * 20_000, "{}", buf.buf.capacity());
        let mut small = BodyBuffer::new(10, 100);
        small.push(b"0123456789").unwrap();
        assert_eq!(small.buf.capacity(), 10);
        assert!(matches!(
            BodyBuffer::new(4, 4).push(b"12345"),
            Err(ApiError::TooLarge(4))
        ));
    }

    #[test]
    fn transfer_encoding_must_be_exactly_chunked() {
        let mut h = HeaderMap::new();
        assert!(check_transfer_encoding(&h).is_ok());
        h.insert("transfer-encoding", HeaderValue::from_static("Chunked"));
        assert!(check_transfer_encoding(&h).is_ok());
        h.insert(
            "transfer-encoding",
            HeaderValue::from_static("gzip, chunked"),
        );
        assert!(check_transfer_encoding(&h).is_err());
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.append("transfer-encoding", HeaderValue::from_static("chunked"));
        assert!(check_transfer_encoding(&h).is_err());
    }
}
