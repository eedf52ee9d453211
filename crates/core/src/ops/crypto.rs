//! Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext), GenerateRandom.
//!
//! The hot path: resolve (cache) → authorize → key state → key usage → material (cache) →
//! AES-GCM. A warm key reads nothing from the store.

use std::collections::BTreeMap;
use std::sync::Arc;

use trent_crypto::blob;
use trent_crypto::random::random_bytes;
use trent_crypto::secret::SecretBytes;
use trent_crypto::symmetric;

use crate::action::Action;
use crate::caller::Caller;
use crate::error::CoreError;
use crate::key_state;
use crate::kms::Kms;
use crate::model::{EncryptionAlgorithm, KeyId, KeyMaterialId, KeyRecord, KeySpec, KeyUsage};

/// An encryption context: non-secret pairs bound to a ciphertext.
pub type EncryptionContext = BTreeMap<String, String>;

/// The most plaintext a symmetric Encrypt accepts.
pub const MAX_PLAINTEXT: usize = 4096;

/// The largest encryption context Trent accepts: keys and values together, in UTF-8 bytes.
pub const MAX_ENCRYPTION_CONTEXT_BYTES: usize = 8192;

/// Refuses an encryption context larger than [`MAX_ENCRYPTION_CONTEXT_BYTES`].
pub fn check_encryption_context(context: &EncryptionContext) -> Result<(), CoreError> {
    let size: usize = context.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_ENCRYPTION_CONTEXT_BYTES {
        return Err(CoreError::Validation(format!(
            "Encryption context is {size} bytes; the limit is {MAX_ENCRYPTION_CONTEXT_BYTES} bytes."
        )));
    }
    Ok(())
}

/// Result of Encrypt.
#[derive(Debug)]
pub struct EncryptOutput {
    pub key_arn: String,
    pub ciphertext: Vec<u8>,
    pub key_material_id: KeyMaterialId,
}

/// Result of Decrypt.
#[derive(Debug)]
pub struct DecryptOutput {
    pub key_arn: String,
    pub plaintext: SecretBytes,
    pub key_material_id: KeyMaterialId,
}

/// Result of ReEncrypt.
#[derive(Debug)]
pub struct ReEncryptOutput {
    pub source_key_arn: String,
    pub source_key_material_id: KeyMaterialId,
    pub key_arn: String,
    pub ciphertext: Vec<u8>,
    pub key_material_id: KeyMaterialId,
}

/// Result of GenerateDataKey(WithoutPlaintext).
#[derive(Debug)]
pub struct DataKeyOutput {
    pub key_arn: String,
    pub ciphertext: Vec<u8>,
    /// `None` for GenerateDataKeyWithoutPlaintext.
    pub plaintext: Option<SecretBytes>,
    pub key_material_id: KeyMaterialId,
}

/// How a data key's size was given: exactly one of KeySpec or NumberOfBytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKeySize {
    /// AES_128 (16 bytes) or AES_256 (32 bytes).
    KeySpecBytes(usize),
    /// NumberOfBytes, 1..=1024.
    NumberOfBytes(usize),
}

impl DataKeySize {
    /// Combines the two optional request members as AWS does.
    pub fn from_request(
        key_spec_bytes: Option<usize>,
        number_of_bytes: Option<i32>,
    ) -> Result<DataKeySize, CoreError> {
        match (key_spec_bytes, number_of_bytes) {
            (Some(b), None) => Ok(DataKeySize::KeySpecBytes(b)),
            (None, Some(n)) if (1..=1024).contains(&n) => Ok(DataKeySize::NumberOfBytes(n as usize)),
            (None, Some(n)) => Err(CoreError::Validation(format!(
                "1 validation error detected: Value '{n}' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"
            ))),
            (Some(_), Some(_)) => Err(CoreError::Validation(
                "Please specify either number of bytes or key spec, but not both.".into(),
            )),
            (None, None) => Err(CoreError::Validation(
                "Please specify either number of bytes or key spec.".into(),
            )),
        }
    }

    fn bytes(&self) -> usize {
        match *self {
            DataKeySize::KeySpecBytes(b) | DataKeySize::NumberOfBytes(b) => b,
        }
    }
}

impl Kms {
    /// Encrypt up to 4 KiB under a symmetric key.
    pub async fn encrypt(
        &self,
        caller: &Caller,
        key_id: &str,
        plaintext: &[u8],
        context: &EncryptionContext,
        algorithm: Option<EncryptionAlgorithm>,
        dry_run: bool,
    ) -> Result<EncryptOutput, CoreError> {
        let key = self
            .usable_key(caller, key_id, Action::Encrypt)
            .await?
            .record;
        check_symmetric_encryption(&key, algorithm)?;
        if plaintext.len() > MAX_PLAINTEXT {
            return Err(CoreError::Validation(format!(
                "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to {MAX_PLAINTEXT}"
            )));
        }
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let (ciphertext, key_material_id) = self.seal(&key, plaintext, context).await?;
        self.record_usage(caller, &key, Action::Encrypt);
        Ok(EncryptOutput {
            key_arn: key.arn(),
            ciphertext,
            key_material_id,
        })
    }

    /// Decrypt a ciphertext blob made by Encrypt, GenerateDataKey or ReEncrypt.
    pub async fn decrypt(
        &self,
        caller: &Caller,
        key_id: Option<&str>,
        ciphertext: &[u8],
        context: &EncryptionContext,
        algorithm: Option<EncryptionAlgorithm>,
        dry_run: bool,
    ) -> Result<DecryptOutput, CoreError> {
        let (key, plaintext, material_id) = self
            .open(
                caller,
                Action::Decrypt,
                key_id,
                ciphertext,
                context,
                algorithm,
                dry_run,
            )
            .await?;
        self.record_usage(caller, &key, Action::Decrypt);
        Ok(DecryptOutput {
            key_arn: key.arn(),
            plaintext,
            key_material_id: material_id,
        })
    }

    /// ReEncrypt: decrypt under the source key and encrypt under the destination key, without
    /// the plaintext leaving Trent.
    #[allow(clippy::too_many_arguments)]
    pub async fn re_encrypt(
        &self,
        caller: &Caller,
        ciphertext: &[u8],
        source_key_id: Option<&str>,
        source_context: &EncryptionContext,
        source_algorithm: Option<EncryptionAlgorithm>,
        destination_key_id: &str,
        destination_context: &EncryptionContext,
        destination_algorithm: Option<EncryptionAlgorithm>,
        dry_run: bool,
    ) -> Result<ReEncryptOutput, CoreError> {
        let dest = self
            .usable_key(caller, destination_key_id, Action::ReEncrypt)
            .await?
            .record;
        check_symmetric_encryption(&dest, destination_algorithm)?;
        let (source, plaintext, source_material) = self
            .open(
                caller,
                Action::ReEncrypt,
                source_key_id,
                ciphertext,
                source_context,
                source_algorithm,
                dry_run,
            )
            .await?;
        let (ciphertext, material_id) = self
            .seal(&dest, plaintext.as_bytes(), destination_context)
            .await?;
        self.record_usage(caller, &source, Action::ReEncrypt);
        self.record_usage(caller, &dest, Action::ReEncrypt);
        Ok(ReEncryptOutput {
            source_key_arn: source.arn(),
            source_key_material_id: source_material,
            key_arn: dest.arn(),
            ciphertext,
            key_material_id: material_id,
        })
    }

    /// GenerateDataKey / GenerateDataKeyWithoutPlaintext.
    pub async fn generate_data_key(
        &self,
        caller: &Caller,
        key_id: &str,
        size: DataKeySize,
        context: &EncryptionContext,
        with_plaintext: bool,
        dry_run: bool,
    ) -> Result<DataKeyOutput, CoreError> {
        let action = if with_plaintext {
            Action::GenerateDataKey
        } else {
            Action::GenerateDataKeyWithoutPlaintext
        };
        let key = self.usable_key(caller, key_id, action).await?.record;
        check_symmetric_encryption(&key, None)?;
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let data_key = random_bytes(size.bytes())?;
        let (ciphertext, key_material_id) = self.seal(&key, data_key.as_bytes(), context).await?;
        self.record_usage(caller, &key, action);
        Ok(DataKeyOutput {
            key_arn: key.arn(),
            ciphertext,
            plaintext: with_plaintext.then_some(data_key),
            key_material_id,
        })
    }

    /// GenerateRandom: 1..=1024 random bytes.
    pub fn generate_random(&self, number_of_bytes: Option<i32>) -> Result<SecretBytes, CoreError> {
        let n = number_of_bytes.ok_or_else(|| {
            CoreError::Validation("Please specify either number of bytes or key spec.".into())
        })?;
        Ok(random_bytes(n.clamp(1, 1024) as usize)?)
    }

    /// Encrypts under the key's current material.
    async fn seal(
        &self,
        key: &KeyRecord,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<(Vec<u8>, KeyMaterialId), CoreError> {
        check_encryption_context(context)?;
        let material_id = key.current_key_material_id;
        let material = self.material(key, material_id).await?.ok_or_else(|| {
            CoreError::Internal(format!("current key material of {} is missing", key.arn()))
        })?;
        let blob = symmetric::encrypt(
            &material,
            *key.key_id.as_bytes(),
            material_id.0,
            plaintext,
            context,
        )?;
        Ok((blob, material_id))
    }

    /// Finds the key of a ciphertext blob, checks the caller may use it, and decrypts.
    #[allow(clippy::too_many_arguments)]
    async fn open(
        &self,
        caller: &Caller,
        action: Action,
        key_id: Option<&str>,
        ciphertext: &[u8],
        context: &EncryptionContext,
        algorithm: Option<EncryptionAlgorithm>,
        dry_run: bool,
    ) -> Result<(Arc<KeyRecord>, SecretBytes, KeyMaterialId), CoreError> {
        let named = match key_id {
            Some(k) => Some(self.resolve(caller, k).await?),
            None => None,
        };
        check_encryption_context(context)?;
        let parsed = blob::parse(ciphertext).map_err(|_| invalid_ciphertext())?;
        let blob_key_id = KeyId::from_bytes(parsed.header.key_id);
        if let Some(named) = &named {
            if named.key_id != blob_key_id {
                return Err(CoreError::IncorrectKey(
                    "The key ID in the request does not identify a CMK that can perform this operation.".into(),
                ));
            }
        }
        let key = match named {
            Some(k) => k,
            None => self
                .key_by_id(blob_key_id)
                .await?
                .filter(|k| k.region == self.region)
                .ok_or_else(invalid_ciphertext)?,
        };
        if key.deleted_date.is_some() {
            return Err(CoreError::NotFound(format!(
                "Key '{}' does not exist",
                key.arn()
            )));
        }
        self.authorize(caller, action, &key).await?;
        key_state::check(action, &key)?;
        check_symmetric_encryption(&key, algorithm)?;
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let material_id = KeyMaterialId(parsed.header.key_material_id);
        let material = self
            .material(&key, material_id)
            .await?
            .ok_or_else(invalid_ciphertext)?;
        let plaintext =
            symmetric::decrypt(&material, &parsed, context).map_err(|_| invalid_ciphertext())?;
        Ok((key, plaintext, material_id))
    }
}

/// AWS sends InvalidCiphertextException without a message.
fn invalid_ciphertext() -> CoreError {
    CoreError::InvalidCiphertext(String::new())
}

/// The key must be a symmetric encryption key, and the algorithm (if given) SYMMETRIC_DEFAULT.
fn check_symmetric_encryption(
    key: &KeyRecord,
    algorithm: Option<EncryptionAlgorithm>,
) -> Result<(), CoreError> {
    if key.key_usage != KeyUsage::EncryptDecrypt || key.key_spec != KeySpec::SymmetricDefault {
        return Err(CoreError::InvalidKeyUsage(format!(
            "{} key usage is {} which is not valid for this operation.",
            key.arn(),
            key.key_usage
        )));
    }
    match algorithm {
        None | Some(EncryptionAlgorithm::SymmetricDefault) => Ok(()),
        Some(other) => Err(CoreError::InvalidKeyUsage(format!(
            "Algorithm {other} is incompatible with key spec {}.",
            key.key_spec
        ))),
    }
}
