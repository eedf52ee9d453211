//! Who may sign requests, held in memory so authentication never reads the database:
//! every long-term access key (its secret unwrapped with the root key, zeroized when dropped),
//! and the account's IAM users and roles with their inline policies parsed once.
//!
//! Loaded from the store at start; IAM operations change the store first and then this
//! directory (under [`Credentials::write_lock`]), so a change takes effect for the next request.
//! Temporary credentials (AssumeRole) are not stored at all: the session token is the session,
//! sealed with the root key (see [`crate::session`]).
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)] // guard rails: lifted after the IAM refactor lands

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;
use time::OffsetDateTime;
use trent_core::iam::{PrincipalKind, RoleRecord, UserRecord};
use trent_core::model::{AccessKeyRecord, AccessKeyStatus, AccountId};
use trent_core::{Identity, Kms};
use trent_crypto::root::{access_key_secret_wrapping_aad, RootKey};
use trent_policy::{Policy, PolicyKind, Principal};
use trent_sigv4::{Credential, CredentialSource};
use zeroize::Zeroizing;

use crate::session;

/// The largest inline policy document IAM's model accepts, in bytes.
pub const POLICY_DOCUMENT_MAX_BYTES: usize = 131_072;

/// What kind of principal signed a request (CloudTrail's `userIdentity.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerKind {
    Root,
    IamUser,
    AssumedRole,
}

impl OwnerKind {
    /// CloudTrail's `userIdentity.type`.
    pub fn cloudtrail_type(self) -> &'static str {
        match self {
            OwnerKind::Root => "Root",
            OwnerKind::IamUser => "IAMUser",
            OwnerKind::AssumedRole => "AssumedRole",
        }
    }
}

/// Who an access key belongs to.
#[derive(Clone, Debug)]
pub struct KeyOwner {
    pub account_id: AccountId,
    pub principal_arn: String,
    /// The principal as policies see it; shared by the requests of the principal.
    pub identity: Arc<Identity>,
    /// `aws:userid`: the account id for the root, `AIDA…` for a user, `AROA…:SESSION` for a
    /// role session (GetCallerIdentity's `UserId`, CloudTrail's `principalId`).
    pub user_id: String,
    pub kind: OwnerKind,
    /// For a user, its name (GetUser and access-key operations without `UserName`).
    pub user_name: Option<String>,
    /// For temporary credentials, when they expire.
    pub expiration: Option<OffsetDateTime>,
}

/// One long-term access key: its record, and its secret while it is active.
struct KeyEntry {
    record: AccessKeyRecord,
    secret: Option<Arc<Zeroizing<String>>>,
}

/// A user, its inline policies (name → document) and its identity.
#[derive(Clone)]
pub struct UserEntry {
    pub record: UserRecord,
    pub policies: BTreeMap<String, String>,
    pub identity: Arc<Identity>,
}

/// A role, its inline policies, their parsed form and its parsed trust policy.
#[derive(Clone)]
pub struct RoleEntry {
    pub record: RoleRecord,
    pub policies: BTreeMap<String, String>,
    pub parsed: Vec<Arc<Policy>>,
    pub trust: Arc<Policy>,
}

#[derive(Default)]
struct Directory {
    keys: HashMap<String, KeyEntry>,
    users: HashMap<(AccountId, String), UserEntry>,
    roles: HashMap<(AccountId, String), RoleEntry>,
    roots: HashMap<AccountId, Arc<Identity>>,
}

/// The in-memory directory of access keys, users and roles.
pub struct Credentials {
    root_key: Arc<RootKey>,
    dir: RwLock<Directory>,
    /// Held by every IAM mutation across its store write and directory update, so the
    /// directory changes in the order the store did.
    pub write_lock: tokio::sync::Mutex<()>,
    /// The store's directory version read before the directory was (re)loaded: a different
    /// version now means something (maybe another process) changed it since.
    loaded_version: AtomicU64,
}

fn name_key(account: &AccountId, name: &str) -> (AccountId, String) {
    (account.clone(), name.to_ascii_lowercase())
}

/// Parses an identity (inline) policy as IAM does; the error becomes MalformedPolicyDocument.
pub fn parse_identity_policy(document: &str) -> Result<Policy, String> {
    Policy::parse(document, PolicyKind::Identity, POLICY_DOCUMENT_MAX_BYTES)
        .map_err(|e| e.to_string())
}

/// Parses a role's trust policy. Its statements name principals and no resource (the role is
/// the resource), so each is evaluated as if it said `"Resource": "*"`; a statement with a
/// `Resource` is refused, as IAM refuses it.
pub fn parse_trust_policy(document: &str) -> Result<Policy, String> {
    let mut value: serde_json::Value = serde_json::from_str(document)
        .map_err(|e| format!("The policy document is not valid JSON: {e}"))?;
    let statements = match value.get_mut("Statement") {
        Some(serde_json::Value::Array(items)) => items.iter_mut().collect::<Vec<_>>(),
        Some(single @ serde_json::Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    for statement in statements {
        if let serde_json::Value::Object(obj) = statement {
            if obj.contains_key("Resource") || obj.contains_key("NotResource") {
                return Err("Has prohibited field Resource".into());
            }
            obj.insert("Resource".into(), serde_json::Value::String("*".into()));
        }
    }
    Policy::parse(
        &value.to_string(),
        PolicyKind::Resource,
        POLICY_DOCUMENT_MAX_BYTES * 2,
    )
    .map_err(|e| e.to_string())
}

fn principal(arn: &str) -> Result<Principal, String> {
    Principal::from_arn(arn).map_err(|e| e.to_string())
}

fn user_identity(record: &UserRecord, parsed: Vec<Arc<Policy>>) -> Result<Identity, String> {
    let mut p = principal(&record.arn())?.with_user_id(record.user_id.clone());
    for tag in &record.tags {
        p = p.with_tag(&tag.key, tag.value.clone());
    }
    Ok(Identity {
        principal: p,
        policies: parsed,
    })
}

fn parse_all(policies: &BTreeMap<String, String>) -> Result<Vec<Arc<Policy>>, String> {
    policies
        .iter()
        .map(|(name, doc)| {
            parse_identity_policy(doc)
                .map(Arc::new)
                .map_err(|e| format!("stored policy {name} does not parse: {e}"))
        })
        .collect()
}

impl UserEntry {
    /// A user with these inline policies, its identity built.
    pub fn new(record: UserRecord, policies: BTreeMap<String, String>) -> Result<Self, String> {
        let identity = Arc::new(user_identity(&record, parse_all(&policies)?)?);
        Ok(UserEntry {
            record,
            policies,
            identity,
        })
    }
}

impl RoleEntry {
    /// A role with these inline policies, its policies parsed.
    pub fn new(record: RoleRecord, policies: BTreeMap<String, String>) -> Result<Self, String> {
        let parsed = parse_all(&policies)?;
        let trust = Arc::new(parse_trust_policy(&record.assume_role_policy_document)?);
        Ok(RoleEntry {
            record,
            policies,
            parsed,
            trust,
        })
    }

    /// The identity of a session of this role.
    pub fn session_identity(&self, session_name: &str) -> Result<Identity, String> {
        let arn = session::assumed_role_arn(
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

impl Credentials {
    /// Loads every account, access key, user, role and inline policy from the KMS's store.
    pub async fn load(kms: &Kms) -> Result<Credentials, String> {
        let store = kms.store();
        let err = |e: trent_core::store::StoreError| e.to_string();
        // Read first: a change made while loading shows as a newer version, and reloads.
        let version = store.directory_version().await.map_err(err)?;
        let creds = Credentials {
            root_key: kms.root_key().clone(),
            dir: RwLock::new(Directory::default()),
            write_lock: tokio::sync::Mutex::new(()),
            loaded_version: AtomicU64::new(version),
        };
        let mut user_policies: HashMap<(AccountId, String), BTreeMap<String, String>> =
            HashMap::new();
        let mut role_policies: HashMap<(AccountId, String), BTreeMap<String, String>> =
            HashMap::new();
        for p in store.list_inline_policies().await.map_err(err)? {
            let map = match p.principal_kind {
                PrincipalKind::User => &mut user_policies,
                PrincipalKind::Role => &mut role_policies,
            };
            map.entry(name_key(&p.account_id, &p.principal_name))
                .or_default()
                .insert(p.policy_name, p.policy_document);
        }
        for account in store.list_accounts().await.map_err(err)? {
            creds.add_account(&account.account_id);
        }
        for user in store.list_users().await.map_err(err)? {
            let policies = user_policies
                .remove(&name_key(&user.account_id, &user.user_name))
                .unwrap_or_default();
            creds.put_user(UserEntry::new(user, policies)?);
        }
        for role in store.list_roles().await.map_err(err)? {
            let policies = role_policies
                .remove(&name_key(&role.account_id, &role.role_name))
                .unwrap_or_default();
            creds.put_role(RoleEntry::new(role, policies)?);
        }
        for r in store.list_access_keys().await.map_err(err)? {
            creds.insert(&r)?;
        }
        Ok(creds)
    }

    /// Reloads the directory from the store if its version moved since the last load: how a
    /// running server learns of accounts and keys created or revoked by `trent admin` (another
    /// process). Answers whether it reloaded. Holds the IAM write lock, so no IAM change made
    /// through this server is lost between reading the store and swapping the directory.
    pub async fn reload_if_changed(&self, kms: &Kms) -> Result<bool, String> {
        let err = |e: trent_core::store::StoreError| e.to_string();
        let now = kms.store().directory_version().await.map_err(err)?;
        if now == self.loaded_version.load(Ordering::Acquire) {
            return Ok(false);
        }
        let _writing = self.write_lock.lock().await;
        let fresh = Credentials::load(kms).await?;
        let dir = std::mem::take(&mut *fresh.dir.write());
        *self.dir.write() = dir;
        self.loaded_version.store(
            fresh.loaded_version.load(Ordering::Acquire),
            Ordering::Release,
        );
        Ok(true)
    }

    /// Makes an account known (its root identity).
    pub fn add_account(&self, account: &AccountId) {
        self.dir
            .write()
            .roots
            .insert(account.clone(), Arc::new(Identity::account_root(account)));
    }

    /// Adds or replaces one access key (active or not).
    pub fn insert(&self, r: &AccessKeyRecord) -> Result<(), String> {
        let secret = if r.status == AccessKeyStatus::Active {
            let secret = self
                .root_key
                .unwrap(
                    &access_key_secret_wrapping_aad(&r.access_key_id),
                    &r.wrapped_secret,
                )
                .map_err(|_| {
                    format!(
                        "the secret of access key {} does not unwrap",
                        r.access_key_id
                    )
                })?;
            let text = String::from_utf8(secret.as_bytes().to_vec())
                .map_err(|_| format!("the secret of access key {} is not text", r.access_key_id))?;
            Some(Arc::new(Zeroizing::new(text)))
        } else {
            None
        };
        self.dir.write().keys.insert(
            r.access_key_id.clone(),
            KeyEntry {
                record: r.clone(),
                secret,
            },
        );
        Ok(())
    }

    /// Forgets an access key.
    pub fn remove_key(&self, access_key_id: &str) {
        self.dir.write().keys.remove(access_key_id);
    }

    /// The record of a long-term access key.
    pub fn key_record(&self, access_key_id: &str) -> Option<AccessKeyRecord> {
        self.dir
            .read()
            .keys
            .get(access_key_id)
            .map(|e| e.record.clone())
    }

    /// The access keys of one principal, ordered by creation date then id.
    pub fn keys_of(&self, principal_arn: &str) -> Vec<AccessKeyRecord> {
        let mut keys: Vec<AccessKeyRecord> = self
            .dir
            .read()
            .keys
            .values()
            .filter(|e| e.record.principal_arn == principal_arn)
            .map(|e| e.record.clone())
            .collect();
        keys.sort_by(|a, b| (a.created, &a.access_key_id).cmp(&(b.created, &b.access_key_id)));
        keys
    }

    /// Adds or replaces a user.
    pub fn put_user(&self, entry: UserEntry) {
        let k = name_key(&entry.record.account_id, &entry.record.user_name);
        self.dir.write().users.insert(k, entry);
    }

    /// Forgets a user.
    pub fn remove_user(&self, account: &AccountId, name: &str) {
        self.dir.write().users.remove(&name_key(account, name));
    }

    /// A user by name (any case).
    pub fn user(&self, account: &AccountId, name: &str) -> Option<UserEntry> {
        self.dir.read().users.get(&name_key(account, name)).cloned()
    }

    /// The users of an account, ordered by name case-insensitively.
    pub fn users(&self, account: &AccountId) -> Vec<UserRecord> {
        let dir = self.dir.read();
        let mut out: Vec<(&String, &UserEntry)> = dir
            .users
            .iter()
            .filter(|((a, _), _)| a == account)
            .map(|((_, n), e)| (n, e))
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out.into_iter().map(|(_, e)| e.record.clone()).collect()
    }

    /// How many users an account has.
    pub fn user_count(&self, account: &AccountId) -> usize {
        self.dir
            .read()
            .users
            .keys()
            .filter(|(a, _)| a == account)
            .count()
    }

    /// Adds or replaces a role.
    pub fn put_role(&self, entry: RoleEntry) {
        let k = name_key(&entry.record.account_id, &entry.record.role_name);
        self.dir.write().roles.insert(k, entry);
    }

    /// Forgets a role.
    pub fn remove_role(&self, account: &AccountId, name: &str) {
        self.dir.write().roles.remove(&name_key(account, name));
    }

    /// A role by name (any case).
    pub fn role(&self, account: &AccountId, name: &str) -> Option<RoleEntry> {
        self.dir.read().roles.get(&name_key(account, name)).cloned()
    }

    /// The roles of an account, ordered by name case-insensitively.
    pub fn roles(&self, account: &AccountId) -> Vec<RoleRecord> {
        let dir = self.dir.read();
        let mut out: Vec<(&String, &RoleEntry)> = dir
            .roles
            .iter()
            .filter(|((a, _), _)| a == account)
            .map(|((_, n), e)| (n, e))
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out.into_iter().map(|(_, e)| e.record.clone()).collect()
    }

    /// How many roles an account has.
    pub fn role_count(&self, account: &AccountId) -> usize {
        self.dir
            .read()
            .roles
            .keys()
            .filter(|(a, _)| a == account)
            .count()
    }

    /// How many active long-term keys are loaded.
    pub fn len(&self) -> usize {
        self.dir
            .read()
            .keys
            .values()
            .filter(|e| e.secret.is_some())
            .count()
    }

    /// Whether no active key is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The root key, which seals session tokens.
    pub fn root_key(&self) -> &RootKey {
        &self.root_key
    }

    /// The credential of a long-term key: its secret and owner, if it is active and its owner
    /// exists.
    fn lookup_key(&self, access_key_id: &str) -> Option<Credential<KeyOwner>> {
        let dir = self.dir.read();
        let entry = dir.keys.get(access_key_id)?;
        let secret = entry.secret.as_ref()?;
        let r = &entry.record;
        // `r.principal_arn == root_arn(&r.account_id)`, without formatting an ARN per request.
        let is_root = r
            .principal_arn
            .strip_prefix("arn:aws:iam::")
            .and_then(|rest| rest.strip_suffix(":root"))
            == Some(r.account_id.as_str());
        let owner = if is_root {
            KeyOwner {
                account_id: r.account_id.clone(),
                principal_arn: r.principal_arn.clone(),
                identity: dir.roots.get(&r.account_id)?.clone(),
                user_id: r.account_id.to_string(),
                kind: OwnerKind::Root,
                user_name: None,
                expiration: None,
            }
        } else {
            let name = r.principal_arn.rsplit('/').next()?;
            let user = dir.users.get(&name_key(&r.account_id, name))?;
            if user.record.arn() != r.principal_arn {
                return None;
            }
            KeyOwner {
                account_id: r.account_id.clone(),
                principal_arn: r.principal_arn.clone(),
                identity: user.identity.clone(),
                user_id: user.record.user_id.clone(),
                kind: OwnerKind::IamUser,
                user_name: Some(user.record.user_name.clone()),
                expiration: None,
            }
        };
        Some(Credential {
            secret_access_key: Zeroizing::new(secret.as_str().to_owned()),
            session_token: None,
            principal: owner,
        })
    }

    /// The credential of a session key: the token must open under the root key for exactly
    /// this access key id, and its role must still exist (with the same role id).
    fn lookup_session(&self, access_key_id: &str, token: &str) -> Option<Credential<KeyOwner>> {
        let opened = session::open(&self.root_key, access_key_id, token)?;
        let role = self.role(&opened.account_id, &opened.role_name)?;
        if role.record.role_id != opened.role_id {
            return None;
        }
        let identity = role.session_identity(&opened.session_name).ok()?;
        Some(Credential {
            secret_access_key: opened.secret,
            session_token: Some(token.to_owned()),
            principal: KeyOwner {
                account_id: opened.account_id.clone(),
                principal_arn: identity.principal.arn().to_owned(),
                user_id: format!("{}:{}", role.record.role_id, opened.session_name),
                identity: Arc::new(identity),
                kind: OwnerKind::AssumedRole,
                user_name: None,
                expiration: Some(opened.expiration),
            },
        })
    }

    /// A credential source for one request, which may carry a session token.
    pub fn for_request<'a>(&'a self, session_token: Option<&'a str>) -> RequestCredentials<'a> {
        RequestCredentials {
            creds: self,
            session_token,
        }
    }
}

/// The credentials a request may be signed with: long-term keys, and a session key when the
/// request carries its token.
pub struct RequestCredentials<'a> {
    creds: &'a Credentials,
    session_token: Option<&'a str>,
}

impl CredentialSource for RequestCredentials<'_> {
    type Principal = KeyOwner;

    fn lookup(&self, access_key_id: &str) -> Option<Credential<KeyOwner>> {
        if access_key_id.starts_with(trent_core::iam::SESSION_KEY_ID_PREFIX) {
            self.creds
                .lookup_session(access_key_id, self.session_token?)
        } else {
            self.creds.lookup_key(access_key_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trust_policy_without_resource_parses_and_one_with_resource_is_refused() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#;
        assert!(parse_trust_policy(ok).is_ok());
        let bad = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow",
            "Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Resource":"*"}}"#;
        assert_eq!(
            parse_trust_policy(bad).unwrap_err(),
            "Has prohibited field Resource"
        );
        assert!(parse_trust_policy("nope").is_err());
    }

    #[test]
    fn an_identity_policy_naming_a_principal_is_refused() {
        let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow",
            "Principal":"*","Action":"iam:*","Resource":"*"}}"#;
        assert_eq!(
            parse_identity_policy(doc).unwrap_err(),
            "Policy document should not specify a principal."
        );
    }
}
