//! The part of the request path that varies by protocol (ARCHITECTURE.md §1): KMS's JSON 1.1
//! ([`crate::api::json::Json`]) and IAM's and STS's query protocol ([`crate::iam::Query`]).
//!
//! The skeleton that every request runs, whatever its protocol, is [`crate::pipeline`]:
//! ① frame → ② authenticate → ③ decode → ④ authorize → ⑤ execute → ⑥ audit → ⑦ encode. It
//! owns the order, the SigV4 check, the one builder of global condition keys, the audit
//! intent, the fail-closed audit gate and the audit record's common members; a protocol
//! answers only what differs: how its requests are framed and named, how they are decoded and
//! executed, what its audit record adds, and how its answers and errors are written.

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::Response;
use http_body_util::Full;
use serde_json::Value;
use trent_audit::{AuditRecord, UserIdentity};
use trent_core::iam::KeyOwner;
use trent_core::model::AccountId;

use crate::app::App;
use crate::authenticate::AuthFailure;
use crate::conditions::GlobalSource;
use crate::http::BodyError;

/// ② How a protocol's requests are signed.
pub(crate) struct Signing<'a> {
    /// The SigV4 signing name (`kms`, `iam`, `sts`).
    pub(crate) service: &'static str,
    /// The Regions a credential scope may name; the first is assumed when it names none of
    /// them (IAM is signed for us-east-1 wherever it is served).
    pub(crate) regions: [&'a str; 2],
}

/// ② Who signed a request, as authentication found them, for the protocol to make its caller.
pub(crate) struct Signer {
    /// The access key the request was signed with.
    pub(crate) access_key_id: String,
    /// The principal that owns it.
    pub(crate) owner: KeyOwner,
    /// The client's address.
    pub(crate) source_ip: IpAddr,
    /// The Region of the request (its credential scope's, ARCHITECTURE.md §10).
    pub(crate) region: &'static str,
    /// This request's `x-amzn-RequestId`.
    pub(crate) request_id: String,
    /// This request's audit `eventID`.
    pub(crate) event_id: String,
}

/// What a protocol answers to the skeleton in [`crate::pipeline`]. Each method is one step,
/// or one part of the audit record, named after it.
pub(crate) trait Protocol: Clone {
    /// What the request head names before any check (X-Amz-Target; the signed service): kept
    /// for the audit record and the answer of a request refused while framing.
    type Head: Clone + Send + Sync;
    /// What ①'s checks of the head found (KMS: the operation).
    type Frame: Send;
    /// The operation, once ① read the body.
    type Op: Clone + Send + Sync;
    /// What ① read from the body for ③ (the query protocol's form; nothing for JSON).
    type Parsed: Send;
    /// The decoded request.
    type Input: Send;
    /// Who the request acts as, as the protocol's domain takes it (with the request's
    /// condition keys once ③ built them).
    type Caller: Clone + Send + Sync;
    /// What a successful request produced.
    type Output: Send;
    /// Why a request failed: every layer's error, mapped to the protocol's AWS answers in
    /// one place (`api/errors.rs`).
    type Error: Send + From<BodyError> + From<AuthFailure>;

    /// What the head names (infallible).
    fn head(parts: &Parts) -> Self::Head;
    /// ① The head's checks (method, path, media type, operation), before the body is read.
    fn frame(head: &Self::Head, parts: &Parts) -> Result<Self::Frame, Self::Error>;
    /// ① The operation, with the body read.
    fn operation(frame: Self::Frame, body: &[u8]) -> (Self::Op, Self::Parsed);

    /// ② The signing name and Regions the signature must name: `request_region` is the
    /// served Region the credential scope names (else the default Region), `default_region`
    /// the data dir's (ARCHITECTURE.md §10).
    fn signing<'a>(op: &Self::Op, request_region: &'a str, default_region: &'a str) -> Signing<'a>;
    /// The Region a request is for (`aws:RequestedRegion`, the record's `awsRegion`).
    fn region<'a>(head: &Self::Head, op: Option<&Self::Op>, request_region: &'a str) -> &'a str;
    /// ② The caller, from who signed.
    fn caller(signer: Signer) -> Self::Caller;
    /// The caller's account (the record's `recipientAccountId`).
    fn account(caller: &Self::Caller) -> &AccountId;

    /// ③ Parses and checks the request's members; `request_parameters` gets what the audit
    /// record shows of them (never a secret).
    fn decode(
        op: &Self::Op,
        parsed: Self::Parsed,
        body: &[u8],
        request_parameters: &mut Option<Value>,
    ) -> Result<Self::Input, Self::Error>;
    /// ③ Gives the caller the request's condition keys: the global ones from `global`
    /// ([`crate::conditions::global_keys`], the one builder) and the protocol's own.
    fn conditions(
        op: &Self::Op,
        input: &Self::Input,
        caller: &mut Self::Caller,
        global: &GlobalSource<'_>,
    );
    /// ④ What is authorized before executing (KMS operations on no key). The rest is
    /// authorized by the domain as it executes, before it changes anything.
    fn authorize(app: &App, op: &Self::Op, caller: &Self::Caller) -> Result<(), Self::Error>;
    /// Whether the request may change state: it then runs inside its audit intent's scope,
    /// and is refused up front while the audit log is failing (ARCHITECTURE.md §7.2).
    fn may_change(op: &Self::Op) -> bool;
    /// ⑤ Executes the request in the protocol's domain.
    fn execute<'a>(
        app: &'a App,
        op: &'a Self::Op,
        caller: &'a Self::Caller,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send + 'a;

    /// ⑥ The error of a request whose audit record cannot be written (fail closed); `why`
    /// goes to the log only.
    fn audit_failure(why: String) -> Self::Error;
    /// An invariant of the skeleton broke (never expected); `what` goes to the log only.
    fn internal(what: &'static str) -> Self::Error;
    /// ⑥ CloudTrail's `userIdentity` of the caller.
    fn user_identity(caller: Self::Caller, access_key_id: Option<String>) -> UserIdentity;
    /// ⑥ The record's `eventSource`, `eventName` and `readOnly`.
    fn describe(head: &Self::Head, op: Option<&Self::Op>, record: &mut AuditRecord);
    /// ⑥ What the record shows of the answer: `responseElements` and `resources`, or
    /// `errorCode` and `errorMessage`.
    fn outcome(
        result: &Result<Self::Output, Self::Error>,
        account: Option<&str>,
        record: &mut AuditRecord,
    );

    /// ⑦ The HTTP answer, always with `x-amzn-RequestId` (and the protocol's metrics).
    fn encode(
        app: &App,
        head: &Self::Head,
        op: Option<&Self::Op>,
        request_id: &str,
        result: Result<Self::Output, Self::Error>,
        took: Duration,
    ) -> Response<Full<Bytes>>;
}
