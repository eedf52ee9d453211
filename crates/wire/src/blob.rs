//! Blobs travel as base64 strings in the JSON protocol.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// Decodes standard base64 as AWS accepts it.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok()
}

/// The decoded length of standard base64, or `None` where [`decode`] would fail. Decodes in
/// chunks on the stack (wiped after), so checking a plaintext's size copies it nowhere else.
pub fn decoded_len(s: &str) -> Option<usize> {
    // 1024 characters (a multiple of 4) decode to at most 768 bytes; padding can only be in
    // the last chunk, where a partial chunk is still a whole number of quads.
    const CHUNK: usize = 1024;
    let mut buf = Zeroizing::new([0u8; CHUNK / 4 * 3]);
    let mut total = 0;
    for chunk in s.as_bytes().chunks(CHUNK) {
        total += STANDARD.decode_slice(chunk, &mut buf[..]).ok()?;
    }
    Some(total)
}

/// Encodes bytes as standard base64.
pub fn encode(b: &[u8]) -> String {
    STANDARD.encode(b)
}

/// A non-secret blob (ciphertexts, public keys).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        decode(&s)
            .map(Blob)
            .ok_or_else(|| serde::de::Error::custom("invalid base64"))
    }
}

/// A secret blob (plaintexts, data keys): zeroized on drop, never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretBlob(pub Zeroizing<Vec<u8>>);

impl SecretBlob {
    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBlob(<redacted>, {} bytes)", self.0.len())
    }
}

impl Serialize for SecretBlob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(encode(&self.0));
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for SecretBlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Zeroizing::new(String::deserialize(d)?);
        decode(&s)
            .map(|v| SecretBlob(Zeroizing::new(v)))
            .ok_or_else(|| serde::de::Error::custom("invalid base64"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_len_agrees_with_decode_across_chunk_boundaries() {
        for n in [0, 1, 2, 3, 767, 768, 769, 1536, 4096, 6144] {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            let s = encode(&bytes);
            assert_eq!(decoded_len(&s), Some(n), "{n} bytes");
        }
    }

    #[test]
    fn decoded_len_refuses_what_decode_refuses() {
        let long = encode(&[1u8; 2000]);
        for bad in [
            "A".to_string(),
            "AB=C".to_string(),
            "****".to_string(),
            format!("{}==", &long[..long.len() - 1]),
            format!("AAA={}", &long[4..]),
            format!("{long}A"),
        ] {
            assert_eq!(decode(&bad).is_some(), decoded_len(&bad).is_some(), "{bad}");
            assert_eq!(decoded_len(&bad), None, "{bad}");
        }
    }
}
