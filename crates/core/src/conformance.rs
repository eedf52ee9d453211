//! The store conformance suite: the behaviour every [`Store`] backend must show, written once
//! and run by each backend from its own tests:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn sqlite_passes_conformance_suite() {
//!     trent_core::conformance::run_all(|| async { SqliteStore::open_in_memory().unwrap() }).await;
//! }
//! ```
//!
//! Each check takes a fresh, empty store and panics on the first deviation, naming the check.
//! The suite only awaits the store's futures, so it needs no particular runtime; backends that
//! use `tokio::task::spawn_blocking` run it under a Tokio runtime.
//!
//! What the suite pins beyond the [`Store`] documentation:
//! - **Timestamps** keep at least millisecond precision. Sub-millisecond parts may be dropped,
//!   and then only by truncation towards the past; the suite's fixtures use whole milliseconds
//!   and expect them back exactly. A record a method returns (`update_key`, `update_alias`)
//!   equals what a later read returns.
//! - **Ordering** of key ids is [`KeyId`]'s order (the bytes of the UUID, which is also the
//!   order of the lowercase hyphenated text); alias names and account and access key ids are
//!   ordered bytewise (not by a locale collation).
//! - **Referential integrity**: an access key names an existing account, key material and an
//!   alias's target and a key-usage record name an existing key; otherwise the write fails with
//!   `NotFound` (for `put_key_last_usage`, the whole batch).
//! - **Atomicity**: a method that fails (for example `create_account` whose first access key id
//!   is taken, or `rotate_key` whose material id is taken) leaves nothing behind.
//! - `update_key`, `rotate_key` and `destroy_key` set `version` to the stored version plus one,
//!   whatever the closure did; they call no closure for a missing key.
//! - **Tombstones**: a destroyed key (`deleted_date` set) is still returned by `get_key` but
//!   never by `list_keys` (and `limit` counts only listed keys) nor by `due_keys`.
//! - `put_key_last_usage` with an equal timestamp may keep either record; an older one never
//!   replaces a newer one, also within one batch.
//!
//! - **Audit intents**: every write made inside [`crate::audit_intent::scope`] stores the
//!   intent in its own transaction, once per event id, and marks it committed; a write that
//!   fails stores none and does not mark it.
//!
//! What the suite cannot see, each backend tests itself: that `destroy_key` leaves no copy of
//! the erased material in its files.
// A test suite (feature `test-util`): each check panics on the first deviation, by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;

use time::OffsetDateTime;

use crate::audit_intent::{self, AuditIntent};
use crate::error::CoreError;
use crate::grant::{GrantConstraints, GrantRecord};
use crate::iam::{InlinePolicyRecord, PrincipalKind, RoleRecord, UserRecord};
use crate::model::{
    AccessKeyRecord, AccessKeyStatus, AccountId, AccountRecord, AliasRecord, KeyAddr, KeyId,
    KeyLastUsage, KeyMaterialId, KeyMaterialRecord, KeyRecord, KeySpec, KeyState, KeyUsage, Origin,
    RotationType, Tag,
};
use crate::store::{ImportChange, ImportRecord, Store, StoreError, WrappedSecret, WrappedSecretId};

/// Runs every check, each against a fresh empty store made by `make`.
pub async fn run_all<S, F, Fut>(mut make: F)
where
    S: Store,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    accounts_and_access_keys(&make().await).await;
    directory_version_changes_with_every_principal_change(&make().await).await;
    duplicate_account_is_rejected_atomically(&make().await).await;
    access_key_requires_account(&make().await).await;
    key_round_trip(&make().await).await;
    key_enums_round_trip(&make().await).await;
    timestamps_keep_milliseconds(&make().await).await;
    duplicate_key_is_rejected(&make().await).await;
    multi_region_keys_relate_replicate_and_change_primary(&make().await).await;
    list_keys_pages_by_account_and_region(&make().await).await;
    update_key_applies_and_bumps_version(&make().await).await;
    update_key_rejection_changes_nothing(&make().await).await;
    update_key_missing_is_not_found(&make().await).await;
    concurrent_update_key_loses_nothing(&make().await).await;
    key_materials_oldest_first(&make().await).await;
    key_material_integrity(&make().await).await;
    aliases_lifecycle(&make().await).await;
    aliases_scoped_by_account_and_region(&make().await).await;
    alias_target_must_exist(&make().await).await;
    lifecycle_fields_round_trip(&make().await).await;
    rotate_key_updates_and_adds_material_atomically(&make().await).await;
    rotate_key_rejection_adds_nothing(&make().await).await;
    concurrent_rotations_rotate_once(&make().await).await;
    destroy_key_erases_materials_and_aliases(&make().await).await;
    destroy_key_rejection_changes_nothing(&make().await).await;
    tombstones_are_not_listed(&make().await).await;
    due_keys_selects_exactly_the_due_ones(&make().await).await;
    key_last_usage_keeps_the_newest(&make().await).await;
    key_last_usage_requires_key(&make().await).await;
    iam_users_round_trip_with_case_insensitive_names(&make().await).await;
    delete_user_refuses_while_keys_or_policies_remain(&make().await).await;
    iam_roles_and_inline_policies(&make().await).await;
    delete_access_key_removes_exactly_one(&make().await).await;
    grants_round_trip_in_order(&make().await).await;
    grants_by_retiring_principal(&make().await).await;
    grant_requires_live_key_and_unique_id(&make().await).await;
    delete_grant_removes_exactly_one(&make().await).await;
    destroy_key_erases_grants(&make().await).await;
    writes_commit_the_current_audit_intent(&make().await).await;
    failed_writes_store_no_audit_intent(&make().await).await;
    audit_intents_complete_and_forget(&make().await).await;
    wrapped_secrets_list_and_rewrap(&make().await).await;
    imported_material_changes_key_materials_and_bookkeeping_at_once(&make().await).await;
    rejected_import_change_changes_nothing(&make().await).await;
    due_imports_selects_exactly_the_due_ones(&make().await).await;
}

// ---------------------------------------------------------------- fixtures

/// A UTC instant `ms` milliseconds after the Unix epoch.
fn ts(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).expect("timestamp")
}

/// A fixed, realistic base time with a non-zero millisecond part.
const T0: i64 = 1_700_000_000_123;

fn account(n: u64) -> AccountId {
    AccountId::parse(&format!("{n:012}")).expect("account id")
}

fn material_id(n: u8) -> KeyMaterialId {
    let mut b = [n; 32];
    b[0] = 0xA5;
    b[31] = n.wrapping_mul(7);
    KeyMaterialId(b)
}

/// Every byte value, so blobs are checked for exact round-trips.
fn all_bytes(salt: u8) -> Vec<u8> {
    (0..=255u8).map(|b| b ^ salt).collect()
}

fn key_record(key_id: KeyId, account_id: &AccountId, region: &str) -> KeyRecord {
    KeyRecord {
        key_id,
        account_id: account_id.clone(),
        region: region.to_string(),
        description: format!("key {key_id}"),
        key_state: KeyState::Enabled,
        key_spec: KeySpec::SymmetricDefault,
        key_usage: KeyUsage::EncryptDecrypt,
        origin: Origin::AwsKms,
        creation_date: ts(T0),
        deletion_date: None,
        policy: r#"{"Version":"2012-10-17","Statement":[]}"#.to_string(),
        tags: Vec::new(),
        current_key_material_id: material_id(1),
        multi_region: false,
        primary_region: None,
        rotation_period_days: None,
        next_rotation_date: None,
        pending_window_days: None,
        deleted_date: None,
        version: 1,
    }
}

/// The Region the suite's keys live in unless a check says otherwise.
const REGION: &str = "us-east-1";

/// The key `key_id` in [`REGION`].
fn at(key_id: KeyId) -> KeyAddr {
    KeyAddr::new(REGION, key_id)
}

/// Material `n` of the key `k`, in its Region.
fn material_of(k: &KeyRecord, n: u8, created_ms: i64) -> KeyMaterialRecord {
    KeyMaterialRecord {
        region: k.region.clone(),
        ..material(k.key_id, n, created_ms)
    }
}

fn material(key_id: KeyId, n: u8, created_ms: i64) -> KeyMaterialRecord {
    KeyMaterialRecord {
        region: REGION.to_string(),
        key_id,
        key_material_id: material_id(n),
        wrapped: all_bytes(n),
        created: ts(created_ms),
        rotation_type: None,
    }
}

fn access_key(id: &str, account_id: &AccountId) -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: id.to_string(),
        account_id: account_id.clone(),
        principal_arn: format!("arn:aws:iam::{account_id}:root"),
        wrapped_secret: all_bytes(id.len() as u8),
        status: AccessKeyStatus::Active,
        created: ts(T0),
    }
}

fn account_record(account_id: &AccountId, created_ms: i64) -> AccountRecord {
    AccountRecord {
        account_id: account_id.clone(),
        created: ts(created_ms),
    }
}

fn alias(account_id: &AccountId, region: &str, name: &str, target: KeyId) -> AliasRecord {
    AliasRecord {
        account_id: account_id.clone(),
        region: region.to_string(),
        alias_name: name.to_string(),
        target_key_id: target,
        creation_date: ts(T0),
        last_updated_date: ts(T0 + 1),
    }
}

/// Creates a key with its first material (material id 1) and returns the record.
async fn put_key<S: Store>(store: &S, account_id: &AccountId, region: &str) -> KeyRecord {
    let key = key_record(KeyId::generate(), account_id, region);
    store
        .create_key(key.clone(), material_of(&key, 1, T0))
        .await
        .expect("create_key");
    key
}

/// Polls all futures concurrently on the current task and returns their outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut any_pending = false;
        for (slot, out) in pending.iter_mut().zip(outputs.iter_mut()) {
            if let Some(fut) = slot {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *out = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => any_pending = true,
                }
            }
        }
        if any_pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future completed"))
        .collect()
}

// ---------------------------------------------------------------- accounts and access keys

/// Accounts and access keys round-trip and list in id order; `put_access_key` inserts or replaces.
pub async fn accounts_and_access_keys<S: Store>(store: &S) {
    assert!(store
        .list_accounts()
        .await
        .expect("list_accounts")
        .is_empty());
    assert!(store
        .list_access_keys()
        .await
        .expect("list_access_keys")
        .is_empty());

    let (a, b, c) = (
        account(333_333_333_333),
        account(111_111_111_111),
        account(222_222_222_222),
    );
    // Created out of order; access key ids sort differently from their accounts.
    let ka = access_key("AKIAAAAAAAAAAAAAAAAC", &a);
    let kb = access_key("AKIAAAAAAAAAAAAAAAAA", &b);
    let kc = access_key("AKIAAAAAAAAAAAAAAAAB", &c);
    store
        .create_account(account_record(&a, T0), ka.clone())
        .await
        .expect("create a");
    store
        .create_account(account_record(&b, T0 + 1), kb.clone())
        .await
        .expect("create b");
    store
        .create_account(account_record(&c, T0 + 2), kc.clone())
        .await
        .expect("create c");

    let accounts = store.list_accounts().await.expect("list_accounts");
    assert_eq!(
        accounts,
        vec![
            account_record(&b, T0 + 1),
            account_record(&c, T0 + 2),
            account_record(&a, T0)
        ],
        "accounts round-trip, ordered by account id"
    );
    let keys = store.list_access_keys().await.expect("list_access_keys");
    assert_eq!(
        keys,
        vec![kb.clone(), kc.clone(), ka.clone()],
        "access keys round-trip, ordered by access key id"
    );

    // Insert a second key for account a, with an empty-looking but valid secret and inactive.
    let mut ka2 = access_key("AKIAZZZZZZZZZZZZZZZZ", &a);
    ka2.status = AccessKeyStatus::Inactive;
    ka2.principal_arn = format!("arn:aws:iam::{a}:user/alice");
    ka2.created = ts(T0 + 50);
    store.put_access_key(ka2.clone()).await.expect("put new");
    // Replace an existing one: every field but the id changes.
    let mut kb_replaced = kb.clone();
    kb_replaced.status = AccessKeyStatus::Inactive;
    kb_replaced.wrapped_secret = vec![0, 0xFF, 0, 7];
    kb_replaced.principal_arn = format!("arn:aws:iam::{b}:role/ops");
    kb_replaced.created = ts(T0 + 99);
    store
        .put_access_key(kb_replaced.clone())
        .await
        .expect("put replace");
    let keys = store.list_access_keys().await.expect("list_access_keys");
    assert_eq!(
        keys,
        vec![kb_replaced, kc, ka, ka2],
        "put_access_key inserts or replaces by access key id"
    );
}

/// `directory_version` changes with each change to accounts, access keys, users and inline
/// policies, and not with a failed one.
pub async fn directory_version_changes_with_every_principal_change<S: Store>(store: &S) {
    let version = || async { store.directory_version().await.expect("directory_version") };
    let mut last = version().await;
    let mut changed = |step: &str, now: u64| {
        assert_ne!(now, last, "directory_version unchanged after {step}");
        last = now;
    };
    let a = account(111_111_111_111);
    let key = access_key("AKIAAAAAAAAAAAAAAAAA", &a);
    store
        .create_account(account_record(&a, T0), key.clone())
        .await
        .expect("create account");
    changed("create_account", version().await);
    let mut inactive = key.clone();
    inactive.status = AccessKeyStatus::Inactive;
    store.put_access_key(inactive).await.expect("deactivate");
    changed("put_access_key", version().await);
    let alice = user(&a, "alice", "AIDAAAAAAAAAAAAAAAAA1");
    store.create_user(alice).await.expect("create_user");
    changed("create_user", version().await);
    store
        .put_inline_policy(inline(&a, PrincipalKind::User, "alice", "p"))
        .await
        .expect("put_inline_policy");
    changed("put_inline_policy", version().await);
    store
        .delete_access_key(&key.access_key_id)
        .await
        .expect("delete_access_key");
    changed("delete_access_key", version().await);
    assert!(store
        .put_access_key(access_key(
            "AKIAAAAAAAAAAAAAAAAB",
            &account(999_999_999_999)
        ))
        .await
        .is_err());
    assert_eq!(version().await, last, "a failed write changes nothing");
}

/// A duplicate account is `AlreadyExists` and adds nothing; so is a new account whose first
/// access key id is taken.
pub async fn duplicate_account_is_rejected_atomically<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let first = access_key("AKIAFIRST00000000000", &a);
    store
        .create_account(account_record(&a, T0), first.clone())
        .await
        .expect("create");

    let other_key = access_key("AKIASECOND0000000000", &a);
    let r = store
        .create_account(account_record(&a, T0 + 5), other_key)
        .await;
    assert!(
        matches!(r, Err(StoreError::AlreadyExists)),
        "duplicate account must be AlreadyExists, got {r:?}"
    );

    let b = account(222_222_222_222);
    let mut clash = access_key("AKIAFIRST00000000000", &b);
    clash.principal_arn = format!("arn:aws:iam::{b}:root");
    let r = store.create_account(account_record(&b, T0), clash).await;
    assert!(
        matches!(r, Err(StoreError::AlreadyExists)),
        "account whose first access key id is taken must be AlreadyExists, got {r:?}"
    );

    assert_eq!(
        store.list_accounts().await.expect("list_accounts"),
        vec![account_record(&a, T0)],
        "failed create_account calls leave no account behind"
    );
    assert_eq!(
        store.list_access_keys().await.expect("list_access_keys"),
        vec![first],
        "failed create_account calls leave no access key behind"
    );
}

/// An access key of an unknown account is refused with `NotFound`.
pub async fn access_key_requires_account<S: Store>(store: &S) {
    let r = store
        .put_access_key(access_key(
            "AKIAORPHAN0000000000",
            &account(999_999_999_999),
        ))
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "access key of an unknown account must be NotFound, got {r:?}"
    );
    assert!(store
        .list_access_keys()
        .await
        .expect("list_access_keys")
        .is_empty());
}

// ---------------------------------------------------------------- keys

/// Every field of a key survives `create_key` → `get_key`; unknown ids read as `None`.
pub async fn key_round_trip<S: Store>(store: &S) {
    let a = account(111_122_223_333);
    let mut k1 = key_record(KeyId::generate(), &a, "eu-west-1");
    k1.description =
        "Ünïcødé description — with \"quotes\", \\backslashes\\ and 'apostrophes'".into();
    k1.tags = vec![
        Tag {
            key: "Project".into(),
            value: "Trent".into(),
        },
        Tag {
            key: "Ωmega".into(),
            value: "".into(),
        },
        Tag {
            key: "a\"b".into(),
            value: "line1\nline2".into(),
        },
    ];
    k1.policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#.into();
    k1.creation_date = ts(T0);
    k1.deletion_date = None;
    k1.current_key_material_id = material_id(1);
    k1.version = 1;

    let mut k2 = key_record(KeyId::generate(), &a, "us-east-1");
    k2.description = String::new();
    k2.key_state = KeyState::PendingDeletion;
    k2.key_spec = KeySpec::EccNistP256;
    k2.key_usage = KeyUsage::SignVerify;
    k2.origin = Origin::External;
    k2.creation_date = ts(T0 + 1);
    k2.deletion_date = Some(ts(T0 + 7 * 86_400_000 + 456));
    k2.policy = "{}".into();
    k2.tags = Vec::new();
    k2.current_key_material_id = material_id(2);
    k2.multi_region = true;
    k2.version = 41;

    store
        .create_key(k1.clone(), material_of(&k1, 1, T0))
        .await
        .expect("create k1");
    store
        .create_key(k2.clone(), material_of(&k2, 2, T0 + 1))
        .await
        .expect("create k2");

    assert_eq!(
        store.get_key(k1.addr()).await.expect("get k1"),
        Some(k1.clone()),
        "key round-trip (deletion_date None, tags, policy)"
    );
    assert_eq!(
        store.get_key(k2.addr()).await.expect("get k2"),
        Some(k2.clone()),
        "key round-trip (deletion_date Some, multi-Region, no tags)"
    );
    assert_eq!(
        store
            .get_key(at(KeyId::generate()))
            .await
            .expect("get unknown"),
        None,
        "unknown key id reads as None"
    );
    assert_eq!(
        store.get_key_materials(k1.addr()).await.expect("materials"),
        vec![material_of(&k1, 1, T0)],
        "create_key stores the first material"
    );
}

/// Every value of every enum in a key record round-trips.
pub async fn key_enums_round_trip<S: Store>(store: &S) {
    let a = account(123_456_789_012);
    let n = KeySpec::ALL
        .len()
        .max(KeyState::ALL.len())
        .max(KeyUsage::ALL.len())
        .max(Origin::ALL.len());
    let mut keys = Vec::new();
    for i in 0..n {
        let mut k = key_record(KeyId::generate(), &a, "ap-south-1");
        k.key_spec = KeySpec::ALL[i % KeySpec::ALL.len()];
        k.key_state = KeyState::ALL[i % KeyState::ALL.len()];
        k.key_usage = KeyUsage::ALL[i % KeyUsage::ALL.len()];
        k.origin = Origin::ALL[i % Origin::ALL.len()];
        k.multi_region = i % 2 == 0;
        k.version = i as u64;
        store
            .create_key(k.clone(), material_of(&k, 1, T0))
            .await
            .expect("create_key");
        keys.push(k);
    }
    for k in &keys {
        assert_eq!(
            store.get_key(k.addr()).await.expect("get_key").as_ref(),
            Some(k),
            "enum values round-trip"
        );
    }
}

/// Whole milliseconds come back exactly; finer parts may only be truncated, and what
/// `update_key` returns equals what `get_key` reads afterwards.
pub async fn timestamps_keep_milliseconds<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let fine = ts(T0) + time::Duration::nanoseconds(456_789);
    let mut k = key_record(KeyId::generate(), &a, "us-west-2");
    k.creation_date = fine;
    k.deletion_date = Some(fine + time::Duration::days(30));
    store
        .create_key(k.clone(), material_of(&k, 1, T0))
        .await
        .expect("create_key");
    let got = store
        .get_key(k.addr())
        .await
        .expect("get_key")
        .expect("key");
    for (stored, given) in [
        (got.creation_date, k.creation_date),
        (
            got.deletion_date.expect("deletion_date"),
            k.deletion_date.expect("given"),
        ),
    ] {
        assert!(
            stored <= given && given - stored < time::Duration::milliseconds(1),
            "timestamp {given} stored as {stored}: must keep milliseconds and only truncate"
        );
    }

    let later = fine + time::Duration::days(7) + time::Duration::nanoseconds(1);
    let returned = store
        .update_key(
            k.addr(),
            Box::new(move |r| {
                r.deletion_date = Some(later);
                Ok(())
            }),
        )
        .await
        .expect("update_key");
    let read = store
        .get_key(k.addr())
        .await
        .expect("get_key")
        .expect("key");
    assert_eq!(returned, read, "update_key returns the record as stored");

    // Dates far from now survive too.
    let mut far = key_record(KeyId::generate(), &a, "us-west-2");
    far.creation_date = ts(0);
    far.deletion_date = Some(ts(253_402_300_799_999)); // 9999-12-31T23:59:59.999Z
    store
        .create_key(far.clone(), material_of(&far, 1, T0))
        .await
        .expect("create_key");
    assert_eq!(
        store.get_key(far.addr()).await.expect("get_key"),
        Some(far),
        "epoch and year-9999 timestamps round-trip"
    );
}

/// A key id taken in its Region is `AlreadyExists` and the duplicate's material is not stored;
/// the same key id in another Region is another key (multi-Region keys share ids), with its
/// own record and material (ARCHITECTURE.md §10).
pub async fn duplicate_key_is_rejected<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let k = put_key(store, &a, "us-east-1").await;
    let mut dup = key_record(k.key_id, &account(222_222_222_222), "us-east-1");
    dup.description = "impostor".into();
    let r = store
        .create_key(dup.clone(), material_of(&dup, 9, T0 + 10))
        .await;
    assert!(
        matches!(r, Err(StoreError::AlreadyExists)),
        "duplicate key id must be AlreadyExists, got {r:?}"
    );
    assert_eq!(
        store.get_key(k.addr()).await.expect("get_key"),
        Some(k.clone()),
        "the original key is untouched"
    );
    assert_eq!(
        store.get_key_materials(k.addr()).await.expect("materials"),
        vec![material_of(&k, 1, T0)],
        "the duplicate's material was not added"
    );
    assert!(store
        .list_keys(&dup.account_id, &dup.region, None, 100)
        .await
        .expect("list_keys")
        .is_empty());

    let mut elsewhere = key_record(k.key_id, &a, "eu-central-1");
    elsewhere.description = "same id, other Region".into();
    store
        .create_key(elsewhere.clone(), material_of(&elsewhere, 8, T0 + 20))
        .await
        .expect("the same key id in another Region is another key");
    assert_eq!(
        store.get_key(elsewhere.addr()).await.expect("get_key"),
        Some(elsewhere.clone())
    );
    assert_eq!(
        store.get_key(k.addr()).await.expect("get_key"),
        Some(k.clone()),
        "each Region keeps its own record"
    );
    assert_eq!(
        store
            .get_key_materials(elsewhere.addr())
            .await
            .expect("materials"),
        vec![material_of(&elsewhere, 8, T0 + 20)],
        "each Region keeps its own material"
    );
    assert_eq!(
        store.get_key_materials(k.addr()).await.expect("materials"),
        vec![material_of(&k, 1, T0)]
    );
    let updated = store
        .update_key(
            elsewhere.addr(),
            Box::new(|r| {
                r.description = "changed".into();
                Ok(())
            }),
        )
        .await
        .expect("update_key");
    assert_eq!(updated.region, "eu-central-1");
    assert_eq!(
        store.get_key(k.addr()).await.expect("get_key"),
        Some(k.clone()),
        "an update in one Region leaves the other Region's key alone"
    );
    assert_eq!(
        store
            .get_key(KeyAddr::new("ap-south-1", k.key_id))
            .await
            .expect("get_key"),
        None,
        "a Region without the key has none"
    );
}

/// `related_keys` finds a key id in every Region; `create_replica` stores a replica with every
/// material version at once (or nothing); `set_primary_region` moves the primary Region and the
/// rotation schedule of all related keys in one step.
pub async fn multi_region_keys_relate_replicate_and_change_primary<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let id = KeyId::generate_multi_region();
    let mut primary = key_record(id, &a, "us-east-1");
    primary.multi_region = true;
    primary.primary_region = Some("us-east-1".into());
    primary.next_rotation_date = Some(ts(T0 + 1000));
    primary.rotation_period_days = Some(365);
    store
        .create_key(primary.clone(), material_of(&primary, 1, T0))
        .await
        .expect("create primary");
    let mut replica = key_record(id, &a, "eu-west-1");
    replica.multi_region = true;
    replica.primary_region = Some("us-east-1".into());
    let materials = vec![
        material_of(&replica, 1, T0),
        material_of(&replica, 2, T0 + 1),
    ];
    store
        .create_replica(replica.clone(), materials.clone())
        .await
        .expect("create_replica");
    assert_eq!(
        store
            .get_key_materials(replica.addr())
            .await
            .expect("materials"),
        materials,
        "every version stored with the replica"
    );
    let r = store
        .create_replica(replica.clone(), vec![material_of(&replica, 3, T0)])
        .await;
    assert!(
        matches!(r, Err(StoreError::AlreadyExists)),
        "a second replica in one Region is AlreadyExists, got {r:?}"
    );
    assert_eq!(
        store
            .get_key_materials(replica.addr())
            .await
            .expect("materials"),
        materials,
        "a refused replica adds no material"
    );
    let related = store.related_keys(id).await.expect("related_keys");
    assert_eq!(related, vec![replica.clone(), primary.clone()], "by Region");

    let changed = store
        .set_primary_region(id, "us-east-1", "eu-west-1")
        .await
        .expect("set_primary_region");
    assert_eq!(changed.len(), 2);
    for k in &changed {
        assert_eq!(k.primary_region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            k,
            &store.get_key(k.addr()).await.expect("get").expect("key")
        );
    }
    let (west, east) = (&changed[0], &changed[1]);
    assert_eq!(
        west.next_rotation_date,
        Some(ts(T0 + 1000)),
        "schedule moved"
    );
    assert_eq!(east.next_rotation_date, None);
    assert_eq!(east.version, primary.version + 1);
    let r = store
        .set_primary_region(id, "eu-west-1", "ap-south-1")
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "a Region without the key is NotFound, got {r:?}"
    );
}

/// `list_keys` lists only the account and Region asked for, by key id, honouring `after`
/// and `limit`.
pub async fn list_keys_pages_by_account_and_region<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let b = account(222_222_222_222);
    let mut mine = Vec::new();
    for _ in 0..25 {
        mine.push(put_key(store, &a, "us-east-1").await);
    }
    let mut other_region = Vec::new();
    for _ in 0..3 {
        other_region.push(put_key(store, &a, "us-east-2").await);
    }
    let mut other_account = Vec::new();
    for _ in 0..4 {
        other_account.push(put_key(store, &b, "us-east-1").await);
    }
    mine.sort_by_key(|k| k.key_id);
    other_region.sort_by_key(|k| k.key_id);
    other_account.sort_by_key(|k| k.key_id);

    let all = store
        .list_keys(&a, "us-east-1", None, 1000)
        .await
        .expect("list_keys");
    assert_eq!(all, mine, "all keys of the account and Region, by key id");

    // Paging with limit 10: 10, 10, 5, then nothing.
    let mut paged = Vec::new();
    let mut after = None;
    let mut page_sizes = Vec::new();
    loop {
        let page = store
            .list_keys(&a, "us-east-1", after, 10)
            .await
            .expect("list_keys page");
        page_sizes.push(page.len());
        if page.is_empty() {
            break;
        }
        after = Some(page.last().expect("non-empty").key_id);
        paged.extend(page);
        assert!(page_sizes.len() <= 5, "paging must end");
    }
    assert_eq!(page_sizes, vec![10, 10, 5, 0], "limit honoured");
    assert_eq!(paged, mine, "pages join up to the whole list");

    // `after` is a position, not necessarily a listed key.
    let pivot = mine[12].key_id;
    let after_pivot = store
        .list_keys(&a, "us-east-1", Some(pivot), 1000)
        .await
        .expect("list_keys after");
    assert_eq!(after_pivot, mine[13..].to_vec(), "strictly after `after`");
    let foreign_pivot = other_account[0].key_id;
    let expected: Vec<_> = mine
        .iter()
        .filter(|k| k.key_id > foreign_pivot)
        .cloned()
        .collect();
    assert_eq!(
        store
            .list_keys(&a, "us-east-1", Some(foreign_pivot), 1000)
            .await
            .expect("list_keys after foreign"),
        expected,
        "`after` may name a key of another account"
    );

    assert!(
        store
            .list_keys(&a, "us-east-1", None, 0)
            .await
            .expect("limit 0")
            .is_empty(),
        "limit 0 lists nothing"
    );
    assert_eq!(
        store
            .list_keys(&a, "us-east-1", None, 1)
            .await
            .expect("limit 1"),
        mine[..1].to_vec()
    );
    assert_eq!(
        store
            .list_keys(&a, "us-east-2", None, 1000)
            .await
            .expect("other region"),
        other_region,
        "Regions are separate"
    );
    assert_eq!(
        store
            .list_keys(&b, "us-east-1", None, 1000)
            .await
            .expect("other account"),
        other_account,
        "accounts are separate"
    );
    assert!(store
        .list_keys(&b, "us-east-2", None, 1000)
        .await
        .expect("empty scope")
        .is_empty());
    assert!(store
        .list_keys(&account(333_333_333_333), "us-east-1", None, 1000)
        .await
        .expect("unknown account")
        .is_empty());
}

/// `update_key` applies the closure to the stored record, bumps `version`, and returns
/// the record as stored.
pub async fn update_key_applies_and_bumps_version<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let k = put_key(store, &a, "us-east-1").await;
    let seen = Arc::new(parking_lot::Mutex::new(None));
    let seen_in = seen.clone();
    let updated = store
        .update_key(
            k.addr(),
            Box::new(move |r| {
                *seen_in.lock() = Some(r.clone());
                r.description = "rotated".into();
                r.key_state = KeyState::Disabled;
                r.tags.push(Tag {
                    key: "k".into(),
                    value: "v".into(),
                });
                r.deletion_date = Some(ts(T0 + 1000));
                r.current_key_material_id = material_id(3);
                r.policy = r#"{"changed":true}"#.into();
                r.multi_region = true;
                Ok(())
            }),
        )
        .await
        .expect("update_key");
    assert_eq!(
        seen.lock().clone(),
        Some(k.clone()),
        "the closure sees the stored record"
    );

    let mut expected = k.clone();
    expected.description = "rotated".into();
    expected.key_state = KeyState::Disabled;
    expected.tags.push(Tag {
        key: "k".into(),
        value: "v".into(),
    });
    expected.deletion_date = Some(ts(T0 + 1000));
    expected.current_key_material_id = material_id(3);
    expected.policy = r#"{"changed":true}"#.into();
    expected.multi_region = true;
    expected.version = k.version + 1;
    assert_eq!(updated, expected, "update applied and version bumped");
    assert_eq!(
        store.get_key(k.addr()).await.expect("get_key"),
        Some(expected.clone()),
        "update is stored"
    );

    // The store, not the closure, decides the version; deletion_date can go back to None.
    let again = store
        .update_key(
            k.addr(),
            Box::new(|r| {
                r.version = 1_000_000;
                r.deletion_date = None;
                Ok(())
            }),
        )
        .await
        .expect("update_key again");
    assert_eq!(again.version, k.version + 2, "version is stored + 1");
    assert_eq!(again.deletion_date, None);
    assert_eq!(store.get_key(k.addr()).await.expect("get_key"), Some(again));
}

/// A closure that refuses leaves the row unchanged and its error comes back as `Rejected`.
pub async fn update_key_rejection_changes_nothing<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let k = put_key(store, &a, "us-east-1").await;
    let r = store
        .update_key(
            k.addr(),
            Box::new(|r| {
                r.description = "half-done".into();
                r.key_state = KeyState::PendingDeletion;
                r.tags.push(Tag {
                    key: "x".into(),
                    value: "y".into(),
                });
                Err(CoreError::InvalidState("key is pending import".into()))
            }),
        )
        .await;
    match r {
        Err(StoreError::Rejected(inner)) => match *inner {
            CoreError::InvalidState(msg) => assert_eq!(msg, "key is pending import"),
            other => panic!("Rejected must carry the closure's error, got {other:?}"),
        },
        other => panic!("refusing closure must give Rejected, got {other:?}"),
    }
    assert_eq!(
        store.get_key(k.addr()).await.expect("get_key"),
        Some(k.clone()),
        "a rejected update changes nothing, not even the version"
    );
    // The key is still updatable afterwards (no transaction left open).
    let ok = store
        .update_key(k.addr(), Box::new(|_| Ok(())))
        .await
        .expect("update after rejection");
    assert_eq!(ok.version, k.version + 1);
}

/// Updating an unknown key is `NotFound` and never calls the closure.
pub async fn update_key_missing_is_not_found<S: Store>(store: &S) {
    let called = Arc::new(AtomicBool::new(false));
    let called_in = called.clone();
    let r = store
        .update_key(
            at(KeyId::generate()),
            Box::new(move |_| {
                called_in.store(true, Ordering::SeqCst);
                Ok(())
            }),
        )
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "update of a missing key must be NotFound, got {r:?}"
    );
    assert!(
        !called.load(Ordering::SeqCst),
        "closure not called for a missing key"
    );
}

/// Concurrent `update_key` calls on one key are serialised: none is lost.
pub async fn concurrent_update_key_loses_nothing<S: Store>(store: &S) {
    const N: usize = 16;
    let a = account(111_111_111_111);
    let k = put_key(store, &a, "us-east-1").await;
    let futures: Vec<_> = (0..N)
        .map(|i| {
            store.update_key(
                k.addr(),
                Box::new(move |r| {
                    r.tags.push(Tag {
                        key: format!("t{i:02}"),
                        value: i.to_string(),
                    });
                    Ok(())
                }),
            )
        })
        .collect();
    let results = join_all(futures).await;
    let mut versions: Vec<u64> = results
        .into_iter()
        .map(|r| r.expect("concurrent update_key").version)
        .collect();
    versions.sort_unstable();
    let expected_versions: Vec<u64> = (1..=N as u64).map(|d| k.version + d).collect();
    assert_eq!(
        versions, expected_versions,
        "each update saw the previous one"
    );
    let stored = store
        .get_key(k.addr())
        .await
        .expect("get_key")
        .expect("key");
    assert_eq!(stored.version, k.version + N as u64);
    let mut tags: Vec<String> = stored.tags.iter().map(|t| t.key.clone()).collect();
    tags.sort();
    let expected_tags: Vec<String> = (0..N).map(|i| format!("t{i:02}")).collect();
    assert_eq!(tags, expected_tags, "no update was lost");
}

// ---------------------------------------------------------------- key materials

/// Materials come back oldest first (ties in insertion order), bytes exact, per key.
pub async fn key_materials_oldest_first<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let k = put_key(store, &a, "us-east-1").await;
    let other = put_key(store, &a, "us-east-1").await;

    let m2 = material_of(&k, 2, T0 + 86_400_000);
    let mut m3 = material_of(&k, 3, T0 + 2 * 86_400_000);
    m3.wrapped = (0..65_536u32).map(|i| (i * 31 % 251) as u8).collect();
    let m4 = material_of(&k, 4, T0 + 2 * 86_400_000); // same instant as m3
    store.add_key_material(m2.clone()).await.expect("add m2");
    store.add_key_material(m3.clone()).await.expect("add m3");
    store.add_key_material(m4.clone()).await.expect("add m4");
    store
        .add_key_material(material_of(&other, 7, T0 + 5))
        .await
        .expect("add other");

    assert_eq!(
        store.get_key_materials(k.addr()).await.expect("materials"),
        vec![material_of(&k, 1, T0), m2, m3, m4],
        "oldest first, bytes exact, only this key's"
    );
    assert_eq!(
        store
            .get_key_materials(other.addr())
            .await
            .expect("other materials"),
        vec![material_of(&other, 1, T0), material_of(&other, 7, T0 + 5)]
    );
    assert!(
        store
            .get_key_materials(at(KeyId::generate()))
            .await
            .expect("unknown key")
            .is_empty(),
        "unknown key has no materials"
    );
}

/// A material id is unique within its key, and material needs an existing key.
pub async fn key_material_integrity<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let k = put_key(store, &a, "us-east-1").await;
    let other = put_key(store, &a, "us-east-1").await;

    let mut dup = material_of(&k, 1, T0 + 10);
    dup.wrapped = vec![1, 2, 3];
    let r = store.add_key_material(dup).await;
    assert!(
        matches!(r, Err(StoreError::AlreadyExists)),
        "duplicate material id of one key must be AlreadyExists, got {r:?}"
    );
    let r = store
        .add_key_material(material(KeyId::generate(), 5, T0))
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "material of an unknown key must be NotFound, got {r:?}"
    );
    assert_eq!(
        store.get_key_materials(k.addr()).await.expect("materials"),
        vec![material_of(&k, 1, T0)],
        "failed adds leave nothing"
    );
    assert_eq!(
        store
            .get_key_materials(other.addr())
            .await
            .expect("materials"),
        vec![material_of(&other, 1, T0)]
    );
}

// ---------------------------------------------------------------- aliases

/// Aliases: create, duplicate, get, list (bytewise by name), update, delete, and `NotFound`
/// for updates and deletes of missing aliases.
pub async fn aliases_lifecycle<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let r = "us-east-1";
    let k1 = put_key(store, &a, r).await;
    let k2 = put_key(store, &a, r).await;

    assert!(store.list_aliases(&a, r).await.expect("list").is_empty());
    let names = [
        "alias/b",
        "alias/a",
        "alias/Zeta",
        "alias/a-b_c/d",
        "alias/aa",
    ];
    for (i, n) in names.iter().enumerate() {
        let mut al = alias(&a, r, n, if i % 2 == 0 { k1.key_id } else { k2.key_id });
        al.creation_date = ts(T0 + i as i64);
        al.last_updated_date = ts(T0 + i as i64);
        store.create_alias(al).await.expect("create_alias");
    }
    let listed = store.list_aliases(&a, r).await.expect("list_aliases");
    let listed_names: Vec<&str> = listed.iter().map(|x| x.alias_name.as_str()).collect();
    assert_eq!(
        listed_names,
        vec![
            "alias/Zeta",
            "alias/a",
            "alias/a-b_c/d",
            "alias/aa",
            "alias/b"
        ],
        "aliases ordered bytewise by name"
    );

    let mut expected_a = alias(&a, r, "alias/a", k2.key_id);
    expected_a.creation_date = ts(T0 + 1);
    expected_a.last_updated_date = ts(T0 + 1);
    assert_eq!(
        store.get_alias(&a, r, "alias/a").await.expect("get_alias"),
        Some(expected_a.clone()),
        "alias round-trip"
    );
    assert_eq!(
        store.get_alias(&a, r, "alias/nope").await.expect("get"),
        None
    );
    assert_eq!(
        store.get_alias(&a, r, "alias/A").await.expect("get"),
        None,
        "alias names are case-sensitive"
    );

    let dup = store.create_alias(alias(&a, r, "alias/a", k1.key_id)).await;
    assert!(
        matches!(dup, Err(StoreError::AlreadyExists)),
        "duplicate alias must be AlreadyExists, got {dup:?}"
    );
    assert_eq!(
        store.get_alias(&a, r, "alias/a").await.expect("get_alias"),
        Some(expected_a.clone()),
        "a duplicate create changes nothing"
    );

    // update_alias retargets and sets last_updated_date, keeping creation_date.
    let now = ts(T0 + 60_000);
    let updated = store
        .update_alias(&a, r, "alias/a", k1.key_id, now)
        .await
        .expect("update_alias");
    let mut expected_updated = expected_a.clone();
    expected_updated.target_key_id = k1.key_id;
    expected_updated.last_updated_date = now;
    assert_eq!(
        updated, expected_updated,
        "update_alias returns the new record"
    );
    assert_eq!(
        store.get_alias(&a, r, "alias/a").await.expect("get_alias"),
        Some(expected_updated)
    );

    let missing = store
        .update_alias(&a, r, "alias/missing", k1.key_id, now)
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound)),
        "update of a missing alias must be NotFound, got {missing:?}"
    );
    assert_eq!(
        store.get_alias(&a, r, "alias/missing").await.expect("get"),
        None,
        "update_alias does not create"
    );

    store
        .delete_alias(&a, r, "alias/b")
        .await
        .expect("delete_alias");
    assert_eq!(store.get_alias(&a, r, "alias/b").await.expect("get"), None);
    let again = store.delete_alias(&a, r, "alias/b").await;
    assert!(
        matches!(again, Err(StoreError::NotFound)),
        "delete of a missing alias must be NotFound, got {again:?}"
    );
    let listed: Vec<String> = store
        .list_aliases(&a, r)
        .await
        .expect("list")
        .into_iter()
        .map(|x| x.alias_name)
        .collect();
    assert_eq!(
        listed,
        vec!["alias/Zeta", "alias/a", "alias/a-b_c/d", "alias/aa"]
    );
    // The name is free again.
    store
        .create_alias(alias(&a, r, "alias/b", k2.key_id))
        .await
        .expect("re-create deleted alias");
}

/// The same alias name in another account or Region is a different alias.
pub async fn aliases_scoped_by_account_and_region<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let b = account(222_222_222_222);
    let ka = put_key(store, &a, "us-east-1").await;
    let ka2 = put_key(store, &a, "eu-west-1").await;
    let kb = put_key(store, &b, "us-east-1").await;

    let x_a = alias(&a, "us-east-1", "alias/x", ka.key_id);
    let x_a2 = alias(&a, "eu-west-1", "alias/x", ka2.key_id);
    let x_b = alias(&b, "us-east-1", "alias/x", kb.key_id);
    let y_b = alias(&b, "us-east-1", "alias/y", kb.key_id);
    for al in [&x_a, &x_a2, &x_b, &y_b] {
        store.create_alias(al.clone()).await.expect("create_alias");
    }

    assert_eq!(
        store.list_aliases(&a, "us-east-1").await.expect("list"),
        vec![x_a.clone()]
    );
    assert_eq!(
        store.list_aliases(&a, "eu-west-1").await.expect("list"),
        vec![x_a2.clone()]
    );
    assert_eq!(
        store.list_aliases(&b, "us-east-1").await.expect("list"),
        vec![x_b.clone(), y_b.clone()]
    );
    assert!(store
        .list_aliases(&b, "eu-west-1")
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        store
            .get_alias(&b, "us-east-1", "alias/x")
            .await
            .expect("get"),
        Some(x_b.clone())
    );
    assert_eq!(
        store
            .get_alias(&a, "us-east-1", "alias/y")
            .await
            .expect("get"),
        None,
        "another account's alias is not visible"
    );

    // Updating and deleting in one scope leaves the others alone.
    let r = store
        .update_alias(&a, "us-east-1", "alias/y", ka.key_id, ts(T0 + 9))
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "got {r:?}");
    let r = store.delete_alias(&a, "eu-west-1", "alias/y").await;
    assert!(matches!(r, Err(StoreError::NotFound)), "got {r:?}");
    let r = store
        .update_alias(&a, "us-east-1", "alias/x", ka2.key_id, ts(T0 + 9))
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "an alias cannot point at a key of another Region, got {r:?}"
    );
    let ka3 = put_key(store, &a, "us-east-1").await;
    store
        .update_alias(&a, "us-east-1", "alias/x", ka3.key_id, ts(T0 + 9))
        .await
        .expect("update_alias");
    store
        .delete_alias(&a, "eu-west-1", "alias/x")
        .await
        .expect("delete_alias");
    assert_eq!(
        store.list_aliases(&b, "us-east-1").await.expect("list"),
        vec![x_b, y_b]
    );
    assert!(store
        .list_aliases(&a, "eu-west-1")
        .await
        .expect("list")
        .is_empty());
    let mut x_a_updated = x_a;
    x_a_updated.target_key_id = ka3.key_id;
    x_a_updated.last_updated_date = ts(T0 + 9);
    assert_eq!(
        store.list_aliases(&a, "us-east-1").await.expect("list"),
        vec![x_a_updated]
    );
}

/// An alias must point at an existing key, when created and when updated.
pub async fn alias_target_must_exist<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let k = put_key(store, &a, "us-east-1").await;
    let r = store
        .create_alias(alias(&a, "us-east-1", "alias/dangling", KeyId::generate()))
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "alias to an unknown key must be NotFound, got {r:?}"
    );
    assert!(store
        .list_aliases(&a, "us-east-1")
        .await
        .expect("list")
        .is_empty());

    let good = alias(&a, "us-east-1", "alias/good", k.key_id);
    store.create_alias(good.clone()).await.expect("create");
    let r = store
        .update_alias(&a, "us-east-1", "alias/good", KeyId::generate(), ts(T0 + 5))
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "retargeting to an unknown key must be NotFound, got {r:?}"
    );
    assert_eq!(
        store
            .get_alias(&a, "us-east-1", "alias/good")
            .await
            .expect("get"),
        Some(good),
        "a failed update changes nothing"
    );
}

// ---------------------------------------------------------------- key lifecycle

/// A rotated material of `key_id` (material id `n`), made at `created_ms`.
fn rotated(key_id: KeyId, n: u8, created_ms: i64, how: RotationType) -> KeyMaterialRecord {
    KeyMaterialRecord {
        region: REGION.to_string(),
        rotation_type: Some(how),
        ..material(key_id, n, created_ms)
    }
}

/// Asserts that `r` is `Rejected` carrying `InvalidState(msg)`.
fn assert_rejected<T: std::fmt::Debug>(r: Result<T, StoreError>, msg: &str, what: &str) {
    match r {
        Err(StoreError::Rejected(inner)) => match *inner {
            CoreError::InvalidState(m) => assert_eq!(m, msg, "{what}: the closure's error"),
            other => panic!("{what}: Rejected must carry the closure's error, got {other:?}"),
        },
        other => panic!("{what}: a refusing closure must give Rejected, got {other:?}"),
    }
}

/// The lifecycle fields of a key and the rotation type of a material round-trip, `Some` and
/// `None`, through create, update and read; their timestamps keep milliseconds.
pub async fn lifecycle_fields_round_trip<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let mut full = key_record(KeyId::generate(), &a, "us-east-1");
    full.key_state = KeyState::PendingDeletion;
    full.rotation_period_days = Some(2560);
    full.next_rotation_date = Some(ts(T0 + 365 * 86_400_000 + 7));
    full.pending_window_days = Some(30);
    full.deletion_date = Some(ts(T0 + 30 * 86_400_000 + 9));
    full.deleted_date = Some(ts(T0 + 31 * 86_400_000 + 11));
    let none = key_record(KeyId::generate(), &a, "us-east-1");
    store
        .create_key(full.clone(), material_of(&full, 1, T0))
        .await
        .expect("create full");
    store
        .create_key(none.clone(), material_of(&none, 1, T0))
        .await
        .expect("create none");
    assert_eq!(
        store.get_key(full.addr()).await.expect("get"),
        Some(full.clone()),
        "lifecycle fields round-trip (Some)"
    );
    assert_eq!(
        store.get_key(none.addr()).await.expect("get"),
        Some(none.clone()),
        "lifecycle fields round-trip (None)"
    );

    // update_key writes them: None → Some (with sub-millisecond parts) and Some → None.
    let fine = ts(T0 + 90 * 86_400_000) + time::Duration::nanoseconds(999_999);
    let set = store
        .update_key(
            none.addr(),
            Box::new(move |r| {
                r.rotation_period_days = Some(90);
                r.next_rotation_date = Some(fine);
                r.pending_window_days = Some(7);
                r.deleted_date = Some(fine + time::Duration::days(1));
                Ok(())
            }),
        )
        .await
        .expect("update none → some");
    assert_eq!(set.rotation_period_days, Some(90));
    assert_eq!(set.pending_window_days, Some(7));
    for (stored, given) in [
        (set.next_rotation_date.expect("next_rotation_date"), fine),
        (
            set.deleted_date.expect("deleted_date"),
            fine + time::Duration::days(1),
        ),
    ] {
        assert!(
            stored <= given && given - stored < time::Duration::milliseconds(1),
            "timestamp {given} stored as {stored}: must keep milliseconds and only truncate"
        );
    }
    assert_eq!(
        store.get_key(none.addr()).await.expect("get"),
        Some(set),
        "update_key returns the lifecycle fields as stored"
    );
    let cleared = store
        .update_key(
            full.addr(),
            Box::new(|r| {
                r.rotation_period_days = None;
                r.next_rotation_date = None;
                r.pending_window_days = None;
                r.deleted_date = None;
                Ok(())
            }),
        )
        .await
        .expect("update some → none");
    let mut expected = full.clone();
    expected.rotation_period_days = None;
    expected.next_rotation_date = None;
    expected.pending_window_days = None;
    expected.deleted_date = None;
    expected.version += 1;
    assert_eq!(cleared, expected, "lifecycle fields can go back to None");
    assert_eq!(
        store.get_key(full.addr()).await.expect("get"),
        Some(expected)
    );

    // Every rotation type, and none, round-trips on material.
    let auto = rotated(full.key_id, 2, T0 + 1, RotationType::Automatic);
    let on_demand = rotated(full.key_id, 3, T0 + 2, RotationType::OnDemand);
    let plain = material_of(&full, 4, T0 + 3);
    for m in [&auto, &on_demand, &plain] {
        store.add_key_material(m.clone()).await.expect("add");
    }
    assert_eq!(
        store
            .get_key_materials(full.addr())
            .await
            .expect("materials"),
        vec![material_of(&full, 1, T0), auto, on_demand, plain],
        "rotation_type round-trips (None, Automatic, OnDemand)"
    );
}

/// `rotate_key` applies the closure (bumping `version`) and adds the material in one step,
/// returns the record as stored, and refuses a taken material id without touching the key.
pub async fn rotate_key_updates_and_adds_material_atomically<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let mut k = key_record(KeyId::generate(), &a, "us-east-1");
    k.rotation_period_days = Some(365);
    k.next_rotation_date = Some(ts(T0 + 365 * 86_400_000));
    store
        .create_key(k.clone(), material_of(&k, 1, T0))
        .await
        .expect("create_key");
    let other = put_key(store, &a, "us-east-1").await;

    let seen = Arc::new(parking_lot::Mutex::new(None));
    let seen_in = seen.clone();
    let m2 = rotated(k.key_id, 2, T0 + 365 * 86_400_000, RotationType::Automatic);
    let next = ts(T0 + 2 * 365 * 86_400_000);
    let returned = store
        .rotate_key(
            k.addr(),
            m2.clone(),
            Box::new(move |r| {
                *seen_in.lock() = Some(r.clone());
                r.current_key_material_id = material_id(2);
                r.next_rotation_date = Some(next);
                r.version = 999;
                Ok(())
            }),
        )
        .await
        .expect("rotate_key");
    assert_eq!(
        seen.lock().clone(),
        Some(k.clone()),
        "the closure sees the stored record"
    );
    let mut expected = k.clone();
    expected.current_key_material_id = material_id(2);
    expected.next_rotation_date = Some(next);
    expected.version = k.version + 1;
    assert_eq!(
        returned, expected,
        "rotation applied, version is stored + 1"
    );
    assert_eq!(
        store.get_key(k.addr()).await.expect("get_key"),
        Some(expected.clone())
    );
    assert_eq!(
        store.get_key_materials(k.addr()).await.expect("materials"),
        vec![material_of(&k, 1, T0), m2.clone()],
        "rotation adds the material"
    );

    // An on-demand rotation on top.
    let m3 = rotated(k.key_id, 3, T0 + 400 * 86_400_000, RotationType::OnDemand);
    let again = store
        .rotate_key(
            k.addr(),
            m3.clone(),
            Box::new(|r| {
                r.current_key_material_id = material_id(3);
                Ok(())
            }),
        )
        .await
        .expect("rotate_key again");
    assert_eq!(again.version, k.version + 2);
    assert_eq!(again.current_key_material_id, material_id(3));

    // A taken material id fails the whole rotation: the key is not updated.
    let mut dup = rotated(k.key_id, 2, T0 + 500 * 86_400_000, RotationType::OnDemand);
    dup.wrapped = vec![9; 48];
    let r = store
        .rotate_key(
            k.addr(),
            dup,
            Box::new(|r| {
                r.description = "half-rotated".into();
                Ok(())
            }),
        )
        .await;
    assert!(
        matches!(r, Err(StoreError::AlreadyExists)),
        "rotation with a taken material id must be AlreadyExists, got {r:?}"
    );
    assert_eq!(
        store.get_key(k.addr()).await.expect("get_key"),
        Some(again),
        "a failed rotation leaves the key as it was"
    );
    assert_eq!(
        store.get_key_materials(k.addr()).await.expect("materials"),
        vec![material_of(&k, 1, T0), m2, m3],
        "a failed rotation adds no material"
    );
    assert_eq!(
        store.get_key_materials(other.addr()).await.expect("other"),
        vec![material_of(&other, 1, T0)],
        "other keys are untouched"
    );
}

/// A refusing closure adds no material and changes nothing; a missing key is `NotFound`
/// without calling the closure.
pub async fn rotate_key_rejection_adds_nothing<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let k = put_key(store, &a, "us-east-1").await;
    let r = store
        .rotate_key(
            k.addr(),
            rotated(k.key_id, 2, T0 + 1, RotationType::Automatic),
            Box::new(|r| {
                r.current_key_material_id = material_id(2);
                Err(CoreError::InvalidState("already rotated".into()))
            }),
        )
        .await;
    assert_rejected(r, "already rotated", "rotate_key");
    assert_eq!(
        store.get_key(k.addr()).await.expect("get_key"),
        Some(k.clone()),
        "a rejected rotation changes nothing, not even the version"
    );
    assert_eq!(
        store.get_key_materials(k.addr()).await.expect("materials"),
        vec![material_of(&k, 1, T0)],
        "a rejected rotation adds no material"
    );

    let called = Arc::new(AtomicBool::new(false));
    let called_in = called.clone();
    let missing = KeyId::generate();
    let r = store
        .rotate_key(
            at(missing),
            rotated(missing, 2, T0 + 1, RotationType::OnDemand),
            Box::new(move |_| {
                called_in.store(true, Ordering::SeqCst);
                Ok(())
            }),
        )
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "rotation of a missing key must be NotFound, got {r:?}"
    );
    assert!(!called.load(Ordering::SeqCst), "closure not called");
    assert!(store
        .get_key_materials(at(missing))
        .await
        .expect("materials")
        .is_empty());

    // The key still rotates afterwards (no transaction left open).
    store
        .rotate_key(
            k.addr(),
            rotated(k.key_id, 2, T0 + 1, RotationType::OnDemand),
            Box::new(|_| Ok(())),
        )
        .await
        .expect("rotate after rejection");
    assert_eq!(
        store
            .get_key_materials(k.addr())
            .await
            .expect("materials")
            .len(),
        2
    );
}

/// Two jobs rotating the same key at once, each refusing unless the key is still on the
/// material it saw: exactly one rotation happens.
pub async fn concurrent_rotations_rotate_once<S: Store>(store: &S) {
    const N: u8 = 8;
    let a = account(111_111_111_111);
    let k = put_key(store, &a, "us-east-1").await;
    let futures: Vec<_> = (0..N)
        .map(|i| {
            let n = 10 + i;
            store.rotate_key(
                k.addr(),
                rotated(k.key_id, n, T0 + 1, RotationType::Automatic),
                Box::new(move |r| {
                    if r.current_key_material_id != material_id(1) {
                        return Err(CoreError::InvalidState("already rotated".into()));
                    }
                    r.current_key_material_id = material_id(n);
                    Ok(())
                }),
            )
        })
        .collect();
    let results = join_all(futures).await;
    let winners: Vec<KeyRecord> = results.into_iter().filter_map(Result::ok).collect();
    assert_eq!(winners.len(), 1, "exactly one concurrent rotation succeeds");
    let stored = store
        .get_key(k.addr())
        .await
        .expect("get_key")
        .expect("key");
    assert_eq!(stored, winners[0]);
    assert_eq!(stored.version, k.version + 1);
    let materials = store.get_key_materials(k.addr()).await.expect("materials");
    assert_eq!(materials.len(), 2, "exactly one material was added");
    assert_eq!(
        materials[1].key_material_id, stored.current_key_material_id,
        "the added material is the winner's"
    );
}

/// A key with `n` materials and the given aliases, all in us-east-1 of `a`.
async fn key_with_materials_and_aliases<S: Store>(
    store: &S,
    a: &AccountId,
    n: u8,
    aliases: &[&str],
) -> KeyRecord {
    let k = put_key(store, a, "us-east-1").await;
    for i in 2..=n {
        store
            .add_key_material(rotated(
                k.key_id,
                i,
                T0 + i64::from(i),
                RotationType::OnDemand,
            ))
            .await
            .expect("add material");
    }
    for name in aliases {
        store
            .create_alias(alias(a, "us-east-1", name, k.key_id))
            .await
            .expect("create alias");
    }
    k
}

/// `destroy_key` applies the closure, erases every material of the key and every alias that
/// points at it, and leaves a tombstone `get_key` returns; other keys keep theirs.
pub async fn destroy_key_erases_materials_and_aliases<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let r = "us-east-1";
    let mut k = key_with_materials_and_aliases(store, &a, 3, &["alias/one", "alias/two"]).await;
    k = store
        .update_key(
            k.addr(),
            Box::new(|r| {
                r.key_state = KeyState::PendingDeletion;
                r.pending_window_days = Some(7);
                r.deletion_date = Some(ts(T0 + 7 * 86_400_000));
                Ok(())
            }),
        )
        .await
        .expect("schedule deletion");
    let other = key_with_materials_and_aliases(store, &a, 2, &["alias/other"]).await;
    let other_materials = store.get_key_materials(other.addr()).await.expect("m");

    let seen = Arc::new(parking_lot::Mutex::new(None));
    let seen_in = seen.clone();
    let when = ts(T0 + 7 * 86_400_000 + 5);
    let tombstone = store
        .destroy_key(
            k.addr(),
            Box::new(move |r| {
                *seen_in.lock() = Some(r.clone());
                r.deleted_date = Some(when);
                Ok(())
            }),
        )
        .await
        .expect("destroy_key");
    assert_eq!(
        seen.lock().clone(),
        Some(k.clone()),
        "the closure sees the stored record"
    );
    let mut expected = k.clone();
    expected.deleted_date = Some(when);
    expected.version = k.version + 1;
    assert_eq!(
        tombstone, expected,
        "destroy applied, version is stored + 1"
    );
    assert_eq!(
        store.get_key(k.addr()).await.expect("get_key"),
        Some(expected),
        "the tombstone stays readable by get_key"
    );
    assert!(
        store
            .get_key_materials(k.addr())
            .await
            .expect("materials")
            .is_empty(),
        "every material of the destroyed key is erased"
    );
    for name in ["alias/one", "alias/two"] {
        assert_eq!(
            store.get_alias(&a, r, name).await.expect("get_alias"),
            None,
            "aliases of the destroyed key are erased"
        );
    }
    assert_eq!(
        store.list_aliases(&a, r).await.expect("list_aliases"),
        vec![alias(&a, r, "alias/other", other.key_id)],
        "other keys' aliases stay"
    );
    assert_eq!(
        store.get_key_materials(other.addr()).await.expect("m"),
        other_materials,
        "other keys' materials stay"
    );
    assert_eq!(
        store.list_keys(&a, r, None, 100).await.expect("list_keys"),
        vec![other.clone()],
        "the tombstone is not listed"
    );
    // The alias names are free again.
    store
        .create_alias(alias(&a, r, "alias/one", other.key_id))
        .await
        .expect("re-create an erased alias name");

    // A missing key is NotFound and the closure is not called.
    let called = Arc::new(AtomicBool::new(false));
    let called_in = called.clone();
    let res = store
        .destroy_key(
            at(KeyId::generate()),
            Box::new(move |_| {
                called_in.store(true, Ordering::SeqCst);
                Ok(())
            }),
        )
        .await;
    assert!(
        matches!(res, Err(StoreError::NotFound)),
        "destroying a missing key must be NotFound, got {res:?}"
    );
    assert!(!called.load(Ordering::SeqCst), "closure not called");
}

/// A refusing closure leaves the key, its materials and its aliases as they were.
pub async fn destroy_key_rejection_changes_nothing<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let k = key_with_materials_and_aliases(store, &a, 2, &["alias/keep"]).await;
    let materials = store.get_key_materials(k.addr()).await.expect("m");
    let r = store
        .destroy_key(
            k.addr(),
            Box::new(|r| {
                r.deleted_date = Some(ts(T0 + 1));
                Err(CoreError::InvalidState("deletion was cancelled".into()))
            }),
        )
        .await;
    assert_rejected(r, "deletion was cancelled", "destroy_key");
    assert_eq!(
        store.get_key(k.addr()).await.expect("get_key"),
        Some(k.clone()),
        "a rejected destroy changes nothing, not even the version"
    );
    assert_eq!(
        store.get_key_materials(k.addr()).await.expect("m"),
        materials,
        "a rejected destroy erases no material"
    );
    assert_eq!(
        store
            .list_aliases(&a, "us-east-1")
            .await
            .expect("list_aliases"),
        vec![alias(&a, "us-east-1", "alias/keep", k.key_id)],
        "a rejected destroy erases no alias"
    );
    assert_eq!(
        store
            .list_keys(&a, "us-east-1", None, 100)
            .await
            .expect("list_keys"),
        vec![k]
    );
}

/// Tombstones, however they came to be, are skipped by `list_keys`, and pages still fill up
/// to `limit` with live keys.
pub async fn tombstones_are_not_listed<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let r = "us-east-1";
    let mut keys = Vec::new();
    for _ in 0..9 {
        keys.push(put_key(store, &a, r).await);
    }
    // A key stored already destroyed (as a backup restore might).
    let mut stored_dead = key_record(KeyId::generate(), &a, r);
    stored_dead.deleted_date = Some(ts(T0 + 3));
    store
        .create_key(stored_dead.clone(), material_of(&stored_dead, 1, T0))
        .await
        .expect("create tombstone");
    keys.push(stored_dead.clone());
    keys.sort_by_key(|k| k.key_id);
    // Destroy every third key through the store, the stored tombstone included in the mix.
    let mut live = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if k.key_id == stored_dead.key_id {
            continue;
        }
        if i % 3 == 1 {
            store
                .destroy_key(
                    k.addr(),
                    Box::new(|r| {
                        r.deleted_date = Some(ts(T0 + 9));
                        Ok(())
                    }),
                )
                .await
                .expect("destroy_key");
        } else {
            live.push(k.clone());
        }
    }
    assert!(live.len() >= 5, "fixture leaves live keys");
    assert_eq!(
        store.list_keys(&a, r, None, 100).await.expect("list_keys"),
        live,
        "only live keys are listed"
    );
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_keys(&a, r, after, 2).await.expect("page");
        if page.is_empty() {
            break;
        }
        assert!(
            page.len() == 2 || paged.len() + page.len() == live.len(),
            "a page is short only at the end"
        );
        after = Some(page.last().expect("non-empty").key_id);
        paged.extend(page);
        assert!(paged.len() <= live.len(), "paging must end");
    }
    assert_eq!(paged, live, "pages of live keys join up");
    assert_eq!(
        store.get_key(stored_dead.addr()).await.expect("get_key"),
        Some(stored_dead),
        "get_key returns a tombstone"
    );
}

/// `due_keys` returns exactly the live keys whose rotation is due or whose deletion window has
/// ended, across accounts and Regions, each once, by Region, then key id.
pub async fn due_keys_selects_exactly_the_due_ones<S: Store>(store: &S) {
    let now_ms = T0 + 10 * 86_400_000;
    let now = ts(now_ms);
    let a = account(111_111_111_111);
    let b = account(222_222_222_222);
    let mut due = Vec::new();
    let mut make = |acct: &AccountId,
                    region: &str,
                    state: KeyState,
                    next_rotation: Option<i64>,
                    deletion: Option<i64>,
                    deleted: Option<i64>,
                    is_due: bool| {
        let mut k = key_record(KeyId::generate(), acct, region);
        k.key_state = state;
        k.next_rotation_date = next_rotation.map(ts);
        k.rotation_period_days = next_rotation.map(|_| 365);
        k.deletion_date = deletion.map(ts);
        k.pending_window_days = deletion.map(|_| 7);
        k.deleted_date = deleted.map(ts);
        if is_due {
            due.push(k.addr());
        }
        k
    };
    use KeyState::*;
    let keys = vec![
        // Rotation: before, at and after now; none.
        make(&a, "us-east-1", Enabled, Some(now_ms - 1), None, None, true),
        make(&a, "us-east-1", Enabled, Some(now_ms), None, None, true),
        make(
            &a,
            "us-east-1",
            Enabled,
            Some(now_ms + 1),
            None,
            None,
            false,
        ),
        make(&a, "us-east-1", Enabled, None, None, None, false),
        // Rotation is due whatever the state; core decides what to do with it.
        make(
            &a,
            "eu-west-1",
            Disabled,
            Some(now_ms - 5),
            None,
            None,
            true,
        ),
        // Deletion: window ended before, at and after now.
        make(
            &b,
            "us-east-1",
            PendingDeletion,
            None,
            Some(now_ms - 1),
            None,
            true,
        ),
        make(
            &b,
            "us-east-1",
            PendingDeletion,
            None,
            Some(now_ms),
            None,
            true,
        ),
        make(
            &b,
            "us-east-1",
            PendingDeletion,
            None,
            Some(now_ms + 1),
            None,
            false,
        ),
        // A deletion date outside PendingDeletion is not a due deletion.
        make(
            &b,
            "us-east-1",
            Enabled,
            None,
            Some(now_ms - 1),
            None,
            false,
        ),
        make(
            &b,
            "us-east-1",
            Disabled,
            None,
            Some(now_ms - 1),
            None,
            false,
        ),
        make(
            &b,
            "us-east-1",
            PendingImport,
            None,
            Some(now_ms - 1),
            None,
            false,
        ),
        make(
            &b,
            "us-east-1",
            PendingReplicaDeletion,
            None,
            Some(now_ms - 1),
            None,
            false,
        ),
        make(&b, "us-east-1", PendingDeletion, None, None, None, false),
        // Both due: listed once.
        make(
            &b,
            "ap-south-1",
            PendingDeletion,
            Some(now_ms - 1),
            Some(now_ms - 1),
            None,
            true,
        ),
        // Destroyed keys are never due.
        make(
            &a,
            "us-east-1",
            PendingDeletion,
            Some(now_ms - 1),
            Some(now_ms - 1),
            Some(now_ms - 1),
            false,
        ),
        make(
            &a,
            "us-east-1",
            Enabled,
            Some(now_ms - 1),
            None,
            Some(now_ms - 1),
            false,
        ),
    ];
    for k in &keys {
        store
            .create_key(k.clone(), material_of(k, 1, T0))
            .await
            .expect("create_key");
    }
    due.sort();
    assert_eq!(
        store.due_keys(now).await.expect("due_keys"),
        due,
        "exactly the due keys, ordered by Region, then key id"
    );
    assert!(
        store.due_keys(ts(T0)).await.expect("due_keys").is_empty(),
        "nothing is due before any date"
    );

    // Destroying a due key, and rotating another forward, take them off the list.
    store
        .destroy_key(
            due[0],
            Box::new(|r| {
                r.deleted_date = Some(ts(T0 + 10 * 86_400_000));
                Ok(())
            }),
        )
        .await
        .expect("destroy_key");
    let rotating = keys
        .iter()
        .find(|k| k.key_state == Enabled && k.next_rotation_date == Some(now))
        .expect("fixture")
        .addr();
    store
        .rotate_key(
            rotating,
            rotated(rotating.key_id, 2, now_ms, RotationType::Automatic),
            Box::new(move |r| {
                r.current_key_material_id = material_id(2);
                r.next_rotation_date = Some(ts(now_ms + 365 * 86_400_000));
                Ok(())
            }),
        )
        .await
        .expect("rotate_key");
    let remaining: Vec<KeyAddr> = due
        .iter()
        .copied()
        .filter(|id| *id != due[0] && *id != rotating)
        .collect();
    assert_eq!(
        store.due_keys(now).await.expect("due_keys"),
        remaining,
        "destroyed and rotated keys are no longer due"
    );
}

fn usage(key_id: KeyId, operation: &str, timestamp_ms: i64) -> KeyLastUsage {
    KeyLastUsage {
        region: REGION.to_string(),
        key_id,
        operation: operation.to_string(),
        timestamp: ts(timestamp_ms),
        cloudtrail_event_id: format!("event-{operation}-{timestamp_ms}"),
        kms_request_id: format!("request-{operation}-{timestamp_ms}"),
    }
}

/// `put_key_last_usage` upserts per key and never replaces a newer use with an older one.
pub async fn key_last_usage_keeps_the_newest<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let k1 = put_key(store, &a, "us-east-1").await;
    let k2 = put_key(store, &a, "us-east-1").await;
    let k3 = put_key(store, &a, "eu-west-1").await;
    assert_eq!(
        store.get_key_last_usage(k1.addr()).await.expect("get"),
        None,
        "a key never used has no last usage"
    );
    store
        .put_key_last_usage(Vec::new())
        .await
        .expect("empty batch");

    let first = usage(k1.key_id, "Encrypt", T0 + 10);
    store
        .put_key_last_usage(vec![first.clone()])
        .await
        .expect("put");
    assert_eq!(
        store.get_key_last_usage(k1.addr()).await.expect("get"),
        Some(first.clone()),
        "last usage round-trips"
    );

    // An older use does not replace a newer one.
    store
        .put_key_last_usage(vec![usage(k1.key_id, "Decrypt", T0 + 9)])
        .await
        .expect("put older");
    assert_eq!(
        store.get_key_last_usage(k1.addr()).await.expect("get"),
        Some(first),
        "an older use never replaces a newer one"
    );

    // A newer one does; a batch covers several keys, and within a batch the newest of a key
    // wins whatever its position.
    let newer = usage(k1.key_id, "GenerateDataKey", T0 + 20);
    let k2_new = usage(k2.key_id, "Sign", T0 + 30);
    let k3_use = KeyLastUsage {
        region: k3.region.clone(),
        operation: "Decrypt".into(),
        cloudtrail_event_id: "a8d1c3e0-0000-4000-8000-000000000001".into(),
        kms_request_id: "Ünïcødé request id".into(),
        ..usage(k3.key_id, "Decrypt", 0)
    };
    store
        .put_key_last_usage(vec![
            usage(k2.key_id, "Verify", T0 + 5),
            newer.clone(),
            k2_new.clone(),
            usage(k2.key_id, "Verify", T0 + 29),
            k3_use.clone(),
        ])
        .await
        .expect("put batch");
    assert_eq!(
        store.get_key_last_usage(k1.addr()).await.expect("get"),
        Some(newer),
        "a newer use replaces an older one"
    );
    assert_eq!(
        store.get_key_last_usage(k2.addr()).await.expect("get"),
        Some(k2_new),
        "within a batch the newest use wins"
    );
    assert_eq!(
        store.get_key_last_usage(k3.addr()).await.expect("get"),
        Some(k3_use),
        "epoch timestamp and arbitrary ids round-trip"
    );
}

/// A usage record of an unknown key is `NotFound` and its whole batch is not written.
pub async fn key_last_usage_requires_key<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    let k = put_key(store, &a, "us-east-1").await;
    let r = store
        .put_key_last_usage(vec![
            usage(k.key_id, "Encrypt", T0),
            usage(KeyId::generate(), "Encrypt", T0),
        ])
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "usage of an unknown key must be NotFound, got {r:?}"
    );
    assert_eq!(
        store.get_key_last_usage(k.addr()).await.expect("get"),
        None,
        "a failed batch writes nothing"
    );
}

// ---------------------------------------------------------------- IAM principals

fn user(account_id: &AccountId, name: &str, id: &str) -> UserRecord {
    UserRecord {
        account_id: account_id.clone(),
        path: "/".into(),
        user_name: name.into(),
        user_id: id.into(),
        create_date: ts(T0),
        tags: vec![Tag {
            key: "Team".into(),
            value: "blue".into(),
        }],
    }
}

fn role(account_id: &AccountId, name: &str, id: &str) -> RoleRecord {
    RoleRecord {
        account_id: account_id.clone(),
        path: "/ops/".into(),
        role_name: name.into(),
        role_id: id.into(),
        create_date: ts(T0 + 7),
        assume_role_policy_document: r#"{"Version":"2012-10-17","Statement":[]}"#.into(),
        description: Some("d".into()),
        max_session_duration: 3600,
        tags: Vec::new(),
    }
}

fn inline(
    account_id: &AccountId,
    kind: PrincipalKind,
    owner: &str,
    name: &str,
) -> InlinePolicyRecord {
    InlinePolicyRecord {
        account_id: account_id.clone(),
        principal_kind: kind,
        principal_name: owner.into(),
        policy_name: name.into(),
        policy_document: format!("{{\"Id\":\"{name}\"}}"),
    }
}

async fn with_account<S: Store>(store: &S, n: u64, key_id: &str) -> AccountId {
    let a = account(n);
    store
        .create_account(account_record(&a, T0), access_key(key_id, &a))
        .await
        .expect("create account");
    a
}

/// Users round-trip and list by account then name; names are unique regardless of case;
/// a user needs an existing account; `update_user` replaces path and tags.
pub async fn iam_users_round_trip_with_case_insensitive_names<S: Store>(store: &S) {
    let a = with_account(store, 222_222_222_222, "AKIAAAAAAAAAAAAAAAAA").await;
    let b = with_account(store, 111_111_111_111, "AKIAAAAAAAAAAAAAAAAB").await;
    let bob = user(&a, "bob", "AIDAAAAAAAAAAAAAAAAA2");
    let alice = user(&a, "Alice", "AIDAAAAAAAAAAAAAAAAA1");
    let carol = user(&b, "carol", "AIDAAAAAAAAAAAAAAAAA3");
    for u in [&bob, &alice, &carol] {
        store.create_user(u.clone()).await.expect("create_user");
    }
    assert_eq!(
        store.list_users().await.expect("list_users"),
        vec![carol.clone(), alice.clone(), bob.clone()],
        "users list by account, then name case-insensitively"
    );
    assert!(
        matches!(
            store
                .create_user(user(&a, "BOB", "AIDAAAAAAAAAAAAAAAAA9"))
                .await,
            Err(StoreError::AlreadyExists)
        ),
        "a name differing only in case is taken"
    );
    assert!(
        matches!(
            store.create_user(user(&b, "dave", &bob.user_id)).await,
            Err(StoreError::AlreadyExists)
        ),
        "user ids are unique"
    );
    assert!(
        matches!(
            store
                .create_user(user(&account(999_999_999_999), "x", "AIDAX"))
                .await,
            Err(StoreError::NotFound)
        ),
        "a user needs an existing account"
    );
    let mut bob2 = bob.clone();
    bob2.path = "/eng/".into();
    bob2.tags = Vec::new();
    store.update_user(bob2.clone()).await.expect("update_user");
    assert_eq!(bob2.arn(), format!("arn:aws:iam::{a}:user/eng/bob"));
    let users = store.list_users().await.expect("list_users");
    assert_eq!(users[2], bob2, "update_user replaces path and tags");
    assert!(matches!(
        store.update_user(user(&b, "nobody", "AIDAZ")).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_user(&b, "nobody").await,
        Err(StoreError::NotFound)
    ));
    store
        .delete_user(&a, "ALICE")
        .await
        .expect("delete by any case");
    assert_eq!(
        store.list_users().await.expect("list_users"),
        vec![carol, bob2]
    );
}

/// `delete_user` is refused while the user has access keys or inline policies, and then
/// changes nothing.
pub async fn delete_user_refuses_while_keys_or_policies_remain<S: Store>(store: &S) {
    let a = with_account(store, 111_111_111_111, "AKIAAAAAAAAAAAAAAAAA").await;
    let alice = user(&a, "alice", "AIDAAAAAAAAAAAAAAAAA1");
    store.create_user(alice.clone()).await.expect("create_user");
    let mut key = access_key("AKIAAAAAAAAAAAAAAAAU", &a);
    key.principal_arn = alice.arn();
    store.put_access_key(key.clone()).await.expect("put key");
    assert!(matches!(
        store.delete_user(&a, "alice").await,
        Err(StoreError::Conflict("access keys"))
    ));
    store
        .delete_access_key(&key.access_key_id)
        .await
        .expect("delete key");
    store
        .put_inline_policy(inline(&a, PrincipalKind::User, "ALICE", "p"))
        .await
        .expect("put policy by any case of the user name");
    assert!(matches!(
        store.delete_user(&a, "alice").await,
        Err(StoreError::Conflict("policies"))
    ));
    assert_eq!(store.list_users().await.expect("list").len(), 1);
    store
        .delete_inline_policy(&a, PrincipalKind::User, "alice", "p")
        .await
        .expect("delete policy");
    store.delete_user(&a, "alice").await.expect("delete user");
    assert!(store.list_users().await.expect("list").is_empty());
}

/// Roles round-trip; inline policies of users and roles insert, replace, list in order and
/// delete; a policy needs its owner; `delete_role` is refused while policies remain.
pub async fn iam_roles_and_inline_policies<S: Store>(store: &S) {
    let a = with_account(store, 111_111_111_111, "AKIAAAAAAAAAAAAAAAAA").await;
    let admin = role(&a, "Admin", "AROAAAAAAAAAAAAAAAAA1");
    let mut reader = role(&a, "reader", "AROAAAAAAAAAAAAAAAAA2");
    reader.description = None;
    store
        .create_role(reader.clone())
        .await
        .expect("create reader");
    store
        .create_role(admin.clone())
        .await
        .expect("create admin");
    assert!(matches!(
        store.create_role(role(&a, "ADMIN", "AROAX")).await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(
        store.list_roles().await.expect("list_roles"),
        vec![admin.clone(), reader.clone()]
    );
    let mut admin2 = admin.clone();
    admin2.max_session_duration = 43_200;
    admin2.tags = vec![Tag {
        key: "k".into(),
        value: String::new(),
    }];
    admin2.assume_role_policy_document = "{}".into();
    store
        .update_role(admin2.clone())
        .await
        .expect("update_role");
    assert_eq!(store.list_roles().await.expect("list")[0], admin2);

    store
        .create_user(user(&a, "zed", "AIDAAAAAAAAAAAAAAAAA1"))
        .await
        .expect("create user");
    assert!(
        matches!(
            store
                .put_inline_policy(inline(&a, PrincipalKind::User, "nobody", "p"))
                .await,
            Err(StoreError::NotFound)
        ),
        "a policy needs its user"
    );
    assert!(matches!(
        store
            .put_inline_policy(inline(&a, PrincipalKind::Role, "zed", "p"))
            .await,
        Err(StoreError::NotFound)
    ));
    let r2 = inline(&a, PrincipalKind::Role, "Admin", "b");
    let r1 = inline(&a, PrincipalKind::Role, "Admin", "a");
    let u1 = inline(&a, PrincipalKind::User, "zed", "p");
    for p in [&r2, &r1, &u1] {
        store
            .put_inline_policy(p.clone())
            .await
            .expect("put policy");
    }
    let mut r1b = r1.clone();
    r1b.policy_document = "{\"replaced\":true}".into();
    store.put_inline_policy(r1b.clone()).await.expect("replace");
    assert_eq!(
        store.list_inline_policies().await.expect("list"),
        vec![u1.clone(), r1b, r2.clone()],
        "users first, then by owner and policy name; put replaces"
    );
    assert!(matches!(
        store.delete_role(&a, "admin").await,
        Err(StoreError::Conflict("policies"))
    ));
    assert!(matches!(
        store
            .delete_inline_policy(&a, PrincipalKind::Role, "Admin", "zzz")
            .await,
        Err(StoreError::NotFound)
    ));
    for name in ["a", "b"] {
        store
            .delete_inline_policy(&a, PrincipalKind::Role, "Admin", name)
            .await
            .expect("delete policy");
    }
    store.delete_role(&a, "admin").await.expect("delete role");
    assert!(matches!(
        store.delete_role(&a, "admin").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.list_roles().await.expect("list"), vec![reader]);
    assert_eq!(store.list_inline_policies().await.expect("list"), vec![u1]);
}

/// `delete_access_key` removes one key; a missing one is `NotFound`.
pub async fn delete_access_key_removes_exactly_one<S: Store>(store: &S) {
    let a = with_account(store, 111_111_111_111, "AKIAAAAAAAAAAAAAAAAA").await;
    let k = access_key("AKIAAAAAAAAAAAAAAAAB", &a);
    store.put_access_key(k.clone()).await.expect("put");
    store
        .delete_access_key("AKIAAAAAAAAAAAAAAAAA")
        .await
        .expect("delete");
    assert_eq!(store.list_access_keys().await.expect("list"), vec![k]);
    assert!(matches!(
        store.delete_access_key("AKIAAAAAAAAAAAAAAAAA").await,
        Err(StoreError::NotFound)
    ));
}

// ---------------------------------------------------------------- grants

/// Grant `n` on the key `k`, in its Region.
fn grant_on(k: &KeyRecord, n: u8, created_ms: i64, retiring: Option<&str>) -> GrantRecord {
    GrantRecord {
        region: k.region.clone(),
        ..grant(k.key_id, n, created_ms, retiring)
    }
}

fn grant(key_id: KeyId, n: u8, created_ms: i64, retiring: Option<&str>) -> GrantRecord {
    GrantRecord {
        region: REGION.to_string(),
        key_id,
        grant_id: format!("{n:02x}").repeat(32),
        name: n.is_multiple_of(2).then(|| format!("grant-{n}")),
        creation_date: ts(created_ms),
        grantee_principal: format!("arn:aws:iam::{:012}:root", 400 + u64::from(n)),
        retiring_principal: retiring.map(str::to_string),
        issuing_account: account(1),
        operations: vec![crate::Action::Encrypt, crate::Action::Decrypt],
        constraints: n.is_multiple_of(3).then(|| GrantConstraints {
            encryption_context_subset: Some(
                [
                    ("Dept".to_string(), "IT".to_string()),
                    ("ünï".to_string(), "çödé".to_string()),
                ]
                .into_iter()
                .collect(),
            ),
            encryption_context_equals: None,
        }),
    }
}

/// Grants come back exactly as stored, oldest first, and only those of the key asked for.
pub async fn grants_round_trip_in_order<S: Store>(store: &S) {
    let k1 = put_key(store, &account(1), "us-east-1").await;
    let k2 = put_key(store, &account(1), "us-east-1").await;
    assert_eq!(
        store.list_grants(k1.addr()).await.unwrap(),
        vec![],
        "no grants yet"
    );
    let g3 = grant_on(&k1, 3, T0 + 5, None);
    let g1 = grant_on(&k1, 1, T0, Some("arn:aws:iam::000000000001:root"));
    let g2 = grant_on(&k1, 2, T0 + 5, None);
    let other = grant_on(&k2, 4, T0, None);
    for g in [&g3, &g1, &g2, &other] {
        store.create_grant(g.clone()).await.expect("create_grant");
    }
    assert_eq!(
        store.list_grants(k1.addr()).await.unwrap(),
        vec![g1, g2, g3],
        "grants of a key, by creation date then grant id, fields exact"
    );
    assert_eq!(store.list_grants(k2.addr()).await.unwrap(), vec![other]);
}

/// ListRetirableGrants reads grants of every key by retiring principal.
pub async fn grants_by_retiring_principal<S: Store>(store: &S) {
    let k1 = put_key(store, &account(1), "us-east-1").await;
    let k2 = put_key(store, &account(2), "eu-west-1").await;
    let p = "arn:aws:iam::000000000009:user/retirer";
    let a = grant_on(&k1, 1, T0, Some(p));
    let b = grant_on(&k2, 2, T0, Some(p));
    let c = grant_on(&k2, 3, T0, Some("arn:aws:iam::000000000009:root"));
    for g in [&a, &b, &c] {
        store.create_grant(g.clone()).await.unwrap();
    }
    let mut want = vec![a, b];
    want.sort_by_key(|g| g.key_id);
    assert_eq!(
        store.list_grants_by_retiring_principal(p).await.unwrap(),
        want
    );
    assert_eq!(
        store
            .list_grants_by_retiring_principal("arn:aws:iam::000000000009:user/nobody")
            .await
            .unwrap(),
        vec![]
    );
}

/// A grant needs an existing, not destroyed key, and a fresh grant id.
pub async fn grant_requires_live_key_and_unique_id<S: Store>(store: &S) {
    let missing = grant(KeyId::generate(), 1, T0, None);
    assert!(
        matches!(store.create_grant(missing).await, Err(StoreError::NotFound)),
        "grant on a missing key"
    );
    let k = put_key(store, &account(1), "us-east-1").await;
    let g = grant_on(&k, 1, T0, None);
    store.create_grant(g.clone()).await.unwrap();
    let mut again = grant_on(&k, 1, T0 + 1, None);
    again.grantee_principal = "arn:aws:iam::000000000002:root".into();
    assert!(
        matches!(
            store.create_grant(again).await,
            Err(StoreError::AlreadyExists)
        ),
        "duplicate grant id"
    );
    assert_eq!(store.list_grants(k.addr()).await.unwrap(), vec![g]);
}

/// delete_grant removes one grant of one key; a missing one is NotFound.
pub async fn delete_grant_removes_exactly_one<S: Store>(store: &S) {
    let k = put_key(store, &account(1), "us-east-1").await;
    let k2 = put_key(store, &account(1), "us-east-1").await;
    let a = grant_on(&k, 1, T0, None);
    let b = grant_on(&k, 2, T0 + 1, None);
    store.create_grant(a.clone()).await.unwrap();
    store.create_grant(b.clone()).await.unwrap();
    assert!(
        matches!(
            store.delete_grant(k2.addr(), &a.grant_id).await,
            Err(StoreError::NotFound)
        ),
        "a grant is deleted only through its own key"
    );
    store.delete_grant(k.addr(), &a.grant_id).await.unwrap();
    assert_eq!(store.list_grants(k.addr()).await.unwrap(), vec![b]);
    assert!(matches!(
        store.delete_grant(k.addr(), &a.grant_id).await,
        Err(StoreError::NotFound)
    ));
}

/// Destroying a key erases its grants; new grants on the tombstone are refused.
pub async fn destroy_key_erases_grants<S: Store>(store: &S) {
    let k = put_key(store, &account(1), "us-east-1").await;
    store
        .create_grant(grant(
            k.key_id,
            1,
            T0,
            Some("arn:aws:iam::000000000001:root"),
        ))
        .await
        .unwrap();
    store
        .destroy_key(
            k.addr(),
            Box::new(|r: &mut KeyRecord| {
                r.deleted_date = Some(ts(T0 + 10));
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(store.list_grants(k.addr()).await.unwrap(), vec![]);
    assert_eq!(
        store
            .list_grants_by_retiring_principal("arn:aws:iam::000000000001:root")
            .await
            .unwrap(),
        vec![]
    );
    assert!(matches!(
        store.create_grant(grant_on(&k, 2, T0, None)).await,
        Err(StoreError::NotFound)
    ));
}

// ---------------------------------------------------------------- audit intents

fn intent(event_id: &str, created_ms: i64) -> AuditIntent {
    AuditIntent::new(
        event_id.to_string(),
        format!("{{\"eventID\":\"{event_id}\"}}").into_bytes(),
        ts(created_ms),
    )
}

/// Writes inside an intent's scope store it once, beside their change, and mark it committed;
/// writes outside any scope store none.
pub async fn writes_commit_the_current_audit_intent<S: Store>(store: &S) {
    let a = with_account(store, 1, "AKIAINTENT0000000001").await;
    assert!(
        store
            .audit_intents()
            .await
            .expect("audit_intents")
            .is_empty(),
        "a write outside any scope stored an intent"
    );
    let first = intent("e-1", T0);
    let key = audit_intent::scope(Some(first.clone()), async {
        let key = put_key(store, &a, "us-east-1").await;
        // A second write of the same request stores the intent only once.
        store
            .create_alias(alias(&a, "us-east-1", "alias/intent", key.key_id))
            .await
            .expect("create_alias");
        key
    })
    .await;
    assert!(first.is_committed(), "intent not marked committed");
    let second = intent("e-2", T0 + 5);
    audit_intent::scope(Some(second.clone()), async {
        store
            .update_key(
                key.addr(),
                Box::new(|k| {
                    k.description = "changed".into();
                    Ok(())
                }),
            )
            .await
            .expect("update_key")
    })
    .await;
    let stored = store.audit_intents().await.expect("audit_intents");
    let ids: Vec<&str> = stored.iter().map(|i| i.event_id.as_str()).collect();
    assert_eq!(ids, ["e-1", "e-2"], "intents, oldest first");
    assert_eq!(stored[0].record, first.record());
    assert_eq!(stored[0].created, ts(T0));
    assert!(!stored[0].complete);
}

/// A write that fails or is rejected stores no intent and leaves it uncommitted.
pub async fn failed_writes_store_no_audit_intent<S: Store>(store: &S) {
    let a = with_account(store, 1, "AKIAINTENT0000000002").await;
    let key = put_key(store, &a, "us-east-1").await;
    let dup = intent("e-dup", T0);
    let result = audit_intent::scope(Some(dup.clone()), async {
        store
            .create_key(key.clone(), material_of(&key, 1, T0))
            .await
    })
    .await;
    assert!(
        matches!(result, Err(StoreError::AlreadyExists)),
        "{result:?}"
    );
    let rejected = intent("e-rejected", T0);
    let result = audit_intent::scope(Some(rejected.clone()), async {
        store
            .update_key(
                key.addr(),
                Box::new(|_| Err(CoreError::Internal("refused".into()))),
            )
            .await
    })
    .await;
    assert!(matches!(result, Err(StoreError::Rejected(_))), "{result:?}");
    assert!(!dup.is_committed() && !rejected.is_committed());
    assert!(
        store
            .audit_intents()
            .await
            .expect("audit_intents")
            .is_empty(),
        "a failed write stored its intent"
    );
}

/// `complete_audit_intent` replaces the record and marks it complete; `forget_audit_intents`
/// deletes exactly the ids named.
pub async fn audit_intents_complete_and_forget<S: Store>(store: &S) {
    let a = with_account(store, 1, "AKIAINTENT0000000003").await;
    for (n, id) in ["e-a", "e-b", "e-c"].iter().enumerate() {
        audit_intent::scope(Some(intent(id, T0 + n as i64)), async {
            put_key(store, &a, "us-east-1").await;
        })
        .await;
    }
    store
        .complete_audit_intent("e-b", b"{\"complete\":true}".to_vec())
        .await
        .expect("complete_audit_intent");
    assert!(matches!(
        store.complete_audit_intent("e-none", b"{}".to_vec()).await,
        Err(StoreError::NotFound)
    ));
    let stored = store.audit_intents().await.expect("audit_intents");
    assert_eq!(stored.len(), 3);
    assert!(stored[1].complete && stored[1].record == b"{\"complete\":true}");
    assert!(!stored[0].complete && !stored[2].complete);
    store
        .forget_audit_intents(vec!["e-a".into(), "e-c".into(), "e-none".into()])
        .await
        .expect("forget_audit_intents");
    let left: Vec<String> = store
        .audit_intents()
        .await
        .expect("audit_intents")
        .into_iter()
        .map(|i| i.event_id)
        .collect();
    assert_eq!(left, ["e-b"]);
}

// ---------------------------------------------------------------- root key rotation

/// `list_wrapped_secrets` lists every material version of live keys (by key id, oldest
/// first, with the key's ARN) then every access key secret; `rewrap_secret` swaps exactly the
/// named secret, and only while it still holds the expected bytes.
pub async fn wrapped_secrets_list_and_rewrap<S: Store>(store: &S) {
    let a = account(111_111_111_111);
    store
        .create_account(account_record(&a, T0), access_key("AKIAB", &a))
        .await
        .expect("create_account");
    store
        .put_access_key(access_key("AKIAAAA", &a))
        .await
        .expect("put_access_key");
    let mut keys = [
        put_key(store, &a, "us-east-1").await,
        put_key(store, &a, "eu-west-1").await,
    ];
    keys.sort_by_key(|k| k.key_id);
    store
        .add_key_material(material_of(&keys[0], 2, T0 + 5))
        .await
        .expect("add_key_material");
    let dead = put_key(store, &a, "us-east-1").await;
    store
        .destroy_key(
            dead.addr(),
            Box::new(|r| {
                r.deleted_date = Some(ts(T0 + 9));
                Ok(())
            }),
        )
        .await
        .expect("destroy_key");

    let m = |k: &KeyRecord, n: u8| WrappedSecret {
        id: WrappedSecretId::KeyMaterial {
            key: k.addr(),
            key_material_id: material_id(n),
        },
        key_arn: Some(k.arn()),
        wrapped: all_bytes(n),
    };
    let ak = |id: &str| WrappedSecret {
        id: WrappedSecretId::AccessKey {
            access_key_id: id.to_string(),
        },
        key_arn: None,
        wrapped: all_bytes(id.len() as u8),
    };
    let expected = vec![
        m(&keys[0], 1),
        m(&keys[0], 2),
        m(&keys[1], 1),
        ak("AKIAAAA"),
        ak("AKIAB"),
    ];
    assert_eq!(
        store
            .list_wrapped_secrets()
            .await
            .expect("list_wrapped_secrets"),
        expected,
        "wrapped secrets: live key materials by key then age, then access keys by id"
    );

    // A swap from the wrong bytes changes nothing.
    let r = store
        .rewrap_secret(expected[1].id.clone(), vec![9, 9], vec![1])
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "rewrap from stale bytes must be NotFound, got {r:?}"
    );
    let r = store
        .rewrap_secret(
            WrappedSecretId::AccessKey {
                access_key_id: "AKIANONE".to_string(),
            },
            vec![],
            vec![1],
        )
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "rewrap of a missing secret must be NotFound, got {r:?}"
    );
    for (i, s) in expected.iter().enumerate() {
        store
            .rewrap_secret(s.id.clone(), s.wrapped.clone(), vec![i as u8; 40])
            .await
            .expect("rewrap_secret");
    }
    let after = store.list_wrapped_secrets().await.expect("list again");
    for (i, s) in after.iter().enumerate() {
        assert_eq!(s.id, expected[i].id, "rewrap keeps the order");
        assert_eq!(
            s.wrapped,
            vec![i as u8; 40],
            "rewrap replaced exactly its own secret"
        );
    }
    let materials = store
        .get_key_materials(keys[0].addr())
        .await
        .expect("materials");
    assert_eq!(materials[1].wrapped, vec![1u8; 40]);
    assert_eq!(
        materials[1].created,
        ts(T0 + 5),
        "rewrap changes only the wrapped bytes"
    );
    let access = store.list_access_keys().await.expect("access keys");
    assert_eq!(access[0].wrapped_secret, vec![3u8; 40]);
    assert_eq!(access[0].status, AccessKeyStatus::Active);
}

// ---------------------------------------------------------------- imported key material

fn import_record(key: KeyAddr, document: &[u8], next_ms: Option<i64>) -> ImportRecord {
    ImportRecord {
        key,
        document: document.to_vec(),
        next_expiry: next_ms.map(ts),
    }
}

/// A key without material, as CreateKey Origin=EXTERNAL stores it.
async fn external_key<S: Store>(store: &S, next_ms: Option<i64>) -> KeyRecord {
    let a = account(111_111_111_111);
    let mut k = key_record(KeyId::generate(), &a, "us-east-1");
    k.key_state = KeyState::PendingImport;
    k.current_key_material_id = KeyMaterialId([0; 32]);
    store
        .create_key_without_material(k.clone(), import_record(k.addr(), b"{}", next_ms))
        .await
        .expect("create_key_without_material");
    k
}

/// `create_key_without_material` stores no material; `apply_import_change` updates the key,
/// adds (or replaces) material, erases material and replaces the bookkeeping together.
pub async fn imported_material_changes_key_materials_and_bookkeeping_at_once<S: Store>(store: &S) {
    let k = external_key(store, None).await;
    assert_eq!(store.get_key(k.addr()).await.expect("get"), Some(k.clone()));
    assert!(store
        .get_key_materials(k.addr())
        .await
        .expect("m")
        .is_empty());
    assert_eq!(
        store.get_import_record(k.addr()).await.expect("import"),
        Some(import_record(k.addr(), b"{}", None))
    );
    let m = material_of(&k, 1, T0);
    let id = m.key_material_id;
    let updated = store
        .apply_import_change(
            k.addr(),
            ImportChange {
                update: Box::new(move |r| {
                    r.key_state = KeyState::Enabled;
                    r.current_key_material_id = id;
                    Ok(())
                }),
                put_material: Some(m.clone()),
                delete_materials: Vec::new(),
                record: import_record(k.addr(), b"{\"imported\":1}", Some(T0 + 5)),
            },
        )
        .await
        .expect("import");
    assert_eq!(updated.key_state, KeyState::Enabled);
    assert_eq!(updated.version, k.version + 1);
    assert_eq!(
        store.get_key_materials(k.addr()).await.expect("m"),
        vec![m.clone()]
    );
    // A reimport of the same version replaces its wrapped bytes, adds no row.
    let mut again = m.clone();
    again.wrapped = all_bytes(9);
    store
        .apply_import_change(
            k.addr(),
            ImportChange {
                update: Box::new(|_| Ok(())),
                put_material: Some(again.clone()),
                delete_materials: Vec::new(),
                record: import_record(k.addr(), b"{\"imported\":2}", None),
            },
        )
        .await
        .expect("reimport");
    assert_eq!(
        store.get_key_materials(k.addr()).await.expect("m"),
        vec![again]
    );
    store
        .apply_import_change(
            k.addr(),
            ImportChange {
                update: Box::new(|r| {
                    r.key_state = KeyState::PendingImport;
                    Ok(())
                }),
                put_material: None,
                delete_materials: vec![id],
                record: import_record(k.addr(), b"{\"deleted\":1}", None),
            },
        )
        .await
        .expect("delete");
    assert!(store
        .get_key_materials(k.addr())
        .await
        .expect("m")
        .is_empty());
    assert_eq!(
        store.get_import_record(k.addr()).await.expect("import"),
        Some(import_record(k.addr(), b"{\"deleted\":1}", None))
    );
}

/// A refused update stores neither material nor bookkeeping.
pub async fn rejected_import_change_changes_nothing<S: Store>(store: &S) {
    let k = external_key(store, None).await;
    let r = store
        .apply_import_change(
            k.addr(),
            ImportChange {
                update: Box::new(|_| Err(CoreError::InvalidState("no".into()))),
                put_material: Some(material_of(&k, 1, T0)),
                delete_materials: Vec::new(),
                record: import_record(k.addr(), b"{\"changed\":1}", Some(T0)),
            },
        )
        .await;
    assert_rejected(r, "no", "apply_import_change");
    assert!(store
        .get_key_materials(k.addr())
        .await
        .expect("m")
        .is_empty());
    assert_eq!(
        store.get_import_record(k.addr()).await.expect("import"),
        Some(import_record(k.addr(), b"{}", None))
    );
    assert_eq!(store.get_key(k.addr()).await.expect("get"), Some(k));
}

/// `due_imports` finds the keys whose bookkeeping expires at or before `now`, not destroyed.
pub async fn due_imports_selects_exactly_the_due_ones<S: Store>(store: &S) {
    let early = external_key(store, Some(T0)).await;
    let late = external_key(store, Some(T0 + 1_000)).await;
    let _never = external_key(store, None).await;
    let gone = external_key(store, Some(T0)).await;
    store
        .destroy_key(
            gone.addr(),
            Box::new(|r| {
                r.deleted_date = Some(ts(T0));
                Ok(())
            }),
        )
        .await
        .expect("destroy");
    assert!(store
        .get_import_record(gone.addr())
        .await
        .expect("import")
        .is_none());
    assert_eq!(store.due_imports(ts(T0 - 1)).await.expect("due"), vec![]);
    assert_eq!(
        store.due_imports(ts(T0)).await.expect("due"),
        vec![early.addr()]
    );
    let mut both = vec![early.addr(), late.addr()];
    both.sort();
    assert_eq!(store.due_imports(ts(T0 + 1_000)).await.expect("due"), both);
}
