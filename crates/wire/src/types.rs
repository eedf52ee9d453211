//! Typed requests and responses of the operations Trent serves, with AWS's member names.
//! Requests are decoded only after [`crate::model::check_request`] accepted the JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::blob::{Blob, SecretBlob};

/// Epoch seconds, as the JSON protocol writes timestamps.
pub type Timestamp = f64;

/// An encryption context: non-secret key-value pairs bound to a ciphertext.
pub type EncryptionContext = BTreeMap<String, String>;

/// A request that carries nothing but may be sent with unknown members.
#[derive(Deserialize, Debug, Default)]
pub struct Empty {}

/// Tag.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// AWS's `TagKey` member.
    pub tag_key: String,
    /// AWS's `TagValue` member.
    pub tag_value: String,
}

/// CreateKey request.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyRequest {
    /// AWS's `Policy` member.
    pub policy: Option<String>,
    /// AWS's `Description` member.
    pub description: Option<String>,
    /// AWS's `KeyUsage` member.
    pub key_usage: Option<String>,
    /// AWS's `CustomerMasterKeySpec` member.
    pub customer_master_key_spec: Option<String>,
    /// AWS's `KeySpec` member.
    pub key_spec: Option<String>,
    /// AWS's `Origin` member.
    pub origin: Option<String>,
    /// AWS's `CustomKeyStoreId` member.
    pub custom_key_store_id: Option<String>,
    /// AWS's `BypassPolicyLockoutSafetyCheck` member.
    pub bypass_policy_lockout_safety_check: Option<bool>,
    /// AWS's `Tags` member.
    pub tags: Option<Vec<Tag>>,
    /// AWS's `MultiRegion` member.
    pub multi_region: Option<bool>,
    /// AWS's `XksKeyId` member.
    pub xks_key_id: Option<String>,
}

/// KeyMetadata, as DescribeKey and CreateKey return it.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    #[serde(rename = "AWSAccountId")]
    /// AWS's `AWSAccountId` member.
    pub aws_account_id: String,
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `Arn` member.
    pub arn: String,
    /// AWS's `CreationDate` member.
    pub creation_date: Timestamp,
    /// AWS's `Enabled` member.
    pub enabled: bool,
    /// AWS's `Description` member.
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `KeyUsage` member.
    pub key_usage: Option<String>,
    /// AWS's `KeyState` member.
    pub key_state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `DeletionDate` member.
    pub deletion_date: Option<Timestamp>,
    /// AWS's `Origin` member.
    pub origin: String,
    /// AWS's `KeyManager` member.
    pub key_manager: String,
    /// AWS's `CustomerMasterKeySpec` member.
    pub customer_master_key_spec: String,
    /// AWS's `KeySpec` member.
    pub key_spec: String,
    /// Present only for ENCRYPT_DECRYPT keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithms: Option<Vec<String>>,
    /// Present only for SIGN_VERIFY keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_algorithms: Option<Vec<String>>,
    /// Present only for KEY_AGREEMENT keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_agreement_algorithms: Option<Vec<String>>,
    /// Present only for ENCAPSULATE_DECAPSULATE keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encapsulation_algorithms: Option<Vec<String>>,
    /// Present only for GENERATE_VERIFY_MAC keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_algorithms: Option<Vec<String>>,
    /// AWS's `MultiRegion` member.
    pub multi_region: bool,
    /// AWS's `MultiRegionConfiguration` member (multi-Region keys only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region_configuration: Option<MultiRegionConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `PendingDeletionWindowInDays` member.
    pub pending_deletion_window_in_days: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `CurrentKeyMaterialId` member.
    pub current_key_material_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `ExpirationModel` member (keys with imported material).
    pub expiration_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `ValidTo` member (imported material that expires).
    pub valid_to: Option<Timestamp>,
}

/// AWS's MultiRegionConfiguration: how a multi-Region key relates to the others.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionConfiguration {
    /// `PRIMARY` or `REPLICA`.
    pub multi_region_key_type: String,
    /// The primary key.
    pub primary_key: MultiRegionKey,
    /// The replica keys.
    pub replica_keys: Vec<MultiRegionKey>,
}

/// AWS's MultiRegionKey: a related key's ARN and Region.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionKey {
    /// Its key ARN.
    pub arn: String,
    /// Its Region.
    pub region: String,
}

/// ReplicateKey response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateKeyResponse {
    /// The replica's KeyMetadata.
    pub replica_key_metadata: KeyMetadata,
    /// The replica's key policy.
    pub replica_policy: String,
    /// The replica's tags.
    pub replica_tags: Vec<Tag>,
}

/// CreateKey / DescribeKey response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadataResponse {
    /// AWS's `KeyMetadata` member.
    pub key_metadata: KeyMetadata,
}

/// Any request that names one key and nothing else that matters (DescribeKey, EnableKey, …).
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
}

/// UpdateKeyDescription request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateKeyDescriptionRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `Description` member.
    pub description: String,
}

/// A request that pages (ListKeys, and ListAliases / ListResourceTags with a KeyId).
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListRequest {
    /// AWS's `KeyId` member.
    pub key_id: Option<String>,
    /// AWS's `Limit` member.
    pub limit: Option<i32>,
    /// AWS's `Marker` member.
    pub marker: Option<String>,
}

/// KeyListEntry.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct KeyListEntry {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `KeyArn` member.
    pub key_arn: String,
}

/// ListKeys response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysResponse {
    /// AWS's `Keys` member.
    pub keys: Vec<KeyListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `NextMarker` member.
    pub next_marker: Option<String>,
    /// AWS's `Truncated` member.
    pub truncated: bool,
}

/// Encrypt request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `Plaintext` member.
    pub plaintext: SecretBlob,
    /// AWS's `EncryptionContext` member.
    pub encryption_context: Option<EncryptionContext>,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `EncryptionAlgorithm` member.
    pub encryption_algorithm: Option<String>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
}

/// Encrypt response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptResponse {
    /// AWS's `CiphertextBlob` member.
    pub ciphertext_blob: Blob,
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `EncryptionAlgorithm` member.
    pub encryption_algorithm: String,
}

/// Decrypt request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptRequest {
    /// AWS's `CiphertextBlob` member.
    pub ciphertext_blob: Option<Blob>,
    /// AWS's `EncryptionContext` member.
    pub encryption_context: Option<EncryptionContext>,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `KeyId` member.
    pub key_id: Option<String>,
    /// AWS's `EncryptionAlgorithm` member.
    pub encryption_algorithm: Option<String>,
    /// AWS's `Recipient` member.
    pub recipient: Option<serde_json::Value>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
    /// `IGNORE_CIPHERTEXT`: with DryRun, check the key without a ciphertext.
    pub dry_run_modifiers: Option<Vec<String>>,
}

/// Decrypt response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptResponse {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `Plaintext` member.
    pub plaintext: SecretBlob,
    /// AWS's `EncryptionAlgorithm` member.
    pub encryption_algorithm: String,
    /// AWS's `KeyMaterialId` member.
    pub key_material_id: String,
}

/// ReEncrypt request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptRequest {
    /// AWS's `CiphertextBlob` member.
    pub ciphertext_blob: Option<Blob>,
    /// AWS's `SourceEncryptionContext` member.
    pub source_encryption_context: Option<EncryptionContext>,
    /// AWS's `SourceKeyId` member.
    pub source_key_id: Option<String>,
    /// AWS's `DestinationKeyId` member.
    pub destination_key_id: String,
    /// AWS's `DestinationEncryptionContext` member.
    pub destination_encryption_context: Option<EncryptionContext>,
    /// AWS's `SourceEncryptionAlgorithm` member.
    pub source_encryption_algorithm: Option<String>,
    /// AWS's `DestinationEncryptionAlgorithm` member.
    pub destination_encryption_algorithm: Option<String>,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
    /// `IGNORE_CIPHERTEXT`: with DryRun, check the source key without a ciphertext.
    pub dry_run_modifiers: Option<Vec<String>>,
}

/// ReEncrypt response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptResponse {
    /// AWS's `CiphertextBlob` member.
    pub ciphertext_blob: Blob,
    /// AWS's `SourceKeyId` member.
    pub source_key_id: String,
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `SourceEncryptionAlgorithm` member.
    pub source_encryption_algorithm: String,
    /// AWS's `DestinationEncryptionAlgorithm` member.
    pub destination_encryption_algorithm: String,
    /// AWS's `SourceKeyMaterialId` member.
    pub source_key_material_id: String,
    /// AWS's `DestinationKeyMaterialId` member.
    pub destination_key_material_id: String,
}

/// GenerateDataKey / GenerateDataKeyWithoutPlaintext request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `EncryptionContext` member.
    pub encryption_context: Option<EncryptionContext>,
    /// AWS's `NumberOfBytes` member.
    pub number_of_bytes: Option<i32>,
    /// AWS's `KeySpec` member.
    pub key_spec: Option<String>,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `Recipient` member.
    pub recipient: Option<serde_json::Value>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
}

/// GenerateDataKey response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyResponse {
    /// AWS's `CiphertextBlob` member.
    pub ciphertext_blob: Blob,
    /// AWS's `Plaintext` member.
    pub plaintext: SecretBlob,
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `KeyMaterialId` member.
    pub key_material_id: String,
}

/// GenerateDataKeyWithoutPlaintext response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyWithoutPlaintextResponse {
    /// AWS's `CiphertextBlob` member.
    pub ciphertext_blob: Blob,
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `KeyMaterialId` member.
    pub key_material_id: String,
}

/// GenerateRandom request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomRequest {
    /// AWS's `NumberOfBytes` member.
    pub number_of_bytes: Option<i32>,
    /// AWS's `CustomKeyStoreId` member.
    pub custom_key_store_id: Option<String>,
    /// AWS's `Recipient` member.
    pub recipient: Option<serde_json::Value>,
}

/// GenerateRandom response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomResponse {
    /// AWS's `Plaintext` member.
    pub plaintext: SecretBlob,
}

/// CreateAlias / UpdateAlias request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct AliasRequest {
    /// AWS's `AliasName` member.
    pub alias_name: String,
    /// AWS's `TargetKeyId` member.
    pub target_key_id: String,
}

/// DeleteAlias request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteAliasRequest {
    /// AWS's `AliasName` member.
    pub alias_name: String,
}

/// AliasListEntry.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct AliasListEntry {
    /// AWS's `AliasName` member.
    pub alias_name: String,
    /// AWS's `AliasArn` member.
    pub alias_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `TargetKeyId` member.
    pub target_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `CreationDate` member.
    pub creation_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `LastUpdatedDate` member.
    pub last_updated_date: Option<Timestamp>,
}

/// ListAliases response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesResponse {
    /// AWS's `Aliases` member.
    pub aliases: Vec<AliasListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `NextMarker` member.
    pub next_marker: Option<String>,
    /// AWS's `Truncated` member.
    pub truncated: bool,
}

/// TagResource request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `Tags` member.
    pub tags: Vec<Tag>,
}

/// UntagResource request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `TagKeys` member.
    pub tag_keys: Vec<String>,
}

/// ListResourceTags response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceTagsResponse {
    /// AWS's `Tags` member.
    pub tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `NextMarker` member.
    pub next_marker: Option<String>,
    /// AWS's `Truncated` member.
    pub truncated: bool,
}

/// EnableKeyRotation request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct EnableKeyRotationRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `RotationPeriodInDays` member.
    pub rotation_period_in_days: Option<i32>,
}

/// GetKeyRotationStatus response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyRotationStatusResponse {
    /// AWS's `KeyRotationEnabled` member.
    pub key_rotation_enabled: bool,
    /// AWS's `KeyId` member.
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `RotationPeriodInDays` member.
    pub rotation_period_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `NextRotationDate` member.
    pub next_rotation_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `OnDemandRotationStartDate` member.
    pub on_demand_rotation_start_date: Option<Timestamp>,
}

/// A response carrying only the key's ARN (RotateKeyOnDemand, CancelKeyDeletion).
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdResponse {
    /// AWS's `KeyId` member.
    pub key_id: String,
}

/// ListKeyRotations request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `IncludeKeyMaterial` member.
    pub include_key_material: Option<String>,
    /// AWS's `Limit` member.
    pub limit: Option<i32>,
    /// AWS's `Marker` member.
    pub marker: Option<String>,
}

/// RotationsListEntry.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct RotationsListEntry {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `KeyMaterialId` member.
    pub key_material_id: String,
    /// AWS's `KeyMaterialState` member.
    pub key_material_state: String,
    /// AWS's `RotationDate` member.
    pub rotation_date: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `RotationType` member.
    pub rotation_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `ExpirationModel` member: "only present for symmetric encryption KMS keys with
    /// EXTERNAL origin" (API Reference, RotationsListEntry), as are the three below.
    pub expiration_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `ImportState` member (keys with imported material).
    pub import_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `ValidTo` member (imported material that expires).
    pub valid_to: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `KeyMaterialDescription` member.
    pub key_material_description: Option<String>,
}

/// ListKeyRotations response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsResponse {
    /// AWS's `Rotations` member.
    pub rotations: Vec<RotationsListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `NextMarker` member.
    pub next_marker: Option<String>,
    /// AWS's `Truncated` member.
    pub truncated: bool,
}

/// ScheduleKeyDeletion request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `PendingWindowInDays` member.
    pub pending_window_in_days: Option<i32>,
}

/// ScheduleKeyDeletion response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionResponse {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `DeletionDate` member (absent for a multi-Region primary key with replicas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<Timestamp>,
    /// AWS's `KeyState` member.
    pub key_state: String,
    /// AWS's `PendingWindowInDays` member.
    pub pending_window_in_days: u32,
}

/// KeyLastUsageData.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct KeyLastUsageData {
    /// AWS's `Operation` member.
    pub operation: String,
    /// AWS's `Timestamp` member.
    pub timestamp: Timestamp,
    /// AWS's `CloudTrailEventId` member.
    pub cloud_trail_event_id: String,
    /// AWS's `KmsRequestId` member.
    pub kms_request_id: String,
}

/// GetKeyLastUsage response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyLastUsageResponse {
    /// AWS's `KeyId` member.
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `KeyLastUsage` member.
    pub key_last_usage: Option<KeyLastUsageData>,
    /// AWS's `TrackingStartDate` member.
    pub tracking_start_date: Timestamp,
    /// AWS's `KeyCreationDate` member.
    pub key_creation_date: Timestamp,
}

/// Sign request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct SignRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `Message` member.
    pub message: SecretBlob,
    /// AWS's `MessageType` member.
    pub message_type: Option<String>,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `SigningAlgorithm` member.
    pub signing_algorithm: String,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
}

/// Sign response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct SignResponse {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `Signature` member.
    pub signature: Blob,
    /// AWS's `SigningAlgorithm` member.
    pub signing_algorithm: String,
}

/// Verify request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `Message` member.
    pub message: SecretBlob,
    /// AWS's `MessageType` member.
    pub message_type: Option<String>,
    /// AWS's `Signature` member.
    pub signature: Blob,
    /// AWS's `SigningAlgorithm` member.
    pub signing_algorithm: String,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
}

/// Verify response (a bad signature is an error, so `SignatureValid` is always true).
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyResponse {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `SignatureValid` member.
    pub signature_valid: bool,
    /// AWS's `SigningAlgorithm` member.
    pub signing_algorithm: String,
}

/// GetPublicKey response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GetPublicKeyResponse {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// DER-encoded SubjectPublicKeyInfo.
    pub public_key: Blob,
    /// AWS's `CustomerMasterKeySpec` member.
    pub customer_master_key_spec: String,
    /// AWS's `KeySpec` member.
    pub key_spec: String,
    /// AWS's `KeyUsage` member.
    pub key_usage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `EncryptionAlgorithms` member.
    pub encryption_algorithms: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `SigningAlgorithms` member.
    pub signing_algorithms: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `KeyAgreementAlgorithms` member.
    pub key_agreement_algorithms: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `EncapsulationAlgorithms` member.
    pub encapsulation_algorithms: Option<Vec<String>>,
}

/// GenerateMac request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacRequest {
    /// AWS's `Message` member.
    pub message: SecretBlob,
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `MacAlgorithm` member.
    pub mac_algorithm: String,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
}

/// GenerateMac response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacResponse {
    /// AWS's `Mac` member.
    pub mac: Blob,
    /// AWS's `MacAlgorithm` member.
    pub mac_algorithm: String,
    /// AWS's `KeyId` member.
    pub key_id: String,
}

/// VerifyMac request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacRequest {
    /// AWS's `Message` member.
    pub message: SecretBlob,
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `MacAlgorithm` member.
    pub mac_algorithm: String,
    /// AWS's `Mac` member.
    pub mac: Blob,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
}

/// VerifyMac response (a wrong MAC is an error, so `MacValid` is always true).
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacResponse {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `MacValid` member.
    pub mac_valid: bool,
    /// AWS's `MacAlgorithm` member.
    pub mac_algorithm: String,
}

/// DeriveSharedSecret request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `KeyAgreementAlgorithm` member.
    pub key_agreement_algorithm: String,
    /// The peer's DER-encoded SubjectPublicKeyInfo.
    pub public_key: Blob,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
    /// AWS's `Recipient` member.
    pub recipient: Option<serde_json::Value>,
}

/// DeriveSharedSecret response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretResponse {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `SharedSecret` member.
    pub shared_secret: SecretBlob,
    /// AWS's `KeyAgreementAlgorithm` member.
    pub key_agreement_algorithm: String,
    /// AWS's `KeyOrigin` member.
    pub key_origin: String,
}

/// Encapsulate request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct EncapsulateRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `EncapsulationAlgorithm` member.
    pub encapsulation_algorithm: String,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
}

/// Encapsulate response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct EncapsulateResponse {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `SharedSecret` member.
    pub shared_secret: SecretBlob,
    /// AWS's `SharedSecretCiphertextBlob` member.
    pub shared_secret_ciphertext_blob: Blob,
    /// AWS's `EncapsulationAlgorithm` member.
    pub encapsulation_algorithm: String,
}

/// Decapsulate request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DecapsulateRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `SharedSecretCiphertextBlob` member.
    pub shared_secret_ciphertext_blob: Blob,
    /// AWS's `EncapsulationAlgorithm` member.
    pub encapsulation_algorithm: String,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
}

/// Decapsulate response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DecapsulateResponse {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `SharedSecret` member.
    pub shared_secret: SecretBlob,
    /// AWS's `EncapsulationAlgorithm` member.
    pub encapsulation_algorithm: String,
}

/// GenerateDataKeyPair / GenerateDataKeyPairWithoutPlaintext request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairRequest {
    /// AWS's `EncryptionContext` member.
    pub encryption_context: Option<EncryptionContext>,
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `KeyPairSpec` member.
    pub key_pair_spec: String,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `Recipient` member.
    pub recipient: Option<serde_json::Value>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
}

/// GenerateDataKeyPair response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairResponse {
    /// AWS's `PrivateKeyCiphertextBlob` member.
    pub private_key_ciphertext_blob: Blob,
    /// PKCS#8 DER private key.
    pub private_key_plaintext: SecretBlob,
    /// DER-encoded SubjectPublicKeyInfo.
    pub public_key: Blob,
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `KeyPairSpec` member.
    pub key_pair_spec: String,
    /// AWS's `KeyMaterialId` member.
    pub key_material_id: String,
}

/// GenerateDataKeyPairWithoutPlaintext response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairWithoutPlaintextResponse {
    /// AWS's `PrivateKeyCiphertextBlob` member.
    pub private_key_ciphertext_blob: Blob,
    /// AWS's `PublicKey` member.
    pub public_key: Blob,
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `KeyPairSpec` member.
    pub key_pair_spec: String,
    /// AWS's `KeyMaterialId` member.
    pub key_material_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use zeroize::Zeroizing;

    /// The member names of `shape` in the embedded model.
    fn members(shape: &str) -> Vec<String> {
        let model: Value =
            serde_json::from_str(include_str!("../model/kms-2014-11-01.json")).unwrap();
        model["shapes"][shape]["members"]
            .as_object()
            .unwrap_or_else(|| panic!("no shape {shape}"))
            .keys()
            .cloned()
            .collect()
    }

    /// Every member a response serializes is a member of the model's output shape.
    fn assert_members_of<T: Serialize>(value: &T, shape: &str) {
        let allowed = members(shape);
        let json = serde_json::to_value(value).unwrap();
        for key in json.as_object().unwrap().keys() {
            assert!(allowed.contains(key), "{key} is not a member of {shape}");
        }
    }

    fn secret(b: &[u8]) -> SecretBlob {
        SecretBlob(Zeroizing::new(b.to_vec()))
    }

    #[test]
    fn new_responses_use_the_models_member_names() {
        let arn = "arn:aws:kms:us-east-1:111122223333:key/k".to_string();
        assert_members_of(
            &SignResponse {
                key_id: arn.clone(),
                signature: Blob(vec![1]),
                signing_algorithm: "ECDSA_SHA_256".into(),
            },
            "SignResponse",
        );
        assert_members_of(
            &VerifyResponse {
                key_id: arn.clone(),
                signature_valid: true,
                signing_algorithm: "ECDSA_SHA_256".into(),
            },
            "VerifyResponse",
        );
        let list = Some(vec!["X".to_string()]);
        assert_members_of(
            &GetPublicKeyResponse {
                key_id: arn.clone(),
                public_key: Blob(vec![1]),
                customer_master_key_spec: "RSA_2048".into(),
                key_spec: "RSA_2048".into(),
                key_usage: "SIGN_VERIFY".into(),
                encryption_algorithms: list.clone(),
                signing_algorithms: list.clone(),
                key_agreement_algorithms: list.clone(),
                encapsulation_algorithms: list.clone(),
            },
            "GetPublicKeyResponse",
        );
        assert_members_of(
            &GenerateMacResponse {
                mac: Blob(vec![1]),
                mac_algorithm: "HMAC_SHA_256".into(),
                key_id: arn.clone(),
            },
            "GenerateMacResponse",
        );
        assert_members_of(
            &VerifyMacResponse {
                key_id: arn.clone(),
                mac_valid: true,
                mac_algorithm: "HMAC_SHA_256".into(),
            },
            "VerifyMacResponse",
        );
        assert_members_of(
            &DeriveSharedSecretResponse {
                key_id: arn.clone(),
                shared_secret: secret(b"s"),
                key_agreement_algorithm: "ECDH".into(),
                key_origin: "AWS_KMS".into(),
            },
            "DeriveSharedSecretResponse",
        );
        assert_members_of(
            &EncapsulateResponse {
                key_id: arn.clone(),
                shared_secret: secret(b"s"),
                shared_secret_ciphertext_blob: Blob(vec![1]),
                encapsulation_algorithm: "ML_KEM".into(),
            },
            "EncapsulateResponse",
        );
        assert_members_of(
            &DecapsulateResponse {
                key_id: arn.clone(),
                shared_secret: secret(b"s"),
                encapsulation_algorithm: "ML_KEM".into(),
            },
            "DecapsulateResponse",
        );
        assert_members_of(
            &GenerateDataKeyPairResponse {
                private_key_ciphertext_blob: Blob(vec![1]),
                private_key_plaintext: secret(b"p"),
                public_key: Blob(vec![1]),
                key_id: arn.clone(),
                key_pair_spec: "RSA_2048".into(),
                key_material_id: "00".into(),
            },
            "GenerateDataKeyPairResponse",
        );
        assert_members_of(
            &GenerateDataKeyPairWithoutPlaintextResponse {
                private_key_ciphertext_blob: Blob(vec![1]),
                public_key: Blob(vec![1]),
                key_id: arn,
                key_pair_spec: "RSA_2048".into(),
                key_material_id: "00".into(),
            },
            "GenerateDataKeyPairWithoutPlaintextResponse",
        );
        assert_members_of(
            &KeyMetadata {
                encryption_algorithms: list.clone(),
                signing_algorithms: list.clone(),
                key_agreement_algorithms: list.clone(),
                encapsulation_algorithms: list.clone(),
                mac_algorithms: list,
                pending_deletion_window_in_days: Some(7),
                deletion_date: Some(1.0),
                current_key_material_id: Some("00".into()),
                key_usage: Some("SIGN_VERIFY".into()),
                expiration_model: Some("KEY_MATERIAL_EXPIRES".into()),
                valid_to: Some(1.0),
                ..Default::default()
            },
            "KeyMetadata",
        );
    }

    #[test]
    fn new_requests_decode_with_the_models_member_names() {
        for (shape, body) in [
            (
                "SignRequest",
                r#"{"KeyId":"k","Message":"bQ==","MessageType":"RAW","SigningAlgorithm":"ECDSA_SHA_256","DryRun":true,"GrantTokens":[]}"#,
            ),
            (
                "VerifyRequest",
                r#"{"KeyId":"k","Message":"bQ==","MessageType":"DIGEST","Signature":"cw==","SigningAlgorithm":"ECDSA_SHA_256","DryRun":false,"GrantTokens":[]}"#,
            ),
            (
                "GenerateMacRequest",
                r#"{"KeyId":"k","Message":"bQ==","MacAlgorithm":"HMAC_SHA_256","DryRun":true,"GrantTokens":[]}"#,
            ),
            (
                "VerifyMacRequest",
                r#"{"KeyId":"k","Message":"bQ==","Mac":"bQ==","MacAlgorithm":"HMAC_SHA_256","DryRun":true,"GrantTokens":[]}"#,
            ),
            (
                "DeriveSharedSecretRequest",
                r#"{"KeyId":"k","KeyAgreementAlgorithm":"ECDH","PublicKey":"cA==","DryRun":true,"GrantTokens":[],"Recipient":{}}"#,
            ),
            (
                "EncapsulateRequest",
                r#"{"KeyId":"k","EncapsulationAlgorithm":"ML_KEM","DryRun":true,"GrantTokens":[]}"#,
            ),
            (
                "DecapsulateRequest",
                r#"{"KeyId":"k","SharedSecretCiphertextBlob":"Yw==","EncapsulationAlgorithm":"ML_KEM","DryRun":true,"GrantTokens":[]}"#,
            ),
            (
                "GenerateDataKeyPairRequest",
                r#"{"KeyId":"k","KeyPairSpec":"RSA_2048","EncryptionContext":{"a":"b"},"DryRun":true,"GrantTokens":[],"Recipient":{}}"#,
            ),
        ] {
            let v: Value = serde_json::from_str(body).unwrap();
            let allowed = members(shape);
            for key in v.as_object().unwrap().keys() {
                assert!(allowed.contains(key), "{key} is not a member of {shape}");
            }
            let decoded = match shape {
                "SignRequest" => serde_json::from_value::<SignRequest>(v).map(|_| ()),
                "VerifyRequest" => serde_json::from_value::<VerifyRequest>(v).map(|_| ()),
                "GenerateMacRequest" => serde_json::from_value::<GenerateMacRequest>(v).map(|_| ()),
                "VerifyMacRequest" => serde_json::from_value::<VerifyMacRequest>(v).map(|_| ()),
                "DeriveSharedSecretRequest" => {
                    serde_json::from_value::<DeriveSharedSecretRequest>(v).map(|_| ())
                }
                "EncapsulateRequest" => serde_json::from_value::<EncapsulateRequest>(v).map(|_| ()),
                "DecapsulateRequest" => serde_json::from_value::<DecapsulateRequest>(v).map(|_| ()),
                _ => serde_json::from_value::<GenerateDataKeyPairRequest>(v).map(|_| ()),
            };
            decoded.unwrap_or_else(|e| panic!("{shape}: {e}"));
        }
    }

    #[test]
    fn absent_algorithm_lists_are_omitted_from_key_metadata() {
        let json = serde_json::to_value(KeyMetadata::default()).unwrap();
        for member in [
            "EncryptionAlgorithms",
            "SigningAlgorithms",
            "KeyAgreementAlgorithms",
            "EncapsulationAlgorithms",
            "MacAlgorithms",
        ] {
            assert!(json.get(member).is_none(), "{member}");
        }
    }
}
/// GetKeyPolicy request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `PolicyName` member.
    pub policy_name: Option<String>,
}

/// GetKeyPolicy response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyResponse {
    /// AWS's `Policy` member.
    pub policy: String,
    /// AWS's `PolicyName` member.
    pub policy_name: String,
}

/// PutKeyPolicy request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct PutKeyPolicyRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `PolicyName` member.
    pub policy_name: Option<String>,
    /// AWS's `Policy` member.
    pub policy: String,
    /// AWS's `BypassPolicyLockoutSafetyCheck` member.
    pub bypass_policy_lockout_safety_check: Option<bool>,
}

/// ListKeyPolicies response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyPoliciesResponse {
    /// AWS's `PolicyNames` member.
    pub policy_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `NextMarker` member.
    pub next_marker: Option<String>,
    /// AWS's `Truncated` member.
    pub truncated: bool,
}

/// GrantConstraints.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "PascalCase")]
pub struct GrantConstraints {
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `EncryptionContextSubset` member.
    pub encryption_context_subset: Option<EncryptionContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `EncryptionContextEquals` member.
    pub encryption_context_equals: Option<EncryptionContext>,
}

/// CreateGrant request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `GranteePrincipal` member.
    pub grantee_principal: Option<String>,
    /// AWS's `GranteeServicePrincipal` member.
    pub grantee_service_principal: Option<String>,
    /// AWS's `RetiringPrincipal` member.
    pub retiring_principal: Option<String>,
    /// AWS's `RetiringServicePrincipal` member.
    pub retiring_service_principal: Option<String>,
    /// AWS's `Operations` member.
    pub operations: Vec<String>,
    /// AWS's `Constraints` member.
    pub constraints: Option<GrantConstraints>,
    /// AWS's `GrantTokens` member.
    pub grant_tokens: Option<Vec<String>>,
    /// AWS's `Name` member.
    pub name: Option<String>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
}

/// CreateGrant response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantResponse {
    /// AWS's `GrantId` member.
    pub grant_id: String,
    /// AWS's `GrantToken` member.
    pub grant_token: String,
}

/// ListGrants request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `Limit` member.
    pub limit: Option<i32>,
    /// AWS's `Marker` member.
    pub marker: Option<String>,
    /// AWS's `GrantId` member.
    pub grant_id: Option<String>,
    /// AWS's `GranteePrincipal` member.
    pub grantee_principal: Option<String>,
    /// AWS's `GranteeServicePrincipal` member.
    pub grantee_service_principal: Option<String>,
}

/// GrantListEntry.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GrantListEntry {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `GrantId` member.
    pub grant_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `Name` member.
    pub name: Option<String>,
    /// AWS's `CreationDate` member.
    pub creation_date: Timestamp,
    /// AWS's `GranteePrincipal` member.
    pub grantee_principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `RetiringPrincipal` member.
    pub retiring_principal: Option<String>,
    /// AWS's `IssuingAccount` member.
    pub issuing_account: String,
    /// AWS's `Operations` member.
    pub operations: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `Constraints` member.
    pub constraints: Option<GrantConstraints>,
}

/// ListGrants and ListRetirableGrants response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsResponse {
    /// AWS's `Grants` member.
    pub grants: Vec<GrantListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// AWS's `NextMarker` member.
    pub next_marker: Option<String>,
    /// AWS's `Truncated` member.
    pub truncated: bool,
}

/// ListRetirableGrants request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListRetirableGrantsRequest {
    /// AWS's `Limit` member.
    pub limit: Option<i32>,
    /// AWS's `Marker` member.
    pub marker: Option<String>,
    /// AWS's `RetiringPrincipal` member.
    pub retiring_principal: Option<String>,
    /// AWS's `RetiringServicePrincipal` member.
    pub retiring_service_principal: Option<String>,
}

/// RetireGrant request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct RetireGrantRequest {
    /// AWS's `GrantToken` member.
    pub grant_token: Option<String>,
    /// AWS's `KeyId` member.
    pub key_id: Option<String>,
    /// AWS's `GrantId` member.
    pub grant_id: Option<String>,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
}

/// RevokeGrant request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct RevokeGrantRequest {
    /// AWS's `KeyId` member.
    pub key_id: String,
    /// AWS's `GrantId` member.
    pub grant_id: String,
    /// AWS's `DryRun` member.
    pub dry_run: Option<bool>,
}
