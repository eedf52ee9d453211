#![forbid(unsafe_code)]
//! Trent's audit trail (ARCHITECTURE.md §7).
//!
//! Every request produces exactly one [`AuditRecord`] in AWS CloudTrail's record shape for KMS
//! events. [`AuditLog`] appends it to the live segment `audit.jsonl` (JSON Lines) through a
//! group-committing writer, chains it to the record before with an HMAC, and resolves only
//! once the line is written, so the server can answer only after its record exists (fail
//! closed). [`redact_request_parameters`] and [`redact_response_elements`] keep plaintext,
//! ciphertext, key material, MACs, signatures and secrets out of every record. [`verify`]
//! proves the log whole and unaltered.
//!
//! # On-disk format (the audit directory)
//!
//! | File | What |
//! |---|---|
//! | `audit.jsonl` | the live segment: one record per line |
//! | `audit-000001.jsonl`, … | rotated segments, in order, never written again |
//! | `audit.head` | the last record's sequence and chain value |
//! | `audit.checkpoints` | signed checkpoints, JSON Lines |
//! | `audit.lock` | locked by the one process that writes (server, `acknowledge-break`) |
//!
//! Each record line is the record's JSON object with one extra last member, version 2:
//!
//! ```text
//! {"eventVersion":"1.08",…,"trentChain":{"version":2,"sequence":7,"previousMac":"<64 hex>"}}
//! ```
//!
//! `sequence` counts from 1 without gaps across all segments. `previousMac` is the chain value
//! of the record before (64 zeros for the first): for a version 2 record its value is the
//! HMAC-SHA256 of its exact line bytes (without the newline) under the audit key, which is
//! derived from the root key with HKDF (`RootKey::derive_audit_mac_key`). Without the root key
//! nobody can rewrite, remove, reorder or insert records and re-chain the rest.
//!
//! **Version 1** (legacy, before keyed chains): `{"sequence":7,"previousHash":"<64 hex>"}`,
//! with SHA-256 of the line as its value. Such logs still verify; the first open of one reads
//! it whole and appends keyed records after it, the first chaining to the last legacy line's
//! SHA-256. A version 1 record after a version 2 record or after a checkpoint is a
//! *downgrade* and fails verification: the chain was rewritten without the key.
//!
//! `audit.head` holds `<20-digit sequence> <64 hex chain value>\n` of the last record, so
//! records removed from the end are detected. It is only written after the records it names
//! are durable (or written, under [`FsyncPolicy::Never`]), so after a crash the log may be
//! ahead of the head but never behind it.
//!
//! **Checkpoints**: each line of `audit.checkpoints` is
//! `{"segment":3,"offset":123,"sequence":7,"mac":"<hex>","time":"…","signature":"<128 hex>"}`:
//! the record `sequence` with chain value `mac` ends at byte `offset` of segment 3 (offset 0:
//! the segment is empty and the record is the last of the segment before). `signature` is
//! Ed25519 over `trent-audit-checkpoint-v1\n` and the fields in that order, one per line,
//! with a key pair whose seed is derived from the root key (`trent audit public-key` prints the
//! public key, to keep elsewhere). A checkpoint is written once [`AuditOptions`]'s record count
//! or interval has passed (default 10 000 records / 60 s, after the records are durable), at
//! rotation, at close, and at open after reading records. Opening the log starts from the last
//! checkpoint, checks its signature and that the record it names ends where it says, and
//! checks every record after it, so restart cost is bounded by the checkpoint interval, not
//! the log's age; any break there refuses the open ([`AuditError::Corrupt`]) and nothing is
//! appended. [`verify`] checks every checkpoint against the records.
//!
//! **Rotation**: before a batch, once the live segment holds [`AuditOptions::rotate_bytes`]
//! (64 MiB) or has been open [`AuditOptions::rotate_after`] (one day), the writer fsyncs it,
//! renames it to the next `audit-NNNNNN.jsonl`, creates a new `audit.jsonl` and checkpoints
//! the chain at its start. The chain continues across files.
//!
//! **Acknowledged breaks**: [`acknowledge_break`] (`trent audit acknowledge-break`) renames
//! the live segment aside like a rotation and starts a new one whose first record (eventName
//! `AcknowledgeAuditChainBreak`, keyed) carries `trentChain.acknowledgedBreak`: the first and
//! last segments set aside, what verification found, and each set-aside file's size and
//! SHA-256. Its sequence is above every sequence claimed before. A checkpoints file that
//! fails (a forged or altered checkpoint) is renamed to `audit.checkpoints.broken-<unix
//! time>` and named in `acknowledgedBreak.checkpoints` with its SHA-256; if the records
//! themselves are intact, the acknowledgement simply continues the chain in the live segment.
//! [`verify`] reports such a break instead of failing, and fails if a set-aside file changes
//! later; a forged
//! acknowledgement does not verify, because its HMAC (recorded by the next record, the head
//! and its checkpoint) needs the key.
//!
//! **Anchoring**: a rewrite that removes records from the end and sets the head and the
//! checkpoints file back to an earlier state cannot be told from an older log. Keep
//! `trent audit verify`'s printed `SEQUENCE:HMAC` head somewhere else from time to time and
//! check it later with `--expect-head` ([`VerifyOptions::expect_head`]).

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
pub use verify::{
    verify, verify_checkpoints, verify_with, Anchor, CheckpointReport, VerifyError, VerifyOptions,
    VerifyReport,
};

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
