//! The evidence table (`tests/aws-answers.json`, rendered as `tests/aws-answers.md`): each
//! row is an error case with the answer AWS gives (`__type`, HTTP status, exact message or
//! none) and where that answer comes from. This test sends every row's request to a running
//! Trent and checks that Trent answers the same.
//!
//! Inputs name fixtures by placeholder (`{sym}`, `{hmac}`, `{ct_ctx}`, …), made once before
//! the rows run; a string that is exactly a placeholder of a JSON value (`{tags51}`) becomes
//! that value.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use trent_tests::{b64, TestServer, ACCOUNT, REGION};

/// One row of the table.
struct Row {
    operation: String,
    case: String,
    input: Value,
    error_type: String,
    status: u16,
    /// The exact message; `None` (JSON null) when AWS sends no message member.
    message: Option<String>,
    /// No recording of AWS's message was found: only the type and status are checked.
    message_unknown: bool,
    source: String,
}

/// The rows of `tests/aws-answers.json`.
fn rows() -> Vec<Row> {
    let table: Value = serde_json::from_str(TABLE).expect("tests/aws-answers.json is JSON");
    let text = |r: &Value, k: &str| {
        r[k].as_str()
            .unwrap_or_else(|| panic!("row member {k} is a string: {r}"))
            .to_string()
    };
    table["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| Row {
            operation: text(r, "operation"),
            case: text(r, "case"),
            input: r["input"].clone(),
            error_type: text(r, "type"),
            status: r["status"].as_u64().expect("status") as u16,
            message: r["message"].as_str().map(str::to_string),
            message_unknown: r["message_unknown"].as_bool().unwrap_or(false),
            source: text(r, "source"),
        })
        .collect()
}

const TABLE: &str = include_str!("../aws-answers.json");
const RENDERED: &str = include_str!("../aws-answers.md");
const MODEL: &str = include_str!("../../crates/wire/model/kms-2014-11-01.json");

/// Every (operation, error) pair the botocore model names: each operation's `errors` list.
fn model_pairs() -> BTreeSet<(String, String)> {
    let model: Value = serde_json::from_str(MODEL).expect("the model is JSON");
    let mut pairs = BTreeSet::new();
    for (op, o) in model["operations"].as_object().expect("operations") {
        for e in o["errors"].as_array().into_iter().flatten() {
            pairs.insert((op.clone(), e["shape"].as_str().expect("shape").to_string()));
        }
    }
    pairs
}

/// A missing key id (never created).
const MISSING: &str = "0d4d8c73-3f5b-4b8d-9d7b-1d2b3c4d5e6f";

/// Fixtures: string placeholders and whole-value placeholders.
struct Fixtures {
    strings: BTreeMap<&'static str, String>,
    values: BTreeMap<&'static str, Value>,
}

async fn fixtures(server: &TestServer) -> Fixtures {
    let sym = server.create_key_with(json!({})).await;
    let sym2 = server.create_key_with(json!({})).await;
    let hmac = server
        .create_key_with(json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}))
        .await;
    let sign = server
        .create_key_with(json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}))
        .await;
    let rsa_enc = server
        .create_key_with(json!({"KeySpec": "RSA_2048", "KeyUsage": "ENCRYPT_DECRYPT"}))
        .await;
    let agree = server
        .create_key_with(json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"}))
        .await;
    let p384 = server
        .create_key_with(json!({"KeySpec": "ECC_NIST_P384", "KeyUsage": "KEY_AGREEMENT"}))
        .await;
    let kem = server
        .create_key_with(json!({"KeySpec": "ML_KEM_768", "KeyUsage": "ENCAPSULATE_DECAPSULATE"}))
        .await;
    let kem_ct = server
        .call_ok(
            "Encapsulate",
            json!({"KeyId": kem, "EncapsulationAlgorithm": "ML_KEM"}),
        )
        .await["SharedSecretCiphertextBlob"]
        .as_str()
        .unwrap()
        .to_string();
    let p384_pub = server.call_ok("GetPublicKey", json!({"KeyId": p384})).await["PublicKey"]
        .as_str()
        .unwrap()
        .to_string();
    let ct = server
        .call_ok("Encrypt", json!({"KeyId": sym, "Plaintext": b64(b"x")}))
        .await["CiphertextBlob"]
        .as_str()
        .unwrap()
        .to_string();
    let context = json!({"purpose": "test"});
    let ct_ctx = server
        .call_ok(
            "Encrypt",
            json!({"KeyId": sym, "Plaintext": b64(b"x"), "EncryptionContext": context}),
        )
        .await["CiphertextBlob"]
        .as_str()
        .unwrap()
        .to_string();
    let dk_ctx = server
        .call_ok(
            "GenerateDataKey",
            json!({"KeyId": sym, "KeySpec": "AES_256", "EncryptionContext": context}),
        )
        .await["CiphertextBlob"]
        .as_str()
        .unwrap()
        .to_string();
    let disabled = server.create_key_with(json!({})).await;
    let pending = server.create_key_with(json!({})).await;
    // A multi-Region primary key already replicated to eu-west-1.
    let mrk = server.create_key_with(json!({"MultiRegion": true})).await;
    server
        .call_ok(
            "ReplicateKey",
            json!({"KeyId": mrk, "ReplicaRegion": "eu-west-1"}),
        )
        .await;
    // A ciphertext under each of the two keys, made before the key leaves Enabled.
    let ct_of = |key: String| async move {
        server
            .call_ok("Encrypt", json!({"KeyId": key, "Plaintext": b64(b"x")}))
            .await["CiphertextBlob"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let ct_disabled = ct_of(disabled.clone()).await;
    let ct_pending = ct_of(pending.clone()).await;
    server
        .call_ok("DisableKey", json!({"KeyId": disabled}))
        .await;
    // A signing, an HMAC, a key-agreement and an ML-KEM key in each of the two states.
    let specs = [
        (
            "sign",
            json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}),
        ),
        (
            "hmac",
            json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}),
        ),
        (
            "agree",
            json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"}),
        ),
        (
            "kem",
            json!({"KeySpec": "ML_KEM_768", "KeyUsage": "ENCAPSULATE_DECAPSULATE"}),
        ),
    ];
    let mut stated = Vec::new();
    for (name, spec) in specs {
        let d = server.create_key_with(spec.clone()).await;
        server.call_ok("DisableKey", json!({"KeyId": d})).await;
        let p = server.create_key_with(spec).await;
        server
            .call_ok(
                "ScheduleKeyDeletion",
                json!({"KeyId": p, "PendingWindowInDays": 7}),
            )
            .await;
        stated.push((name, d, p));
    }
    server
        .call_ok(
            "ScheduleKeyDeletion",
            json!({"KeyId": pending, "PendingWindowInDays": 7}),
        )
        .await;
    server
        .call_ok(
            "CreateAlias",
            json!({"AliasName": "alias/taken", "TargetKeyId": sym}),
        )
        .await;
    let grant = server
        .call_ok(
            "CreateGrant",
            json!({"KeyId": sym, "GranteePrincipal": format!("arn:aws:iam::{ACCOUNT}:root"),
            "RetiringPrincipal": format!("arn:aws:iam::{ACCOUNT}:root"),
            "Operations": ["Encrypt"]}),
        )
        .await;
    let grant_id = grant["GrantId"].as_str().unwrap().to_string();
    let grant_token = grant["GrantToken"].as_str().unwrap().to_string();
    let lockout_policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
        "Action": "kms:*", "Resource": "*"}]})
    .to_string();
    let huge_policy = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "a".repeat(33_000), "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Action": "kms:*", "Resource": "*"}]})
    .to_string();
    // A key rotated on demand as often as AWS allows (25 times).
    let rotated25 = server.create_key_with(json!({})).await;
    for _ in 0..25 {
        server
            .call_ok("RotateKeyOnDemand", json!({"KeyId": rotated25}))
            .await;
    }
    let tags51: Vec<Value> = (0..51)
        .map(|i| json!({"TagKey": format!("k{i}"), "TagValue": "v"}))
        .collect();

    // A key for imported material (issue 16), its import token, and 16 bytes of material
    // (too short for a symmetric key) wrapped under its RSAES_OAEP_SHA_256 wrapping key.
    let external = server.create_key_with(json!({"Origin": "EXTERNAL"})).await;
    let import = server
        .call_ok(
            "GetParametersForImport",
            json!({"KeyId": external, "WrappingAlgorithm": "RSAES_OAEP_SHA_256",
                   "WrappingKeySpec": "RSA_2048"}),
        )
        .await;
    let import_token = import["ImportToken"].as_str().unwrap().to_string();
    let wrapping_key = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        import["PublicKey"].as_str().unwrap(),
    )
    .unwrap();
    let short_material = {
        use aws_lc_rs::rsa::{
            OaepPublicEncryptingKey, PublicEncryptingKey, OAEP_SHA256_MGF1SHA256,
        };
        let public =
            OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(&wrapping_key).unwrap())
                .unwrap();
        let mut out = vec![0u8; public.ciphertext_size()];
        b64(public
            .encrypt(&OAEP_SHA256_MGF1SHA256, &[7u8; 16], &mut out, None)
            .unwrap())
    };
    let strings = BTreeMap::from([
        ("{external}", external),
        ("{import_token}", import_token),
        ("{short_material}", short_material),
        ("{sym}", sym),
        ("{sym2}", sym2),
        ("{hmac}", hmac),
        ("{sign}", sign),
        ("{rsa_enc}", rsa_enc),
        ("{agree}", agree),
        ("{kem}", kem),
        ("{kem_ct}", kem_ct),
        ("{p384_pub}", p384_pub),
        ("{ct}", ct),
        ("{ct_ctx}", ct_ctx),
        ("{dk_ctx}", dk_ctx),
        ("{disabled}", disabled),
        ("{pending}", pending),
        ("{mrk}", mrk),
        ("{ct_disabled}", ct_disabled),
        ("{grant_id}", grant_id),
        ("{grant_token}", grant_token),
        ("{ct_pending}", ct_pending),
        ("{missing}", MISSING.to_string()),
        ("{rotated25}", rotated25),
        ("{big_plaintext}", b64(&[7u8; 4097])),
        ("{p191}", b64(&[7u8; 191])),
        ("{p215}", b64(&[7u8; 215])),
        ("{lockout_policy}", lockout_policy),
        ("{huge_policy}", huge_policy),
        ("{region}", REGION.to_string()),
        ("{account}", ACCOUNT.to_string()),
    ]);
    let mut strings = strings;
    for (name, d, p) in stated {
        let (dn, pn): (&'static str, &'static str) = match name {
            "sign" => ("{disabled_sign}", "{pending_sign}"),
            "hmac" => ("{disabled_hmac}", "{pending_hmac}"),
            "kem" => ("{disabled_kem}", "{pending_kem}"),
            _ => ("{disabled_agree}", "{pending_agree}"),
        };
        strings.insert(dn, d);
        strings.insert(pn, p);
    }
    let values = BTreeMap::from([("{tags51}", Value::Array(tags51))]);
    Fixtures { strings, values }
}

impl Fixtures {
    fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (k, v) in &self.strings {
            out = out.replace(k, v);
        }
        out
    }

    fn value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => self
                .values
                .get(s.as_str())
                .cloned()
                .unwrap_or_else(|| Value::String(self.text(s))),
            Value::Array(a) => Value::Array(a.iter().map(|v| self.value(v)).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), self.value(v))).collect())
            }
            other => other.clone(),
        }
    }
}

#[test]
fn every_row_names_a_source_and_appears_in_the_rendering() {
    let rows = rows();
    assert!(rows.len() >= 50);
    for r in &rows {
        assert!(!r.source.trim().is_empty(), "{}: {}", r.operation, r.case);
        assert!(
            RENDERED.contains(&format!("| {} | {} |", r.operation, r.case)),
            "tests/aws-answers.md lacks {} / {}: re-render it with tests/render-aws-answers.py",
            r.operation,
            r.case
        );
        assert!(
            !(r.message_unknown && r.message.is_some()),
            "{}: {}: a row with an unknown message gives none",
            r.operation,
            r.case
        );
    }
}

/// Checks that a list entry gives its reason: present, and not a placeholder.
fn check_reason(entry: &Value) {
    let why = entry["why"].as_str().unwrap_or_default().trim();
    assert!(
        why.len() >= 20 && !why.contains("TODO"),
        "an entry without a reason: {entry}"
    );
}

#[test]
fn every_error_the_model_lists_has_a_row_or_a_reasoned_entry() {
    let table: Value = serde_json::from_str(TABLE).expect("tests/aws-answers.json is JSON");
    let model = model_pairs();
    let rows: BTreeSet<(String, String)> = rows()
        .into_iter()
        .map(|r| (r.operation, r.error_type))
        .collect();
    // (pair, list) for every entry of the three lists.
    let mut listed: Vec<((String, String), &str)> = Vec::new();
    for u in table["unreachable"].as_array().expect("unreachable") {
        check_reason(u);
        let error = u["error"].as_str().expect("error");
        for op in u["operations"].as_array().expect("operations") {
            let op = op.as_str().expect("operation");
            listed.push(((op.to_string(), error.to_string()), "unreachable"));
        }
    }
    for p in table["pending"].as_array().expect("pending") {
        check_reason(p);
        assert!(
            p["issue"].is_u64() || p["issue"].is_null(),
            "issue is a number or null: {p}"
        );
        assert!(
            !p["trent_answers"].as_str().unwrap_or_default().is_empty(),
            "{p}"
        );
        // "CreateKey (custom key store)" is CreateKey.
        let op = p["operation"].as_str().expect("operation");
        let op = op.split(" (").next().unwrap_or(op);
        for e in p["errors"].as_array().expect("errors") {
            let e = e.as_str().expect("error");
            listed.push(((op.to_string(), e.to_string()), "pending"));
        }
    }
    for u in table["untested"].as_array().expect("untested") {
        check_reason(u);
        let pair = (
            u["operation"].as_str().expect("operation").to_string(),
            u["error"].as_str().expect("error").to_string(),
        );
        listed.push((pair, "untested"));
    }
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (pair, list) in &listed {
        if !model.contains(pair) {
            problems.push(format!("{pair:?} ({list}) is not an error the model lists"));
        }
        if rows.contains(pair) {
            problems.push(format!("{pair:?} ({list}) has a row: take it off the list"));
        }
        if !seen.insert(pair.clone()) {
            problems.push(format!("{pair:?} is listed twice"));
        }
    }
    for pair in &model {
        if !rows.contains(pair) && !seen.contains(pair) {
            problems.push(format!(
                "{pair:?}: no row and no unreachable, pending or untested entry"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The rendering's summary counts match the JSON.
    let count = |list: &str| listed.iter().filter(|(_, l)| *l == list).count();
    let summary = format!(
        "The botocore model names {} (operation, error) pairs: {} have a row \
         below, {} are unreachable, {} are pending another issue and {} are untested.",
        model.len(),
        model.intersection(&rows).count(),
        count("unreachable"),
        count("pending"),
        count("untested"),
    );
    assert!(
        RENDERED.contains(&summary),
        "tests/aws-answers.md lacks {summary:?}: re-render it with tests/render-aws-answers.py"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trent_answers_every_row_as_aws_does() {
    let rows = rows();
    let server = TestServer::start().await.unwrap();
    let fx = fixtures(&server).await;
    let mut failures = Vec::new();
    for r in &rows {
        let input = fx.value(&r.input);
        let resp = server.call(&r.operation, &input).await.unwrap();
        let body = if resp.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice::<Value>(&resp.body).unwrap_or(Value::Null)
        };
        let got_type = resp.error_type().unwrap_or_default();
        let got_message = body
            .get("message")
            .or_else(|| body.get("Message"))
            .map(|m| m.as_str().unwrap_or_default().to_string());
        let mut wrong = Vec::new();
        if resp.status != r.status {
            wrong.push(format!("status {} (AWS: {})", resp.status, r.status));
        }
        if got_type != r.error_type {
            wrong.push(format!("__type {got_type:?} (AWS: {:?})", r.error_type));
        }
        if !r.message_unknown {
            let want = r.message.as_deref().map(|m| fx.text(m));
            if got_message != want {
                wrong.push(format!("message {got_message:?} (AWS: {want:?})"));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{} / {}: {}\n    body: {}",
                r.operation,
                r.case,
                wrong.join("; "),
                String::from_utf8_lossy(&resp.body)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows differ from AWS:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
