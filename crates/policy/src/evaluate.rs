//! Evaluating one policy against a request: which statements apply, and what they say.

use crate::context::{Principal, PrincipalType, RequestContext};
use crate::document::{Effect, Negatable, Policy, PrincipalEntry, Statement};

/// What one policy says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Evaluation {
    /// A `Deny` statement applies.
    ExplicitDeny,
    /// An `Allow` statement applies and no `Deny` does.
    Allow {
        /// The allow reached the caller only through its account's principal (`ACCOUNT` or
        /// `arn:aws:iam::ACCOUNT:root`) while the caller is not that root: in a key policy this
        /// delegates the decision to the caller's identity policies.
        via_account: bool,
    },
    /// No statement applies.
    NotApplicable,
}

/// How a statement's principal element reaches the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PrincipalMatch {
    No,
    ViaAccount,
    Direct,
}

impl Policy {
    /// Evaluates the policy against `ctx`: an applying `Deny` wins; else an applying `Allow`
    /// (direct if any applying allow names the caller directly); else not applicable.
    pub fn evaluate(&self, ctx: &RequestContext<'_>) -> Evaluation {
        let mut allowed: Option<PrincipalMatch> = None;
        for statement in &self.statements {
            let m = statement.applies(ctx);
            if m == PrincipalMatch::No {
                continue;
            }
            match statement.effect() {
                Effect::Deny => return Evaluation::ExplicitDeny,
                Effect::Allow => allowed = allowed.max(Some(m)),
            }
        }
        match allowed {
            Some(m) => Evaluation::Allow {
                via_account: m == PrincipalMatch::ViaAccount,
            },
            None => Evaluation::NotApplicable,
        }
    }
}

impl Statement {
    /// Whether the statement applies to the request, and how its principal matched.
    fn applies(&self, ctx: &RequestContext<'_>) -> PrincipalMatch {
        let action = match &self.action {
            Negatable::Is(globs) => globs.iter().any(|g| g.matches(ctx.action, true)),
            Negatable::Not(globs) => !globs.iter().any(|g| g.matches(ctx.action, true)),
        };
        if !action {
            return PrincipalMatch::No;
        }
        let resource = match &self.resource {
            Negatable::Is(ps) => ps.iter().any(|p| p.matches(ctx.resource, false, ctx)),
            Negatable::Not(ps) => !ps.iter().any(|p| p.matches(ctx.resource, false, ctx)),
        };
        if !resource {
            return PrincipalMatch::No;
        }
        let principal = match &self.principal {
            None => PrincipalMatch::Direct,
            Some(Negatable::Is(entries)) => entries
                .iter()
                .map(|e| match_entry(e, ctx.principal))
                .max()
                .unwrap_or(PrincipalMatch::No),
            Some(Negatable::Not(entries)) => {
                if excluded_by(entries, ctx.principal) {
                    PrincipalMatch::No
                } else {
                    PrincipalMatch::Direct
                }
            }
        };
        if principal == PrincipalMatch::No {
            return PrincipalMatch::No;
        }
        if self.conditions.iter().all(|c| c.evaluate(ctx)) {
            principal
        } else {
            PrincipalMatch::No
        }
    }
}

/// How one `Principal` entry reaches the caller.
fn match_entry(entry: &PrincipalEntry, caller: &Principal) -> PrincipalMatch {
    match entry {
        PrincipalEntry::Everyone => PrincipalMatch::Direct,
        PrincipalEntry::Account(account) => {
            if caller.principal_type() == PrincipalType::Service || caller.account_id() != account {
                PrincipalMatch::No
            } else if caller.is_root() {
                PrincipalMatch::Direct
            } else {
                PrincipalMatch::ViaAccount
            }
        }
        PrincipalEntry::Arn(arn) => {
            if caller.arn() == arn || caller.role_arn() == Some(arn.as_str()) {
                PrincipalMatch::Direct
            } else {
                PrincipalMatch::No
            }
        }
        PrincipalEntry::Service(name) => {
            if caller.principal_type() == PrincipalType::Service
                && caller.arn().eq_ignore_ascii_case(name)
            {
                PrincipalMatch::Direct
            } else {
                PrincipalMatch::No
            }
        }
        PrincipalEntry::Other => PrincipalMatch::No,
    }
}

/// Whether `NotPrincipal` exempts the caller. AWS checks the caller's whole chain — its
/// account, then the user, role or session — and the statement still applies unless every
/// link is listed: the account (as `ACCOUNT` or its root ARN) and, below the root, the
/// caller's ARN (for a role session, the session ARN or its role's ARN). `*` lists everyone.
fn excluded_by(entries: &[PrincipalEntry], caller: &Principal) -> bool {
    if entries.contains(&PrincipalEntry::Everyone) {
        return true;
    }
    if caller.principal_type() == PrincipalType::Service {
        return entries.iter().any(
            |e| matches!(e, PrincipalEntry::Service(n) if caller.arn().eq_ignore_ascii_case(n)),
        );
    }
    let account_listed = entries
        .iter()
        .any(|e| matches!(e, PrincipalEntry::Account(a) if a == caller.account_id()));
    if !account_listed {
        return false;
    }
    caller.is_root()
        || entries.iter().any(|e| {
            matches!(e, PrincipalEntry::Arn(arn)
                if caller.arn() == arn || caller.role_arn() == Some(arn.as_str()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{alice, keys, parse, principal, KEY_ARN};
    use crate::{ContextKeys, PolicyKind};

    fn eval(policy: &Policy, who: &Principal, action: &str, resource: &str) -> Evaluation {
        let keys = ContextKeys::new();
        policy.evaluate(&RequestContext {
            principal: who,
            action,
            resource,
            keys: &keys,
        })
    }

    fn identity(statements: &str) -> Policy {
        parse(
            &format!(r#"{{"Version":"2012-10-17","Statement":{statements}}}"#),
            PolicyKind::Identity,
        )
    }

    fn resource(statements: &str) -> Policy {
        parse(
            &format!(r#"{{"Version":"2012-10-17","Statement":{statements}}}"#),
            PolicyKind::Resource,
        )
    }

    const ALLOW: Evaluation = Evaluation::Allow { via_account: false };
    const VIA_ACCOUNT: Evaluation = Evaluation::Allow { via_account: true };
    const NA: Evaluation = Evaluation::NotApplicable;
    const DENY: Evaluation = Evaluation::ExplicitDeny;

    fn action_allowed(pattern: &str, action: &str) -> bool {
        let p = identity(&format!(
            r#"[{{"Effect":"Allow","Action":"{pattern}","Resource":"*"}}]"#
        ));
        eval(&p, &alice(), action, KEY_ARN) == ALLOW
    }

    #[test]
    fn action_wildcards_and_case_insensitivity() {
        assert!(action_allowed("*", "kms:Encrypt"));
        assert!(action_allowed("kms:*", "kms:Encrypt"));
        assert!(!action_allowed("kms:*", "s3:GetObject"));
        assert!(action_allowed("kms:Gen*", "kms:GenerateDataKey"));
        assert!(action_allowed(
            "kms:Gen*",
            "kms:GenerateDataKeyWithoutPlaintext"
        ));
        assert!(!action_allowed("kms:Gen*", "kms:Decrypt"));
        assert!(action_allowed("kms:?ncrypt", "kms:Encrypt"));
        assert!(!action_allowed("kms:?ncrypt", "kms:ReEncrypt"));
        assert!(action_allowed("KMS:encrypt", "kms:Encrypt"));
        assert!(action_allowed("kms:Encrypt", "KMS:ENCRYPT"));
        assert!(action_allowed("kms:*Encrypt*", "kms:ReEncryptFrom"));
        assert!(!action_allowed("kms:Encrypt", "kms:EncryptX"));
    }

    #[test]
    fn resources_match_with_wildcards_and_case_sensitively() {
        let p = identity(
            r#"[{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:*:111122223333:key/*"}]"#,
        );
        assert_eq!(eval(&p, &alice(), "kms:Encrypt", KEY_ARN), ALLOW);
        assert_eq!(
            eval(
                &p,
                &alice(),
                "kms:Encrypt",
                "arn:aws:kms:us-east-1:444455556666:key/x"
            ),
            NA
        );
        assert_eq!(
            eval(
                &p,
                &alice(),
                "kms:Encrypt",
                "ARN:AWS:KMS:us-east-1:111122223333:key/x"
            ),
            NA
        );
        let exact = identity(&format!(
            r#"[{{"Effect":"Allow","Action":"kms:*","Resource":["arn:aws:kms:us-east-1:111122223333:key/other","{KEY_ARN}"]}}]"#
        ));
        assert_eq!(eval(&exact, &alice(), "kms:Encrypt", KEY_ARN), ALLOW);
        assert_eq!(
            eval(&exact, &alice(), "kms:Encrypt", &KEY_ARN.to_uppercase()),
            NA
        );
    }

    #[test]
    fn resource_variables_are_substituted() {
        let p = identity(
            r#"[{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:*:${aws:PrincipalAccount}:key/${aws:username}-*"}]"#,
        );
        assert_eq!(
            eval(
                &p,
                &alice(),
                "kms:Encrypt",
                "arn:aws:kms:us-east-1:111122223333:key/alice-1"
            ),
            ALLOW
        );
        assert_eq!(
            eval(
                &p,
                &alice(),
                "kms:Encrypt",
                "arn:aws:kms:us-east-1:111122223333:key/bob-1"
            ),
            NA
        );
        // A role session has no aws:username: the resource matches nothing.
        let session = principal("arn:aws:sts::111122223333:assumed-role/R/alice");
        assert_eq!(
            eval(
                &p,
                &session,
                "kms:Encrypt",
                "arn:aws:kms:us-east-1:111122223333:key/alice-1"
            ),
            NA
        );
    }

    #[test]
    fn not_action_applies_to_every_other_action() {
        let p = identity(
            r#"[{"Effect":"Allow","NotAction":["kms:Decrypt","kms:Re*"],"Resource":"*"}]"#,
        );
        assert_eq!(eval(&p, &alice(), "kms:Encrypt", KEY_ARN), ALLOW);
        assert_eq!(eval(&p, &alice(), "kms:Decrypt", KEY_ARN), NA);
        assert_eq!(eval(&p, &alice(), "kms:ReEncryptTo", KEY_ARN), NA);
        assert_eq!(eval(&p, &alice(), "s3:GetObject", KEY_ARN), ALLOW);
    }

    #[test]
    fn not_resource_applies_to_every_other_resource() {
        let p = identity(&format!(
            r#"[{{"Effect":"Deny","Action":"kms:*","NotResource":"{KEY_ARN}"}},{{"Effect":"Allow","Action":"kms:*","Resource":"*"}}]"#
        ));
        assert_eq!(eval(&p, &alice(), "kms:Encrypt", KEY_ARN), ALLOW);
        assert_eq!(
            eval(
                &p,
                &alice(),
                "kms:Encrypt",
                "arn:aws:kms:us-east-1:111122223333:key/other"
            ),
            DENY
        );
    }

    #[test]
    fn deny_wins_over_allow_within_a_policy() {
        let p = identity(
            r#"[{"Effect":"Allow","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]"#,
        );
        assert_eq!(eval(&p, &alice(), "kms:Encrypt", KEY_ARN), ALLOW);
        assert_eq!(eval(&p, &alice(), "kms:Decrypt", KEY_ARN), DENY);
    }

    #[test]
    fn a_statement_whose_condition_fails_does_not_apply() {
        let p = identity(
            r#"[{"Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
                {"Effect":"Allow","Action":"kms:*","Resource":"*"}]"#,
        );
        let secure = keys(&[("aws:SecureTransport", &["true"])]);
        let plain = keys(&[("aws:SecureTransport", &["false"])]);
        let who = alice();
        let ctx = |keys| RequestContext {
            principal: &who,
            action: "kms:Encrypt",
            resource: KEY_ARN,
            keys,
        };
        assert_eq!(p.evaluate(&ctx(&secure)), ALLOW);
        assert_eq!(p.evaluate(&ctx(&plain)), DENY);
    }

    #[test]
    fn principal_star_matches_everyone_directly() {
        for p in [r#""*""#, r#"{"AWS":"*"}"#] {
            let policy = resource(&format!(
                r#"[{{"Effect":"Allow","Principal":{p},"Action":"kms:*","Resource":"*"}}]"#
            ));
            assert_eq!(eval(&policy, &alice(), "kms:Encrypt", KEY_ARN), ALLOW);
            let stranger = principal("arn:aws:iam::444455556666:user/eve");
            assert_eq!(eval(&policy, &stranger, "kms:Encrypt", KEY_ARN), ALLOW);
        }
    }

    #[test]
    fn account_principal_matches_its_root_directly_and_its_other_principals_via_the_account() {
        for p in [r#""111122223333""#, r#""arn:aws:iam::111122223333:root""#] {
            let policy = resource(&format!(
                r#"[{{"Effect":"Allow","Principal":{{"AWS":{p}}},"Action":"kms:*","Resource":"*"}}]"#
            ));
            let root = principal("arn:aws:iam::111122223333:root");
            assert_eq!(eval(&policy, &root, "kms:Encrypt", KEY_ARN), ALLOW);
            assert_eq!(eval(&policy, &alice(), "kms:Encrypt", KEY_ARN), VIA_ACCOUNT);
            let session = principal("arn:aws:sts::111122223333:assumed-role/R/s");
            assert_eq!(eval(&policy, &session, "kms:Encrypt", KEY_ARN), VIA_ACCOUNT);
            let other = principal("arn:aws:iam::444455556666:root");
            assert_eq!(eval(&policy, &other, "kms:Encrypt", KEY_ARN), NA);
            let service = Principal::service("logs.amazonaws.com");
            assert_eq!(eval(&policy, &service, "kms:Encrypt", KEY_ARN), NA);
        }
    }

    #[test]
    fn a_direct_allow_wins_over_an_allow_via_the_account() {
        let policy = resource(
            r#"[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"},
                {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:Encrypt","Resource":"*"}]"#,
        );
        assert_eq!(eval(&policy, &alice(), "kms:Encrypt", KEY_ARN), ALLOW);
        assert_eq!(eval(&policy, &alice(), "kms:Decrypt", KEY_ARN), VIA_ACCOUNT);
    }

    #[test]
    fn a_deny_to_the_account_applies_to_all_its_principals() {
        let policy = resource(
            r#"[{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}]"#,
        );
        assert_eq!(eval(&policy, &alice(), "kms:Encrypt", KEY_ARN), DENY);
    }

    #[test]
    fn user_and_role_arns_match_exactly_and_sessions_match_their_role() {
        let policy = resource(
            r#"[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:role/Admin"]},"Action":"kms:*","Resource":"*"}]"#,
        );
        assert_eq!(eval(&policy, &alice(), "kms:Encrypt", KEY_ARN), ALLOW);
        let bob = principal("arn:aws:iam::111122223333:user/bob");
        assert_eq!(eval(&policy, &bob, "kms:Encrypt", KEY_ARN), NA);
        let admin = principal("arn:aws:sts::111122223333:assumed-role/Admin/alice-session");
        assert_eq!(eval(&policy, &admin, "kms:Encrypt", KEY_ARN), ALLOW);
        let other_role = principal("arn:aws:sts::111122223333:assumed-role/Ops/s");
        assert_eq!(eval(&policy, &other_role, "kms:Encrypt", KEY_ARN), NA);
        let role = principal("arn:aws:iam::111122223333:role/Admin");
        assert_eq!(eval(&policy, &role, "kms:Encrypt", KEY_ARN), ALLOW);

        let session_only = resource(
            r#"[{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/Admin/s1"},"Action":"kms:*","Resource":"*"}]"#,
        );
        let s1 = principal("arn:aws:sts::111122223333:assumed-role/Admin/s1");
        let s2 = principal("arn:aws:sts::111122223333:assumed-role/Admin/s2");
        assert_eq!(eval(&session_only, &s1, "kms:Encrypt", KEY_ARN), ALLOW);
        assert_eq!(eval(&session_only, &s2, "kms:Encrypt", KEY_ARN), NA);
    }

    #[test]
    fn service_principals_match_by_name() {
        let policy = resource(
            r#"[{"Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"kms:*","Resource":"*"}]"#,
        );
        assert_eq!(
            eval(
                &policy,
                &Principal::service("logs.amazonaws.com"),
                "kms:Encrypt",
                KEY_ARN
            ),
            ALLOW
        );
        assert_eq!(eval(&policy, &alice(), "kms:Encrypt", KEY_ARN), NA);
    }

    #[test]
    fn not_principal_denies_everyone_but_the_listed_chain() {
        let policy = resource(
            r#"[{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:role/Admin"]},"Action":"kms:*","Resource":"*"},
                {"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]"#,
        );
        assert_eq!(eval(&policy, &alice(), "kms:Encrypt", KEY_ARN), ALLOW);
        let root = principal("arn:aws:iam::111122223333:root");
        assert_eq!(eval(&policy, &root, "kms:Encrypt", KEY_ARN), ALLOW);
        let session = principal("arn:aws:sts::111122223333:assumed-role/Admin/s");
        assert_eq!(eval(&policy, &session, "kms:Encrypt", KEY_ARN), ALLOW);
        let bob = principal("arn:aws:iam::111122223333:user/bob");
        assert_eq!(eval(&policy, &bob, "kms:Encrypt", KEY_ARN), DENY);
        let stranger = principal("arn:aws:iam::444455556666:user/alice");
        assert_eq!(eval(&policy, &stranger, "kms:Encrypt", KEY_ARN), DENY);

        // Listing the user without its account does not exempt it.
        let user_only = resource(
            r#"[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:*","Resource":"*"}]"#,
        );
        assert_eq!(eval(&user_only, &alice(), "kms:Encrypt", KEY_ARN), DENY);

        let everyone =
            resource(r#"[{"Effect":"Deny","NotPrincipal":"*","Action":"kms:*","Resource":"*"}]"#);
        assert_eq!(eval(&everyone, &alice(), "kms:Encrypt", KEY_ARN), NA);
    }

    #[test]
    fn federated_principals_never_match_trent_callers() {
        let policy = resource(
            r#"[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"kms:*","Resource":"*"}]"#,
        );
        let fed = principal("arn:aws:sts::111122223333:federated-user/carol");
        assert_eq!(eval(&policy, &fed, "kms:Encrypt", KEY_ARN), NA);
    }

    #[test]
    fn an_empty_statement_list_applies_to_nothing() {
        let policy = resource("[]");
        assert_eq!(eval(&policy, &alice(), "kms:Encrypt", KEY_ARN), NA);
    }
}
