//! IAM and STS on the KMS listener, in AWS's query protocol: `POST /` with a form-encoded body
//! (`Action=CreateUser&Version=2010-05-08&…`), SigV4 with signing name `iam` or `sts`, XML
//! answers. [`Query`] is this protocol's part of the one skeleton every request runs
//! ([`crate::pipeline`]): ① frame → ② authenticate → ③ decode → ④ authorize → ⑤ execute →
//! ⑥ audit (before the answer, fail closed) → ⑦ encode.
//!
//! IAM calls are authorized by the caller's identity policies (`iam:CreateUser` on
//! `arn:aws:iam::ACCOUNT:user/NAME`, …); an account root may do everything in its own account;
//! nothing reaches across accounts.

mod principals;
pub mod query;
mod roles;
mod sts;
mod users;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;
use trent_audit::{AuditRecord, UserIdentity};
use trent_core::iam::{Iam, IamCaller, IamError, KeyOwner, RoleRecord, UserRecord};
use trent_core::model::AccountId;
use trent_core::policy::ContextKeys;

use crate::api::errors::QueryError;
use crate::app::App;
use crate::conditions::GlobalSource;
use crate::http::header;
use crate::protocol::{Protocol, Signer, Signing};
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

/// IAM's and STS's query protocol, as the pipeline's skeleton ([`crate::pipeline`]) runs it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Query;

/// A query-protocol operation: the service and the `Action` parameter (at most 128
/// characters, as it is echoed in the audit record and the answer).
#[derive(Clone, Debug)]
pub(crate) struct QueryOp {
    service: Service,
    action: String,
}

/// Who an IAM or STS request acts as.
#[derive(Clone)]
pub(crate) struct QueryCaller {
    owner: KeyOwner,
    keys: Arc<ContextKeys>,
}

impl QueryCaller {
    /// The request's condition keys.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> &ContextKeys {
        &self.keys
    }
}

impl Protocol for Query {
    /// The service the signature names, if it names one.
    type Head = Option<Service>;
    type Frame = Option<Service>;
    type Op = QueryOp;
    /// The form parameters.
    type Parsed = Params;
    type Input = Params;
    type Caller = QueryCaller;
    /// What a handler answered, and the `Version` the request named.
    type Output = Reply;
    type Error = QueryError;

    fn head(parts: &Parts) -> Option<Service> {
        signed_service(parts).map(|s| match s {
            "sts" => Service::Sts,
            _ => Service::Iam,
        })
    }

    /// `POST /` (the media type chose this protocol).
    fn frame(service: &Option<Service>, parts: &Parts) -> Result<Option<Service>, QueryError> {
        if parts.method != http::Method::POST || parts.uri.path() != "/" {
            return Err(QueryError::InvalidAction(format!(
                "{} {} is not an IAM or STS API request",
                parts.method,
                parts.uri.path()
            )));
        }
        Ok(*service)
    }

    /// The form's `Action`; an STS action in a request whose signature names no service is
    /// STS's.
    fn operation(signed: Option<Service>, body: &[u8]) -> (QueryOp, Params) {
        let params = Params::parse(body);
        let action: String = params
            .get("Action")
            .unwrap_or_default()
            .chars()
            .take(128)
            .collect();
        let service = signed.unwrap_or(if sts::is_sts_action(&action) {
            Service::Sts
        } else {
            Service::Iam
        });
        (QueryOp { service, action }, params)
    }

    /// IAM is signed for us-east-1 (or the default Region); STS for the client's Region, any
    /// served one (ARCHITECTURE.md §10).
    fn signing<'a>(op: &QueryOp, request_region: &'a str, default_region: &'a str) -> Signing<'a> {
        Signing {
            service: op.service.signing_name(),
            regions: match op.service {
                Service::Iam => [IAM_SIGNING_REGION, default_region],
                Service::Sts => [request_region, IAM_SIGNING_REGION],
            },
        }
    }

    /// IAM is global (us-east-1); STS is served in this server's Region.
    fn region<'a>(
        signed: &Option<Service>,
        op: Option<&QueryOp>,
        request_region: &'a str,
    ) -> &'a str {
        match service_of(signed, op) {
            Service::Iam => IAM_SIGNING_REGION,
            Service::Sts => request_region,
        }
    }

    fn caller(signer: Signer) -> QueryCaller {
        QueryCaller {
            owner: signer.owner,
            keys: Arc::new(ContextKeys::new()),
        }
    }

    fn account(caller: &QueryCaller) -> &AccountId {
        &caller.owner.account_id
    }

    /// The parameters are checked by each action's handler, after the IAM domain authorized
    /// what it can before them.
    fn decode(
        _op: &QueryOp,
        params: Params,
        _body: &[u8],
        request_parameters: &mut Option<Value>,
    ) -> Result<Params, QueryError> {
        *request_parameters = Some(params.to_request_parameters());
        Ok(params)
    }

    /// Only the global keys: IAM's own are its policies' business.
    fn conditions(
        _op: &QueryOp,
        _params: &Params,
        caller: &mut QueryCaller,
        global: &GlobalSource<'_>,
    ) {
        caller.keys = Arc::new(crate::conditions::global_keys(global));
    }

    /// Every IAM and STS action is authorized by the IAM domain as it executes, before its
    /// members are checked and before anything changes.
    fn authorize(_app: &App, _op: &QueryOp, _caller: &QueryCaller) -> Result<(), QueryError> {
        Ok(())
    }

    /// IAM actions other than `Get*` and `List*` (STS changes nothing stored).
    fn may_change(op: &QueryOp) -> bool {
        op.service == Service::Iam && !is_read_only(&op.action)
    }

    async fn execute(
        app: &App,
        op: &QueryOp,
        caller: &QueryCaller,
        params: Params,
    ) -> Result<Reply, QueryError> {
        let ctx = Ctx {
            iam: &app.credentials,
            caller: IamCaller {
                owner: &caller.owner,
                keys: caller.keys.clone(),
            },
            params: &params,
        };
        execute(&ctx, op, params.get("Version")).await
    }

    fn audit_failure(why: String) -> QueryError {
        QueryError::Audit(why)
    }

    fn internal(what: &'static str) -> QueryError {
        QueryError::Iam(IamError::Internal(what.into()))
    }

    fn user_identity(caller: QueryCaller, access_key_id: Option<String>) -> UserIdentity {
        let owner = caller.owner;
        UserIdentity {
            type_: owner.kind.cloudtrail_type().to_string(),
            principal_id: Some(owner.user_id),
            arn: Some(owner.principal_arn),
            account_id: Some(owner.account_id.to_string()),
            access_key_id,
            invoked_by: None,
        }
    }

    fn describe(signed: &Option<Service>, op: Option<&QueryOp>, record: &mut AuditRecord) {
        let (service, action) = (service_of(signed, op), action_of(op));
        record.event_source = service.event_source().to_string();
        record.event_name = action.to_string();
        record.read_only = is_read_only(action);
    }

    fn outcome(
        result: &Result<Reply, QueryError>,
        _account: Option<&str>,
        record: &mut AuditRecord,
    ) {
        match result {
            Ok(reply) => record.response_elements = reply.response_elements.clone(),
            Err(e) => {
                record.error_code = Some(e.code().code.to_string());
                record.error_message = Some(e.message());
            }
        }
    }

    /// IAM's XML, in the service's namespace.
    fn encode(
        _app: &App,
        signed: &Option<Service>,
        op: Option<&QueryOp>,
        request_id: &str,
        result: Result<Reply, QueryError>,
        _took: Duration,
    ) -> Response<Full<Bytes>> {
        let (service, action) = (service_of(signed, op), action_of(op));
        let namespace = service.namespace();
        let (status, body) = match result {
            Ok(reply) => (
                StatusCode::OK,
                query::response(namespace, action, reply.result.as_deref(), request_id),
            ),
            Err(e) => {
                if e.is_internal() {
                    tracing::error!(request_id, error = ?e, "IAM request failed inside Trent");
                }
                let status =
                    StatusCode::from_u16(e.code().status).unwrap_or(StatusCode::BAD_REQUEST);
                (status, query::error_response(namespace, &e, request_id))
            }
        };
        let mut resp = Response::new(Full::new(Bytes::from(body)));
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert("content-type", HeaderValue::from_static("text/xml"));
        if let Ok(v) = HeaderValue::from_str(request_id) {
            h.insert("x-amzn-requestid", v);
        }
        resp
    }
}

/// The service of a request: its operation's, or before it was read the one the signature
/// names (IAM when none).
fn service_of(signed: &Option<Service>, op: Option<&QueryOp>) -> Service {
    op.map_or(signed.unwrap_or(Service::Iam), |op| op.service)
}

/// The action of a request (empty before it was read).
fn action_of(op: Option<&QueryOp>) -> &str {
    op.map_or("", |op| op.action.as_str())
}

/// ⑤ Dispatches to the action's handler.
async fn execute(ctx: &Ctx<'_>, op: &QueryOp, version: Option<&str>) -> Result<Reply, QueryError> {
    let action = op.action.as_str();
    let (expected_version, service) = match op.service {
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
