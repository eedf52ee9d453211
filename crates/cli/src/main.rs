#![forbid(unsafe_code)]
//! `trent`: the only binary. `trent serve | init | admin … | audit verify | public-key |
//! acknowledge-break`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use trent_core::model::AccountId;
use trent_rootkey::Unlock;
use trent_server::config::{DatabaseUrl, DEFAULT_LISTEN, DEFAULT_MAX_BODY_BYTES};
use trent_server::tls::{Tls, TlsFiles};
use trent_server::{App, DataDir, ServerConfig};

/// mimalloc: a request makes many small, short-lived allocations, and glibc's malloc spent about
/// a tenth of Trent's CPU on them under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Trent: an AWS-KMS-compatible key management service you run yourself.
#[derive(Parser)]
#[command(name = "trent", version, about)]
struct Cli {
    /// A file holding the root key passphrase (`passphrase` provider); otherwise
    /// TRENT_ROOT_PASSPHRASE, otherwise a prompt on the terminal.
    #[arg(long, global = true, env = "TRENT_ROOT_PASSPHRASE_FILE")]
    passphrase_file: Option<PathBuf>,
    /// Keep the state in this PostgreSQL database instead of the data dir's trent.db, e.g.
    /// postgres://trent@db.internal/trent (ARCHITECTURE.md §6.1). `init` records it in
    /// settings.json without its password (give that here, in the environment variable or in
    /// PGPASSWORD), and later commands use what the settings name.
    #[arg(
        long,
        global = true,
        env = "TRENT_DATABASE_URL",
        hide_env_values = true
    )]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a data dir: root key, database, first account and its administrator access key.
    Init {
        /// The data directory to create.
        #[arg(long, default_value = "./trent-data", env = "TRENT_DATA_DIR")]
        data_dir: PathBuf,
        /// The default Region, written to the config file (`trent serve` serves every Region
        /// of the `aws` partition unless `--regions` limits it).
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// The first account's 12-digit id.
        #[arg(long, default_value = "111122223333")]
        account_id: String,
        /// Where the root key lives: `file` (a key file in the data dir, for development),
        /// `passphrase` (sealed under an operator passphrase, Argon2id), or a PKCS#11 URI
        /// such as 'pkcs11:token=LABEL;object=KEYLABEL?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/trent/pin'
        /// (the key is created in the token if the label is free).
        #[arg(long, default_value = "file", env = "TRENT_ROOT_KEY")]
        root_key: String,
    },
    /// Serve the AWS KMS API (initialising an empty data dir first).
    Serve(ServeArgs),
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Offline administration of a data dir (a running server picks the changes up within a
    /// second).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

/// `trent serve`'s options.
#[derive(clap::Args)]
struct ServeArgs {
    /// The data directory.
    #[arg(long, default_value = "./trent-data", env = "TRENT_DATA_DIR")]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = DEFAULT_LISTEN, env = "TRENT_LISTEN")]
    listen: SocketAddr,
    /// Development mode: accept any well-formed SigV4 request as the first account's root.
    /// Loopback only.
    #[arg(long)]
    dev: bool,
    /// The default Region, used only when the data dir is initialised by this command.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Serve only these Regions (comma-separated, e.g. us-east-1,eu-west-1); by default every
    /// Region of the `aws` partition and the data dir's default Region. A request signed for
    /// another Region is refused (InvalidSignatureException).
    #[arg(long, env = "TRENT_REGIONS")]
    regions: Option<String>,
    /// The first account's id, used only when the data dir is initialised by this command.
    #[arg(long, default_value = "111122223333")]
    account_id: String,
    /// The root key provider, used only when the data dir is initialised by this command
    /// (see `trent init --root-key`).
    #[arg(long, default_value = "file", env = "TRENT_ROOT_KEY")]
    root_key: String,
    /// At most this many connections at once; one more is answered ThrottlingException and
    /// closed.
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// At most this many connections from one client IP address at once (raise it behind a
    /// proxy).
    #[arg(long, default_value_t = trent_server::config::DEFAULT_MAX_CONNECTIONS_PER_IP)]
    max_connections_per_ip: usize,
    /// Seconds a connection may wait before sending a complete request head (idle
    /// keep-alive timeout).
    #[arg(long, default_value_t = trent_server::config::DEFAULT_IDLE_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Seconds a request (head and body) may take to arrive, from its first byte.
    #[arg(long, default_value_t = trent_server::config::DEFAULT_REQUEST_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout: u64,
    /// The largest request head (request line and headers) in bytes; at least 8192.
    #[arg(long, default_value_t = trent_server::config::DEFAULT_MAX_HEADER_BYTES, value_parser = parse_header_bytes)]
    max_header_bytes: usize,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, env = "TRENT_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "TRENT_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Also serve Prometheus metrics at http://ADDR/metrics (off by default).
    #[arg(long, env = "TRENT_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account with an administrator access key, written as profile `trent-ACCOUNT`.
    CreateAccount {
        /// The data directory.
        #[arg(long, default_value = "./trent-data", env = "TRENT_DATA_DIR")]
        data_dir: PathBuf,
        /// The new account's 12-digit id.
        #[arg(long)]
        account_id: String,
    },
    /// List the accounts and their access keys.
    ListAccounts {
        /// The data directory.
        #[arg(long, default_value = "./trent-data", env = "TRENT_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Make an access key Inactive.
    RevokeKey {
        /// The data directory.
        #[arg(long, default_value = "./trent-data", env = "TRENT_DATA_DIR")]
        data_dir: PathBuf,
        /// The access key id.
        #[arg(long)]
        access_key_id: String,
    },
    /// Re-wrap every stored secret under a new root key kept by the provider --to (`file`,
    /// `passphrase` or a PKCS#11 URI). Run with the server stopped; crash-safe: after a kill,
    /// run it again with the same --to to finish. Audited.
    RotateRootKey {
        /// The data directory.
        #[arg(long, default_value = "./trent-data", env = "TRENT_DATA_DIR")]
        data_dir: PathBuf,
        /// The new root key's provider.
        #[arg(long)]
        to: String,
        /// A file holding the new passphrase (--to passphrase); otherwise
        /// TRENT_NEW_ROOT_PASSPHRASE, otherwise a prompt.
        #[arg(long)]
        new_passphrase_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check that the audit log is whole and unaltered (every segment, the HMAC chain, the
    /// signed checkpoints, the head); prints the head to anchor elsewhere. Needs the root key.
    Verify {
        /// The data directory.
        #[arg(long, default_value = "./trent-data", env = "TRENT_DATA_DIR")]
        data_dir: PathBuf,
        /// A head printed earlier (`SEQUENCE:HASH`, or just `HASH`): fail unless that record
        /// is still in the log with that MAC.
        #[arg(long, conflicts_with = "public_key")]
        expect_head: Option<String>,
        /// Without the root key: check only the checkpoints, with this public key (from
        /// `trent audit public-key`): their signatures, and that each names a record still
        /// where it says (records removed or files replaced). Contents need the root key.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Print the Ed25519 public key that checks the audit checkpoints' signatures, to keep
    /// outside the data dir.
    PublicKey {
        /// The data directory.
        #[arg(long, default_value = "./trent-data", env = "TRENT_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Set a broken part of the audit log aside so the server can start again: it stays on
    /// disk, and a new segment starts with a keyed record of what was found. Run with the
    /// server stopped; `verify` then reports the acknowledged break.
    AcknowledgeBreak {
        /// The data directory.
        #[arg(long, default_value = "./trent-data", env = "TRENT_DATA_DIR")]
        data_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRENT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // Every file Trent creates is private to its user, whatever the caller's umask.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("trent: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("trent: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let passphrase_file = cli.passphrase_file;
    let database = cli.database.map(DatabaseUrl::new);
    match cli.command {
        Command::Init {
            data_dir,
            region,
            account_id,
            root_key,
        } => {
            init(
                &data_dir,
                &region,
                &account_id,
                &root_key,
                passphrase_file,
                database,
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            serve(args, passphrase_file, database).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin { command } => {
            admin(command, passphrase_file, database).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command } => audit(command, passphrase_file),
    }
}

/// The data dir at `path`, unlocking its root key from `passphrase_file`, the environment or
/// a prompt.
fn open_dir(path: &std::path::Path, passphrase_file: &Option<PathBuf>) -> DataDir {
    DataDir::new(path).with_unlock(Unlock::from_cli(passphrase_file.clone()))
}

/// The audit keys of a data dir (derived from its root key).
fn audit_keys(dir: &DataDir) -> Result<trent_audit::AuditKeys> {
    let root = dir
        .load_root_key()
        .context("the audit keys are derived from the root key")?;
    Ok(trent_server::app::audit_keys(&root)?)
}

fn audit(command: AuditCommand, passphrase_file: Option<PathBuf>) -> Result<ExitCode> {
    match command {
        AuditCommand::Verify {
            data_dir,
            expect_head: _,
            public_key: Some(public_key),
        } => {
            let dir = open_dir(&data_dir, &passphrase_file);
            let public = trent_audit::CheckpointPublicKey::from_hex(&public_key)
                .ok_or_else(|| anyhow::anyhow!("--public-key: expected 64 hex digits"))?;
            match trent_audit::verify_checkpoints(&dir.audit_dir(), &public) {
                Ok(report) => {
                    println!(
                        "audit checkpoints OK: {} signed checkpoint(s) match the log (record contents not checked: that needs the root key)",
                        report.checkpoints
                    );
                    if let Some((seq, mac, file, time)) = report.last {
                        println!("last checkpoint: sequence {seq} in {file} at {time}, HMAC {mac}");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("audit checkpoints BROKEN: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditCommand::Verify {
            data_dir,
            expect_head,
            public_key: None,
        } => {
            let dir = open_dir(&data_dir, &passphrase_file);
            let options = trent_audit::VerifyOptions {
                expect_head: expect_head
                    .map(|a| a.parse::<trent_audit::Anchor>())
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--expect-head: {e}"))?,
            };
            let keys = audit_keys(&dir)?;
            match trent_audit::verify_with(&dir.audit_dir(), &keys, &options) {
                Ok(report) => {
                    println!(
                        "audit log OK: {} records in {} segment file(s), {} signed checkpoint(s)",
                        report.records, report.segments, report.checkpoints
                    );
                    println!(
                        "head: sequence {} in {}, HMAC {}",
                        report.last_sequence, report.last_file, report.last_hash
                    );
                    println!(
                        "anchor (keep it elsewhere; check with --expect-head): {}:{}",
                        report.last_sequence, report.last_hash
                    );
                    if options.expect_head.is_some() {
                        println!("expected head: present");
                    }
                    let legacy = report.records - report.keyed_records;
                    if legacy > 0 {
                        println!(
                            "note: {legacy} record(s) are in the legacy unkeyed format (plain SHA-256 chain, written before keyed chains); only records after them, checkpoints and outside anchors protect them"
                        );
                    }
                    for b in &report.acknowledged_breaks {
                        println!("acknowledged break: {b}");
                    }
                    if report.torn_tail_bytes > 0 {
                        println!(
                            "note: the live segment ends with a torn record of {} bytes (never acknowledged; cut off at the next start)",
                            report.torn_tail_bytes
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("audit log BROKEN: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditCommand::PublicKey { data_dir } => {
            let keys = audit_keys(&open_dir(&data_dir, &passphrase_file))?;
            println!("{}", keys.public_key());
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::AcknowledgeBreak { data_dir } => {
            let dir = open_dir(&data_dir, &passphrase_file);
            let keys = audit_keys(&dir)?;
            match trent_audit::acknowledge_break(&dir.audit_dir(), &keys)
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                None => {
                    println!("audit log OK: there is no break to acknowledge");
                    Ok(ExitCode::SUCCESS)
                }
                Some(ack) => {
                    println!("acknowledged: {}", ack.finding);
                    println!(
                        "segments {}–{} are set aside (kept, with their SHA-256 in the acknowledgement); the server can start",
                        ack.first_segment, ack.last_segment
                    );
                    println!("new head (anchor): {}:{}", ack.sequence, ack.head);
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}

async fn admin(
    command: AdminCommand,
    passphrase_file: Option<PathBuf>,
    database: Option<DatabaseUrl>,
) -> Result<()> {
    match command {
        AdminCommand::CreateAccount {
            data_dir,
            account_id,
        } => {
            let account = AccountId::parse(&account_id).map_err(|e| anyhow::anyhow!("{e}"))?;
            let dir = open_dir(&data_dir, &passphrase_file).with_database(database);
            let key = dir
                .create_account(&account)
                .await
                .context("trent admin create-account failed")?;
            println!(
                "Created account {account}.\nAdministrator access key {} written as profile 'trent-{account}' to {}.\nA running server accepts it within a second.",
                key.access_key_id,
                dir.credentials_path().display()
            );
        }
        AdminCommand::ListAccounts { data_dir } => {
            let accounts = DataDir::new(&data_dir)
                .with_database(database)
                .list_accounts()
                .await?;
            for (account, keys) in accounts {
                println!("{}", account.account_id);
                for k in keys {
                    let status = match k.status {
                        trent_core::model::AccessKeyStatus::Active => "Active",
                        trent_core::model::AccessKeyStatus::Inactive => "Inactive",
                    };
                    println!("  {} {status} {}", k.access_key_id, k.principal_arn);
                }
            }
        }
        AdminCommand::RotateRootKey {
            data_dir,
            to,
            new_passphrase_file,
        } => {
            let to: trent_rootkey::ProviderSpec =
                to.parse().map_err(|e| anyhow::anyhow!("--to: {e}"))?;
            let dir = open_dir(&data_dir, &passphrase_file).with_database(database);
            let report = trent_server::rotation::rotate_root_key(
                &dir,
                to,
                Unlock::from_cli_env(new_passphrase_file, "TRENT_NEW_ROOT_PASSPHRASE"),
            )
            .await
            .context("trent admin rotate-root-key failed")?;
            println!(
                "Root key rotated from {} to {}: {} secret(s) re-wrapped{}.",
                report.from,
                report.to,
                report.rewrapped,
                if report.resumed {
                    format!(
                        " ({} already were: an interrupted rotation was finished)",
                        report.already
                    )
                } else {
                    String::new()
                }
            );
        }
        AdminCommand::RevokeKey {
            data_dir,
            access_key_id,
        } => {
            let key = DataDir::new(&data_dir)
                .with_database(database)
                .revoke_key(&access_key_id)
                .await?;
            println!(
                "Access key {} of {} is now Inactive (a running server refuses it within a second).",
                key.access_key_id, key.principal_arn
            );
        }
    }
    Ok(())
}

async fn init(
    data_dir: &std::path::Path,
    region: &str,
    account_id: &str,
    root_key: &str,
    passphrase_file: Option<PathBuf>,
    database: Option<DatabaseUrl>,
) -> Result<()> {
    let account = AccountId::parse(account_id).map_err(|e| anyhow::anyhow!("{e}"))?;
    let provider: trent_rootkey::ProviderSpec = root_key
        .parse()
        .map_err(|e| anyhow::anyhow!("--root-key: {e}"))?;
    let dir = open_dir(data_dir, &passphrase_file).with_database(database.clone());
    let key = dir
        .init_with(region, &account, &provider)
        .await
        .context("trent init failed")?;
    if let Some(url) = &database {
        println!("State kept in PostgreSQL: {}", url.redacted());
    }
    println!(
        "Initialised {} for account {account} in {region}.\nAdministrator access key {} written as profile 'trent' to {}\n(Region in {}).",
        data_dir.display(),
        key.access_key_id,
        dir.credentials_path().display(),
        dir.config_path().display()
    );
    Ok(())
}

async fn serve(
    args: ServeArgs,
    passphrase_file: Option<PathBuf>,
    database: Option<DatabaseUrl>,
) -> Result<()> {
    let ServeArgs {
        data_dir,
        listen,
        dev,
        region,
        regions,
        account_id,
        root_key,
        max_connections,
        max_connections_per_ip,
        idle_timeout,
        request_timeout,
        max_header_bytes,
        tls_cert,
        tls_key,
        metrics_listen,
    } = args;
    let regions = match regions {
        Some(list) => trent_server::config::parse_regions(&list)
            .map_err(|e| anyhow::anyhow!("--regions: {e}"))?,
        None => Vec::new(),
    };
    raise_open_files_limit(max_connections);
    let tls = tls_cert.zip(tls_key);
    disable_core_dumps();
    if dev && !listen.ip().is_loopback() {
        bail!("--dev serves loopback addresses only; {listen} is not one");
    }
    // Before anything else, so a bad certificate or key stops the start with nothing changed.
    let tls = tls.map(|(cert, key)| TlsFiles { cert, key });
    if let Some(files) = &tls {
        if trent_server::tls::readable_by_others(&files.key) {
            eprintln!(
                "trent: WARNING: {} can be read by other users; a TLS private key should be readable by its owner only (chmod 600).",
                files.key.display()
            );
        }
        Tls::load(files.clone())?;
    }
    let dir = DataDir::new(&data_dir);
    if !dir.is_initialised() {
        println!(
            "{} is not initialised: initialising it first.",
            data_dir.display()
        );
        init(
            &data_dir,
            &region,
            &account_id,
            &root_key,
            passphrase_file.clone(),
            database.clone(),
        )
        .await?;
    }
    let settings = dir.settings()?;
    let dev_account = if dev {
        Some(AccountId::parse(&settings.first_account_id).map_err(|e| anyhow::anyhow!("{e}"))?)
    } else {
        None
    };
    let config = ServerConfig {
        listen,
        data_dir: data_dir.clone(),
        region: settings.region.clone(),
        regions,
        dev_account,
        max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        max_connections,
        transport: trent_server::config::TransportLimits {
            max_connections_per_ip,
            idle_timeout: std::time::Duration::from_secs(idle_timeout),
            request_timeout: std::time::Duration::from_secs(request_timeout),
            max_header_bytes,
        },
        tls: tls.clone(),
        database,
    };
    let app = App::open_with_unlock(
        config,
        std::sync::Arc::new(trent_core::clock::SystemClock),
        Unlock::from_cli(passphrase_file),
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let bound = listener.local_addr()?;
    if dev {
        println!(
            "Trent DEV MODE: any well-formed SigV4 request acts as the root of account {}. Never use this for real keys.",
            settings.first_account_id
        );
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    if tls.is_none() && !bound.ip().is_loopback() {
        eprintln!(
            "trent: WARNING: serving plain HTTP on {bound}, which is not a loopback address: plaintexts, data keys and request signatures cross the network unencrypted. Use --tls-cert and --tls-key, or a TLS proxy in front of Trent."
        );
    }
    if let Some(url) = &settings.database {
        println!("State kept in PostgreSQL: {url}");
    }
    let served = app.config.served_regions();
    let served = if app.config.regions.is_empty() {
        format!("{} Regions of the aws partition", served.len())
    } else {
        served.join(",")
    };
    println!(
        "Trent listening on {scheme}://{bound} (Region {}, data dir {}; serving {served})",
        settings.region,
        data_dir.display()
    );
    let (stop_jobs, jobs_stopped) = tokio::sync::oneshot::channel::<()>();
    let jobs = tokio::spawn(trent_server::jobs::run(app.clone(), async {
        let _ = jobs_stopped.await;
    }));
    let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics = match metrics_listen {
        Some(addr) => {
            let metrics_listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen for metrics on {addr}"))?;
            println!(
                "Metrics on http://{}/metrics",
                metrics_listener.local_addr()?
            );
            Some(tokio::spawn(trent_server::metrics::serve(
                app.clone(),
                metrics_listener,
                async {
                    let _ = metrics_stopped.await;
                },
            )))
        }
        None => None,
    };
    trent_server::listener::serve(app.clone(), listener, shutdown_signal()).await?;
    let _ = stop_metrics.send(());
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    let _ = stop_jobs.send(());
    let _ = jobs.await;
    app.audit.close();
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// The least `--max-header-bytes`: hyper needs at least 8 KiB of read buffer.
const MIN_HEADER_BYTES: usize = 8192;

/// Why a `--max-header-bytes` value is refused (clap prints it after the option's name).
#[derive(Debug)]
enum HeaderBytesError {
    /// Not a whole number.
    NotANumber(std::num::ParseIntError),
    /// Below [`MIN_HEADER_BYTES`].
    TooSmall,
}

impl std::fmt::Display for HeaderBytesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderBytesError::NotANumber(e) => write!(f, "{e}"),
            HeaderBytesError::TooSmall => write!(f, "must be at least {MIN_HEADER_BYTES}"),
        }
    }
}

impl std::error::Error for HeaderBytesError {}

/// `--max-header-bytes`: a whole number of at least [`MIN_HEADER_BYTES`].
fn parse_header_bytes(s: &str) -> std::result::Result<usize, HeaderBytesError> {
    let n: usize = s.parse().map_err(HeaderBytesError::NotANumber)?;
    if n < MIN_HEADER_BYTES {
        return Err(HeaderBytesError::TooSmall);
    }
    Ok(n)
}

/// File descriptors the server needs besides its connections (database, audit log, the
/// listeners, over-limit connections being answered).
const SPARE_FILES: u64 = 64 + trent_server::listener::MAX_REJECTING as u64;

/// Raises the soft limit on open files to the hard limit (each connection is one), and warns
/// when even that is too low for `max_connections`.
fn raise_open_files_limit(max_connections: usize) {
    let needed = max_connections as u64 + SPARE_FILES;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < needed => eprintln!(
            "trent: WARNING: at most {limit} files may be open, fewer than --max-connections {max_connections} needs ({needed}); raise the hard limit (ulimit -Hn) or lower --max-connections."
        ),
        Ok(_) => {}
        Err(e) => eprintln!("trent: WARNING: could not read or raise the open files limit: {e}"),
    }
}

/// Core dumps could contain unwrapped key material: switch them off for this process.
fn disable_core_dumps() {
    if let Err(e) = rlimit::setrlimit(rlimit::Resource::CORE, 0, 0) {
        tracing::warn!(error = %e, "could not disable core dumps");
    }
}
