//! Time, injected. Production uses [`SystemClock`]; tests move a `ManualClock` (feature
//! `test-util`) forward so that days of rotation and deletion windows run in milliseconds.

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
    // The one wall-clock read of the KMS; clippy.toml refuses any other (ARCHITECTURE.md §8).
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;

/// A clock that moves only when told to: for tests that run days of rotation and deletion
/// windows in milliseconds. Only with the feature `test-util`, so the `trent` binary does not
/// contain one and a production server has no way to move time.
#[cfg(feature = "test-util")]
#[derive(Debug)]
pub struct ManualClock {
    now: parking_lot::Mutex<OffsetDateTime>,
}

#[cfg(feature = "test-util")]
impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        ManualClock {
            now: parking_lot::Mutex::new(start),
        }
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: time::Duration) {
        *self.now.lock() += by;
    }

    /// The current time (the same as [`Clock::now`], without importing the trait).
    pub fn now_for_test(&self) -> OffsetDateTime {
        *self.now.lock()
    }

    /// Sets the time.
    pub fn set(&self, to: OffsetDateTime) {
        *self.now.lock() = to;
    }
}

#[cfg(feature = "test-util")]
impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock()
    }
}
