//! Tests of what the conformance suite cannot see: the schema as stored, migration by several
//! nodes at once, several stores on one database, and failures to reach the database.
// test code: a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::time::{Duration, Instant};

use time::OffsetDateTime;
use trent_core::grant::GrantRecord;
use trent_core::iam::{InlinePolicyRecord, PrincipalKind, RoleRecord, UserRecord};
use trent_core::model::{
    AccessKeyRecord, AccessKeyStatus, AccountId, AccountRecord, KeyId, KeyMaterialId,
    KeyMaterialRecord, KeyRecord, KeySpec, KeyState, KeyUsage, Origin, RotationType, Tag,
};
use trent_core::store::{KeyUpdate, Store, StoreError};
use trent_store_postgres::test_util::PgServer;
use trent_store_postgres::{PostgresOptions, PostgresStore, MIGRATION_LOCK_KEY, SCHEMA_VERSION};

/// A server, or `None` when PostgreSQL is missing outside CI (the harness printed a note).
fn server() -> Option<PgServer> {
    PgServer::start().expect("start PostgreSQL")
}

/// A plain connection to `url`, to look at what the store wrote.
async fn raw(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("raw connect");
    tokio::spawn(connection);
    client
}

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
        deletion_date: None,
        policy: "{}".into(),
        tags: vec![Tag {
            key: "a".into(),
            value: "b".into(),
        }],
        current_key_material_id: KeyMaterialId([7; 32]),
        multi_region: false,
        rotation_period_days: Some(90),
        next_rotation_date: Some(ts(1_800_000_000_456)),
        pending_window_days: None,
        deleted_date: None,
        primary_region: None,
        version: 3,
    }
}

fn material(key_id: KeyId, n: u8) -> KeyMaterialRecord {
    KeyMaterialRecord {
        region: "us-east-1".into(),
        key_id,
        key_material_id: KeyMaterialId([n; 32]),
        wrapped: (0..=255u8).rev().map(|b| b ^ n).collect(),
        created: ts(1_700_000_000_123 + i64::from(n)),
        rotation_type: (n > 1).then_some(RotationType::OnDemand),
    }
}

fn account_record() -> AccountRecord {
    AccountRecord {
        account_id: account(),
        created: ts(1_700_000_000_000),
    }
}

fn access_key(id: &str) -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: id.into(),
        account_id: account(),
        principal_arn: "arn:aws:iam::111122223333:root".into(),
        wrapped_secret: vec![0xAB; 48],
        status: AccessKeyStatus::Active,
        created: ts(1_700_000_000_000),
    }
}

fn destroy_now() -> KeyUpdate {
    Box::new(|r| {
        r.key_state = KeyState::PendingDeletion;
        r.deleted_date = Some(ts(1_900_000_000_000));
        Ok(())
    })
}

async fn count(client: &tokio_postgres::Client, sql: &str, key_id: KeyId) -> i64 {
    client
        .query_one(sql, &[&key_id.to_string()])
        .await
        .expect(sql)
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_key_deletes_the_material_rows_and_keeps_a_tombstone() {
    let Some(pg) = server() else { return };
    let url = pg.create_database().await.unwrap();
    let store = PostgresStore::connect(&url).await.unwrap();
    let db = raw(&url).await;
    let k = key(KeyId::generate());
    store
        .create_key(k.clone(), material(k.key_id, 1))
        .await
        .unwrap();
    store.add_key_material(material(k.key_id, 2)).await.unwrap();
    let other = key(KeyId::generate());
    store
        .create_key(other.clone(), material(other.key_id, 1))
        .await
        .unwrap();
    let materials = "SELECT count(*) FROM key_materials WHERE key_id = $1";
    assert_eq!(count(&db, materials, k.key_id).await, 2);

    store.destroy_key(k.addr(), destroy_now()).await.unwrap();

    assert_eq!(
        count(&db, materials, k.key_id).await,
        0,
        "material rows gone"
    );
    assert_eq!(
        count(&db, materials, other.key_id).await,
        1,
        "another key's material stays"
    );
    let tombstone = db
        .query_one(
            "SELECT deleted_date_ms FROM keys WHERE key_id = $1",
            &[&k.key_id.to_string()],
        )
        .await
        .unwrap();
    assert_eq!(tombstone.get::<_, Option<i64>>(0), Some(1_900_000_000_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroying_a_key_leaves_the_rows_of_its_key_id_in_another_region() {
    let Some(pg) = server() else { return };
    let url = pg.create_database().await.unwrap();
    let store = PostgresStore::connect(&url).await.unwrap();
    let db = raw(&url).await;
    // One key id in two Regions (a multi-Region key and its replica): two keys.
    let east = key(KeyId::generate());
    let west = KeyRecord {
        region: "eu-west-1".into(),
        ..east.clone()
    };
    for k in [&east, &west] {
        let m = KeyMaterialRecord {
            region: k.region.clone(),
            ..material(k.key_id, 1)
        };
        store.create_key(k.clone(), m).await.unwrap();
        store
            .create_grant(GrantRecord {
                region: k.region.clone(),
                key_id: k.key_id,
                // Grant ids are unique across Regions.
                grant_id: if k.region == "us-east-1" { "ab" } else { "cd" }.repeat(32),
                name: None,
                creation_date: ts(1_700_000_000_000),
                grantee_principal: "arn:aws:iam::111122223333:root".into(),
                retiring_principal: None,
                issuing_account: account(),
                operations: vec![trent_core::Action::Encrypt],
                constraints: None,
            })
            .await
            .unwrap();
    }

    store.destroy_key(east.addr(), destroy_now()).await.unwrap();

    for (table, region, expected) in [
        ("key_materials", "us-east-1", 0),
        ("key_materials", "eu-west-1", 1),
        ("grants", "us-east-1", 0),
        ("grants", "eu-west-1", 1),
    ] {
        let n: i64 = db
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE region = $1 AND key_id = $2"),
                &[&region, &east.key_id.to_string()],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, expected, "{table} rows in {region}");
    }
    let kept = store.get_key(west.addr()).await.unwrap().unwrap();
    assert_eq!(
        kept.deleted_date, None,
        "the other Region's key is not a tombstone"
    );
    assert_eq!(store.get_key_materials(west.addr()).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_connecting_together_migrate_a_fresh_database_once() {
    let Some(pg) = server() else { return };
    let url = pg.create_database().await.unwrap();
    // Hold the migration lock, so every node queues on it, then let them all go at once.
    let mut holder = raw(&url).await;
    let hold = holder.transaction().await.unwrap();
    hold.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .unwrap();
    const NODES: usize = 8;
    let connects: Vec<_> = (0..NODES)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresStore::connect(&url).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        connects.iter().all(|c| !c.is_finished()),
        "no node migrates while another holds the migration lock"
    );
    hold.rollback().await.unwrap();
    let mut stores = Vec::new();
    for c in connects {
        stores.push(c.await.unwrap().expect("every node connects"));
    }
    let db = raw(&url).await;
    let version: i32 = db
        .query_one("SELECT version FROM trent_schema", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version as u32, SCHEMA_VERSION);
    // Migration 1 inserts the directory version row once.
    let rows: i64 = db
        .query_one("SELECT count(*) FROM directory_version", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
    // Every node works on the one schema.
    stores[0]
        .create_account(account_record(), access_key("AKIAIOSFODNN7EXAMPLE"))
        .await
        .unwrap();
    for s in &stores {
        assert_eq!(s.list_accounts().await.unwrap().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_with_a_newer_schema_is_refused() {
    let Some(pg) = server() else { return };
    let url = pg.create_database().await.unwrap();
    drop(PostgresStore::connect(&url).await.unwrap());
    raw(&url)
        .await
        .execute("UPDATE trent_schema SET version = version + 1", &[])
        .await
        .unwrap();
    let err = PostgresStore::connect(&url).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Backend(m) if m.contains("newer than this Trent knows")),
        "got {err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_are_stored_as_documented() {
    let Some(pg) = server() else { return };
    let url = pg.create_database().await.unwrap();
    let store = PostgresStore::connect(&url).await.unwrap();
    let db = raw(&url).await;
    let k = key(KeyId::generate());
    store
        .create_key(k.clone(), material(k.key_id, 1))
        .await
        .unwrap();
    let row = db
        .query_one(
            "SELECT creation_date_ms, next_rotation_date_ms, current_key_material_id, \
             multi_region, tags, rotation_period_days FROM keys WHERE key_id = $1",
            &[&k.key_id.to_string()],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1_700_000_000_123, "Unix milliseconds");
    assert_eq!(row.get::<_, Option<i64>>(1), Some(1_800_000_000_456));
    assert_eq!(row.get::<_, Vec<u8>>(2), vec![7; 32]);
    assert!(!row.get::<_, bool>(3));
    assert_eq!(row.get::<_, String>(4), r#"[{"key":"a","value":"b"}]"#);
    assert_eq!(row.get::<_, Option<i64>>(5), Some(90));

    store
        .create_account(account_record(), access_key("AKIAIOSFODNN7EXAMPLE"))
        .await
        .unwrap();
    store.create_user(alice()).await.unwrap();
    let row = db
        .query_one("SELECT user_name, user_name_folded FROM iam_users", &[])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("Alice".to_string(), "alice".to_string()),
        "the name as given, and ASCII-lowercased for comparisons"
    );

    // Every text column the store sorts or compares by is bytewise, whatever the database's
    // default collation.
    for (table, column) in [
        ("keys", "key_id"),
        ("keys", "account_id"),
        ("keys", "region"),
        ("aliases", "alias_name"),
        ("accounts", "account_id"),
        ("access_keys", "access_key_id"),
        ("iam_users", "user_name_folded"),
        ("iam_roles", "role_name_folded"),
        ("iam_inline_policies", "principal_name_folded"),
        ("iam_inline_policies", "policy_name"),
        ("grants", "grant_id"),
        ("grants", "retiring_principal"),
        ("audit_intents", "event_id"),
        ("key_materials", "region"),
        ("key_materials", "key_id"),
        ("aliases", "region"),
        ("key_last_usage", "region"),
        ("grants", "region"),
        ("key_imports", "region"),
        ("key_imports", "key_id"),
    ] {
        let collation: Option<String> = db
            .query_one(
                "SELECT collation_name::text FROM information_schema.columns \
                 WHERE table_name = $1 AND column_name = $2",
                &[&table, &column],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(collation.as_deref(), Some("C"), "{table}.{column}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_database_see_each_others_changes() {
    let Some(pg) = server() else { return };
    let url = pg.create_database().await.unwrap();
    let a = PostgresStore::connect(&url).await.unwrap();
    let b = PostgresStore::connect(&url).await.unwrap();
    let k = key(KeyId::generate());
    a.create_key(k.clone(), material(k.key_id, 1))
        .await
        .unwrap();
    let seen = b.get_key(k.addr()).await.unwrap().expect("b sees a's key");
    assert_eq!(seen, k);
    b.update_key(
        k.addr(),
        Box::new(|r| {
            r.key_state = KeyState::Disabled;
            Ok(())
        }),
    )
    .await
    .unwrap();
    let seen = a.get_key(k.addr()).await.unwrap().unwrap();
    assert_eq!(
        (seen.key_state, seen.version),
        (KeyState::Disabled, k.version + 1)
    );

    let before = a.directory_version().await.unwrap();
    b.create_account(account_record(), access_key("AKIAIOSFODNN7EXAMPLE"))
        .await
        .unwrap();
    assert_ne!(
        a.directory_version().await.unwrap(),
        before,
        "a principal change through one store moves the version the other reads"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_errors_quote_no_row_values() {
    let Some(pg) = server() else { return };
    let url = pg.create_database().await.unwrap();
    let store = PostgresStore::connect(&url).await.unwrap();
    store
        .create_account(account_record(), access_key("AKIAIOSFODNN7EXAMPLE"))
        .await
        .unwrap();
    // max_session_duration 0 violates a CHECK constraint; PostgreSQL's DETAIL line would quote
    // the whole failing row.
    let err = store
        .create_role(RoleRecord {
            account_id: account(),
            path: "/".into(),
            role_name: "r".into(),
            role_id: "AROAAAAAAAAAAAAAAAAA1".into(),
            create_date: ts(1_700_000_000_000),
            assume_role_policy_document: "distinctive-policy-text".into(),
            description: None,
            max_session_duration: 0,
            tags: Vec::new(),
        })
        .await
        .unwrap_err();
    let StoreError::Backend(message) = &err else {
        panic!("expected Backend, got {err:?}");
    };
    assert!(message.contains("23514"), "names the SQLSTATE: {message}");
    assert!(
        !message.contains("distinctive-policy-text"),
        "quotes a value: {message}"
    );
}

fn alice() -> UserRecord {
    UserRecord {
        account_id: account(),
        path: "/".into(),
        user_name: "Alice".into(),
        user_id: "AIDAAAAAAAAAAAAAAAAA1".into(),
        create_date: ts(1_700_000_000_000),
        tags: Vec::new(),
    }
}

/// How long a call blocked on another transaction's row lock is given before it counts as
/// waiting (it would otherwise have finished in milliseconds).
const BLOCKED: Duration = Duration::from_millis(700);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_created_while_its_key_is_destroyed_is_refused() {
    let Some(pg) = server() else { return };
    let url = pg.create_database().await.unwrap();
    let store = PostgresStore::connect(&url).await.unwrap();
    let k = key(KeyId::generate());
    store
        .create_key(k.clone(), material(k.key_id, 1))
        .await
        .unwrap();
    // Another node's destruction, not yet committed: the key row is locked and tombstoned.
    let mut node = raw(&url).await;
    let destruction = node.transaction().await.unwrap();
    destruction
        .execute(
            "UPDATE keys SET deleted_date_ms = 1900000000000 WHERE key_id = $1",
            &[&k.key_id.to_string()],
        )
        .await
        .unwrap();
    let grant = GrantRecord {
        region: k.region.clone(),
        key_id: k.key_id,
        grant_id: "ab".repeat(32),
        name: None,
        creation_date: ts(1_700_000_000_000),
        grantee_principal: "arn:aws:iam::111122223333:root".into(),
        retiring_principal: None,
        issuing_account: account(),
        operations: vec![trent_core::Action::Encrypt],
        constraints: None,
    };
    let create = tokio::spawn({
        let store = store.clone();
        async move { store.create_grant(grant).await }
    });
    tokio::time::sleep(BLOCKED).await;
    assert!(!create.is_finished(), "the grant waits for the destruction");
    destruction.commit().await.unwrap();
    let r = create.await.unwrap();
    assert!(matches!(r, Err(StoreError::NotFound)), "got {r:?}");
    assert!(store.list_grants(k.addr()).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_policy_put_while_its_user_is_deleted_is_refused() {
    let Some(pg) = server() else { return };
    let url = pg.create_database().await.unwrap();
    let store = PostgresStore::connect(&url).await.unwrap();
    store
        .create_account(account_record(), access_key("AKIAIOSFODNN7EXAMPLE"))
        .await
        .unwrap();
    store.create_user(alice()).await.unwrap();
    // Another node's DeleteUser, not yet committed.
    let mut node = raw(&url).await;
    let deletion = node.transaction().await.unwrap();
    deletion
        .execute(
            "DELETE FROM iam_users WHERE user_name_folded = 'alice'",
            &[],
        )
        .await
        .unwrap();
    let put = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .put_inline_policy(InlinePolicyRecord {
                    account_id: account(),
                    principal_kind: PrincipalKind::User,
                    principal_name: "alice".into(),
                    policy_name: "p".into(),
                    policy_document: "{}".into(),
                })
                .await
        }
    });
    tokio::time::sleep(BLOCKED).await;
    assert!(!put.is_finished(), "the policy waits for the deletion");
    deletion.commit().await.unwrap();
    let r = put.await.unwrap();
    assert!(matches!(r, Err(StoreError::NotFound)), "got {r:?}");
    assert!(
        store.list_inline_policies().await.unwrap().is_empty(),
        "no policy left without its user"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_given_an_access_key_while_being_deleted_is_kept() {
    let Some(pg) = server() else { return };
    let url = pg.create_database().await.unwrap();
    let store = PostgresStore::connect(&url).await.unwrap();
    store
        .create_account(account_record(), access_key("AKIAIOSFODNN7EXAMPLE"))
        .await
        .unwrap();
    let user = alice();
    store.create_user(user.clone()).await.unwrap();
    // Another node's CreateAccessKey for the user, not yet committed.
    let mut node = raw(&url).await;
    let creation = node.transaction().await.unwrap();
    creation
        .execute(
            "INSERT INTO access_keys (access_key_id, account_id, principal_arn, wrapped_secret, \
             status, created_ms) VALUES ('AKIAALICE00000000000', $1, $2, '\\x00', 'Active', 0)",
            &[&account().as_str(), &user.arn()],
        )
        .await
        .unwrap();
    let delete = tokio::spawn({
        let store = store.clone();
        async move { store.delete_user(&account(), "alice").await }
    });
    tokio::time::sleep(BLOCKED).await;
    assert!(!delete.is_finished(), "the deletion waits for the key");
    creation.commit().await.unwrap();
    let r = delete.await.unwrap();
    assert!(
        matches!(r, Err(StoreError::Conflict("access keys"))),
        "got {r:?}"
    );
    assert_eq!(
        store.list_users().await.unwrap().len(),
        1,
        "no key left without its user"
    );
}

/// Connecting must end in a `Backend` error well within `limit`.
async fn assert_fails_fast(url: &str, limit: Duration) -> String {
    let options = PostgresOptions {
        connect_timeout: Duration::from_secs(1),
        acquire_timeout: Duration::from_secs(1),
        ..PostgresOptions::default()
    };
    let started = Instant::now();
    let result = tokio::time::timeout(limit, PostgresStore::connect_with(url, options))
        .await
        .expect("connect must not hang");
    let err = result.expect_err("nothing to connect to");
    assert!(started.elapsed() < limit);
    match err {
        StoreError::Backend(m) => m,
        other => panic!("expected Backend, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_a_backend_error() {
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let message = assert_fails_fast(
        &format!("postgres://postgres@127.0.0.1:{port}/trent"),
        Duration::from_secs(10),
    )
    .await;
    assert!(message.starts_with("postgres:"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out() {
    // Accepts TCP connections (the kernel's backlog) and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let message = assert_fails_fast(
        &format!("postgres://postgres@127.0.0.1:{port}/trent"),
        Duration::from_secs(10),
    )
    .await;
    assert!(message.contains("timed out"), "{message}");
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_with_a_backend_error_once_the_database_is_gone() {
    let Some(pg) = server() else { return };
    let url = pg.create_database().await.unwrap();
    let options = PostgresOptions {
        connect_timeout: Duration::from_secs(1),
        acquire_timeout: Duration::from_secs(1),
        ..PostgresOptions::default()
    };
    let store = PostgresStore::connect_with(&url, options).await.unwrap();
    let k = key(KeyId::generate());
    store
        .create_key(k.clone(), material(k.key_id, 1))
        .await
        .unwrap();
    pg.stop().unwrap();
    for _ in 0..2 {
        let r = tokio::time::timeout(Duration::from_secs(10), store.get_key(k.addr()))
            .await
            .expect("a call must not hang");
        assert!(matches!(r, Err(StoreError::Backend(_))), "got {r:?}");
    }
}
