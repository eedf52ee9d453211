//! KMS's protocol, AWS JSON 1.1 (ARCHITECTURE.md §1): `POST /` with
//! `Content-Type: application/x-amz-json-1.1` and `X-Amz-Target: TrentService.<Operation>`,
//! a JSON body checked against the botocore model, JSON answers and
//! `{"__type": code, "message": …}` errors. The steps' order is the skeleton's
//! ([`crate::pipeline`]); this is what KMS answers at each.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;
use trent_audit::{redact_request_parameters, redact_response_elements, Resource, UserIdentity};
use trent_core::authorize::is_keyless;
use trent_core::iam::OwnerKind;
use trent_core::model::AccountId;
use trent_core::{Action, Caller, CoreError, RequestConditions};
use trent_wire::error::error_body;
use trent_wire::model::check_request;
use trent_wire::{Operation, WireError};

use crate::api::convert::{execute, Outcome};
use crate::api::errors::ApiError;
use crate::app::App;
use crate::conditions::{check_grant_tokens, request_conditions, GlobalSource};
use crate::http::{header, is_media_type};
use crate::protocol::{Protocol, Signer, Signing};

/// The JSON protocol's content type.
pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// KMS's JSON 1.1 protocol.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Json;

/// Who a KMS request acts as: core's caller, and what CloudTrail names them by.
#[derive(Clone)]
pub(crate) struct KmsCaller {
    /// The caller as the KMS takes it (with the request's condition keys after ③).
    caller: Caller,
    /// What kind of principal signed.
    kind: OwnerKind,
    /// Its `principalId`.
    principal_id: String,
}

impl KmsCaller {
    /// The request's condition keys and encryption contexts.
    #[cfg(test)]
    pub(crate) fn conditions(&self) -> &RequestConditions {
        &self.caller.request
    }
}

impl Protocol for Json {
    /// The `X-Amz-Target` header as sent (the event name of a request with an unknown one).
    type Head = String;
    type Frame = Operation;
    type Op = Operation;
    type Parsed = ();
    type Input = Value;
    type Caller = KmsCaller;
    type Output = Outcome;
    type Error = ApiError;

    fn head(parts: &Parts) -> String {
        header(&parts.headers, "x-amz-target")
            .unwrap_or_default()
            .to_string()
    }

    /// `POST /` with the JSON 1.1 content type and a `TrentService.*` target.
    fn frame(target: &String, parts: &Parts) -> Result<Operation, ApiError> {
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

    fn operation(op: Operation, _body: &[u8]) -> (Operation, ()) {
        (op, ())
    }

    fn signing<'a>(_op: &Operation, request_region: &'a str, _default: &'a str) -> Signing<'a> {
        Signing {
            service: "kms",
            regions: [request_region, request_region],
        }
    }

    fn region<'a>(_target: &String, _op: Option<&Operation>, request_region: &'a str) -> &'a str {
        request_region
    }

    fn caller(signer: Signer) -> KmsCaller {
        let owner = signer.owner;
        KmsCaller {
            caller: Caller {
                account_id: owner.account_id,
                region: signer.region,
                principal_arn: owner.principal_arn,
                identity: owner.identity,
                access_key_id: signer.access_key_id,
                source_ip: Some(signer.source_ip),
                request_id: signer.request_id,
                event_id: signer.event_id,
                request: RequestConditions::none(),
            },
            kind: owner.kind,
            principal_id: owner.user_id,
        }
    }

    fn account(caller: &KmsCaller) -> &AccountId {
        &caller.caller.account_id
    }

    /// JSON (an object with no duplicated member), the model's type checks and member
    /// constraints, and the grant tokens' form.
    fn decode(
        op: &Operation,
        (): (),
        body: &[u8],
        request_parameters: &mut Option<Value>,
    ) -> Result<Value, ApiError> {
        let value: Value = if body.is_empty() {
            Value::Object(Default::default())
        } else {
            crate::strict_json::from_slice(body)
                .map_err(|e| WireError::Serialization(format!("Malformed JSON: {e}")))?
        };
        *request_parameters = Some(redact_request_parameters(op.name(), &value));
        check_request(*op, &value)?;
        check_grant_tokens(&value)?;
        Ok(value)
    }

    /// The KMS condition keys of the request (built on the first lookup), for key policies,
    /// IAM policies and grants.
    fn conditions(
        op: &Operation,
        input: &Value,
        caller: &mut KmsCaller,
        global: &GlobalSource<'_>,
    ) {
        caller.caller.request = Arc::new(request_conditions(
            *op,
            input,
            &caller.caller.account_id,
            global,
        ));
    }

    /// The operations on no key (CreateKey, ListKeys, …) by identity policies alone; the
    /// others by core, with the key's policy and grants, as they execute.
    fn authorize(app: &App, op: &Operation, caller: &KmsCaller) -> Result<(), ApiError> {
        if let Some(action) = Action::from_name(op.name()).filter(|a| is_keyless(*a)) {
            app.kms.authorize_keyless(&caller.caller, action)?;
        }
        Ok(())
    }

    fn may_change(op: &Operation) -> bool {
        !op.is_read_only()
    }

    fn execute<'a>(
        app: &'a App,
        op: &'a Operation,
        caller: &'a KmsCaller,
        input: Value,
    ) -> impl std::future::Future<Output = Result<Outcome, ApiError>> + Send + 'a {
        execute(&app.kms, &caller.caller, *op, input)
    }

    fn audit_failure(why: String) -> ApiError {
        ApiError::Audit(why)
    }

    fn internal(what: &'static str) -> ApiError {
        ApiError::Core(CoreError::Internal(what.into()))
    }

    fn user_identity(caller: KmsCaller, _access_key_id: Option<String>) -> UserIdentity {
        let KmsCaller {
            caller,
            kind,
            principal_id,
        } = caller;
        UserIdentity {
            type_: kind.cloudtrail_type().to_string(),
            principal_id: Some(principal_id),
            arn: Some(caller.principal_arn),
            account_id: Some(caller.account_id.to_string()),
            access_key_id: Some(caller.access_key_id),
            invoked_by: None,
        }
    }

    /// `eventSource` stays `kms.amazonaws.com` (the record's default).
    fn describe(target: &String, op: Option<&Operation>, record: &mut trent_audit::AuditRecord) {
        record.event_name = match op {
            Some(op) => op.name().to_string(),
            None => target
                .strip_prefix(trent_wire::operation::TARGET_PREFIX)
                .unwrap_or(target)
                .chars()
                .take(128)
                .collect(),
        };
        record.read_only = op.is_some_and(|o| o.is_read_only());
    }

    fn outcome(
        result: &Result<Outcome, ApiError>,
        account: Option<&str>,
        record: &mut trent_audit::AuditRecord,
    ) {
        match result {
            Ok(outcome) => {
                if let (Some(arn), Some(account)) = (&outcome.key_arn, account) {
                    record
                        .resources
                        .push(Resource::kms_key(account.to_string(), arn.clone()));
                }
                record.response_elements = outcome
                    .response_elements
                    .as_ref()
                    .and_then(|v| redact_response_elements(&record.event_name, v));
            }
            Err(e) => {
                let (code, message) = e.to_aws();
                record.error_code = Some(code.name().to_string());
                record.error_message = Some(message);
            }
        }
    }

    /// The JSON body or AWS's error shape, with the error's HTTP status; and the request
    /// counted in the metrics.
    fn encode(
        app: &App,
        _target: &String,
        op: Option<&Operation>,
        request_id: &str,
        result: Result<Outcome, ApiError>,
        took: Duration,
    ) -> Response<Full<Bytes>> {
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
        app.metrics.record(op.copied(), error, took);
        let mut resp = Response::new(Full::new(body));
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
        if let Ok(v) = HeaderValue::from_str(request_id) {
            h.insert("x-amzn-requestid", v);
        }
        resp
    }
}

/// Whether `content_type` names JSON exactly: the JSON 1.1 protocol's media type (what
/// botocore, the AWS SDK for Rust and the JavaScript SDK v3 send, without parameters) or
/// `application/json`, case-insensitively, with at most a `charset=utf-8` parameter. A prefix
/// such as `application/jsonX` is not JSON.
fn is_json_media_type(content_type: &str) -> bool {
    is_media_type(content_type, &[CONTENT_TYPE, "application/json"])
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
