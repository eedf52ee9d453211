//! The server's shared state: everything a request needs, built once at start.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)] // guard rails: lifted after the IAM refactor lands

use std::sync::Arc;

use trent_audit::{AuditKeys, AuditLog, AuditOptions};
use trent_core::clock::{SharedClock, SystemClock};
use trent_core::{CacheSizes, Kms};
use trent_crypto::root::RootKey;
use trent_sigv4::Verifier;
use trent_store_sqlite::SqliteStore;

use crate::config::ServerConfig;
use crate::credentials::Credentials;
use crate::datadir::DataDir;
use crate::metrics::Metrics;
use crate::tls::Tls;

/// Shared by every request.
pub struct App {
    pub config: ServerConfig,
    pub kms: Kms,
    pub verifier: Verifier,
    pub credentials: Arc<Credentials>,
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
    pub async fn open(config: ServerConfig) -> Result<Arc<App>, String> {
        Self::open_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`App::open`], with an injected clock.
    pub async fn open_with_clock(
        config: ServerConfig,
        clock: SharedClock,
    ) -> Result<Arc<App>, String> {
        let tls = match &config.tls {
            Some(files) => Some(Tls::load(files.clone()).map_err(|e| e.to_string())?),
            None => None,
        };
        let dir = DataDir::new(&config.data_dir);
        for warning in dir.secure_permissions() {
            tracing::warn!("data dir permissions: {warning}");
        }
        let root_key =
            Arc::new(RootKey::load_file(dir.root_key_path()).map_err(|e| e.to_string())?);
        let store = SqliteStore::open(&dir.database_path()).map_err(|e| e.to_string())?;
        let audit = AuditLog::open(
            &dir.audit_dir(),
            audit_keys(&root_key)?,
            audit_options_from(|name| std::env::var(name).ok())?,
        )
        .map_err(|e| format!("cannot open the audit log: {e}"))?;
        let kms = Kms::new(
            Arc::new(store),
            root_key,
            clock,
            config.region.clone(),
            CacheSizes::default(),
        );
        let credentials = Arc::new(Credentials::load(&kms).await?);
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
        Ok(Arc::new(app))
    }
}

/// The audit log's keys, derived from the root key (HKDF): the HMAC key that chains records
/// and the Ed25519 key pair that signs checkpoints.
pub fn audit_keys(root_key: &RootKey) -> Result<AuditKeys, String> {
    let mac = root_key.derive_audit_mac_key().map_err(|e| e.to_string())?;
    let seed = root_key
        .derive_audit_signing_seed()
        .map_err(|e| e.to_string())?;
    AuditKeys::new(mac.as_bytes(), seed.as_bytes()).map_err(|e| e.to_string())
}

/// The audit log's options: the defaults, with rotation set by `TRENT_AUDIT_ROTATE_BYTES`
/// (segment size) and `TRENT_AUDIT_ROTATE_SECONDS` (segment age) when given.
pub fn audit_options_from(var: impl Fn(&str) -> Option<String>) -> Result<AuditOptions, String> {
    let mut options = AuditOptions::default();
    let positive = |name: &str| -> Result<Option<u64>, String> {
        match var(name) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(format!("{name} must be a positive whole number, not {v:?}")),
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
            assert!(e.contains("TRENT_AUDIT_ROTATE_BYTES"), "{e}");
        }
    }
}
