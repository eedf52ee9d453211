//! The IAM domain's state: [`Iam`] holds the ports it writes through (the store, the root key,
//! the clock) and an in-memory directory of access keys, users and roles, a cache of the store
//! loaded at start, so that authentication never reads the database.
//!
//! IAM operations change the store first and then the directory (under the IAM write lock),
//! so a change takes effect for the next request. Temporary credentials (AssumeRole) are not
//! stored at all: the session token is the session ([`super::session`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;
use time::OffsetDateTime;
use trent_crypto::root::{access_key_secret_wrapping_aad, RootKey};
use zeroize::Zeroizing;

use super::error::IamError;
use super::principal::{Entry, PrincipalEntry, PrincipalRecord};
use super::{session, PrincipalKind, RoleRecord, SESSION_KEY_ID_PREFIX};
use crate::caller::Identity;
use crate::clock::SharedClock;
use crate::kms::Kms;
use crate::model::{AccessKeyRecord, AccessKeyStatus, AccountId};
use crate::store::Store;

/// What kind of principal signed a request (CloudTrail's `userIdentity.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerKind {
    /// The account root.
    Root,
    /// An IAM user.
    IamUser,
    /// A session of a role (AssumeRole).
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

/// Who an access key belongs to: the principal a request signed with it acts as.
#[derive(Clone, Debug)]
pub struct KeyOwner {
    /// The principal's account.
    pub account_id: AccountId,
    /// The principal's ARN.
    pub principal_arn: String,
    /// The principal as policies see it; shared by the requests of the principal.
    pub identity: Arc<Identity>,
    /// `aws:userid`: the account id for the root, `AIDA…` for a user, `AROA…:SESSION` for a
    /// role session (GetCallerIdentity's `UserId`, CloudTrail's `principalId`).
    pub user_id: String,
    /// What kind of principal it is.
    pub kind: OwnerKind,
    /// For a user, its name (GetUser and access-key operations without `UserName`).
    pub user_name: Option<String>,
    /// For temporary credentials, when they expire.
    pub expiration: Option<OffsetDateTime>,
}

impl KeyOwner {
    /// The account root of `account` (also the dev mode's caller).
    pub fn account_root(account: &AccountId, identity: Arc<Identity>) -> KeyOwner {
        KeyOwner {
            account_id: account.clone(),
            principal_arn: super::root_arn(account),
            identity,
            user_id: account.to_string(),
            kind: OwnerKind::Root,
            user_name: None,
            expiration: None,
        }
    }
}

/// One long-term access key: its record, and its secret while it is active.
struct KeyEntry {
    record: AccessKeyRecord,
    secret: Option<Arc<Zeroizing<String>>>,
}

/// A principal's key in the directory: account, kind and name in lower case (IAM compares
/// names case-insensitively).
type NameKey = (AccountId, PrincipalKind, String);

fn name_key(account: &AccountId, kind: PrincipalKind, name: &str) -> NameKey {
    (account.clone(), kind, name.to_ascii_lowercase())
}

#[derive(Default)]
struct Directory {
    keys: HashMap<String, KeyEntry>,
    principals: HashMap<NameKey, PrincipalEntry>,
    roots: HashMap<AccountId, Arc<Identity>>,
}

/// The IAM/STS domain: users, roles, access keys, inline policies, tags and sessions (the
/// operations are in [`super::ops`] and [`super::sts`]).
pub struct Iam {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) root_key: Arc<RootKey>,
    clock: SharedClock,
    dir: RwLock<Directory>,
    /// Held by every IAM mutation across its store write and directory update, so the
    /// directory changes in the order the store did.
    pub(crate) write_lock: tokio::sync::Mutex<()>,
    /// The store's directory version read before the directory was (re)loaded: a different
    /// version now means something (maybe another process) changed it since.
    loaded_version: AtomicU64,
}

impl Iam {
    /// Loads every account, access key, user, role and inline policy from the KMS's store.
    pub async fn load(kms: &Kms) -> Result<Iam, IamError> {
        let (version, dir) = read_directory(kms.store.as_ref(), &kms.root_key).await?;
        Ok(Iam {
            store: kms.store.clone(),
            root_key: kms.root_key.clone(),
            clock: kms.clock.clone(),
            dir: RwLock::new(dir),
            write_lock: tokio::sync::Mutex::new(()),
            loaded_version: AtomicU64::new(version),
        })
    }

    /// Reloads the directory from the store if its version moved since the last load: how a
    /// running server learns of accounts and keys created or revoked by `trent admin` (another
    /// process). Answers whether it reloaded. Holds the IAM write lock, so no IAM change made
    /// through this server is lost between reading the store and swapping the directory.
    pub async fn reload_if_changed(&self) -> Result<bool, IamError> {
        let now = self.store.directory_version().await?;
        if now == self.loaded_version.load(Ordering::Acquire) {
            return Ok(false);
        }
        let _writing = self.write_lock.lock().await;
        let (version, dir) = read_directory(self.store.as_ref(), &self.root_key).await?;
        *self.dir.write() = dir;
        self.loaded_version.store(version, Ordering::Release);
        Ok(true)
    }

    /// Now, by the injected clock, to the millisecond (as [`Kms::now`]).
    pub fn now(&self) -> OffsetDateTime {
        let t = self.clock.now();
        t.replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(t)
    }

    /// Makes an account known (its root identity).
    pub fn add_account(&self, account: &AccountId) {
        self.dir.write().add_account(account);
    }

    /// The principal of kind `P` named `name` (any case).
    pub fn principal<P: PrincipalRecord>(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Option<Entry<P>> {
        self.dir
            .read()
            .principals
            .get(&name_key(account, P::KIND, name))
            .and_then(P::entry_of)
            .cloned()
    }

    /// The principals of kind `P` in an account, ordered by name case-insensitively.
    pub fn principals<P: PrincipalRecord>(&self, account: &AccountId) -> Vec<P> {
        let dir = self.dir.read();
        let mut out: Vec<(&String, &Entry<P>)> = dir
            .principals
            .iter()
            .filter(|((a, kind, _), _)| a == account && *kind == P::KIND)
            .filter_map(|((_, _, n), e)| Some((n, P::entry_of(e)?)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out.into_iter().map(|(_, e)| e.record.clone()).collect()
    }

    /// How many principals of kind `P` an account has.
    pub(crate) fn count<P: PrincipalRecord>(&self, account: &AccountId) -> usize {
        self.dir
            .read()
            .principals
            .keys()
            .filter(|(a, kind, _)| a == account && *kind == P::KIND)
            .count()
    }

    /// Adds or replaces a principal.
    pub(crate) fn put<P: PrincipalRecord>(&self, entry: Entry<P>) {
        self.dir.write().put(entry);
    }

    /// Forgets a principal.
    pub(crate) fn remove<P: PrincipalRecord>(&self, account: &AccountId, name: &str) {
        self.dir
            .write()
            .principals
            .remove(&name_key(account, P::KIND, name));
    }

    /// Adds or replaces one access key (active or not) in the directory: a key the store
    /// already holds (IAM operations add theirs themselves; an account created beside the
    /// server adds its first key this way).
    pub fn insert(&self, r: &AccessKeyRecord) -> Result<(), IamError> {
        let entry = key_entry(&self.root_key, r)?;
        self.dir.write().keys.insert(r.access_key_id.clone(), entry);
        Ok(())
    }

    /// Forgets an access key.
    pub(crate) fn remove_key(&self, access_key_id: &str) {
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

    /// How many active long-term keys are loaded.
    pub fn active_keys(&self) -> usize {
        self.dir
            .read()
            .keys
            .values()
            .filter(|e| e.secret.is_some())
            .count()
    }

    /// The secret and owner of an access key a request names: a long-term key (active, its
    /// owner existing), or a session key (`ASIA…`) whose `session_token` opens under the root
    /// key for exactly this id and whose role still exists with the same role id.
    pub fn lookup(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
    ) -> Option<(Zeroizing<String>, KeyOwner)> {
        if access_key_id.starts_with(SESSION_KEY_ID_PREFIX) {
            self.lookup_session(access_key_id, session_token?)
        } else {
            self.lookup_key(access_key_id)
        }
    }

    fn lookup_key(&self, access_key_id: &str) -> Option<(Zeroizing<String>, KeyOwner)> {
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
            let user = dir
                .principals
                .get(&name_key(&r.account_id, PrincipalKind::User, name))
                .and_then(super::UserRecord::entry_of)?;
            if user.record.arn() != r.principal_arn {
                return None;
            }
            KeyOwner {
                account_id: r.account_id.clone(),
                principal_arn: r.principal_arn.clone(),
                identity: user.derived.clone(),
                user_id: user.record.user_id.clone(),
                kind: OwnerKind::IamUser,
                user_name: Some(user.record.user_name.clone()),
                expiration: None,
            }
        };
        Some((Zeroizing::new(secret.as_str().to_owned()), owner))
    }

    fn lookup_session(
        &self,
        access_key_id: &str,
        token: &str,
    ) -> Option<(Zeroizing<String>, KeyOwner)> {
        let opened = session::open(&self.root_key, access_key_id, token)?;
        let role = self.principal::<RoleRecord>(&opened.account_id, &opened.role_name)?;
        if role.record.role_id != opened.role_id {
            return None;
        }
        let identity = role.session_identity(&opened.session_name).ok()?;
        Some((
            opened.secret,
            KeyOwner {
                account_id: opened.account_id.clone(),
                principal_arn: identity.principal.arn().to_owned(),
                user_id: format!("{}:{}", role.record.role_id, opened.session_name),
                identity: Arc::new(identity),
                kind: OwnerKind::AssumedRole,
                user_name: None,
                expiration: Some(opened.expiration),
            },
        ))
    }
}

impl Directory {
    fn add_account(&mut self, account: &AccountId) {
        self.roots
            .insert(account.clone(), Arc::new(Identity::account_root(account)));
    }

    fn put<P: PrincipalRecord>(&mut self, entry: Entry<P>) {
        let k = name_key(entry.record.account_id(), P::KIND, entry.record.name());
        self.principals.insert(k, P::into_entry(entry));
    }

    /// Adds the entries of one kind, each with its inline policies from `policies`.
    fn put_all<P: PrincipalRecord>(
        &mut self,
        records: Vec<P>,
        policies: &mut HashMap<NameKey, BTreeMap<String, String>>,
    ) -> Result<(), IamError> {
        for record in records {
            let own = policies
                .remove(&name_key(record.account_id(), P::KIND, record.name()))
                .unwrap_or_default();
            self.put(Entry::new(record, own)?);
        }
        Ok(())
    }
}

/// A key's directory entry: its secret unwrapped while it is active.
fn key_entry(root_key: &RootKey, r: &AccessKeyRecord) -> Result<KeyEntry, IamError> {
    let secret = if r.status == AccessKeyStatus::Active {
        let secret = root_key
            .unwrap(
                &access_key_secret_wrapping_aad(&r.access_key_id),
                &r.wrapped_secret,
            )
            .map_err(|_| {
                IamError::Internal(format!(
                    "the secret of access key {} does not unwrap",
                    r.access_key_id
                ))
            })?;
        let text = String::from_utf8(secret.as_bytes().to_vec()).map_err(|_| {
            IamError::Internal(format!(
                "the secret of access key {} is not text",
                r.access_key_id
            ))
        })?;
        Some(Arc::new(Zeroizing::new(text)))
    } else {
        None
    };
    Ok(KeyEntry {
        record: r.clone(),
        secret,
    })
}

/// Reads the whole directory and the version it was read at (read first: a change made while
/// loading shows as a newer version, and reloads).
async fn read_directory(
    store: &dyn Store,
    root_key: &RootKey,
) -> Result<(u64, Directory), IamError> {
    let version = store.directory_version().await?;
    let mut dir = Directory::default();
    let mut policies: HashMap<NameKey, BTreeMap<String, String>> = HashMap::new();
    for p in store.list_inline_policies().await? {
        policies
            .entry(name_key(&p.account_id, p.principal_kind, &p.principal_name))
            .or_default()
            .insert(p.policy_name, p.policy_document);
    }
    for account in store.list_accounts().await? {
        dir.add_account(&account.account_id);
    }
    dir.put_all(store.list_users().await?, &mut policies)?;
    dir.put_all(store.list_roles().await?, &mut policies)?;
    for r in store.list_access_keys().await? {
        let entry = key_entry(root_key, &r)?;
        dir.keys.insert(r.access_key_id.clone(), entry);
    }
    Ok((version, dir))
}
