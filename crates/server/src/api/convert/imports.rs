//! Imported key material: GetParametersForImport, ImportKeyMaterial and
//! DeleteImportedKeyMaterial; mirrors `trent_core::ops::imports`. The request and response
//! shapes (AWS's member names) live here, beside their only use.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use trent_core::model::{ExpirationModel, ImportType};
use trent_core::ops::imports::ImportKeyMaterialInput;
use trent_core::{Caller, CoreError, Kms};
use trent_crypto::import::{WrappingAlgorithm, WrappingKeySpec};
use trent_wire::Blob;

use super::{decode, epoch, parse_enum, required_enum, Outcome};
use crate::api::errors::ApiError;

#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct GetParametersForImportRequest {
    key_id: String,
    wrapping_algorithm: String,
    wrapping_key_spec: String,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct GetParametersForImportResponse {
    key_id: String,
    import_token: Blob,
    public_key: Blob,
    parameters_valid_to: f64,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ImportKeyMaterialRequest {
    key_id: String,
    import_token: Blob,
    encrypted_key_material: Blob,
    valid_to: Option<f64>,
    expiration_model: Option<String>,
    import_type: Option<String>,
    key_material_description: Option<String>,
    key_material_id: Option<String>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ImportKeyMaterialResponse {
    key_id: String,
    key_material_id: String,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct DeleteImportedKeyMaterialRequest {
    key_id: String,
    key_material_id: Option<String>,
}

/// GetParametersForImport. The public key and token are not secret, but CloudTrail shows
/// neither (the record has no response elements).
pub(super) async fn get_parameters_for_import(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: GetParametersForImportRequest = decode(v)?;
    let algorithm: WrappingAlgorithm = required_enum("wrappingAlgorithm", r.wrapping_algorithm)?;
    let spec: WrappingKeySpec = required_enum("wrappingKeySpec", r.wrapping_key_spec)?;
    let p = kms
        .get_parameters_for_import(caller, &r.key_id, algorithm, spec)
        .await?;
    Outcome::json(
        &GetParametersForImportResponse {
            key_id: p.key_arn.clone(),
            import_token: Blob(p.import_token),
            public_key: Blob(p.public_key),
            parameters_valid_to: epoch(p.parameters_valid_to),
        },
        Some(p.key_arn),
    )
}

/// ImportKeyMaterial. The audit record keeps the request's parameters but never the token
/// or the encrypted material (`trent_audit::redact`); it shows the key material id.
pub(super) async fn import_key_material(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: ImportKeyMaterialRequest = decode(v)?;
    let valid_to = r
        .valid_to
        .map(|secs| {
            time::OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128).map_err(|_| {
                ApiError::from(CoreError::Validation(
                    "The ValidTo date is out of range.".into(),
                ))
            })
        })
        .transpose()?;
    let input = ImportKeyMaterialInput {
        key_id: r.key_id,
        import_token: r.import_token.0,
        encrypted_key_material: r.encrypted_key_material.0,
        valid_to,
        expiration_model: parse_enum::<ExpirationModel>("expirationModel", r.expiration_model)?,
        import_type: parse_enum::<ImportType>("importType", r.import_type)?,
        key_material_description: r.key_material_description,
        key_material_id: r.key_material_id,
    };
    let out = kms.import_key_material(caller, input).await?;
    let resp = ImportKeyMaterialResponse {
        key_id: out.key_arn.clone(),
        key_material_id: out.key_material_id.to_hex(),
    };
    let elements = serde_json::to_value(&resp).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Outcome::json(&resp, Some(out.key_arn))?.with_elements(elements))
}

/// DeleteImportedKeyMaterial.
pub(super) async fn delete_imported_key_material(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: DeleteImportedKeyMaterialRequest = decode(v)?;
    let out = kms
        .delete_imported_key_material(caller, &r.key_id, r.key_material_id.as_deref())
        .await?;
    let resp = ImportKeyMaterialResponse {
        key_id: out.key_arn.clone(),
        key_material_id: out.key_material_id.to_hex(),
    };
    let elements = serde_json::to_value(&resp).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Outcome::json(&resp, Some(out.key_arn))?.with_elements(elements))
}
