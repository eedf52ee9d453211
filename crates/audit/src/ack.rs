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

use crate::chain::{self, AckedCheckpoints, AckedFile, BreakAck, Cursor, Head, HeadState};
use crate::checkpoint::{self, Checkpoint, CHECKPOINT_FILE};
use crate::keys::AuditKeys;
use crate::log::{lock_dir, private_options};
use crate::record::{format_event_time, new_event_id, new_request_id, AuditRecord};
use crate::segment::{self, rotated_name};
use crate::verify::{self, file_digest, Start, WalkCtx};
use crate::{AuditError, HEAD_FILE, LOG_FILE};

/// `eventName` of the acknowledgement record.
pub(crate) const ACK_EVENT_NAME: &str = "AcknowledgeAuditChainBreak";

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
    // A broken checkpoints file (forged, altered) is renamed aside; the acknowledgement
    // records its name and digest.
    let ck_path = dir.join(CHECKPOINT_FILE);
    let (checkpoints, ck_aside, ck_finding) =
        match checkpoint::read_all(&ck_path, &keys.public_key()) {
            Ok(c) => (c, None, None),
            Err(e) => {
                let name = format!(
                    "{CHECKPOINT_FILE}.broken-{}",
                    crate::record::wall_clock_now().unix_timestamp()
                );
                if dir.join(&name).exists() {
                    return Err(refuse(format!("{name} already exists")));
                }
                std::fs::rename(&ck_path, dir.join(&name)).map_err(io_err)?;
                let (bytes, sha) = file_digest(&dir.join(&name)).map_err(io_err)?;
                let finding = format!("{CHECKPOINT_FILE}: {e}");
                let aside = AckedCheckpoints {
                    file: name,
                    bytes,
                    sha256: hex::encode(sha),
                };
                (Vec::new(), Some(aside), Some(finding))
            }
        };
    let segs = segment::list(dir).map_err(io_err)?;
    let ctx = WalkCtx {
        keys,
        head,
        full: true,
        checkpoints: &checkpoints,
        anchor: None,
    };
    let live = &segs[segs.len() - 1];
    let broken = match verify::walk(&segs, Start::BEGINNING, &ctx) {
        Ok(end) => {
            let (Some(aside), Some(finding)) = (ck_aside, ck_finding) else {
                return Ok(None);
            };
            // The chain itself is intact: the acknowledgement continues it in the live
            // segment.
            let ack = BreakAck {
                first_segment: 0,
                last_segment: 0,
                finding,
                files: Vec::new(),
                checkpoints: Some(aside),
            };
            let sequence = end.cursor.sequence + 1;
            let line = ack_line(&ack, sequence, &end.cursor).map_err(refuse)?;
            let value = keys.mac(&line);
            let mut file = private_options()
                .read(true)
                .append(true)
                .create(true)
                .open(&live.path)
                .map_err(io_err)?;
            // Cut a torn final record (never acknowledged) first.
            file.set_len(end.live_complete_len).map_err(io_err)?;
            let mut bytes = line;
            bytes.push(b'\n');
            std::io::Write::write_all(&mut file, &bytes).map_err(io_err)?;
            file.sync_data().map_err(io_err)?;
            let offset = end.live_complete_len + bytes.len() as u64;
            finish(dir, keys, live.number, offset, sequence, value).map_err(io_err)?;
            return Ok(Some(AckReport {
                finding: ack.finding,
                first_segment: 0,
                last_segment: 0,
                sequence,
                head: hex::encode(value),
            }));
        }
        Err(e) => e,
    };
    let first = broken.seg_idx.unwrap_or(segs.len() - 1);

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
    let finding = match ck_finding {
        Some(f) => format!("{f}; {}", broken.error),
        None => broken.error.to_string(),
    };
    let ack = BreakAck {
        first_segment: segs[first].number,
        last_segment: live.number,
        finding,
        files,
        checkpoints: ck_aside,
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

    finish(
        dir,
        keys,
        live.number + 1,
        bytes.len() as u64,
        sequence,
        value,
    )
    .map_err(io_err)?;
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

/// Points the head and a new checkpoint at the acknowledgement, and makes it all durable.
fn finish(
    dir: &Path,
    keys: &AuditKeys,
    segment: u64,
    offset: u64,
    sequence: u64,
    value: [u8; 32],
) -> std::io::Result<()> {
    let mut head_file = private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join(HEAD_FILE))?;
    chain::write_head(
        &mut head_file,
        &Head {
            sequence,
            hash: value,
        },
    )?;
    head_file.sync_data()?;
    let c = Checkpoint {
        segment,
        offset,
        sequence,
        value,
        time: format_event_time(crate::record::wall_clock_now()),
    };
    let mut ck = private_options()
        .append(true)
        .create(true)
        .open(dir.join(CHECKPOINT_FILE))?;
    checkpoint::append(&mut ck, &c.to_line(keys))?;
    ck.sync_data()?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The acknowledgement's line (without newline): a CloudTrail-shaped record whose
/// `requestParameters` repeat the acknowledgement for readers, chained after `last_good`.
fn ack_line(ack: &BreakAck, sequence: u64, last_good: &Cursor) -> Result<Vec<u8>, String> {
    let details = serde_json::to_value(ack).map_err(|e| e.to_string())?;
    let record = AuditRecord {
        event_time: format_event_time(crate::record::wall_clock_now()),
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
