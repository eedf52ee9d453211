//! The canonical encoding of an encryption context, used as part of the AAD (ARCHITECTURE.md §4).

use std::collections::BTreeMap;

/// Encodes `ctx` unambiguously: the pair count, then each key and value, all sorted by key,
/// every count and length a big-endian `u32`.
///
/// ```text
/// count (u32) ‖ { len(key) (u32) ‖ key ‖ len(value) (u32) ‖ value }*   (UTF-8, sorted by key)
/// ```
///
/// Distinct contexts always encode differently (`{"ab":"c"}` vs `{"a":"bc"}`), and pair
/// order cannot matter because a `BTreeMap` is already sorted. The empty context encodes
/// as a count of zero. AWS treats a missing and an empty context alike, and so does this.
///
/// This encoding is part of ciphertext format version 1 and must never change.
pub fn canonical_encryption_context(ctx: &BTreeMap<String, String>) -> Vec<u8> {
    let size = 4 + ctx
        .iter()
        .map(|(k, v)| 8 + k.len() + v.len())
        .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    put_u32(&mut out, ctx.len());
    for (key, value) in ctx {
        put_prefixed(&mut out, key.as_bytes());
        put_prefixed(&mut out, value.as_bytes());
    }
    out
}

/// Appends a big-endian `u32` length prefix, then `bytes`.
pub(crate) fn put_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u32(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Appends `n` as a big-endian `u32`.
///
/// Sizes above `u32::MAX` saturate. No request can carry such a context or ARN (the
/// server limits bodies far below 4 GiB), so this is never reached in practice.
fn put_u32(out: &mut Vec<u8>, n: usize) {
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    out.extend_from_slice(&n.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Inverse of the encoding; exists to prove the encoding is injective.
    fn decode(mut bytes: &[u8]) -> Option<BTreeMap<String, String>> {
        fn take_u32(b: &mut &[u8]) -> Option<usize> {
            let (n, rest) = b.split_first_chunk::<4>()?;
            *b = rest;
            Some(u32::from_be_bytes(*n) as usize)
        }
        fn take_str(b: &mut &[u8]) -> Option<String> {
            let len = take_u32(b)?;
            let (s, rest) = b.split_at_checked(len)?;
            *b = rest;
            String::from_utf8(s.to_vec()).ok()
        }
        let count = take_u32(&mut bytes)?;
        let mut map = BTreeMap::new();
        for _ in 0..count {
            let k = take_str(&mut bytes)?;
            let v = take_str(&mut bytes)?;
            map.insert(k, v);
        }
        bytes.is_empty().then_some(map)
    }

    #[test]
    fn empty_context_is_count_zero() {
        assert_eq!(canonical_encryption_context(&BTreeMap::new()), [0, 0, 0, 0]);
    }

    #[test]
    fn known_encoding() {
        let got = canonical_encryption_context(&ctx(&[("b", "2"), ("a", "xy")]));
        let want: &[u8] = &[
            0, 0, 0, 2, //
            0, 0, 0, 1, b'a', 0, 0, 0, 2, b'x', b'y', //
            0, 0, 0, 1, b'b', 0, 0, 0, 1, b'2',
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn shifted_boundaries_differ() {
        let a = canonical_encryption_context(&ctx(&[("ab", "c")]));
        let b = canonical_encryption_context(&ctx(&[("a", "bc")]));
        assert_ne!(a, b);
        let c = canonical_encryption_context(&ctx(&[("a", ""), ("b", "")]));
        let d = canonical_encryption_context(&ctx(&[("ab", "")]));
        assert_ne!(c, d);
        let e = canonical_encryption_context(&ctx(&[("", "")]));
        assert_ne!(e, canonical_encryption_context(&BTreeMap::new()));
    }

    #[test]
    fn non_ascii_keys_and_values() {
        let c = ctx(&[("clé", "värde ✓"), ("鍵", "")]);
        assert_eq!(decode(&canonical_encryption_context(&c)), Some(c));
    }

    proptest! {
        #[test]
        fn encoding_is_injective(
            c1 in proptest::collection::btree_map(".{0,6}", ".{0,6}", 0..5),
            c2 in proptest::collection::btree_map(".{0,6}", ".{0,6}", 0..5),
        ) {
            let e1 = canonical_encryption_context(&c1);
            prop_assert_eq!(decode(&e1), Some(c1.clone()));
            prop_assert_eq!(c1 == c2, e1 == canonical_encryption_context(&c2));
        }

        #[test]
        fn short_alphabet_collisions_are_told_apart(
            c1 in proptest::collection::btree_map("[ab]{0,3}", "[ab]{0,3}", 0..4),
            c2 in proptest::collection::btree_map("[ab]{0,3}", "[ab]{0,3}", 0..4),
        ) {
            prop_assert_eq!(
                c1 == c2,
                canonical_encryption_context(&c1) == canonical_encryption_context(&c2)
            );
        }
    }
}
