//! Authorization: may this caller perform this action on this key?
//!
//! AWS's evaluation (ARCHITECTURE.md §5), through `trent_policy`: an explicit deny in the key policy or
//! an identity policy wins; else the key policy must allow the caller, directly or through
//! its account (then the caller's identity policies must allow too; an account root holds
//! every permission of its own account); grants allow their operations in addition; else
//! AccessDeniedException with AWS's message.
//!
//! The hot path reads nothing from the store: parsed key policies, each key's condition keys
//! (tags, aliases, spec, usage, origin) and each key's grants are cached in [`AccessCaches`]
//! and invalidated by the operations that change them. The request's own condition keys come
//! with the [`Caller`] (built by the server from the request).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use trent_policy::{ContextKeys, Decision, Policy, PolicyError, PolicyType, RequestContext};

use crate::action::Action;
use crate::cache::Cache;
use crate::caller::{Caller, Identity};
use crate::error::CoreError;
use crate::grant::GrantRecord;
use crate::kms::Kms;
use crate::model::{AccountId, KeyAddr, KeyRecord};

/// AWS's MalformedPolicyDocumentException message when the lockout safety check fails.
pub const LOCKOUT_MESSAGE: &str =
    "The new key policy will not allow you to update the key policy in the future.";

/// The actions that act on no key: authorized by the caller's identity policies alone, on
/// resource `*` (an account root may do them all in its own account).
pub fn is_keyless(action: Action) -> bool {
    use Action::*;
    matches!(
        action,
        CreateKey
            | ListKeys
            | ListAliases
            | GenerateRandom
            | ListRetirableGrants
            | CreateCustomKeyStore
            | DescribeCustomKeyStores
            | ConnectCustomKeyStore
            | DisconnectCustomKeyStore
            | DeleteCustomKeyStore
            | UpdateCustomKeyStore
    )
}

/// A parsed key policy and the text and record version it was parsed from.
struct ParsedPolicy {
    version: u64,
    text: String,
    policy: Arc<Policy>,
}

/// The condition keys a key answers, built for one record version and alias list.
struct KeyKeys {
    version: u64,
    aliases: Arc<Vec<String>>,
    keys: Arc<ContextKeys>,
}

/// What authorization keeps in memory so that evaluating reads no store; keyed by (Region,
/// key id) like every key cache (ARCHITECTURE.md §10).
pub(crate) struct AccessCaches {
    policies: Cache<KeyAddr, ParsedPolicy>,
    key_keys: Cache<KeyAddr, KeyKeys>,
    grants: Cache<KeyAddr, Vec<GrantRecord>>,
    /// Bumped by every grant change, so a load that raced a change is not cached.
    grants_generation: AtomicU64,
    aliases: Cache<KeyAddr, Vec<String>>,
    /// Bumped by every alias change, likewise.
    aliases_generation: AtomicU64,
}

impl AccessCaches {
    /// Caches holding at most `capacity` keys each.
    pub(crate) fn new(capacity: usize) -> AccessCaches {
        AccessCaches {
            policies: Cache::new(capacity),
            key_keys: Cache::new(capacity),
            grants: Cache::new(capacity),
            grants_generation: AtomicU64::new(0),
            aliases: Cache::new(capacity),
            aliases_generation: AtomicU64::new(0),
        }
    }

    /// An alias changed (created, re-pointed or deleted): forget the alias lists that held
    /// it and the list of its new target.
    pub(crate) fn alias_changed(&self, alias_name: &str, target: Option<KeyAddr>) {
        self.aliases_generation.fetch_add(1, Ordering::SeqCst);
        self.aliases
            .remove_where(|k, names| Some(*k) == target || names.iter().any(|n| n == alias_name));
    }

    /// Forgets every policy, condition key set, grant list and alias list (another node
    /// may have changed any of them).
    pub(crate) fn clear(&self) {
        self.grants_generation.fetch_add(1, Ordering::SeqCst);
        self.aliases_generation.fetch_add(1, Ordering::SeqCst);
        self.policies.clear();
        self.key_keys.clear();
        self.grants.clear();
        self.aliases.clear();
    }

    /// The key's grants changed.
    pub(crate) fn grants_changed(&self, key: KeyAddr) {
        self.grants_generation.fetch_add(1, Ordering::SeqCst);
        self.grants.remove(&key);
    }

    /// The key was destroyed: its grants and aliases are gone.
    pub(crate) fn forget_key(&self, key: KeyAddr) {
        self.grants_changed(key);
        self.aliases_generation.fetch_add(1, Ordering::SeqCst);
        self.aliases.remove(&key);
        self.key_keys.remove(&key);
        self.policies.remove(&key);
    }
}

/// Parses a key policy document, with the policy crate's message for what is wrong. A
/// document over 32 KB is LimitExceededException, as AWS answers.
pub fn parse_key_policy(text: &str) -> Result<Policy, CoreError> {
    Policy::parse_key_policy(text).map_err(|e| match e {
        PolicyError::TooLarge { .. } => {
            CoreError::LimitExceeded("Key policy size exceeds the 32 KB limit".into())
        }
        other => CoreError::MalformedPolicyDocument(other.to_string()),
    })
}

/// The condition keys a key answers: `aws:ResourceTag/…`, `kms:ResourceAliases`,
/// `kms:KeySpec`, `kms:KeyUsage`, `kms:KeyOrigin`, `kms:MultiRegion`, and for a multi-Region
/// key `kms:MultiRegionKeyType`.
fn key_condition_keys(key: &KeyRecord, aliases: &[String]) -> ContextKeys {
    let mut keys = ContextKeys::new();
    for t in &key.tags {
        keys.insert(&format!("aws:ResourceTag/{}", t.key), t.value.clone());
    }
    keys.set("kms:ResourceAliases", aliases.iter().cloned());
    keys.insert("kms:KeySpec", key.key_spec.as_str());
    keys.insert("kms:KeyUsage", key.key_usage.as_str());
    keys.insert("kms:KeyOrigin", key.origin.as_str());
    keys.insert(
        "kms:MultiRegion",
        if key.multi_region { "true" } else { "false" },
    );
    if let Some(primary) = key.primary_region.as_deref().filter(|_| key.multi_region) {
        keys.insert(
            "kms:MultiRegionKeyType",
            if primary == key.region {
                "PRIMARY"
            } else {
                "REPLICA"
            },
        );
    }
    keys
}

/// The AccessDeniedException for a denial, in AWS's words.
fn denied(caller: &Caller, decision: Decision, action: &str, resource: &str) -> CoreError {
    CoreError::AccessDenied(
        decision
            .access_denied_message(&caller.principal_arn, action, resource)
            .unwrap_or_default(),
    )
}

/// AWS's AccessDeniedException message for an implicit deny by the key policy.
pub fn access_denied(caller: &Caller, action: Action, resource_arn: &str) -> CoreError {
    denied(
        caller,
        Decision::ImplicitDeny(PolicyType::ResourceBased),
        action.policy_name(),
        resource_arn,
    )
}

/// The one identity-policy evaluator, for KMS, IAM and STS alike (ARCHITECTURE.md §5):
/// `identity`'s policies decide `action` on `resource` with these condition keys. An explicit
/// deny wins; else one must allow it; an account root needs none (it holds every permission
/// of its account). The decision's `access_denied_message` is AWS's message.
pub fn identity_decision(
    identity: &Identity,
    action: &str,
    resource: &str,
    keys: &ContextKeys,
) -> Decision {
    let principal = &identity.principal;
    let ctx = RequestContext {
        principal,
        action,
        resource,
        keys,
    };
    let mut allowed = principal.is_root();
    for p in &identity.policies {
        match p.evaluate(&ctx) {
            trent_policy::Evaluation::ExplicitDeny => {
                return Decision::ExplicitDeny(PolicyType::IdentityBased)
            }
            trent_policy::Evaluation::Allow { .. } => allowed = true,
            trent_policy::Evaluation::NotApplicable => {}
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny(PolicyType::IdentityBased)
    }
}

/// Identity policies alone decide `action` on `resource` ([`identity_decision`]).
fn authorize_by_identity(caller: &Caller, action: Action, resource: &str) -> Result<(), CoreError> {
    let action_name = action.policy_name();
    match identity_decision(
        &caller.identity,
        action_name,
        resource,
        &caller.request.keys,
    ) {
        Decision::Allow => Ok(()),
        decision => Err(denied(caller, decision, action_name, resource)),
    }
}

impl Kms {
    /// Decides whether `caller` may perform `action` on `key`: the key policy, the caller's
    /// identity policies and the key's grants, with the request's and the key's condition keys.
    pub(crate) async fn authorize(
        &self,
        caller: &Caller,
        action: Action,
        key: &KeyRecord,
    ) -> Result<(), CoreError> {
        if action == Action::RetireGrant {
            // A grant's RetireGrant operation lets its grantee retire that grant only
            // (RetireGrant checks that itself), not every grant on the key.
            return self.authorize_by_policies(caller, action, key).await;
        }
        let policy = self.parsed_key_policy(key)?;
        let key_keys = self.key_keys(key).await?;
        let grants = self.grants_of(key.addr()).await?;
        self.decide(caller, action, key, &policy, key_keys, &grants)
    }

    /// Like [`Kms::authorize`], counting only the key policy and identity policies (not
    /// grants): whether the caller holds `action` by policy.
    pub(crate) async fn authorize_by_policies(
        &self,
        caller: &Caller,
        action: Action,
        key: &KeyRecord,
    ) -> Result<(), CoreError> {
        let policy = self.parsed_key_policy(key)?;
        let key_keys = self.key_keys(key).await?;
        self.decide(caller, action, key, &policy, key_keys, &[])
    }

    /// The decision itself, for a given key policy (the stored one, or a new one being
    /// checked for lockout).
    fn decide(
        &self,
        caller: &Caller,
        action: Action,
        key: &KeyRecord,
        policy: &Policy,
        key_keys: Arc<ContextKeys>,
        grants: &[GrantRecord],
    ) -> Result<(), CoreError> {
        let keys = ContextKeys::layered([caller.request.keys.clone(), key_keys]);
        let resource = key.arn();
        let principal = &caller.identity.principal;
        // ReEncrypt checks kms:ReEncryptFrom on its source key and kms:ReEncryptTo on its
        // destination (the operations pass those actions); asked about a ReEncrypt as such
        // (e.g. a grant for it), both are needed, as `kms:ReEncrypt*` grants.
        let checks: &[Action] = if action == Action::ReEncrypt {
            &[Action::ReEncryptFrom, Action::ReEncryptTo]
        } else {
            std::slice::from_ref(&action)
        };
        for &check in checks {
            let action_name = check.policy_name();
            let ctx = RequestContext {
                principal,
                action: action_name,
                resource: &resource,
                keys: &keys,
            };
            let granted = grants
                .iter()
                .any(|g| g.allows(principal, check, &caller.request.encryption_contexts));
            let facts = trent_policy::RequestFacts {
                granted,
                cross_account: caller.account_id != key.account_id,
            };
            let decision = trent_policy::authorize(policy, &caller.identity.policies, &ctx, facts);
            if !decision.is_allowed() {
                return Err(denied(caller, decision, action_name, &resource));
            }
        }
        Ok(())
    }

    /// Authorizes an action that acts on no key ([`is_keyless`]): the caller's identity
    /// policies must allow it on resource `*`; an account root needs none.
    pub fn authorize_keyless(&self, caller: &Caller, action: Action) -> Result<(), CoreError> {
        authorize_by_identity(caller, action, "*")
    }

    /// Authorizes an alias operation on the alias itself (`arn:aws:kms:…:alias/NAME`). As in
    /// AWS, only identity policies apply to an alias: key policies and grants are about keys
    /// ("Controlling access to aliases", AWS KMS Developer Guide). The operation must also be
    /// authorized on every key it affects; the alias operations do that with
    /// [`Kms::authorize`].
    pub(crate) fn authorize_alias(
        &self,
        caller: &Caller,
        action: Action,
        alias_arn: &str,
    ) -> Result<(), CoreError> {
        authorize_by_identity(caller, action, alias_arn)
    }

    /// The lockout safety check: `policy` (about to become `key`'s policy) must allow the
    /// caller kms:PutKeyPolicy, or MalformedPolicyDocumentException with AWS's message.
    pub(crate) async fn check_lockout(
        &self,
        caller: &Caller,
        key: &KeyRecord,
        policy: &Policy,
    ) -> Result<(), CoreError> {
        let key_keys = self.key_keys(key).await?;
        self.decide(caller, Action::PutKeyPolicy, key, policy, key_keys, &[])
            .map_err(|_| CoreError::MalformedPolicyDocument(LOCKOUT_MESSAGE.into()))
    }

    /// The lockout check for a key not created yet (CreateKey's Policy): the caller must be
    /// able to call PutKeyPolicy on the key the policy is for.
    pub(crate) fn check_lockout_new_key(
        &self,
        caller: &Caller,
        prospective: &KeyRecord,
        policy: &Policy,
    ) -> Result<(), CoreError> {
        let key_keys = Arc::new(key_condition_keys(prospective, &[]));
        self.decide(
            caller,
            Action::PutKeyPolicy,
            prospective,
            policy,
            key_keys,
            &[],
        )
        .map_err(|_| CoreError::MalformedPolicyDocument(LOCKOUT_MESSAGE.into()))
    }

    /// The key's policy, parsed once per change.
    fn parsed_key_policy(&self, key: &KeyRecord) -> Result<Arc<Policy>, CoreError> {
        if let Some(p) = self.access.policies.get(&key.addr()) {
            if p.version == key.version {
                return Ok(p.policy.clone());
            }
            if p.text == key.policy && p.version < key.version {
                // Another field changed: same document, newer record.
                self.remember_policy(key, p.policy.clone());
                return Ok(p.policy.clone());
            }
        }
        // A stored policy was valid when it was put. One that does not parse now (stored by
        // a Trent that checked only for a JSON object) answers as the default key policy,
        // the semantics it was stored under, until PutKeyPolicy replaces it.
        let policy = match parse_key_policy(&key.policy) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(key = %key.arn(), error = %e, "stored key policy does not parse; using the default key policy");
                parse_key_policy(&crate::default_policy::default_key_policy(&key.account_id))?
            }
        };
        let policy = Arc::new(policy);
        self.remember_policy(key, policy.clone());
        Ok(policy)
    }

    /// Caches a parsed policy for a key record (unless a newer record's is cached).
    pub(crate) fn remember_policy(&self, key: &KeyRecord, policy: Arc<Policy>) {
        self.access.policies.put_unless(
            key.addr(),
            Arc::new(ParsedPolicy {
                version: key.version,
                text: key.policy.clone(),
                policy,
            }),
            |old, new| old.version > new.version,
        );
    }

    /// The key's condition keys, built once per record version and alias change.
    async fn key_keys(&self, key: &KeyRecord) -> Result<Arc<ContextKeys>, CoreError> {
        let aliases = self.aliases_of(&key.account_id, key.addr()).await?;
        if let Some(k) = self.access.key_keys.get(&key.addr()) {
            if k.version == key.version && Arc::ptr_eq(&k.aliases, &aliases) {
                return Ok(k.keys.clone());
            }
        }
        let keys = Arc::new(key_condition_keys(key, &aliases));
        self.access.key_keys.put_unless(
            key.addr(),
            Arc::new(KeyKeys {
                version: key.version,
                aliases,
                keys: keys.clone(),
            }),
            |old, new| old.version > new.version,
        );
        Ok(keys)
    }

    /// The alias names pointing at a key: cached, else read from the store once.
    async fn aliases_of(
        &self,
        account: &AccountId,
        key: KeyAddr,
    ) -> Result<Arc<Vec<String>>, CoreError> {
        if let Some(a) = self.access.aliases.get(&key) {
            return Ok(a);
        }
        let generation = self.access.aliases_generation.load(Ordering::SeqCst);
        let names: Vec<String> = self
            .store
            .list_aliases(account, key.region)
            .await?
            .into_iter()
            .filter(|a| a.target_key_id == key.key_id)
            .map(|a| a.alias_name)
            .collect();
        let names = Arc::new(names);
        if self.access.aliases_generation.load(Ordering::SeqCst) == generation {
            self.access.aliases.put(key, names.clone());
        }
        Ok(names)
    }

    /// The key's grants: cached, else read from the store once.
    pub(crate) async fn grants_of(&self, key: KeyAddr) -> Result<Arc<Vec<GrantRecord>>, CoreError> {
        if let Some(g) = self.access.grants.get(&key) {
            return Ok(g);
        }
        let generation = self.access.grants_generation.load(Ordering::SeqCst);
        let grants = Arc::new(self.store.list_grants(key).await?);
        if self.access.grants_generation.load(Ordering::SeqCst) == generation {
            self.access.grants.put(key, grants.clone());
        }
        Ok(grants)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeySpec, KeyState, KeyUsage, Origin, Tag};

    fn record() -> KeyRecord {
        KeyRecord {
            key_id: crate::model::KeyId::generate(),
            account_id: AccountId::parse("111122223333").unwrap(),
            region: "us-east-1".into(),
            description: String::new(),
            key_state: KeyState::Enabled,
            key_spec: KeySpec::SymmetricDefault,
            key_usage: KeyUsage::EncryptDecrypt,
            origin: Origin::AwsKms,
            creation_date: time::OffsetDateTime::UNIX_EPOCH,
            deletion_date: None,
            policy: String::new(),
            tags: vec![Tag {
                key: "Team".into(),
                value: "blue".into(),
            }],
            current_key_material_id: crate::model::KeyMaterialId([0; 32]),
            multi_region: false,
            primary_region: None,
            rotation_period_days: None,
            next_rotation_date: None,
            pending_window_days: None,
            deleted_date: None,
            version: 1,
        }
    }

    #[test]
    fn a_key_answers_its_tags_aliases_spec_usage_and_origin() {
        let keys = key_condition_keys(&record(), &["alias/a".into(), "alias/b".into()]);
        let one = |k: &str| keys.get(k).map(|v| v.to_vec());
        assert_eq!(one("aws:ResourceTag/team"), Some(vec!["blue".to_string()]));
        assert_eq!(
            one("kms:ResourceAliases"),
            Some(vec!["alias/a".to_string(), "alias/b".to_string()])
        );
        assert_eq!(
            one("kms:KeySpec"),
            Some(vec!["SYMMETRIC_DEFAULT".to_string()])
        );
        assert_eq!(
            one("kms:KeyUsage"),
            Some(vec!["ENCRYPT_DECRYPT".to_string()])
        );
        assert_eq!(one("kms:KeyOrigin"), Some(vec!["AWS_KMS".to_string()]));
        assert_eq!(one("kms:MultiRegion"), Some(vec!["false".to_string()]));
    }

    #[test]
    fn a_key_without_aliases_has_no_resource_aliases_key() {
        let keys = key_condition_keys(&record(), &[]);
        assert_eq!(keys.get("kms:ResourceAliases"), None);
    }

    #[test]
    fn policies_that_do_not_parse_are_malformed_and_huge_ones_exceed_the_limit() {
        assert!(matches!(
            parse_key_policy("{}"),
            Err(CoreError::MalformedPolicyDocument(_))
        ));
        assert!(matches!(
            parse_key_policy("not json"),
            Err(CoreError::MalformedPolicyDocument(_))
        ));
        let huge = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{}","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}]}}"#,
            "a".repeat(33_000)
        );
        assert!(matches!(
            parse_key_policy(&huge),
            Err(CoreError::LimitExceeded(_))
        ));
    }

    #[test]
    fn keyless_actions_are_those_without_a_key() {
        assert!(is_keyless(Action::CreateKey));
        assert!(is_keyless(Action::ListKeys));
        assert!(is_keyless(Action::GenerateRandom));
        assert!(!is_keyless(Action::Encrypt));
        assert!(!is_keyless(Action::PutKeyPolicy));
    }
}
