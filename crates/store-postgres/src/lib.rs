#![forbid(unsafe_code)]
//! The PostgreSQL store: the same [`Store`] as `trent-store-sqlite`, on a PostgreSQL server
//! (ARCHITECTURE.md §6.1), so several Trent nodes can share one database.
//!
//! - A pool of `tokio-postgres` connections (`deadpool-postgres`); every statement is a cached
//!   prepared statement with bound parameters, never SQL built from input. Connecting is bounded
//!   ([`PostgresOptions::connect_timeout`]): a database that is down or silent is a
//!   [`StoreError::Backend`], not a hang.
//! - Every method is one `READ COMMITTED` transaction. Read-modify-write methods lock what they
//!   read (`SELECT … FOR UPDATE` on the key row; `FOR SHARE` on a row that must stay), so
//!   concurrent nodes serialise on the row exactly where SQLite serialises on its one writer.
//!   Every commit is durable before the method returns (the server's `synchronous_commit`).
//! - The schema is versioned (`migrations/`, version in `trent_schema`) and migrated at connect
//!   under a transaction-scoped advisory lock, so nodes starting together migrate once.
//! - Timestamps are Unix milliseconds (BIGINT): sub-millisecond parts are truncated, and records
//!   the store returns are truncated alike. Text the store orders by is `COLLATE "C"` (bytewise).
//! - The SQL of each [`Store`] method is in that method's body (or in the one helper it names).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{
    Client, GenericClient, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime,
    Transaction,
};
use time::OffsetDateTime;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};
use trent_core::audit_intent::{AuditIntent, StoredIntent};
use trent_core::grant::GrantRecord;
use trent_core::iam::{InlinePolicyRecord, PrincipalKind, RoleRecord, UserRecord};
use trent_core::model::{
    AccessKeyRecord, AccountId, AccountRecord, AliasRecord, KeyAddr, KeyId, KeyLastUsage,
    KeyMaterialRecord, KeyRecord,
};
use trent_core::store::{
    ImportChange, ImportRecord, KeyUpdate, Store, StoreError, WrappedSecret, WrappedSecretId,
};

mod imports;
mod migrate;
mod rows;
#[cfg(feature = "test-util")]
pub mod test_util;

use rows::{
    access_key_from_row, account_from_row, alias_from_row, constraints_to_json, days_to_sql, fold,
    from_ms, grant_from_row, inline_policy_from_row, key_addr_from_row, key_from_row,
    last_usage_from_row, material_from_row, operations_to_json, opt_ms, role_from_row,
    status_to_sql, tags_to_json, to_ms, truncate, user_from_row, version_to_sql,
    wrapped_access_key_from_row, wrapped_material_from_row, ACCESS_KEY_COLUMNS, ALIAS_COLUMNS,
    GRANT_COLUMNS, INLINE_POLICY_COLUMNS, KEY_COLUMNS, LAST_USAGE_COLUMNS, MATERIAL_COLUMNS,
    ROLE_COLUMNS, USER_COLUMNS,
};

/// The schema version this code creates and understands. A database with a higher version is
/// refused at connect.
pub const SCHEMA_VERSION: u32 = migrate::MIGRATIONS.len() as u32;

/// The key of the transaction-scoped advisory lock (`pg_advisory_xact_lock`) every node holds
/// while it migrates the schema, so nodes starting together migrate one after the other.
pub const MIGRATION_LOCK_KEY: i64 = migrate::MIGRATION_LOCK;

/// How [`PostgresStore::connect_with`] connects.
#[derive(Clone, Debug)]
pub struct PostgresOptions {
    /// Connections the pool keeps open at most (each node's share of the server's
    /// `max_connections`).
    pub max_connections: usize,
    /// How long opening one connection may take, TCP connect, startup and authentication
    /// together (and the TCP connect alone, per host of a multi-host URL, unless the URL sets
    /// `connect_timeout`).
    pub connect_timeout: Duration,
    /// How long a call waits for a free connection when all are busy.
    pub acquire_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The PostgreSQL implementation of [`Store`]. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl fmt::Debug for PostgresStore {
    // The pool's configuration holds the connection settings (a password among them): not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PostgresStore")
            .field("connections", &status.size)
            .field("max_connections", &status.max_size)
            .finish()
    }
}

/// An error's SQLSTATE and message, without the detail lines (which can quote row values).
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// Maps a PostgreSQL error: unique and primary-key violations are `AlreadyExists`, foreign-key
/// violations (the referenced account or key is missing) are `NotFound`, the rest `Backend`
/// with the SQLSTATE and the server's message (which names constraints, never bound values).
pub(crate) fn pg(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(code) if *code == SqlState::UNIQUE_VIOLATION => StoreError::AlreadyExists,
        Some(code) if *code == SqlState::FOREIGN_KEY_VIOLATION => StoreError::NotFound,
        _ => StoreError::Backend(format!("postgres: {}", describe(&e))),
    }
}

/// Maps a failure to get a connection from the pool.
fn pool_error(e: PoolError) -> StoreError {
    use deadpool_postgres::TimeoutType;
    match e {
        PoolError::Backend(e) => pg(e),
        PoolError::Timeout(TimeoutType::Create) => {
            StoreError::Backend("postgres: timed out connecting to the database".into())
        }
        PoolError::Timeout(TimeoutType::Wait) => {
            StoreError::Backend("postgres: timed out waiting for a free connection".into())
        }
        PoolError::Timeout(TimeoutType::Recycle) => {
            StoreError::Backend("postgres: timed out checking a pooled connection".into())
        }
        other => StoreError::Backend(format!("postgres: connection pool: {other}")),
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (a `postgres://…` URL or a `key=value` string, as
    /// libpq takes them) with [`PostgresOptions::default`] and migrates its schema.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_with(url, PostgresOptions::default()).await
    }

    /// Connects with explicit options and migrates the schema (once, whatever the number of
    /// nodes connecting at the same time). The connection is plain TCP (no TLS yet).
    pub async fn connect_with(
        url: &str,
        options: PostgresOptions,
    ) -> Result<PostgresStore, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("postgres: invalid database URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(options.connect_timeout))
            .wait_timeout(Some(options.acquire_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| StoreError::Backend(format!("postgres: connection pool: {e}")))?;
        let store = PostgresStore { pool };
        let mut client = store.client().await?;
        let version = migrate::migrate(&mut client, migrate::MIGRATIONS).await?;
        tracing::debug!(version, "connected to PostgreSQL store");
        Ok(store)
    }

    /// A connection from the pool.
    async fn client(&self) -> Result<Client, StoreError> {
        self.pool.get().await.map_err(pool_error)
    }
}

/// Starts a write transaction (`READ COMMITTED`; the methods lock the rows they depend on).
async fn begin(client: &mut Client) -> Result<Transaction<'_>, StoreError> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await
        .map_err(pg)
}

/// Commits a write transaction with the request's audit intent, if there is one
/// ([`trent_core::audit_intent::current`]), stored in it; marks the intent committed after the
/// commit. Dropping a transaction instead rolls it back.
async fn commit(tx: Transaction<'_>) -> Result<(), StoreError> {
    let intent = trent_core::audit_intent::current();
    if let Some(intent) = &intent {
        insert_intent(&tx, intent).await?;
    }
    tx.commit().await.map_err(pg)?;
    if let Some(intent) = intent {
        intent.mark_committed();
    }
    Ok(())
}

/// Stores a request's audit intent (once: a request that writes twice stores it once).
async fn insert_intent(tx: &Transaction<'_>, intent: &AuditIntent) -> Result<(), StoreError> {
    let created = to_ms(intent.created()).unwrap_or(0);
    exec(
        tx,
        "INSERT INTO audit_intents (event_id, created_ms, complete, record) \
         VALUES ($1, $2, FALSE, $3) ON CONFLICT (event_id) DO NOTHING",
        &[&intent.event_id(), &created, &intent.record()],
    )
    .await?;
    Ok(())
}

/// Runs a statement (prepared once per connection) and returns the number of rows it changed.
async fn exec<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    c.execute(&stmt, params).await.map_err(pg)
}

/// Runs a query and converts every row.
async fn query_all<C: GenericClient, T>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    convert: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    let rows = c.query(&stmt, params).await.map_err(pg)?;
    rows.iter().map(convert).collect()
}

/// Runs a query expected to return at most one row.
async fn query_opt<C: GenericClient, T>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    convert: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    let row = c.query_opt(&stmt, params).await.map_err(pg)?;
    row.as_ref().map(convert).transpose()
}

/// `Ok` if a statement changed exactly one row, else `NotFound`.
fn one_row(changed: u64) -> Result<(), StoreError> {
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Bumps the principal directory's version, in the transaction of the change (SQLite's
/// triggers of its migration 5 do the same there).
async fn bump_directory_version(tx: &Transaction<'_>) -> Result<(), StoreError> {
    exec(
        tx,
        "UPDATE directory_version SET version = version + 1 WHERE id = 1",
        &[],
    )
    .await?;
    Ok(())
}

async fn has_inline_policies(
    tx: &Transaction<'_>,
    account: &AccountId,
    kind: PrincipalKind,
    name: &str,
) -> Result<bool, StoreError> {
    let found = query_opt(
        tx,
        "SELECT 1 FROM iam_inline_policies \
         WHERE account_id = $1 AND principal_kind = $2 AND principal_name_folded = $3 LIMIT 1",
        &[&account.as_str(), &kind.as_str(), &fold(name)],
        |_| Ok(()),
    )
    .await?;
    Ok(found.is_some())
}

/// Writes every column of a key record, in [`KEY_COLUMNS`] order as $1 … $19, with `sql`.
async fn write_key_row(tx: &Transaction<'_>, sql: &str, k: &KeyRecord) -> Result<u64, StoreError> {
    let key_id = k.key_id.to_string();
    let creation_ms = to_ms(k.creation_date)?;
    let deletion_ms = opt_ms(k.deletion_date)?;
    let tags = tags_to_json(&k.tags)?;
    let material_id: &[u8] = &k.current_key_material_id.0;
    let version = version_to_sql(k.version)?;
    let rotation_period = days_to_sql(k.rotation_period_days);
    let next_rotation_ms = opt_ms(k.next_rotation_date)?;
    let pending_window = days_to_sql(k.pending_window_days);
    let deleted_ms = opt_ms(k.deleted_date)?;
    exec(
        tx,
        sql,
        &[
            &key_id,
            &k.account_id.as_str(),
            &k.region,
            &k.description,
            &k.key_state.as_str(),
            &k.key_spec.as_str(),
            &k.key_usage.as_str(),
            &k.origin.as_str(),
            &creation_ms,
            &deletion_ms,
            &k.policy,
            &tags,
            &material_id,
            &k.multi_region,
            &version,
            &rotation_period,
            &next_rotation_ms,
            &pending_window,
            &deleted_ms,
            &k.primary_region,
        ],
    )
    .await
}

async fn insert_material(tx: &Transaction<'_>, m: &KeyMaterialRecord) -> Result<(), StoreError> {
    let created = to_ms(m.created)?;
    let material_id: &[u8] = &m.key_material_id.0;
    exec(
        tx,
        &format!("INSERT INTO key_materials ({MATERIAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
        &[
            &m.key_id.to_string(),
            &material_id,
            &m.wrapped,
            &created,
            &m.rotation_type.map(|t| t.as_str()),
            &m.region,
        ],
    )
    .await?;
    Ok(())
}

/// Inserts an access key; with `upsert`, replaces the one of the same id.
async fn insert_access_key(
    tx: &Transaction<'_>,
    k: &AccessKeyRecord,
    upsert: bool,
) -> Result<(), StoreError> {
    const INSERT: &str = "INSERT INTO access_keys (access_key_id, account_id, principal_arn, \
         wrapped_secret, status, created_ms) VALUES ($1, $2, $3, $4, $5, $6)";
    const UPSERT: &str = "INSERT INTO access_keys (access_key_id, account_id, principal_arn, \
         wrapped_secret, status, created_ms) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (access_key_id) DO UPDATE SET account_id = excluded.account_id, \
         principal_arn = excluded.principal_arn, wrapped_secret = excluded.wrapped_secret, \
         status = excluded.status, created_ms = excluded.created_ms";
    let created = to_ms(k.created)?;
    exec(
        tx,
        if upsert { UPSERT } else { INSERT },
        &[
            &k.access_key_id,
            &k.account_id.as_str(),
            &k.principal_arn,
            &k.wrapped_secret,
            &status_to_sql(k.status),
            &created,
        ],
    )
    .await?;
    Ok(())
}

/// After a commit that deleted key material: PostgreSQL keeps the deleted rows' old versions in
/// the table until VACUUM, so ask for it now rather than at autovacuum's leisure. Best effort,
/// and no guarantee for the WAL, standbys or backups (ARCHITECTURE.md §6.1).
async fn vacuum_secrets(client: &Client, after: &str) {
    if let Err(e) = client
        .batch_execute("VACUUM key_materials, key_imports")
        .await
    {
        tracing::warn!(
            error = %describe(&e),
            after,
            "VACUUM of key_materials and key_imports failed; autovacuum will reclaim"
        );
    }
}

/// The record as stored: timestamps truncated to whole milliseconds.
fn key_as_stored(mut k: KeyRecord) -> Result<KeyRecord, StoreError> {
    k.creation_date = truncate(k.creation_date)?;
    k.deletion_date = k.deletion_date.map(truncate).transpose()?;
    k.next_rotation_date = k.next_rotation_date.map(truncate).transpose()?;
    k.deleted_date = k.deleted_date.map(truncate).transpose()?;
    Ok(k)
}

/// Inside a write transaction: reads and locks the key row (`FOR UPDATE`: a concurrent update
/// of the same key waits for this transaction), applies `update`, sets the version to the
/// stored one plus one and writes the row. Returns the record as written (not yet truncated).
/// `NotFound` (closure not called) or `Rejected`; the caller's transaction then rolls back.
async fn apply_key_update(
    tx: &Transaction<'_>,
    key: KeyAddr,
    update: KeyUpdate,
) -> Result<KeyRecord, StoreError> {
    let stored = query_opt(
        tx,
        &format!("SELECT {KEY_COLUMNS} FROM keys WHERE region = $1 AND key_id = $2 FOR UPDATE"),
        &[&key.region, &key.key_id.to_string()],
        key_from_row,
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut next = stored.clone();
    update(&mut next).map_err(|e| StoreError::Rejected(Box::new(e)))?;
    // The address is the row's: an update never moves a key to another id or Region.
    next.key_id = key.key_id;
    next.region = stored.region.clone();
    next.version = stored
        .version
        .checked_add(1)
        .ok_or_else(|| StoreError::Backend("postgres: key version overflow".into()))?;
    let changed = write_key_row(
        tx,
        "UPDATE keys SET account_id = $2, description = $4, key_state = $5, \
         key_spec = $6, key_usage = $7, origin = $8, creation_date_ms = $9, \
         deletion_date_ms = $10, policy = $11, tags = $12, current_key_material_id = $13, \
         multi_region = $14, version = $15, rotation_period_days = $16, \
         next_rotation_date_ms = $17, pending_window_days = $18, deleted_date_ms = $19, \
         primary_region = $20 WHERE key_id = $1 AND region = $3",
        &next,
    )
    .await?;
    one_row(changed)?;
    Ok(next)
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_account(
        &self,
        account: AccountRecord,
        first_access_key: AccessKeyRecord,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        exec(
            &tx,
            "INSERT INTO accounts (account_id, created_ms) VALUES ($1, $2)",
            &[&account.account_id.as_str(), &to_ms(account.created)?],
        )
        .await?;
        insert_access_key(&tx, &first_access_key, false).await?;
        bump_directory_version(&tx).await?;
        commit(tx).await
    }

    async fn list_accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let client = self.client().await?;
        query_all(
            &client,
            "SELECT account_id, created_ms FROM accounts ORDER BY account_id",
            &[],
            account_from_row,
        )
        .await
    }

    async fn put_access_key(&self, key: AccessKeyRecord) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        insert_access_key(&tx, &key, true).await?;
        bump_directory_version(&tx).await?;
        commit(tx).await
    }

    async fn list_access_keys(&self) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let client = self.client().await?;
        query_all(
            &client,
            &format!("SELECT {ACCESS_KEY_COLUMNS} FROM access_keys ORDER BY access_key_id"),
            &[],
            access_key_from_row,
        )
        .await
    }

    async fn directory_version(&self) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let version = query_opt(
            &client,
            "SELECT version FROM directory_version WHERE id = 1",
            &[],
            |row| row.try_get::<_, i64>(0).map_err(pg),
        )
        .await?
        .ok_or_else(|| StoreError::Backend("postgres: directory version row missing".into()))?;
        u64::try_from(version).map_err(|_| {
            StoreError::Backend("postgres: stored directory version is invalid".into())
        })
    }

    async fn delete_access_key(&self, access_key_id: &str) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        let n = exec(
            &tx,
            "DELETE FROM access_keys WHERE access_key_id = $1",
            &[&access_key_id],
        )
        .await?;
        one_row(n)?;
        bump_directory_version(&tx).await?;
        commit(tx).await
    }

    async fn create_user(&self, user: UserRecord) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        exec(
            &tx,
            &format!("INSERT INTO iam_users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[
                &user.account_id.as_str(),
                &user.user_name,
                &user.path,
                &user.user_id,
                &to_ms(user.create_date)?,
                &tags_to_json(&user.tags)?,
                &fold(&user.user_name),
            ],
        )
        .await?;
        bump_directory_version(&tx).await?;
        commit(tx).await
    }

    async fn update_user(&self, user: UserRecord) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        let n = exec(
            &tx,
            "UPDATE iam_users SET path = $3, tags = $4 \
             WHERE account_id = $1 AND user_name_folded = $2",
            &[
                &user.account_id.as_str(),
                &fold(&user.user_name),
                &user.path,
                &tags_to_json(&user.tags)?,
            ],
        )
        .await?;
        one_row(n)?;
        bump_directory_version(&tx).await?;
        commit(tx).await
    }

    async fn delete_user(&self, account: &AccountId, user_name: &str) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        // The account row, locked: an access key write of the account in flight (its foreign
        // key check holds the row KEY SHARE) commits first and is counted below, and a new one
        // waits until this transaction ends.
        query_opt(
            &tx,
            "SELECT 1 FROM accounts WHERE account_id = $1 FOR UPDATE",
            &[&account.as_str()],
            |_| Ok(()),
        )
        .await?;
        // The user row, locked: a concurrent put_inline_policy for this user (FOR SHARE) waits,
        // then finds the user gone.
        let user = query_opt(
            &tx,
            &format!(
                "SELECT {USER_COLUMNS} FROM iam_users \
                 WHERE account_id = $1 AND user_name_folded = $2 FOR UPDATE"
            ),
            &[&account.as_str(), &fold(user_name)],
            user_from_row,
        )
        .await?
        .ok_or(StoreError::NotFound)?;
        let keys = query_opt(
            &tx,
            "SELECT 1 FROM access_keys WHERE principal_arn = $1 LIMIT 1",
            &[&user.arn()],
            |_| Ok(()),
        )
        .await?;
        if keys.is_some() {
            return Err(StoreError::Conflict("access keys"));
        }
        if has_inline_policies(&tx, account, PrincipalKind::User, user_name).await? {
            return Err(StoreError::Conflict("policies"));
        }
        exec(
            &tx,
            "DELETE FROM iam_users WHERE account_id = $1 AND user_name_folded = $2",
            &[&account.as_str(), &fold(user_name)],
        )
        .await?;
        bump_directory_version(&tx).await?;
        commit(tx).await
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let client = self.client().await?;
        query_all(
            &client,
            &format!("SELECT {USER_COLUMNS} FROM iam_users ORDER BY account_id, user_name_folded"),
            &[],
            user_from_row,
        )
        .await
    }

    async fn create_role(&self, role: RoleRecord) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        exec(
            &tx,
            &format!(
                "INSERT INTO iam_roles ({ROLE_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            &[
                &role.account_id.as_str(),
                &role.role_name,
                &role.path,
                &role.role_id,
                &to_ms(role.create_date)?,
                &role.assume_role_policy_document,
                &role.description,
                &i64::from(role.max_session_duration),
                &tags_to_json(&role.tags)?,
                &fold(&role.role_name),
            ],
        )
        .await?;
        bump_directory_version(&tx).await?;
        commit(tx).await
    }

    async fn update_role(&self, role: RoleRecord) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        let n = exec(
            &tx,
            "UPDATE iam_roles SET path = $3, assume_role_policy_document = $4, \
             description = $5, max_session_duration = $6, tags = $7 \
             WHERE account_id = $1 AND role_name_folded = $2",
            &[
                &role.account_id.as_str(),
                &fold(&role.role_name),
                &role.path,
                &role.assume_role_policy_document,
                &role.description,
                &i64::from(role.max_session_duration),
                &tags_to_json(&role.tags)?,
            ],
        )
        .await?;
        one_row(n)?;
        bump_directory_version(&tx).await?;
        commit(tx).await
    }

    async fn delete_role(&self, account: &AccountId, role_name: &str) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        query_opt(
            &tx,
            "SELECT 1 FROM iam_roles WHERE account_id = $1 AND role_name_folded = $2 FOR UPDATE",
            &[&account.as_str(), &fold(role_name)],
            |_| Ok(()),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
        if has_inline_policies(&tx, account, PrincipalKind::Role, role_name).await? {
            return Err(StoreError::Conflict("policies"));
        }
        exec(
            &tx,
            "DELETE FROM iam_roles WHERE account_id = $1 AND role_name_folded = $2",
            &[&account.as_str(), &fold(role_name)],
        )
        .await?;
        bump_directory_version(&tx).await?;
        commit(tx).await
    }

    async fn list_roles(&self) -> Result<Vec<RoleRecord>, StoreError> {
        let client = self.client().await?;
        query_all(
            &client,
            &format!("SELECT {ROLE_COLUMNS} FROM iam_roles ORDER BY account_id, role_name_folded"),
            &[],
            role_from_row,
        )
        .await
    }

    async fn put_inline_policy(&self, policy: InlinePolicyRecord) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        // The owner, held (FOR SHARE) until the commit so a concurrent delete waits; its name
        // as stored, so every policy row spells it alike.
        let owner = match policy.principal_kind {
            PrincipalKind::User => {
                "SELECT user_name FROM iam_users \
                 WHERE account_id = $1 AND user_name_folded = $2 FOR SHARE"
            }
            PrincipalKind::Role => {
                "SELECT role_name FROM iam_roles \
                 WHERE account_id = $1 AND role_name_folded = $2 FOR SHARE"
            }
        };
        let folded = fold(&policy.principal_name);
        let stored_name: String =
            query_opt(&tx, owner, &[&policy.account_id.as_str(), &folded], |r| {
                r.try_get(0).map_err(pg)
            })
            .await?
            .ok_or(StoreError::NotFound)?;
        exec(
            &tx,
            &format!(
                "INSERT INTO iam_inline_policies ({INLINE_POLICY_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (account_id, principal_kind, principal_name_folded, policy_name) \
                 DO UPDATE SET policy_document = excluded.policy_document"
            ),
            &[
                &policy.account_id.as_str(),
                &policy.principal_kind.as_str(),
                &stored_name,
                &policy.policy_name,
                &policy.policy_document,
                &folded,
            ],
        )
        .await?;
        bump_directory_version(&tx).await?;
        commit(tx).await
    }

    async fn delete_inline_policy(
        &self,
        account: &AccountId,
        kind: PrincipalKind,
        principal_name: &str,
        policy_name: &str,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        let n = exec(
            &tx,
            "DELETE FROM iam_inline_policies WHERE account_id = $1 \
             AND principal_kind = $2 AND principal_name_folded = $3 AND policy_name = $4",
            &[
                &account.as_str(),
                &kind.as_str(),
                &fold(principal_name),
                &policy_name,
            ],
        )
        .await?;
        one_row(n)?;
        bump_directory_version(&tx).await?;
        commit(tx).await
    }

    async fn list_inline_policies(&self) -> Result<Vec<InlinePolicyRecord>, StoreError> {
        let client = self.client().await?;
        query_all(
            &client,
            &format!(
                "SELECT {INLINE_POLICY_COLUMNS} FROM iam_inline_policies \
                 ORDER BY account_id, principal_kind DESC, principal_name_folded, policy_name"
            ),
            &[],
            inline_policy_from_row,
        )
        .await
    }

    async fn create_key(
        &self,
        key: KeyRecord,
        material: KeyMaterialRecord,
    ) -> Result<(), StoreError> {
        if material.key_id != key.key_id || material.region != key.region {
            return Err(StoreError::Backend(
                "postgres: first key material belongs to another key".into(),
            ));
        }
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        write_key_row(
            &tx,
            &format!(
                "INSERT INTO keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                 $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
            ),
            &key,
        )
        .await?;
        insert_material(&tx, &material).await?;
        commit(tx).await
    }

    async fn related_keys(&self, key_id: KeyId) -> Result<Vec<KeyRecord>, StoreError> {
        let client = self.client().await?;
        query_all(
            &client,
            &format!("SELECT {KEY_COLUMNS} FROM keys WHERE key_id = $1 ORDER BY region"),
            &[&key_id.to_string()],
            key_from_row,
        )
        .await
    }

    async fn create_replica(
        &self,
        key: KeyRecord,
        materials: Vec<KeyMaterialRecord>,
    ) -> Result<(), StoreError> {
        if materials
            .iter()
            .any(|m| m.key_id != key.key_id || m.region != key.region)
        {
            return Err(StoreError::Backend(
                "postgres: replica key material belongs to another key".into(),
            ));
        }
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        write_key_row(
            &tx,
            &format!(
                "INSERT INTO keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                 $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
            ),
            &key,
        )
        .await?;
        for m in &materials {
            insert_material(&tx, m).await?;
        }
        commit(tx).await
    }

    async fn set_primary_region(
        &self,
        key_id: KeyId,
        old_primary: &str,
        new_primary: &str,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let id = key_id.to_string();
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        // Every related key is locked, in Region order, for the swap (SQLite: its one writer).
        let related = query_all(
            &tx,
            &format!(
                "SELECT {KEY_COLUMNS} FROM keys WHERE key_id = $1 AND multi_region \
                 AND deleted_date_ms IS NULL ORDER BY region FOR UPDATE"
            ),
            &[&id],
            key_from_row,
        )
        .await?;
        let live = |region: &str| related.iter().find(|k| k.region == region);
        let (Some(from), Some(_)) = (live(old_primary), live(new_primary)) else {
            return Err(StoreError::NotFound);
        };
        let next = opt_ms(from.next_rotation_date)?;
        exec(
            &tx,
            "UPDATE keys SET primary_region = $2, version = version + 1, \
             next_rotation_date_ms = CASE WHEN region = $2 THEN $3 \
             WHEN region = $4 THEN NULL ELSE next_rotation_date_ms END \
             WHERE key_id = $1 AND multi_region AND deleted_date_ms IS NULL",
            &[&id, &new_primary, &next, &old_primary],
        )
        .await?;
        let keys = query_all(
            &tx,
            &format!(
                "SELECT {KEY_COLUMNS} FROM keys WHERE key_id = $1 \
                 AND deleted_date_ms IS NULL ORDER BY region"
            ),
            &[&id],
            key_from_row,
        )
        .await?;
        commit(tx).await?;
        Ok(keys)
    }

    async fn get_key(&self, key: KeyAddr) -> Result<Option<KeyRecord>, StoreError> {
        let client = self.client().await?;
        query_opt(
            &client,
            &format!("SELECT {KEY_COLUMNS} FROM keys WHERE region = $1 AND key_id = $2"),
            &[&key.region, &key.key_id.to_string()],
            key_from_row,
        )
        .await
    }

    async fn list_keys(
        &self,
        account: &AccountId,
        region: &str,
        after: Option<KeyId>,
        limit: usize,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        // Every key id sorts after the empty string.
        let after = after.map(|k| k.to_string()).unwrap_or_default();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client().await?;
        query_all(
            &client,
            &format!(
                "SELECT {KEY_COLUMNS} FROM keys \
                 WHERE account_id = $1 AND region = $2 AND key_id > $3 \
                 AND deleted_date_ms IS NULL \
                 ORDER BY key_id LIMIT $4"
            ),
            &[&account.as_str(), &region, &after, &limit],
            key_from_row,
        )
        .await
    }

    async fn update_key(&self, key: KeyAddr, update: KeyUpdate) -> Result<KeyRecord, StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        // On refusal the transaction is dropped, which rolls it back.
        let next = apply_key_update(&tx, key, update).await?;
        commit(tx).await?;
        key_as_stored(next)
    }

    async fn add_key_material(&self, material: KeyMaterialRecord) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        insert_material(&tx, &material).await?;
        commit(tx).await
    }

    async fn get_key_materials(&self, key: KeyAddr) -> Result<Vec<KeyMaterialRecord>, StoreError> {
        let client = self.client().await?;
        query_all(
            &client,
            &format!(
                "SELECT {MATERIAL_COLUMNS} FROM key_materials WHERE region = $1 AND key_id = $2 \
                 ORDER BY created_ms, seq"
            ),
            &[&key.region, &key.key_id.to_string()],
            material_from_row,
        )
        .await
    }

    async fn rotate_key(
        &self,
        key: KeyAddr,
        material: KeyMaterialRecord,
        update: KeyUpdate,
    ) -> Result<KeyRecord, StoreError> {
        if material.key_id != key.key_id || material.region != key.region {
            return Err(StoreError::Backend(
                "postgres: rotated key material belongs to another key".into(),
            ));
        }
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        // Any failure drops the transaction, which rolls back the key update too.
        let next = apply_key_update(&tx, key, update).await?;
        insert_material(&tx, &material).await?;
        commit(tx).await?;
        key_as_stored(next)
    }

    async fn destroy_key(&self, key: KeyAddr, update: KeyUpdate) -> Result<KeyRecord, StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        let next = apply_key_update(&tx, key, update).await?;
        let (region, id) = (key.region, key.key_id.to_string());
        exec(
            &tx,
            "DELETE FROM key_materials WHERE region = $1 AND key_id = $2",
            &[&region, &id],
        )
        .await?;
        // Import bookkeeping holds wrapped wrapping keys: erased with the key.
        exec(
            &tx,
            "DELETE FROM key_imports WHERE region = $1 AND key_id = $2",
            &[&region, &id],
        )
        .await?;
        exec(
            &tx,
            "DELETE FROM aliases WHERE region = $1 AND target_key_id = $2",
            &[&region, &id],
        )
        .await?;
        exec(
            &tx,
            "DELETE FROM grants WHERE region = $1 AND key_id = $2",
            &[&region, &id],
        )
        .await?;
        commit(tx).await?;
        vacuum_secrets(&client, "key destroyed").await;
        key_as_stored(next)
    }

    async fn due_keys(&self, now: OffsetDateTime) -> Result<Vec<KeyAddr>, StoreError> {
        let now = to_ms(now)?;
        let client = self.client().await?;
        // One arm per partial index (keys_rotation_due, keys_deletion_due).
        query_all(
            &client,
            "SELECT region, key_id FROM keys WHERE deleted_date_ms IS NULL \
             AND next_rotation_date_ms IS NOT NULL AND next_rotation_date_ms <= $1 \
             UNION \
             SELECT region, key_id FROM keys WHERE deleted_date_ms IS NULL \
             AND key_state = 'PendingDeletion' AND deletion_date_ms <= $1 \
             ORDER BY region, key_id",
            &[&now],
            key_addr_from_row,
        )
        .await
    }

    async fn create_key_without_material(
        &self,
        key: KeyRecord,
        import: ImportRecord,
    ) -> Result<(), StoreError> {
        if import.key != key.addr() {
            return Err(StoreError::Backend(
                "postgres: import bookkeeping belongs to another key".into(),
            ));
        }
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        write_key_row(
            &tx,
            &format!(
                "INSERT INTO keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                 $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
            ),
            &key,
        )
        .await?;
        imports::put_import(&tx, &import).await?;
        commit(tx).await
    }

    async fn get_import_record(&self, key: KeyAddr) -> Result<Option<ImportRecord>, StoreError> {
        let client = self.client().await?;
        imports::select_import(&client, key).await
    }

    async fn apply_import_change(
        &self,
        key: KeyAddr,
        change: ImportChange,
    ) -> Result<KeyRecord, StoreError> {
        let ImportChange {
            update,
            put_material,
            delete_materials,
            record,
        } = change;
        if record.key != key
            || put_material
                .as_ref()
                .is_some_and(|m| m.key_id != key.key_id || m.region != key.region)
        {
            return Err(StoreError::Backend(
                "postgres: import change belongs to another key".into(),
            ));
        }
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        // Any failure drops the transaction, which rolls back the key update too.
        let next = apply_key_update(&tx, key, update).await?;
        if let Some(m) = &put_material {
            imports::upsert_material(&tx, m).await?;
        }
        for id in &delete_materials {
            imports::delete_material(&tx, key, id).await?;
        }
        imports::put_import(&tx, &record).await?;
        commit(tx).await?;
        if !delete_materials.is_empty() {
            vacuum_secrets(&client, "imported material deleted").await;
        }
        key_as_stored(next)
    }

    async fn due_imports(&self, now: OffsetDateTime) -> Result<Vec<KeyAddr>, StoreError> {
        let now = to_ms(now)?;
        let client = self.client().await?;
        imports::due(&client, now).await
    }

    async fn put_key_last_usage(&self, usages: Vec<KeyLastUsage>) -> Result<(), StoreError> {
        if usages.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        for u in &usages {
            // An equal timestamp replaces (the later call wins); an older one never does.
            exec(
                &tx,
                &format!(
                    "INSERT INTO key_last_usage ({LAST_USAGE_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (region, key_id) DO UPDATE SET operation = excluded.operation, \
                     timestamp_ms = excluded.timestamp_ms, \
                     cloudtrail_event_id = excluded.cloudtrail_event_id, \
                     kms_request_id = excluded.kms_request_id \
                     WHERE excluded.timestamp_ms >= key_last_usage.timestamp_ms"
                ),
                &[
                    &u.key_id.to_string(),
                    &u.operation,
                    &to_ms(u.timestamp)?,
                    &u.cloudtrail_event_id,
                    &u.kms_request_id,
                    &u.region,
                ],
            )
            .await?;
        }
        commit(tx).await
    }

    async fn get_key_last_usage(&self, key: KeyAddr) -> Result<Option<KeyLastUsage>, StoreError> {
        let client = self.client().await?;
        query_opt(
            &client,
            &format!(
                "SELECT {LAST_USAGE_COLUMNS} FROM key_last_usage WHERE region = $1 AND key_id = $2"
            ),
            &[&key.region, &key.key_id.to_string()],
            last_usage_from_row,
        )
        .await
    }

    async fn create_alias(&self, alias: AliasRecord) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        exec(
            &tx,
            &format!("INSERT INTO aliases ({ALIAS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            &[
                &alias.account_id.as_str(),
                &alias.region,
                &alias.alias_name,
                &alias.target_key_id.to_string(),
                &to_ms(alias.creation_date)?,
                &to_ms(alias.last_updated_date)?,
            ],
        )
        .await?;
        commit(tx).await
    }

    async fn update_alias(
        &self,
        account: &AccountId,
        region: &str,
        alias_name: &str,
        target_key_id: KeyId,
        now: OffsetDateTime,
    ) -> Result<AliasRecord, StoreError> {
        let now_ms = to_ms(now)?;
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        let created_ms: i64 = query_opt(
            &tx,
            "UPDATE aliases SET target_key_id = $4, last_updated_date_ms = $5 \
             WHERE account_id = $1 AND region = $2 AND alias_name = $3 \
             RETURNING creation_date_ms",
            &[
                &account.as_str(),
                &region,
                &alias_name,
                &target_key_id.to_string(),
                &now_ms,
            ],
            |r| r.try_get(0).map_err(pg),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
        commit(tx).await?;
        Ok(AliasRecord {
            account_id: account.clone(),
            region: region.to_string(),
            alias_name: alias_name.to_string(),
            target_key_id,
            creation_date: from_ms(created_ms)?,
            last_updated_date: from_ms(now_ms)?,
        })
    }

    async fn delete_alias(
        &self,
        account: &AccountId,
        region: &str,
        alias_name: &str,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        let n = exec(
            &tx,
            "DELETE FROM aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3",
            &[&account.as_str(), &region, &alias_name],
        )
        .await?;
        one_row(n)?;
        commit(tx).await
    }

    async fn get_alias(
        &self,
        account: &AccountId,
        region: &str,
        alias_name: &str,
    ) -> Result<Option<AliasRecord>, StoreError> {
        let client = self.client().await?;
        query_opt(
            &client,
            &format!(
                "SELECT {ALIAS_COLUMNS} FROM aliases \
                 WHERE account_id = $1 AND region = $2 AND alias_name = $3"
            ),
            &[&account.as_str(), &region, &alias_name],
            alias_from_row,
        )
        .await
    }

    async fn list_aliases(
        &self,
        account: &AccountId,
        region: &str,
    ) -> Result<Vec<AliasRecord>, StoreError> {
        let client = self.client().await?;
        query_all(
            &client,
            &format!(
                "SELECT {ALIAS_COLUMNS} FROM aliases WHERE account_id = $1 AND region = $2 \
                 ORDER BY alias_name"
            ),
            &[&account.as_str(), &region],
            alias_from_row,
        )
        .await
    }

    async fn create_grant(&self, grant: GrantRecord) -> Result<(), StoreError> {
        let created = to_ms(grant.creation_date)?;
        let operations = operations_to_json(&grant.operations)?;
        let constraints = constraints_to_json(&grant.constraints)?;
        let key = grant.key_id.to_string();
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        // Held until the commit: a concurrent destruction waits, or has already made the key a
        // tombstone, which this query then does not return.
        query_opt(
            &tx,
            "SELECT 1 FROM keys WHERE region = $1 AND key_id = $2 AND deleted_date_ms IS NULL \
             FOR SHARE",
            &[&grant.region, &key],
            |_| Ok(()),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
        let inserted = exec(
            &tx,
            &format!(
                "INSERT INTO grants ({GRANT_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (grant_id) DO NOTHING"
            ),
            &[
                &grant.grant_id,
                &key,
                &grant.name,
                &created,
                &grant.grantee_principal,
                &grant.retiring_principal,
                &grant.issuing_account.as_str(),
                &operations,
                &constraints,
                &grant.region,
            ],
        )
        .await?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists);
        }
        commit(tx).await
    }

    async fn list_grants(&self, key: KeyAddr) -> Result<Vec<GrantRecord>, StoreError> {
        let client = self.client().await?;
        query_all(
            &client,
            &format!(
                "SELECT {GRANT_COLUMNS} FROM grants WHERE region = $1 AND key_id = $2 \
                 ORDER BY creation_date_ms, grant_id"
            ),
            &[&key.region, &key.key_id.to_string()],
            grant_from_row,
        )
        .await
    }

    async fn list_grants_by_retiring_principal(
        &self,
        principal: &str,
    ) -> Result<Vec<GrantRecord>, StoreError> {
        let client = self.client().await?;
        query_all(
            &client,
            &format!(
                "SELECT {GRANT_COLUMNS} FROM grants WHERE retiring_principal = $1 \
                 ORDER BY key_id, region, creation_date_ms, grant_id"
            ),
            &[&principal],
            grant_from_row,
        )
        .await
    }

    async fn delete_grant(&self, key: KeyAddr, grant_id: &str) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        let n = exec(
            &tx,
            "DELETE FROM grants WHERE region = $1 AND key_id = $2 AND grant_id = $3",
            &[&key.region, &key.key_id.to_string(), &grant_id],
        )
        .await?;
        one_row(n)?;
        commit(tx).await
    }

    async fn list_wrapped_secrets(&self) -> Result<Vec<WrappedSecret>, StoreError> {
        let mut client = self.client().await?;
        // One snapshot for both lists.
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg)?;
        let mut out = query_all(
            &tx,
            "SELECT m.key_id, m.key_material_id, m.wrapped, k.account_id, k.region \
             FROM key_materials m JOIN keys k ON k.region = m.region AND k.key_id = m.key_id \
             WHERE k.deleted_date_ms IS NULL ORDER BY m.key_id, m.region, m.created_ms, m.seq",
            &[],
            wrapped_material_from_row,
        )
        .await?;
        out.extend(
            query_all(
                &tx,
                "SELECT access_key_id, wrapped_secret FROM access_keys ORDER BY access_key_id",
                &[],
                wrapped_access_key_from_row,
            )
            .await?,
        );
        tx.commit().await.map_err(pg)?;
        Ok(out)
    }

    async fn rewrap_secret(
        &self,
        id: WrappedSecretId,
        expected: Vec<u8>,
        new: Vec<u8>,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        // Compare and swap: the WHERE clause is re-checked against a row a concurrent
        // transaction changed, so a concurrent change is never overwritten.
        let changed = match &id {
            WrappedSecretId::KeyMaterial {
                key,
                key_material_id,
            } => {
                let material_id: &[u8] = &key_material_id.0;
                exec(
                    &tx,
                    "UPDATE key_materials SET wrapped = $3 \
                     WHERE key_id = $1 AND key_material_id = $2 AND wrapped = $4 AND region = $5",
                    &[
                        &key.key_id.to_string(),
                        &material_id,
                        &new,
                        &expected,
                        &key.region,
                    ],
                )
                .await?
            }
            WrappedSecretId::AccessKey { access_key_id } => {
                exec(
                    &tx,
                    "UPDATE access_keys SET wrapped_secret = $2 \
                     WHERE access_key_id = $1 AND wrapped_secret = $3",
                    &[access_key_id, &new, &expected],
                )
                .await?
            }
        };
        one_row(changed)?;
        if matches!(id, WrappedSecretId::AccessKey { .. }) {
            bump_directory_version(&tx).await?;
        }
        commit(tx).await
    }

    async fn audit_intents(&self) -> Result<Vec<StoredIntent>, StoreError> {
        let client = self.client().await?;
        query_all(
            &client,
            "SELECT event_id, record, complete, created_ms FROM audit_intents \
             ORDER BY created_ms, event_id",
            &[],
            |row| {
                Ok(StoredIntent {
                    event_id: row.try_get(0).map_err(pg)?,
                    record: row.try_get(1).map_err(pg)?,
                    complete: row.try_get(2).map_err(pg)?,
                    created: from_ms(row.try_get(3).map_err(pg)?)?,
                })
            },
        )
        .await
    }

    async fn complete_audit_intent(
        &self,
        event_id: &str,
        record: Vec<u8>,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        let n = exec(
            &tx,
            "UPDATE audit_intents SET record = $2, complete = TRUE WHERE event_id = $1",
            &[&event_id, &record],
        )
        .await?;
        one_row(n)?;
        commit(tx).await
    }

    async fn forget_audit_intents(&self, event_ids: Vec<String>) -> Result<(), StoreError> {
        if event_ids.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        exec(
            &tx,
            "DELETE FROM audit_intents WHERE event_id = ANY($1)",
            &[&event_ids],
        )
        .await?;
        commit(tx).await
    }
}
