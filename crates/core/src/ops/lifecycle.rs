//! The key lifecycle: automatic and on-demand rotation, ListKeyRotations, scheduled deletion,
//! and key usage tracking (GetKeyLastUsage).

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use trent_crypto::symmetric::SymmetricKeyMaterial;

use crate::action::Action;
use crate::audit_intent::{self, AuditIntent};
use crate::caller::Caller;
use crate::error::CoreError;
use crate::key_state;
use crate::kms::Kms;
use crate::material::KeyMaterial;
use crate::model::{
    AccountId, KeyAddr, KeyId, KeyLastUsage, KeyMaterialId, KeyMaterialRecord, KeyRecord, KeySpec,
    KeyState, Origin, RotationType,
};
use crate::ops::keys::new_material_id;
use crate::ops::{page_by_index, page_limit, Page};
use crate::store::StoreError;

/// AWS's default automatic rotation period.
pub const DEFAULT_ROTATION_PERIOD_DAYS: u32 = 365;
/// The most on-demand rotations one key may have.
pub const MAX_ON_DEMAND_ROTATIONS: usize = 25;
/// The deletion waiting periods AWS accepts (the model allows 1–365).
pub const PENDING_WINDOW_DAYS: std::ops::RangeInclusive<i32> = 7..=30;
/// The default deletion waiting period.
pub const DEFAULT_PENDING_WINDOW_DAYS: u32 = 30;

/// GetKeyRotationStatus.
#[derive(Debug)]
pub struct RotationStatus {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// Whether automatic rotation is enabled.
    pub enabled: bool,
    /// The rotation period in days, when enabled.
    pub period_days: Option<u32>,
    /// The next rotation date.
    pub next_rotation_date: Option<OffsetDateTime>,
    /// The on demand rotation start date.
    pub on_demand_rotation_start_date: Option<OffsetDateTime>,
}

/// One entry of ListKeyRotations.
#[derive(Debug)]
pub struct RotationEntry {
    /// The key's id.
    pub key_id: KeyId,
    /// The key material the operation used.
    pub key_material_id: KeyMaterialId,
    /// Whether this is the material new encryptions use.
    pub current: bool,
    /// The rotation date.
    pub rotation_date: OffsetDateTime,
    /// AUTOMATIC or ON_DEMAND (none for the first material).
    pub rotation_type: Option<RotationType>,
    /// For a key with imported material: the version's import facts.
    pub import: Option<crate::ops::imports::ImportedVersion>,
}

/// ScheduleKeyDeletion's answer.
#[derive(Debug)]
pub struct ScheduledDeletion {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The deletion date; `None` for a multi-Region primary key waiting for its replicas
    /// (PendingReplicaDeletion: its window starts when the last replica is deleted).
    pub deletion_date: Option<OffsetDateTime>,
    /// The key state.
    pub key_state: KeyState,
    /// The waiting period in days.
    pub pending_window_days: u32,
}

/// GetKeyLastUsage's answer.
#[derive(Debug)]
pub struct LastUsage {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The last cryptographic use, if any since tracking started.
    pub last_usage: Option<KeyLastUsage>,
    /// The tracking start date.
    pub tracking_start_date: OffsetDateTime,
    /// The key creation date.
    pub key_creation_date: OffsetDateTime,
}

/// The keys with an on-demand rotation under way, and when each started: a second one is a
/// ConflictException, and GetKeyRotationStatus reports the start as OnDemandRotationStartDate.
#[derive(Default)]
pub(crate) struct RotationsInProgress(
    parking_lot::Mutex<std::collections::HashMap<KeyAddr, OffsetDateTime>>,
);

impl RotationsInProgress {
    /// Records that a rotation of `key` started at `now`; false if one is under way already.
    fn begin(&self, key: KeyAddr, now: OffsetDateTime) -> bool {
        let mut m = self.0.lock();
        if m.contains_key(&key) {
            return false;
        }
        m.insert(key, now);
        true
    }

    /// When the rotation under way started, if one is.
    fn started(&self, key: KeyAddr) -> Option<OffsetDateTime> {
        self.0.lock().get(&key).copied()
    }

    fn end(&self, key: KeyAddr) {
        self.0.lock().remove(&key);
    }
}

/// Automatic and on-demand rotation apply only to symmetric keys whose material Trent made.
/// RotateKeyOnDemand's refusal carries no message, as AWS sends it.
/// On-demand rotation also applies to single-Region symmetric keys with imported material
/// (ARCHITECTURE.md §3.1): it makes current the material imported with NEW_KEY_MATERIAL.
fn check_rotatable(key: &KeyRecord, action: Action) -> Result<(), CoreError> {
    let imported_on_demand =
        action == Action::RotateKeyOnDemand && key.origin == Origin::External && !key.multi_region;
    if key.key_spec != KeySpec::SymmetricDefault
        || (key.origin != Origin::AwsKms && !imported_on_demand)
    {
        if action == Action::RotateKeyOnDemand {
            return Err(CoreError::UnsupportedOperation(String::new()));
        }
        return Err(CoreError::UnsupportedOperation(format!(
            "{} does not support key rotation (KeySpec {}, Origin {}).",
            key.arn(),
            key.key_spec,
            key.origin
        )));
    }
    // A replica's material and rotation follow its primary (ARCHITECTURE.md §10): only the
    // primary is rotated, and every replica with it.
    let is_replica = key.multi_region && key.primary_region.as_deref() != Some(&key.region);
    let changes_rotation = matches!(
        action,
        Action::EnableKeyRotation | Action::DisableKeyRotation | Action::RotateKeyOnDemand
    );
    if is_replica && changes_rotation {
        return Err(CoreError::UnsupportedOperation(format!(
            "{} is a multi-Region replica key: rotate its primary key in {}.",
            key.arn(),
            key.primary_region.as_deref().unwrap_or_default()
        )));
    }
    Ok(())
}

fn days(n: u32) -> Duration {
    Duration::days(i64::from(n))
}

impl Kms {
    /// EnableKeyRotation: rotate automatically every `period_days` (90–2560, default 365).
    pub async fn enable_key_rotation(
        &self,
        caller: &Caller,
        key_id: &str,
        period_days: Option<i32>,
    ) -> Result<(), CoreError> {
        let action = Action::EnableKeyRotation;
        let key = self.usable_key(caller, key_id, action).await?.record;
        check_rotatable(&key, action)?;
        let period = match period_days {
            None => DEFAULT_ROTATION_PERIOD_DAYS,
            Some(p) if (90..=2560).contains(&p) => p as u32,
            Some(p) => {
                return Err(CoreError::Validation(format!(
                    "1 validation error detected: Value '{p}' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value between 90 and 2560"
                )))
            }
        };
        let now = self.now();
        self.update_key(key.addr(), move |k| {
            key_state::check(action, k)?;
            k.rotation_period_days = Some(period);
            k.next_rotation_date = Some(now + days(period));
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// DisableKeyRotation.
    pub async fn disable_key_rotation(
        &self,
        caller: &Caller,
        key_id: &str,
    ) -> Result<(), CoreError> {
        let action = Action::DisableKeyRotation;
        let key = self.usable_key(caller, key_id, action).await?.record;
        check_rotatable(&key, action)?;
        self.update_key(key.addr(), move |k| {
            key_state::check(action, k)?;
            k.rotation_period_days = None;
            k.next_rotation_date = None;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// GetKeyRotationStatus.
    pub async fn get_key_rotation_status(
        &self,
        caller: &Caller,
        key_id: &str,
    ) -> Result<RotationStatus, CoreError> {
        let key = self
            .usable_key(caller, key_id, Action::GetKeyRotationStatus)
            .await?
            .record;
        check_rotatable(&key, Action::GetKeyRotationStatus)?;
        // A replica's rotation is its primary's (ARCHITECTURE.md §10).
        let rotation = match key.primary_region.as_deref() {
            Some(primary) if key.multi_region && primary != key.region => self
                .key_by_id(KeyAddr::new(primary, key.key_id))
                .await?
                .filter(|p| p.deleted_date.is_none())
                .unwrap_or_else(|| key.clone()),
            _ => key.clone(),
        };
        let started = self.rotating.started(rotation.addr());
        Ok(RotationStatus {
            key_arn: key.arn(),
            enabled: rotation.rotation_period_days.is_some(),
            period_days: rotation.rotation_period_days,
            next_rotation_date: rotation.next_rotation_date,
            on_demand_rotation_start_date: started,
        })
    }

    /// RotateKeyOnDemand: new material now, at most 25 times per key.
    pub async fn rotate_key_on_demand(
        &self,
        caller: &Caller,
        key_id: &str,
    ) -> Result<String, CoreError> {
        let action = Action::RotateKeyOnDemand;
        let key = self.usable_key(caller, key_id, action).await?.record;
        check_rotatable(&key, action)?;
        if !self.rotating.begin(key.addr(), self.now()) {
            return Err(CoreError::Conflict(format!(
                "An on-demand rotation of {} is already in progress.",
                key.arn()
            )));
        }
        let result = self.rotate_on_demand_now(&key).await;
        self.rotating.end(key.addr());
        result.map(|_| key.arn())
    }

    async fn rotate_on_demand_now(&self, key: &KeyRecord) -> Result<(), CoreError> {
        if key.origin == Origin::External {
            return self.rotate_imported(key).await;
        }
        let on_demand = self
            .store
            .get_key_materials(key.addr())
            .await?
            .iter()
            .filter(|m| m.rotation_type == Some(RotationType::OnDemand))
            .count();
        if on_demand >= MAX_ON_DEMAND_ROTATIONS {
            return Err(CoreError::LimitExceeded(format!(
                "{} has reached the limit of {MAX_ON_DEMAND_ROTATIONS} on-demand rotations.",
                key.arn()
            )));
        }
        let action = Action::RotateKeyOnDemand;
        self.add_material(key, RotationType::OnDemand, move |k| {
            key_state::check(action, k)
        })
        .await
    }

    /// Makes, wraps and stores new material as the key's current material; `check` runs inside
    /// the store transaction against the latest record and may refuse.
    pub(crate) async fn add_material(
        &self,
        key: &KeyRecord,
        rotation_type: RotationType,
        check: impl FnOnce(&mut KeyRecord) -> Result<(), CoreError> + Send + 'static,
    ) -> Result<(), CoreError> {
        let now = self.now();
        let material = KeyMaterial::Symmetric(SymmetricKeyMaterial::generate()?);
        let material_id = new_material_id()?;
        let wrapped = material.wrap(&self.root_key, &key.arn(), &material_id.0)?;
        let record = KeyMaterialRecord {
            region: key.region.clone(),
            key_id: key.key_id,
            key_material_id: material_id,
            wrapped,
            created: now,
            rotation_type: Some(rotation_type),
        };
        let updated = self
            .store
            .rotate_key(
                key.addr(),
                record,
                Box::new(move |k| {
                    check(k)?;
                    k.current_key_material_id = material_id;
                    Ok(())
                }),
            )
            .await?;
        // The related keys of a multi-Region key share its material: each gets the new
        // version, wrapped under its own ARN (ARCHITECTURE.md §10).
        if key.multi_region {
            for related in self.related_keys(&updated).await? {
                if related.region == key.region {
                    continue;
                }
                let wrapped = material.wrap(&self.root_key, &related.arn(), &material_id.0)?;
                let copy = KeyMaterialRecord {
                    region: related.region.clone(),
                    key_id: related.key_id,
                    key_material_id: material_id,
                    wrapped,
                    created: now,
                    rotation_type: Some(rotation_type),
                };
                // A replica is never due itself: the maintenance job rotates the primary.
                let period = updated.rotation_period_days;
                let replica = self
                    .store
                    .rotate_key(
                        related.addr(),
                        copy,
                        Box::new(move |k| {
                            k.current_key_material_id = material_id;
                            k.rotation_period_days = period;
                            k.next_rotation_date = None;
                            Ok(())
                        }),
                    )
                    .await?;
                self.remember_key(Arc::new(replica));
            }
        }
        self.remember_material(key.addr(), material_id, material);
        self.remember_key(Arc::new(updated));
        Ok(())
    }

    /// ListKeyRotations: the rotations (or, with `include_all`, every material version).
    pub async fn list_key_rotations(
        &self,
        caller: &Caller,
        key_id: &str,
        include_all: bool,
        limit: Option<i32>,
        marker: Option<&str>,
    ) -> Result<Page<RotationEntry>, CoreError> {
        let key = self
            .usable_key(caller, key_id, Action::ListKeyRotations)
            .await?
            .record;
        if key.origin == Origin::External && key.key_spec == KeySpec::SymmetricDefault {
            // Imported material (ARCHITECTURE.md §3.1): every version imported, with its import
            // state; the first is no rotation, later ones came by RotateKeyOnDemand.
            let entries: Vec<RotationEntry> = self
                .imported_versions(&key)
                .await?
                .into_iter()
                .enumerate()
                .filter(|(i, _)| include_all || *i > 0)
                .map(|(i, v)| RotationEntry {
                    key_id: key.key_id,
                    key_material_id: v.key_material_id,
                    current: v.key_material_state == crate::model::KeyMaterialState::Current,
                    rotation_date: v.import_date.unwrap_or(key.creation_date),
                    rotation_type: (i > 0).then_some(RotationType::OnDemand),
                    import: Some(v),
                })
                .collect();
            return page_by_index(entries, marker, page_limit(limit));
        }
        check_rotatable(&key, Action::ListKeyRotations)?;
        let entries: Vec<RotationEntry> = self
            .store
            .get_key_materials(key.addr())
            .await?
            .into_iter()
            .filter(|m| include_all || m.rotation_type.is_some())
            .map(|m| RotationEntry {
                key_id: key.key_id,
                current: m.key_material_id == key.current_key_material_id,
                key_material_id: m.key_material_id,
                rotation_date: m.created,
                rotation_type: m.rotation_type,
                import: None,
            })
            .collect();
        page_by_index(entries, marker, page_limit(limit))
    }

    /// ScheduleKeyDeletion: PendingDeletion for 7–30 days (default 30), then destroyed.
    pub async fn schedule_key_deletion(
        &self,
        caller: &Caller,
        key_id: &str,
        pending_window_days: Option<i32>,
    ) -> Result<ScheduledDeletion, CoreError> {
        let window = match pending_window_days {
            None => DEFAULT_PENDING_WINDOW_DAYS,
            Some(d) if PENDING_WINDOW_DAYS.contains(&d) => d as u32,
            Some(d) => {
                return Err(CoreError::Validation(format!(
                    "PendingWindowInDays must be between 7 and 30, not {d}."
                )))
            }
        };
        let action = Action::ScheduleKeyDeletion;
        let key = self.usable_key(caller, key_id, action).await?.record;
        // A multi-Region primary with replicas waits for them (PendingReplicaDeletion), as
        // AWS does: its own waiting period starts when its last replica is deleted.
        let is_primary =
            key.multi_region && key.primary_region.as_deref() == Some(key.region.as_str());
        let waits_for_replicas = is_primary
            && self
                .related_keys(&key)
                .await?
                .iter()
                .any(|k| k.region != key.region);
        let deletion_date = (!waits_for_replicas).then(|| self.now() + days(window));
        let updated = self
            .update_key(key.addr(), move |k| {
                key_state::check(action, k)?;
                k.key_state = if waits_for_replicas {
                    KeyState::PendingReplicaDeletion
                } else {
                    KeyState::PendingDeletion
                };
                k.deletion_date = deletion_date;
                k.pending_window_days = Some(window);
                Ok(())
            })
            .await?;
        Ok(ScheduledDeletion {
            key_arn: updated.arn(),
            deletion_date,
            key_state: updated.key_state,
            pending_window_days: window,
        })
    }

    /// CancelKeyDeletion: back to Disabled.
    pub async fn cancel_key_deletion(
        &self,
        caller: &Caller,
        key_id: &str,
    ) -> Result<String, CoreError> {
        let action = Action::CancelKeyDeletion;
        let key = self.usable_key(caller, key_id, action).await?.record;
        let updated = self
            .update_key(key.addr(), move |k| {
                key_state::check(action, k)?;
                k.key_state = KeyState::Disabled;
                k.deletion_date = None;
                k.pending_window_days = None;
                Ok(())
            })
            .await?;
        Ok(updated.arn())
    }

    /// Records a successful cryptographic use of `key` (kept in memory, flushed to the store by
    /// the maintenance job, so the hot path writes nothing).
    pub(crate) fn record_usage(&self, caller: &Caller, key: &KeyRecord, action: Action) {
        let usage = KeyLastUsage {
            region: key.region.clone(),
            key_id: key.key_id,
            operation: action.name().to_string(),
            timestamp: self.now(),
            cloudtrail_event_id: caller.event_id.clone(),
            kms_request_id: caller.request_id.clone(),
        };
        self.usage.lock().insert(key.addr(), usage);
    }

    /// Writes the usage recorded since the last flush to the store.
    pub async fn flush_usage(&self) -> Result<(), CoreError> {
        let pending: Vec<KeyLastUsage> = {
            let mut guard = self.usage.lock();
            guard.drain().map(|(_, v)| v).collect()
        };
        if pending.is_empty() {
            return Ok(());
        }
        match self.store.put_key_last_usage(pending.clone()).await {
            Ok(()) => Ok(()),
            Err(e) => {
                // Keep what could not be written for the next flush (newer entries win).
                let mut guard = self.usage.lock();
                for u in pending {
                    guard.entry(KeyAddr::new(&u.region, u.key_id)).or_insert(u);
                }
                Err(e.into())
            }
        }
    }

    /// GetKeyLastUsage.
    pub async fn get_key_last_usage(
        &self,
        caller: &Caller,
        key_id: &str,
    ) -> Result<LastUsage, CoreError> {
        let key = self
            .usable_key(caller, key_id, Action::GetKeyLastUsage)
            .await?
            .record;
        let pending = self.usage.lock().get(&key.addr()).cloned();
        let last_usage = match pending {
            Some(u) => Some(u),
            None => self.store.get_key_last_usage(key.addr()).await?,
        };
        Ok(LastUsage {
            key_arn: key.arn(),
            last_usage,
            // Trent tracks every key's use from its creation.
            tracking_start_date: key.creation_date,
            key_creation_date: key.creation_date,
        })
    }

    /// The maintenance job: destroys keys whose deletion window has ended, rotates keys whose
    /// rotation is due, and flushes key usage. Idempotent: each change re-checks, inside its
    /// store transaction, that it is still due, so a job that crashed or runs twice never
    /// rotates twice or deletes early.
    pub async fn run_maintenance(
        &self,
        audit: &dyn ServiceEventAudit,
    ) -> Result<MaintenanceReport, CoreError> {
        let now = self.now();
        let mut report = MaintenanceReport::default();
        for key_id in self.store.due_keys(now).await? {
            let Some(key) = self.store.get_key(key_id).await? else {
                continue;
            };
            if key.deleted_date.is_some() {
                continue;
            }
            if key.key_state == KeyState::PendingDeletion {
                if key.deletion_date.is_some_and(|d| d <= now) {
                    let event = ServiceEvent::new(ServiceEventKind::DeleteKey, &key);
                    let intent = audit.intent(&event);
                    let result =
                        audit_intent::scope(intent.clone(), self.destroy(key_id, now)).await;
                    recorded(audit, &event, intent).await;
                    if result? {
                        report.deleted += 1;
                    }
                }
                continue;
            }
            let due = key.next_rotation_date.is_some_and(|d| d <= now);
            if due && key.key_state == KeyState::Enabled {
                let period = key
                    .rotation_period_days
                    .unwrap_or(DEFAULT_ROTATION_PERIOD_DAYS);
                let event = ServiceEvent::new(ServiceEventKind::RotateKey, &key);
                let intent = audit.intent(&event);
                let rotation = self.add_material(&key, RotationType::Automatic, move |k| {
                    let still_due = k.next_rotation_date.is_some_and(|d| d <= now);
                    if !still_due || k.key_state != KeyState::Enabled || k.deleted_date.is_some() {
                        return Err(CoreError::Conflict("rotation no longer due".into()));
                    }
                    k.next_rotation_date = Some(now + days(period));
                    Ok(())
                });
                let result = audit_intent::scope(intent.clone(), rotation).await;
                recorded(audit, &event, intent).await;
                match result {
                    Ok(()) => report.rotated += 1,
                    Err(CoreError::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        report.expired_imports = self.expire_imports(audit).await?;
        self.flush_usage().await?;
        Ok(report)
    }

    /// Destroys a key whose deletion window has ended; false if it no longer qualifies.
    async fn destroy(&self, key_id: KeyAddr, now: OffsetDateTime) -> Result<bool, CoreError> {
        let result = self
            .store
            .destroy_key(
                key_id,
                Box::new(move |k| {
                    let due = k.key_state == KeyState::PendingDeletion
                        && k.deletion_date.is_some_and(|d| d <= now)
                        && k.deleted_date.is_none();
                    if !due {
                        return Err(CoreError::Conflict("deletion no longer due".into()));
                    }
                    k.deleted_date = Some(now);
                    Ok(())
                }),
            )
            .await;
        match result {
            Ok(tombstone) => {
                let tombstone = Arc::new(tombstone);
                self.forget_destroyed(tombstone.clone());
                self.start_primary_deletion_if_last_replica(&tombstone, now)
                    .await?;
                Ok(true)
            }
            Err(StoreError::Rejected(_)) => Ok(false),
            Err(e) => {
                // The store may have destroyed the key and failed only to scrub its files:
                // whatever happened, the caches must not keep serving a destroyed key.
                if let Ok(Some(k)) = self.store.get_key(key_id).await {
                    if k.deleted_date.is_some() {
                        self.forget_destroyed(Arc::new(k));
                    }
                }
                Err(e.into())
            }
        }
    }
}

impl Kms {
    /// After a replica is destroyed: a primary in PendingReplicaDeletion whose last replica it
    /// was starts its own waiting period now (PendingDeletion), as AWS does.
    async fn start_primary_deletion_if_last_replica(
        &self,
        destroyed: &KeyRecord,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        let Some(primary_region) = destroyed.primary_region.as_deref() else {
            return Ok(());
        };
        if !destroyed.multi_region || primary_region == destroyed.region {
            return Ok(());
        }
        let related = self.related_keys(destroyed).await?;
        let Some(primary) = related.iter().find(|k| k.region == primary_region) else {
            return Ok(());
        };
        let replicas_left = related.iter().any(|k| k.region != primary_region);
        if primary.key_state != KeyState::PendingReplicaDeletion || replicas_left {
            return Ok(());
        }
        self.update_key(primary.addr(), move |k| {
            if k.key_state != KeyState::PendingReplicaDeletion {
                return Err(CoreError::Conflict("no longer waiting for replicas".into()));
            }
            let window = k.pending_window_days.unwrap_or(DEFAULT_PENDING_WINDOW_DAYS);
            k.key_state = KeyState::PendingDeletion;
            k.deletion_date = Some(now + days(window));
            Ok(())
        })
        .await
        .map(|_| ())
        .or_else(|e| match e {
            CoreError::Conflict(_) => Ok(()),
            other => Err(other),
        })
    }
}

/// What one maintenance run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Keys that got new material.
    pub rotated: usize,
    /// Keys destroyed.
    pub deleted: usize,
    /// Keys whose imported key material expired and was erased.
    pub expired_imports: usize,
}

/// What the maintenance job changes by itself, not at a caller's request: CloudTrail's
/// `AwsServiceEvent`s of KMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceEventKind {
    /// Automatic rotation of a key's material.
    RotateKey,
    /// Deletion of a key at the end of its waiting period.
    DeleteKey,
    /// Deletion of imported key material whose ValidTo passed.
    DeleteExpiredKeyMaterial,
}

impl ServiceEventKind {
    /// CloudTrail's `eventName`.
    pub fn name(self) -> &'static str {
        match self {
            ServiceEventKind::RotateKey => "RotateKey",
            ServiceEventKind::DeleteKey => "DeleteKey",
            ServiceEventKind::DeleteExpiredKeyMaterial => "DeleteExpiredKeyMaterial",
        }
    }
}

/// One change the maintenance job is about to make, for its audit record.
#[derive(Clone, Debug)]
pub struct ServiceEvent {
    /// What it does.
    pub kind: ServiceEventKind,
    /// The key it changes.
    pub key_id: KeyId,
    /// The key's account.
    pub account_id: AccountId,
    /// The key's Region.
    pub region: String,
    /// The key's ARN.
    pub key_arn: String,
}

impl ServiceEvent {
    pub(crate) fn new(kind: ServiceEventKind, key: &KeyRecord) -> ServiceEvent {
        ServiceEvent {
            kind,
            key_id: key.key_id,
            account_id: key.account_id.clone(),
            region: key.region.clone(),
            key_arn: crate::model::key_arn(&key.region, &key.account_id, &key.key_id),
        }
    }
}

/// How the maintenance job records its changes (no change without its record,
/// ARCHITECTURE.md §7.2): each change commits with the intent [`ServiceEventAudit::intent`]
/// gives, and [`ServiceEventAudit::committed`] is told once it committed.
#[async_trait::async_trait]
pub trait ServiceEventAudit: Send + Sync {
    /// The audit intent of `event` (its whole record: a service event has no answer).
    fn intent(&self, event: &ServiceEvent) -> Option<AuditIntent>;
    /// `event` committed with `intent`: write its record.
    async fn committed(&self, event: &ServiceEvent, intent: AuditIntent);
}

/// Tells `audit` of a change whose intent committed, whatever the operation then returned (a
/// destruction may commit and then fail to scrub its files).
pub(crate) async fn recorded(
    audit: &dyn ServiceEventAudit,
    event: &ServiceEvent,
    intent: Option<AuditIntent>,
) {
    if let Some(intent) = intent.filter(|i| i.is_committed()) {
        audit.committed(event, intent).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_on_demand_rotation_reports_when_it_started_and_refuses_a_second() {
        let rotating = RotationsInProgress::default();
        let key = KeyAddr::new("us-east-1", KeyId::generate());
        let start = time::macros::datetime!(2026-12-01 10:00 UTC);
        assert_eq!(rotating.started(key), None);
        assert!(rotating.begin(key, start));
        assert!(!rotating.begin(key, start + Duration::minutes(5)));
        assert_eq!(
            rotating.started(key),
            Some(start),
            "the start, not the time of asking"
        );
        rotating.end(key);
        assert_eq!(rotating.started(key), None);
    }
}
