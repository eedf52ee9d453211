//! The hash chain: line layout, hashing, the head file, and the chain scan shared by
//! [`crate::verify`] and crash recovery in [`crate::AuditLog::open`].

use std::fs::File;
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::path::Path;

use aws_lc_rs::digest;
use serde::{Deserialize, Serialize};

use crate::keys::AuditKeys;
use crate::record::AuditRecord;
use crate::verify::VerifyError;

/// A SHA-256 digest.
pub(crate) type Hash = [u8; 32];

/// `previousHash` of the first record.
pub(crate) const GENESIS: Hash = [0u8; 32];

/// `trentChain.version` of keyed records.
pub(crate) const KEYED_VERSION: u32 = 2;

/// Length of the head file's content: 20-digit sequence, space, 64 hex digits, newline.
pub(crate) const HEAD_LEN: usize = 20 + 1 + 64 + 1;

pub(crate) fn sha256(bytes: &[u8]) -> Hash {
    let d = digest::digest(&digest::SHA256, bytes);
    let mut h = [0u8; 32];
    h.copy_from_slice(d.as_ref());
    h
}

/// Appends the keyed (version 2) chain member and the closing brace to `buf`, which holds a
/// record's JSON object without its final `}`.
pub(crate) fn push_keyed_member(buf: &mut Vec<u8>, sequence: u64, previous: &Hash) {
    let mut hex_buf = [0u8; 64];
    // Cannot fail: the output is exactly twice the input's length.
    let _ = hex::encode_to_slice(previous, &mut hex_buf);
    buf.extend_from_slice(b",\"trentChain\":{\"version\":2,\"sequence\":");
    // `write!` to a Vec cannot fail.
    let _ = write!(buf, "{sequence}");
    buf.extend_from_slice(b",\"previousMac\":\"");
    buf.extend_from_slice(&hex_buf);
    buf.extend_from_slice(b"\"}}");
}

/// Appends the legacy (version 1, unkeyed) chain member: what Trent wrote before keyed
/// chains. Only tests write it now, to make old logs.
#[cfg(test)]
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

/// A line's `trentChain` member: version 1 (unkeyed, `previousHash`) or 2 (keyed,
/// `previousMac`, and on a break acknowledgement `acknowledgedBreak`).
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Chain {
    #[serde(default)]
    pub version: Option<u32>,
    pub sequence: u64,
    #[serde(default)]
    pub previous_hash: Option<String>,
    #[serde(default)]
    pub previous_mac: Option<String>,
    #[serde(default)]
    pub acknowledged_break: Option<BreakAck>,
}

impl Chain {
    /// Whether the line is keyed (version 2); `Err` for a member that is neither version.
    pub(crate) fn keyed(&self) -> Result<bool, &'static str> {
        match (
            self.version,
            &self.previous_hash,
            &self.previous_mac,
            &self.acknowledged_break,
        ) {
            (None, Some(_), None, None) => Ok(false),
            (Some(KEYED_VERSION), None, Some(_), _) => Ok(true),
            _ => Err("its trentChain member is neither version 1 nor version 2"),
        }
    }

    /// The chain value of the record before, as this line records it.
    pub(crate) fn previous(&self) -> Option<Hash> {
        decode_hash(
            self.previous_mac
                .as_deref()
                .or(self.previous_hash.as_deref())?,
        )
    }
}

/// What `trent audit acknowledge-break` found and set aside: the first record of the segment
/// after the covered ones, MACed like every keyed record.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct BreakAck {
    /// First segment of the broken part.
    pub first_segment: u64,
    /// Last segment of the broken part (the segment before the acknowledgement's).
    pub last_segment: u64,
    /// What verification reported.
    pub finding: String,
    /// Each covered segment's size and SHA-256 at acknowledgement, so a later change to them
    /// is still detected. First and last segment are 0 and this is empty when only the
    /// checkpoints were set aside.
    pub files: Vec<AckedFile>,
    /// The checkpoints file, when it was broken and set aside (renamed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<AckedCheckpoints>,
}

/// A checkpoints file set aside by an acknowledgement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AckedCheckpoints {
    /// Its new name in the audit directory.
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

/// A segment set aside by an acknowledgement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AckedFile {
    pub segment: u64,
    pub bytes: u64,
    pub sha256: String,
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

/// A line's chain value: HMAC-SHA256 under the audit key when keyed, SHA-256 otherwise.
pub(crate) fn line_value(keys: &AuditKeys, line: &[u8], keyed: bool) -> Hash {
    if keyed {
        keys.mac(line)
    } else {
        sha256(line)
    }
}

fn decode_hash(hex_str: &str) -> Option<Hash> {
    let mut h = [0u8; 32];
    hex::decode_to_slice(hex_str, &mut h).ok()?;
    Some(h)
}

/// Where the chain stands after a record: its sequence and chain value, and whether a keyed
/// record has been seen (after which an unkeyed one is a downgrade).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub sequence: u64,
    pub value: Hash,
    pub keyed: bool,
}

impl Cursor {
    pub(crate) const START: Cursor = Cursor {
        sequence: 0,
        value: GENESIS,
        keyed: false,
    };
}

/// How one segment is scanned.
pub(crate) struct ScanCtx<'a> {
    pub keys: &'a AuditKeys,
    /// The head, checked when its record is reached.
    pub head: Option<Head>,
    /// Also check that each line is a whole [`AuditRecord`].
    pub full: bool,
    /// A torn final line is allowed (the live segment, beyond the head).
    pub torn_tail_ok: bool,
}

/// A record that passed the chain checks, for the caller's own checks.
pub(crate) struct LineSeen<'a> {
    /// Byte offset just past its newline.
    pub end: u64,
    pub cursor: Cursor,
    pub chain: &'a Chain,
}

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanEnd {
    /// The last complete, valid record (the start cursor when none).
    pub cursor: Cursor,
    /// Complete, valid records read.
    pub records: u64,
    /// Of which keyed.
    pub keyed_records: u64,
    /// Offset just past the last complete line (where a torn tail starts).
    pub complete_len: u64,
    /// Bytes after the last newline: a torn final record beyond the head, if not zero.
    pub torn_len: u64,
}

/// A chain break found while the line after the suspect is still unknown.
#[derive(Clone, Copy)]
struct Suspect {
    /// The line whose previous value did not match the line before it.
    line: u64,
    /// That line's own chain value.
    hash: Hash,
}

pub(crate) fn err(line: u64, reason: impl Into<String>) -> VerifyError {
    VerifyError {
        line,
        file: None,
        reason: reason.into(),
    }
}

/// Reads the lines of one segment from `offset` (where `reader` stands) and checks the chain
/// from `start`: every line parses, sequences continue without gaps, each line records the
/// chain value of the one before (SHA-256 of the line for version 1, HMAC-SHA256 under the
/// audit key for version 2), no unkeyed line follows a keyed one, and the head's record, if
/// reached, has the head's value. `on_line` sees every record that passed. A torn final line
/// (no newline) is tolerated only with `torn_tail_ok` and beyond the head: it belongs to a
/// record that was never acknowledged.
pub(crate) fn scan<R: BufRead>(
    mut reader: R,
    start: Cursor,
    offset: u64,
    ctx: &ScanCtx<'_>,
    on_line: &mut dyn FnMut(&LineSeen<'_>) -> Result<(), VerifyError>,
) -> Result<ScanEnd, VerifyError> {
    let mut line = Vec::with_capacity(4096);
    let mut n = start.sequence;
    let mut prev = start.value;
    let mut keyed = start.keyed;
    let mut records = 0u64;
    let mut keyed_records = 0u64;
    let mut complete_len = offset;
    let mut suspect: Option<Suspect> = None;
    let head_seq = ctx.head.map_or(0, |h| h.sequence);
    let end = |n, prev, keyed, records, keyed_records, complete_len, torn_len| ScanEnd {
        cursor: Cursor {
            sequence: n,
            value: prev,
            keyed,
        },
        records,
        keyed_records,
        complete_len,
        torn_len,
    };

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
            if this <= head_seq || !ctx.torn_tail_ok {
                return Err(err(
                    this,
                    "truncated: the last line is incomplete (the record was cut short)",
                ));
            }
            return Ok(end(
                n,
                prev,
                keyed,
                records,
                keyed_records,
                complete_len,
                read as u64,
            ));
        }
        line.pop();
        n = this;
        complete_len += read as u64;

        let chain = match parse_chain(&line, ctx.full) {
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
        let this_keyed = match chain.keyed() {
            Ok(k) => k,
            Err(reason) => {
                if let Some(s) = suspect.take() {
                    return Err(resolve_suspect(s, None));
                }
                return Err(err(n, format!("altered: {reason}")));
            }
        };
        let hash = line_value(ctx.keys, &line, this_keyed);
        let chained = chain.previous();

        if let Some(s) = suspect.take() {
            // The suspect's previous value broke the chain. If this line links to the suspect,
            // the suspect is intact and the line before it was altered; otherwise the suspect
            // itself was altered.
            return Err(resolve_suspect(s, Some(chained == Some(s.hash))));
        }

        if chain.sequence != n {
            return Err(sequence_error(&mut reader, n, chain.sequence));
        }
        if keyed && !this_keyed {
            return Err(err(
                n,
                "downgraded: an unkeyed (version 1) record after keyed records (the chain was rewritten without the audit key)",
            ));
        }
        if chained != Some(prev) {
            if n == 1 {
                return Err(err(
                    1,
                    "altered: its previous value is not the genesis value (64 zeros)",
                ));
            }
            suspect = Some(Suspect { line: n, hash });
        }
        if n == head_seq {
            if let Some(h) = ctx.head {
                if let Some(s) = suspect.take() {
                    return Err(resolve_suspect(s, Some(h.hash == s.hash)));
                }
                if h.hash != hash {
                    return Err(err(
                        n,
                        "altered: its chain value does not match the head file (the last record was changed)",
                    ));
                }
            }
        }
        prev = hash;
        keyed |= this_keyed;
        records += 1;
        if this_keyed {
            keyed_records += 1;
        }
        if suspect.is_none() {
            on_line(&LineSeen {
                end: complete_len,
                cursor: Cursor {
                    sequence: n,
                    value: hash,
                    keyed,
                },
                chain: &chain,
            })?;
        }
    }

    if let Some(s) = suspect.take() {
        return Err(resolve_suspect(s, None));
    }
    Ok(end(n, prev, keyed, records, keyed_records, complete_len, 0))
}

/// `next_links_to_suspect`: whether the following line (or the head) names the suspect's hash;
/// `None` when nothing follows.
fn resolve_suspect(s: Suspect, next_links_to_suspect: Option<bool>) -> VerifyError {
    let before = s.line - 1;
    match next_links_to_suspect {
        Some(true) => err(
            before,
            format!(
                "altered: its chain value does not match the one recorded by record {}",
                s.line
            ),
        ),
        Some(false) => err(
            s.line,
            format!(
                "altered: its previous value does not match record {before}, and the record after it does not link to it"
            ),
        ),
        None => err(
            before,
            format!(
                "altered: its chain value does not match the one recorded by record {} (or record {} was altered)",
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
