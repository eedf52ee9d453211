//! Key lifecycle through aws-sdk-kms: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey,
//! UpdateKeyDescription, and key references that name nothing.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use aws_sdk_kms::types::{
    EncryptionAlgorithmSpec, KeyManagerType, KeySpec, KeyState, KeyUsageType, OriginType, Tag,
};
use trent_core::store::Store;
use trent_tests::*;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_returns_aws_shaped_metadata_and_describe_key_agrees() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    let created = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    let described = kms
        .describe_key()
        .key_id(&created.key_id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    for m in [&created, &described] {
        assert!(
            uuid::Uuid::parse_str(&m.key_id).is_ok(),
            "KeyId {}",
            m.key_id
        );
        assert_eq!(m.arn.as_deref(), Some(key_arn(&m.key_id).as_str()));
        assert_eq!(
            m.arn.as_deref().unwrap(),
            format!("arn:aws:kms:us-east-1:111122223333:key/{}", m.key_id)
        );
        assert_eq!(m.aws_account_id.as_deref(), Some(ACCOUNT));
        let created_at = m.creation_date.expect("CreationDate").secs();
        assert!(
            (before - 5..=before + 60).contains(&created_at),
            "CreationDate {created_at} vs now {before}"
        );
        assert!(m.enabled);
        assert_eq!(m.key_state, Some(KeyState::Enabled));
        assert_eq!(m.key_manager, Some(KeyManagerType::Customer));
        assert_eq!(m.key_spec, Some(KeySpec::SymmetricDefault));
        assert_eq!(m.key_usage, Some(KeyUsageType::EncryptDecrypt));
        assert_eq!(
            m.encryption_algorithms.as_deref(),
            Some(&[EncryptionAlgorithmSpec::SymmetricDefault][..])
        );
        assert_eq!(m.origin, Some(OriginType::AwsKms));
        assert_eq!(m.multi_region, Some(false));
        assert_eq!(m.description.as_deref().unwrap_or(""), "");
    }
    assert_eq!(created.key_id, described.key_id);
    assert_eq!(created.creation_date, described.creation_date);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_stores_description_tags_and_given_policy() {
    let mut server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let policy = r#"{"Version":"2012-10-17","Id":"custom-policy","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
    let m = kms
        .create_key()
        .description("payroll key")
        .policy(policy)
        .tags(tag("team", "payroll"))
        .tags(tag("env", "test"))
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(m.description.as_deref(), Some("payroll key"));
    let d = kms.describe_key().key_id(&m.key_id).send().await.unwrap();
    assert_eq!(
        d.key_metadata.unwrap().description.as_deref(),
        Some("payroll key")
    );
    let tags = kms
        .list_resource_tags()
        .key_id(&m.key_id)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap_or_default();
    let mut pairs: Vec<(String, String)> =
        tags.into_iter().map(|t| (t.tag_key, t.tag_value)).collect();
    pairs.sort();
    assert_eq!(
        pairs,
        vec![
            ("env".into(), "test".into()),
            ("team".into(), "payroll".into())
        ]
    );

    // The policy is not readable through an operation of this issue (GetKeyPolicy is not in
    // it), so look at what was stored once the server is stopped.
    server.stop().await.unwrap();
    let store = trent_store_sqlite::SqliteStore::open(&server.data_dir().join("trent.db")).unwrap();
    let key_id = trent_core::model::KeyId::parse(&m.key_id).unwrap();
    let record = store
        .get_key(trent_core::model::KeyAddr::new(REGION, key_id))
        .await
        .unwrap()
        .expect("stored key");
    assert_eq!(record.policy, policy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_without_policy_stores_the_default_key_policy() {
    let mut server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key_id = create_key(&kms).await;
    server.stop().await.unwrap();
    let store = trent_store_sqlite::SqliteStore::open(&server.data_dir().join("trent.db")).unwrap();
    let record = store
        .get_key(trent_core::model::KeyAddr::new(
            REGION,
            trent_core::model::KeyId::parse(&key_id).unwrap(),
        ))
        .await
        .unwrap()
        .expect("stored key");
    let policy: serde_json::Value = serde_json::from_str(&record.policy).unwrap();
    assert_eq!(policy["Version"], "2012-10-17");
    assert_eq!(policy["Id"], "key-default-1");
    let st = &policy["Statement"][0];
    assert_eq!(st["Sid"], "Enable IAM User Permissions");
    assert_eq!(st["Effect"], "Allow");
    assert_eq!(st["Principal"]["AWS"], "arn:aws:iam::111122223333:root");
    assert_eq!(st["Action"], "kms:*");
    assert_eq!(st["Resource"], "*");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_with_a_malformed_policy_is_refused() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    assert_aws_error!(
        kms.create_key().policy("this is not a policy").send().await,
        "MalformedPolicyDocumentException"
    );
    let keys = kms
        .list_keys()
        .send()
        .await
        .unwrap()
        .keys
        .unwrap_or_default();
    assert!(keys.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_with_reserved_aws_tag_is_a_tag_exception() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    assert_aws_error!(
        kms.create_key().tags(tag("aws:owner", "x")).send().await,
        "TagException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_pages_with_limit_marker_and_truncated() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(create_key(&kms).await);
    }
    created.sort();

    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = kms
            .list_keys()
            .limit(2)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        let keys = out.keys.unwrap_or_default();
        for k in &keys {
            let id = k.key_id.clone().unwrap();
            assert_eq!(k.key_arn.as_deref(), Some(key_arn(&id).as_str()));
            seen.push(id);
        }
        if out.truncated {
            assert_eq!(keys.len(), 2);
            marker = Some(out.next_marker.expect("NextMarker when Truncated"));
        } else {
            assert!(out.next_marker.is_none(), "no NextMarker on the last page");
            assert_eq!(keys.len(), 1);
            break;
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, created, "every key exactly once");

    let all = kms.list_keys().send().await.unwrap();
    assert!(!all.truncated);
    assert_eq!(all.keys.unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_with_a_bogus_marker_is_invalid_marker() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    create_key(&kms).await;
    assert_aws_error!(
        kms.list_keys().marker("not-a-marker").send().await,
        "InvalidMarkerException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_limit_out_of_range_is_validation() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let e = assert_aws_error!(kms.list_keys().limit(0).send().await, "ValidationException");
    assert!(
        e.message
            .contains("Member must have value greater than or equal to 1"),
        "{}",
        e.message
    );
    assert_aws_error!(
        kms.list_keys().limit(1001).send().await,
        "ValidationException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_key_makes_encrypt_and_decrypt_disabled_and_enable_key_restores_them() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key_id = create_key(&kms).await;
    let blob = kms
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"before disable".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();

    kms.disable_key().key_id(&key_id).send().await.unwrap();
    let m = kms
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert!(!m.enabled);
    assert_eq!(m.key_state, Some(KeyState::Disabled));

    let e = assert_aws_error!(
        kms.encrypt()
            .key_id(&key_id)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await,
        "DisabledException"
    );
    assert_eq!(e.status, Some(400));
    assert_aws_error!(
        kms.decrypt().ciphertext_blob(blob.clone()).send().await,
        "DisabledException"
    );
    assert_aws_error!(
        kms.generate_data_key()
            .key_id(&key_id)
            .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
            .send()
            .await,
        "DisabledException"
    );
    // Disabling twice is fine, as in AWS.
    kms.disable_key().key_id(&key_id).send().await.unwrap();

    kms.enable_key().key_id(&key_id).send().await.unwrap();
    let m = kms
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert!(m.enabled);
    assert_eq!(m.key_state, Some(KeyState::Enabled));
    let pt = kms
        .decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap();
    assert_eq!(pt.as_ref(), b"before disable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_key_description_changes_the_description() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key_id = kms
        .create_key()
        .description("old")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    kms.update_key_description()
        .key_id(&key_id)
        .description("new description")
        .send()
        .await
        .unwrap();
    let m = kms
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(m.description.as_deref(), Some("new description"));
    // An empty description is allowed (the model's minimum is 0).
    kms.update_key_description()
        .key_id(&key_id)
        .description("")
        .send()
        .await
        .unwrap();
    let m = kms
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(m.description.as_deref().unwrap_or(""), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_key_id_is_not_found_for_every_key_operation() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_aws_error!(
        kms.describe_key().key_id(&unknown).send().await,
        "NotFoundException"
    );
    assert_aws_error!(
        kms.enable_key().key_id(&unknown).send().await,
        "NotFoundException"
    );
    assert_aws_error!(
        kms.disable_key().key_id(&unknown).send().await,
        "NotFoundException"
    );
    assert_aws_error!(
        kms.update_key_description()
            .key_id(&unknown)
            .description("d")
            .send()
            .await,
        "NotFoundException"
    );
    assert_aws_error!(
        kms.encrypt()
            .key_id(&unknown)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await,
        "NotFoundException"
    );
    assert_aws_error!(
        kms.generate_data_key()
            .key_id(&unknown)
            .number_of_bytes(16)
            .send()
            .await,
        "NotFoundException"
    );
    assert_aws_error!(
        kms.list_resource_tags().key_id(&unknown).send().await,
        "NotFoundException"
    );
    assert_aws_error!(
        kms.describe_key().key_id(key_arn(&unknown)).send().await,
        "NotFoundException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_key_id_is_not_found() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    for bad in [
        "not-a-key-id",
        "1234abcd-12ab-34cd-56ef-1234567890abX",
        "arn:aws:kms:us-east-1:111122223333:key/nope",
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ] {
        let e = assert_aws_error!(
            kms.describe_key().key_id(bad).send().await,
            "NotFoundException"
        );
        assert_eq!(e.status, Some(400), "{bad}");
        assert_aws_error!(
            kms.encrypt()
                .key_id(bad)
                .plaintext(Blob::new(b"x".to_vec()))
                .send()
                .await,
            "NotFoundException"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_key_id_is_a_validation_error() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let e = assert_aws_error!(
        kms.describe_key().key_id("").send().await,
        "ValidationException"
    );
    assert!(
        e.message.contains("at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_key_still_allows_management_operations() {
    // AWS's key-state table: a disabled key refuses cryptographic operations only.
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    let other = create_key(&kms).await;
    kms.disable_key().key_id(&k).send().await.unwrap();
    kms.describe_key().key_id(&k).send().await.unwrap();
    kms.update_key_description()
        .key_id(&k)
        .description("d")
        .send()
        .await
        .unwrap();
    kms.tag_resource()
        .key_id(&k)
        .tags(tag("a", "b"))
        .send()
        .await
        .unwrap();
    kms.list_resource_tags().key_id(&k).send().await.unwrap();
    kms.untag_resource()
        .key_id(&k)
        .tag_keys("a")
        .send()
        .await
        .unwrap();
    kms.create_alias()
        .alias_name("alias/disabled")
        .target_key_id(&k)
        .send()
        .await
        .unwrap();
    kms.list_aliases().key_id(&k).send().await.unwrap();
    kms.update_alias()
        .alias_name("alias/disabled")
        .target_key_id(&other)
        .send()
        .await
        .unwrap();
    kms.update_alias()
        .alias_name("alias/disabled")
        .target_key_id(&k)
        .send()
        .await
        .unwrap();
    kms.delete_alias()
        .alias_name("alias/disabled")
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_encrypt_from_or_to_a_disabled_key_is_disabled() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let src = create_key(&kms).await;
    let dst = create_key(&kms).await;
    let blob = kms
        .encrypt()
        .key_id(&src)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    kms.disable_key().key_id(&dst).send().await.unwrap();
    assert_aws_error!(
        kms.re_encrypt()
            .ciphertext_blob(blob.clone())
            .destination_key_id(&dst)
            .send()
            .await,
        "DisabledException"
    );
    kms.enable_key().key_id(&dst).send().await.unwrap();
    kms.disable_key().key_id(&src).send().await.unwrap();
    assert_aws_error!(
        kms.re_encrypt()
            .ciphertext_blob(blob)
            .destination_key_id(&dst)
            .send()
            .await,
        "DisabledException"
    );
}
