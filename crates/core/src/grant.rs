//! Grants: a permission on one key for one grantee, for a list of operations, optionally
//! limited by encryption-context constraints (AWS's GrantListEntry), and grant tokens.

use std::collections::BTreeMap;

use base64::Engine;
use time::OffsetDateTime;
use trent_policy::Principal;

use crate::action::Action;
use crate::error::CoreError;
use crate::model::{AccountId, KeyId};

/// The most grants one key may carry (AWS's quota).
pub const MAX_GRANTS_PER_KEY: usize = 50_000;

/// The operations a grant may allow (AWS's GrantOperation enum).
pub const GRANT_OPERATIONS: &[Action] = &[
    Action::Decrypt,
    Action::Encrypt,
    Action::GenerateDataKey,
    Action::GenerateDataKeyWithoutPlaintext,
    Action::ReEncryptFrom,
    Action::ReEncryptTo,
    Action::CreateGrant,
    Action::RetireGrant,
    Action::DescribeKey,
    Action::GenerateDataKeyPair,
    Action::GenerateDataKeyPairWithoutPlaintext,
    Action::GetPublicKey,
    Action::Sign,
    Action::Verify,
    Action::GenerateMac,
    Action::VerifyMac,
    Action::DeriveSharedSecret,
    Action::Encapsulate,
    Action::Decapsulate,
];

/// Whether a grant with encryption-context constraints may allow `action` (AWS refuses
/// constraints on grants for operations that take no encryption context).
pub fn accepts_constraints(action: Action) -> bool {
    takes_encryption_context(action)
        || matches!(
            action,
            Action::DescribeKey | Action::CreateGrant | Action::RetireGrant
        )
}

/// The cryptographic operations that accept grant constraints on the encryption context.
fn takes_encryption_context(action: Action) -> bool {
    matches!(
        action,
        Action::Decrypt
            | Action::Encrypt
            | Action::GenerateDataKey
            | Action::GenerateDataKeyWithoutPlaintext
            | Action::ReEncryptFrom
            | Action::ReEncryptTo
            | Action::GenerateDataKeyPair
            | Action::GenerateDataKeyPairWithoutPlaintext
    )
}

/// Encryption-context constraints of a grant (AWS's GrantConstraints).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GrantConstraints {
    /// The request's encryption context must contain these pairs (and may hold more).
    pub encryption_context_subset: Option<BTreeMap<String, String>>,
    /// The request's encryption context must be exactly these pairs.
    pub encryption_context_equals: Option<BTreeMap<String, String>>,
}

impl GrantConstraints {
    /// Whether a request with these encryption contexts (one per context the request
    /// carries; ReEncrypt has two) meets the constraints. Keys and values are compared
    /// case-sensitively, as AWS does.
    pub fn allow(&self, contexts: &[BTreeMap<String, String>]) -> bool {
        let empty = BTreeMap::new();
        let contexts: Vec<&BTreeMap<String, String>> = if contexts.is_empty() {
            vec![&empty]
        } else {
            contexts.iter().collect()
        };
        contexts.into_iter().all(|ctx| {
            let subset_ok = self
                .encryption_context_subset
                .as_ref()
                .is_none_or(|want| want.iter().all(|(k, v)| ctx.get(k) == Some(v)));
            let equals_ok = self
                .encryption_context_equals
                .as_ref()
                .is_none_or(|want| want == ctx);
            subset_ok && equals_ok
        })
    }

    /// The values of `kms:GrantConstraintType`: `EncryptionContextSubset`, `EncryptionContextEquals`.
    pub fn types(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.encryption_context_subset.is_some() {
            out.push("EncryptionContextSubset");
        }
        if self.encryption_context_equals.is_some() {
            out.push("EncryptionContextEquals");
        }
        out
    }
}

/// One grant on one key.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantRecord {
    /// The Region of the key the grant is on.
    pub region: String,
    /// The key the grant is on.
    pub key_id: KeyId,
    /// 64 hex digits, unique.
    pub grant_id: String,
    /// The optional friendly name; CreateGrant with the same name and parameters is idempotent.
    pub name: Option<String>,
    /// When it was created.
    pub creation_date: OffsetDateTime,
    /// Who the grant allows (a principal ARN, or a service principal).
    pub grantee_principal: String,
    /// Who may retire the grant besides the grantee (with RetireGrant) and the key's account.
    pub retiring_principal: Option<String>,
    /// The account of the principal that created the grant.
    pub issuing_account: AccountId,
    /// The operations the grant allows.
    pub operations: Vec<Action>,
    /// Encryption-context constraints, if any.
    pub constraints: Option<GrantConstraints>,
}

impl GrantRecord {
    /// `arn:aws:iam::ACCOUNT:root` of the account that issued the grant, as AWS shows it.
    pub fn issuing_account_arn(&self) -> String {
        format!("arn:aws:iam::{}:root", self.issuing_account)
    }

    /// Whether this grant allows `action` to `principal` (by its ARN, or for a role session
    /// by its role's ARN) for a request carrying these encryption contexts.
    pub fn allows(
        &self,
        principal: &Principal,
        action: Action,
        contexts: &[BTreeMap<String, String>],
    ) -> bool {
        if !self.is_for(principal) || !self.operations.contains(&action) {
            return false;
        }
        match &self.constraints {
            // Constraints apply to the operations that take an encryption context; a grant
            // with constraints still allows DescribeKey, CreateGrant, RetireGrant (AWS).
            Some(c) if takes_encryption_context(action) => c.allow(contexts),
            _ => true,
        }
    }

    /// Whether this grant (held by the caller, with CreateGrant among its operations) lets
    /// its grantee create `new`: the same or fewer operations, and constraints at least as
    /// strict as its own (AWS: a grantee cannot grant more than it holds).
    pub fn may_delegate(&self, new: &GrantRecord) -> bool {
        if !self.operations.contains(&Action::CreateGrant)
            || !new.operations.iter().all(|op| self.operations.contains(op))
        {
            return false;
        }
        let Some(mine) = self.constraints.as_ref().filter(|c| !c.types().is_empty()) else {
            return true;
        };
        let Some(theirs) = new.constraints.as_ref() else {
            return false;
        };
        // Every context the new grant admits must be one this grant admits.
        let equals_ok = theirs
            .encryption_context_equals
            .as_ref()
            .is_none_or(|e| mine.allow(std::slice::from_ref(e)));
        let subset_ok = match &theirs.encryption_context_subset {
            None => true,
            // A subset constraint admits supersets, which an equals constraint refuses.
            Some(s) => {
                mine.encryption_context_equals.is_none() && mine.allow(std::slice::from_ref(s))
            }
        };
        let some = theirs.encryption_context_equals.is_some()
            || theirs.encryption_context_subset.is_some();
        some && equals_ok && subset_ok
    }

    /// Whether the grantee is `principal` (by ARN, or a session of the grantee role).
    pub fn is_for(&self, principal: &Principal) -> bool {
        self.grantee_principal == principal.arn()
            || principal.role_arn() == Some(self.grantee_principal.as_str())
    }

    /// Whether `principal` is the grant's retiring principal.
    pub fn is_retiring_principal(&self, principal: &Principal) -> bool {
        self.retiring_principal
            .as_deref()
            .is_some_and(|r| r == principal.arn() || principal.role_arn() == Some(r))
    }

    /// Same parameters (for Name idempotency): key, grantee, retiring principal, operations
    /// (as a set) and constraints.
    pub fn same_parameters_as(&self, other: &GrantRecord) -> bool {
        let mut a = self.operations.clone();
        let mut b = other.operations.clone();
        a.sort_by_key(|x| x.name());
        b.sort_by_key(|x| x.name());
        a.dedup();
        b.dedup();
        self.key_id == other.key_id
            && self.grantee_principal == other.grantee_principal
            && self.retiring_principal == other.retiring_principal
            && a == b
            && self.constraints.clone().unwrap_or_default()
                == other.constraints.clone().unwrap_or_default()
    }

    /// The grant token: it names the grant (its key and id) and is what RetireGrant and
    /// GrantTokens accept.
    pub fn token(&self) -> String {
        let mut bytes = Vec::with_capacity(1 + 16 + 32);
        bytes.push(TOKEN_VERSION);
        bytes.extend_from_slice(self.key_id.as_bytes());
        bytes.extend_from_slice(&hex::decode(&self.grant_id).unwrap_or_default());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}

const TOKEN_VERSION: u8 = 1;

/// What a grant token names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantTokenRef {
    /// The key's id.
    pub key_id: KeyId,
    /// The grant's id.
    pub grant_id: String,
}

/// Reads a grant token; a malformed one is InvalidGrantTokenException.
pub fn parse_grant_token(token: &str) -> Result<GrantTokenRef, CoreError> {
    let invalid = || CoreError::InvalidGrantToken("Grant token is not valid.".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| invalid())?;
    if bytes.len() != 1 + 16 + 32 || bytes[0] != TOKEN_VERSION {
        return Err(invalid());
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&bytes[1..17]);
    Ok(GrantTokenRef {
        key_id: KeyId::from_bytes(id),
        grant_id: hex::encode(&bytes[17..]),
    })
}

/// Checks the GrantTokens of a request: each must be a grant token Trent issued. (Grants are
/// effective as soon as CreateGrant returns, so a token is not needed to use one.)
pub fn check_grant_tokens(tokens: &[String]) -> Result<(), CoreError> {
    for t in tokens {
        parse_grant_token(t)?;
    }
    Ok(())
}

/// Whether `s` is a grant id: 64 hex digits.
pub fn is_grant_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn p(arn: &str) -> Principal {
        Principal::from_arn(arn).unwrap()
    }

    fn grant(constraints: Option<GrantConstraints>) -> GrantRecord {
        GrantRecord {
            region: "us-east-1".into(),
            key_id: KeyId::generate(),
            grant_id: "ab".repeat(32),
            name: None,
            creation_date: OffsetDateTime::UNIX_EPOCH,
            grantee_principal: "arn:aws:iam::444455556666:root".into(),
            retiring_principal: None,
            issuing_account: AccountId::parse("111122223333").unwrap(),
            operations: vec![Action::Encrypt, Action::Decrypt, Action::DescribeKey],
            constraints,
        }
    }

    #[test]
    fn a_grant_allows_only_its_grantee_and_operations() {
        let g = grant(None);
        assert!(g.allows(&p("arn:aws:iam::444455556666:root"), Action::Encrypt, &[]));
        assert!(!g.allows(&p("arn:aws:iam::444455556666:root"), Action::ReEncrypt, &[]));
        assert!(!g.allows(&p("arn:aws:iam::111122223333:root"), Action::Encrypt, &[]));
        let mut to_role = grant(None);
        to_role.grantee_principal = "arn:aws:iam::444455556666:role/App".into();
        assert!(to_role.allows(
            &p("arn:aws:sts::444455556666:assumed-role/App/session-1"),
            Action::Encrypt,
            &[]
        ));
    }

    #[test]
    fn subset_constraints_need_the_pairs_and_allow_more() {
        let g = grant(Some(GrantConstraints {
            encryption_context_subset: Some(ctx(&[("Dept", "IT")])),
            encryption_context_equals: None,
        }));
        let p = &p("arn:aws:iam::444455556666:root");
        assert!(g.allows(p, Action::Encrypt, &[ctx(&[("Dept", "IT"), ("x", "y")])]));
        assert!(!g.allows(p, Action::Encrypt, &[ctx(&[("Dept", "it")])]));
        assert!(!g.allows(p, Action::Encrypt, &[ctx(&[("dept", "IT")])]));
        assert!(!g.allows(p, Action::Encrypt, &[]));
        // Operations without an encryption context are not constrained.
        assert!(g.allows(p, Action::DescribeKey, &[]));
    }

    #[test]
    fn equals_constraints_need_exactly_the_pairs() {
        let g = grant(Some(GrantConstraints {
            encryption_context_subset: None,
            encryption_context_equals: Some(ctx(&[("Dept", "IT")])),
        }));
        let p = &p("arn:aws:iam::444455556666:root");
        assert!(g.allows(p, Action::Decrypt, &[ctx(&[("Dept", "IT")])]));
        assert!(!g.allows(p, Action::Decrypt, &[ctx(&[("Dept", "IT"), ("x", "y")])]));
        // ReEncrypt carries two contexts: both must match.
        let mut g = g;
        g.operations.push(Action::ReEncryptFrom);
        assert!(g.allows(p, Action::ReEncryptFrom, &[ctx(&[("Dept", "IT")])]));
        assert!(!g.allows(
            p,
            Action::ReEncryptFrom,
            &[ctx(&[("Dept", "IT")]), ctx(&[("Dept", "HR")])]
        ));
    }

    #[test]
    fn tokens_round_trip_and_garbage_is_an_invalid_grant_token() {
        let g = grant(None);
        let t = parse_grant_token(&g.token()).unwrap();
        assert_eq!(t.key_id, g.key_id);
        assert_eq!(t.grant_id, g.grant_id);
        for bad in ["", "not a token", "AQ", &"A".repeat(200)] {
            assert!(
                matches!(parse_grant_token(bad), Err(CoreError::InvalidGrantToken(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_grantee_may_delegate_only_what_it_holds() {
        let mut holder = grant(None);
        holder.operations = vec![Action::Encrypt, Action::CreateGrant];
        let mut new = grant(None);
        new.operations = vec![Action::Encrypt];
        assert!(holder.may_delegate(&new));
        new.operations = vec![Action::Encrypt, Action::Decrypt];
        assert!(!holder.may_delegate(&new), "more operations than held");
        holder.operations = vec![Action::Encrypt];
        new.operations = vec![Action::Encrypt];
        assert!(!holder.may_delegate(&new), "no CreateGrant held");
    }

    #[test]
    fn delegated_constraints_must_be_at_least_as_strict() {
        let mut holder = grant(Some(GrantConstraints {
            encryption_context_subset: Some(ctx(&[("Dept", "IT")])),
            encryption_context_equals: None,
        }));
        holder.operations = vec![Action::Encrypt, Action::CreateGrant];
        let mut new = grant(None);
        new.operations = vec![Action::Encrypt];
        assert!(!holder.may_delegate(&new), "unconstrained");
        new.constraints = Some(GrantConstraints {
            encryption_context_subset: Some(ctx(&[("Dept", "IT"), ("Team", "a")])),
            encryption_context_equals: None,
        });
        assert!(holder.may_delegate(&new), "a stricter subset");
        new.constraints = Some(GrantConstraints {
            encryption_context_subset: Some(ctx(&[("Team", "a")])),
            encryption_context_equals: None,
        });
        assert!(!holder.may_delegate(&new), "a different subset");
        new.constraints = Some(GrantConstraints {
            encryption_context_subset: None,
            encryption_context_equals: Some(ctx(&[("Dept", "IT")])),
        });
        assert!(holder.may_delegate(&new), "an equals within the subset");
    }

    #[test]
    fn same_parameters_ignore_operation_order() {
        let a = grant(None);
        let mut b = a.clone();
        b.operations.reverse();
        b.grant_id = "cd".repeat(32);
        assert!(a.same_parameters_as(&b));
        b.retiring_principal = Some("arn:aws:iam::111122223333:root".into());
        assert!(!a.same_parameters_as(&b));
    }
}
