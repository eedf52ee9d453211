//! What every protocol on the listener shares about HTTP (ARCHITECTURE.md §9): headers,
//! media types, the request body read into one bounded buffer, and whether the request came
//! over TLS. Used by the pipeline for KMS (JSON) and IAM/STS (query) alike.

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use trent_audit::TlsDetails;

/// Why a request body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// It is larger than the limit (in bytes).
    TooLarge(usize),
    /// Its framing is refused or it broke off; the text says why.
    Unreadable(String),
}

/// Marks a request that arrived over TLS, with what the handshake agreed (a request
/// extension set by the listener): `aws:SecureTransport` is `true` for it, and its audit
/// record has `tlsDetails`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecureTransport {
    /// `TLSv1.2` or `TLSv1.3`.
    pub tls_version: &'static str,
    /// The cipher suite's name as CloudTrail writes it.
    pub cipher_suite: &'static str,
}

/// Whether the request arrived over TLS.
pub(crate) fn is_secure(parts: &http::request::Parts) -> bool {
    parts.extensions.get::<SecureTransport>().is_some()
}

/// The longest `Host` header copied into `tlsDetails` (a host name is at most 253 characters,
/// plus a port).
const MAX_HOST_HEADER_CHARS: usize = 260;

/// CloudTrail's `tlsDetails` for a request that arrived over TLS.
pub(crate) fn tls_details(parts: &http::request::Parts) -> Option<TlsDetails> {
    let tls = parts.extensions.get::<SecureTransport>()?;
    Some(TlsDetails {
        tls_version: tls.tls_version.to_string(),
        cipher_suite: tls.cipher_suite.to_string(),
        client_provided_host_header: header(&parts.headers, "host")
            .map(|h| h.chars().take(MAX_HOST_HEADER_CHARS).collect()),
    })
}

/// A header's value, if present and text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether `content_type` is exactly one of `accepted` (case-insensitively), with at most a
/// `charset=utf-8` parameter: a prefix match would let `application/jsonX` through.
pub(crate) fn is_media_type(content_type: &str, accepted: &[&str]) -> bool {
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or_default().trim();
    if !accepted.iter().any(|a| media.eq_ignore_ascii_case(a)) {
        return false;
    }
    parts.all(|param| {
        param.split_once('=').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("charset")
                && value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        })
    })
}

/// The first allocation for a body of unknown or large declared length (a smaller declared
/// length is allocated exactly); it doubles from there, so a body sent slowly holds memory in
/// proportion to what has arrived.
const INITIAL_BODY_CAPACITY: usize = 4 * 1024;

/// Reads the body into one buffer, refusing one over the limit before buffering it.
///
/// The memory a body holds is at most twice its bytes received (plus a constant), however it
/// is framed: each frame is copied into one buffer and released, not kept (hyper's frames
/// each pin a read buffer of several KiB; a body sent one byte at a time used to hold ~8 KB
/// per byte). The buffer is allocated when the first bytes arrive, at the declared
/// `Content-Length` up to 4 KiB, and doubles,
/// never beyond the declared length or the limit; a buffer outgrown is zeroized, as the body
/// may be a plaintext. How long a body may take is bounded by the connection's request
/// deadline ([`crate::transport`]).
pub(crate) async fn read_body(
    mut body: Incoming,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, BodyError> {
    check_transfer_encoding(headers)?;
    let declared = match header(headers, "content-length").map(|v| v.parse::<u64>()) {
        Some(Ok(len)) if len > limit as u64 => return Err(BodyError::TooLarge(limit)),
        Some(Ok(len)) => Some(len as usize),
        _ => None,
    };
    let mut buf = BodyBuffer::new(declared.unwrap_or(limit).min(limit), limit);
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| BodyError::Unreadable(format!("Could not read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            buf.push(&data)?;
        }
    }
    Ok(buf.into_bytes())
}

/// Hyper reads a body as chunked when the last coding of `Transfer-Encoding` is `chunked`
/// (`gzip, chunked` too, and it does not decompress); Trent takes exactly one
/// `Transfer-Encoding: chunked` or none.
fn check_transfer_encoding(headers: &HeaderMap) -> Result<(), BodyError> {
    let mut values = headers.get_all(http::header::TRANSFER_ENCODING).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(()),
        (Some(v), None) if v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"chunked") => Ok(()),
        _ => Err(BodyError::Unreadable(
            "Transfer-Encoding must be chunked, and only chunked".into(),
        )),
    }
}

/// One growing buffer for a request body (see [`read_body`]).
struct BodyBuffer {
    buf: Vec<u8>,
    /// The most it may hold: the declared length, or the limit.
    most: usize,
    limit: usize,
}

impl BodyBuffer {
    fn new(most: usize, limit: usize) -> BodyBuffer {
        BodyBuffer {
            buf: Vec::new(),
            most,
            limit,
        }
    }

    fn push(&mut self, data: &[u8]) -> Result<(), BodyError> {
        let needed = self.buf.len() + data.len();
        if needed > self.limit {
            return Err(BodyError::TooLarge(self.limit));
        }
        if needed > self.buf.capacity() {
            let capacity = needed
                .max(self.buf.capacity().saturating_mul(2))
                .max(self.most.min(INITIAL_BODY_CAPACITY))
                .min(self.most.max(needed));
            let mut bigger = Vec::with_capacity(capacity);
            bigger.extend_from_slice(&self.buf);
            zeroize::Zeroize::zeroize(&mut self.buf);
            self.buf = bigger;
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    fn into_bytes(self) -> Bytes {
        Bytes::from(self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn a_body_buffer_grows_with_what_arrived_not_with_what_was_declared() {
        let mut buf = BodyBuffer::new(300 * 1024, 300 * 1024);
        assert_eq!(
            buf.buf.capacity(),
            0,
            "nothing is allocated before a byte arrives"
        );
        buf.push(b"x").unwrap();
        assert_eq!(buf.buf.capacity(), INITIAL_BODY_CAPACITY);
        for _ in 1..20_000 {
            buf.push(b"x").unwrap();
        }
        assert!(buf.buf.capacity() <= 2 * 20_000, "{}", buf.buf.capacity());
        let mut small = BodyBuffer::new(10, 100);
        small.push(b"0123456789").unwrap();
        assert_eq!(small.buf.capacity(), 10);
        assert!(matches!(
            BodyBuffer::new(4, 4).push(b"12345"),
            Err(BodyError::TooLarge(4))
        ));
    }

    #[test]
    fn transfer_encoding_must_be_exactly_chunked() {
        let mut h = HeaderMap::new();
        assert!(check_transfer_encoding(&h).is_ok());
        h.insert("transfer-encoding", HeaderValue::from_static("Chunked"));
        assert!(check_transfer_encoding(&h).is_ok());
        h.insert(
            "transfer-encoding",
            HeaderValue::from_static("gzip, chunked"),
        );
        assert!(check_transfer_encoding(&h).is_err());
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.append("transfer-encoding", HeaderValue::from_static("chunked"));
        assert!(check_transfer_encoding(&h).is_err());
    }
}
