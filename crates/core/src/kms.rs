//! The KMS service object: configuration, the ports, the caches, and key resolution shared
//! by every operation. The operations themselves live in `ops/`, one file per family.

use std::sync::Arc;

use trent_crypto::root::RootKey;

use crate::action::Action;
use crate::authorize::AccessCaches;
use crate::cache::Cache;
use crate::caller::Caller;
use crate::clock::SharedClock;
use crate::error::CoreError;
use crate::key_state;
use crate::material::KeyMaterial;
use crate::model::{alias_arn, AccountId, KeyAddr, KeyId, KeyMaterialId, KeyRecord};
use crate::resolve::KeyRef;
use crate::store::Store;

/// Sizes of the in-memory caches.
#[derive(Clone, Debug)]
pub struct CacheSizes {
    /// Key records.
    pub keys: usize,
    /// Unwrapped key material versions.
    pub materials: usize,
    /// Alias → key id.
    pub aliases: usize,
}

impl Default for CacheSizes {
    fn default() -> Self {
        CacheSizes {
            keys: 100_000,
            materials: 100_000,
            aliases: 100_000,
        }
    }
}

/// The KMS: one per server process, shared by every request.
pub struct Kms {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) root_key: Arc<RootKey>,
    pub(crate) clock: SharedClock,
    /// The data dir's default Region (`trent init --region`); each request's own Region is
    /// its caller's ([`Caller::region`]).
    pub(crate) region: String,
    // Every key cache is keyed by (Region, key id): multi-Region keys share key ids across
    // Regions (ARCHITECTURE.md §10).
    keys: Cache<KeyAddr, KeyRecord>,
    materials: Cache<(KeyAddr, KeyMaterialId), KeyMaterial>,
    aliases: Cache<(AccountId, &'static str, String), KeyId>,
    /// Latest successful use of each key since the last flush to the store.
    pub(crate) usage:
        parking_lot::Mutex<std::collections::HashMap<KeyAddr, crate::model::KeyLastUsage>>,
    /// The keys with an on-demand rotation in progress, and when each started
    /// (GetKeyRotationStatus's OnDemandRotationStartDate).
    pub(crate) rotating: crate::ops::lifecycle::RotationsInProgress,
    /// Parsed key policies, key condition keys, grants and alias lists for authorization.
    pub(crate) access: AccessCaches,
    /// Held by CreateGrant from reading a key's grants to storing the new one, so that the
    /// per-key limit and Name idempotency hold under concurrent calls (one node: the SQLite
    /// store is this process's alone).
    pub(crate) grant_creation: tokio::sync::Mutex<()>,
    /// The Regions served (ReplicateKey's ReplicaRegion must be one); empty: every Region of
    /// the `aws` partition and the default Region.
    served_regions: Vec<&'static str>,
}

/// A key the caller may use for an action, resolved and checked.
pub(crate) struct UsableKey {
    pub record: Arc<KeyRecord>,
}

impl Kms {
    /// A KMS whose default Region is `region`, storing in `store`, wrapping material with
    /// `root_key`. It serves whichever Region each caller names.
    pub fn new(
        store: Arc<dyn Store>,
        root_key: Arc<RootKey>,
        clock: SharedClock,
        region: impl Into<String>,
        cache: CacheSizes,
    ) -> Self {
        Kms {
            store,
            root_key,
            clock,
            region: region.into(),
            keys: Cache::new(cache.keys),
            materials: Cache::new(cache.materials),
            aliases: Cache::new(cache.aliases),
            usage: Default::default(),
            rotating: Default::default(),
            access: AccessCaches::new(cache.keys),
            grant_creation: tokio::sync::Mutex::new(()),
            served_regions: Vec::new(),
        }
    }

    /// This KMS serving only `regions` (`trent serve --regions`); see [`Kms::served_region`].
    pub fn with_served_regions(mut self, regions: Vec<&'static str>) -> Self {
        self.served_regions = regions;
        self
    }

    /// The served Region named `name`, interned; `None` if it is not served.
    pub fn served_region(&self, name: &str) -> Option<&'static str> {
        let served = if self.served_regions.is_empty() {
            crate::region::AWS_REGIONS.binary_search(&name).is_ok() || name == self.region
        } else {
            self.served_regions.contains(&name)
        };
        served.then(|| crate::region::intern(name))
    }

    /// The default Region (the data dir's).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The store behind this KMS.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The root key (for wrapping access-key secrets).
    pub fn root_key(&self) -> &Arc<RootKey> {
        &self.root_key
    }

    /// Now, by the injected clock, to the millisecond (the precision every store keeps, so
    /// a cached record equals the stored one).
    pub fn now(&self) -> time::OffsetDateTime {
        let t = self.clock.now();
        t.replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(t)
    }

    /// A key record by (Region, id): from the cache, else from the store (then cached).
    pub(crate) async fn key_by_id(
        &self,
        key: KeyAddr,
    ) -> Result<Option<Arc<KeyRecord>>, CoreError> {
        if let Some(k) = self.keys.get(&key) {
            return Ok(Some(k));
        }
        let Some(record) = self.store.get_key(key).await? else {
            return Ok(None);
        };
        let record = Arc::new(record);
        self.remember_key(record.clone());
        Ok(Some(record))
    }

    /// The key of `region` whose id is these 16 bytes (of a ciphertext blob or grant token):
    /// a UUID key id, else a multi-Region one ([`KeyId::candidates`]).
    pub(crate) async fn key_by_blob_id(
        &self,
        region: &'static str,
        bytes: [u8; 16],
    ) -> Result<Option<Arc<KeyRecord>>, CoreError> {
        for key_id in KeyId::candidates(bytes) {
            if let Some(k) = self.key_by_id(KeyAddr { region, key_id }).await? {
                return Ok(Some(k));
            }
        }
        Ok(None)
    }

    /// Caches a key record unless a newer version is cached already.
    pub(crate) fn remember_key(&self, record: Arc<KeyRecord>) {
        self.keys
            .put_unless(record.addr(), record, |old, new| old.version > new.version);
    }

    /// The key an alias of `account` in `region` points at, from the cache or the store.
    pub(crate) async fn alias_target(
        &self,
        account: &AccountId,
        region: &'static str,
        alias_name: &str,
    ) -> Result<Option<KeyId>, CoreError> {
        let cache_key = (account.clone(), region, alias_name.to_string());
        if let Some(id) = self.aliases.get(&cache_key) {
            return Ok(Some(*id));
        }
        let found = self.store.get_alias(account, region, alias_name).await?;
        Ok(found.map(|a| {
            self.aliases.put(cache_key, Arc::new(a.target_key_id));
            a.target_key_id
        }))
    }

    /// Caches freshly made material (so the first use after a rotation reads no store).
    pub(crate) fn remember_material(
        &self,
        key: KeyAddr,
        material_id: KeyMaterialId,
        material: KeyMaterial,
    ) {
        self.materials.put((key, material_id), Arc::new(material));
    }

    /// Forgets one erased version of a key's material (imported material deleted or expired).
    pub(crate) fn forget_material(&self, key: KeyAddr, material_id: KeyMaterialId) {
        self.materials.remove(&(key, material_id));
    }

    /// Forgets every cached key record, alias target, key policy, grant list and alias list,
    /// so the next request reads them from the store. A server whose store other nodes
    /// share calls it every second: their changes (a key disabled, a policy replaced, a
    /// grant revoked) are enforced here within that (ARCHITECTURE.md §6.1). Unwrapped key
    /// material stays: it never changes under its id, and the fresh key record gates its use.
    pub fn forget_shared_state(&self) {
        self.keys.clear();
        self.aliases.clear();
        self.access.clear();
    }

    /// Forgets everything cached about a destroyed key: its material and the aliases that
    /// pointed at it; the tombstone record replaces the live one.
    pub(crate) fn forget_destroyed(&self, tombstone: Arc<KeyRecord>) {
        let key = tombstone.addr();
        self.materials.remove_where(|(k, _), _| *k == key);
        self.aliases
            .remove_where(|(_, region, _), target| *region == key.region && *target == key.key_id);
        self.access.forget_key(key);
        self.remember_key(tombstone);
    }

    /// Records an alias change in the cache.
    pub(crate) fn remember_alias(
        &self,
        account: &AccountId,
        region: &'static str,
        alias_name: &str,
        target: Option<KeyId>,
    ) {
        let k = (account.clone(), region, alias_name.to_string());
        self.access
            .alias_changed(alias_name, target.map(|t| KeyAddr { region, key_id: t }));
        match target {
            Some(t) => self.aliases.put(k, Arc::new(t)),
            None => self.aliases.remove(&k),
        }
    }

    /// Resolves a key reference as the caller sees it: a key id or alias name means the
    /// caller's own account in the caller's Region; an ARN may name another account (an ARN
    /// of another Region names no key here, as in AWS).
    pub(crate) async fn resolve(
        &self,
        caller: &Caller,
        text: &str,
    ) -> Result<Arc<KeyRecord>, CoreError> {
        let key_ref = KeyRef::parse(text, caller.region)?;
        self.resolve_ref(caller, key_ref).await
    }

    /// Resolves a parsed key reference (see [`Kms::resolve`]).
    pub(crate) async fn resolve_ref(
        &self,
        caller: &Caller,
        key_ref: KeyRef,
    ) -> Result<Arc<KeyRecord>, CoreError> {
        let region = caller.region;
        let (account, key_id) = match &key_ref {
            KeyRef::Key { account, key_id } => (
                account.clone().unwrap_or_else(|| caller.account_id.clone()),
                *key_id,
            ),
            KeyRef::Alias {
                account,
                alias_name,
            } => {
                let account = account.clone().unwrap_or_else(|| caller.account_id.clone());
                let Some(id) = self.alias_target(&account, region, alias_name).await? else {
                    return Err(CoreError::NotFound(format!(
                        "Alias {} is not found.",
                        alias_arn(region, &account, alias_name)
                    )));
                };
                (account, id)
            }
        };
        match self.key_by_id(KeyAddr { region, key_id }).await? {
            Some(k) if k.account_id == account && k.deleted_date.is_none() => Ok(k),
            _ => Err(CoreError::NotFound(format!(
                "Key '{}' does not exist",
                crate::model::key_arn(region, &account, &key_id)
            ))),
        }
    }

    /// Resolves, authorizes and checks the key state for `action`.
    pub(crate) async fn usable_key(
        &self,
        caller: &Caller,
        text: &str,
        action: Action,
    ) -> Result<UsableKey, CoreError> {
        let key_ref = KeyRef::parse(text, caller.region)?;
        if key_ref.is_alias() && !action.operation().accepts_alias() {
            // An alias name or alias ARN where only a key id or key ARN is accepted: AWS's
            // text, recorded for CreateGrant and GetKeyPolicy (tests/aws-answers.json).
            return Err(CoreError::InvalidArn(
                "Key Aliases are not supported for this operation.".into(),
            ));
        }
        let record = self.resolve_ref(caller, key_ref).await?;
        self.authorize(caller, action, &record).await?;
        key_state::check(action.operation(), &record)?;
        Ok(UsableKey { record })
    }

    /// The unwrapped material of one version of a key, from the cache or the store.
    pub(crate) async fn material(
        &self,
        key: &KeyRecord,
        material_id: KeyMaterialId,
    ) -> Result<Option<Arc<KeyMaterial>>, CoreError> {
        let addr = key.addr();
        let ck = (addr, material_id);
        if let Some(m) = self.materials.get(&ck) {
            return Ok(Some(m));
        }
        let arn = key.arn();
        let mut found = None;
        for stored in self.store.get_key_materials(addr).await? {
            let material = KeyMaterial::unwrap(
                key.key_spec,
                &self.root_key,
                &arn,
                &stored.key_material_id.0,
                &stored.wrapped,
            )
            .map_err(|_| {
                CoreError::Internal(format!(
                    "key material {} of {} does not unwrap under the root key",
                    stored.key_material_id.to_hex(),
                    arn
                ))
            })?;
            let material = Arc::new(material);
            if stored.key_material_id == material_id {
                found = Some(material.clone());
            }
            self.materials.put((addr, stored.key_material_id), material);
        }
        Ok(found)
    }

    /// The current material of a key, which must exist for a key that is not destroyed.
    pub(crate) async fn current_material(
        &self,
        key: &KeyRecord,
    ) -> Result<Arc<KeyMaterial>, CoreError> {
        self.material(key, key.current_key_material_id)
            .await?
            .ok_or_else(|| {
                CoreError::Internal(format!("current key material of {} is missing", key.arn()))
            })
    }
}
