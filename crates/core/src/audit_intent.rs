//! Audit intents: no change is committed without its audit record (ARCHITECTURE.md, "No change
//! without its record").
//!
//! Before a request that may change state executes, the server serializes what its audit record
//! already knows (who, what, when, the request's parameters) as an [`AuditIntent`] and runs the
//! operation inside [`scope`]. Every store write made in that scope commits the intent in the
//! same transaction (a [`Store`](crate::store::Store) backend reads [`current`]). So a committed
//! change always has at least its intent durable beside it; a change that rolled back leaves
//! none. After the answer's full record is durable in the audit log, the server forgets the
//! intent; at start, intents whose records never reached the log (a crash, a full audit disk)
//! are written there.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use time::OffsetDateTime;

/// The audit record of a request that may change state, as known before it executes.
/// Cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct AuditIntent {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    event_id: String,
    record: Vec<u8>,
    created: OffsetDateTime,
    committed: AtomicBool,
}

impl AuditIntent {
    /// An intent for the request with CloudTrail `eventID` `event_id`; `record` is its audit
    /// record so far, serialized (the store keeps it opaque).
    pub fn new(event_id: String, record: Vec<u8>, created: OffsetDateTime) -> AuditIntent {
        AuditIntent {
            inner: Arc::new(Inner {
                event_id,
                record,
                created,
                committed: AtomicBool::new(false),
            }),
        }
    }

    /// The request's `eventID`, the intent's key.
    pub fn event_id(&self) -> &str {
        &self.inner.event_id
    }

    /// The serialized record as known before the request executed.
    pub fn record(&self) -> &[u8] {
        &self.inner.record
    }

    /// When the request arrived.
    pub fn created(&self) -> OffsetDateTime {
        self.inner.created
    }

    /// Called by a store after it committed a transaction that stored this intent.
    pub fn mark_committed(&self) {
        self.inner.committed.store(true, Ordering::Release);
    }

    /// Whether some write of the request committed (and with it, this intent).
    pub fn is_committed(&self) -> bool {
        self.inner.committed.load(Ordering::Acquire)
    }
}

tokio::task_local! {
    static CURRENT: AuditIntent;
}

/// Runs `f` with `intent` (if any) as the current intent: every store write `f` makes commits
/// it. Store calls must stay on this task (not `tokio::spawn`ed) to see it.
pub async fn scope<F: Future>(intent: Option<AuditIntent>, f: F) -> F::Output {
    match intent {
        Some(intent) => CURRENT.scope(intent, f).await,
        None => f.await,
    }
}

/// The intent of the request this task serves, if it may change state.
pub fn current() -> Option<AuditIntent> {
    CURRENT.try_with(|i| i.clone()).ok()
}

/// An intent as a store keeps it until the server forgets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredIntent {
    /// The request's `eventID`.
    pub event_id: String,
    /// The serialized record: the intent's, or the complete record once
    /// [`Store::complete_audit_intent`](crate::store::Store::complete_audit_intent) replaced it.
    pub record: Vec<u8>,
    /// `record` is the request's complete record (its answer is known), not only its intent.
    pub complete: bool,
    /// When the request arrived.
    pub created: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(id: &str) -> AuditIntent {
        AuditIntent::new(id.into(), b"{}".to_vec(), OffsetDateTime::UNIX_EPOCH)
    }

    #[tokio::test]
    async fn current_is_the_scoped_intent_and_none_outside() {
        assert!(current().is_none());
        let seen = scope(Some(intent("e1")), async {
            tokio::task::yield_now().await;
            current().map(|i| i.event_id().to_string())
        })
        .await;
        assert_eq!(seen.as_deref(), Some("e1"));
        assert!(current().is_none());
        assert!(scope(None, async { current() }).await.is_none());
    }

    #[test]
    fn committed_is_shared_between_clones() {
        let a = intent("e2");
        let b = a.clone();
        assert!(!a.is_committed());
        b.mark_committed();
        assert!(a.is_committed());
    }
}
