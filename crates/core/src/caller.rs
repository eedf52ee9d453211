//! Who is calling, as established by authentication.

use std::sync::Arc;

use trent_policy::{Policy, Principal};

use crate::model::AccountId;

/// The authenticated principal of a request, and the request facts policies may test.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The principal's account.
    pub account_id: AccountId,
    /// The principal's ARN, e.g. `arn:aws:iam::111122223333:root`.
    pub principal_arn: String,
    /// What IAM knows about the principal, for policy evaluation. Shared: built once per
    /// credential (and cached by the server), not per request.
    pub identity: Arc<Identity>,
    /// The access key the request was signed with.
    pub access_key_id: String,
    /// The client's address, as `aws:SourceIp` sees it.
    pub source_ip: Option<std::net::IpAddr>,
    /// This request's `x-amzn-RequestId`.
    pub request_id: String,
    /// The `eventID` of this request's audit record.
    pub event_id: String,
}

/// A principal as policies see it: its ARN, type, tags and user id ([`Principal`]), and its
/// identity-based (IAM) policies, parsed once.
#[derive(Debug)]
pub struct Identity {
    /// The principal, answering `aws:PrincipalArn`, `aws:PrincipalTag/…`, `aws:username`, ….
    pub principal: Principal,
    /// The principal's identity policies: a user's inline policies, or, for an assumed-role
    /// session, the role's. Empty for an account root (which needs none).
    pub policies: Vec<Arc<Policy>>,
}

impl Identity {
    /// The identity of an account root: `arn:aws:iam::ACCOUNT:root`, no identity policies.
    pub fn account_root(account: &AccountId) -> Identity {
        let arn = format!("arn:aws:iam::{account}:root");
        Identity {
            // A 12-digit account id always makes a valid root ARN.
            principal: Principal::from_arn(&arn).unwrap_or_else(|_| Principal::service(&arn)),
            policies: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_root_identity_is_a_root_principal_without_policies() {
        let id = Identity::account_root(&AccountId::parse("111122223333").unwrap());
        assert!(id.principal.is_root());
        assert_eq!(id.principal.arn(), "arn:aws:iam::111122223333:root");
        assert_eq!(id.principal.account_id(), "111122223333");
        assert!(id.policies.is_empty());
    }
}
