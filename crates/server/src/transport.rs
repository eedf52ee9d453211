//! The connection guard between the socket (or TLS stream) and hyper: it follows the request
//! framing of the bytes hyper reads, to
//!
//! - put a **whole-request deadline** on every request: from the first byte of its head to the
//!   last byte of its body (hyper's own header timeout does not cover bodies, so a body sent one
//!   byte every few seconds could hold a connection forever);
//! - disconnect a client that stops reading its answers for as long (hyper would wait for the
//!   socket to drain forever);
//! - refuse a request with both `Transfer-Encoding` and `Content-Length` (RFC 9112 §6.1: a
//!   request smuggling vector behind a proxy). Hyper would quietly drop `Content-Length` and
//!   read the body as chunked, so the guard spoils the head before hyper parses it, making
//!   hyper refuse it;
//! - give hyper's own error answers (400 for a malformed head, 414, 431 for a head over the
//!   limit), which have an empty body, **AWS's error shape** (`__type` and `message`).
//!
//! Following the framing costs a few bytes of state per connection and one pass over each
//! request head; body bytes are skipped by count.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};
use trent_wire::error::{error_body, ErrorCode};

/// The message of a request refused for carrying both framing headers.
pub const TE_AND_CL_MESSAGE: &str =
    "A request must not have both Transfer-Encoding and Content-Length headers";

/// An I/O stream with the request deadline and the framing checks (see the module docs).
pub struct Guarded<S> {
    inner: S,
    scan: Scanner,
    request_timeout: Duration,
    /// Armed while a request is being received; created on first use.
    deadline: Option<Pin<Box<Sleep>>>,
    armed: bool,
    /// Armed while an answer cannot be written (the client does not read): a client that
    /// stops reading is disconnected after the request timeout too.
    write_stall: Option<Pin<Box<Sleep>>>,
    write_stalled: bool,
    /// AWS-shaped replacement for one of hyper's own error answers, while it is being written.
    rewrite: Option<Rewrite>,
}

struct Rewrite {
    bytes: Vec<u8>,
    written: usize,
    /// The length of hyper's answer it replaces (reported as written when done).
    replaces: usize,
}

impl<S> Guarded<S> {
    /// Guards `inner`: every request on it must arrive within `request_timeout` of its first byte.
    pub fn new(inner: S, request_timeout: Duration) -> Guarded<S> {
        Guarded {
            inner,
            scan: Scanner::default(),
            request_timeout,
            deadline: None,
            armed: false,
            write_stall: None,
            write_stalled: false,
            rewrite: None,
        }
    }

    /// Called after a write attempt: `Pending` arms the stall timer (once), progress disarms
    /// it; a stall past the request timeout is an error.
    fn check_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        p: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if p.is_ready() {
            self.write_stalled = false;
            return p;
        }
        if !self.write_stalled {
            self.write_stalled = true;
            let at = Instant::now() + self.request_timeout;
            match &mut self.write_stall {
                Some(d) => d.as_mut().reset(at),
                None => self.write_stall = Some(Box::pin(tokio::time::sleep_until(at))),
            }
        }
        if let Some(stall) = &mut self.write_stall {
            if stall.as_mut().poll(cx).is_ready() {
                self.write_stalled = false;
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client did not read the answer",
                )));
            }
        }
        Poll::Pending
    }

    fn arm(&mut self) {
        let at = Instant::now() + self.request_timeout;
        match &mut self.deadline {
            Some(d) => d.as_mut().reset(at),
            None => self.deadline = Some(Box::pin(tokio::time::sleep_until(at))),
        }
        self.armed = true;
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let outcome = this.scan.scan(&mut buf.filled_mut()[before..]);
                if !this.scan.in_request() {
                    this.armed = false;
                } else if outcome.began {
                    this.arm();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if this.armed {
                    if let Some(deadline) = &mut this.deadline {
                        if deadline.as_mut().poll(cx).is_ready() {
                            this.armed = false;
                            return Poll::Ready(Err(io::Error::new(
                                io::ErrorKind::TimedOut,
                                format!(
                                    "the request was not received within {} s",
                                    this.request_timeout.as_secs_f32()
                                ),
                            )));
                        }
                    }
                }
                Poll::Pending
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> Guarded<S> {
    /// Starts replacing `buf` if it is one of hyper's own error answers; then writes the
    /// replacement. `None`: `buf` is not replaced.
    fn poll_rewrite(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Option<Poll<io::Result<usize>>> {
        if self.rewrite.is_none() {
            let status = hyper_error_status(buf)?;
            self.rewrite = Some(Rewrite {
                bytes: aws_error_answer(status, self.scan.refused),
                written: 0,
                replaces: buf.len(),
            });
        }
        let rw = self.rewrite.as_mut()?;
        while rw.written < rw.bytes.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &rw.bytes[rw.written..]) {
                Poll::Ready(Ok(0)) => return Some(Poll::Ready(Ok(0))),
                Poll::Ready(Ok(n)) => rw.written += n,
                Poll::Ready(Err(e)) => return Some(Poll::Ready(Err(e))),
                Poll::Pending => return Some(Poll::Pending),
            }
        }
        let n = rw.replaces.min(buf.len());
        self.rewrite = None;
        Some(Poll::Ready(Ok(n)))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let p = match self.poll_rewrite(cx, buf) {
            Some(p) => p,
            None => Pin::new(&mut self.inner).poll_write(cx, buf),
        };
        self.check_write(cx, p)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut p = None;
        if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
            p = self.poll_rewrite(cx, first);
        }
        let p = p.unwrap_or_else(|| Pin::new(&mut self.inner).poll_write_vectored(cx, bufs));
        self.check_write(cx, p)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let p = Pin::new(&mut self.inner).poll_flush(cx);
        self.check_write(cx, p)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The status of an answer hyper wrote by itself for a request it could not parse (400, 414,
/// 431): such an answer has an empty body and no `x-amzn-requestid`, which every answer of
/// Trent's own has.
fn hyper_error_status(buf: &[u8]) -> Option<u16> {
    let status = [
        (&b"HTTP/1.1 400 "[..], 400),
        (&b"HTTP/1.1 414 "[..], 414),
        (&b"HTTP/1.1 431 "[..], 431),
    ]
    .iter()
    .find(|(prefix, _)| buf.starts_with(prefix))?
    .1;
    let head_end = find(buf, b"\r\n\r\n")?;
    let head = &buf[..head_end + 2];
    let empty_body = find(head, b"\r\ncontent-length: 0\r\n").is_some();
    let ours = find(head, b"\r\nx-amzn-requestid:").is_some();
    (empty_body && !ours).then_some(status)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The AWS-shaped answer that replaces hyper's own answer with `status`.
fn aws_error_answer(status: u16, refused: Option<&'static str>) -> Vec<u8> {
    let (reason, code, message) = match status {
        431 => (
            "Request Header Fields Too Large",
            ErrorCode::RequestEntityTooLargeException,
            "The request headers are larger than the limit",
        ),
        414 => (
            "URI Too Long",
            ErrorCode::SerializationException,
            "The request URI is too long",
        ),
        _ => (
            "Bad Request",
            ErrorCode::SerializationException,
            refused.unwrap_or("The request is not a well-formed HTTP/1.1 request"),
        ),
    };
    let body = error_body(code, message);
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/x-amz-json-1.1\r\nx-amzn-requestid: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        trent_audit::new_request_id(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// Follows HTTP/1.1 request framing over the bytes of a connection, as hyper parses them.
struct Scanner {
    phase: Phase,
    /// The start of the head line being read (enough for the framing headers).
    line: [u8; LINE_PREFIX],
    line_len: usize,
    /// The line is longer than [`LINE_PREFIX`].
    line_cut: bool,
    /// The current head's request line has been read.
    request_line_done: bool,
    te: bool,
    te_chunked: bool,
    content_length: Option<Option<u64>>,
    /// Why the head was spoiled (so hyper refuses it), for the answer's message.
    refused: Option<&'static str>,
}

/// How much of a head line is kept: the framing headers' names and values fit.
const LINE_PREFIX: usize = 64;

impl Default for Scanner {
    fn default() -> Self {
        Scanner {
            phase: Phase::Idle,
            line: [0; LINE_PREFIX],
            line_len: 0,
            line_cut: false,
            request_line_done: false,
            te: false,
            te_chunked: false,
            content_length: None,
            refused: None,
        }
    }
}

#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Between requests (empty lines before a request are skipped, as hyper does).
    #[default]
    Idle,
    /// Inside a request head.
    Head,
    /// A body with this many bytes still to come.
    Body(u64),
    /// A chunk-size line: the size so far.
    ChunkSize(u64),
    /// A chunk-size line's extension, up to its end.
    ChunkExt(u64),
    /// Chunk data still to come.
    ChunkData(u64),
    /// The CRLF after chunk data.
    ChunkDataEnd,
    /// Trailer fields after the last chunk; `true` at the start of a line.
    Trailers(bool),
    /// Framing this scanner does not follow (hyper refuses it or closes the connection): the
    /// request deadline set at its head stays armed.
    Lost,
}

/// What a scan found.
#[derive(Default)]
struct ScanOutcome {
    /// The request being received at the end of the scan began in it.
    began: bool,
}

impl Scanner {
    /// Whether a request is being received (its head began, its body has not ended).
    fn in_request(&self) -> bool {
        self.phase != Phase::Idle
    }

    fn scan(&mut self, buf: &mut [u8]) -> ScanOutcome {
        let mut outcome = ScanOutcome::default();
        let mut i = 0;
        while i < buf.len() {
            let b = buf[i];
            match self.phase {
                Phase::Idle => {
                    if b != b'\r' && b != b'\n' {
                        self.start_head();
                        outcome.began = true;
                        continue;
                    }
                }
                Phase::Head => {
                    if b == b'\n' {
                        if let Some(spoil) = self.end_line() {
                            if spoil {
                                // Hyper has not seen this byte yet: a NUL where the head's
                                // last line feed was makes it refuse the head (400).
                                buf[i] = 0;
                            }
                        }
                    } else if self.line_len < LINE_PREFIX {
                        self.line[self.line_len] = b;
                        self.line_len += 1;
                    } else {
                        self.line_cut = true;
                    }
                }
                Phase::Body(left) => {
                    let take = (buf.len() - i).min(usize::try_from(left).unwrap_or(usize::MAX));
                    i += take;
                    let left = left - take as u64;
                    self.phase = if left == 0 {
                        Phase::Idle
                    } else {
                        Phase::Body(left)
                    };
                    continue;
                }
                Phase::ChunkSize(size) => {
                    self.phase = match b {
                        b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                            let digit = u64::from((b as char).to_digit(16).unwrap_or(0));
                            match size.checked_mul(16).and_then(|s| s.checked_add(digit)) {
                                Some(s) => Phase::ChunkSize(s),
                                None => Phase::Lost,
                            }
                        }
                        b'\n' => chunk_line_done(size),
                        b'\r' | b';' | b' ' | b'\t' => Phase::ChunkExt(size),
                        _ => Phase::Lost,
                    };
                }
                Phase::ChunkExt(size) => {
                    if b == b'\n' {
                        self.phase = chunk_line_done(size);
                    }
                }
                Phase::ChunkData(left) => {
                    let take = (buf.len() - i).min(usize::try_from(left).unwrap_or(usize::MAX));
                    i += take;
                    let left = left - take as u64;
                    self.phase = if left == 0 {
                        Phase::ChunkDataEnd
                    } else {
                        Phase::ChunkData(left)
                    };
                    continue;
                }
                Phase::ChunkDataEnd => match b {
                    b'\r' => {}
                    b'\n' => self.phase = Phase::ChunkSize(0),
                    _ => self.phase = Phase::Lost,
                },
                Phase::Trailers(line_start) => match b {
                    b'\r' => {}
                    b'\n' if line_start => self.phase = Phase::Idle,
                    b'\n' => self.phase = Phase::Trailers(true),
                    _ => self.phase = Phase::Trailers(false),
                },
                Phase::Lost => break,
            }
            i += 1;
        }
        outcome
    }

    fn start_head(&mut self) {
        self.phase = Phase::Head;
        self.line_len = 0;
        self.line_cut = false;
        self.request_line_done = false;
        self.te = false;
        self.te_chunked = false;
        self.content_length = None;
    }

    /// Ends a head line. At the end of the head: `Some(true)` if the head must be spoiled so
    /// that hyper refuses it.
    fn end_line(&mut self) -> Option<bool> {
        let mut line = &self.line[..self.line_len];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        let cut = std::mem::take(&mut self.line_cut);
        self.line_len = 0;
        if line.is_empty() && self.request_line_done {
            return Some(self.end_head());
        }
        if !self.request_line_done {
            self.request_line_done = true;
            return None;
        }
        let colon = line.iter().position(|&c| c == b':')?;
        let name = &line[..colon];
        let value = line[colon + 1..].trim_ascii();
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.te = true;
            // As hyper: chunked must be the last coding of the last Transfer-Encoding line.
            // A value too long to keep is not followed (the body is then not followed).
            self.te_chunked = !cut
                && value
                    .rsplit(|&c| c == b',')
                    .next()
                    .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let parsed = std::str::from_utf8(value)
                .ok()
                .filter(|_| !cut)
                .and_then(|v| v.parse::<u64>().ok());
            self.content_length = Some(match (self.content_length, parsed) {
                (Some(Some(prev)), Some(n)) if prev != n => None,
                (Some(None), _) => None,
                (_, n) => n,
            });
        }
        None
    }

    /// The head has ended: what follows it. `true`: spoil the head (hyper must refuse it).
    fn end_head(&mut self) -> bool {
        if self.te && self.content_length.is_some() {
            self.refused = Some(TE_AND_CL_MESSAGE);
            self.phase = Phase::Lost;
            return true;
        }
        self.phase = match (self.te, self.te_chunked, self.content_length) {
            (true, true, _) => Phase::ChunkSize(0),
            (true, false, _) => Phase::Lost,
            (false, _, Some(Some(0))) | (false, _, None) => Phase::Idle,
            (false, _, Some(Some(n))) => Phase::Body(n),
            (false, _, Some(None)) => Phase::Lost,
        };
        false
    }
}

fn chunk_line_done(size: u64) -> Phase {
    if size == 0 {
        Phase::Trailers(true)
    } else {
        Phase::ChunkData(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(s: &mut Scanner, parts: &[&[u8]]) -> Vec<Vec<u8>> {
        parts
            .iter()
            .map(|p| {
                let mut v = p.to_vec();
                s.scan(&mut v);
                v
            })
            .collect()
    }

    #[tokio::test]
    async fn a_client_that_does_not_read_is_cut_off_after_the_timeout() {
        use tokio::io::AsyncWriteExt;
        let (server_side, _client_keeps_the_pipe_but_never_reads) = tokio::io::duplex(64);
        let mut guarded = Guarded::new(server_side, Duration::from_millis(200));
        let started = std::time::Instant::now();
        let e = tokio::time::timeout(Duration::from_secs(5), guarded.write_all(&[b'x'; 4096]))
            .await
            .expect("the write ends by itself")
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn a_body_stalled_past_the_deadline_is_an_error_and_a_finished_request_is_not() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (server_side, mut client) = tokio::io::duplex(1024);
        let mut guarded = Guarded::new(server_side, Duration::from_millis(200));
        let mut buf = [0u8; 256];
        let whole = b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}";
        client.write_all(whole).await.unwrap();
        guarded.read_exact(&mut buf[..whole.len()]).await.unwrap();
        // Finished: waiting longer than the deadline for the next request is not an error.
        let idle = tokio::time::timeout(Duration::from_millis(400), guarded.read(&mut buf)).await;
        assert!(idle.is_err(), "still waiting, no error");
        let part = b"POST / HTTP/1.1\r\ncontent-length: 5\r\n\r\n{";
        client.write_all(part).await.unwrap();
        guarded.read_exact(&mut buf[..part.len()]).await.unwrap();
        let e = guarded.read(&mut buf).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn a_content_length_body_ends_the_request() {
        let mut s = Scanner::default();
        scan_all(&mut s, &[b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"]);
        assert_eq!(s.phase, Phase::Body(3));
        scan_all(&mut s, &[b"cde"]);
        assert!(!s.in_request());
    }

    #[test]
    fn pipelined_requests_byte_at_a_time_are_followed() {
        let stream =
            b"\r\nPOST / HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut s = Scanner::default();
        let mut begins = 0;
        for b in stream {
            if s.scan(&mut [*b]).began {
                begins += 1;
            }
        }
        assert_eq!(begins, 2);
        assert!(!s.in_request());
    }

    #[test]
    fn a_chunked_body_with_extensions_and_trailers_ends_the_request() {
        let mut s = Scanner::default();
        let out = scan_all(
            &mut s,
            &[
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"3;ext=1\r\nabc\r\n",
                b"A\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n",
            ],
        );
        assert!(!s.in_request());
        assert!(out.iter().all(|p| !p.contains(&0)));
    }

    #[test]
    fn te_with_content_length_is_spoiled_in_either_order() {
        for head in [
            &b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
            &b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n"[..],
        ] {
            let mut s = Scanner::default();
            let out = scan_all(&mut s, &[head]);
            assert_eq!(out[0].last(), Some(&0), "the last line feed is spoiled");
            assert_eq!(s.refused, Some(TE_AND_CL_MESSAGE));
        }
    }

    #[test]
    fn hyper_error_answers_are_recognised_and_ours_are_not() {
        let hyper =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert_eq!(hyper_error_status(hyper), Some(431));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: a\r\nx-amzn-requestid: r\r\ncontent-length: 10\r\n\r\n{}";
        assert_eq!(hyper_error_status(ours), None);
        let answer = aws_error_answer(400, Some(TE_AND_CL_MESSAGE));
        let text = String::from_utf8(answer).unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(text.ends_with(
            r#"{"__type":"SerializationException","message":"A request must not have both Transfer-Encoding and Content-Length headers"}"#
        ));
    }
}
