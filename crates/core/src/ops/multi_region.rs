//! Multi-Region keys (ARCHITECTURE.md §10): ReplicateKey, the related keys DescribeKey shows,
//! and copying the shared properties (key material) from the primary to its replicas.
//!
//! A multi-Region key is one key id (`mrk-…`) in several Regions of one account: one primary
//! and its replicas, each its own `KeyRecord` at (Region, key id) with its own policy,
//! description, tags, aliases, grants and key state, and its own wrapped copy of every version
//! of the shared material (wrapped under its own ARN). `KeyRecord::primary_region` names the
//! primary's Region in every related key.

use std::sync::Arc;

use crate::action::Action;
use crate::caller::Caller;
use crate::default_policy::default_key_policy;
use crate::error::CoreError;
use crate::kms::Kms;
use crate::model::{KeyAddr, KeyMaterialRecord, KeyRecord, KeyState, Tag};
use crate::ops::policies::NewKeyFacts;
use crate::ops::tags::check_tags;
use crate::store::StoreError;

/// What ReplicateKey was asked for, already converted from the wire.
#[derive(Debug, Default)]
pub struct ReplicateKeyInput {
    /// KeyId: the primary key.
    pub key_id: String,
    /// ReplicaRegion.
    pub replica_region: String,
    /// Policy of the replica (the default key policy if none).
    pub policy: Option<String>,
    /// BypassPolicyLockoutSafetyCheck.
    pub bypass_policy_lockout_safety_check: bool,
    /// Description of the replica.
    pub description: Option<String>,
    /// Tags of the replica.
    pub tags: Vec<Tag>,
}

/// How a multi-Region key relates to the others: its primary and replicas (AWS's
/// MultiRegionConfiguration).
#[derive(Debug, Clone)]
pub struct MultiRegionConfiguration {
    /// Whether this key is the primary.
    pub is_primary: bool,
    /// The primary key: its ARN and Region.
    pub primary: (String, String),
    /// The replica keys: ARN and Region each, by Region.
    pub replicas: Vec<(String, String)>,
}

impl Kms {
    /// The related keys of a multi-Region key that are not destroyed, as DescribeKey shows
    /// them; `None` for a single-Region key.
    pub async fn multi_region_configuration(
        &self,
        key: &KeyRecord,
    ) -> Result<Option<MultiRegionConfiguration>, CoreError> {
        let Some(primary_region) = key.primary_region.clone().filter(|_| key.multi_region) else {
            return Ok(None);
        };
        let related = self.related_keys(key).await?;
        let primary_arn = crate::model::key_arn(&primary_region, &key.account_id, &key.key_id);
        Ok(Some(MultiRegionConfiguration {
            is_primary: key.region == primary_region,
            replicas: related
                .iter()
                .filter(|k| k.region != primary_region)
                .map(|k| (k.arn(), k.region.clone()))
                .collect(),
            primary: (primary_arn, primary_region),
        }))
    }

    /// The keys of the same account sharing `key`'s multi-Region key id in every Region (it
    /// included), not destroyed.
    pub(crate) async fn related_keys(&self, key: &KeyRecord) -> Result<Vec<KeyRecord>, CoreError> {
        Ok(self
            .store
            .related_keys(key.key_id)
            .await?
            .into_iter()
            .filter(|k| k.account_id == key.account_id && k.deleted_date.is_none())
            .collect())
    }

    /// ReplicateKey: a replica of a multi-Region primary key in another served Region, with
    /// the same key id and key material and its own policy, description and tags. Authorized
    /// as AWS does: `kms:ReplicateKey` on the primary, `kms:CreateKey` in the replica Region
    /// (and `kms:TagResource` when tags are given).
    pub async fn replicate_key(
        &self,
        caller: &Caller,
        input: ReplicateKeyInput,
    ) -> Result<Arc<KeyRecord>, CoreError> {
        let primary = self
            .usable_key(caller, &input.key_id, Action::ReplicateKey)
            .await?
            .record;
        if !primary.multi_region || primary.primary_region.as_deref() != Some(&primary.region) {
            // AWS's text: "<arn> is not a multi-Region primary key." (the Terraform AWS
            // provider and others match on "is not a multi-Region primary key").
            return Err(CoreError::UnsupportedOperation(format!(
                "{} is not a multi-Region primary key.",
                primary.arn()
            )));
        }
        let Some(replica_region) = self.served_region(&input.replica_region) else {
            return Err(CoreError::Validation(format!(
                "{} is not a valid replica region.",
                input.replica_region
            )));
        };
        if replica_region == primary.region {
            return Err(CoreError::Validation(format!(
                "The replica region {replica_region} must be different from the primary key's region."
            )));
        }
        // kms:CreateKey (and kms:TagResource) in the replica Region, by identity policies.
        let in_replica = Caller {
            region: replica_region,
            ..caller.clone()
        };
        self.authorize_keyless(&in_replica, Action::CreateKey)?;
        if !input.tags.is_empty() {
            self.authorize_keyless(&in_replica, Action::TagResource)?;
        }
        check_tags(&input.tags)?;
        let addr = KeyAddr {
            region: replica_region,
            key_id: primary.key_id,
        };
        let already =
            |arn: String| CoreError::AlreadyExists(format!("Replica key {arn} already exists."));
        if let Some(existing) = self.store.get_key(addr).await? {
            return Err(already(existing.arn()));
        }
        let policy = match input.policy {
            Some(p) => {
                self.check_new_key_policy(
                    &in_replica,
                    &p,
                    input.bypass_policy_lockout_safety_check,
                    NewKeyFacts {
                        key_spec: primary.key_spec,
                        key_usage: primary.key_usage,
                        origin: primary.origin,
                        tags: &input.tags,
                    },
                )?;
                p
            }
            None => default_key_policy(&caller.account_id),
        };
        let now = self.now();
        let replica = KeyRecord {
            region: replica_region.to_string(),
            description: input.description.unwrap_or_default(),
            key_state: KeyState::Enabled,
            creation_date: now,
            deletion_date: None,
            policy,
            tags: input.tags,
            pending_window_days: None,
            deleted_date: None,
            // Rotation is the primary's: a replica is never due itself.
            next_rotation_date: None,
            version: 1,
            ..(*primary).clone()
        };
        let materials = self.materials_for(&primary, &replica).await?;
        match self.store.create_replica(replica.clone(), materials).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists) => return Err(already(replica.arn())),
            Err(e) => return Err(e.into()),
        }
        let replica = Arc::new(replica);
        self.remember_key(replica.clone());
        Ok(replica)
    }

    /// Every version of `from`'s material, wrapped for `to` (a related key in another Region).
    async fn materials_for(
        &self,
        from: &KeyRecord,
        to: &KeyRecord,
    ) -> Result<Vec<KeyMaterialRecord>, CoreError> {
        let to_arn = to.arn();
        let mut out = Vec::new();
        for stored in self.store.get_key_materials(from.addr()).await? {
            let material = self
                .material(from, stored.key_material_id)
                .await?
                .ok_or_else(|| {
                    CoreError::Internal(format!("material of {} vanished", from.arn()))
                })?;
            out.push(KeyMaterialRecord {
                region: to.region.clone(),
                key_id: to.key_id,
                wrapped: material.wrap(&self.root_key, &to_arn, &stored.key_material_id.0)?,
                ..stored
            });
        }
        Ok(out)
    }
}

impl Kms {
    /// UpdatePrimaryRegion: the related key in `primary_region` becomes the primary and the
    /// current primary a replica (one store transaction within one Trent, so the `Updating`
    /// state AWS shows in between is never visible). `kms:UpdatePrimaryRegion` is checked on
    /// both keys.
    pub async fn update_primary_region(
        &self,
        caller: &Caller,
        key_id: &str,
        primary_region: &str,
    ) -> Result<(), CoreError> {
        let current = self
            .usable_key(caller, key_id, Action::UpdatePrimaryRegion)
            .await?
            .record;
        if !current.multi_region || current.primary_region.as_deref() != Some(&current.region) {
            return Err(CoreError::UnsupportedOperation(format!(
                "{} is not a multi-Region primary key.",
                current.arn()
            )));
        }
        let Some(target) = self.served_region(primary_region) else {
            return Err(CoreError::Validation(format!(
                "{primary_region} is not a valid primary region."
            )));
        };
        if target == current.region {
            return Err(CoreError::Validation(format!(
                "{} is already the primary key in {target}.",
                current.arn()
            )));
        }
        let in_target = Caller {
            region: target,
            ..caller.clone()
        };
        let replica = self
            .key_by_id(KeyAddr {
                region: target,
                key_id: current.key_id,
            })
            .await?
            .filter(|k| k.account_id == current.account_id && k.deleted_date.is_none())
            .ok_or_else(|| {
                CoreError::NotFound(format!(
                    "Key '{}' does not exist",
                    crate::model::key_arn(target, &current.account_id, &current.key_id)
                ))
            })?;
        self.authorize(&in_target, Action::UpdatePrimaryRegion, &replica)
            .await?;
        crate::key_state::check(Action::UpdatePrimaryRegion.operation(), &replica)?;
        let updated = self
            .store
            .set_primary_region(current.key_id, &current.region, target)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => {
                    CoreError::NotFound(format!("Key '{}' does not exist", replica.arn()))
                }
                other => other.into(),
            })?;
        for k in updated {
            self.remember_key(Arc::new(k));
        }
        Ok(())
    }
}
