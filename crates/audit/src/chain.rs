//! The hash chain: line layout, hashing, the head file, and the chain scan shared by
//! [`crate::verify`] and crash recovery in [`crate::AuditLog::open`].

use std::fs::File;
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::path::Path;

use aws_lc_rs::digest;
use serde::Deserialize;

use crate::record::AuditRecord;
use crate::verify::VerifyError;

/// A SHA-256 digest.
pub(crate) type Hash = [u8; 32];

/// `previousHash` of the first record.
pub(crate) const GENESIS: Hash = [0u8; 32];

/// Length of the head file's content: 20-digit sequence, space, 64 hex digits, newline.
pub(crate) const HEAD_LEN: usize = 20 + 1 + 64 + 1;

pub(crate) fn sha256(bytes: &[u8]) -> Hash {
    let d = digest::digest(&digest::SHA256, bytes);
    let mut h = [0u8; 32];
    h.copy_from_slice(d.as_ref());
    h
}

/// Appends the chain member and the closing brace to `buf`, which holds a record's JSON object
/// without its final `}`.
pub(crate) fn push_chain_member(buf: &mut Vec<u8>, sequence: u64, previous: &Hash) {
    let mut hex_buf = [0u8; 64];
    // Cannot fail: the output is exactly twice the input's length.
    let _ = hex::encode_to_slice(previous, &mut hex_buf);
    buf.extend_from_slice(b",\"trentChain\":{\"sequence\":");
    // `write!` to a Vec cannot fail.
    let _ = write!(buf, "{sequence}");
    buf.extend_from_slice(b",\"previousHash\":\"");
    buf.extend_from_slice(&hex_buf);
    buf.extend_from_slice(b"\"}}");
}

/// The last sequence and the hash of its line, as `audit.head` records them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Head {
    pub sequence: u64,
    pub hash: Hash,
}

impl Head {
    pub(crate) const EMPTY: Head = Head {
        sequence: 0,
        hash: GENESIS,
    };

    pub(crate) fn encode(&self) -> [u8; HEAD_LEN] {
        let mut out = [0u8; HEAD_LEN];
        let seq = format!("{:020}", self.sequence);
        out[..20].copy_from_slice(seq.as_bytes());
        out[20] = b' ';
        let _ = hex::encode_to_slice(self.hash, &mut out[21..85]);
        out[85] = b'\n';
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Head> {
        let text = std::str::from_utf8(bytes).ok()?.trim_end_matches('\n');
        let (seq, hash) = text.split_once(' ')?;
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let sequence = seq.parse().ok()?;
        let mut h = [0u8; 32];
        hex::decode_to_slice(hash, &mut h).ok()?;
        Some(Head { sequence, hash: h })
    }
}

/// What the head file says: absent, unreadable garbage (a torn write), or a head.
#[derive(Debug)]
pub(crate) enum HeadState {
    Missing,
    Garbled,
    Present(Head),
}

pub(crate) fn read_head(path: &Path) -> io::Result<HeadState> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.is_empty() => Ok(HeadState::Missing),
        Ok(bytes) => Ok(match Head::decode(&bytes) {
            Some(h) => HeadState::Present(h),
            None => HeadState::Garbled,
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(HeadState::Missing),
        Err(e) => Err(e),
    }
}

/// Overwrites the head in place (fixed length, so one small write).
pub(crate) fn write_head(file: &mut File, head: &Head) -> io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&head.encode())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Chain {
    pub sequence: u64,
    pub previous_hash: String,
}

#[derive(Deserialize)]
struct ChainOnly {
    #[serde(rename = "trentChain")]
    chain: Chain,
}

#[derive(Deserialize)]
struct FullLine {
    #[serde(flatten)]
    _record: AuditRecord,
    #[serde(rename = "trentChain")]
    chain: Chain,
}

/// Parses a line's chain member; with `full`, also checks that the rest is an [`AuditRecord`].
pub(crate) fn parse_chain(line: &[u8], full: bool) -> Result<Chain, serde_json::Error> {
    if full {
        serde_json::from_slice::<FullLine>(line).map(|l| l.chain)
    } else {
        serde_json::from_slice::<ChainOnly>(line).map(|l| l.chain)
    }
}

fn decode_hash(hex_str: &str) -> Option<Hash> {
    let mut h = [0u8; 32];
    hex::decode_to_slice(hex_str, &mut h).ok()?;
    Some(h)
}

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanEnd {
    /// Complete, valid records.
    pub records: u64,
    /// Hash of the last complete line (GENESIS when none).
    pub last_hash: Hash,
    /// Bytes of complete lines (where a torn tail starts).
    pub complete_len: u64,
    /// Bytes after the last newline: a torn final record beyond the head, if not zero.
    pub torn_len: u64,
}

/// A chain break found while the line after the suspect is still unknown.
#[derive(Clone, Copy)]
struct Suspect {
    /// The line whose `previousHash` did not match the line before it.
    line: u64,
    /// That line's own hash.
    hash: Hash,
}

fn err(line: u64, reason: impl Into<String>) -> VerifyError {
    VerifyError {
        line,
        reason: reason.into(),
    }
}

/// Reads the lines of a log and checks the chain: every line parses, sequences run 1, 2, 3…,
/// each `previousHash` is the previous line's hash, and the head's record is there with the
/// head's hash. Lines after the head's record (written after the head was last updated) are
/// checked the same way. A torn final line (no newline) is tolerated only beyond the head:
/// it belongs to a record that was never acknowledged.
pub(crate) fn scan<R: BufRead>(
    mut reader: R,
    head: Option<Head>,
    full: bool,
) -> Result<ScanEnd, VerifyError> {
    let mut line = Vec::with_capacity(4096);
    let mut n: u64 = 0;
    let mut prev = GENESIS;
    let mut complete_len: u64 = 0;
    let mut suspect: Option<Suspect> = None;
    let head_seq = head.map_or(0, |h| h.sequence);

    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| err(n + 1, format!("cannot be read: {e}")))?;
        if read == 0 {
            break;
        }
        let this = n + 1;
        if line.last() != Some(&b'\n') {
            // A torn final line.
            if let Some(s) = suspect.take() {
                return Err(resolve_suspect(s, None));
            }
            if this <= head_seq {
                return Err(err(
                    this,
                    "truncated: the last line is incomplete (the record was cut short)",
                ));
            }
            return Ok(ScanEnd {
                records: n,
                last_hash: prev,
                complete_len,
                torn_len: read as u64,
            });
        }
        line.pop();
        n = this;
        complete_len += read as u64;

        let chain = match parse_chain(&line, full) {
            Ok(c) => c,
            Err(e) => {
                if let Some(s) = suspect.take() {
                    return Err(resolve_suspect(s, None));
                }
                return Err(err(
                    n,
                    format!("does not parse ({e}): altered or truncated"),
                ));
            }
        };
        let hash = sha256(&line);
        let chained = decode_hash(&chain.previous_hash);

        if let Some(s) = suspect.take() {
            // The suspect's previousHash broke the chain. If this line links to the suspect,
            // the suspect is intact and the line before it was altered; otherwise the suspect
            // itself was altered.
            return Err(resolve_suspect(s, Some(chained == Some(s.hash))));
        }

        if chain.sequence != n {
            return Err(sequence_error(&mut reader, n, chain.sequence));
        }
        if chained != Some(prev) {
            if n == 1 {
                return Err(err(
                    1,
                    "altered: its previousHash is not the genesis value (64 zeros)",
                ));
            }
            suspect = Some(Suspect { line: n, hash });
        }
        if n == head_seq {
            if let Some(h) = head {
                if let Some(s) = suspect.take() {
                    return Err(resolve_suspect(s, Some(h.hash == s.hash)));
                }
                if h.hash != hash {
                    return Err(err(
                        n,
                        "altered: its SHA-256 does not match the head file (the last record was changed)",
                    ));
                }
            }
        }
        prev = hash;
    }

    if let Some(s) = suspect.take() {
        return Err(resolve_suspect(s, None));
    }
    if n < head_seq {
        return Err(err(
            n + 1,
            format!(
                "missing: the head says the log ends at record {head_seq} but the file ends at record {n} (records removed from the end)"
            ),
        ));
    }
    Ok(ScanEnd {
        records: n,
        last_hash: prev,
        complete_len,
        torn_len: 0,
    })
}

/// `next_links_to_suspect`: whether the following line (or the head) names the suspect's hash;
/// `None` when nothing follows.
fn resolve_suspect(s: Suspect, next_links_to_suspect: Option<bool>) -> VerifyError {
    let before = s.line - 1;
    match next_links_to_suspect {
        Some(true) => err(
            before,
            format!(
                "altered: its SHA-256 does not match the previousHash recorded by record {}",
                s.line
            ),
        ),
        Some(false) => err(
            s.line,
            format!(
                "altered: its previousHash does not match record {before}, and the record after it does not link to it"
            ),
        ),
        None => err(
            before,
            format!(
                "altered: its SHA-256 does not match the previousHash recorded by record {} (or record {} was altered)",
                s.line, s.line
            ),
        ),
    }
}

/// Explains a sequence mismatch at line `n`: removed records, reordered records, or an altered
/// sequence number. Reads ahead (this is the error path only).
fn sequence_error<R: BufRead>(reader: &mut R, n: u64, found: u64) -> VerifyError {
    let mut later = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                if let Ok(c) = parse_chain(&buf, false) {
                    later.push(c.sequence);
                } else {
                    later.push(0);
                }
            }
        }
    }
    if later.contains(&n) {
        return err(
            n,
            format!("out of order: found sequence {found} here and record {n} later in the file (records reordered)"),
        );
    }
    if later.first() == Some(&(n + 1)) {
        return err(
            n,
            format!("altered: its sequence says {found} where {n} was expected"),
        );
    }
    if found > n {
        if found == n + 1 {
            err(
                n,
                format!("missing: found sequence {found} where {n} was expected (record removed)"),
            )
        } else {
            err(
                n,
                format!(
                    "missing: found sequence {found} where {n} was expected (records {n}–{} removed)",
                    found - 1
                ),
            )
        }
    } else {
        err(
            n,
            format!("out of order: found sequence {found} where {n} was expected (records reordered or duplicated)"),
        )
    }
}

/// Finds the last complete line of a log of `len` bytes without reading all of it: returns the
/// line's start, its length (without the newline), and the length of the complete part of the
/// file (just past the last newline). `None` when the file has no complete line.
pub(crate) fn last_line(file: &mut File, len: u64) -> io::Result<Option<(u64, u64, u64)>> {
    let Some(last_nl) = rfind_newline(file, len)? else {
        return Ok(None);
    };
    let start = match rfind_newline(file, last_nl)? {
        Some(p) => p + 1,
        None => 0,
    };
    Ok(Some((start, last_nl - start, last_nl + 1)))
}

/// Position of the last `\n` before `end`.
fn rfind_newline(file: &mut File, end: u64) -> io::Result<Option<u64>> {
    const CHUNK: u64 = 64 * 1024;
    let mut buf = vec![0u8; CHUNK as usize];
    let mut hi = end;
    while hi > 0 {
        let lo = hi.saturating_sub(CHUNK);
        let n = (hi - lo) as usize;
        file.seek(SeekFrom::Start(lo))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(Some(lo + i as u64));
        }
        hi = lo;
    }
    Ok(None)
}

pub(crate) fn read_range(file: &mut File, start: u64, len: u64) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len as usize];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_round_trips_with_a_fixed_length() {
        let h = Head {
            sequence: 42,
            hash: sha256(b"x"),
        };
        let enc = h.encode();
        assert_eq!(enc.len(), HEAD_LEN);
        assert_eq!(Head::decode(&enc), Some(h));
        assert_eq!(Head::decode(b"garbage"), None);
        assert_eq!(Head::decode(&enc[..40]), None);
    }

    #[test]
    fn chain_member_closes_the_object() {
        let mut buf = b"{\"a\":1".to_vec();
        push_chain_member(&mut buf, 7, &GENESIS);
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["trentChain"]["sequence"], 7);
        assert_eq!(v["trentChain"]["previousHash"], "0".repeat(64));
        assert_eq!(v["a"], 1);
    }
}
