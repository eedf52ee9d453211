//! `trent audit verify`: proves the log whole and unaltered.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::chain::{self, HeadState};
use crate::{HEAD_FILE, LOG_FILE};

/// A log that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Complete records in the log.
    pub records: u64,
    /// Hex SHA-256 of the last record's line (64 zeros when empty): keep it elsewhere to anchor
    /// the chain.
    pub last_hash: String,
    /// Bytes of a torn final record after the head's last record, left by a crash while that
    /// record was being written (it was never acknowledged; the next open cuts it off). Zero
    /// normally.
    pub torn_tail_bytes: u64,
}

/// The first thing wrong with a log: the record (1-based; 0 for the log as a whole) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    /// The first bad record's sequence number (its line number), or 0.
    pub line: u64,
    /// What is wrong: altered, missing (removed), out of order, truncated, or unreadable.
    pub reason: String,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "audit log: {}", self.reason)
        } else {
            write!(f, "record {}: {}", self.line, self.reason)
        }
    }
}

impl std::error::Error for VerifyError {}

/// Verifies the log in `dir`: every line parses as a record, sequences run 1, 2, 3… without
/// gaps, each `previousHash` is the SHA-256 of the line before, and the head's record is in the
/// log with the head's hash (so removing records from the end is detected). Records written
/// after the head was last updated (a running server updates it at each fsync) are checked by
/// the chain alone.
pub fn verify(dir: &Path) -> Result<VerifyReport, VerifyError> {
    let whole = |reason: String| VerifyError { line: 0, reason };
    // Read the head before the log: a running writer moves the head only after the log.
    let head = match chain::read_head(&dir.join(HEAD_FILE)) {
        Ok(HeadState::Present(h)) => Some(h),
        Ok(HeadState::Missing) => None,
        Ok(HeadState::Garbled) => {
            return Err(whole(format!("the head file {HEAD_FILE} does not parse")))
        }
        Err(e) => return Err(whole(format!("cannot read {HEAD_FILE}: {e}"))),
    };
    let path = dir.join(LOG_FILE);
    let file = File::open(&path).map_err(|e| whole(format!("cannot open {LOG_FILE}: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| whole(format!("cannot read {LOG_FILE}: {e}")))?;
    if !meta.is_file() {
        return Err(whole(format!("{LOG_FILE} is not a regular file")));
    }
    let end = chain::scan(BufReader::with_capacity(256 * 1024, file), head, true)?;
    if head.is_none() && end.records > 0 {
        return Err(whole(format!(
            "the head file {HEAD_FILE} is missing, so records removed from the end would go unnoticed"
        )));
    }
    Ok(VerifyReport {
        records: end.records,
        last_hash: hex::encode(end.last_hash),
        torn_tail_bytes: end.torn_len,
    })
}

#[cfg(test)]
mod tests;
