use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::chain::{sha256, Head};
use crate::test_util::{fast, keys, lines, record, sequences, write_lines, write_log};
use crate::verify;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_from_many_tasks_are_all_written_and_chained() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), keys(), AuditOptions::default()).unwrap();
    let tasks = 64u64;
    let per_task = 50u64;
    let mut handles = Vec::new();
    for t in 0..tasks {
        let log = log.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..per_task {
                log.append(record(t * per_task + i)).await.unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    log.close();

    let report = verify(dir.path(), &keys()).unwrap();
    assert_eq!(report.records, tasks * per_task);
    let seqs = sequences(dir.path());
    for (i, (seq, _)) in seqs.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1);
    }
    let ids: HashSet<_> = seqs.into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len() as u64, tasks * per_task);
}

#[tokio::test]
async fn each_line_is_the_cloudtrail_record_plus_the_chain_member() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 2).await;
    let lines = lines(dir.path());
    assert_eq!(lines.len(), 2);
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["eventSource"], "kms.amazonaws.com");
    assert_eq!(first["requestID"], "req-1");
    assert_eq!(first["trentChain"]["version"], 2);
    assert_eq!(first["trentChain"]["sequence"], 1);
    assert_eq!(first["trentChain"]["previousMac"], "0".repeat(64));
    let second: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    // Keyed: the HMAC-SHA256 of the line before under the audit key, not its SHA-256.
    assert_eq!(
        second["trentChain"]["previousMac"],
        hex::encode(keys().mac(lines[0].as_bytes()))
    );
    assert_ne!(
        second["trentChain"]["previousMac"],
        hex::encode(sha256(lines[0].as_bytes()))
    );
    // The record itself still deserializes from the line.
    let rec: AuditRecord = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(rec.request_id, "req-2");
    // The head names the last line.
    let head = std::fs::read(dir.path().join(HEAD_FILE)).unwrap();
    assert_eq!(
        Head::decode(&head),
        Some(Head {
            sequence: 2,
            hash: keys().mac(lines[1].as_bytes())
        })
    );
}

#[tokio::test]
async fn restart_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = AuditLog::open(dir.path(), keys(), AuditOptions::default()).unwrap();
        for i in 1..=3 {
            log.append(record(i)).await.unwrap();
        }
        drop(log); // Drop closes.
    }
    let log = AuditLog::open(dir.path(), keys(), AuditOptions::default()).unwrap();
    for i in 4..=5 {
        log.append(record(i)).await.unwrap();
    }
    log.close();
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 5);
    let seqs: Vec<_> = sequences(dir.path()).into_iter().map(|(s, _)| s).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_full_disk_fails_every_append() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/full", dir.path().join(LOG_FILE)).unwrap();
    let log = AuditLog::open(dir.path(), keys(), AuditOptions::default()).unwrap();
    for i in 1..=3 {
        match log.append(record(i)).await {
            Err(AuditError::Write(_)) => {}
            other => panic!("append {i} on /dev/full gave {other:?}"),
        }
    }
    log.close();
}

#[tokio::test]
async fn open_fails_when_the_log_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the log file should be.
    std::fs::create_dir(dir.path().join(LOG_FILE)).unwrap();
    assert!(matches!(
        AuditLog::open(dir.path(), keys(), AuditOptions::default()),
        Err(AuditError::Open { .. })
    ));
}

#[tokio::test]
async fn appends_after_close_fail() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), keys(), fast()).unwrap();
    let other = log.clone();
    log.append(record(1)).await.unwrap();
    log.close();
    log.close(); // Idempotent.
    assert!(matches!(
        other.append(record(2)).await,
        Err(AuditError::Closed)
    ));
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 1);
}

#[tokio::test]
async fn every_policy_writes_a_valid_chain() {
    for policy in [
        FsyncPolicy::EveryBatch,
        FsyncPolicy::Never,
        FsyncPolicy::Interval(Duration::from_millis(1)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(
            dir.path(),
            keys(),
            AuditOptions {
                fsync: policy,
                ..AuditOptions::default()
            },
        )
        .unwrap();
        for i in 1..=20 {
            log.append(record(i)).await.unwrap();
        }
        log.close();
        assert_eq!(
            verify(dir.path(), &keys()).unwrap().records,
            20,
            "{policy:?}"
        );
    }
}

#[tokio::test]
async fn the_interval_policy_brings_the_head_up_without_close() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(
        dir.path(),
        keys(),
        AuditOptions {
            fsync: FsyncPolicy::Interval(Duration::from_millis(10)),
            ..AuditOptions::default()
        },
    )
    .unwrap();
    log.append(record(1)).await.unwrap();
    let head_path = dir.path().join(HEAD_FILE);
    let mut waited = Duration::ZERO;
    loop {
        let head = Head::decode(&std::fs::read(&head_path).unwrap()).unwrap();
        if head.sequence == 1 {
            break;
        }
        assert!(waited < Duration::from_secs(5), "head never caught up");
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += Duration::from_millis(10);
    }
    // A live log verifies too.
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 1);
    log.close();
}

#[tokio::test]
async fn a_head_behind_the_log_is_repaired_on_open() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 5).await;
    // As after a crash between writing records 3–5 and updating the head.
    let lines = lines(dir.path());
    let behind = Head {
        sequence: 2,
        hash: keys().mac(lines[1].as_bytes()),
    };
    std::fs::write(dir.path().join(HEAD_FILE), behind.encode()).unwrap();
    let log = AuditLog::open(dir.path(), keys(), fast()).unwrap();
    log.append(record(6)).await.unwrap();
    log.close();
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 6);
}

#[tokio::test]
async fn a_missing_or_torn_head_is_rebuilt_from_a_valid_chain() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 3).await;
    std::fs::remove_file(dir.path().join(HEAD_FILE)).unwrap();
    AuditLog::open(dir.path(), keys(), fast()).unwrap().close();
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 3);

    std::fs::write(dir.path().join(HEAD_FILE), b"00000000000000000003 ab").unwrap();
    AuditLog::open(dir.path(), keys(), fast()).unwrap().close();
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 3);
}

#[tokio::test]
async fn a_torn_final_record_is_reported_then_cut_off_on_open() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 3).await;
    // A crash in the middle of writing record 4 (never acknowledged, beyond the head).
    let mut f = OpenOptions::new()
        .append(true)
        .open(dir.path().join(LOG_FILE))
        .unwrap();
    f.write_all(br#"{"eventVersion":"1.08","eventTi"#).unwrap();
    drop(f);
    let report = verify(dir.path(), &keys()).unwrap();
    assert_eq!(report.records, 3);
    assert!(report.torn_tail_bytes > 0);

    let log = AuditLog::open(dir.path(), keys(), fast()).unwrap();
    log.append(record(4)).await.unwrap();
    log.close();
    let report = verify(dir.path(), &keys()).unwrap();
    assert_eq!((report.records, report.torn_tail_bytes), (4, 0));
}

#[tokio::test]
async fn a_log_behind_its_head_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 4).await;
    let mut l = lines(dir.path());
    l.pop();
    write_lines(dir.path(), &l);
    assert!(matches!(
        AuditLog::open(dir.path(), keys(), fast()),
        Err(AuditError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn an_altered_last_record_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 2).await;
    let mut l = lines(dir.path());
    l[1] = l[1].replace("req-2", "req-X");
    write_lines(dir.path(), &l);
    assert!(matches!(
        AuditLog::open(dir.path(), keys(), fast()),
        Err(AuditError::Corrupt { .. })
    ));
}

/// A sink that fails on demand.
#[derive(Default)]
struct Faults {
    /// Fail the next write after writing half of it.
    fail_write: bool,
    /// Fail this many truncations.
    fail_truncate: u32,
    /// Fail every fsync while set.
    fail_sync: bool,
    /// Calls seen, for the assertions.
    calls: VecDeque<&'static str>,
}

struct FlakySink {
    file: File,
    faults: Arc<Mutex<Faults>>,
}

impl Sink for FlakySink {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut f = self.faults.lock().unwrap();
        f.calls.push_back("append");
        if std::mem::take(&mut f.fail_write) {
            self.file.write_all(&bytes[..bytes.len() / 2])?;
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "injected ENOSPC",
            ));
        }
        self.file.write_all(bytes)
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        let mut f = self.faults.lock().unwrap();
        f.calls.push_back("truncate");
        if f.fail_truncate > 0 {
            f.fail_truncate -= 1;
            return Err(io::Error::other("injected truncate failure"));
        }
        self.file.set_len(len)
    }
    fn sync(&mut self) -> io::Result<()> {
        flaky_sync(&self.faults, &self.file)
    }
    fn syncer(&self) -> io::Result<SyncFn> {
        let file = self.file.try_clone()?;
        let faults = self.faults.clone();
        Ok(Box::new(move || flaky_sync(&faults, &file)))
    }
    fn replace(&mut self, file: File) {
        self.file = file;
    }
}

fn flaky_sync(faults: &Mutex<Faults>, file: &File) -> io::Result<()> {
    let mut f = faults.lock().unwrap();
    f.calls.push_back("sync");
    if f.fail_sync {
        return Err(io::Error::other("injected EIO"));
    }
    file.sync_data()
}

fn flaky_log(dir: &Path, policy: FsyncPolicy) -> (AuditLog, Arc<Mutex<Faults>>) {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join(LOG_FILE))
        .unwrap();
    let head = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(HEAD_FILE))
        .unwrap();
    let faults = Arc::new(Mutex::new(Faults::default()));
    let sink = FlakySink {
        file,
        faults: faults.clone(),
    };
    let checkpoints = OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join(CHECKPOINT_FILE))
        .unwrap();
    let parts = WriterParts {
        head_file: head,
        checkpoints,
        keys: Arc::new(keys()),
        dir: dir.to_owned(),
        segment_since: Instant::now(),
        last_checkpoint: 0,
        checkpoint_now: false,
    };
    let log = spawn(
        sink,
        parts,
        ChainState::EMPTY,
        AuditOptions {
            fsync: policy,
            ..AuditOptions::default()
        },
        lock_dir(dir).unwrap(),
        0,
    )
    .unwrap();
    (log, faults)
}

fn request_ids(dir: &Path) -> Vec<String> {
    sequences(dir).into_iter().map(|(_, id)| id).collect()
}

#[tokio::test]
async fn a_failed_write_is_cut_off_and_later_records_chain_onto_the_last_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let (log, faults) = flaky_log(dir.path(), FsyncPolicy::Never);
    log.append(record(1)).await.unwrap();
    faults.lock().unwrap().fail_write = true;
    assert!(matches!(
        log.append(record(2)).await,
        Err(AuditError::Write(_))
    ));
    log.append(record(3)).await.unwrap();
    log.close();
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 2);
    assert_eq!(request_ids(dir.path()), ["req-1", "req-3"]);
}

#[tokio::test]
async fn until_a_partial_write_is_cut_off_every_append_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (log, faults) = flaky_log(dir.path(), FsyncPolicy::Never);
    log.append(record(1)).await.unwrap();
    {
        let mut f = faults.lock().unwrap();
        f.fail_write = true;
        f.fail_truncate = 2; // right after the failure, and before the next batch
    }
    assert!(log.append(record(2)).await.is_err());
    assert!(log.append(record(3)).await.is_err());
    log.append(record(4)).await.unwrap();
    log.close();
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 2);
    assert_eq!(request_ids(dir.path()), ["req-1", "req-4"]);
}

#[tokio::test]
async fn an_fsync_failure_poisons_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (log, faults) = flaky_log(dir.path(), FsyncPolicy::EveryBatch);
    log.append(record(1)).await.unwrap();
    faults.lock().unwrap().fail_sync = true;
    assert!(matches!(
        log.append(record(2)).await,
        Err(AuditError::Write(_))
    ));
    faults.lock().unwrap().fail_sync = false;
    // fsync is not retried: nothing more is acknowledged.
    assert!(matches!(
        log.append(record(3)).await,
        Err(AuditError::Write(_))
    ));
    log.close();
    let syncs = faults
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|c| **c == "sync")
        .count();
    assert_eq!(syncs, 2);
}

#[tokio::test]
async fn an_interval_fsync_failure_poisons_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (log, faults) = flaky_log(dir.path(), FsyncPolicy::Interval(Duration::from_millis(5)));
    faults.lock().unwrap().fail_sync = true;
    log.append(record(1)).await.unwrap();
    // Wait for the interval fsync to fail.
    let mut waited = 0;
    while !faults.lock().unwrap().calls.contains(&"sync") {
        assert!(waited < 500, "no interval fsync");
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    assert!(matches!(
        log.append(record(2)).await,
        Err(AuditError::Write(_))
    ));
    log.close();
}

#[tokio::test]
async fn the_default_policy_does_not_fsync_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let (log, faults) = flaky_log(dir.path(), FsyncPolicy::default());
    for i in 1..=50 {
        log.append(record(i)).await.unwrap();
    }
    log.close();
    let f = faults.lock().unwrap();
    let syncs = f.calls.iter().filter(|c| **c == "sync").count();
    let appends = f.calls.iter().filter(|c| **c == "append").count();
    assert_eq!(appends, 50);
    assert!(syncs <= 2, "{syncs} fsyncs for 50 records");
}

#[test]
fn the_handle_and_its_append_future_can_cross_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), keys(), fast()).unwrap();
    send_sync(&log);
    let fut = log.append(record(1));
    send(&fut);
    drop(fut);
    log.close();
}

#[tokio::test]
async fn a_record_whose_append_was_dropped_while_queued_is_still_written() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), keys(), fast()).unwrap();
    log.append(record(1)).await.unwrap();
    // Pretend a leader is writing, queue record 2 behind it, and drop its append.
    lock(&log.inner.queue).leading = true;
    {
        let mut fut = Box::pin(log.append(record(2)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Pending));
    }
    assert_eq!(lock(&log.inner.queue).pending.len(), 1);
    // The leader hands off to the dropped append: the record is written all the same.
    log.inner.hand_off();
    assert!(!lock(&log.inner.queue).leading);
    log.append(record(3)).await.unwrap();
    log.close();
    assert_eq!(request_ids(dir.path()), ["req-1", "req-2", "req-3"]);
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_waits_for_appends_in_flight_and_later_appends_fail() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), keys(), AuditOptions::default()).unwrap();
    let mut handles = Vec::new();
    for t in 0..8u64 {
        let log = log.clone();
        handles.push(tokio::spawn(async move {
            let mut written = 0u64;
            for i in 0..200 {
                match log.append(record(t * 1000 + i)).await {
                    Ok(()) => written += 1,
                    Err(AuditError::Closed) => break,
                    Err(e) => panic!("{e}"),
                }
            }
            written
        }));
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    let closer = log.clone();
    tokio::task::spawn_blocking(move || closer.close())
        .await
        .unwrap();
    let mut acknowledged = 0;
    for h in handles {
        acknowledged += h.await.unwrap();
    }
    // Every acknowledged record is in the verified log (some may have been written after
    // the acknowledgement count stopped, never fewer).
    assert!(verify(dir.path(), &keys()).unwrap().records >= acknowledged);
    assert!(matches!(
        log.append(record(9)).await,
        Err(AuditError::Closed)
    ));
}

#[tokio::test]
async fn a_leader_dropped_while_yielding_still_writes_and_hands_the_lead_on() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), keys(), fast()).unwrap();
    // Another request in flight makes the leader yield before it writes.
    let _a = log.request_started();
    let _b = log.request_started();
    {
        let mut fut = Box::pin(log.append(record(1)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Pending));
        assert!(lock(&log.inner.queue).leading, "it leads while it yields");
    }
    // Dropped while yielding: its record was written, and the log is not left leading.
    assert!(!lock(&log.inner.queue).leading);
    log.append(record(2)).await.unwrap();
    log.close();
    assert_eq!(request_ids(dir.path()), ["req-1", "req-2"]);
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 2);
}

#[tokio::test(flavor = "current_thread")]
async fn with_requests_in_flight_ready_appends_join_one_write() {
    let dir = tempfile::tempdir().unwrap();
    let (log, faults) = flaky_log(dir.path(), FsyncPolicy::Never);
    let guards: Vec<_> = (0..8).map(|_| log.request_started()).collect();
    let tasks: Vec<_> = (1..=8u64)
        .map(|i| {
            let log = log.clone();
            tokio::spawn(async move { log.append(record(i)).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    drop(guards);
    log.close();
    let appends = append_calls(&faults);
    // On one thread, the first leader yields, the other seven queue behind it: two writes at
    // most (the lead handed to a record queued during the first write), never eight.
    assert!(appends <= 2, "{appends} writes for 8 records");
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 8);
    // Alone, a request writes at once and its append completes without yielding.
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), keys(), fast()).unwrap();
    let _only = log.request_started();
    let mut fut = Box::pin(log.append(record(1)));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(std::future::Future::poll(fut.as_mut(), &mut cx).is_ready());
}

#[tokio::test(flavor = "current_thread")]
async fn a_leader_keeps_yielding_while_records_keep_joining() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let dir = tempfile::tempdir().unwrap();
    let (log, faults) = flaky_log(dir.path(), FsyncPolicy::Never);
    let _in_flight: Vec<_> = (0..3).map(|_| log.request_started()).collect();
    let mut cx = Context::from_waker(Waker::noop());
    let mut first = Box::pin(log.append(record(1)));
    assert!(
        first.as_mut().poll(&mut cx).is_pending(),
        "the leader yields"
    );
    let mut second = Box::pin(log.append(record(2)));
    assert!(
        second.as_mut().poll(&mut cx).is_pending(),
        "queued behind the leader"
    );
    // The yield brought a record and a third request is still on its way: yield again.
    assert!(first.as_mut().poll(&mut cx).is_pending());
    let mut third = Box::pin(log.append(record(3)));
    assert!(third.as_mut().poll(&mut cx).is_pending());
    // Everyone in flight has queued: the leader writes all three at once.
    assert!(matches!(first.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
    assert!(matches!(second.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
    assert!(matches!(third.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
    log.close();
    let appends = append_calls(&faults);
    assert_eq!(appends, 1, "{appends} writes for 3 records");
    assert_eq!(request_ids(dir.path()), ["req-1", "req-2", "req-3"]);
}

/// How many times the flaky sink's `append` (one `write(2)`) was called.
fn append_calls(faults: &Mutex<Faults>) -> usize {
    faults
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|c| **c == "append")
        .count()
}
