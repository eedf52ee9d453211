//! `trent admin rotate-root-key`: re-wraps every stored secret under a new root key, possibly
//! of another provider, offline and crash-safe (ARCHITECTURE.md §3, "Root key rotation").
//!
//! 1. **Prepare**: seal the new root key (same derivation seed, fresh wrapping key) into
//!    `root-N.{key,sealed}`, then write `root-rotation.json` naming it. From here on every
//!    start loads both keys (the old one wraps, either unwraps).
//! 2. **Re-wrap**: each secret not yet under the new key is unwrapped with the old one and
//!    swapped in its own transaction (compare and swap). A kill at any point leaves each
//!    secret whole under one key or the other; a rerun resumes.
//! 3. **Commit**: `settings.json` is replaced atomically (write, fsync, rename, fsync the
//!    directory) to name the new provider and file.
//! 4. **Finish**: the audit record, then the old key file is overwritten and removed, then
//!    `root-rotation.json`. A rerun after a kill here only finishes.
//!
//! The audit log's lock makes the command refuse while a server runs on the dir. On a shared
//! PostgreSQL database it cannot see the other nodes: they must be stopped, and get the new key
//! file and `settings.json` copied before they start (ARCHITECTURE.md §6.1).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use trent_audit::{AuditError, AuditLog, AuditOptions, AuditRecord, UserIdentity};
use trent_core::clock::{Clock, SystemClock};
use trent_core::store::{StoreError, WrappedSecretId};
use trent_crypto::root::{access_key_secret_wrapping_aad, material_wrapping_aad, RootKey};
use trent_crypto::CryptoError;
use trent_rootkey::{ProviderSpec, RootKeyError, Unlock};

use crate::app::AppError;
use crate::datadir::{DataDir, DataDirError, PendingRotation, RotationReport, Settings};

/// The audit record's event name.
pub const ROTATE_ROOT_KEY_EVENT: &str = "RotateRootKey";

/// Why a root key rotation stopped. Each step before the commit can be rerun; the CLI prints
/// the text (no secret or PIN in it).
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// The data dir's settings or root key.
    #[error("{0}")]
    DataDir(#[from] DataDirError),
    /// Sealing or loading the new root key.
    #[error("{0}")]
    RootKey(#[from] RootKeyError),
    /// Unwrapping or wrapping a secret.
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// The database.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A file could not be written as JSON.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// A step on the blocking pool ended without an answer (it panicked).
    #[error("blocking task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Another rotation is under way.
    #[error("a rotation to {0} is under way; rerun it with that --to to finish it first")]
    OtherUnderWay(String),
    /// A file of the data dir could not be written, synced or removed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The store listed a key's material without the key's ARN (its wrapping AAD).
    #[error("key {0}: material listed without its ARN")]
    MissingArn(String),
    /// A secret opens under neither the old nor the new root key.
    #[error("{0}: opens under neither root key")]
    OpensUnderNeither(String),
    /// A secret's re-wrapped form could not be stored.
    #[error("{secret}: {source}")]
    Rewrap {
        /// Which secret.
        secret: String,
        /// Why.
        source: StoreError,
    },
    /// The audit log's keys.
    #[error("{0}")]
    AuditKeys(Box<AppError>),
    /// The audit log could not be opened (a server holds its lock, or it is broken).
    #[error("cannot open the audit log (rotate-root-key runs with the server stopped): {0}")]
    AuditOpen(AuditError),
    /// The rotation's audit record could not be written.
    #[error("cannot write the audit record: {0}")]
    AuditRecord(AuditError),
}

/// The error of an I/O step on `path`.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RotationError {
    let path = path.to_path_buf();
    move |source| RotationError::Io { path, source }
}

/// Runs `f` on the blocking pool (token calls, Argon2id).
async fn blocking<T: Send + 'static, E: Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, RotationError>
where
    RotationError: From<E>,
{
    Ok(tokio::task::spawn_blocking(f).await??)
}

/// Rotates the root key of `dir` to a new key kept by `to` (see the module documentation).
/// `new_unlock` unlocks the new provider (its passphrase); the dir's own unlock opens the
/// current one.
pub async fn rotate_root_key(
    dir: &DataDir,
    to: ProviderSpec,
    new_unlock: Unlock,
) -> Result<RotationReport, RotationError> {
    let settings = dir.settings()?;
    let pending = dir.pending_rotation()?;
    if let Some(p) = &pending {
        if p.file == settings.root_key_file_name() {
            // Committed before a kill: only the finish is left. The derivation seed never
            // changes, so the new key gives the same audit keys.
            let audit = open_audit(dir, &dir.load_root_key_async().await?)?;
            let report = RotationReport {
                from: display_spec(&p.from),
                to: display_spec(&p.to),
                rewrapped: 0,
                already: 0,
                resumed: true,
            };
            finish(dir, &settings, p, audit, &report).await?;
            return Ok(report);
        }
        if p.to != to.to_spec_string() {
            return Err(RotationError::OtherUnderWay(display_spec(&p.to)));
        }
    }

    // The current key, and the audit log (whose lock also keeps a server away).
    let old_key = dir.load_root_key_async().await?;
    let old_only = {
        let dir = dir.clone();
        blocking(move || dir.unseal_current()).await?
    };
    let audit = open_audit(dir, &old_key)?;
    let from = settings.root_key_provider()?;
    let new_unlock = std::sync::Arc::new(new_unlock);

    let (plan, resumed) = match pending {
        Some(p) => (p, true),
        None => {
            let generation = settings.root_key_generation + 1;
            let file = trent_rootkey::file_name(&to, generation);
            let path = dir.root.join(&file);
            // A key sealed before a kill that came before `root-rotation.json`: nothing was
            // ever wrapped under it.
            if file != settings.root_key_file_name() && path.exists() {
                fs::remove_file(&path).map_err(io(&path))?;
            }
            let next = old_only.with_new_wrapping_key()?;
            let (spec, unlock) = (to.clone(), new_unlock.clone());
            blocking(move || trent_rootkey::seal(&spec, &path, &next, &unlock)).await?;
            let plan = PendingRotation {
                from: settings.root_key.clone().unwrap_or_else(|| "file".into()),
                from_file: settings.root_key_file_name().to_string(),
                to: to.to_spec_string(),
                file,
                generation,
            };
            let json = serde_json::to_vec_pretty(&plan)?;
            replace_durably(&dir.rotation_path(), &json)?;
            (plan, false)
        }
    };
    let new_key: RootKey = {
        let (spec, path, unlock) = (to.clone(), dir.root.join(&plan.file), new_unlock.clone());
        blocking(move || trent_rootkey::load(&spec, &path, &unlock)).await?
    };

    // The store the dir names: trent.db or its PostgreSQL database (ARCHITECTURE.md §6.1).
    let store = dir.open_configured_store().await?;
    let (mut rewrapped, mut already) = (0, 0);
    for secret in store.list_wrapped_secrets().await? {
        let aad = match (&secret.id, &secret.key_arn) {
            (
                WrappedSecretId::KeyMaterial {
                    key_material_id, ..
                },
                Some(arn),
            ) => material_wrapping_aad(arn, &key_material_id.0),
            (WrappedSecretId::AccessKey { access_key_id }, _) => {
                access_key_secret_wrapping_aad(access_key_id)
            }
            (WrappedSecretId::KeyMaterial { key, .. }, None) => {
                return Err(RotationError::MissingArn(key.to_string()))
            }
        };
        if new_key.unwrap_own(&aad, &secret.wrapped).is_ok() {
            already += 1;
            continue;
        }
        let plain = old_key
            .unwrap(&aad, &secret.wrapped)
            .map_err(|_| RotationError::OpensUnderNeither(describe(&secret.id)))?;
        let wrapped = new_key.wrap(&aad, plain.as_bytes())?;
        store
            .rewrap_secret(secret.id.clone(), secret.wrapped, wrapped)
            .await
            .map_err(|source| RotationError::Rewrap {
                secret: describe(&secret.id),
                source,
            })?;
        rewrapped += 1;
    }

    // Commit: the settings name the new key.
    let mut next = settings.clone();
    next.root_key = (to != ProviderSpec::File).then(|| to.to_spec_string());
    next.root_key_file = (plan.file != "root.key").then(|| plan.file.clone());
    next.root_key_generation = plan.generation;
    let json = serde_json::to_string_pretty(&next)?;
    replace_durably(&dir.settings_path(), json.as_bytes())?;

    let report = RotationReport {
        from: from.to_string(),
        to: to.to_string(),
        rewrapped,
        already,
        resumed,
    };
    finish(dir, &next, &plan, audit, &report).await?;
    Ok(report)
}

/// The spec as shown (no PIN), from its stored text.
fn display_spec(text: &str) -> String {
    text.parse::<ProviderSpec>()
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "(unreadable provider)".into())
}

fn describe(id: &WrappedSecretId) -> String {
    match id {
        WrappedSecretId::KeyMaterial {
            key,
            key_material_id,
        } => format!("key {key} material {}", key_material_id.to_hex()),
        WrappedSecretId::AccessKey { access_key_id } => format!("access key {access_key_id}"),
    }
}

/// Opens the audit log first of all: its lock refuses while a server runs on the dir.
fn open_audit(dir: &DataDir, key: &RootKey) -> Result<AuditLog, RotationError> {
    AuditLog::open(
        &dir.audit_dir(),
        crate::app::audit_keys(key).map_err(|e| RotationError::AuditKeys(Box::new(e)))?,
        AuditOptions::default(),
    )
    .map_err(RotationError::AuditOpen)
}

/// The audit record, then the old key file shredded, then the rotation file removed.
async fn finish(
    dir: &DataDir,
    settings: &Settings,
    plan: &PendingRotation,
    audit: AuditLog,
    report: &RotationReport,
) -> Result<(), RotationError> {
    let record = record(settings, plan, report);
    let appended = audit.append(record).await;
    audit.close();
    appended.map_err(RotationError::AuditRecord)?;

    if plan.from_file != plan.file {
        shred(&dir.root.join(&plan.from_file))?;
    }
    match fs::remove_file(dir.rotation_path()) {
        Ok(()) => sync_dir(&dir.root),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(&dir.rotation_path())(e)),
    }
}

/// The CloudTrail-shaped record of a rotation: an `AwsServiceEvent` invoked by the operator's
/// `trent admin` (no API caller), naming both providers without any PIN.
fn record(settings: &Settings, plan: &PendingRotation, report: &RotationReport) -> AuditRecord {
    AuditRecord {
        user_identity: Some(UserIdentity {
            account_id: Some(settings.first_account_id.clone()),
            invoked_by: Some("trent admin".into()),
            ..Default::default()
        }),
        event_time: trent_audit::format_event_time(SystemClock.now()),
        event_name: ROTATE_ROOT_KEY_EVENT.into(),
        aws_region: settings.region.clone(),
        source_ip_address: "trent admin".into(),
        user_agent: Some("trent admin rotate-root-key".into()),
        request_parameters: Some(serde_json::json!({
            "from": report.from,
            "to": report.to,
        })),
        response_elements: None,
        request_id: trent_audit::new_request_id(),
        event_id: trent_audit::new_event_id(),
        read_only: false,
        event_type: "AwsServiceEvent".into(),
        recipient_account_id: Some(settings.first_account_id.clone()),
        service_event_details: Some(serde_json::json!({
            "rootKeyGeneration": plan.generation,
            "rootKeyFile": plan.file,
            "secretsRewrapped": report.rewrapped,
            "secretsAlreadyRewrapped": report.already,
            "resumed": report.resumed,
        })),
        ..Default::default()
    }
}

/// Overwrites a key file with zeros, syncs, and removes it (a sealed file is harmless, but
/// goes the same way). Missing is fine: a rerun may find it gone.
fn shred(path: &Path) -> Result<(), RotationError> {
    match fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(path)(e)),
        Ok(meta) => {
            let mut f = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(io(path))?;
            let zeros = vec![0u8; usize::try_from(meta.len()).unwrap_or(0)];
            f.write_all(&zeros)
                .and_then(|()| f.sync_all())
                .map_err(io(path))?;
        }
    }
    fs::remove_file(path).map_err(io(path))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Replaces `path` atomically: a temporary file (0600) written and fsynced, renamed over it,
/// then the directory fsynced.
pub(crate) fn replace_durably(path: &Path, contents: &[u8]) -> Result<(), RotationError> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(io(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

fn sync_dir(dir: &Path) -> Result<(), RotationError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}
