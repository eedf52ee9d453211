//! The request path, straight down (ARCHITECTURE.md §1):
//!
//! ① frame → ② authenticate → ③ decode → ④ convert → ⑤ execute → ⑥ audit → ⑦ encode.
//!
//! Every request ends in exactly one audit record, written before the answer is sent; if it
//! cannot be written, the answer is `KMSInternalException` and nothing is acknowledged. While
//! the log is failing, mutations are refused before they execute.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::Value;
use trent_audit::{
    format_event_time, new_event_id, redact_request_parameters, redact_response_elements,
    AuditRecord, Resource, TlsDetails, UserIdentity,
};
use trent_core::audit_intent::{self, AuditIntent};
use trent_core::authorize::is_keyless;
use trent_core::iam::OwnerKind;
use trent_core::model::AccountId;
use trent_core::{Action, Caller, RequestConditions};
use trent_wire::error::{error_body, ErrorCode};
use trent_wire::model::check_request;
use trent_wire::{Operation, WireError};

use crate::api::convert::{execute, Outcome};
use crate::api::errors::ApiError;
use crate::app::App;
use crate::authenticate::{signed_region, verify_signature};
use crate::conditions::{check_grant_tokens, request_conditions, RequestSource};
pub use crate::http::SecureTransport;
use crate::http::{header, is_media_type, is_secure, read_body, tls_details};
use crate::recorder;

/// The JSON protocol's content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

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
            region: caller.region,
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

/// ② SigV4, or in dev mode any well-formed SigV4 request as the dev account's root.
fn authenticate(
    app: &App,
    parts: &http::request::Parts,
    body: &[u8],
    peer: SocketAddr,
    facts: &mut Facts,
) -> Result<Caller, ApiError> {
    let mut access_key_id = None;
    // The request's Region is its credential scope's, if this Trent serves it; otherwise the
    // check against the default Region refuses it as AWS refuses a wrong Region.
    let region = signed_region(parts)
        .and_then(|r| app.config.served_region(r))
        .unwrap_or_else(|| app.config.default_region());
    let verified = verify_signature(app, parts, body, "kms", &[region], &mut access_key_id);
    facts.access_key_id = access_key_id;
    let (access_key_id, owner) = verified?;
    facts.owner = Some((owner.kind, owner.user_id.clone()));
    Ok(Caller {
        account_id: owner.account_id,
        region,
        principal_arn: owner.principal_arn,
        identity: owner.identity,
        access_key_id,
        source_ip: Some(peer.ip()),
        request_id: facts.request_id.clone(),
        event_id: facts.event_id.clone(),
        request: RequestConditions::none(),
    })
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
    // The request's Region once authenticated; before, the default Region.
    let aws_region = facts
        .caller
        .as_ref()
        .map_or_else(|| app.config.region.clone(), |c| c.region.to_string());
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
        aws_region,
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
}
