//! Rotation, deletion and last usage: mirrors `trent_core::ops::lifecycle`.

use serde_json::Value;
use trent_core::{Caller, Kms};
use trent_wire::types::*;

use super::{decode, epoch, Outcome};
use crate::api::errors::ApiError;

/// EnableKeyRotation.
pub(super) async fn enable_key_rotation(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: EnableKeyRotationRequest = decode(v)?;
    kms.enable_key_rotation(caller, &r.key_id, r.rotation_period_in_days)
        .await?;
    Ok(Outcome::empty(None))
}

/// DisableKeyRotation.
pub(super) async fn disable_key_rotation(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: KeyIdRequest = decode(v)?;
    kms.disable_key_rotation(caller, &r.key_id).await?;
    Ok(Outcome::empty(None))
}

/// GetKeyRotationStatus.
pub(super) async fn get_key_rotation_status(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
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

/// RotateKeyOnDemand.
pub(super) async fn rotate_key_on_demand(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: KeyIdRequest = decode(v)?;
    let arn = kms.rotate_key_on_demand(caller, &r.key_id).await?;
    Outcome::json(
        &KeyIdResponse {
            key_id: arn.clone(),
        },
        Some(arn),
    )
}

/// ListKeyRotations.
pub(super) async fn list_key_rotations(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
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
                .map(|e| match &e.import {
                    None => RotationsListEntry {
                        key_id: e.key_id.to_string(),
                        key_material_id: e.key_material_id.to_hex(),
                        key_material_state: if e.current { "CURRENT" } else { "NON_CURRENT" }
                            .to_string(),
                        rotation_date: epoch(e.rotation_date),
                        rotation_type: e.rotation_type.map(|t| t.to_string()),
                        expiration_model: None,
                        import_state: None,
                        valid_to: None,
                        key_material_description: None,
                    },
                    Some(i) => RotationsListEntry {
                        key_id: e.key_id.to_string(),
                        key_material_id: e.key_material_id.to_hex(),
                        key_material_state: i.key_material_state.to_string(),
                        rotation_date: epoch(e.rotation_date),
                        rotation_type: e.rotation_type.map(|t| t.to_string()),
                        expiration_model: i.expiration_model.map(|m| m.to_string()),
                        import_state: Some(i.import_state.to_string()),
                        valid_to: i.valid_to.map(epoch),
                        key_material_description: i.description.clone(),
                    },
                })
                .collect(),
            truncated: page.next_marker.is_some(),
            next_marker: page.next_marker,
        },
        None,
    )
}

/// ScheduleKeyDeletion.
pub(super) async fn schedule_key_deletion(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: ScheduleKeyDeletionRequest = decode(v)?;
    let d = kms
        .schedule_key_deletion(caller, &r.key_id, r.pending_window_in_days)
        .await?;
    let resp = ScheduleKeyDeletionResponse {
        key_id: d.key_arn.clone(),
        deletion_date: d.deletion_date.map(epoch),
        key_state: d.key_state.to_string(),
        pending_window_in_days: d.pending_window_days,
    };
    let elements = serde_json::to_value(&resp).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Outcome::json(&resp, Some(d.key_arn))?.with_elements(elements))
}

/// CancelKeyDeletion.
pub(super) async fn cancel_key_deletion(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: KeyIdRequest = decode(v)?;
    let arn = kms.cancel_key_deletion(caller, &r.key_id).await?;
    Outcome::json(
        &KeyIdResponse {
            key_id: arn.clone(),
        },
        Some(arn),
    )
}

/// GetKeyLastUsage.
pub(super) async fn get_key_last_usage(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
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
