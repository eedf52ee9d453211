//! The verifier: every check in AWS's order, and a cache of derived signing keys.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::{constant_time, hmac, rand};
use lru::LruCache;
use parking_lot::Mutex;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::auth::{self, AuthorizationHeader, TERMINATOR};
use crate::canonical;
use crate::date;
use crate::{CredentialSource, Expectation, SigV4Error, SignedRequest, Verified};

/// How far the request time may be from the server's, either way, unless configured otherwise.
pub const DEFAULT_MAX_SKEW: Duration = Duration::minutes(5);

/// Headers that change a request's meaning, so must be signed whenever they are present.
const SIGNED_IF_PRESENT: [(&str, &str); 3] = [
    ("content-type", "Content-Type"),
    ("x-amz-content-sha256", "X-Amz-Content-SHA256"),
    ("x-amz-target", "X-Amz-Target"),
];

const CONTENT_SHA256_MISMATCH: &str =
    "The provided 'x-amz-content-sha256' header does not match what was computed.";

/// Verifies SigV4 `Authorization` headers; holds an LRU cache of derived signing keys.
///
/// A signing key depends on the secret, the date, the region and the service, so one derivation
/// (four HMACs) serves a key for a whole day. Entries are keyed by access key id, date, region,
/// service and a keyed hash of the secret, so a rotated secret never hits a stale entry.
pub struct Verifier {
    cache: Option<Mutex<LruCache<CacheKey, hmac::Key>>>,
    /// Keys the secret fingerprints in cache keys, so they reveal nothing outside this process.
    fingerprint_key: hmac::Key,
    max_skew: Duration,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Hash, PartialEq, Eq)]
struct CacheKey {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
    secret: [u8; 32],
}

/// Counters of the signing-key cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Verifications that found their signing key in the cache.
    pub hits: u64,
    /// Verifications that had to derive it.
    pub misses: u64,
    /// Keys held now.
    pub len: usize,
}

/// A request that passed every check that does not need the secret. It proves nothing about who
/// sent it: it is for a development mode that accepts any well-formed request, and for reading the
/// access key id early (quotas) before the real [`Verifier::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unauthenticated {
    /// The access key id the request names.
    pub access_key_id: String,
    /// The region of the credential scope (equal to the expected one).
    pub region: String,
    /// The request's `X-Amz-Date` (or `Date`).
    pub signed_at: OffsetDateTime,
}

/// What [`Verifier::check`] established.
struct Checked {
    auth: AuthorizationHeader,
    /// The request time as it goes into the string to sign.
    amz_date: String,
    signed_at: OffsetDateTime,
    payload_hash: String,
}

impl Default for Verifier {
    /// A verifier caching 1024 signing keys.
    fn default() -> Self {
        Verifier::new(1024)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("max_skew", &self.max_skew)
            .field("cache", &self.cache_stats())
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier caching up to `cache_capacity` signing keys (0 turns the cache off).
    pub fn new(cache_capacity: usize) -> Self {
        let fingerprint_key = hmac::Key::generate(hmac::HMAC_SHA256, &rand::SystemRandom::new())
            // The random key is defence in depth only; a fixed one keeps the cache correct.
            .unwrap_or_else(|_| hmac::Key::new(hmac::HMAC_SHA256, b"trent-sigv4 fingerprint"));
        Verifier {
            cache: NonZeroUsize::new(cache_capacity).map(|n| Mutex::new(LruCache::new(n))),
            fingerprint_key,
            max_skew: DEFAULT_MAX_SKEW,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Sets how far the request time may be from `now`, either way (the sign is ignored).
    pub fn with_max_skew(mut self, max_skew: Duration) -> Self {
        self.max_skew = max_skew.abs();
        self
    }

    /// How far the request time may be from `now`, either way.
    pub fn max_skew(&self) -> Duration {
        self.max_skew
    }

    /// The signing-key cache's counters.
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            len: self.cache.as_ref().map_or(0, |c| c.lock().len()),
        }
    }

    /// Verifies `req`'s signature at time `now` against the credential scope `expect`, looking
    /// the secret up in `creds`. Never panics, whatever the request holds.
    pub fn verify<C: CredentialSource>(
        &self,
        req: &SignedRequest,
        now: OffsetDateTime,
        expect: &Expectation,
        creds: &C,
    ) -> Result<Verified<C::Principal>, SigV4Error> {
        let checked = self.check(req, now, expect)?;
        let scope = &checked.auth.credential;
        let credential = creds
            .lookup(&scope.access_key_id)
            .ok_or(SigV4Error::UnrecognizedClient)?;

        let signed_headers: Vec<&str> = checked
            .auth
            .signed_headers
            .iter()
            .map(String::as_str)
            .collect();
        let canonical_request = canonical::canonical_request(
            req.method,
            req.path,
            req.query,
            req.headers,
            &signed_headers,
            &checked.payload_hash,
        )
        .ok_or_else(SigV4Error::mismatch)?;
        let string_to_sign =
            canonical::string_to_sign(&checked.amz_date, &scope.scope(), &canonical_request);
        let provided = hex::decode(&checked.auth.signature)
            .ok()
            .filter(|s| s.len() == 32)
            .ok_or_else(SigV4Error::mismatch)?;
        let key = self.signing_key(
            &scope.access_key_id,
            &credential.secret_access_key,
            expect,
            &scope.date,
        );
        // Constant time: aws-lc recomputes the HMAC and compares with CRYPTO_memcmp.
        hmac::verify(&key, &string_to_sign, &provided).map_err(|_| SigV4Error::mismatch())?;

        check_session_token(req.headers, credential.session_token.as_deref())?;

        Ok(Verified {
            access_key_id: scope.access_key_id.clone(),
            principal: credential.principal,
            region: scope.region.clone(),
            signed_at: checked.signed_at,
        })
    }

    /// Runs every check [`verify`](Self::verify) runs before it needs the secret, and returns the
    /// access key id. **This does not authenticate the request.**
    pub fn check_without_signature(
        &self,
        req: &SignedRequest,
        now: OffsetDateTime,
        expect: &Expectation,
    ) -> Result<Unauthenticated, SigV4Error> {
        let checked = self.check(req, now, expect)?;
        Ok(Unauthenticated {
            access_key_id: checked.auth.credential.access_key_id,
            region: checked.auth.credential.region,
            signed_at: checked.signed_at,
        })
    }

    /// Header syntax, date, skew, scope, signed-header rules and payload hash, in AWS's order.
    fn check(
        &self,
        req: &SignedRequest,
        now: OffsetDateTime,
        expect: &Expectation,
    ) -> Result<Checked, SigV4Error> {
        let headers = req.headers;
        let authorization = headers
            .get(http::header::AUTHORIZATION)
            .ok_or(SigV4Error::MissingAuthenticationToken)?;
        let authorization = String::from_utf8_lossy(authorization.as_bytes());
        // X-Amz-Date wins; an HTTP Date header stands in for it, as AWS allows.
        let amz_date_value = headers.get("x-amz-date");
        let uses_amz_date = amz_date_value.is_some();
        let date_value = amz_date_value.or_else(|| headers.get(http::header::DATE));
        let auth = auth::parse(&authorization, date_value.is_some())?;
        let date_value = date_value.map_or_else(String::new, |v| {
            String::from_utf8_lossy(v.as_bytes()).into_owned()
        });

        let is_signed = |name: &str| {
            auth.signed_headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
        };
        if !is_signed("host") {
            return Err(SigV4Error::InvalidSignature(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
            ));
        }

        let signed_at = if uses_amz_date {
            date::parse_basic(&date_value)
        } else {
            date::parse_http_date(&date_value)
        }
        .ok_or_else(|| {
            SigV4Error::IncompleteSignature(format!(
                "Date must be in ISO-8601 'basic format'. Got '{date_value}'. \
                 See http://en.wikipedia.org/wiki/ISO_8601"
            ))
        })?;
        let amz_date = date::format_basic(signed_at);
        self.check_skew(signed_at, &amz_date, now)?;
        check_scope(&auth, expect, &amz_date)?;

        let date_header = if uses_amz_date {
            ("x-amz-date", "X-Amz-Date")
        } else {
            ("date", "Date")
        };
        for (name, display) in std::iter::once(date_header).chain(
            SIGNED_IF_PRESENT
                .into_iter()
                .filter(|(name, _)| headers.contains_key(*name)),
        ) {
            if !is_signed(name) {
                return Err(SigV4Error::InvalidSignature(format!(
                    "'{display}' must be a 'SignedHeader' in the AWS Authorization."
                )));
            }
        }
        // The canonical list is lowercase, sorted and without duplicates; anything else cannot
        // match what an AWS signer produced.
        let canonical_list = auth
            .signed_headers
            .iter()
            .all(|h| !h.is_empty() && !h.bytes().any(|b| b.is_ascii_uppercase()))
            && auth.signed_headers.windows(2).all(|w| w[0] < w[1]);
        if !canonical_list {
            return Err(SigV4Error::mismatch());
        }

        let payload_hash = canonical::sha256_hex(req.body);
        let mut claimed = headers.get_all("x-amz-content-sha256").iter();
        if let Some(first) = claimed.next() {
            if claimed.next().is_some()
                || !first
                    .as_bytes()
                    .eq_ignore_ascii_case(payload_hash.as_bytes())
            {
                return Err(SigV4Error::InvalidSignature(
                    CONTENT_SHA256_MISMATCH.to_owned(),
                ));
            }
        }

        Ok(Checked {
            auth,
            amz_date,
            signed_at,
            payload_hash,
        })
    }

    fn check_skew(
        &self,
        signed_at: OffsetDateTime,
        amz_date: &str,
        now: OffsetDateTime,
    ) -> Result<(), SigV4Error> {
        let now = now.to_offset(UtcOffset::UTC);
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let skew = self.max_skew;
        let late = signed_at - now < -skew;
        let early = signed_at - now > skew;
        if !late && !early {
            return Ok(());
        }
        let skew_text = if skew.whole_seconds() % 60 == 0 {
            format!("{} min.", skew.whole_minutes())
        } else {
            format!("{} sec.", skew.whole_seconds())
        };
        let now_text = date::format_basic(now);
        let bound = |t: Option<OffsetDateTime>| date::format_basic(t.unwrap_or(now));
        Err(SigV4Error::SignatureExpired(if late {
            format!(
                "Signature expired: {amz_date} is now earlier than {} ({now_text} - {skew_text})",
                bound(now.checked_sub(skew))
            )
        } else {
            format!(
                "Signature not yet current: {amz_date} is still later than {} ({now_text} + {skew_text})",
                bound(now.checked_add(skew))
            )
        }))
    }

    /// The signing key for this secret and scope, from the cache when it is there.
    fn signing_key(
        &self,
        access_key_id: &str,
        secret: &str,
        expect: &Expectation,
        date: &str,
    ) -> hmac::Key {
        let Some(cache) = &self.cache else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return canonical::signing_key(secret, date, expect.region, expect.service);
        };
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(hmac::sign(&self.fingerprint_key, secret.as_bytes()).as_ref());
        let cache_key = CacheKey {
            access_key_id: access_key_id.to_owned(),
            date: date.to_owned(),
            region: expect.region.to_owned(),
            service: expect.service.to_owned(),
            secret: fingerprint,
        };
        if let Some(key) = cache.lock().get(&cache_key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return key.clone();
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let key = canonical::signing_key(secret, date, expect.region, expect.service);
        cache.lock().put(cache_key, key.clone());
        key
    }
}

/// Region, service, terminator and date of the credential scope; every mismatch is named.
fn check_scope(
    auth: &AuthorizationHeader,
    expect: &Expectation,
    amz_date: &str,
) -> Result<(), SigV4Error> {
    let scope = &auth.credential;
    let mut message = String::new();
    if scope.region != expect.region {
        message.push_str(&format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            scope.region
        ));
    }
    if scope.service != expect.service {
        message.push_str(&format!(
            "Credential should be scoped to correct service: '{}'. ",
            expect.service
        ));
    }
    if scope.terminator != TERMINATOR {
        message.push_str(&format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'. ",
            scope.terminator
        ));
    }
    let day = amz_date.get(..8).unwrap_or(amz_date);
    if scope.date != day {
        message.push_str(&format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP: '{}' != '{day}', from '{amz_date}'. ",
            scope.date
        ));
    }
    if message.is_empty() {
        Ok(())
    } else {
        Err(SigV4Error::InvalidSignature(message))
    }
}

/// A credential with a session token needs exactly that token; one without needs none.
fn check_session_token(
    headers: &http::HeaderMap,
    expected: Option<&str>,
) -> Result<(), SigV4Error> {
    let mut sent = headers.get_all("x-amz-security-token").iter();
    let ok = match (expected, sent.next(), sent.next()) {
        (None, None, _) => true,
        (Some(token), Some(value), None) => {
            constant_time::verify_slices_are_equal(value.as_bytes(), token.as_bytes()).is_ok()
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(SigV4Error::InvalidSecurityToken)
    }
}
