#![forbid(unsafe_code)]
//! `trent-bench`: Trent's throughput against a minimal baseline server doing the same
//! cryptography behind the same SigV4 verification (see `BENCHMARKS.md` at the workspace root).
//!
//! Both servers run as child processes on 127.0.0.1; the load is bounded in time and count, and
//! both children are killed when the benchmark ends, whichever way it ends.
// a load generator, not a library: it signs with real time, and a panic is its failure report
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

mod baseline;
mod children;
mod load;
mod soak;

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

use children::Server;
use load::{Call, Endpoint, Measured};

const USAGE: &str = "\
usage: trent-bench [--trent-bin PATH] [--seconds N] [--warmup N] [--rounds N]
                   [--ops Encrypt,Decrypt,GenerateDataKey | all | LIST] [--conns 1,16]

Starts Trent (--trent-bin, default target/release/trent) and a baseline server as child
processes on 127.0.0.1 and loads each in turn: per operation and concurrency, 1 s warm-up
(--warmup) then --seconds (default 5) measured, Trent and baseline alternating. --rounds
repeats the whole schedule and pools the measurements.
Operations: Encrypt, Decrypt, GenerateDataKey (the default), and Sign/ECC_NIST_P256,
Sign/ECC_NIST_EDWARDS25519, Sign/RSA_2048, Sign/ML_DSA_65, Verify/ECC_NIST_P256,
GenerateMac/HMAC_256 (KMS operation / key spec); `all` runs every one.";

/// The symmetric operations, run by default.
const OPERATIONS: [&str; 3] = ["Encrypt", "Decrypt", "GenerateDataKey"];

/// The asymmetric and HMAC operations: the name in `--ops`, the KMS operation, the key spec
/// and the algorithm. Each signs or MACs the same 1 KiB message (RAW).
const KEYED_OPERATIONS: [KeyedOp; 6] = [
    KeyedOp::new("Sign", "ECC_NIST_P256", "ECDSA_SHA_256"),
    KeyedOp::new("Sign", "ECC_NIST_EDWARDS25519", "ED25519_SHA_512"),
    KeyedOp::new("Sign", "RSA_2048", "RSASSA_PSS_SHA_256"),
    KeyedOp::new("Sign", "ML_DSA_65", "ML_DSA_SHAKE_256"),
    KeyedOp::new("Verify", "ECC_NIST_P256", "ECDSA_SHA_256"),
    KeyedOp::new("GenerateMac", "HMAC_256", "HMAC_SHA_256"),
];

/// One asymmetric or HMAC operation of the benchmark.
#[derive(Clone, Copy)]
struct KeyedOp {
    operation: &'static str,
    key_spec: &'static str,
    algorithm: &'static str,
}

impl KeyedOp {
    const fn new(operation: &'static str, key_spec: &'static str, algorithm: &'static str) -> Self {
        KeyedOp {
            operation,
            key_spec,
            algorithm,
        }
    }

    /// `Sign/ECC_NIST_P256`, as `--ops` and the table name it.
    fn name(&self) -> String {
        format!("{}/{}", self.operation, self.key_spec)
    }

    fn key_usage(&self) -> &'static str {
        if self.operation == "GenerateMac" {
            "GENERATE_VERIFY_MAC"
        } else {
            "SIGN_VERIFY"
        }
    }
}

/// Every operation name `--ops` accepts.
fn known_operations() -> Vec<String> {
    OPERATIONS
        .iter()
        .map(|s| s.to_string())
        .chain(KEYED_OPERATIONS.iter().map(KeyedOp::name))
        .collect()
}
const PLAINTEXT_BYTES: usize = 1024;

struct Options {
    trent_bin: PathBuf,
    seconds: f64,
    warmup: f64,
    rounds: usize,
    ops: Vec<String>,
    conns: Vec<usize>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("baseline-server") {
        return baseline::main();
    }
    if args.first().map(String::as_str) == Some("soak") {
        return soak::main(&args[1..]);
    }
    run_command(
        "trent-bench",
        USAGE,
        parse_args(&args),
        |options| async move { run(&options).await },
    )
}

/// Runs a command of this binary: `parsed` are its options (`None`: print `usage`), `run` its
/// work on a multi-threaded runtime until it ends or SIGINT/SIGTERM arrives (then its future is
/// dropped, and with it the child processes it started). `Ok(false)` exits 1 quietly.
pub(crate) fn run_command<O, Fut>(
    name: &str,
    usage: &str,
    parsed: anyhow::Result<Option<O>>,
    run: impl FnOnce(O) -> Fut,
) -> ExitCode
where
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let options = match parsed {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{usage}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{name}: {e:#}\n\n{usage}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{name}: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        tokio::select! {
            r = run(options) => r,
            s = interrupted() => Err(anyhow!("interrupted by {s}")),
        }
    });
    // Tasks still sleeping (the soak's hostile connections) are dropped with the runtime.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{name}: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGINT or SIGTERM, naming it.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

fn parse_args(args: &[String]) -> anyhow::Result<Option<Options>> {
    let mut o = Options {
        trent_bin: default_trent_bin(),
        seconds: 5.0,
        warmup: 1.0,
        rounds: 1,
        ops: OPERATIONS.iter().map(|s| s.to_string()).collect(),
        conns: vec![1, 16],
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let value = it
            .next()
            .ok_or_else(|| anyhow!("{flag} needs a value"))?
            .as_str();
        match flag.as_str() {
            "--trent-bin" => o.trent_bin = PathBuf::from(value),
            "--seconds" => o.seconds = positive(flag, value, 600.0)?,
            "--warmup" => {
                o.warmup = value
                    .parse()
                    .ok()
                    .filter(|w| (0.0..=60.0).contains(w))
                    .ok_or_else(|| anyhow!("--warmup must be 0 to 60 seconds"))?
            }
            "--rounds" => o.rounds = positive(flag, value, 100.0)? as usize,
            "--ops" => {
                let known = known_operations();
                o.ops = if value == "all" {
                    known.clone()
                } else {
                    value.split(',').map(str::to_string).collect()
                };
                if let Some(bad) = o.ops.iter().find(|op| !known.contains(op)) {
                    bail!("unknown operation {bad}; known: {}", known.join(","));
                }
            }
            "--conns" => {
                o.conns = value
                    .split(',')
                    .map(|c| c.parse().ok().filter(|&n| (1..=256).contains(&n)))
                    .collect::<Option<_>>()
                    .ok_or_else(|| anyhow!("--conns takes numbers from 1 to 256"))?;
            }
            _ => bail!("unknown argument {flag}"),
        }
    }
    Ok(Some(o))
}

fn positive(flag: &str, value: &str, max: f64) -> anyhow::Result<f64> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| *v > 0.0 && *v <= max)
        .ok_or_else(|| anyhow!("{flag} must be a number above 0 and at most {max}"))
}

/// `target/release/trent` if it exists here, else `trent` beside this executable.
fn default_trent_bin() -> PathBuf {
    let here = PathBuf::from("target/release/trent");
    if here.exists() {
        return here;
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("trent")))
        .filter(|p| p.exists())
        .unwrap_or(here)
}

/// One server under load, with what it needs to be called.
struct Target {
    server: Server,
    endpoint: Endpoint,
    /// Operation name → the call to repeat.
    calls: Vec<(String, Call)>,
}

/// Runs the whole benchmark; `Ok(false)` when some request failed.
async fn run(o: &Options) -> anyhow::Result<bool> {
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let tick_hz = children::clock_ticks_per_second();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    // Trent, on a fresh data dir, with one symmetric key.
    let data_dir = tmp.path().join("data");
    let mut cmd = Command::new(&o.trent_bin);
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--listen")
        .arg("127.0.0.1:0");
    let trent = Server::start("trent", cmd, tmp.path().join("trent.stderr"))
        .with_context(|| format!("starting {}", o.trent_bin.display()))?;
    let (akid, secret) = read_credentials(&data_dir.join("credentials"))?;
    let region = read_region(&data_dir.join("config"));
    let trent_endpoint = Endpoint::new(trent.addr, &akid, &secret, &region)?;
    let created = load::once(
        &trent_endpoint,
        &Call::new("CreateKey", &json!({"Description": "trent-bench"}))?,
    )
    .await
    .context("CreateKey on Trent")?;
    let key_id = created["KeyMetadata"]["KeyId"]
        .as_str()
        .ok_or_else(|| anyhow!("CreateKey answered without KeyMetadata.KeyId: {created}"))?
        .to_string();

    // The baseline: this executable, re-run as `baseline-server`.
    let exe = std::env::current_exe().context("finding this executable")?;
    let mut cmd = Command::new(exe);
    cmd.arg("baseline-server");
    let base = Server::start("baseline", cmd, tmp.path().join("baseline.stderr"))?;
    let base_endpoint = Endpoint::new(
        base.addr,
        baseline::ACCESS_KEY_ID,
        baseline::SECRET_ACCESS_KEY,
        baseline::REGION,
    )?;

    let mut plaintext = vec![0u8; PLAINTEXT_BYTES];
    aws_lc_rs::rand::fill(&mut plaintext).map_err(|_| anyhow!("no randomness"))?;
    let keyed: Vec<KeyedOp> = KEYED_OPERATIONS
        .iter()
        .copied()
        .filter(|k| o.ops.contains(&k.name()))
        .collect();
    // Trent: one key per key spec used. The baseline holds one in-memory key per spec and
    // takes the spec name as the key id.
    let mut trent_keys = Vec::new();
    let mut base_keys = Vec::new();
    for k in &keyed {
        if trent_keys.iter().any(|(spec, _)| *spec == k.key_spec) {
            continue;
        }
        let created = load::once(
            &trent_endpoint,
            &Call::new(
                "CreateKey",
                &json!({"KeySpec": k.key_spec, "KeyUsage": k.key_usage(), "Description": "trent-bench"}),
            )?,
        )
        .await
        .with_context(|| format!("CreateKey {} on Trent", k.key_spec))?;
        let id = created["KeyMetadata"]["KeyId"]
            .as_str()
            .ok_or_else(|| anyhow!("CreateKey answered without KeyMetadata.KeyId: {created}"))?;
        trent_keys.push((k.key_spec, id.to_string()));
        base_keys.push((k.key_spec, k.key_spec.to_string()));
    }
    let mut targets = [
        Target {
            calls: prepare_calls(&trent_endpoint, &key_id, &plaintext, &keyed, &trent_keys)
                .await
                .context("preparing the calls on Trent")?,
            server: trent,
            endpoint: trent_endpoint,
        },
        Target {
            calls: prepare_calls(&base_endpoint, &key_id, &plaintext, &keyed, &base_keys)
                .await
                .context("preparing the calls on the baseline")?,
            server: base,
            endpoint: base_endpoint,
        },
    ];

    println!(
        "trent-bench: {} s measured after {} s warm-up per run, {} round(s); {PLAINTEXT_BYTES}-byte plaintext; \
         {cores} cores shared by both servers and this load generator; CPU clock {tick_hz} ticks/s",
        o.seconds, o.warmup, o.rounds
    );
    println!(
        "trent {} (pid {}), baseline {} (pid {})",
        targets[0].server.addr,
        targets[0].server.pid(),
        targets[1].server.addr,
        targets[1].server.pid()
    );

    // results[target][op][conns]
    let mut results: Vec<Vec<Vec<Measured>>> = (0..2)
        .map(|_| {
            o.ops
                .iter()
                .map(|_| o.conns.iter().map(|_| Measured::default()).collect())
                .collect()
        })
        .collect();
    let warmup = Duration::from_secs_f64(o.warmup);
    let measure = Duration::from_secs_f64(o.seconds);
    let mut pair = 0usize;
    for _round in 0..o.rounds {
        for (oi, op) in o.ops.iter().enumerate() {
            for (ci, &conns) in o.conns.iter().enumerate() {
                // Alternate who goes first, so drift in machine load hits both alike.
                let order = if pair.is_multiple_of(2) {
                    [0, 1]
                } else {
                    [1, 0]
                };
                pair += 1;
                for ti in order {
                    let target = &mut targets[ti];
                    target.server.check_alive()?;
                    let call = call_for(&target.calls, op)?;
                    eprintln!("  {:<8} {op:<27} {conns:>3} conns ...", target.server.name);
                    let m = load::run(
                        &target.server,
                        &target.endpoint,
                        call,
                        conns,
                        warmup,
                        measure,
                    )
                    .await?;
                    results[ti][oi][ci].merge(m);
                    target.server.check_alive()?;
                }
            }
        }
    }

    print_table(o, &targets, &results, tick_hz);

    let mut ok = true;
    for (ti, per_op) in results.iter().enumerate() {
        for (oi, per_conns) in per_op.iter().enumerate() {
            for (ci, m) in per_conns.iter().enumerate() {
                if m.errors > 0 {
                    ok = false;
                    eprintln!(
                        "ERROR: {} {} at {} conns: {} failed requests, e.g.:",
                        targets[ti].server.name, o.ops[oi], o.conns[ci], m.errors
                    );
                    for e in &m.error_samples {
                        eprintln!("    {e}");
                    }
                }
            }
        }
    }
    // Children are killed (Drop) before the data dir is removed.
    drop(targets);
    drop(tmp);
    Ok(ok)
}

fn call_for<'a>(calls: &'a [(String, Call)], op: &str) -> anyhow::Result<&'a Call> {
    calls
        .iter()
        .find(|(name, _)| name == op)
        .map(|(_, call)| call)
        .ok_or_else(|| anyhow!("no call prepared for {op}"))
}

/// The calls; the Decrypt call holds a ciphertext the same server made, checked to decrypt to
/// the plaintext, and the Verify call a signature the same server made.
async fn prepare_calls(
    endpoint: &Endpoint,
    key_id: &str,
    plaintext: &[u8],
    keyed: &[KeyedOp],
    keys: &[(&str, String)],
) -> anyhow::Result<Vec<(String, Call)>> {
    let mut calls = symmetric_calls(endpoint, key_id, plaintext).await?;
    let message = B64.encode(plaintext);
    for k in keyed {
        let key = keys
            .iter()
            .find(|(spec, _)| *spec == k.key_spec)
            .map(|(_, id)| id.as_str())
            .ok_or_else(|| anyhow!("no key for {}", k.key_spec))?;
        let call = match k.operation {
            "Sign" | "Verify" => {
                let sign = Call::new(
                    "Sign",
                    &json!({"KeyId": key, "Message": message, "MessageType": "RAW",
                            "SigningAlgorithm": k.algorithm}),
                )?;
                let answer = load::once(endpoint, &sign).await.context("Sign")?;
                let signature = answer["Signature"]
                    .as_str()
                    .ok_or_else(|| anyhow!("Sign answered without Signature: {answer}"))?
                    .to_string();
                if k.operation == "Sign" {
                    sign
                } else {
                    let verify = Call::new(
                        "Verify",
                        &json!({"KeyId": key, "Message": message, "MessageType": "RAW",
                                "SigningAlgorithm": k.algorithm, "Signature": signature}),
                    )?;
                    let answer = load::once(endpoint, &verify).await.context("Verify")?;
                    if answer["SignatureValid"] != json!(true) {
                        bail!("Verify did not accept the signature: {answer}");
                    }
                    verify
                }
            }
            "GenerateMac" => {
                let mac = Call::new(
                    "GenerateMac",
                    &json!({"KeyId": key, "Message": message, "MacAlgorithm": k.algorithm}),
                )?;
                let answer = load::once(endpoint, &mac).await.context("GenerateMac")?;
                if answer["Mac"]
                    .as_str()
                    .and_then(|m| B64.decode(m).ok())
                    .map(|m| m.len())
                    != Some(32)
                {
                    bail!("GenerateMac answered without a 32-byte Mac: {answer}");
                }
                mac
            }
            other => bail!("no call for {other}"),
        };
        calls.push((k.name(), call));
    }
    Ok(calls)
}

/// Encrypt, Decrypt and GenerateDataKey under the symmetric key.
async fn symmetric_calls(
    endpoint: &Endpoint,
    key_id: &str,
    plaintext: &[u8],
) -> anyhow::Result<Vec<(String, Call)>> {
    let encrypt = Call::new(
        "Encrypt",
        &json!({"KeyId": key_id, "Plaintext": B64.encode(plaintext)}),
    )?;
    let answer = load::once(endpoint, &encrypt).await.context("Encrypt")?;
    let blob = answer["CiphertextBlob"]
        .as_str()
        .ok_or_else(|| anyhow!("Encrypt answered without CiphertextBlob: {answer}"))?;
    let decrypt = Call::new("Decrypt", &json!({"CiphertextBlob": blob}))?;
    let answer = load::once(endpoint, &decrypt).await.context("Decrypt")?;
    let back = answer["Plaintext"]
        .as_str()
        .and_then(|p| B64.decode(p).ok())
        .ok_or_else(|| anyhow!("Decrypt answered without Plaintext: {answer}"))?;
    if back != plaintext {
        bail!("Decrypt did not give back the plaintext");
    }
    let generate = Call::new(
        "GenerateDataKey",
        &json!({"KeyId": key_id, "KeySpec": "AES_256"}),
    )?;
    let answer: Value = load::once(endpoint, &generate)
        .await
        .context("GenerateDataKey")?;
    if answer["Plaintext"]
        .as_str()
        .and_then(|p| B64.decode(p).ok())
        .map(|k| k.len())
        != Some(32)
    {
        bail!("GenerateDataKey answered without a 32-byte Plaintext: {answer}");
    }
    Ok(vec![
        ("Encrypt".to_string(), encrypt),
        ("Decrypt".to_string(), decrypt),
        ("GenerateDataKey".to_string(), generate),
    ])
}

/// Profile `trent` of an AWS credentials file.
fn read_credentials(path: &std::path::Path) -> anyhow::Result<(String, String)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value = |name: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim().to_string())
            .ok_or_else(|| anyhow!("{} has no {name}", path.display()))
    };
    Ok((value("aws_access_key_id")?, value("aws_secret_access_key")?))
}

/// The Region of the data dir's AWS config file; `us-east-1` if it names none.
fn read_region(path: &std::path::Path) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| {
            text.lines()
                .filter_map(|l| l.split_once('='))
                .find(|(k, _)| k.trim() == "region")
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "us-east-1".to_string())
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn print_table(o: &Options, targets: &[Target], results: &[Vec<Vec<Measured>>], tick_hz: u64) {
    println!();
    println!(
        "{:<9} {:<27} {:>5} {:>9} {:>8} {:>8} {:>12} {:>13} {:>12} {:>11} {:>10}",
        "target",
        "op",
        "conns",
        "req/s",
        "p50 µs",
        "p99 µs",
        "srv CPU µs/r",
        "srv cswitch/r",
        "gen CPU µs/r",
        "other cores",
        "× baseline"
    );
    for (oi, op) in o.ops.iter().enumerate() {
        for (ci, conns) in o.conns.iter().enumerate() {
            let rate = |m: &Measured| m.latencies.len() as f64 / m.window.as_secs_f64().max(1e-9);
            let baseline_rate = rate(&results[1][oi][ci]);
            for (ti, target) in targets.iter().enumerate() {
                let m = &results[ti][oi][ci];
                let mut sorted = m.latencies.clone();
                sorted.sort_unstable();
                let n = sorted.len().max(1) as f64;
                let per_req = |ticks: u64| ticks as f64 * 1e6 / tick_hz as f64 / n;
                let ratio = if ti == 0 && baseline_rate > 0.0 {
                    format!("{:.2}", rate(m) / baseline_rate)
                } else {
                    String::new()
                };
                println!(
                    "{:<9} {:<27} {:>5} {:>9.0} {:>8} {:>8} {:>12.0} {:>13.1} {:>12.0} {:>11.2} {:>10}",
                    target.server.name,
                    op,
                    conns,
                    rate(m),
                    percentile(&sorted, 0.50).as_micros(),
                    percentile(&sorted, 0.99).as_micros(),
                    per_req(m.server_ticks),
                    m.server_switches as f64 / n,
                    per_req(m.client_ticks),
                    m.other_ticks as f64 / tick_hz as f64 / m.window.as_secs_f64().max(1e-9),
                    ratio
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&v, 0.50), Duration::from_micros(50));
        assert_eq!(percentile(&v, 0.99), Duration::from_micros(99));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn arguments_parse_and_bad_ones_are_refused() {
        let args = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let o = parse_args(&args("--seconds 2 --conns 1,4 --ops Decrypt"))
            .unwrap()
            .unwrap();
        assert_eq!(o.seconds, 2.0);
        assert_eq!(o.conns, vec![1, 4]);
        assert_eq!(o.ops, vec!["Decrypt".to_string()]);
        assert!(parse_args(&args("--seconds 0")).is_err());
        assert!(parse_args(&args("--ops Sign")).is_err());
        let o = parse_args(&args("--ops Sign/RSA_2048,GenerateMac/HMAC_256"))
            .unwrap()
            .unwrap();
        assert_eq!(o.ops, vec!["Sign/RSA_2048", "GenerateMac/HMAC_256"]);
        let all = parse_args(&args("--ops all")).unwrap().unwrap();
        assert_eq!(all.ops.len(), OPERATIONS.len() + KEYED_OPERATIONS.len());
        assert!(parse_args(&args("--bogus 1")).is_err());
        assert!(parse_args(&args("--help")).unwrap().is_none());
    }
}
