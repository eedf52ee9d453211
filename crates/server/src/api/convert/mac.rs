//! GenerateMac and VerifyMac: mirrors `trent_core::ops::mac`.

use serde_json::Value;
use trent_core::model::MacAlgorithm;
use trent_core::{Caller, Kms};
use trent_wire::types::*;
use trent_wire::Blob;

use super::{decode, required_enum, Outcome};
use crate::api::errors::ApiError;

/// GenerateMac.
pub(super) async fn generate_mac(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
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

/// VerifyMac.
pub(super) async fn verify_mac(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
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
