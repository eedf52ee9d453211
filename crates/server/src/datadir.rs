//! The data directory: created by `trent init`, opened by `trent serve`.
//!
//! ```text
//! DIR/settings.json   Region, first account, root key provider and file (format-versioned)
//! DIR/root.key        the root key of the `file` provider (mode 0600; refused if others can
//!                     read it); after a rotation `root-N.key`, or `root-N.sealed` for the
//!                     `pkcs11` and `passphrase` providers (ARCHITECTURE.md §3)
//! DIR/root-rotation.json  only while `trent admin rotate-root-key` is under way
//! DIR/trent.db        the SQLite store (+ -wal, -shm), unless settings.json names a
//!                     PostgreSQL database (ARCHITECTURE.md §6.1)
//! DIR/audit/          the hash-chained audit log
//! DIR/credentials     the first account's administrator access key, as AWS profile `trent`
//!                     (and `trent-ACCOUNT` for each `trent admin create-account`)
//! DIR/config          AWS config-file profile `trent` with the Region (and `trent-ACCOUNT`)
//! ```

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use trent_core::clock::{Clock, SystemClock};
use trent_core::model::{AccessKeyRecord, AccessKeyStatus, AccountId, AccountRecord};
use trent_core::store::{Store, StoreError};
use trent_crypto::random::random_bytes;
use trent_crypto::root::{access_key_secret_wrapping_aad, RootKey, RootKeySecrets};
use trent_crypto::CryptoError;
use trent_rootkey::{ProviderSpec, RootKeyError, Unlock};
use trent_store_postgres::PostgresStore;
use trent_store_sqlite::SqliteStore;

use crate::config::DatabaseUrl;

/// Why a data dir operation failed (`trent init`, `trent admin …`, opening the root key). The
/// CLI prints its text; the server's start reports it as [`crate::app::AppError`]. No text
/// holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// A file or directory of the data dir could not be read, created or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was attempted (`cannot read`, `cannot create`, …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A JSON file of the data dir does not parse.
    #[error("{} is not valid: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// `settings.json` names a root key provider that does not parse.
    #[error("settings.json: {0}")]
    Settings(RootKeyError),
    /// The root key provider (file, passphrase or PKCS#11 token) failed.
    #[error("{0}")]
    RootKey(#[from] RootKeyError),
    /// The new root key of a rotation under way could not be loaded.
    #[error("the new root key of the rotation under way: {0}")]
    RotationKey(RootKeyError),
    /// A cryptographic step (making or wrapping a secret).
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// The database.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A file could not be written as JSON.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// `trent init` on a dir that already holds a data dir.
    #[error("{} is already initialised; refusing to overwrite it", .0.display())]
    AlreadyInitialised(PathBuf),
    /// An operation that needs an initialised data dir.
    #[error("{} is not initialised", .0.display())]
    NotInitialised(PathBuf),
    /// `trent admin create-account` for an account that exists.
    #[error("account {0} already exists")]
    AccountExists(AccountId),
    /// `trent admin revoke-key` for an unknown access key.
    #[error("no access key {0}")]
    NoAccessKey(String),
    /// `--database` names another database than the one the data dir was initialised with.
    #[error("the data dir's database is {settings}, not {given}")]
    DatabaseMismatch {
        /// What the settings name (without password), or `trent.db (SQLite)`.
        settings: String,
        /// What was given (without password).
        given: String,
    },
    /// `trent init --database` on a database that already holds accounts: it belongs to
    /// another data dir, whose root key wraps its secrets.
    #[error(
        "the database {0} already holds accounts: to add a node, copy the data dir of a node \
         that uses it (without its audit directory) instead of running init"
    )]
    DatabaseInUse(String),
    /// A step on the blocking pool ended without an answer (it panicked).
    #[error("{what}: {source}")]
    Task {
        /// The step.
        what: &'static str,
        /// Why.
        source: tokio::task::JoinError,
    },
}

impl DataDirError {
    fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError {
        let path = path.to_path_buf();
        move |source| DataDirError::Io {
            action,
            path,
            source,
        }
    }
}

/// Settings fixed when the data dir was made.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Settings {
    /// Format of this file.
    pub format: u32,
    /// The Region this Trent serves.
    pub region: String,
    /// The account `trent init` created.
    pub first_account_id: String,
    /// The root key provider: `passphrase` or a `pkcs11:` URI; absent for `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_key: Option<String>,
    /// The root key's file in the data dir; absent for `root.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_key_file: Option<String>,
    /// How many root key rotations completed (names the next key's file).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub root_key_generation: u32,
    /// The PostgreSQL database the state is in, without any password (which comes from
    /// `--database`/`TRENT_DATABASE_URL` or `PGPASSWORD`); absent for SQLite's `trent.db`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Settings {
    /// The root key provider these settings name.
    pub fn root_key_provider(&self) -> Result<ProviderSpec, DataDirError> {
        match &self.root_key {
            None => Ok(ProviderSpec::File),
            Some(spec) => spec.parse().map_err(DataDirError::Settings),
        }
    }

    /// The file name of the root key in the data dir.
    pub fn root_key_file_name(&self) -> &str {
        self.root_key_file.as_deref().unwrap_or("root.key")
    }
}

/// A root key rotation under way (`DIR/root-rotation.json`): the provider and file of the
/// new root key. Written before the first secret is re-wrapped, removed after the settings
/// name the new key and the old key is gone.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct PendingRotation {
    /// The old provider's specification.
    pub from: String,
    /// The old key's file name.
    pub from_file: String,
    /// The new provider's specification.
    pub to: String,
    /// The new key's file name in the data dir.
    pub file: String,
    /// The new key's generation.
    pub generation: u32,
}

/// What `trent admin rotate-root-key` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// The old provider (no PIN shown).
    pub from: String,
    /// The new provider (no PIN shown).
    pub to: String,
    /// Secrets re-wrapped by this run.
    pub rewrapped: usize,
    /// Secrets already under the new key (a resumed rotation).
    pub already: usize,
    /// Whether this run resumed an interrupted rotation.
    pub resumed: bool,
}

/// The files of a data dir.
#[derive(Clone, Debug)]
pub struct DataDir {
    /// The directory.
    pub root: PathBuf,
    /// How to unlock the root key (passphrase sources); the environment and a prompt when
    /// not set.
    unlock: Option<Arc<Unlock>>,
    /// The PostgreSQL database given on the command line (`--database`), if any.
    database: Option<DatabaseUrl>,
}

/// A newly created access key, as written to the credentials file.
pub struct NewAccessKey {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: zeroize::Zeroizing<String>,
}

impl DataDir {
    /// The data dir at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir {
            root: root.into(),
            unlock: None,
            database: None,
        }
    }

    /// The same dir, with the PostgreSQL database given by `--database` (`init` creates the
    /// state there; other commands check it is the one the settings name and connect with it,
    /// password included).
    pub fn with_database(mut self, database: Option<DatabaseUrl>) -> Self {
        self.database = database;
        self
    }

    /// The PostgreSQL database of an initialised dir, `None` for SQLite: `--database` if given
    /// (which must be the one the settings name, passwords aside), else the settings' URL with
    /// `PGPASSWORD` when it has none.
    pub fn database_url(&self) -> Result<Option<DatabaseUrl>, DataDirError> {
        let settings = self.settings()?;
        match (&self.database, settings.database) {
            (None, None) => Ok(None),
            (Some(given), None) => Err(DataDirError::DatabaseMismatch {
                settings: "trent.db (SQLite)".into(),
                given: given.redacted(),
            }),
            (Some(given), Some(named)) if given.redacted() != named => {
                Err(DataDirError::DatabaseMismatch {
                    settings: named,
                    given: given.redacted(),
                })
            }
            (Some(given), Some(_)) => Ok(Some(given.clone())),
            (None, Some(named)) => {
                let url = DatabaseUrl::new(named);
                Ok(Some(match std::env::var("PGPASSWORD") {
                    Ok(password) if !password.is_empty() => url.with_password(&password),
                    _ => url,
                }))
            }
        }
    }

    /// Opens the store an initialised dir names: PostgreSQL ([`DataDir::database_url`]) or
    /// `trent.db`. The one place `serve`, the admin commands and `rotate-root-key` open it.
    pub async fn open_configured_store(&self) -> Result<Arc<dyn Store>, DataDirError> {
        if !self.is_initialised() {
            return Err(DataDirError::NotInitialised(self.root.clone()));
        }
        Ok(match self.database_url()? {
            Some(url) => Arc::new(PostgresStore::connect(url.expose()).await?),
            None => Arc::new(SqliteStore::open(&self.database_path())?),
        })
    }

    /// The same dir, unlocking its root key with `unlock`.
    pub fn with_unlock(mut self, unlock: Unlock) -> Self {
        self.unlock = Some(Arc::new(unlock));
        self
    }

    /// The secrets of the root key the settings name (not a pending rotation's).
    pub fn unseal_current(&self) -> Result<RootKeySecrets, DataDirError> {
        let settings = self.settings()?;
        Ok(trent_rootkey::unseal(
            &settings.root_key_provider()?,
            &self.root.join(settings.root_key_file_name()),
            &self.unlock(),
        )?)
    }

    fn unlock(&self) -> Arc<Unlock> {
        self.unlock
            .clone()
            .unwrap_or_else(|| Arc::new(Unlock::from_cli(None)))
    }

    /// `DIR/root-rotation.json`.
    pub fn rotation_path(&self) -> PathBuf {
        self.root.join("root-rotation.json")
    }

    /// The pending root key rotation, if one is under way.
    pub fn pending_rotation(&self) -> Result<Option<PendingRotation>, DataDirError> {
        let path = self.rotation_path();
        match fs::read(&path) {
            Ok(text) => serde_json::from_slice(&text)
                .map(Some)
                .map_err(|source| DataDirError::Invalid { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DataDirError::io("cannot read", &path)(e)),
        }
    }

    /// Loads the root key through the provider the settings name. While a rotation is
    /// under way, the key falls back to the new root key for what was already re-wrapped.
    /// Blocks (token calls, Argon2id): async callers use [`DataDir::load_root_key_async`].
    pub fn load_root_key(&self) -> Result<RootKey, DataDirError> {
        let settings = self.settings()?;
        let unlock = self.unlock();
        let spec = settings.root_key_provider()?;
        let current = trent_rootkey::load(
            &spec,
            &self.root.join(settings.root_key_file_name()),
            &unlock,
        )?;
        match self.pending_rotation()? {
            Some(p) if p.file != settings.root_key_file_name() => {
                let to: ProviderSpec = p.to.parse()?;
                let next = trent_rootkey::load(&to, &self.root.join(&p.file), &unlock)
                    .map_err(DataDirError::RotationKey)?;
                Ok(current.with_fallback(next))
            }
            _ => Ok(current),
        }
    }

    /// [`DataDir::load_root_key`] on the blocking pool.
    pub async fn load_root_key_async(&self) -> Result<RootKey, DataDirError> {
        let dir = self.clone();
        tokio::task::spawn_blocking(move || dir.load_root_key())
            .await
            .map_err(|source| DataDirError::Task {
                what: "loading the root key",
                source,
            })?
    }
    /// `settings.json`: the data dir's Region and first account.
    pub fn settings_path(&self) -> PathBuf {
        self.root.join("settings.json")
    }
    /// `root.key`: the root key (mode 0600; ARCHITECTURE.md §3).
    pub fn root_key_path(&self) -> PathBuf {
        self.root.join("root.key")
    }
    /// `trent.db`: the SQLite database.
    pub fn database_path(&self) -> PathBuf {
        self.root.join("trent.db")
    }
    /// `audit/`: the audit log's segments and checkpoints (ARCHITECTURE.md §7).
    pub fn audit_dir(&self) -> PathBuf {
        self.root.join("audit")
    }
    /// `credentials`: the AWS shared credentials file of the administrator access keys.
    pub fn credentials_path(&self) -> PathBuf {
        self.root.join("credentials")
    }
    /// `config`: the AWS config file (the Region of each profile).
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config")
    }

    /// Makes every file in the data dir mode 0600 and every directory 0700 (a copied, restored
    /// or migrated dir may come with looser modes; the 0700 dir alone protects nothing once a
    /// file is copied out). Returns one warning per path it had to tighten. Key files
    /// (`root.key`, `root-N.key`) are left to [`RootKey::load_file`], which refuses a key
    /// others can read rather than fixing it.
    pub fn secure_permissions(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let mut pending = vec![self.root.clone()];
        while let Some(dir) = pending.pop() {
            tighten(&dir, 0o700, &mut warnings);
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                // symlink_metadata: a link is not followed (nor tightened).
                let Ok(meta) = fs::symlink_metadata(&path) else {
                    continue;
                };
                if meta.is_dir() {
                    pending.push(path);
                } else if meta.is_file() && !is_key_file(&path) {
                    tighten(&path, 0o600, &mut warnings);
                }
            }
        }
        warnings
    }

    /// Whether the data dir was initialised (its settings file exists).
    pub fn is_initialised(&self) -> bool {
        self.settings_path().exists()
    }

    /// Reads the settings.
    pub fn settings(&self) -> Result<Settings, DataDirError> {
        let path = self.settings_path();
        let text = fs::read_to_string(&path).map_err(DataDirError::io("cannot read", &path))?;
        serde_json::from_str(&text).map_err(|source| DataDirError::Invalid { path, source })
    }

    /// Creates a data dir: root key, database, the first account with an administrator
    /// access key, and the AWS credentials/config files. Refuses an initialised dir.
    pub async fn init(
        &self,
        region: &str,
        account_id: &AccountId,
    ) -> Result<NewAccessKey, DataDirError> {
        self.init_with(region, account_id, &ProviderSpec::File)
            .await
    }

    /// [`DataDir::init`] with a root key provider (`trent init --root-key`): `file` writes
    /// `root.key` as always; `passphrase` and `pkcs11` seal fresh root key secrets into
    /// `root-0.sealed` (for `pkcs11`, creating the token key if its label is free). With
    /// [`DataDir::with_database`], the state is created in that PostgreSQL database (connected
    /// to and checked empty of accounts before any key is made) and the settings name it.
    pub async fn init_with(
        &self,
        region: &str,
        account_id: &AccountId,
        provider: &ProviderSpec,
    ) -> Result<NewAccessKey, DataDirError> {
        let key_file = trent_rootkey::file_name(provider, 0);
        if self.is_initialised()
            || self.root_key_path().exists()
            || self.root.join(&key_file).exists()
        {
            return Err(DataDirError::AlreadyInitialised(self.root.clone()));
        }
        // PostgreSQL first: an unreachable or foreign database stops init before a key exists.
        let postgres: Option<Arc<dyn Store>> = match &self.database {
            Some(url) => {
                let store = PostgresStore::connect(url.expose()).await?;
                if !store.list_accounts().await?.is_empty() {
                    return Err(DataDirError::DatabaseInUse(url.redacted()));
                }
                Some(Arc::new(store))
            }
            None => None,
        };
        fs::create_dir_all(&self.root).map_err(DataDirError::io("cannot create", &self.root))?;
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))
            .map_err(DataDirError::io("cannot restrict", &self.root))?;
        let root_key = if *provider == ProviderSpec::File {
            RootKey::create_file(self.root_key_path())?
        } else {
            let path = self.root.join(&key_file);
            let (spec, unlock) = (provider.clone(), self.unlock());
            tokio::task::spawn_blocking(move || -> Result<RootKey, DataDirError> {
                let secrets = RootKeySecrets::generate()?;
                trent_rootkey::seal(&spec, &path, &secrets, &unlock)?;
                Ok(secrets.root_key()?)
            })
            .await
            .map_err(|source| DataDirError::Task {
                what: "sealing the root key",
                source,
            })??
        };
        let store: Arc<dyn Store> = match postgres {
            Some(store) => store,
            None => Arc::new(SqliteStore::open(&self.database_path())?),
        };
        let now = SystemClock.now();
        let key = new_access_key()?;
        let wrapped = root_key.wrap(
            &access_key_secret_wrapping_aad(&key.access_key_id),
            key.secret_access_key.as_bytes(),
        )?;
        store
            .create_account(
                AccountRecord {
                    account_id: account_id.clone(),
                    created: now,
                },
                AccessKeyRecord {
                    access_key_id: key.access_key_id.clone(),
                    account_id: account_id.clone(),
                    principal_arn: format!("arn:aws:iam::{account_id}:root"),
                    wrapped_secret: wrapped,
                    status: AccessKeyStatus::Active,
                    created: now,
                },
            )
            .await?;
        write_private(
            &self.credentials_path(),
            &format!(
                "[trent]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                key.access_key_id,
                key.secret_access_key.as_str()
            ),
        )?;
        write_private(
            &self.config_path(),
            &format!("[profile trent]\nregion = {region}\n"),
        )?;
        // Written last: its presence means the dir is complete.
        let settings = Settings {
            format: 1,
            region: region.to_string(),
            first_account_id: account_id.to_string(),
            root_key: (*provider != ProviderSpec::File).then(|| provider.to_spec_string()),
            root_key_file: (*provider != ProviderSpec::File).then_some(key_file),
            root_key_generation: 0,
            database: self.database.as_ref().map(DatabaseUrl::redacted),
        };
        let json = serde_json::to_string_pretty(&settings)?;
        write_private(&self.settings_path(), &json)?;
        Ok(key)
    }
}

impl DataDir {
    /// Opens the store of an initialised dir, without the root key (a running server may
    /// hold the database open too: SQLite's WAL, or PostgreSQL, lets both work).
    async fn open_database(&self) -> Result<Arc<dyn Store>, DataDirError> {
        self.open_configured_store().await
    }

    /// Opens the root key and the store of an initialised dir.
    async fn open_store(&self) -> Result<(RootKey, Arc<dyn Store>), DataDirError> {
        if !self.is_initialised() {
            return Err(DataDirError::NotInitialised(self.root.clone()));
        }
        let root_key = self.load_root_key_async().await?;
        let store = self.open_configured_store().await?;
        Ok((root_key, store))
    }

    /// `trent admin create-account`: a new account with an administrator (root) access key,
    /// appended to `DIR/credentials` and `DIR/config` as profile `trent-ACCOUNT`. A running
    /// server learns of the account and key within a second (`directory_version`).
    pub async fn create_account(
        &self,
        account_id: &AccountId,
    ) -> Result<NewAccessKey, DataDirError> {
        let settings = self.settings()?;
        let (root_key, store) = self.open_store().await?;
        let now = SystemClock.now();
        let key = new_access_key()?;
        let wrapped = root_key.wrap(
            &access_key_secret_wrapping_aad(&key.access_key_id),
            key.secret_access_key.as_bytes(),
        )?;
        store
            .create_account(
                AccountRecord {
                    account_id: account_id.clone(),
                    created: now,
                },
                AccessKeyRecord {
                    access_key_id: key.access_key_id.clone(),
                    account_id: account_id.clone(),
                    principal_arn: format!("arn:aws:iam::{account_id}:root"),
                    wrapped_secret: wrapped,
                    status: AccessKeyStatus::Active,
                    created: now,
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::AlreadyExists => DataDirError::AccountExists(account_id.clone()),
                other => DataDirError::Store(other),
            })?;
        append_private(
            &self.credentials_path(),
            &format!(
                "\n[trent-{account_id}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                key.access_key_id,
                key.secret_access_key.as_str()
            ),
        )?;
        append_private(
            &self.config_path(),
            &format!(
                "\n[profile trent-{account_id}]\nregion = {}\n",
                settings.region
            ),
        )?;
        Ok(key)
    }

    /// `trent admin list-accounts`: every account with its access keys.
    pub async fn list_accounts(
        &self,
    ) -> Result<Vec<(AccountRecord, Vec<AccessKeyRecord>)>, DataDirError> {
        let store = self.open_database().await?;
        let keys = store.list_access_keys().await?;
        Ok(store
            .list_accounts()
            .await?
            .into_iter()
            .map(|a| {
                let mine = keys
                    .iter()
                    .filter(|k| k.account_id == a.account_id)
                    .cloned()
                    .collect();
                (a, mine)
            })
            .collect())
    }

    /// `trent admin revoke-key`: sets an access key Inactive. A running server stops
    /// accepting it within a second (or at once through IAM's UpdateAccessKey).
    pub async fn revoke_key(&self, access_key_id: &str) -> Result<AccessKeyRecord, DataDirError> {
        let store = self.open_database().await?;
        let mut key = store
            .list_access_keys()
            .await?
            .into_iter()
            .find(|k| k.access_key_id == access_key_id)
            .ok_or_else(|| DataDirError::NoAccessKey(access_key_id.to_string()))?;
        key.status = AccessKeyStatus::Inactive;
        store.put_access_key(key.clone()).await?;
        Ok(key)
    }
}

/// Whether `path` is a root key file (`root.key`, `root-N.key`), whose mode is checked, not
/// fixed.
fn is_key_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("root") && n.ends_with(".key"))
}

/// Appends to a private file (creating it with mode 0600 if needed) and syncs it.
/// Sets `path`'s mode to `mode` if it grants more, noting it in `warnings`.
fn tighten(path: &Path, mode: u32, warnings: &mut Vec<String>) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    let current = meta.permissions().mode() & 0o7777;
    if current & !mode == 0 {
        return;
    }
    match fs::set_permissions(path, fs::Permissions::from_mode(mode)) {
        Ok(()) => warnings.push(format!(
            "{} had mode {current:04o}; set to {mode:04o}",
            path.display()
        )),
        Err(e) => warnings.push(format!(
            "{} has mode {current:04o} and cannot be set to {mode:04o}: {e}",
            path.display()
        )),
    }
}

fn append_private(path: &Path, text: &str) -> Result<(), DataDirError> {
    let mut f = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(DataDirError::io("cannot open", path))?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(DataDirError::io("cannot write", path))
}

fn write_private(path: &Path, text: &str) -> Result<(), DataDirError> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(DataDirError::io("cannot create", path))?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(DataDirError::io("cannot write", path))
}

/// An access key in AWS's shape: `AKIA` + 16 of [A-Z2-7], and a 40-character secret.
pub fn new_access_key() -> Result<NewAccessKey, CryptoError> {
    const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET_ALPHABET: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let rnd = random_bytes(56)?;
    let bytes = rnd.as_bytes();
    let mut id = String::from("AKIA");
    id.extend(
        bytes[..16]
            .iter()
            .map(|b| ID_ALPHABET[(*b as usize) % 32] as char),
    );
    let secret: String = bytes[16..56]
        .iter()
        .map(|b| SECRET_ALPHABET[(*b as usize) % 64] as char)
        .collect();
    Ok(NewAccessKey {
        access_key_id: id,
        secret_access_key: zeroize::Zeroizing::new(secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLI prints these texts as they were when the errors were strings; the variants let
    /// callers tell the cases apart.
    #[tokio::test]
    async fn data_dir_errors_are_typed_and_say_what_failed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::new(tmp.path().join("data"));
        let account = AccountId::parse("111122223333").unwrap();

        let e = dir.settings().unwrap_err();
        assert!(
            matches!(
                e,
                DataDirError::Io {
                    action: "cannot read",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("cannot read "), "{e}");
        assert!(e.to_string().contains("settings.json"), "{e}");
        let e = dir.revoke_key("AKIAEXAMPLE").await.unwrap_err();
        assert!(matches!(e, DataDirError::NotInitialised(_)), "{e:?}");
        assert!(e.to_string().ends_with(" is not initialised"), "{e}");

        dir.init("us-east-1", &account).await.unwrap();
        let Err(e) = dir.init("us-east-1", &account).await else {
            panic!("a second init succeeded")
        };
        assert!(matches!(e, DataDirError::AlreadyInitialised(_)), "{e:?}");
        assert!(e.to_string().ends_with("refusing to overwrite it"), "{e}");
        let Err(e) = dir.create_account(&account).await else {
            panic!("an existing account was created again")
        };
        assert!(matches!(e, DataDirError::AccountExists(_)), "{e:?}");
        assert_eq!(e.to_string(), "account 111122223333 already exists");
        let e = dir.revoke_key("AKIAEXAMPLE").await.unwrap_err();
        assert_eq!(e.to_string(), "no access key AKIAEXAMPLE");

        std::fs::write(dir.settings_path(), "{").unwrap();
        let e = dir.settings().unwrap_err();
        assert!(matches!(e, DataDirError::Invalid { .. }), "{e:?}");
        assert!(e.to_string().contains("is not valid: "), "{e}");
    }
}
