//! The keyed audit chain against a real server: a chain rewritten without the root key stops
//! the server from starting (and so from appending), until an operator acknowledges the break.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use serde_json::json;
use trent_audit::{AuditKeys, HEAD_FILE, LOG_FILE};
use trent_tests::*;

fn audit_keys(server: &TestServer) -> AuditKeys {
    let dir = trent_server::DataDir::new(server.data_dir());
    let root = trent_crypto::root::RootKey::load_file(dir.root_key_path()).unwrap();
    trent_server::app::audit_keys(&root).unwrap()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    d.as_ref().try_into().unwrap()
}

/// What defeated the unkeyed chain: delete a record, re-chain the later ones with SHA-256
/// (renumbered, as version 1 lines), and rewrite the head to match.
fn delete_and_rehash(audit_dir: &std::path::Path, index: usize) {
    let text = std::fs::read_to_string(audit_dir.join(LOG_FILE)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let next: serde_json::Value = serde_json::from_str(&lines[index]).unwrap();
    let mut prev: [u8; 32] = [0; 32];
    hex_decode(
        next["trentChain"]["previousMac"].as_str().unwrap(),
        &mut prev,
    );
    lines.remove(index);
    for (i, line) in lines.iter_mut().enumerate().skip(index) {
        let cut = line.find(",\"trentChain\"").unwrap();
        let rebuilt = format!(
            "{},\"trentChain\":{{\"sequence\":{},\"previousHash\":\"{}\"}}}}",
            &line[..cut],
            i + 1,
            hex_encode(&prev)
        );
        prev = sha256(rebuilt.as_bytes());
        *line = rebuilt;
    }
    let mut out = lines.join("\n");
    out.push('\n');
    std::fs::write(audit_dir.join(LOG_FILE), out).unwrap();
    let head = format!("{:020} {}\n", lines.len(), hex_encode(&prev));
    std::fs::write(audit_dir.join(HEAD_FILE), head).unwrap();
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hex_decode(s: &str, out: &mut [u8]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_rewritten_without_the_key_stops_the_server_until_acknowledged() {
    let mut server = TestServer::start().await.unwrap();
    for n in 1..=6 {
        let r = server
            .call("GenerateRandom", &json!({"NumberOfBytes": n}))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    }
    server.stop().await.unwrap();
    let keys = audit_keys(&server);
    let before = trent_audit::verify(&server.audit_dir(), &keys).unwrap();
    assert_eq!((before.records, before.keyed_records), (6, 6));

    delete_and_rehash(&server.audit_dir(), 2);
    let e = trent_audit::verify(&server.audit_dir(), &keys).unwrap_err();
    assert!(e.to_string().contains("record 3"), "{e}");
    // The anchor taken before the rewrite is gone too.
    let anchor = format!("{}:{}", before.last_sequence, before.last_hash)
        .parse()
        .unwrap();
    let options = trent_audit::VerifyOptions {
        expect_head: Some(anchor),
    };
    assert!(trent_audit::verify_with(&server.audit_dir(), &keys, &options).is_err());

    // The server refuses to start, so it appends nothing to the broken chain.
    let refused = server.open().await.unwrap_err();
    assert!(format!("{refused:#}").contains("audit"), "{refused:#}");
    let log_after = std::fs::read(server.audit_dir().join(LOG_FILE)).unwrap();

    // The operator acknowledges the break; the server starts and the chain verifies,
    // reporting the acknowledged break.
    let ack = trent_audit::acknowledge_break(&server.audit_dir(), &keys)
        .unwrap()
        .expect("a break to acknowledge");
    assert!(ack.finding.contains("record 3"), "{ack:?}");
    let aside = server.audit_dir().join("audit-000001.jsonl");
    assert_eq!(
        std::fs::read(&aside).unwrap(),
        log_after,
        "kept as evidence"
    );
    server.open().await.unwrap();
    let r = server
        .call("GenerateRandom", &json!({"NumberOfBytes": 8}))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    server.stop().await.unwrap();
    let report = trent_audit::verify(&server.audit_dir(), &keys).unwrap();
    assert_eq!(report.acknowledged_breaks.len(), 1, "{report:?}");
    assert_eq!(report.records, 2, "the acknowledgement and the new request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_altered_in_place_stops_the_server() {
    let mut server = TestServer::start().await.unwrap();
    for n in 1..=4 {
        server
            .call("GenerateRandom", &json!({"NumberOfBytes": n}))
            .await
            .unwrap();
    }
    server.stop().await.unwrap();
    // The close wrote a checkpoint naming record 4; altering record 4 (same length, so every
    // offset stays) is caught by the checkpoint's MAC at start.
    let path = server.audit_dir().join(LOG_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let last = text.lines().last().unwrap().to_owned();
    let altered = last.replacen("GenerateRandom", "GenerateRandoM", 1);
    assert_ne!(altered, last);
    std::fs::write(&path, text.replacen(&last, &altered, 1)).unwrap();
    let refused = server.open().await.unwrap_err();
    assert!(format!("{refused:#}").contains("audit"), "{refused:#}");
    assert!(trent_audit::verify(&server.audit_dir(), &audit_keys(&server)).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkpoint_public_key_comes_from_the_root_key() {
    let mut server = TestServer::start().await.unwrap();
    server.stop().await.unwrap();
    let a = audit_keys(&server).public_key();
    let b = audit_keys(&server).public_key();
    assert_eq!(a, b);
    assert_eq!(a.to_string().len(), 64);
}
