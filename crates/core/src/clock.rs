//! Time, injected. Production uses [`SystemClock`]; tests move a [`ManualClock`] forward so
//! that days of rotation and deletion windows run in milliseconds.

use std::sync::Arc;

use time::OffsetDateTime;

/// Where the current time comes from.
pub trait Clock: Send + Sync + 'static {
    /// The current time (UTC).
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;
