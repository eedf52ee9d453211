//! Tests of what the conformance suite cannot see: settings, files, migrations, encodings.

use rusqlite::Connection;
use trent_core::model::{
    AccessKeyRecord, AccessKeyStatus, AccountId, AccountRecord, AliasRecord, KeyAddr, KeyId,
    KeyMaterialId, KeyMaterialRecord, KeyRecord, KeySpec, KeyState, KeyUsage, Origin, RotationType,
    Tag,
};
use trent_core::store::{KeyUpdate, Store, StoreError};

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
        primary_region: None,
        rotation_period_days: None,
        next_rotation_date: None,
        pending_window_days: None,
        deleted_date: None,
        version: 3,
    }
}

/// The key `key_id` in us-east-1, where these tests' keys live.
fn at(key_id: KeyId) -> KeyAddr {
    KeyAddr::new("us-east-1", key_id)
}

fn material(key_id: KeyId, n: u8) -> KeyMaterialRecord {
    KeyMaterialRecord {
        region: "us-east-1".into(),
        key_id,
        key_material_id: KeyMaterialId([n; 32]),
        wrapped: (0..=255u8).rev().collect(),
        created: ts(1_700_000_000_123 + i64::from(n)),
        rotation_type: None,
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
    assert_eq!(
        pragma_i64(&writer, "secure_delete"),
        1,
        "the writer zeroes deleted content"
    );
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
            .update_key(at(k.key_id), Box::new(|_| Ok(())))
            .await
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    assert_eq!(store.list_accounts().await.unwrap(), vec![acct]);
    assert_eq!(store.list_access_keys().await.unwrap(), vec![access_key()]);
    let mut expected = k.clone();
    expected.version += 1;
    assert_eq!(store.get_key(at(k.key_id)).await.unwrap(), Some(expected));
    assert_eq!(
        store.get_key_materials(at(k.key_id)).await.unwrap(),
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
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        store.get_key(at(k.key_id)),
    )
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

// ---------------------------------------------------------------- lifecycle

/// The bytes of the database file and its `-wal` and `-shm` companions (empty if missing).
fn file_bytes(db: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            let path = PathBuf::from(name);
            let bytes = std::fs::read(&path).unwrap_or_default();
            (path.display().to_string(), bytes)
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Where `needle` occurs among the store's files.
fn files_containing(db: &Path, needle: &[u8]) -> Vec<String> {
    file_bytes(db)
        .into_iter()
        .filter(|(_, bytes)| contains(bytes, needle))
        .map(|(name, _)| name)
        .collect()
}

/// `len` bytes no page of an unrelated database contains: a marker and a counter pattern.
fn distinctive(tag: u8, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = b"TRENT-SHRED-ME!".to_vec();
    v.push(tag);
    v.extend((0..len - v.len()).map(|i| (i as u8).wrapping_mul(37).wrapping_add(tag) ^ 0x5A));
    v
}

fn wal_len(db: &Path) -> u64 {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    std::fs::metadata(PathBuf::from(name))
        .map(|m| m.len())
        .unwrap_or(0)
}

fn destroy_now() -> KeyUpdate {
    Box::new(|r| {
        r.key_state = KeyState::PendingDeletion;
        r.deleted_date = Some(ts(1_900_000_000_000));
        Ok(())
    })
}

async fn create_key_with_blobs(store: &SqliteStore, blobs: &[Vec<u8>]) -> KeyRecord {
    let mut k = key(KeyId::generate());
    k.deletion_date = None;
    let mut first = material(k.key_id, 1);
    first.wrapped = blobs[0].clone();
    store.create_key(k.clone(), first).await.unwrap();
    for (i, blob) in blobs.iter().enumerate().skip(1) {
        let mut m = material(k.key_id, i as u8 + 1);
        m.wrapped = blob.clone();
        m.rotation_type = Some(RotationType::OnDemand);
        store.add_key_material(m).await.unwrap();
    }
    k
}

/// Destroyed material is in neither trent.db nor trent.db-wal afterwards, whether it had been
/// checkpointed into the database (`in_db`) or was still only in the log.
async fn destroyed_material_leaves_no_copy(in_db: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trent.db");
    let store = SqliteStore::open(&path).unwrap();
    // A 64-byte wrapped blob (fits in its cell) and a large one (spills to overflow pages).
    let small = distinctive(1, 64);
    let large = distinctive(2, 20_000);
    let large_probe = large[9_000..9_064].to_vec();
    let survivor = distinctive(3, 64);
    let k = create_key_with_blobs(&store, &[small.clone(), large]).await;
    let other = create_key_with_blobs(&store, std::slice::from_ref(&survivor)).await;
    store
        .create_alias(AliasRecord {
            account_id: account(),
            region: "us-east-1".into(),
            alias_name: "alias/doomed".into(),
            target_key_id: k.key_id,
            creation_date: ts(1),
            last_updated_date: ts(1),
        })
        .await
        .unwrap();
    if in_db {
        checkpoint_truncate(&store.inner.writer.lock(), 1, CHECKPOINT_WAIT).unwrap();
        assert_eq!(wal_len(&path), 0);
        let db_name = path.display().to_string();
        assert_eq!(files_containing(&path, &small), vec![db_name.clone()]);
        assert_eq!(files_containing(&path, &large_probe), vec![db_name]);
    } else {
        // Only the log holds them (the scan itself works).
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let wal = PathBuf::from(wal).display().to_string();
        assert_eq!(files_containing(&path, &small), vec![wal.clone()]);
        assert_eq!(files_containing(&path, &large_probe), vec![wal]);
    }

    let tombstone = store
        .destroy_key(at(k.key_id), destroy_now())
        .await
        .unwrap();
    assert!(tombstone.deleted_date.is_some());
    assert_eq!(wal_len(&path), 0, "the write-ahead log is truncated");
    assert!(
        files_containing(&path, &small).is_empty(),
        "the 64-byte wrapped material survives in {:?}",
        files_containing(&path, &small)
    );
    assert!(
        files_containing(&path, &large_probe).is_empty(),
        "the large wrapped material survives in {:?}",
        files_containing(&path, &large_probe)
    );
    assert!(
        !files_containing(&path, &survivor).is_empty(),
        "other keys' material is still stored"
    );
    assert!(store
        .get_key_materials(at(k.key_id))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .get_key_materials(at(other.key_id))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.get_key(at(k.key_id)).await.unwrap(), Some(tombstone));

    // Still true after the store is closed and reopened.
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    assert!(files_containing(&path, &small).is_empty());
    assert!(files_containing(&path, &large_probe).is_empty());
    assert!(store.get_key(at(k.key_id)).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroyed_material_leaves_no_copy_in_the_database_file() {
    destroyed_material_leaves_no_copy(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroyed_material_leaves_no_copy_in_the_log() {
    destroyed_material_leaves_no_copy(false).await;
}

/// A connection of another process (here: another thread) in a read transaction over the
/// log's frames; it ends the transaction when `release` receives.
fn hold_read_snapshot(path: &Path) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let path = path.to_path_buf();
    let handle = std::thread::spawn(move || {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("BEGIN").unwrap();
        let _: i64 = conn
            .query_row("SELECT count(*) FROM key_materials", [], |r| r.get(0))
            .unwrap();
        held_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        conn.execute_batch("COMMIT").unwrap();
    });
    held_rx.recv().unwrap();
    (release_tx, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_waits_for_a_reader_to_let_the_log_go() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trent.db");
    let store = SqliteStore::open(&path).unwrap();
    let blob = distinctive(4, 64);
    let k = create_key_with_blobs(&store, std::slice::from_ref(&blob)).await;
    let (release, reader) = hold_read_snapshot(&path);
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        release.send(()).unwrap();
    });
    store
        .destroy_key(at(k.key_id), destroy_now())
        .await
        .unwrap();
    releaser.join().unwrap();
    reader.join().unwrap();
    assert_eq!(wal_len(&path), 0);
    assert!(files_containing(&path, &blob).is_empty());
    assert!(!store.inner.shred_pending.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_truncation_is_reported_and_retried_at_later_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trent.db");
    let store = SqliteStore::open(&path).unwrap();
    let blob = distinctive(5, 64);
    let k = create_key_with_blobs(&store, std::slice::from_ref(&blob)).await;
    let (release, reader) = hold_read_snapshot(&path);
    // The key is destroyed while a reader still needs the log's frames.
    {
        let mut conn = store.inner.writer.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        tx.execute(
            "DELETE FROM key_materials WHERE key_id = ?1",
            params![k.key_id.to_string()],
        )
        .unwrap();
        tx.commit().unwrap();
        let err = checkpoint_truncate(&conn, 2, Duration::from_millis(20)).unwrap_err();
        assert!(
            matches!(&err, StoreError::Backend(m) if m.contains("blocked by readers")),
            "{err:?}"
        );
        assert_eq!(
            pragma_i64(&conn, "busy_timeout"),
            migrate::BUSY_TIMEOUT.as_millis() as i64,
            "the usual busy timeout is restored"
        );
        store.inner.shred_pending.store(true, Ordering::SeqCst);
    }
    assert!(
        !files_containing(&path, &blob).is_empty(),
        "the log still has it"
    );
    // A write while the reader is still there cannot truncate either.
    let other = create_key_with_blobs(&store, &[distinctive(6, 64)]).await;
    assert!(store.inner.shred_pending.load(Ordering::SeqCst));
    release.send(()).unwrap();
    reader.join().unwrap();
    // The next write does.
    store
        .update_key(at(other.key_id), Box::new(|_| Ok(())))
        .await
        .unwrap();
    assert!(!store.inner.shred_pending.load(Ordering::SeqCst));
    assert_eq!(wal_len(&path), 0);
    assert!(files_containing(&path, &blob).is_empty());
}

#[test]
fn due_keys_reads_the_partial_indexes() {
    let store = SqliteStore::open_in_memory().unwrap();
    let conn = store.inner.writer.lock();
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {DUE_KEYS_SQL}"))
        .unwrap()
        .query_map([0i64], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("keys_rotation_due"), "{plan}");
    assert!(plan.contains("keys_deletion_due"), "{plan}");
    assert!(!plan.contains("SCAN keys"), "no full scan: {plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_1_database_is_migrated_with_empty_lifecycle_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trent.db");
    let k = key(KeyId::generate());
    let m = material(k.key_id, 1);
    {
        let mut conn = Connection::open(&path).unwrap();
        assert_eq!(
            migrate::migrate(&mut conn, &migrate::MIGRATIONS[..1]).unwrap(),
            1
        );
        conn.execute(
            &format!(
                "INSERT INTO keys ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, \
                 ?12, ?13, ?14, ?15)",
                "key_id, account_id, region, description, key_state, key_spec, key_usage, \
                 origin, creation_date_ms, deletion_date_ms, policy, tags, \
                 current_key_material_id, multi_region, version"
            ),
            params![
                k.key_id.to_string(),
                k.account_id.as_str(),
                k.region,
                k.description,
                k.key_state.as_str(),
                k.key_spec.as_str(),
                k.key_usage.as_str(),
                k.origin.as_str(),
                1_700_000_000_123i64,
                1_800_000_000_456i64,
                k.policy,
                r#"[{"key":"a","value":"b"}]"#,
                &k.current_key_material_id.0[..],
                false,
                3i64,
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO key_materials (key_id, key_material_id, wrapped, created_ms) \
             VALUES (?1, ?2, ?3, ?4)",
            params![
                k.key_id.to_string(),
                &m.key_material_id.0[..],
                m.wrapped,
                1_700_000_000_124i64
            ],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.get_key(at(k.key_id)).await.unwrap(), Some(k.clone()));
    assert_eq!(
        store.get_key_materials(at(k.key_id)).await.unwrap(),
        vec![m]
    );
    assert_eq!(
        store
            .list_keys(&account(), "us-east-1", None, 10)
            .await
            .unwrap(),
        vec![k]
    );
    assert_eq!(
        pragma_i64(&store.inner.writer.lock(), "user_version"),
        i64::from(SCHEMA_VERSION)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_columns_are_stored_as_documented() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut k = key(KeyId::generate());
    k.rotation_period_days = Some(365);
    k.next_rotation_date = Some(ts(1_731_536_000_123));
    k.pending_window_days = Some(7);
    k.deleted_date = Some(ts(1_800_000_000_999));
    let mut m = material(k.key_id, 1);
    m.rotation_type = Some(RotationType::Automatic);
    store.create_key(k.clone(), m).await.unwrap();
    store
        .put_key_last_usage(vec![KeyLastUsage {
            region: "us-east-1".into(),
            key_id: k.key_id,
            operation: "Encrypt".into(),
            timestamp: ts(1_700_000_000_777),
            cloudtrail_event_id: "e".into(),
            kms_request_id: "r".into(),
        }])
        .await
        .unwrap();
    let conn = store.inner.writer.lock();
    let row: (i64, i64, i64, i64, String) = conn
        .query_row(
            "SELECT k.rotation_period_days, k.next_rotation_date_ms, k.pending_window_days, \
             k.deleted_date_ms, m.rotation_type FROM keys k JOIN key_materials m USING (key_id)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        (
            365,
            1_731_536_000_123,
            7,
            1_800_000_000_999,
            "AUTOMATIC".to_string()
        )
    );
    let usage_ms: i64 = conn
        .query_row("SELECT timestamp_ms FROM key_last_usage", [], |r| r.get(0))
        .unwrap();
    assert_eq!(usage_ms, 1_700_000_000_777);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_material_of_another_key_is_refused() {
    let store = SqliteStore::open_in_memory().unwrap();
    let k = key(KeyId::generate());
    store
        .create_key(k.clone(), material(k.key_id, 1))
        .await
        .unwrap();
    let r = store
        .rotate_key(
            at(k.key_id),
            material(KeyId::generate(), 2),
            Box::new(|_| Ok(())),
        )
        .await;
    assert!(matches!(r, Err(StoreError::Backend(_))), "{r:?}");
    assert_eq!(store.get_key(at(k.key_id)).await.unwrap(), Some(k));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_6_database_moves_every_row_into_its_keys_region() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trent.db");
    let east = key(KeyId::generate());
    let mut west = key(KeyId::generate());
    west.region = "eu-west-1".into();
    let when = 1_700_000_000_500i64;
    {
        let mut conn = Connection::open(&path).unwrap();
        assert_eq!(
            migrate::migrate(&mut conn, &migrate::MIGRATIONS[..6]).unwrap(),
            6
        );
        for (n, k) in [&east, &west].into_iter().enumerate() {
            let id = k.key_id.to_string();
            conn.execute(
                "INSERT INTO keys (key_id, account_id, region, description, key_state, key_spec, \
                 key_usage, origin, creation_date_ms, deletion_date_ms, policy, tags, \
                 current_key_material_id, multi_region, version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 0, 3)",
                params![
                    id,
                    k.account_id.as_str(),
                    k.region,
                    k.description,
                    k.key_state.as_str(),
                    k.key_spec.as_str(),
                    k.key_usage.as_str(),
                    k.origin.as_str(),
                    1_700_000_000_123i64,
                    1_800_000_000_456i64,
                    k.policy,
                    r#"[{"key":"a","value":"b"}]"#,
                    &k.current_key_material_id.0[..],
                ],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO key_materials (key_id, key_material_id, wrapped, created_ms) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, &[1u8; 32][..], vec![9u8; 40], when],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO aliases VALUES (?1, ?2, 'alias/same-name', ?3, ?4, ?4)",
                params![k.account_id.as_str(), k.region, id, when],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO key_last_usage VALUES (?1, 'Encrypt', ?2, 'event', 'request')",
                params![id, when],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO grants VALUES (?1, ?2, NULL, ?3, 'arn:aws:iam::111122223333:root', \
                 'arn:aws:iam::111122223333:root', '111122223333', '[\"Decrypt\"]', NULL)",
                params![format!("{n:064}"), id, when],
            )
            .unwrap();
        }
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        pragma_i64(&store.inner.writer.lock(), "user_version"),
        i64::from(SCHEMA_VERSION)
    );
    for k in [&east, &west] {
        let stored = store.get_key(k.addr()).await.unwrap().expect("the key");
        assert_eq!(
            (stored.key_id, stored.region.as_str()),
            (k.key_id, k.region.as_str())
        );
        let materials = store.get_key_materials(k.addr()).await.unwrap();
        assert_eq!(materials.len(), 1);
        assert_eq!(materials[0].region, k.region);
        assert_eq!(
            materials[0].wrapped,
            vec![9u8; 40],
            "wrapped bytes unchanged"
        );
        let alias = store
            .get_alias(&account(), &k.region, "alias/same-name")
            .await
            .unwrap()
            .expect("the alias");
        assert_eq!(alias.target_key_id, k.key_id);
        let usage = store.get_key_last_usage(k.addr()).await.unwrap().unwrap();
        assert_eq!(
            (usage.region.as_str(), usage.key_id),
            (k.region.as_str(), k.key_id)
        );
        let grants = store.list_grants(k.addr()).await.unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].region, k.region);
        // Only its own Region knows it.
        let elsewhere = KeyAddr::new(
            if k.region == "us-east-1" {
                "eu-west-1"
            } else {
                "us-east-1"
            },
            k.key_id,
        );
        assert_eq!(store.get_key(elsewhere).await.unwrap(), None);
        assert!(store.get_key_materials(elsewhere).await.unwrap().is_empty());
    }
    let secrets = store.list_wrapped_secrets().await.unwrap();
    assert_eq!(secrets.len(), 2);
    // The foreign keys name the new tables.
    let conn = store.inner.writer.lock();
    let violations: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(violations, 0);
    let sql: String = conn
        .query_row(
            "SELECT group_concat(sql, ' ') FROM sqlite_schema WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        !sql.contains("_v7"),
        "no reference to a rebuilt table's temporary name: {sql}"
    );
}
