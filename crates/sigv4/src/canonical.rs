//! The canonical request, the string to sign and the signing key, as AWS specifies them.
//!
//! Rules for services other than S3: the path is normalised (dot segments removed, repeated
//! slashes collapsed) and each segment of the path *as received* is URI-encoded once more; the
//! query is decoded and re-encoded strictly, then sorted; header values are trimmed, inner runs of
//! whitespace collapsed, and repeated headers joined with commas.

use aws_lc_rs::{digest, hmac};
use http::HeaderMap;
use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use zeroize::Zeroizing;

use crate::auth::{ALGORITHM, TERMINATOR};

/// Everything except the unreserved characters `A-Z a-z 0-9 - _ . ~` is percent-encoded.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

/// The canonical URI: normalised, each segment encoded once more (never empty).
pub(crate) fn canonical_uri(path: &str) -> String {
    let segments: Vec<&str> =
        path.split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .fold(Vec::new(), |mut out, s| {
                if s == ".." {
                    out.pop();
                } else {
                    out.push(s);
                }
                out
            });
    let mut uri = String::with_capacity(path.len() + 1);
    uri.push('/');
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            uri.push('/');
        }
        uri.extend(percent_encode(segment.as_bytes(), STRICT));
    }
    if path.ends_with('/') && !segments.is_empty() {
        uri.push('/');
    }
    uri
}

/// The canonical query string: every name and value decoded, re-encoded strictly, then sorted.
pub(crate) fn canonical_query(query: &str) -> String {
    let encode = |s: &str| -> String {
        let bytes: Vec<u8> = percent_decode_str(s).collect();
        percent_encode(&bytes, STRICT).collect()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            (encode(name), encode(value))
        })
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(query.len());
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// A header's canonical value: each value trimmed with inner whitespace runs collapsed to one
/// space, repeated values joined with commas in the order received. `None` if the header is absent
/// or its name is not a valid header name.
pub(crate) fn canonical_header_value(headers: &HeaderMap, name: &str) -> Option<Vec<u8>> {
    let name = http::HeaderName::from_bytes(name.as_bytes()).ok()?;
    let mut values = headers.get_all(&name).iter().peekable();
    values.peek()?;
    let mut out = Vec::new();
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let start = out.len();
        let mut pending_space = false;
        for &c in value.as_bytes() {
            if c == b' ' || c == b'\t' {
                pending_space = true;
                continue;
            }
            if pending_space && out.len() > start {
                out.push(b' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
    Some(out)
}

/// The canonical request. `signed_headers` must already be lowercase and sorted; `None` if one of
/// them is absent from `headers`.
pub(crate) fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    signed_headers: &[&str],
    payload_hash: &str,
) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(query).as_bytes());
    out.push(b'\n');
    for name in signed_headers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(&canonical_header_value(headers, name)?);
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    Some(out)
}

/// The string to sign: algorithm, request time, scope and the hash of the canonical request.
pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &[u8]) -> Vec<u8> {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request)
    )
    .into_bytes()
}

/// The signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let mut k_secret = Zeroizing::new(Vec::with_capacity(secret.len() + 4));
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret.as_bytes());
    let mut key = hmac::Key::new(hmac::HMAC_SHA256, &k_secret);
    for part in [date, region, service, TERMINATOR] {
        let tag = Zeroizing::new(hmac::sign(&key, part.as_bytes()).as_ref().to_vec());
        key = hmac::Key::new(hmac::HMAC_SHA256, &tag);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_uri_normalises_like_the_test_suite() {
        for (path, want) in [
            ("", "/"),
            ("/", "/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./", "/"),
            ("//example//", "/example/"),
            ("/./example", "/example"),
            ("/example space/", "/example%20space/"),
            ("/-._~azAZ09", "/-._~azAZ09"),
            ("/ሴ", "/%E1%88%B4"),
            ("/a%20b", "/a%2520b"),
            ("/test$file.text", "/test%24file.text"),
            ("/../..", "/"),
        ] {
            assert_eq!(canonical_uri(path), want, "{path:?}");
        }
    }

    #[test]
    fn canonical_query_sorts_and_reencodes() {
        for (query, want) in [
            ("", ""),
            ("Param2=value2&Param1=value1", "Param1=value1&Param2=value2"),
            ("Param1=value2&Param1=Value1", "Param1=Value1&Param1=value2"),
            ("Param1", "Param1="),
            ("a=b c", "a=b%20c"),
            ("a=b%20c", "a=b%20c"),
            ("a=b+c", "a=b%2Bc"),
            ("a=%7e", "a=~"),
            ("&&a=1&&", "a=1"),
            ("a=%zz", "a=%25zz"),
            (
                "%E1%88%B4=Value1&Param=Value2",
                "%E1%88%B4=Value1&Param=Value2",
            ),
        ] {
            assert_eq!(canonical_query(query), want, "{query:?}");
        }
    }

    #[test]
    fn header_values_are_trimmed_collapsed_and_joined() {
        let mut headers = HeaderMap::new();
        headers.append("my-header1", " value4 ".parse().unwrap());
        headers.append("my-header1", "value1".parse().unwrap());
        headers.append("my-header2", "\"a   b \t c\"".parse().unwrap());
        headers.append("empty", "".parse().unwrap());
        headers.append("commas", " a,  b ".parse().unwrap());
        assert_eq!(
            canonical_header_value(&headers, "my-header1").unwrap(),
            b"value4,value1"
        );
        assert_eq!(
            canonical_header_value(&headers, "my-header2").unwrap(),
            b"\"a b c\""
        );
        assert_eq!(canonical_header_value(&headers, "empty").unwrap(), b"");
        assert_eq!(canonical_header_value(&headers, "commas").unwrap(), b"a, b");
        assert_eq!(canonical_header_value(&headers, "absent"), None);
        assert_eq!(canonical_header_value(&headers, "bad name"), None);
    }

    #[test]
    fn signing_key_matches_the_documented_example() {
        // AWS's documented derivation for wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830,
        // us-east-1, iam: the signature of the example string to sign.
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "iam",
        );
        let sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
                   f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
        assert_eq!(
            hex::encode(hmac::sign(&key, sts.as_bytes())),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }
}
