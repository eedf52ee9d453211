//! Parsing the `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header.

use std::fmt;

use crate::SigV4Error;

/// The only signing algorithm SigV4 header authentication defines.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The terminator every SigV4 credential scope ends with.
pub const TERMINATOR: &str = "aws4_request";

/// The `Credential=AKID/date/region/service/terminator` parameter, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialScope {
    /// The access key id.
    pub access_key_id: String,
    /// `YYYYMMDD` as the client wrote it (checked later against the request's date).
    pub date: String,
    /// The region the client signed for.
    pub region: String,
    /// The service the client signed for.
    pub service: String,
    /// Normally `aws4_request`.
    pub terminator: String,
}

impl CredentialScope {
    /// `date/region/service/terminator`, as it appears in the string to sign.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.date, self.region, self.service, self.terminator
        )
    }
}

/// A syntactically valid SigV4 `Authorization` header. Nothing in it is verified yet.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    /// The parsed `Credential` parameter.
    pub credential: CredentialScope,
    /// The `SignedHeaders` parameter split on `;`, as written (not yet checked for order or case).
    pub signed_headers: Vec<String>,
    /// The `Signature` parameter as written (normally 64 lowercase hex digits).
    pub signature: String,
}

impl fmt::Debug for AuthorizationHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationHeader")
            .field("credential", &self.credential)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"<redacted>")
            .finish()
    }
}

/// Parses an `Authorization` header value.
///
/// A value that is not an `AWS4-…` scheme at all is [`SigV4Error::MissingAuthenticationToken`], as
/// AWS JSON services answer; every other defect is [`SigV4Error::IncompleteSignature`] with AWS's
/// message. Never panics.
pub fn parse_authorization(value: &str) -> Result<AuthorizationHeader, SigV4Error> {
    parse(value, true)
}

/// Longest piece of client input echoed back inside a message about an unparsable element.
const ECHO_LIMIT: usize = 32;

/// Parses, reporting a missing date header in the same message as missing parameters, as AWS does.
pub(crate) fn parse(value: &str, has_date: bool) -> Result<AuthorizationHeader, SigV4Error> {
    let value = value.trim_matches(|c: char| c.is_ascii_whitespace());
    let (algorithm, rest) = match value.find(|c: char| c.is_ascii_whitespace()) {
        Some(at) => (&value[..at], &value[at..]),
        None => (value, ""),
    };
    if !algorithm.starts_with("AWS4-") {
        return Err(SigV4Error::MissingAuthenticationToken);
    }
    if algorithm != ALGORITHM {
        return Err(SigV4Error::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'."
        )));
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    // AWS accepts both commas and whitespace between the parameters.
    for element in rest
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|e| !e.is_empty())
    {
        let Some((key, val)) = element.split_once('=') else {
            return Err(SigV4Error::IncompleteSignature(format!(
                "'{}' not a valid key=value pair (missing equal-sign) in Authorization header.",
                truncate(element, ECHO_LIMIT)
            )));
        };
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        *slot = Some(val).filter(|v| !v.is_empty());
    }

    let mut missing = String::new();
    for (name, seen) in [
        ("Credential", credential.is_some()),
        ("Signature", signature.is_some()),
        ("SignedHeaders", signed_headers.is_some()),
    ] {
        if !seen {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if !has_date {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), true) =
        (credential, signed_headers, signature, missing.is_empty())
    else {
        // AWS echoes the header here; only the algorithm is echoed, so no signature is repeated.
        return Err(SigV4Error::IncompleteSignature(format!(
            "{missing}Authorization={algorithm}"
        )));
    };

    Ok(AuthorizationHeader {
        credential: parse_credential(credential)?,
        signed_headers: signed_headers.split(';').map(str::to_owned).collect(),
        signature: signature.to_owned(),
    })
}

fn parse_credential(value: &str) -> Result<CredentialScope, SigV4Error> {
    // Trailing slashes are ignored, as AWS does.
    let parts: Vec<&str> = value.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        [access_key_id, date, region, service, terminator] => Ok(CredentialScope {
            access_key_id: (*access_key_id).to_owned(),
            date: (*date).to_owned(),
            region: (*region).to_owned(),
            service: (*service).to_owned(),
            terminator: (*terminator).to_owned(),
        }),
        _ => Err(SigV4Error::IncompleteSignature(format!(
            "Credential must have exactly 5 slash-delimited elements, \
             e.g. keyid/date/region/service/term, got '{value}'"
        ))),
    }
}

/// At most `max` characters of `s`, cut on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    fn incomplete(value: &str) -> String {
        match parse_authorization(value) {
            Err(SigV4Error::IncompleteSignature(m)) => m,
            other => panic!("expected IncompleteSignature, got {other:?}"),
        }
    }

    #[test]
    fn well_formed_header_parses_into_its_parts() {
        let parsed = parse_authorization(GOOD).unwrap();
        assert_eq!(parsed.credential.access_key_id, "AKIDEXAMPLE");
        assert_eq!(
            parsed.credential.scope(),
            "20150830/us-east-1/service/aws4_request"
        );
        assert_eq!(parsed.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(parsed.signature.len(), 64);
    }

    #[test]
    fn parameters_may_be_separated_by_commas_or_whitespace_in_any_order() {
        let compact =
            "AWS4-HMAC-SHA256 Signature=ab,SignedHeaders=host,Credential=A/1/r/s/aws4_request";
        let spaced =
            "AWS4-HMAC-SHA256 Credential=A/1/r/s/aws4_request SignedHeaders=host Signature=ab";
        assert_eq!(
            parse_authorization(compact).unwrap(),
            parse_authorization(spaced).unwrap()
        );
    }

    #[test]
    fn non_aws4_scheme_is_missing_authentication_token() {
        for value in [
            "",
            "   ",
            "Basic dXNlcjpwYXNz",
            "Bearer abc",
            "AWS AKID:sig",
        ] {
            assert_eq!(
                parse_authorization(value),
                Err(SigV4Error::MissingAuthenticationToken),
                "{value:?}"
            );
        }
    }

    #[test]
    fn other_aws4_algorithm_is_unsupported() {
        assert_eq!(
            incomplete("AWS4-HMAC-SHA1 Credential=a/b/c/d/e"),
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'."
        );
    }

    #[test]
    fn element_without_equal_sign_is_incomplete_signature() {
        assert_eq!(
            incomplete("AWS4-HMAC-SHA256 FooBar, BazBurp"),
            "'FooBar' not a valid key=value pair (missing equal-sign) in Authorization header."
        );
    }

    #[test]
    fn missing_parameters_are_all_named_in_aws_order() {
        assert_eq!(
            incomplete("AWS4-HMAC-SHA256 Foo=Bar, Baz=Burp"),
            "Authorization header requires 'Credential' parameter. Authorization header requires \
             'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. \
             Authorization=AWS4-HMAC-SHA256"
        );
        assert_eq!(
            incomplete("AWS4-HMAC-SHA256 Credential=A/1/r/s/aws4_request, Signature=ab"),
            "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256"
        );
    }

    #[test]
    fn missing_date_header_is_reported_with_missing_parameters() {
        match parse(GOOD, false) {
            Err(SigV4Error::IncompleteSignature(m)) => assert_eq!(
                m,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
                 header. Authorization=AWS4-HMAC-SHA256"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_parameter_value_counts_as_missing() {
        assert!(incomplete(
            "AWS4-HMAC-SHA256 Credential=A/1/r/s/aws4_request, SignedHeaders=host, Signature="
        )
        .starts_with("Authorization header requires 'Signature' parameter."));
    }

    #[test]
    fn credential_needs_exactly_five_elements() {
        assert_eq!(
            incomplete("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE, SignedHeaders=host, Signature=ab"),
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got 'AKIDEXAMPLE'"
        );
        assert!(incomplete(
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, SignedHeaders=host, Signature=ab"
        )
        .ends_with("got 'a/b/c/d/e/f'"));
    }

    #[test]
    fn trailing_slashes_in_credential_are_ignored() {
        let parsed = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=A/1/r/s/aws4_request//, SignedHeaders=host, Signature=ab",
        )
        .unwrap();
        assert_eq!(parsed.credential.terminator, "aws4_request");
    }

    #[test]
    fn debug_output_hides_the_signature() {
        let parsed = parse_authorization(GOOD).unwrap();
        let shown = format!("{parsed:?}");
        assert!(!shown.contains(&parsed.signature));
        assert!(shown.contains("AKIDEXAMPLE"));
    }

    #[test]
    fn echoed_element_is_truncated() {
        let long = "x".repeat(200);
        let message = incomplete(&format!("AWS4-HMAC-SHA256 {long}"));
        assert!(message.starts_with(&format!("'{}'", "x".repeat(ECHO_LIMIT))));
    }
}
