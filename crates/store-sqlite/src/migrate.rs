//! Connection settings and versioned migrations.
//!
//! The schema version lives in `PRAGMA user_version` (in the database header, so it changes in
//! the same transaction as the schema); `PRAGMA application_id` marks the file as Trent's.

use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};
use trent_core::store::StoreError;

use crate::backend;

/// The migrations, in order; migration `i` (from 0) brings the schema to version `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_lifecycle.sql"),
    include_str!("../migrations/0003_iam.sql"),
    include_str!("../migrations/0004_grants.sql"),
    include_str!("../migrations/0005_directory_version.sql"),
    include_str!("../migrations/0006_audit_intents.sql"),
    include_str!("../migrations/0007_regions.sql"),
    include_str!("../migrations/0008_imports.sql"),
];

/// `PRAGMA application_id` of a Trent database: "TRNT".
pub(crate) const APPLICATION_ID: i32 = 0x5452_4E54;

/// How long a connection waits for another's lock before failing with `SQLITE_BUSY`.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings every connection gets: foreign keys enforced, durable commits, patient locking.
pub(crate) fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(backend)?;
    // With WAL, FULL syncs the log at every commit: an acknowledged mutation survives power loss.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(backend)?;
    Ok(())
}

/// The writer overwrites deleted content with zeros, so erased key material does not linger
/// in free space of the database (or in the pages it logs).
pub(crate) fn enable_secure_delete(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "secure_delete", true)
        .map_err(backend)
}

/// Switches a file database to write-ahead logging (persistent in the file).
pub(crate) fn enable_wal(conn: &Connection) -> Result<(), StoreError> {
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(backend)?;
    if mode.eq_ignore_ascii_case("wal") {
        Ok(())
    } else {
        Err(StoreError::Backend(format!(
            "sqlite: could not enable WAL journal mode (got {mode})"
        )))
    }
}

/// Brings the schema up to date in one immediate transaction and returns the version.
/// A database newer than `migrations` knows, or one that is not Trent's, is an error.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<u32, StoreError> {
    let known = u32::try_from(migrations.len())
        .map_err(|_| StoreError::Backend("sqlite: too many migrations".into()))?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    let app_id: i32 = tx
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(backend)?;
    if app_id != 0 && app_id != APPLICATION_ID {
        return Err(StoreError::Backend(format!(
            "sqlite: not a Trent database (application_id {app_id:#x})"
        )));
    }
    let current: u32 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(backend)?;
    if current > known {
        return Err(StoreError::Backend(format!(
            "sqlite: database schema version {current} is newer than this Trent knows \
             ({known}); use a newer Trent"
        )));
    }
    for (i, sql) in migrations.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql)
            .map_err(|e| StoreError::Backend(format!("sqlite: migration {} failed: {e}", i + 1)))?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(backend)?;
        tracing::info!(version = i + 1, "applied SQLite schema migration");
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(backend)?;
    tx.commit().map_err(backend)?;
    Ok(known)
}
