//! ⑥ The audit step of both protocols, and how no change is committed without its record
//! (ARCHITECTURE.md, "No change without its record").
//!
//! 1. Before a request that may change state executes, [`intent`] serializes its record as
//!    known so far; the operation runs in [`trent_core::audit_intent::scope`], so every store
//!    write commits the intent in the same transaction.
//! 2. After it executed, [`record`] appends the full record to the audit log. A record whose
//!    request committed a change is remembered; the jobs loop ([`forget_durable`]) fsyncs the
//!    log every second and then deletes those intents from the store.
//! 3. If the append fails after the change committed (a full or failing audit disk), the full
//!    record replaces the intent in the store, the request is answered (its record is durable),
//!    and the record is moved to the log once the log works again ([`drain_stranded`]).
//! 4. At start, [`recover`] writes to the log every intent whose record is not there: the
//!    full record if it was kept, else the intent marked `trentRecovery` (the process stopped
//!    between the commit and the answer, so no client was told the outcome).
//!
//! A failed commit stores no intent, and its record says it failed: no record claims a change
//! that did not happen.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use trent_audit::{AuditError, AuditRecord, Resource, UserIdentity};
use trent_core::audit_intent::AuditIntent;
use trent_core::ops::lifecycle::{ServiceEvent, ServiceEventAudit, ServiceEventKind};
use trent_core::store::StoreError;

use crate::app::App;

/// What the recorder keeps between requests.
#[derive(Default)]
pub struct Recorder {
    /// Event ids of intents whose full records were appended to the log, not yet fsynced.
    written: Mutex<Vec<String>>,
    /// Some full record is kept in the store only (its log write failed).
    stranded: AtomicBool,
}

/// The intent of a request that may change state, from its record so far.
pub(crate) fn intent(record: &AuditRecord, now: time::OffsetDateTime) -> Option<AuditIntent> {
    match serde_json::to_vec(record) {
        Ok(json) => Some(AuditIntent::new(record.event_id.clone(), json, now)),
        Err(e) => {
            // Cannot happen for a record of strings and JSON values; without an intent the
            // request still runs and its record is still written before the answer.
            tracing::error!(error = %e, "cannot serialize an audit intent");
            None
        }
    }
}

/// Appends a request's record before its answer. `Err` means the record is durable nowhere
/// and the request must fail; a request whose change committed is never failed here, since
/// its record is kept in the store when the log cannot take it.
pub(crate) async fn record(
    app: &App,
    record: AuditRecord,
    intent: Option<&AuditIntent>,
) -> Result<(), AuditError> {
    let Some(intent) = intent.filter(|i| i.is_committed()) else {
        return app.audit.append(record).await;
    };
    let json = serde_json::to_vec(&record).map_err(|e| AuditError::Serialize(e.to_string()))?;
    match app.audit.append(record).await {
        Ok(()) => {
            app.recorder
                .written
                .lock()
                .push(intent.event_id().to_string());
            Ok(())
        }
        Err(e) => {
            tracing::error!(
                error = %e,
                event_id = intent.event_id(),
                "audit log write failed after a change committed; its record is kept in the store until the log works"
            );
            match app
                .kms
                .store()
                .complete_audit_intent(intent.event_id(), json)
                .await
            {
                Ok(()) => {}
                // The intent itself is durable: recovery writes it to the log at start.
                Err(e) => {
                    tracing::error!(error = %e, "cannot keep the full audit record in the store")
                }
            }
            app.recorder.stranded.store(true, Ordering::Relaxed);
            Ok(())
        }
    }
}

/// Fsyncs the log and forgets the intents whose records it now holds. Run every second by the
/// jobs loop and at shutdown.
pub async fn forget_durable(app: &std::sync::Arc<App>) {
    let ids = std::mem::take(&mut *app.recorder.written.lock());
    if ids.is_empty() {
        return;
    }
    let audit = app.audit.clone();
    match tokio::task::spawn_blocking(move || audit.sync()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            // The intents stay in the store; recovery at the next start finds their records.
            tracing::error!(error = %e, "cannot fsync the audit log");
            return;
        }
        Err(_) => return,
    }
    if let Err(e) = app.kms.store().forget_audit_intents(ids).await {
        tracing::warn!(error = %e, "cannot delete audit intents whose records are durable");
    }
}

/// Moves records kept in the store (their log write failed) to the log, once it works again.
pub async fn drain_stranded(app: &std::sync::Arc<App>) {
    if !app.recorder.stranded.load(Ordering::Relaxed) || !app.audit.is_healthy() {
        return;
    }
    let intents = match app.kms.store().audit_intents().await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read audit intents");
            return;
        }
    };
    app.recorder.stranded.store(false, Ordering::Relaxed);
    for stored in intents.into_iter().filter(|i| i.complete) {
        let Some(record) = parse(&stored.record) else {
            continue;
        };
        if let Err(e) = app.audit.append(record).await {
            tracing::warn!(error = %e, "the audit log still fails; keeping records in the store");
            app.recorder.stranded.store(true, Ordering::Relaxed);
            return;
        }
        app.recorder.written.lock().push(stored.event_id);
    }
    forget_durable(app).await;
}

/// Why the records of changes committed before the last stop could not be written at start
/// (the server then refuses to start: it would serve with changes the log does not show).
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// The stored audit intents could not be read.
    #[error("cannot read audit intents: {0}")]
    ReadIntents(StoreError),
    /// The audit log could not be searched for their records.
    #[error("cannot search the audit log: {0}")]
    Search(AuditError),
    /// A recovered record could not be appended.
    #[error("cannot write recovered audit records: {0}")]
    Write(AuditError),
    /// The log could not be fsynced.
    #[error("cannot fsync the audit log: {0}")]
    Sync(AuditError),
    /// The recovered intents could not be deleted.
    #[error("cannot delete recovered audit intents: {0}")]
    Forget(StoreError),
    /// A step on the blocking pool ended without an answer (it panicked).
    #[error("{0}")]
    Task(#[from] tokio::task::JoinError),
}

/// At start, before serving: writes to the log the record of every stored intent that is not
/// there yet, fsyncs, and forgets them all. Returns how many records it wrote.
pub async fn recover(app: &App) -> Result<usize, RecoveryError> {
    let intents = app
        .kms
        .store()
        .audit_intents()
        .await
        .map_err(RecoveryError::ReadIntents)?;
    if intents.is_empty() {
        return Ok(0);
    }
    let ids: HashSet<String> = intents.iter().map(|i| i.event_id.clone()).collect();
    let audit = app.audit.clone();
    let present = tokio::task::spawn_blocking(move || audit.find_event_ids(&ids))
        .await?
        .map_err(RecoveryError::Search)?;
    let mut written = 0;
    // An intent that does not parse stays in the store (and is reported at every start).
    let mut handled = Vec::with_capacity(intents.len());
    for stored in intents {
        if present.contains(&stored.event_id) {
            handled.push(stored.event_id);
            continue;
        }
        let Some(mut record) = parse(&stored.record) else {
            continue;
        };
        if !stored.complete {
            record.additional_event_data = Some(serde_json::json!({
                "trentRecovery": "The change was committed, but Trent stopped before it answered; the response is unknown.",
            }));
        }
        app.audit
            .append(record)
            .await
            .map_err(RecoveryError::Write)?;
        written += 1;
        handled.push(stored.event_id);
    }
    let audit = app.audit.clone();
    tokio::task::spawn_blocking(move || audit.sync())
        .await?
        .map_err(RecoveryError::Sync)?;
    app.kms
        .store()
        .forget_audit_intents(handled)
        .await
        .map_err(RecoveryError::Forget)?;
    if written > 0 {
        tracing::warn!(
            records = written,
            "wrote the audit records of changes committed before the last stop"
        );
    }
    Ok(written)
}

fn parse(json: &[u8]) -> Option<AuditRecord> {
    match serde_json::from_slice(json) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::error!(error = %e, "a stored audit intent does not parse; skipped");
            None
        }
    }
}

/// `invokedBy`, `sourceIPAddress` and `userAgent` of CloudTrail's KMS service events, kept as AWS
/// writes them so tools that read CloudTrail recognise them.
const AWS_INTERNAL: &str = "AWS Internal";

/// The maintenance job's changes, recorded as CloudTrail records them: `eventType`
/// `AwsServiceEvent`, `invokedBy: AWS Internal` (AWS KMS Developer Guide, "RotateKey" and
/// "DeleteKey" CloudTrail examples).
pub struct ServiceEvents<'a>(pub &'a App);

impl ServiceEvents<'_> {
    fn record_of(&self, event: &ServiceEvent) -> AuditRecord {
        let account = event.account_id.to_string();
        AuditRecord {
            user_identity: Some(UserIdentity {
                account_id: Some(account.clone()),
                invoked_by: Some(AWS_INTERNAL.into()),
                ..Default::default()
            }),
            event_time: trent_audit::format_event_time(self.0.kms.now()),
            event_name: event.kind.name().into(),
            aws_region: event.region.clone(),
            source_ip_address: AWS_INTERNAL.into(),
            user_agent: Some(AWS_INTERNAL.into()),
            request_id: trent_audit::new_request_id(),
            event_id: trent_audit::new_event_id(),
            resources: vec![Resource::kms_key(account.clone(), event.key_arn.clone())],
            event_type: "AwsServiceEvent".into(),
            recipient_account_id: Some(account),
            service_event_details: match event.kind {
                ServiceEventKind::RotateKey => Some(serde_json::json!({
                    "rotationType": "AUTOMATIC",
                    "keyId": event.key_id.to_string(),
                })),
                ServiceEventKind::DeleteKey => None,
                // CloudTrail's DeleteExpiredKeyMaterial names the key only (Developer Guide,
                // "Logging AWS KMS API calls": DeleteExpiredKeyMaterial).
                ServiceEventKind::DeleteExpiredKeyMaterial => None,
            },
            ..Default::default()
        }
    }
}

#[async_trait::async_trait]
impl ServiceEventAudit for ServiceEvents<'_> {
    fn intent(&self, event: &ServiceEvent) -> Option<AuditIntent> {
        intent(&self.record_of(event), self.0.kms.now())
    }

    async fn committed(&self, _event: &ServiceEvent, intent: AuditIntent) {
        // A service event has no answer: its intent is its whole record.
        let Some(record) = parse(intent.record()) else {
            return;
        };
        if let Err(e) = self::record(self.0, record, Some(&intent)).await {
            tracing::error!(error = %e, "cannot record a maintenance change");
        }
    }
}
