//! CreateGrant, ListGrants, ListRetirableGrants, RetireGrant and RevokeGrant: mirrors
//! `trent_core::ops::grants`.

use serde_json::Value;
use trent_core::ops::grants::{CreateGrantInput, ListGrantsInput, RetireGrantInput};
use trent_core::{Caller, CoreError, Kms};
use trent_wire::types::*;
use trent_wire::WireError;

use super::{decode, epoch, Outcome};
use crate::api::errors::ApiError;

/// CreateGrant.
pub(super) async fn create_grant(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: CreateGrantRequest = decode(v)?;
    let grantee = r
        .grantee_principal
        .or(r.grantee_service_principal)
        .ok_or_else(|| {
            CoreError::Validation(
                "Either GranteePrincipal or GranteeServicePrincipal must be specified.".into(),
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
    let elements = serde_json::to_value(&resp).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Outcome::json(&resp, Some(out.key_arn))?.with_elements(elements))
}

/// ListGrants.
pub(super) async fn list_grants(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
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

/// ListRetirableGrants.
pub(super) async fn list_retirable_grants(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
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

/// RetireGrant.
pub(super) async fn retire_grant(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
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

/// RevokeGrant.
pub(super) async fn revoke_grant(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: RevokeGrantRequest = decode(v)?;
    let arn = kms
        .revoke_grant(caller, &r.key_id, &r.grant_id, r.dry_run.unwrap_or(false))
        .await?;
    Ok(Outcome::empty(Some(arn)))
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
