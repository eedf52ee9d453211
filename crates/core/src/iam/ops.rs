//! The IAM operations, written once for users and roles where IAM treats them alike
//! (generic over [`PrincipalRecord`]): create, get, list, delete, inline policies, tags; and
//! access keys. Each authorizes (see [`super::access`]), checks IAM's quotas, writes the store
//! (one transaction, through core's `Store` port) and then the directory, under the IAM write
//! lock.

use std::collections::BTreeMap;

use trent_crypto::root::access_key_secret_wrapping_aad;
use zeroize::Zeroizing;

use super::access::{no_such, Authorized, IamCaller, KeyAction, KeyTarget, PrincipalAction};
use super::directory::Iam;
use super::error::IamError;
use super::policy::{check_trust_policy, parse_identity_policy, policy_size};
use super::principal::{Draft, Entry, PrincipalRecord};
use super::{
    new_secret_access_key, new_unique_id, principal_arn, InlinePolicyRecord, RoleRecord,
    ACCESS_KEY_ID_PREFIX,
};
use crate::model::{AccessKeyRecord, AccessKeyStatus, Tag};
use crate::store::StoreError;

/// Tags per user or role.
pub const TAGS_MAX: usize = 50;
/// Access keys per user (IAM's quota).
pub const ACCESS_KEYS_PER_USER: usize = 2;

fn no_such_policy<P: PrincipalRecord>(name: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "The {} policy with name {name} cannot be found.",
        P::KIND.as_str()
    ))
}

fn exists<P: PrincipalRecord>(name: &str) -> IamError {
    IamError::EntityAlreadyExists(format!("{} with name {name} already exists.", P::NOUN))
}

/// Adds `new` to `tags` (replacing same keys, case-insensitively); `LimitExceeded` past 50.
pub fn merge_tags(tags: &mut Vec<Tag>, new: Vec<Tag>) -> Result<(), IamError> {
    for t in new {
        tags.retain(|x| !x.key.eq_ignore_ascii_case(&t.key));
        tags.push(t);
    }
    if tags.len() > TAGS_MAX {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for TagsPerResource: {TAGS_MAX}"
        )));
    }
    Ok(())
}

impl Iam {
    // ------------------------------------------------------------ users and roles

    /// CreateUser / CreateRole: authorized on the new principal's ARN (and tagging it, when
    /// it comes with tags), unique by name in the account, within the account's quota.
    pub async fn create<D: Draft>(
        &self,
        caller: &IamCaller<'_>,
        draft: D,
    ) -> Result<D::Record, IamError> {
        let account = caller.account().clone();
        let name = draft.name().to_owned();
        let arn = principal_arn(&account, D::Record::KIND, draft.path(), &name);
        self.authorize(caller, &PrincipalAction::Create.name::<D::Record>(), &arn)?;
        if draft.has_tags() {
            self.authorize(caller, &PrincipalAction::Tag.name::<D::Record>(), &arn)?;
        }
        draft.check()?;
        let _guard = self.write_lock.lock().await;
        if self.principal::<D::Record>(&account, &name).is_some() {
            return Err(exists::<D::Record>(&name));
        }
        if self.count::<D::Record>(&account) >= D::Record::PER_ACCOUNT {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for {}: {}",
                D::Record::PER_ACCOUNT_QUOTA,
                D::Record::PER_ACCOUNT
            )));
        }
        let record = draft.into_record(account, self.now())?;
        let entry = Entry::new(record.clone(), BTreeMap::new())?;
        match D::Record::create_in(self.store.as_ref(), record.clone()).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists) => return Err(exists::<D::Record>(&name)),
            Err(e) => return Err(e.into()),
        }
        self.put(entry);
        Ok(record)
    }

    /// GetUser / GetRole.
    pub fn get<P: PrincipalRecord>(
        &self,
        caller: &IamCaller<'_>,
        name: &str,
    ) -> Result<Entry<P>, IamError> {
        self.authorize_on::<P>(caller, PrincipalAction::Get, name)?;
        self.named::<P>(caller.account(), name)
    }

    /// ListUsers / ListRoles: the account's principals whose path starts with `path_prefix`,
    /// ordered by name case-insensitively.
    pub fn list<P: PrincipalRecord>(
        &self,
        caller: &IamCaller<'_>,
        path_prefix: &str,
    ) -> Result<Vec<P>, IamError> {
        let account = caller.account();
        self.authorize(
            caller,
            &PrincipalAction::List.name::<P>(),
            &principal_arn(account, P::KIND, "/", ""),
        )?;
        Ok(self
            .principals::<P>(account)
            .into_iter()
            .filter(|p| p.path().starts_with(path_prefix))
            .collect())
    }

    /// DeleteUser / DeleteRole: `DeleteConflict` while it has access keys or inline policies.
    pub async fn delete<P: PrincipalRecord>(
        &self,
        caller: &IamCaller<'_>,
        name: &str,
    ) -> Result<(), IamError> {
        let account = caller.account();
        self.authorize_on::<P>(caller, PrincipalAction::Delete, name)?;
        let _guard = self.write_lock.lock().await;
        let entry = self.named::<P>(account, name)?;
        match P::delete_in(self.store.as_ref(), account, entry.record.name()).await {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(no_such::<P>(name)),
            Err(StoreError::Conflict(what)) => {
                return Err(IamError::DeleteConflict(format!(
                    "Cannot delete entity, must delete {what} first."
                )))
            }
            Err(e) => return Err(e.into()),
        }
        self.remove::<P>(account, name);
        Ok(())
    }

    /// Applies `change` to the principal's record and stores it (authorized for `action`).
    async fn change<P: PrincipalRecord>(
        &self,
        caller: &IamCaller<'_>,
        action: PrincipalAction,
        name: &str,
        change: impl FnOnce(&mut P) -> Result<(), IamError>,
    ) -> Result<(), IamError> {
        self.authorize_on::<P>(caller, action, name)?;
        let _guard = self.write_lock.lock().await;
        let entry = self.named::<P>(caller.account(), name)?;
        let mut record = entry.record.clone();
        change(&mut record)?;
        let entry = Entry::new(record.clone(), entry.policies)?;
        match P::update_in(self.store.as_ref(), record).await {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(no_such::<P>(name)),
            Err(e) => return Err(e.into()),
        }
        self.put(entry);
        Ok(())
    }

    // ------------------------------------------------------------ tags

    /// TagUser / TagRole: merges `tags` (same keys replaced, case-insensitively).
    pub async fn tag<P: PrincipalRecord>(
        &self,
        caller: &IamCaller<'_>,
        name: &str,
        tags: Vec<Tag>,
    ) -> Result<(), IamError> {
        self.change::<P>(caller, PrincipalAction::Tag, name, |r| {
            merge_tags(r.tags_mut(), tags)
        })
        .await
    }

    /// UntagUser / UntagRole: drops the tags with these keys (case-insensitively).
    pub async fn untag<P: PrincipalRecord>(
        &self,
        caller: &IamCaller<'_>,
        name: &str,
        keys: Vec<String>,
    ) -> Result<(), IamError> {
        self.change::<P>(caller, PrincipalAction::Untag, name, |r| {
            r.tags_mut()
                .retain(|x| !keys.iter().any(|k| k.eq_ignore_ascii_case(&x.key)));
            Ok(())
        })
        .await
    }

    /// ListUserTags / ListRoleTags.
    pub fn list_tags<P: PrincipalRecord>(
        &self,
        caller: &IamCaller<'_>,
        name: &str,
    ) -> Result<Vec<Tag>, IamError> {
        self.authorize_on::<P>(caller, PrincipalAction::ListTags, name)?;
        Ok(self
            .named::<P>(caller.account(), name)?
            .record
            .tags()
            .to_vec())
    }

    // ------------------------------------------------------------ roles only

    /// UpdateRole: a new description and/or maximum session duration.
    pub async fn update_role(
        &self,
        caller: &IamCaller<'_>,
        name: &str,
        description: Option<String>,
        max_session_duration: Option<u32>,
    ) -> Result<(), IamError> {
        self.change::<RoleRecord>(caller, PrincipalAction::Update, name, |role| {
            if let Some(d) = description {
                role.description = Some(d);
            }
            if let Some(seconds) = max_session_duration {
                role.max_session_duration = seconds;
            }
            Ok(())
        })
        .await
    }

    /// UpdateAssumeRolePolicy: a new trust policy. Sessions already issued keep working until
    /// they expire, as in IAM; new AssumeRole calls are judged by the new policy.
    pub async fn update_assume_role_policy(
        &self,
        caller: &IamCaller<'_>,
        name: &str,
        document: String,
    ) -> Result<(), IamError> {
        check_trust_policy(&document)?;
        self.change::<RoleRecord>(
            caller,
            PrincipalAction::UpdateAssumeRolePolicy,
            name,
            |role| {
                role.assume_role_policy_document = document;
                Ok(())
            },
        )
        .await
    }

    // ------------------------------------------------------------ inline policies

    /// PutUserPolicy / PutRolePolicy, once authorized: adds or replaces the inline policy,
    /// within the principal's aggregate policy size.
    pub async fn put_policy<P: PrincipalRecord>(
        &self,
        authorized: Authorized<P>,
        policy_name: &str,
        document: &str,
    ) -> Result<(), IamError> {
        if authorized.action != PrincipalAction::PutPolicy {
            return Err(IamError::Internal(format!(
                "PutPolicy used a token for {:?}",
                authorized.action
            )));
        }
        parse_identity_policy(document)?;
        let (account, name) = (&authorized.account, authorized.name.as_str());
        let _guard = self.write_lock.lock().await;
        let entry = self.named::<P>(account, name)?;
        let mut policies = entry.policies;
        policies.insert(policy_name.to_owned(), document.to_owned());
        if policy_size(policies.values().map(String::as_str)) > P::POLICY_SIZE {
            return Err(IamError::LimitExceeded(format!(
                "Maximum policy size of {} bytes exceeded for {} {}",
                P::POLICY_SIZE,
                P::KIND.as_str(),
                entry.record.name()
            )));
        }
        let principal_name = entry.record.name().to_owned();
        let entry = Entry::new(entry.record, policies)?;
        let stored = self
            .store
            .put_inline_policy(InlinePolicyRecord {
                account_id: account.clone(),
                principal_kind: P::KIND,
                principal_name,
                policy_name: policy_name.to_owned(),
                policy_document: document.to_owned(),
            })
            .await;
        match stored {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(no_such::<P>(name)),
            Err(e) => return Err(e.into()),
        }
        self.put(entry);
        Ok(())
    }

    /// GetUserPolicy / GetRolePolicy: the principal's record and the policy's document.
    pub fn get_policy<P: PrincipalRecord>(
        &self,
        caller: &IamCaller<'_>,
        name: &str,
        policy_name: &str,
    ) -> Result<(P, String), IamError> {
        self.authorize_on::<P>(caller, PrincipalAction::GetPolicy, name)?;
        let mut entry = self.named::<P>(caller.account(), name)?;
        let document = entry
            .policies
            .remove(policy_name)
            .ok_or_else(|| no_such_policy::<P>(policy_name))?;
        Ok((entry.record, document))
    }

    /// ListUserPolicies / ListRolePolicies: the names, in order.
    pub fn list_policies<P: PrincipalRecord>(
        &self,
        caller: &IamCaller<'_>,
        name: &str,
    ) -> Result<Vec<String>, IamError> {
        self.authorize_on::<P>(caller, PrincipalAction::ListPolicies, name)?;
        Ok(self
            .named::<P>(caller.account(), name)?
            .policies
            .into_keys()
            .collect())
    }

    /// DeleteUserPolicy / DeleteRolePolicy.
    pub async fn delete_policy<P: PrincipalRecord>(
        &self,
        caller: &IamCaller<'_>,
        name: &str,
        policy_name: &str,
    ) -> Result<(), IamError> {
        let account = caller.account();
        self.authorize_on::<P>(caller, PrincipalAction::DeletePolicy, name)?;
        let _guard = self.write_lock.lock().await;
        let entry = self.named::<P>(account, name)?;
        let mut policies = entry.policies;
        if policies.remove(policy_name).is_none() {
            return Err(no_such_policy::<P>(policy_name));
        }
        let principal_name = entry.record.name().to_owned();
        let entry = Entry::new(entry.record, policies)?;
        match self
            .store
            .delete_inline_policy(account, P::KIND, &principal_name, policy_name)
            .await
        {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(no_such_policy::<P>(policy_name)),
            Err(e) => return Err(e.into()),
        }
        self.put(entry);
        Ok(())
    }

    // ------------------------------------------------------------ access keys

    /// CreateAccessKey, once authorized: a new active key, within the per-user quota. Answers
    /// the record and the secret (shown once, never stored unwrapped).
    pub async fn create_access_key(
        &self,
        target: &KeyTarget,
    ) -> Result<(AccessKeyRecord, Zeroizing<String>), IamError> {
        target.check(KeyAction::Create)?;
        let _guard = self.write_lock.lock().await;
        if self.keys_of(&target.principal_arn).len() >= ACCESS_KEYS_PER_USER {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}"
            )));
        }
        let access_key_id = new_unique_id(ACCESS_KEY_ID_PREFIX, 20)?;
        let secret = new_secret_access_key()?;
        let wrapped = self.root_key.wrap(
            &access_key_secret_wrapping_aad(&access_key_id),
            secret.as_bytes(),
        )?;
        let record = AccessKeyRecord {
            access_key_id,
            account_id: target.account.clone(),
            principal_arn: target.principal_arn.clone(),
            wrapped_secret: wrapped,
            status: AccessKeyStatus::Active,
            created: self.now(),
        };
        self.store.put_access_key(record.clone()).await?;
        self.insert(&record)?;
        Ok((record, secret))
    }

    /// ListAccessKeys, once authorized: the target's keys, oldest first.
    pub fn list_access_keys(&self, target: &KeyTarget) -> Result<Vec<AccessKeyRecord>, IamError> {
        target.check(KeyAction::List)?;
        Ok(self.keys_of(&target.principal_arn))
    }

    /// The key `access_key_id`, which must belong to the target.
    fn target_key(
        &self,
        target: &KeyTarget,
        access_key_id: &str,
    ) -> Result<AccessKeyRecord, IamError> {
        self.key_record(access_key_id)
            .filter(|k| k.principal_arn == target.principal_arn)
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!(
                    "The Access Key with id {access_key_id} cannot be found."
                ))
            })
    }

    /// UpdateAccessKey, once authorized: activates or deactivates one of the target's keys.
    pub async fn update_access_key(
        &self,
        target: &KeyTarget,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<(), IamError> {
        target.check(KeyAction::Update)?;
        let _guard = self.write_lock.lock().await;
        let mut record = self.target_key(target, access_key_id)?;
        record.status = status;
        self.store.put_access_key(record.clone()).await?;
        self.insert(&record)
    }

    /// DeleteAccessKey, once authorized: deletes one of the target's keys.
    pub async fn delete_access_key(
        &self,
        target: &KeyTarget,
        access_key_id: &str,
    ) -> Result<(), IamError> {
        target.check(KeyAction::Delete)?;
        let _guard = self.write_lock.lock().await;
        let record = self.target_key(target, access_key_id)?;
        match self.store.delete_access_key(&record.access_key_id).await {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        self.remove_key(&record.access_key_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_merge_by_key_case_insensitively_up_to_fifty() {
        let mut tags = vec![Tag {
            key: "Team".into(),
            value: "a".into(),
        }];
        merge_tags(
            &mut tags,
            vec![Tag {
                key: "team".into(),
                value: "b".into(),
            }],
        )
        .unwrap();
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].value, "b");
        let many = (0..50)
            .map(|i| Tag {
                key: format!("k{i}"),
                value: String::new(),
            })
            .collect();
        assert!(matches!(
            merge_tags(&mut tags, many),
            Err(IamError::LimitExceeded(_))
        ));
    }
}
