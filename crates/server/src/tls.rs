//! TLS for the listener: a certificate chain and private key in PEM files, served with rustls
//! on aws-lc-rs (TLS 1.2 and 1.3, ALPN `http/1.1`), and picked up again when the files change
//! (certificate renewal without a restart).
//!
//! Encrypt requests carry plaintexts and GenerateDataKey answers carry data keys, so anything
//! but loopback traffic needs TLS, from Trent itself or from a proxy in front of it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::digest;
use parking_lot::RwLock;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use zeroize::Zeroizing;

/// Why TLS could not be set up. Messages name the file, never its contents.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file could not be read or holds no PEM certificate.
    #[error("cannot read a PEM certificate chain from {path}: {reason}")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// Why it could not be used.
        reason: String,
    },
    /// The key file could not be read or holds no PEM private key.
    #[error("cannot read a PEM private key from {path}: {reason}")]
    PrivateKey {
        /// The file.
        path: PathBuf,
        /// Why it could not be used.
        reason: String,
    },
    /// rustls refused the pair (e.g. the key does not match the certificate).
    #[error("the certificate and private key cannot be used together: {0}")]
    Config(String),
}

/// Where the listener's certificate chain and private key are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The listener's TLS: the acceptor for new connections, rebuilt by
/// [`Tls::reload_if_changed`] when the files' contents change. Connections already open keep
/// the configuration they were accepted with.
pub struct Tls {
    files: TlsFiles,
    current: RwLock<Loaded>,
    /// The last reload error, so a bad state (unusable or missing files) is reported once.
    last_error: parking_lot::Mutex<Option<String>>,
}

struct Loaded {
    acceptor: TlsAcceptor,
    /// SHA-256 of the certificate file and of the key file as loaded (the key itself is not
    /// kept outside rustls).
    fingerprint: [u8; 32],
}

impl Tls {
    /// Loads the files; fails if they do not make a usable certificate and key.
    pub fn load(files: TlsFiles) -> Result<Tls, TlsError> {
        let loaded = load(&files)?;
        Ok(Tls {
            files,
            current: RwLock::new(loaded),
            last_error: parking_lot::Mutex::new(None),
        })
    }

    /// The acceptor for a new connection.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.current.read().acceptor.clone()
    }

    /// Loads the files again if their contents changed since the last load: `Ok(true)` when
    /// new connections now get the new certificate. If the new files are unusable (e.g. a
    /// certificate written before its key, or a file missing mid-renewal), the old
    /// configuration stays and the error says why, once: while the error stays the same,
    /// later calls answer `Ok(false)`.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let outcome = fingerprint(&self.files).and_then(|fingerprint| {
            if fingerprint == self.current.read().fingerprint {
                return Ok(false);
            }
            *self.current.write() = load(&self.files)?;
            Ok(true)
        });
        let mut last_error = self.last_error.lock();
        match outcome {
            Err(e) => {
                let message = e.to_string();
                if last_error.as_deref() == Some(message.as_str()) {
                    return Ok(false);
                }
                *last_error = Some(message);
                Err(e)
            }
            Ok(reloaded) => {
                *last_error = None;
                Ok(reloaded)
            }
        }
    }
}

/// Reads both files and hashes them together.
fn fingerprint(files: &TlsFiles) -> Result<[u8; 32], TlsError> {
    let cert = std::fs::read(&files.cert).map_err(|e| TlsError::Certificate {
        path: files.cert.clone(),
        reason: e.kind().to_string(),
    })?;
    let key = Zeroizing::new(std::fs::read(&files.key).map_err(|e| TlsError::PrivateKey {
        path: files.key.clone(),
        reason: e.kind().to_string(),
    })?);
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&(cert.len() as u64).to_be_bytes());
    ctx.update(&cert);
    ctx.update(&key);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    Ok(out)
}

fn load(files: &TlsFiles) -> Result<Loaded, TlsError> {
    // The fingerprint first: if the files change while loading, the next check loads again.
    let fingerprint = fingerprint(files)?;
    Ok(Loaded {
        acceptor: acceptor(&files.cert, &files.key)?,
        fingerprint,
    })
}

/// A TLS acceptor for the certificate chain in `cert_pem` (leaf first) and the private key
/// (PKCS#8, PKCS#1 or SEC1) in `key_pem`.
pub fn acceptor(cert_pem: &Path, key_pem: &Path) -> Result<TlsAcceptor, TlsError> {
    let certs = CertificateDer::pem_file_iter(cert_pem)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Certificate {
            path: cert_pem.to_path_buf(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Certificate {
            path: cert_pem.to_path_buf(),
            reason: "no CERTIFICATE block".into(),
        });
    }
    // The error of a key file that does not parse could quote it; say only what kind it was.
    let key = PrivateKeyDer::from_pem_file(key_pem).map_err(|e| TlsError::PrivateKey {
        path: key_pem.to_path_buf(),
        reason: match e {
            rustls::pki_types::pem::Error::NoItemsFound => "no PRIVATE KEY block".into(),
            rustls::pki_types::pem::Error::Io(io) => io.kind().to_string(),
            _ => "not a PEM private key".into(),
        },
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Whether users other than the owner (group or others) may read `path`: a private key file
/// should be readable by its owner only.
pub fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        let cert = dir.join(format!("{name}-cert.pem"));
        let key = dir.join(format!("{name}-key.pem"));
        std::fs::write(&cert, certified.cert.pem()).unwrap();
        std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
        (cert, key)
    }

    #[test]
    fn a_matching_pem_pair_makes_an_acceptor() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = pair(dir.path(), "a");
        assert!(acceptor(&cert, &key).is_ok());
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = pair(dir.path(), "a");
        let (_, other_key) = pair(dir.path(), "b");
        assert!(matches!(
            acceptor(&cert, &other_key),
            Err(TlsError::Config(_))
        ));
    }

    #[test]
    fn a_missing_or_empty_certificate_file_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let (_, key) = pair(dir.path(), "a");
        let missing = dir.path().join("nope.pem");
        let err = acceptor(&missing, &key).err().expect("refused");
        assert!(matches!(err, TlsError::Certificate { .. }));
        assert!(err.to_string().contains("nope.pem"), "{err}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        assert!(matches!(
            acceptor(&empty, &key),
            Err(TlsError::Certificate { .. })
        ));
    }

    #[test]
    fn a_key_file_that_is_not_a_pem_key_is_refused_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = pair(dir.path(), "a");
        let key = dir.path().join("key.pem");
        let refused = |key: &Path| match acceptor(&cert, key) {
            Ok(_) => panic!("a garbage key was accepted"),
            Err(e) => e,
        };
        for contents in [
            "SECRET-MATERIAL-1234".to_string(),
            "-----BEGIN PRIVATE KEY-----\nSECRET-MATERIAL-1234\n-----END PRIVATE KEY-----\n".into(),
        ] {
            std::fs::write(&key, &contents).unwrap();
            let err = refused(&key);
            assert!(
                matches!(err, TlsError::PrivateKey { .. } | TlsError::Config(_)),
                "{err}"
            );
            assert!(!err.to_string().contains("SECRET"), "{err}");
        }
    }

    #[test]
    fn reload_picks_up_new_files_and_keeps_the_old_ones_when_the_new_are_unusable() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = pair(dir.path(), "a");
        let tls = Tls::load(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        })
        .unwrap();
        assert!(!tls.reload_if_changed().unwrap(), "nothing changed");
        let (new_cert, new_key) = pair(dir.path(), "b");
        std::fs::copy(&new_cert, &cert).unwrap();
        // The certificate alone changed: it does not match the old key, so nothing is loaded,
        // and the same bad state is reported once.
        assert!(matches!(tls.reload_if_changed(), Err(TlsError::Config(_))));
        assert!(!tls.reload_if_changed().unwrap());
        std::fs::copy(&new_key, &key).unwrap();
        assert!(tls.reload_if_changed().unwrap());
        assert!(!tls.reload_if_changed().unwrap());
        std::fs::remove_file(&key).unwrap();
        assert!(matches!(
            tls.reload_if_changed(),
            Err(TlsError::PrivateKey { .. })
        ));
        // A missing file is reported once too, not on every check.
        assert!(!tls.reload_if_changed().unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn key_files_readable_by_group_or_others_are_noticed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (_, key) = pair(dir.path(), "a");
        for (mode, shared) in [(0o600, false), (0o640, true), (0o604, true), (0o400, false)] {
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(readable_by_others(&key), shared, "mode {mode:o}");
        }
    }
}
