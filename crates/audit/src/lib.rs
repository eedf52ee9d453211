#![forbid(unsafe_code)]
//! Trent's audit trail (DESIGN §7).
//!
//! Every request produces exactly one [`AuditRecord`] in AWS CloudTrail's record shape for KMS
//! events. [`AuditLog`] appends it to `audit.jsonl` (JSON Lines) through a group-committing
//! writer thread, hash-chains it to the record before, and resolves only once the line is
//! written, so the server can answer only after its record exists (fail closed).
//! [`redact_request_parameters`] and [`redact_response_elements`] keep plaintext, ciphertext,
//! key material, MACs, signatures and secrets out of every record. [`verify`] proves the log
//! whole and unaltered.
//!
//! # On-disk format
//!
//! Each line of `audit.jsonl` is the record's JSON object with one extra last member:
//!
//! ```text
//! {"eventVersion":"1.08",…,"trentChain":{"sequence":7,"previousHash":"<64 hex>"}}
//! ```
//!
//! `sequence` counts from 1 without gaps; `previousHash` is the SHA-256 of the previous line's
//! exact bytes (without its newline), 64 zeros for the first line. `audit.head` holds the last
//! sequence and the SHA-256 of that line (`<20-digit sequence> <64 hex>\n`), so removing
//! records from the end is detected too. The head is only ever written after the log lines it
//! names are on disk (or written, under [`FsyncPolicy::Never`]), so after a crash the log may be
//! ahead of the head but never behind it.
//!
//! The chain is not keyed: it proves that no record was altered, removed, reordered or inserted
//! *unless the whole chain and the head were rewritten*. Copying `audit.head` (or
//! [`VerifyReport::last_hash`]) somewhere else from time to time anchors it.

mod ack;
mod chain;
mod checkpoint;
mod keys;
mod log;
mod record;
mod redact;
mod segment;
mod verify;

pub use ack::{acknowledge_break, AckReport};
pub use checkpoint::CHECKPOINT_FILE;
pub use keys::{AuditKeys, CheckpointPublicKey, KeyError};
pub use log::{AuditError, AuditLog, AuditOptions, FsyncPolicy, InFlight};
pub use record::{
    format_event_time, new_event_id, new_request_id, AuditRecord, Resource, TlsDetails,
    UserIdentity, EVENT_CATEGORY, EVENT_SOURCE, EVENT_TYPE, EVENT_VERSION, KMS_KEY_RESOURCE_TYPE,
};
pub use redact::{
    camel_case_keys, records_response_elements, redact_request_parameters,
    redact_response_elements, REDACTED_MEMBERS, SAFE_SUFFIX_WORDS, SECRET_WORDS,
};
pub use verify::{verify, verify_with, Anchor, VerifyError, VerifyOptions, VerifyReport};

/// File name of the log inside the audit directory.
pub const LOG_FILE: &str = "audit.jsonl";
/// File name of the head (last sequence and hash) inside the audit directory.
pub const HEAD_FILE: &str = "audit.head";
/// File name of the lock a writer holds inside the audit directory.
pub const LOCK_FILE: &str = "audit.lock";

#[cfg(test)]
mod chain_tests;
#[cfg(test)]
mod test_util;
