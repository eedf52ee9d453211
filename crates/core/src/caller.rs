//! Who is calling, as established by authentication.

use std::collections::BTreeMap;
use std::sync::Arc;

use trent_policy::{ContextKeys, Policy, Principal};

use crate::model::AccountId;

/// The authenticated principal of a request, and the request facts policies may test.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The principal's account.
    pub account_id: AccountId,
    /// The Region of the request: its SigV4 credential scope's (ARCHITECTURE.md §10). Every
    /// key, alias and grant the request names or lists is looked up in this Region.
    pub region: &'static str,
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
    /// What the request itself says that policies and grants may test: its condition keys
    /// (`kms:EncryptionContext:…`, `kms:RequestAlias`, `aws:SourceIp`, …) and its encryption
    /// contexts. Built by the server from the request once decoded; empty before.
    pub request: Arc<RequestConditions>,
}

/// The request-derived inputs of authorization.
#[derive(Debug, Default)]
pub struct RequestConditions {
    /// Condition keys derived from the request and its connection (never from the key:
    /// core adds `aws:ResourceTag/…`, `kms:ResourceAliases`, `kms:KeySpec`, … itself).
    pub keys: Arc<ContextKeys>,
    /// The encryption contexts the request carries (ReEncrypt has two), exactly as sent, for
    /// grant constraints (which compare keys and values case-sensitively).
    pub encryption_contexts: Vec<BTreeMap<String, String>>,
}

impl RequestConditions {
    /// No request facts: for requests before they are decoded, and for internal callers.
    pub fn none() -> Arc<RequestConditions> {
        Arc::new(RequestConditions::default())
    }
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
