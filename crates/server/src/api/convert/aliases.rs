//! CreateAlias, UpdateAlias, DeleteAlias and ListAliases: mirrors `trent_core::ops::aliases`.

use serde_json::Value;
use trent_core::{Caller, Kms};
use trent_wire::types::*;

use super::{decode, epoch, Outcome};
use crate::api::errors::ApiError;

/// CreateAlias.
pub(super) async fn create_alias(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: AliasRequest = decode(v)?;
    kms.create_alias(caller, &r.alias_name, &r.target_key_id)
        .await?;
    Ok(Outcome::empty(None))
}

/// UpdateAlias.
pub(super) async fn update_alias(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: AliasRequest = decode(v)?;
    kms.update_alias(caller, &r.alias_name, &r.target_key_id)
        .await?;
    Ok(Outcome::empty(None))
}

/// DeleteAlias.
pub(super) async fn delete_alias(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: DeleteAliasRequest = decode(v)?;
    kms.delete_alias(caller, &r.alias_name).await?;
    Ok(Outcome::empty(None))
}

/// ListAliases.
pub(super) async fn list_aliases(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
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
