//! Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext), GenerateRandom.
//!
//! The hot path: resolve (cache) → authorize → key state → key usage → material (cache) →
//! AES-GCM. A warm key reads nothing from the store.
//!
//! Encrypt, Decrypt and ReEncrypt also take asymmetric encryption keys (RSA with
//! RSAES_OAEP_SHA_1/256, SM2 with SM2PKE). Their ciphertext is the bare RSA-OAEP (or SM2)
//! output, which names no key, so Decrypt needs the key id and the algorithm for it, as in AWS.

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
use crate::material::{run_blocking, KeyMaterial};
use crate::model::{
    DataKeyPairSpec, EncryptionAlgorithm, KeyMaterialId, KeyRecord, KeySpec, KeyUsage,
};

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

/// What ReEncrypt takes: the ciphertext, how to open it (source) and how to seal it again
/// (destination).
#[derive(Debug, Clone, Copy)]
pub struct ReEncryptInput<'a> {
    /// The ciphertext to re-encrypt.
    pub ciphertext: &'a [u8],
    /// SourceKeyId: required for an asymmetric ciphertext, else checked against the blob.
    pub source_key_id: Option<&'a str>,
    /// The encryption context the ciphertext was made with.
    pub source_context: &'a EncryptionContext,
    /// The algorithm the ciphertext was made with (`None`: symmetric default).
    pub source_algorithm: Option<EncryptionAlgorithm>,
    /// DestinationKeyId.
    pub destination_key_id: &'a str,
    /// The encryption context of the new ciphertext.
    pub destination_context: &'a EncryptionContext,
    /// The algorithm of the new ciphertext (`None`: symmetric default).
    pub destination_algorithm: Option<EncryptionAlgorithm>,
    /// DryRun: check everything, re-encrypt nothing.
    pub dry_run: bool,
}

/// What a ReEncrypt dry run with `IGNORE_CIPHERTEXT` takes: a [`ReEncryptInput`] without the
/// ciphertext (and always a dry run).
#[derive(Debug, Clone, Copy)]
pub struct ReEncryptKeysInput<'a> {
    /// SourceKeyId: required here, since no ciphertext names the key.
    pub source_key_id: Option<&'a str>,
    /// The source encryption context.
    pub source_context: &'a EncryptionContext,
    /// The source algorithm (`None`: symmetric default).
    pub source_algorithm: Option<EncryptionAlgorithm>,
    /// DestinationKeyId.
    pub destination_key_id: &'a str,
    /// The destination encryption context.
    pub destination_context: &'a EncryptionContext,
    /// The destination algorithm (`None`: symmetric default).
    pub destination_algorithm: Option<EncryptionAlgorithm>,
}

/// A ciphertext as [`Kms::open`] reads it: the key the caller names (if any), the bytes, and
/// the context and algorithm it was made with.
#[derive(Clone, Copy)]
struct Sealed<'a> {
    key_id: Option<&'a str>,
    ciphertext: &'a [u8],
    context: &'a EncryptionContext,
    algorithm: Option<EncryptionAlgorithm>,
}

/// Result of Encrypt.
#[derive(Debug)]
pub struct EncryptOutput {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The ciphertext (for symmetric keys, the blob of ARCHITECTURE.md §4).
    pub ciphertext: Vec<u8>,
    /// The key material the operation used.
    pub key_material_id: KeyMaterialId,
    /// The encryption algorithm.
    pub encryption_algorithm: EncryptionAlgorithm,
}

/// Result of Decrypt.
#[derive(Debug)]
pub struct DecryptOutput {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The plaintext (zeroized on drop).
    pub plaintext: SecretBytes,
    /// The key material the operation used.
    pub key_material_id: KeyMaterialId,
    /// The encryption algorithm.
    pub encryption_algorithm: EncryptionAlgorithm,
}

/// Result of ReEncrypt.
#[derive(Debug)]
pub struct ReEncryptOutput {
    /// The ARN of the key that decrypted the source ciphertext.
    pub source_key_arn: String,
    /// The source key material id.
    pub source_key_material_id: KeyMaterialId,
    /// The source encryption algorithm.
    pub source_encryption_algorithm: EncryptionAlgorithm,
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The ciphertext (for symmetric keys, the blob of ARCHITECTURE.md §4).
    pub ciphertext: Vec<u8>,
    /// The key material the operation used.
    pub key_material_id: KeyMaterialId,
    /// The destination encryption algorithm.
    pub destination_encryption_algorithm: EncryptionAlgorithm,
}

/// Result of GenerateDataKey(WithoutPlaintext).
#[derive(Debug)]
pub struct DataKeyOutput {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The ciphertext (for symmetric keys, the blob of ARCHITECTURE.md §4).
    pub ciphertext: Vec<u8>,
    /// `None` for GenerateDataKeyWithoutPlaintext.
    pub plaintext: Option<SecretBytes>,
    /// The key material the operation used.
    pub key_material_id: KeyMaterialId,
}

/// Result of GenerateDataKeyPair(WithoutPlaintext).
#[derive(Debug)]
pub struct DataKeyPairOutput {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The private key (PKCS#8 DER) encrypted under the KMS key: a normal symmetric
    /// ciphertext blob that Decrypt accepts.
    pub private_key_ciphertext: Vec<u8>,
    /// The private key, PKCS#8 DER; `None` for GenerateDataKeyPairWithoutPlaintext.
    pub private_key_plaintext: Option<SecretBytes>,
    /// DER-encoded SubjectPublicKeyInfo.
    pub public_key: Vec<u8>,
    /// The key pair spec.
    pub key_pair_spec: DataKeyPairSpec,
    /// The key material the operation used.
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
    /// Encrypt up to 4 KiB under a symmetric key, or a few hundred bytes under an RSA or SM2
    /// encryption key with the algorithm the caller names.
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
        let algorithm = check_encryption(&key, Action::Encrypt, algorithm)?;
        check_plaintext_length(&key, algorithm, plaintext.len())?;
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let (ciphertext, key_material_id) = self.seal(&key, plaintext, context, algorithm).await?;
        self.record_usage(caller, &key, Action::Encrypt);
        Ok(EncryptOutput {
            key_arn: key.arn(),
            ciphertext,
            key_material_id,
            encryption_algorithm: algorithm,
        })
    }

    /// Decrypt a ciphertext blob made by Encrypt, GenerateDataKey or ReEncrypt, or an RSA-OAEP
    /// or SM2 ciphertext made with an asymmetric key's public key (then `key_id` and the
    /// algorithm are required).
    pub async fn decrypt(
        &self,
        caller: &Caller,
        key_id: Option<&str>,
        ciphertext: &[u8],
        context: &EncryptionContext,
        algorithm: Option<EncryptionAlgorithm>,
        dry_run: bool,
    ) -> Result<DecryptOutput, CoreError> {
        let sealed = Sealed {
            key_id,
            ciphertext,
            context,
            algorithm,
        };
        let opened = self.open(caller, Action::Decrypt, sealed, dry_run).await?;
        self.record_usage(caller, &opened.key, Action::Decrypt);
        Ok(DecryptOutput {
            key_arn: opened.key.arn(),
            plaintext: opened.plaintext,
            key_material_id: opened.key_material_id,
            encryption_algorithm: opened.algorithm,
        })
    }

    /// ReEncrypt: decrypt under the source key and encrypt under the destination key, without
    /// the plaintext leaving Trent. Either key may be an asymmetric encryption key.
    pub async fn re_encrypt(
        &self,
        caller: &Caller,
        input: ReEncryptInput<'_>,
    ) -> Result<ReEncryptOutput, CoreError> {
        let ReEncryptInput {
            ciphertext,
            source_key_id,
            source_context,
            source_algorithm,
            destination_key_id,
            destination_context,
            destination_algorithm,
            dry_run,
        } = input;
        let dest = self
            .usable_key(caller, destination_key_id, Action::ReEncryptTo)
            .await?
            .record;
        let destination_algorithm =
            check_encryption(&dest, Action::ReEncrypt, destination_algorithm)?;
        let sealed = Sealed {
            key_id: source_key_id,
            ciphertext,
            context: source_context,
            algorithm: source_algorithm,
        };
        let source = self
            .open(caller, Action::ReEncryptFrom, sealed, dry_run)
            .await?;
        check_plaintext_length(&dest, destination_algorithm, source.plaintext.len())?;
        let (ciphertext, material_id) = self
            .seal(
                &dest,
                source.plaintext.as_bytes(),
                destination_context,
                destination_algorithm,
            )
            .await?;
        self.record_usage(caller, &source.key, Action::ReEncrypt);
        self.record_usage(caller, &dest, Action::ReEncrypt);
        Ok(ReEncryptOutput {
            source_key_arn: source.key.arn(),
            source_key_material_id: source.key_material_id,
            source_encryption_algorithm: source.algorithm,
            key_arn: dest.arn(),
            ciphertext,
            key_material_id: material_id,
            destination_encryption_algorithm: destination_algorithm,
        })
    }

    /// Decrypt with `DryRun` and `DryRunModifiers: [IGNORE_CIPHERTEXT]`: checks the named
    /// key (that it exists, can decrypt, is usable and the caller may decrypt with it) without
    /// reading any ciphertext, and answers DryRunOperationException if all is well (API
    /// Reference, Decrypt: CiphertextBlob is required except with this modifier). With no
    /// ciphertext to name the key, KeyId is required.
    pub async fn decrypt_dry_run_ignoring_ciphertext(
        &self,
        caller: &Caller,
        key_id: Option<&str>,
        context: &EncryptionContext,
        algorithm: Option<EncryptionAlgorithm>,
    ) -> Result<std::convert::Infallible, CoreError> {
        self.check_source_ignoring_ciphertext(caller, Action::Decrypt, key_id, context, algorithm)
            .await?;
        Err(CoreError::DryRun)
    }

    /// ReEncrypt with `DryRun` and `DryRunModifiers: [IGNORE_CIPHERTEXT]`: the destination
    /// key as in a dry run, the source key (SourceKeyId, then required) without a ciphertext.
    pub async fn re_encrypt_dry_run_ignoring_ciphertext(
        &self,
        caller: &Caller,
        input: ReEncryptKeysInput<'_>,
    ) -> Result<std::convert::Infallible, CoreError> {
        let ReEncryptKeysInput {
            source_key_id,
            source_context,
            source_algorithm,
            destination_key_id,
            destination_context,
            destination_algorithm,
        } = input;
        let dest = self
            .usable_key(caller, destination_key_id, Action::ReEncryptTo)
            .await?
            .record;
        check_encryption(&dest, Action::ReEncrypt, destination_algorithm)?;
        check_encryption_context(destination_context)?;
        self.check_source_ignoring_ciphertext(
            caller,
            Action::ReEncryptFrom,
            source_key_id,
            source_context,
            source_algorithm,
        )
        .await?;
        Err(CoreError::DryRun)
    }

    /// The checks of [`Kms::open`] that need no ciphertext, on the key the caller names.
    async fn check_source_ignoring_ciphertext(
        &self,
        caller: &Caller,
        action: Action,
        key_id: Option<&str>,
        context: &EncryptionContext,
        algorithm: Option<EncryptionAlgorithm>,
    ) -> Result<(), CoreError> {
        let member = if action == Action::Decrypt {
            "KeyId"
        } else {
            "SourceKeyId"
        };
        let key_id = key_id.ok_or_else(|| {
            CoreError::Validation(format!(
                "{member} is required when DryRunModifiers includes IGNORE_CIPHERTEXT."
            ))
        })?;
        let key = self.resolve(caller, key_id).await?;
        check_encryption_context(context)?;
        if key.key_usage != KeyUsage::EncryptDecrypt {
            return Err(incorrect_key());
        }
        self.authorize(caller, action, &key).await?;
        key_state::check(action.operation(), &key)?;
        check_encryption(&key, action.operation(), algorithm)?;
        Ok(())
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
        check_symmetric_encryption_key(&key, action)?;
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let data_key = random_bytes(size.bytes())?;
        let (ciphertext, key_material_id) = self
            .seal(
                &key,
                data_key.as_bytes(),
                context,
                EncryptionAlgorithm::SymmetricDefault,
            )
            .await?;
        self.record_usage(caller, &key, action);
        Ok(DataKeyOutput {
            key_arn: key.arn(),
            ciphertext,
            plaintext: with_plaintext.then_some(data_key),
            key_material_id,
        })
    }

    /// GenerateDataKeyPair / GenerateDataKeyPairWithoutPlaintext: a fresh key pair for use
    /// outside Trent, its private key encrypted under a symmetric encryption key. Key pairs
    /// are made on the blocking thread pool (RSA 4096 takes seconds).
    pub async fn generate_data_key_pair(
        &self,
        caller: &Caller,
        key_id: &str,
        key_pair_spec: DataKeyPairSpec,
        context: &EncryptionContext,
        with_plaintext: bool,
        dry_run: bool,
    ) -> Result<DataKeyPairOutput, CoreError> {
        let action = if with_plaintext {
            Action::GenerateDataKeyPair
        } else {
            Action::GenerateDataKeyPairWithoutPlaintext
        };
        let key = self.usable_key(caller, key_id, action).await?.record;
        check_symmetric_encryption_key(&key, action)?;
        check_encryption_context(context)?;
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let (private_key, public_key) =
            run_blocking(move || trent_crypto::asymmetric::generate_data_key_pair(key_pair_spec))
                .await??;
        let (private_key_ciphertext, key_material_id) = self
            .seal(
                &key,
                private_key.as_bytes(),
                context,
                EncryptionAlgorithm::SymmetricDefault,
            )
            .await?;
        self.record_usage(caller, &key, action);
        Ok(DataKeyPairOutput {
            key_arn: key.arn(),
            private_key_ciphertext,
            private_key_plaintext: with_plaintext.then_some(private_key),
            public_key,
            key_pair_spec,
            key_material_id,
        })
    }

    /// GenerateRandom: 1..=1024 random bytes.
    pub fn generate_random(&self, number_of_bytes: Option<i32>) -> Result<SecretBytes, CoreError> {
        // AWS's message, as recorded in LocalStack's AWS-validated snapshot
        // (`test_generate_random_invalid_number_of_bytes[None]`).
        let n = number_of_bytes
            .ok_or_else(|| CoreError::Validation("NumberOfBytes is required.".into()))?;
        Ok(random_bytes(n.clamp(1, 1024) as usize)?)
    }

    /// Encrypts under the key's current material with `algorithm` (already checked against
    /// the key). The encryption context binds only symmetric ciphertexts; asymmetric
    /// encryption algorithms have no place for it.
    pub(crate) async fn seal(
        &self,
        key: &KeyRecord,
        plaintext: &[u8],
        context: &EncryptionContext,
        algorithm: EncryptionAlgorithm,
    ) -> Result<(Vec<u8>, KeyMaterialId), CoreError> {
        check_encryption_context(context)?;
        let material_id = key.current_key_material_id;
        let material = self.current_material(key).await?;
        let blob = match (&*material, algorithm.asymmetric()) {
            (KeyMaterial::Symmetric(m), None) => {
                symmetric::encrypt(m, *key.key_id.as_bytes(), material_id.0, plaintext, context)?
            }
            (KeyMaterial::Asymmetric(private), Some(a)) => private.encrypt(a, plaintext)?,
            _ => {
                return Err(CoreError::Internal(format!(
                    "{algorithm} does not fit the material of {}",
                    key.arn()
                )))
            }
        };
        Ok((blob, material_id))
    }

    /// Finds the key of a ciphertext, checks the caller may use it, and decrypts.
    ///
    /// A symmetric blob names its key; an asymmetric ciphertext does not, so it is decrypted
    /// only when the caller names an asymmetric key and an asymmetric algorithm. Otherwise the
    /// ciphertext is read as a symmetric blob, so an RSA ciphertext sent without its algorithm
    /// is an InvalidCiphertextException, as AWS answers.
    async fn open(
        &self,
        caller: &Caller,
        action: Action,
        sealed: Sealed<'_>,
        dry_run: bool,
    ) -> Result<Opened, CoreError> {
        let Sealed {
            key_id,
            ciphertext,
            context,
            algorithm,
        } = sealed;
        let named = match key_id {
            Some(k) => Some(self.resolve(caller, k).await?),
            None => None,
        };
        check_encryption_context(context)?;
        if let Some(key) = &named {
            // A named key that cannot decrypt at all (signing, MAC, key agreement): AWS
            // answers IncorrectKeyException for Decrypt and ReEncrypt alike (recorded in
            // LocalStack's AWS-validated `test_error_messaging_for_invalid_keys`).
            if key.key_usage != KeyUsage::EncryptDecrypt {
                return Err(incorrect_key());
            }
            let asymmetric_algorithm = algorithm.is_some_and(|a| a.asymmetric().is_some());
            if key.key_spec.is_asymmetric() && asymmetric_algorithm {
                return self
                    .open_asymmetric(caller, action, key.clone(), ciphertext, algorithm, dry_run)
                    .await;
            }
        }
        let parsed = blob::parse(ciphertext).map_err(|_| invalid_ciphertext())?;
        if let Some(named) = &named {
            if named.key_id.as_bytes() != &parsed.header.key_id {
                return Err(incorrect_key());
            }
        }
        let key = match named {
            Some(k) => k,
            None => self
                .key_by_blob_id(caller.region, parsed.header.key_id)
                .await?
                .ok_or_else(invalid_ciphertext)?,
        };
        if key.deleted_date.is_some() {
            return Err(CoreError::NotFound(format!(
                "Key '{}' does not exist",
                key.arn()
            )));
        }
        self.authorize(caller, action, &key).await?;
        key_state::check(action.operation(), &key)?;
        let algorithm = check_encryption(&key, action.operation(), algorithm)?;
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let material_id = KeyMaterialId(parsed.header.key_material_id);
        let material = self
            .material(&key, material_id)
            .await?
            .ok_or_else(invalid_ciphertext)?;
        let material = material.symmetric().ok_or_else(invalid_ciphertext)?;
        let plaintext =
            symmetric::decrypt(material, &parsed, context).map_err(|_| invalid_ciphertext())?;
        Ok(Opened {
            key,
            plaintext,
            key_material_id: material_id,
            algorithm,
        })
    }

    /// Decrypts an RSA-OAEP or SM2 ciphertext with the private key of the named key.
    async fn open_asymmetric(
        &self,
        caller: &Caller,
        action: Action,
        key: Arc<KeyRecord>,
        ciphertext: &[u8],
        algorithm: Option<EncryptionAlgorithm>,
        dry_run: bool,
    ) -> Result<Opened, CoreError> {
        self.authorize(caller, action, &key).await?;
        key_state::check(action.operation(), &key)?;
        let algorithm = check_encryption(&key, action.operation(), algorithm)?;
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let material = self.current_material(&key).await?;
        let (Some(private), Some(a)) = (material.private_key(), algorithm.asymmetric()) else {
            return Err(CoreError::Internal(format!(
                "{} has no private key for {algorithm}",
                key.arn()
            )));
        };
        let plaintext = private
            .decrypt(a, ciphertext)
            .map_err(|_| invalid_ciphertext())?;
        Ok(Opened {
            key_material_id: key.current_key_material_id,
            key,
            plaintext,
            algorithm,
        })
    }
}

/// A decrypted ciphertext and what decrypted it.
struct Opened {
    key: Arc<KeyRecord>,
    plaintext: SecretBytes,
    key_material_id: KeyMaterialId,
    algorithm: EncryptionAlgorithm,
}

/// AWS's IncorrectKeyException: the named key is not the one that can decrypt.
fn incorrect_key() -> CoreError {
    CoreError::IncorrectKey(
        "The key ID in the request does not identify a CMK that can perform this operation.".into(),
    )
}

/// AWS sends InvalidCiphertextException without a message.
fn invalid_ciphertext() -> CoreError {
    CoreError::InvalidCiphertext(String::new())
}

/// `<key ARN> key usage is <usage> which is not valid for <operation>.` — AWS's
/// InvalidKeyUsageException when a key's usage does not allow the operation.
pub(crate) fn wrong_key_usage(key: &KeyRecord, action: Action) -> CoreError {
    CoreError::InvalidKeyUsage(format!(
        "{} key usage is {} which is not valid for {}.",
        key.arn(),
        key.key_usage,
        action.name()
    ))
}

/// `Algorithm <alg> is incompatible with key spec <spec>.` — AWS's InvalidKeyUsageException
/// when the algorithm does not fit the key.
pub(crate) fn incompatible_algorithm(
    algorithm: impl std::fmt::Display,
    key: &KeyRecord,
) -> CoreError {
    CoreError::InvalidKeyUsage(format!(
        "Algorithm {algorithm} is incompatible with key spec {}.",
        key.key_spec
    ))
}

/// The key must be an encryption key (ENCRYPT_DECRYPT) and the algorithm (default
/// SYMMETRIC_DEFAULT) one its key spec supports. Returns the algorithm to use.
fn check_encryption(
    key: &KeyRecord,
    action: Action,
    algorithm: Option<EncryptionAlgorithm>,
) -> Result<EncryptionAlgorithm, CoreError> {
    if key.key_usage != KeyUsage::EncryptDecrypt {
        return Err(wrong_key_usage(key, action));
    }
    let algorithm = algorithm.unwrap_or(EncryptionAlgorithm::SymmetricDefault);
    if !key
        .key_spec
        .algorithms(KeyUsage::EncryptDecrypt)
        .encryption
        .contains(&algorithm)
    {
        return Err(incompatible_algorithm(algorithm, key));
    }
    Ok(algorithm)
}

/// GenerateDataKey(Pair) and friends encrypt under a symmetric encryption key only.
pub(crate) fn check_symmetric_encryption_key(
    key: &KeyRecord,
    action: Action,
) -> Result<(), CoreError> {
    if key.key_usage != KeyUsage::EncryptDecrypt {
        return Err(wrong_key_usage(key, action));
    }
    if key.key_spec != KeySpec::SymmetricDefault {
        return Err(CoreError::InvalidKeyUsage(format!(
            "{} key KeySpec is {} which is not valid for {}.",
            key.arn(),
            key.key_spec,
            action.name()
        )));
    }
    Ok(())
}

/// The plaintext limits AWS documents for Encrypt: 4096 bytes under a symmetric key, and for
/// RSA the OAEP limit of the key size and hash (RSA_2048: 214 bytes with SHA-1, 190 with
/// SHA-256), SM2PKE 1024 bytes.
fn check_plaintext_length(
    key: &KeyRecord,
    algorithm: EncryptionAlgorithm,
    len: usize,
) -> Result<(), CoreError> {
    let limit = match (algorithm.asymmetric(), key.key_spec.key_pair_spec()) {
        (Some(a), Some(pair)) => trent_crypto::asymmetric::max_plaintext_len(pair, a).unwrap_or(0),
        _ => MAX_PLAINTEXT,
    };
    if len <= limit {
        return Ok(());
    }
    Err(CoreError::Validation(
        if algorithm == EncryptionAlgorithm::SymmetricDefault {
            format!(
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to {MAX_PLAINTEXT}"
        )
        } else {
            format!(
            "Algorithm {algorithm} and key spec {} cannot encrypt data larger than {limit} bytes.",
            key.key_spec
        )
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::asymmetric::tests::key;

    #[test]
    fn encryption_algorithm_defaults_to_symmetric_and_must_fit_the_key() {
        let sym = key(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
        let rsa = key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
        let signer = key(KeySpec::Rsa2048, KeyUsage::SignVerify);
        assert_eq!(
            check_encryption(&sym, Action::Encrypt, None).unwrap(),
            EncryptionAlgorithm::SymmetricDefault
        );
        assert_eq!(
            check_encryption(
                &rsa,
                Action::Encrypt,
                Some(EncryptionAlgorithm::RsaesOaepSha1)
            )
            .unwrap(),
            EncryptionAlgorithm::RsaesOaepSha1
        );
        let e = check_encryption(&rsa, Action::Encrypt, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."
        );
        let e =
            check_encryption(&rsa, Action::Encrypt, Some(EncryptionAlgorithm::Sm2Pke)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Algorithm SM2PKE is incompatible with key spec RSA_2048."
        );
        let e = check_encryption(
            &signer,
            Action::Decrypt,
            Some(EncryptionAlgorithm::RsaesOaepSha1),
        )
        .unwrap_err();
        assert!(e
            .to_string()
            .ends_with("key usage is SIGN_VERIFY which is not valid for Decrypt."));
    }

    #[test]
    fn plaintext_limits_are_awss_per_key_size_and_hash() {
        let cases = [
            (KeySpec::Rsa2048, EncryptionAlgorithm::RsaesOaepSha1, 214),
            (KeySpec::Rsa2048, EncryptionAlgorithm::RsaesOaepSha256, 190),
            (KeySpec::Rsa3072, EncryptionAlgorithm::RsaesOaepSha1, 342),
            (KeySpec::Rsa3072, EncryptionAlgorithm::RsaesOaepSha256, 318),
            (KeySpec::Rsa4096, EncryptionAlgorithm::RsaesOaepSha1, 470),
            (KeySpec::Rsa4096, EncryptionAlgorithm::RsaesOaepSha256, 446),
            (KeySpec::Sm2, EncryptionAlgorithm::Sm2Pke, 1024),
            (
                KeySpec::SymmetricDefault,
                EncryptionAlgorithm::SymmetricDefault,
                4096,
            ),
        ];
        for (spec, alg, limit) in cases {
            let k = key(spec, KeyUsage::EncryptDecrypt);
            assert!(
                check_plaintext_length(&k, alg, limit).is_ok(),
                "{spec} {alg}"
            );
            let e = check_plaintext_length(&k, alg, limit + 1).unwrap_err();
            assert!(matches!(e, CoreError::Validation(_)), "{spec} {alg}");
            if alg != EncryptionAlgorithm::SymmetricDefault {
                assert_eq!(
                    e.to_string(),
                    format!("Algorithm {alg} and key spec {spec} cannot encrypt data larger than {limit} bytes.")
                );
            }
        }
    }

    #[test]
    fn data_keys_need_a_symmetric_encryption_key() {
        let sym = key(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
        let rsa = key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
        let hmac = key(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
        assert!(check_symmetric_encryption_key(&sym, Action::GenerateDataKeyPair).is_ok());
        let e = check_symmetric_encryption_key(&rsa, Action::GenerateDataKey).unwrap_err();
        assert!(e
            .to_string()
            .ends_with("key KeySpec is RSA_2048 which is not valid for GenerateDataKey."));
        let e = check_symmetric_encryption_key(&hmac, Action::GenerateDataKeyPair).unwrap_err();
        assert!(e.to_string().ends_with(
            "key usage is GENERATE_VERIFY_MAC which is not valid for GenerateDataKeyPair."
        ));
    }
}
