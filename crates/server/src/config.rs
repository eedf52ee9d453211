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
    /// The default Region (from the data dir's settings, `trent init --region`): the Region of
    /// the audit records of requests whose own Region is unknown (no valid signature).
    pub region: String,
    /// The Regions served (`trent serve --regions`): a request whose SigV4 credential scope
    /// names another Region is refused as AWS refuses a wrong Region. Empty: every Region of
    /// the `aws` partition ([`trent_core::region::AWS_REGIONS`]) and the default Region
    /// (ARCHITECTURE.md §10).
    pub regions: Vec<String>,
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
    /// The PostgreSQL database given with `--database` (it may carry the password the data
    /// dir's settings leave out); `None` opens what the settings name (ARCHITECTURE.md §6.1).
    pub database: Option<DatabaseUrl>,
}

impl ServerConfig {
    /// The served Region named `name`, interned; `None` if this Trent does not serve it.
    pub fn served_region(&self, name: &str) -> Option<&'static str> {
        let served = if self.regions.is_empty() {
            trent_core::region::AWS_REGIONS.binary_search(&name).is_ok() || name == self.region
        } else {
            self.regions.iter().any(|r| r == name)
        };
        served.then(|| trent_core::region::intern(name))
    }

    /// The default Region, interned.
    pub fn default_region(&self) -> &'static str {
        trent_core::region::intern(&self.region)
    }

    /// The Regions served, in order: `--regions` as given, else the `aws` partition's and the
    /// default Region if it is not one of them. Bounded (metrics may label by it).
    pub fn served_regions(&self) -> Vec<&'static str> {
        if !self.regions.is_empty() {
            return self
                .regions
                .iter()
                .map(|r| trent_core::region::intern(r))
                .collect();
        }
        let mut all = trent_core::region::AWS_REGIONS.to_vec();
        if !all.contains(&self.region.as_str()) {
            all.push(self.default_region());
        }
        all
    }
}

/// Why a `--regions` list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionsError {
    /// An entry that is not a Region name (empty, upper case, no digits…).
    #[error("'{0}' is not a Region name (e.g. us-east-1)")]
    NotARegion(String),
}

/// Parses `--regions`: comma-separated Region names, at least one, each well-formed
/// ([`trent_core::region::is_region_name`]); duplicates are dropped.
pub fn parse_regions(text: &str) -> Result<Vec<String>, RegionsError> {
    let mut out: Vec<String> = Vec::new();
    for r in text.split(',').map(str::trim) {
        if !trent_core::region::is_region_name(r) {
            return Err(RegionsError::NotARegion(r.to_string()));
        }
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    }
    Ok(out)
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

/// A PostgreSQL connection string as the operator gave it (`postgres://…` URL or libpq
/// `key=value` words). It may hold a password, so it is zeroized on drop and its `Debug` shows
/// it without one; [`DatabaseUrl::redacted`] is the form written to `settings.json`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(zeroize::Zeroizing<String>);

impl DatabaseUrl {
    /// Wraps a connection string.
    pub fn new(url: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(zeroize::Zeroizing::new(url.into()))
    }

    /// The connection string with its password, for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The connection string without any password (the URL's `user:password@` and any
    /// `password` parameter or `password=` word removed).
    pub fn redacted(&self) -> String {
        without_password(&self.0)
    }

    /// Whether the connection string holds a password.
    pub fn has_password(&self) -> bool {
        without_password(&self.0) != *self.0
    }

    /// This connection string with `password` added (`PGPASSWORD`), when it has none.
    pub fn with_password(&self, password: &str) -> DatabaseUrl {
        if self.has_password() {
            return self.clone();
        }
        let url: &str = &self.0;
        if is_url(url) {
            let encoded =
                percent_encoding::utf8_percent_encode(password, percent_encoding::NON_ALPHANUMERIC);
            let sep = if url.contains('?') { '&' } else { '?' };
            DatabaseUrl::new(format!("{url}{sep}password={encoded}"))
        } else {
            let quoted = password.replace('\\', "\\\\").replace('\'', "\\'");
            DatabaseUrl::new(format!("{url} password='{quoted}'"))
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&self.redacted())
            .finish()
    }
}

fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// `url` without its password: in URL form the `:password` of the user info and any
/// `password=` query parameter; in `key=value` form any `password=` word (quoted or not).
fn without_password(url: &str) -> String {
    if is_url(url) {
        let (scheme, rest) = url.split_at(url.find("://").map_or(0, |i| i + 3));
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let authority = match authority.rfind('@') {
            Some(at) => {
                let (userinfo, host) = authority.split_at(at);
                let user = userinfo.split(':').next().unwrap_or("");
                format!("{user}{host}")
            }
            None => authority.to_string(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|p| !p.starts_with("password=") && !p.is_empty())
                    .collect();
                if kept.is_empty() {
                    path.to_string()
                } else {
                    format!("{path}?{}", kept.join("&"))
                }
            }
            None => tail.to_string(),
        };
        format!("{scheme}{authority}{tail}")
    } else {
        let mut kept = Vec::new();
        let mut in_quoted_password = false;
        for word in url.split_whitespace() {
            if in_quoted_password {
                in_quoted_password = !ends_quote(word);
                continue;
            }
            if let Some(value) = word.strip_prefix("password=") {
                in_quoted_password =
                    value.starts_with('\'') && (value.len() < 2 || !ends_quote(value));
                continue;
            }
            kept.push(word);
        }
        kept.join(" ")
    }
}

/// Whether a word ends a quoted value (a `'` not escaped by a backslash).
fn ends_quote(word: &str) -> bool {
    word.ends_with('\'') && !word.ends_with("\\'")
}

#[cfg(test)]
mod database_url_tests {
    use super::*;

    #[test]
    fn passwords_are_left_out_of_the_redacted_form_and_the_debug_text() {
        for (given, redacted) in [
            (
                "postgres://trent:s3cret@db:5432/trent",
                "postgres://trent@db:5432/trent",
            ),
            ("postgresql://trent@db/trent", "postgresql://trent@db/trent"),
            (
                "postgres://db/trent?user=trent&password=s3cret&sslmode=disable",
                "postgres://db/trent?user=trent&sslmode=disable",
            ),
            ("postgres://db?password=s3cret", "postgres://db"),
            (
                "host=db user=trent password=s3cret dbname=trent",
                "host=db user=trent dbname=trent",
            ),
            (
                "host=db password='s3 cret' dbname=trent",
                "host=db dbname=trent",
            ),
        ] {
            let url = DatabaseUrl::new(given);
            assert_eq!(url.redacted(), redacted, "{given}");
            assert_eq!(url.has_password(), given != redacted, "{given}");
            assert!(!format!("{url:?}").contains("s3"), "{url:?}");
        }
    }

    #[test]
    fn a_password_from_the_environment_is_added_only_when_the_url_has_none() {
        let url = DatabaseUrl::new("postgres://trent@db/trent").with_password("p@ss w");
        assert_eq!(
            url.expose(),
            "postgres://trent@db/trent?password=p%40ss%20w"
        );
        assert_eq!(url.redacted(), "postgres://trent@db/trent");
        let kv = DatabaseUrl::new("host=db user=trent").with_password("it's");
        assert_eq!(kv.expose(), "host=db user=trent password='it\\'s'");
        assert_eq!(kv.redacted(), "host=db user=trent");
        let own = DatabaseUrl::new("postgres://trent:mine@db/trent").with_password("other");
        assert_eq!(own.expose(), "postgres://trent:mine@db/trent");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(region: &str, regions: &[&str]) -> ServerConfig {
        ServerConfig {
            listen: DEFAULT_LISTEN.parse().unwrap(),
            data_dir: PathBuf::from("/nonexistent"),
            region: region.into(),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            dev_account: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_connections: 1,
            transport: TransportLimits::default(),
            tls: None,
            database: None,
        }
    }

    #[test]
    fn by_default_every_aws_region_and_the_default_region_are_served() {
        let c = config("us-east-1", &[]);
        for r in ["us-east-1", "eu-west-1", "ap-southeast-1", "mx-central-1"] {
            assert_eq!(c.served_region(r), Some(r));
        }
        for r in ["cn-north-1", "us-gov-west-1", "moon-base-1", ""] {
            assert_eq!(c.served_region(r), None, "{r}");
        }
        assert_eq!(
            c.served_regions().len(),
            trent_core::region::AWS_REGIONS.len()
        );
        let other = config("cn-north-1", &[]);
        assert_eq!(other.served_region("cn-north-1"), Some("cn-north-1"));
        assert_eq!(
            other.served_regions().len(),
            trent_core::region::AWS_REGIONS.len() + 1
        );
    }

    #[test]
    fn regions_limits_the_served_set() {
        let c = config("us-east-1", &["eu-west-1", "us-east-1"]);
        assert_eq!(c.served_region("eu-west-1"), Some("eu-west-1"));
        assert_eq!(c.served_region("us-west-2"), None);
        assert_eq!(c.served_regions(), vec!["eu-west-1", "us-east-1"]);
    }

    #[test]
    fn regions_parse_from_a_comma_separated_list() {
        assert_eq!(
            parse_regions("us-east-1, eu-west-1,us-east-1").unwrap(),
            vec!["us-east-1".to_string(), "eu-west-1".to_string()]
        );
        assert!(parse_regions("us-east-1,,eu-west-1").is_err());
        assert_eq!(
            parse_regions("US-EAST-1"),
            Err(RegionsError::NotARegion("US-EAST-1".into()))
        );
    }
}
