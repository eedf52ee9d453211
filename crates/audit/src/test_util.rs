//! Helpers shared by the tests.

use std::path::Path;

use crate::record::{new_event_id, AuditRecord, Resource, UserIdentity};
use crate::{AuditKeys, AuditLog, AuditOptions, FsyncPolicy, LOG_FILE};

/// A plausible Encrypt record whose `requestID` is `req-<i>`.
pub(crate) fn record(i: u64) -> AuditRecord {
    AuditRecord {
        user_identity: Some(UserIdentity {
            type_: "IAMUser".into(),
            principal_id: Some("AIDAEXAMPLE".into()),
            arn: Some("arn:aws:iam::111122223333:user/Alice".into()),
            account_id: Some("111122223333".into()),
            access_key_id: Some("AKIAEXAMPLE".into()),
            invoked_by: None,
        }),
        event_time: "2026-11-29T08:00:00Z".into(),
        event_name: "Encrypt".into(),
        aws_region: "us-east-1".into(),
        source_ip_address: "192.0.2.0".into(),
        user_agent: Some("test".into()),
        request_parameters: Some(serde_json::json!({
            "keyId": "alias/app",
            "encryptionContext": {"Department": "Engineering"},
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT"
        })),
        request_id: format!("req-{i}"),
        event_id: new_event_id(),
        read_only: true,
        resources: vec![Resource::kms_key(
            "111122223333",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        )],
        recipient_account_id: Some("111122223333".into()),
        ..AuditRecord::default()
    }
}

pub(crate) fn fast() -> AuditOptions {
    AuditOptions {
        fsync: FsyncPolicy::Never,
        ..AuditOptions::default()
    }
}

/// The test keys (fixed, so every open of a test log uses the same ones).
pub(crate) fn keys() -> AuditKeys {
    AuditKeys::new(&[0x11; 32], &[0x22; 32]).unwrap()
}

/// Opens a log in `dir`, appends `n` records one by one, and closes it.
pub(crate) async fn write_log(dir: &Path, n: u64) {
    let log = AuditLog::open(dir, keys(), AuditOptions::default()).unwrap();
    for i in 1..=n {
        log.append(record(i)).await.unwrap();
    }
    log.close();
}

/// The log's lines, without newlines.
pub(crate) fn lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join(LOG_FILE))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

pub(crate) fn write_lines(dir: &Path, lines: &[String]) {
    let mut s = lines.join("\n");
    if !lines.is_empty() {
        s.push('\n');
    }
    std::fs::write(dir.join(LOG_FILE), s).unwrap();
}

/// (sequence, requestID) of every line.
pub(crate) fn sequences(dir: &Path) -> Vec<(u64, String)> {
    lines(dir)
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["trentChain"]["sequence"].as_u64().unwrap(),
                v["requestID"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
