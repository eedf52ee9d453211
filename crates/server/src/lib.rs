#![forbid(unsafe_code)]
//! The Trent server: configuration, the listener, the request pipeline (read
//! [`pipeline`] top to bottom for the whole path of a request), request ↔ domain
//! conversion and the one error mapping.

pub mod api;
pub mod app;
pub mod authenticate;
pub mod conditions;
pub mod config;
pub mod credentials;
pub mod datadir;
pub mod http;
pub mod iam;
pub mod jobs;
pub mod listener;
pub mod metrics;
pub mod pipeline;
pub(crate) mod protocol;
pub mod recorder;
pub mod rotation;
pub mod strict_json;
pub mod tls;
pub mod transport;

pub use app::App;
pub use config::ServerConfig;
pub use datadir::DataDir;
