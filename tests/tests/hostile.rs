//! Hostile clients at the transport: slow and byte-at-a-time bodies, idle connections, too
//! many connections, request smuggling framing, lenient media types and JSON, and hyper's own
//! error answers. Limits and timeouts are configured small so that each test takes seconds.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use trent_tests::*;

/// The head of an unsigned KMS `Encrypt` request to `server` with these extra header lines.
fn head(server: &TestServer, extra: &str) -> String {
    format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: {CONTENT_TYPE}\r\nx-amz-target: TrentService.Encrypt\r\n{extra}\r\n",
        server.addr()
    )
}

/// Reads until the peer closes (or `limit` passes); whether it closed in time.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn a_body_sent_slowly_is_cut_off_at_the_request_deadline() {
    let server = TestServer::start_configured(|c| {
        c.transport.request_timeout = Duration::from_secs(1);
    })
    .await
    .unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(head(&server, "content-length: 100\r\n").as_bytes())
        .await
        .unwrap();
    let started = Instant::now();
    // One body byte every 200 ms: it would take 20 s.
    let drip = async {
        for _ in 0..100 {
            if stream.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(4), drip).await;
    assert!(
        closed_within(&mut stream, Duration::from_secs(1)).await,
        "the connection is still open {:?} after the request began",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_head_sent_slowly_is_cut_off_and_an_idle_connection_is_closed() {
    let server = TestServer::start_configured(|c| {
        c.transport.idle_timeout = Duration::from_secs(1);
        c.transport.request_timeout = Duration::from_secs(1);
    })
    .await
    .unwrap();
    let mut idle = TcpStream::connect(server.addr()).await.unwrap();
    let mut dripping = TcpStream::connect(server.addr()).await.unwrap();
    let started = Instant::now();
    let head = head(&server, "");
    let drip = async {
        for b in head.as_bytes() {
            if dripping.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(3), drip).await;
    assert!(closed_within(&mut dripping, Duration::from_secs(1)).await);
    assert!(closed_within(&mut idle, Duration::from_secs(1)).await);
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// An idle keep-alive connection between requests is closed after the idle timeout, and a
/// request before it is answered normally.
#[tokio::test]
async fn a_keep_alive_connection_serves_requests_then_closes_when_idle() {
    let server = TestServer::start_configured(|c| {
        c.transport.idle_timeout = Duration::from_secs(1);
    })
    .await
    .unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    for _ in 0..2 {
        let body = b"{}";
        let headers = server.signed_headers("ListKeys", body, &server.signing());
        let mut req = String::from("POST / HTTP/1.1\r\n");
        for (k, v) in &headers {
            req.push_str(&format!("{}: {}\r\n", k, v.to_str().unwrap()));
        }
        req.push_str("content-length: 2\r\n\r\n{}");
        stream.write_all(req.as_bytes()).await.unwrap();
        read_response(&mut stream).await.unwrap().assert_ok();
    }
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn connections_over_the_per_address_cap_get_throttling_exception_at_once() {
    let server = TestServer::start_configured(|c| {
        c.transport.max_connections_per_ip = 2;
    })
    .await
    .unwrap();
    let first = TcpStream::connect(server.addr()).await.unwrap();
    let _second = TcpStream::connect(server.addr()).await.unwrap();
    // Let the server accept both before the third arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let mut third = TcpStream::connect(server.addr()).await.unwrap();
    third
        .write_all(head(&server, "content-length: 2\r\n").as_bytes())
        .await
        .unwrap();
    let answer = read_response(&mut third).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    let message = answer.assert_error(400, "ThrottlingException");
    assert!(message.contains("exceeded the rate"), "{message}");
    assert_eq!(answer.header("connection"), Some("close"));
    // A place given back is free again.
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    server
        .call("ListKeys", &serde_json::json!({}))
        .await
        .unwrap()
        .assert_ok();
}

#[tokio::test]
async fn connections_over_the_total_cap_get_throttling_exception_and_the_sdk_sees_it() {
    let server = TestServer::start_configured(|c| {
        c.max_connections = 2;
    })
    .await
    .unwrap();
    let _a = TcpStream::connect(server.addr()).await.unwrap();
    let _b = TcpStream::connect(server.addr()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let kms = server.kms_client().await;
    let started = Instant::now();
    let err = assert_aws_error!(kms.list_keys().send().await, "ThrottlingException");
    assert_eq!(err.status, Some(400));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn transfer_encoding_with_content_length_is_refused_in_the_aws_shape() {
    let server = TestServer::start().await.unwrap();
    for framing in [
        "transfer-encoding: chunked\r\ncontent-length: 7\r\n",
        "Content-Length: 7\r\nTransfer-Encoding: chunked\r\n",
    ] {
        let mut bytes = head(&server, framing).into_bytes();
        bytes.extend_from_slice(b"2\r\n{}\r\n0\r\n\r\n");
        let answer = send_raw_bytes(server.addr(), &bytes).await.unwrap();
        let message = answer.assert_error(400, "SerializationException");
        assert!(
            message.contains("Transfer-Encoding and Content-Length"),
            "{message}"
        );
        assert!(answer.request_id().is_some());
    }
}

#[tokio::test]
async fn transfer_encoding_other_than_chunked_alone_is_refused() {
    let server = TestServer::start().await.unwrap();
    let mut bytes = head(
        &server,
        "transfer-encoding: gzip, chunked\r\nconnection: close\r\n",
    )
    .into_bytes();
    bytes.extend_from_slice(b"2\r\n{}\r\n0\r\n\r\n");
    let answer = send_raw_bytes(server.addr(), &bytes).await.unwrap();
    let message = answer.assert_error(400, "SerializationException");
    assert!(message.contains("Transfer-Encoding"), "{message}");
}

#[tokio::test]
async fn a_signed_chunked_request_is_served() {
    let server = TestServer::start().await.unwrap();
    let body = br#"{"Limit":5}"#;
    let headers = server.signed_headers("ListKeys", body, &server.signing());
    let mut req = String::from("POST / HTTP/1.1\r\n");
    for (k, v) in &headers {
        req.push_str(&format!("{}: {}\r\n", k, v.to_str().unwrap()));
    }
    req.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(b"4;x=y\r\n{\"Li\r\n7\r\nmit\":5}\r\n0\r\n\r\n");
    send_raw_bytes(server.addr(), &bytes)
        .await
        .unwrap()
        .assert_ok();
}

#[tokio::test]
async fn a_media_type_that_only_starts_like_json_is_refused() {
    let server = TestServer::start().await.unwrap();
    let body = b"{}";
    for content_type in ["application/jsonX", "application/x-amz-json-1.1x"] {
        let mut headers = server.signed_headers("ListKeys", body, &server.signing());
        set_header(&mut headers, "content-type", content_type);
        let answer = server.send(&headers, body).await.unwrap();
        answer.assert_error(400, "UnknownOperationException");
    }
    // The content type is signed: set it before signing.
    let mut headers = server.unsigned_headers("ListKeys");
    set_header(
        &mut headers,
        "content-type",
        "application/x-amz-json-1.1; charset=utf-8",
    );
    server.signing().sign(&mut headers, body);
    server.send(&headers, body).await.unwrap().assert_ok();
}

#[tokio::test]
async fn a_duplicated_json_member_is_serialization_exception() {
    let server = TestServer::start().await.unwrap();
    let answer = server
        .call_bytes(
            "Encrypt",
            br#"{"KeyId":"alias/a","KeyId":"alias/b","Plaintext":"AA=="}"#,
        )
        .await
        .unwrap();
    let message = answer.assert_error(400, "SerializationException");
    assert!(message.contains("duplicate member \"KeyId\""), "{message}");
}

#[tokio::test]
async fn hyper_level_errors_carry_an_aws_error_type() {
    let server = TestServer::start_configured(|c| {
        c.transport.max_header_bytes = 8192;
    })
    .await
    .unwrap();
    // A header line without a colon: hyper refuses the head itself.
    let mut bad = head(&server, "this is not a header\r\n").into_bytes();
    bad.extend_from_slice(b"{}");
    let answer = send_raw_bytes(server.addr(), &bad).await.unwrap();
    answer.assert_error(400, "SerializationException");
    assert_eq!(
        answer.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
    // A head over the limit: 431.
    let big = head(&server, &format!("x-padding: {}\r\n", "a".repeat(20_000)));
    let answer = send_raw_bytes(server.addr(), big.as_bytes()).await.unwrap();
    answer.assert_error(431, "RequestEntityTooLargeException");
    // A bad request line.
    let answer = send_raw_bytes(server.addr(), b"POST /\x01 HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    assert!(answer.error_type().is_some(), "{answer:?}");
}

/// A `trent serve` child process, killed when dropped.
struct ServeProcess {
    child: Child,
    addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

impl ServeProcess {
    /// Starts the `trent` binary (`TRENT_BIN`, or `target/debug/trent` beside this test; the
    /// workspace build makes it) on a fresh data dir with `args`.
    fn start(args: &[&str]) -> ServeProcess {
        let bin = trent_tests::trent_bin();
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&bin)
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting trent serve");
        let mut out = child.stdout.take().expect("stdout");
        let mut text = String::new();
        let mut buf = [0u8; 1024];
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            assert!(Instant::now() < deadline, "no listening line: {text}");
            let n = out.read(&mut buf).expect("reading trent's output");
            assert!(n > 0, "trent serve exited: {text}");
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            if let Some(rest) = text.split("listening on http://").nth(1) {
                if let Some(addr) = rest.split_whitespace().next() {
                    break addr.parse().expect("an address");
                }
            }
        };
        ServeProcess {
            child,
            addr,
            _dir: dir,
        }
    }

    /// The process's resident set size in KiB (`VmRSS` of `/proc/PID/status`).
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS")
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Measured on the unfixed server: ~8 KB of memory per body byte sent one at a time, before
/// authentication (each of hyper's frames pinned its read buffer).
#[test]
fn a_body_sent_one_byte_at_a_time_costs_about_its_bytes_in_memory() {
    let server = ServeProcess::start(&["--request-timeout", "120"]);
    let before = server.rss_kib();
    const BYTES: usize = 12_000;
    let drip = |addr| {
        std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_nodelay(true).unwrap();
            let head = format!(
                "POST / HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-amz-json-1.1\r\nx-amz-target: TrentService.Encrypt\r\ncontent-length: {}\r\n\r\n",
                BYTES + 1
            );
            s.write_all(head.as_bytes()).unwrap();
            for _ in 0..BYTES {
                s.write_all(b" ").unwrap();
                std::thread::sleep(Duration::from_micros(100));
            }
            s
        })
    };
    let threads: Vec<_> = (0..2).map(|_| drip(server.addr)).collect();
    let streams: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let after = server.rss_kib();
    drop(streams);
    let grown = after.saturating_sub(before);
    // 2 × 12,000 one-byte frames: ~190 MB before the fix; now a 16 KiB buffer each.
    assert!(
        grown < 16 * 1024,
        "RSS grew by {grown} KiB ({before} -> {after}) for 2 × {BYTES} body bytes"
    );
}
