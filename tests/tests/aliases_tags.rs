//! Aliases, tags, and the four ways of naming a key (key id, key ARN, alias name, alias ARN).
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use aws_sdk_kms::types::{DataKeySpec, Tag};
use aws_sdk_kms::Client;
use trent_tests::*;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().unwrap()
}

async fn aliases(
    kms: &Client,
    key_id: Option<&str>,
) -> Vec<(String, Option<String>, Option<String>)> {
    let out = kms
        .list_aliases()
        .set_key_id(key_id.map(str::to_string))
        .send()
        .await
        .unwrap();
    let mut v: Vec<_> = out
        .aliases
        .unwrap_or_default()
        .into_iter()
        .map(|a| (a.alias_name.unwrap(), a.target_key_id, a.alias_arn))
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_delete_and_list_aliases() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k1 = create_key(&kms).await;
    let k2 = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/app")
        .target_key_id(&k1)
        .send()
        .await
        .unwrap();
    kms.create_alias()
        .alias_name("alias/other/nested_name-1")
        .target_key_id(key_arn(&k2))
        .send()
        .await
        .unwrap();

    let all = aliases(&kms, None).await;
    assert_eq!(
        all,
        vec![
            (
                "alias/app".to_string(),
                Some(k1.clone()),
                Some(alias_arn("alias/app"))
            ),
            (
                "alias/other/nested_name-1".to_string(),
                Some(k2.clone()),
                Some(alias_arn("alias/other/nested_name-1"))
            ),
        ]
    );
    assert_eq!(aliases(&kms, Some(&k1)).await.len(), 1);
    assert_eq!(
        aliases(&kms, Some(&key_arn(&k2))).await[0].0,
        "alias/other/nested_name-1"
    );

    // The alias resolves to its key.
    let m = kms
        .describe_key()
        .key_id("alias/app")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(m.key_id, k1);

    kms.update_alias()
        .alias_name("alias/app")
        .target_key_id(&k2)
        .send()
        .await
        .unwrap();
    let m = kms
        .describe_key()
        .key_id("alias/app")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(m.key_id, k2);
    assert!(aliases(&kms, Some(&k1)).await.is_empty());
    assert_eq!(aliases(&kms, Some(&k2)).await.len(), 2);

    kms.delete_alias()
        .alias_name("alias/app")
        .send()
        .await
        .unwrap();
    assert_aws_error!(
        kms.describe_key().key_id("alias/app").send().await,
        "NotFoundException"
    );
    assert_eq!(aliases(&kms, None).await.len(), 1);
    // The name can be used again once deleted.
    kms.create_alias()
        .alias_name("alias/app")
        .target_key_id(&k1)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_aliases_pages_with_limit_and_marker() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    for i in 0..5 {
        kms.create_alias()
            .alias_name(format!("alias/page-{i}"))
            .target_key_id(&k)
            .send()
            .await
            .unwrap();
    }
    let mut names = Vec::new();
    let mut marker = None;
    for _ in 0..10 {
        let out = kms
            .list_aliases()
            .limit(2)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        names.extend(
            out.aliases
                .unwrap_or_default()
                .into_iter()
                .map(|a| a.alias_name.unwrap()),
        );
        if !out.truncated {
            assert!(out.next_marker.is_none());
            break;
        }
        marker = Some(out.next_marker.expect("NextMarker when Truncated"));
    }
    names.sort();
    assert_eq!(
        names,
        (0..5)
            .map(|i| format!("alias/page-{i}"))
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_alias_is_already_exists() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k1 = create_key(&kms).await;
    let k2 = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/dup")
        .target_key_id(&k1)
        .send()
        .await
        .unwrap();
    assert_aws_error!(
        kms.create_alias()
            .alias_name("alias/dup")
            .target_key_id(&k2)
            .send()
            .await,
        "AlreadyExistsException"
    );
    let m = kms
        .describe_key()
        .key_id("alias/dup")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(m.key_id, k1, "the failed CreateAlias changed nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_names_reserved_for_aws_are_refused() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    let e = kms
        .create_alias()
        .alias_name("alias/aws/x")
        .target_key_id(&k)
        .send()
        .await
        .aws_error();
    // AWS answers NotAuthorizedException for the reserved prefix.
    assert_eq!(e.code, "NotAuthorizedException", "{e:?}");
    assert!(aliases(&kms, None).await.is_empty());
    let e = kms
        .delete_alias()
        .alias_name("alias/aws/x")
        .send()
        .await
        .aws_error();
    assert_eq!(e.code, "NotAuthorizedException", "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_name_without_prefix_is_validation() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    // Without the prefix, AWS's own words (LocalStack's AWS-validated test_create_alias).
    let e = assert_aws_error!(
        kms.create_alias()
            .alias_name("app")
            .target_key_id(&k)
            .send()
            .await,
        "ValidationException"
    );
    assert_eq!(e.message, trent_core::ops::aliases::NO_PREFIX_MESSAGE);
    for bad in ["alias/", "alias/has space", "alias/bad!char"] {
        let e = assert_aws_error!(
            kms.create_alias()
                .alias_name(bad)
                .target_key_id(&k)
                .send()
                .await,
            "ValidationException"
        );
        assert!(
            e.message
                .contains("at 'aliasName' failed to satisfy constraint"),
            "{bad}: {}",
            e.message
        );
    }
    assert!(aliases(&kms, None).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_target_must_be_a_key_not_an_alias() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/first")
        .target_key_id(&k)
        .send()
        .await
        .unwrap();
    assert_aws_error!(
        kms.create_alias()
            .alias_name("alias/second")
            .target_key_id("alias/first")
            .send()
            .await,
        "ValidationException"
    );
    assert_aws_error!(
        kms.create_alias()
            .alias_name("alias/second")
            .target_key_id(uuid::Uuid::new_v4().to_string())
            .send()
            .await,
        "NotFoundException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_alias_is_not_found() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    assert_aws_error!(
        kms.delete_alias().alias_name("alias/missing").send().await,
        "NotFoundException"
    );
    assert_aws_error!(
        kms.update_alias()
            .alias_name("alias/missing")
            .target_key_id(&k)
            .send()
            .await,
        "NotFoundException"
    );
    assert_aws_error!(
        kms.describe_key().key_id("alias/missing").send().await,
        "NotFoundException"
    );
    assert_aws_error!(
        kms.encrypt()
            .key_id(alias_arn("alias/missing"))
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await,
        "NotFoundException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_taking_operation_accepts_key_id_key_arn_alias_name_and_alias_arn() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    let other = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/four")
        .target_key_id(&k)
        .send()
        .await
        .unwrap();
    let forms = [
        k.clone(),
        key_arn(&k),
        "alias/four".to_string(),
        alias_arn("alias/four"),
    ];
    let arn = key_arn(&k);
    for f in &forms {
        let m = kms
            .describe_key()
            .key_id(f)
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        assert_eq!(m.key_id, k, "DescribeKey {f}");

        let enc = kms
            .encrypt()
            .key_id(f)
            .plaintext(Blob::new(b"four".to_vec()))
            .send()
            .await
            .unwrap();
        assert_eq!(enc.key_id.as_deref(), Some(arn.as_str()), "Encrypt {f}");
        let blob = enc.ciphertext_blob.unwrap();

        let dec = kms
            .decrypt()
            .key_id(f)
            .ciphertext_blob(blob.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(dec.plaintext.unwrap().as_ref(), b"four", "Decrypt {f}");

        // ReEncrypt: the form as source, and as destination.
        let re = kms
            .re_encrypt()
            .ciphertext_blob(blob.clone())
            .source_key_id(f)
            .destination_key_id(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(
            re.source_key_id.as_deref(),
            Some(arn.as_str()),
            "ReEncrypt source {f}"
        );
        let re = kms
            .re_encrypt()
            .ciphertext_blob(re.ciphertext_blob.unwrap())
            .destination_key_id(f)
            .send()
            .await
            .unwrap();
        assert_eq!(
            re.key_id.as_deref(),
            Some(arn.as_str()),
            "ReEncrypt destination {f}"
        );

        let dk = kms
            .generate_data_key()
            .key_id(f)
            .key_spec(DataKeySpec::Aes256)
            .send()
            .await
            .unwrap();
        assert_eq!(
            dk.key_id.as_deref(),
            Some(arn.as_str()),
            "GenerateDataKey {f}"
        );
        let dk = kms
            .generate_data_key_without_plaintext()
            .key_id(f)
            .number_of_bytes(8)
            .send()
            .await
            .unwrap();
        assert_eq!(
            dk.key_id.as_deref(),
            Some(arn.as_str()),
            "GenerateDataKeyWithoutPlaintext {f}"
        );
    }
    // The operations for which AWS documents "key ID or key ARN".
    for f in [k.clone(), key_arn(&k)] {
        kms.disable_key().key_id(&f).send().await.unwrap();
        kms.enable_key().key_id(&f).send().await.unwrap();
        kms.update_key_description()
            .key_id(&f)
            .description(format!("named by {f}"))
            .send()
            .await
            .unwrap();
        kms.tag_resource()
            .key_id(&f)
            .tags(tag("named", "yes"))
            .send()
            .await
            .unwrap();
        let tags = kms
            .list_resource_tags()
            .key_id(&f)
            .send()
            .await
            .unwrap()
            .tags
            .unwrap();
        assert_eq!(tags.len(), 1, "{f}");
        kms.untag_resource()
            .key_id(&f)
            .tag_keys("named")
            .send()
            .await
            .unwrap();
        let listed = aliases(&kms, Some(&f)).await;
        assert_eq!(listed.len(), 1, "ListAliases KeyId {f}");
        kms.update_alias()
            .alias_name("alias/four")
            .target_key_id(&f)
            .send()
            .await
            .unwrap();
    }
    let m = kms
        .describe_key()
        .key_id("alias/four")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(
        m.description.as_deref(),
        Some(format!("named by {}", key_arn(&k)).as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_untag_and_list_resource_tags() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    kms.tag_resource()
        .key_id(&k)
        .tags(tag("a", "1"))
        .tags(tag("b", "2"))
        .send()
        .await
        .unwrap();
    // Tagging an existing key replaces its value.
    kms.tag_resource()
        .key_id(&k)
        .tags(tag("a", "one"))
        .send()
        .await
        .unwrap();
    let mut tags: Vec<(String, String)> = kms
        .list_resource_tags()
        .key_id(&k)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap()
        .into_iter()
        .map(|t| (t.tag_key, t.tag_value))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        vec![("a".into(), "one".into()), ("b".into(), "2".into())]
    );
    kms.untag_resource()
        .key_id(&k)
        .tag_keys("a")
        .tag_keys("not-there")
        .send()
        .await
        .unwrap();
    let tags = kms
        .list_resource_tags()
        .key_id(&k)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].tag_key, "b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_50_tags_is_refused() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    let mut req = kms.tag_resource().key_id(&k);
    for i in 0..51 {
        req = req.tags(tag(&format!("k{i}"), "v"));
    }
    let e = req.send().await.aws_error();
    assert!(
        e.code == "LimitExceededException" || e.code == "TagException",
        "51 tags: {e:?}"
    );
    let tags = kms
        .list_resource_tags()
        .key_id(&k)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap_or_default();
    assert!(tags.is_empty(), "nothing was added");

    // 50 in one call is fine; one more in a second call is refused.
    let mut req = kms.tag_resource().key_id(&k);
    for i in 0..50 {
        req = req.tags(tag(&format!("k{i}"), "v"));
    }
    req.send().await.unwrap();
    let e = kms
        .tag_resource()
        .key_id(&k)
        .tags(tag("k50", "v"))
        .send()
        .await
        .aws_error();
    assert!(
        e.code == "LimitExceededException" || e.code == "TagException",
        "51st tag: {e:?}"
    );
    let tags = kms
        .list_resource_tags()
        .key_id(&k)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap_or_default();
    assert_eq!(tags.len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_prefixed_tags_are_a_tag_exception() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    assert_aws_error!(
        kms.tag_resource()
            .key_id(&k)
            .tags(tag("aws:created-by", "me"))
            .send()
            .await,
        "TagException"
    );
    assert_aws_error!(
        kms.untag_resource()
            .key_id(&k)
            .tag_keys("aws:created-by")
            .send()
            .await,
        "TagException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_resource_tags_paginates() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    let mut req = kms.tag_resource().key_id(&k);
    for i in 0..5 {
        req = req.tags(tag(&format!("t{i}"), "v"));
    }
    req.send().await.unwrap();
    let mut seen = Vec::new();
    let mut marker = None;
    for _ in 0..10 {
        let out = kms
            .list_resource_tags()
            .key_id(&k)
            .limit(2)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        seen.extend(out.tags.unwrap_or_default().into_iter().map(|t| t.tag_key));
        if !out.truncated {
            break;
        }
        marker = out.next_marker;
    }
    seen.sort();
    assert_eq!(seen, (0..5).map(|i| format!("t{i}")).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_operations_refuse_an_alias_where_aws_takes_only_key_id_or_arn() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/managed")
        .target_key_id(&k)
        .send()
        .await
        .unwrap();
    let e = kms
        .disable_key()
        .key_id("alias/managed")
        .send()
        .await
        .aws_error();
    assert_eq!(e.code, "InvalidArnException", "{e:?}");
    let e = kms
        .tag_resource()
        .key_id(alias_arn("alias/managed"))
        .tags(tag("a", "b"))
        .send()
        .await
        .aws_error();
    assert_eq!(e.code, "InvalidArnException", "{e:?}");
    // The key itself was not touched, and DescribeKey still accepts the alias.
    let meta = kms
        .describe_key()
        .key_id("alias/managed")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert!(meta.enabled);
}
