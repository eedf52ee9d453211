//! Server configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use trent_core::model::AccountId;

/// How a Trent server runs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen; `127.0.0.1:4599` by default.
    pub listen: SocketAddr,
    /// The data directory (database, root key, audit log).
    pub data_dir: PathBuf,
    /// The Region this Trent serves (from the data dir's settings).
    pub region: String,
    /// In dev mode, the account every well-formed request acts as (loopback only).
    pub dev_account: Option<AccountId>,
    /// Request bodies larger than this are refused before they are buffered.
    pub max_body_bytes: usize,
    /// At most this many connections are served at once; one more is answered
    /// `ThrottlingException` and closed.
    pub max_connections: usize,
    /// Per-connection limits and timeouts (what an unauthenticated client may cost).
    pub transport: TransportLimits,
    /// Serve HTTPS with these files (reloaded when they change); plain HTTP without.
    pub tls: Option<crate::tls::TlsFiles>,
}

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4599";

/// The largest request Trent reads: room for the largest key policy the model allows
/// (131,072 characters) in JSON, with margin.
pub const DEFAULT_MAX_BODY_BYTES: usize = 300 * 1024;

/// What one client may cost before it has authenticated: connections, time and header bytes.
/// The defaults keep a 2-core Trent answering while thousands of hostile connections are open.
#[derive(Clone, Debug)]
pub struct TransportLimits {
    /// At most this many connections from one IP address at once (raise it behind a proxy,
    /// where every client has the proxy's address).
    pub max_connections_per_ip: usize,
    /// A connection must send a complete request head within this long of opening or of its
    /// previous answer (idle keep-alive connections are closed after it).
    pub idle_timeout: Duration,
    /// A request (head and body) must arrive within this long of its first byte.
    pub request_timeout: Duration,
    /// The largest request head (request line and headers) read; larger heads are answered
    /// 431. At least 8 KiB.
    pub max_header_bytes: usize,
}

/// Connections per client address by default.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 256;
/// Idle keep-alive (and header) timeout by default.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Whole-request deadline by default: SDK requests take milliseconds; the largest body
/// (300 KiB) needs 240 kbit/s to make it.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Request head limit by default: SDK heads are 1-3 KiB (a session token is the largest part).
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;

impl Default for TransportLimits {
    fn default() -> Self {
        TransportLimits {
            max_connections_per_ip: DEFAULT_MAX_CONNECTIONS_PER_IP,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}
