//! The listener: TCP, optionally TLS, HTTP/1.1 with keep-alive, connection limits (in total
//! and per client address), idle and whole-request timeouts ([`crate::transport`]), and a
//! graceful shutdown that lets requests in flight finish.
//!
//! A connection over a limit is not left waiting in the accept queue: it is accepted, answered
//! one `ThrottlingException` (which the AWS SDKs retry with backoff) with `Connection: close`,
//! and closed. That costs a fixed, small amount per connection, and at most
//! [`MAX_REJECTING`] such answers are in progress at once; beyond that, connections are closed
//! at once.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use trent_wire::error::{error_body, ErrorCode};

use crate::app::App;
use crate::pipeline::{self, SecureTransport};
use crate::transport::Guarded;

/// A client that has not finished its TLS handshake by then is disconnected.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// After shutdown begins, requests in flight get this long to finish.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// At most this many over-limit connections are being answered `ThrottlingException` at once.
pub const MAX_REJECTING: usize = 256;

/// How long answering an over-limit connection may take (TLS handshake, write, drain).
const REJECT_TIMEOUT: Duration = Duration::from_secs(2);

/// AWS KMS's message for `ThrottlingException` (as quoted in the AWS knowledge center article
/// "Why did I receive a ThrottlingException error with API requests that are made to AWS KMS?",
/// repost.aws/knowledge-center/kms-throttlingexception-error).
pub const THROTTLING_MESSAGE: &str =
    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.";

/// Counts connections in total (a semaphore, also used to wait for them at shutdown) and per
/// client address.
struct Admission {
    total: Arc<Semaphore>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    max_per_ip: usize,
}

/// A connection's place; given back when dropped.
struct Admitted {
    _total: OwnedSemaphorePermit,
    admission: Arc<Admission>,
    ip: IpAddr,
}

impl Admission {
    fn try_admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admitted> {
        let total = self.total.clone().try_acquire_owned().ok()?;
        let mut per_ip = self.per_ip.lock();
        let n = per_ip.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return None;
        }
        *n += 1;
        Some(Admitted {
            _total: total,
            admission: self.clone(),
            ip,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut per_ip = self.admission.per_ip.lock();
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

/// Serves until `shutdown` resolves: HTTPS when the app has TLS files (each connection gets
/// the certificate loaded last), plain HTTP without. The listener is already bound (so callers
/// can bind to port 0 and learn the port).
///
/// On shutdown it stops accepting, lets every connection finish the request it is serving
/// (idle keep-alive connections close at once) and returns when all have closed, or after
/// [`DRAIN_TIMEOUT`]: the caller may then close the audit log without failing a request
/// that was already being served.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let max_connections = app.config.max_connections;
    let admission = Arc::new(Admission {
        total: Arc::new(Semaphore::new(max_connections)),
        per_ip: Mutex::new(HashMap::new()),
        max_per_ip: app.config.transport.max_connections_per_ip.max(1),
    });
    let rejecting = Arc::new(Semaphore::new(MAX_REJECTING));
    let (drain, draining) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let Some((stream, peer)) = accept(&listener, shutdown.as_mut()).await else {
            break;
        };
        let _ = stream.set_nodelay(true);
        let tls = app.tls.as_ref().map(|t| t.acceptor());
        let Some(admitted) = admission.try_admit(peer.ip()) else {
            // Over a limit: one ThrottlingException, if the budget for those allows.
            if let Ok(permit) = rejecting.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(REJECT_TIMEOUT, reject(stream, tls)).await;
                    drop(permit);
                });
            }
            tracing::debug!(%peer, "connection over the limit refused");
            continue;
        };
        let app = app.clone();
        let draining = draining.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(app, stream, peer, None, draining).await,
                Some(acceptor) => {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        Ok(Ok(stream)) => {
                            let tls = negotiated(stream.get_ref().1);
                            serve_connection(app, stream, peer, Some(tls), draining).await
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(admitted);
        });
    }
    // Drain: every connection finishes its request and closes; each holds a permit until then.
    drop(listener);
    let _ = drain.send(true);
    let open = u32::try_from(max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN_TIMEOUT, admission.total.acquire_many(open))
        .await
        .is_err()
    {
        tracing::warn!(
            still_open = max_connections - admission.total.available_permits(),
            "connections still open {} s after shutdown began",
            DRAIN_TIMEOUT.as_secs()
        );
    }
    Ok(())
}

/// The answer to a connection over a limit.
fn throttling_answer() -> Vec<u8> {
    let body = error_body(ErrorCode::ThrottlingException, THROTTLING_MESSAGE);
    let mut out = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: {}\r\nx-amzn-requestid: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        pipeline::CONTENT_TYPE,
        trent_audit::new_request_id(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// Answers an over-limit connection `ThrottlingException` (after the TLS handshake, on an
/// HTTPS listener) once its request head has arrived (HTTP clients refuse an answer that comes
/// before their request), then closes it. What else the client sent is read and discarded for
/// a moment first, so that closing does not reset the connection before the client has read
/// the answer. The whole is bounded by [`REJECT_TIMEOUT`] and 16 KiB read.
async fn reject(stream: TcpStream, tls: Option<tokio_rustls::TlsAcceptor>) {
    match tls {
        None => reject_on(stream).await,
        Some(acceptor) => {
            if let Ok(stream) = acceptor.accept(stream).await {
                reject_on(stream).await;
            }
        }
    }
}

async fn reject_on<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    const MAX_READ: usize = 16 * 1024;
    let mut buf = [0u8; 2048];
    let mut total = 0usize;
    // The end of the head may straddle two reads: keep the last 3 bytes of the previous one.
    let mut tail = [0u8; 3];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        total += n;
        let mut window = tail.to_vec();
        window.extend_from_slice(&buf[..n]);
        if window.windows(4).any(|w| w == b"\r\n\r\n") || total >= MAX_READ {
            break;
        }
        tail.copy_from_slice(&window[window.len() - 3..]);
    }
    if stream.write_all(&throttling_answer()).await.is_err() {
        return;
    }
    let _ = stream.shutdown().await;
    let drained = async {
        while let Ok(n) = stream.read(&mut buf).await {
            total += n;
            if n == 0 || total > 4 * MAX_READ {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(200), drained).await;
}

/// The next connection, or `None` once `shutdown` resolves. A failed accept (e.g. out of file
/// descriptors) is logged and retried after a pause.
pub(crate) async fn accept(
    listener: &TcpListener,
    mut shutdown: std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) -> Option<(tokio::net::TcpStream, SocketAddr)> {
    loop {
        tokio::select! {
            _ = &mut shutdown => return None,
            accepted = listener.accept() => match accepted {
                Ok(a) => return Some(a),
                Err(e) => {
                    tracing::warn!(error = %e, local = ?listener.local_addr().ok(), "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Hyper's smallest read buffer (it panics below it).
const MIN_HEADER_BYTES: usize = 8192;

/// HTTP/1.1 on one accepted connection, plain or TLS (`tls`: what its handshake agreed), until
/// the client or a timeout ends it.
async fn serve_connection<S>(
    app: Arc<App>,
    stream: S,
    peer: SocketAddr,
    tls: Option<SecureTransport>,
    mut draining: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = app.config.transport.clone();
    let service = service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
        if let Some(tls) = tls {
            req.extensions_mut().insert(tls);
        }
        let app = app.clone();
        async move { Ok::<_, std::convert::Infallible>(pipeline::handle(app, req, peer).await) }
    });
    // Hyper's header timer runs from when it waits for a request head: it is the idle
    // keep-alive timeout and a bound on slow heads; the guard bounds the whole request.
    let conn = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout)
        .max_buf_size(limits.max_header_bytes.max(MIN_HEADER_BYTES))
        .serve_connection(
            TokioIo::new(Guarded::new(stream, limits.request_timeout)),
            service,
        );
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = async { draining.wait_for(|d| *d).await.is_ok() } => {
            // Finish the request being served (if any), then close.
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// The protocol version and cipher suite a finished handshake agreed, named as CloudTrail's
/// `tlsDetails` names them.
fn negotiated(conn: &rustls::ServerConnection) -> SecureTransport {
    use rustls::{CipherSuite, ProtocolVersion};
    let tls_version = match conn.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "TLSv1.3",
        Some(ProtocolVersion::TLSv1_2) => "TLSv1.2",
        _ => "unknown",
    };
    let cipher_suite = match conn.negotiated_cipher_suite().map(|s| s.suite()) {
        Some(CipherSuite::TLS13_AES_128_GCM_SHA256) => "TLS_AES_128_GCM_SHA256",
        Some(CipherSuite::TLS13_AES_256_GCM_SHA384) => "TLS_AES_256_GCM_SHA384",
        Some(CipherSuite::TLS13_CHACHA20_POLY1305_SHA256) => "TLS_CHACHA20_POLY1305_SHA256",
        Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) => {
            "ECDHE-ECDSA-AES128-GCM-SHA256"
        }
        Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384) => {
            "ECDHE-ECDSA-AES256-GCM-SHA384"
        }
        Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256) => {
            "ECDHE-ECDSA-CHACHA20-POLY1305"
        }
        Some(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) => "ECDHE-RSA-AES128-GCM-SHA256",
        Some(CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) => "ECDHE-RSA-AES256-GCM-SHA384",
        Some(CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256) => {
            "ECDHE-RSA-CHACHA20-POLY1305"
        }
        _ => "unknown",
    };
    SecureTransport {
        tls_version,
        cipher_suite,
    }
}
