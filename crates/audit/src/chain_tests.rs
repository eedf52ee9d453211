//! The keyed, anchored, rotated chain: tampering that a plain hash chain missed, legacy logs,
//! checkpoints, rotation, anchors and acknowledged breaks.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use crate::chain::{push_chain_member, push_keyed_member, sha256, Head};
use crate::checkpoint::CHECKPOINT_FILE;
use crate::segment::rotated_name;
use crate::test_util::{fast, keys, lines, record, write_lines, write_log};
use crate::{
    acknowledge_break, verify, verify_with, Anchor, AuditError, AuditKeys, AuditLog, AuditOptions,
    VerifyOptions, HEAD_FILE, LOG_FILE,
};

fn verify_fails(dir: &Path) -> String {
    match verify(dir, &keys()) {
        Ok(r) => panic!("tampering went unnoticed: {r:?}"),
        Err(e) => e.to_string(),
    }
}

fn open_fails(dir: &Path) -> String {
    match AuditLog::open(dir, keys(), fast()) {
        Ok(_) => panic!("the log opened on a broken chain"),
        Err(AuditError::Corrupt { reason, .. }) => reason,
        Err(e) => panic!("unexpected error {e}"),
    }
}

/// The record JSON of `record(i)` without its final `}`.
fn record_json(i: u64) -> Vec<u8> {
    let mut json = serde_json::to_vec(&record(i)).unwrap();
    json.pop();
    json
}

/// What an attacker without the key does to the file: removes the line at `index`, renumbers
/// the later ones, re-chains them with SHA-256 (as version 1 lines, or keeping the version 2
/// member), and rewrites the head to match. On main this passed verification.
fn rewrite_without_key(dir: &Path, index: usize, keep_version_2: bool) {
    let mut l = lines(dir);
    l.remove(index);
    let mut prev = if index == 0 {
        [0u8; 32]
    } else {
        // The value the kept line before has, as the line after it recorded it.
        let v: serde_json::Value = serde_json::from_str(&lines(dir)[index]).unwrap();
        let mut h = [0u8; 32];
        hex::decode_to_slice(v["trentChain"]["previousMac"].as_str().unwrap(), &mut h).unwrap();
        h
    };
    for (i, line) in l.iter_mut().enumerate().skip(index) {
        let cut = line.find(",\"trentChain\"").unwrap();
        let mut buf = line.as_bytes()[..cut].to_vec();
        if keep_version_2 {
            push_keyed_member(&mut buf, i as u64 + 1, &prev);
        } else {
            push_chain_member(&mut buf, i as u64 + 1, &prev);
        }
        prev = sha256(&buf);
        *line = String::from_utf8(buf).unwrap();
    }
    write_lines(dir, &l);
    let head = Head {
        sequence: l.len() as u64,
        hash: prev,
    };
    std::fs::write(dir.join(HEAD_FILE), head.encode()).unwrap();
}

#[tokio::test]
async fn a_chain_rewritten_with_sha256_after_a_deletion_fails_verify_and_open() {
    for keep_version_2 in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), 10).await;
        rewrite_without_key(dir.path(), 4, keep_version_2);
        let e = verify_fails(dir.path());
        assert!(
            e.contains("downgraded") || e.contains("altered"),
            "{keep_version_2}: {e}"
        );
        // Without checkpoints to compare with, the chain itself still gives it away.
        std::fs::remove_file(dir.path().join(CHECKPOINT_FILE)).unwrap();
        verify_fails(dir.path());
        open_fails(dir.path());
    }
}

#[tokio::test]
async fn an_unkeyed_record_appended_after_keyed_ones_is_a_refused_downgrade() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 3).await;
    // The head gives away the last record's MAC; an attacker chains a legacy line to it.
    let head = Head::decode(&std::fs::read(dir.path().join(HEAD_FILE)).unwrap()).unwrap();
    let mut buf = record_json(4);
    push_chain_member(&mut buf, 4, &head.hash);
    let mut l = lines(dir.path());
    l.push(String::from_utf8(buf.clone()).unwrap());
    write_lines(dir.path(), &l);
    let forged = Head {
        sequence: 4,
        hash: sha256(&buf),
    };
    std::fs::write(dir.path().join(HEAD_FILE), forged.encode()).unwrap();
    std::fs::remove_file(dir.path().join(CHECKPOINT_FILE)).unwrap();
    let e = verify_fails(dir.path());
    assert!(e.contains("record 4") && e.contains("downgraded"), "{e}");
    assert!(open_fails(dir.path()).contains("downgraded"));
}

/// A log as Trent wrote it before keyed chains: version 1 lines and a SHA-256 head.
fn write_legacy_log(dir: &Path, n: u64) -> [u8; 32] {
    let mut prev = [0u8; 32];
    let mut out = Vec::new();
    for i in 1..=n {
        let mut buf = record_json(i);
        push_chain_member(&mut buf, i, &prev);
        prev = sha256(&buf);
        out.extend_from_slice(&buf);
        out.push(b'\n');
    }
    std::fs::write(dir.join(LOG_FILE), out).unwrap();
    let head = Head {
        sequence: n,
        hash: prev,
    };
    std::fs::write(dir.join(HEAD_FILE), head.encode()).unwrap();
    prev
}

#[tokio::test]
async fn a_legacy_log_verifies_and_new_records_are_keyed_and_chain_onto_it() {
    let dir = tempfile::tempdir().unwrap();
    let last_legacy = write_legacy_log(dir.path(), 4);
    let report = verify(dir.path(), &keys()).unwrap();
    assert_eq!((report.records, report.keyed_records), (4, 0));

    let log = AuditLog::open(dir.path(), keys(), fast()).unwrap();
    assert_eq!(log.records_read_at_open(), 4);
    log.append(record(5)).await.unwrap();
    log.close();
    let report = verify(dir.path(), &keys()).unwrap();
    assert_eq!((report.records, report.keyed_records), (5, 1));
    let fifth: serde_json::Value = serde_json::from_str(&lines(dir.path())[4]).unwrap();
    assert_eq!(fifth["trentChain"]["version"], 2);
    assert_eq!(fifth["trentChain"]["previousMac"], hex::encode(last_legacy));

    // Once migrated, the legacy part is covered by the keyed record after it.
    let mut l = lines(dir.path());
    l[1] = l[1].replace("req-2", "req-X");
    write_lines(dir.path(), &l);
    verify_fails(dir.path());
}

#[tokio::test]
async fn a_legacy_log_rewritten_before_migration_still_fails_as_before() {
    let dir = tempfile::tempdir().unwrap();
    write_legacy_log(dir.path(), 5);
    let mut l = lines(dir.path());
    l[2] = l[2].replace("req-3", "req-X");
    write_lines(dir.path(), &l);
    assert!(verify_fails(dir.path()).contains("record 3"));
}

#[tokio::test]
async fn a_record_altered_after_the_last_checkpoint_is_caught_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let crashed = tempfile::tempdir().unwrap();
    let options = AuditOptions {
        checkpoint_records: 4,
        ..fast()
    };
    let log = AuditLog::open(dir.path(), keys(), options).unwrap();
    for i in 1..=10 {
        log.append(record(i)).await.unwrap();
    }
    // A crash now: checkpoints at 4 and 8, records 9 and 10 after them.
    copy_dir(dir.path(), crashed.path());
    log.close();
    let mut l = lines(crashed.path());
    l[8] = l[8].replace("\"Encrypt\"", "\"Decrypt\"");
    write_lines(crashed.path(), &l);
    let e = open_fails(crashed.path());
    assert!(e.contains("record 9"), "{e}");
    assert!(verify_fails(crashed.path()).contains("record 9"));
}

#[tokio::test]
async fn a_record_altered_before_the_last_checkpoint_is_caught_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10).await;
    let mut l = lines(dir.path());
    l[4] = l[4].replace("\"Encrypt\"", "\"Decrypt\"");
    write_lines(dir.path(), &l);
    assert!(verify_fails(dir.path()).contains("record 5"));
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != crate::LOCK_FILE {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[tokio::test]
async fn restart_reads_only_the_records_after_the_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let options = AuditOptions {
        checkpoint_records: 50,
        ..fast()
    };
    // A clean close checkpoints: the next open reads nothing, however long the log.
    for round in 0..5u64 {
        let log = AuditLog::open(dir.path(), keys(), options).unwrap();
        assert_eq!(log.records_read_at_open(), 0, "round {round}");
        for i in 0..200 {
            log.append(record(round * 200 + i)).await.unwrap();
        }
        log.close();
    }
    // After a crash: at most the records since the last periodic checkpoint.
    let log = AuditLog::open(dir.path(), keys(), options).unwrap();
    for i in 0..130 {
        log.append(record(1000 + i)).await.unwrap();
    }
    let crashed = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), crashed.path());
    log.close();
    let log = AuditLog::open(crashed.path(), keys(), options).unwrap();
    assert!(
        log.records_read_at_open() <= 50,
        "{}",
        log.records_read_at_open()
    );
    assert!(log.records_read_at_open() > 0);
    log.close();
    // The checkpoint written at that open covers them: the next open reads none.
    let log = AuditLog::open(crashed.path(), keys(), options).unwrap();
    assert_eq!(log.records_read_at_open(), 0);
    log.close();
    assert_eq!(verify(crashed.path(), &keys()).unwrap().records, 1130);
}

#[tokio::test]
async fn segments_rotate_by_size_and_verify_spans_them() {
    let dir = tempfile::tempdir().unwrap();
    let options = AuditOptions {
        rotate_bytes: 4000,
        ..fast()
    };
    for round in 0..2u64 {
        let log = AuditLog::open(dir.path(), keys(), options).unwrap();
        for i in 0..20 {
            log.append(record(round * 20 + i)).await.unwrap();
        }
        log.close();
    }
    let report = verify(dir.path(), &keys()).unwrap();
    assert_eq!(report.records, 40);
    assert!(report.segments >= 4, "{report:?}");
    assert!(dir.path().join(rotated_name(1)).exists());
    let total: u64 = (1..report.segments)
        .map(|n| {
            let len = std::fs::metadata(dir.path().join(rotated_name(n)))
                .unwrap()
                .len();
            assert!(len < 4000 + 1000, "segment {n} is {len} bytes");
            lines_in(&dir.path().join(rotated_name(n)))
        })
        .sum::<u64>()
        + lines(dir.path()).len() as u64;
    assert_eq!(total, 40);

    // An altered record in a rotated segment is named with its file.
    let seg2 = dir.path().join(rotated_name(2));
    let text = std::fs::read_to_string(&seg2).unwrap();
    std::fs::write(&seg2, text.replacen("\"Encrypt\"", "\"Decrypt\"", 1)).unwrap();
    let e = verify_fails(dir.path());
    assert!(e.contains(&rotated_name(2)), "{e}");
    std::fs::write(&seg2, text).unwrap();
    verify(dir.path(), &keys()).unwrap();

    // A removed segment is missing.
    std::fs::remove_file(&seg2).unwrap();
    assert!(verify_fails(dir.path()).contains("missing"));
}

#[tokio::test]
async fn segments_rotate_by_age() {
    let dir = tempfile::tempdir().unwrap();
    let options = AuditOptions {
        rotate_after: Duration::from_millis(20),
        ..fast()
    };
    let log = AuditLog::open(dir.path(), keys(), options).unwrap();
    log.append(record(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(40)).await;
    log.append(record(2)).await.unwrap();
    log.close();
    assert!(dir.path().join(rotated_name(1)).exists());
    assert_eq!(lines(dir.path()).len(), 1);
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 2);
}

fn lines_in(path: &Path) -> u64 {
    std::fs::read_to_string(path).unwrap().lines().count() as u64
}

#[tokio::test]
async fn a_forged_or_altered_checkpoint_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 5).await;
    let path = dir.path().join(CHECKPOINT_FILE);
    let good = std::fs::read_to_string(&path).unwrap();

    // Signed with another key pair (an attacker's): refused by verify and open.
    let attacker = AuditKeys::new(&[0x11; 32], &[0x99; 32]).unwrap();
    let c = crate::checkpoint::Checkpoint {
        segment: 1,
        offset: 0,
        sequence: 0,
        value: [0; 32],
        time: "2026-12-07T00:00:00Z".into(),
    };
    let mut forged = good.clone();
    forged.push_str(std::str::from_utf8(&c.to_line(&attacker)).unwrap());
    std::fs::write(&path, &forged).unwrap();
    assert!(verify_fails(dir.path()).contains("signature"));
    assert!(open_fails(dir.path()).contains("signature"));

    // A field changed in place.
    let altered = good.replacen("\"sequence\":5", "\"sequence\":4", 1);
    assert_ne!(altered, good);
    std::fs::write(&path, &altered).unwrap();
    assert!(verify_fails(dir.path()).contains("signature"));
    assert!(open_fails(dir.path()).contains("signature"));

    std::fs::write(&path, &good).unwrap();
    verify(dir.path(), &keys()).unwrap();
}

#[tokio::test]
async fn records_removed_from_the_end_with_a_rewritten_head_contradict_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 6).await;
    let mut l = lines(dir.path());
    // The head can be set back to record 4: its MAC is in record 5's line...
    let fifth: serde_json::Value = serde_json::from_str(&l[4]).unwrap();
    let mut mac = [0u8; 32];
    hex::decode_to_slice(
        fifth["trentChain"]["previousMac"].as_str().unwrap(),
        &mut mac,
    )
    .unwrap();
    l.truncate(4);
    write_lines(dir.path(), &l);
    std::fs::write(
        dir.path().join(HEAD_FILE),
        Head {
            sequence: 4,
            hash: mac,
        }
        .encode(),
    )
    .unwrap();
    // ...but the signed checkpoint at close names record 6.
    assert!(verify_fails(dir.path()).contains("checkpoint"));
    open_fails(dir.path());
}

#[tokio::test]
async fn expect_head_passes_for_a_present_record_and_fails_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 5).await;
    let report = verify(dir.path(), &keys()).unwrap();
    assert_eq!(report.last_sequence, 5);
    assert_eq!(report.last_file, LOG_FILE);
    let anchor: Anchor = format!("{}:{}", report.last_sequence, report.last_hash)
        .parse()
        .unwrap();
    let with = |a: Anchor| VerifyOptions {
        expect_head: Some(a),
    };
    verify_with(dir.path(), &keys(), &with(anchor)).unwrap();
    let bare: Anchor = report.last_hash.parse().unwrap();
    verify_with(dir.path(), &keys(), &with(bare)).unwrap();

    // Later records do not invalidate an older anchor.
    let log = AuditLog::open(dir.path(), keys(), fast()).unwrap();
    log.append(record(6)).await.unwrap();
    log.close();
    verify_with(dir.path(), &keys(), &with(anchor)).unwrap();

    // The wrong sequence, or a value that is not in the log, fails.
    let wrong_seq: Anchor = format!("4:{}", report.last_hash).parse().unwrap();
    assert!(verify_with(dir.path(), &keys(), &with(wrong_seq)).is_err());
    let absent: Anchor = "ab".repeat(32).parse().unwrap();
    let e = verify_with(dir.path(), &keys(), &with(absent)).unwrap_err();
    assert!(e.reason.contains("anchored"), "{e}");
    assert!("xyz".parse::<Anchor>().is_err());
    assert!("x:ab".parse::<Anchor>().is_err());
}

#[tokio::test]
async fn an_acknowledged_break_lets_the_log_open_and_is_reported_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10).await;
    assert_eq!(acknowledge_break(dir.path(), &keys()).unwrap(), None);
    rewrite_without_key(dir.path(), 4, true);
    open_fails(dir.path());

    let ack = acknowledge_break(dir.path(), &keys()).unwrap().unwrap();
    assert_eq!((ack.first_segment, ack.last_segment), (1, 1));
    // Above the checkpoint of record 10, though the rewritten log ends at 9.
    assert_eq!(ack.sequence, 11, "{ack:?}");
    let report = verify(dir.path(), &keys()).unwrap();
    assert_eq!(report.acknowledged_breaks.len(), 1, "{report:?}");
    assert!(
        report.acknowledged_breaks[0].contains("record"),
        "{report:?}"
    );
    assert_eq!(report.last_hash, ack.head);

    // The server can start and append again; the new records verify.
    let log = AuditLog::open(dir.path(), keys(), fast()).unwrap();
    log.append(record(100)).await.unwrap();
    log.close();
    let report = verify(dir.path(), &keys()).unwrap();
    assert_eq!(report.acknowledged_breaks.len(), 1);
    let first: serde_json::Value = serde_json::from_str(&lines(dir.path())[0]).unwrap();
    assert_eq!(first["eventName"], crate::ack::ACK_EVENT_NAME);
    assert_eq!(first["trentChain"]["acknowledgedBreak"]["firstSegment"], 1);

    // The set-aside segment may not change afterwards.
    let aside = dir.path().join(rotated_name(1));
    let text = std::fs::read_to_string(&aside).unwrap();
    std::fs::write(&aside, text.replacen("req-1\"", "req-Z\"", 1)).unwrap();
    assert!(verify_fails(dir.path()).contains("changed after"));
}

#[tokio::test]
async fn an_acknowledgement_made_without_the_audit_key_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 6).await;
    rewrite_without_key(dir.path(), 2, true);
    let attacker = AuditKeys::new(&[0x77; 32], &[0x88; 32]).unwrap();
    // The attacker's own acknowledgement (its checkpoint check fails first with their key,
    // so they start without the checkpoints).
    std::fs::remove_file(dir.path().join(CHECKPOINT_FILE)).unwrap();
    acknowledge_break(dir.path(), &attacker).unwrap().unwrap();
    verify_fails(dir.path());
    open_fails(dir.path());
}

#[tokio::test]
async fn a_second_writer_is_refused_while_the_log_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), keys(), fast()).unwrap();
    assert!(matches!(
        AuditLog::open(dir.path(), keys(), fast()),
        Err(AuditError::Locked(_))
    ));
    assert!(matches!(
        acknowledge_break(dir.path(), &keys()),
        Err(AuditError::Locked(_))
    ));
    log.close();
    drop(log);
    AuditLog::open(dir.path(), keys(), fast()).unwrap().close();
}

#[tokio::test]
async fn find_event_ids_looks_in_the_live_and_the_previous_segment() {
    let dir = tempfile::tempdir().unwrap();
    let options = AuditOptions {
        rotate_bytes: 1,
        ..fast()
    };
    let log = AuditLog::open(dir.path(), keys(), options).unwrap();
    let mut ids = Vec::new();
    for i in 0..4 {
        let r = record(i);
        ids.push(r.event_id.clone());
        log.append(r).await.unwrap();
    }
    // One record per segment: 1, 2, 3 rotated, 4 live.
    let wanted: HashSet<String> = ids.iter().cloned().chain(["absent".to_owned()]).collect();
    let found = log.find_event_ids(&wanted).unwrap();
    let expected: HashSet<String> = ids[2..].iter().cloned().collect();
    assert_eq!(found, expected);
    assert!(log.find_event_ids(&HashSet::new()).unwrap().is_empty());
    log.close();
}

#[tokio::test]
async fn sync_makes_the_head_name_every_written_record_under_every_policy() {
    for fsync in [
        crate::FsyncPolicy::Never,
        crate::FsyncPolicy::EveryBatch,
        crate::FsyncPolicy::Interval(Duration::from_secs(3600)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let options = AuditOptions {
            fsync,
            ..AuditOptions::default()
        };
        let log = AuditLog::open(dir.path(), keys(), options).unwrap();
        for i in 1..=3 {
            log.append(record(i)).await.unwrap();
        }
        log.sync().unwrap();
        let head = Head::decode(&std::fs::read(dir.path().join(HEAD_FILE)).unwrap()).unwrap();
        assert_eq!(head.sequence, 3, "{fsync:?}");
        log.close();
    }
}

#[tokio::test]
async fn checkpoints_verify_with_the_public_key_alone_and_catch_removed_records() {
    let dir = tempfile::tempdir().unwrap();
    let options = AuditOptions {
        checkpoint_records: 3,
        rotate_bytes: 3000,
        ..fast()
    };
    let log = AuditLog::open(dir.path(), keys(), options).unwrap();
    for i in 1..=12 {
        log.append(record(i)).await.unwrap();
    }
    log.close();
    let public = keys().public_key();
    let report = crate::verify_checkpoints(dir.path(), &public).unwrap();
    assert!(report.checkpoints >= 4, "{report:?}");
    assert_eq!(report.last.as_ref().unwrap().0, 12);

    // Another key does not verify them.
    let other = AuditKeys::new(&[0x11; 32], &[0x33; 32])
        .unwrap()
        .public_key();
    assert!(crate::verify_checkpoints(dir.path(), &other).is_err());

    // The last records removed and the head set back: the last checkpoint gives it away.
    let mut l = lines(dir.path());
    let kept = l.len() - 1;
    let v: serde_json::Value = serde_json::from_str(&l[kept]).unwrap();
    let mut mac = [0u8; 32];
    hex::decode_to_slice(v["trentChain"]["previousMac"].as_str().unwrap(), &mut mac).unwrap();
    l.truncate(kept);
    write_lines(dir.path(), &l);
    std::fs::write(
        dir.path().join(HEAD_FILE),
        Head {
            sequence: 11,
            hash: mac,
        }
        .encode(),
    )
    .unwrap();
    let e = crate::verify_checkpoints(dir.path(), &public).unwrap_err();
    assert!(e.to_string().contains("missing"), "{e}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_audit_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("audit");
    write_log(&dir, 2).await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for f in [LOG_FILE, HEAD_FILE, CHECKPOINT_FILE, crate::LOCK_FILE] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_failed_rotation_keeps_appending_to_the_live_segment() {
    let dir = tempfile::tempdir().unwrap();
    let options = AuditOptions {
        rotate_bytes: 1,
        ..fast()
    };
    let log = AuditLog::open(dir.path(), keys(), options).unwrap();
    log.append(record(1)).await.unwrap();
    // The next rotation's target name is taken (as by a stray file).
    std::fs::create_dir(dir.path().join(rotated_name(1))).unwrap();
    log.append(record(2)).await.unwrap();
    log.append(record(3)).await.unwrap();
    log.close();
    assert_eq!(lines(dir.path()).len(), 3);
    std::fs::remove_dir(dir.path().join(rotated_name(1))).unwrap();
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 3);
}

#[tokio::test]
async fn a_forged_checkpoint_can_be_acknowledged_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 4).await;
    let attacker = AuditKeys::new(&[0x11; 32], &[0x99; 32]).unwrap();
    let c = crate::checkpoint::Checkpoint {
        segment: 1,
        offset: 0,
        sequence: 0,
        value: [0; 32],
        time: "2026-12-07T00:00:00Z".into(),
    };
    let path = dir.path().join(CHECKPOINT_FILE);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(std::str::from_utf8(&c.to_line(&attacker)).unwrap());
    std::fs::write(&path, &text).unwrap();
    open_fails(dir.path());

    let ack = acknowledge_break(dir.path(), &keys()).unwrap().unwrap();
    assert!(ack.finding.contains("signature"), "{ack:?}");
    assert_eq!(ack.sequence, 5);
    let report = verify(dir.path(), &keys()).unwrap();
    assert_eq!(report.records, 5);
    assert_eq!(report.acknowledged_breaks.len(), 1, "{report:?}");
    assert!(report.acknowledged_breaks[0].contains(CHECKPOINT_FILE));
    let log = AuditLog::open(dir.path(), keys(), fast()).unwrap();
    assert_eq!(log.records_read_at_open(), 0);
    log.append(record(6)).await.unwrap();
    log.close();
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 6);

    // The set-aside file may not change afterwards.
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(".broken-"))
        .unwrap();
    std::fs::write(&aside, b"").unwrap();
    assert!(verify_fails(dir.path()).contains("changed after"));
}
