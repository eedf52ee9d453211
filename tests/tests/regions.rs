//! Every Region on one endpoint (issue 13, ARCHITECTURE.md §10): aws-sdk-kms clients
//! configured for three Regions against one Trent. Each Region is its own KMS: keys, aliases
//! and grants do not leak between Regions, a key ARN of another Region names nothing, and a
//! Region outside the served set is refused as before. A data dir made by the version before
//! Regions (tests/fixtures/datadir-v6) opens and decrypts.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::path::Path;

use aws_sdk_kms::types::{KeySpec, KeyUsageType, MacAlgorithmSpec};
use serde_json::Value;
use trent_tests::*;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-1"];

async fn create_key(kms: &aws_sdk_kms::Client, description: &str) -> (String, String) {
    let meta = kms
        .create_key()
        .description(description)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    (meta.key_id, meta.arn.unwrap())
}

async fn list_key_ids(kms: &aws_sdk_kms::Client) -> Vec<String> {
    let mut ids: Vec<String> = kms
        .list_keys()
        .send()
        .await
        .unwrap()
        .keys
        .unwrap_or_default()
        .into_iter()
        .filter_map(|k| k.key_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_region_is_its_own_kms_on_one_endpoint() {
    let server = TestServer::start().await.unwrap();
    let mut keys = Vec::new();
    for region in REGIONS {
        let kms = server.kms_client_in(region).await;
        let (id, arn) = create_key(&kms, region).await;
        assert_eq!(
            arn,
            format!("arn:aws:kms:{region}:{ACCOUNT}:key/{id}"),
            "the ARN carries the Region"
        );
        keys.push((region, kms, id, arn));
    }
    for (region, kms, id, arn) in &keys {
        assert_eq!(
            list_key_ids(kms).await,
            vec![id.clone()],
            "ListKeys in {region} lists only {region}'s key"
        );
        let described = kms.describe_key().key_id(arn).send().await.unwrap();
        assert_eq!(
            described.key_metadata.unwrap().description.as_deref(),
            Some(*region)
        );
        for (other, _, other_id, other_arn) in &keys {
            if other == region {
                continue;
            }
            // Another Region's key id names no key here ...
            let e = assert_aws_error!(
                kms.describe_key().key_id(other_id).send().await,
                "NotFoundException"
            );
            assert_eq!(
                e.message,
                format!("Key 'arn:aws:kms:{region}:{ACCOUNT}:key/{other_id}' does not exist")
            );
            // ... and its ARN is refused as AWS refuses it (tests/aws-answers.json).
            let e = assert_aws_error!(
                kms.encrypt()
                    .key_id(other_arn)
                    .plaintext(Blob::new(b"x".to_vec()))
                    .send()
                    .await,
                "NotFoundException"
            );
            assert_eq!(e.message, format!("Invalid arn {other}"));
        }
    }

    // A ciphertext made in one Region does not decrypt in another.
    let (_, east, east_id, _) = &keys[0];
    let (_, west, _, _) = &keys[1];
    let blob = east
        .encrypt()
        .key_id(east_id)
        .plaintext(Blob::new(b"stay in us-east-1".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    assert_aws_error!(
        west.decrypt().ciphertext_blob(blob.clone()).send().await,
        "InvalidCiphertextException"
    );
    let plain = east
        .decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap();
    assert_eq!(plain.as_ref(), b"stay in us-east-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_alias_name_in_two_regions_names_two_keys() {
    let server = TestServer::start().await.unwrap();
    let east = server.kms_client_in("us-east-1").await;
    let west = server.kms_client_in("eu-west-1").await;
    let south = server.kms_client_in("ap-southeast-1").await;
    let (east_key, _) = create_key(&east, "east").await;
    let (west_key, _) = create_key(&west, "west").await;
    for (kms, key) in [(&east, &east_key), (&west, &west_key)] {
        kms.create_alias()
            .alias_name("alias/app")
            .target_key_id(key)
            .send()
            .await
            .unwrap();
    }
    for (kms, key, region) in [
        (&east, &east_key, "us-east-1"),
        (&west, &west_key, "eu-west-1"),
    ] {
        let meta = kms
            .describe_key()
            .key_id("alias/app")
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        assert_eq!(&meta.key_id, key, "alias/app in {region}");
        let aliases = kms.list_aliases().send().await.unwrap().aliases.unwrap();
        let names: Vec<(String, String, String)> = aliases
            .into_iter()
            .map(|a| {
                (
                    a.alias_name.unwrap(),
                    a.alias_arn.unwrap(),
                    a.target_key_id.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![(
                "alias/app".to_string(),
                format!("arn:aws:kms:{region}:{ACCOUNT}:alias/app"),
                key.clone()
            )],
            "ListAliases in {region} lists only its own aliases"
        );
    }
    // A Region without the alias.
    let e = assert_aws_error!(
        south.describe_key().key_id("alias/app").send().await,
        "NotFoundException"
    );
    assert_eq!(
        e.message,
        format!("Alias arn:aws:kms:ap-southeast-1:{ACCOUNT}:alias/app is not found.")
    );
    // Deleting it in one Region leaves the other.
    west.delete_alias()
        .alias_name("alias/app")
        .send()
        .await
        .unwrap();
    let meta = east
        .describe_key()
        .key_id("alias/app")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(meta.key_id, east_key);
    // An alias cannot point at a key of another Region (its id names nothing there).
    assert_aws_error!(
        west.create_alias()
            .alias_name("alias/cross")
            .target_key_id(&east_key)
            .send()
            .await,
        "NotFoundException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_and_retirable_grants_are_listed_per_region() {
    let server = TestServer::start().await.unwrap();
    let east = server.kms_client_in("us-east-1").await;
    let west = server.kms_client_in("eu-west-1").await;
    let retiring = format!("arn:aws:iam::{ACCOUNT}:root");
    let mut grant_ids = Vec::new();
    for kms in [&east, &west] {
        let (key, _) = create_key(kms, "granted").await;
        let grant = kms
            .create_grant()
            .key_id(&key)
            .grantee_principal(&retiring)
            .retiring_principal(&retiring)
            .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
            .send()
            .await
            .unwrap();
        grant_ids.push((key, grant.grant_id.unwrap()));
    }
    for (kms, (key, grant_id)) in [&east, &west].into_iter().zip(&grant_ids) {
        let retirable = kms
            .list_retirable_grants()
            .retiring_principal(&retiring)
            .send()
            .await
            .unwrap()
            .grants
            .unwrap();
        let ids: Vec<_> = retirable
            .iter()
            .map(|g| g.grant_id.clone().unwrap())
            .collect();
        assert_eq!(ids, vec![grant_id.clone()], "only this Region's grants");
        assert_eq!(
            retirable[0].key_id.as_deref(),
            Some(key_arn_in(kms, key).await.as_str())
        );
    }
}

async fn key_arn_in(kms: &aws_sdk_kms::Client, key: &str) -> String {
    kms.describe_key()
        .key_id(key)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .arn
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_outside_the_served_set_is_refused_as_before() {
    let server = TestServer::start_configured(|c| {
        c.regions = vec!["us-east-1".into(), "eu-west-1".into()];
    })
    .await
    .unwrap();
    let west = server.kms_client_in("eu-west-1").await;
    create_key(&west, "served").await;
    for region in ["us-west-2", "cn-north-1"] {
        let kms = server.kms_client_in(region).await;
        let e = assert_aws_error!(kms.list_keys().send().await, "InvalidSignatureException");
        assert_eq!(
            e.message,
            format!("Credential should be scoped to a valid region, not '{region}'. ")
        );
    }
    // By default every Region of the aws partition is served, and no other.
    let all = TestServer::start().await.unwrap();
    let e = assert_aws_error!(
        all.kms_client_in("cn-north-1")
            .await
            .list_keys()
            .send()
            .await,
        "InvalidSignatureException"
    );
    assert!(e.message.contains("not 'cn-north-1'"));
    all.kms_client_in("mx-central-1")
        .await
        .list_keys()
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_records_carry_the_region_of_the_request() {
    let server = TestServer::start().await.unwrap();
    let west = server.kms_client_in("eu-west-1").await;
    let (key, _) = create_key(&west, "audited").await;
    west.describe_key().key_id(&key).send().await.unwrap();
    assert_aws_error!(
        server
            .kms_client_in("ap-southeast-1")
            .await
            .describe_key()
            .key_id(&key)
            .send()
            .await,
        "NotFoundException"
    );
    let records = server.audit_records().unwrap();
    let of =
        |name: &str| -> Vec<&Value> { records.iter().filter(|r| r["eventName"] == name).collect() };
    let create = of("CreateKey");
    assert_eq!(create.len(), 1);
    assert_eq!(create[0]["awsRegion"], "eu-west-1");
    let describes: Vec<&str> = of("DescribeKey")
        .iter()
        .map(|r| r["awsRegion"].as_str().unwrap())
        .collect();
    assert_eq!(describes, vec!["eu-west-1", "ap-southeast-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_survive_a_restart_in_their_own_region() {
    let mut server = TestServer::start().await.unwrap();
    let west = server.kms_client_in("eu-west-1").await;
    let (key, _) = create_key(&west, "persistent").await;
    let blob = west
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"durable".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    server.restart().await.unwrap();
    let west = server.kms_client_in("eu-west-1").await;
    assert_eq!(list_key_ids(&west).await, vec![key.clone()]);
    assert!(list_key_ids(&server.kms_client_in("us-east-1").await)
        .await
        .is_empty());
    let plain = west
        .decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap();
    assert_eq!(plain.as_ref(), b"durable");
}

/// The fixture: a data dir made by Trent before Regions (schema version 6) with
/// `tests/fixtures/make-datadir-v6.py`, and what it made (`datadir-v6.json`).
fn fixture() -> (std::path::PathBuf, Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("datadir-v6.json")).unwrap())
            .unwrap();
    (dir.join("datadir-v6"), manifest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_dir_made_before_regions_opens_and_decrypts() {
    let (dir, m) = fixture();
    let mut server = TestServer::start_from_copy(&dir).await.unwrap();
    let s = |k: &str| m[k].as_str().unwrap().to_string();
    let mut made_since = Vec::new();
    for round in ["after migration", "after a restart"] {
        let kms = server.kms_client_in(&s("region")).await;
        let mut expected = vec![s("symmetric"), s("hmac"), s("doomed")];
        expected.extend(made_since.iter().cloned());
        expected.sort();
        assert_eq!(list_key_ids(&kms).await, expected, "{round}");
        for (blob, plain) in [
            ("ciphertext_before_rotation", &b"before rotation"[..]),
            ("ciphertext_after_rotation", &b"after rotation"[..]),
        ] {
            let mut req = kms.decrypt().ciphertext_blob(Blob::new(unb64(&s(blob))));
            if blob == "ciphertext_before_rotation" {
                req = req.encryption_context("purpose", "fixture");
            }
            let out = req.send().await.unwrap();
            assert_eq!(out.plaintext.unwrap().as_ref(), plain, "{blob}, {round}");
            assert_eq!(out.key_id.unwrap(), key_arn_in(&kms, &s("symmetric")).await);
        }
        let verified = kms
            .verify_mac()
            .key_id("alias/fixture-mac")
            .message(Blob::new(b"fixture message".to_vec()))
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .mac(Blob::new(unb64(&s("mac"))))
            .send()
            .await
            .unwrap();
        assert!(verified.mac_valid, "{round}");
        let meta = kms
            .describe_key()
            .key_id("alias/fixture")
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        assert_eq!(meta.key_id, s("symmetric"));
        assert_eq!(
            meta.arn.as_deref(),
            Some(format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{}", s("symmetric")).as_str())
        );
        let hmac = kms
            .describe_key()
            .key_id(s("hmac"))
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        assert_eq!(hmac.key_spec, Some(KeySpec::Hmac256));
        assert_eq!(hmac.key_usage, Some(KeyUsageType::GenerateVerifyMac));
        let rotations = kms
            .list_key_rotations()
            .key_id(s("symmetric"))
            .send()
            .await
            .unwrap()
            .rotations
            .unwrap();
        assert_eq!(rotations.len(), 1, "the on-demand rotation, {round}");
        assert!(
            kms.get_key_rotation_status()
                .key_id(s("symmetric"))
                .send()
                .await
                .unwrap()
                .key_rotation_enabled
        );
        let grants = kms
            .list_grants()
            .key_id(s("symmetric"))
            .send()
            .await
            .unwrap()
            .grants
            .unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].grant_id.as_deref(), Some(s("grant").as_str()));
        let doomed = kms
            .describe_key()
            .key_id(s("doomed"))
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        assert_eq!(doomed.key_state.unwrap().as_str(), "PendingDeletion");
        let tags = kms
            .list_resource_tags()
            .key_id(s("symmetric"))
            .send()
            .await
            .unwrap()
            .tags
            .unwrap();
        assert_eq!(tags.len(), 1);
        // The old keys live in their Region only; other Regions start empty.
        let east = server.kms_client_in("us-east-1").await;
        assert!(list_key_ids(&east).await.is_empty(), "{round}");
        assert!(east
            .list_aliases()
            .send()
            .await
            .unwrap()
            .aliases
            .unwrap_or_default()
            .is_empty());
        // New keys still work in the old Region.
        let (fresh, _) = create_key(&kms, "new").await;
        kms.encrypt()
            .key_id(&fresh)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await
            .unwrap();
        kms.schedule_key_deletion()
            .key_id(&fresh)
            .pending_window_in_days(7)
            .send()
            .await
            .unwrap();
        made_since.push(fresh);
        server.restart().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_requested_region_is_the_region_of_the_request() {
    let server = TestServer::start().await.unwrap();
    let admin = server.admin();
    let ok = |r: anyhow::Result<RawResponse>| {
        r.unwrap().assert_query_ok();
    };
    ok(server
        .iam(&admin, "CreateUser", &[("UserName", "regional")])
        .await);
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#;
    ok(server
        .iam(
            &admin,
            "PutUserPolicy",
            &[
                ("UserName", "regional"),
                ("PolicyName", "eu-west-1-only"),
                ("PolicyDocument", policy),
            ],
        )
        .await);
    let r = server
        .iam(&admin, "CreateAccessKey", &[("UserName", "regional")])
        .await
        .unwrap();
    r.assert_query_ok();
    let id = r.xml("AccessKeyId").unwrap();
    let secret = r.xml("SecretAccessKey").unwrap();
    let client_in = |region: &'static str| {
        let server = &server;
        let (id, secret) = (id.clone(), secret.clone());
        async move {
            let cfg = aws_sdk_kms::config::Builder::new()
                .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
                .region(aws_sdk_kms::config::Region::new(region))
                .credentials_provider(aws_sdk_kms::config::Credentials::new(
                    id, secret, None, None, "regions",
                ))
                .endpoint_url(server.endpoint())
                .build();
            aws_sdk_kms::Client::from_conf(cfg)
        }
    };
    let west = client_in("eu-west-1").await;
    let key = west
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    west.describe_key()
        .key_id(&key.key_id)
        .send()
        .await
        .unwrap();
    let east = client_in("us-east-1").await;
    assert_aws_error!(east.create_key().send().await, "AccessDeniedException");
    assert_aws_error!(east.list_keys().send().await, "AccessDeniedException");
}

// ---------------------------------------------------------------- multi-Region keys

async fn describe(kms: &aws_sdk_kms::Client, key: &str) -> aws_sdk_kms::types::KeyMetadata {
    kms.describe_key()
        .key_id(key)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_region_key_replicates_and_its_ciphertexts_cross_regions() {
    use aws_sdk_kms::types::MultiRegionKeyType;
    let server = TestServer::start().await.unwrap();
    let east = server.kms_client_in("us-east-1").await;
    let west = server.kms_client_in("eu-west-1").await;
    let south = server.kms_client_in("ap-southeast-1").await;
    let primary = east
        .create_key()
        .multi_region(true)
        .description("primary")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let id = primary.key_id.clone();
    assert!(id.starts_with("mrk-") && id.len() == 36, "{id}");
    assert_eq!(primary.multi_region, Some(true));
    let config = primary.multi_region_configuration.unwrap();
    assert_eq!(
        config.multi_region_key_type,
        Some(MultiRegionKeyType::Primary)
    );
    assert_eq!(
        config.primary_key.unwrap().region.as_deref(),
        Some("us-east-1")
    );
    assert!(config.replica_keys.unwrap_or_default().is_empty());

    let before = east
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"made before replication".to_vec()))
        .encryption_context("k", "v")
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();

    for (region, description) in [("eu-west-1", "west replica"), ("ap-southeast-1", "south")] {
        let out = east
            .replicate_key()
            .key_id(&id)
            .replica_region(region)
            .description(description)
            .tags(
                aws_sdk_kms::types::Tag::builder()
                    .tag_key("region")
                    .tag_value(region)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let meta = out.replica_key_metadata.unwrap();
        assert_eq!(meta.key_id, id);
        assert_eq!(
            meta.arn.as_deref(),
            Some(format!("arn:aws:kms:{region}:{ACCOUNT}:key/{id}").as_str())
        );
        assert_eq!(meta.description.as_deref(), Some(description));
        assert_eq!(out.replica_tags.unwrap()[0].tag_value, region);
        assert!(
            out.replica_policy.unwrap().contains("kms:*"),
            "default key policy"
        );
    }
    // A Region that already has it.
    let e = assert_aws_error!(
        east.replicate_key()
            .key_id(&id)
            .replica_region("eu-west-1")
            .send()
            .await,
        "AlreadyExistsException"
    );
    assert!(e
        .message
        .contains(&format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{id}")));

    // Every related key knows the others.
    let config = describe(&east, &id)
        .await
        .multi_region_configuration
        .unwrap();
    let replicas: Vec<String> = config
        .replica_keys
        .unwrap()
        .into_iter()
        .map(|k| k.region.unwrap())
        .collect();
    assert_eq!(replicas, vec!["ap-southeast-1", "eu-west-1"]);
    let replica = describe(&west, &id).await;
    assert_eq!(replica.description.as_deref(), Some("west replica"));
    let config = replica.multi_region_configuration.unwrap();
    assert_eq!(
        config.multi_region_key_type,
        Some(MultiRegionKeyType::Replica)
    );
    assert_eq!(
        config.primary_key.unwrap().arn.as_deref(),
        Some(format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}").as_str())
    );

    // A ciphertext made in any related key's Region decrypts in every other.
    for (kms, region) in [(&west, "eu-west-1"), (&south, "ap-southeast-1")] {
        let out = kms
            .decrypt()
            .ciphertext_blob(before.clone())
            .encryption_context("k", "v")
            .send()
            .await
            .unwrap();
        assert_eq!(out.plaintext.unwrap().as_ref(), b"made before replication");
        assert_eq!(
            out.key_id.as_deref(),
            Some(format!("arn:aws:kms:{region}:{ACCOUNT}:key/{id}").as_str())
        );
    }
    let from_west = west
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"from the replica".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let out = east
        .decrypt()
        .ciphertext_blob(from_west)
        .send()
        .await
        .unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"from the replica");

    // Rotating the primary rotates every replica; replicas refuse to rotate themselves.
    east.rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    for kms in [&east, &west, &south] {
        let rotations = kms
            .list_key_rotations()
            .key_id(&id)
            .send()
            .await
            .unwrap()
            .rotations
            .unwrap();
        assert_eq!(rotations.len(), 1);
    }
    let after = east
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"after rotation".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let out = south.decrypt().ciphertext_blob(after).send().await.unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"after rotation");
    assert_aws_error!(
        west.rotate_key_on_demand().key_id(&id).send().await,
        "UnsupportedOperationException"
    );

    // Each related key has its own state.
    west.disable_key().key_id(&id).send().await.unwrap();
    assert_aws_error!(
        west.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await,
        "DisabledException"
    );
    east.encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();

    // Only a primary replicates; a single-Region key is not a multi-Region key.
    let e = assert_aws_error!(
        south
            .replicate_key()
            .key_id(&id)
            .replica_region("us-west-2")
            .send()
            .await,
        "UnsupportedOperationException"
    );
    assert_eq!(
        e.message,
        format!("arn:aws:kms:ap-southeast-1:{ACCOUNT}:key/{id} is not a multi-Region primary key.")
    );
    let (single, single_arn) = create_key(&east, "single").await;
    let e = assert_aws_error!(
        east.replicate_key()
            .key_id(&single)
            .replica_region("eu-west-1")
            .send()
            .await,
        "UnsupportedOperationException"
    );
    assert_eq!(
        e.message,
        format!("{single_arn} is not a multi-Region primary key.")
    );
    for bad in ["us-east-1", "cn-north-1"] {
        assert_aws_error!(
            east.replicate_key()
                .key_id(&id)
                .replica_region(bad)
                .send()
                .await,
            "ValidationException"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_region_signing_and_mac_keys_verify_in_every_region() {
    use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
    let server = TestServer::start().await.unwrap();
    let east = server.kms_client_in("us-east-1").await;
    let west = server.kms_client_in("eu-west-1").await;
    let sign = east
        .create_key()
        .multi_region(true)
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let mac = east
        .create_key()
        .multi_region(true)
        .key_spec(KeySpec::Hmac256)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    for key in [&sign, &mac] {
        east.replicate_key()
            .key_id(key)
            .replica_region("eu-west-1")
            .send()
            .await
            .unwrap();
    }
    let signature = east
        .sign()
        .key_id(&sign)
        .message(Blob::new(b"signed in us-east-1".to_vec()))
        .message_type(MessageType::Raw)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap()
        .signature
        .unwrap();
    let verified = west
        .verify()
        .key_id(&sign)
        .message(Blob::new(b"signed in us-east-1".to_vec()))
        .message_type(MessageType::Raw)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .signature(signature)
        .send()
        .await
        .unwrap();
    assert!(verified.signature_valid);
    let east_pub = east
        .get_public_key()
        .key_id(&sign)
        .send()
        .await
        .unwrap()
        .public_key;
    let west_pub = west
        .get_public_key()
        .key_id(&sign)
        .send()
        .await
        .unwrap()
        .public_key;
    assert_eq!(east_pub, west_pub, "one key pair in both Regions");
    let tag = west
        .generate_mac()
        .key_id(&mac)
        .message(Blob::new(b"m".to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap()
        .mac
        .unwrap();
    assert!(
        east.verify_mac()
            .key_id(&mac)
            .message(Blob::new(b"m".to_vec()))
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .mac(tag)
            .send()
            .await
            .unwrap()
            .mac_valid
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_primary_region_swaps_primary_and_replica() {
    use aws_sdk_kms::types::MultiRegionKeyType;
    let server = TestServer::start().await.unwrap();
    let east = server.kms_client_in("us-east-1").await;
    let west = server.kms_client_in("eu-west-1").await;
    let id = east
        .create_key()
        .multi_region(true)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    east.enable_key_rotation().key_id(&id).send().await.unwrap();
    east.replicate_key()
        .key_id(&id)
        .replica_region("eu-west-1")
        .send()
        .await
        .unwrap();
    // Only the primary changes the primary Region, and only to a Region with a replica.
    assert_aws_error!(
        west.update_primary_region()
            .key_id(&id)
            .primary_region("us-east-1")
            .send()
            .await,
        "UnsupportedOperationException"
    );
    assert_aws_error!(
        east.update_primary_region()
            .key_id(&id)
            .primary_region("ap-southeast-1")
            .send()
            .await,
        "NotFoundException"
    );
    east.update_primary_region()
        .key_id(&id)
        .primary_region("eu-west-1")
        .send()
        .await
        .unwrap();
    let types = |m: aws_sdk_kms::types::KeyMetadata| {
        let c = m.multi_region_configuration.unwrap();
        (
            c.multi_region_key_type.unwrap(),
            c.primary_key.unwrap().region.unwrap(),
        )
    };
    assert_eq!(
        types(describe(&west, &id).await),
        (MultiRegionKeyType::Primary, "eu-west-1".to_string())
    );
    assert_eq!(
        types(describe(&east, &id).await),
        (MultiRegionKeyType::Replica, "eu-west-1".to_string())
    );
    // Rotation now belongs to the new primary, and replicas report the primary's.
    for kms in [&east, &west] {
        let status = kms
            .get_key_rotation_status()
            .key_id(&id)
            .send()
            .await
            .unwrap();
        assert!(status.key_rotation_enabled);
        assert!(status.next_rotation_date.is_some());
    }
    west.rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_aws_error!(
        east.rotate_key_on_demand().key_id(&id).send().await,
        "UnsupportedOperationException"
    );
    let rotations = east
        .list_key_rotations()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .rotations
        .unwrap();
    assert_eq!(
        rotations.len(),
        1,
        "the old primary got the new primary's rotation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_region_condition_keys_are_answered() {
    let server = TestServer::start().await.unwrap();
    let east = server.kms_client_in("us-east-1").await;
    let west = server.kms_client_in("eu-west-1").await;
    // The account may do everything except: use a replica for Encrypt, replicate to
    // ap-southeast-1, or make ap-southeast-1 the primary Region.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
        {{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{{"StringEquals":{{"kms:MultiRegionKeyType":"REPLICA"}},"Bool":{{"kms:MultiRegion":"true"}}}}}},
        {{"Effect":"Deny","Principal":"*","Action":"kms:ReplicateKey","Resource":"*","Condition":{{"StringEquals":{{"kms:ReplicaRegion":"ap-southeast-1"}}}}}},
        {{"Effect":"Deny","Principal":"*","Action":"kms:UpdatePrimaryRegion","Resource":"*","Condition":{{"StringEquals":{{"kms:PrimaryRegion":"ap-southeast-1"}}}}}}
        ]}}"#
    );
    let id = east
        .create_key()
        .multi_region(true)
        .policy(&policy)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    east.replicate_key()
        .key_id(&id)
        .replica_region("eu-west-1")
        .policy(&policy)
        .send()
        .await
        .unwrap();
    assert_aws_error!(
        east.replicate_key()
            .key_id(&id)
            .replica_region("ap-southeast-1")
            .send()
            .await,
        "AccessDeniedException"
    );
    let plain = Blob::new(b"x".to_vec());
    east.encrypt()
        .key_id(&id)
        .plaintext(plain.clone())
        .send()
        .await
        .unwrap();
    assert_aws_error!(
        west.encrypt().key_id(&id).plaintext(plain).send().await,
        "AccessDeniedException"
    );
    assert_aws_error!(
        east.update_primary_region()
            .key_id(&id)
            .primary_region("ap-southeast-1")
            .send()
            .await,
        "AccessDeniedException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_with_replicas_waits_for_them_before_its_own_deletion_window() {
    let (server, clock) = TestServer::start_with_manual_clock().await.unwrap();
    let east = server.kms_client_in("us-east-1").await;
    let west = server.kms_client_in("eu-west-1").await;
    let id = east
        .create_key()
        .multi_region(true)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    east.replicate_key()
        .key_id(&id)
        .replica_region("eu-west-1")
        .send()
        .await
        .unwrap();
    let scheduled = east
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(
        scheduled.key_state.unwrap().as_str(),
        "PendingReplicaDeletion"
    );
    assert!(
        scheduled.deletion_date.is_none(),
        "unknown until the last replica is gone"
    );
    // Cancelling works in this state, and scheduling again returns to it.
    east.cancel_key_deletion().key_id(&id).send().await.unwrap();
    east.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    // The replica is deleted on its own schedule; the primary's window starts then.
    west.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    clock.advance(time::Duration::days(8));
    assert_eq!(server.run_maintenance().await.deleted, 1, "the replica");
    assert_aws_error!(
        west.describe_key().key_id(&id).send().await,
        "NotFoundException"
    );
    let primary = describe(&east, &id).await;
    assert_eq!(primary.key_state.unwrap().as_str(), "PendingDeletion");
    assert!(primary.deletion_date.is_some());
    assert!(primary
        .multi_region_configuration
        .unwrap()
        .replica_keys
        .unwrap_or_default()
        .is_empty());
    clock.advance(time::Duration::days(8));
    assert_eq!(
        server.run_maintenance().await.deleted,
        1,
        "then the primary"
    );
    assert_aws_error!(
        east.describe_key().key_id(&id).send().await,
        "NotFoundException"
    );
}
