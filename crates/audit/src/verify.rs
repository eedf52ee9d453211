//! `trent audit verify`: proves the log whole and unaltered, across segments, against the
//! signed checkpoints, the head, and optionally an anchor kept elsewhere. The same walk over
//! the segments resumes the chain when the log opens.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::chain::{self, BreakAck, Cursor, Hash, Head, HeadState, LineSeen, ScanCtx};
use crate::checkpoint::{self, Checkpoint, CHECKPOINT_FILE};
use crate::keys::AuditKeys;
use crate::segment::{self, Segment};
use crate::HEAD_FILE;

/// A log that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Complete records checked (records in acknowledged broken segments are not counted).
    pub records: u64,
    /// Of which keyed (HMAC-chained, version 2). The rest are legacy records, chained with
    /// plain SHA-256, which anyone could have rewritten together with the head.
    pub keyed_records: u64,
    /// The last record's sequence (0 when empty).
    pub last_sequence: u64,
    /// Hex chain value of the last record (HMAC-SHA256 of its line; SHA-256 for a legacy
    /// record; 64 zeros when empty): keep `last_sequence:last_hash` elsewhere to anchor the
    /// chain, and check it later with [`VerifyOptions::expect_head`].
    pub last_hash: String,
    /// The file that holds the last record.
    pub last_file: String,
    /// Segment files checked (rotated ones and the live one).
    pub segments: u64,
    /// Signed checkpoints checked.
    pub checkpoints: u64,
    /// Breaks that an operator acknowledged (`trent audit acknowledge-break`), one line each.
    pub acknowledged_breaks: Vec<String>,
    /// Bytes of a torn final record after the head's last record, left by a crash while that
    /// record was being written (it was never acknowledged; the next open cuts it off). Zero
    /// normally.
    pub torn_tail_bytes: u64,
}

/// The first thing wrong with a log: the record (its sequence; 0 for the log as a whole), the
/// file, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    /// The first bad record's sequence number, or 0.
    pub line: u64,
    /// The file it is in, when the problem is in one file.
    pub file: Option<String>,
    /// What is wrong: altered, missing (removed), out of order, truncated, downgraded, forged,
    /// or unreadable.
    pub reason: String,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, &self.file) {
            (0, None) => write!(f, "audit log: {}", self.reason),
            (0, Some(file)) => write!(f, "{file}: {}", self.reason),
            (n, None) => write!(f, "record {n}: {}", self.reason),
            (n, Some(file)) => write!(f, "record {n} in {file}: {}", self.reason),
        }
    }
}

impl std::error::Error for VerifyError {}

/// A record named by an operator's anchor: `SEQUENCE:HEX` or just the hex chain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// The record's sequence, when given.
    pub sequence: Option<u64>,
    /// Its chain value.
    pub value: [u8; 32],
}

impl std::str::FromStr for Anchor {
    type Err = String;

    fn from_str(s: &str) -> Result<Anchor, String> {
        let s = s.trim();
        let (sequence, hex_part) = match s.split_once(':') {
            Some((seq, h)) => (
                Some(
                    seq.parse::<u64>()
                        .map_err(|_| format!("{seq:?} is not a sequence number"))?,
                ),
                h,
            ),
            None => (None, s),
        };
        let mut value = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut value)
            .map_err(|_| "the head hash must be 64 hex digits".to_owned())?;
        Ok(Anchor { sequence, value })
    }
}

/// What [`verify_with`] checks beyond the log itself.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// A record that must still be in the log with this chain value (an anchor kept
    /// elsewhere, e.g. an earlier head).
    pub expect_head: Option<Anchor>,
}

/// Verifies the log in `dir` ([`verify_with`] without an anchor).
pub fn verify(dir: &Path, keys: &AuditKeys) -> Result<VerifyReport, VerifyError> {
    verify_with(dir, keys, &VerifyOptions::default())
}

/// Verifies the log in `dir`: every segment, in order, without gaps; every line a record;
/// sequences without gaps; each record chained to the one before (HMAC-SHA256 under the audit
/// key for keyed records, SHA-256 for legacy ones, and no legacy record after a keyed one);
/// every checkpoint's signature, and the record it names where it says; the head's record in
/// the log with the head's value (so removing records from the end is detected); and the
/// anchor, if given. A broken part an operator acknowledged is reported, not failed, as long as
/// its files are as they were when acknowledged.
///
/// A running server may rotate while this reads; if the segment files changed during a failed
/// run, it runs once more.
pub fn verify_with(
    dir: &Path,
    keys: &AuditKeys,
    options: &VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let before = segment::list(dir).ok();
    match verify_once(dir, keys, options) {
        Err(_) if before.is_some() && segment::list(dir).ok() != before => {
            verify_once(dir, keys, options)
        }
        result => result,
    }
}

fn verify_once(
    dir: &Path,
    keys: &AuditKeys,
    options: &VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let whole = |reason: String| VerifyError {
        line: 0,
        file: None,
        reason,
    };
    // Read the head and the checkpoints before the log: a running writer moves them only after
    // the log.
    let head = match chain::read_head(&dir.join(HEAD_FILE)) {
        Ok(HeadState::Present(h)) => Some(h),
        Ok(HeadState::Missing) => None,
        Ok(HeadState::Garbled) => {
            return Err(whole(format!("the head file {HEAD_FILE} does not parse")))
        }
        Err(e) => return Err(whole(format!("cannot read {HEAD_FILE}: {e}"))),
    };
    let checkpoints = checkpoint::read_all(&dir.join(CHECKPOINT_FILE), &keys.public_key())
        .map_err(|e| VerifyError {
            line: 0,
            file: Some(CHECKPOINT_FILE.into()),
            reason: e,
        })?;
    let segs =
        segment::list(dir).map_err(|e| whole(format!("cannot list {}: {e}", dir.display())))?;
    let live = &segs[segs.len() - 1];
    match std::fs::metadata(&live.path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(whole(format!("{} is not a regular file", live.name()))),
        Err(e) => return Err(whole(format!("cannot open {}: {e}", live.name()))),
    }
    let ctx = WalkCtx {
        keys,
        head,
        full: true,
        checkpoints: &checkpoints,
        anchor: options.expect_head,
    };
    let end = walk(&segs, Start::BEGINNING, &ctx).map_err(|e| e.error)?;
    if head.is_none() && end.cursor.sequence > 0 {
        return Err(whole(format!(
            "the head file {HEAD_FILE} is missing, so records removed from the end would go unnoticed"
        )));
    }
    if let Some(a) = options.expect_head {
        if !end.anchor_found {
            return Err(VerifyError {
                line: a.sequence.unwrap_or(0),
                file: None,
                reason: format!(
                    "the anchored record {} is not in the log with that value (the log was rewritten or truncated since it was anchored)",
                    hex::encode(a.value)
                ),
            });
        }
    }
    Ok(VerifyReport {
        records: end.records,
        keyed_records: end.keyed_records,
        last_sequence: end.cursor.sequence,
        last_hash: hex::encode(end.cursor.value),
        last_file: end.last_file,
        segments: segs.len() as u64,
        checkpoints: end.checkpoints_matched,
        acknowledged_breaks: end.acknowledged,
        torn_tail_bytes: end.torn_len,
    })
}

/// What [`verify_checkpoints`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointReport {
    /// Checkpoints whose signature verified and whose record is where they say.
    pub checkpoints: u64,
    /// The last one: sequence, chain value (hex), segment file and time.
    pub last: Option<(u64, String, String, String)>,
}

/// Checks the checkpoints with the public key alone (no root key): every signature, and that
/// each names a record that is still where it says, whose chain value the next record (or the
/// head) still records. This detects records removed, reordered or files replaced under a
/// checkpoint; that record *contents* are unaltered needs the HMAC key ([`verify`]).
pub fn verify_checkpoints(
    dir: &Path,
    public: &crate::CheckpointPublicKey,
) -> Result<CheckpointReport, VerifyError> {
    let in_file = |file: String, line: u64, reason: String| VerifyError {
        line,
        file: Some(file),
        reason,
    };
    let checkpoints = checkpoint::read_all(&dir.join(CHECKPOINT_FILE), public)
        .map_err(|e| in_file(CHECKPOINT_FILE.into(), 0, e))?;
    let segs = segment::list(dir).map_err(|e| chain::err(0, format!("cannot list: {e}")))?;
    let head = match chain::read_head(&dir.join(HEAD_FILE)) {
        Ok(HeadState::Present(h)) => Some(h),
        _ => None,
    };
    let mut last_seq = 0;
    let mut report = CheckpointReport {
        checkpoints: 0,
        last: None,
    };
    for c in &checkpoints {
        if c.sequence < last_seq {
            return Err(in_file(
                CHECKPOINT_FILE.into(),
                c.sequence,
                format!("out of order: after a checkpoint of record {last_seq}"),
            ));
        }
        last_seq = c.sequence;
        let Some(idx) = segs.iter().position(|s| s.number == c.segment) else {
            return Err(chain::err(
                c.sequence,
                format!(
                    "missing: segment {} named by a checkpoint is not there",
                    c.segment
                ),
            ));
        };
        let seg = &segs[idx];
        let bad = |reason: &str| {
            in_file(
                seg.name(),
                c.sequence,
                format!("{reason} (checkpoint of {})", c.time),
            )
        };
        let mut f = File::open(&seg.path).map_err(|e| bad(&format!("cannot be opened: {e}")))?;
        let len = f.metadata().map_err(|e| bad(&e.to_string()))?.len();
        if c.offset > len {
            return Err(bad(
                "missing: the file ends before the checkpoint's record (records removed)",
            ));
        }
        if c.offset > 0 {
            let found = chain::last_line(&mut f, c.offset)
                .ok()
                .flatten()
                .filter(|&(_, _, complete)| complete == c.offset)
                .and_then(|(start, n, _)| chain::read_range(&mut f, start, n).ok())
                .and_then(|line| chain::parse_chain(&line, false).ok());
            if found.map(|ch| ch.sequence) != Some(c.sequence) {
                return Err(bad(
                    "missing: the record the checkpoint names does not end at its offset",
                ));
            }
        }
        // The record after it records its chain value: the next line here, else the first
        // line of the next segment, else the head.
        let next = first_line_from(&seg.path, c.offset)
            .or_else(|| segs.get(idx + 1).and_then(|s| first_line_from(&s.path, 0)));
        match next {
            Some(ch) => {
                if (ch.sequence != c.sequence + 1 || ch.previous() != Some(c.value))
                    && ch.acknowledged_break.is_none()
                {
                    return Err(bad(
                        "altered: the record after the checkpoint's does not record its value",
                    ));
                }
            }
            None => {
                if let Some(h) = head {
                    if h.sequence == c.sequence && h.hash != c.value {
                        return Err(bad("altered: the head does not match the last checkpoint"));
                    }
                    if h.sequence < c.sequence {
                        return Err(bad("missing: the log ends before the checkpoint's record (records removed)"));
                    }
                }
            }
        }
        report.checkpoints += 1;
        report.last = Some((c.sequence, hex::encode(c.value), seg.name(), c.time.clone()));
    }
    Ok(report)
}

/// The chain member of the first complete line at or after `offset`.
fn first_line_from(path: &Path, offset: u64) -> Option<chain::Chain> {
    let mut f = File::open(path).ok()?;
    f.seek(SeekFrom::Start(offset)).ok()?;
    let mut line = Vec::new();
    BufReader::new(f).read_until(b'\n', &mut line).ok()?;
    if line.pop() != Some(b'\n') {
        return None;
    }
    chain::parse_chain(&line, false).ok()
}

/// How [`walk`] checks the segments.
pub(crate) struct WalkCtx<'a> {
    pub keys: &'a AuditKeys,
    pub head: Option<Head>,
    pub full: bool,
    /// Checkpoints whose records must be where they say (all of them for verify; none at open,
    /// which starts from the last one).
    pub checkpoints: &'a [Checkpoint],
    pub anchor: Option<Anchor>,
}

/// Where a walk starts: a segment (index into the list), an offset in it, and the chain there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    pub seg_idx: usize,
    pub offset: u64,
    pub cursor: Cursor,
}

impl Start {
    pub(crate) const BEGINNING: Start = Start {
        seg_idx: 0,
        offset: 0,
        cursor: Cursor::START,
    };
}

/// How a walk ended.
#[derive(Debug)]
pub(crate) struct WalkEnd {
    pub cursor: Cursor,
    /// The file of the last record (the live one when empty).
    pub last_file: String,
    pub records: u64,
    pub keyed_records: u64,
    /// Where the live segment's complete part ends, and the torn bytes after it.
    pub live_complete_len: u64,
    pub torn_len: u64,
    pub acknowledged: Vec<String>,
    pub anchor_found: bool,
    pub checkpoints_matched: u64,
}

/// Why a walk failed: the error, and the segment (index) it is in, if one.
#[derive(Debug)]
pub(crate) struct WalkError {
    pub error: VerifyError,
    pub seg_idx: Option<usize>,
    /// The last record that passed before the error.
    pub last_good: Cursor,
}

/// Checks the segments from `start` to the end of the live one (see [`verify_with`]). On a
/// break in segment K, looks for an acknowledgement of it: the first record of a later
/// segment, naming K as the first broken segment, with the broken files unchanged since.
pub(crate) fn walk(
    segs: &[Segment],
    start: Start,
    ctx: &WalkCtx<'_>,
) -> Result<WalkEnd, WalkError> {
    let by_place: HashMap<(u64, u64), &Checkpoint> = ctx
        .checkpoints
        .iter()
        .map(|c| ((c.segment, c.offset), c))
        .collect();
    let mut matched: HashSet<(u64, u64)> = HashSet::new();
    let mut skipped: HashSet<u64> = HashSet::new();
    let mut out = WalkEnd {
        cursor: start.cursor,
        last_file: String::new(),
        records: 0,
        keyed_records: 0,
        live_complete_len: 0,
        torn_len: 0,
        acknowledged: Vec::new(),
        anchor_found: false,
        checkpoints_matched: 0,
    };
    let mut last_good = start.cursor;
    // After a signed checkpoint every record must be keyed: only a keyed writer makes them.
    let mut seen_checkpoint = start.cursor.keyed;
    // Segments an acknowledgement covers whose chain still verified (it was the checkpoints
    // or the head that broke there): their checkpoints are not required to match.
    let mut acked_in_flow: Vec<(u64, u64)> = Vec::new();
    let mut ack_error: Option<String> = None;
    // The segment a walk restarted at after an acknowledgement (never twice).
    let mut restarted_at: Option<usize> = None;
    let mut i = start.seg_idx;
    let mut offset = start.offset;
    let fail = |error: VerifyError, seg: Option<usize>, last_good: Cursor| WalkError {
        error,
        seg_idx: seg,
        last_good,
    };
    let in_file = |seg: &Segment, mut e: VerifyError| {
        e.file = Some(seg.name());
        e
    };
    while i < segs.len() {
        let seg = &segs[i];
        if i > 0 && segs[i - 1].number + 1 != seg.number {
            return Err(fail(
                chain::err(
                    0,
                    format!(
                        "missing: segment {} ({}) is not there (a whole file was removed)",
                        segs[i - 1].number + 1,
                        segment::rotated_name(segs[i - 1].number + 1)
                    ),
                ),
                Some(i),
                last_good,
            ));
        }
        if let Some(c) = by_place.get(&(seg.number, offset)) {
            check_checkpoint(c, &out.cursor)
                .map_err(|e| fail(in_file(seg, e), Some(i), last_good))?;
            matched.insert((seg.number, offset));
            seen_checkpoint = true;
        }
        let result = scan_segment(seg, offset, out.cursor, ctx, &mut |l: &LineSeen<'_>| {
            if seen_checkpoint && l.chain.keyed() == Ok(false) {
                return Err(chain::err(
                    l.cursor.sequence,
                    "downgraded: an unkeyed (version 1) record after a signed checkpoint (the chain was rewritten without the audit key)",
                ));
            }
            if let Some(ack) = &l.chain.acknowledged_break {
                // An acknowledgement whose chain links normally (the break was in the
                // checkpoints or the head): its files must still be as acknowledged.
                let covered: Vec<Segment> = segs
                    .iter()
                    .filter(|s| (ack.first_segment..=ack.last_segment).contains(&s.number))
                    .cloned()
                    .collect();
                if let Err(r) = check_acked_files(&covered, ack) {
                    ack_error.get_or_insert(r);
                }
                if let Some(ck) = &ack.checkpoints {
                    if let Err(r) = check_acked_checkpoints(seg, ck) {
                        ack_error.get_or_insert(r);
                    }
                }
                acked_in_flow.push((ack.first_segment, ack.last_segment));
                out.acknowledged.push(describe_ack(ack));
            }
            last_good = l.cursor;
            if let Some(c) = by_place.get(&(seg.number, l.end)) {
                check_checkpoint(c, &l.cursor)?;
                matched.insert((seg.number, l.end));
                seen_checkpoint = true;
            }
            if let Some(a) = ctx.anchor {
                if a.value == l.cursor.value && a.sequence.is_none_or(|s| s == l.cursor.sequence) {
                    out.anchor_found = true;
                }
            }
            Ok(())
        });
        if let Some(r) = ack_error.take() {
            return Err(fail(chain::err(0, r), Some(i), last_good));
        }
        match result {
            Ok(end) => {
                if end.records > 0 {
                    out.last_file = seg.name();
                }
                out.cursor = end.cursor;
                out.records += end.records;
                out.keyed_records += end.keyed_records;
                if seg.live {
                    out.live_complete_len = end.complete_len;
                    out.torn_len = end.torn_len;
                }
                i += 1;
                offset = 0;
            }
            Err(e) => {
                let e = in_file(seg, e);
                let found = find_ack(segs, i).filter(|(j, _, _)| restarted_at != Some(*j));
                let Some((j, ack, cursor)) = found else {
                    return Err(fail(e, Some(i), last_good));
                };
                restarted_at = Some(j);
                let covered: Vec<Segment> = segs
                    .iter()
                    .filter(|s| (ack.first_segment..=ack.last_segment).contains(&s.number))
                    .cloned()
                    .collect();
                check_acked_files(&covered, &ack).map_err(|r| {
                    fail(
                        chain::err(
                            0,
                            format!("{r} (the acknowledged break was: {})", ack.finding),
                        ),
                        Some(i),
                        last_good,
                    )
                })?;
                for s in &covered {
                    skipped.insert(s.number);
                }
                out.cursor = cursor;
                last_good = cursor;
                seen_checkpoint = true;
                i = j;
                offset = 0;
            }
        }
    }
    if out.last_file.is_empty() {
        out.last_file = segs.last().map(Segment::name).unwrap_or_default();
    }
    if let Some(h) = ctx.head {
        if h.sequence > out.cursor.sequence {
            return Err(fail(
                chain::err(
                    out.cursor.sequence + 1,
                    format!(
                        "missing: the head says the log ends at record {} but it ends at record {} (records removed from the end)",
                        h.sequence, out.cursor.sequence
                    ),
                ),
                Some(segs.len() - 1),
                last_good,
            ));
        }
        if h.sequence == out.cursor.sequence
            && h.sequence == start.cursor.sequence
            && h.hash != start.cursor.value
        {
            return Err(fail(
                chain::err(
                    h.sequence,
                    "altered: the head names another record (the head or the log was changed)",
                ),
                Some(segs.len() - 1),
                last_good,
            ));
        }
    }
    let start_seg = segs.get(start.seg_idx).map_or(0, |s| s.number);
    for c in ctx.checkpoints {
        if c.segment < start_seg
            || skipped.contains(&c.segment)
            || acked_in_flow
                .iter()
                .any(|&(a, b)| (a..=b).contains(&c.segment))
        {
            continue;
        }
        if !matched.contains(&(c.segment, c.offset)) {
            return Err(fail(
                chain::err(
                    c.sequence,
                    format!(
                        "missing: the checkpoint of {} names this record at byte {} of segment {}, and it is not there (records removed or the file replaced)",
                        c.time, c.offset, c.segment
                    ),
                ),
                segs.iter().position(|s| s.number == c.segment),
                last_good,
            ));
        }
        out.checkpoints_matched += 1;
    }
    Ok(out)
}

fn check_checkpoint(c: &Checkpoint, at: &Cursor) -> Result<(), VerifyError> {
    if c.sequence != at.sequence || c.value != at.value {
        return Err(chain::err(
            at.sequence,
            format!(
                "altered: the signed checkpoint of {} says record {} with value {} ends here (the log was rewritten)",
                c.time,
                c.sequence,
                hex::encode(c.value)
            ),
        ));
    }
    Ok(())
}

/// Scans one segment from `offset` (its length as of now: a live writer may append more).
fn scan_segment(
    seg: &Segment,
    offset: u64,
    cursor: Cursor,
    ctx: &WalkCtx<'_>,
    on_line: &mut dyn FnMut(&LineSeen<'_>) -> Result<(), VerifyError>,
) -> Result<chain::ScanEnd, VerifyError> {
    let mut file = match File::open(&seg.path) {
        Ok(f) => f,
        // The live file is created at open; until then the segment is empty.
        Err(e) if seg.live && e.kind() == io::ErrorKind::NotFound && offset == 0 => {
            return Ok(chain::ScanEnd {
                cursor,
                records: 0,
                keyed_records: 0,
                complete_len: 0,
                torn_len: 0,
            })
        }
        Err(e) => return Err(chain::err(0, format!("cannot be opened: {e}"))),
    };
    let meta = file
        .metadata()
        .map_err(|e| chain::err(0, format!("cannot be read: {e}")))?;
    // Only a regular file has a meaningful length (a device such as /dev/full reads forever).
    let len = if meta.is_file() { meta.len() } else { 0 };
    if offset > len {
        return Err(chain::err(
            cursor.sequence,
            format!("missing: the file is {len} bytes but the chain was recorded at byte {offset} (records removed)"),
        ));
    }
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| chain::err(0, format!("cannot be read: {e}")))?;
    let reader = BufReader::with_capacity(256 * 1024, file.take(len - offset));
    let sctx = ScanCtx {
        keys: ctx.keys,
        head: ctx.head,
        full: ctx.full,
        torn_tail_ok: seg.live,
    };
    chain::scan(reader, cursor, offset, &sctx, on_line)
}

/// The first segment from `segs[i]` on whose first record acknowledges a break that covers
/// `segs[i]` (or, for an acknowledgement at the start of `segs[i]` itself, the segments just
/// before it): its index, the acknowledgement, and the cursor just before it.
fn find_ack(segs: &[Segment], i: usize) -> Option<(usize, BreakAck, Cursor)> {
    for (j, seg) in segs.iter().enumerate().skip(i) {
        if j == 0 {
            continue;
        }
        let Ok(file) = File::open(&seg.path) else {
            continue;
        };
        let mut line = Vec::new();
        if BufReader::new(file).read_until(b'\n', &mut line).is_err() || line.pop() != Some(b'\n') {
            continue;
        }
        let Ok(c) = chain::parse_chain(&line, false) else {
            continue;
        };
        if c.keyed() != Ok(true) {
            continue;
        }
        let (Some(ack), Some(prev)) = (c.acknowledged_break.clone(), c.previous()) else {
            continue;
        };
        if ack.first_segment > segs[i].number
            || ack.last_segment != segs[j - 1].number
            || c.sequence == 0
        {
            continue;
        }
        // The acknowledgement itself is MACed: the record after it (or the head, or the
        // checkpoint written with it) records its HMAC, which only the audit key can make.
        return Some((
            j,
            ack,
            Cursor {
                sequence: c.sequence - 1,
                value: prev,
                keyed: true,
            },
        ));
    }
    None
}

/// One line for the report.
fn describe_ack(ack: &BreakAck) -> String {
    let mut what = Vec::new();
    if ack.first_segment > 0 {
        what.push(format!(
            "segments {}–{}",
            ack.first_segment, ack.last_segment
        ));
    }
    if let Some(ck) = &ack.checkpoints {
        what.push(ck.file.clone());
    }
    format!(
        "{} set aside by an acknowledged break: {}",
        what.join(" and "),
        ack.finding
    )
}

/// A set-aside checkpoints file, if still there, must be as acknowledged.
fn check_acked_checkpoints(seg: &Segment, ck: &chain::AckedCheckpoints) -> Result<(), String> {
    let Some(dir) = seg.path.parent() else {
        return Ok(());
    };
    let path = dir.join(&ck.file);
    if !path.exists() {
        return Ok(());
    }
    let (bytes, sha) = file_digest(&path).map_err(|e| format!("{}: {e}", ck.file))?;
    if bytes != ck.bytes || hex::encode(sha) != ck.sha256 {
        return Err(format!(
            "{} changed after its break was acknowledged",
            ck.file
        ));
    }
    Ok(())
}

/// The set-aside segments must be exactly the acknowledged ones, unchanged.
fn check_acked_files(covered: &[Segment], ack: &BreakAck) -> Result<(), String> {
    if ack.first_segment == 0 && ack.last_segment == 0 && ack.files.is_empty() {
        // Only the checkpoints were set aside.
        return Ok(());
    }
    let (Some(first), Some(last)) = (covered.first(), covered.last()) else {
        return Err("the acknowledgement covers no segment".into());
    };
    if first.number != ack.first_segment || last.number != ack.last_segment {
        return Err(format!(
            "the acknowledgement covers segments {}–{} but segments {}–{} are set aside",
            ack.first_segment, ack.last_segment, first.number, last.number
        ));
    }
    for seg in covered {
        let Some(f) = ack.files.iter().find(|f| f.segment == seg.number) else {
            return Err(format!(
                "segment {} is not in the acknowledgement",
                seg.number
            ));
        };
        let (bytes, sha) = file_digest(&seg.path).map_err(|e| format!("{}: {e}", seg.name()))?;
        if bytes != f.bytes || hex::encode(sha) != f.sha256 {
            return Err(format!(
                "{} changed after its break was acknowledged",
                seg.name()
            ));
        }
    }
    Ok(())
}

/// Size and SHA-256 of a file.
pub(crate) fn file_digest(path: &Path) -> io::Result<(u64, Hash)> {
    let mut file = File::open(path)?;
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        ctx.update(&buf[..n]);
    }
    let mut h = [0u8; 32];
    h.copy_from_slice(ctx.finish().as_ref());
    Ok((total, h))
}

#[cfg(test)]
mod tests;
