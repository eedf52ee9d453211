//! Sign, Verify, GetPublicKey, DeriveSharedSecret, Encapsulate and Decapsulate: mirrors
//! `trent_core::ops::asymmetric`.

use serde_json::Value;
use trent_core::model::{
    EncapsulationAlgorithm, KeyAgreementAlgorithm, MessageType, SigningAlgorithm,
};
use trent_core::ops::asymmetric::{SignInput, VerifyInput};
use trent_core::{Caller, Kms};
use trent_wire::types::*;
use trent_wire::Blob;

use super::{
    algorithm_names, decode, parse_enum, recipient_unsupported, required_enum, secret_blob, Outcome,
};
use crate::api::errors::ApiError;

/// Sign.
pub(super) async fn sign(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
    let r: SignRequest = decode(v)?;
    let input = SignInput {
        key_id: &r.key_id,
        message: r.message.as_bytes(),
        message_type: parse_enum::<MessageType>("messageType", r.message_type)?,
        algorithm: required_enum::<SigningAlgorithm>("signingAlgorithm", r.signing_algorithm)?,
        dry_run: r.dry_run.unwrap_or(false),
    };
    let out = kms.sign(caller, input).await?;
    Outcome::json(
        &SignResponse {
            key_id: out.key_arn.clone(),
            signature: Blob(out.signature),
            signing_algorithm: out.signing_algorithm.to_string(),
        },
        Some(out.key_arn),
    )
}

/// Verify.
pub(super) async fn verify(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
    let r: VerifyRequest = decode(v)?;
    let input = VerifyInput {
        key_id: &r.key_id,
        message: r.message.as_bytes(),
        message_type: parse_enum::<MessageType>("messageType", r.message_type)?,
        signature: &r.signature.0,
        algorithm: required_enum::<SigningAlgorithm>("signingAlgorithm", r.signing_algorithm)?,
        dry_run: r.dry_run.unwrap_or(false),
    };
    let out = kms.verify(caller, input).await?;
    Outcome::json(
        &VerifyResponse {
            key_id: out.key_arn.clone(),
            signature_valid: true,
            signing_algorithm: out.signing_algorithm.to_string(),
        },
        Some(out.key_arn),
    )
}

/// GetPublicKey.
pub(super) async fn get_public_key(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
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

/// DeriveSharedSecret.
pub(super) async fn derive_shared_secret(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
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

/// Encapsulate.
pub(super) async fn encapsulate(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
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

/// Decapsulate.
pub(super) async fn decapsulate(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
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
