use super::*;
use crate::test_util::{keys, lines, write_lines, write_log};
use crate::{AuditLog, AuditOptions};

const N: u64 = 10;

async fn log_of_ten() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), N).await;
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, N);
    dir
}

fn verify_err(dir: &Path) -> VerifyError {
    match verify(dir, &keys()) {
        Ok(r) => panic!("tampering went unnoticed: {r:?}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn an_intact_log_verifies() {
    let dir = log_of_ten().await;
    let report = verify(dir.path(), &keys()).unwrap();
    assert_eq!(report.records, N);
    assert_eq!(report.torn_tail_bytes, 0);
    assert_eq!(report.last_hash.len(), 64);
}

#[tokio::test]
async fn an_empty_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    AuditLog::open(dir.path(), keys(), AuditOptions::default())
        .unwrap()
        .close();
    assert_eq!(verify(dir.path(), &keys()).unwrap().records, 0);
}

#[tokio::test]
async fn an_altered_byte_in_a_middle_record_names_that_record() {
    let dir = log_of_ten().await;
    let mut l = lines(dir.path());
    l[4] = l[4].replace("\"Encrypt\"", "\"Decrypt\"");
    write_lines(dir.path(), &l);
    let e = verify_err(dir.path());
    assert_eq!(e.line, 5, "{e}");
    assert!(e.reason.contains("altered"), "{e}");
    assert!(
        e.to_string().starts_with("record 5 in audit.jsonl: "),
        "{e}"
    );
}

#[tokio::test]
async fn an_altered_previous_hash_names_its_own_record() {
    let dir = log_of_ten().await;
    let mut l = lines(dir.path());
    let i = l[4].find("\"previousMac\":\"").unwrap() + "\"previousMac\":\"".len();
    let flipped = if &l[4][i..i + 1] == "0" { "1" } else { "0" };
    l[4].replace_range(i..i + 1, flipped);
    write_lines(dir.path(), &l);
    let e = verify_err(dir.path());
    assert_eq!(e.line, 5, "{e}");
    assert!(e.reason.contains("altered"), "{e}");
}

#[tokio::test]
async fn an_altered_record_that_no_longer_parses_is_named() {
    let dir = log_of_ten().await;
    let mut l = lines(dir.path());
    l[6].replace_range(0..1, "[");
    write_lines(dir.path(), &l);
    let e = verify_err(dir.path());
    assert_eq!(e.line, 7, "{e}");
    assert!(e.reason.contains("does not parse"), "{e}");
}

#[tokio::test]
async fn an_altered_sequence_number_is_named() {
    let dir = log_of_ten().await;
    let mut l = lines(dir.path());
    l[4] = l[4].replace("\"sequence\":5,", "\"sequence\":9,");
    write_lines(dir.path(), &l);
    let e = verify_err(dir.path());
    assert_eq!(e.line, 5, "{e}");
    assert!(e.reason.contains("altered"), "{e}");
}

#[tokio::test]
async fn an_altered_last_record_is_caught_by_the_head() {
    let dir = log_of_ten().await;
    let mut l = lines(dir.path());
    l[9] = l[9].replace("req-10", "req-99");
    write_lines(dir.path(), &l);
    let e = verify_err(dir.path());
    assert_eq!(e.line, 10, "{e}");
    assert!(e.reason.contains("altered"), "{e}");
}

#[tokio::test]
async fn a_removed_middle_record_is_named() {
    let dir = log_of_ten().await;
    let mut l = lines(dir.path());
    l.remove(4);
    write_lines(dir.path(), &l);
    let e = verify_err(dir.path());
    assert_eq!(e.line, 5, "{e}");
    assert!(e.reason.contains("missing"), "{e}");
}

#[tokio::test]
async fn several_removed_records_are_named() {
    let dir = log_of_ten().await;
    let mut l = lines(dir.path());
    l.drain(2..5);
    write_lines(dir.path(), &l);
    let e = verify_err(dir.path());
    assert_eq!(e.line, 3, "{e}");
    assert!(e.reason.contains("records 3–5 removed"), "{e}");
}

#[tokio::test]
async fn two_swapped_records_are_named() {
    let dir = log_of_ten().await;
    let mut l = lines(dir.path());
    l.swap(3, 4);
    write_lines(dir.path(), &l);
    let e = verify_err(dir.path());
    assert_eq!(e.line, 4, "{e}");
    assert!(e.reason.contains("out of order"), "{e}");
}

#[tokio::test]
async fn a_duplicated_record_is_named() {
    let dir = log_of_ten().await;
    let mut l = lines(dir.path());
    let copy = l[2].clone();
    l.insert(3, copy);
    write_lines(dir.path(), &l);
    let e = verify_err(dir.path());
    assert_eq!(e.line, 4, "{e}");
    assert!(e.reason.contains("out of order"), "{e}");
}

#[tokio::test]
async fn a_removed_last_record_is_caught_by_the_head() {
    let dir = log_of_ten().await;
    let mut l = lines(dir.path());
    l.pop();
    write_lines(dir.path(), &l);
    let e = verify_err(dir.path());
    assert_eq!(e.line, 10, "{e}");
    assert!(e.reason.contains("missing"), "{e}");
}

#[tokio::test]
async fn all_records_removed_is_caught_by_the_head() {
    let dir = log_of_ten().await;
    write_lines(dir.path(), &[]);
    let e = verify_err(dir.path());
    assert_eq!(e.line, 1, "{e}");
    assert!(e.reason.contains("missing"), "{e}");
}

#[tokio::test]
async fn a_truncated_last_record_is_named() {
    let dir = log_of_ten().await;
    let path = dir.path().join(crate::LOG_FILE);
    let bytes = std::fs::read(&path).unwrap();
    // Cut the last line in half, without its newline.
    let last_start = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let cut = last_start + (bytes.len() - last_start) / 2;
    std::fs::write(&path, &bytes[..cut]).unwrap();
    let e = verify_err(dir.path());
    assert_eq!(e.line, 10, "{e}");
    assert!(e.reason.contains("truncated"), "{e}");

    // Cut with a newline after it: the line no longer parses.
    let mut cut_nl = bytes[..cut].to_vec();
    cut_nl.push(b'\n');
    std::fs::write(&path, &cut_nl).unwrap();
    let e = verify_err(dir.path());
    assert_eq!(e.line, 10, "{e}");
}

#[tokio::test]
async fn a_missing_head_is_reported() {
    let dir = log_of_ten().await;
    std::fs::remove_file(dir.path().join(crate::HEAD_FILE)).unwrap();
    let e = verify_err(dir.path());
    assert_eq!(e.line, 0);
    assert!(e.to_string().starts_with("audit log: "), "{e}");
}

#[tokio::test]
async fn a_missing_log_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let e = verify_err(dir.path());
    assert_eq!(e.line, 0);
}

#[tokio::test]
async fn a_line_that_is_not_a_record_is_named() {
    let dir = log_of_ten().await;
    let mut l = lines(dir.path());
    // Valid JSON with a chain member but no record fields.
    l[0] = format!(
        "{{\"trentChain\":{{\"sequence\":1,\"previousHash\":\"{}\"}}}}",
        "0".repeat(64)
    );
    write_lines(dir.path(), &l);
    let e = verify_err(dir.path());
    assert_eq!(e.line, 1, "{e}");
}
