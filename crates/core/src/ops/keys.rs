//! CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey, UpdateKeyDescription.

use std::sync::Arc;

use trent_crypto::random::random_bytes;

use crate::action::Action;
use crate::caller::Caller;
use crate::default_policy::default_key_policy;
use crate::error::CoreError;
use crate::kms::Kms;
use crate::material::KeyMaterial;
use crate::model::{
    KeyAddr, KeyId, KeyMaterialId, KeyMaterialRecord, KeyRecord, KeySpec, KeyState, KeyUsage,
    Origin, Tag,
};
use crate::ops::policies::NewKeyFacts;
use crate::ops::tags::check_tags;
use crate::ops::{page_limit, Page};

/// What CreateKey was asked for, already converted from the wire.
#[derive(Debug, Default)]
pub struct CreateKeyInput {
    /// The key's description.
    pub description: Option<String>,
    /// The key spec.
    pub key_spec: Option<KeySpec>,
    /// The key usage.
    pub key_usage: Option<KeyUsage>,
    /// Where the key material came from.
    pub origin: Option<Origin>,
    /// The key policy document.
    pub policy: Option<String>,
    /// Skip the check that the policy still lets the caller manage the key.
    pub bypass_policy_lockout_safety_check: bool,
    /// The tags.
    pub tags: Vec<Tag>,
    /// Whether it is a multi-Region key (Trent makes none).
    pub multi_region: bool,
    /// A custom key store (refused: Trent has none).
    pub custom_key_store_id: Option<String>,
}

impl Kms {
    /// CreateKey: a new key of any key spec AWS offers, with fresh material (made off the
    /// async worker threads for key pairs), its policy and tags.
    pub async fn create_key(
        &self,
        caller: &Caller,
        input: CreateKeyInput,
    ) -> Result<Arc<KeyRecord>, CoreError> {
        let key_spec = input.key_spec.unwrap_or(KeySpec::SymmetricDefault);
        let key_usage = match input.key_usage {
            Some(u) => u,
            None if key_spec == KeySpec::SymmetricDefault => KeyUsage::EncryptDecrypt,
            None => {
                return Err(CoreError::Validation(
                    "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
                        .into(),
                ))
            }
        };
        let origin = input.origin.unwrap_or(Origin::AwsKms);
        if !key_spec.key_usages().contains(&key_usage) {
            return Err(CoreError::Validation(format!(
                "KeyUsage {key_usage} is not compatible with KeySpec {key_spec}"
            )));
        }
        if origin != Origin::AwsKms && origin != Origin::External {
            return Err(CoreError::UnsupportedOperation(format!(
                "Origin {origin} is not supported by this Trent version."
            )));
        }
        if origin == Origin::External && !crate::ops::imports::importable(key_spec) {
            return Err(CoreError::UnsupportedOperation(format!(
                "Key material cannot be imported into a {key_spec} key in this Trent version."
            )));
        }
        // Replicas of an EXTERNAL key would each need the same material imported
        // (ARCHITECTURE.md §10): not built yet, so refused rather than half-made.
        if origin == Origin::External && input.multi_region {
            return Err(CoreError::UnsupportedOperation(
                "Multi-Region keys with imported key material are not supported by this Trent \
                 version."
                    .into(),
            ));
        }
        if let Some(id) = &input.custom_key_store_id {
            return Err(custom_key_store_not_found(id));
        }
        check_tags(&input.tags)?;
        let policy = match input.policy {
            Some(p) => {
                self.check_new_key_policy(
                    caller,
                    &p,
                    input.bypass_policy_lockout_safety_check,
                    NewKeyFacts {
                        key_spec,
                        key_usage,
                        origin,
                        tags: &input.tags,
                    },
                )?;
                p
            }
            None => default_key_policy(&caller.account_id),
        };
        let now = self.now();
        // A multi-Region primary key: `mrk-` id, its own Region as the primary Region
        // (ARCHITECTURE.md §10).
        let key_id = if input.multi_region {
            KeyId::generate_multi_region()
        } else {
            KeyId::generate()
        };
        let external = origin == Origin::External;
        // A key for imported material has none until ImportKeyMaterial (ARCHITECTURE.md §3.1);
        // its current material id names nothing until then.
        let material = match external {
            true => None,
            false => Some(KeyMaterial::generate(key_spec).await?),
        };
        let material_id = match external {
            true => KeyMaterialId([0; 32]),
            false => new_material_id()?,
        };
        let record = KeyRecord {
            key_id,
            account_id: caller.account_id.clone(),
            region: caller.region.to_string(),
            description: input.description.unwrap_or_default(),
            key_state: if external {
                KeyState::PendingImport
            } else {
                KeyState::Enabled
            },
            key_spec,
            key_usage,
            origin,
            creation_date: now,
            deletion_date: None,
            policy,
            tags: dedupe_tags(input.tags),
            current_key_material_id: material_id,
            multi_region: input.multi_region,
            primary_region: input.multi_region.then(|| caller.region.to_string()),
            rotation_period_days: None,
            next_rotation_date: None,
            pending_window_days: None,
            deleted_date: None,
            version: 1,
        };
        let Some(material) = material else {
            self.create_external_key(record.clone()).await?;
            let record = Arc::new(record);
            self.remember_key(record.clone());
            return Ok(record);
        };
        let wrapped = material.wrap(&self.root_key, &record.arn(), &material_id.0)?;
        let stored = KeyMaterialRecord {
            region: record.region.clone(),
            key_id,
            key_material_id: material_id,
            wrapped,
            created: now,
            rotation_type: None,
        };
        self.store.create_key(record.clone(), stored).await?;
        self.remember_material(record.addr(), material_id, material);
        let record = Arc::new(record);
        self.remember_key(record.clone());
        Ok(record)
    }

    /// DescribeKey.
    pub async fn describe_key(
        &self,
        caller: &Caller,
        key_id: &str,
    ) -> Result<Arc<KeyRecord>, CoreError> {
        Ok(self
            .usable_key(caller, key_id, Action::DescribeKey)
            .await?
            .record)
    }

    /// ListKeys: the caller's keys in this Region, ordered by key id.
    pub async fn list_keys(
        &self,
        caller: &Caller,
        limit: Option<i32>,
        marker: Option<&str>,
    ) -> Result<Page<Arc<KeyRecord>>, CoreError> {
        let limit = page_limit(limit);
        let after = match marker {
            None => None,
            Some(m) => Some(
                KeyId::parse(m).ok_or_else(|| CoreError::InvalidMarker("Invalid marker".into()))?,
            ),
        };
        // One more than asked tells whether another page exists.
        let mut keys = self
            .store
            .list_keys(&caller.account_id, caller.region, after, limit + 1)
            .await?;
        let more = keys.len() > limit;
        keys.truncate(limit);
        let next_marker = more
            .then(|| keys.last().map(|k| k.key_id.to_string()))
            .flatten();
        Ok(Page {
            items: keys.into_iter().map(Arc::new).collect(),
            next_marker,
        })
    }

    /// EnableKey.
    pub async fn enable_key(&self, caller: &Caller, key_id: &str) -> Result<(), CoreError> {
        self.set_state(caller, key_id, Action::EnableKey, KeyState::Enabled)
            .await
    }

    /// DisableKey.
    pub async fn disable_key(&self, caller: &Caller, key_id: &str) -> Result<(), CoreError> {
        self.set_state(caller, key_id, Action::DisableKey, KeyState::Disabled)
            .await
    }

    async fn set_state(
        &self,
        caller: &Caller,
        key_id: &str,
        action: Action,
        to: KeyState,
    ) -> Result<(), CoreError> {
        let key = self.usable_key(caller, key_id, action).await?;
        self.update_key(key.record.addr(), move |k| {
            crate::key_state::check(action, k)?;
            k.key_state = to;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// UpdateKeyDescription.
    pub async fn update_key_description(
        &self,
        caller: &Caller,
        key_id: &str,
        description: String,
    ) -> Result<(), CoreError> {
        let action = Action::UpdateKeyDescription;
        let key = self.usable_key(caller, key_id, action).await?;
        self.update_key(key.record.addr(), move |k| {
            crate::key_state::check(action, k)?;
            k.description = description;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Applies a change to a key in one store transaction and refreshes the cache.
    pub(crate) async fn update_key(
        &self,
        key: KeyAddr,
        f: impl FnOnce(&mut KeyRecord) -> Result<(), CoreError> + Send + 'static,
    ) -> Result<Arc<KeyRecord>, CoreError> {
        let updated = Arc::new(
            self.store
                .update_key(
                    key,
                    Box::new(move |k: &mut KeyRecord| {
                        // A key destroyed since it was resolved is gone.
                        if k.deleted_date.is_some() {
                            return Err(CoreError::NotFound(format!(
                                "Key '{}' does not exist",
                                k.arn()
                            )));
                        }
                        f(k)
                    }),
                )
                .await?,
        );
        self.remember_key(updated.clone());
        Ok(updated)
    }
}

/// A fresh random key material id.
pub(crate) fn new_material_id() -> Result<KeyMaterialId, CoreError> {
    let bytes = random_bytes(32)?;
    let mut id = [0u8; 32];
    id.copy_from_slice(bytes.as_bytes());
    Ok(KeyMaterialId(id))
}

/// Later tags with the same key replace earlier ones, as AWS does.
fn dedupe_tags(tags: Vec<Tag>) -> Vec<Tag> {
    let mut out: Vec<Tag> = Vec::with_capacity(tags.len());
    for t in tags {
        match out.iter_mut().find(|o| o.key == t.key) {
            Some(existing) => existing.value = t.value,
            None => out.push(t),
        }
    }
    out
}

/// The answer for a custom key store id that names no store. AWS's message is not recorded
/// anywhere public (tests/aws-answers.md); Trent has no custom key stores yet, so every id
/// names nothing.
pub fn custom_key_store_not_found(id: &str) -> CoreError {
    CoreError::CustomKeyStoreNotFound(format!("Custom key store {id} does not exist."))
}
