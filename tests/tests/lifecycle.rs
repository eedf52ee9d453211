//! The key lifecycle through the real server, with a clock the test moves: rotation (on demand
//! and automatic), scheduled deletion and crypto-shredding, the key-state table, restart in the
//! middle of due jobs, and GetKeyLastUsage.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{IncludeKeyMaterial, RotationType};
use aws_sdk_kms::Client;
use serde_json::{json, Value};
use time::Duration;
use trent_core::key_state::{rule, Rule};
use trent_core::model::{KeyId, KeyState};
use trent_core::Action;
use trent_tests::*;

async fn encrypt(kms: &Client, key: &str, pt: &[u8]) -> Vec<u8> {
    kms.encrypt()
        .key_id(key)
        .plaintext(Blob::new(pt))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap()
        .into_inner()
}

async fn decrypt(kms: &Client, ct: &[u8]) -> Vec<u8> {
    kms.decrypt()
        .ciphertext_blob(Blob::new(ct))
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap()
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_on_demand_and_by_clock_keeps_every_ciphertext_decryptable() {
    let (server, clock) = TestServer::start_with_manual_clock().await.unwrap();
    let kms = server.kms_client().await;
    let key = create_key(&kms).await;
    let c1 = encrypt(&kms, &key, b"before any rotation").await;

    kms.rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    let c2 = encrypt(&kms, &key, b"after the on-demand rotation").await;

    kms.enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let status = kms
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert!(status.key_rotation_enabled);
    assert_eq!(status.rotation_period_in_days, Some(90));
    assert_eq!(server.run_maintenance().await.rotated, 0, "not due yet");

    clock.advance(Duration::days(91));
    assert_eq!(server.run_maintenance().await.rotated, 1);
    assert_eq!(
        server.run_maintenance().await.rotated,
        0,
        "a due rotation happens once"
    );
    let c3 = encrypt(&kms, &key, b"after the automatic rotation").await;

    assert_eq!(decrypt(&kms, &c1).await, b"before any rotation");
    assert_eq!(decrypt(&kms, &c2).await, b"after the on-demand rotation");
    assert_eq!(decrypt(&kms, &c3).await, b"after the automatic rotation");

    let rotations = kms
        .list_key_rotations()
        .key_id(&key)
        .send()
        .await
        .unwrap()
        .rotations
        .unwrap();
    let types: Vec<_> = rotations
        .iter()
        .map(|r| r.rotation_type.clone().unwrap())
        .collect();
    assert_eq!(types, vec![RotationType::OnDemand, RotationType::Automatic]);
    let all = kms
        .list_key_rotations()
        .key_id(&key)
        .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
        .send()
        .await
        .unwrap()
        .rotations
        .unwrap();
    assert_eq!(all.len(), 3, "the original material and two rotations");
    let meta = kms
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(
        meta.current_key_material_id,
        rotations.last().unwrap().key_material_id,
        "DescribeKey reports the newest material as current"
    );
    let next = kms
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .unwrap()
        .next_rotation_date
        .unwrap();
    let expected = clock.now_for_test() + Duration::days(90);
    assert!((next.secs() - expected.unix_timestamp()).abs() <= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_twenty_sixth_on_demand_rotation_is_limit_exceeded() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key = create_key(&kms).await;
    for _ in 0..25 {
        kms.rotate_key_on_demand()
            .key_id(&key)
            .send()
            .await
            .unwrap();
    }
    let e = kms
        .rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .aws_error();
    assert_eq!(e.code, "LimitExceededException", "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_period_outside_90_to_2560_days_is_a_validation_error() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key = create_key(&kms).await;
    for bad in [89, 2561] {
        let e = kms
            .enable_key_rotation()
            .key_id(&key)
            .rotation_period_in_days(bad)
            .send()
            .await
            .aws_error();
        assert_eq!(e.code, "ValidationException", "{bad}: {e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_window_then_crypto_shredding() {
    let (mut server, clock) = TestServer::start_with_manual_clock().await.unwrap();
    let kms = server.kms_client().await;
    let key = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/doomed")
        .target_key_id(&key)
        .send()
        .await
        .unwrap();
    let ct = encrypt(&kms, &key, b"soon unreadable").await;

    for bad in [6, 31] {
        let e = kms
            .schedule_key_deletion()
            .key_id(&key)
            .pending_window_in_days(bad)
            .send()
            .await
            .aws_error();
        assert_eq!(e.code, "ValidationException", "{bad}: {e:?}");
    }
    for ok in [7, 30] {
        let out = kms
            .schedule_key_deletion()
            .key_id(&key)
            .pending_window_in_days(ok)
            .send()
            .await
            .unwrap();
        assert_eq!(out.pending_window_in_days, Some(ok));
        assert_eq!(out.key_state.unwrap().as_str(), "PendingDeletion");
        let e = kms
            .encrypt()
            .key_id(&key)
            .plaintext(Blob::new("x"))
            .send()
            .await
            .aws_error();
        assert_eq!(e.code, "KMSInvalidStateException", "{e:?}");
        assert!(e.message.contains("is pending deletion"), "{e:?}");
        kms.cancel_key_deletion().key_id(&key).send().await.unwrap();
        let meta = kms
            .describe_key()
            .key_id(&key)
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        assert_eq!(meta.key_state.unwrap().as_str(), "Disabled");
        assert!(meta.deletion_date.is_none());
    }

    // The wrapped material as stored, to look for after the key is destroyed.
    let key_id = KeyId::parse(&key).unwrap();
    let wrapped: Vec<Vec<u8>> = server
        .app()
        .kms
        .store()
        .get_key_materials(trent_core::model::KeyAddr::new(REGION, key_id))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.wrapped)
        .collect();
    assert!(!wrapped.is_empty());

    kms.schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    clock.advance(Duration::days(6));
    assert_eq!(
        server.run_maintenance().await.deleted,
        0,
        "no early deletion"
    );
    clock.advance(Duration::days(1) + Duration::seconds(1));
    assert_eq!(server.run_maintenance().await.deleted, 1);

    let e = kms.describe_key().key_id(&key).send().await.aws_error();
    assert_eq!(e.code, "NotFoundException", "{e:?}");
    let e = kms
        .decrypt()
        .ciphertext_blob(Blob::new(ct.clone()))
        .send()
        .await
        .aws_error();
    assert_eq!(e.code, "NotFoundException", "{e:?}");
    let aliases = kms
        .list_aliases()
        .send()
        .await
        .unwrap()
        .aliases
        .unwrap_or_default();
    assert!(aliases
        .iter()
        .all(|a| a.alias_name.as_deref() != Some("alias/doomed")));
    let keys = kms
        .list_keys()
        .send()
        .await
        .unwrap()
        .keys
        .unwrap_or_default();
    assert!(keys
        .iter()
        .all(|k| k.key_id.as_deref() != Some(key.as_str())));

    // Crypto-shredding: no copy of the wrapped material is left in the database files.
    server.stop().await.unwrap();
    for file in ["trent.db", "trent.db-wal"] {
        let Ok(bytes) = std::fs::read(server.data_dir().join(file)) else {
            continue;
        };
        for w in &wrapped {
            assert!(
                !bytes.windows(w.len()).any(|win| win == w.as_slice()),
                "{file} still holds the destroyed key's wrapped material"
            );
        }
    }
    // And after a restart the key is still gone.
    server.open().await.unwrap();
    let kms = server.kms_client().await;
    let e = kms.describe_key().key_id(&key).send().await.aws_error();
    assert_eq!(e.code, "NotFoundException", "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_with_due_rotation_and_deletion_rotates_once_and_never_deletes_early() {
    let (mut server, clock) = TestServer::start_with_manual_clock().await.unwrap();
    let kms = server.kms_client().await;
    let rotating = create_key(&kms).await;
    kms.enable_key_rotation()
        .key_id(&rotating)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let doomed = create_key(&kms).await;
    let later = create_key(&kms).await;
    kms.schedule_key_deletion()
        .key_id(&doomed)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();

    // Both jobs fall due while the server is down.
    server.stop().await.unwrap();
    clock.advance(Duration::days(91));
    server.open().await.unwrap();
    let kms = server.kms_client().await;
    kms.schedule_key_deletion()
        .key_id(&later)
        .pending_window_in_days(30)
        .send()
        .await
        .unwrap();
    let report = server.run_maintenance().await;
    assert_eq!((report.rotated, report.deleted), (1, 1));

    // Restart again: nothing is done twice, and the later deletion is not early.
    server.restart().await.unwrap();
    let report = server.run_maintenance().await;
    assert_eq!((report.rotated, report.deleted), (0, 0));
    let kms = server.kms_client().await;
    let rotations = kms
        .list_key_rotations()
        .key_id(&rotating)
        .send()
        .await
        .unwrap()
        .rotations
        .unwrap();
    assert_eq!(rotations.len(), 1);
    let meta = kms
        .describe_key()
        .key_id(&later)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(meta.key_state.unwrap().as_str(), "PendingDeletion");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_key_last_usage_names_the_last_cryptographic_operation_and_its_audit_event() {
    let mut server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key = create_key(&kms).await;
    let before = kms.get_key_last_usage().key_id(&key).send().await.unwrap();
    assert!(before.key_last_usage.is_none());
    assert!(before.tracking_start_date.is_some());
    let ct = encrypt(&kms, &key, b"used").await;
    decrypt(&kms, &ct).await;
    let usage = kms
        .get_key_last_usage()
        .key_id(&key)
        .send()
        .await
        .unwrap()
        .key_last_usage
        .unwrap();
    assert_eq!(usage.operation.unwrap().as_str(), "Decrypt");
    let event_id = usage.cloud_trail_event_id.unwrap();
    let records = server.audit_records().unwrap();
    let record = records
        .iter()
        .find(|r| r["eventID"] == Value::String(event_id.clone()))
        .expect("the usage names an audit record");
    assert_eq!(record["eventName"], "Decrypt");
    assert_eq!(
        record["requestID"],
        Value::String(usage.kms_request_id.unwrap())
    );

    // It survives a restart (flushed at shutdown or by the job).
    server.run_maintenance().await;
    server.restart().await.unwrap();
    let kms = server.kms_client().await;
    let usage = kms.get_key_last_usage().key_id(&key).send().await.unwrap();
    assert_eq!(
        usage.key_last_usage.unwrap().operation.unwrap().as_str(),
        "Decrypt"
    );
}

/// A minimal valid request body for `action` on `key` (`None` for actions that take no key or
/// that this version does not implement).
fn body_for(action: Action, key: &str, ciphertext: &str) -> Option<Value> {
    Some(match action {
        Action::Encrypt => json!({"KeyId": key, "Plaintext": b64(b"x")}),
        Action::Decrypt => json!({"KeyId": key, "CiphertextBlob": ciphertext}),
        Action::ReEncrypt => {
            json!({"CiphertextBlob": ciphertext, "SourceKeyId": key, "DestinationKeyId": key})
        }
        Action::GenerateDataKey | Action::GenerateDataKeyWithoutPlaintext => {
            json!({"KeyId": key, "KeySpec": "AES_256"})
        }
        Action::DescribeKey
        | Action::EnableKey
        | Action::DisableKey
        | Action::ListResourceTags
        | Action::EnableKeyRotation
        | Action::DisableKeyRotation
        | Action::GetKeyRotationStatus
        | Action::RotateKeyOnDemand
        | Action::ListKeyRotations
        | Action::CancelKeyDeletion
        | Action::GetKeyLastUsage
        | Action::ListAliases => json!({"KeyId": key}),
        Action::UpdateKeyDescription => json!({"KeyId": key, "Description": "d"}),
        Action::TagResource => json!({"KeyId": key, "Tags": [{"TagKey": "k", "TagValue": "v"}]}),
        Action::UntagResource => json!({"KeyId": key, "TagKeys": ["k"]}),
        Action::CreateAlias => {
            json!({"AliasName": format!("alias/state-{}", uuid::Uuid::new_v4()), "TargetKeyId": key})
        }
        Action::ScheduleKeyDeletion => json!({"KeyId": key, "PendingWindowInDays": 7}),
        _ => return None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_in_every_reachable_key_state_answers_as_the_key_state_table_says() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let mut checked = 0;
    for action in Action::ALL {
        for state in [
            KeyState::Enabled,
            KeyState::Disabled,
            KeyState::PendingDeletion,
        ] {
            let key = create_key(&kms).await;
            let ct = b64(&encrypt(&kms, &key, b"state table").await);
            let Some(body) = body_for(*action, &key, &ct) else {
                continue;
            };
            match state {
                KeyState::Enabled => {}
                KeyState::Disabled => {
                    kms.disable_key().key_id(&key).send().await.unwrap();
                }
                _ => {
                    kms.schedule_key_deletion()
                        .key_id(&key)
                        .pending_window_in_days(7)
                        .send()
                        .await
                        .unwrap();
                }
            }
            let resp = server.call(action.name(), &body).await.unwrap();
            let got = resp.error_type();
            match rule(*action, state) {
                Rule::Allowed => assert!(
                    !matches!(
                        got.as_deref(),
                        Some("DisabledException" | "KMSInvalidStateException")
                    ),
                    "{action:?} on a {state:?} key should be allowed, got {got:?}: {}",
                    resp.message()
                ),
                Rule::Disabled => assert_eq!(
                    got.as_deref(),
                    Some("DisabledException"),
                    "{action:?} on a {state:?} key"
                ),
                Rule::InvalidState => assert_eq!(
                    got.as_deref(),
                    Some("KMSInvalidStateException"),
                    "{action:?} on a {state:?} key"
                ),
            }
            checked += 1;
        }
    }
    assert!(checked >= 60, "walked {checked} (operation, state) pairs");
    // Spot checks of the table against AWS's documented answers.
    assert_eq!(rule(Action::Encrypt, KeyState::Disabled), Rule::Disabled);
    assert_eq!(
        rule(Action::Decrypt, KeyState::PendingDeletion),
        Rule::InvalidState
    );
    assert_eq!(
        rule(Action::CancelKeyDeletion, KeyState::Enabled),
        Rule::InvalidState
    );
    assert_eq!(
        rule(Action::DescribeKey, KeyState::PendingDeletion),
        Rule::Allowed
    );
}

/// Automatic rotation and the deletion at the end of a waiting period are changes nobody
/// requested: each gets CloudTrail's `AwsServiceEvent` record (AWS KMS Developer Guide,
/// CloudTrail examples "RotateKey" and "DeleteKey"), written when the change commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_deletion_by_the_maintenance_job_are_audited_as_service_events() {
    let (server, clock) = TestServer::start_with_manual_clock().await.unwrap();
    let kms = server.kms_client().await;
    let rotated = create_key(&kms).await;
    kms.enable_key_rotation()
        .key_id(&rotated)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let deleted = create_key(&kms).await;
    kms.schedule_key_deletion()
        .key_id(&deleted)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    clock.advance(Duration::days(91));
    let report = server.run_maintenance().await;
    assert_eq!((report.rotated, report.deleted), (1, 1));

    let records = server.audit_records().unwrap();
    let events: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["eventType"] == "AwsServiceEvent")
        .collect();
    assert_eq!(events.len(), 2, "{events:#?}");
    let rotate = events
        .iter()
        .find(|r| r["eventName"] == "RotateKey")
        .unwrap();
    assert_eq!(rotate["resources"][0]["ARN"], key_arn(&rotated));
    assert_eq!(rotate["serviceEventDetails"]["rotationType"], "AUTOMATIC");
    assert_eq!(rotate["serviceEventDetails"]["keyId"], rotated);
    assert_eq!(rotate["userIdentity"]["invokedBy"], "AWS Internal");
    assert_eq!(
        rotate["userIdentity"]["accountId"],
        rotate["recipientAccountId"]
    );
    assert!(rotate["userIdentity"].get("type").is_none(), "{rotate:#}");
    assert_eq!(rotate["readOnly"], false);
    let delete = events
        .iter()
        .find(|r| r["eventName"] == "DeleteKey")
        .unwrap();
    assert_eq!(delete["resources"][0]["ARN"], key_arn(&deleted));
    assert!(delete.get("serviceEventDetails").is_none());
    assert_eq!(delete["sourceIPAddress"], "AWS Internal");
}
