//! Who is calling, as established by authentication.

use crate::model::AccountId;

/// The authenticated principal of a request, and the request facts policies may test.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The principal's account.
    pub account_id: AccountId,
    /// The principal's ARN, e.g. `arn:aws:iam::111122223333:root`.
    pub principal_arn: String,
    /// The access key the request was signed with.
    pub access_key_id: String,
    /// The client's address, as `aws:SourceIp` sees it.
    pub source_ip: Option<std::net::IpAddr>,
    /// This request's `x-amzn-RequestId`.
    pub request_id: String,
    /// The `eventID` of this request's audit record.
    pub event_id: String,
}
