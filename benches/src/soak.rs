//! `trent-bench soak`: Trent under hostile connections (idle, header drip, body drip,
//! byte-at-a-time) while legitimate clients send signed `Encrypt` requests; prints goodput,
//! latency and the server's memory. Load goes to 127.0.0.1 only, from 127.0.0.x source
//! addresses; it is bounded in time (`--seconds`) and in connections (`--hostile`), and the
//! server child is killed when it ends.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use http::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::children::Server;
use crate::load::{self, Call, Endpoint};

const USAGE: &str = "\
usage: trent-bench soak [--trent-bin PATH] [--seconds N] [--hostile N] [--hostile-addrs N]
                        [--conns N] [-- TRENT-SERVE-ARGS...]

Starts `trent serve` (default target/release/trent) on 127.0.0.1 and, for --seconds (default
120), keeps --hostile (default 10000) hostile connections open from --hostile-addrs (default
40) source addresses 127.0.0.2 and up: a quarter each idle, sending the head one byte a
second, sending the body one byte every 5 s, and sending the body one byte every 50 ms. A
connection the server closes is opened again after a second. Meanwhile --conns (default 16)
keep-alive connections from 127.0.0.1 send signed Encrypt requests (1 KiB) one after another.
Arguments after -- go to `trent serve`.";

/// What the hostile connections send as their (never finished) body's declared length.
const HOSTILE_BODY_BYTES: usize = 300 * 1024;

struct Options {
    trent_bin: PathBuf,
    seconds: u64,
    hostile: usize,
    hostile_addrs: usize,
    conns: usize,
    serve_args: Vec<String>,
}

/// Entry point of `trent-bench soak ARGS`.
pub fn main(args: &[String]) -> ExitCode {
    crate::run_command(
        "trent-bench soak",
        USAGE,
        parse_args(args),
        |options| async move { run(&options).await.map(|()| true) },
    )
}

fn parse_args(args: &[String]) -> anyhow::Result<Option<Options>> {
    let mut o = Options {
        trent_bin: crate::default_trent_bin(),
        seconds: 120,
        hostile: 10_000,
        hostile_addrs: 40,
        conns: 16,
        serve_args: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        if flag == "--" {
            o.serve_args = it.map(String::clone).collect();
            break;
        }
        let value = it
            .next()
            .ok_or_else(|| anyhow!("{flag} needs a value"))?
            .as_str();
        let number = |max: u64| -> anyhow::Result<u64> {
            value
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| anyhow!("{flag} takes a number from 1 to {max}"))
        };
        match flag.as_str() {
            "--trent-bin" => o.trent_bin = PathBuf::from(value),
            "--seconds" => o.seconds = number(3600)?,
            "--hostile" => o.hostile = number(20_000)? as usize,
            "--hostile-addrs" => o.hostile_addrs = number(250)? as usize,
            "--conns" => o.conns = number(256)? as usize,
            _ => bail!("unknown argument {flag}"),
        }
    }
    Ok(Some(o))
}

/// Counters shared by the hostile connections.
#[derive(Default)]
struct Hostile {
    opened: AtomicU64,
    closed_by_server: AtomicU64,
    throttled: AtomicU64,
    connect_failed: AtomicU64,
}

#[derive(Clone, Copy)]
enum Kind {
    Idle,
    HeadDrip,
    BodyDrip,
    ByteAtATime,
}

async fn run(o: &Options) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let data_dir = tmp.path().join("data");
    let mut cmd = Command::new(&o.trent_bin);
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .args(&o.serve_args);
    let mut server = Server::start("trent", cmd, tmp.path().join("trent.stderr"))
        .with_context(|| format!("starting {}", o.trent_bin.display()))?;
    let (akid, secret) = crate::read_credentials(&data_dir.join("credentials"))?;
    let region = crate::read_region(&data_dir.join("config"));
    let endpoint = Arc::new(Endpoint::new(server.addr, &akid, &secret, &region)?);
    let created = load::once(
        &endpoint,
        &Call::new("CreateKey", &json!({"Description": "soak"}))?,
    )
    .await
    .context("CreateKey")?;
    let key_id = created["KeyMetadata"]["KeyId"]
        .as_str()
        .ok_or_else(|| anyhow!("CreateKey answered without a KeyId: {created}"))?
        .to_string();
    let mut plaintext = vec![0u8; 1024];
    aws_lc_rs::rand::fill(&mut plaintext).map_err(|_| anyhow!("no randomness"))?;
    let call = Call::new(
        "Encrypt",
        &json!({"KeyId": key_id, "Plaintext": B64.encode(&plaintext)}),
    )?;

    let start = Instant::now();
    let end = start + Duration::from_secs(o.seconds);
    let rss_start = rss_kib(server.pid());
    println!(
        "soak: trent {} (pid {}), {} s, {} hostile connections from {} addresses, {} legitimate connections; server RSS at start {} MiB",
        server.addr,
        server.pid(),
        o.seconds,
        o.hostile,
        o.hostile_addrs,
        o.conns,
        rss_start / 1024
    );

    // The legitimate clients connect first, as long-lived clients of a service would be.
    let mut legit = Vec::new();
    for _ in 0..o.conns {
        let sender = load::connect(server.addr).await?;
        let endpoint = endpoint.clone();
        let call = call.clone();
        legit.push(tokio::spawn(legit_loop(endpoint, call, sender, end)));
    }

    let hostile = Arc::new(Hostile::default());
    let kinds = [
        Kind::Idle,
        Kind::HeadDrip,
        Kind::BodyDrip,
        Kind::ByteAtATime,
    ];
    let mut tasks = Vec::with_capacity(o.hostile);
    for i in 0..o.hostile {
        let source = Ipv4Addr::new(127, 0, 0, 2 + (i % o.hostile_addrs) as u8);
        let h = hostile.clone();
        let kind = kinds[i % kinds.len()];
        let addr = server.addr;
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let _ =
                    tokio::time::timeout_at(end.into(), hostile_connection(addr, source, kind, &h))
                        .await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
        // Open them at a pace the accept loop sees as a burst, not all in one instant.
        if i % 500 == 499 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    let mut rss_max = rss_start;
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_secs(1)).await;
        server.check_alive()?;
        rss_max = rss_max.max(rss_kib(server.pid()));
    }
    let rss_end = rss_kib(server.pid());
    let mut ok = Vec::new();
    let (mut throttled, mut errors, mut samples) = (0u64, 0u64, Vec::new());
    for t in legit {
        let r = t.await.context("a legitimate client panicked")?;
        ok.extend(r.latencies);
        throttled += r.throttled;
        errors += r.errors;
        samples.extend(r.samples);
    }
    for t in tasks {
        t.abort();
    }
    ok.sort_unstable();
    let elapsed = start.elapsed().as_secs_f64();
    let p = |q: f64| crate::percentile(&ok, q).as_secs_f64() * 1000.0;
    println!(
        "legitimate: {} Encrypt OK in {:.0} s = {:.0} req/s; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} ThrottlingException, {} other errors",
        ok.len(),
        elapsed,
        ok.len() as f64 / elapsed,
        p(0.50),
        p(0.99),
        ok.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        throttled,
        errors
    );
    for s in samples.iter().take(5) {
        println!("    e.g. {s}");
    }
    println!(
        "hostile: {} connections opened, {} closed by the server, {} answered ThrottlingException, {} connects failed",
        hostile.opened.load(Ordering::Relaxed),
        hostile.closed_by_server.load(Ordering::Relaxed),
        hostile.throttled.load(Ordering::Relaxed),
        hostile.connect_failed.load(Ordering::Relaxed)
    );
    println!(
        "server RSS: {} MiB at start, {} MiB at most, {} MiB at the end",
        rss_start / 1024,
        rss_max / 1024,
        rss_end / 1024
    );
    drop(server);
    drop(tmp);
    Ok(())
}

struct LegitResult {
    latencies: Vec<Duration>,
    throttled: u64,
    errors: u64,
    samples: Vec<String>,
}

/// Sends signed Encrypt requests one after another until `end`, reconnecting when the
/// connection closes.
async fn legit_loop(
    endpoint: Arc<Endpoint>,
    call: Call,
    mut sender: load::Sender,
    end: Instant,
) -> LegitResult {
    let mut r = LegitResult {
        latencies: Vec::new(),
        throttled: 0,
        errors: 0,
        samples: Vec::new(),
    };
    while Instant::now() < end {
        let sent = Instant::now();
        let outcome = match endpoint.request(&call) {
            Ok(req) => tokio::time::timeout(Duration::from_secs(30), load::send(&mut sender, req))
                .await
                .unwrap_or_else(|_| Err(anyhow!("no answer within 30 s"))),
            Err(e) => Err(e),
        };
        match outcome {
            Ok((StatusCode::OK, _)) => r.latencies.push(sent.elapsed()),
            Ok((_, body)) if String::from_utf8_lossy(&body).contains("ThrottlingException") => {
                r.throttled += 1
            }
            Ok((status, body)) => {
                r.errors += 1;
                if r.samples.len() < 5 {
                    r.samples
                        .push(format!("{status}: {}", String::from_utf8_lossy(&body)));
                }
            }
            Err(e) => {
                r.errors += 1;
                if r.samples.len() < 5 {
                    r.samples.push(format!("{e:#}"));
                }
            }
        }
        if sender.is_closed() {
            match load::connect(endpoint.addr).await {
                Ok(s) => sender = s,
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
    r
}

/// One hostile connection from `source`, until the server closes it.
async fn hostile_connection(addr: SocketAddr, source: Ipv4Addr, kind: Kind, h: &Hostile) {
    let stream = match connect_from(addr, source).await {
        Ok(s) => s,
        Err(_) => {
            h.connect_failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    h.opened.fetch_add(1, Ordering::Relaxed);
    let (mut rd, mut wr) = stream.into_split();
    let head = |body: bool| {
        format!(
            "POST / HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-amz-json-1.1\r\nx-amz-target: TrentService.Encrypt\r\n{}\r\n",
            if body { format!("content-length: {HOSTILE_BODY_BYTES}\r\n") } else { String::new() }
        )
    };
    let send = async move {
        let (prefix, pace) = match kind {
            Kind::Idle => return std::future::pending::<()>().await,
            Kind::HeadDrip => (String::new(), Duration::from_secs(1)),
            Kind::BodyDrip => (head(true), Duration::from_secs(5)),
            Kind::ByteAtATime => (head(true), Duration::from_millis(50)),
        };
        if wr.write_all(prefix.as_bytes()).await.is_err() {
            return;
        }
        let drip = if matches!(kind, Kind::HeadDrip) {
            head(false).into_bytes()
        } else {
            vec![b' '; HOSTILE_BODY_BYTES]
        };
        for b in drip {
            if wr.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(pace).await;
        }
        std::future::pending::<()>().await
    };
    let receive = async {
        let mut buf = [0u8; 2048];
        let mut seen = Vec::new();
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if seen.len() < 4096 {
                        seen.extend_from_slice(&buf[..n]);
                    }
                }
            }
        }
        if String::from_utf8_lossy(&seen).contains("ThrottlingException") {
            h.throttled.fetch_add(1, Ordering::Relaxed);
        }
        h.closed_by_server.fetch_add(1, Ordering::Relaxed);
    };
    tokio::select! {
        _ = send => {}
        _ = receive => {}
    }
}

async fn connect_from(addr: SocketAddr, source: Ipv4Addr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    socket.connect(addr).await
}

/// `VmRSS` of a process in KiB (0 if unreadable).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
