//! The store conformance suite from `trent-core` (the same tests the SQLite store passes),
//! against a real PostgreSQL server this test starts, one fresh database per case.
// test code: a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use trent_store_postgres::test_util::PgServer;
use trent_store_postgres::PostgresStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_conformance_suite() {
    let Some(pg) = PgServer::start().expect("start PostgreSQL") else {
        return;
    };
    let pg = &pg;
    trent_core::conformance::run_all(|| async move {
        let url = pg.create_database().await.expect("create database");
        PostgresStore::connect(&url).await.expect("connect")
    })
    .await;
}
