//! The server's shared state: everything a request needs, built once at start.

use std::sync::Arc;

use trent_audit::{AuditError, AuditKeys, AuditLog, AuditOptions, KeyError};
use trent_core::clock::{SharedClock, SystemClock};
use trent_core::iam::Iam;
use trent_core::{CacheSizes, Kms};
use trent_crypto::root::RootKey;
use trent_rootkey::Unlock;
use trent_sigv4::Verifier;

use crate::config::ServerConfig;
use crate::datadir::DataDir;
use crate::metrics::Metrics;
use crate::tls::Tls;

/// Why the server's state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The TLS certificate or key.
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
    /// The root key file.
    #[error("{0}")]
    RootKey(#[from] trent_crypto::CryptoError),
    /// The data dir: its root key provider (file, passphrase or PKCS#11 token, ARCHITECTURE.md
    /// §3) or the database its settings name (§6.1).
    #[error("{0}")]
    RootKeyProvider(#[from] crate::datadir::DataDirError),
    /// The database.
    #[error("{0}")]
    Store(#[from] trent_core::store::StoreError),
    /// The audit log.
    #[error("cannot open the audit log: {0}")]
    Audit(#[from] AuditError),
    /// The audit log's keys.
    #[error("{0}")]
    AuditKeys(#[from] KeyError),
    /// An audit setting in the environment.
    #[error("{name} must be a positive whole number, not {value:?}")]
    AuditSetting {
        /// The variable.
        name: &'static str,
        /// What it said.
        value: String,
    },
    /// The IAM directory.
    #[error("cannot load the IAM directory: {0}")]
    Iam(#[from] trent_core::iam::IamError),
    /// Writing the records of changes committed before the last stop.
    #[error("{0}")]
    Recovery(#[from] crate::recorder::RecoveryError),
}

/// Shared by every request.
pub struct App {
    /// What `trent serve` was started with.
    pub config: ServerConfig,
    /// The KMS domain (keys, authorization, caches) over the store.
    pub kms: Kms,
    /// SigV4 verification, with its signing-key cache.
    pub verifier: Verifier,
    /// The IAM/STS domain, with the in-memory directory of credentials authentication reads.
    pub credentials: Iam,
    /// The audit trail every request is recorded in before its answer (ARCHITECTURE.md §7).
    pub audit: AuditLog,
    /// The listener's TLS, when `config.tls` names files.
    pub tls: Option<Tls>,
    /// Request counts and latencies (served by [`crate::metrics::serve`] when enabled).
    pub metrics: Metrics,
    /// Audit intents whose records are written but not yet known durable.
    pub recorder: crate::recorder::Recorder,
}

impl App {
    /// Opens the data dir (which must be initialised) and builds the state, with the system clock.
    pub async fn open(config: ServerConfig) -> Result<Arc<App>, AppError> {
        Self::open_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`App::open`], with an injected clock.
    pub async fn open_with_clock(
        config: ServerConfig,
        clock: SharedClock,
    ) -> Result<Arc<App>, AppError> {
        Self::open_with_unlock(config, clock, Unlock::from_cli(None)).await
    }

    /// As [`App::open_with_clock`], unlocking the root key with `unlock` (a passphrase file).
    pub async fn open_with_unlock(
        config: ServerConfig,
        clock: SharedClock,
        unlock: Unlock,
    ) -> Result<Arc<App>, AppError> {
        let tls = match &config.tls {
            Some(files) => Some(Tls::load(files.clone())?),
            None => None,
        };
        let dir = DataDir::new(&config.data_dir)
            .with_unlock(unlock)
            .with_database(config.database.clone());
        for warning in dir.secure_permissions() {
            tracing::warn!("data dir permissions: {warning}");
        }
        // Through the data dir's provider, on the blocking pool (ARCHITECTURE.md §3).
        let root_key = Arc::new(dir.load_root_key_async().await?);
        // trent.db, or the PostgreSQL database the settings name (ARCHITECTURE.md §6.1).
        let shared = dir.database_url()?.is_some();
        let store = dir.open_configured_store().await?;
        let audit = AuditLog::open(
            &dir.audit_dir(),
            audit_keys(&root_key)?,
            audit_options_from(|name| std::env::var(name).ok())?,
        )?;
        let kms = Kms::new(
            store,
            root_key,
            clock,
            config.region.clone(),
            CacheSizes::default(),
        )
        .with_served_regions(config.served_regions());
        let credentials = Iam::load(&kms).await?;
        let app = App {
            config,
            kms,
            verifier: Verifier::new(4096),
            credentials,
            audit,
            tls,
            metrics: Metrics::default(),
            recorder: Default::default(),
        };
        // Changes committed before the last stop get their records before anything is served.
        crate::recorder::recover(&app).await?;
        let app = Arc::new(app);
        if shared {
            forget_shared_state_periodically(&app);
        }
        Ok(app)
    }
}

/// How often a server on a shared (PostgreSQL) store forgets its cached key records, policies,
/// grants and aliases: what another node changed is enforced here within this, plus one
/// request (ARCHITECTURE.md §6.1).
pub const SHARED_STATE_REFRESH: std::time::Duration = std::time::Duration::from_millis(500);

/// Every [`SHARED_STATE_REFRESH`], [`Kms::forget_shared_state`], until the app is dropped.
fn forget_shared_state_periodically(app: &Arc<App>) {
    let app = Arc::downgrade(app);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SHARED_STATE_REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(app) = app.upgrade() else { break };
            app.kms.forget_shared_state();
        }
    });
}

/// The audit log's keys, derived from the root key (HKDF): the HMAC key that chains records
/// and the Ed25519 key pair that signs checkpoints.
pub fn audit_keys(root_key: &RootKey) -> Result<AuditKeys, AppError> {
    let mac = root_key.derive_audit_mac_key()?;
    let seed = root_key.derive_audit_signing_seed()?;
    Ok(AuditKeys::new(mac.as_bytes(), seed.as_bytes())?)
}

/// The audit log's options: the defaults, with rotation set by `TRENT_AUDIT_ROTATE_BYTES`
/// (segment size) and `TRENT_AUDIT_ROTATE_SECONDS` (segment age) when given.
pub fn audit_options_from(var: impl Fn(&str) -> Option<String>) -> Result<AuditOptions, AppError> {
    let mut options = AuditOptions::default();
    let positive = |name: &'static str| -> Result<Option<u64>, AppError> {
        match var(name) {
            None => Ok(None),
            Some(value) => match value.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(AppError::AuditSetting { name, value }),
            },
        }
    };
    if let Some(n) = positive("TRENT_AUDIT_ROTATE_BYTES")? {
        options.rotate_bytes = n;
    }
    if let Some(n) = positive("TRENT_AUDIT_ROTATE_SECONDS")? {
        options.rotate_after = std::time::Duration::from_secs(n);
    }
    Ok(options)
}

#[cfg(test)]
mod audit_option_tests {
    use super::*;

    #[test]
    fn rotation_is_configured_from_the_environment_with_sane_defaults() {
        let none = audit_options_from(|_| None).unwrap();
        assert_eq!(none, AuditOptions::default());
        assert_eq!(none.rotate_bytes, 64 * 1024 * 1024);
        let set = audit_options_from(|n| match n {
            "TRENT_AUDIT_ROTATE_BYTES" => Some("1048576".into()),
            "TRENT_AUDIT_ROTATE_SECONDS" => Some("3600".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(set.rotate_bytes, 1 << 20);
        assert_eq!(set.rotate_after, std::time::Duration::from_secs(3600));
        for bad in ["0", "-1", "1MiB", ""] {
            let e = audit_options_from(|n| (n == "TRENT_AUDIT_ROTATE_BYTES").then(|| bad.into()))
                .unwrap_err();
            assert!(e.to_string().contains("TRENT_AUDIT_ROTATE_BYTES"), "{e}");
        }
    }
}
