//! Root key providers and rotation, against the `trent` binary (ARCHITECTURE.md §3):
//! a PKCS#11 token (SoftHSM2, one token directory per test) or a passphrase keeps the root
//! key, so the data dir alone holds no usable key; `trent admin rotate-root-key` moves every
//! secret to a new key and survives `kill -9` at any point.
//!
//! SoftHSM2 comes from Debian's `softhsm2` (`.ci/run` installs it). Without it these tests
//! fail under `CI=true` and are skipped (with a note) elsewhere.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::Credentials;
use aws_sdk_kms::primitives::Blob;
use trent_tests::trent_bin;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "4711-user-pin";

/// A SoftHSM2 token in its own directory (its own `SOFTHSM2_CONF`).
struct SoftHsm {
    dir: tempfile::TempDir,
    label: String,
}

impl SoftHsm {
    /// A fresh token, or `None` (after a note) when SoftHSM2 is not installed outside CI.
    fn new(label: &str) -> Option<SoftHsm> {
        let installed = Path::new(MODULE).exists()
            && Command::new("softhsm2-util")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
        if !installed {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "SoftHSM2 is missing ({MODULE}, softhsm2-util): .ci/run installs softhsm2"
            );
            eprintln!("SKIPPED: SoftHSM2 is not installed (apt-get install softhsm2)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tokens")).unwrap();
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.path().join("tokens").display()
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("pin"), format!("{PIN}\n")).unwrap();
        let hsm = SoftHsm {
            dir,
            label: label.to_string(),
        };
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", hsm.conf())
            .args(["--init-token", "--free", "--label", label])
            .args(["--so-pin", "0000", "--pin", PIN])
            .output()
            .unwrap();
        assert!(out.status.success(), "softhsm2-util: {out:?}");
        Some(hsm)
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    fn pin_file(&self) -> PathBuf {
        self.dir.path().join("pin")
    }

    /// The token's own attribute file (label, PINs, flags). SoftHSM2 rewrites it in place on
    /// every `C_Login`, so a SIGKILL in that write leaves a token SoftHSM no longer lists.
    fn token_object(&self) -> PathBuf {
        let tokens = self.dir.path().join("tokens");
        let token = std::fs::read_dir(&tokens)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.is_dir())
            .expect("the token directory");
        token.join("token.object")
    }

    /// Whether SoftHSM2 still lists this token.
    fn lists_token(&self) -> bool {
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", self.conf())
            .arg("--show-slots")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.trim_start().starts_with("Label:") && l.trim_end().ends_with(&self.label))
    }

    /// The `--root-key` URI of key `object` in this token, the PIN from the pin file.
    fn uri(&self, object: &str) -> String {
        format!(
            "pkcs11:token={};object={object}?module-path={MODULE}&pin-source=file:{}",
            self.label,
            self.pin_file().display()
        )
    }
}

/// Runs `trent ARGS` to completion with `env`.
fn trent(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(trent_bin())
        .args(args)
        .env_remove("TRENT_ROOT_PASSPHRASE")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("running trent")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "trent failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A `trent serve` child on 127.0.0.1:0, killed when dropped.
struct Serve {
    child: Child,
    addr: std::net::SocketAddr,
}

impl Serve {
    fn spawn(data_dir: &Path, env: &[(&str, &str)]) -> Child {
        Command::new(trent_bin())
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .env_remove("TRENT_ROOT_PASSPHRASE")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting trent serve")
    }

    /// Starts and waits for the listening line.
    fn start(data_dir: &Path, env: &[(&str, &str)]) -> Serve {
        let mut child = Self::spawn(data_dir, env);
        let mut out = child.stdout.take().expect("stdout");
        let mut text = String::new();
        let mut buf = [0u8; 1024];
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            assert!(Instant::now() < deadline, "no listening line: {text}");
            let n = out.read(&mut buf).expect("reading trent's output");
            if n == 0 {
                let mut err = String::new();
                let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                panic!("trent serve exited: {text}\n{err}");
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            if let Some(rest) = text.split("listening on http://").nth(1) {
                if let Some(addr) = rest.split_whitespace().next() {
                    break addr.parse().expect("an address");
                }
            }
        };
        Serve { child, addr }
    }

    /// Expects the start to fail; returns its standard error.
    fn refused(data_dir: &Path, env: &[(&str, &str)]) -> String {
        let out = Self::spawn(data_dir, env)
            .wait_with_output()
            .expect("waiting for trent serve");
        assert!(
            !out.status.success(),
            "trent serve started: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    async fn client(&self, data_dir: &Path) -> aws_sdk_kms::Client {
        let creds = std::fs::read_to_string(data_dir.join("credentials")).unwrap();
        let value = |name: &str| {
            creds
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().strip_prefix('='))
                .map(|v| v.trim().to_string())
                .expect("credentials file")
        };
        let config = aws_config::defaults(BehaviorVersion::latest())
            .credentials_provider(Credentials::new(
                value("aws_access_key_id"),
                value("aws_secret_access_key"),
                None,
                None,
                "root-key-tests",
            ))
            .region(Region::new("us-east-1"))
            .endpoint_url(format!("http://{}", self.addr))
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .load()
            .await;
        aws_sdk_kms::Client::new(&config)
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates `n` keys and encrypts one plaintext under each.
async fn encrypt_some(kms: &aws_sdk_kms::Client, n: usize) -> Vec<(String, Vec<u8>, Blob)> {
    let mut out = Vec::new();
    for i in 0..n {
        let key_id = kms
            .create_key()
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap()
            .key_id;
        let plaintext = format!("root key test plaintext {i}").into_bytes();
        let blob = kms
            .encrypt()
            .key_id(&key_id)
            .plaintext(Blob::new(plaintext.clone()))
            .send()
            .await
            .unwrap()
            .ciphertext_blob
            .unwrap();
        out.push((key_id, plaintext, blob));
    }
    out
}

/// Every ciphertext decrypts to its plaintext, and every key still encrypts.
async fn all_usable(kms: &aws_sdk_kms::Client, cases: &[(String, Vec<u8>, Blob)]) {
    for (key_id, plaintext, blob) in cases {
        let out = kms
            .decrypt()
            .ciphertext_blob(blob.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("decrypt under {key_id}: {e:?}"));
        assert_eq!(out.plaintext.unwrap().as_ref(), &plaintext[..]);
        assert_eq!(
            out.key_id.unwrap().rsplit('/').next(),
            Some(key_id.as_str())
        );
        kms.encrypt()
            .key_id(key_id)
            .plaintext(Blob::new(b"still encrypts".to_vec()))
            .send()
            .await
            .unwrap();
    }
}

/// Every file of the data dir, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The in-process PKCS#11 library is one per process: one test at a time uses it.
static IN_PROCESS_PKCS11: Mutex<()> = Mutex::new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pkcs11_data_dir_holds_no_usable_root_key_and_survives_a_restart() {
    let Some(hsm) = SoftHsm::new("trent-restart") else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    let conf = hsm.conf();
    let env = [("SOFTHSM2_CONF", conf.to_str().unwrap())];
    let uri = hsm.uri("trent-root");
    ok(trent(
        &[
            "init",
            "--data-dir",
            dir.to_str().unwrap(),
            "--root-key",
            &uri,
        ],
        &env,
    ));
    assert!(!dir.join("root.key").exists());
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("settings.json")).unwrap()).unwrap();
    assert_eq!(settings["root_key"], uri.as_str());
    assert_eq!(settings["root_key_file"], "root-0.sealed");

    let server = Serve::start(&dir, &env);
    let kms = server.client(&dir).await;
    let cases = encrypt_some(&kms, 3).await;
    server.stop();

    // The root key's secrets, unsealed through the token, appear in no file of the data dir
    // (raw or hex), and no file is a key file.
    let secrets = {
        let _one = IN_PROCESS_PKCS11.lock().unwrap_or_else(|e| e.into_inner());
        std::env::set_var("SOFTHSM2_CONF", &conf);
        let spec: trent_rootkey::ProviderSpec = uri.parse().unwrap();
        trent_rootkey::unseal(
            &spec,
            &dir.join("root-0.sealed"),
            &trent_rootkey::Unlock::default(),
        )
        .unwrap()
        .to_bytes()
    };
    let (wrapping, seed) = secrets.split_at(32);
    for (path, bytes) in snapshot(&dir) {
        for secret in [wrapping, seed] {
            assert!(
                !contains(&bytes, secret),
                "{} holds a root key secret",
                path.display()
            );
            assert!(
                !contains(&bytes, hex_lower(secret).as_bytes()),
                "{} holds a root key secret in hex",
                path.display()
            );
        }
        assert!(
            !contains(&bytes, b"TRENTRK"),
            "{} is a key file",
            path.display()
        );
    }

    // A copy of the data dir with another (empty) token is useless.
    let other = SoftHsm::new("trent-restart").unwrap();
    let other_conf = other.conf();
    let copy = data.path().join("copy");
    copy_dir(&dir, &copy);
    let err = Serve::refused(&copy, &[("SOFTHSM2_CONF", other_conf.to_str().unwrap())]);
    assert!(err.contains("PKCS#11"), "{err}");

    // The original survives a restart: every key still works.
    let server = Serve::start(&dir, &env);
    let kms = server.client(&dir).await;
    all_usable(&kms, &cases).await;
    server.stop();
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    for (rel, bytes) in snapshot(from) {
        let path = to.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_refuses_the_start_with_a_clear_error_and_changes_nothing() {
    let Some(hsm) = SoftHsm::new("trent-pin") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let conf = hsm.conf();
    let env = [("SOFTHSM2_CONF", conf.to_str().unwrap())];
    ok(trent(
        &[
            "init",
            "--data-dir",
            data.to_str().unwrap(),
            "--root-key",
            &hsm.uri("trent-root"),
        ],
        &env,
    ));
    let before = snapshot(&data);
    std::fs::write(hsm.pin_file(), "9999-wrong-pin\n").unwrap();
    let err = Serve::refused(&data, &env);
    assert!(err.contains("PIN is incorrect"), "{err}");
    assert!(err.contains("trent-pin"), "names the token: {err}");
    assert!(
        !err.contains("9999-wrong-pin"),
        "the PIN is never shown: {err}"
    );
    assert_eq!(snapshot(&data), before, "a refused start changes nothing");

    std::fs::write(hsm.pin_file(), format!("{PIN}\n")).unwrap();
    let server = Serve::start(&data, &env);
    let kms = server.client(&data).await;
    encrypt_some(&kms, 1).await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passphrase_data_dir_needs_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pass_file = dir.path().join("passphrase");
    std::fs::write(&pass_file, "an operator passphrase\n").unwrap();
    ok(trent(
        &[
            "init",
            "--data-dir",
            data.to_str().unwrap(),
            "--root-key",
            "passphrase",
        ],
        &[("TRENT_ROOT_PASSPHRASE", "an operator passphrase")],
    ));
    assert!(!data.join("root.key").exists());
    let sealed = std::fs::read_to_string(data.join("root-0.sealed")).unwrap();
    assert!(sealed.contains("argon2id"), "{sealed}");

    let err = Serve::refused(&data, &[]);
    assert!(err.contains("passphrase"), "{err}");
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase\n").unwrap();
    let err = Serve::refused(
        &data,
        &[("TRENT_ROOT_PASSPHRASE_FILE", wrong.to_str().unwrap())],
    );
    assert!(err.contains("passphrase is wrong"), "{err}");
    assert!(!err.contains("not the passphrase"), "{err}");

    let env = [("TRENT_ROOT_PASSPHRASE_FILE", pass_file.to_str().unwrap())];
    let server = Serve::start(&data, &env);
    let kms = server.client(&data).await;
    let cases = encrypt_some(&kms, 2).await;
    server.stop();
    let server = Serve::start(&data, &env);
    let kms = server.client(&data).await;
    all_usable(&kms, &cases).await;
    server.stop();
    // The audit keys come from the root key too.
    ok(trent(
        &["audit", "verify", "--data-dir", data.to_str().unwrap()],
        &env,
    ));
}

/// Runs `rotate-root-key --to TO` and kills it with SIGKILL after a random delay, `rounds`
/// times, checking after each kill that every key is usable; then lets it finish.
///
/// A kill can land in SoftHSM2's non-atomic rewrite of its `token.object` during `C_Login`
/// (SoftHSM2's flaw, not Trent's; a real HSM's writes are atomic), which loses the token. The
/// test then puts back the token's attribute file as it was before the round, which is what an
/// atomic device would hold, and says so; Trent's own files are never touched.
async fn rotate_with_kills(
    data: &Path,
    to: &str,
    hsm: &SoftHsm,
    env: &[(&str, &str)],
    cases: &[(String, Vec<u8>, Blob)],
    rounds: usize,
) {
    for round in 0..rounds {
        let token_object = std::fs::read(hsm.token_object()).unwrap();
        let delay = Duration::from_millis(u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * 2);
        let mut child = Command::new(trent_bin())
            .args(["admin", "rotate-root-key", "--data-dir"])
            .arg(data)
            .args(["--to", to])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let out = child.wait_with_output().unwrap();
        eprintln!(
            "round {round}: killed after {delay:?} ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        if !hsm.lists_token() {
            eprintln!("round {round}: the kill tore SoftHSM2's token.object; restoring it");
            std::fs::write(hsm.token_object(), &token_object).unwrap();
            assert!(hsm.lists_token(), "the restored token is listed again");
        }
        let server = Serve::start(data, env);
        let kms = server.client(data).await;
        all_usable(&kms, cases).await;
        server.stop();
    }
    let done = ok(trent(
        &[
            "admin",
            "rotate-root-key",
            "--data-dir",
            data.to_str().unwrap(),
            "--to",
            to,
        ],
        env,
    ));
    assert!(done.contains("Root key rotated"), "{done}");
    assert!(!data.join("root-rotation.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_root_key_file_to_pkcs11_and_back_survives_kill_9_at_random_points() {
    let Some(hsm) = SoftHsm::new("trent-rotate") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let conf = hsm.conf();
    let env = [("SOFTHSM2_CONF", conf.to_str().unwrap())];
    ok(trent(&["init", "--data-dir", data.to_str().unwrap()], &env));
    let old_root_key = std::fs::read(data.join("root.key")).unwrap();
    let server = Serve::start(&data, &env);
    let kms = server.client(&data).await;
    let cases = encrypt_some(&kms, 24).await;
    server.stop();
    let head_before = ok(trent(
        &["audit", "verify", "--data-dir", data.to_str().unwrap()],
        &env,
    ));
    assert!(head_before.contains("audit log OK"), "{head_before}");

    let uri = hsm.uri("trent-rotated");
    rotate_with_kills(&data, &uri, &hsm, &env, &cases, 6).await;
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("settings.json")).unwrap()).unwrap();
    assert_eq!(settings["root_key"], uri.as_str(), "{settings}");
    assert!(!data.join("root.key").exists(), "the old key file is gone");
    for (path, bytes) in snapshot(&data) {
        assert!(
            !contains(&bytes, &old_root_key[8..]),
            "{} still holds the old root key",
            path.display()
        );
    }
    let server = Serve::start(&data, &env);
    let kms = server.client(&data).await;
    all_usable(&kms, &cases).await;
    server.stop();

    rotate_with_kills(&data, "file", &hsm, &env, &cases, 6).await;
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("settings.json")).unwrap()).unwrap();
    assert!(settings.get("root_key").is_none(), "{settings}");
    let server = Serve::start(&data, &env);
    let kms = server.client(&data).await;
    all_usable(&kms, &cases).await;
    server.stop();

    // The chain still verifies (the derivation seed never changed) and holds the rotations.
    let verified = ok(trent(
        &["audit", "verify", "--data-dir", data.to_str().unwrap()],
        &env,
    ));
    assert!(verified.contains("audit log OK"), "{verified}");
    let log = std::fs::read_to_string(data.join("audit").join("audit.jsonl")).unwrap();
    let rotations: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["eventName"] == "RotateRootKey")
        .collect();
    assert!(rotations.len() >= 2, "{rotations:?}");
    for r in &rotations {
        assert_eq!(r["eventType"], "AwsServiceEvent");
        assert!(!r.to_string().contains(PIN), "no PIN in the audit: {r}");
    }
    assert!(rotations.iter().any(|r| r["requestParameters"]["to"]
        .as_str()
        .unwrap_or("")
        .starts_with("pkcs11:")));
    assert!(rotations
        .iter()
        .any(|r| r["requestParameters"]["to"] == "file"));
}
