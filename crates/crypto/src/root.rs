//! The root key: an AES-256 key that wraps all key material at rest (ARCHITECTURE.md §3).
//!
//! The default provider is a key file made by `trent init`: mode 0600, refused when group
//! or others have any access. Other providers (passphrase, PKCS#11 token: crate
//! `trent-rootkey`) seal a [`RootKeySecrets`] and build the [`RootKey`] from it.
//!
//! A root key has two 32-byte secrets: the **wrapping key** (AES-256-GCM, wraps every stored
//! secret) and the **derivation seed** (HKDF input of the audit chain's keys). A key file of
//! format 1 (`TRENTRK1`, every data dir made before providers existed) holds one secret that
//! is both; format 2 (`TRENTRK2`) holds the two. Root key rotation replaces the wrapping key
//! and keeps the seed, so the audit chain keeps verifying (ARCHITECTURE.md §3).
//!
//! Wrapped format, version 1: `version (1 = 0x01) | IV (12, random) | AES-256-GCM ciphertext | tag (16)`,
//! with AAD = version byte ‖ caller's AAD. The caller's AAD binds the value to its owner
//! (see [`material_wrapping_aad`]) so a wrapped blob cannot be moved to another key.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use aws_lc_rs::aead::LessSafeKey;
use aws_lc_rs::hkdf;
use zeroize::Zeroizing;

use crate::aes_gcm::{self, IV_LEN, KEY_LEN, TAG_LEN};
use crate::context::put_prefixed;
use crate::random;
use crate::{CryptoError, SecretBytes};

/// Length of the root key in bytes (AES-256).
pub const ROOT_KEY_LEN: usize = KEY_LEN;
/// Version byte of the wrapped format produced by [`RootKey::wrap`].
pub const WRAP_VERSION_1: u8 = 0x01;
/// Bytes a wrapped value adds to its plaintext (version, IV, tag).
pub const WRAP_OVERHEAD: usize = 1 + IV_LEN + TAG_LEN;
/// The magic that starts a root key file, which names its format version.
pub const ROOT_KEY_FILE_MAGIC: &[u8; 8] = b"TRENTRK1";
/// Exact length of a root key file: magic then the key.
pub const ROOT_KEY_FILE_LEN: usize = ROOT_KEY_FILE_MAGIC.len() + ROOT_KEY_LEN;
/// The magic of a format-2 root key file: wrapping key then derivation seed.
pub const ROOT_KEY_FILE_MAGIC_2: &[u8; 8] = b"TRENTRK2";
/// Length of [`RootKeySecrets::to_bytes`]: wrapping key then derivation seed.
pub const ROOT_KEY_SECRETS_LEN: usize = 2 * ROOT_KEY_LEN;
/// Exact length of a format-2 root key file.
pub const ROOT_KEY_FILE_2_LEN: usize = ROOT_KEY_FILE_MAGIC_2.len() + ROOT_KEY_SECRETS_LEN;

/// Purpose label of [`material_wrapping_aad`].
const MATERIAL_PURPOSE: &[u8] = b"trent/v1/key-material";
/// Purpose label of [`import_parameters_aad`].
const IMPORT_PURPOSE: &[u8] = b"trent/v1/import-parameters";
/// Purpose label of [`access_key_secret_wrapping_aad`].
const ACCESS_KEY_PURPOSE: &[u8] = b"trent/v1/access-key-secret";

/// HKDF-SHA256 salt of the keys derived from the root key ([`RootKey::derive_audit_mac_key`]).
const DERIVATION_SALT: &[u8] = b"trent/v1/root-key-derivation";
/// HKDF info of the audit chain's HMAC-SHA256 key.
const AUDIT_MAC_INFO: &[u8] = b"trent/v1/audit-chain-hmac-sha256";
/// HKDF info of [`RootKey::derive_imported_material_id_key`].
const IMPORTED_MATERIAL_ID_INFO: &[u8] = b"trent/v1/imported-key-material-id";
/// HKDF info of the audit checkpoints' Ed25519 seed.
const AUDIT_SIGNING_INFO: &[u8] = b"trent/v1/audit-checkpoint-ed25519-seed";

/// Length of each derived secret (HMAC-SHA256 key, Ed25519 seed).
pub const DERIVED_KEY_LEN: usize = 32;

/// The root key. Only the aws-lc key schedule is kept, which aws-lc cleanses when freed;
/// every intermediate copy of the raw key is zeroized. `Debug` is redacted.
pub struct RootKey {
    aead: LessSafeKey,
    /// HKDF-SHA256 PRK of the derivation seed, for keys derived for other purposes, so the
    /// wrapping key itself only ever wraps.
    derive: hkdf::Prk,
    /// During a root key rotation: the other root key, tried by [`RootKey::unwrap`] when this
    /// one fails (a stored secret is under either until the rotation completes).
    other: Option<Box<RootKey>>,
}

/// The secrets behind a [`RootKey`], for providers to seal and unseal: the wrapping key and
/// the derivation seed. Zeroized on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct RootKeySecrets {
    bytes: Zeroizing<[u8; ROOT_KEY_SECRETS_LEN]>,
}

impl RootKeySecrets {
    /// Fresh, independent random wrapping key and derivation seed.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; ROOT_KEY_SECRETS_LEN]);
        random::fill(&mut bytes[..])?;
        Ok(Self { bytes })
    }

    /// A format-1 key: one 32-byte secret that is both wrapping key and derivation seed.
    pub fn from_single(key: &[u8; ROOT_KEY_LEN]) -> Self {
        let mut bytes = Zeroizing::new([0u8; ROOT_KEY_SECRETS_LEN]);
        bytes[..ROOT_KEY_LEN].copy_from_slice(key);
        bytes[ROOT_KEY_LEN..].copy_from_slice(key);
        Self { bytes }
    }

    /// From [`RootKeySecrets::to_bytes`] (64 bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array: &[u8; ROOT_KEY_SECRETS_LEN] = bytes
            .try_into()
            .map_err(|_| CryptoError::InvalidKeyMaterial("root key secrets must be 64 bytes"))?;
        Ok(Self {
            bytes: Zeroizing::new(*array),
        })
    }

    /// Wrapping key then derivation seed (64 bytes), for a provider to seal.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.bytes.to_vec())
    }

    /// The same derivation seed with a fresh wrapping key: what root key rotation moves to.
    pub fn with_new_wrapping_key(&self) -> Result<Self, CryptoError> {
        let mut next = self.clone();
        random::fill(&mut next.bytes[..ROOT_KEY_LEN])?;
        Ok(next)
    }

    /// Whether both secrets are the same (a format-1 key).
    fn is_single(&self) -> bool {
        self.bytes[..ROOT_KEY_LEN] == self.bytes[ROOT_KEY_LEN..]
    }

    /// The root key these secrets make.
    pub fn root_key(&self) -> Result<RootKey, CryptoError> {
        let (wrap, seed) = self.bytes.split_at(ROOT_KEY_LEN);
        let wrap: &[u8; ROOT_KEY_LEN] = wrap
            .try_into()
            .map_err(|_| CryptoError::Internal("root key secrets layout"))?;
        RootKey::from_parts(wrap, seed)
    }

    /// Writes these secrets to a new key file at `path` (mode 0600, fsynced, never
    /// overwriting): format 1 when wrapping key and seed are one secret, else format 2.
    pub fn create_file(&self, path: impl AsRef<Path>) -> Result<(), CryptoError> {
        let path = path.as_ref();
        let mut contents = Zeroizing::new(Vec::with_capacity(ROOT_KEY_FILE_2_LEN));
        if self.is_single() {
            contents.extend_from_slice(ROOT_KEY_FILE_MAGIC);
            contents.extend_from_slice(&self.bytes[..ROOT_KEY_LEN]);
        } else {
            contents.extend_from_slice(ROOT_KEY_FILE_MAGIC_2);
            contents.extend_from_slice(&self.bytes[..]);
        }
        create_private_file(path, &contents)
    }

    /// Reads a key file of format 1 or 2, with the checks of [`RootKey::load_file`].
    pub fn load_file(path: impl AsRef<Path>) -> Result<Self, CryptoError> {
        let path = path.as_ref();
        let contents = read_key_file(path)?;
        let shown = || path.display().to_string();
        let (magic, body) = contents
            .split_first_chunk::<8>()
            .ok_or_else(|| CryptoError::RootKeyFile(format!("{}: file is truncated", shown())))?;
        if magic == ROOT_KEY_FILE_MAGIC && body.len() == ROOT_KEY_LEN {
            let key: &[u8; ROOT_KEY_LEN] = body
                .try_into()
                .map_err(|_| CryptoError::Internal("root key file layout"))?;
            Ok(Self::from_single(key))
        } else if magic == ROOT_KEY_FILE_MAGIC_2 && body.len() == ROOT_KEY_SECRETS_LEN {
            Self::from_bytes(body)
        } else if magic == ROOT_KEY_FILE_MAGIC || magic == ROOT_KEY_FILE_MAGIC_2 {
            Err(CryptoError::RootKeyFile(format!(
                "{}: wrong length {} for its format",
                shown(),
                contents.len()
            )))
        } else {
            Err(CryptoError::RootKeyFile(format!(
                "{}: not a Trent root key file (unknown magic or version)",
                shown()
            )))
        }
    }
}

impl fmt::Debug for RootKeySecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKeySecrets(<redacted>)")
    }
}

/// HKDF output length for [`RootKey::derive`].
struct Len32;

impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        DERIVED_KEY_LEN
    }
}

impl RootKey {
    /// A fresh random root key.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; ROOT_KEY_LEN]);
        random::fill(&mut bytes[..])?;
        Self::from_array(&bytes)
    }

    /// A root key from 32 secret bytes, for providers other than the key file.
    pub fn from_secret(secret: SecretBytes) -> Result<Self, CryptoError> {
        let bytes: &[u8; ROOT_KEY_LEN] = secret
            .as_bytes()
            .try_into()
            .map_err(|_| CryptoError::InvalidKeyMaterial("a root key must be 32 bytes"))?;
        Self::from_array(bytes)
    }

    fn from_array(bytes: &[u8; ROOT_KEY_LEN]) -> Result<Self, CryptoError> {
        Self::from_parts(bytes, &bytes[..])
    }

    fn from_parts(wrap: &[u8; ROOT_KEY_LEN], seed: &[u8]) -> Result<Self, CryptoError> {
        Ok(Self {
            aead: aes_gcm::key(wrap)?,
            derive: hkdf::Salt::new(hkdf::HKDF_SHA256, DERIVATION_SALT).extract(seed),
            other: None,
        })
    }

    /// This key, falling back to `other` to unwrap what this one cannot: the state of a data
    /// dir while a root key rotation is under way. Wrapping still uses this key only.
    pub fn with_fallback(mut self, other: RootKey) -> Self {
        self.other = Some(Box::new(other));
        self
    }

    /// The audit chain's HMAC-SHA256 key: HKDF-SHA256 (RFC 5869) of the root key, with a
    /// fixed salt and info `trent/v1/audit-chain-hmac-sha256`. The same root key always gives
    /// the same key, so a restarted server and `trent audit verify` check the same chain.
    pub fn derive_audit_mac_key(&self) -> Result<SecretBytes, CryptoError> {
        self.derive(AUDIT_MAC_INFO)
    }

    /// The 32-byte seed of the Ed25519 key pair that signs audit checkpoints: HKDF-SHA256 of
    /// the root key with info `trent/v1/audit-checkpoint-ed25519-seed`. Its public key can be
    /// kept elsewhere to check checkpoints without the root key.
    pub fn derive_audit_signing_seed(&self) -> Result<SecretBytes, CryptoError> {
        self.derive(AUDIT_SIGNING_INFO)
    }

    /// The HMAC-SHA256 key that names imported key material (its key material id, computed
    /// from the key id and the material as AWS does, so a reimport of the same material is
    /// recognised): HKDF-SHA256 of the root key with info `trent/v1/imported-key-material-id`.
    /// It comes from the derivation seed, so root key rotation keeps every id.
    pub fn derive_imported_material_id_key(&self) -> Result<SecretBytes, CryptoError> {
        self.derive(IMPORTED_MATERIAL_ID_INFO)
    }

    fn derive(&self, info: &[u8]) -> Result<SecretBytes, CryptoError> {
        let mut out = Zeroizing::new(vec![0u8; DERIVED_KEY_LEN]);
        self.derive
            .expand(&[info], Len32)
            .and_then(|okm| okm.fill(&mut out[..]))
            .map_err(|_| CryptoError::Internal("HKDF-SHA256 failed"))?;
        Ok(SecretBytes::from(out))
    }

    /// Generates a root key and writes it to a new file at `path` (`trent init`).
    ///
    /// Refuses to overwrite ([`CryptoError::RootKeyFileExists`]). On Unix the file gets
    /// mode 0600. The file and its directory are fsynced before this returns; on failure
    /// the partial file is removed.
    pub fn create_file(path: impl AsRef<Path>) -> Result<Self, CryptoError> {
        let mut key = Zeroizing::new([0u8; ROOT_KEY_LEN]);
        random::fill(&mut key[..])?;
        RootKeySecrets::from_single(&key).create_file(path)?;
        Self::from_array(&key)
    }

    /// Loads a root key file written by [`RootKey::create_file`].
    ///
    /// Refuses ([`CryptoError::InsecureRootKeyFile`]) a file that is not a regular file or,
    /// on Unix, that grants group or others any permission bit. A wrong length or magic is
    /// [`CryptoError::RootKeyFile`]. The checks use the opened file, not the path again.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Self, CryptoError> {
        RootKeySecrets::load_file(path)?.root_key()
    }

    /// Encrypts `plaintext` bound to `aad` (AES-256-GCM, random IV).
    ///
    /// Output: `0x01 | IV (12) | ciphertext | tag (16)`.
    pub fn wrap(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.wrap_with_iv(random::random_array()?, aad, plaintext)
    }

    /// [`RootKey::wrap`] with a given IV; tests pin exact outputs with it.
    pub(crate) fn wrap_with_iv(
        &self,
        iv: [u8; IV_LEN],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let mut out = Zeroizing::new(Vec::with_capacity(WRAP_OVERHEAD + plaintext.len()));
        out.push(WRAP_VERSION_1);
        out.extend_from_slice(&iv);
        aes_gcm::seal_append(&self.aead, iv, &effective_aad(aad), plaintext, &mut out)?;
        Ok(std::mem::take(&mut *out))
    }

    /// Decrypts a value made by [`RootKey::wrap`] with the same `aad`.
    ///
    /// Any failure (wrong root key, wrong AAD, tampering, truncation, unknown version) is
    /// [`CryptoError::UnwrapFailed`].
    pub fn unwrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<SecretBytes, CryptoError> {
        match self.unwrap_own(aad, wrapped) {
            Err(CryptoError::UnwrapFailed) => match &self.other {
                Some(other) => other.unwrap(aad, wrapped),
                None => Err(CryptoError::UnwrapFailed),
            },
            done => done,
        }
    }

    /// [`RootKey::unwrap`] with this key only (no fallback): root key rotation asks whether
    /// a secret is already under the new key.
    pub fn unwrap_own(&self, aad: &[u8], wrapped: &[u8]) -> Result<SecretBytes, CryptoError> {
        let (&version, rest) = wrapped.split_first().ok_or(CryptoError::UnwrapFailed)?;
        if version != WRAP_VERSION_1 {
            return Err(CryptoError::UnwrapFailed);
        }
        let (iv, ciphertext_and_tag) = rest
            .split_first_chunk::<IV_LEN>()
            .ok_or(CryptoError::UnwrapFailed)?;
        if ciphertext_and_tag.len() < TAG_LEN {
            return Err(CryptoError::UnwrapFailed);
        }
        aes_gcm::open(&self.aead, *iv, &effective_aad(aad), ciphertext_and_tag)
            .map(SecretBytes::from)
            .ok_or(CryptoError::UnwrapFailed)
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey(<redacted>)")
    }
}

/// The AAD that binds a KMS key's wrapped material to that key and material version
/// (ARCHITECTURE.md §3: key ARN ‖ key material id), length-prefixed and labelled by purpose.
pub fn material_wrapping_aad(key_arn: &str, key_material_id: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + MATERIAL_PURPOSE.len() + key_arn.len() + 32);
    put_prefixed(&mut out, MATERIAL_PURPOSE);
    put_prefixed(&mut out, key_arn.as_bytes());
    put_prefixed(&mut out, key_material_id);
    out
}

/// The AAD that binds a wrapped SigV4 secret access key to its access key id.
pub fn access_key_secret_wrapping_aad(access_key_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + ACCESS_KEY_PURPOSE.len() + access_key_id.len());
    put_prefixed(&mut out, ACCESS_KEY_PURPOSE);
    put_prefixed(&mut out, access_key_id.as_bytes());
    out
}

/// The AAD that binds an import parameter set (GetParametersForImport) to its KMS key:
/// `purpose` is `b"wrapping-key"` for the stored wrapping private key and `b"import-token"`
/// for the token handed to the client, so neither can stand in for the other, nor move to
/// another key or parameter set.
pub fn import_parameters_aad(purpose: &[u8], key_arn: &str, token_id: &[u8; 16]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(16 + IMPORT_PURPOSE.len() + purpose.len() + key_arn.len() + 16);
    put_prefixed(&mut out, IMPORT_PURPOSE);
    put_prefixed(&mut out, purpose);
    put_prefixed(&mut out, key_arn.as_bytes());
    put_prefixed(&mut out, token_id);
    out
}

/// The AAD given to AES-GCM: the wrapped format's version byte, then the caller's AAD.
fn effective_aad(aad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + aad.len());
    out.push(WRAP_VERSION_1);
    out.extend_from_slice(aad);
    out
}

/// Creates `path` (never overwriting) with mode 0600 and `contents`, durably; on failure the
/// partial file is removed.
fn create_private_file(path: &Path, contents: &[u8]) -> Result<(), CryptoError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            CryptoError::RootKeyFileExists(path.display().to_string())
        } else {
            io_error(path, e)
        }
    })?;
    let written = write_durably(&mut file, path, contents);
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(path);
        return Err(io_error(path, e));
    }
    Ok(())
}

/// Reads a root key file: refused ([`CryptoError::InsecureRootKeyFile`]) if it is not a
/// regular file or, on Unix, grants group or others any permission bit; a length of neither
/// format is [`CryptoError::RootKeyFile`]. The checks use the opened file, not the path again.
fn read_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let shown = || path.display().to_string();
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Err(CryptoError::InsecureRootKeyFile(format!(
            "{}: not a regular file",
            shown()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(CryptoError::InsecureRootKeyFile(format!(
                "{}: mode {mode:04o} gives group or others access; it must be 0600 or stricter (chmod 600)",
                shown()
            )));
        }
    }
    if meta.len() != ROOT_KEY_FILE_LEN as u64 && meta.len() != ROOT_KEY_FILE_2_LEN as u64 {
        return Err(CryptoError::RootKeyFile(format!(
            "{}: expected {ROOT_KEY_FILE_LEN} or {ROOT_KEY_FILE_2_LEN} bytes, found {}",
            shown(),
            meta.len()
        )));
    }
    let mut contents = Zeroizing::new(Vec::with_capacity(ROOT_KEY_FILE_2_LEN + 1));
    file.take(ROOT_KEY_FILE_2_LEN as u64 + 1)
        .read_to_end(&mut contents)
        .map_err(|e| io_error(path, e))?;
    if contents.len() as u64 != meta.len() {
        return Err(CryptoError::RootKeyFile(format!(
            "{}: file changed size while read",
            shown()
        )));
    }
    Ok(contents)
}

/// Writes `contents`, fixes the mode, and fsyncs the file and its directory.
fn write_durably(file: &mut File, path: &Path, contents: &[u8]) -> io::Result<()> {
    #[cfg(unix)]
    {
        // The umask may have narrowed the mode further; make it exactly 0600.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents)?;
    file.sync_all()?;
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn io_error(path: &Path, source: io::Error) -> CryptoError {
    CryptoError::RootKeyIo {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RootKey {
        RootKey::generate().unwrap()
    }

    #[test]
    fn audit_keys_are_deterministic_distinct_and_not_the_root_key() {
        let raw = [7u8; ROOT_KEY_LEN];
        let a = RootKey::from_secret(SecretBytes::copy_from_slice(&raw)).unwrap();
        let b = RootKey::from_secret(SecretBytes::copy_from_slice(&raw)).unwrap();
        let mac = a.derive_audit_mac_key().unwrap();
        let seed = a.derive_audit_signing_seed().unwrap();
        assert_eq!(mac.len(), DERIVED_KEY_LEN);
        assert_eq!(mac.as_bytes(), b.derive_audit_mac_key().unwrap().as_bytes());
        assert_eq!(
            seed.as_bytes(),
            b.derive_audit_signing_seed().unwrap().as_bytes()
        );
        assert_ne!(mac.as_bytes(), seed.as_bytes());
        assert_ne!(mac.as_bytes(), &raw[..]);
        // HKDF-SHA256 (RFC 5869) with the documented salt and info, so the derivation is pinned.
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"trent/v1/root-key-derivation").extract(&raw);
        let mut expected = [0u8; 32];
        prk.expand(&[b"trent/v1/audit-chain-hmac-sha256"], Len32)
            .unwrap()
            .fill(&mut expected)
            .unwrap();
        assert_eq!(mac.as_bytes(), &expected[..]);
        let other = key();
        assert_ne!(
            mac.as_bytes(),
            other.derive_audit_mac_key().unwrap().as_bytes()
        );
    }

    #[test]
    fn wrap_round_trip() {
        let k = key();
        for pt in [&b""[..], b"x", &[7u8; 32], &[1u8; 1000]] {
            let w = k.wrap(b"aad", pt).unwrap();
            assert_eq!(w.len(), pt.len() + WRAP_OVERHEAD);
            assert_eq!(w[0], WRAP_VERSION_1);
            assert_eq!(k.unwrap(b"aad", &w).unwrap().as_bytes(), pt);
        }
    }

    #[test]
    fn wrap_uses_fresh_ivs() {
        let k = key();
        assert_ne!(k.wrap(b"", b"same").unwrap(), k.wrap(b"", b"same").unwrap());
    }

    #[test]
    fn wrong_aad_fails() {
        let k = key();
        let w = k.wrap(b"owner-a", b"secret").unwrap();
        assert!(matches!(
            k.unwrap(b"owner-b", &w),
            Err(CryptoError::UnwrapFailed)
        ));
        assert!(matches!(k.unwrap(b"", &w), Err(CryptoError::UnwrapFailed)));
    }

    #[test]
    fn other_root_key_fails() {
        let w = key().wrap(b"a", b"secret").unwrap();
        assert!(matches!(
            key().unwrap(b"a", &w),
            Err(CryptoError::UnwrapFailed)
        ));
    }

    #[test]
    fn every_flipped_bit_fails() {
        let k = key();
        let w = k.wrap(b"a", b"0123456789").unwrap();
        for i in 0..w.len() {
            for bit in 0..8 {
                let mut t = w.clone();
                t[i] ^= 1 << bit;
                assert!(matches!(k.unwrap(b"a", &t), Err(CryptoError::UnwrapFailed)));
            }
        }
    }

    #[test]
    fn every_truncation_fails() {
        let k = key();
        let w = k.wrap(b"a", b"0123456789").unwrap();
        for len in 0..w.len() {
            assert!(matches!(
                k.unwrap(b"a", &w[..len]),
                Err(CryptoError::UnwrapFailed)
            ));
        }
    }

    #[test]
    fn from_secret_checks_length() {
        for n in [0, 16, 31, 33, 64] {
            assert!(matches!(
                RootKey::from_secret(SecretBytes::new(vec![0; n])),
                Err(CryptoError::InvalidKeyMaterial(_))
            ));
        }
        let a = RootKey::from_secret(SecretBytes::new(vec![5; 32])).unwrap();
        let b = RootKey::from_secret(SecretBytes::new(vec![5; 32])).unwrap();
        let w = a.wrap(b"x", b"y").unwrap();
        assert_eq!(b.unwrap(b"x", &w).unwrap().as_bytes(), b"y");
    }

    #[test]
    fn aads_are_unambiguous() {
        let id = [9u8; 32];
        assert_ne!(
            material_wrapping_aad("arn:aws:kms:r:1:key/a", &id),
            material_wrapping_aad("arn:aws:kms:r:1:key/b", &id)
        );
        assert_ne!(
            material_wrapping_aad("arn", &[1; 32]),
            material_wrapping_aad("arn", &[2; 32])
        );
        assert_ne!(
            material_wrapping_aad("x", &id),
            access_key_secret_wrapping_aad("x")
        );
        let aad = material_wrapping_aad("ab", &id);
        let mut want = vec![0, 0, 0, 21];
        want.extend_from_slice(b"trent/v1/key-material");
        want.extend_from_slice(&[0, 0, 0, 2, b'a', b'b', 0, 0, 0, 32]);
        want.extend_from_slice(&id);
        assert_eq!(aad, want);
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", key()), "RootKey(<redacted>)");
        assert_eq!(
            format!("{:?}", RootKeySecrets::generate().unwrap()),
            "RootKeySecrets(<redacted>)"
        );
    }

    #[test]
    fn single_secret_is_the_format_1_root_key() {
        let raw = [7u8; ROOT_KEY_LEN];
        let legacy = RootKey::from_secret(SecretBytes::copy_from_slice(&raw)).unwrap();
        let secrets = RootKeySecrets::from_single(&raw);
        let key = secrets.root_key().unwrap();
        let w = legacy.wrap(b"a", b"m").unwrap();
        assert_eq!(key.unwrap(b"a", &w).unwrap().as_bytes(), b"m");
        assert_eq!(
            key.derive_audit_mac_key().unwrap().as_bytes(),
            legacy.derive_audit_mac_key().unwrap().as_bytes()
        );
        assert_eq!(secrets.to_bytes().len(), ROOT_KEY_SECRETS_LEN);
        let again = RootKeySecrets::from_bytes(&secrets.to_bytes()).unwrap();
        assert_eq!(again.to_bytes(), secrets.to_bytes());
        assert!(RootKeySecrets::from_bytes(&[0; 32]).is_err());
    }

    #[test]
    fn a_new_wrapping_key_keeps_the_audit_keys_and_not_the_wrapping() {
        let old = RootKeySecrets::generate().unwrap();
        let new = old.with_new_wrapping_key().unwrap();
        let (old_key, new_key) = (old.root_key().unwrap(), new.root_key().unwrap());
        assert_eq!(
            old_key.derive_audit_mac_key().unwrap().as_bytes(),
            new_key.derive_audit_mac_key().unwrap().as_bytes()
        );
        assert_eq!(
            old_key.derive_audit_signing_seed().unwrap().as_bytes(),
            new_key.derive_audit_signing_seed().unwrap().as_bytes()
        );
        let w = old_key.wrap(b"a", b"m").unwrap();
        assert!(matches!(
            new_key.unwrap(b"a", &w),
            Err(CryptoError::UnwrapFailed)
        ));
        // Generated secrets are independent: the seed is not the wrapping key.
        let raw = old.to_bytes();
        assert_ne!(raw[..ROOT_KEY_LEN], raw[ROOT_KEY_LEN..]);
    }

    #[test]
    fn fallback_unwraps_under_either_key_and_wraps_under_the_first() {
        let a = RootKeySecrets::generate().unwrap();
        let b = a.with_new_wrapping_key().unwrap();
        let under_a = a.root_key().unwrap().wrap(b"x", b"one").unwrap();
        let under_b = b.root_key().unwrap().wrap(b"x", b"two").unwrap();
        let both = a.root_key().unwrap().with_fallback(b.root_key().unwrap());
        assert_eq!(both.unwrap(b"x", &under_a).unwrap().as_bytes(), b"one");
        assert_eq!(both.unwrap(b"x", &under_b).unwrap().as_bytes(), b"two");
        assert!(both.unwrap_own(b"x", &under_b).is_err());
        assert!(both.unwrap(b"y", &under_b).is_err());
        let fresh = both.wrap(b"x", b"three").unwrap();
        assert_eq!(
            a.root_key()
                .unwrap()
                .unwrap(b"x", &fresh)
                .unwrap()
                .as_bytes(),
            b"three"
        );
    }

    #[test]
    fn root_key_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<RootKey>();
    }

    #[cfg(unix)]
    mod files {
        use super::*;
        use std::os::unix::fs::PermissionsExt;

        fn set_mode(path: &Path, mode: u32) {
            fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        }

        #[test]
        fn created_with_mode_0600_and_loads_back() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("root.key");
            let created = RootKey::create_file(&path).unwrap();
            let meta = fs::metadata(&path).unwrap();
            assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
            assert_eq!(meta.len(), ROOT_KEY_FILE_LEN as u64);
            assert!(fs::read(&path).unwrap().starts_with(b"TRENTRK1"));

            let loaded = RootKey::load_file(&path).unwrap();
            let w = created.wrap(b"aad", b"material").unwrap();
            assert_eq!(loaded.unwrap(b"aad", &w).unwrap().as_bytes(), b"material");
        }

        #[test]
        fn format_2_files_round_trip_and_format_1_stays_format_1() {
            let dir = tempfile::tempdir().unwrap();
            let two = RootKeySecrets::generate().unwrap();
            let path = dir.path().join("root-1.key");
            two.create_file(&path).unwrap();
            let bytes = fs::read(&path).unwrap();
            assert_eq!(bytes.len(), ROOT_KEY_FILE_2_LEN);
            assert!(bytes.starts_with(b"TRENTRK2"));
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            let loaded = RootKeySecrets::load_file(&path).unwrap();
            assert_eq!(loaded.to_bytes(), two.to_bytes());
            assert!(matches!(
                two.create_file(&path),
                Err(CryptoError::RootKeyFileExists(_))
            ));

            let one = RootKeySecrets::from_single(&[4; 32]);
            let path1 = dir.path().join("root.key");
            one.create_file(&path1).unwrap();
            assert_eq!(fs::read(&path1).unwrap().len(), ROOT_KEY_FILE_LEN);
            RootKey::load_file(&path1).unwrap();

            // A format-2 magic on a format-1 length (and the reverse) is refused.
            let mut mixed = b"TRENTRK2".to_vec();
            mixed.extend_from_slice(&[3; 32]);
            let path3 = dir.path().join("mixed.key");
            fs::write(&path3, &mixed).unwrap();
            set_mode(&path3, 0o600);
            assert!(matches!(
                RootKeySecrets::load_file(&path3),
                Err(CryptoError::RootKeyFile(_))
            ));
        }

        #[test]
        fn create_refuses_to_overwrite() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("root.key");
            fs::write(&path, b"precious").unwrap();
            assert!(matches!(
                RootKey::create_file(&path),
                Err(CryptoError::RootKeyFileExists(p)) if p.contains("root.key")
            ));
            assert_eq!(fs::read(&path).unwrap(), b"precious");

            let path2 = dir.path().join("second.key");
            RootKey::create_file(&path2).unwrap();
            let before = fs::read(&path2).unwrap();
            assert!(RootKey::create_file(&path2).is_err());
            assert_eq!(fs::read(&path2).unwrap(), before);
        }

        #[test]
        fn group_or_other_access_is_refused() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("root.key");
            RootKey::create_file(&path).unwrap();
            for mode in [0o644, 0o640, 0o604, 0o610, 0o601, 0o620, 0o602, 0o666] {
                set_mode(&path, mode);
                match RootKey::load_file(&path) {
                    Err(CryptoError::InsecureRootKeyFile(msg)) => {
                        assert!(msg.contains("root.key"), "{msg}");
                        assert!(msg.contains(&format!("{mode:04o}")), "{msg}");
                    }
                    other => panic!("mode {mode:o}: {other:?}"),
                }
            }
            for mode in [0o600, 0o400] {
                set_mode(&path, mode);
                RootKey::load_file(&path).unwrap();
            }
        }

        #[test]
        fn bad_format_is_refused() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("root.key");
            let mut good = b"TRENTRK1".to_vec();
            good.extend_from_slice(&[3; 32]);
            let mut bad_magic = b"TRENTRK2".to_vec();
            bad_magic.extend_from_slice(&[3; 32]);
            let mut long = good.clone();
            long.push(0);
            for contents in [&b""[..], &good[..39], &long, &bad_magic] {
                let _ = fs::remove_file(&path);
                fs::write(&path, contents).unwrap();
                set_mode(&path, 0o600);
                match RootKey::load_file(&path) {
                    Err(CryptoError::RootKeyFile(msg)) => {
                        assert!(msg.contains("root.key"), "{msg}");
                        assert!(!msg.contains("0303"), "{msg}");
                    }
                    other => panic!("{other:?}"),
                }
            }
            let _ = fs::remove_file(&path);
            fs::write(&path, &good).unwrap();
            set_mode(&path, 0o600);
            RootKey::load_file(&path).unwrap();
        }

        #[test]
        fn missing_file_and_directory() {
            let dir = tempfile::tempdir().unwrap();
            let missing = dir.path().join("nope.key");
            match RootKey::load_file(&missing) {
                Err(CryptoError::RootKeyIo { path, source }) => {
                    assert!(path.contains("nope.key"));
                    assert_eq!(source.kind(), io::ErrorKind::NotFound);
                }
                other => panic!("{other:?}"),
            }
            assert!(matches!(
                RootKey::load_file(dir.path()),
                Err(CryptoError::InsecureRootKeyFile(_))
            ));
            assert!(matches!(
                RootKey::create_file(dir.path().join("no/such/dir/root.key")),
                Err(CryptoError::RootKeyIo { .. })
            ));
        }
    }
}
