//! KMS authorization: the key policy, the caller's identity policies and grants combined
//! the way AWS KMS does (ARCHITECTURE.md §5).
//!
//! 1. An explicit `Deny` in the key policy or in any identity policy denies.
//! 2. A key policy `Allow` that names the caller directly (its ARN, its role, `*`, or — for
//!    the account root — its account) allows; a caller from another account than the key's
//!    also needs its own identity policies to allow (its account root needs none).
//! 3. A key policy `Allow` that reaches the caller only through its account (`ACCOUNT` or
//!    `arn:aws:iam::ACCOUNT:root`, as the default key policy does) delegates to IAM: it
//!    allows when the caller's identity policies allow.
//! 4. Otherwise a grant for the operation allows.
//! 5. Otherwise the request is implicitly denied.

use std::borrow::Borrow;

use crate::context::RequestContext;
use crate::document::Policy;
use crate::evaluate::Evaluation;

/// The kind of policy a denial is blamed on, in AWS's AccessDeniedException wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyType {
    /// The key policy: "resource-based".
    ResourceBased,
    /// The caller's IAM policies: "identity-based".
    IdentityBased,
}

impl PolicyType {
    /// `resource-based` or `identity-based`.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::ResourceBased => "resource-based",
            PolicyType::IdentityBased => "identity-based",
        }
    }
}

/// The outcome of authorizing one KMS request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The request may proceed.
    Allow,
    /// A `Deny` statement in a policy of this type applies.
    ExplicitDeny(PolicyType),
    /// No policy of this type allows the request (and no grant does).
    ImplicitDeny(PolicyType),
}

impl Decision {
    /// Whether the request may proceed.
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }

    /// AWS's AccessDeniedException message for a denial (`None` for [`Decision::Allow`]):
    /// `User: P is not authorized to perform: A on resource: R because no resource-based
    /// policy allows the A action`, or `… with an explicit deny in an identity-based policy`.
    pub fn access_denied_message(
        self,
        principal_arn: &str,
        action: &str,
        resource: &str,
    ) -> Option<String> {
        let head = format!(
            "User: {principal_arn} is not authorized to perform: {action} on resource: {resource}"
        );
        match self {
            Decision::Allow => None,
            Decision::ExplicitDeny(t) => {
                let article = match t {
                    PolicyType::ResourceBased => "a",
                    PolicyType::IdentityBased => "an",
                };
                Some(format!(
                    "{head} with an explicit deny in {article} {} policy",
                    t.as_str()
                ))
            }
            Decision::ImplicitDeny(t) => Some(format!(
                "{head} because no {} policy allows the {action} action",
                t.as_str()
            )),
        }
    }
}

/// Facts about a KMS request that are not in its policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestFacts {
    /// A grant on the key allows this operation to the caller (with its constraints met).
    pub granted: bool,
    /// The caller's account is not the key's account.
    pub cross_account: bool,
}

/// Decides a KMS request from the key policy, the caller's identity policies and `facts`.
/// The identity policies may be owned or shared (`&[Policy]`, `&[Arc<Policy>]`).
pub fn authorize<P: Borrow<Policy>>(
    key_policy: &Policy,
    identity_policies: &[P],
    ctx: &RequestContext<'_>,
    facts: RequestFacts,
) -> Decision {
    let key = key_policy.evaluate(ctx);
    if key == Evaluation::ExplicitDeny {
        return Decision::ExplicitDeny(PolicyType::ResourceBased);
    }
    let mut identity_allows = false;
    for policy in identity_policies {
        match policy.borrow().evaluate(ctx) {
            Evaluation::ExplicitDeny => return Decision::ExplicitDeny(PolicyType::IdentityBased),
            Evaluation::Allow { .. } => identity_allows = true,
            Evaluation::NotApplicable => {}
        }
    }
    // The account root holds every permission of its own account without identity policies.
    let identity_allows = identity_allows || ctx.principal.is_root();
    let by_policies = match key {
        Evaluation::Allow { via_account: false } if !facts.cross_account => Ok(()),
        Evaluation::Allow { .. } if identity_allows => Ok(()),
        Evaluation::Allow { .. } => Err(PolicyType::IdentityBased),
        Evaluation::NotApplicable | Evaluation::ExplicitDeny => Err(PolicyType::ResourceBased),
    };
    match by_policies {
        Ok(()) => Decision::Allow,
        Err(_) if facts.granted => Decision::Allow,
        Err(blame) => Decision::ImplicitDeny(blame),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{alice, parse, principal, KEY_ARN};
    use crate::{ContextKeys, PolicyKind, Principal};

    const DEFAULT_KEY_POLICY: &str = r#"{"Version":"2012-10-17","Id":"key-default-1","Statement":[
        {"Sid":"Enable IAM User Permissions","Effect":"Allow",
         "Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;

    fn key_policy(doc: &str) -> Policy {
        parse(doc, PolicyKind::Resource)
    }

    fn iam(statements: &str) -> Policy {
        parse(
            &format!(r#"{{"Version":"2012-10-17","Statement":{statements}}}"#),
            PolicyKind::Identity,
        )
    }

    fn decide(
        key: &Policy,
        identity: &[Policy],
        who: &Principal,
        action: &str,
        facts: RequestFacts,
    ) -> Decision {
        let keys = ContextKeys::new();
        let ctx = RequestContext {
            principal: who,
            action,
            resource: KEY_ARN,
            keys: &keys,
        };
        authorize(key, identity, &ctx, facts)
    }

    const SAME: RequestFacts = RequestFacts {
        granted: false,
        cross_account: false,
    };
    const CROSS: RequestFacts = RequestFacts {
        granted: false,
        cross_account: true,
    };
    const GRANTED: RequestFacts = RequestFacts {
        granted: true,
        cross_account: false,
    };

    fn allow_encrypt() -> Policy {
        iam(r#"[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]"#)
    }

    #[test]
    fn default_key_policy_lets_the_root_in_without_identity_policies() {
        let key = key_policy(DEFAULT_KEY_POLICY);
        let root = principal("arn:aws:iam::111122223333:root");
        assert_eq!(
            decide(&key, &[], &root, "kms:Encrypt", SAME),
            Decision::Allow
        );
    }

    #[test]
    fn default_key_policy_delegates_users_to_their_identity_policies() {
        let key = key_policy(DEFAULT_KEY_POLICY);
        assert_eq!(
            decide(&key, &[allow_encrypt()], &alice(), "kms:Encrypt", SAME),
            Decision::Allow
        );
        let denied = decide(&key, &[allow_encrypt()], &alice(), "kms:Decrypt", SAME);
        assert_eq!(denied, Decision::ImplicitDeny(PolicyType::IdentityBased));
        assert_eq!(
            denied.access_denied_message(alice().arn(), "kms:Decrypt", KEY_ARN).as_deref(),
            Some(
                "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Decrypt \
                 on resource: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab \
                 because no identity-based policy allows the kms:Decrypt action"
            )
        );
    }

    #[test]
    fn a_key_policy_naming_the_caller_allows_without_identity_policies() {
        let key = key_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:Encrypt","Resource":"*"}]}"#,
        );
        assert_eq!(
            decide(&key, &[], &alice(), "kms:Encrypt", SAME),
            Decision::Allow
        );
    }

    #[test]
    fn no_key_policy_allow_is_an_implicit_deny_blamed_on_the_resource_policy() {
        let key = key_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"kms:*","Resource":"*"}]}"#,
        );
        // An identity policy alone does not open a key whose policy does not delegate to IAM.
        let d = decide(&key, &[allow_encrypt()], &alice(), "kms:Encrypt", SAME);
        assert_eq!(d, Decision::ImplicitDeny(PolicyType::ResourceBased));
        assert!(d
            .access_denied_message(alice().arn(), "kms:Encrypt", KEY_ARN)
            .unwrap()
            .ends_with("because no resource-based policy allows the kms:Encrypt action"));
    }

    #[test]
    fn an_explicit_deny_in_the_key_policy_wins_over_every_allow_and_grant() {
        let key = key_policy(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"},
                {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:Encrypt","Resource":"*"}]}"#,
        );
        let d = decide(&key, &[allow_encrypt()], &alice(), "kms:Encrypt", GRANTED);
        assert_eq!(d, Decision::ExplicitDeny(PolicyType::ResourceBased));
        assert!(d
            .access_denied_message(alice().arn(), "kms:Encrypt", KEY_ARN)
            .unwrap()
            .ends_with(" on resource: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab with an explicit deny in a resource-based policy"));
    }

    #[test]
    fn an_explicit_deny_in_an_identity_policy_wins_over_a_direct_key_policy_allow() {
        let key = key_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#,
        );
        let deny = iam(r#"[{"Effect":"Deny","Action":"kms:Encrypt","Resource":"*"}]"#);
        let d = decide(
            &key,
            &[allow_encrypt(), deny],
            &alice(),
            "kms:Encrypt",
            GRANTED,
        );
        assert_eq!(d, Decision::ExplicitDeny(PolicyType::IdentityBased));
        assert!(d
            .access_denied_message(alice().arn(), "kms:Encrypt", KEY_ARN)
            .unwrap()
            .ends_with("with an explicit deny in an identity-based policy"));
    }

    #[test]
    fn a_grant_allows_when_no_policy_does() {
        let key = key_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"kms:*","Resource":"*"}]}"#,
        );
        assert_eq!(
            decide(&key, &[], &alice(), "kms:Encrypt", GRANTED),
            Decision::Allow
        );
        // … and when the key policy delegates to IAM but no identity policy allows.
        let key = key_policy(DEFAULT_KEY_POLICY);
        assert_eq!(
            decide(&key, &[], &alice(), "kms:Encrypt", GRANTED),
            Decision::Allow
        );
        let stranger = principal("arn:aws:iam::444455556666:user/eve");
        let cross_granted = RequestFacts {
            granted: true,
            cross_account: true,
        };
        assert_eq!(
            decide(&key, &[], &stranger, "kms:Encrypt", cross_granted),
            Decision::Allow
        );
    }

    #[test]
    fn cross_account_callers_need_the_key_policy_and_their_own_identity_policy() {
        let key = key_policy(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
                {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:Encrypt","Resource":"*"},
                {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/dave"},"Action":"kms:Decrypt","Resource":"*"}]}"#,
        );
        let eve = principal("arn:aws:iam::444455556666:user/eve");
        // Delegated to the other account: eve's identity policy must allow.
        assert_eq!(
            decide(&key, &[], &eve, "kms:Encrypt", CROSS),
            Decision::ImplicitDeny(PolicyType::IdentityBased)
        );
        assert_eq!(
            decide(&key, &[allow_encrypt()], &eve, "kms:Encrypt", CROSS),
            Decision::Allow
        );
        // Not named at all.
        assert_eq!(
            decide(&key, &[allow_encrypt()], &eve, "kms:Decrypt", CROSS),
            Decision::ImplicitDeny(PolicyType::ResourceBased)
        );
        // Named directly, cross-account: still needs an identity allow.
        let dave = principal("arn:aws:iam::444455556666:user/dave");
        let allow_decrypt = iam(r#"[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]"#);
        assert_eq!(
            decide(&key, &[], &dave, "kms:Decrypt", CROSS),
            Decision::ImplicitDeny(PolicyType::IdentityBased)
        );
        assert_eq!(
            decide(&key, &[allow_decrypt], &dave, "kms:Decrypt", CROSS),
            Decision::Allow
        );
        // The other account's root needs no identity policy of its own.
        let other_root = principal("arn:aws:iam::444455556666:root");
        assert_eq!(
            decide(&key, &[], &other_root, "kms:Encrypt", CROSS),
            Decision::Allow
        );
    }

    #[test]
    fn allow_has_no_access_denied_message() {
        assert_eq!(
            Decision::Allow.access_denied_message("p", "kms:Encrypt", "r"),
            None
        );
        assert!(Decision::Allow.is_allowed());
        assert!(!Decision::ImplicitDeny(PolicyType::ResourceBased).is_allowed());
    }
}
