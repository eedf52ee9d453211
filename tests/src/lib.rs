//! The black-box test harness: a real Trent server on `127.0.0.1:0` with a temporary data dir,
//! an `aws-sdk-kms` client for it, and a raw-request helper for what SDKs cannot send
//! (missing or broken signatures, malformed JSON, huge bodies, replays).
//!
//! Every test builds its own [`TestServer`], so tests run in parallel and never share state.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::config::Credentials;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use trent_core::clock::{ManualClock, SharedClock, SystemClock};
use trent_core::model::AccountId;
use trent_server::config::{ServerConfig, DEFAULT_MAX_BODY_BYTES};
use trent_server::{App, DataDir};
use trent_sigv4::client::{sign, SigningParams};

pub use aws_sdk_kms;
pub use aws_sdk_kms::primitives::Blob;

/// The account every test server is initialised with.
pub const ACCOUNT: &str = "111122223333";
/// The Region every test server serves.
pub const REGION: &str = "us-east-1";
/// The JSON protocol's content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// A running Trent server on a temporary data dir.
pub struct TestServer {
    /// Holds the temporary directory; removed when the server is dropped.
    _tmp: tempfile::TempDir,
    data_dir: PathBuf,
    /// The administrator access key id `init` created.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: String,
    running: Option<Running>,
    clock: SharedClock,
    tls: Option<TestTls>,
    /// Changes to the default test configuration (limits), applied at every open.
    configure: Option<Configure>,
    /// The data dir's default Region ([`REGION`] unless opened from a fixture).
    default_region: String,
}

/// A change to the server configuration of a test server.
pub type Configure = Arc<dyn Fn(&mut ServerConfig) + Send + Sync>;

/// A TLS listener's files (as `trent serve --tls-cert --tls-key` names them) and the
/// self-signed certificate clients must trust.
#[derive(Clone)]
struct TestTls {
    files: trent_server::tls::TlsFiles,
    certificate_pem: String,
}

struct Running {
    app: Arc<App>,
    addr: SocketAddr,
    /// Taken when shutdown begins.
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// Initialises a fresh data dir and starts a server on it.
    pub async fn start() -> anyhow::Result<TestServer> {
        Self::start_with(|_| Ok(())).await
    }

    /// Like [`TestServer::start`], running `prepare` on the initialised data dir before the
    /// server opens it (to plant files, e.g. an unwritable audit log).
    pub async fn start_with(
        prepare: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<TestServer> {
        let mut server = Self::init().await?;
        prepare(&server.data_dir)?;
        server.open().await?;
        Ok(server)
    }

    /// Like [`TestServer::start`], with `configure` applied to the server configuration
    /// (e.g. small connection limits and timeouts).
    pub async fn start_configured(
        configure: impl Fn(&mut ServerConfig) + Send + Sync + 'static,
    ) -> anyhow::Result<TestServer> {
        let mut server = Self::init().await?;
        server.configure = Some(Arc::new(configure));
        server.open().await?;
        Ok(server)
    }

    /// Like [`TestServer::start`], with a KMS clock that moves only when the test says so
    /// (SigV4 keeps checking signatures against real time).
    pub async fn start_with_manual_clock() -> anyhow::Result<(TestServer, Arc<ManualClock>)> {
        let mut server = Self::init().await?;
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        server.clock = clock.clone();
        server.open().await?;
        Ok((server, clock))
    }

    /// Like [`TestServer::start`], serving HTTPS with a fresh self-signed certificate for
    /// `127.0.0.1` and `localhost` ([`TestServer::certificate_pem`]).
    pub async fn start_tls() -> anyhow::Result<TestServer> {
        let mut server = Self::init().await?;
        let files = trent_server::tls::TlsFiles {
            cert: server._tmp.path().join("tls-cert.pem"),
            key: server._tmp.path().join("tls-key.pem"),
        };
        let certificate_pem = write_self_signed_certificate(&files)?;
        server.tls = Some(TestTls {
            files,
            certificate_pem,
        });
        server.open().await?;
        Ok(server)
    }

    /// For a TLS server: writes a new self-signed certificate and key over its files (as a
    /// renewal does) and reloads them as the server's background job does; the new
    /// certificate's PEM.
    pub fn renew_certificate(&mut self) -> anyhow::Result<String> {
        let tls = self.tls.as_mut().context("not a TLS server")?;
        tls.certificate_pem = write_self_signed_certificate(&tls.files)?;
        let reloaded = self
            .app()
            .tls
            .as_ref()
            .context("the server has no TLS")?
            .reload_if_changed()?;
        anyhow::ensure!(reloaded, "the renewed files were not loaded");
        Ok(self.certificate_pem().unwrap_or_default().to_string())
    }

    /// The PEM certificate of a server started with [`TestServer::start_tls`].
    pub fn certificate_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.certificate_pem.as_str())
    }

    /// Runs the KMS maintenance job (rotation, deletion) once, as the server's background job
    /// does every minute.
    pub async fn run_maintenance(&self) -> trent_core::ops::lifecycle::MaintenanceReport {
        trent_server::jobs::maintenance(self.app())
            .await
            .expect("maintenance failed")
    }

    /// Initialises a fresh data dir without starting a server; [`TestServer::open`] starts it.
    pub async fn init() -> anyhow::Result<TestServer> {
        let tmp = tempfile::tempdir().context("creating a temporary directory")?;
        let data_dir = tmp.path().join("data");
        let account = AccountId::parse(ACCOUNT).map_err(|e| anyhow!("{e}"))?;
        let key = DataDir::new(&data_dir)
            .init(REGION, &account)
            .await
            .map_err(|e| anyhow!("init failed: {e}"))?;
        Ok(TestServer {
            _tmp: tmp,
            data_dir,
            access_key_id: key.access_key_id.clone(),
            secret_access_key: key.secret_access_key.as_str().to_string(),
            running: None,
            clock: Arc::new(SystemClock),
            tls: None,
            configure: None,
            default_region: REGION.to_string(),
        })
    }

    /// Starts a server on a copy of the data dir `fixture` (made by an earlier Trent: its
    /// files, permissions tightened as a restore would), with the `trent` profile's access key
    /// of its `credentials` file and the default Region of its `settings.json`.
    pub async fn start_from_copy(fixture: &Path) -> anyhow::Result<TestServer> {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().context("creating a temporary directory")?;
        let data_dir = tmp.path().join("data");
        copy_dir(fixture, &data_dir)?;
        for entry in walk(&data_dir)? {
            let mode = if entry.is_dir() { 0o700 } else { 0o600 };
            std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode))?;
        }
        std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o700))?;
        let credentials = std::fs::read_to_string(data_dir.join("credentials"))?;
        let field = |name: &str| -> anyhow::Result<String> {
            credentials
                .lines()
                .find_map(|l| {
                    l.strip_prefix(name)
                        .map(|v| v.trim_start_matches([' ', '=']))
                })
                .map(|v| v.trim().to_string())
                .with_context(|| format!("{name} in the fixture's credentials"))
        };
        let settings: Value =
            serde_json::from_str(&std::fs::read_to_string(data_dir.join("settings.json"))?)?;
        let mut server = TestServer {
            _tmp: tmp,
            data_dir,
            access_key_id: field("aws_access_key_id")?,
            secret_access_key: field("aws_secret_access_key")?,
            running: None,
            clock: Arc::new(SystemClock),
            tls: None,
            configure: None,
            default_region: settings["region"]
                .as_str()
                .context("region in settings.json")?
                .to_string(),
        };
        server.open().await?;
        Ok(server)
    }

    /// Opens the data dir and starts serving on a new port. Fails if already running or if the
    /// server refuses to open the data dir.
    pub async fn open(&mut self) -> anyhow::Result<()> {
        if self.running.is_some() {
            bail!("the server is already running");
        }
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut config = ServerConfig {
            listen: addr,
            data_dir: self.data_dir.clone(),
            region: self.default_region.clone(),
            regions: Vec::new(),
            dev_account: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_connections: 1024,
            transport: Default::default(),
            tls: self.tls.as_ref().map(|t| t.files.clone()),
            database: None,
        };
        if let Some(configure) = &self.configure {
            configure(&mut config);
        }
        let app = App::open_with_clock(config, self.clock.clone())
            .await
            .map_err(|e| anyhow!("the server did not open the data dir: {e}"))?;
        let (shutdown, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(trent_server::listener::serve(
            app.clone(),
            listener,
            async move {
                let _ = rx.await;
            },
        ));
        self.running = Some(Running {
            app,
            addr,
            shutdown: Some(shutdown),
            task,
        });
        Ok(())
    }

    /// Begins a graceful shutdown (as SIGTERM does): the server stops accepting and lets the
    /// requests it is serving finish; [`TestServer::stop`] waits for it.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.running.as_mut().and_then(|r| r.shutdown.take()) {
            let _ = tx.send(());
        }
    }

    /// Stops gracefully: stops accepting, waits for the serve loop (which lets requests in
    /// flight finish), closes the audit log.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        self.begin_shutdown();
        let Some(r) = self.running.take() else {
            return Ok(());
        };
        let limit = trent_server::listener::DRAIN_TIMEOUT + Duration::from_secs(10);
        tokio::time::timeout(limit, r.task)
            .await
            .context("the serve loop did not stop in time")?
            .context("the serve task panicked")?
            .context("the serve loop failed")?;
        let audit = r.app.audit.clone();
        tokio::task::spawn_blocking(move || audit.close()).await?;
        Ok(())
    }

    /// Stops, then opens the same data dir again (on a new port).
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await?;
        self.open().await
    }

    fn running(&self) -> &Running {
        self.running
            .as_ref()
            .expect("the test server is not running")
    }

    /// The running server's state.
    pub fn app(&self) -> &Arc<App> {
        &self.running().app
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.running().addr
    }

    /// `http://127.0.0.1:PORT`, or `https://…` for a TLS server.
    pub fn endpoint(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr())
    }

    /// The data dir.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The audit directory of the data dir.
    pub fn audit_dir(&self) -> PathBuf {
        self.data_dir.join("audit")
    }

    /// The audit records written so far (parsed lines of `audit/audit.jsonl`).
    pub fn audit_records(&self) -> anyhow::Result<Vec<Value>> {
        let text = std::fs::read_to_string(self.audit_dir().join(trent_audit::LOG_FILE))?;
        text.lines()
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_str(l).context("an audit line is not JSON"))
            .collect()
    }

    /// Creates another account with a root access key, in the store and in the running
    /// server's credentials (what `trent admin create-account` does offline), and returns
    /// an SDK client signed with that key.
    pub async fn add_account(&self, account_id: &str) -> anyhow::Result<aws_sdk_kms::Client> {
        let creds = self.add_account_creds(account_id).await?;
        Ok(self
            .kms_client_with(&creds.access_key_id, &creds.secret_access_key)
            .await)
    }

    /// Like [`TestServer::add_account`], but returns the root's credentials, for raw
    /// requests (IAM, STS, `call_as`) as that account.
    pub async fn add_account_creds(&self, account_id: &str) -> anyhow::Result<Creds> {
        use trent_core::model::{AccessKeyRecord, AccessKeyStatus, AccountRecord};
        let app = self.app();
        let account = AccountId::parse(account_id).map_err(|e| anyhow!("{e}"))?;
        let key = trent_server::datadir::new_access_key().map_err(|e| anyhow!(e))?;
        let wrapped = app
            .kms
            .root_key()
            .wrap(
                &trent_crypto::root::access_key_secret_wrapping_aad(&key.access_key_id),
                key.secret_access_key.as_bytes(),
            )
            .map_err(|e| anyhow!("{e}"))?;
        let now = OffsetDateTime::now_utc();
        let record = AccessKeyRecord {
            access_key_id: key.access_key_id.clone(),
            account_id: account.clone(),
            principal_arn: format!("arn:aws:iam::{account_id}:root"),
            wrapped_secret: wrapped,
            status: AccessKeyStatus::Active,
            created: now,
        };
        app.kms
            .store()
            .create_account(
                AccountRecord {
                    account_id: account,
                    created: now,
                },
                record.clone(),
            )
            .await
            .map_err(|e| anyhow!("{e}"))?;
        app.credentials.add_account(&record.account_id);
        app.credentials.insert(&record).map_err(|e| anyhow!(e))?;
        Ok(Creds::new(
            &key.access_key_id,
            key.secret_access_key.as_str(),
        ))
    }

    /// An aws-sdk-kms client for this server, with the admin credentials and no retries.
    pub async fn kms_client(&self) -> aws_sdk_kms::Client {
        self.kms_client_with(&self.access_key_id, &self.secret_access_key)
            .await
    }

    /// An aws-sdk-kms client for this server with the given credentials (trusting the
    /// server's certificate, for a TLS server).
    pub async fn kms_client_with(&self, access_key_id: &str, secret: &str) -> aws_sdk_kms::Client {
        self.kms_client_trusting(access_key_id, secret, self.certificate_pem())
            .await
    }

    /// An aws-sdk-kms client with the given credentials that trusts `certificate_pem` for
    /// HTTPS (and only it), or the SDK's default trust roots when `None`.
    pub async fn kms_client_trusting(
        &self,
        access_key_id: &str,
        secret: &str,
        certificate_pem: Option<&str>,
    ) -> aws_sdk_kms::Client {
        self.kms_client_for(access_key_id, secret, certificate_pem, REGION)
            .await
    }

    /// An aws-sdk-kms client with the admin key, configured for `region` (the Region its
    /// requests are signed for: each Region is its own KMS on the one endpoint).
    pub async fn kms_client_in(&self, region: &str) -> aws_sdk_kms::Client {
        self.kms_client_for(
            &self.access_key_id,
            &self.secret_access_key,
            self.certificate_pem(),
            region,
        )
        .await
    }

    async fn kms_client_for(
        &self,
        access_key_id: &str,
        secret: &str,
        certificate_pem: Option<&str>,
        region: &str,
    ) -> aws_sdk_kms::Client {
        use aws_smithy_http_client::tls;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(pem) = certificate_pem {
            let trust = tls::TrustStore::empty().with_pem_certificate(pem.as_bytes());
            let context = tls::TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .expect("a TLS context for the test certificate");
            loader = loader.http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(tls::Provider::Rustls(
                        tls::rustls_provider::CryptoMode::AwsLc,
                    ))
                    .tls_context(context)
                    .build_https(),
            );
        }
        let config = loader
            .credentials_provider(Credentials::new(
                access_key_id,
                secret,
                None,
                None,
                "trent-tests",
            ))
            .region(Region::new(region.to_string()))
            .endpoint_url(self.endpoint())
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .load()
            .await;
        aws_sdk_kms::Client::new(&config)
    }

    /// Signing parameters for the admin key at the current time.
    pub fn signing(&self) -> Signing {
        Signing {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            region: REGION.to_string(),
            service: "kms".to_string(),
            time: OffsetDateTime::now_utc(),
        }
    }

    /// The headers of a KMS request for `operation` with `body`, signed with `signing`
    /// (`host`, `content-type`, `x-amz-target`, `x-amz-date`, `authorization`).
    pub fn signed_headers(&self, operation: &str, body: &[u8], signing: &Signing) -> HeaderMap {
        let mut headers = self.unsigned_headers(operation);
        signing.sign(&mut headers, body);
        headers
    }

    /// The framing headers of a KMS request without any signature.
    pub fn unsigned_headers(&self, operation: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "host",
            HeaderValue::from_str(&self.addr().to_string()).expect("host header"),
        );
        headers.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
        headers.insert(
            "x-amz-target",
            HeaderValue::from_str(&format!("TrentService.{operation}")).expect("target header"),
        );
        headers
    }

    /// Sends `operation` with `body`, signed with the admin key now.
    /// Calls `operation` with `body`, which must succeed, and answers its JSON.
    pub async fn call_ok(&self, operation: &str, body: Value) -> Value {
        self.call(operation, &body).await.unwrap().assert_ok()
    }

    /// Creates a key with CreateKey's `body` and answers its id.
    pub async fn create_key_with(&self, body: Value) -> String {
        self.call_ok("CreateKey", body).await["KeyMetadata"]["KeyId"]
            .as_str()
            .expect("a KeyId")
            .to_string()
    }

    pub async fn call(&self, operation: &str, body: &Value) -> anyhow::Result<RawResponse> {
        let body = serde_json::to_vec(body)?;
        self.call_bytes(operation, &body).await
    }

    /// Sends `operation` with raw `body` bytes, signed with the admin key now.
    pub async fn call_bytes(&self, operation: &str, body: &[u8]) -> anyhow::Result<RawResponse> {
        let headers = self.signed_headers(operation, body, &self.signing());
        self.send(&headers, body).await
    }

    /// Sends `POST /` with exactly these headers (plus `content-length`) and body.
    pub async fn send(&self, headers: &HeaderMap, body: &[u8]) -> anyhow::Result<RawResponse> {
        let mut head = String::from("POST / HTTP/1.1\r\n");
        for (name, value) in headers {
            head.push_str(name.as_str());
            head.push_str(": ");
            head.push_str(value.to_str()?);
            head.push_str("\r\n");
        }
        head.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        ));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        send_raw_bytes(self.addr(), &bytes).await
    }
}

/// Writes a fresh self-signed certificate for `127.0.0.1` and `localhost` and its key to
/// `files`; the certificate's PEM.
fn write_self_signed_certificate(files: &trent_server::tls::TlsFiles) -> anyhow::Result<String> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .context("generating a test certificate")?;
    let pem = certified.cert.pem();
    std::fs::write(&files.cert, &pem)?;
    std::fs::write(&files.key, certified.signing_key.serialize_pem())?;
    Ok(pem)
}

/// Temporary or long-term credentials for a query (IAM/STS) request.
#[derive(Clone, Debug)]
pub struct Creds {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// For temporary credentials, the `x-amz-security-token`.
    pub session_token: Option<String>,
}

impl Creds {
    /// Long-term credentials.
    pub fn new(access_key_id: &str, secret_access_key: &str) -> Creds {
        Creds {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            session_token: None,
        }
    }
}

/// The IAM API version.
pub const IAM_VERSION: &str = "2010-05-08";
/// The STS API version.
pub const STS_VERSION: &str = "2011-06-15";

impl TestServer {
    /// The administrator (account root) credentials `init` created.
    pub fn admin(&self) -> Creds {
        Creds::new(&self.access_key_id, &self.secret_access_key)
    }

    /// Sends an IAM query request (`Action` and `params`, form-encoded), signed with `creds`
    /// for signing name `iam` in us-east-1, as the AWS CLI signs IAM.
    pub async fn iam(
        &self,
        creds: &Creds,
        action: &str,
        params: &[(&str, &str)],
    ) -> anyhow::Result<RawResponse> {
        self.query("iam", IAM_VERSION, "us-east-1", creds, action, params)
            .await
    }

    /// Sends an STS query request, signed for signing name `sts` in the server's Region.
    pub async fn sts(
        &self,
        creds: &Creds,
        action: &str,
        params: &[(&str, &str)],
    ) -> anyhow::Result<RawResponse> {
        self.query("sts", STS_VERSION, REGION, creds, action, params)
            .await
    }

    /// Sends a query-protocol request for `service`.
    pub async fn query(
        &self,
        service: &str,
        version: &str,
        region: &str,
        creds: &Creds,
        action: &str,
        params: &[(&str, &str)],
    ) -> anyhow::Result<RawResponse> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("Action", action);
        form.append_pair("Version", version);
        for (k, v) in params {
            form.append_pair(k, v);
        }
        let body = form.finish().into_bytes();
        let mut headers = HeaderMap::new();
        headers.insert(
            "host",
            HeaderValue::from_str(&self.addr().to_string()).expect("host header"),
        );
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        sign(
            "POST",
            "/",
            "",
            &mut headers,
            &body,
            &SigningParams {
                access_key_id: &creds.access_key_id,
                secret_access_key: &creds.secret_access_key,
                session_token: creds.session_token.as_deref(),
                region,
                service,
                time: OffsetDateTime::now_utc(),
            },
        )
        .expect("signable headers");
        self.send(&headers, &body).await
    }

    /// A KMS request (`operation` with JSON `body`) signed with `creds`.
    pub async fn call_as(
        &self,
        creds: &Creds,
        operation: &str,
        body: &Value,
    ) -> anyhow::Result<RawResponse> {
        let body = serde_json::to_vec(body)?;
        let mut headers = self.unsigned_headers(operation);
        sign(
            "POST",
            "/",
            "",
            &mut headers,
            &body,
            &SigningParams {
                access_key_id: &creds.access_key_id,
                secret_access_key: &creds.secret_access_key,
                session_token: creds.session_token.as_deref(),
                region: REGION,
                service: "kms",
                time: OffsetDateTime::now_utc(),
            },
        )
        .expect("signable headers");
        self.send(&headers, &body).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut r) = self.running.take() {
            if let Some(tx) = r.shutdown.take() {
                let _ = tx.send(());
            }
            r.task.abort();
        }
    }
}

/// Who signs a raw request, and when.
#[derive(Clone, Debug)]
pub struct Signing {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
    pub service: String,
    pub time: OffsetDateTime,
}

impl Signing {
    /// Signs a `POST /` with `body`: adds `x-amz-date` and `authorization`, signing every
    /// header already in `headers`.
    pub fn sign(&self, headers: &mut HeaderMap, body: &[u8]) {
        sign(
            "POST",
            "/",
            "",
            headers,
            body,
            &SigningParams {
                access_key_id: &self.access_key_id,
                secret_access_key: &self.secret_access_key,
                session_token: None,
                region: &self.region,
                service: &self.service,
                time: self.time,
            },
        )
        .expect("signable headers");
    }
}

/// A response read off the wire.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    /// Header names lowercased.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body as JSON (`Null` when empty).
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The error's `__type`, without any `namespace#` prefix.
    pub fn error_type(&self) -> Option<String> {
        let t = self.json().get("__type")?.as_str()?.to_string();
        Some(t.rsplit('#').next().unwrap_or_default().to_string())
    }

    /// The error's message (`message` or `Message`).
    pub fn message(&self) -> String {
        let j = self.json();
        j.get("message")
            .or_else(|| j.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// The text of the first `<tag>…</tag>` of an XML answer, unescaped.
    pub fn xml(&self, tag: &str) -> Option<String> {
        let text = std::str::from_utf8(&self.body).ok()?;
        let open = format!("<{tag}>");
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find(&format!("</{tag}>"))?;
        Some(
            text[start..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        )
    }

    /// The texts of every `<tag>…</tag>` of an XML answer.
    pub fn xml_all(&self, tag: &str) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.body);
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        text.split(&open)
            .skip(1)
            .filter_map(|s| s.split(&close).next().map(str::to_string))
            .collect()
    }

    /// Asserts an IAM/STS error answer with `status` and `<Code>`, and returns the message.
    #[track_caller]
    pub fn assert_query_error(&self, status: u16, code: &str) -> String {
        assert_eq!(
            (self.status, self.xml("Code").as_deref()),
            (status, Some(code)),
            "unexpected answer: {} {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        self.xml("Message").unwrap_or_default()
    }

    /// Asserts a 200 query answer.
    #[track_caller]
    pub fn assert_query_ok(&self) -> &RawResponse {
        assert_eq!(
            self.status,
            200,
            "unexpected answer: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// A header by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The `x-amzn-RequestId` header.
    pub fn request_id(&self) -> Option<&str> {
        self.header("x-amzn-requestid")
    }

    /// Asserts an error answer with `status` and `__type`, and returns the message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, error_type: &str) -> String {
        assert_eq!(
            (self.status, self.error_type().as_deref()),
            (status, Some(error_type)),
            "unexpected answer: {} {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        self.message()
    }

    /// Asserts a 200 answer and returns its JSON.
    #[track_caller]
    pub fn assert_ok(&self) -> Value {
        assert_eq!(
            self.status,
            200,
            "unexpected answer: {}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }
}

/// Writes `bytes` to a new connection to `addr` and reads one HTTP/1.1 response (the
/// request should say `connection: close`).
pub async fn send_raw_bytes(addr: SocketAddr, bytes: &[u8]) -> anyhow::Result<RawResponse> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(bytes).await?;
    stream.flush().await?;
    read_response(&mut stream).await
}

/// Reads one HTTP/1.1 response from `stream` (with a 10 s limit).
pub async fn read_response(stream: &mut TcpStream) -> anyhow::Result<RawResponse> {
    tokio::time::timeout(Duration::from_secs(10), read_response_inner(stream))
        .await
        .context("no complete response within 10 s")?
}

async fn read_response_inner(stream: &mut TcpStream) -> anyhow::Result<RawResponse> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed before the response headers ended");
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..header_end])?.to_string();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow!("bad status line {status_line:?}"))?
        .parse()?;
    let mut headers = BTreeMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = buf[header_end + 4..].to_vec();
    if let Some(len) = headers.get("content-length") {
        let len: usize = len.parse()?;
        while body.len() < len {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                bail!("connection closed inside the response body");
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            if let Some(b) = dechunk(&body) {
                body = b;
                break;
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                bail!("connection closed inside a chunked body");
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        stream.read_to_end(&mut body).await?;
    }
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decodes a complete chunked body, or `None` if it is not complete yet.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(data, b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if data.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// An AWS error as a test sees it through the SDK.
#[derive(Debug, Clone)]
pub struct AwsError {
    /// The error code (`NotFoundException`, …).
    pub code: String,
    pub message: String,
    /// The HTTP status, when a response was received.
    pub status: Option<u16>,
}

/// Turns an SDK result that must have failed into its AWS error.
pub trait ExpectAwsError {
    /// Panics if the call succeeded or failed without an AWS error response.
    fn aws_error(self) -> AwsError;
}

impl<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug> ExpectAwsError
    for Result<T, SdkError<E, HttpResponse>>
{
    #[track_caller]
    fn aws_error(self) -> AwsError {
        match self {
            Ok(v) => panic!("expected an AWS error, got success: {v:?}"),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let Some(code) = e.code() else {
                    panic!("expected an AWS error response, got {e:?}");
                };
                AwsError {
                    code: code.to_string(),
                    message: e.message().unwrap_or_default().to_string(),
                    status,
                }
            }
        }
    }
}

/// Asserts the SDK call failed with `code` and returns the error.
#[macro_export]
macro_rules! assert_aws_error {
    ($result:expr, $code:expr) => {{
        let err = $crate::ExpectAwsError::aws_error($result);
        assert_eq!(err.code, $code, "unexpected error: {err:?}");
        err
    }};
}

/// Standard base64.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64.
pub fn unb64(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("valid base64")
}

/// Sets a header on a map (test convenience).
pub fn set_header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    headers.insert(
        HeaderName::from_static(name),
        HeaderValue::from_str(value).expect("header value"),
    );
}

/// The key ARN for a key id in the test account and Region.
pub fn key_arn(key_id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}")
}

/// The alias ARN for an alias name (with `alias/`) in the test account and Region.
pub fn alias_arn(alias_name: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:{alias_name}")
}

/// Creates a key through the SDK and returns its key id.
pub async fn create_key(kms: &aws_sdk_kms::Client) -> String {
    created_key_id(kms.create_key()).await
}

/// Creates a symmetric key with this key policy; its id.
pub async fn create_key_with_policy(kms: &aws_sdk_kms::Client, policy: String) -> String {
    created_key_id(kms.create_key().policy(policy)).await
}

async fn created_key_id(
    create: aws_sdk_kms::operation::create_key::builders::CreateKeyFluentBuilder,
) -> String {
    create
        .send()
        .await
        .expect("CreateKey")
        .key_metadata
        .expect("KeyMetadata")
        .key_id
}

/// The `trent` binary the black-box tests spawn: `TRENT_BIN`, or `target/debug/trent` beside
/// the running test (the workspace build makes it). Panics with what to do when it is missing.
pub fn trent_bin() -> std::path::PathBuf {
    let bin = std::env::var_os("TRENT_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("the test's path");
            exe.parent()
                .and_then(|deps| deps.parent())
                .expect("target/debug")
                .join("trent")
        });
    assert!(
        bin.exists(),
        "{} does not exist: build it first (cargo build -p trent-cli) or set TRENT_BIN",
        bin.display()
    );
    bin
}

/// Copies a directory tree.
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Every file and directory under `dir`.
fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        }
        out.push(path);
    }
    Ok(out)
}
