#![forbid(unsafe_code)]
//! The KMS itself: keys and their state machine, the operations, authorization, and the
//! ports (`Store`, `Clock`) through which it reaches storage and time. No HTTP, no JSON
//! framing, no SQL.

pub mod action;
pub mod audit_intent;
pub mod authorize;
pub mod cache;
pub mod caller;
pub mod clock;
/// The store conformance suite, for backends' tests only (feature `test-util`, so it is not
/// compiled into the `trent` binary; ARCHITECTURE.md §2).
#[cfg(feature = "test-util")]
pub mod conformance;
pub mod default_policy;
pub mod error;
pub mod grant;
pub mod iam;
pub mod key_spec;
pub mod key_state;
pub mod kms;
pub mod material;
pub mod model;
pub mod ops;
pub mod region;
pub mod resolve;
pub mod store;

pub use action::Action;
pub use caller::{Caller, Identity, RequestConditions};
pub use error::CoreError;
pub use kms::{CacheSizes, Kms};
/// The policy language, re-exported for the server (condition keys, principals).
pub use trent_policy as policy;
