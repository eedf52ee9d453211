//! Key creation, description and listing, enable and disable: mirrors `trent_core::ops::keys`.

use serde_json::Value;
use trent_core::model::{KeyRecord, KeyUsage, Origin};
use trent_core::ops::keys::CreateKeyInput;
use trent_core::ops::multi_region::ReplicateKeyInput;
use trent_core::{Caller, CoreError, Kms};
use trent_wire::types::*;

use super::{algorithm_names, decode, epoch, parse_enum, tags_in, Outcome};
use crate::api::errors::ApiError;

/// CreateKey.
pub(super) async fn create_key(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
    let r: CreateKeyRequest = decode(v)?;
    if r.key_spec.is_some() && r.customer_master_key_spec.is_some() {
        return Err(CoreError::Validation(
            "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.".into(),
        )
        .into());
    }
    let input = CreateKeyInput {
        description: r.description,
        key_spec: parse_enum("keySpec", r.key_spec.or(r.customer_master_key_spec))?,
        key_usage: parse_enum::<KeyUsage>("keyUsage", r.key_usage)?,
        origin: parse_enum::<Origin>("origin", r.origin)?,
        policy: r.policy,
        bypass_policy_lockout_safety_check: r.bypass_policy_lockout_safety_check.unwrap_or(false),
        tags: tags_in(r.tags),
        multi_region: r.multi_region.unwrap_or(false),
        custom_key_store_id: r.custom_key_store_id,
    };
    let key = kms.create_key(caller, input).await?;
    metadata_outcome(kms, &key).await
}

/// DescribeKey.
pub(super) async fn describe_key(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: KeyIdRequest = decode(v)?;
    let key = kms.describe_key(caller, &r.key_id).await?;
    let resp = KeyMetadataResponse {
        key_metadata: full_metadata(kms, &key).await?,
    };
    Outcome::json(&resp, Some(key.arn()))
}

/// KeyMetadata with, for a multi-Region key, its MultiRegionConfiguration.
async fn full_metadata(kms: &Kms, k: &KeyRecord) -> Result<KeyMetadata, ApiError> {
    let mut meta = key_metadata(k);
    if let Some(facts) = kms.import_facts(k).await? {
        meta.expiration_model = facts.expiration_model.map(|m| m.to_string());
        meta.valid_to = facts.valid_to.map(epoch);
    }
    if let Some(c) = kms.multi_region_configuration(k).await? {
        let key = |(arn, region): (String, String)| MultiRegionKey { arn, region };
        meta.multi_region_configuration = Some(MultiRegionConfiguration {
            multi_region_key_type: if c.is_primary { "PRIMARY" } else { "REPLICA" }.into(),
            primary_key: key(c.primary),
            replica_keys: c.replicas.into_iter().map(key).collect(),
        });
    }
    Ok(meta)
}

/// UpdatePrimaryRegion.
pub(super) async fn update_primary_region(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let member = |name: &str| {
        v.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    kms.update_primary_region(caller, &member("KeyId"), &member("PrimaryRegion"))
        .await?;
    Ok(Outcome::empty(None))
}

/// ReplicateKey.
pub(super) async fn replicate_key(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r = |name: &str| v.get(name).and_then(Value::as_str).map(str::to_string);
    let tags: Option<Vec<trent_wire::types::Tag>> = match v.get("Tags") {
        Some(t) => Some(
            serde_json::from_value(t.clone())
                .map_err(|e| ApiError::Internal(format!("Tags: {e}")))?,
        ),
        None => None,
    };
    let input = ReplicateKeyInput {
        key_id: r("KeyId").unwrap_or_default(),
        replica_region: r("ReplicaRegion").unwrap_or_default(),
        policy: r("Policy"),
        bypass_policy_lockout_safety_check: v
            .get("BypassPolicyLockoutSafetyCheck")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        description: r("Description"),
        tags: tags_in(tags),
    };
    let replica = kms.replicate_key(caller, input).await?;
    let resp = ReplicateKeyResponse {
        replica_key_metadata: full_metadata(kms, &replica).await?,
        replica_policy: replica.policy.clone(),
        replica_tags: replica
            .tags
            .iter()
            .map(|t| trent_wire::types::Tag {
                tag_key: t.key.clone(),
                tag_value: t.value.clone(),
            })
            .collect(),
    };
    let elements = serde_json::to_value(&resp).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Outcome::json(&resp, Some(replica.arn()))?.with_elements(elements))
}

/// ListKeys.
pub(super) async fn list_keys(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
    let r: ListRequest = decode(v)?;
    let page = kms.list_keys(caller, r.limit, r.marker.as_deref()).await?;
    Outcome::json(
        &ListKeysResponse {
            keys: page
                .items
                .iter()
                .map(|k| KeyListEntry {
                    key_id: k.key_id.to_string(),
                    key_arn: k.arn(),
                })
                .collect(),
            truncated: page.next_marker.is_some(),
            next_marker: page.next_marker,
        },
        None,
    )
}

/// EnableKey.
pub(super) async fn enable_key(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
    let r: KeyIdRequest = decode(v)?;
    kms.enable_key(caller, &r.key_id).await?;
    Ok(Outcome::empty(None))
}

/// DisableKey.
pub(super) async fn disable_key(kms: &Kms, caller: &Caller, v: Value) -> Result<Outcome, ApiError> {
    let r: KeyIdRequest = decode(v)?;
    kms.disable_key(caller, &r.key_id).await?;
    Ok(Outcome::empty(None))
}

/// UpdateKeyDescription.
pub(super) async fn update_key_description(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: UpdateKeyDescriptionRequest = decode(v)?;
    kms.update_key_description(caller, &r.key_id, r.description)
        .await?;
    Ok(Outcome::empty(None))
}

/// KeyMetadata as DescribeKey returns it.
fn key_metadata(k: &KeyRecord) -> KeyMetadata {
    let algorithms = k.key_spec.algorithms(k.key_usage);
    KeyMetadata {
        aws_account_id: k.account_id.to_string(),
        key_id: k.key_id.to_string(),
        arn: k.arn(),
        creation_date: epoch(k.creation_date),
        enabled: k.key_state == trent_core::model::KeyState::Enabled,
        description: k.description.clone(),
        key_usage: Some(k.key_usage.to_string()),
        key_state: k.key_state.to_string(),
        deletion_date: k.deletion_date.map(epoch),
        origin: k.origin.to_string(),
        key_manager: "CUSTOMER".into(),
        customer_master_key_spec: k.key_spec.to_string(),
        key_spec: k.key_spec.to_string(),
        encryption_algorithms: algorithm_names(algorithms.encryption),
        signing_algorithms: algorithm_names(algorithms.signing),
        key_agreement_algorithms: algorithm_names(algorithms.key_agreement),
        encapsulation_algorithms: algorithm_names(algorithms.encapsulation),
        mac_algorithms: algorithm_names(algorithms.mac),
        multi_region: k.multi_region,
        multi_region_configuration: None,
        pending_deletion_window_in_days: k
            .pending_window_days
            .filter(|_| k.key_state == trent_core::model::KeyState::PendingDeletion)
            .map(|d| d as i32),
        current_key_material_id: has_key_material_id(k).then(|| k.current_key_material_id.to_hex()),
        expiration_model: None,
        valid_to: None,
    }
}

/// Whether KeyMetadata carries CurrentKeyMaterialId: the API Reference (KeyMetadata) says it
/// is present for symmetric encryption keys with AWS_KMS origin and single-Region symmetric
/// encryption keys with EXTERNAL origin, the keys that rotate; not for HMAC or asymmetric.
/// A key with imported material has none to name before its first import (its id is zeros).
fn has_key_material_id(k: &KeyRecord) -> bool {
    k.current_key_material_id.0 != [0; 32]
        && k.key_spec == trent_core::model::KeySpec::SymmetricDefault
        && (k.origin == Origin::AwsKms || (k.origin == Origin::External && !k.multi_region))
}

async fn metadata_outcome(kms: &Kms, k: &KeyRecord) -> Result<Outcome, ApiError> {
    let resp = KeyMetadataResponse {
        key_metadata: full_metadata(kms, k).await?,
    };
    let elements = serde_json::to_value(&resp).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Outcome::json(&resp, Some(k.arn()))?.with_elements(elements))
}

/// The custom key store operations that name a store by id (or DescribeCustomKeyStores by id
/// or name). Trent has no custom key stores yet (issue 15), so any id or name names nothing
/// (CustomKeyStoreNotFoundException, as AWS answers for an unknown store) and the unfiltered
/// DescribeCustomKeyStores lists none.
pub(super) fn custom_key_store_by_id(v: Value) -> Result<Outcome, ApiError> {
    let named = ["CustomKeyStoreId", "CustomKeyStoreName"]
        .iter()
        .find_map(|member| v.get(*member).and_then(Value::as_str));
    match named {
        Some(id) => Err(trent_core::ops::keys::custom_key_store_not_found(id).into()),
        None => Outcome::json(
            &serde_json::json!({"CustomKeyStores": [], "Truncated": false}),
            None,
        ),
    }
}
