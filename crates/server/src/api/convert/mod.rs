//! ④⑤ Request ↔ domain conversion and dispatch: one arm per operation turns the typed wire
//! request into a call on the KMS, and its result into the wire response.

use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use trent_core::model::{
    DataKeyPairSpec, EncapsulationAlgorithm, EncryptionAlgorithm, KeyAgreementAlgorithm, KeyRecord,
    KeyUsage, MacAlgorithm, MessageType, Origin, SigningAlgorithm, Tag,
};
use trent_core::ops::crypto::DataKeySize;
use trent_core::ops::grants::{CreateGrantInput, ListGrantsInput, RetireGrantInput};
use trent_core::ops::keys::CreateKeyInput;
use trent_core::{Caller, CoreError, Kms};
use trent_wire::types::*;
use trent_wire::{Blob, Operation, SecretBlob, WireError};
use zeroize::Zeroizing;

use crate::api::errors::ApiError;

/// What an operation produced: the response body, and what the audit record shows of it.
pub struct Outcome {
    /// The JSON response body (empty for operations without output).
    pub body: Zeroizing<Vec<u8>>,
    /// The key the operation acted on, for the audit record's `resources`.
    pub key_arn: Option<String>,
    /// The response as CloudTrail shows it (management operations only; never secrets).
    pub response_elements: Option<Value>,
}

impl Outcome {
    fn json<T: Serialize>(resp: &T, key_arn: Option<String>) -> Result<Outcome, ApiError> {
        let mut body = ZeroizingWriter(Zeroizing::new(Vec::with_capacity(2048)));
        serde_json::to_writer(&mut body, resp).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(Outcome {
            body: body.0,
            key_arn,
            response_elements: None,
        })
    }

    fn empty(key_arn: Option<String>) -> Outcome {
        Outcome {
            body: Zeroizing::new(Vec::new()),
            key_arn,
            response_elements: None,
        }
    }

    fn with_elements(mut self, v: Value) -> Outcome {
        self.response_elements = Some(v);
        self
    }
}

/// A response body buffer that wipes what it outgrows: a body may hold a plaintext, and a plain
/// `Vec` would free its old buffer unwiped each time it grew.
struct ZeroizingWriter(Zeroizing<Vec<u8>>);

impl std::io::Write for ZeroizingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let needed = self.0.len() + bytes.len();
        if needed > self.0.capacity() {
            let mut grown = Vec::with_capacity(needed.max(self.0.capacity() * 2));
            grown.extend_from_slice(&self.0);
            // The old buffer is wiped as it drops.
            self.0 = Zeroizing::new(grown);
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn decode<T: DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::Wire(WireError::Serialization(e.to_string())))
}

fn parse_enum<T: FromStr>(field: &str, v: Option<String>) -> Result<Option<T>, ApiError> {
    match v {
        None => Ok(None),
        Some(s) => T::from_str(&s).map(Some).map_err(|_| {
            ApiError::Wire(WireError::Validation(format!(
                "1 validation error detected: Value '{s}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set"
            )))
        }),
    }
}

fn epoch(t: time::OffsetDateTime) -> f64 {
    t.unix_timestamp_nanos() as f64 / 1e9
}

/// A list of algorithm names, or `None` (member omitted) when the list is empty, as AWS
/// omits the lists that do not apply to a key's usage.
fn algorithm_names<T: std::fmt::Display>(list: &[T]) -> Option<Vec<String>> {
    (!list.is_empty()).then(|| list.iter().map(|a| a.to_string()).collect())
}

/// Whether DryRunModifiers asks to skip the ciphertext (`IGNORE_CIPHERTEXT`, the model's one
/// value; the model check has refused any other).
fn ignores_ciphertext(modifiers: &Option<Vec<String>>) -> bool {
    modifiers
        .as_ref()
        .is_some_and(|m| m.iter().any(|v| v == "IGNORE_CIPHERTEXT"))
}

/// CiphertextBlob is required unless a dry run ignores it.
fn missing_ciphertext() -> ApiError {
    ApiError::Wire(WireError::Validation(
        "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null".into(),
    ))
}

/// KeyMetadata as DescribeKey returns it.
pub fn key_metadata(k: &KeyRecord) -> KeyMetadata {
    let algorithms = k.key_spec.algorithms(k.key_usage);
    KeyMetadata {
        aws_account_id: k.account_id.to_string(),
        key_id: k.key_id.to_string(),
        arn: k.arn(),
        creation_date: epoch(k.creation_date),
        enabled: k.key_state == trent_core::model::KeyState::Enabled,
        description: k.description.clone(),
        key_usage: Some(k.key_usage.to_string()),
        key_state: k.key_state.to_string(),
        deletion_date: k.deletion_date.map(epoch),
        origin: k.origin.to_string(),
        key_manager: "CUSTOMER".into(),
        customer_master_key_spec: k.key_spec.to_string(),
        key_spec: k.key_spec.to_string(),
        encryption_algorithms: algorithm_names(algorithms.encryption),
        signing_algorithms: algorithm_names(algorithms.signing),
        key_agreement_algorithms: algorithm_names(algorithms.key_agreement),
        encapsulation_algorithms: algorithm_names(algorithms.encapsulation),
        mac_algorithms: algorithm_names(algorithms.mac),
        multi_region: k.multi_region,
        pending_deletion_window_in_days: k
            .pending_window_days
            .filter(|_| k.key_state == trent_core::model::KeyState::PendingDeletion)
            .map(|d| d as i32),
        current_key_material_id: has_key_material_id(k).then(|| k.current_key_material_id.to_hex()),
    }
}

/// Whether KeyMetadata carries CurrentKeyMaterialId: the API Reference (KeyMetadata) says it
/// is present for symmetric encryption keys with AWS_KMS origin and single-Region symmetric
/// encryption keys with EXTERNAL origin, the keys that rotate; not for HMAC or asymmetric.
fn has_key_material_id(k: &KeyRecord) -> bool {
    k.key_spec == trent_core::model::KeySpec::SymmetricDefault
        && (k.origin == Origin::AwsKms || (k.origin == Origin::External && !k.multi_region))
}

fn metadata_outcome(k: &KeyRecord) -> Result<Outcome, ApiError> {
    let resp = KeyMetadataResponse {
        key_metadata: key_metadata(k),
    };
    let elements = serde_json::to_value(&resp).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Outcome::json(&resp, Some(k.arn()))?.with_elements(elements))
}

fn tags_in(tags: Option<Vec<trent_wire::types::Tag>>) -> Vec<Tag> {
    tags.unwrap_or_default()
        .into_iter()
        .map(|t| Tag {
            key: t.tag_key,
            value: t.tag_value,
        })
        .collect()
}

fn algorithm(field: &str, v: Option<String>) -> Result<Option<EncryptionAlgorithm>, ApiError> {
    parse_enum(field, v)
}

/// A required enum member (the model check already refused a missing or unknown value).
fn required_enum<T: FromStr>(field: &str, v: String) -> Result<T, ApiError> {
    parse_enum(field, Some(v))?.ok_or_else(|| {
        ApiError::Wire(WireError::Validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        )))
    })
}

fn secret_blob(bytes: &[u8]) -> SecretBlob {
    SecretBlob(Zeroizing::new(bytes.to_vec()))
}

fn recipient_unsupported() -> ApiError {
    CoreError::UnsupportedOperation(
        "Recipient (Nitro Enclaves attestation) is not supported by Trent.".into(),
    )
    .into()
}

/// Executes one operation for `caller`.
pub async fn execute(
    kms: &Kms,
    caller: &Caller,
    op: Operation,
    v: Value,
) -> Result<Outcome, ApiError> {
    use Operation as O;
    match op {
        O::CreateKey => {
            let r: CreateKeyRequest = decode(v)?;
            if r.key_spec.is_some() && r.customer_master_key_spec.is_some() {
                return Err(CoreError::Validation(
                    "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.".into(),
                )
                .into());
            }
            let input = CreateKeyInput {
                description: r.description,
                key_spec: parse_enum("keySpec", r.key_spec.or(r.customer_master_key_spec))?,
                key_usage: parse_enum::<KeyUsage>("keyUsage", r.key_usage)?,
                origin: parse_enum::<Origin>("origin", r.origin)?,
                policy: r.policy,
                bypass_policy_lockout_safety_check: r
                    .bypass_policy_lockout_safety_check
                    .unwrap_or(false),
                tags: tags_in(r.tags),
                multi_region: r.multi_region.unwrap_or(false),
                custom_key_store_id: r.custom_key_store_id,
            };
            let key = kms.create_key(caller, input).await?;
            metadata_outcome(&key)
        }
        O::DescribeKey => {
            let r: KeyIdRequest = decode(v)?;
            let key = kms.describe_key(caller, &r.key_id).await?;
            let resp = KeyMetadataResponse {
                key_metadata: key_metadata(&key),
            };
            Outcome::json(&resp, Some(key.arn()))
        }
        O::ListKeys => {
            let r: ListRequest = decode(v)?;
            let page = kms.list_keys(caller, r.limit, r.marker.as_deref()).await?;
            Outcome::json(
                &ListKeysResponse {
                    keys: page
                        .items
                        .iter()
                        .map(|k| KeyListEntry {
                            key_id: k.key_id.to_string(),
                            key_arn: k.arn(),
                        })
                        .collect(),
                    truncated: page.next_marker.is_some(),
                    next_marker: page.next_marker,
                },
                None,
            )
        }
        O::EnableKey | O::DisableKey => {
            let r: KeyIdRequest = decode(v)?;
            if op == O::EnableKey {
                kms.enable_key(caller, &r.key_id).await?;
            } else {
                kms.disable_key(caller, &r.key_id).await?;
            }
            Ok(Outcome::empty(None))
        }
        O::UpdateKeyDescription => {
            let r: UpdateKeyDescriptionRequest = decode(v)?;
            kms.update_key_description(caller, &r.key_id, r.description)
                .await?;
            Ok(Outcome::empty(None))
        }
        O::Encrypt => {
            let r: EncryptRequest = decode(v)?;
            let out = kms
                .encrypt(
                    caller,
                    &r.key_id,
                    r.plaintext.as_bytes(),
                    &r.encryption_context.unwrap_or_default(),
                    algorithm("encryptionAlgorithm", r.encryption_algorithm)?,
                    r.dry_run.unwrap_or(false),
                )
                .await?;
            Outcome::json(
                &EncryptResponse {
                    ciphertext_blob: Blob(out.ciphertext),
                    key_id: out.key_arn.clone(),
                    encryption_algorithm: out.encryption_algorithm.to_string(),
                },
                Some(out.key_arn),
            )
        }
        O::Decrypt => {
            let r: DecryptRequest = decode(v)?;
            if r.recipient.is_some() {
                return Err(CoreError::UnsupportedOperation(
                    "Recipient (Nitro Enclaves attestation) is not supported by Trent.".into(),
                )
                .into());
            }
            let dry_run = r.dry_run.unwrap_or(false);
            if dry_run && ignores_ciphertext(&r.dry_run_modifiers) {
                let Err(e) = kms
                    .decrypt_dry_run_ignoring_ciphertext(
                        caller,
                        r.key_id.as_deref(),
                        &r.encryption_context.unwrap_or_default(),
                        algorithm("encryptionAlgorithm", r.encryption_algorithm)?,
                    )
                    .await;
                return Err(e.into());
            }
            let blob = r.ciphertext_blob.ok_or_else(missing_ciphertext)?;
            let out = kms
                .decrypt(
                    caller,
                    r.key_id.as_deref(),
                    &blob.0,
                    &r.encryption_context.unwrap_or_default(),
                    algorithm("encryptionAlgorithm", r.encryption_algorithm)?,
                    dry_run,
                )
                .await?;
            Outcome::json(
                &DecryptResponse {
                    key_id: out.key_arn.clone(),
                    plaintext: secret_blob(out.plaintext.as_bytes()),
                    encryption_algorithm: out.encryption_algorithm.to_string(),
                    key_material_id: out.key_material_id.to_hex(),
                },
                Some(out.key_arn),
            )
        }
        O::ReEncrypt => {
            let r: ReEncryptRequest = decode(v)?;
            if r.dry_run.unwrap_or(false) && ignores_ciphertext(&r.dry_run_modifiers) {
                let Err(e) = kms
                    .re_encrypt_dry_run_ignoring_ciphertext(
                        caller,
                        r.source_key_id.as_deref(),
                        &r.source_encryption_context.unwrap_or_default(),
                        algorithm("sourceEncryptionAlgorithm", r.source_encryption_algorithm)?,
                        &r.destination_key_id,
                        &r.destination_encryption_context.unwrap_or_default(),
                        algorithm(
                            "destinationEncryptionAlgorithm",
                            r.destination_encryption_algorithm,
                        )?,
                    )
                    .await;
                return Err(e.into());
            }
            let blob = r.ciphertext_blob.ok_or_else(missing_ciphertext)?;
            let out = kms
                .re_encrypt(
                    caller,
                    &blob.0,
                    r.source_key_id.as_deref(),
                    &r.source_encryption_context.unwrap_or_default(),
                    algorithm("sourceEncryptionAlgorithm", r.source_encryption_algorithm)?,
                    &r.destination_key_id,
                    &r.destination_encryption_context.unwrap_or_default(),
                    algorithm(
                        "destinationEncryptionAlgorithm",
                        r.destination_encryption_algorithm,
                    )?,
                    r.dry_run.unwrap_or(false),
                )
                .await?;
            Outcome::json(
                &ReEncryptResponse {
                    ciphertext_blob: Blob(out.ciphertext),
                    source_key_id: out.source_key_arn,
                    key_id: out.key_arn.clone(),
                    source_encryption_algorithm: out.source_encryption_algorithm.to_string(),
                    destination_encryption_algorithm: out
                        .destination_encryption_algorithm
                        .to_string(),
                    source_key_material_id: out.source_key_material_id.to_hex(),
                    destination_key_material_id: out.key_material_id.to_hex(),
                },
                Some(out.key_arn),
            )
        }
        O::GenerateDataKey | O::GenerateDataKeyWithoutPlaintext => {
            let r: GenerateDataKeyRequest = decode(v)?;
            if r.recipient.is_some() {
                return Err(CoreError::UnsupportedOperation(
                    "Recipient (Nitro Enclaves attestation) is not supported by Trent.".into(),
                )
                .into());
            }
            let spec_bytes = match r.key_spec.as_deref() {
                None => None,
                Some("AES_128") => Some(16),
                Some("AES_256") => Some(32),
                Some(other) => {
                    return Err(ApiError::Wire(WireError::Validation(format!(
                        "1 validation error detected: Value '{other}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]"
                    ))))
                }
            };
            let size = DataKeySize::from_request(spec_bytes, r.number_of_bytes)?;
            let with_plaintext = op == O::GenerateDataKey;
            let out = kms
                .generate_data_key(
                    caller,
                    &r.key_id,
                    size,
                    &r.encryption_context.unwrap_or_default(),
                    with_plaintext,
                    r.dry_run.unwrap_or(false),
                )
                .await?;
            let arn = out.key_arn.clone();
            match out.plaintext {
                Some(pt) => Outcome::json(
                    &GenerateDataKeyResponse {
                        ciphertext_blob: Blob(out.ciphertext),
                        plaintext: SecretBlob(Zeroizing::new(pt.as_bytes().to_vec())),
                        key_id: out.key_arn,
                        key_material_id: out.key_material_id.to_hex(),
                    },
                    Some(arn),
                ),
                None => Outcome::json(
                    &GenerateDataKeyWithoutPlaintextResponse {
                        ciphertext_blob: Blob(out.ciphertext),
                        key_id: out.key_arn,
                        key_material_id: out.key_material_id.to_hex(),
                    },
                    Some(arn),
                ),
            }
        }
        O::GenerateRandom => {
            let r: GenerateRandomRequest = decode(v)?;
            if r.custom_key_store_id.is_some() {
                return Err(CoreError::UnsupportedOperation(
                    "Custom key stores are not supported by this Trent version.".into(),
                )
                .into());
            }
            if r.recipient.is_some() {
                return Err(CoreError::UnsupportedOperation(
                    "Recipient (Nitro Enclaves attestation) is not supported by Trent.".into(),
                )
                .into());
            }
            let bytes = kms.generate_random(r.number_of_bytes)?;
            Outcome::json(
                &GenerateRandomResponse {
                    plaintext: SecretBlob(Zeroizing::new(bytes.as_bytes().to_vec())),
                },
                None,
            )
        }
        O::CreateAlias | O::UpdateAlias => {
            let r: AliasRequest = decode(v)?;
            if op == O::CreateAlias {
                kms.create_alias(caller, &r.alias_name, &r.target_key_id)
                    .await?;
            } else {
                kms.update_alias(caller, &r.alias_name, &r.target_key_id)
                    .await?;
            }
            Ok(Outcome::empty(None))
        }
        O::DeleteAlias => {
            let r: DeleteAliasRequest = decode(v)?;
            kms.delete_alias(caller, &r.alias_name).await?;
            Ok(Outcome::empty(None))
        }
        O::ListAliases => {
            let r: ListRequest = decode(v)?;
            let page = kms
                .list_aliases(caller, r.key_id.as_deref(), r.limit, r.marker.as_deref())
                .await?;
            Outcome::json(
                &ListAliasesResponse {
                    aliases: page
                        .items
                        .iter()
                        .map(|a| AliasListEntry {
                            alias_arn: trent_core::model::alias_arn(
                                &a.region,
                                &a.account_id,
                                &a.alias_name,
                            ),
                            alias_name: a.alias_name.clone(),
                            target_key_id: Some(a.target_key_id.to_string()),
                            creation_date: Some(epoch(a.creation_date)),
                            last_updated_date: Some(epoch(a.last_updated_date)),
                        })
                        .collect(),
                    truncated: page.next_marker.is_some(),
                    next_marker: page.next_marker,
                },
                None,
            )
        }
        O::TagResource => {
            let r: TagResourceRequest = decode(v)?;
            kms.tag_resource(caller, &r.key_id, tags_in(Some(r.tags)))
                .await?;
            Ok(Outcome::empty(None))
        }
        O::UntagResource => {
            let r: UntagResourceRequest = decode(v)?;
            kms.untag_resource(caller, &r.key_id, r.tag_keys).await?;
            Ok(Outcome::empty(None))
        }
        O::ListResourceTags => {
            let r: ListRequest = decode(v)?;
            let key_id = r.key_id.unwrap_or_default();
            let page = kms
                .list_resource_tags(caller, &key_id, r.limit, r.marker.as_deref())
                .await?;
            Outcome::json(
                &ListResourceTagsResponse {
                    tags: page
                        .items
                        .into_iter()
                        .map(|t| trent_wire::types::Tag {
                            tag_key: t.key,
                            tag_value: t.value,
                        })
                        .collect(),
                    truncated: page.next_marker.is_some(),
                    next_marker: page.next_marker,
                },
                None,
            )
        }
        O::EnableKeyRotation => {
            let r: EnableKeyRotationRequest = decode(v)?;
            kms.enable_key_rotation(caller, &r.key_id, r.rotation_period_in_days)
                .await?;
            Ok(Outcome::empty(None))
        }
        O::DisableKeyRotation => {
            let r: KeyIdRequest = decode(v)?;
            kms.disable_key_rotation(caller, &r.key_id).await?;
            Ok(Outcome::empty(None))
        }
        O::GetKeyRotationStatus => {
            let r: KeyIdRequest = decode(v)?;
            let st = kms.get_key_rotation_status(caller, &r.key_id).await?;
            Outcome::json(
                &GetKeyRotationStatusResponse {
                    key_rotation_enabled: st.enabled,
                    key_id: st.key_arn.clone(),
                    rotation_period_in_days: st.period_days,
                    next_rotation_date: st.next_rotation_date.map(epoch),
                    on_demand_rotation_start_date: st.on_demand_rotation_start_date.map(epoch),
                },
                Some(st.key_arn),
            )
        }
        O::RotateKeyOnDemand => {
            let r: KeyIdRequest = decode(v)?;
            let arn = kms.rotate_key_on_demand(caller, &r.key_id).await?;
            Outcome::json(
                &KeyIdResponse {
                    key_id: arn.clone(),
                },
                Some(arn),
            )
        }
        O::ListKeyRotations => {
            let r: ListKeyRotationsRequest = decode(v)?;
            let include_all = r.include_key_material.as_deref() == Some("ALL_KEY_MATERIAL");
            let page = kms
                .list_key_rotations(caller, &r.key_id, include_all, r.limit, r.marker.as_deref())
                .await?;
            Outcome::json(
                &ListKeyRotationsResponse {
                    rotations: page
                        .items
                        .iter()
                        .map(|e| RotationsListEntry {
                            key_id: e.key_id.to_string(),
                            key_material_id: e.key_material_id.to_hex(),
                            key_material_state: if e.current { "CURRENT" } else { "NON_CURRENT" }
                                .to_string(),
                            rotation_date: epoch(e.rotation_date),
                            rotation_type: e.rotation_type.map(|t| t.to_string()),
                            expiration_model: "KEY_MATERIAL_DOES_NOT_EXPIRE".to_string(),
                        })
                        .collect(),
                    truncated: page.next_marker.is_some(),
                    next_marker: page.next_marker,
                },
                None,
            )
        }
        O::ScheduleKeyDeletion => {
            let r: ScheduleKeyDeletionRequest = decode(v)?;
            let d = kms
                .schedule_key_deletion(caller, &r.key_id, r.pending_window_in_days)
                .await?;
            let resp = ScheduleKeyDeletionResponse {
                key_id: d.key_arn.clone(),
                deletion_date: epoch(d.deletion_date),
                key_state: d.key_state.to_string(),
                pending_window_in_days: d.pending_window_days,
            };
            let elements =
                serde_json::to_value(&resp).map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(Outcome::json(&resp, Some(d.key_arn))?.with_elements(elements))
        }
        O::CancelKeyDeletion => {
            let r: KeyIdRequest = decode(v)?;
            let arn = kms.cancel_key_deletion(caller, &r.key_id).await?;
            Outcome::json(
                &KeyIdResponse {
                    key_id: arn.clone(),
                },
                Some(arn),
            )
        }
        O::GetKeyLastUsage => {
            let r: KeyIdRequest = decode(v)?;
            let u = kms.get_key_last_usage(caller, &r.key_id).await?;
            Outcome::json(
                &GetKeyLastUsageResponse {
                    key_id: u.key_arn.clone(),
                    key_last_usage: u.last_usage.map(|l| KeyLastUsageData {
                        operation: l.operation,
                        timestamp: epoch(l.timestamp),
                        cloud_trail_event_id: l.cloudtrail_event_id,
                        kms_request_id: l.kms_request_id,
                    }),
                    tracking_start_date: epoch(u.tracking_start_date),
                    key_creation_date: epoch(u.key_creation_date),
                },
                Some(u.key_arn),
            )
        }
        O::Sign => {
            let r: SignRequest = decode(v)?;
            let out = kms
                .sign(
                    caller,
                    &r.key_id,
                    r.message.as_bytes(),
                    parse_enum::<MessageType>("messageType", r.message_type)?,
                    required_enum::<SigningAlgorithm>("signingAlgorithm", r.signing_algorithm)?,
                    r.dry_run.unwrap_or(false),
                )
                .await?;
            Outcome::json(
                &SignResponse {
                    key_id: out.key_arn.clone(),
                    signature: Blob(out.signature),
                    signing_algorithm: out.signing_algorithm.to_string(),
                },
                Some(out.key_arn),
            )
        }
        O::Verify => {
            let r: VerifyRequest = decode(v)?;
            let out = kms
                .verify(
                    caller,
                    &r.key_id,
                    r.message.as_bytes(),
                    parse_enum::<MessageType>("messageType", r.message_type)?,
                    &r.signature.0,
                    required_enum::<SigningAlgorithm>("signingAlgorithm", r.signing_algorithm)?,
                    r.dry_run.unwrap_or(false),
                )
                .await?;
            Outcome::json(
                &VerifyResponse {
                    key_id: out.key_arn.clone(),
                    signature_valid: true,
                    signing_algorithm: out.signing_algorithm.to_string(),
                },
                Some(out.key_arn),
            )
        }
        O::GetPublicKey => {
            let r: KeyIdRequest = decode(v)?;
            let out = kms.get_public_key(caller, &r.key_id).await?;
            Outcome::json(
                &GetPublicKeyResponse {
                    key_id: out.key_arn.clone(),
                    public_key: Blob(out.public_key),
                    customer_master_key_spec: out.key_spec.to_string(),
                    key_spec: out.key_spec.to_string(),
                    key_usage: out.key_usage.to_string(),
                    encryption_algorithms: algorithm_names(out.algorithms.encryption),
                    signing_algorithms: algorithm_names(out.algorithms.signing),
                    key_agreement_algorithms: algorithm_names(out.algorithms.key_agreement),
                    encapsulation_algorithms: algorithm_names(out.algorithms.encapsulation),
                },
                Some(out.key_arn),
            )
        }
        O::GenerateMac => {
            let r: GenerateMacRequest = decode(v)?;
            let out = kms
                .generate_mac(
                    caller,
                    &r.key_id,
                    r.message.as_bytes(),
                    required_enum::<MacAlgorithm>("macAlgorithm", r.mac_algorithm)?,
                    r.dry_run.unwrap_or(false),
                )
                .await?;
            Outcome::json(
                &GenerateMacResponse {
                    mac: Blob(out.mac),
                    mac_algorithm: out.mac_algorithm.to_string(),
                    key_id: out.key_arn.clone(),
                },
                Some(out.key_arn),
            )
        }
        O::VerifyMac => {
            let r: VerifyMacRequest = decode(v)?;
            let out = kms
                .verify_mac(
                    caller,
                    &r.key_id,
                    r.message.as_bytes(),
                    &r.mac.0,
                    required_enum::<MacAlgorithm>("macAlgorithm", r.mac_algorithm)?,
                    r.dry_run.unwrap_or(false),
                )
                .await?;
            Outcome::json(
                &VerifyMacResponse {
                    key_id: out.key_arn.clone(),
                    mac_valid: true,
                    mac_algorithm: out.mac_algorithm.to_string(),
                },
                Some(out.key_arn),
            )
        }
        O::DeriveSharedSecret => {
            let r: DeriveSharedSecretRequest = decode(v)?;
            if r.recipient.is_some() {
                return Err(recipient_unsupported());
            }
            let out = kms
                .derive_shared_secret(
                    caller,
                    &r.key_id,
                    required_enum::<KeyAgreementAlgorithm>(
                        "keyAgreementAlgorithm",
                        r.key_agreement_algorithm,
                    )?,
                    &r.public_key.0,
                    r.dry_run.unwrap_or(false),
                )
                .await?;
            Outcome::json(
                &DeriveSharedSecretResponse {
                    key_id: out.key_arn.clone(),
                    shared_secret: secret_blob(out.shared_secret.as_bytes()),
                    key_agreement_algorithm: out.key_agreement_algorithm.to_string(),
                    key_origin: out.key_origin.to_string(),
                },
                Some(out.key_arn),
            )
        }
        O::Encapsulate => {
            let r: EncapsulateRequest = decode(v)?;
            let algorithm = required_enum::<EncapsulationAlgorithm>(
                "encapsulationAlgorithm",
                r.encapsulation_algorithm,
            )?;
            let out = kms
                .encapsulate(caller, &r.key_id, algorithm, r.dry_run.unwrap_or(false))
                .await?;
            Outcome::json(
                &EncapsulateResponse {
                    key_id: out.key_arn.clone(),
                    shared_secret: secret_blob(out.shared_secret.as_bytes()),
                    shared_secret_ciphertext_blob: Blob(out.ciphertext),
                    encapsulation_algorithm: algorithm.to_string(),
                },
                Some(out.key_arn),
            )
        }
        O::Decapsulate => {
            let r: DecapsulateRequest = decode(v)?;
            let algorithm = required_enum::<EncapsulationAlgorithm>(
                "encapsulationAlgorithm",
                r.encapsulation_algorithm,
            )?;
            let out = kms
                .decapsulate(
                    caller,
                    &r.key_id,
                    &r.shared_secret_ciphertext_blob.0,
                    algorithm,
                    r.dry_run.unwrap_or(false),
                )
                .await?;
            Outcome::json(
                &DecapsulateResponse {
                    key_id: out.key_arn.clone(),
                    shared_secret: secret_blob(out.shared_secret.as_bytes()),
                    encapsulation_algorithm: algorithm.to_string(),
                },
                Some(out.key_arn),
            )
        }
        O::GenerateDataKeyPair | O::GenerateDataKeyPairWithoutPlaintext => {
            let r: GenerateDataKeyPairRequest = decode(v)?;
            if r.recipient.is_some() {
                return Err(recipient_unsupported());
            }
            let with_plaintext = op == O::GenerateDataKeyPair;
            let out = kms
                .generate_data_key_pair(
                    caller,
                    &r.key_id,
                    required_enum::<DataKeyPairSpec>("keyPairSpec", r.key_pair_spec)?,
                    &r.encryption_context.unwrap_or_default(),
                    with_plaintext,
                    r.dry_run.unwrap_or(false),
                )
                .await?;
            let arn = out.key_arn.clone();
            match out.private_key_plaintext {
                Some(private_key) => Outcome::json(
                    &GenerateDataKeyPairResponse {
                        private_key_ciphertext_blob: Blob(out.private_key_ciphertext),
                        private_key_plaintext: secret_blob(private_key.as_bytes()),
                        public_key: Blob(out.public_key),
                        key_id: out.key_arn,
                        key_pair_spec: out.key_pair_spec.to_string(),
                        key_material_id: out.key_material_id.to_hex(),
                    },
                    Some(arn),
                ),
                None => Outcome::json(
                    &GenerateDataKeyPairWithoutPlaintextResponse {
                        private_key_ciphertext_blob: Blob(out.private_key_ciphertext),
                        public_key: Blob(out.public_key),
                        key_id: out.key_arn,
                        key_pair_spec: out.key_pair_spec.to_string(),
                        key_material_id: out.key_material_id.to_hex(),
                    },
                    Some(arn),
                ),
            }
        }
        O::GetKeyPolicy => {
            let r: GetKeyPolicyRequest = decode(v)?;
            let out = kms
                .get_key_policy(caller, &r.key_id, r.policy_name.as_deref())
                .await?;
            Outcome::json(
                &GetKeyPolicyResponse {
                    policy: out.policy,
                    policy_name: out.policy_name,
                },
                None,
            )
        }
        O::PutKeyPolicy => {
            let r: PutKeyPolicyRequest = decode(v)?;
            kms.put_key_policy(
                caller,
                &r.key_id,
                r.policy_name.as_deref(),
                &r.policy,
                r.bypass_policy_lockout_safety_check.unwrap_or(false),
            )
            .await?;
            Ok(Outcome::empty(None))
        }
        O::ListKeyPolicies => {
            let r: ListRequest = decode(v)?;
            let key_id = r.key_id.unwrap_or_default();
            let page = kms
                .list_key_policies(caller, &key_id, r.limit, r.marker.as_deref())
                .await?;
            Outcome::json(
                &ListKeyPoliciesResponse {
                    policy_names: page.items,
                    truncated: page.next_marker.is_some(),
                    next_marker: page.next_marker,
                },
                None,
            )
        }
        O::CreateGrant => {
            let r: CreateGrantRequest = decode(v)?;
            let grantee = r
                .grantee_principal
                .or(r.grantee_service_principal)
                .ok_or_else(|| {
                    CoreError::Validation(
                        "Either GranteePrincipal or GranteeServicePrincipal must be specified."
                            .into(),
                    )
                })?;
            let operations = r
                .operations
                .iter()
                .map(|o| {
                    trent_core::Action::from_name(o).ok_or_else(|| {
                        ApiError::Wire(WireError::Validation(format!(
                            "1 validation error detected: Value '{o}' at 'operations' failed to satisfy constraint: Member must satisfy enum value set"
                        )))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = kms
                .create_grant(
                    caller,
                    CreateGrantInput {
                        key_id: r.key_id,
                        grantee_principal: grantee,
                        retiring_principal: r.retiring_principal.or(r.retiring_service_principal),
                        operations,
                        constraints: r.constraints.map(|c| trent_core::grant::GrantConstraints {
                            encryption_context_subset: c.encryption_context_subset,
                            encryption_context_equals: c.encryption_context_equals,
                        }),
                        name: r.name,
                        dry_run: r.dry_run.unwrap_or(false),
                    },
                )
                .await?;
            let resp = CreateGrantResponse {
                grant_id: out.grant_id,
                grant_token: out.grant_token,
            };
            // The audit redaction keeps the grant id and drops the token.
            let elements =
                serde_json::to_value(&resp).map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(Outcome::json(&resp, Some(out.key_arn))?.with_elements(elements))
        }
        O::ListGrants => {
            let r: ListGrantsRequest = decode(v)?;
            let (key, page) = kms
                .list_grants(
                    caller,
                    ListGrantsInput {
                        key_id: r.key_id,
                        limit: r.limit,
                        marker: r.marker,
                        grant_id: r.grant_id,
                        grantee_principal: r.grantee_principal,
                        grantee_service_principal: r.grantee_service_principal,
                    },
                )
                .await?;
            let arn = key.arn();
            Outcome::json(
                &ListGrantsResponse {
                    grants: page.items.iter().map(|g| grant_entry(g, &arn)).collect(),
                    truncated: page.next_marker.is_some(),
                    next_marker: page.next_marker,
                },
                None,
            )
        }
        O::ListRetirableGrants => {
            let r: ListRetirableGrantsRequest = decode(v)?;
            let principal = r
                .retiring_principal
                .or(r.retiring_service_principal)
                .ok_or_else(|| {
                    ApiError::Wire(WireError::Validation(
                        "1 validation error detected: Value null at 'retiringPrincipal' failed to satisfy constraint: Member must not be null".into(),
                    ))
                })?;
            let page = kms
                .list_retirable_grants(caller, &principal, r.limit, r.marker.as_deref())
                .await?;
            Outcome::json(
                &ListGrantsResponse {
                    grants: page
                        .items
                        .iter()
                        .map(|(g, arn)| grant_entry(g, arn))
                        .collect(),
                    truncated: page.next_marker.is_some(),
                    next_marker: page.next_marker,
                },
                None,
            )
        }
        O::RetireGrant => {
            let r: RetireGrantRequest = decode(v)?;
            let arn = kms
                .retire_grant(
                    caller,
                    RetireGrantInput {
                        grant_token: r.grant_token,
                        key_id: r.key_id,
                        grant_id: r.grant_id,
                        dry_run: r.dry_run.unwrap_or(false),
                    },
                )
                .await?;
            Ok(Outcome::empty(Some(arn)))
        }
        O::RevokeGrant => {
            let r: RevokeGrantRequest = decode(v)?;
            let arn = kms
                .revoke_grant(caller, &r.key_id, &r.grant_id, r.dry_run.unwrap_or(false))
                .await?;
            Ok(Outcome::empty(Some(arn)))
        }
        other => Err(CoreError::UnsupportedOperation(format!(
            "{} is not supported by this Trent version.",
            other.name()
        ))
        .into()),
    }
}

/// GrantListEntry as ListGrants and ListRetirableGrants return it.
fn grant_entry(g: &trent_core::grant::GrantRecord, key_arn: &str) -> GrantListEntry {
    GrantListEntry {
        key_id: key_arn.to_string(),
        grant_id: g.grant_id.clone(),
        name: g.name.clone(),
        creation_date: epoch(g.creation_date),
        grantee_principal: g.grantee_principal.clone(),
        retiring_principal: g.retiring_principal.clone(),
        issuing_account: g.issuing_account_arn(),
        operations: g.operations.iter().map(|a| a.name().to_string()).collect(),
        constraints: g.constraints.as_ref().map(|c| GrantConstraints {
            encryption_context_subset: c.encryption_context_subset.clone(),
            encryption_context_equals: c.encryption_context_equals.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::ZeroizingWriter;

    #[test]
    fn zeroizing_writer_keeps_every_byte_as_it_grows() {
        let mut w = ZeroizingWriter(zeroize::Zeroizing::new(Vec::with_capacity(4)));
        let mut expected = Vec::new();
        for i in 0..200u8 {
            let chunk = vec![i; usize::from(i % 7)];
            w.write_all(&chunk).unwrap();
            expected.extend_from_slice(&chunk);
        }
        assert_eq!(*w.0, expected);
    }
}
