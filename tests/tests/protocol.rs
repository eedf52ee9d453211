//! The protocol and authentication, with hand-built requests: what SDKs cannot send.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;
use trent_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_raw_request_succeeds() {
    let server = TestServer::start().await.unwrap();
    let resp = server.call("ListKeys", &json!({})).await.unwrap();
    let j = resp.assert_ok();
    assert_eq!(j["Keys"], json!([]));
    assert_eq!(j["Truncated"], json!(false));
    assert_eq!(resp.header("content-type"), Some(CONTENT_TYPE));
    assert!(resp.request_id().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_authorization_is_missing_authentication_token() {
    let server = TestServer::start().await.unwrap();
    let headers = server.unsigned_headers("ListKeys");
    let resp = server.send(&headers, b"{}").await.unwrap();
    resp.assert_error(400, "MissingAuthenticationTokenException");
    assert!(resp.request_id().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_access_key_is_unrecognized_client() {
    let server = TestServer::start().await.unwrap();
    let mut signing = server.signing();
    signing.access_key_id = "AKIAZZZZZZZZZZZZZZZZ".into();
    let headers = server.signed_headers("ListKeys", b"{}", &signing);
    let resp = server.send(&headers, b"{}").await.unwrap();
    let msg = resp.assert_error(400, "UnrecognizedClientException");
    assert!(msg.contains("security token"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_invalid_signature() {
    let server = TestServer::start().await.unwrap();
    let mut signing = server.signing();
    signing.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into();
    let headers = server.signed_headers("ListKeys", b"{}", &signing);
    let resp = server.send(&headers, b"{}").await.unwrap();
    let msg = resp.assert_error(400, "InvalidSignatureException");
    assert!(
        msg.contains("signature we calculated does not match"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_through_the_sdk_is_invalid_signature() {
    let server = TestServer::start().await.unwrap();
    let kms = server
        .kms_client_with(
            &server.access_key_id,
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .await;
    assert_aws_error!(kms.list_keys().send().await, "InvalidSignatureException");
    let kms = server
        .kms_client_with("AKIAZZZZZZZZZZZZZZZZ", "whatever")
        .await;
    assert_aws_error!(kms.list_keys().send().await, "UnrecognizedClientException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_changed_after_signing_is_invalid_signature() {
    let server = TestServer::start().await.unwrap();
    let headers = server.signed_headers(
        "GenerateRandom",
        br#"{"NumberOfBytes":16}"#,
        &server.signing(),
    );
    let resp = server
        .send(&headers, br#"{"NumberOfBytes":32}"#)
        .await
        .unwrap();
    resp.assert_error(400, "InvalidSignatureException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_region_or_service_in_the_scope_is_refused() {
    let server = TestServer::start().await.unwrap();
    let mut signing = server.signing();
    // A Region this Trent does not serve (the aws partition's are all served by default).
    signing.region = "cn-north-1".into();
    let headers = server.signed_headers("ListKeys", b"{}", &signing);
    let resp = server.send(&headers, b"{}").await.unwrap();
    assert_eq!(resp.status, 400);
    let t = resp.error_type().unwrap();
    assert!(
        t == "InvalidSignatureException" || t == "IncompleteSignatureException",
        "{t}: {}",
        resp.message()
    );
    let mut signing = server.signing();
    signing.service = "s3".into();
    let headers = server.signed_headers("ListKeys", b"{}", &signing);
    let resp = server.send(&headers, b"{}").await.unwrap();
    assert_eq!(resp.status, 400);
    let t = resp.error_type().unwrap();
    assert!(
        t == "InvalidSignatureException" || t == "IncompleteSignatureException",
        "{t}: {}",
        resp.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_ten_minutes_off_is_invalid_signature_signature_expired() {
    let server = TestServer::start().await.unwrap();
    // AWS's wording: "Signature expired: <date> is now earlier than <date> (<now> - 5 min.)"
    // for a clock behind, "Signature not yet current: <date> is still later than <date>
    // (<now> + 5 min.)" for a clock ahead.
    for (offset, words) in [
        (time::Duration::minutes(-10), "Signature expired"),
        (time::Duration::minutes(10), "Signature not yet current"),
    ] {
        let mut signing = server.signing();
        signing.time += offset;
        let headers = server.signed_headers("ListKeys", b"{}", &signing);
        let resp = server.send(&headers, b"{}").await.unwrap();
        let msg = resp.assert_error(400, "InvalidSignatureException");
        assert!(msg.starts_with(words), "offset {offset}: {msg}");
    }
    // Four minutes off is inside the window.
    let mut signing = server.signing();
    signing.time -= time::Duration::minutes(4);
    let headers = server.signed_headers("ListKeys", b"{}", &signing);
    server.send(&headers, b"{}").await.unwrap().assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_authorization_is_incomplete_signature() {
    let server = TestServer::start().await.unwrap();
    let good = server.signed_headers("ListKeys", b"{}", &server.signing());
    let good_auth = good["authorization"].to_str().unwrap().to_string();
    let without_signature = good_auth.split(", Signature=").next().unwrap().to_string();
    let without_signed_headers = good_auth.replace("SignedHeaders=", "Signed=");
    for bad in [
        "AWS4-HMAC-SHA256".to_string(),
        "AWS4-HMAC-SHA256 Credential=garbage".to_string(),
        without_signature,
        without_signed_headers,
        "AWS4-HMAC-SHA256 Credential=AKIAX/2020/us-east-1/kms, SignedHeaders=host, Signature=00"
            .to_string(),
    ] {
        let mut headers = good.clone();
        set_header(&mut headers, "authorization", &bad);
        let resp = server.send(&headers, b"{}").await.unwrap();
        resp.assert_error(400, "IncompleteSignatureException");
    }
    // Missing X-Amz-Date with an otherwise well-formed Authorization.
    let mut headers = good.clone();
    headers.remove("x-amz-date");
    let resp = server.send(&headers, b"{}").await.unwrap();
    assert_eq!(resp.status, 400);
    let t = resp.error_type().unwrap();
    assert!(
        t == "IncompleteSignatureException" || t == "InvalidSignatureException",
        "{t}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_serialization_exception() {
    let server = TestServer::start().await.unwrap();
    for body in [
        &b"{not json"[..],
        b"[1,2",
        b"\"just a string",
        b"{\"KeyId\": }",
    ] {
        let resp = server.call_bytes("DescribeKey", body).await.unwrap();
        resp.assert_error(400, "SerializationException");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrongly_typed_member_is_serialization_exception() {
    let server = TestServer::start().await.unwrap();
    let resp = server
        .call("DescribeKey", &json!({"KeyId": 5}))
        .await
        .unwrap();
    resp.assert_error(400, "SerializationException");
    let resp = server
        .call("GenerateRandom", &json!({"NumberOfBytes": "32"}))
        .await
        .unwrap();
    resp.assert_error(400, "SerializationException");
    let resp = server
        .call("Encrypt", &json!({"KeyId": "alias/x", "Plaintext": ["a"]}))
        .await
        .unwrap();
    resp.assert_error(400, "SerializationException");
    let resp = server
        .call(
            "Encrypt",
            &json!({"KeyId": "alias/x", "Plaintext": "not base64!!"}),
        )
        .await
        .unwrap();
    resp.assert_error(400, "SerializationException");
    let resp = server
        .call("CreateKey", &json!({"Tags": {"TagKey": "a"}}))
        .await
        .unwrap();
    resp.assert_error(400, "SerializationException");
    let resp = server
        .call(
            "Encrypt",
            &json!({"KeyId": "alias/x", "Plaintext": "eA==", "DryRun": "yes"}),
        )
        .await
        .unwrap();
    resp.assert_error(400, "SerializationException");
    // A body that is JSON but not an object.
    let resp = server.call("ListKeys", &json!([1, 2])).await.unwrap();
    resp.assert_error(400, "SerializationException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_required_member_is_validation_with_aws_wording() {
    let server = TestServer::start().await.unwrap();
    let resp = server.call("DescribeKey", &json!({})).await.unwrap();
    let msg = resp.assert_error(400, "ValidationException");
    assert_eq!(
        msg,
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
    );
    // An empty body is an empty object.
    let resp = server.call_bytes("DescribeKey", b"").await.unwrap();
    let msg = resp.assert_error(400, "ValidationException");
    assert_eq!(
        msg,
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
    );
    let resp = server.call("Encrypt", &json!({})).await.unwrap();
    let msg = resp.assert_error(400, "ValidationException");
    assert!(msg.starts_with("2 validation errors detected: "), "{msg}");
    assert!(
        msg.contains("Value null at 'keyId' failed to satisfy constraint: Member must not be null"),
        "{msg}"
    );
    assert!(
        msg.contains(
            "Value null at 'plaintext' failed to satisfy constraint: Member must not be null"
        ),
        "{msg}"
    );
    let resp = server.call("Decrypt", &json!({})).await.unwrap();
    let msg = resp.assert_error(400, "ValidationException");
    assert_eq!(
        msg,
        "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_members_are_ignored() {
    let server = TestServer::start().await.unwrap();
    let resp = server
        .call("ListKeys", &json!({"Limit": 5, "SomethingNew": {"a": [1]}}))
        .await
        .unwrap();
    resp.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_target_is_unknown_operation() {
    let server = TestServer::start().await.unwrap();
    let resp = server.call("FlyToTheMoon", &json!({})).await.unwrap();
    resp.assert_error(400, "UnknownOperationException");
    assert!(resp.request_id().is_some());
    let mut headers = server.signed_headers("ListKeys", b"{}", &server.signing());
    headers.remove("x-amz-target");
    let resp = server.send(&headers, b"{}").await.unwrap();
    resp.assert_error(400, "UnknownOperationException");
    let mut headers = server.unsigned_headers("ListKeys");
    set_header(&mut headers, "x-amz-target", "SomeOtherService.ListKeys");
    let resp = server.send(&headers, b"{}").await.unwrap();
    resp.assert_error(400, "UnknownOperationException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_mebibyte_body_is_refused_with_413_before_it_is_read() {
    let server = TestServer::start().await.unwrap();
    let size = 2 * 1024 * 1024;
    let body = vec![b' '; size];
    let headers = server.signed_headers("Encrypt", &body, &server.signing());
    let mut head = String::from("POST / HTTP/1.1\r\n");
    for (name, value) in &headers {
        head.push_str(&format!("{}: {}\r\n", name, value.to_str().unwrap()));
    }
    head.push_str(&format!(
        "content-length: {size}\r\nconnection: close\r\n\r\n"
    ));

    // Send the head and only the first 64 KiB of the body: the answer must come anyway, so
    // the server did not wait to buffer the 2 MiB.
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..64 * 1024]).await.unwrap();
    stream.flush().await.unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), read_response(&mut stream))
        .await
        .expect("the server answered before the body was sent")
        .unwrap();
    assert_eq!(resp.status, 413, "{}", String::from_utf8_lossy(&resp.body));
    assert!(resp.request_id().is_some());
    let t = resp.error_type();
    assert!(
        t.is_some(),
        "an AWS error body: {}",
        String::from_utf8_lossy(&resp.body)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_body_over_the_limit_is_refused_with_413() {
    let server = TestServer::start().await.unwrap();
    let headers = server.unsigned_headers("Encrypt");
    let mut head = String::from("POST / HTTP/1.1\r\n");
    for (name, value) in &headers {
        head.push_str(&format!("{}: {}\r\n", name, value.to_str().unwrap()));
    }
    head.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // 2 MiB in 64 KiB chunks, without the closing chunk; stop writing once the server has
    // stopped reading (it may answer and close early).
    let chunk = vec![b' '; 64 * 1024];
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        for _ in 0..32 {
            let frame = format!("{:x}\r\n", chunk.len());
            if wr.write_all(frame.as_bytes()).await.is_err()
                || wr.write_all(&chunk).await.is_err()
                || wr.write_all(b"\r\n").await.is_err()
            {
                return;
            }
        }
        // Keep the connection open without finishing the body.
        tokio::time::sleep(Duration::from_secs(6)).await;
        drop(wr);
    });
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        use tokio::io::AsyncReadExt;
        let mut chunk = [0u8; 4096];
        loop {
            let n = rd.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    writer.abort();
    assert!(read.is_ok(), "the server answered before the body ended");
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id() {
    let server = TestServer::start().await.unwrap();
    let mut ids = Vec::new();
    let ok = server
        .call("GenerateRandom", &json!({"NumberOfBytes": 8}))
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    ids.push(ok.request_id().map(str::to_string));
    let missing = server
        .send(&server.unsigned_headers("ListKeys"), b"{}")
        .await
        .unwrap();
    ids.push(missing.request_id().map(str::to_string));
    let unknown = server.call("Nope", &json!({})).await.unwrap();
    ids.push(unknown.request_id().map(str::to_string));
    let bad_json = server.call_bytes("ListKeys", b"{").await.unwrap();
    ids.push(bad_json.request_id().map(str::to_string));
    let not_found = server
        .call(
            "DescribeKey",
            &json!({"KeyId": uuid::Uuid::new_v4().to_string()}),
        )
        .await
        .unwrap();
    not_found.assert_error(400, "NotFoundException");
    ids.push(not_found.request_id().map(str::to_string));
    // A request to another path.
    let raw = format!(
        "GET /health HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
        server.addr()
    );
    let other = send_raw_bytes(server.addr(), raw.as_bytes()).await.unwrap();
    ids.push(other.request_id().map(str::to_string));

    let ids: Vec<String> = ids
        .into_iter()
        .enumerate()
        .map(|(i, id)| id.unwrap_or_else(|| panic!("response {i} has no x-amzn-RequestId")))
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "request ids are unique: {ids:?}");

    // Through the SDK, the request id is visible in error metadata too.
    let kms = server.kms_client().await;
    let err = kms
        .describe_key()
        .key_id(uuid::Uuid::new_v4().to_string())
        .send()
        .await
        .unwrap_err();
    use aws_sdk_kms::operation::RequestId;
    assert!(err.request_id().is_some(), "SDK sees x-amzn-RequestId");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_signed_request_replayed_is_accepted_twice() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    create_key(&kms).await;
    let body = br#"{"Limit": 10}"#;
    let headers = server.signed_headers("ListKeys", body, &server.signing());
    let first = server.send(&headers, body).await.unwrap();
    let second = server.send(&headers, body).await.unwrap();
    assert_eq!(first.assert_ok(), second.assert_ok());
    assert_ne!(first.request_id(), second.request_id());

    // A replayed CreateKey creates a second key, as AWS would.
    let headers = server.signed_headers("CreateKey", b"{}", &server.signing());
    server.send(&headers, b"{}").await.unwrap().assert_ok();
    server.send(&headers, b"{}").await.unwrap().assert_ok();
    let keys = kms.list_keys().send().await.unwrap().keys.unwrap();
    assert_eq!(keys.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_answers_use_the_aws_json_shape() {
    let server = TestServer::start().await.unwrap();
    let resp = server
        .call(
            "DescribeKey",
            &json!({"KeyId": uuid::Uuid::new_v4().to_string()}),
        )
        .await
        .unwrap();
    assert_eq!(resp.status, 400);
    assert_eq!(resp.header("content-type"), Some(CONTENT_TYPE));
    let j = resp.json();
    let obj = j.as_object().unwrap();
    assert_eq!(obj["__type"], "NotFoundException");
    assert!(obj["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_messages_match_aws_for_lengths_and_ranges() {
    let server = TestServer::start().await.unwrap();
    let long = "x".repeat(8193);
    let resp = server
        .call("CreateKey", &json!({"Description": long}))
        .await
        .unwrap();
    let msg = resp.assert_error(400, "ValidationException");
    assert!(
        msg.contains("at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192"),
        "{msg}"
    );
    let resp = server.call("ListKeys", &json!({"Limit": 0})).await.unwrap();
    let msg = resp.assert_error(400, "ValidationException");
    assert_eq!(
        msg,
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_always_say_whether_they_are_truncated() {
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let k = create_key(&kms).await;
    for (op, body) in [
        ("ListKeys", json!({})),
        ("ListAliases", json!({})),
        ("ListResourceTags", json!({"KeyId": k})),
    ] {
        let j = server.call(op, &body).await.unwrap().assert_ok();
        assert_eq!(j["Truncated"], json!(false), "{op}: {j}");
        assert!(j.get("NextMarker").is_none(), "{op}: {j}");
    }
}

/// A key policy that lets the account root do anything with the key, but Encrypt only over
/// TLS (`aws:SecureTransport`).
fn encrypt_only_over_tls_policy() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:Encrypt",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }
        ]
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_serves_the_sdk_and_makes_secure_transport_true() {
    let tls = TestServer::start_tls().await.unwrap();
    assert!(tls.endpoint().starts_with("https://"), "{}", tls.endpoint());
    let kms = tls.kms_client().await;
    let key = create_key_with_policy(&kms, encrypt_only_over_tls_policy()).await;
    let ciphertext = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"over TLS".to_vec()))
        .send()
        .await
        .expect("Encrypt over TLS is allowed by the policy")
        .ciphertext_blob
        .unwrap();
    let plaintext = kms
        .decrypt()
        .ciphertext_blob(ciphertext)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap();
    assert_eq!(plaintext.as_ref(), b"over TLS");
    // The audit record says how the request was protected, as CloudTrail's `tlsDetails`.
    let records = tls.audit_records().unwrap();
    let encrypt = records
        .iter()
        .find(|r| r["eventName"] == "Encrypt")
        .expect("an Encrypt record");
    let details = &encrypt["tlsDetails"];
    assert!(
        details["tlsVersion"] == "TLSv1.3" || details["tlsVersion"] == "TLSv1.2",
        "{details}"
    );
    let suite = details["cipherSuite"].as_str().unwrap_or_default();
    assert!(
        suite.contains("GCM") || suite.contains("CHACHA20"),
        "{details}"
    );
    assert_eq!(
        details["clientProvidedHostHeader"],
        json!(tls.addr().to_string()),
        "{details}"
    );

    // The same policy over plain HTTP: the Deny applies.
    let plain = TestServer::start().await.unwrap();
    let kms = plain.kms_client().await;
    let key = create_key_with_policy(&kms, encrypt_only_over_tls_policy()).await;
    let err = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"in the clear".to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_kms::error::ProvideErrorMetadata::code(&err),
        Some("AccessDeniedException"),
        "{err:?}"
    );
    let records = plain.audit_records().unwrap();
    assert!(records.iter().all(|r| r.get("tlsDetails").is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_listener_drops_plain_http_and_untrusting_clients_and_keeps_serving() {
    let server = TestServer::start_tls().await.unwrap();
    // Plain HTTP on the TLS port gets no HTTP answer.
    let request =
        b"POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        send_raw_bytes(server.addr(), request),
    )
    .await
    .expect("the server closes a plain HTTP connection instead of hanging");
    assert!(answer.is_err(), "plain HTTP was answered: {answer:?}");

    // A client that trusts only the usual roots refuses the self-signed certificate.
    let untrusting = server
        .kms_client_trusting(&server.access_key_id, &server.secret_access_key, None)
        .await;
    let err = untrusting.list_keys().send().await.unwrap_err();
    assert!(
        matches!(err, aws_sdk_kms::error::SdkError::DispatchFailure(_)),
        "{err:?}"
    );

    // A client trusting some other certificate refuses it too.
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let mistrusting = server
        .kms_client_trusting(
            &server.access_key_id,
            &server.secret_access_key,
            Some(&other.cert.pem()),
        )
        .await;
    assert!(mistrusting.list_keys().send().await.is_err());

    // The server kept serving.
    let kms = server.kms_client().await;
    assert!(kms.list_keys().send().await.is_ok());
    let records = server.audit_records().unwrap();
    assert!(records
        .iter()
        .any(|r| r["eventName"] == "ListKeys" && r.get("errorCode").is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_is_served_to_new_connections_without_a_restart() {
    let mut server = TestServer::start_tls().await.unwrap();
    let old = server.certificate_pem().unwrap().to_string();
    let (akid, secret) = (
        server.access_key_id.clone(),
        server.secret_access_key.clone(),
    );
    let old_client = server.kms_client_trusting(&akid, &secret, Some(&old)).await;
    old_client.list_keys().send().await.unwrap();

    let new = server.renew_certificate().unwrap();
    assert_ne!(new, old);
    // A client trusting only the new certificate connects; one trusting only the old one
    // (on a new connection) no longer does.
    let new_client = server.kms_client_trusting(&akid, &secret, Some(&new)).await;
    new_client.list_keys().send().await.unwrap();
    let stale = server.kms_client_trusting(&akid, &secret, Some(&old)).await;
    assert!(stale.list_keys().send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_request_in_flight_finish_and_closes_idle_connections() {
    use tokio::io::AsyncReadExt;
    let mut server = TestServer::start().await.unwrap();
    let addr = server.addr();
    // An idle keep-alive connection, after one complete request.
    let body = b"{}";
    let head = |headers: &http::HeaderMap| {
        let mut head = String::from("POST / HTTP/1.1\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{}: {}\r\n", name, value.to_str().unwrap()));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        head
    };
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let headers = server.signed_headers("ListKeys", body, &server.signing());
    idle.write_all(head(&headers).as_bytes()).await.unwrap();
    idle.write_all(body).await.unwrap();
    read_response(&mut idle).await.unwrap().assert_ok();

    // A request in flight: its headers are in, half its body is not.
    let mut busy = tokio::net::TcpStream::connect(addr).await.unwrap();
    let headers = server.signed_headers("ListKeys", body, &server.signing());
    busy.write_all(head(&headers).as_bytes()).await.unwrap();
    busy.write_all(&body[..1]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = std::time::Instant::now();
    server.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // No new connections; the idle one is closed.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buf))
        .await
        .expect("the idle connection is closed, not left open")
        .unwrap_or(0);
    assert_eq!(n, 0, "the idle connection got data: {:?}", &buf[..n]);

    // The request in flight completes, is answered and audited; then its connection closes.
    busy.write_all(&body[1..]).await.unwrap();
    let resp = read_response(&mut busy).await.unwrap();
    resp.assert_ok();
    let request_id = resp.request_id().unwrap().to_string();
    let n = tokio::time::timeout(Duration::from_secs(5), busy.read(&mut buf))
        .await
        .expect("closed after its last response")
        .unwrap_or(0);
    assert_eq!(n, 0);
    server.stop().await.unwrap();
    assert!(
        started.elapsed() < trent_server::listener::DRAIN_TIMEOUT,
        "shutdown waited for the drain timeout: {:?}",
        started.elapsed()
    );
    let records = server.audit_records().unwrap();
    assert!(records.iter().any(|r| r["requestID"] == request_id.as_str()
        && r["eventName"] == "ListKeys"
        && r.get("errorCode").is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_operation_and_outcome() {
    use tokio::io::AsyncReadExt;
    let server = TestServer::start().await.unwrap();
    let kms = server.kms_client().await;
    let key = create_key(&kms).await;
    kms.encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"counted".to_vec()))
        .send()
        .await
        .unwrap();
    let err = kms
        .decrypt()
        .ciphertext_blob(Blob::new(vec![0u8; 100]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_kms::error::ProvideErrorMetadata::code(&err),
        Some("InvalidCiphertextException")
    );
    // An unknown target is counted too.
    server
        .call("NoSuchOperation", &json!({}))
        .await
        .unwrap()
        .assert_error(400, "UnknownOperationException");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(trent_server::metrics::serve(
        server.app().clone(),
        listener,
        std::future::pending(),
    ));
    let get = |path: &'static str| async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
            )
            .await
            .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        text
    };
    let page = get("/metrics").await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("text/plain; version=0.0.4"), "{page}");
    for line in [
        "trent_requests_total{operation=\"CreateKey\",outcome=\"Success\"} 1",
        "trent_requests_total{operation=\"Encrypt\",outcome=\"Success\"} 1",
        "trent_requests_total{operation=\"Decrypt\",outcome=\"InvalidCiphertextException\"} 1",
        "trent_requests_total{operation=\"UnknownOperation\",outcome=\"UnknownOperationException\"} 1",
        "trent_request_duration_seconds_count{operation=\"Encrypt\"} 1",
        "trent_request_duration_seconds_bucket{operation=\"Encrypt\",le=\"+Inf\"} 1",
        "trent_audit_log_healthy 1",
    ] {
        assert!(page.contains(line), "missing {line:?} in\n{page}");
    }
    assert!(!page.contains(&key), "metrics name no keys");
    assert!(get("/other").await.starts_with("HTTP/1.1 404"));
}
