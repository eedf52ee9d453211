#![forbid(unsafe_code)]
//! The AWS KMS wire protocol: the operation names, the JSON request and response types, the
//! blob and timestamp encodings, the model-driven request checks, and AWS's error shape.
//!
//! The contract is botocore's KMS service model, embedded in `model/kms-2014-11-01.json`
//! (regenerate with `tools/update-kms-model.py`). Request checking walks that model, so every
//! operation gets AWS's type checks (`SerializationException`) and member constraints
//! (`ValidationException`) from the same source the SDKs are generated from.

pub mod blob;
pub mod error;
pub mod model;
pub mod operation;
pub mod types;

pub use blob::{Blob, SecretBlob};
pub use error::{ErrorCode, WireError};
pub use operation::Operation;
