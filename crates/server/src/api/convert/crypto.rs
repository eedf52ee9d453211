//! Encrypt, Decrypt, ReEncrypt, data keys, data key pairs and GenerateRandom: mirrors
//! `trent_core::ops::crypto`. The hot path.

use serde_json::Value;
use trent_core::model::{DataKeyPairSpec, EncryptionAlgorithm};
use trent_core::ops::crypto::{DataKeySize, ReEncryptInput, ReEncryptKeysInput};
use trent_core::{Caller, Kms};
use trent_wire::types::*;
use trent_wire::{Blob, SecretBlob, WireError};
use zeroize::Zeroizing;

use super::{decode, parse_enum, recipient_unsupported, required_enum, secret_blob, Outcome};
use crate::api::errors::ApiError;

/// Encrypt.
pub(super) async fn encrypt(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
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

/// Decrypt.
pub(super) async fn decrypt(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
    let r: DecryptRequest = decode(v)?;
    if r.recipient.is_some() {
        return Err(recipient_unsupported());
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

/// ReEncrypt.
pub(super) async fn re_encrypt(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
    let r: ReEncryptRequest = decode(v)?;
    let source_context = r.source_encryption_context.unwrap_or_default();
    let destination_context = r.destination_encryption_context.unwrap_or_default();
    if r.dry_run.unwrap_or(false) && ignores_ciphertext(&r.dry_run_modifiers) {
        let input = ReEncryptKeysInput {
            source_key_id: r.source_key_id.as_deref(),
            source_context: &source_context,
            source_algorithm: algorithm(
                "sourceEncryptionAlgorithm",
                r.source_encryption_algorithm,
            )?,
            destination_key_id: &r.destination_key_id,
            destination_context: &destination_context,
            destination_algorithm: algorithm(
                "destinationEncryptionAlgorithm",
                r.destination_encryption_algorithm,
            )?,
        };
        let Err(e) = kms
            .re_encrypt_dry_run_ignoring_ciphertext(caller, input)
            .await;
        return Err(e.into());
    }
    let blob = r.ciphertext_blob.ok_or_else(missing_ciphertext)?;
    let input = ReEncryptInput {
        ciphertext: &blob.0,
        source_key_id: r.source_key_id.as_deref(),
        source_context: &source_context,
        source_algorithm: algorithm("sourceEncryptionAlgorithm", r.source_encryption_algorithm)?,
        destination_key_id: &r.destination_key_id,
        destination_context: &destination_context,
        destination_algorithm: algorithm(
            "destinationEncryptionAlgorithm",
            r.destination_encryption_algorithm,
        )?,
        dry_run: r.dry_run.unwrap_or(false),
    };
    let out = kms.re_encrypt(caller, input).await?;
    Outcome::json(
        &ReEncryptResponse {
            ciphertext_blob: Blob(out.ciphertext),
            source_key_id: out.source_key_arn,
            key_id: out.key_arn.clone(),
            source_encryption_algorithm: out.source_encryption_algorithm.to_string(),
            destination_encryption_algorithm: out.destination_encryption_algorithm.to_string(),
            source_key_material_id: out.source_key_material_id.to_hex(),
            destination_key_material_id: out.key_material_id.to_hex(),
        },
        Some(out.key_arn),
    )
}

/// GenerateDataKey (`with_plaintext`) or GenerateDataKeyWithoutPlaintext.
pub(super) async fn generate_data_key(
    kms: &Kms,
    caller: &Caller,
    v: Value,
    with_plaintext: bool,
) -> Result<Outcome, ApiError> {
    let r: GenerateDataKeyRequest = decode(v)?;
    if r.recipient.is_some() {
        return Err(recipient_unsupported());
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

/// GenerateDataKeyPair (`with_plaintext`) or GenerateDataKeyPairWithoutPlaintext.
pub(super) async fn generate_data_key_pair(
    kms: &Kms,
    caller: &Caller,
    v: Value,
    with_plaintext: bool,
) -> Result<Outcome, ApiError> {
    let r: GenerateDataKeyPairRequest = decode(v)?;
    if r.recipient.is_some() {
        return Err(recipient_unsupported());
    }
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

/// GenerateRandom.
pub(super) fn generate_random(kms: &Kms, v: Value) -> Result<Outcome, ApiError> {
    let r: GenerateRandomRequest = decode(v)?;
    if let Some(id) = &r.custom_key_store_id {
        return Err(trent_core::ops::keys::custom_key_store_not_found(id).into());
    }
    if r.recipient.is_some() {
        return Err(recipient_unsupported());
    }
    let bytes = kms.generate_random(r.number_of_bytes)?;
    Outcome::json(
        &GenerateRandomResponse {
            plaintext: SecretBlob(Zeroizing::new(bytes.as_bytes().to_vec())),
        },
        None,
    )
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

fn algorithm(field: &str, v: Option<String>) -> Result<Option<EncryptionAlgorithm>, ApiError> {
    parse_enum(field, v)
}
