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
    pub tag_key: String,
    pub tag_value: String,
}

/// CreateKey request.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyRequest {
    pub policy: Option<String>,
    pub description: Option<String>,
    pub key_usage: Option<String>,
    pub customer_master_key_spec: Option<String>,
    pub key_spec: Option<String>,
    pub origin: Option<String>,
    pub custom_key_store_id: Option<String>,
    pub bypass_policy_lockout_safety_check: Option<bool>,
    pub tags: Option<Vec<Tag>>,
    pub multi_region: Option<bool>,
    pub xks_key_id: Option<String>,
}

/// KeyMetadata, as DescribeKey and CreateKey return it.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    #[serde(rename = "AWSAccountId")]
    pub aws_account_id: String,
    pub key_id: String,
    pub arn: String,
    pub creation_date: Timestamp,
    pub enabled: bool,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<String>,
    pub key_state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<Timestamp>,
    pub origin: String,
    pub key_manager: String,
    pub customer_master_key_spec: String,
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
    pub multi_region: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_deletion_window_in_days: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_key_material_id: Option<String>,
}

/// CreateKey / DescribeKey response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadataResponse {
    pub key_metadata: KeyMetadata,
}

/// Any request that names one key and nothing else that matters (DescribeKey, EnableKey, …).
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdRequest {
    pub key_id: String,
    pub grant_tokens: Option<Vec<String>>,
}

/// UpdateKeyDescription request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateKeyDescriptionRequest {
    pub key_id: String,
    pub description: String,
}

/// A request that pages (ListKeys, and ListAliases / ListResourceTags with a KeyId).
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListRequest {
    pub key_id: Option<String>,
    pub limit: Option<i32>,
    pub marker: Option<String>,
}

/// KeyListEntry.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct KeyListEntry {
    pub key_id: String,
    pub key_arn: String,
}

/// ListKeys response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysResponse {
    pub keys: Vec<KeyListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// Encrypt request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptRequest {
    pub key_id: String,
    pub plaintext: SecretBlob,
    pub encryption_context: Option<EncryptionContext>,
    pub grant_tokens: Option<Vec<String>>,
    pub encryption_algorithm: Option<String>,
    pub dry_run: Option<bool>,
}

/// Encrypt response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptResponse {
    pub ciphertext_blob: Blob,
    pub key_id: String,
    pub encryption_algorithm: String,
}

/// Decrypt request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptRequest {
    pub ciphertext_blob: Option<Blob>,
    pub encryption_context: Option<EncryptionContext>,
    pub grant_tokens: Option<Vec<String>>,
    pub key_id: Option<String>,
    pub encryption_algorithm: Option<String>,
    pub recipient: Option<serde_json::Value>,
    pub dry_run: Option<bool>,
    /// `IGNORE_CIPHERTEXT`: with DryRun, check the key without a ciphertext.
    pub dry_run_modifiers: Option<Vec<String>>,
}

/// Decrypt response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptResponse {
    pub key_id: String,
    pub plaintext: SecretBlob,
    pub encryption_algorithm: String,
    pub key_material_id: String,
}

/// ReEncrypt request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptRequest {
    pub ciphertext_blob: Option<Blob>,
    pub source_encryption_context: Option<EncryptionContext>,
    pub source_key_id: Option<String>,
    pub destination_key_id: String,
    pub destination_encryption_context: Option<EncryptionContext>,
    pub source_encryption_algorithm: Option<String>,
    pub destination_encryption_algorithm: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
    /// `IGNORE_CIPHERTEXT`: with DryRun, check the source key without a ciphertext.
    pub dry_run_modifiers: Option<Vec<String>>,
}

/// ReEncrypt response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptResponse {
    pub ciphertext_blob: Blob,
    pub source_key_id: String,
    pub key_id: String,
    pub source_encryption_algorithm: String,
    pub destination_encryption_algorithm: String,
    pub source_key_material_id: String,
    pub destination_key_material_id: String,
}

/// GenerateDataKey / GenerateDataKeyWithoutPlaintext request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyRequest {
    pub key_id: String,
    pub encryption_context: Option<EncryptionContext>,
    pub number_of_bytes: Option<i32>,
    pub key_spec: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub recipient: Option<serde_json::Value>,
    pub dry_run: Option<bool>,
}

/// GenerateDataKey response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyResponse {
    pub ciphertext_blob: Blob,
    pub plaintext: SecretBlob,
    pub key_id: String,
    pub key_material_id: String,
}

/// GenerateDataKeyWithoutPlaintext response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyWithoutPlaintextResponse {
    pub ciphertext_blob: Blob,
    pub key_id: String,
    pub key_material_id: String,
}

/// GenerateRandom request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomRequest {
    pub number_of_bytes: Option<i32>,
    pub custom_key_store_id: Option<String>,
    pub recipient: Option<serde_json::Value>,
}

/// GenerateRandom response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomResponse {
    pub plaintext: SecretBlob,
}

/// CreateAlias / UpdateAlias request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct AliasRequest {
    pub alias_name: String,
    pub target_key_id: String,
}

/// DeleteAlias request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteAliasRequest {
    pub alias_name: String,
}

/// AliasListEntry.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct AliasListEntry {
    pub alias_name: String,
    pub alias_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated_date: Option<Timestamp>,
}

/// ListAliases response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesResponse {
    pub aliases: Vec<AliasListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// TagResource request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceRequest {
    pub key_id: String,
    pub tags: Vec<Tag>,
}

/// UntagResource request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceRequest {
    pub key_id: String,
    pub tag_keys: Vec<String>,
}

/// ListResourceTags response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceTagsResponse {
    pub tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// EnableKeyRotation request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct EnableKeyRotationRequest {
    pub key_id: String,
    pub rotation_period_in_days: Option<i32>,
}

/// GetKeyRotationStatus response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyRotationStatusResponse {
    pub key_rotation_enabled: bool,
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_rotation_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_rotation_start_date: Option<Timestamp>,
}

/// A response carrying only the key's ARN (RotateKeyOnDemand, CancelKeyDeletion).
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdResponse {
    pub key_id: String,
}

/// ListKeyRotations request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsRequest {
    pub key_id: String,
    pub include_key_material: Option<String>,
    pub limit: Option<i32>,
    pub marker: Option<String>,
}

/// RotationsListEntry.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct RotationsListEntry {
    pub key_id: String,
    pub key_material_id: String,
    pub key_material_state: String,
    pub rotation_date: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_type: Option<String>,
    pub expiration_model: String,
}

/// ListKeyRotations response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsResponse {
    pub rotations: Vec<RotationsListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// ScheduleKeyDeletion request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionRequest {
    pub key_id: String,
    pub pending_window_in_days: Option<i32>,
}

/// ScheduleKeyDeletion response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionResponse {
    pub key_id: String,
    pub deletion_date: Timestamp,
    pub key_state: String,
    pub pending_window_in_days: u32,
}

/// KeyLastUsageData.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct KeyLastUsageData {
    pub operation: String,
    pub timestamp: Timestamp,
    pub cloud_trail_event_id: String,
    pub kms_request_id: String,
}

/// GetKeyLastUsage response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyLastUsageResponse {
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_last_usage: Option<KeyLastUsageData>,
    pub tracking_start_date: Timestamp,
    pub key_creation_date: Timestamp,
}

/// Sign request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct SignRequest {
    pub key_id: String,
    pub message: SecretBlob,
    pub message_type: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub signing_algorithm: String,
    pub dry_run: Option<bool>,
}

/// Sign response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct SignResponse {
    pub key_id: String,
    pub signature: Blob,
    pub signing_algorithm: String,
}

/// Verify request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyRequest {
    pub key_id: String,
    pub message: SecretBlob,
    pub message_type: Option<String>,
    pub signature: Blob,
    pub signing_algorithm: String,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

/// Verify response (a bad signature is an error, so `SignatureValid` is always true).
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyResponse {
    pub key_id: String,
    pub signature_valid: bool,
    pub signing_algorithm: String,
}

/// GetPublicKey response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GetPublicKeyResponse {
    pub key_id: String,
    /// DER-encoded SubjectPublicKeyInfo.
    pub public_key: Blob,
    pub customer_master_key_spec: String,
    pub key_spec: String,
    pub key_usage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithms: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_algorithms: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_agreement_algorithms: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encapsulation_algorithms: Option<Vec<String>>,
}

/// GenerateMac request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacRequest {
    pub message: SecretBlob,
    pub key_id: String,
    pub mac_algorithm: String,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

/// GenerateMac response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacResponse {
    pub mac: Blob,
    pub mac_algorithm: String,
    pub key_id: String,
}

/// VerifyMac request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacRequest {
    pub message: SecretBlob,
    pub key_id: String,
    pub mac_algorithm: String,
    pub mac: Blob,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

/// VerifyMac response (a wrong MAC is an error, so `MacValid` is always true).
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacResponse {
    pub key_id: String,
    pub mac_valid: bool,
    pub mac_algorithm: String,
}

/// DeriveSharedSecret request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretRequest {
    pub key_id: String,
    pub key_agreement_algorithm: String,
    /// The peer's DER-encoded SubjectPublicKeyInfo.
    pub public_key: Blob,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
    pub recipient: Option<serde_json::Value>,
}

/// DeriveSharedSecret response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretResponse {
    pub key_id: String,
    pub shared_secret: SecretBlob,
    pub key_agreement_algorithm: String,
    pub key_origin: String,
}

/// Encapsulate request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct EncapsulateRequest {
    pub key_id: String,
    pub encapsulation_algorithm: String,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

/// Encapsulate response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct EncapsulateResponse {
    pub key_id: String,
    pub shared_secret: SecretBlob,
    pub shared_secret_ciphertext_blob: Blob,
    pub encapsulation_algorithm: String,
}

/// Decapsulate request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DecapsulateRequest {
    pub key_id: String,
    pub shared_secret_ciphertext_blob: Blob,
    pub encapsulation_algorithm: String,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

/// Decapsulate response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DecapsulateResponse {
    pub key_id: String,
    pub shared_secret: SecretBlob,
    pub encapsulation_algorithm: String,
}

/// GenerateDataKeyPair / GenerateDataKeyPairWithoutPlaintext request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairRequest {
    pub encryption_context: Option<EncryptionContext>,
    pub key_id: String,
    pub key_pair_spec: String,
    pub grant_tokens: Option<Vec<String>>,
    pub recipient: Option<serde_json::Value>,
    pub dry_run: Option<bool>,
}

/// GenerateDataKeyPair response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairResponse {
    pub private_key_ciphertext_blob: Blob,
    /// PKCS#8 DER private key.
    pub private_key_plaintext: SecretBlob,
    /// DER-encoded SubjectPublicKeyInfo.
    pub public_key: Blob,
    pub key_id: String,
    pub key_pair_spec: String,
    pub key_material_id: String,
}

/// GenerateDataKeyPairWithoutPlaintext response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairWithoutPlaintextResponse {
    pub private_key_ciphertext_blob: Blob,
    pub public_key: Blob,
    pub key_id: String,
    pub key_pair_spec: String,
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
    pub key_id: String,
    pub policy_name: Option<String>,
}

/// GetKeyPolicy response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyResponse {
    pub policy: String,
    pub policy_name: String,
}

/// PutKeyPolicy request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct PutKeyPolicyRequest {
    pub key_id: String,
    pub policy_name: Option<String>,
    pub policy: String,
    pub bypass_policy_lockout_safety_check: Option<bool>,
}

/// ListKeyPolicies response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyPoliciesResponse {
    pub policy_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// GrantConstraints.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "PascalCase")]
pub struct GrantConstraints {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<EncryptionContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<EncryptionContext>,
}

/// CreateGrant request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantRequest {
    pub key_id: String,
    pub grantee_principal: Option<String>,
    pub grantee_service_principal: Option<String>,
    pub retiring_principal: Option<String>,
    pub retiring_service_principal: Option<String>,
    pub operations: Vec<String>,
    pub constraints: Option<GrantConstraints>,
    pub grant_tokens: Option<Vec<String>>,
    pub name: Option<String>,
    pub dry_run: Option<bool>,
}

/// CreateGrant response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantResponse {
    pub grant_id: String,
    pub grant_token: String,
}

/// ListGrants request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsRequest {
    pub key_id: String,
    pub limit: Option<i32>,
    pub marker: Option<String>,
    pub grant_id: Option<String>,
    pub grantee_principal: Option<String>,
    pub grantee_service_principal: Option<String>,
}

/// GrantListEntry.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GrantListEntry {
    pub key_id: String,
    pub grant_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub creation_date: Timestamp,
    pub grantee_principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retiring_principal: Option<String>,
    pub issuing_account: String,
    pub operations: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<GrantConstraints>,
}

/// ListGrants and ListRetirableGrants response.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsResponse {
    pub grants: Vec<GrantListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// ListRetirableGrants request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListRetirableGrantsRequest {
    pub limit: Option<i32>,
    pub marker: Option<String>,
    pub retiring_principal: Option<String>,
    pub retiring_service_principal: Option<String>,
}

/// RetireGrant request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct RetireGrantRequest {
    pub grant_token: Option<String>,
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub dry_run: Option<bool>,
}

/// RevokeGrant request.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct RevokeGrantRequest {
    pub key_id: String,
    pub grant_id: String,
    pub dry_run: Option<bool>,
}
