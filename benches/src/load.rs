//! The load generator: keep-alive HTTP/1.1 connections on 127.0.0.1, each a loop of sequential
//! requests with a fresh SigV4 signature per request.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::net::TcpStream;
use trent_sigv4::client::{sign, SigningParams};

use crate::children::Server;

/// No connection sends more than this many requests in one run, whatever the time bound.
const MAX_REQUESTS_PER_CONNECTION: usize = 2_000_000;
/// Error bodies kept for the report.
const MAX_ERRORS_KEPT: usize = 5;

/// Who to send to, and as whom.
pub struct Endpoint {
    /// Where the server listens.
    pub addr: SocketAddr,
    host: HeaderValue,
    access_key_id: String,
    secret_access_key: String,
    region: String,
}

impl Endpoint {
    /// An endpoint on `addr` (which must be a loopback address) signed with this credential.
    pub fn new(
        addr: SocketAddr,
        access_key_id: &str,
        secret_access_key: &str,
        region: &str,
    ) -> anyhow::Result<Endpoint> {
        if !addr.ip().is_loopback() {
            bail!("refusing to send load to {addr}: loopback only");
        }
        Ok(Endpoint {
            addr,
            host: HeaderValue::from_str(&addr.to_string())?,
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            region: region.to_string(),
        })
    }

    /// A request for `call`, signed now.
    pub fn request(&self, call: &Call) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, self.host.clone());
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        headers.insert("x-amz-target", call.target.clone());
        let params = SigningParams {
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
            session_token: None,
            region: &self.region,
            service: "kms",
            time: OffsetDateTime::now_utc(),
        };
        sign("POST", "/", "", &mut headers, &call.body, &params)?;
        let mut req = Request::post("/").body(Full::new(call.body.clone()))?;
        *req.headers_mut() = headers;
        Ok(req)
    }
}

/// One operation with its (fixed) body.
#[derive(Clone)]
pub struct Call {
    target: HeaderValue,
    body: Bytes,
}

impl Call {
    /// `TrentService.<operation>` with a JSON body.
    pub fn new(operation: &str, body: &Value) -> anyhow::Result<Call> {
        Ok(Call {
            target: HeaderValue::from_str(&format!("TrentService.{operation}"))?,
            body: Bytes::from(serde_json::to_vec(body)?),
        })
    }
}

/// A client connection's request sender.
pub type Sender = SendRequest<Full<Bytes>>;

/// A new keep-alive HTTP/1.1 connection to `addr`.
pub async fn connect(addr: SocketAddr) -> anyhow::Result<Sender> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Sends one request and reads the whole answer.
pub async fn send(
    sender: &mut Sender,
    req: Request<Full<Bytes>>,
) -> anyhow::Result<(StatusCode, Bytes)> {
    sender.ready().await?;
    let resp = sender.send_request(req).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// Sends one call on a fresh connection; fails unless the answer is 200 with a JSON body.
pub async fn once(endpoint: &Endpoint, call: &Call) -> anyhow::Result<Value> {
    let mut sender = connect(endpoint.addr).await?;
    let (status, body) = send(&mut sender, endpoint.request(call)?).await?;
    if status != StatusCode::OK {
        bail!("{status}: {}", String::from_utf8_lossy(&body));
    }
    serde_json::from_slice(&body).map_err(|e| anyhow!("the answer is not JSON: {e}"))
}

/// What one timed run measured.
#[derive(Default)]
pub struct Measured {
    /// Latency of every successful request that completed inside the measured window.
    pub latencies: Vec<Duration>,
    /// Wall-clock length of the measured window.
    pub window: Duration,
    /// Server CPU ticks (user + system) over the window.
    pub server_ticks: u64,
    /// Server context switches (all threads) over the window.
    pub server_switches: u64,
    /// CPU ticks the whole machine spent over the window outside the server under load and the
    /// load generator (other processes: noise).
    pub other_ticks: u64,
    /// The load generator's own CPU ticks over the window.
    pub client_ticks: u64,
    /// Failed requests (non-200 answers and transport errors), warm-up included.
    pub errors: u64,
    /// The first few error descriptions.
    pub error_samples: Vec<String>,
}

impl Measured {
    /// Adds another run of the same target, operation and concurrency.
    pub fn merge(&mut self, other: Measured) {
        self.latencies.extend(other.latencies);
        self.window += other.window;
        self.server_ticks += other.server_ticks;
        self.server_switches += other.server_switches;
        self.other_ticks += other.other_ticks;
        self.client_ticks += other.client_ticks;
        self.errors += other.errors;
        for e in other.error_samples {
            if self.error_samples.len() < MAX_ERRORS_KEPT {
                self.error_samples.push(e);
            }
        }
    }
}

struct Connection {
    latencies: Vec<Duration>,
    errors: u64,
    error_samples: Vec<String>,
}

/// Runs `conns` connections against `server` for `warmup` + `measure`; only requests completed
/// inside the `measure` window count, and the server's CPU time is sampled at its edges.
pub async fn run(
    server: &Server,
    endpoint: &Endpoint,
    call: &Call,
    conns: usize,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<Measured> {
    let mut senders = Vec::with_capacity(conns);
    for _ in 0..conns {
        senders.push(connect(endpoint.addr).await?);
    }
    let start = Instant::now();
    let window_start = start + warmup;
    let window_end = window_start + measure;

    let tasks: Vec<_> = senders
        .into_iter()
        .map(|mut sender| {
            let endpoint = Endpoint {
                addr: endpoint.addr,
                host: endpoint.host.clone(),
                access_key_id: endpoint.access_key_id.clone(),
                secret_access_key: endpoint.secret_access_key.clone(),
                region: endpoint.region.clone(),
            };
            let call = call.clone();
            tokio::spawn(async move {
                let mut c = Connection {
                    latencies: Vec::with_capacity(1 << 14),
                    errors: 0,
                    error_samples: Vec::new(),
                };
                for _ in 0..MAX_REQUESTS_PER_CONNECTION {
                    let sent = Instant::now();
                    if sent >= window_end {
                        break;
                    }
                    let outcome = match endpoint.request(&call) {
                        Ok(req) => send(&mut sender, req).await,
                        Err(e) => Err(e),
                    };
                    let done = Instant::now();
                    let problem = match outcome {
                        Ok((StatusCode::OK, _)) => None,
                        Ok((status, body)) => {
                            Some(format!("{status}: {}", String::from_utf8_lossy(&body)))
                        }
                        Err(e) => Some(format!("transport: {e:#}")),
                    };
                    match problem {
                        None => {
                            if sent >= window_start && done <= window_end {
                                c.latencies.push(done - sent);
                            }
                        }
                        Some(p) => {
                            c.errors += 1;
                            if c.error_samples.len() < MAX_ERRORS_KEPT {
                                c.error_samples.push(p);
                            }
                            if sender.is_closed() {
                                match connect(endpoint.addr).await {
                                    Ok(s) => sender = s,
                                    Err(e) => {
                                        c.errors += 1;
                                        c.error_samples.push(format!("reconnect: {e:#}"));
                                        break;
                                    }
                                }
                            }
                        }
                    }
                }
                c
            })
        })
        .collect();

    tokio::time::sleep_until(window_start.into()).await;
    let server_before = server.cpu_ticks()?;
    let switches_before = server.context_switches();
    let machine_before = crate::children::machine_busy_ticks();
    let client_before = crate::children::cpu_ticks("/proc/self/stat")?;
    let measured_from = Instant::now();
    tokio::time::sleep_until(window_end.into()).await;
    let server_after = server.cpu_ticks()?;
    let switches_after = server.context_switches();
    let machine_after = crate::children::machine_busy_ticks();
    let client_after = crate::children::cpu_ticks("/proc/self/stat")?;
    let window = measured_from.elapsed();

    let server_ticks = server_after.saturating_sub(server_before);
    let client_ticks = client_after.saturating_sub(client_before);
    let mut m = Measured {
        window,
        server_ticks,
        client_ticks,
        other_ticks: machine_after
            .saturating_sub(machine_before)
            .saturating_sub(server_ticks + client_ticks),
        server_switches: switches_after.saturating_sub(switches_before),
        ..Default::default()
    };
    for task in tasks {
        let c = task.await.context("a load connection panicked")?;
        m.merge(Measured {
            latencies: c.latencies,
            errors: c.errors,
            error_samples: c.error_samples,
            ..Default::default()
        });
    }
    Ok(m)
}
