//! The append-only log and its group-committing writer thread.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::chain::{self, Hash, Head, HeadState, GENESIS};
use crate::record::AuditRecord;
use crate::{HEAD_FILE, LOG_FILE};

/// Most records one batch takes from the queue.
const MAX_BATCH_RECORDS: usize = 4096;
/// Most serialized bytes one batch takes from the queue (one more record may overshoot).
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Why an audit record could not be recorded. A request whose record fails must fail too.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuditError {
    /// The log could not be opened, created or read at start.
    #[error("cannot open the audit log in {path}: {source}")]
    Open {
        /// The audit directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: Arc<io::Error>,
    },
    /// The log and its head disagree in a way a crash cannot explain (records were removed or
    /// altered); `trent audit verify` names the record.
    #[error("the audit log in {path} is inconsistent: {reason}")]
    Corrupt {
        /// The audit directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The record was not written (or, with [`FsyncPolicy::EveryBatch`], not made durable).
    /// After an fsync failure the log stays poisoned: every later append fails until restart.
    #[error("the audit record was not written: {0}")]
    Write(#[source] Arc<io::Error>),
    /// The record could not be serialized.
    #[error("the audit record cannot be serialized: {0}")]
    Serialize(String),
    /// The log was closed (or its writer stopped) before the record was written.
    #[error("the audit log is closed")]
    Closed,
}

/// When the writer makes written records durable with fsync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// After every batch, before acknowledging it: no acknowledged record is lost to a crash
    /// of the machine. Costs one fdatasync per batch.
    EveryBatch,
    /// At most this long after a batch is written, and on close: a machine crash may lose the
    /// last interval's records (a process crash loses nothing). The default, 100 ms.
    Interval(Duration),
    /// Never (the OS writes back when it likes). For tests and benchmarks.
    Never,
}

impl Default for FsyncPolicy {
    fn default() -> Self {
        FsyncPolicy::Interval(Duration::from_millis(100))
    }
}

/// How the log is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditOptions {
    /// When written records are fsynced.
    pub fsync: FsyncPolicy,
}

/// A serialized record waiting for the writer: its JSON object without the final `}`.
struct Pending {
    json: Vec<u8>,
    ack: oneshot::Sender<Result<(), AuditError>>,
}

enum Msg {
    Append(Pending),
    Close,
}

/// Handle to the append-only, hash-chained audit log (`audit.jsonl` and `audit.head` in one
/// directory). Cheap to clone; `Send + Sync`. One writer per directory: do not open the same
/// directory twice at once.
#[derive(Clone)]
pub struct AuditLog {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::Sender<Msg>,
    /// False after the last batch failed to write, until one succeeds.
    healthy: Arc<AtomicBool>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens (creating if needed) the log in `dir` and starts its writer thread.
    ///
    /// Resumes the chain from the last complete line. After a crash the log may be ahead of
    /// the head: the new lines' chain is checked and the head rewritten; a torn final line (a
    /// record that was never acknowledged) is cut off with a warning. A log *behind* its head,
    /// or whose last record differs from the head, was tampered with: `open` refuses it with
    /// [`AuditError::Corrupt`].
    pub fn open(dir: &Path, options: AuditOptions) -> Result<AuditLog, AuditError> {
        let open_err = |e: io::Error| AuditError::Open {
            path: dir.to_owned(),
            source: Arc::new(e),
        };
        std::fs::create_dir_all(dir).map_err(open_err)?;
        let log_path = dir.join(LOG_FILE);
        let head_path = dir.join(HEAD_FILE);
        let mut file = private_options()
            .read(true)
            .append(true)
            .create(true)
            .open(&log_path)
            .map_err(open_err)?;
        let head_state = chain::read_head(&head_path).map_err(open_err)?;
        let (state, rewrite_head) = recover(&mut file, &head_state, dir)?;
        let mut head_file = private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&head_path)
            .map_err(open_err)?;
        if rewrite_head {
            head_file.set_len(0).map_err(open_err)?;
            chain::write_head(&mut head_file, &state.head()).map_err(open_err)?;
            head_file.sync_data().map_err(open_err)?;
        }
        if let Ok(d) = File::open(dir) {
            // Make the files' directory entries durable; not every platform can.
            let _ = d.sync_all();
        }
        spawn(file, head_file, state, options).map_err(open_err)
    }

    /// Appends one record. Resolves once its line is written to the log file (and, with
    /// [`FsyncPolicy::EveryBatch`], fsynced); an `Err` means it was not, and the request must
    /// fail. Records appended concurrently are written together (group commit). Dropping the
    /// future does not withdraw the record: once queued, it is written.
    pub async fn append(&self, record: AuditRecord) -> Result<(), AuditError> {
        let mut json = Vec::with_capacity(768);
        serde_json::to_writer(&mut json, &record)
            .map_err(|e| AuditError::Serialize(e.to_string()))?;
        // A record always serializes as a non-empty object: drop its `}` so the writer can add
        // the chain member.
        if json.pop() != Some(b'}') || json.len() < 2 {
            return Err(AuditError::Serialize("not a JSON object".into()));
        }
        let (ack, done) = oneshot::channel();
        self.inner
            .tx
            .send(Msg::Append(Pending { json, ack }))
            .map_err(|_| AuditError::Closed)?;
        done.await.map_err(|_| AuditError::Closed)?
    }

    /// Whether the last batch was written (true before the first). The server refuses
    /// mutations up front while this is false, so a change is not committed when its audit
    /// record is known to be unwritable.
    pub fn is_healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::Relaxed)
    }

    /// Writes everything queued, fsyncs (unless [`FsyncPolicy::Never`]), updates the head and
    /// stops the writer thread; later appends fail with [`AuditError::Closed`]. Blocks until
    /// done. Dropping the last handle does the same.
    pub fn close(&self) {
        self.inner.close();
    }
}

impl Inner {
    fn close(&self) {
        let _ = self.tx.send(Msg::Close);
        let handle = match self.writer.lock() {
            Ok(mut g) => g.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(h) = handle {
            if h.join().is_err() {
                tracing::error!("the audit writer thread panicked");
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(unix)]
fn private_options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = OpenOptions::new();
    o.mode(0o600);
    o
}

#[cfg(not(unix))]
fn private_options() -> OpenOptions {
    OpenOptions::new()
}

/// Where the chain stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChainState {
    pub sequence: u64,
    pub last_hash: Hash,
    /// Length of the log's valid part.
    pub len: u64,
}

impl ChainState {
    pub(crate) const EMPTY: ChainState = ChainState {
        sequence: 0,
        last_hash: GENESIS,
        len: 0,
    };

    fn head(&self) -> Head {
        Head {
            sequence: self.sequence,
            hash: self.last_hash,
        }
    }
}

/// Finds where the chain stands, repairing what a crash can leave (a head behind the log, a
/// missing or torn head, a torn final line). Returns whether the head must be rewritten.
fn recover(
    file: &mut File,
    head_state: &HeadState,
    dir: &Path,
) -> Result<(ChainState, bool), AuditError> {
    let open_err = |e: io::Error| AuditError::Open {
        path: dir.to_owned(),
        source: Arc::new(e),
    };
    let corrupt = |reason: String| AuditError::Corrupt {
        path: dir.to_owned(),
        reason,
    };
    let meta = file.metadata().map_err(open_err)?;
    // Only a regular file has a meaningful length (a device such as /dev/full reads forever).
    let len = if meta.is_file() { meta.len() } else { 0 };
    let head = match head_state {
        HeadState::Present(h) => Some(*h),
        HeadState::Missing | HeadState::Garbled => None,
    };

    let Some((start, line_len, complete_len)) = chain::last_line(file, len).map_err(open_err)?
    else {
        // No complete line.
        if let Some(h) = head.filter(|h| h.sequence > 0) {
            return Err(corrupt(format!(
                "the log has no complete record but the head says it ends at record {}",
                h.sequence
            )));
        }
        if len > 0 {
            truncate_torn(file, 0, len).map_err(open_err)?;
        }
        let rewrite = !matches!(head, Some(h) if h == Head::EMPTY);
        return Ok((ChainState::EMPTY, rewrite));
    };

    let line = chain::read_range(file, start, line_len).map_err(open_err)?;
    let last_hash = chain::sha256(&line);
    let last_seq = chain::parse_chain(&line, false)
        .map_err(|e| corrupt(format!("the last record does not parse: {e}")))?
        .sequence;

    let state = match head {
        Some(h) if h.sequence == last_seq && h.hash == last_hash => ChainState {
            sequence: last_seq,
            last_hash,
            len: complete_len,
        },
        Some(h) if h.sequence == last_seq => {
            return Err(corrupt(format!(
                "record {last_seq} does not match the head (it was altered)"
            )))
        }
        Some(h) if h.sequence > last_seq => {
            return Err(corrupt(format!(
                "the log ends at record {last_seq} but the head says {} (records were removed)",
                h.sequence
            )))
        }
        _ => {
            // The head is behind the log (a crash between writing records and updating the
            // head), or missing: check the chain up to the end and adopt it.
            file.seek(SeekFrom::Start(0)).map_err(open_err)?;
            let reader = BufReader::with_capacity(256 * 1024, (&*file).take(complete_len));
            let end = chain::scan(reader, head, false)
                .map_err(|e| corrupt(format!("cannot resume the chain: {e}")))?;
            if end.records != last_seq || end.last_hash != last_hash {
                return Err(corrupt(format!(
                    "the chain ends at record {} but the last line says {last_seq}",
                    end.records
                )));
            }
            tracing::warn!(
                head = head.map(|h| h.sequence),
                log = last_seq,
                "audit head was behind the log (crash recovery); head rewritten"
            );
            ChainState {
                sequence: last_seq,
                last_hash,
                len: complete_len,
            }
        }
    };
    if complete_len < len {
        truncate_torn(file, complete_len, len).map_err(open_err)?;
    }
    let rewrite = head != Some(state.head());
    Ok((state, rewrite))
}

fn truncate_torn(file: &mut File, complete_len: u64, len: u64) -> io::Result<()> {
    tracing::warn!(
        bytes = len - complete_len,
        "audit log ends with a torn record that was never acknowledged; cutting it off"
    );
    file.set_len(complete_len)?;
    file.sync_data()
}

/// Where the writer puts lines: the log file, or a fault-injecting wrapper in tests.
pub(crate) trait Sink: Send + 'static {
    /// Writes the whole buffer (one `write_all`).
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Cuts the log back to `len` bytes after a failed write.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
    /// fdatasync.
    fn sync(&mut self) -> io::Result<()>;
}

impl Sink for File {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.write_all(bytes)
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.sync_data()
    }
}

pub(crate) fn spawn<S: Sink>(
    sink: S,
    head_file: File,
    state: ChainState,
    options: AuditOptions,
) -> io::Result<AuditLog> {
    let (tx, rx) = mpsc::channel();
    let healthy = Arc::new(AtomicBool::new(true));
    let writer = Writer {
        healthy: healthy.clone(),
        sink,
        head_file,
        state,
        policy: options.fsync,
        unsynced: false,
        head_stale: false,
        last_sync: Instant::now(),
        needs_repair: false,
        poisoned: None,
        buf: Vec::with_capacity(64 * 1024),
        batch: Vec::with_capacity(256),
    };
    let handle = std::thread::Builder::new()
        .name("trent-audit-writer".into())
        .spawn(move || writer.run(rx))?;
    Ok(AuditLog {
        inner: Arc::new(Inner {
            tx,
            healthy,
            writer: Mutex::new(Some(handle)),
        }),
    })
}

struct Writer<S: Sink> {
    sink: S,
    /// Shared with [`AuditLog::is_healthy`].
    healthy: Arc<AtomicBool>,
    head_file: File,
    /// The chain as written to the log.
    state: ChainState,
    policy: FsyncPolicy,
    /// Records written but not yet fsynced.
    unsynced: bool,
    /// The head file is behind `state`.
    head_stale: bool,
    last_sync: Instant,
    /// A failed write may have left a partial batch that could not yet be cut off.
    needs_repair: bool,
    /// An fsync failed: the file's durable state is unknown, so nothing more is acknowledged
    /// (fsync is not retried, after PostgreSQL's "fsyncgate").
    poisoned: Option<Arc<io::Error>>,
    buf: Vec<u8>,
    batch: Vec<Pending>,
}

impl<S: Sink> Writer<S> {
    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        let mut closing = false;
        while !closing {
            let first = match self.next_deadline() {
                Some(deadline) => {
                    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                        Ok(m) => m,
                        Err(RecvTimeoutError::Timeout) => {
                            self.sync_point();
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                None => match rx.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                },
            };
            let mut bytes = 0;
            match first {
                Msg::Close => break,
                Msg::Append(p) => {
                    bytes += p.json.len();
                    self.batch.push(p);
                }
            }
            while self.batch.len() < MAX_BATCH_RECORDS && bytes < MAX_BATCH_BYTES {
                match rx.try_recv() {
                    Ok(Msg::Append(p)) => {
                        bytes += p.json.len();
                        self.batch.push(p);
                    }
                    Ok(Msg::Close) => {
                        closing = true;
                        break;
                    }
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            self.write_batch();
            if let FsyncPolicy::Interval(d) = self.policy {
                if self.unsynced && self.last_sync.elapsed() >= d {
                    self.sync_point();
                }
            }
        }
        self.shutdown();
        // Anything still queued is dropped with the receiver: its appends see `Closed`.
    }

    /// When the next interval fsync is due, if one is pending.
    fn next_deadline(&self) -> Option<Instant> {
        match self.policy {
            FsyncPolicy::Interval(d) if self.unsynced || self.head_stale => {
                Some(self.last_sync + d)
            }
            _ => None,
        }
    }

    /// Chains, writes and acknowledges the pending batch.
    fn write_batch(&mut self) {
        let result = self.write_lines();
        self.healthy.store(result.is_ok(), Ordering::Relaxed);
        if let Err(e) = &result {
            tracing::error!(error = %e, records = self.batch.len(), "audit write failed");
        }
        for p in self.batch.drain(..) {
            let _ = p.ack.send(result.clone().map_err(AuditError::Write));
        }
    }

    fn write_lines(&mut self) -> Result<(), Arc<io::Error>> {
        if let Some(e) = &self.poisoned {
            return Err(e.clone());
        }
        if self.needs_repair {
            self.sink.truncate(self.state.len).map_err(Arc::new)?;
            self.needs_repair = false;
        }
        self.buf.clear();
        let mut seq = self.state.sequence;
        let mut prev = self.state.last_hash;
        for p in &self.batch {
            let start = self.buf.len();
            self.buf.extend_from_slice(&p.json);
            seq += 1;
            chain::push_chain_member(&mut self.buf, seq, &prev);
            prev = chain::sha256(&self.buf[start..]);
            self.buf.push(b'\n');
        }
        if let Err(e) = self.sink.append(&self.buf) {
            // Cut off whatever part of the batch reached the file, so the next batch chains
            // onto the last good record; if that fails too, try again before the next batch.
            if self.sink.truncate(self.state.len).is_err() {
                self.needs_repair = true;
            }
            return Err(Arc::new(e));
        }
        let new_state = ChainState {
            sequence: seq,
            last_hash: prev,
            len: self.state.len + self.buf.len() as u64,
        };
        if self.policy == FsyncPolicy::EveryBatch {
            if let Err(e) = self.sink.sync() {
                // The lines are in the file but their durability is unknown: acknowledge
                // nothing, now or later.
                let e = Arc::new(e);
                tracing::error!(error = %e, "audit fsync failed; the audit log is poisoned");
                self.state = new_state;
                self.poisoned = Some(e.clone());
                return Err(e);
            }
            self.state = new_state;
            self.last_sync = Instant::now();
            self.update_head();
            return Ok(());
        }
        self.state = new_state;
        if self.policy == FsyncPolicy::Never {
            self.update_head();
        } else {
            self.unsynced = true;
            self.head_stale = true;
        }
        Ok(())
    }

    /// Interval policy: fsync the log, then bring the head up to it, so a durable head never
    /// names a record that is not durable.
    fn sync_point(&mut self) {
        self.last_sync = Instant::now();
        if self.poisoned.is_some() {
            return;
        }
        if self.unsynced {
            if let Err(e) = self.sink.sync() {
                let e = Arc::new(e);
                tracing::error!(error = %e, "audit fsync failed; the audit log is poisoned");
                self.poisoned = Some(e);
                return;
            }
            self.unsynced = false;
        }
        if self.head_stale {
            self.update_head();
        }
    }

    fn update_head(&mut self) {
        match chain::write_head(&mut self.head_file, &self.state.head()) {
            Ok(()) => self.head_stale = false,
            Err(e) => {
                // The records are in the log; a stale head only makes the next open re-check
                // the chain. Retry at the next sync point.
                tracing::warn!(error = %e, "cannot update the audit head");
                self.head_stale = true;
            }
        }
    }

    fn shutdown(&mut self) {
        if self.poisoned.is_some() {
            return;
        }
        if self.policy != FsyncPolicy::Never && self.unsynced {
            if let Err(e) = self.sink.sync() {
                tracing::error!(error = %e, "audit fsync at close failed");
                return;
            }
            self.unsynced = false;
        }
        self.update_head();
        if self.policy != FsyncPolicy::Never {
            if let Err(e) = self.head_file.sync_data() {
                tracing::warn!(error = %e, "cannot fsync the audit head at close");
            }
        }
    }
}

#[cfg(test)]
mod tests;
