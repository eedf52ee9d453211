//! Versioned migrations, run once and safely when several nodes start together.
//!
//! The schema version lives in the table `trent_schema` (one row), changed in the same
//! transaction as the schema (PostgreSQL's DDL is transactional). Every node migrates at connect
//! inside one transaction that first takes a transaction-scoped advisory lock
//! (`pg_advisory_xact_lock`), so concurrent nodes migrate one after the other: the first applies
//! what is missing, the others then find the schema current. A failed migration rolls back
//! whole, the lock with it.

use deadpool_postgres::Client;
use tokio_postgres::IsolationLevel;
use trent_core::store::StoreError;

use crate::{describe, pg};

/// The migrations, in order; migration `i` (from 0) brings the schema to version `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_init.sql")];

/// The advisory lock every node takes around its migration: "TRNT" "SCHM" as one 64-bit number.
pub(crate) const MIGRATION_LOCK: i64 = 0x5452_4E54_5343_484D;

/// Brings the schema up to date in one transaction under [`MIGRATION_LOCK`] and returns the
/// version. A database newer than `migrations` knows is an error.
pub(crate) async fn migrate(client: &mut Client, migrations: &[&str]) -> Result<u32, StoreError> {
    let known = i32::try_from(migrations.len())
        .map_err(|_| StoreError::Backend("postgres: too many migrations".into()))?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await
        .map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg)?;
    // Under the lock, so two nodes never race to create it.
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS trent_schema (\
             id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), \
             version INTEGER NOT NULL)",
    )
    .await
    .map_err(pg)?;
    let current: i32 = match tx
        .query_opt("SELECT version FROM trent_schema WHERE id = 1", &[])
        .await
        .map_err(pg)?
    {
        Some(row) => row.try_get(0).map_err(pg)?,
        None => {
            tx.execute("INSERT INTO trent_schema (id, version) VALUES (1, 0)", &[])
                .await
                .map_err(pg)?;
            0
        }
    };
    if current > known {
        return Err(StoreError::Backend(format!(
            "postgres: database schema version {current} is newer than this Trent knows \
             ({known}); use a newer Trent"
        )));
    }
    let first = usize::try_from(current)
        .map_err(|_| StoreError::Backend(format!("postgres: invalid schema version {current}")))?;
    for (i, sql) in migrations.iter().enumerate().skip(first) {
        let version = i32::try_from(i + 1)
            .map_err(|_| StoreError::Backend("postgres: too many migrations".into()))?;
        // Static SQL shipped in the binary, never built from input: the simple protocol runs
        // the file's statements in order.
        tx.batch_execute(sql).await.map_err(|e| {
            StoreError::Backend(format!(
                "postgres: migration {version} failed: {}",
                describe(&e)
            ))
        })?;
        tx.execute(
            "UPDATE trent_schema SET version = $1 WHERE id = 1",
            &[&version],
        )
        .await
        .map_err(pg)?;
        tracing::info!(version, "applied PostgreSQL schema migration");
    }
    tx.commit().await.map_err(pg)?;
    u32::try_from(known).map_err(|_| StoreError::Backend("postgres: too many migrations".into()))
}
