//! IAM and STS on the KMS listener, in AWS's query protocol: `POST /` with a form-encoded body
//! (`Action=CreateUser&Version=2010-05-08&…`), SigV4 with signing name `iam` or `sts`, XML
//! answers. The path mirrors the KMS pipeline: ① frame → ② authenticate → ③ parse →
//! ⑤ authorize and execute → ⑥ audit (before the answer, fail closed) → ⑦ encode.
//!
//! IAM calls are authorized by the caller's identity policies (`iam:CreateUser` on
//! `arn:aws:iam::ACCOUNT:user/NAME`, …); an account root may do everything in its own account;
//! nothing reaches across accounts.

mod principals;
pub mod query;
mod roles;
mod sts;
mod users;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::Value;
use trent_audit::{format_event_time, new_event_id, AuditRecord, UserIdentity};
use trent_core::iam::{Iam, IamCaller, KeyOwner, RoleRecord, UserRecord};

use crate::api::errors::QueryError;
use crate::app::App;
use crate::authenticate::verify_signature;
use crate::http::{header, read_body};
use query::Params;

/// IAM's XML namespace.
pub const IAM_NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// STS's XML namespace.
pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// The Region IAM requests are signed for (IAM is global), besides this server's own.
pub const IAM_SIGNING_REGION: &str = "us-east-1";

/// Which query service a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// IAM (`iam.amazonaws.com`).
    Iam,
    /// STS (`sts.amazonaws.com`).
    Sts,
}

impl Service {
    fn namespace(self) -> &'static str {
        match self {
            Service::Iam => IAM_NAMESPACE,
            Service::Sts => STS_NAMESPACE,
        }
    }
    fn signing_name(self) -> &'static str {
        match self {
            Service::Iam => "iam",
            Service::Sts => "sts",
        }
    }
    fn event_source(self) -> &'static str {
        match self {
            Service::Iam => "iam.amazonaws.com",
            Service::Sts => "sts.amazonaws.com",
        }
    }
}

/// ① Whether a request is in the query protocol (a form-encoded body, exactly that media type,
/// as botocore sends it with `; charset=utf-8`), not KMS JSON.
pub fn is_query_request(parts: &http::request::Parts) -> bool {
    header(&parts.headers, "content-type")
        .is_some_and(|c| crate::http::is_media_type(c, &["application/x-www-form-urlencoded"]))
}

/// The signing service named in the `Authorization` header's credential scope.
fn signed_service(parts: &http::request::Parts) -> Option<&str> {
    header(&parts.headers, "authorization")?
        .split("Credential=")
        .nth(1)?
        .split('/')
        .nth(3)
}

/// What a handler answers.
pub struct Reply {
    /// The content of `<ActionResult>`, or `None` for actions without output.
    pub result: Option<String>,
    /// CloudTrail's `responseElements` (no secrets).
    pub response_elements: Option<Value>,
}

impl Reply {
    fn empty() -> Reply {
        Reply {
            result: None,
            response_elements: None,
        }
    }
}

/// One request's context for the handlers.
pub(crate) struct Ctx<'a> {
    /// The IAM domain.
    pub(crate) iam: &'a Iam,
    /// Who signed, with the request's condition keys.
    pub(crate) caller: IamCaller<'a>,
    /// The request's form parameters.
    pub(crate) params: &'a Params,
}

/// What the audit record needs to know.
struct Facts {
    service: Service,
    action: String,
    access_key_id: Option<String>,
    caller: Option<KeyOwner>,
    user_agent: Option<String>,
    request_parameters: Option<Value>,
    tls_details: Option<trent_audit::TlsDetails>,
    /// The audit intent of a request that may change state (committed with its change).
    intent: Option<trent_core::audit_intent::AuditIntent>,
}

/// Handles one IAM or STS request end to end.
pub async fn handle(
    app: Arc<App>,
    parts: http::request::Parts,
    body: Incoming,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let request_id = trent_audit::new_request_id();
    let event_id = new_event_id();
    let mut facts = Facts {
        service: match signed_service(&parts) {
            Some("sts") => Service::Sts,
            _ => Service::Iam,
        },
        action: String::new(),
        access_key_id: None,
        caller: None,
        user_agent: header(&parts.headers, "user-agent").map(str::to_string),
        request_parameters: None,
        tls_details: crate::http::tls_details(&parts),
        intent: None,
    };
    let ids = (request_id.as_str(), event_id.as_str());
    let result = run(&app, &parts, body, peer, ids, &mut facts).await;

    // ⑥ audit — before anything is sent.
    let record = audit_record(&app, &facts, peer, ids, Some(&result));
    let result = match crate::recorder::record(&app, record, facts.intent.as_ref()).await {
        Ok(()) => result,
        Err(e) => Err(QueryError::Audit(e.to_string())),
    };

    // ⑦ encode
    let namespace = facts.service.namespace();
    let (status, body) = match result {
        Ok(reply) => (
            StatusCode::OK,
            query::response(
                namespace,
                &facts.action,
                reply.result.as_deref(),
                &request_id,
            ),
        ),
        Err(e) => {
            if e.is_internal() {
                tracing::error!(request_id, error = ?e, "IAM request failed inside Trent");
            }
            let status = StatusCode::from_u16(e.code().status).unwrap_or(StatusCode::BAD_REQUEST);
            (status, query::error_response(namespace, &e, &request_id))
        }
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

async fn run(
    app: &App,
    parts: &http::request::Parts,
    body: Incoming,
    peer: SocketAddr,
    ids: (&str, &str),
    facts: &mut Facts,
) -> Result<Reply, QueryError> {
    // ① frame
    if parts.method != http::Method::POST || parts.uri.path() != "/" {
        return Err(QueryError::InvalidAction(format!(
            "{} {} is not an IAM or STS API request",
            parts.method,
            parts.uri.path()
        )));
    }
    let body = read_body(body, &parts.headers, app.config.max_body_bytes).await?;
    let params = Params::parse(&body);
    facts.action = params
        .get("Action")
        .unwrap_or_default()
        .chars()
        .take(128)
        .collect();
    if signed_service(parts).is_none() && sts::is_sts_action(&facts.action) {
        facts.service = Service::Sts;
    }

    // ② authenticate
    // STS is signed for the client's Region (any served one, ARCHITECTURE.md §10).
    let sts_region = crate::authenticate::signed_region(parts)
        .and_then(|r| app.config.served_region(r))
        .unwrap_or_else(|| app.config.default_region());
    let regions: &[&str] = match facts.service {
        Service::Iam => &[IAM_SIGNING_REGION, &app.config.region],
        Service::Sts => &[sts_region, IAM_SIGNING_REGION],
    };
    let (_, caller) = verify_signature(
        app,
        parts,
        &body,
        facts.service.signing_name(),
        regions,
        &mut facts.access_key_id,
    )?;
    facts.caller = Some(caller.clone());

    // ③ parse
    facts.request_parameters = Some(params.to_request_parameters());
    let version = params.get("Version");
    let keys = crate::conditions::global_keys(&crate::conditions::GlobalSource {
        region: match facts.service {
            Service::Iam => IAM_SIGNING_REGION,
            Service::Sts => sts_region,
        },
        source_ip: Some(peer.ip()),
        secure_transport: crate::http::is_secure(parts),
        now: app.kms.now(),
    });
    let ctx = Ctx {
        iam: &app.credentials,
        caller: IamCaller {
            owner: &caller,
            keys: Arc::new(keys),
        },
        params: &params,
    };

    // ⑤ authorize and execute; a change commits with the request's audit intent.
    if facts.service == Service::Iam && !is_read_only(&facts.action) {
        // Fail closed before changing anything when the audit log is known to be unwritable.
        if !app.audit.is_healthy() {
            return Err(QueryError::Audit("the audit log is not writable".into()));
        }
        facts.intent =
            crate::recorder::intent(&audit_record(app, facts, peer, ids, None), app.kms.now());
    }
    let intent = facts.intent.clone();
    trent_core::audit_intent::scope(intent, execute(&ctx, facts, version)).await
}

/// ⑤ Dispatches to the action's handler.
async fn execute(ctx: &Ctx<'_>, facts: &Facts, version: Option<&str>) -> Result<Reply, QueryError> {
    let action = facts.action.as_str();
    let (expected_version, service) = match facts.service {
        Service::Iam => ("2010-05-08", Service::Iam),
        Service::Sts => ("2011-06-15", Service::Sts),
    };
    if version.is_some_and(|v| v != expected_version) {
        return Err(invalid_action(action, version));
    }
    type U = UserRecord;
    type R = RoleRecord;
    match (service, action) {
        (Service::Iam, "CreateUser") => users::create(ctx).await,
        (Service::Iam, "GetUser") => users::get(ctx),
        (Service::Iam, "ListUsers") => principals::list::<U>(ctx),
        (Service::Iam, "DeleteUser") => principals::delete::<U>(ctx).await,
        (Service::Iam, "CreateAccessKey") => users::create_access_key(ctx).await,
        (Service::Iam, "ListAccessKeys") => users::list_access_keys(ctx),
        (Service::Iam, "UpdateAccessKey") => users::update_access_key(ctx).await,
        (Service::Iam, "DeleteAccessKey") => users::delete_access_key(ctx).await,
        (Service::Iam, "PutUserPolicy") => principals::put_policy::<U>(ctx).await,
        (Service::Iam, "GetUserPolicy") => principals::get_policy::<U>(ctx),
        (Service::Iam, "ListUserPolicies") => principals::list_policies::<U>(ctx),
        (Service::Iam, "DeleteUserPolicy") => principals::delete_policy::<U>(ctx).await,
        (Service::Iam, "TagUser") => principals::tag::<U>(ctx).await,
        (Service::Iam, "UntagUser") => principals::untag::<U>(ctx).await,
        (Service::Iam, "ListUserTags") => principals::list_tags::<U>(ctx),
        (Service::Iam, "CreateRole") => roles::create(ctx).await,
        (Service::Iam, "GetRole") => principals::get::<R>(ctx),
        (Service::Iam, "ListRoles") => principals::list::<R>(ctx),
        (Service::Iam, "DeleteRole") => principals::delete::<R>(ctx).await,
        (Service::Iam, "UpdateRole") => roles::update(ctx).await,
        (Service::Iam, "UpdateAssumeRolePolicy") => roles::update_assume_role_policy(ctx).await,
        (Service::Iam, "PutRolePolicy") => principals::put_policy::<R>(ctx).await,
        (Service::Iam, "GetRolePolicy") => principals::get_policy::<R>(ctx),
        (Service::Iam, "ListRolePolicies") => principals::list_policies::<R>(ctx),
        (Service::Iam, "DeleteRolePolicy") => principals::delete_policy::<R>(ctx).await,
        (Service::Iam, "TagRole") => principals::tag::<R>(ctx).await,
        (Service::Iam, "UntagRole") => principals::untag::<R>(ctx).await,
        (Service::Iam, "ListRoleTags") => principals::list_tags::<R>(ctx),
        (Service::Sts, "GetCallerIdentity") => Ok(sts::get_caller_identity(ctx)),
        (Service::Sts, "AssumeRole") => sts::assume_role(ctx),
        _ => Err(invalid_action(action, version)),
    }
}

fn invalid_action(action: &str, version: Option<&str>) -> QueryError {
    QueryError::InvalidAction(format!(
        "Could not find operation {action} for version {}",
        version.unwrap_or("NO_VERSION_SPECIFIED")
    ))
}

/// IAM actions that change nothing (`Get*`, `List*`).
fn is_read_only(action: &str) -> bool {
    ["Get", "List"].iter().any(|p| action.starts_with(p))
}

/// The request's audit record; without a `result`, as known before it executes (its intent).
fn audit_record(
    app: &App,
    facts: &Facts,
    peer: SocketAddr,
    (request_id, event_id): (&str, &str),
    result: Option<&Result<Reply, QueryError>>,
) -> AuditRecord {
    let user_identity = match &facts.caller {
        Some(c) => Some(UserIdentity {
            type_: c.kind.cloudtrail_type().to_string(),
            principal_id: Some(c.user_id.clone()),
            arn: Some(c.principal_arn.clone()),
            account_id: Some(c.account_id.to_string()),
            access_key_id: facts.access_key_id.clone(),
            invoked_by: None,
        }),
        None => facts.access_key_id.as_ref().map(|akid| UserIdentity {
            type_: "Unknown".into(),
            access_key_id: Some(akid.clone()),
            ..Default::default()
        }),
    };
    let read_only = is_read_only(&facts.action);
    let mut record = AuditRecord {
        user_identity,
        event_time: format_event_time(app.kms.now()),
        event_source: facts.service.event_source().to_string(),
        event_name: facts.action.clone(),
        aws_region: match facts.service {
            Service::Iam => IAM_SIGNING_REGION.to_string(),
            Service::Sts => app.config.region.clone(),
        },
        source_ip_address: peer.ip().to_string(),
        user_agent: facts.user_agent.clone(),
        request_parameters: facts.request_parameters.clone(),
        request_id: request_id.to_string(),
        event_id: event_id.to_string(),
        read_only,
        recipient_account_id: facts.caller.as_ref().map(|c| c.account_id.to_string()),
        tls_details: facts.tls_details.clone(),
        ..Default::default()
    };
    match result {
        None => {}
        Some(Ok(reply)) => record.response_elements = reply.response_elements.clone(),
        Some(Err(e)) => {
            record.error_code = Some(e.code().code.to_string());
            record.error_message = Some(e.message());
        }
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_content_type(value: &str) -> http::request::Parts {
        let (parts, ()) = http::Request::builder()
            .header("content-type", value)
            .body(())
            .expect("a request")
            .into_parts();
        parts
    }

    #[test]
    fn only_the_exact_form_media_type_is_a_query_request() {
        for ok in [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=utf-8",
        ] {
            assert!(is_query_request(&with_content_type(ok)), "{ok}");
        }
        for bad in [
            "application/x-www-form-urlencodedX",
            "application/x-www-form-urlencoded; charset=latin1",
            "application/x-amz-json-1.1",
        ] {
            assert!(!is_query_request(&with_content_type(bad)), "{bad}");
        }
    }
}
