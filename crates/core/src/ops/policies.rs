//! PutKeyPolicy, GetKeyPolicy, ListKeyPolicies, and the checks CreateKey makes of its Policy.

use std::sync::Arc;

use crate::action::Action;
use crate::authorize::parse_key_policy;
use crate::caller::Caller;
use crate::error::CoreError;
use crate::kms::Kms;
use crate::model::{
    AccountId, KeyId, KeyMaterialId, KeyRecord, KeySpec, KeyState, KeyUsage, Origin, Tag,
};
use crate::ops::{page_by_index, page_limit, Page};

/// The only key policy name AWS KMS knows.
pub const DEFAULT_POLICY_NAME: &str = "default";

/// A key policy and its name (GetKeyPolicy).
#[derive(Debug)]
pub struct KeyPolicyOutput {
    /// The policy name.
    pub policy_name: String,
    /// The key policy document.
    pub policy: String,
}

/// What CreateKey knows of the key it is about to make, for the lockout safety check.
#[derive(Debug)]
pub struct NewKeyFacts<'a> {
    /// The key spec.
    pub key_spec: KeySpec,
    /// The key usage.
    pub key_usage: KeyUsage,
    /// Where the key material came from.
    pub origin: Origin,
    /// The tags.
    pub tags: &'a [Tag],
}

/// Refuses policy names other than `default`, as AWS does.
fn check_policy_name(name: Option<&str>) -> Result<(), CoreError> {
    match name {
        None | Some(DEFAULT_POLICY_NAME) => Ok(()),
        Some(other) => Err(CoreError::NotFound(format!(
            "No such policy exists: {other}. The only valid policy name is {DEFAULT_POLICY_NAME}."
        ))),
    }
}

impl Kms {
    /// GetKeyPolicy.
    pub async fn get_key_policy(
        &self,
        caller: &Caller,
        key_id: &str,
        policy_name: Option<&str>,
    ) -> Result<KeyPolicyOutput, CoreError> {
        check_policy_name(policy_name)?;
        let key = self
            .usable_key(caller, key_id, Action::GetKeyPolicy)
            .await?
            .record;
        Ok(KeyPolicyOutput {
            policy_name: DEFAULT_POLICY_NAME.to_string(),
            policy: key.policy.clone(),
        })
    }

    /// ListKeyPolicies: always the one policy, `default`.
    pub async fn list_key_policies(
        &self,
        caller: &Caller,
        key_id: &str,
        limit: Option<i32>,
        marker: Option<&str>,
    ) -> Result<Page<String>, CoreError> {
        self.usable_key(caller, key_id, Action::ListKeyPolicies)
            .await?;
        page_by_index(
            vec![DEFAULT_POLICY_NAME.to_string()],
            marker,
            page_limit(limit),
        )
    }

    /// PutKeyPolicy: validates the document, runs the lockout safety check unless bypassed,
    /// stores it and caches it parsed.
    pub async fn put_key_policy(
        &self,
        caller: &Caller,
        key_id: &str,
        policy_name: Option<&str>,
        policy: &str,
        bypass_policy_lockout_safety_check: bool,
    ) -> Result<(), CoreError> {
        check_policy_name(policy_name)?;
        let action = Action::PutKeyPolicy;
        let key = self.usable_key(caller, key_id, action).await?.record;
        let parsed = Arc::new(parse_key_policy(policy)?);
        if !bypass_policy_lockout_safety_check {
            self.check_lockout(caller, &key, &parsed).await?;
        }
        let text = policy.to_string();
        let updated = self
            .update_key(key.addr(), move |k| {
                crate::key_state::check(action, k)?;
                k.policy = text;
                Ok(())
            })
            .await?;
        self.remember_policy(&updated, parsed);
        Ok(())
    }

    /// CreateKey's Policy: a valid key policy document that (unless the check is bypassed)
    /// lets the caller update the policy later.
    pub(crate) fn check_new_key_policy(
        &self,
        caller: &Caller,
        policy: &str,
        bypass_policy_lockout_safety_check: bool,
        facts: NewKeyFacts<'_>,
    ) -> Result<(), CoreError> {
        let parsed = parse_key_policy(policy)?;
        if bypass_policy_lockout_safety_check {
            return Ok(());
        }
        let prospective = prospective_key(
            caller.account_id.clone(),
            caller.region.to_string(),
            policy,
            facts,
        );
        self.check_lockout_new_key(caller, &prospective, &parsed)
    }
}

/// The key CreateKey is about to make, as far as policies can see it. Its id is not chosen
/// yet: the nil id stands in (a policy naming a specific key ARN cannot name a new key).
fn prospective_key(
    account_id: AccountId,
    region: String,
    policy: &str,
    facts: NewKeyFacts<'_>,
) -> KeyRecord {
    KeyRecord {
        key_id: KeyId::from_uuid(uuid::Uuid::nil()),
        account_id,
        region,
        description: String::new(),
        key_state: KeyState::Enabled,
        key_spec: facts.key_spec,
        key_usage: facts.key_usage,
        origin: facts.origin,
        creation_date: time::OffsetDateTime::UNIX_EPOCH,
        deletion_date: None,
        policy: policy.to_string(),
        tags: facts.tags.to_vec(),
        current_key_material_id: KeyMaterialId([0; 32]),
        multi_region: false,
        primary_region: None,
        rotation_period_days: None,
        next_rotation_date: None,
        pending_window_days: None,
        deleted_date: None,
        version: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_default_policy_name_exists() {
        assert!(check_policy_name(None).is_ok());
        assert!(check_policy_name(Some("default")).is_ok());
        assert!(matches!(
            check_policy_name(Some("other")),
            Err(CoreError::NotFound(_))
        ));
    }
}
