//! Trent on PostgreSQL (issue 14, ARCHITECTURE.md §6.1): `trent init --database` and `trent
//! serve` as processes on 127.0.0.1 against a throwaway PostgreSQL server, driven by
//! aws-sdk-kms. One node keeps its state across a restart; two nodes on one database (the
//! second's data dir copied from the first without its audit files) serve the same keys.
//!
//! Without PostgreSQL installed the tests print a note and pass, except under `CI=true`.
// test code: a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::GrantOperation;
use trent_store_postgres::test_util::PgServer;

/// A PostgreSQL server, or `None` when it is not installed outside CI (a note was printed).
fn postgres() -> Option<PgServer> {
    PgServer::start().expect("start PostgreSQL")
}

/// Runs `trent ARGS`, returning (success, stdout + stderr).
fn trent(args: &[&str]) -> (bool, String) {
    let out = Command::new(trent_tests::trent_bin())
        .args(args)
        .env_remove("TRENT_DATABASE_URL")
        .env_remove("PGPASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("running trent");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `trent init --data-dir DIR --database URL`, which must succeed.
fn init(dir: &Path, url: &str) {
    let (ok, text) = trent(&[
        "init",
        "--data-dir",
        dir.to_str().unwrap(),
        "--database",
        url,
    ]);
    assert!(ok, "trent init failed: {text}");
}

/// A `trent serve` process on 127.0.0.1:0, stopped (SIGTERM, then SIGKILL) when dropped.
struct Node {
    child: Child,
    endpoint: String,
    dir: PathBuf,
    stderr: PathBuf,
    stopped: bool,
}

impl Node {
    /// Starts `trent serve --data-dir DIR EXTRA…` and waits for its listening line.
    fn start(dir: &Path, extra: &[&str]) -> Node {
        let stderr = dir.with_extension("stderr");
        let mut child = Command::new(trent_tests::trent_bin())
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("TRENT_DATABASE_URL")
            .env_remove("PGPASSWORD")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("starting trent serve");
        let mut out = child.stdout.take().expect("stdout");
        let mut text = String::new();
        let mut buf = [0u8; 1024];
        let deadline = Instant::now() + Duration::from_secs(60);
        let endpoint = loop {
            assert!(Instant::now() < deadline, "no listening line: {text}");
            let n = out.read(&mut buf).expect("reading trent's output");
            if n == 0 {
                let err = std::fs::read_to_string(&stderr).unwrap_or_default();
                panic!("trent serve exited: {text}{err}");
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            if let Some(rest) = text.split("listening on http://").nth(1) {
                if let Some(addr) = rest.split_whitespace().next() {
                    break format!("http://{addr}");
                }
            }
        };
        assert!(
            text.contains("State kept in PostgreSQL: postgres://"),
            "the start names the database: {text}"
        );
        // Keep draining stdout so the process never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        Node {
            child,
            endpoint,
            dir: dir.to_path_buf(),
            stderr,
            stopped: false,
        }
    }

    /// An aws-sdk-kms client with the data dir's administrator key (profile `trent`).
    async fn kms(&self) -> aws_sdk_kms::Client {
        self.kms_as("trent").await
    }

    /// An aws-sdk-kms client with the access key of `profile` in the data dir's credentials.
    async fn kms_as(&self, profile: &str) -> aws_sdk_kms::Client {
        let (id, secret) = profile_key(&self.dir, profile);
        let config = aws_config::defaults(BehaviorVersion::latest())
            .credentials_provider(aws_sdk_kms::config::Credentials::new(
                id,
                secret,
                None,
                None,
                "trent-tests",
            ))
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .load()
            .await;
        aws_sdk_kms::Client::new(&config)
    }

    /// Stops the process (SIGTERM, then SIGKILL after 10 s) and waits for it.
    fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
            eprintln!("trent serve's stderr ({}):\n{err}", self.dir.display());
        }
    }
}

/// The administrator access key `trent init` wrote to `DIR/credentials` (profile `trent`).
fn admin_key(dir: &Path) -> (String, String) {
    profile_key(dir, "trent")
}

/// The access key of `profile` in `DIR/credentials`.
fn profile_key(dir: &Path, profile: &str) -> (String, String) {
    let text = std::fs::read_to_string(dir.join("credentials")).unwrap();
    let header = format!("[{profile}]");
    let section: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .collect();
    let value = |name: &str| {
        section
            .iter()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim_start_matches([' ', '=']).trim().to_string())
            .unwrap_or_else(|| panic!("no {name} in credentials"))
    };
    (value("aws_access_key_id"), value("aws_secret_access_key"))
}

/// Copies a data dir for a second node, without its audit log (each node keeps its own).
fn copy_data_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "audit" {
            continue;
        }
        assert!(entry.file_type().unwrap().is_file(), "{entry:?}");
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn settings(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("settings.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trent_on_postgres_keeps_keys_aliases_and_grants_across_a_restart() {
    let Some(pg) = postgres() else { return };
    let url = pg.create_database().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("node");
    init(&dir, &url);
    assert_eq!(settings(&dir)["database"], serde_json::json!(url));
    assert!(
        !dir.join("trent.db").exists(),
        "the state is in PostgreSQL, not in a trent.db"
    );

    // Served from what the settings name: no --database needed.
    let mut node = Node::start(&dir, &[]);
    let kms = node.kms().await;
    let key_id = kms
        .create_key()
        .description("on postgres")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    kms.create_alias()
        .alias_name("alias/pg")
        .target_key_id(&key_id)
        .send()
        .await
        .unwrap();
    let blob = kms
        .encrypt()
        .key_id("alias/pg")
        .plaintext(Blob::new(b"kept in postgres".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let grant_id = kms
        .create_grant()
        .key_id(&key_id)
        .grantee_principal("arn:aws:iam::111122223333:role/reader")
        .operations(GrantOperation::Decrypt)
        .send()
        .await
        .unwrap()
        .grant_id
        .unwrap();
    node.stop();
    drop(node);

    let node = Node::start(&dir, &[]);
    let kms = node.kms().await;
    let plain = kms.decrypt().ciphertext_blob(blob).send().await.unwrap();
    assert_eq!(plain.plaintext.unwrap().as_ref(), b"kept in postgres");
    assert_eq!(plain.key_id.unwrap().rsplit('/').next().unwrap(), key_id);
    let described = kms.describe_key().key_id("alias/pg").send().await.unwrap();
    assert_eq!(described.key_metadata.unwrap().key_id, key_id);
    let grants = kms.list_grants().key_id(&key_id).send().await.unwrap();
    let ids: Vec<_> = grants
        .grants
        .unwrap_or_default()
        .into_iter()
        .filter_map(|g| g.grant_id)
        .collect();
    assert_eq!(ids, vec![grant_id]);

    // The admin commands reach the same database through the settings.
    let (ok, text) = trent(&[
        "admin",
        "list-accounts",
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    let (id, _) = admin_key(&dir);
    assert!(
        text.contains("111122223333") && text.contains(&id),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_on_one_postgres_serve_the_same_keys() {
    let Some(pg) = postgres() else { return };
    let url = pg.create_database().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (dir1, dir2) = (tmp.path().join("node1"), tmp.path().join("node2"));
    init(&dir1, &url);
    copy_data_dir(&dir1, &dir2);
    let node1 = Node::start(&dir1, &[]);
    let node2 = Node::start(&dir2, &[]);
    let (kms1, kms2) = (node1.kms().await, node2.kms().await);

    let key_id = kms1
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let blob = kms1
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"from node 1".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let plain = kms2.decrypt().ciphertext_blob(blob).send().await.unwrap();
    assert_eq!(plain.plaintext.unwrap().as_ref(), b"from node 1");

    // And the other way, through an alias node 2 creates.
    kms2.create_alias()
        .alias_name("alias/shared")
        .target_key_id(&key_id)
        .send()
        .await
        .unwrap();
    let blob = kms2
        .encrypt()
        .key_id("alias/shared")
        .plaintext(Blob::new(b"from node 2".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let plain = kms1
        .decrypt()
        .ciphertext_blob(blob)
        .key_id("alias/shared")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.plaintext.unwrap().as_ref(), b"from node 2");

    // Each node keeps its own audit log: node 2's holds its own requests only.
    assert!(dir2.join("audit").is_dir());
}

#[tokio::test(flavor = "multi_thread")]
async fn init_records_the_database_without_its_password() {
    let Some(pg) = postgres() else { return };
    let url = pg.create_database().await.unwrap();
    // The test server trusts every local connection, so the password is accepted and unused.
    let with_password = url.replacen("postgres@", "postgres:n0t-in-files@", 1);
    assert_ne!(with_password, url);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("node");
    init(&dir, &with_password);
    assert_eq!(settings(&dir)["database"], serde_json::json!(url));
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("n0t-in-files"), "{}", path.display());
        }
    }
    // Given again (as TRENT_DATABASE_URL would), it is the same database: accepted.
    let node = Node::start(&dir, &["--database", &with_password]);
    let kms = node.kms().await;
    kms.list_keys().send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_data_dir_refuses_another_database_and_init_refuses_a_database_in_use() {
    let Some(pg) = postgres() else { return };
    let url = pg.create_database().await.unwrap();
    let other = pg.create_database().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("node");
    init(&dir, &url);

    let (ok, text) = trent(&[
        "serve",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--database",
        &other,
    ]);
    assert!(!ok, "{text}");
    assert!(text.contains("the data dir's database is"), "{text}");

    // A second init on the same database would bring a second root key to it: refused, and
    // nothing is left behind that would make the dir look initialised.
    let second = tmp.path().join("second");
    let (ok, text) = trent(&[
        "init",
        "--data-dir",
        second.to_str().unwrap(),
        "--database",
        &url,
    ]);
    assert!(!ok, "{text}");
    assert!(text.contains("already holds accounts"), "{text}");
    assert!(!second.join("root.key").exists());
    assert!(!second.join("settings.json").exists());

    // A SQLite data dir refuses --database too.
    let sqlite = tmp.path().join("sqlite");
    let (ok, text) = trent(&["init", "--data-dir", sqlite.to_str().unwrap()]);
    assert!(ok, "{text}");
    let (ok, text) = trent(&[
        "admin",
        "list-accounts",
        "--data-dir",
        sqlite.to_str().unwrap(),
        "--database",
        &url,
    ]);
    assert!(!ok, "{text}");
    assert!(text.contains("trent.db (SQLite)"), "{text}");
}

/// Retries `check` until it holds, for at most `within`; returns how long that took.
async fn holds_within<F, Fut>(within: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return Some(start.elapsed());
        }
        if start.elapsed() > within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The error code of an Encrypt through `kms`, or `None` if it succeeded.
async fn encrypt_error(kms: &aws_sdk_kms::Client, key_id: &str) -> Option<String> {
    match kms
        .encrypt()
        .key_id(key_id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
    {
        Ok(_) => None,
        Err(e) => Some(
            aws_sdk_kms::error::ProvideErrorMetadata::code(&e)
                .unwrap_or("no code")
                .to_string(),
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_through_one_node_is_enforced_by_the_other_within_a_second() {
    let Some(pg) = postgres() else { return };
    let url = pg.create_database().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (dir1, dir2) = (tmp.path().join("node1"), tmp.path().join("node2"));
    init(&dir1, &url);
    // A second account, the grantee below (its profile is copied to node 2 too).
    let (ok, text) = trent(&[
        "admin",
        "create-account",
        "--data-dir",
        dir1.to_str().unwrap(),
        "--account-id",
        "444455556666",
    ]);
    assert!(ok, "{text}");
    copy_data_dir(&dir1, &dir2);
    let node1 = Node::start(&dir1, &[]);
    let node2 = Node::start(&dir2, &[]);
    let (kms1, kms2) = (node1.kms().await, node2.kms().await);
    let other2 = node2.kms_as("trent-444455556666").await;
    let metadata = kms1
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let (key_id, key_arn) = (metadata.key_id, metadata.arn.unwrap());
    // Node 2's caches hold the key, its policy and its grants.
    assert_eq!(encrypt_error(&kms2, &key_id).await, None);
    assert_eq!(encrypt_error(&kms2, &key_id).await, None);

    // Disabled through node 1: node 2 refuses it within a second.
    kms1.disable_key().key_id(&key_id).send().await.unwrap();
    let took = holds_within(Duration::from_secs(1), || async {
        encrypt_error(&kms2, &key_id).await.as_deref() == Some("DisabledException")
    })
    .await;
    assert!(took.is_some(), "node 2 still encrypts with a disabled key");
    kms1.enable_key().key_id(&key_id).send().await.unwrap();
    let took = holds_within(Duration::from_secs(1), || async {
        encrypt_error(&kms2, &key_id).await.is_none()
    })
    .await;
    assert!(took.is_some(), "node 2 still refuses a re-enabled key");

    // A policy that denies Encrypt, put through node 1: node 2 denies it within a second.
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Admin", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "NoEncrypt", "Effect": "Deny",
             "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "kms:Encrypt", "Resource": "*"}
        ]
    });
    kms1.put_key_policy()
        .key_id(&key_id)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    let took = holds_within(Duration::from_secs(1), || async {
        encrypt_error(&kms2, &key_id).await.as_deref() == Some("AccessDeniedException")
    })
    .await;
    assert!(took.is_some(), "node 2 still applies the old key policy");

    // A grant to the other account, created and then revoked through node 1.
    assert_eq!(
        encrypt_error(&other2, &key_arn).await.as_deref(),
        Some("AccessDeniedException")
    );
    let grant_id = kms1
        .create_grant()
        .key_id(&key_id)
        .grantee_principal("arn:aws:iam::444455556666:root")
        .operations(GrantOperation::Encrypt)
        .send()
        .await
        .unwrap()
        .grant_id
        .unwrap();
    let took = holds_within(Duration::from_secs(1), || async {
        encrypt_error(&other2, &key_arn).await.is_none()
    })
    .await;
    assert!(took.is_some(), "node 2 does not see the new grant");
    kms1.revoke_grant()
        .key_id(&key_id)
        .grant_id(grant_id)
        .send()
        .await
        .unwrap();
    let took = holds_within(Duration::from_secs(1), || async {
        encrypt_error(&other2, &key_arn).await.as_deref() == Some("AccessDeniedException")
    })
    .await;
    assert!(took.is_some(), "node 2 still honours a revoked grant");
}
