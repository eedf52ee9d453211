//! A throwaway PostgreSQL server for tests (feature `test-util`): `initdb` and `pg_ctl start`
//! from `/usr/lib/postgresql/<version>/bin` into a temporary directory, on a free loopback
//! port, stopped and deleted on drop. One server serves many tests, each in a database of its
//! own ([`PgServer::create_database`]).
//!
//! Run as root, the server runs as the `postgres` user (`runuser -u postgres --`), which owns
//! the temporary directory. Without PostgreSQL installed, [`PgServer::start`] returns `Ok(None)`
//! after printing a note, so a developer's machine skips these tests; under `CI=true` a missing
//! PostgreSQL is an error (`.ci/run` installs it).

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where Debian's `postgresql` package puts each major version's programs.
const PG_LIB: &str = "/usr/lib/postgresql";

/// How many free ports [`PgServer::start`] tries (another process may take one first).
const START_ATTEMPTS: usize = 5;

/// A running PostgreSQL server in a temporary directory, stopped on drop.
#[derive(Debug)]
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    next_database: AtomicUsize,
}

/// The `bin` directory of the newest PostgreSQL under `/usr/lib/postgresql` that has `initdb`
/// and `pg_ctl`, or `None` if there is none.
pub fn find_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(PG_LIB)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The effective user is root (`/proc/self` belongs to the process's effective user).
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A port nobody listened on a moment ago.
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("local_addr: {e}"))
}

fn describe_output(what: &str, out: &Output) -> String {
    format!(
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

impl PgServer {
    /// Starts a server. `Ok(None)` (with a note on stderr) if PostgreSQL is not installed and
    /// `CI` is not `true`; `Err` if it is missing under CI or fails to start.
    pub fn start() -> Result<Option<PgServer>, String> {
        let Some(bin) = find_bin_dir() else {
            if in_ci() {
                return Err(format!(
                    "PostgreSQL is not installed (no {PG_LIB}/<version>/bin/initdb), and CI=true \
                     requires it: apt-get install postgresql"
                ));
            }
            // Straight to stderr, not through eprintln!, which the test harness captures and
            // shows only for failing tests: a skip must be visible.
            let _ = writeln!(
                std::io::stderr(),
                "note: skipping a PostgreSQL test: no {PG_LIB}/<version>/bin/initdb \
                 (apt-get install postgresql to run it)"
            );
            return Ok(None);
        };
        let as_postgres = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("trent-pg-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let mut server = PgServer {
            dir,
            bin,
            port: 0,
            as_postgres,
            next_database: AtomicUsize::new(0),
        };
        if as_postgres {
            server.checked(
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(server.dir.path()),
                "chown postgres",
            )?;
        }
        let data = server.data_dir();
        let mut initdb = server.command("initdb");
        server.checked(
            initdb.arg("-D").arg(&data).args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "-N",
            ]),
            "initdb",
        )?;
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            server.port = free_port()?;
            let options = format!(
                "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
                 -c fsync=off -c max_connections=300",
                server.port,
                server.dir.path().display()
            );
            let log = server.dir.path().join("server.log");
            let mut pg_ctl = server.command("pg_ctl");
            pg_ctl
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o", &options, "start"]);
            match server.checked(&mut pg_ctl, "pg_ctl start") {
                Ok(()) => return Ok(Some(server)),
                Err(e) => {
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    last_error = format!("{e}\nserver log:\n{log}");
                }
            }
        }
        Err(last_error)
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The directory of the server's programs (`initdb`, `pg_ctl`, `psql`, …).
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of `database` on this server, as the superuser `postgres` (trust authentication).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a fresh, empty database and returns its URL.
    pub async fn create_database(&self) -> Result<String, String> {
        let n = self.next_database.fetch_add(1, Ordering::Relaxed);
        let name = format!("trent_test_{n}");
        let (client, connection) =
            tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
                .await
                .map_err(|e| format!("connect: {e}"))?;
        let connection = tokio::spawn(connection);
        // The name is made here from a counter, never from input; DDL takes no parameters.
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
        drop(client);
        let _ = connection.await;
        Ok(self.url(&name))
    }

    /// A command running one of the server's programs, as `postgres` when we are root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn checked(&self, command: &mut Command, what: &str) -> Result<(), String> {
        let out = command
            .output()
            .map_err(|e| format!("{what}: cannot run: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(describe_output(what, &out))
        }
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`), as a crash would. The drop does
    /// this too; tests call it to see what a client makes of a database that went away.
    pub fn stop(&self) -> Result<(), String> {
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"]);
        self.checked(&mut pg_ctl, "pg_ctl stop")
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.data_dir().join("postmaster.pid").exists() {
            if let Err(e) = self.stop() {
                eprintln!("warning: could not stop the test PostgreSQL server: {e}");
            }
        }
    }
}
