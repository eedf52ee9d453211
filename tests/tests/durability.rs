//! What survives a restart, what never reaches the disk, and the audit trail.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use aws_sdk_kms::types::DataKeySpec;
use serde_json::json;
use trent_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_ciphertexts_and_aliases_survive_a_restart() {
    let mut server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let mut cases = Vec::new();
    for i in 0..3 {
        let key_id = create_key(&kms).await;
        kms.create_alias()
            .alias_name(format!("alias/restart-{i}"))
            .target_key_id(&key_id)
            .send()
            .await
            .unwrap();
        let pt = format!("restart plaintext {i}").into_bytes();
        let blob = kms
            .encrypt()
            .key_id(&key_id)
            .plaintext(Blob::new(pt.clone()))
            .encryption_context("i", i.to_string())
            .send()
            .await
            .unwrap()
            .ciphertext_blob
            .unwrap();
        cases.push((i, key_id, pt, blob));
    }
    let disabled = create_key(&kms).await;
    kms.disable_key().key_id(&disabled).send().await.unwrap();
    kms.tag_resource()
        .key_id(&cases[0].1)
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key("k")
                .tag_value("v")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    drop(kms);

    server.restart().await.unwrap();
    let kms = server.kms_client().await;
    for (i, key_id, pt, blob) in &cases {
        let dec = kms
            .decrypt()
            .ciphertext_blob(blob.clone())
            .encryption_context("i", i.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(dec.plaintext.unwrap().as_ref(), &pt[..]);
        let m = kms
            .describe_key()
            .key_id(format!("alias/restart-{i}"))
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        assert_eq!(&m.key_id, key_id);
        // New encryptions under the alias work too.
        let blob = kms
            .encrypt()
            .key_id(alias_arn(&format!("alias/restart-{i}")))
            .plaintext(Blob::new(b"after".to_vec()))
            .send()
            .await
            .unwrap()
            .ciphertext_blob
            .unwrap();
        let dec = kms.decrypt().ciphertext_blob(blob).send().await.unwrap();
        assert_eq!(dec.plaintext.unwrap().as_ref(), b"after");
    }
    let m = kms
        .describe_key()
        .key_id(&disabled)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert!(!m.enabled, "the disabled state survived");
    let tags = kms
        .list_resource_tags()
        .key_id(&cases[0].1)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(tags.len(), 1);
    assert_eq!(kms.list_keys().send().await.unwrap().keys.unwrap().len(), 4);
    assert_eq!(
        kms.list_aliases()
            .send()
            .await
            .unwrap()
            .aliases
            .unwrap()
            .len(),
        3
    );

    // The audit log was reopened and its chain continues.
    server.stop().await.unwrap();
    trent_audit::verify(&server.audit_dir(), &audit_keys(&server))
        .expect("the audit log verifies after a restart");
}

/// The data dir's audit keys (derived from its root key).
fn audit_keys(server: &TestServer) -> trent_audit::AuditKeys {
    let dir = trent_server::DataDir::new(server.data_dir());
    let root = trent_crypto::root::RootKey::load_file(dir.root_key_path()).unwrap();
    trent_server::app::audit_keys(&root).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn b64_nopad(bytes: &[u8]) -> String {
    b64(bytes).trim_end_matches('=').to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_data_key_or_secret_reaches_the_disk_and_the_audit_log_is_whole() {
    let mut server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let mut sent = 0usize;
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();

    let k1 = create_key(&kms).await;
    let k2 = create_key(&kms).await;
    sent += 2;
    kms.create_alias()
        .alias_name("alias/secret-test")
        .target_key_id(&k1)
        .send()
        .await
        .unwrap();
    sent += 1;

    for i in 0..4 {
        let pt = format!("TRENT-DISTINCTIVE-PLAINTEXT-{i}-{}", uuid::Uuid::new_v4()).into_bytes();
        let blob = kms
            .encrypt()
            .key_id("alias/secret-test")
            .plaintext(Blob::new(pt.clone()))
            .encryption_context("case", i.to_string())
            .send()
            .await
            .unwrap()
            .ciphertext_blob
            .unwrap();
        let dec = kms
            .decrypt()
            .ciphertext_blob(blob.clone())
            .encryption_context("case", i.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(dec.plaintext.unwrap().as_ref(), &pt[..]);
        let re = kms
            .re_encrypt()
            .ciphertext_blob(blob)
            .source_encryption_context("case", i.to_string())
            .destination_key_id(&k2)
            .send()
            .await
            .unwrap();
        assert!(re.ciphertext_blob.is_some());
        sent += 3;
        secrets.push((format!("plaintext {i}"), pt));
    }
    for (spec, n) in [
        (Some(DataKeySpec::Aes256), None),
        (Some(DataKeySpec::Aes128), None),
        (None, Some(64)),
    ] {
        let out = kms
            .generate_data_key()
            .key_id(&k1)
            .set_key_spec(spec)
            .set_number_of_bytes(n)
            .send()
            .await
            .unwrap();
        let dk = out.plaintext.unwrap().into_inner();
        let dec = kms
            .decrypt()
            .ciphertext_blob(out.ciphertext_blob.unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(dec.plaintext.unwrap().as_ref(), &dk[..]);
        sent += 2;
        secrets.push(("data key".into(), dk));
    }
    let out = kms
        .generate_data_key_without_plaintext()
        .key_id(&k2)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .unwrap();
    let dk = kms
        .decrypt()
        .ciphertext_blob(out.ciphertext_blob.unwrap())
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap()
        .into_inner();
    sent += 2;
    secrets.push(("data key without plaintext".into(), dk));
    let random = kms
        .generate_random()
        .number_of_bytes(48)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap()
        .into_inner();
    sent += 1;
    secrets.push(("random bytes".into(), random));
    // A few failures too: they are audited like successes.
    assert_aws_error!(
        kms.describe_key()
            .key_id(uuid::Uuid::new_v4().to_string())
            .send()
            .await,
        "NotFoundException"
    );
    sent += 1;
    let raw = server.call("Nope", &json!({})).await.unwrap();
    raw.assert_error(400, "UnknownOperationException");
    sent += 1;
    let raw = server
        .send(&server.unsigned_headers("ListKeys"), b"{}")
        .await
        .unwrap();
    raw.assert_error(400, "MissingAuthenticationTokenException");
    sent += 1;
    let raw = server.call_bytes("Encrypt", b"{bad json").await.unwrap();
    raw.assert_error(400, "SerializationException");
    sent += 1;
    let raw = server
        .call(
            "Encrypt",
            &json!({"KeyId": k1, "Plaintext": b64(b"TRENT-PLAINTEXT-IN-FAILED-CALL"), "DryRun": true}),
        )
        .await
        .unwrap();
    raw.assert_error(400, "DryRunOperationException");
    sent += 1;
    secrets.push((
        "plaintext of a failed call".into(),
        b"TRENT-PLAINTEXT-IN-FAILED-CALL".to_vec(),
    ));
    // An oversized request, refused before its body is read, is audited too.
    let mut headers = server.signed_headers("Encrypt", b"", &server.signing());
    set_header(
        &mut headers,
        "content-length",
        &(2 * 1024 * 1024).to_string(),
    );
    let mut head = String::from("POST / HTTP/1.1\r\n");
    for (name, value) in &headers {
        head.push_str(&format!("{}: {}\r\n", name, value.to_str().unwrap()));
    }
    head.push_str("connection: close\r\n\r\n");
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes())
        .await
        .unwrap();
    let raw = read_response(&mut stream).await.unwrap();
    assert_eq!(raw.status, 413);
    sent += 1;
    drop(kms);

    server.stop().await.unwrap();

    let dir = server.data_dir().to_path_buf();
    let mut files = vec![dir.join("trent.db"), dir.join("audit").join("audit.jsonl")];
    let wal = dir.join("trent.db-wal");
    if wal.exists() {
        files.push(wal);
    }
    let secret_key = server.secret_access_key.clone();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !bytes.is_empty() || file.ends_with("trent.db-wal"),
            "{} is empty",
            file.display()
        );
        assert!(
            !contains(&bytes, secret_key.as_bytes()),
            "{} contains the secret access key",
            file.display()
        );
        for (what, s) in &secrets {
            assert!(
                !contains(&bytes, s),
                "{} contains the raw {what}",
                file.display()
            );
            assert!(
                !contains(&bytes, b64_nopad(s).as_bytes()),
                "{} contains the base64 {what}",
                file.display()
            );
            assert!(
                !contains(&bytes, b64_nopad(s).replace('/', "\\/").as_bytes()),
                "{} contains the JSON-escaped base64 {what}",
                file.display()
            );
        }
    }

    let report = trent_audit::verify(&server.audit_dir(), &audit_keys(&server))
        .expect("the audit log verifies");
    assert_eq!(
        report.records as usize, sent,
        "one audit record per request"
    );
    let records = server.audit_records().unwrap();
    assert_eq!(records.len(), sent);
    let errors = records
        .iter()
        .filter(|r| r.get("errorCode").is_some_and(|c| !c.is_null()))
        .count();
    assert_eq!(
        errors, 6,
        "the six failed requests are recorded as failures"
    );
    for r in &records {
        assert_eq!(r["eventSource"], "kms.amazonaws.com", "{r}");
        assert_eq!(r["awsRegion"], REGION, "{r}");
        assert!(
            r["requestID"].as_str().is_some_and(|s| !s.is_empty()),
            "{r}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_records_carry_the_answered_request_id() {
    let mut server = TestServer::start().await.unwrap();
    let ok = server
        .call("GenerateRandom", &json!({"NumberOfBytes": 4}))
        .await
        .unwrap();
    let bad = server.call("DescribeKey", &json!({})).await.unwrap();
    server.stop().await.unwrap();
    let records = server.audit_records().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["requestID"].as_str(), ok.request_id());
    assert_eq!(records[0]["eventName"], "GenerateRandom");
    assert_eq!(records[1]["requestID"].as_str(), bad.request_id());
    assert_eq!(records[1]["eventName"], "DescribeKey");
    assert_eq!(records[1]["errorCode"], "ValidationException");
}

/// Plants `audit/audit.jsonl` as a symlink to `/dev/full`, so every audit write fails.
fn audit_log_to_dev_full(dir: &std::path::Path) -> anyhow::Result<()> {
    let audit = dir.join("audit");
    std::fs::create_dir_all(&audit)?;
    let log = audit.join(trent_audit::LOG_FILE);
    let _ = std::fs::remove_file(&log);
    std::os::unix::fs::symlink("/dev/full", &log)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_audit_log_answers_kms_internal_exception_500() {
    let started = TestServer::start_with(audit_log_to_dev_full).await;
    let server = match started {
        Ok(s) => s,
        Err(e) => {
            // Refusing to start on an unwritable log is fail-closed too, as long as it is a
            // clean error (not a panic).
            let msg = format!("{e:#}");
            assert!(
                msg.contains("audit"),
                "start-up failed, but not about the audit log: {msg}"
            );
            return;
        }
    };
    let kms = server.kms_client().await;
    // Read-only requests and failures fail closed: their records cannot be written anywhere.
    let e = kms.list_keys().send().await.aws_error();
    assert_eq!(e.code, "KMSInternalException", "{e:?}");
    assert_eq!(e.status, Some(500));
    assert!(
        !e.message.contains("/dev/full") && !e.message.contains("audit"),
        "no detail leaks: {e:?}"
    );
    let e = kms
        .generate_random()
        .number_of_bytes(8)
        .send()
        .await
        .aws_error();
    assert_eq!(e.code, "KMSInternalException", "{e:?}");
    let raw = server
        .send(&server.unsigned_headers("ListKeys"), b"{}")
        .await
        .unwrap();
    raw.assert_error(500, "KMSInternalException");
    assert!(raw.request_id().is_some());
}

/// The audit disk fills up between a CreateKey's commit and its record: the key exists, so the
/// request is answered (a retry would create a second key) and its full record, kept in the
/// store, reaches the log once the log works again. Until then, changes are refused up front.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_whose_audit_write_fails_after_commit_is_answered_and_recorded_later() {
    // The log opens (a device has no records to check); only its writes fail.
    let mut server = TestServer::start_with(audit_log_to_dev_full)
        .await
        .expect("the server starts on an audit log whose writes fail");
    let kms = server.kms_client().await;
    let created = kms
        .create_key()
        .description("committed while the audit disk is full")
        .send()
        .await
        .expect("a committed CreateKey whose record is durable in the store is answered");
    let key_id = created.key_metadata().unwrap().key_id().to_string();
    // The log is known to fail now: the next change is refused before it executes.
    let e = kms.create_key().send().await.aws_error();
    assert_eq!(e.code, "KMSInternalException", "{e:?}");
    drop(kms);

    // Restart with a working audit log: the stranded record is written at start.
    server.stop().await.unwrap();
    std::fs::remove_file(server.audit_dir().join(trent_audit::LOG_FILE)).unwrap();
    server.open().await.unwrap();
    let keys: Vec<String> = server
        .kms_client()
        .await
        .list_keys()
        .send()
        .await
        .unwrap()
        .keys
        .unwrap_or_default()
        .into_iter()
        .filter_map(|k| k.key_id)
        .collect();
    assert_eq!(
        keys,
        std::slice::from_ref(&key_id),
        "exactly the answered key exists"
    );
    let records = server.audit_records().unwrap();
    let create_keys: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["eventName"] == "CreateKey")
        .collect();
    assert_eq!(create_keys.len(), 1, "{create_keys:#?}");
    let record = create_keys[0];
    assert!(record.get("errorCode").is_none(), "{record:#}");
    assert_eq!(
        record["responseElements"]["keyMetadata"]["keyId"], key_id,
        "the full record, with the answer: {record:#}"
    );
    assert!(record.get("additionalEventData").is_none(), "{record:#}");
    assert_eq!(
        server.app().kms.store().audit_intents().await.unwrap(),
        [],
        "recovered intents are forgotten"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_after_an_audit_write_failure_is_refused_before_it_executes() {
    let Ok(mut server) = TestServer::start_with(audit_log_to_dev_full).await else {
        // The server refused to start on the unwritable log (see the test above).
        return;
    };
    let kms = server.kms_client().await;
    // The first request discovers that the log cannot be written.
    let e = kms.list_keys().send().await.aws_error();
    assert_eq!(e.code, "KMSInternalException", "{e:?}");
    let e = kms
        .create_key()
        .description("must not exist")
        .send()
        .await
        .aws_error();
    assert_eq!(e.code, "KMSInternalException", "{e:?}");
    drop(kms);

    // Restart with a working audit log: the CreateKey that was answered with an error must
    // not have created a key (while the log is failing, mutations are refused up front).
    server.stop().await.unwrap();
    std::fs::remove_file(server.audit_dir().join(trent_audit::LOG_FILE)).unwrap();
    server.open().await.unwrap();
    let kms = server.kms_client().await;
    let keys = kms
        .list_keys()
        .send()
        .await
        .unwrap()
        .keys
        .unwrap_or_default();
    assert!(
        keys.is_empty(),
        "a CreateKey answered with KMSInternalException (its audit record failed) still created {} key(s)",
        keys.len()
    );
}

/// IAM and STS go down the same pipeline as KMS: while the audit log is known to fail, an IAM
/// change is refused with IAM's `ServiceFailure` before the IAM domain validates, authorizes or
/// executes it, so nothing is committed (a valid CreateUser would otherwise commit and be
/// answered, its record kept in the store), and STS fails closed like any request whose record
/// cannot be written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_change_while_the_audit_log_fails_is_refused_before_validation_and_not_committed() {
    let mut server = TestServer::start_with(audit_log_to_dev_full)
        .await
        .expect("the server starts on an audit log whose writes fail");
    let admin = server.admin();
    // The first request discovers that the log cannot be written: it fails closed too.
    let listed = server.iam(&admin, "ListUsers", &[]).await.unwrap();
    let message = listed.assert_query_error(500, "ServiceFailure");
    assert_eq!(listed.xml("Type").as_deref(), Some("Receiver"));
    assert!(
        !message.contains("/dev/full") && !message.contains("audit"),
        "no detail leaks: {message}"
    );
    assert!(listed.request_id().is_some());
    assert!(!server.app().audit.is_healthy());

    // A valid change and invalid ones: each is refused the same way, before its members are
    // looked at (an invalid name or a missing one is not a ValidationError here).
    for params in [
        vec![("UserName", "must-not-exist")],
        vec![("UserName", "not a valid name!")],
        vec![],
    ] {
        let r = server.iam(&admin, "CreateUser", &params).await.unwrap();
        r.assert_query_error(500, "ServiceFailure");
    }
    let r = server.sts(&admin, "GetCallerIdentity", &[]).await.unwrap();
    r.assert_query_error(500, "ServiceFailure");
    assert_eq!(
        server.app().kms.store().audit_intents().await.unwrap(),
        [],
        "no change was committed, so no intent was stored"
    );

    // Restart with a working audit log: no user was created.
    server.stop().await.unwrap();
    std::fs::remove_file(server.audit_dir().join(trent_audit::LOG_FILE)).unwrap();
    server.open().await.unwrap();
    let users = server.iam(&admin, "ListUsers", &[]).await.unwrap();
    users.assert_query_ok();
    assert_eq!(users.xml_all("UserName"), Vec::<String>::new());
    let records = server.audit_records().unwrap();
    assert!(
        records.iter().all(|r| r["eventName"] != "CreateUser"),
        "{records:#?}"
    );
}

/// A tmpfs mounted on the audit dir, unmounted on drop.
struct SmallAuditDisk(std::path::PathBuf);

impl Drop for SmallAuditDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// The audit disk really fills up (a 1 MiB tmpfs) and frees again while the server runs: a
/// CreateKey committed meanwhile is answered, its record waits in the store, and it reaches
/// the log once the log takes writes again, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_stranded_by_a_full_audit_disk_reaches_the_log_when_space_returns() {
    let mounted = std::sync::Arc::new(std::sync::Mutex::new(None));
    let mount = mounted.clone();
    let started = TestServer::start_with(move |dir| {
        let audit = dir.join("audit");
        std::fs::create_dir_all(&audit)?;
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs"])
            .arg(&audit)
            .status()?;
        anyhow::ensure!(status.success(), "mount -t tmpfs failed");
        *mount.lock().unwrap() = Some(SmallAuditDisk(audit));
        Ok(())
    })
    .await;
    let server = match started {
        Ok(server) => server,
        Err(e) if std::env::var_os("CI").is_none() => {
            // Mounting needs root; CI runs as root.
            eprintln!("skipped: cannot mount a tmpfs here ({e:#})");
            return;
        }
        Err(e) => panic!("cannot mount a tmpfs for the audit dir: {e:#}"),
    };
    let _disk = mounted.lock().unwrap().take();
    let kms = server.kms_client().await;
    kms.list_keys().send().await.unwrap();

    // Fill the disk.
    let filler = server.audit_dir().join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 4096];
    while std::io::Write::write_all(&mut file, &chunk).is_ok() {}
    drop(file);

    // The description is in the record: at 8,000 bytes the record needs pages the disk no
    // longer has (the log's last, partly used page could take a small one).
    let created = kms
        .create_key()
        .description("x".repeat(8000))
        .send()
        .await
        .expect("a committed CreateKey whose record is kept in the store is answered");
    let key_id = created.key_metadata().unwrap().key_id().to_string();
    let stranded = server.app().kms.store().audit_intents().await.unwrap();
    assert_eq!(stranded.len(), 1, "the record waits in the store");
    assert!(stranded[0].complete, "the full record, with the answer");
    assert!(!server.app().audit.is_healthy());

    // Space returns: the next record is written and the stranded one follows.
    std::fs::remove_file(&filler).unwrap();
    kms.list_keys().send().await.unwrap();
    trent_server::recorder::drain_stranded(server.app()).await;
    let records = server.audit_records().unwrap();
    let create_key = records
        .iter()
        .find(|r| r["eventName"] == "CreateKey")
        .expect("the CreateKey record reached the log");
    assert!(create_key.get("errorCode").is_none(), "{create_key:#}");
    assert_eq!(
        create_key["responseElements"]["keyMetadata"]["keyId"],
        key_id
    );
    assert_eq!(
        server.app().kms.store().audit_intents().await.unwrap(),
        [],
        "the intent is forgotten once its record is durable in the log"
    );
}
