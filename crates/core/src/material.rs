//! The unwrapped material of one version of a KMS key, whatever its key spec: a symmetric
//! key, an HMAC key or a private key. It lives only in memory (in the material cache), in
//! zeroizing buffers owned by the cryptography crate; the store holds it wrapped by the root
//! key, bound to the key ARN and key material id.

use trent_crypto::asymmetric::PrivateKey;
use trent_crypto::hmac::HmacKey;
use trent_crypto::root::RootKey;
use trent_crypto::symmetric::SymmetricKeyMaterial;
use trent_crypto::{CryptoError, SecretBytes};

use crate::error::CoreError;
use crate::model::KeySpec;

/// One version of a KMS key's material. `Debug` shows only the variant (every inner type
/// redacts itself).
#[derive(Debug)]
pub enum KeyMaterial {
    /// SYMMETRIC_DEFAULT.
    Symmetric(SymmetricKeyMaterial),
    /// HMAC_224 … HMAC_512 (boxed: the prepared HMAC key is large).
    Hmac(Box<HmacKey>),
    /// RSA, ECC, SM2, ML-DSA and ML-KEM key pairs (boxed, as the HMAC key).
    Asymmetric(Box<PrivateKey>),
}

impl KeyMaterial {
    /// Fresh material for a key of `spec`, made on the calling thread. Use
    /// [`KeyMaterial::generate`] from async code: an RSA 4096 key takes seconds.
    pub fn generate_now(spec: KeySpec) -> Result<Self, CryptoError> {
        if let Some(h) = spec.hmac_key_spec() {
            return Ok(KeyMaterial::Hmac(Box::new(HmacKey::generate(h)?)));
        }
        if let Some(p) = spec.key_pair_spec() {
            return Ok(KeyMaterial::Asymmetric(Box::new(PrivateKey::generate(p)?)));
        }
        Ok(KeyMaterial::Symmetric(SymmetricKeyMaterial::generate()?))
    }

    /// Fresh material for a key of `spec`. Key pairs are made on the blocking thread pool,
    /// so no async worker thread waits on a slow RSA key generation.
    pub async fn generate(spec: KeySpec) -> Result<Self, CoreError> {
        if spec.is_asymmetric() {
            Ok(run_blocking(move || Self::generate_now(spec)).await??)
        } else {
            Ok(Self::generate_now(spec)?)
        }
    }

    /// Imported key material (ImportKeyMaterial) for a key of `spec`, checked as AWS's
    /// "Requirements for imported key material" say: 32 bytes for SYMMETRIC_DEFAULT, from the
    /// hash length to the block size for HMAC keys, a PKCS#8 private key of the spec's type and
    /// size for RSA, ECC and SM2 keys. Anything else is IncorrectKeyMaterialException (AWS:
    /// "the key material in the request is … invalid"); a spec no material can be imported
    /// into is UnsupportedOperationException.
    pub fn from_import(spec: KeySpec, secret: SecretBytes) -> Result<Self, CoreError> {
        let invalid = |_| {
            CoreError::IncorrectKeyMaterial(format!(
                "The key material is not valid for key spec {spec}."
            ))
        };
        if let Some(h) = spec.hmac_key_spec() {
            return Ok(KeyMaterial::Hmac(Box::new(
                HmacKey::from_secret(h, secret).map_err(invalid)?,
            )));
        }
        if let Some(p) = spec.key_pair_spec() {
            return match PrivateKey::from_imported_pkcs8(p, secret.as_bytes()) {
                Ok(k) => Ok(KeyMaterial::Asymmetric(Box::new(k))),
                Err(CryptoError::UnsupportedAlgorithm) => Err(CoreError::UnsupportedOperation(
                    format!("Key material cannot be imported into a {spec} key."),
                )),
                Err(e) => Err(invalid(e)),
            };
        }
        Ok(KeyMaterial::Symmetric(
            SymmetricKeyMaterial::from_secret(secret).map_err(invalid)?,
        ))
    }

    /// The key material id AWS assigns imported material, "based on the KMS key ID and the
    /// imported key material" (API Reference, ImportKeyMaterial `KeyMaterialId`): here
    /// HMAC-SHA256 under a key derived from the root key, of the key id and the material's
    /// canonical form (its bytes, or for a key pair its public key, which the private key
    /// determines whatever PKCS#8 encoding it came in). Importing the same material into the
    /// same key gives the same id; the id reveals nothing about the material.
    ///
    /// `imported` is the secret as ImportKeyMaterial unwrapped it (this material's source).
    pub fn imported_material_id(
        &self,
        root: &RootKey,
        key_id: &[u8; 16],
        imported: &SecretBytes,
    ) -> Result<[u8; 32], CryptoError> {
        match self {
            KeyMaterial::Asymmetric(m) => {
                trent_crypto::import::material_id(root, key_id, &m.public_key_der())
            }
            _ => trent_crypto::import::material_id(root, key_id, imported.as_bytes()),
        }
    }

    /// Wraps the material under the root key for storage, bound to the key ARN and the key
    /// material id.
    pub fn wrap(
        &self,
        root: &RootKey,
        key_arn: &str,
        key_material_id: &[u8; 32],
    ) -> Result<Vec<u8>, CryptoError> {
        match self {
            KeyMaterial::Symmetric(m) => m.wrap(root, key_arn, key_material_id),
            KeyMaterial::Hmac(m) => m.wrap(root, key_arn, key_material_id),
            KeyMaterial::Asymmetric(m) => m.wrap(root, key_arn, key_material_id),
        }
    }

    /// Unwraps material [`KeyMaterial::wrap`] made for a key of `spec`.
    pub fn unwrap(
        spec: KeySpec,
        root: &RootKey,
        key_arn: &str,
        key_material_id: &[u8; 32],
        wrapped: &[u8],
    ) -> Result<Self, CryptoError> {
        if let Some(h) = spec.hmac_key_spec() {
            return Ok(KeyMaterial::Hmac(Box::new(HmacKey::unwrap(
                h,
                root,
                key_arn,
                key_material_id,
                wrapped,
            )?)));
        }
        if let Some(p) = spec.key_pair_spec() {
            return Ok(KeyMaterial::Asymmetric(Box::new(PrivateKey::unwrap(
                p,
                root,
                key_arn,
                key_material_id,
                wrapped,
            )?)));
        }
        Ok(KeyMaterial::Symmetric(SymmetricKeyMaterial::unwrap(
            root,
            key_arn,
            key_material_id,
            wrapped,
        )?))
    }

    /// The symmetric key, for SYMMETRIC_DEFAULT keys.
    pub fn symmetric(&self) -> Option<&SymmetricKeyMaterial> {
        match self {
            KeyMaterial::Symmetric(m) => Some(m),
            _ => None,
        }
    }

    /// The HMAC key, for HMAC keys.
    pub fn hmac(&self) -> Option<&HmacKey> {
        match self {
            KeyMaterial::Hmac(m) => Some(m),
            _ => None,
        }
    }

    /// The private key, for asymmetric keys.
    pub fn private_key(&self) -> Option<&PrivateKey> {
        match self {
            KeyMaterial::Asymmetric(m) => Some(m),
            _ => None,
        }
    }
}

/// Runs slow CPU-bound work (RSA key generation) on tokio's blocking pool when called inside a
/// runtime, else on the calling thread.
pub(crate) async fn run_blocking<T, F>(f: F) -> Result<T, CoreError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(f)
            .await
            .map_err(|e| CoreError::Internal(format!("blocking task failed: {e}"))),
        Err(_) => Ok(f()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> RootKey {
        RootKey::generate().unwrap()
    }

    #[test]
    fn every_spec_generates_material_of_its_kind_and_round_trips_wrapped() {
        let root = root();
        let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let id = [9u8; 32];
        for spec in KeySpec::ALL {
            // RSA 4096 is slow to generate and adds nothing over RSA 2048 here.
            if *spec == KeySpec::Rsa4096 || *spec == KeySpec::Rsa3072 {
                continue;
            }
            let m = KeyMaterial::generate_now(*spec).unwrap();
            assert_eq!(
                m.symmetric().is_some(),
                *spec == KeySpec::SymmetricDefault,
                "{spec}"
            );
            assert_eq!(m.hmac().is_some(), spec.hmac_key_spec().is_some(), "{spec}");
            assert_eq!(m.private_key().is_some(), spec.is_asymmetric(), "{spec}");
            let wrapped = m.wrap(&root, arn, &id).unwrap();
            let back = KeyMaterial::unwrap(*spec, &root, arn, &id, &wrapped).unwrap();
            if let (Some(a), Some(b)) = (m.private_key(), back.private_key()) {
                assert_eq!(a.public_key_der(), b.public_key_der(), "{spec}");
            }
            assert!(
                KeyMaterial::unwrap(*spec, &root, "arn:other", &id, &wrapped).is_err(),
                "{spec}: material moved to another key must not unwrap"
            );
        }
    }

    #[test]
    fn debug_output_names_the_kind_only() {
        let m = KeyMaterial::generate_now(KeySpec::Hmac256).unwrap();
        let shown = format!("{m:?}");
        assert!(shown.starts_with("Hmac("), "{shown}");
        assert!(shown.contains("redacted") || shown.len() < 40, "{shown}");
    }
}
