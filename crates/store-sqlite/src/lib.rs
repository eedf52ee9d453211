#![forbid(unsafe_code)]
//! The embedded default store: one SQLite file in WAL mode.
//!
//! - Every commit is durable before the method returns (`synchronous=FULL`).
//! - Writes are serialised on one writer connection; reads use a few reader connections,
//!   which WAL lets run beside the writer. All SQLite work runs on Tokio's blocking pool,
//!   so the store must be used from within a Tokio runtime.
//! - The schema is versioned (`PRAGMA user_version`) and migrated at open; see
//!   `migrations/` for the tables. Timestamps are stored as Unix milliseconds (UTC):
//!   sub-millisecond parts are truncated, and records the store returns are truncated alike.
//! - Destroyed key material is shredded from the files: the writer runs with
//!   `secure_delete=ON` (freed content is overwritten with zeros), and `destroy_key` truncates
//!   the write-ahead log after its commit (`wal_checkpoint(TRUNCATE)`), so neither the database
//!   nor its `-wal` file keeps an older copy of the erased pages.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Params, Row, Transaction, TransactionBehavior,
};
use time::OffsetDateTime;
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
#[cfg(test)]
mod tests;

use rows::{
    access_key_from_row, account_from_row, alias_from_row, from_ms, inline_policy_from_row,
    key_from_row, last_usage_from_row, material_from_row, opt_ms, role_from_row, status_to_sql,
    tags_to_json, to_ms, truncate, user_from_row, version_to_sql, ACCESS_KEY_COLUMNS,
    ALIAS_COLUMNS, INLINE_POLICY_COLUMNS, KEY_COLUMNS, LAST_USAGE_COLUMNS, MATERIAL_COLUMNS,
    ROLE_COLUMNS, USER_COLUMNS,
};
use rows::{constraints_to_json, grant_from_row, operations_to_json, GRANT_COLUMNS};
use rows::{wrapped_access_key_from_row, wrapped_material_from_row};

/// The schema version this code creates and understands. A database with a higher
/// version is refused at open.
pub const SCHEMA_VERSION: u32 = migrate::MIGRATIONS.len() as u32;

/// Reader connections opened beside the writer for a file database.
const READERS: usize = 4;

/// How many times `destroy_key` tries to truncate the write-ahead log, and how long each try
/// waits for readers still reading older pages of it.
const CHECKPOINT_ATTEMPTS: u32 = 3;
const CHECKPOINT_WAIT: Duration = Duration::from_secs(2);
/// Pause between two tries.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(50);
/// How long a later write waits for readers when it retries a truncation that failed.
const CHECKPOINT_RETRY_WAIT: Duration = Duration::from_millis(100);

/// The SQLite implementation of [`Store`]. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Every write goes through this connection, so writes are serialised.
    writer: Mutex<Connection>,
    /// Read-only (`query_only`) connections; empty for an in-memory database.
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    path: Option<PathBuf>,
    /// Set while the write-ahead log may still hold a copy of destroyed material (a truncation
    /// after `destroy_key` could not complete); every later write retries it until it does.
    shred_pending: AtomicBool,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("readers", &self.inner.readers.len())
            .finish()
    }
}

/// Maps a SQLite error: unique and primary-key violations are `AlreadyExists`, foreign-key
/// violations (the referenced account or key is missing) are `NotFound`, the rest `Backend`.
/// SQLite's messages name tables and columns, never bound values, so no secret leaks.
pub(crate) fn backend(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.extended_code {
            ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE => {
                return StoreError::AlreadyExists
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return StoreError::NotFound,
            _ => {}
        }
    }
    StoreError::Backend(format!("sqlite: {e}"))
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, switches it to WAL, and
    /// migrates its schema. Blocks: call it at start-up, not on an async worker mid-flight.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        create_private(path)?;
        let mut writer = Connection::open(path).map_err(backend)?;
        migrate::configure(&writer)?;
        migrate::enable_secure_delete(&writer)?;
        migrate::enable_wal(&writer)?;
        let version = migrate::migrate(&mut writer, migrate::MIGRATIONS)?;
        // A process that stopped between a destruction's commit and its truncation of the log
        // left erased material there; truncating now (nobody else reads yet) shreds it.
        if let Err(e) = checkpoint_truncate(&writer, 1, CHECKPOINT_WAIT) {
            tracing::warn!(error = %e, "could not truncate the SQLite write-ahead log at open");
        }
        let readers = (0..READERS)
            .map(|_| {
                let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = Connection::open_with_flags(path, flags).map_err(backend)?;
                migrate::configure(&conn)?;
                conn.pragma_update(None, "query_only", true)
                    .map_err(backend)?;
                Ok(Mutex::new(conn))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        tracing::debug!(path = %path.display(), version, "opened SQLite store");
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
                path: Some(path.to_path_buf()),
                shred_pending: AtomicBool::new(false),
            }),
        })
    }

    /// A private in-memory database on one connection, for tests. Nothing is durable.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open_in_memory().map_err(backend)?;
        migrate::configure(&conn)?;
        migrate::enable_secure_delete(&conn)?;
        migrate::migrate(&mut conn, migrate::MIGRATIONS)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writer: Mutex::new(conn),
                readers: Vec::new(),
                next_reader: AtomicUsize::new(0),
                path: None,
                shred_pending: AtomicBool::new(false),
            }),
        })
    }

    /// The database file, or `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Runs `f` in one immediate transaction on the writer connection, on the blocking pool,
    /// and commits if it succeeds. The request's audit intent, if there is one
    /// ([`trent_core::audit_intent::current`]), is stored in the same transaction and marked
    /// committed after the commit.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let intent = trent_core::audit_intent::current();
        let out = self
            .with_writer(move |_, conn| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(backend)?;
                // On an error the transaction is dropped, which rolls it back.
                let out = f(&tx)?;
                if let Some(intent) = &intent {
                    insert_intent(&tx, intent)?;
                }
                tx.commit().map_err(backend)?;
                Ok(out)
            })
            .await;
        out
    }

    /// Runs `f` on the writer connection (outside any transaction) on the blocking pool.
    async fn with_writer<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, &mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        let intent = trent_core::audit_intent::current();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock();
            let out = f(&inner, &mut conn);
            if out.is_ok() {
                if let Some(intent) = intent {
                    intent.mark_committed();
                }
            }
            inner.retry_pending_shred(&conn);
            out
        })
        .await
        .map_err(join_error)?
    }

    /// Runs `f` on a reader connection (the writer for an in-memory store) on the blocking pool.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.with_reader(f))
            .await
            .map_err(join_error)?
    }
}

impl Inner {
    /// After a destruction's commit: truncates the write-ahead log so it keeps no copy of the
    /// erased pages. `Backend` if readers kept it from completing; then every later write
    /// retries it (and the next open does it).
    fn shred_wal(&self, conn: &Connection) -> Result<(), StoreError> {
        if self.path.is_none() {
            return Ok(());
        }
        self.shred_pending.store(true, Ordering::SeqCst);
        match checkpoint_truncate(conn, CHECKPOINT_ATTEMPTS, CHECKPOINT_WAIT) {
            Ok(()) => {
                self.shred_pending.store(false, Ordering::SeqCst);
                Ok(())
            }
            Err(e) => {
                tracing::error!(
                    error = %e,
                    "key destroyed, but the SQLite write-ahead log could not be truncated; \
                     retrying at later writes"
                );
                Err(StoreError::Backend(format!(
                    "sqlite: the key was destroyed, but erased material may remain in the \
                     write-ahead log until a later write truncates it ({e})"
                )))
            }
        }
    }

    /// Retries a truncation that failed after a destruction, briefly; called after each write.
    fn retry_pending_shred(&self, conn: &Connection) {
        if self.shred_pending.load(Ordering::SeqCst)
            && checkpoint_truncate(conn, 1, CHECKPOINT_RETRY_WAIT).is_ok()
        {
            self.shred_pending.store(false, Ordering::SeqCst);
            tracing::info!("SQLite write-ahead log truncated after an earlier destruction");
        }
    }

    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        let n = self.readers.len();
        if n == 0 {
            return f(&self.writer.lock());
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed) % n;
        for i in 0..n {
            if let Some(conn) = self.readers[(start + i) % n].try_lock() {
                return f(&conn);
            }
        }
        f(&self.readers[start].lock())
    }
}

/// `PRAGMA wal_checkpoint(TRUNCATE)`: copies every frame of the write-ahead log into the
/// database and truncates the log to zero bytes. Readers in a read transaction over older frames
/// block it; each of `attempts` tries waits up to `wait` for them (the busy handler).
/// Call outside any transaction, holding the writer.
fn checkpoint_truncate(conn: &Connection, attempts: u32, wait: Duration) -> Result<(), StoreError> {
    conn.busy_timeout(wait).map_err(backend)?;
    let mut result = Err(StoreError::Backend(
        "sqlite: write-ahead log checkpoint not attempted".into(),
    ));
    for attempt in 0..attempts {
        if attempt > 0 {
            std::thread::sleep(CHECKPOINT_PAUSE);
        }
        // The row is (busy, log frames, checkpointed frames); busy = 0 means it completed.
        result = match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0)
        }) {
            Ok(0) => Ok(()),
            Ok(_) => Err(StoreError::Backend(
                "sqlite: write-ahead log checkpoint blocked by readers".into(),
            )),
            Err(e) => Err(backend(e)),
        };
        if result.is_ok() {
            break;
        }
    }
    let restored = conn.busy_timeout(migrate::BUSY_TIMEOUT).map_err(backend);
    result.and(restored)
}

/// Creates the database file with mode 0600 if it does not exist yet. SQLite gives its `-wal`
/// and `-shm` files the database file's mode, so none of the three is readable by others
/// whatever the process umask.
fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Backend(format!(
            "sqlite: cannot create {}: {e}",
            path.display()
        ))),
    }
}

fn join_error(e: tokio::task::JoinError) -> StoreError {
    if e.is_panic() {
        StoreError::Backend("sqlite: store task panicked".into())
    } else {
        StoreError::Backend("sqlite: store task cancelled".into())
    }
}

/// Runs a query and converts every row.
fn query_all<T, P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    convert: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let mut rows = stmt.query(params).map_err(backend)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(convert(row)?);
    }
    Ok(out)
}

/// Runs a query expected to return at most one row.
fn query_opt<T, P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    convert: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let mut rows = stmt.query(params).map_err(backend)?;
    match rows.next().map_err(backend)? {
        Some(row) => convert(row).map(Some),
        None => Ok(None),
    }
}

/// `Ok` if a statement changed exactly one row, else `NotFound`.
fn one_row(changed: usize) -> Result<(), StoreError> {
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

fn has_inline_policies(
    conn: &Connection,
    account: &AccountId,
    kind: PrincipalKind,
    name: &str,
) -> Result<bool, StoreError> {
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM iam_inline_policies \
             WHERE account_id = ?1 AND principal_kind = ?2 AND principal_name = ?3",
            params![account.as_str(), kind.as_str(), name],
            |r| r.get(0),
        )
        .map_err(backend)?;
    Ok(n > 0)
}

fn select_key(conn: &Connection, key: KeyAddr) -> Result<Option<KeyRecord>, StoreError> {
    query_opt(
        conn,
        &format!("SELECT {KEY_COLUMNS} FROM keys WHERE region = ?1 AND key_id = ?2"),
        params![key.region, key.key_id.to_string()],
        key_from_row,
    )
}

/// `due_keys`: one arm per partial index of migration 2. Without statistics SQLite's planner
/// would scan every key for the deletion arm (to avoid sorting), so the indexes are named.
const DUE_KEYS_SQL: &str = "\
    SELECT region, key_id FROM keys INDEXED BY keys_rotation_due \
    WHERE deleted_date_ms IS NULL \
    AND next_rotation_date_ms IS NOT NULL AND next_rotation_date_ms <= ?1 \
    UNION \
    SELECT region, key_id FROM keys INDEXED BY keys_deletion_due \
    WHERE deleted_date_ms IS NULL \
    AND key_state = 'PendingDeletion' AND deletion_date_ms <= ?1 \
    ORDER BY region, key_id";

/// The columns of a key record after `key_id`, converted for SQLite.
struct KeyColumns<'a> {
    k: &'a KeyRecord,
    creation_ms: i64,
    deletion_ms: Option<i64>,
    tags: String,
    version: i64,
    next_rotation_ms: Option<i64>,
    deleted_ms: Option<i64>,
}

impl<'a> KeyColumns<'a> {
    fn new(k: &'a KeyRecord) -> Result<Self, StoreError> {
        Ok(KeyColumns {
            k,
            creation_ms: to_ms(k.creation_date)?,
            deletion_ms: opt_ms(k.deletion_date)?,
            tags: tags_to_json(&k.tags)?,
            version: version_to_sql(k.version)?,
            next_rotation_ms: opt_ms(k.next_rotation_date)?,
            deleted_ms: opt_ms(k.deleted_date)?,
        })
    }

    /// Executes `sql` with the key's columns as ?1 … ?20, in [`KEY_COLUMNS`] order.
    fn execute(&self, conn: &Connection, sql: &str) -> Result<usize, StoreError> {
        let k = self.k;
        conn.prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.execute(params![
                    k.key_id.to_string(),
                    k.account_id.as_str(),
                    k.region,
                    k.description,
                    k.key_state.as_str(),
                    k.key_spec.as_str(),
                    k.key_usage.as_str(),
                    k.origin.as_str(),
                    self.creation_ms,
                    self.deletion_ms,
                    k.policy,
                    self.tags,
                    &k.current_key_material_id.0[..],
                    k.multi_region,
                    self.version,
                    k.rotation_period_days,
                    self.next_rotation_ms,
                    k.pending_window_days,
                    self.deleted_ms,
                    k.primary_region,
                ])
            })
            .map_err(backend)
    }
}

fn insert_key(conn: &Connection, k: &KeyRecord) -> Result<(), StoreError> {
    KeyColumns::new(k)?.execute(
        conn,
        &format!(
            "INSERT INTO keys ({KEY_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
             ?17, ?18, ?19, ?20)"
        ),
    )?;
    Ok(())
}

/// Writes every column of `k` but its address to the row of (`k.region`, `k.key_id`).
fn update_key_row(conn: &Connection, k: &KeyRecord) -> Result<(), StoreError> {
    let changed = KeyColumns::new(k)?.execute(
        conn,
        "UPDATE keys SET account_id = ?2, description = ?4, key_state = ?5, \
         key_spec = ?6, key_usage = ?7, origin = ?8, creation_date_ms = ?9, \
         deletion_date_ms = ?10, policy = ?11, tags = ?12, current_key_material_id = ?13, \
         multi_region = ?14, version = ?15, rotation_period_days = ?16, \
         next_rotation_date_ms = ?17, pending_window_days = ?18, deleted_date_ms = ?19, \
         primary_region = ?20 \
         WHERE key_id = ?1 AND region = ?3",
    )?;
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

fn insert_material(conn: &Connection, m: &KeyMaterialRecord) -> Result<(), StoreError> {
    let created = to_ms(m.created)?;
    conn.prepare_cached(&format!(
        "INSERT INTO key_materials ({MATERIAL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    ))
    .and_then(|mut stmt| {
        stmt.execute(params![
            m.key_id.to_string(),
            &m.key_material_id.0[..],
            m.wrapped,
            created,
            m.rotation_type.map(|t| t.as_str()),
            m.region,
        ])
    })
    .map_err(backend)?;
    Ok(())
}

fn insert_access_key(
    conn: &Connection,
    k: &AccessKeyRecord,
    upsert: bool,
) -> Result<(), StoreError> {
    let created = to_ms(k.created)?;
    let conflict = if upsert {
        " ON CONFLICT (access_key_id) DO UPDATE SET account_id = excluded.account_id, \
         principal_arn = excluded.principal_arn, wrapped_secret = excluded.wrapped_secret, \
         status = excluded.status, created_ms = excluded.created_ms"
    } else {
        ""
    };
    conn.prepare_cached(&format!(
        "INSERT INTO access_keys ({ACCESS_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6){conflict}"
    ))
    .and_then(|mut stmt| {
        stmt.execute(params![
            k.access_key_id,
            k.account_id.as_str(),
            k.principal_arn,
            k.wrapped_secret,
            status_to_sql(k.status),
            created
        ])
    })
    .map_err(backend)?;
    Ok(())
}

/// The record as stored: timestamps truncated to whole milliseconds.
/// Stores a request's audit intent (once: a request that writes twice stores it once).
fn insert_intent(conn: &Connection, intent: &AuditIntent) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO audit_intents (event_id, created_ms, complete, record) \
         VALUES (?1, ?2, 0, ?3) ON CONFLICT (event_id) DO NOTHING",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            intent.event_id(),
            to_ms(intent.created()).unwrap_or(0),
            intent.record()
        ])
    })
    .map_err(backend)?;
    Ok(())
}

fn key_as_stored(mut k: KeyRecord) -> Result<KeyRecord, StoreError> {
    k.creation_date = truncate(k.creation_date)?;
    k.deletion_date = k.deletion_date.map(truncate).transpose()?;
    k.next_rotation_date = k.next_rotation_date.map(truncate).transpose()?;
    k.deleted_date = k.deleted_date.map(truncate).transpose()?;
    Ok(k)
}

/// Inside a write transaction: reads the key, applies `update`, sets the version to the stored
/// one plus one and writes the row. Returns the record as written (not yet truncated).
/// `NotFound` (closure not called) or `Rejected`; the caller's transaction then rolls back.
fn apply_key_update(
    conn: &Connection,
    key: KeyAddr,
    update: KeyUpdate,
) -> Result<KeyRecord, StoreError> {
    let stored = select_key(conn, key)?.ok_or(StoreError::NotFound)?;
    let mut next = stored.clone();
    update(&mut next).map_err(|e| StoreError::Rejected(Box::new(e)))?;
    next.key_id = key.key_id;
    next.region = stored.region.clone();
    next.version = stored
        .version
        .checked_add(1)
        .ok_or_else(|| StoreError::Backend("sqlite: key version overflow".into()))?;
    update_key_row(conn, &next)?;
    Ok(next)
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_account(
        &self,
        account: AccountRecord,
        first_access_key: AccessKeyRecord,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO accounts (account_id, created_ms) VALUES (?1, ?2)",
                params![account.account_id.as_str(), to_ms(account.created)?],
            )
            .map_err(backend)?;
            insert_access_key(conn, &first_access_key, false)?;
            Ok(())
        })
        .await
    }

    async fn list_accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        self.read(|conn| {
            query_all(
                conn,
                "SELECT account_id, created_ms FROM accounts ORDER BY account_id",
                [],
                account_from_row,
            )
        })
        .await
    }

    async fn put_access_key(&self, key: AccessKeyRecord) -> Result<(), StoreError> {
        self.write(move |conn| insert_access_key(conn, &key, true))
            .await
    }

    async fn list_access_keys(&self) -> Result<Vec<AccessKeyRecord>, StoreError> {
        self.read(|conn| {
            query_all(
                conn,
                &format!("SELECT {ACCESS_KEY_COLUMNS} FROM access_keys ORDER BY access_key_id"),
                [],
                access_key_from_row,
            )
        })
        .await
    }

    async fn directory_version(&self) -> Result<u64, StoreError> {
        self.read(|conn| {
            let v: i64 = conn
                .query_row(
                    "SELECT version FROM directory_version WHERE id = 1",
                    [],
                    |row| row.get(0),
                )
                .map_err(backend)?;
            Ok(v as u64)
        })
        .await
    }

    async fn delete_access_key(&self, access_key_id: &str) -> Result<(), StoreError> {
        let id = access_key_id.to_owned();
        self.write(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM access_keys WHERE access_key_id = ?1",
                    params![id],
                )
                .map_err(backend)?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::NotFound)
            }
        })
        .await
    }

    async fn create_user(&self, user: UserRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.execute(
                &format!("INSERT INTO iam_users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![
                    user.account_id.as_str(),
                    user.user_name,
                    user.path,
                    user.user_id,
                    to_ms(user.create_date)?,
                    tags_to_json(&user.tags)?
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn update_user(&self, user: UserRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE iam_users SET path = ?3, tags = ?4 \
                     WHERE account_id = ?1 AND user_name = ?2",
                    params![
                        user.account_id.as_str(),
                        user.user_name,
                        user.path,
                        tags_to_json(&user.tags)?
                    ],
                )
                .map_err(backend)?;
            one_row(n)
        })
        .await
    }

    async fn delete_user(&self, account: &AccountId, user_name: &str) -> Result<(), StoreError> {
        let (account, name) = (account.clone(), user_name.to_owned());
        self.write(move |conn| {
            let user = query_opt(
                conn,
                &format!(
                    "SELECT {USER_COLUMNS} FROM iam_users WHERE account_id = ?1 AND user_name = ?2"
                ),
                params![account.as_str(), name],
                user_from_row,
            )?
            .ok_or(StoreError::NotFound)?;
            let keys: i64 = conn
                .query_row(
                    "SELECT count(*) FROM access_keys WHERE principal_arn = ?1",
                    params![user.arn()],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if keys > 0 {
                return Err(StoreError::Conflict("access keys"));
            }
            if has_inline_policies(conn, &account, PrincipalKind::User, &name)? {
                return Err(StoreError::Conflict("policies"));
            }
            conn.execute(
                "DELETE FROM iam_users WHERE account_id = ?1 AND user_name = ?2",
                params![account.as_str(), name],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.read(|conn| {
            query_all(
                conn,
                &format!("SELECT {USER_COLUMNS} FROM iam_users ORDER BY account_id, user_name"),
                [],
                user_from_row,
            )
        })
        .await
    }

    async fn create_role(&self, role: RoleRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.execute(
                &format!(
                    "INSERT INTO iam_roles ({ROLE_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    role.account_id.as_str(),
                    role.role_name,
                    role.path,
                    role.role_id,
                    to_ms(role.create_date)?,
                    role.assume_role_policy_document,
                    role.description,
                    role.max_session_duration,
                    tags_to_json(&role.tags)?
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn update_role(&self, role: RoleRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE iam_roles SET path = ?3, assume_role_policy_document = ?4, \
                     description = ?5, max_session_duration = ?6, tags = ?7 \
                     WHERE account_id = ?1 AND role_name = ?2",
                    params![
                        role.account_id.as_str(),
                        role.role_name,
                        role.path,
                        role.assume_role_policy_document,
                        role.description,
                        role.max_session_duration,
                        tags_to_json(&role.tags)?
                    ],
                )
                .map_err(backend)?;
            one_row(n)
        })
        .await
    }

    async fn delete_role(&self, account: &AccountId, role_name: &str) -> Result<(), StoreError> {
        let (account, name) = (account.clone(), role_name.to_owned());
        self.write(move |conn| {
            let exists: i64 = conn
                .query_row(
                    "SELECT count(*) FROM iam_roles WHERE account_id = ?1 AND role_name = ?2",
                    params![account.as_str(), name],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if exists == 0 {
                return Err(StoreError::NotFound);
            }
            if has_inline_policies(conn, &account, PrincipalKind::Role, &name)? {
                return Err(StoreError::Conflict("policies"));
            }
            conn.execute(
                "DELETE FROM iam_roles WHERE account_id = ?1 AND role_name = ?2",
                params![account.as_str(), name],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn list_roles(&self) -> Result<Vec<RoleRecord>, StoreError> {
        self.read(|conn| {
            query_all(
                conn,
                &format!("SELECT {ROLE_COLUMNS} FROM iam_roles ORDER BY account_id, role_name"),
                [],
                role_from_row,
            )
        })
        .await
    }

    async fn put_inline_policy(&self, policy: InlinePolicyRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            let owner = match policy.principal_kind {
                PrincipalKind::User => {
                    "SELECT user_name FROM iam_users WHERE account_id = ?1 AND user_name = ?2"
                }
                PrincipalKind::Role => {
                    "SELECT role_name FROM iam_roles WHERE account_id = ?1 AND role_name = ?2"
                }
            };
            // The owner's name as stored, so every policy row spells it alike.
            let stored_name: String = query_opt(
                conn,
                owner,
                params![policy.account_id.as_str(), policy.principal_name],
                |r| r.get(0).map_err(backend),
            )?
            .ok_or(StoreError::NotFound)?;
            conn.execute(
                &format!(
                    "INSERT INTO iam_inline_policies ({INLINE_POLICY_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (account_id, principal_kind, principal_name, policy_name) \
                     DO UPDATE SET policy_document = excluded.policy_document"
                ),
                params![
                    policy.account_id.as_str(),
                    policy.principal_kind.as_str(),
                    stored_name,
                    policy.policy_name,
                    policy.policy_document
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn delete_inline_policy(
        &self,
        account: &AccountId,
        kind: PrincipalKind,
        principal_name: &str,
        policy_name: &str,
    ) -> Result<(), StoreError> {
        let (account, principal, policy) = (
            account.clone(),
            principal_name.to_owned(),
            policy_name.to_owned(),
        );
        self.write(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM iam_inline_policies WHERE account_id = ?1 \
                     AND principal_kind = ?2 AND principal_name = ?3 AND policy_name = ?4",
                    params![account.as_str(), kind.as_str(), principal, policy],
                )
                .map_err(backend)?;
            one_row(n)
        })
        .await
    }

    async fn list_inline_policies(&self) -> Result<Vec<InlinePolicyRecord>, StoreError> {
        self.read(|conn| {
            query_all(
                conn,
                &format!(
                    "SELECT {INLINE_POLICY_COLUMNS} FROM iam_inline_policies \
                     ORDER BY account_id, principal_kind DESC, principal_name, policy_name"
                ),
                [],
                inline_policy_from_row,
            )
        })
        .await
    }

    async fn create_key(
        &self,
        key: KeyRecord,
        material: KeyMaterialRecord,
    ) -> Result<(), StoreError> {
        if material.key_id != key.key_id || material.region != key.region {
            return Err(StoreError::Backend(
                "sqlite: first key material belongs to another key".into(),
            ));
        }
        self.write(move |conn| {
            insert_key(conn, &key)?;
            insert_material(conn, &material)?;
            Ok(())
        })
        .await
    }

    async fn get_key(&self, key: KeyAddr) -> Result<Option<KeyRecord>, StoreError> {
        self.read(move |conn| select_key(conn, key)).await
    }

    async fn related_keys(&self, key_id: KeyId) -> Result<Vec<KeyRecord>, StoreError> {
        self.read(move |conn| {
            query_all(
                conn,
                &format!("SELECT {KEY_COLUMNS} FROM keys WHERE key_id = ?1 ORDER BY region"),
                params![key_id.to_string()],
                key_from_row,
            )
        })
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
                "sqlite: replica key material belongs to another key".into(),
            ));
        }
        self.write(move |conn| {
            insert_key(conn, &key)?;
            for m in &materials {
                insert_material(conn, m)?;
            }
            Ok(())
        })
        .await
    }

    async fn set_primary_region(
        &self,
        key_id: KeyId,
        old_primary: &str,
        new_primary: &str,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let (id, old, new) = (
            key_id.to_string(),
            old_primary.to_string(),
            new_primary.to_string(),
        );
        self.write(move |conn| {
            let live = |region: &str| -> Result<Option<KeyRecord>, StoreError> {
                Ok(select_key(conn, KeyAddr::new(region, key_id))?
                    .filter(|k| k.deleted_date.is_none() && k.multi_region))
            };
            let (Some(from), Some(_)) = (live(&old)?, live(&new)?) else {
                return Err(StoreError::NotFound);
            };
            let next = opt_ms(from.next_rotation_date)?;
            conn.execute(
                "UPDATE keys SET primary_region = ?2, version = version + 1, \
                 next_rotation_date_ms = CASE WHEN region = ?2 THEN ?3 \
                 WHEN region = ?4 THEN NULL ELSE next_rotation_date_ms END \
                 WHERE key_id = ?1 AND multi_region = 1 AND deleted_date_ms IS NULL",
                params![id, new, next, old],
            )
            .map_err(backend)?;
            query_all(
                conn,
                &format!(
                    "SELECT {KEY_COLUMNS} FROM keys WHERE key_id = ?1 \
                     AND deleted_date_ms IS NULL ORDER BY region"
                ),
                params![id],
                key_from_row,
            )
        })
        .await
    }

    async fn list_keys(
        &self,
        account: &AccountId,
        region: &str,
        after: Option<KeyId>,
        limit: usize,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let account = account.as_str().to_string();
        let region = region.to_string();
        // Every key id sorts after the empty string.
        let after = after.map(|k| k.to_string()).unwrap_or_default();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            query_all(
                conn,
                &format!(
                    "SELECT {KEY_COLUMNS} FROM keys \
                     WHERE account_id = ?1 AND region = ?2 AND key_id > ?3 \
                     AND deleted_date_ms IS NULL \
                     ORDER BY key_id LIMIT ?4"
                ),
                params![account, region, after, limit],
                key_from_row,
            )
        })
        .await
    }

    async fn update_key(&self, key: KeyAddr, update: KeyUpdate) -> Result<KeyRecord, StoreError> {
        self.write(move |conn| {
            // On refusal the transaction is dropped, which rolls it back.
            let next = apply_key_update(conn, key, update)?;
            key_as_stored(next)
        })
        .await
    }

    async fn add_key_material(&self, material: KeyMaterialRecord) -> Result<(), StoreError> {
        self.write(move |conn| insert_material(conn, &material))
            .await
    }

    async fn get_key_materials(&self, key: KeyAddr) -> Result<Vec<KeyMaterialRecord>, StoreError> {
        self.read(move |conn| {
            query_all(
                conn,
                &format!(
                    "SELECT {MATERIAL_COLUMNS} FROM key_materials WHERE region = ?1 \
                     AND key_id = ?2 ORDER BY created_ms, seq"
                ),
                params![key.region, key.key_id.to_string()],
                material_from_row,
            )
        })
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
                "sqlite: rotated key material belongs to another key".into(),
            ));
        }
        self.write(move |conn| {
            // Any failure drops the transaction, which rolls back the key update too.
            let next = apply_key_update(conn, key, update)?;
            insert_material(conn, &material)?;
            key_as_stored(next)
        })
        .await
    }

    async fn destroy_key(&self, key: KeyAddr, update: KeyUpdate) -> Result<KeyRecord, StoreError> {
        let destroyed = self
            .write(move |conn| {
                let next = apply_key_update(conn, key, update)?;
                let (region, id) = (key.region, key.key_id.to_string());
                // secure_delete (set on the writer) overwrites the freed cells and pages with zeros.
                conn.execute(
                    "DELETE FROM key_materials WHERE region = ?1 AND key_id = ?2",
                    params![region, id],
                )
                .map_err(backend)?;
                // Import bookkeeping holds wrapped wrapping keys: erased with the key.
                conn.execute(
                    "DELETE FROM key_imports WHERE region = ?1 AND key_id = ?2",
                    params![region, id],
                )
                .map_err(backend)?;
                conn.execute(
                    "DELETE FROM aliases WHERE region = ?1 AND target_key_id = ?2",
                    params![region, id],
                )
                .map_err(backend)?;
                conn.execute(
                    "DELETE FROM grants WHERE region = ?1 AND key_id = ?2",
                    params![region, id],
                )
                .map_err(backend)?;
                key_as_stored(next)
            })
            .await?;
        // The log still holds the pages as they were before; truncate it.
        self.with_writer(|inner, conn| inner.shred_wal(conn))
            .await?;
        Ok(destroyed)
    }

    async fn due_keys(&self, now: OffsetDateTime) -> Result<Vec<KeyAddr>, StoreError> {
        let now = to_ms(now)?;
        self.read(move |conn| {
            query_all(conn, DUE_KEYS_SQL, params![now], |row| {
                let region: String = row.get(0).map_err(backend)?;
                let id: String = row.get(1).map_err(backend)?;
                KeyId::parse(&id)
                    .map(|key_id| KeyAddr::new(&region, key_id))
                    .ok_or_else(|| StoreError::Backend("sqlite: stored key id is invalid".into()))
            })
        })
        .await
    }

    async fn create_key_without_material(
        &self,
        key: KeyRecord,
        import: ImportRecord,
    ) -> Result<(), StoreError> {
        if import.key != key.addr() {
            return Err(StoreError::Backend(
                "sqlite: import bookkeeping belongs to another key".into(),
            ));
        }
        self.write(move |conn| {
            insert_key(conn, &key)?;
            imports::put_import(conn, &import)
        })
        .await
    }

    async fn get_import_record(&self, key: KeyAddr) -> Result<Option<ImportRecord>, StoreError> {
        self.read(move |conn| imports::select_import(conn, key))
            .await
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
                "sqlite: import change belongs to another key".into(),
            ));
        }
        let shred = !delete_materials.is_empty();
        let next = self
            .write(move |conn| {
                let next = apply_key_update(conn, key, update)?;
                if let Some(m) = &put_material {
                    imports::upsert_material(conn, m)?;
                }
                for id in &delete_materials {
                    imports::delete_material(conn, key, id)?;
                }
                imports::put_import(conn, &record)?;
                key_as_stored(next)
            })
            .await?;
        if shred {
            // Erased material: the log still holds the pages as they were; truncate it.
            self.with_writer(|inner, conn| inner.shred_wal(conn))
                .await?;
        }
        Ok(next)
    }

    async fn due_imports(&self, now: OffsetDateTime) -> Result<Vec<KeyAddr>, StoreError> {
        let now = to_ms(now)?;
        self.read(move |conn| imports::due(conn, now)).await
    }

    async fn put_key_last_usage(&self, usages: Vec<KeyLastUsage>) -> Result<(), StoreError> {
        if usages.is_empty() {
            return Ok(());
        }
        self.write(move |conn| {
            {
                // An equal timestamp replaces (the later call wins); an older one never does.
                let mut stmt = conn
                    .prepare_cached(&format!(
                        "INSERT INTO key_last_usage ({LAST_USAGE_COLUMNS}) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                         ON CONFLICT (region, key_id) DO UPDATE SET operation = excluded.operation, \
                         timestamp_ms = excluded.timestamp_ms, \
                         cloudtrail_event_id = excluded.cloudtrail_event_id, \
                         kms_request_id = excluded.kms_request_id \
                         WHERE excluded.timestamp_ms >= key_last_usage.timestamp_ms"
                    ))
                    .map_err(backend)?;
                for u in &usages {
                    stmt.execute(params![
                        u.key_id.to_string(),
                        u.operation,
                        to_ms(u.timestamp)?,
                        u.cloudtrail_event_id,
                        u.kms_request_id,
                        u.region,
                    ])
                    .map_err(backend)?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn get_key_last_usage(&self, key: KeyAddr) -> Result<Option<KeyLastUsage>, StoreError> {
        self.read(move |conn| {
            query_opt(
                conn,
                &format!(
                    "SELECT {LAST_USAGE_COLUMNS} FROM key_last_usage \
                     WHERE region = ?1 AND key_id = ?2"
                ),
                params![key.region, key.key_id.to_string()],
                last_usage_from_row,
            )
        })
        .await
    }

    async fn create_alias(&self, alias: AliasRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            let created = to_ms(alias.creation_date)?;
            let updated = to_ms(alias.last_updated_date)?;
            conn.prepare_cached(&format!(
                "INSERT INTO aliases ({ALIAS_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ))
            .and_then(|mut stmt| {
                stmt.execute(params![
                    alias.account_id.as_str(),
                    alias.region,
                    alias.alias_name,
                    alias.target_key_id.to_string(),
                    created,
                    updated,
                ])
            })
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn update_alias(
        &self,
        account: &AccountId,
        region: &str,
        alias_name: &str,
        target_key_id: KeyId,
        now: OffsetDateTime,
    ) -> Result<AliasRecord, StoreError> {
        let account = account.clone();
        let region = region.to_string();
        let alias_name = alias_name.to_string();
        self.write(move |conn| {
            let now_ms = to_ms(now)?;
            let created_ms: Option<i64> = conn
                .prepare_cached(
                    "UPDATE aliases SET target_key_id = ?4, last_updated_date_ms = ?5 \
                     WHERE account_id = ?1 AND region = ?2 AND alias_name = ?3 \
                     RETURNING creation_date_ms",
                )
                .and_then(|mut stmt| {
                    stmt.query_row(
                        params![
                            account.as_str(),
                            region,
                            alias_name,
                            target_key_id.to_string(),
                            now_ms
                        ],
                        |r| r.get(0),
                    )
                    .optional()
                })
                .map_err(backend)?;
            let created_ms = created_ms.ok_or(StoreError::NotFound)?;
            Ok(AliasRecord {
                account_id: account,
                region,
                alias_name,
                target_key_id,
                creation_date: from_ms(created_ms)?,
                last_updated_date: from_ms(now_ms)?,
            })
        })
        .await
    }

    async fn delete_alias(
        &self,
        account: &AccountId,
        region: &str,
        alias_name: &str,
    ) -> Result<(), StoreError> {
        let account = account.as_str().to_string();
        let region = region.to_string();
        let alias_name = alias_name.to_string();
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached(
                    "DELETE FROM aliases WHERE account_id = ?1 AND region = ?2 AND alias_name = ?3",
                )
                .and_then(|mut stmt| stmt.execute(params![account, region, alias_name]))
                .map_err(backend)?;
            if deleted == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn get_alias(
        &self,
        account: &AccountId,
        region: &str,
        alias_name: &str,
    ) -> Result<Option<AliasRecord>, StoreError> {
        let account = account.as_str().to_string();
        let region = region.to_string();
        let alias_name = alias_name.to_string();
        self.read(move |conn| {
            query_opt(
                conn,
                &format!(
                    "SELECT {ALIAS_COLUMNS} FROM aliases \
                     WHERE account_id = ?1 AND region = ?2 AND alias_name = ?3"
                ),
                params![account, region, alias_name],
                alias_from_row,
            )
        })
        .await
    }

    async fn list_aliases(
        &self,
        account: &AccountId,
        region: &str,
    ) -> Result<Vec<AliasRecord>, StoreError> {
        let account = account.as_str().to_string();
        let region = region.to_string();
        self.read(move |conn| {
            query_all(
                conn,
                &format!(
                    "SELECT {ALIAS_COLUMNS} FROM aliases WHERE account_id = ?1 AND region = ?2 \
                     ORDER BY alias_name"
                ),
                params![account, region],
                alias_from_row,
            )
        })
        .await
    }

    async fn create_grant(&self, grant: GrantRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            let created = to_ms(grant.creation_date)?;
            let operations = operations_to_json(&grant.operations)?;
            let constraints = constraints_to_json(&grant.constraints)?;
            let key = grant.key_id.to_string();
            let live: Option<i64> = conn
                .prepare_cached(
                    "SELECT 1 FROM keys WHERE region = ?1 AND key_id = ?2 \
                     AND deleted_date_ms IS NULL",
                )
                .and_then(|mut stmt| {
                    stmt.query_row(params![grant.region, key], |r| r.get(0))
                        .optional()
                })
                .map_err(backend)?;
            if live.is_none() {
                return Err(StoreError::NotFound);
            }
            let inserted = conn
                .prepare_cached(&format!(
                    "INSERT INTO grants ({GRANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                     ON CONFLICT (grant_id) DO NOTHING"
                ))
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        grant.grant_id,
                        key,
                        grant.name,
                        created,
                        grant.grantee_principal,
                        grant.retiring_principal,
                        grant.issuing_account.as_str(),
                        operations,
                        constraints,
                        grant.region,
                    ])
                })
                .map_err(backend)?;
            if inserted == 0 {
                Err(StoreError::AlreadyExists)
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn list_grants(&self, key: KeyAddr) -> Result<Vec<GrantRecord>, StoreError> {
        self.read(move |conn| {
            query_all(
                conn,
                &format!(
                    "SELECT {GRANT_COLUMNS} FROM grants WHERE region = ?1 AND key_id = ?2 \
                     ORDER BY creation_date_ms, grant_id"
                ),
                params![key.region, key.key_id.to_string()],
                grant_from_row,
            )
        })
        .await
    }

    async fn list_grants_by_retiring_principal(
        &self,
        principal: &str,
    ) -> Result<Vec<GrantRecord>, StoreError> {
        let principal = principal.to_string();
        self.read(move |conn| {
            query_all(
                conn,
                &format!(
                    "SELECT {GRANT_COLUMNS} FROM grants WHERE retiring_principal = ?1 \
                     ORDER BY key_id, region, creation_date_ms, grant_id"
                ),
                params![principal],
                grant_from_row,
            )
        })
        .await
    }

    async fn delete_grant(&self, key: KeyAddr, grant_id: &str) -> Result<(), StoreError> {
        let grant_id = grant_id.to_string();
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached(
                    "DELETE FROM grants WHERE region = ?1 AND key_id = ?2 AND grant_id = ?3",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![key.region, key.key_id.to_string(), grant_id])
                })
                .map_err(backend)?;
            if deleted == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn audit_intents(&self) -> Result<Vec<StoredIntent>, StoreError> {
        self.read(|conn| {
            query_all(
                conn,
                "SELECT event_id, record, complete, created_ms FROM audit_intents \
                 ORDER BY created_ms, event_id",
                [],
                |row| {
                    Ok(StoredIntent {
                        event_id: row.get(0).map_err(backend)?,
                        record: row.get(1).map_err(backend)?,
                        complete: row.get::<_, i64>(2).map_err(backend)? != 0,
                        created: from_ms(row.get(3).map_err(backend)?)?,
                    })
                },
            )
        })
        .await
    }

    async fn complete_audit_intent(
        &self,
        event_id: &str,
        record: Vec<u8>,
    ) -> Result<(), StoreError> {
        let event_id = event_id.to_string();
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE audit_intents SET record = ?2, complete = 1 WHERE event_id = ?1",
                    params![event_id, record],
                )
                .map_err(backend)?;
            one_row(n)
        })
        .await
    }

    async fn forget_audit_intents(&self, event_ids: Vec<String>) -> Result<(), StoreError> {
        if event_ids.is_empty() {
            return Ok(());
        }
        self.write(move |conn| {
            let mut stmt = conn
                .prepare_cached("DELETE FROM audit_intents WHERE event_id = ?1")
                .map_err(backend)?;
            for id in &event_ids {
                stmt.execute(params![id]).map_err(backend)?;
            }
            Ok(())
        })
        .await
    }

    async fn list_wrapped_secrets(&self) -> Result<Vec<WrappedSecret>, StoreError> {
        self.read(|conn| {
            let mut out = query_all(
                conn,
                "SELECT m.key_id, m.key_material_id, m.wrapped, k.account_id, k.region \
                 FROM key_materials m JOIN keys k ON k.region = m.region AND k.key_id = m.key_id \
                 WHERE k.deleted_date_ms IS NULL ORDER BY m.key_id, m.region, m.created_ms, m.seq",
                [],
                wrapped_material_from_row,
            )?;
            out.extend(query_all(
                conn,
                "SELECT access_key_id, wrapped_secret FROM access_keys ORDER BY access_key_id",
                [],
                wrapped_access_key_from_row,
            )?);
            Ok(out)
        })
        .await
    }

    async fn rewrap_secret(
        &self,
        id: WrappedSecretId,
        expected: Vec<u8>,
        new: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            let changed = match &id {
                WrappedSecretId::KeyMaterial {
                    key,
                    key_material_id,
                } => conn.execute(
                    "UPDATE key_materials SET wrapped = ?3 \
                     WHERE key_id = ?1 AND key_material_id = ?2 AND wrapped = ?4 AND region = ?5",
                    params![
                        key.key_id.to_string(),
                        &key_material_id.0[..],
                        new,
                        expected,
                        key.region
                    ],
                ),
                WrappedSecretId::AccessKey { access_key_id } => conn.execute(
                    "UPDATE access_keys SET wrapped_secret = ?2 \
                     WHERE access_key_id = ?1 AND wrapped_secret = ?3",
                    params![access_key_id, new, expected],
                ),
            }
            .map_err(backend)?;
            if changed == 1 {
                Ok(())
            } else {
                Err(StoreError::NotFound)
            }
        })
        .await
    }
}
