//! The client side: signing a request the way AWS SDKs do, for tests and benchmarks.

use http::header::{HeaderName, HeaderValue, InvalidHeaderValue, AUTHORIZATION};
use http::HeaderMap;
use time::OffsetDateTime;

use crate::auth::{ALGORITHM, TERMINATOR};
use crate::canonical;
use crate::date;

/// Headers AWS SDKs leave unsigned (proxies may change them).
const UNSIGNED: [&str; 4] = ["authorization", "expect", "user-agent", "x-amzn-trace-id"];

/// Who signs, for what scope, and when.
#[derive(Clone, Copy)]
pub struct SigningParams<'a> {
    /// The access key id.
    pub access_key_id: &'a str,
    /// The secret access key.
    pub secret_access_key: &'a str,
    /// A session token, sent (and signed) as `x-amz-security-token`.
    pub session_token: Option<&'a str>,
    /// The region, e.g. `us-east-1`.
    pub region: &'a str,
    /// The service's signing name, e.g. `kms`.
    pub service: &'a str,
    /// The signing time; becomes `X-Amz-Date`.
    pub time: OffsetDateTime,
}

impl std::fmt::Debug for SigningParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningParams")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

/// Signs a request: sets `x-amz-date` (and `x-amz-security-token` when there is a session token)
/// in `headers`, signs every header present except `authorization`, `expect`, `user-agent` and
/// `x-amzn-trace-id`, inserts the `Authorization` header and returns its value.
///
/// `headers` must already hold `host`. Fails only if the access key id, region, service or token
/// cannot be put in a header value.
pub fn sign(
    method: &str,
    path: &str,
    query: &str,
    headers: &mut HeaderMap,
    body: &[u8],
    params: &SigningParams,
) -> Result<String, InvalidHeaderValue> {
    let amz_date = date::format_basic(params.time);
    headers.insert(
        HeaderName::from_static("x-amz-date"),
        HeaderValue::from_str(&amz_date)?,
    );
    if let Some(token) = params.session_token {
        headers.insert(
            HeaderName::from_static("x-amz-security-token"),
            HeaderValue::from_str(token)?,
        );
    }
    let mut names: Vec<&str> = headers
        .keys()
        .map(HeaderName::as_str)
        .filter(|name| !UNSIGNED.contains(name))
        .collect();
    names.sort_unstable();
    names.dedup();

    let payload_hash = canonical::sha256_hex(body);
    let canonical_request =
        canonical::canonical_request(method, path, query, headers, &names, &payload_hash)
            .unwrap_or_default();
    let day = amz_date.get(..8).unwrap_or_default();
    let scope = format!("{day}/{}/{}/{TERMINATOR}", params.region, params.service);
    let string_to_sign = canonical::string_to_sign(&amz_date, &scope, &canonical_request);
    let key = canonical::signing_key(params.secret_access_key, day, params.region, params.service);
    let signature = hex::encode(aws_lc_rs::hmac::sign(&key, &string_to_sign));
    let value = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        params.access_key_id,
        names.join(";"),
    );
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&value)?);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn signing_get_vanilla_gives_the_documented_header() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
        let params = SigningParams {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token: None,
            region: "us-east-1",
            service: "service",
            time: datetime!(2015-08-30 12:36:00 UTC),
        };
        let value = sign("GET", "/", "", &mut headers, b"", &params).unwrap();
        assert_eq!(
            value,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(headers["x-amz-date"], "20150830T123600Z");
        assert_eq!(headers[AUTHORIZATION], value.as_str());
    }

    #[test]
    fn signing_with_a_session_token_signs_the_token_as_the_suite_does() {
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
        headers.insert("user-agent", HeaderValue::from_static("not signed"));
        let params = SigningParams {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token: Some(token),
            region: "us-east-1",
            service: "service",
            time: datetime!(2015-08-30 12:36:00 UTC),
        };
        let value = sign("POST", "/", "", &mut headers, b"", &params).unwrap();
        assert!(value.ends_with(
            "SignedHeaders=host;x-amz-date;x-amz-security-token, \
             Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        ));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let params = SigningParams {
            access_key_id: "AKID",
            secret_access_key: "SECRET-VALUE",
            session_token: Some("TOKEN-VALUE"),
            region: "r",
            service: "s",
            time: datetime!(2015-08-30 12:36:00 UTC),
        };
        let shown = format!("{params:?}");
        assert!(!shown.contains("SECRET-VALUE") && !shown.contains("TOKEN-VALUE"));
    }
}
