//! The append-only log: group commit by a leader append, fsync on a background thread.

use std::collections::{HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::chain::{self, Cursor, Hash, Head, HeadState};
use crate::checkpoint::{self, Checkpoint, CHECKPOINT_FILE};
use crate::keys::AuditKeys;
use crate::record::{format_event_time, AuditRecord};
use crate::segment::{self, Segment};
use crate::verify::{self, Start, WalkCtx};
use crate::{HEAD_FILE, LOCK_FILE, LOG_FILE};

/// Most records one batch takes from the queue.
const MAX_BATCH_RECORDS: usize = 4096;
/// How often a leader yields, at most, while records keep joining its batch.
const MAX_LEADER_YIELDS: usize = 4;
/// Most serialized bytes one batch takes from the queue (one more record may overshoot).
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Why an audit record could not be recorded. A request whose record fails must fail too.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuditError {
    /// Another process (a server, or `trent audit acknowledge-break`) has the log open.
    #[error("the audit log in {0} is in use by another process")]
    Locked(PathBuf),
    /// The log could not be opened, created or read at start.
    #[error("cannot open the audit log in {path}: {source}")]
    Open {
        /// The audit directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: Arc<io::Error>,
    },
    /// The chain is broken since the last checkpoint (records altered, removed or rewritten
    /// without the audit key), or the log and its head disagree in a way a crash cannot
    /// explain. Nothing is appended to a broken chain: `trent audit verify` names the record,
    /// and `trent audit acknowledge-break` sets the broken part aside.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditOptions {
    /// When written records are fsynced.
    pub fsync: FsyncPolicy,
    /// The live segment is rotated (renamed to `audit-NNNNNN.jsonl`) before a batch once it
    /// holds this many bytes. Default 64 MiB.
    pub rotate_bytes: u64,
    /// … or once it has been open this long (since it was created or, after a restart, since
    /// the log was opened) and holds a record. Default one day.
    pub rotate_after: Duration,
    /// A signed checkpoint is written (after the records it names are durable) once this many
    /// records were written since the last one. Default 10 000: a restart re-reads at most
    /// about this many records.
    pub checkpoint_records: u64,
    /// … or once this long has passed since the last one with records written. Default 60 s.
    pub checkpoint_interval: Duration,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            fsync: FsyncPolicy::default(),
            rotate_bytes: 64 * 1024 * 1024,
            rotate_after: Duration::from_secs(24 * 60 * 60),
            checkpoint_records: 10_000,
            checkpoint_interval: Duration::from_secs(60),
        }
    }
}

/// A serialized record waiting to be written: its JSON object without the final `}`.
struct Pending {
    json: Vec<u8>,
    ack: oneshot::Sender<Ack>,
}

/// What a waiting append is told.
enum Ack {
    /// Its record was written (or not).
    Done(Result<(), AuditError>),
    /// It is the next leader: it writes its own record (handed back) and whatever queued up.
    Lead(Vec<u8>),
}

/// Records queued behind the current leader.
#[derive(Default)]
struct Queue {
    pending: VecDeque<Pending>,
    /// Some append is writing a batch (or has been handed the lead and will).
    leading: bool,
    closed: bool,
}

/// Handle to the append-only, hash-chained audit log (`audit.jsonl` and `audit.head` in one
/// directory). Cheap to clone; `Send + Sync`. One writer per directory: do not open the same
/// directory twice at once.
///
/// Group commit without a thread hop: the append that finds the log idle becomes the leader
/// and writes its record together with every record queued behind it in one `write(2)`, then
/// hands the lead to the first record queued meanwhile. Followers wait on a oneshot. The
/// write is a short append to the page cache; fsync — the part that can take milliseconds —
/// runs on a background thread under the default [`FsyncPolicy::Interval`].
#[derive(Clone)]
pub struct AuditLog {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Mutex<Queue>,
    /// The audit directory.
    dir: PathBuf,
    /// Records read at open to resume the chain (those after the last checkpoint).
    records_read_at_open: u64,
    /// The directory's exclusive lock, held until the log is closed.
    lock: Mutex<Option<File>>,
    /// The writing side; only the leader (and close) locks it.
    core: Arc<Mutex<Box<dyn WriteCore>>>,
    /// False after the last batch failed to write, until one succeeds.
    healthy: Arc<AtomicBool>,
    /// The background fsync thread (interval policy only).
    syncer: Option<Syncer>,
    shut: AtomicBool,
    /// Requests between [`AuditLog::request_started`] and the drop of its guard.
    in_flight: AtomicUsize,
}

/// A request in flight, counted while this lives ([`AuditLog::request_started`]).
#[must_use = "the request counts as in flight only while the guard lives"]
pub struct InFlight {
    inner: Arc<Inner>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.inner.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The record of a leader that has not written yet. If the append is dropped before it
/// writes (the client went away while it yielded), the drop writes the batch and hands the
/// lead on, so the log never stays "leading" with no one to write.
struct Leading<'a> {
    inner: &'a Inner,
    mine: Option<Vec<u8>>,
}

impl Leading<'_> {
    fn write(mut self) -> Result<(), AuditError> {
        match self.mine.take() {
            Some(mine) => self.inner.lead(mine),
            None => Ok(()),
        }
    }
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        if let Some(mine) = self.mine.take() {
            let _ = self.inner.lead(mine);
        }
    }
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves consistent data (each update is a
    // single assignment or a push), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AuditLog {
    /// Opens (creating if needed) the log in `dir` and, for the interval policy, starts its
    /// fsync thread. `keys` chain the records (HMAC) and sign checkpoints.
    ///
    /// Resumes the chain from the last signed checkpoint, checking every record after it, so
    /// the cost does not grow with the log's age. After a crash the log may be ahead of the
    /// head: the new lines' chain is checked and the head rewritten; a torn final line (a
    /// record that was never acknowledged) is cut off with a warning. A broken chain since the
    /// checkpoint, a forged checkpoint, or a log *behind* its head was tampered with: `open`
    /// refuses it with [`AuditError::Corrupt`] and nothing is appended. A legacy log (no
    /// checkpoint yet) is checked whole once; new records are keyed and chain onto its last.
    pub fn open(
        dir: &Path,
        keys: AuditKeys,
        options: AuditOptions,
    ) -> Result<AuditLog, AuditError> {
        let open_err = |e: io::Error| AuditError::Open {
            path: dir.to_owned(),
            source: Arc::new(e),
        };
        create_private_dir(dir).map_err(open_err)?;
        let lock = lock_dir(dir)?;
        let segs = segment::list(dir).map_err(open_err)?;
        let live = segs[segs.len() - 1].clone();
        let mut file = private_options()
            .read(true)
            .append(true)
            .create(true)
            .open(&live.path)
            .map_err(open_err)?;
        let head_path = dir.join(HEAD_FILE);
        let head_state = chain::read_head(&head_path).map_err(open_err)?;
        let mut checkpoints = private_options()
            .read(true)
            .append(true)
            .create(true)
            .open(dir.join(CHECKPOINT_FILE))
            .map_err(open_err)?;
        let corrupt = |reason: String| AuditError::Corrupt {
            path: dir.to_owned(),
            reason,
        };
        let (last_checkpoint, complete) =
            checkpoint::read_last(&mut checkpoints, &keys.public_key())
                .map_err(open_err)?
                .map_err(|e| corrupt(format!("the last checkpoint in {CHECKPOINT_FILE}: {e}")))?;
        let ck_len = checkpoints.metadata().map_err(open_err)?.len();
        if complete < ck_len {
            tracing::warn!("audit checkpoints end with a torn line; cutting it off");
            checkpoints.set_len(complete).map_err(open_err)?;
        }
        let keys = Arc::new(keys);
        let recovered = recover(
            &mut file,
            &segs,
            &head_state,
            last_checkpoint.as_ref(),
            &keys,
            dir,
        )?;
        let state = recovered.state;
        let mut head_file = private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&head_path)
            .map_err(open_err)?;
        if recovered.rewrite_head {
            head_file.set_len(0).map_err(open_err)?;
            chain::write_head(&mut head_file, &state.head()).map_err(open_err)?;
            head_file.sync_data().map_err(open_err)?;
        }
        if let Ok(d) = File::open(dir) {
            // Make the files' directory entries durable; not every platform can.
            let _ = d.sync_all();
        }
        let segment_since = file
            .metadata()
            .and_then(|m| m.created())
            .ok()
            .and_then(|c| c.elapsed().ok())
            .and_then(|age| Instant::now().checked_sub(age))
            .unwrap_or_else(Instant::now);
        let writer = WriterParts {
            head_file,
            checkpoints,
            keys,
            dir: dir.to_owned(),
            segment_since,
            last_checkpoint: last_checkpoint.map_or(0, |c| c.sequence),
            checkpoint_now: recovered.records_read > 0,
        };
        tracing::info!(
            sequence = state.sequence,
            segment = state.segment,
            records_read = recovered.records_read,
            "audit log opened; chain verified from the last checkpoint"
        );
        let log =
            spawn(file, writer, state, options, lock, recovered.records_read).map_err(open_err)?;
        Ok(log)
    }

    /// Appends one record. Resolves once its line is written to the log file (and, with
    /// [`FsyncPolicy::EveryBatch`], fsynced); an `Err` means it was not, and the request must
    /// fail. Records appended concurrently are written together (group commit). Dropping the
    /// future does not withdraw a queued record: once queued, it is written.
    pub async fn append(&self, record: AuditRecord) -> Result<(), AuditError> {
        let mut json = Vec::with_capacity(1024);
        serde_json::to_writer(&mut json, &record)
            .map_err(|e| AuditError::Serialize(e.to_string()))?;
        // A record always serializes as a non-empty object: drop its `}` so the writer can add
        // the chain member.
        if json.pop() != Some(b'}') || json.len() < 2 {
            return Err(AuditError::Serialize("not a JSON object".into()));
        }
        let waiting = {
            let mut q = lock(&self.inner.queue);
            if q.closed {
                return Err(AuditError::Closed);
            }
            if q.leading {
                let (ack, done) = oneshot::channel();
                q.pending.push_back(Pending { json, ack });
                Err(done)
            } else {
                q.leading = true;
                Ok(json)
            }
        };
        let mine = match waiting {
            Ok(json) => json,
            Err(done) => match done.await {
                Ok(Ack::Done(result)) => return result,
                Ok(Ack::Lead(json)) => json,
                Err(_) => return Err(AuditError::Closed),
            },
        };
        let leading = Leading {
            inner: &self.inner,
            mine: Some(mine),
        };
        // With other requests in flight, let the tasks that are ready run first: they reach
        // their own append, queue behind this one, and go out in the same write(2). Without
        // this, two workers rarely found more than one record queued, and the write was a
        // tenth of a request's CPU under load. It yields again (a few times at most) while
        // the last yield brought new records and requests are still in flight that have not
        // queued: 0.43 → 0.33 log writes per request at 16 connections. Alone, a request
        // writes at once.
        let mut queued = 0;
        for _ in 0..MAX_LEADER_YIELDS {
            if self.inner.in_flight.load(Ordering::Relaxed) <= queued + 1 {
                break;
            }
            tokio::task::yield_now().await;
            let now = lock(&self.inner.queue).pending.len();
            if now == queued {
                break;
            }
            queued = now;
        }
        leading.write()
    }

    /// Counts a request as in flight until the guard drops. Appends yield before writing
    /// while other requests are in flight, so that their records join the same write.
    pub fn request_started(&self) -> InFlight {
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight {
            inner: self.inner.clone(),
        }
    }

    /// Whether the last batch was written (true before the first). The server refuses
    /// mutations up front while this is false, so a change is not committed when its audit
    /// record is known to be unwritable.
    pub fn is_healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::Relaxed)
    }

    /// Blocks until every record written so far is fsynced (under every [`FsyncPolicy`]) and
    /// the head names the last of them, so a caller may then forget a durable copy it kept
    /// elsewhere. An fsync failure poisons the log, as in the writer.
    pub fn sync(&self) -> Result<(), AuditError> {
        let (state, sync) = {
            let core = lock(&self.inner.core);
            if let Some(e) = core.poisoned() {
                return Err(AuditError::Write(e));
            }
            (
                core.state(),
                core.sync_fn().map_err(|e| AuditError::Write(Arc::new(e)))?,
            )
        };
        let mut sync = sync;
        if let Err(e) = sync() {
            let e = Arc::new(e);
            self.inner.healthy.store(false, Ordering::Relaxed);
            lock(&self.inner.core).poison(e.clone());
            return Err(AuditError::Write(e));
        }
        lock(&self.inner.core).synced(state);
        Ok(())
    }

    /// Which of `ids` occur as `eventID` in the records of the live segment and the segment
    /// before it. Blocking; meant for crash recovery at start (rotation bounds its cost).
    pub fn find_event_ids(&self, ids: &HashSet<String>) -> Result<HashSet<String>, AuditError> {
        let mut found = HashSet::new();
        if ids.is_empty() {
            return Ok(found);
        }
        let read_err = |e: io::Error| AuditError::Open {
            path: self.inner.dir.clone(),
            source: Arc::new(e),
        };
        // Open both files under the writer's lock, so a rotation cannot slip between them;
        // the handles follow the files if they are renamed later.
        let files = {
            let core = lock(&self.inner.core);
            let live_number = core.state().segment;
            let mut files = Vec::new();
            if live_number > 1 {
                match File::open(self.inner.dir.join(segment::rotated_name(live_number - 1))) {
                    Ok(f) => files.push(f),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(read_err(e)),
                }
            }
            files.push(File::open(self.inner.dir.join(LOG_FILE)).map_err(read_err)?);
            files
        };
        #[derive(serde::Deserialize)]
        struct EventId {
            #[serde(rename = "eventID")]
            event_id: String,
        }
        let mut line = Vec::with_capacity(4096);
        for file in files {
            let mut reader = BufReader::with_capacity(256 * 1024, file);
            loop {
                line.clear();
                let n = reader.read_until(b'\n', &mut line).map_err(read_err)?;
                // The end, or a line still being written.
                if n == 0 || line.last() != Some(&b'\n') {
                    break;
                }
                if let Ok(r) = serde_json::from_slice::<EventId>(&line) {
                    if ids.contains(&r.event_id) {
                        found.insert(r.event_id);
                    }
                }
            }
        }
        Ok(found)
    }

    /// Records read at open to resume the chain: those after the last checkpoint (all of
    /// them for a log without one). Stays small however old the log is.
    pub fn records_read_at_open(&self) -> u64 {
        self.inner.records_read_at_open
    }

    /// Stops taking records, waits for the batch being written, fsyncs (unless
    /// [`FsyncPolicy::Never`]), brings the head up to date and writes a checkpoint; later appends fail with
    /// [`AuditError::Closed`]. Blocks until done. Dropping the last handle does the same.
    pub fn close(&self) {
        self.inner.close();
    }
}

impl Inner {
    /// As leader: writes `mine` with the records queued behind it, then passes the lead to
    /// the first record queued meanwhile. Returns the result for `mine`.
    fn lead(&self, mine: Vec<u8>) -> Result<(), AuditError> {
        let my_result = self.write_round(mine);
        self.hand_off();
        my_result
    }

    /// Passes the lead to the first queued record, or marks the log idle.
    fn hand_off(&self) {
        loop {
            let mut q = lock(&self.queue);
            let Some(next) = q.pending.pop_front() else {
                q.leading = false;
                return;
            };
            drop(q);
            match next.ack.send(Ack::Lead(next.json)) {
                Ok(()) => return,
                // Its append was dropped; a queued record is never withdrawn, so write it here
                // and look for the next leader again.
                Err(Ack::Lead(json)) => {
                    let _ = self.write_round(json);
                }
                Err(Ack::Done(_)) => {}
            }
        }
    }

    /// Writes `first` and up to a batch of queued records in one write, and acknowledges the
    /// queued ones. Returns the result for `first`.
    fn write_round(&self, first: Vec<u8>) -> Result<(), AuditError> {
        let batch = take_batch(&mut lock(&self.queue).pending);
        let mut records: Vec<&[u8]> = Vec::with_capacity(batch.len() + 1);
        records.push(&first);
        records.extend(batch.iter().map(|p| p.json.as_slice()));
        let result = lock(&self.core).write(&records).map_err(AuditError::Write);
        self.healthy.store(result.is_ok(), Ordering::Relaxed);
        match &result {
            Ok(()) => {
                if let Some(s) = &self.syncer {
                    s.mark_dirty();
                }
            }
            Err(e) => tracing::error!(error = %e, records = records.len(), "audit write failed"),
        }
        for p in batch {
            let _ = p.ack.send(Ack::Done(result.clone()));
        }
        result
    }

    fn close(&self) {
        if self.shut.swap(true, Ordering::SeqCst) {
            return;
        }
        lock(&self.queue).closed = true;
        // Wait (bounded) for the leader and everything queued behind it. A lead handed to an
        // append whose task never runs again must not hang shutdown.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            {
                let q = lock(&self.queue);
                if !q.leading && q.pending.is_empty() {
                    break;
                }
            }
            if Instant::now() >= deadline {
                tracing::warn!("audit log closed while records were still being written");
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if let Some(s) = &self.syncer {
            s.stop();
        }
        lock(&self.core).shutdown();
        // Closed: another writer may open the directory now.
        lock(&self.lock).take();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
    }
}

/// Takes up to [`MAX_BATCH_RECORDS`] / [`MAX_BATCH_BYTES`] from the front of the queue.
fn take_batch(pending: &mut VecDeque<Pending>) -> Vec<Pending> {
    let mut bytes = 0;
    let mut n = 0;
    while n < pending.len() && n < MAX_BATCH_RECORDS && bytes < MAX_BATCH_BYTES {
        bytes += pending[n].json.len();
        n += 1;
    }
    pending.drain(..n).collect()
}

/// Takes the directory's exclusive lock (`audit.lock`), held while the log is open, so a
/// second writer (another server, `trent audit acknowledge-break`) is refused.
pub(crate) fn lock_dir(dir: &Path) -> Result<File, AuditError> {
    let f = private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK_FILE))
        .map_err(|e| AuditError::Open {
            path: dir.to_owned(),
            source: Arc::new(e),
        })?;
    try_lock(&f).map_err(|e| {
        if e.kind() == io::ErrorKind::WouldBlock {
            AuditError::Locked(dir.to_owned())
        } else {
            AuditError::Open {
                path: dir.to_owned(),
                source: Arc::new(e),
            }
        }
    })?;
    Ok(f)
}

/// A non-blocking exclusive `flock(2)`, released when the file closes.
#[cfg(unix)]
fn try_lock(f: &File) -> io::Result<()> {
    rustix::fs::flock(f, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        .map_err(io::Error::from)
}

#[cfg(not(unix))]
fn try_lock(_: &File) -> io::Result<()> {
    Ok(())
}

/// Creates `dir` (and missing parents) with mode 0700 on Unix.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

#[cfg(unix)]
pub(crate) fn private_options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = OpenOptions::new();
    o.mode(0o600);
    o
}

#[cfg(not(unix))]
pub(crate) fn private_options() -> OpenOptions {
    OpenOptions::new()
}

/// Where the chain stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChainState {
    pub sequence: u64,
    pub last_hash: Hash,
    /// Length of the live segment's valid part.
    pub len: u64,
    /// The live segment's number.
    pub segment: u64,
}

impl ChainState {
    #[cfg(test)]
    pub(crate) const EMPTY: ChainState = ChainState {
        sequence: 0,
        last_hash: chain::GENESIS,
        len: 0,
        segment: 1,
    };

    pub(crate) fn head(&self) -> Head {
        Head {
            sequence: self.sequence,
            hash: self.last_hash,
        }
    }
}

struct Recovered {
    state: ChainState,
    rewrite_head: bool,
    records_read: u64,
}

/// Finds where the chain stands: from the last checkpoint (or the beginning, for a log
/// without one), checks every record to the end of the live segment, and repairs what a
/// crash can leave (a head behind the log, a missing or torn head, a torn final line).
fn recover(
    file: &mut File,
    segs: &[Segment],
    head_state: &HeadState,
    last_checkpoint: Option<&Checkpoint>,
    keys: &AuditKeys,
    dir: &Path,
) -> Result<Recovered, AuditError> {
    let open_err = |e: io::Error| AuditError::Open {
        path: dir.to_owned(),
        source: Arc::new(e),
    };
    let corrupt = |reason: String| AuditError::Corrupt {
        path: dir.to_owned(),
        reason,
    };
    let head = match head_state {
        HeadState::Present(h) => Some(*h),
        HeadState::Missing | HeadState::Garbled => None,
    };
    let live = &segs[segs.len() - 1];
    let start = match last_checkpoint {
        None => Start::BEGINNING,
        Some(c) => {
            let Some(idx) = segs.iter().position(|s| s.number == c.segment) else {
                return Err(corrupt(format!(
                    "the last checkpoint names segment {}, which is not there (files removed)",
                    c.segment
                )));
            };
            if c.offset > 0 {
                check_line_before(&segs[idx], c, keys).map_err(|r| {
                    corrupt(format!(
                        "the last checkpoint ({}) does not match {}: {r}",
                        c.time,
                        segs[idx].name()
                    ))
                })?;
            }
            Start {
                seg_idx: idx,
                offset: c.offset,
                // A checkpoint is only written by a writer of keyed records: everything after
                // it must be keyed.
                cursor: Cursor {
                    sequence: c.sequence,
                    value: c.value,
                    keyed: true,
                },
            }
        }
    };
    let ctx = WalkCtx {
        keys,
        head,
        full: false,
        checkpoints: &[],
        anchor: None,
    };
    let end = verify::walk(segs, start, &ctx).map_err(|e| {
        corrupt(format!(
            "{} (`trent audit verify` checks the whole log; `trent audit acknowledge-break` sets the broken part aside so the server can start)",
            e.error
        ))
    })?;
    if let Some(h) = head {
        if h.sequence == end.cursor.sequence && h.hash != end.cursor.value {
            return Err(corrupt(format!(
                "record {} does not match the head (it was altered)",
                h.sequence
            )));
        }
    }
    let meta = file.metadata().map_err(open_err)?;
    let len = if meta.is_file() { meta.len() } else { 0 };
    if end.live_complete_len < len {
        truncate_torn(file, end.live_complete_len, len).map_err(open_err)?;
    }
    if head.is_some_and(|h| h.sequence < end.cursor.sequence) {
        tracing::warn!(
            head = head.map(|h| h.sequence),
            log = end.cursor.sequence,
            "audit head was behind the log (crash recovery); head rewritten"
        );
    }
    let state = ChainState {
        sequence: end.cursor.sequence,
        last_hash: end.cursor.value,
        len: end.live_complete_len,
        segment: live.number,
    };
    Ok(Recovered {
        state,
        rewrite_head: head != Some(state.head()),
        records_read: end.records,
    })
}

/// The record just before the checkpoint's offset must be the one it names.
fn check_line_before(seg: &Segment, c: &Checkpoint, keys: &AuditKeys) -> Result<(), String> {
    let mut f = File::open(&seg.path).map_err(|e| format!("cannot be opened: {e}"))?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    if len < c.offset {
        return Err(format!(
            "the file is {len} bytes, shorter than the checkpoint's {} (records removed)",
            c.offset
        ));
    }
    let Some((start, line_len, complete)) =
        chain::last_line(&mut f, c.offset).map_err(|e| e.to_string())?
    else {
        return Err("no record ends at the checkpoint's offset".into());
    };
    if complete != c.offset {
        return Err(
            "no record ends at the checkpoint's offset (records removed or altered)".into(),
        );
    }
    let line = chain::read_range(&mut f, start, line_len).map_err(|e| e.to_string())?;
    let chain =
        chain::parse_chain(&line, false).map_err(|e| format!("its record does not parse: {e}"))?;
    let keyed = chain.keyed().map_err(str::to_owned)?;
    if chain.sequence != c.sequence || chain::line_value(keys, &line, keyed) != c.value {
        return Err(format!(
            "record {} there is not the one the checkpoint signed (altered)",
            chain.sequence
        ));
    }
    Ok(())
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
    /// An fdatasync of the same file through a second handle, for the fsync thread, so an
    /// fsync never holds up appends.
    fn syncer(&self) -> io::Result<SyncFn>;
    /// Writes to `file` from now on (a new live segment after rotation).
    fn replace(&mut self, file: File);
}

/// fdatasync of the log through its own handle.
pub(crate) type SyncFn = Box<dyn FnMut() -> io::Result<()> + Send>;

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
    fn syncer(&self) -> io::Result<SyncFn> {
        let f = self.try_clone()?;
        Ok(Box::new(move || f.sync_data()))
    }
    fn replace(&mut self, file: File) {
        *self = file;
    }
}

/// What the writer needs besides its sink and chain state.
pub(crate) struct WriterParts {
    pub head_file: File,
    pub checkpoints: File,
    pub keys: Arc<AuditKeys>,
    pub dir: PathBuf,
    /// When the live segment was started (for time-based rotation).
    pub segment_since: Instant,
    /// Sequence of the last checkpoint written.
    pub last_checkpoint: u64,
    /// Write a checkpoint at once (records were read at open, e.g. after a crash or the
    /// first open of a legacy log), so the next open need not read them again.
    pub checkpoint_now: bool,
}

pub(crate) fn spawn<S: Sink>(
    sink: S,
    parts: WriterParts,
    state: ChainState,
    options: AuditOptions,
    lock_file: File,
    records_read_at_open: u64,
) -> io::Result<AuditLog> {
    let healthy = Arc::new(AtomicBool::new(true));
    let dir = parts.dir.clone();
    let checkpoint_now = parts.checkpoint_now;
    let mut writer = Writer {
        sink,
        head_file: parts.head_file,
        checkpoints: parts.checkpoints,
        keys: parts.keys,
        dir: parts.dir,
        state,
        options,
        policy: options.fsync,
        needs_repair: false,
        poisoned: None,
        buf: Vec::with_capacity(64 * 1024),
        segment_since: parts.segment_since,
        last_checkpoint: parts.last_checkpoint,
        last_checkpoint_at: Instant::now(),
        rotate_retry_at: None,
    };
    if checkpoint_now {
        // The records read at open are on disk but maybe not durable (a process crash leaves
        // them in the page cache): make them durable before a checkpoint names them.
        if options.fsync != FsyncPolicy::Never {
            writer.sink.sync()?;
        }
        writer.write_checkpoint(state, true);
    }
    let core: Arc<Mutex<Box<dyn WriteCore>>> = Arc::new(Mutex::new(Box::new(writer)));
    let syncer = match options.fsync {
        FsyncPolicy::Interval(every) => Some(Syncer::start(every, core.clone(), healthy.clone())?),
        _ => None,
    };
    Ok(AuditLog {
        inner: Arc::new(Inner {
            queue: Mutex::new(Queue::default()),
            dir,
            records_read_at_open,
            lock: Mutex::new(Some(lock_file)),
            core,
            healthy,
            syncer,
            shut: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
        }),
    })
}

/// The writing side of the log, behind one lock.
trait WriteCore: Send {
    /// Chains and writes `records` in one write (and fsyncs, with [`FsyncPolicy::EveryBatch`]);
    /// rotates the live segment first when it is due.
    fn write(&mut self, records: &[&[u8]]) -> Result<(), Arc<io::Error>>;
    /// The chain as written.
    fn state(&self) -> ChainState;
    /// An fsync of the live segment through its own handle.
    fn sync_fn(&self) -> io::Result<SyncFn>;
    /// `state` is durable: writes the head, and a checkpoint when one is due.
    fn synced(&mut self, state: ChainState);
    /// Refuses every later write: an fsync failed.
    fn poison(&mut self, e: Arc<io::Error>);
    /// The fsync failure that poisoned the log, if any.
    fn poisoned(&self) -> Option<Arc<io::Error>>;
    /// Final head update, checkpoint and fsyncs at close.
    fn shutdown(&mut self);
}

struct Writer<S: Sink> {
    sink: S,
    head_file: File,
    checkpoints: File,
    keys: Arc<AuditKeys>,
    dir: PathBuf,
    /// The chain as written to the log.
    state: ChainState,
    options: AuditOptions,
    policy: FsyncPolicy,
    /// A failed write may have left a partial batch that could not yet be cut off.
    needs_repair: bool,
    /// An fsync failed: the file's durable state is unknown, so nothing more is acknowledged
    /// (fsync is not retried, after PostgreSQL's "fsyncgate").
    poisoned: Option<Arc<io::Error>>,
    buf: Vec<u8>,
    segment_since: Instant,
    last_checkpoint: u64,
    last_checkpoint_at: Instant,
    /// After a failed rotation, the next attempt waits until then (records keep going to the
    /// live segment meanwhile).
    rotate_retry_at: Option<Instant>,
}

/// How long a failed rotation waits before the next attempt.
const ROTATE_RETRY: Duration = Duration::from_secs(60);

impl<S: Sink> Writer<S> {
    fn rotation_due(&self) -> bool {
        self.state.len > 0
            && self.rotate_retry_at.is_none_or(|t| Instant::now() >= t)
            && (self.state.len >= self.options.rotate_bytes
                || self.segment_since.elapsed() >= self.options.rotate_after)
    }

    /// Makes the live segment durable, renames it to `audit-NNNNNN.jsonl`, starts a new live
    /// segment and checkpoints the chain at its start. A crash between the rename and the new
    /// file leaves no live file: open creates it.
    fn rotate(&mut self) -> Result<(), Arc<io::Error>> {
        if let Err(e) = self.sink.sync() {
            let e = Arc::new(e);
            self.poison(e.clone());
            return Err(e);
        }
        self.write_head(self.state.head());
        let live = self.dir.join(LOG_FILE);
        let rotated = self.dir.join(segment::rotated_name(self.state.segment));
        if rotated.exists() {
            return Err(Arc::new(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} already exists", rotated.display()),
            )));
        }
        std::fs::rename(&live, &rotated).map_err(Arc::new)?;
        let file = match private_options()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&live)
        {
            Ok(f) => f,
            Err(e) => {
                // Put the segment back, so the next batch still has a live file.
                let _ = std::fs::rename(&rotated, &live);
                return Err(Arc::new(e));
            }
        };
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        self.sink.replace(file);
        self.rotate_retry_at = None;
        self.state.segment += 1;
        self.state.len = 0;
        self.segment_since = Instant::now();
        tracing::info!(
            segment = self.state.segment - 1,
            sequence = self.state.sequence,
            "audit log rotated"
        );
        self.write_checkpoint(self.state, true);
        Ok(())
    }

    fn write_head(&mut self, head: Head) {
        if let Err(e) = chain::write_head(&mut self.head_file, &head) {
            // The records are in the log; a stale head only makes the next open re-check the
            // chain. The next sync point or close writes it again.
            tracing::warn!(error = %e, "cannot update the audit head");
        }
    }

    fn checkpoint_due(&self, state: &ChainState) -> bool {
        state.sequence > self.last_checkpoint
            && (state.sequence - self.last_checkpoint >= self.options.checkpoint_records
                || self.last_checkpoint_at.elapsed() >= self.options.checkpoint_interval)
    }

    /// Signs and appends a checkpoint for `state` (whose records are durable). A failure only
    /// costs restart time, so it is logged, and a partial line is cut off.
    fn write_checkpoint(&mut self, state: ChainState, fsync: bool) {
        let c = Checkpoint {
            segment: state.segment,
            offset: state.len,
            sequence: state.sequence,
            value: state.last_hash,
            time: format_event_time(crate::record::wall_clock_now()),
        };
        let line = c.to_line(&self.keys);
        let before = self.checkpoints.metadata().map(|m| m.len());
        let written = checkpoint::append(&mut self.checkpoints, &line).and_then(|()| {
            if fsync && self.policy != FsyncPolicy::Never {
                self.checkpoints.sync_data()
            } else {
                Ok(())
            }
        });
        match written {
            Ok(()) => {
                self.last_checkpoint = state.sequence;
                self.last_checkpoint_at = Instant::now();
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot write an audit checkpoint");
                if let Ok(len) = before {
                    let _ = self.checkpoints.set_len(len);
                }
            }
        }
    }
}

impl<S: Sink> WriteCore for Writer<S> {
    fn write(&mut self, records: &[&[u8]]) -> Result<(), Arc<io::Error>> {
        if let Some(e) = &self.poisoned {
            return Err(e.clone());
        }
        if self.needs_repair {
            self.sink.truncate(self.state.len).map_err(Arc::new)?;
            self.needs_repair = false;
        }
        if self.rotation_due() {
            if let Err(e) = self.rotate() {
                if self.poisoned.is_some() {
                    return Err(e);
                }
                // The live segment is intact: keep appending to it, and try again later.
                tracing::warn!(error = %e, "cannot rotate the audit log; retrying in a minute");
                self.rotate_retry_at = Some(Instant::now() + ROTATE_RETRY);
            }
        }
        self.buf.clear();
        let mut seq = self.state.sequence;
        let mut prev = self.state.last_hash;
        for json in records {
            let start = self.buf.len();
            self.buf.extend_from_slice(json);
            seq += 1;
            chain::push_keyed_member(&mut self.buf, seq, &prev);
            prev = self.keys.mac(&self.buf[start..]);
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
        self.state = ChainState {
            sequence: seq,
            last_hash: prev,
            len: self.state.len + self.buf.len() as u64,
            segment: self.state.segment,
        };
        match self.policy {
            FsyncPolicy::EveryBatch => {
                if let Err(e) = self.sink.sync() {
                    // The lines are in the file but their durability is unknown: acknowledge
                    // nothing, now or later.
                    let e = Arc::new(e);
                    self.poison(e.clone());
                    return Err(e);
                }
                self.synced(self.state);
            }
            FsyncPolicy::Never => self.synced(self.state),
            // The fsync thread brings the head up after it has fsynced the log.
            FsyncPolicy::Interval(_) => {}
        }
        Ok(())
    }

    fn state(&self) -> ChainState {
        self.state
    }

    fn sync_fn(&self) -> io::Result<SyncFn> {
        self.sink.syncer()
    }

    fn synced(&mut self, state: ChainState) {
        self.write_head(state.head());
        if self.checkpoint_due(&state) {
            self.write_checkpoint(state, false);
        }
    }

    fn poison(&mut self, e: Arc<io::Error>) {
        tracing::error!(error = %e, "audit fsync failed; the audit log is poisoned");
        self.poisoned = Some(e);
    }

    fn poisoned(&self) -> Option<Arc<io::Error>> {
        self.poisoned.clone()
    }

    fn shutdown(&mut self) {
        if self.poisoned.is_some() {
            return;
        }
        // Interval: the fsync thread's last round made the log durable and wrote the head.
        // EveryBatch: every batch was. Never: nothing is promised.
        self.write_head(self.state.head());
        if self.state.sequence > self.last_checkpoint {
            self.write_checkpoint(self.state, true);
        }
        if self.policy != FsyncPolicy::Never {
            if let Err(e) = self.head_file.sync_data() {
                tracing::warn!(error = %e, "cannot fsync the audit head at close");
            }
        }
    }
}

/// The background fsync thread of the interval policy: at most `every` after a batch is
/// written, fsyncs the live segment and then writes the head (and a checkpoint when one is
/// due), so a durable head or checkpoint never names a record that is not durable.
struct Syncer {
    ctl: Arc<SyncCtl>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct SyncCtl {
    state: Mutex<SyncState>,
    wake: Condvar,
}

#[derive(Default)]
struct SyncState {
    /// Records were written since the last fsync began.
    dirty: bool,
    stop: bool,
}

impl Syncer {
    fn start(
        every: Duration,
        core: Arc<Mutex<Box<dyn WriteCore>>>,
        healthy: Arc<AtomicBool>,
    ) -> io::Result<Syncer> {
        let ctl = Arc::new(SyncCtl {
            state: Mutex::new(SyncState::default()),
            wake: Condvar::new(),
        });
        let thread_ctl = ctl.clone();
        let thread = std::thread::Builder::new()
            .name("trent-audit-fsync".into())
            .spawn(move || {
                let ctl = thread_ctl;
                let mut last_sync = Instant::now();
                loop {
                    let mut s = lock(&ctl.state);
                    while !s.dirty && !s.stop {
                        s = ctl.wake.wait(s).unwrap_or_else(|p| p.into_inner());
                    }
                    // Let a batch's worth of records gather, unless closing.
                    while !s.stop {
                        let due = last_sync + every;
                        let now = Instant::now();
                        if now >= due {
                            break;
                        }
                        s = ctl
                            .wake
                            .wait_timeout(s, due - now)
                            .map(|(g, _)| g)
                            .unwrap_or_else(|p| p.into_inner().0);
                    }
                    let stop = s.stop;
                    let dirty = std::mem::take(&mut s.dirty);
                    drop(s);
                    if dirty {
                        last_sync = Instant::now();
                        // A handle per round: a rotation between rounds moves the writer to a
                        // new file (it fsyncs the old one itself).
                        let (state, sync) = {
                            let core = lock(&core);
                            (core.state(), core.sync_fn())
                        };
                        let result = sync.and_then(|mut f| f());
                        match result {
                            Ok(()) => lock(&core).synced(state),
                            Err(e) => {
                                healthy.store(false, Ordering::Relaxed);
                                lock(&core).poison(Arc::new(e));
                                // Nothing more will be acknowledged; stop syncing.
                                return;
                            }
                        }
                    }
                    if stop {
                        return;
                    }
                }
            })?;
        Ok(Syncer {
            ctl,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Called after each written batch.
    fn mark_dirty(&self) {
        let mut s = lock(&self.ctl.state);
        if !s.dirty {
            s.dirty = true;
            self.ctl.wake.notify_one();
        }
    }

    /// Runs a last round if records are unsynced, and stops the thread.
    fn stop(&self) {
        lock(&self.ctl.state).stop = true;
        self.ctl.wake.notify_one();
        if let Some(t) = lock(&self.thread).take() {
            if t.join().is_err() {
                tracing::error!("the audit fsync thread panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests;
