//! The storage port. Core says what it needs stored; each backend (SQLite, later PostgreSQL)
//! owns its SQL and migrations and must pass the conformance suite in `crate::conformance` (feature `test-util`).
//!
//! Every method is one transaction: it either happens whole or not at all, and a method that
//! returned `Ok` has made its change durable.
//!
//! Every method that writes, called inside [`crate::audit_intent::scope`], also stores the
//! current [`AuditIntent`](crate::audit_intent::AuditIntent) in the same transaction (once per
//! event id), and after the commit calls its `mark_committed`. That is how no change is ever
//! committed without its audit record (ARCHITECTURE.md, "No change without its record").

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::audit_intent::StoredIntent;
use crate::error::CoreError;
use crate::grant::GrantRecord;
use crate::iam::{InlinePolicyRecord, PrincipalKind, RoleRecord, UserRecord};
use crate::model::{
    AccessKeyRecord, AccountId, AccountRecord, AliasRecord, KeyAddr, KeyId, KeyLastUsage,
    KeyMaterialId, KeyMaterialRecord, KeyRecord,
};

/// Which stored secret a [`WrappedSecret`] is; names it for [`Store::rewrap_secret`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WrappedSecretId {
    /// One version of a KMS key's material.
    KeyMaterial {
        /// The key (Region and id).
        key: KeyAddr,
        /// The version.
        key_material_id: KeyMaterialId,
    },
    /// An access key's secret access key.
    AccessKey {
        /// The access key id.
        access_key_id: String,
    },
}

/// A secret as stored, wrapped by the root key, with what its wrapping AAD names, so root key
/// rotation (ARCHITECTURE.md §3) can unwrap and re-wrap it without knowing what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedSecret {
    /// Which secret.
    pub id: WrappedSecretId,
    /// For key material, the key's ARN (part of its AAD); `None` for an access key.
    pub key_arn: Option<String>,
    /// The wrapped bytes as stored.
    pub wrapped: Vec<u8>,
}

/// Why a store operation failed.
#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    /// A unique name (alias, account, access key id, key id) is taken.
    #[error("already exists")]
    AlreadyExists,
    /// The row to change does not exist.
    #[error("not found")]
    NotFound,
    /// The update closure of [`Store::update_key`] refused the change; nothing was written.
    #[error("update rejected: {0}")]
    Rejected(Box<CoreError>),
    /// The row cannot be deleted while others depend on it (a user's access keys or inline
    /// policies, a role's inline policies); the text names what remains, e.g. `access keys`.
    #[error("conflict: {0} remain")]
    Conflict(&'static str),
    /// The backend failed (I/O, corruption, lost connection). The message names no secret.
    #[error("storage backend failure: {0}")]
    Backend(String),
}

/// A change to one key, applied inside a transaction to the latest stored record.
/// Returning an error aborts the transaction.
pub type KeyUpdate = Box<dyn FnOnce(&mut KeyRecord) -> Result<(), CoreError> + Send>;

/// A key's imported-material bookkeeping (ARCHITECTURE.md §3.1): core's serialized
/// document (parameter sets with their wrapped wrapping keys, and each imported version's
/// state, expiration and description), opaque to the store, and the earliest time at which
/// something in it expires, which [`Store::due_imports`] finds.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRecord {
    /// The key (Region and id).
    pub key: KeyAddr,
    /// Core's document.
    pub document: Vec<u8>,
    /// The earliest expiry in it (material ValidTo or ParametersValidTo), if any.
    pub next_expiry: Option<OffsetDateTime>,
}

/// One change of imported material, in one transaction: the key update, the material added
/// (or replaced: a reimport of the same version), the versions erased, and the new
/// bookkeeping.
pub struct ImportChange {
    /// Applied to the key as [`Store::update_key`] does; a refusal changes nothing.
    pub update: KeyUpdate,
    /// Material to store (insert, or replace the version with the same id).
    pub put_material: Option<KeyMaterialRecord>,
    /// Versions to erase (crypto-shredded as `destroy_key` does).
    pub delete_materials: Vec<KeyMaterialId>,
    /// The bookkeeping as it is after the change.
    pub record: ImportRecord,
}

/// Durable storage of everything Trent knows.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- accounts and access keys ----
    /// Creates an account together with its first access key. `AlreadyExists` if the account does.
    async fn create_account(
        &self,
        account: AccountRecord,
        first_access_key: AccessKeyRecord,
    ) -> Result<(), StoreError>;
    /// Every account, ordered by account id.
    async fn list_accounts(&self) -> Result<Vec<AccountRecord>, StoreError>;
    /// Inserts or replaces an access key (by access key id).
    async fn put_access_key(&self, key: AccessKeyRecord) -> Result<(), StoreError>;
    /// Every access key, ordered by access key id.
    async fn list_access_keys(&self) -> Result<Vec<AccessKeyRecord>, StoreError>;
    /// A number that changes whenever an account, access key, user, role or inline policy
    /// changes, whoever changes it (also another process on the same storage): a server
    /// compares it to know when to reload its directory of principals.
    async fn directory_version(&self) -> Result<u64, StoreError>;
    /// Deletes an access key. `NotFound` if there is none with this id.
    async fn delete_access_key(&self, access_key_id: &str) -> Result<(), StoreError>;

    // ---- IAM users and roles ----
    // Names are unique per account compared ASCII-case-insensitively (IAM's rule); lookups by
    // name are case-insensitive too. Lists are ordered by account id, then name
    // case-insensitively.
    /// Creates a user. `AlreadyExists` if the account has a user of that name (in any case)
    /// or the user id is taken; `NotFound` if the account does not exist.
    async fn create_user(&self, user: UserRecord) -> Result<(), StoreError>;
    /// Replaces the user of that account and name (path, tags; the id and name stay).
    /// `NotFound` if there is none.
    async fn update_user(&self, user: UserRecord) -> Result<(), StoreError>;
    /// Deletes a user. `NotFound` if there is none; `Conflict("access keys")` while access
    /// keys of the user exist, `Conflict("policies")` while inline policies do.
    async fn delete_user(&self, account: &AccountId, user_name: &str) -> Result<(), StoreError>;
    /// Every user of every account.
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError>;
    /// Creates a role. `AlreadyExists` if the account has a role of that name (in any case)
    /// or the role id is taken; `NotFound` if the account does not exist.
    async fn create_role(&self, role: RoleRecord) -> Result<(), StoreError>;
    /// Replaces the role of that account and name. `NotFound` if there is none.
    async fn update_role(&self, role: RoleRecord) -> Result<(), StoreError>;
    /// Deletes a role. `NotFound` if there is none; `Conflict("policies")` while inline
    /// policies of the role exist.
    async fn delete_role(&self, account: &AccountId, role_name: &str) -> Result<(), StoreError>;
    /// Every role of every account.
    async fn list_roles(&self) -> Result<Vec<RoleRecord>, StoreError>;
    /// Inserts or replaces an inline policy (by account, principal and policy name; policy
    /// names compare exactly). `NotFound` if the user or role does not exist.
    async fn put_inline_policy(&self, policy: InlinePolicyRecord) -> Result<(), StoreError>;
    /// Deletes an inline policy. `NotFound` if there is none.
    async fn delete_inline_policy(
        &self,
        account: &AccountId,
        kind: PrincipalKind,
        principal_name: &str,
        policy_name: &str,
    ) -> Result<(), StoreError>;
    /// Every inline policy, ordered by account id, principal kind (users first), principal
    /// name case-insensitively, then policy name.
    async fn list_inline_policies(&self) -> Result<Vec<InlinePolicyRecord>, StoreError>;

    // ---- keys ----
    // Keys are addressed by (Region, key id) ([`KeyAddr`]): multi-Region keys share one key id
    // across Regions (ARCHITECTURE.md §10).
    /// Stores a new key and its first material. `AlreadyExists` if the key id is taken in
    /// the key's Region.
    async fn create_key(
        &self,
        key: KeyRecord,
        material: KeyMaterialRecord,
    ) -> Result<(), StoreError>;
    /// The key with this id in this Region, in any account.
    async fn get_key(&self, key: KeyAddr) -> Result<Option<KeyRecord>, StoreError>;
    /// The keys with this id in every Region (a multi-Region key's related keys), destroyed
    /// ones included, ordered by Region.
    async fn related_keys(&self, key_id: KeyId) -> Result<Vec<KeyRecord>, StoreError>;
    /// Stores a replica of a multi-Region key: its record and every version of its material
    /// (each wrapped for the replica), in one transaction. `AlreadyExists` if the key id is
    /// taken in the replica's Region.
    async fn create_replica(
        &self,
        key: KeyRecord,
        materials: Vec<KeyMaterialRecord>,
    ) -> Result<(), StoreError>;
    /// UpdatePrimaryRegion: in one transaction, makes `new_primary` the primary Region of every
    /// live key with this multi-Region id (bumping each `version`) and moves the automatic
    /// rotation schedule (`next_rotation_date`) from the key in `old_primary` to the one in
    /// `new_primary`. Returns the related keys as stored, by Region. `NotFound` if either
    /// Region has no live key with this id.
    async fn set_primary_region(
        &self,
        key_id: KeyId,
        old_primary: &str,
        new_primary: &str,
    ) -> Result<Vec<KeyRecord>, StoreError>;
    /// Keys of one account and Region ordered by key id, starting after `after`, at most
    /// `limit`. Destroyed keys (`deleted_date` set) are not listed.
    async fn list_keys(
        &self,
        account: &AccountId,
        region: &str,
        after: Option<KeyId>,
        limit: usize,
    ) -> Result<Vec<KeyRecord>, StoreError>;
    /// Reads the key, applies `update`, increments `version` and writes it back, in one
    /// transaction. Returns the record as stored. `NotFound` if there is no such key;
    /// `Rejected` if the closure refused.
    async fn update_key(&self, key: KeyAddr, update: KeyUpdate) -> Result<KeyRecord, StoreError>;
    /// Adds a new version of a key's material (rotation, import).
    async fn add_key_material(&self, material: KeyMaterialRecord) -> Result<(), StoreError>;
    /// Every version of a key's material, oldest first.
    async fn get_key_materials(&self, key: KeyAddr) -> Result<Vec<KeyMaterialRecord>, StoreError>;
    /// Rotation: applies `update` to the key (incrementing `version`) and adds `material`, in
    /// one transaction. A rejecting closure adds nothing (so a job that crashed or ran twice
    /// never rotates twice).
    async fn rotate_key(
        &self,
        key: KeyAddr,
        material: KeyMaterialRecord,
        update: KeyUpdate,
    ) -> Result<KeyRecord, StoreError>;
    /// Destruction at the end of a deletion window: applies `update` (which sets
    /// `deleted_date`), erases every version of the key's material and every alias that points
    /// at it, in one transaction, and leaves no copy of the erased material in the store's
    /// files (crypto-shredding). A rejecting closure changes nothing.
    async fn destroy_key(&self, key: KeyAddr, update: KeyUpdate) -> Result<KeyRecord, StoreError>;
    /// Keys of every account (not destroyed) with a `next_rotation_date` at or before `now`,
    /// or in `PendingDeletion` with a `deletion_date` at or before `now`; ordered by Region,
    /// then key id.
    async fn due_keys(&self, now: OffsetDateTime) -> Result<Vec<KeyAddr>, StoreError>;

    // ---- imported key material (issue 16, ARCHITECTURE.md §3.1) ----
    /// Stores a new key that has no material yet (Origin EXTERNAL, PendingImport) with its
    /// import bookkeeping. `AlreadyExists` if the key id is taken in the key's Region.
    async fn create_key_without_material(
        &self,
        key: KeyRecord,
        import: ImportRecord,
    ) -> Result<(), StoreError>;
    /// The import bookkeeping of a key, if it has any.
    async fn get_import_record(&self, key: KeyAddr) -> Result<Option<ImportRecord>, StoreError>;
    /// Applies an [`ImportChange`] in one transaction and returns the key as stored.
    /// `NotFound` if there is no such key; `Rejected` if the update refused.
    async fn apply_import_change(
        &self,
        key: KeyAddr,
        change: ImportChange,
    ) -> Result<KeyRecord, StoreError>;
    /// Keys (not destroyed) whose import bookkeeping expires at or before `now`, by Region,
    /// then key id.
    async fn due_imports(&self, now: OffsetDateTime) -> Result<Vec<KeyAddr>, StoreError>;

    // ---- key usage ----
    /// Records the latest use of each key given (replacing an older one; never an older
    /// timestamp over a newer one).
    async fn put_key_last_usage(&self, usages: Vec<KeyLastUsage>) -> Result<(), StoreError>;
    /// The latest recorded use of a key.
    async fn get_key_last_usage(&self, key: KeyAddr) -> Result<Option<KeyLastUsage>, StoreError>;

    // ---- aliases ----
    /// `AlreadyExists` if an alias of that name exists in the account and Region.
    async fn create_alias(&self, alias: AliasRecord) -> Result<(), StoreError>;
    /// Points an existing alias at another key. `NotFound` if the alias does not exist.
    async fn update_alias(
        &self,
        account: &AccountId,
        region: &str,
        alias_name: &str,
        target_key_id: KeyId,
        now: OffsetDateTime,
    ) -> Result<AliasRecord, StoreError>;
    /// `NotFound` if the alias does not exist.
    async fn delete_alias(
        &self,
        account: &AccountId,
        region: &str,
        alias_name: &str,
    ) -> Result<(), StoreError>;
    /// One alias by name.
    async fn get_alias(
        &self,
        account: &AccountId,
        region: &str,
        alias_name: &str,
    ) -> Result<Option<AliasRecord>, StoreError>;
    /// Every alias of an account and Region, ordered by alias name.
    async fn list_aliases(
        &self,
        account: &AccountId,
        region: &str,
    ) -> Result<Vec<AliasRecord>, StoreError>;

    // ---- grants ----
    /// Stores a new grant. `AlreadyExists` if the grant id is taken; `NotFound` if the key
    /// (its Region and id) does not exist.
    async fn create_grant(&self, grant: GrantRecord) -> Result<(), StoreError>;
    /// Every grant on a key, oldest first (by creation date, then grant id).
    async fn list_grants(&self, key: KeyAddr) -> Result<Vec<GrantRecord>, StoreError>;
    /// Every grant (on any key) whose retiring principal is `principal`, ordered by key id,
    /// then Region, then creation date, then grant id.
    async fn list_grants_by_retiring_principal(
        &self,
        principal: &str,
    ) -> Result<Vec<GrantRecord>, StoreError>;
    /// Deletes a grant (retire or revoke). `NotFound` if the key has no such grant.
    async fn delete_grant(&self, key: KeyAddr, grant_id: &str) -> Result<(), StoreError>;

    // ---- root key rotation ----
    /// Every wrapped secret: each version of the material of every key not destroyed (ordered
    /// by key id, then Region, then oldest first), then every access key's secret (by access key id).
    async fn list_wrapped_secrets(&self) -> Result<Vec<WrappedSecret>, StoreError>;
    /// Replaces one wrapped secret by `new` if it still is `expected` (compare and swap, so a
    /// concurrent change is never overwritten). `NotFound` if the secret is gone or differs.
    async fn rewrap_secret(
        &self,
        id: WrappedSecretId,
        expected: Vec<u8>,
        new: Vec<u8>,
    ) -> Result<(), StoreError>;

    // ---- audit intents ----
    /// Every stored intent, oldest first.
    async fn audit_intents(&self) -> Result<Vec<StoredIntent>, StoreError>;
    /// Replaces an intent's record by the request's complete record (its audit log write
    /// failed after its change committed) and marks it complete. `NotFound` if there is none.
    async fn complete_audit_intent(
        &self,
        event_id: &str,
        record: Vec<u8>,
    ) -> Result<(), StoreError>;
    /// Deletes these intents (their records are durable in the audit log); unknown ids are
    /// ignored.
    async fn forget_audit_intents(&self, event_ids: Vec<String>) -> Result<(), StoreError>;
}
