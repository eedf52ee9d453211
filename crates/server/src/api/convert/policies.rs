//! GetKeyPolicy, PutKeyPolicy and ListKeyPolicies: mirrors `trent_core::ops::policies`.

use serde_json::Value;
use trent_core::{Caller, Kms};
use trent_wire::types::*;

use super::{decode, Outcome};
use crate::api::errors::ApiError;

/// GetKeyPolicy.
pub(super) async fn get_key_policy(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
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

/// PutKeyPolicy.
pub(super) async fn put_key_policy(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
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

/// ListKeyPolicies.
pub(super) async fn list_key_policies(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
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
