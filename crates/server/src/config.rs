//! Server configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

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
    /// At most this many connections are served at once; more wait in the accept queue.
    pub max_connections: usize,
    /// Serve HTTPS with these files (reloaded when they change); plain HTTP without.
    pub tls: Option<crate::tls::TlsFiles>,
}

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4599";

/// The largest request Trent reads: room for the largest key policy the model allows
/// (131,072 characters) in JSON, with margin.
pub const DEFAULT_MAX_BODY_BYTES: usize = 300 * 1024;
