//! What users and roles have in common, written once: [`PrincipalRecord`] is implemented by
//! [`UserRecord`] and [`RoleRecord`], and every IAM operation that treats them alike (create,
//! get, list, delete, tags, inline policies) is generic over it.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;
use trent_policy::{Policy, Principal};

use super::error::IamError;
use super::policy::{parse_identity_policy, parse_trust_policy};
use super::session::assumed_role_arn;
use super::{principal_arn, PrincipalKind, RoleRecord, UserRecord, ROLE_ID_PREFIX, USER_ID_PREFIX};
use crate::caller::Identity;
use crate::model::{AccountId, Tag};
use crate::store::{Store, StoreError};

/// A kind of IAM principal (user or role) as the generic operations see it: its names in
/// IAM's messages, its quotas, its parsed form, and its store methods.
#[async_trait]
pub trait PrincipalRecord: Clone + Send + Sync + 'static {
    /// `User` or `Role`.
    const KIND: PrincipalKind;
    /// The noun in action names and messages: `User` or `Role`.
    const NOUN: &'static str;
    /// The most an account may have (IAM's default quota).
    const PER_ACCOUNT: usize;
    /// The quota's name in IAM's `LimitExceeded` message.
    const PER_ACCOUNT_QUOTA: &'static str;
    /// The aggregate size of its inline policies, whitespace not counted.
    const POLICY_SIZE: usize;
    /// What is kept parsed with the record: a user's identity, a role's trust policy.
    type Derived: Clone + Send + Sync;

    /// The account it belongs to.
    fn account_id(&self) -> &AccountId;
    /// Its name, unique in the account case-insensitively.
    fn name(&self) -> &str;
    /// Its path (`/` or `/…/`).
    fn path(&self) -> &str;
    /// Its tags.
    fn tags(&self) -> &[Tag];
    /// Its tags, to change.
    fn tags_mut(&mut self) -> &mut Vec<Tag>;
    /// `arn:aws:iam::ACCOUNT:KIND/PATH/NAME`.
    fn arn(&self) -> String {
        principal_arn(self.account_id(), Self::KIND, self.path(), self.name())
    }
    /// Builds [`Self::Derived`] from the record and its parsed inline policies.
    fn derive(&self, parsed: &[Arc<Policy>]) -> Result<Self::Derived, IamError>;
    /// Its entry, if `entry` is of this kind.
    fn entry_of(entry: &PrincipalEntry) -> Option<&Entry<Self>>;
    /// Wraps an entry of this kind.
    fn into_entry(entry: Entry<Self>) -> PrincipalEntry;

    /// Creates it in the store (the store's `create_user` / `create_role`).
    async fn create_in(store: &dyn Store, record: Self) -> Result<(), StoreError>;
    /// Replaces it in the store.
    async fn update_in(store: &dyn Store, record: Self) -> Result<(), StoreError>;
    /// Deletes it from the store.
    async fn delete_in(
        store: &dyn Store,
        account: &AccountId,
        name: &str,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl PrincipalRecord for UserRecord {
    const KIND: PrincipalKind = PrincipalKind::User;
    const NOUN: &'static str = "User";
    const PER_ACCOUNT: usize = 5000;
    const PER_ACCOUNT_QUOTA: &'static str = "UsersPerAccount";
    const POLICY_SIZE: usize = 2048;
    type Derived = Arc<Identity>;

    fn account_id(&self) -> &AccountId {
        &self.account_id
    }
    fn name(&self) -> &str {
        &self.user_name
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn tags(&self) -> &[Tag] {
        &self.tags
    }
    fn tags_mut(&mut self) -> &mut Vec<Tag> {
        &mut self.tags
    }
    fn derive(&self, parsed: &[Arc<Policy>]) -> Result<Arc<Identity>, IamError> {
        let mut p = principal(&self.arn())?.with_user_id(self.user_id.clone());
        for tag in &self.tags {
            p = p.with_tag(&tag.key, tag.value.clone());
        }
        Ok(Arc::new(Identity {
            principal: p,
            policies: parsed.to_vec(),
        }))
    }
    fn entry_of(entry: &PrincipalEntry) -> Option<&Entry<Self>> {
        match entry {
            PrincipalEntry::User(e) => Some(e),
            PrincipalEntry::Role(_) => None,
        }
    }
    fn into_entry(entry: Entry<Self>) -> PrincipalEntry {
        PrincipalEntry::User(entry)
    }
    async fn create_in(store: &dyn Store, record: Self) -> Result<(), StoreError> {
        store.create_user(record).await
    }
    async fn update_in(store: &dyn Store, record: Self) -> Result<(), StoreError> {
        store.update_user(record).await
    }
    async fn delete_in(
        store: &dyn Store,
        account: &AccountId,
        name: &str,
    ) -> Result<(), StoreError> {
        store.delete_user(account, name).await
    }
}

#[async_trait]
impl PrincipalRecord for RoleRecord {
    const KIND: PrincipalKind = PrincipalKind::Role;
    const NOUN: &'static str = "Role";
    const PER_ACCOUNT: usize = 1000;
    const PER_ACCOUNT_QUOTA: &'static str = "RolesPerAccount";
    const POLICY_SIZE: usize = 10_240;
    type Derived = Arc<Policy>;

    fn account_id(&self) -> &AccountId {
        &self.account_id
    }
    fn name(&self) -> &str {
        &self.role_name
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn tags(&self) -> &[Tag] {
        &self.tags
    }
    fn tags_mut(&mut self) -> &mut Vec<Tag> {
        &mut self.tags
    }
    fn derive(&self, _parsed: &[Arc<Policy>]) -> Result<Arc<Policy>, IamError> {
        parse_trust_policy(&self.assume_role_policy_document).map(Arc::new)
    }
    fn entry_of(entry: &PrincipalEntry) -> Option<&Entry<Self>> {
        match entry {
            PrincipalEntry::Role(e) => Some(e),
            PrincipalEntry::User(_) => None,
        }
    }
    fn into_entry(entry: Entry<Self>) -> PrincipalEntry {
        PrincipalEntry::Role(entry)
    }
    async fn create_in(store: &dyn Store, record: Self) -> Result<(), StoreError> {
        store.create_role(record).await
    }
    async fn update_in(store: &dyn Store, record: Self) -> Result<(), StoreError> {
        store.update_role(record).await
    }
    async fn delete_in(
        store: &dyn Store,
        account: &AccountId,
        name: &str,
    ) -> Result<(), StoreError> {
        store.delete_role(account, name).await
    }
}

/// What a new principal is made of, besides what IAM assigns (its id and creation date).
pub trait Draft: Send {
    /// The record it becomes.
    type Record: PrincipalRecord;
    /// Its name.
    fn name(&self) -> &str;
    /// Its path.
    fn path(&self) -> &str;
    /// Whether it carries tags (then tagging is authorized too).
    fn has_tags(&self) -> bool;
    /// Checks what the kind itself requires (a role's trust policy).
    fn check(&self) -> Result<(), IamError>;
    /// The record, with the id and date IAM assigns.
    fn into_record(self, account: AccountId, now: OffsetDateTime)
        -> Result<Self::Record, IamError>;
}

/// A new user: CreateUser's members.
pub struct NewUser {
    /// `/` or `/…/`.
    pub path: String,
    /// The user name.
    pub name: String,
    /// Tags to give it.
    pub tags: Vec<Tag>,
}

impl Draft for NewUser {
    type Record = UserRecord;
    fn name(&self) -> &str {
        &self.name
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn has_tags(&self) -> bool {
        !self.tags.is_empty()
    }
    fn check(&self) -> Result<(), IamError> {
        Ok(())
    }
    fn into_record(self, account: AccountId, now: OffsetDateTime) -> Result<UserRecord, IamError> {
        Ok(UserRecord {
            account_id: account,
            path: self.path,
            user_name: self.name,
            user_id: super::new_unique_id(USER_ID_PREFIX, 21)?,
            create_date: now,
            tags: self.tags,
        })
    }
}

/// A new role: CreateRole's members.
pub struct NewRole {
    /// `/` or `/…/`.
    pub path: String,
    /// The role name.
    pub name: String,
    /// Tags to give it.
    pub tags: Vec<Tag>,
    /// The trust policy, as sent.
    pub trust_policy: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// The longest session AssumeRole may grant, in seconds.
    pub max_session_duration: u32,
}

impl Draft for NewRole {
    type Record = RoleRecord;
    fn name(&self) -> &str {
        &self.name
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn has_tags(&self) -> bool {
        !self.tags.is_empty()
    }
    fn check(&self) -> Result<(), IamError> {
        super::policy::check_trust_policy(&self.trust_policy)
    }
    fn into_record(self, account: AccountId, now: OffsetDateTime) -> Result<RoleRecord, IamError> {
        Ok(RoleRecord {
            account_id: account,
            path: self.path,
            role_name: self.name,
            role_id: super::new_unique_id(ROLE_ID_PREFIX, 21)?,
            create_date: now,
            assume_role_policy_document: self.trust_policy,
            description: self.description,
            max_session_duration: self.max_session_duration,
            tags: self.tags,
        })
    }
}

/// A principal with its inline policies (name → document, and parsed) and derived form.
#[derive(Clone)]
pub struct Entry<P: PrincipalRecord> {
    /// The record as stored.
    pub record: P,
    /// Inline policies: name → document as sent.
    pub policies: BTreeMap<String, String>,
    /// The inline policies, parsed once.
    pub parsed: Vec<Arc<Policy>>,
    /// A user's identity, a role's trust policy.
    pub derived: P::Derived,
}

impl<P: PrincipalRecord> Entry<P> {
    /// The entry of `record` with these inline policies, parsed.
    pub fn new(record: P, policies: BTreeMap<String, String>) -> Result<Entry<P>, IamError> {
        let parsed = policies
            .iter()
            .map(|(name, doc)| {
                parse_identity_policy(doc).map(Arc::new).map_err(|e| {
                    IamError::Internal(format!("stored policy {name} does not parse: {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let derived = record.derive(&parsed)?;
        Ok(Entry {
            record,
            policies,
            parsed,
            derived,
        })
    }
}

impl Entry<RoleRecord> {
    /// The identity of a session of this role: the session's ARN and user id, the role's
    /// ARN and tags, and the role's inline policies.
    pub fn session_identity(&self, session_name: &str) -> Result<Identity, IamError> {
        let arn = assumed_role_arn(
            &self.record.account_id,
            &self.record.role_name,
            session_name,
        );
        let mut p = principal(&arn)?
            .with_user_id(format!("{}:{session_name}", self.record.role_id))
            .with_role_arn(self.record.arn());
        for tag in &self.record.tags {
            p = p.with_tag(&tag.key, tag.value.clone());
        }
        Ok(Identity {
            principal: p,
            policies: self.parsed.clone(),
        })
    }
}

/// An entry of either kind, as the directory holds them.
#[derive(Clone)]
pub enum PrincipalEntry {
    /// A user.
    User(Entry<UserRecord>),
    /// A role.
    Role(Entry<RoleRecord>),
}

fn principal(arn: &str) -> Result<Principal, IamError> {
    Principal::from_arn(arn).map_err(|e| IamError::Internal(e.to_string()))
}
