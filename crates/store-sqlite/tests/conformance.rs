//! The store conformance suite from `trent-core`, against file databases and in memory.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::sync::atomic::{AtomicUsize, Ordering};

use trent_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_conformance_suite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let n = AtomicUsize::new(0);
    trent_core::conformance::run_all(|| {
        let path = dir
            .path()
            .join(format!("trent-{}.db", n.fetch_add(1, Ordering::Relaxed)));
        async move { SqliteStore::open(&path).expect("open") }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_memory_passes_conformance_suite() {
    trent_core::conformance::run_all(|| async {
        SqliteStore::open_in_memory().expect("open in memory")
    })
    .await;
}
