//! `trent audit acknowledge-break`: lets a server start again on a broken chain, without
//! hiding the break. The broken part stays on disk as evidence; a new live segment starts
//! with a keyed record that documents what was found and the size and SHA-256 of every file
//! set aside. Verification then reports the acknowledged break instead of failing, and still
//! fails if the set-aside files change later. Only a holder of the audit key (derived from
//! the root key) can write an acknowledgement that verifies.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use crate::chain::{self, AckedFile, BreakAck, Cursor, Head, HeadState};
use crate::checkpoint::{self, Checkpoint, CHECKPOINT_FILE};
use crate::keys::AuditKeys;
use crate::log::{lock_dir, private_options};
use crate::record::{format_event_time, new_event_id, new_request_id, AuditRecord};
use crate::segment::{self, rotated_name};
use crate::verify::{self, file_digest, Start, WalkCtx};
use crate::{AuditError, HEAD_FILE, LOG_FILE};

/// `eventName` of the acknowledgement record.
pub const ACK_EVENT_NAME: &str = "AcknowledgeAuditChainBreak";

/// What an acknowledgement set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckReport {
    /// What verification found.
    pub finding: String,
    /// The set-aside segments (rotated file numbers), first and last.
    pub first_segment: u64,
    /// Last set-aside segment.
    pub last_segment: u64,
    /// The acknowledgement record's sequence: the new head.
    pub sequence: u64,
    /// Its chain value (hex): the new head to anchor.
    pub head: String,
}

/// Acknowledges the first break in the log in `dir` (see the module doc). `Ok(None)` when
/// the log verifies and there is nothing to acknowledge. Takes the directory's lock, so it
/// fails while a server has the log open.
pub fn acknowledge_break(dir: &Path, keys: &AuditKeys) -> Result<Option<AckReport>, AuditError> {
    let io_err = |e: std::io::Error| AuditError::Open {
        path: dir.to_owned(),
        source: Arc::new(e),
    };
    let refuse = |reason: String| AuditError::Corrupt {
        path: dir.to_owned(),
        reason,
    };
    let _lock = lock_dir(dir)?;
    let head = match chain::read_head(&dir.join(HEAD_FILE)).map_err(io_err)? {
        HeadState::Present(h) => Some(h),
        _ => None,
    };
    let checkpoints = checkpoint::read_all(&dir.join(CHECKPOINT_FILE), &keys.public_key())
        .map_err(|e| {
            refuse(format!(
                "{CHECKPOINT_FILE}: {e}; only breaks in the records can be acknowledged (move the checkpoints file aside to start without it)"
            ))
        })?;
    let segs = segment::list(dir).map_err(io_err)?;
    let ctx = WalkCtx {
        keys,
        head,
        full: true,
        checkpoints: &checkpoints,
        anchor: None,
    };
    let broken = match verify::walk(&segs, Start::BEGINNING, &ctx) {
        Ok(_) => return Ok(None),
        Err(e) => e,
    };
    let first = broken.seg_idx.unwrap_or(segs.len() - 1);
    let live = &segs[segs.len() - 1];

    // Set the live segment aside too: the new chain starts in a fresh one.
    let live_path = dir.join(LOG_FILE);
    if !live_path.exists() {
        private_options()
            .write(true)
            .create_new(true)
            .open(&live_path)
            .map_err(io_err)?;
    }
    let set_aside = dir.join(rotated_name(live.number));
    if set_aside.exists() {
        return Err(refuse(format!("{} already exists", set_aside.display())));
    }
    std::fs::rename(&live_path, &set_aside).map_err(io_err)?;

    let mut files = Vec::new();
    // Above every sequence the log, its head or its checkpoints ever claimed.
    let mut max_seq = broken
        .last_good
        .sequence
        .max(head.map_or(0, |h| h.sequence))
        .max(checkpoints.iter().map(|c| c.sequence).max().unwrap_or(0));
    for seg in &segs[first..] {
        let path = if seg.live {
            set_aside.clone()
        } else {
            seg.path.clone()
        };
        let (bytes, sha) = file_digest(&path).map_err(io_err)?;
        max_seq = max_seq.max(max_sequence(&path));
        files.push(AckedFile {
            segment: seg.number,
            bytes,
            sha256: hex::encode(sha),
        });
    }
    let ack = BreakAck {
        first_segment: segs[first].number,
        last_segment: live.number,
        finding: broken.error.to_string(),
        files,
    };
    let sequence = max_seq + 1;
    let line = ack_line(&ack, sequence, &broken.last_good).map_err(refuse)?;
    let value = keys.mac(&line);

    let mut file = private_options()
        .append(true)
        .create_new(true)
        .open(&live_path)
        .map_err(io_err)?;
    let mut bytes = line.clone();
    bytes.push(b'\n');
    std::io::Write::write_all(&mut file, &bytes).map_err(io_err)?;
    file.sync_data().map_err(io_err)?;

    let mut head_file = private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join(HEAD_FILE))
        .map_err(io_err)?;
    chain::write_head(
        &mut head_file,
        &Head {
            sequence,
            hash: value,
        },
    )
    .map_err(io_err)?;
    head_file.sync_data().map_err(io_err)?;

    let c = Checkpoint {
        segment: live.number + 1,
        offset: bytes.len() as u64,
        sequence,
        value,
        time: format_event_time(time::OffsetDateTime::now_utc()),
    };
    let mut ck = private_options()
        .append(true)
        .create(true)
        .open(dir.join(CHECKPOINT_FILE))
        .map_err(io_err)?;
    checkpoint::append(&mut ck, &c.to_line(keys)).map_err(io_err)?;
    ck.sync_data().map_err(io_err)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    tracing::warn!(
        first_segment = ack.first_segment,
        last_segment = ack.last_segment,
        finding = %ack.finding,
        "audit chain break acknowledged"
    );
    Ok(Some(AckReport {
        finding: ack.finding,
        first_segment: ack.first_segment,
        last_segment: ack.last_segment,
        sequence,
        head: hex::encode(value),
    }))
}

/// The acknowledgement's line (without newline): a CloudTrail-shaped record whose
/// `requestParameters` repeat the acknowledgement for readers, chained after `last_good`.
fn ack_line(ack: &BreakAck, sequence: u64, last_good: &Cursor) -> Result<Vec<u8>, String> {
    let details = serde_json::to_value(ack).map_err(|e| e.to_string())?;
    let record = AuditRecord {
        event_time: format_event_time(time::OffsetDateTime::now_utc()),
        event_source: "trent.audit".into(),
        event_name: ACK_EVENT_NAME.into(),
        source_ip_address: "localhost".into(),
        user_agent: Some("trent audit acknowledge-break".into()),
        request_parameters: Some(details.clone()),
        request_id: new_request_id(),
        event_id: new_event_id(),
        read_only: false,
        ..AuditRecord::default()
    };
    let mut json = serde_json::to_vec(&record).map_err(|e| e.to_string())?;
    if json.pop() != Some(b'}') {
        return Err("the acknowledgement record is not a JSON object".into());
    }
    json.extend_from_slice(
        format!(
            ",\"trentChain\":{{\"version\":{},\"sequence\":{sequence},\"previousMac\":\"{}\",\"acknowledgedBreak\":{details}}}}}",
            chain::KEYED_VERSION,
            hex::encode(last_good.value)
        )
        .as_bytes(),
    );
    Ok(json)
}

/// The highest sequence any parseable line of a file claims (the break's files are not
/// trusted, only kept below the acknowledgement's sequence).
fn max_sequence(path: &Path) -> u64 {
    let Ok(file) = File::open(path) else {
        return 0;
    };
    let mut max = 0;
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return max,
            Ok(_) => {
                if let Ok(c) = chain::parse_chain(line.strip_suffix(b"\n").unwrap_or(&line), false)
                {
                    max = max.max(c.sequence);
                }
            }
        }
    }
}
