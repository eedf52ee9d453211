//! Imported key material (BYOK, ARCHITECTURE.md §3.1): GetParametersForImport,
//! ImportKeyMaterial, DeleteImportedKeyMaterial, and the expiry of imported material by the
//! maintenance job.
//!
//! A key created with Origin EXTERNAL has no material and is `PendingImport`. Its import
//! bookkeeping ([`ImportDocument`], stored opaque as the store's [`ImportRecord`]) holds:
//!
//! * the parameter sets GetParametersForImport handed out: a fresh RSA wrapping key pair each,
//!   the private key stored only wrapped under the root key (AAD: purpose, key ARN, token id),
//!   valid 24 hours, erased when its token is used or when it expires;
//! * each version of imported material: its id (computed from the key id and the material, as
//!   AWS does, so a reimport of the same material is recognised and other material is
//!   IncorrectKeyMaterialException), whether it is in the key now, its expiration model,
//!   `ValidTo` and description.
//!
//! The import token is `1 ‖ token id (16) ‖ RootKey::wrap(ParametersValidTo)`, wrapped with AAD
//! (`import-token`, key ARN, token id): only this Trent can make one, and a token of another key
//! does not open for this one (InvalidImportTokenException).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use trent_crypto::import::{
    unwrap_key_material, WrappingAlgorithm, WrappingKeyPair, WrappingKeySpec,
};
use trent_crypto::random::random_array;
use trent_crypto::root::import_parameters_aad;
use trent_crypto::CryptoError;

use crate::action::Action;
use crate::audit_intent::{self};
use crate::caller::Caller;
use crate::error::CoreError;
use crate::kms::Kms;
use crate::material::{run_blocking, KeyMaterial};
use crate::model::{
    ExpirationModel, ImportState, ImportType, KeyAddr, KeyMaterialId, KeyMaterialRecord,
    KeyMaterialState, KeyRecord, KeySpec, KeyState, Origin,
};
use crate::ops::lifecycle::{recorded, ServiceEvent, ServiceEventAudit, ServiceEventKind};
use crate::store::{ImportChange, ImportRecord};

/// How long a wrapping key and import token stay valid (API Reference, GetParametersForImport:
/// "Each public key and import token set is valid for 24 hours").
pub const PARAMETERS_VALIDITY: Duration = Duration::hours(24);
/// The latest `ValidTo` ImportKeyMaterial accepts, from the request date (API Reference,
/// ImportKeyMaterial `ValidTo`: "The maximum value is 365 days from the request date").
pub const MAX_VALID_TO: Duration = Duration::days(365);

const TOKEN_VERSION: u8 = 1;
const TOKEN_ID_LEN: usize = 16;

/// Serializes import bookkeeping so read-modify-write of one key's document never loses a
/// parameter set to a concurrent request (one node: the store is this process's alone).
static IMPORT_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One parameter set of GetParametersForImport, as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredParameters {
    /// Hex of the 16-byte token id.
    token_id: String,
    wrapping_algorithm: String,
    wrapping_key_spec: String,
    /// Hex of the wrapping private key (PKCS#8) wrapped under the root key.
    wrapped_private_key: String,
    valid_to_ms: i64,
}

/// One version of imported material, as stored.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct StoredImport {
    /// Hex of the key material id.
    key_material_id: String,
    /// Whether the material is in the key now (`IMPORTED`) or was deleted or expired.
    imported: bool,
    /// `KeyMaterialState` as AWS names it.
    state: String,
    /// `ExpirationModel`, when imported.
    expiration_model: Option<String>,
    /// `ValidTo` in Unix milliseconds, when the material expires.
    valid_to_ms: Option<i64>,
    /// `KeyMaterialDescription`.
    description: Option<String>,
    /// When it was (last) imported, Unix milliseconds.
    import_date_ms: Option<i64>,
}

/// A key's import bookkeeping, serialized as JSON into its [`ImportRecord`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ImportDocument {
    parameters: Vec<StoredParameters>,
    imports: Vec<StoredImport>,
}

impl ImportDocument {
    fn parse(record: Option<ImportRecord>) -> Result<Self, CoreError> {
        match record {
            None => Ok(Self::default()),
            Some(r) => serde_json::from_slice(&r.document).map_err(|e| {
                CoreError::Internal(format!("import bookkeeping does not parse: {e}"))
            }),
        }
    }

    fn record(&self, key: KeyAddr) -> Result<ImportRecord, CoreError> {
        let document = serde_json::to_vec(self)
            .map_err(|e| CoreError::Internal(format!("import bookkeeping: {e}")))?;
        let next = self
            .parameters
            .iter()
            .map(|p| p.valid_to_ms)
            .chain(
                self.imports
                    .iter()
                    .filter(|i| i.imported)
                    .filter_map(|i| i.valid_to_ms),
            )
            .min();
        Ok(ImportRecord {
            key,
            document,
            next_expiry: next.map(from_ms).transpose()?,
        })
    }

    /// Drops the parameter sets whose validity ended by `now` (erasing their wrapped keys).
    fn prune_parameters(&mut self, now: OffsetDateTime) -> Result<(), CoreError> {
        let now = to_ms(now)?;
        self.parameters.retain(|p| p.valid_to_ms > now);
        Ok(())
    }

    fn import_of(&self, id: &KeyMaterialId) -> Option<&StoredImport> {
        let hex = id.to_hex();
        self.imports.iter().find(|i| i.key_material_id == hex)
    }

    /// What DescribeKey shows of the current material's expiration.
    fn current_expiration(
        &self,
        key: &KeyRecord,
    ) -> Option<(ExpirationModel, Option<OffsetDateTime>)> {
        let current = self.import_of(&key.current_key_material_id)?;
        let model = current.expiration_model.as_deref()?.parse().ok()?;
        let valid_to = current.valid_to_ms.and_then(|ms| from_ms(ms).ok());
        Some((model, valid_to))
    }
}

/// GetParametersForImport's answer.
#[derive(Debug)]
pub struct ImportParameters {
    /// The key's ARN.
    pub key_arn: String,
    /// The opaque import token.
    pub import_token: Vec<u8>,
    /// The wrapping public key, DER SubjectPublicKeyInfo.
    pub public_key: Vec<u8>,
    /// When the token and wrapping key stop being valid.
    pub parameters_valid_to: OffsetDateTime,
}

/// What ImportKeyMaterial was asked for, already converted from the wire.
#[derive(Debug)]
pub struct ImportKeyMaterialInput {
    /// `KeyId`.
    pub key_id: String,
    /// `ImportToken`.
    pub import_token: Vec<u8>,
    /// `EncryptedKeyMaterial` (wrapped: no secret until unwrapped).
    pub encrypted_key_material: Vec<u8>,
    /// `ValidTo`.
    pub valid_to: Option<OffsetDateTime>,
    /// `ExpirationModel`; `None` means KEY_MATERIAL_EXPIRES, AWS's default.
    pub expiration_model: Option<ExpirationModel>,
    /// `ImportType`.
    pub import_type: Option<ImportType>,
    /// `KeyMaterialDescription`.
    pub key_material_description: Option<String>,
    /// `KeyMaterialId` (hex).
    pub key_material_id: Option<String>,
}

/// ImportKeyMaterial's and DeleteImportedKeyMaterial's answer.
#[derive(Debug)]
pub struct ImportOutcome {
    /// The key's ARN.
    pub key_arn: String,
    /// The key material imported or deleted.
    pub key_material_id: KeyMaterialId,
}

/// The imported-material facts DescribeKey and ListKeyRotations show of a key.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportFacts {
    /// `ExpirationModel` of the current material.
    pub expiration_model: Option<ExpirationModel>,
    /// `ValidTo` of the current material.
    pub valid_to: Option<OffsetDateTime>,
    /// Whether the key ever had material (CurrentKeyMaterialId names something).
    pub has_material: bool,
}

/// One version of imported material as ListKeyRotations shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedVersion {
    /// The version.
    pub key_material_id: KeyMaterialId,
    /// `ImportState`.
    pub import_state: ImportState,
    /// `KeyMaterialState`.
    pub key_material_state: KeyMaterialState,
    /// `ExpirationModel`.
    pub expiration_model: Option<ExpirationModel>,
    /// `ValidTo`.
    pub valid_to: Option<OffsetDateTime>,
    /// `KeyMaterialDescription`.
    pub description: Option<String>,
    /// When it was (last) imported.
    pub import_date: Option<OffsetDateTime>,
}

fn to_ms(t: OffsetDateTime) -> Result<i64, CoreError> {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| CoreError::Internal("timestamp out of range".into()))
}

fn from_ms(ms: i64) -> Result<OffsetDateTime, CoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| CoreError::Internal("stored timestamp out of range".into()))
}

/// The key specs whose material can be imported: symmetric, HMAC, RSA, ECC (NIST and
/// secp256k1) and SM2 (Developer Guide, "Requirements for imported key material").
pub fn importable(spec: KeySpec) -> bool {
    !(spec.is_ml_dsa()
        || matches!(
            spec,
            KeySpec::EccNistEdwards25519
                | KeySpec::MlKem512
                | KeySpec::MlKem768
                | KeySpec::MlKem1024
        ))
}

fn not_external(key: &KeyRecord) -> CoreError {
    // LocalStack's AWS-validated provider answers a key of another origin this way.
    CoreError::UnsupportedOperation(format!(
        "{} origin is {} which is not valid for this operation.",
        key.arn(),
        key.origin
    ))
}

/// AWS's combination rules for a wrapping algorithm and key spec, for material of `spec`
/// (API Reference, GetParametersForImport `WrappingAlgorithm`).
fn check_wrapping(
    region: &str,
    spec: KeySpec,
    algorithm: WrappingAlgorithm,
    wrapping: WrappingKeySpec,
) -> Result<(), CoreError> {
    let china = region.starts_with("cn-");
    match algorithm {
        WrappingAlgorithm::RsaesPkcs1V15 => {
            // "As of October 10, 2023, KMS does not support the RSAES_PKCS1_V1_5 wrapping
            // algorithm."
            return Err(CoreError::Validation(
                "The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported.".into(),
            ));
        }
        WrappingAlgorithm::Sm2Pke => {
            // "SM2PKE (China Regions only)". Trent does not implement it in any partition.
            return Err(if china {
                CoreError::UnsupportedOperation(
                    "The SM2PKE wrapping algorithm is not supported by this Trent version.".into(),
                )
            } else {
                CoreError::Validation(format!(
                    "The SM2PKE wrapping algorithm is not supported in {region}."
                ))
            });
        }
        _ => {}
    }
    if wrapping == WrappingKeySpec::Sm2 {
        return Err(CoreError::Validation(if china {
            format!("WrappingKeySpec SM2 requires the SM2PKE wrapping algorithm, not {algorithm}.")
        } else {
            format!("WrappingKeySpec SM2 is not supported in {region}.")
        }));
    }
    if !algorithm.is_rsa_aes() {
        // "RSAES_OAEP_SHA_* — Supported for all types of key material, except RSA key material
        // (private key). You cannot use the RSAES_OAEP_SHA_* wrapping algorithm with the
        // RSA_2048 wrapping key spec to wrap ECC_NIST_P521 key material."
        if matches!(spec, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096) {
            return Err(CoreError::Validation(format!(
                "{algorithm} cannot wrap {spec} key material: use RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256."
            )));
        }
        if spec == KeySpec::EccNistP521 && wrapping == WrappingKeySpec::Rsa2048 {
            return Err(CoreError::Validation(format!(
                "{algorithm} with an RSA_2048 wrapping key cannot wrap {spec} key material."
            )));
        }
    }
    Ok(())
}

impl Kms {
    /// The key's import bookkeeping, parsed.
    async fn import_document(&self, key: KeyAddr) -> Result<ImportDocument, CoreError> {
        ImportDocument::parse(self.store.get_import_record(key).await?)
    }

    /// The imported-material facts of an EXTERNAL key (DescribeKey); `None` for other keys.
    pub async fn import_facts(&self, key: &KeyRecord) -> Result<Option<ImportFacts>, CoreError> {
        if key.origin != Origin::External {
            return Ok(None);
        }
        let doc = self.import_document(key.addr()).await?;
        let current = doc
            .import_of(&key.current_key_material_id)
            .filter(|i| i.imported);
        let (expiration_model, valid_to) = match current {
            Some(_) => doc
                .current_expiration(key)
                .map(|(m, v)| (Some(m), v))
                .unwrap_or((None, None)),
            None => (None, None),
        };
        Ok(Some(ImportFacts {
            expiration_model,
            valid_to,
            has_material: !doc.imports.is_empty(),
        }))
    }

    /// Every version of imported material of an EXTERNAL key, oldest first (ListKeyRotations).
    pub async fn imported_versions(
        &self,
        key: &KeyRecord,
    ) -> Result<Vec<ImportedVersion>, CoreError> {
        if key.origin != Origin::External {
            return Ok(Vec::new());
        }
        let doc = self.import_document(key.addr()).await?;
        doc.imports
            .iter()
            .map(|i| {
                Ok(ImportedVersion {
                    key_material_id: KeyMaterialId::from_hex(&i.key_material_id).ok_or_else(
                        || CoreError::Internal("stored key material id is not hex".into()),
                    )?,
                    import_state: if i.imported {
                        ImportState::Imported
                    } else {
                        ImportState::PendingImport
                    },
                    key_material_state: i.state.parse().unwrap_or(KeyMaterialState::NonCurrent),
                    expiration_model: i.expiration_model.as_deref().and_then(|m| m.parse().ok()),
                    valid_to: i.valid_to_ms.map(from_ms).transpose()?,
                    description: i.description.clone(),
                    import_date: i.import_date_ms.map(from_ms).transpose()?,
                })
            })
            .collect()
    }

    /// CreateKey with Origin EXTERNAL: the key without material, `PendingImport`.
    pub(crate) async fn create_external_key(&self, record: KeyRecord) -> Result<(), CoreError> {
        let import = ImportDocument::default().record(record.addr())?;
        self.store
            .create_key_without_material(record, import)
            .await?;
        Ok(())
    }

    /// GetParametersForImport: a fresh wrapping key pair and its import token, bound to the
    /// key, the wrapping key and the algorithm, valid 24 hours.
    pub async fn get_parameters_for_import(
        &self,
        caller: &Caller,
        key_id: &str,
        algorithm: WrappingAlgorithm,
        wrapping_key_spec: WrappingKeySpec,
    ) -> Result<ImportParameters, CoreError> {
        let key = self
            .usable_key(caller, key_id, Action::GetParametersForImport)
            .await?
            .record;
        if key.origin != Origin::External {
            return Err(not_external(&key));
        }
        check_wrapping(&key.region, key.key_spec, algorithm, wrapping_key_spec)?;
        let pair = run_blocking(move || WrappingKeyPair::generate(wrapping_key_spec)).await??;
        let token_id: [u8; TOKEN_ID_LEN] = random_array()?;
        let now = self.now();
        let valid_to = now + PARAMETERS_VALIDITY;
        let valid_to_ms = to_ms(valid_to)?;
        let arn = key.arn();
        let wrapped_private_key = self.root_key.wrap(
            &import_parameters_aad(b"wrapping-key", &arn, &token_id),
            pair.private_pkcs8.as_bytes(),
        )?;
        let mut token = vec![TOKEN_VERSION];
        token.extend_from_slice(&token_id);
        token.extend_from_slice(&self.root_key.wrap(
            &import_parameters_aad(b"import-token", &arn, &token_id),
            &valid_to_ms.to_be_bytes(),
        )?);
        let _guard = IMPORT_LOCK.lock().await;
        let mut doc = self.import_document(key.addr()).await?;
        doc.prune_parameters(now)?;
        doc.parameters.push(StoredParameters {
            token_id: hex::encode(token_id),
            wrapping_algorithm: algorithm.as_str().into(),
            wrapping_key_spec: wrapping_key_spec.as_str().into(),
            wrapped_private_key: hex::encode(wrapped_private_key),
            valid_to_ms,
        });
        self.commit_import(&key, doc, None, Vec::new(), |_| Ok(()))
            .await?;
        Ok(ImportParameters {
            key_arn: arn,
            import_token: token,
            public_key: pair.public_der,
            parameters_valid_to: valid_to,
        })
    }

    /// Stores a changed document (and material) with a key update, in one transaction.
    async fn commit_import(
        &self,
        key: &KeyRecord,
        doc: ImportDocument,
        put_material: Option<KeyMaterialRecord>,
        delete_materials: Vec<KeyMaterialId>,
        update: impl FnOnce(&mut KeyRecord) -> Result<(), CoreError> + Send + 'static,
    ) -> Result<Arc<KeyRecord>, CoreError> {
        let record = doc.record(key.addr())?;
        let updated = self
            .store
            .apply_import_change(
                key.addr(),
                ImportChange {
                    update: Box::new(move |k: &mut KeyRecord| {
                        if k.deleted_date.is_some() {
                            return Err(CoreError::NotFound(format!(
                                "Key '{}' does not exist",
                                k.arn()
                            )));
                        }
                        update(k)
                    }),
                    put_material,
                    delete_materials: delete_materials.clone(),
                    record,
                },
            )
            .await?;
        for id in delete_materials {
            self.forget_material(key.addr(), id);
        }
        let updated = Arc::new(updated);
        self.remember_key(updated.clone());
        Ok(updated)
    }

    /// Opens an import token for `key`: the token id and ParametersValidTo, or AWS's errors.
    fn open_token(
        &self,
        key: &KeyRecord,
        token: &[u8],
    ) -> Result<([u8; TOKEN_ID_LEN], i64), CoreError> {
        let invalid = || {
            CoreError::InvalidImportToken(format!(
                "The import token is not valid for {}.",
                key.arn()
            ))
        };
        let (version, rest) = token.split_first().ok_or_else(invalid)?;
        if *version != TOKEN_VERSION || rest.len() < TOKEN_ID_LEN {
            return Err(invalid());
        }
        let (id, sealed) = rest.split_at(TOKEN_ID_LEN);
        let mut token_id = [0u8; TOKEN_ID_LEN];
        token_id.copy_from_slice(id);
        let payload = self
            .root_key
            .unwrap(
                &import_parameters_aad(b"import-token", &key.arn(), &token_id),
                sealed,
            )
            .map_err(|_| invalid())?;
        let valid_to: [u8; 8] = payload.as_bytes().try_into().map_err(|_| invalid())?;
        Ok((token_id, i64::from_be_bytes(valid_to)))
    }

    /// ImportKeyMaterial: unwraps the material with the token's wrapping key, checks it
    /// against the key spec and the key's earlier material, and stores it; a `PendingImport`
    /// key becomes `Enabled`.
    pub async fn import_key_material(
        &self,
        caller: &Caller,
        input: ImportKeyMaterialInput,
    ) -> Result<ImportOutcome, CoreError> {
        let key = self
            .usable_key(caller, &input.key_id, Action::ImportKeyMaterial)
            .await?
            .record;
        if key.origin != Origin::External {
            return Err(not_external(&key));
        }
        let now = self.now();
        let model = input
            .expiration_model
            .unwrap_or(ExpirationModel::KeyMaterialExpires);
        match (model, input.valid_to) {
            (ExpirationModel::KeyMaterialExpires, None) => {
                return Err(CoreError::Validation(
                    "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"
                        .into(),
                ))
            }
            (ExpirationModel::KeyMaterialDoesNotExpire, Some(_)) => {
                return Err(CoreError::Validation(
                    "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE"
                        .into(),
                ))
            }
            (_, Some(v)) if v <= now => {
                return Err(CoreError::Validation(
                    "The ValidTo date must be in the future.".into(),
                ))
            }
            (_, Some(v)) if v > now + MAX_VALID_TO => {
                return Err(CoreError::Validation(
                    "The ValidTo date must be at most 365 days from the request date.".into(),
                ))
            }
            _ => {}
        }
        let import_type = input.import_type;
        if import_type == Some(ImportType::NewKeyMaterial) {
            if key.key_spec != KeySpec::SymmetricDefault {
                return Err(CoreError::UnsupportedOperation(format!(
                    "{} has key spec {}: only symmetric encryption keys take NEW_KEY_MATERIAL.",
                    key.arn(),
                    key.key_spec
                )));
            }
            if input.key_material_id.is_some() {
                return Err(CoreError::Validation(
                    "KeyMaterialId cannot be specified with ImportType NEW_KEY_MATERIAL.".into(),
                ));
            }
        }
        let claimed_id = match &input.key_material_id {
            None => None,
            Some(_) if key.key_spec != KeySpec::SymmetricDefault => {
                return Err(CoreError::Validation(
                    "KeyMaterialId can be specified only for symmetric encryption keys.".into(),
                ))
            }
            Some(hex) => Some(KeyMaterialId::from_hex(hex).ok_or_else(|| {
                CoreError::Validation(format!(
                    "KeyMaterialId {hex} is not a valid key material id."
                ))
            })?),
        };
        let (token_id, token_valid_to_ms) = self.open_token(&key, &input.import_token)?;
        if token_valid_to_ms <= to_ms(now)? {
            return Err(CoreError::ExpiredImportToken(format!(
                "The import token for {} expired.",
                key.arn()
            )));
        }
        let _guard = IMPORT_LOCK.lock().await;
        let mut doc = self.import_document(key.addr()).await?;
        doc.prune_parameters(now)?;
        let token_hex = hex::encode(token_id);
        let params = doc
            .parameters
            .iter()
            .position(|p| p.token_id == token_hex)
            .map(|i| doc.parameters[i].clone())
            .ok_or_else(|| {
                CoreError::InvalidImportToken(format!(
                    "The import token is not valid for {}.",
                    key.arn()
                ))
            })?;
        let algorithm: WrappingAlgorithm = params
            .wrapping_algorithm
            .parse()
            .map_err(|_| CoreError::Internal("stored wrapping algorithm".into()))?;
        let arn = key.arn();
        let wrapped_private = hex::decode(&params.wrapped_private_key)
            .map_err(|_| CoreError::Internal("stored wrapping key is not hex".into()))?;
        let private = self
            .root_key
            .unwrap(
                &import_parameters_aad(b"wrapping-key", &arn, &token_id),
                &wrapped_private,
            )
            .map_err(|_| {
                CoreError::Internal("wrapping key does not unwrap under the root key".into())
            })?;
        let encrypted = input.encrypted_key_material;
        let secret =
            run_blocking(move || unwrap_key_material(private.as_bytes(), algorithm, &encrypted))
                .await?
                .map_err(|e| match e {
                    CryptoError::DecryptFailed => CoreError::InvalidCiphertext(String::new()),
                    other => other.into(),
                })?;
        let spec = key.key_spec;
        let material = KeyMaterial::from_import(spec, secret.clone())?;
        let id = KeyMaterialId(material.imported_material_id(
            &self.root_key,
            key.key_id.as_bytes(),
            &secret,
        )?);
        drop(secret);
        let known = doc.import_of(&id).cloned();
        if let Some(claimed) = claimed_id {
            if claimed != id || known.is_none() {
                return Err(CoreError::IncorrectKeyMaterial(format!(
                    "The key material does not match key material id {}.",
                    claimed.to_hex()
                )));
            }
        }
        let first = doc.imports.is_empty();
        let new_material = import_type == Some(ImportType::NewKeyMaterial);
        if new_material {
            if first {
                return Err(CoreError::Validation(format!(
                    "{arn} has no key material yet: import its first key material with ImportType EXISTING_KEY_MATERIAL."
                )));
            }
            if known.is_some() {
                return Err(CoreError::IncorrectKeyMaterial(format!(
                    "This key material was imported into {arn} before: import it with ImportType EXISTING_KEY_MATERIAL."
                )));
            }
            if doc
                .imports
                .iter()
                .any(|i| i.state == KeyMaterialState::PendingRotation.as_str())
            {
                return Err(CoreError::Validation(format!(
                    "{arn} already has key material pending rotation."
                )));
            }
        } else if !first && known.is_none() {
            return Err(CoreError::IncorrectKeyMaterial(format!(
                "The key material does not match the key material previously imported into {arn}."
            )));
        }
        let state = match &known {
            Some(k) => k.state.clone(),
            None if first => KeyMaterialState::Current.as_str().into(),
            None => KeyMaterialState::PendingRotation.as_str().into(),
        };
        let entry = StoredImport {
            key_material_id: id.to_hex(),
            imported: true,
            state,
            expiration_model: Some(model.as_str().into()),
            valid_to_ms: input.valid_to.map(to_ms).transpose()?,
            description: input
                .key_material_description
                .or_else(|| known.as_ref().and_then(|k| k.description.clone())),
            import_date_ms: Some(to_ms(now)?),
        };
        match doc
            .imports
            .iter_mut()
            .find(|i| i.key_material_id == entry.key_material_id)
        {
            Some(existing) => *existing = entry,
            None => doc.imports.push(entry),
        }
        // The token is used: its wrapping key is erased.
        doc.parameters.retain(|p| p.token_id != token_hex);
        let wrapped = material.wrap(&self.root_key, &arn, &id.0)?;
        let stored = KeyMaterialRecord {
            region: key.region.clone(),
            key_id: key.key_id,
            key_material_id: id,
            wrapped,
            created: now,
            rotation_type: None,
        };
        let becomes_current = first;
        self.commit_import(&key, doc, Some(stored), Vec::new(), move |k| {
            if becomes_current {
                k.current_key_material_id = id;
            }
            if k.key_state == KeyState::PendingImport
                && (becomes_current || k.current_key_material_id == id)
            {
                k.key_state = KeyState::Enabled;
            }
            Ok(())
        })
        .await?;
        self.remember_material(key.addr(), id, material);
        Ok(ImportOutcome {
            key_arn: arn,
            key_material_id: id,
        })
    }

    /// DeleteImportedKeyMaterial: erases the key's imported material (or one version of it);
    /// without its current material the key goes back to `PendingImport`.
    pub async fn delete_imported_key_material(
        &self,
        caller: &Caller,
        key_id: &str,
        key_material_id: Option<&str>,
    ) -> Result<ImportOutcome, CoreError> {
        let key = self
            .usable_key(caller, key_id, Action::DeleteImportedKeyMaterial)
            .await?
            .record;
        if key.origin != Origin::External {
            return Err(not_external(&key));
        }
        let only = match key_material_id {
            None => None,
            Some(hex) => Some(KeyMaterialId::from_hex(hex).ok_or_else(|| {
                CoreError::Validation(format!(
                    "KeyMaterialId {hex} is not a valid key material id."
                ))
            })?),
        };
        let _guard = IMPORT_LOCK.lock().await;
        let mut doc = self.import_document(key.addr()).await?;
        if let Some(id) = only {
            if doc.import_of(&id).is_none_or(|i| !i.imported) {
                return Err(CoreError::NotFound(format!(
                    "Key material {} of {} is not found.",
                    id.to_hex(),
                    key.arn()
                )));
            }
        }
        self.erase_imports(&key, &mut doc, |i| {
            only.is_none_or(|id| i.key_material_id == id.to_hex())
        })
        .await?;
        let answer_id = only.unwrap_or(key.current_key_material_id);
        Ok(ImportOutcome {
            key_arn: key.arn(),
            key_material_id: answer_id,
        })
    }

    /// Erases the imported versions `which` selects (and prunes expired parameter sets), in
    /// one transaction; the key goes to `PendingImport` if its current material went.
    async fn erase_imports(
        &self,
        key: &KeyRecord,
        doc: &mut ImportDocument,
        which: impl Fn(&StoredImport) -> bool,
    ) -> Result<Arc<KeyRecord>, CoreError> {
        let mut erased = Vec::new();
        for i in doc.imports.iter_mut().filter(|i| i.imported && which(i)) {
            i.imported = false;
            i.expiration_model = None;
            i.valid_to_ms = None;
            if let Some(id) = KeyMaterialId::from_hex(&i.key_material_id) {
                erased.push(id);
            }
        }
        // Material that was waiting for a rotation and is gone waits no more.
        doc.imports
            .retain(|i| i.imported || i.state != KeyMaterialState::PendingRotation.as_str());
        doc.prune_parameters(self.now())?;
        let current = key.current_key_material_id;
        let current_erased = erased.contains(&current);
        self.commit_import(key, doc.clone(), None, erased, move |k| {
            if current_erased && matches!(k.key_state, KeyState::Enabled | KeyState::Disabled) {
                k.key_state = KeyState::PendingImport;
            }
            Ok(())
        })
        .await
    }

    /// The maintenance job's share: erases imported material whose `ValidTo` has passed
    /// (AWS's `DeleteExpiredKeyMaterial` service event) and parameter sets past their 24
    /// hours. Returns how many keys lost expired material.
    pub(crate) async fn expire_imports(
        &self,
        audit: &dyn ServiceEventAudit,
    ) -> Result<usize, CoreError> {
        let now = self.now();
        let now_ms = to_ms(now)?;
        let mut expired = 0;
        for addr in self.store.due_imports(now).await? {
            let Some(key) = self.store.get_key(addr).await? else {
                continue;
            };
            if key.deleted_date.is_some() {
                continue;
            }
            let _guard = IMPORT_LOCK.lock().await;
            let mut doc = self.import_document(addr).await?;
            let is_expired =
                |i: &StoredImport| i.imported && i.valid_to_ms.is_some_and(|v| v <= now_ms);
            if doc.imports.iter().any(is_expired) {
                let event = ServiceEvent::new(ServiceEventKind::DeleteExpiredKeyMaterial, &key);
                let intent = audit.intent(&event);
                let result = audit_intent::scope(
                    intent.clone(),
                    self.erase_imports(&key, &mut doc, is_expired),
                )
                .await;
                recorded(audit, &event, intent).await;
                match result {
                    Ok(_) => expired += 1,
                    Err(CoreError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            } else {
                doc.prune_parameters(now)?;
                match self
                    .commit_import(&key, doc, None, Vec::new(), |_| Ok(()))
                    .await
                {
                    Ok(_) | Err(CoreError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(expired)
    }

    /// RotateKeyOnDemand of a symmetric EXTERNAL key: the material imported with
    /// NEW_KEY_MATERIAL becomes current. Without any, AWS refuses.
    pub(crate) async fn rotate_imported(&self, key: &KeyRecord) -> Result<(), CoreError> {
        let _guard = IMPORT_LOCK.lock().await;
        let mut doc = self.import_document(key.addr()).await?;
        let Some(pending) = doc
            .imports
            .iter()
            .position(|i| i.imported && i.state == KeyMaterialState::PendingRotation.as_str())
        else {
            return Err(CoreError::Validation(format!(
                "{} has no key material pending rotation: import new key material with ImportType NEW_KEY_MATERIAL first.",
                key.arn()
            )));
        };
        let new_id = KeyMaterialId::from_hex(&doc.imports[pending].key_material_id)
            .ok_or_else(|| CoreError::Internal("stored key material id is not hex".into()))?;
        for i in doc.imports.iter_mut() {
            if i.state == KeyMaterialState::Current.as_str() {
                i.state = KeyMaterialState::NonCurrent.as_str().into();
            }
        }
        doc.imports[pending].state = KeyMaterialState::Current.as_str().into();
        let key_state = key.key_state;
        self.commit_import(key, doc, None, Vec::new(), move |k| {
            if k.key_state != key_state {
                return Err(CoreError::Conflict(
                    "the key changed during rotation".into(),
                ));
            }
            k.current_key_material_id = new_id;
            Ok(())
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_rules_follow_the_api_reference() {
        use WrappingAlgorithm as A;
        use WrappingKeySpec as W;
        let ok = |spec, alg, w| check_wrapping("us-east-1", spec, alg, w).is_ok();
        assert!(ok(
            KeySpec::SymmetricDefault,
            A::RsaesOaepSha256,
            W::Rsa2048
        ));
        assert!(ok(
            KeySpec::SymmetricDefault,
            A::RsaAesKeyWrapSha1,
            W::Rsa4096
        ));
        assert!(
            !ok(KeySpec::Rsa2048, A::RsaesOaepSha256, W::Rsa4096),
            "RSA needs RSA_AES"
        );
        assert!(ok(KeySpec::Rsa2048, A::RsaAesKeyWrapSha256, W::Rsa2048));
        assert!(!ok(KeySpec::EccNistP521, A::RsaesOaepSha1, W::Rsa2048));
        assert!(ok(KeySpec::EccNistP521, A::RsaesOaepSha1, W::Rsa3072));
        assert!(!ok(KeySpec::SymmetricDefault, A::RsaesPkcs1V15, W::Rsa2048));
        assert!(!ok(KeySpec::SymmetricDefault, A::Sm2Pke, W::Sm2));
        assert!(!ok(KeySpec::SymmetricDefault, A::RsaesOaepSha256, W::Sm2));
    }

    #[test]
    fn the_document_expires_at_its_earliest_validity() {
        let mut doc = ImportDocument::default();
        let key = KeyAddr::new("us-east-1", crate::model::KeyId::generate());
        assert_eq!(doc.record(key).unwrap().next_expiry, None);
        doc.parameters.push(StoredParameters {
            token_id: "00".into(),
            wrapping_algorithm: "RSAES_OAEP_SHA_256".into(),
            wrapping_key_spec: "RSA_2048".into(),
            wrapped_private_key: String::new(),
            valid_to_ms: 5_000,
        });
        doc.imports.push(StoredImport {
            key_material_id: "11".into(),
            imported: true,
            state: "CURRENT".into(),
            expiration_model: Some("KEY_MATERIAL_EXPIRES".into()),
            valid_to_ms: Some(3_000),
            description: None,
            import_date_ms: None,
        });
        assert_eq!(
            doc.record(key).unwrap().next_expiry,
            Some(from_ms(3_000).unwrap())
        );
        doc.imports[0].imported = false;
        assert_eq!(
            doc.record(key).unwrap().next_expiry,
            Some(from_ms(5_000).unwrap())
        );
        doc.prune_parameters(from_ms(5_000).unwrap()).unwrap();
        assert!(
            doc.parameters.is_empty(),
            "a set is gone at its ParametersValidTo"
        );
    }
}
