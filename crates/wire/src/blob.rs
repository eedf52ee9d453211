//! Blobs travel as base64 strings in the JSON protocol.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use zeroize::{Zeroize, Zeroizing};

/// Standard base64 (padded, canonical), with SIMD where the CPU has it: a 4 KiB plaintext is
/// checked, decoded and its ciphertext encoded on every Encrypt, and the scalar `base64`
/// engine was several percent of a request's CPU.
const BASE64: base64_simd::Base64 = base64_simd::STANDARD;

/// Decodes standard base64 as AWS accepts it.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    BASE64.decode_to_vec(s).ok()
}

/// The decoded length of standard base64, or `None` where [`decode`] would fail. Checks the
/// text without decoding it, so checking a plaintext's size copies it nowhere.
pub fn decoded_len(s: &str) -> Option<usize> {
    BASE64.check(s.as_bytes()).ok()?;
    BASE64.decoded_length(s.as_bytes()).ok()
}

/// Encodes bytes as standard base64.
pub fn encode(b: &[u8]) -> String {
    BASE64.encode_to_string(b)
}

/// A non-secret blob (ciphertexts, public keys).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

/// Serializes bytes as a base64 JSON string. Base64 never needs escaping, so the quoted text goes
/// out as a `RawValue`: serde_json would otherwise look up every byte of a ciphertext or
/// plaintext in its escape table, which was the largest single cost of an Encrypt response.
/// The text is wiped afterwards (it is plaintext for a [`SecretBlob`]); its capacity is exact,
/// so `RawValue::from_string` keeps the allocation instead of copying it.
fn serialize_base64<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::Error;
    let mut text = String::with_capacity(BASE64.encoded_length(bytes.len()) + 2);
    text.push('"');
    BASE64.encode_append(bytes, &mut text);
    text.push('"');
    let raw = match RawValue::from_string(text) {
        Ok(raw) => raw,
        Err(e) => return Err(S::Error::custom(e)),
    };
    let result = raw.serialize(s);
    let mut text: Box<str> = raw.into();
    text.zeroize();
    result
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_base64(&self.0, s)
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
        serialize_base64(&self.0, s)
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
    use base64::Engine;

    /// The scalar `base64` crate, as an independent reference.
    fn reference_decode(s: &str) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD.decode(s).ok()
    }

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
            assert_eq!(reference_decode(&bad), None, "{bad}");
            assert_eq!(decoded_len(&bad), None, "{bad}");
        }
    }

    #[test]
    fn decoded_len_agrees_with_decode_on_every_short_string() {
        // Every string of up to 8 symbols over an alphabet with padding, symbols whose low bits
        // are set or clear, and a symbol outside base64: valid exactly when decode succeeds,
        // with the same length.
        let symbols = [b'A', b'B', b'Q', b'g', b'/', b'=', b'*'];
        for len in 0..=8u32 {
            for n in 0..symbols.len().pow(len) {
                let mut k = n;
                let text: String = (0..len)
                    .map(|_| {
                        let c = symbols[k % symbols.len()] as char;
                        k /= symbols.len();
                        c
                    })
                    .collect();
                let expected = reference_decode(&text);
                assert_eq!(decode(&text), expected, "{text:?}");
                assert_eq!(decoded_len(&text), expected.map(|v| v.len()), "{text:?}");
            }
        }
    }

    proptest::proptest! {
        /// Long texts take the SIMD paths: one changed symbol anywhere (often the last, where
        /// padding and trailing bits are) is accepted or refused exactly as the reference does.
        #[test]
        fn long_base64_agrees_with_the_reference(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            position in proptest::prelude::any::<proptest::sample::Index>(),
            from_end in proptest::prelude::any::<bool>(),
            symbol in proptest::sample::select(b"AQgw/+=*- \n".to_vec()),
        ) {
            let text = encode(&bytes);
            proptest::prop_assert_eq!(reference_decode(&text), Some(bytes.clone()));
            proptest::prop_assert_eq!(decode(&text), Some(bytes.clone()));
            let mut changed = text.into_bytes();
            if !changed.is_empty() {
                let n = changed.len();
                let i = if from_end { n - 1 - position.index(n.min(3)) } else { position.index(n) };
                changed[i] = symbol;
            }
            let changed = String::from_utf8(changed).unwrap();
            let expected = reference_decode(&changed);
            proptest::prop_assert_eq!(decode(&changed), expected.clone());
            proptest::prop_assert_eq!(decoded_len(&changed), expected.map(|v| v.len()));
        }
    }

    #[test]
    fn blobs_serialize_as_base64_json_strings() {
        let bytes: Vec<u8> = (0..=255).collect();
        let expected = format!("\"{}\"", encode(&bytes));
        assert_eq!(
            serde_json::to_string(&Blob(bytes.clone())).unwrap(),
            expected
        );
        let secret = SecretBlob(Zeroizing::new(bytes.clone()));
        assert_eq!(serde_json::to_string(&secret).unwrap(), expected);
        assert_eq!(
            serde_json::to_value(&secret).unwrap(),
            serde_json::Value::String(encode(&bytes))
        );
        assert_eq!(serde_json::to_string(&Blob(Vec::new())).unwrap(), "\"\"");
    }
}
