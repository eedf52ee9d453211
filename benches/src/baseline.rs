//! The baseline: the least a KMS-shaped server must do per request, and nothing more.
//!
//! Per request it reads the body, verifies SigV4 with the same [`trent_sigv4::Verifier`] Trent
//! uses (against one fixed credential), parses the JSON and does the cryptography with aws-lc-rs:
//! AES-256-GCM under one fixed in-memory key, blob = IV ‖ ciphertext ‖ tag; Sign, Verify and
//! GenerateMac with in-memory keys through the same `trent-crypto` calls Trent makes. It has no JSON model
//! validation, no key lookup, no authorization, no per-call key derivation, no audit record and no
//! storage: that is the point of a baseline. The HTTP stack (hyper HTTP/1.1, keep-alive, a
//! multi-thread tokio runtime with one worker per core) is configured as Trent's listener is.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Value};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use trent_crypto::algorithms::{MacAlgorithm, MessageType, SigningAlgorithm};
use trent_crypto::asymmetric::{KeyPairSpec, PrivateKey};
use trent_crypto::hmac::{HmacKey, HmacKeySpec};
use trent_sigv4::{Credential, CredentialSource, Expectation, SignedRequest, Verifier};

/// The one access key the baseline accepts.
pub const ACCESS_KEY_ID: &str = "AKIABASELINEBENCH000";
/// Its secret.
pub const SECRET_ACCESS_KEY: &str = "baselineBenchSecretKey0000000000000000000";
/// The Region the baseline expects in the credential scope.
pub const REGION: &str = "us-east-1";
/// The key id the baseline reports for every call.
pub const KEY_ID: &str =
    "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000";
/// The largest body read, as Trent's default limit.
const MAX_BODY_BYTES: usize = 1024 * 1024;
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

struct OneKey;

impl CredentialSource for OneKey {
    type Principal = ();
    fn lookup(&self, access_key_id: &str) -> Option<Credential<()>> {
        (access_key_id == ACCESS_KEY_ID).then(|| Credential {
            secret_access_key: SECRET_ACCESS_KEY.to_owned().into(),
            session_token: None,
            principal: (),
        })
    }
}

struct State {
    verifier: Verifier,
    key: LessSafeKey,
    /// One key pair per key spec the benchmark signs with, by spec name (the "key id").
    signing: HashMap<&'static str, PrivateKey>,
    /// The HMAC_256 key.
    hmac: HmacKey,
}

/// The key pairs the baseline signs with, by KMS key spec.
const SIGNING_SPECS: [(&str, KeyPairSpec); 4] = [
    ("ECC_NIST_P256", KeyPairSpec::EccNistP256),
    ("ECC_NIST_EDWARDS25519", KeyPairSpec::EccNistEdwards25519),
    ("RSA_2048", KeyPairSpec::Rsa2048),
    ("ML_DSA_65", KeyPairSpec::MlDsa65),
];

/// `trent-bench baseline-server`: serves on 127.0.0.1:0, prints the port, exits when its stdin
/// closes (so it never outlives the benchmark that started it).
pub fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("baseline: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baseline: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let mut key_bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut key_bytes).map_err(|_| anyhow!("no randomness"))?;
    let key = UnboundKey::new(&AES_256_GCM, &key_bytes).map_err(|_| anyhow!("bad AES key"))?;
    let mut signing = HashMap::new();
    for (name, spec) in SIGNING_SPECS {
        signing.insert(
            name,
            PrivateKey::generate(spec).map_err(|e| anyhow!("{e}"))?,
        );
    }
    let state = Arc::new(State {
        verifier: Verifier::new(1024),
        key: LessSafeKey::new(key),
        signing,
        hmac: HmacKey::generate(HmacKeySpec::Hmac256).map_err(|e| anyhow!("{e}"))?,
    });

    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding 127.0.0.1:0")?;
    println!(
        "Baseline listening on http://{} (Region {REGION})",
        listener.local_addr()?
    );
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        std::process::exit(0);
    });

    loop {
        let (stream, _peer) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                eprintln!("baseline: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&state, req).await) }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(state: &State, req: http::Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                &e.to_string(),
            )
        }
    };
    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body: &body,
    };
    let expect = Expectation {
        service: "kms",
        region: REGION,
    };
    if let Err(e) = state
        .verifier
        .verify(&signed, OffsetDateTime::now_utc(), &expect, &OneKey)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidSignatureException",
            &e.to_string(),
        );
    }
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                &e.to_string(),
            )
        }
    };
    let answer = match target {
        "TrentService.Encrypt" => blob_member(&request, "Plaintext").and_then(|plaintext| {
            let blob = seal(&state.key, plaintext)?;
            Some(json!({
                "CiphertextBlob": B64.encode(blob),
                "KeyId": KEY_ID,
                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            }))
        }),
        "TrentService.Decrypt" => blob_member(&request, "CiphertextBlob").and_then(|blob| {
            let plaintext = open(&state.key, blob)?;
            Some(json!({
                "Plaintext": B64.encode(plaintext),
                "KeyId": KEY_ID,
                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            }))
        }),
        "TrentService.GenerateDataKey" => {
            let mut data_key = [0u8; 32];
            aws_lc_rs::rand::fill(&mut data_key).ok().and_then(|()| {
                let blob = seal(&state.key, data_key.to_vec())?;
                Some(json!({
                    "CiphertextBlob": B64.encode(blob),
                    "Plaintext": B64.encode(data_key),
                    "KeyId": KEY_ID,
                }))
            })
        }
        "TrentService.Sign" => signing_call(state, &request).and_then(|(key, alg, message)| {
            let signature = key.sign(alg, MessageType::Raw, &message).ok()?;
            Some(json!({
                "Signature": B64.encode(signature),
                "KeyId": KEY_ID,
                "SigningAlgorithm": alg.as_str(),
            }))
        }),
        "TrentService.Verify" => signing_call(state, &request).and_then(|(key, alg, message)| {
            let signature = blob_member(&request, "Signature")?;
            key.verify(alg, MessageType::Raw, &message, &signature)
                .ok()
                .filter(|valid| *valid)?;
            Some(json!({
                "SignatureValid": true,
                "KeyId": KEY_ID,
                "SigningAlgorithm": alg.as_str(),
            }))
        }),
        "TrentService.GenerateMac" => blob_member(&request, "Message").and_then(|message| {
            let mac = state
                .hmac
                .generate_mac(MacAlgorithm::HmacSha256, &message)
                .ok()?;
            Some(json!({
                "Mac": B64.encode(mac),
                "KeyId": KEY_ID,
                "MacAlgorithm": "HMAC_SHA_256",
            }))
        }),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "UnknownOperationException",
                "the baseline serves Encrypt, Decrypt, GenerateDataKey, Sign, Verify and GenerateMac only",
            )
        }
    };
    match answer {
        Some(v) => respond(StatusCode::OK, v.to_string()),
        None => error(
            StatusCode::BAD_REQUEST,
            "InvalidCiphertextException",
            "missing member or bad blob",
        ),
    }
}

/// The key (by spec name in KeyId), algorithm and message of a Sign or Verify request.
fn signing_call<'a>(
    state: &'a State,
    request: &Value,
) -> Option<(&'a PrivateKey, SigningAlgorithm, Vec<u8>)> {
    let key = state.signing.get(request.get("KeyId")?.as_str()?)?;
    let alg = request.get("SigningAlgorithm")?.as_str()?.parse().ok()?;
    Some((key, alg, blob_member(request, "Message")?))
}

fn blob_member(request: &Value, name: &str) -> Option<Vec<u8>> {
    B64.decode(request.get(name)?.as_str()?).ok()
}

/// IV ‖ ciphertext ‖ tag.
fn seal(key: &LessSafeKey, plaintext: Vec<u8>) -> Option<Vec<u8>> {
    let mut iv = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut iv).ok()?;
    let mut in_out = plaintext;
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(iv), Aad::empty(), &mut in_out)
        .ok()?;
    let mut blob = Vec::with_capacity(NONCE_LEN + in_out.len());
    blob.extend_from_slice(&iv);
    blob.extend_from_slice(&in_out);
    Some(blob)
}

fn open(key: &LessSafeKey, mut blob: Vec<u8>) -> Option<Vec<u8>> {
    if blob.len() < NONCE_LEN {
        return None;
    }
    let nonce = Nonce::try_assume_unique_for_key(&blob[..NONCE_LEN]).ok()?;
    let plaintext = key
        .open_in_place(nonce, Aad::empty(), &mut blob[NONCE_LEN..])
        .ok()?;
    Some(plaintext.to_vec())
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    respond(
        status,
        json!({ "__type": code, "message": message }).to_string(),
    )
}

fn respond(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    resp
}
