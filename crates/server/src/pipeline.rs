//! The request path, straight down (ARCHITECTURE.md §1), one skeleton for every protocol on
//! the listener:
//!
//! ① frame → ② authenticate → ③ decode → ④ authorize → ⑤ execute → ⑥ audit → ⑦ encode.
//!
//! The protocol is the part that varies ([`Protocol`]): KMS's JSON 1.1
//! ([`crate::api::json::Json`]) and IAM's and STS's query protocol ([`crate::iam::Query`]).
//! Every request ends in exactly one audit record, written before the answer is sent; if it
//! cannot be written, the answer is the protocol's internal failure (`KMSInternalException`,
//! `ServiceFailure`) and nothing is acknowledged. While the log is failing, changes are
//! refused before they execute.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::Value;
use trent_audit::{format_event_time, new_event_id, AuditRecord, TlsDetails, UserIdentity};
use trent_core::audit_intent::{self, AuditIntent};

use crate::api::json::Json;
use crate::app::App;
use crate::authenticate::{signed_region, verify_signature};
use crate::conditions::GlobalSource;
pub use crate::http::SecureTransport;
use crate::http::{header, is_secure, read_body, tls_details};
use crate::iam::Query;
use crate::protocol::{Protocol, Signer};
use crate::recorder;

/// The JSON protocol's content type.
pub const CONTENT_TYPE: &str = crate::api::json::CONTENT_TYPE;

/// Handles one HTTP request end to end, in the protocol its media type names.
pub async fn handle(
    app: Arc<App>,
    req: http::Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let _in_flight = app.audit.request_started();
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    if crate::iam::is_query_request(&parts) {
        serve::<Query>(&app, parts, body, peer, started).await
    } else {
        serve::<Json>(&app, parts, body, peer, started).await
    }
}

/// What the audit record needs to know, filled in as the request goes down the path.
#[derive(Clone)]
struct Facts<P: Protocol> {
    request_id: String,
    event_id: String,
    head: P::Head,
    op: Option<P::Op>,
    /// The Region the request is for, once authenticated.
    region: Option<String>,
    user_agent: Option<String>,
    /// Set once the signature verified, also for a request refused later.
    access_key_id: Option<String>,
    caller: Option<P::Caller>,
    request_parameters: Option<Value>,
    tls_details: Option<TlsDetails>,
    /// The audit intent of a request that may change state (committed with its change).
    intent: Option<AuditIntent>,
}

/// One request in protocol `P`: run, ⑥ audit, ⑦ encode.
async fn serve<P: Protocol>(
    app: &App,
    parts: http::request::Parts,
    body: Incoming,
    peer: SocketAddr,
    started: Instant,
) -> Response<Full<Bytes>> {
    let mut facts = Facts::<P> {
        request_id: trent_audit::new_request_id(),
        event_id: new_event_id(),
        head: P::head(&parts),
        op: None,
        region: None,
        user_agent: header(&parts.headers, "user-agent").map(str::to_string),
        access_key_id: None,
        caller: None,
        request_parameters: None,
        tls_details: tls_details(&parts),
        intent: None,
    };

    let result = run(app, &parts, body, peer, &mut facts).await;

    // ⑥ audit — before anything is sent.
    let intent = facts.intent.take();
    let record = audit_record(app, &mut facts, peer, Some(&result));
    let result = match recorder::record(app, record, intent.as_ref()).await {
        Ok(()) => result,
        Err(e) => Err(P::audit_failure(e.to_string())),
    };

    // ⑦ encode
    P::encode(
        app,
        &facts.head,
        facts.op.as_ref(),
        &facts.request_id,
        result,
        started.elapsed(),
    )
}

/// ①–⑤, in this order for every protocol.
async fn run<P: Protocol>(
    app: &App,
    parts: &http::request::Parts,
    body: Incoming,
    peer: SocketAddr,
    facts: &mut Facts<P>,
) -> Result<P::Output, P::Error> {
    // ① frame: the head's checks, the body (bounded), the operation.
    let frame = P::frame(&facts.head, parts)?;
    let body = read_body(body, &parts.headers, app.config.max_body_bytes).await?;
    let (op, parsed) = P::operation(frame, &body);
    facts.op = Some(op.clone());

    // ② authenticate: SigV4 (or dev mode), for the Region the request is for.
    // The request's Region is its credential scope's if this Trent serves it; otherwise the
    // check against the default Region refuses it as AWS refuses a wrong Region.
    let request_region = signed_region(parts)
        .and_then(|r| app.config.served_region(r))
        .unwrap_or_else(|| app.config.default_region());
    let signing = P::signing(&op, request_region, app.config.default_region());
    let verified = verify_signature(
        app,
        parts,
        &body,
        signing.service,
        &signing.regions,
        &mut facts.access_key_id,
    );
    let (access_key_id, owner) = verified?;
    let region = P::region(&facts.head, Some(&op), request_region);
    facts.region = Some(region.to_string());
    // Kept in the facts (the audit record names the caller even if a later step fails) and
    // used from there, not cloned.
    let caller = facts.caller.insert(P::caller(Signer {
        access_key_id,
        owner,
        source_ip: peer.ip(),
        region: request_region,
        request_id: facts.request_id.clone(),
        event_id: facts.event_id.clone(),
    }));

    // ③ decode: the members and their constraints; then the request's condition keys, the
    // global ones from the one builder.
    let input = P::decode(&op, parsed, &body, &mut facts.request_parameters)?;
    let global = GlobalSource {
        region,
        source_ip: Some(peer.ip()),
        secure_transport: is_secure(parts),
        now: app.kms.now(),
    };
    P::conditions(&op, &input, caller, &global);

    // ④ authorize what can be before executing (the domain authorizes the rest).
    P::authorize(app, &op, caller)?;

    if !P::may_change(&op) {
        // ⑤ execute
        return P::execute(app, &op, caller, input).await;
    }
    // Fail closed before changing anything (before the domain validates or authorizes it)
    // when the audit log is known to be unwritable: a change must not be committed when its
    // record cannot be written. (A log write that fails for the first time after the commit
    // keeps the full record in the store and answers: ARCHITECTURE.md §7.2.)
    if !app.audit.is_healthy() {
        return Err(P::audit_failure("the audit log is not writable".into()));
    }
    // ⑤ execute; the change commits with the request's audit intent.
    let intent = recorder::intent(
        &audit_record(app, &mut facts.clone(), peer, None),
        app.kms.now(),
    );
    facts.intent = intent.clone();
    let caller = facts
        .caller
        .as_ref()
        .ok_or_else(|| P::internal("caller missing"))?;
    audit_intent::scope(intent, P::execute(app, &op, caller, input)).await
}

/// The request's audit record, taking what it needs out of `facts` (the request id, head and
/// operation stay, for the answer). Without a `result`, the record as known before the
/// request executes (its audit intent).
fn audit_record<P: Protocol>(
    app: &App,
    facts: &mut Facts<P>,
    peer: SocketAddr,
    result: Option<&Result<P::Output, P::Error>>,
) -> AuditRecord {
    let account = facts.caller.as_ref().map(|c| P::account(c).to_string());
    let mut record = AuditRecord {
        user_identity: match (facts.caller.take(), facts.access_key_id.take()) {
            (Some(caller), access_key_id) => Some(P::user_identity(caller, access_key_id)),
            (None, Some(access_key_id)) => Some(UserIdentity {
                type_: "Unknown".into(),
                access_key_id: Some(access_key_id),
                ..Default::default()
            }),
            (None, None) => None,
        },
        event_time: format_event_time(app.kms.now()),
        aws_region: match facts.region.take() {
            Some(region) => region,
            None => P::region(&facts.head, facts.op.as_ref(), &app.config.region).to_string(),
        },
        source_ip_address: peer.ip().to_string(),
        user_agent: facts.user_agent.take(),
        request_parameters: facts.request_parameters.take(),
        request_id: facts.request_id.clone(),
        event_id: std::mem::take(&mut facts.event_id),
        tls_details: facts.tls_details.take(),
        ..Default::default()
    };
    P::describe(&facts.head, facts.op.as_ref(), &mut record);
    if let Some(result) = result {
        P::outcome(result, account.as_deref(), &mut record);
    }
    record.recipient_account_id = account;
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use trent_core::iam::KeyOwner;
    use trent_core::model::AccountId;
    use trent_core::Identity;

    fn signer(account: &AccountId) -> Signer {
        Signer {
            access_key_id: "AKIAEXAMPLE".into(),
            owner: KeyOwner::account_root(account, Arc::new(Identity::account_root(account))),
            source_ip: "10.1.2.3".parse().unwrap(),
            region: "eu-west-1",
            request_id: "request".into(),
            event_id: "event".into(),
        }
    }

    /// Both protocols take their global condition keys from the one source the skeleton
    /// builds, so a "deny unless TLS" or "deny outside this Region" statement sees the same
    /// values for an IAM, STS or KMS request.
    #[test]
    fn every_protocol_gets_the_same_global_condition_keys() {
        let account = AccountId::parse("111122223333").unwrap();
        let global = GlobalSource {
            region: "eu-west-1",
            source_ip: Some("10.1.2.3".parse().unwrap()),
            secure_transport: true,
            now: time::macros::datetime!(2026-12-08 10:00:00.5 UTC),
        };

        let mut kms = Json::caller(signer(&account));
        let op = trent_wire::Operation::ListKeys;
        Json::conditions(&op, &serde_json::json!({}), &mut kms, &global);
        let kms_keys = kms_keys(&kms);

        let (op, params) = Query::operation(None, b"Action=AssumeRole&Version=2011-06-15");
        let mut query = Query::caller(signer(&account));
        Query::conditions(&op, &params, &mut query, &global);
        let query_keys = query_keys(&query);

        let expected = [
            ("aws:SourceIp", "10.1.2.3"),
            ("aws:CurrentTime", "2026-12-08T10:00:00Z"),
            ("aws:EpochTime", "1796724000"),
            ("aws:SecureTransport", "true"),
            ("aws:RequestedRegion", "eu-west-1"),
        ];
        for (key, value) in expected {
            assert_eq!(kms_keys(key), Some(vec![value.to_string()]), "KMS {key}");
            assert_eq!(
                query_keys(key),
                Some(vec![value.to_string()]),
                "query {key}"
            );
        }
    }

    fn kms_keys(caller: &crate::api::json::KmsCaller) -> impl Fn(&str) -> Option<Vec<String>> + '_ {
        move |k| caller.conditions().keys.get(k).map(<[String]>::to_vec)
    }

    fn query_keys(caller: &crate::iam::QueryCaller) -> impl Fn(&str) -> Option<Vec<String>> + '_ {
        move |k| caller.keys().get(k).map(<[String]>::to_vec)
    }
}
