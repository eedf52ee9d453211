//! Signed checkpoints (`audit.checkpoints`, JSON Lines): each states where the chain stood —
//! segment, byte offset, sequence and chain value of the record ending there — and when,
//! signed with Ed25519 so it can be checked with the public key alone. The server starts
//! from the last one instead of re-reading the whole log.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::chain::{self, Hash};
use crate::keys::{AuditKeys, CheckpointPublicKey};

/// File name of the checkpoints inside the audit directory.
pub const CHECKPOINT_FILE: &str = "audit.checkpoints";

/// Domain separation of the signed message.
const SIGNED_PREFIX: &[u8] = b"trent-audit-checkpoint-v1\n";

/// Where the chain stood at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    /// The segment's number (the live segment's number stays its number once rotated).
    pub segment: u64,
    /// Bytes of the segment up to and including the record's newline (0: the segment is empty
    /// and the record is the last of an earlier segment).
    pub offset: u64,
    /// The record's sequence (0 with no record yet).
    pub sequence: u64,
    /// The record's chain value (HMAC-SHA256 of its line; SHA-256 for legacy lines).
    pub value: Hash,
    /// When the checkpoint was made (`2026-11-29T08:00:00Z`).
    pub time: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Line {
    segment: u64,
    offset: u64,
    sequence: u64,
    mac: String,
    time: String,
    signature: String,
}

impl Checkpoint {
    /// The exact bytes signed: prefix, then the fields in a fixed order, one per line.
    fn message(&self) -> Vec<u8> {
        let mut m = SIGNED_PREFIX.to_vec();
        m.extend_from_slice(
            format!(
                "{}\n{}\n{}\n{}\n{}",
                self.segment,
                self.offset,
                self.sequence,
                hex::encode(self.value),
                self.time
            )
            .as_bytes(),
        );
        m
    }

    /// The signed JSON line, with its newline.
    pub(crate) fn to_line(&self, keys: &AuditKeys) -> Vec<u8> {
        let line = Line {
            segment: self.segment,
            offset: self.offset,
            sequence: self.sequence,
            mac: hex::encode(self.value),
            time: self.time.clone(),
            signature: hex::encode(keys.sign(&self.message())),
        };
        // Serializing plain strings and integers cannot fail.
        let mut out = serde_json::to_vec(&line).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Parses a line (without its newline) and checks its signature.
    pub(crate) fn parse(line: &[u8], public: &CheckpointPublicKey) -> Result<Checkpoint, String> {
        let l: Line = serde_json::from_slice(line).map_err(|e| format!("does not parse ({e})"))?;
        let mut value = [0u8; 32];
        hex::decode_to_slice(&l.mac, &mut value).map_err(|_| "its mac is not 64 hex digits")?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&l.signature, &mut sig)
            .map_err(|_| "its signature is not 128 hex digits")?;
        let c = Checkpoint {
            segment: l.segment,
            offset: l.offset,
            sequence: l.sequence,
            value,
            time: l.time,
        };
        if !public.verifies(&c.message(), &sig) {
            return Err("its signature does not verify (forged or altered)".into());
        }
        Ok(c)
    }
}

/// Every checkpoint in the file, in order, each signature checked. A torn final line (a crash
/// while it was written) is ignored. A missing file has none.
pub(crate) fn read_all(
    path: &Path,
    public: &CheckpointPublicKey,
) -> Result<Vec<Checkpoint>, String> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot be read: {e}")),
    };
    let mut reader = BufReader::new(file);
    let mut out = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot be read: {e}"))?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(out);
        }
        line.pop();
        let c = Checkpoint::parse(&line, public)
            .map_err(|e| format!("checkpoint {}: {e}", out.len() + 1))?;
        out.push(c);
    }
}

/// The last complete checkpoint, its signature checked, without reading the whole file; and
/// the length of the file's complete part (a torn final line starts there).
pub(crate) fn read_last(
    file: &mut File,
    public: &CheckpointPublicKey,
) -> io::Result<Result<(Option<Checkpoint>, u64), String>> {
    let len = file.metadata()?.len();
    let Some((start, line_len, complete)) = chain::last_line(file, len)? else {
        return Ok(Ok((None, 0)));
    };
    let line = chain::read_range(file, start, line_len)?;
    Ok(Checkpoint::parse(&line, public).map(|c| (Some(c), complete)))
}

/// Appends one checkpoint line (one write).
pub(crate) fn append(file: &mut File, line: &[u8]) -> io::Result<()> {
    file.write_all(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> AuditKeys {
        AuditKeys::new(&[1; 32], &[2; 32]).unwrap()
    }

    fn sample() -> Checkpoint {
        Checkpoint {
            segment: 3,
            offset: 1234,
            sequence: 99,
            value: [7; 32],
            time: "2026-12-07T19:00:00Z".into(),
        }
    }

    #[test]
    fn a_checkpoint_round_trips_through_its_signed_line() {
        let k = keys();
        let line = sample().to_line(&k);
        assert_eq!(line.last(), Some(&b'\n'));
        let parsed = Checkpoint::parse(&line[..line.len() - 1], &k.public_key()).unwrap();
        assert_eq!(parsed, sample());
    }

    #[test]
    fn an_altered_field_or_another_key_fails_the_signature() {
        let k = keys();
        let line = String::from_utf8(sample().to_line(&k)).unwrap();
        let line = line.trim_end();
        for (from, to) in [
            ("\"sequence\":99", "\"sequence\":98"),
            ("\"offset\":1234", "\"offset\":1235"),
            ("\"segment\":3", "\"segment\":4"),
            ("19:00:00Z", "19:00:01Z"),
        ] {
            let altered = line.replace(from, to);
            assert_ne!(altered, line);
            let e = Checkpoint::parse(altered.as_bytes(), &k.public_key()).unwrap_err();
            assert!(e.contains("signature"), "{from}: {e}");
        }
        let other = AuditKeys::new(&[1; 32], &[5; 32]).unwrap();
        assert!(Checkpoint::parse(line.as_bytes(), &other.public_key()).is_err());
        // A checkpoint signed by another key pair (an attacker's) is refused too.
        let forged = String::from_utf8(sample().to_line(&other)).unwrap();
        assert!(Checkpoint::parse(forged.trim_end().as_bytes(), &k.public_key()).is_err());
    }

    #[test]
    fn read_all_ignores_a_torn_final_line_and_read_last_finds_the_last() {
        let k = keys();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CHECKPOINT_FILE);
        let mut second = sample();
        second.sequence = 100;
        let mut bytes = sample().to_line(&k);
        bytes.extend(second.to_line(&k));
        let complete = bytes.len() as u64;
        bytes.extend_from_slice(b"{\"segment\":3,\"off");
        std::fs::write(&path, &bytes).unwrap();
        let all = read_all(&path, &k.public_key()).unwrap();
        assert_eq!(all, [sample(), second.clone()]);
        let mut f = File::open(&path).unwrap();
        let (last, len) = read_last(&mut f, &k.public_key()).unwrap().unwrap();
        assert_eq!((last, len), (Some(second), complete));
        assert!(read_all(&dir.path().join("none"), &k.public_key())
            .unwrap()
            .is_empty());
    }
}
