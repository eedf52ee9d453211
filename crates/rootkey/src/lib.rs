//! Root key providers (ARCHITECTURE.md §3): where a data dir's root key lives at rest.
//!
//! - `file`: a key file in the data dir (mode 0600), `trent-crypto`'s format.
//! - `passphrase`: the root key's secrets sealed (AES-256-GCM) under a key derived from an
//!   operator passphrase with Argon2id (RFC 9106), so a copy of the data dir alone is useless.
//! - `pkcs11`: the secrets sealed by a non-extractable AES-256 key inside a PKCS#11 token
//!   (AES-GCM or AES key wrap with padding), so the data dir holds no usable root key.
//!
//! Sealed providers write one JSON file ([`SealedFile`]). The provider only guards the
//! secrets at rest: once unsealed at start, the [`RootKey`] works in memory as the key file's
//! does, so the hot path is the same whatever the provider.

#![forbid(unsafe_code)]

mod pkcs11;
pub mod spec;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use trent_crypto::root::{RootKey, RootKeySecrets};
use trent_crypto::{CryptoError, SecretBytes};
use zeroize::Zeroizing;

pub use spec::{PinSource, Pkcs11Uri, ProviderSpec};

/// Why a root key could not be made, sealed or unsealed. No message holds a secret.
#[derive(thiserror::Error, Debug)]
pub enum RootKeyError {
    /// The `--root-key` specification is malformed.
    #[error("invalid root key provider: {0}")]
    Spec(String),
    /// The PKCS#11 module, token or key failed.
    #[error("PKCS#11: {0}")]
    Pkcs11(String),
    /// The token refused the PIN.
    #[error("PKCS#11 token `{0}`: the PIN is incorrect (CKR_PIN_INCORRECT); nothing was changed")]
    WrongPin(String),
    /// The token could not open the sealed root key.
    #[error("PKCS#11: {0}")]
    Unseal(String),
    /// The passphrase does not open the sealed root key.
    #[error("the root key passphrase is wrong (or the sealed root key file was altered); nothing was changed")]
    WrongPassphrase,
    /// No passphrase was given, or it is unfit.
    #[error("root key passphrase: {0}")]
    Passphrase(String),
    /// The sealed root key file is missing, unreadable or malformed.
    #[error("sealed root key: {0}")]
    File(String),
    /// The key file provider, or a cryptographic step, failed.
    #[error("{0}")]
    Crypto(#[from] CryptoError),
}

/// Format of [`SealedFile`].
const SEALED_FORMAT: u32 = 1;
/// AAD prefix of every seal: binds the sealed bytes to their purpose and provider.
const SEAL_AAD: &[u8] = b"trent/v1/root-key-seal/";
/// Environment variable holding the root key passphrase (for services).
pub const PASSPHRASE_ENV: &str = "TRENT_ROOT_PASSPHRASE";
/// Shortest passphrase accepted when sealing.
pub const MIN_PASSPHRASE_CHARS: usize = 12;
/// Argon2id cost when sealing (RFC 9106 §4, second recommended option: 64 MiB, 3 passes,
/// 4 lanes). The file records it, so it can be raised later without breaking old files.
const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
const ARGON2_ITERATIONS: u32 = 3;
const ARGON2_LANES: u32 = 4;

/// A sealed root key at rest (JSON): which provider sealed it, how, and the sealed bytes.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SealedFile {
    /// Format of this file (1).
    pub format: u32,
    /// `pkcs11` or `passphrase`.
    pub provider: String,
    /// `CKM_AES_GCM` or `CKM_AES_KEY_WRAP_PAD` (pkcs11); `argon2id+aes-256-gcm` (passphrase).
    pub mechanism: String,
    /// The Argon2id parameters (passphrase only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kdf: Option<KdfParams>,
    /// The IV, hex (empty for key wrap; inside `ciphertext` for the passphrase).
    pub iv: String,
    /// The sealed secrets, hex.
    pub ciphertext: String,
}

/// Argon2id parameters of a passphrase seal.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// Random 16-byte salt, hex.
    pub salt: String,
}

/// What unlocking a provider may need from the operator: the passphrase, taken from (in this
/// order) the value given, a file, the `TRENT_ROOT_PASSPHRASE` variable, or a prompt on the
/// terminal. Read only when the provider asks.
#[derive(Default)]
pub struct Unlock {
    passphrase: Option<Zeroizing<String>>,
    passphrase_file: Option<PathBuf>,
    env: Option<&'static str>,
    prompt: bool,
}

/// Redacted: never shows a passphrase.
impl std::fmt::Debug for Unlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unlock")
            .field(
                "passphrase",
                &self.passphrase.as_ref().map(|_| "<redacted>"),
            )
            .field("passphrase_file", &self.passphrase_file)
            .field("env", &self.env)
            .field("prompt", &self.prompt)
            .finish()
    }
}

impl Unlock {
    /// For a command line: the passphrase from `passphrase_file`, else `TRENT_ROOT_PASSPHRASE`,
    /// else a prompt when standard input is a terminal.
    pub fn from_cli(passphrase_file: Option<PathBuf>) -> Self {
        Unlock {
            passphrase: None,
            passphrase_file,
            env: Some(PASSPHRASE_ENV),
            prompt: true,
        }
    }

    /// As [`Unlock::from_cli`], with another environment variable (a rotation's new
    /// passphrase must not be the old one's variable).
    pub fn from_cli_env(passphrase_file: Option<PathBuf>, env: &'static str) -> Self {
        Unlock {
            env: Some(env),
            ..Self::from_cli(passphrase_file)
        }
    }

    /// With the passphrase given (tests, embedding).
    pub fn with_passphrase(passphrase: &str) -> Self {
        Unlock {
            passphrase: Some(Zeroizing::new(passphrase.to_string())),
            ..Default::default()
        }
    }

    fn passphrase(&self, confirm: bool) -> Result<Zeroizing<String>, RootKeyError> {
        if let Some(p) = &self.passphrase {
            return Ok(p.clone());
        }
        if let Some(path) = &self.passphrase_file {
            let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| {
                RootKeyError::Passphrase(format!("cannot read {}: {e}", path.display()))
            })?);
            let line = text.strip_suffix('\n').unwrap_or(&text);
            return Ok(Zeroizing::new(line.to_string()));
        }
        if let Some(var) = self.env {
            if let Ok(p) = std::env::var(var) {
                return Ok(Zeroizing::new(p));
            }
        }
        if self.prompt && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            let p = Zeroizing::new(
                rpassword::prompt_password("Root key passphrase: ")
                    .map_err(|e| RootKeyError::Passphrase(format!("cannot read it: {e}")))?,
            );
            if confirm {
                let again = Zeroizing::new(
                    rpassword::prompt_password("Root key passphrase (again): ")
                        .map_err(|e| RootKeyError::Passphrase(format!("cannot read it: {e}")))?,
                );
                if again != p {
                    return Err(RootKeyError::Passphrase("the two entries differ".into()));
                }
            }
            return Ok(p);
        }
        Err(RootKeyError::Passphrase(format!(
            "none given: use --passphrase-file, {} or a terminal",
            self.env.unwrap_or(PASSPHRASE_ENV)
        )))
    }
}

/// The file name a provider's root key gets in the data dir: `root.key` for the first file
/// key (as every data dir before providers), otherwise `root-N.key` or `root-N.sealed` for
/// the key of rotation generation `N`.
pub fn file_name(spec: &ProviderSpec, generation: u32) -> String {
    match (spec, generation) {
        (ProviderSpec::File, 0) => "root.key".into(),
        (ProviderSpec::File, n) => format!("root-{n}.key"),
        (_, n) => format!("root-{n}.sealed"),
    }
}

/// Seals `secrets` with the provider into a new file at `path` (never overwriting; mode
/// 0600; fsynced with its directory). For `pkcs11`, the token key is created when its label
/// is free. Blocks (token calls, Argon2id): call it on a blocking thread.
pub fn seal(
    spec: &ProviderSpec,
    path: &Path,
    secrets: &RootKeySecrets,
    unlock: &Unlock,
) -> Result<(), RootKeyError> {
    let plain = secrets.to_bytes();
    let sealed = match spec {
        ProviderSpec::File => return Ok(secrets.create_file(path)?),
        ProviderSpec::Passphrase => {
            let passphrase = unlock.passphrase(true)?;
            if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
                return Err(RootKeyError::Passphrase(format!(
                    "it must have at least {MIN_PASSPHRASE_CHARS} characters"
                )));
            }
            let salt = trent_crypto::random::random_array::<16>()?;
            let kdf = KdfParams {
                memory_kib: ARGON2_MEMORY_KIB,
                iterations: ARGON2_ITERATIONS,
                parallelism: ARGON2_LANES,
                salt: hex::encode(salt),
            };
            let key = derive(&passphrase, &kdf)?;
            let ciphertext = key.wrap(&aad(spec), &plain)?;
            SealedFile {
                format: SEALED_FORMAT,
                provider: spec.name().into(),
                mechanism: "argon2id+aes-256-gcm".into(),
                kdf: Some(kdf),
                iv: String::new(),
                ciphertext: hex::encode(ciphertext),
            }
        }
        ProviderSpec::Pkcs11(uri) => {
            let token = pkcs11::Token::open(uri, true)?;
            let (iv, ciphertext) = token.seal(uri, &aad(spec), &plain)?;
            // Never trust a seal that does not open: a token that cannot decrypt what it just
            // encrypted would leave a data dir without a root key.
            let back = token.unseal(uri, token.mechanism(), &iv, &aad(spec), &ciphertext)?;
            if back.as_slice() != plain.as_slice() {
                return Err(RootKeyError::Pkcs11(
                    "the token's decryption does not give back what it encrypted".into(),
                ));
            }
            SealedFile {
                format: SEALED_FORMAT,
                provider: spec.name().into(),
                mechanism: token.mechanism().name().into(),
                kdf: None,
                iv: hex::encode(iv),
                ciphertext: hex::encode(ciphertext),
            }
        }
    };
    let json = serde_json::to_vec_pretty(&sealed)
        .map_err(|e| RootKeyError::File(format!("cannot encode: {e}")))?;
    write_new_private(path, &json)
}

/// Opens the root key secrets the provider keeps at `path`. Blocks (token calls,
/// Argon2id): call it on a blocking thread.
pub fn unseal(
    spec: &ProviderSpec,
    path: &Path,
    unlock: &Unlock,
) -> Result<RootKeySecrets, RootKeyError> {
    if *spec == ProviderSpec::File {
        return Ok(RootKeySecrets::load_file(path)?);
    }
    let shown = path.display();
    let text = fs::read(path).map_err(|e| RootKeyError::File(format!("{shown}: {e}")))?;
    let sealed: SealedFile = serde_json::from_slice(&text)
        .map_err(|e| RootKeyError::File(format!("{shown}: not a sealed root key: {e}")))?;
    if sealed.format != SEALED_FORMAT || sealed.provider != spec.name() {
        return Err(RootKeyError::File(format!(
            "{shown}: format {} of provider `{}`, expected format {SEALED_FORMAT} of `{}`",
            sealed.format,
            sealed.provider,
            spec.name()
        )));
    }
    let unhex = |what: &str, v: &str| {
        hex::decode(v).map_err(|_| RootKeyError::File(format!("{shown}: `{what}` is not hex")))
    };
    let ciphertext = unhex("ciphertext", &sealed.ciphertext)?;
    let plain = match spec {
        ProviderSpec::File => return Err(RootKeyError::Spec("unreachable".into())),
        ProviderSpec::Passphrase => {
            let kdf = sealed
                .kdf
                .as_ref()
                .ok_or_else(|| RootKeyError::File(format!("{shown}: no `kdf`")))?;
            let key = derive(&unlock.passphrase(false)?, kdf)?;
            Zeroizing::new(
                key.unwrap(&aad(spec), &ciphertext)
                    .map_err(|_| RootKeyError::WrongPassphrase)?
                    .as_bytes()
                    .to_vec(),
            )
        }
        ProviderSpec::Pkcs11(uri) => {
            let mechanism =
                pkcs11::SealMechanism::from_name(&sealed.mechanism).ok_or_else(|| {
                    RootKeyError::File(format!("{shown}: unknown mechanism `{}`", sealed.mechanism))
                })?;
            let token = pkcs11::Token::open(uri, false)?;
            token.unseal(
                uri,
                mechanism,
                &unhex("iv", &sealed.iv)?,
                &aad(spec),
                &ciphertext,
            )?
        }
    };
    Ok(RootKeySecrets::from_bytes(&plain)?)
}

/// Unseals and builds the [`RootKey`] (see [`unseal`]).
pub fn load(spec: &ProviderSpec, path: &Path, unlock: &Unlock) -> Result<RootKey, RootKeyError> {
    Ok(unseal(spec, path, unlock)?.root_key()?)
}

fn aad(spec: &ProviderSpec) -> Vec<u8> {
    [SEAL_AAD, spec.name().as_bytes()].concat()
}

/// The passphrase's sealing key: Argon2id (v1.3) with the file's parameters.
fn derive(passphrase: &str, kdf: &KdfParams) -> Result<RootKey, RootKeyError> {
    let salt = hex::decode(&kdf.salt)
        .map_err(|_| RootKeyError::File("the Argon2id salt is not hex".into()))?;
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|e| RootKeyError::File(format!("bad Argon2id parameters: {e}")))?;
    let mut out = Zeroizing::new(vec![0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &salt, &mut out)
        .map_err(|e| RootKeyError::Passphrase(format!("Argon2id failed: {e}")))?;
    Ok(RootKey::from_secret(SecretBytes::from(out))?)
}

/// Creates `path` with `contents`, mode 0600, never overwriting; fsyncs file and directory.
fn write_new_private(path: &Path, contents: &[u8]) -> Result<(), RootKeyError> {
    let shown = path.display();
    let io = |e: std::io::Error| RootKeyError::File(format!("{shown}: {e}"));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(path);
        return Err(io(e));
    }
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "correct horse battery staple";

    #[test]
    fn passphrase_seals_and_only_the_passphrase_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root-0.sealed");
        let secrets = RootKeySecrets::generate().unwrap();
        seal(
            &ProviderSpec::Passphrase,
            &path,
            &secrets,
            &Unlock::with_passphrase(GOOD),
        )
        .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let sealed: SealedFile = serde_json::from_str(&text).unwrap();
        assert_eq!(sealed.provider, "passphrase");
        assert_eq!(sealed.kdf.as_ref().unwrap().memory_kib, 65536);
        // The secrets are nowhere in the file, in hex or raw.
        let raw = secrets.to_bytes();
        assert!(!text.contains(&hex::encode(&raw[..32])));
        assert!(!text.contains(&hex::encode(&raw[32..])));

        let opened = unseal(
            &ProviderSpec::Passphrase,
            &path,
            &Unlock::with_passphrase(GOOD),
        )
        .unwrap();
        assert_eq!(opened.to_bytes(), secrets.to_bytes());
        assert!(matches!(
            unseal(
                &ProviderSpec::Passphrase,
                &path,
                &Unlock::with_passphrase("correct horse battery stapler"),
            ),
            Err(RootKeyError::WrongPassphrase)
        ));
        // Never overwrites.
        assert!(seal(
            &ProviderSpec::Passphrase,
            &path,
            &secrets,
            &Unlock::with_passphrase(GOOD)
        )
        .is_err());
    }

    #[test]
    fn short_or_missing_passphrases_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = RootKeySecrets::generate().unwrap();
        let path = dir.path().join("a.sealed");
        assert!(matches!(
            seal(
                &ProviderSpec::Passphrase,
                &path,
                &secrets,
                &Unlock::with_passphrase("short")
            ),
            Err(RootKeyError::Passphrase(_))
        ));
        assert!(!path.exists());
        let none = Unlock {
            env: Some("TRENT_TEST_UNSET_PASSPHRASE_VARIABLE"),
            ..Default::default()
        };
        assert!(matches!(
            seal(&ProviderSpec::Passphrase, &path, &secrets, &none),
            Err(RootKeyError::Passphrase(_))
        ));
    }

    #[test]
    fn passphrase_file_is_read_without_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pass");
        fs::write(&file, format!("{GOOD}\n")).unwrap();
        let unlock = Unlock::from_cli(Some(file));
        assert_eq!(unlock.passphrase(false).unwrap().as_str(), GOOD);
    }

    #[test]
    fn a_tampered_seal_does_not_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root-0.sealed");
        seal(
            &ProviderSpec::Passphrase,
            &path,
            &RootKeySecrets::generate().unwrap(),
            &Unlock::with_passphrase(GOOD),
        )
        .unwrap();
        let mut sealed: SealedFile = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let mut ct = hex::decode(&sealed.ciphertext).unwrap();
        ct[20] ^= 1;
        sealed.ciphertext = hex::encode(ct);
        fs::remove_file(&path).unwrap();
        fs::write(&path, serde_json::to_vec(&sealed).unwrap()).unwrap();
        assert!(matches!(
            unseal(
                &ProviderSpec::Passphrase,
                &path,
                &Unlock::with_passphrase(GOOD)
            ),
            Err(RootKeyError::WrongPassphrase)
        ));
        // A sealed file of another provider is refused by name, not by a failed decryption.
        let spec: ProviderSpec = "pkcs11:token=t;object=o?module-path=/nonexistent.so"
            .parse()
            .unwrap();
        assert!(matches!(
            unseal(&spec, &path, &Unlock::default()),
            Err(RootKeyError::File(_))
        ));
    }

    #[test]
    fn file_names_by_provider_and_generation() {
        assert_eq!(file_name(&ProviderSpec::File, 0), "root.key");
        assert_eq!(file_name(&ProviderSpec::File, 3), "root-3.key");
        assert_eq!(file_name(&ProviderSpec::Passphrase, 0), "root-0.sealed");
    }
}
