//! Operational metrics in Prometheus's text format (version 0.0.4), served on an opt-in
//! listener (`trent serve --metrics-listen ADDR`): requests by operation and outcome, request
//! latency by operation, and the SigV4 signing-key cache. No key ids, principals or request
//! contents appear in them.
//!
//! Recording is a few relaxed atomic additions per request; nothing is locked or allocated.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use trent_wire::error::ErrorCode;
use trent_wire::Operation;

use crate::app::App;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
];

/// One slot per operation, and one for requests that named no known operation.
fn operation_slots() -> usize {
    Operation::ALL.len() + 1
}

/// Outcome slot 0 is success, 1 + [`ErrorCode::index`] an error.
fn outcome_slots() -> usize {
    ErrorCode::ALL.len() + 1
}

/// Counters and latency histograms of the KMS API requests this process answered.
pub struct Metrics {
    /// `[operation slot][outcome slot]` request counts.
    requests: Box<[AtomicU64]>,
    /// Per operation slot: one count per bucket (not cumulative), then the sum of latencies in
    /// microseconds.
    latency: Box<[AtomicU64]>,
    started: Instant,
}

impl Default for Metrics {
    fn default() -> Self {
        let counters = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect::<Box<[_]>>();
        Metrics {
            requests: counters(operation_slots() * outcome_slots()),
            latency: counters(operation_slots() * (BUCKETS.len() + 2)),
            started: Instant::now(),
        }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn record(&self, operation: Option<Operation>, error: Option<ErrorCode>, took: Duration) {
        let op = operation.map_or(Operation::ALL.len(), Operation::index);
        let outcome = error.map_or(0, |e| e.index() + 1);
        self.requests[op * outcome_slots() + outcome].fetch_add(1, Ordering::Relaxed);
        let row = op * (BUCKETS.len() + 2);
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        self.latency[row + bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.latency[row + BUCKETS.len() + 1].fetch_add(micros, Ordering::Relaxed);
    }

    /// The metrics in Prometheus's text exposition format.
    pub fn render(&self, app: &App) -> String {
        let mut out = String::with_capacity(4096);
        let name = |slot: usize| {
            Operation::ALL
                .get(slot)
                .map_or("UnknownOperation", |o| o.name())
        };
        out.push_str(
            "# HELP trent_requests_total KMS API requests answered, by operation and outcome (Success or the AWS error code).\n\
             # TYPE trent_requests_total counter\n",
        );
        for op in 0..operation_slots() {
            for outcome in 0..outcome_slots() {
                let n = self.requests[op * outcome_slots() + outcome].load(Ordering::Relaxed);
                if n == 0 {
                    continue;
                }
                let outcome = match outcome {
                    0 => "Success",
                    i => ErrorCode::ALL[i - 1].name(),
                };
                let _ = writeln!(
                    out,
                    "trent_requests_total{{operation=\"{}\",outcome=\"{outcome}\"}} {n}",
                    name(op)
                );
            }
        }
        out.push_str(
            "# HELP trent_request_duration_seconds Time from a request's arrival at the pipeline to its answer, audit record included.\n\
             # TYPE trent_request_duration_seconds histogram\n",
        );
        for op in 0..operation_slots() {
            let row = op * (BUCKETS.len() + 2);
            let counts: Vec<u64> = (0..=BUCKETS.len())
                .map(|b| self.latency[row + b].load(Ordering::Relaxed))
                .collect();
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            let op_name = name(op);
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(&counts) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "trent_request_duration_seconds_bucket{{operation=\"{op_name}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "trent_request_duration_seconds_bucket{{operation=\"{op_name}\",le=\"+Inf\"}} {total}"
            );
            let sum_micros = self.latency[row + BUCKETS.len() + 1].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "trent_request_duration_seconds_sum{{operation=\"{op_name}\"}} {}",
                sum_micros as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "trent_request_duration_seconds_count{{operation=\"{op_name}\"}} {total}"
            );
        }
        let cache = app.verifier.cache_stats();
        let _ = write!(
            out,
            "# HELP trent_sigv4_signing_key_cache_hits_total SigV4 verifications that found their signing key cached.\n\
             # TYPE trent_sigv4_signing_key_cache_hits_total counter\n\
             trent_sigv4_signing_key_cache_hits_total {}\n\
             # HELP trent_sigv4_signing_key_cache_misses_total SigV4 verifications that derived their signing key.\n\
             # TYPE trent_sigv4_signing_key_cache_misses_total counter\n\
             trent_sigv4_signing_key_cache_misses_total {}\n\
             # HELP trent_audit_log_healthy 1 while the last audit write succeeded.\n\
             # TYPE trent_audit_log_healthy gauge\n\
             trent_audit_log_healthy {}\n\
             # HELP trent_uptime_seconds Seconds since the server started.\n\
             # TYPE trent_uptime_seconds gauge\n\
             trent_uptime_seconds {}\n",
            cache.hits,
            cache.misses,
            u8::from(app.audit.is_healthy()),
            self.started.elapsed().as_secs()
        );
        out
    }
}

/// Serves `GET /metrics` on `listener` until `shutdown` resolves; anything else is 404.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let Some((stream, _peer)) = crate::listener::accept(&listener, shutdown.as_mut()).await
        else {
            break;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let app = app.clone();
                async move {
                    let found = req.method() == http::Method::GET && req.uri().path() == "/metrics";
                    let mut resp = if found {
                        let mut r = Response::new(Full::new(Bytes::from(app.metrics.render(&app))));
                        r.headers_mut().insert(
                            http::header::CONTENT_TYPE,
                            http::HeaderValue::from_static("text/plain; version=0.0.4"),
                        );
                        r
                    } else {
                        Response::new(Full::new(Bytes::from_static(b"not found\n")))
                    };
                    if !found {
                        *resp.status_mut() = StatusCode::NOT_FOUND;
                    }
                    Ok::<_, std::convert::Infallible>(resp)
                }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_and_error_code_has_its_own_slot() {
        let m = Metrics::default();
        for (i, op) in Operation::ALL.iter().enumerate() {
            assert_eq!(op.index(), i);
        }
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(code.index(), i);
        }
        m.record(
            None,
            Some(*ErrorCode::ALL.last().unwrap()),
            Duration::from_secs(60),
        );
        let last = operation_slots() * outcome_slots() - 1;
        assert_eq!(m.requests[last].load(Ordering::Relaxed), 1);
        // 60 s lands in the +Inf bucket of the last row.
        let row = Operation::ALL.len() * (BUCKETS.len() + 2);
        assert_eq!(m.latency[row + BUCKETS.len()].load(Ordering::Relaxed), 1);
    }
}
