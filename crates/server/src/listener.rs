//! The listener: TCP, optionally TLS, HTTP/1.1 with keep-alive, a connection limit, header
//! timeouts, and a graceful shutdown that lets requests in flight finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::app::App;
use crate::pipeline::{self, SecureTransport};

/// A client that has not finished its TLS handshake by then is disconnected.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// After shutdown begins, requests in flight get this long to finish.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

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
    let permits = Arc::new(Semaphore::new(app.config.max_connections));
    let (drain, draining) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let Some((stream, peer)) = accept(&listener, shutdown.as_mut()).await else {
            break;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = app.tls.as_ref().map(|t| t.acceptor());
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
            drop(permit);
        });
    }
    // Drain: every connection finishes its request and closes; each holds a permit until then.
    drop(listener);
    let _ = drain.send(true);
    let open = u32::try_from(app.config.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN_TIMEOUT, permits.acquire_many(open))
        .await
        .is_err()
    {
        tracing::warn!(
            still_open = app.config.max_connections - permits.available_permits(),
            "connections still open {} s after shutdown began",
            DRAIN_TIMEOUT.as_secs()
        );
    }
    Ok(())
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
    let service = service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
        if let Some(tls) = tls {
            req.extensions_mut().insert(tls);
        }
        let app = app.clone();
        async move { Ok::<_, std::convert::Infallible>(pipeline::handle(app, req, peer).await) }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .max_buf_size(64 * 1024)
        .serve_connection(TokioIo::new(stream), service);
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
