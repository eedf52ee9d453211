//! Tests of what the conformance suite cannot see: settings, files, migrations, encodings.

use rusqlite::Connection;
use trent_core::model::{
    AccessKeyRecord, AccessKeyStatus, AccountId, AccountRecord, AliasRecord, KeyId, KeyMaterialId,
    KeyMaterialRecord, KeyRecord, KeySpec, KeyState, KeyUsage, Origin, Tag,
};
use trent_core::store::{Store, StoreError};

use super::*;

fn ts(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap()
}

fn account() -> AccountId {
    AccountId::parse("111122223333").unwrap()
}

fn key(key_id: KeyId) -> KeyRecord {
    KeyRecord {
        key_id,
        account_id: account(),
        region: "us-east-1".into(),
        description: "d".into(),
        key_state: KeyState::Enabled,
        key_spec: KeySpec::SymmetricDefault,
        key_usage: KeyUsage::EncryptDecrypt,
        origin: Origin::AwsKms,
        creation_date: ts(1_700_000_000_123),
        deletion_date: Some(ts(1_800_000_000_456)),
        policy: "{}".into(),
        tags: vec![Tag {
            key: "a".into(),
            value: "b".into(),
        }],
        current_key_material_id: KeyMaterialId([7; 32]),
        multi_region: false,
        version: 3,
    }
}

fn material(key_id: KeyId, n: u8) -> KeyMaterialRecord {
    KeyMaterialRecord {
        key_id,
        key_material_id: KeyMaterialId([n; 32]),
        wrapped: (0..=255u8).rev().collect(),
        created: ts(1_700_000_000_123 + i64::from(n)),
    }
}

fn access_key() -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        account_id: account(),
        principal_arn: "arn:aws:iam::111122223333:root".into(),
        wrapped_secret: vec![0, 1, 2, 0xFE, 0xFF],
        status: AccessKeyStatus::Active,
        created: ts(1_700_000_000_000),
    }
}

fn pragma_i64(conn: &Connection, name: &str) -> i64 {
    conn.pragma_query_value(None, name, |r| r.get(0)).unwrap()
}

fn pragma_text(conn: &Connection, name: &str) -> String {
    conn.pragma_query_value(None, name, |r| r.get(0)).unwrap()
}

#[test]
fn file_connections_use_wal_full_sync_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    let inner = &store.inner;
    assert_eq!(inner.readers.len(), READERS);
    let writer = inner.writer.lock();
    let readers: Vec<_> = inner.readers.iter().map(|r| r.lock()).collect();
    for conn in std::iter::once(&*writer).chain(readers.iter().map(|r| &**r)) {
        assert_eq!(pragma_text(conn, "journal_mode"), "wal");
        assert_eq!(pragma_i64(conn, "synchronous"), 2, "synchronous=FULL");
        assert_eq!(pragma_i64(conn, "foreign_keys"), 1);
        assert_eq!(
            pragma_i64(conn, "busy_timeout"),
            migrate::BUSY_TIMEOUT.as_millis() as i64
        );
    }
    assert_eq!(pragma_i64(&writer, "query_only"), 0);
    for r in &readers {
        assert_eq!(pragma_i64(r, "query_only"), 1, "readers cannot write");
    }
}

#[test]
fn in_memory_store_is_migrated_and_enforces_foreign_keys() {
    let store = SqliteStore::open_in_memory().unwrap();
    assert!(store.path().is_none());
    let conn = store.inner.writer.lock();
    assert_eq!(pragma_i64(&conn, "user_version"), i64::from(SCHEMA_VERSION));
    assert_eq!(pragma_i64(&conn, "foreign_keys"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopened_database_has_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trent.db");
    let k = key(KeyId::generate());
    let alias = AliasRecord {
        account_id: account(),
        region: "us-east-1".into(),
        alias_name: "alias/x".into(),
        target_key_id: k.key_id,
        creation_date: ts(1_700_000_000_001),
        last_updated_date: ts(1_700_000_000_002),
    };
    let acct = AccountRecord {
        account_id: account(),
        created: ts(1_700_000_000_000),
    };
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .create_account(acct.clone(), access_key())
            .await
            .unwrap();
        store
            .create_key(k.clone(), material(k.key_id, 1))
            .await
            .unwrap();
        store.add_key_material(material(k.key_id, 2)).await.unwrap();
        store.create_alias(alias.clone()).await.unwrap();
        store
            .update_key(k.key_id, Box::new(|_| Ok(())))
            .await
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    assert_eq!(store.list_accounts().await.unwrap(), vec![acct]);
    assert_eq!(store.list_access_keys().await.unwrap(), vec![access_key()]);
    let mut expected = k.clone();
    expected.version += 1;
    assert_eq!(store.get_key(k.key_id).await.unwrap(), Some(expected));
    assert_eq!(
        store.get_key_materials(k.key_id).await.unwrap(),
        vec![material(k.key_id, 1), material(k.key_id, 2)]
    );
    assert_eq!(
        store
            .get_alias(&account(), "us-east-1", "alias/x")
            .await
            .unwrap(),
        Some(alias)
    );
}

#[test]
fn schema_version_and_application_id_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    assert_eq!(pragma_i64(&conn, "user_version"), i64::from(SCHEMA_VERSION));
    assert_eq!(
        pragma_i64(&conn, "application_id"),
        i64::from(migrate::APPLICATION_ID)
    );
    drop(conn);
    // Opening again applies nothing and succeeds.
    drop(SqliteStore::open(&path).unwrap());
}

#[test]
fn newer_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    match SqliteStore::open(&path) {
        Err(StoreError::Backend(msg)) => assert!(msg.contains("newer"), "{msg}"),
        other => panic!("a newer schema must be refused, got {other:?}"),
    }
}

#[test]
fn foreign_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "application_id", 42).unwrap();
    drop(conn);
    match SqliteStore::open(&path) {
        Err(StoreError::Backend(msg)) => assert!(msg.contains("not a Trent database"), "{msg}"),
        other => panic!("another application's database must be refused, got {other:?}"),
    }
}

#[test]
fn migrations_apply_in_order_once_and_atomically() {
    let mut conn = Connection::open_in_memory().unwrap();
    let m1 = "CREATE TABLE one (x INTEGER);";
    let m2 = "CREATE TABLE two (x INTEGER);";
    let bad = "CREATE TABLE three (x INTEGER); THIS IS NOT SQL;";
    assert_eq!(migrate::migrate(&mut conn, &[m1]).unwrap(), 1);
    // Re-running with one more migration applies only the new one (m1 would fail if rerun).
    assert_eq!(migrate::migrate(&mut conn, &[m1, m2]).unwrap(), 2);
    assert_eq!(pragma_i64(&conn, "user_version"), 2);
    // A failing migration rolls back whole: no table three, version unchanged.
    let err = migrate::migrate(&mut conn, &[m1, m2, bad]).unwrap_err();
    assert!(
        matches!(&err, StoreError::Backend(m) if m.contains("migration 3")),
        "{err:?}"
    );
    assert_eq!(pragma_i64(&conn, "user_version"), 2);
    let three: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'three'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(three, 0);
    // Fewer migrations than the database has is refused.
    assert!(migrate::migrate(&mut conn, &[m1]).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_are_stored_as_documented() {
    let store = SqliteStore::open_in_memory().unwrap();
    store
        .create_account(
            AccountRecord {
                account_id: account(),
                created: ts(1_700_000_000_000),
            },
            access_key(),
        )
        .await
        .unwrap();
    let k = key(KeyId::generate());
    store
        .create_key(k.clone(), material(k.key_id, 1))
        .await
        .unwrap();
    let conn = store.inner.writer.lock();
    let (id, created, deletion, tags, mid_type): (String, i64, i64, String, String) = conn
        .query_row(
            "SELECT key_id, creation_date_ms, deletion_date_ms, tags, \
             typeof(current_key_material_id) FROM keys",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(id, k.key_id.to_string());
    assert_eq!(created, 1_700_000_000_123, "Unix milliseconds");
    assert_eq!(deletion, 1_800_000_000_456);
    assert_eq!(tags, r#"[{"key":"a","value":"b"}]"#);
    assert_eq!(mid_type, "blob");
    let (wrapped, kind): (Vec<u8>, String) = conn
        .query_row(
            "SELECT wrapped, typeof(wrapped) FROM key_materials",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(kind, "blob");
    assert_eq!(
        wrapped,
        material(k.key_id, 1).wrapped,
        "stored exactly as given"
    );
    let secret: Vec<u8> = conn
        .query_row("SELECT wrapped_secret FROM access_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(secret, access_key().wrapped_secret);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_are_not_blocked_by_an_open_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    let k = key(KeyId::generate());
    store
        .create_key(k.clone(), material(k.key_id, 1))
        .await
        .unwrap();
    // Another thread holds the writer inside an uncommitted write transaction.
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let inner = store.inner.clone();
    let holder = std::thread::spawn(move || {
        let mut writer = inner.writer.lock();
        let tx = writer
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        tx.execute("UPDATE keys SET description = 'uncommitted'", [])
            .unwrap();
        held_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        // Dropping the transaction rolls it back.
    });
    held_rx.recv().unwrap();
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), store.get_key(k.key_id))
        .await
        .expect("a read must not wait for the writer")
        .unwrap();
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(read, Some(k), "readers see only committed data");
}

#[test]
fn constraint_errors_map_to_store_errors() {
    let conn = Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn.execute_batch(
        "CREATE TABLE p (id INTEGER PRIMARY KEY, u TEXT UNIQUE, c INTEGER CHECK (c > 0));
         CREATE TABLE ch (p INTEGER REFERENCES p (id));
         INSERT INTO p VALUES (1, 'a', 1);",
    )
    .unwrap();
    let run = |sql: &str| backend(conn.execute(sql, []).unwrap_err());
    assert!(matches!(
        run("INSERT INTO p VALUES (1, 'b', 1)"),
        StoreError::AlreadyExists
    ));
    assert!(matches!(
        run("INSERT INTO p VALUES (2, 'a', 1)"),
        StoreError::AlreadyExists
    ));
    assert!(matches!(
        run("INSERT INTO ch VALUES (9)"),
        StoreError::NotFound
    ));
    assert!(matches!(
        run("INSERT INTO p VALUES (3, 'c', 0)"),
        StoreError::Backend(_)
    ));
}
