//! The two server processes: started, their banner read, their CPU time sampled, and always
//! killed when the benchmark ends (a `Drop` guard, so also on error and on panic).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};

/// How long a server may take to print its banner.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running server process; killed and reaped when dropped.
pub struct Server {
    /// `trent` or `baseline`, for messages.
    pub name: &'static str,
    /// Where it listens (always on 127.0.0.1).
    pub addr: SocketAddr,
    child: Child,
    stderr_path: PathBuf,
}

impl Server {
    /// Starts `cmd` with stdin and stdout piped, stderr to `stderr_path`, and waits for a stdout
    /// line holding `listening on http://ADDR`.
    pub fn start(
        name: &'static str,
        mut cmd: Command,
        stderr_path: PathBuf,
    ) -> anyhow::Result<Server> {
        let stderr = File::create(&stderr_path)
            .with_context(|| format!("creating {}", stderr_path.display()))?;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("starting {name}: {cmd:?}"))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        // The guard exists from here on, so the child dies whatever happens next.
        let mut server = Server {
            name,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            child,
            stderr_path,
        };
        let (tx, rx) = mpsc::channel();
        // Reads the banner, then keeps draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut tx = Some(tx);
            while let Some(Ok(line)) = lines.next() {
                if let Some(addr) = banner_addr(&line) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr);
                    }
                }
            }
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(addr) => {
                if !addr.ip().is_loopback() {
                    bail!("{name} listens on {addr}, not on loopback");
                }
                server.addr = addr;
                Ok(server)
            }
            Err(_) => bail!(
                "{name} printed no 'listening on http://' line within {START_TIMEOUT:?}; its stderr:\n{}",
                server.stderr_tail()
            ),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User + system CPU time the process has used so far, in clock ticks.
    pub fn cpu_ticks(&self) -> anyhow::Result<u64> {
        cpu_ticks(&format!("/proc/{}/stat", self.pid()))
    }

    /// Context switches (voluntary and involuntary) of all the process's threads so far.
    pub fn context_switches(&self) -> u64 {
        context_switches(&format!("/proc/{}/task", self.pid()))
    }

    /// Fails if the process has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}); its stderr:\n{}",
                self.name,
                self.stderr_tail()
            );
        }
        Ok(())
    }

    /// The last 4 KiB of the server's stderr.
    pub fn stderr_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(&self.stderr_path) {
            let _ = f.read_to_string(&mut text);
        }
        let start = text.len().saturating_sub(4096);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        text[start..].to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `... listening on http://127.0.0.1:PORT (...)` → the address.
fn banner_addr(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("listening on http://")? + "listening on http://".len()..];
    rest.split_whitespace()
        .next()?
        .trim_end_matches('/')
        .parse()
        .ok()
}

/// utime + stime (fields 14 and 15 of `/proc/PID/stat`), in clock ticks.
pub fn cpu_ticks(stat_path: &str) -> anyhow::Result<u64> {
    let text =
        std::fs::read_to_string(stat_path).with_context(|| format!("reading {stat_path}"))?;
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    let after = &text[text.rfind(')').ok_or_else(|| anyhow!("bad {stat_path}"))? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state), so utime (14) is index 11 and stime (15) index 12.
    let field = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| anyhow!("bad {stat_path}"))
    };
    Ok(field(11)? + field(12)?)
}

/// The sum of `voluntary_ctxt_switches` and `nonvoluntary_ctxt_switches` over the threads listed
/// in a `/proc/PID/task` directory (threads that already exited are not counted).
pub fn context_switches(task_dir: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir(task_dir) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

/// Busy CPU time of the whole machine so far (all CPUs: user, nice, system, irq, softirq and
/// steal from the first line of `/proc/stat`), in clock ticks.
pub fn machine_busy_ticks() -> u64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|text| {
            let fields: Vec<u64> = text
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|f| f.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal ...
            let at = |i: usize| fields.get(i).copied().unwrap_or(0);
            Some(at(0) + at(1) + at(2) + at(5) + at(6) + at(7))
        })
        .unwrap_or(0)
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), read without `unsafe` from the `AT_CLKTCK`
/// entry of `/proc/self/auxv`; 100, Linux's value on every common platform, if that fails.
pub fn clock_ticks_per_second() -> u64 {
    const AT_CLKTCK: u64 = 17;
    let Ok(auxv) = std::fs::read("/proc/self/auxv") else {
        return 100;
    };
    auxv.chunks_exact(16)
        .map(|pair| {
            let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().unwrap_or([0; 8]));
            (word(&pair[..8]), word(&pair[8..]))
        })
        .find(|&(tag, _)| tag == AT_CLKTCK)
        .map(|(_, value)| value)
        .filter(|&v| v > 0)
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners_of_both_servers_parse() {
        assert_eq!(
            banner_addr("Trent listening on http://127.0.0.1:4567 (Region us-east-1, data dir /x)"),
            Some("127.0.0.1:4567".parse().unwrap())
        );
        assert_eq!(
            banner_addr("Baseline listening on http://127.0.0.1:80 (Region us-east-1)"),
            Some("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(banner_addr("something else"), None);
    }

    #[test]
    fn own_cpu_time_and_tick_rate_are_readable() {
        assert!(cpu_ticks("/proc/self/stat").is_ok());
        assert!(clock_ticks_per_second() >= 1);
        assert!(context_switches("/proc/self/task") > 0);
        assert!(machine_busy_ticks() > 0);
    }
}
