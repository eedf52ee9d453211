//! Segment files: the live `audit.jsonl` and the rotated, numbered `audit-000001.jsonl`, ….

use std::io;
use std::path::{Path, PathBuf};

use crate::LOG_FILE;

/// A log file and its place in the chain. Numbers count from 1; the live segment's number is
/// one more than the highest rotated one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub number: u64,
    pub path: PathBuf,
    pub live: bool,
}

impl Segment {
    /// The file name, for messages.
    pub(crate) fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// `audit-000042.jsonl`: the name of rotated segment 42.
pub(crate) fn rotated_name(number: u64) -> String {
    format!("audit-{number:06}.jsonl")
}

fn parse_rotated(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("audit-")?.strip_suffix(".jsonl")?;
    if digits.len() < 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&n| n > 0)
}

/// The rotated segments in order, then the live one (whether or not its file exists).
pub(crate) fn list(dir: &Path) -> io::Result<Vec<Segment>> {
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(n) = entry.file_name().to_str().and_then(parse_rotated) {
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    let live = numbers.last().map_or(1, |n| n + 1);
    let mut out: Vec<Segment> = numbers
        .into_iter()
        .map(|number| Segment {
            number,
            path: dir.join(rotated_name(number)),
            live: false,
        })
        .collect();
    out.push(Segment {
        number: live,
        path: dir.join(LOG_FILE),
        live: true,
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_names_round_trip_and_others_are_ignored() {
        assert_eq!(rotated_name(7), "audit-000007.jsonl");
        assert_eq!(parse_rotated("audit-000007.jsonl"), Some(7));
        assert_eq!(parse_rotated("audit-1234567.jsonl"), Some(1_234_567));
        assert_eq!(parse_rotated("audit-7.jsonl"), None);
        assert_eq!(parse_rotated("audit-000000.jsonl"), None);
        assert_eq!(parse_rotated("audit.jsonl"), None);
        assert_eq!(parse_rotated("audit-00000x.jsonl"), None);
    }

    #[test]
    fn the_live_segment_comes_last_numbered_after_the_rotated_ones() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(list(dir.path()).unwrap()[0].number, 1);
        std::fs::write(dir.path().join(rotated_name(2)), b"").unwrap();
        std::fs::write(dir.path().join(rotated_name(1)), b"").unwrap();
        std::fs::write(dir.path().join("audit-x.jsonl"), b"").unwrap();
        let segs = list(dir.path()).unwrap();
        let numbers: Vec<_> = segs.iter().map(|s| (s.number, s.live)).collect();
        assert_eq!(numbers, [(1, false), (2, false), (3, true)]);
        assert_eq!(segs[2].name(), LOG_FILE);
    }
}
