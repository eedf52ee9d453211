//! Verification end to end: AWS's test-suite vectors, round trips, every error, the cache, and
//! property tests that nothing panics.

use std::cell::Cell;

use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::client::{self, SigningParams};
use crate::{
    canonical, Credential, CredentialSource, Expectation, SigV4Error, SignedRequest, Verified,
    Verifier, SIGNATURE_MISMATCH,
};

const SUITE_AKID: &str = "AKIDEXAMPLE";
const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_NOW: OffsetDateTime = datetime!(2015-08-30 12:36:00 UTC);
const SUITE_EXPECT: Expectation<'static> = Expectation {
    service: "service",
    region: "us-east-1",
};
const STS_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

const AKID: &str = "AKIATRENTEXAMPLE0001";
const SECRET: &str = "trentSecretAccessKeyForTests/0123456789+ab";
const NOW: OffsetDateTime = datetime!(2026-11-29 08:00:00 UTC);
const KMS: Expectation<'static> = Expectation {
    service: "kms",
    region: "us-east-1",
};

/// An in-memory key table that counts lookups.
#[derive(Default)]
struct Keys {
    entries: Vec<(&'static str, String, Option<String>, &'static str)>,
    lookups: Cell<usize>,
}

impl Keys {
    fn with(mut self, akid: &'static str, secret: &str, token: Option<&str>) -> Self {
        self.entries
            .push((akid, secret.to_owned(), token.map(str::to_owned), akid));
        self
    }
}

impl CredentialSource for Keys {
    type Principal = &'static str;
    fn lookup(&self, access_key_id: &str) -> Option<Credential<&'static str>> {
        self.lookups.set(self.lookups.get() + 1);
        self.entries
            .iter()
            .find(|(akid, ..)| *akid == access_key_id)
            .map(|(_, secret, token, principal)| Credential {
                secret_access_key: Zeroizing::new(secret.clone()),
                session_token: token.clone(),
                principal: *principal,
            })
    }
}

fn suite_keys() -> Keys {
    Keys::default().with(SUITE_AKID, SUITE_SECRET, None)
}

fn keys() -> Keys {
    Keys::default().with(AKID, SECRET, None)
}

fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    headers
}

fn request<'a>(
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a HeaderMap,
    body: &'a [u8],
) -> SignedRequest<'a> {
    SignedRequest {
        method,
        path,
        query,
        headers,
        body,
    }
}

/// A KMS-shaped request, signed by the client helper at `at`.
struct Kms {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Kms {
    fn signed_at(at: OffsetDateTime) -> Self {
        Self::signed_with(at, SECRET, None)
    }

    fn signed_with(at: OffsetDateTime, secret: &str, token: Option<&str>) -> Self {
        let mut headers = header_map(&[
            ("host", "kms.us-east-1.amazonaws.com"),
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "TrentService.Encrypt"),
            ("user-agent", "tests"),
        ]);
        let body = br#"{"KeyId":"alias/test","Plaintext":"aGVsbG8="}"#.to_vec();
        let params = SigningParams {
            access_key_id: AKID,
            secret_access_key: secret,
            session_token: token,
            region: "us-east-1",
            service: "kms",
            time: at,
        };
        client::sign("POST", "/", "", &mut headers, &body, &params).unwrap();
        Kms { headers, body }
    }

    fn req(&self) -> SignedRequest<'_> {
        request("POST", "/", "", &self.headers, &self.body)
    }

    fn verify_with(
        &self,
        verifier: &Verifier,
        now: OffsetDateTime,
        creds: &Keys,
    ) -> Result<Verified<&'static str>, SigV4Error> {
        verifier.verify(&self.req(), now, &KMS, creds)
    }

    fn verify(&self, now: OffsetDateTime) -> Result<Verified<&'static str>, SigV4Error> {
        self.verify_with(&Verifier::new(8), now, &keys())
    }

    fn signature(&self) -> String {
        let value = self.headers["authorization"].to_str().unwrap();
        value.rsplit("Signature=").next().unwrap().to_owned()
    }

    fn set(&mut self, name: &'static str, value: &str) {
        self.headers
            .insert(name, HeaderValue::from_str(value).unwrap());
    }

    fn replace_in_authorization(&mut self, from: &str, to: &str) {
        let value = self.headers["authorization"]
            .to_str()
            .unwrap()
            .replacen(from, to, 1);
        self.set("authorization", &value);
    }
}

fn invalid_signature(result: Result<Verified<&'static str>, SigV4Error>) -> String {
    match result {
        Err(SigV4Error::InvalidSignature(m)) => m,
        other => panic!("expected InvalidSignature, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The AWS SigV4 test suite (aws-sig-v4-test-suite / aws-c-auth), and the S3 documentation examples.
// ---------------------------------------------------------------------------------------------

struct Vector {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    query: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    signed_headers: &'static str,
    signature: &'static str,
}

const SUITE: &[Vector] = &[
    Vector {
        name: "get-vanilla",
        method: "GET",
        path: "/",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    Vector {
        name: "get-vanilla-query-order-key-case",
        method: "GET",
        path: "/",
        query: "Param2=value2&Param1=value1",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    },
    Vector {
        name: "get-vanilla-query-order-key",
        method: "GET",
        path: "/",
        query: "Param1=value2&Param1=Value1",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1",
    },
    Vector {
        name: "get-vanilla-query-order-value",
        method: "GET",
        path: "/",
        query: "Param1=value2&Param1=value1",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694",
    },
    Vector {
        name: "get-vanilla-query-unreserved",
        method: "GET",
        path: "/",
        query: "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
    },
    Vector {
        name: "get-vanilla-empty-query-key",
        method: "GET",
        path: "/",
        query: "Param1=value1",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
    },
    Vector {
        name: "get-header-key-duplicate",
        method: "GET",
        path: "/",
        query: "",
        headers: &[
            ("my-header1", "value2"),
            ("my-header1", "value2"),
            ("my-header1", "value1"),
        ],
        body: b"",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    },
    Vector {
        name: "get-header-value-order",
        method: "GET",
        path: "/",
        query: "",
        headers: &[
            ("my-header1", "value4"),
            ("my-header1", "value1"),
            ("my-header1", "value3"),
            ("my-header1", "value2"),
        ],
        body: b"",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
    },
    Vector {
        name: "get-header-value-trim",
        method: "GET",
        path: "/",
        query: "",
        headers: &[("my-header1", " value1"), ("my-header2", " \"a   b   c\"")],
        body: b"",
        signed_headers: "host;my-header1;my-header2;x-amz-date",
        signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    },
    Vector {
        name: "get-unreserved",
        method: "GET",
        path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
    },
    Vector {
        name: "get-utf8",
        method: "GET",
        path: "/ሴ",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
    },
    Vector {
        name: "normalize-path/get-relative",
        method: "GET",
        path: "/example/..",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    Vector {
        name: "normalize-path/get-relative-relative",
        method: "GET",
        path: "/example1/example2/../..",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    Vector {
        name: "normalize-path/get-slash-dot-slash",
        method: "GET",
        path: "/./",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    Vector {
        name: "normalize-path/get-slashes",
        method: "GET",
        path: "//example//",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
    },
    Vector {
        name: "normalize-path/get-slash-pointless-dot",
        method: "GET",
        path: "/./example",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
    },
    Vector {
        name: "normalize-path/get-space",
        method: "GET",
        path: "/example space/",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
    },
    Vector {
        name: "post-vanilla",
        method: "POST",
        path: "/",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    },
    Vector {
        name: "post-vanilla-empty-query-value",
        method: "POST",
        path: "/",
        query: "Param1=value1",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
    },
    Vector {
        name: "post-header-key-sort",
        method: "POST",
        path: "/",
        query: "",
        headers: &[("my-header1", "value1")],
        body: b"",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
    },
    Vector {
        name: "post-header-value-case",
        method: "POST",
        path: "/",
        query: "",
        headers: &[("my-header1", "VALUE1")],
        body: b"",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
    },
    Vector {
        name: "post-x-www-form-urlencoded",
        method: "POST",
        path: "/",
        query: "",
        headers: &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", "13"),
        ],
        body: b"Param1=value1",
        signed_headers: "content-type;host;x-amz-date",
        signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    },
    Vector {
        name: "post-x-www-form-urlencoded-parameters",
        method: "POST",
        path: "/",
        query: "",
        headers: &[
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf8",
            ),
            ("content-length", "13"),
        ],
        body: b"Param1=value1",
        signed_headers: "content-type;host;x-amz-date",
        signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
    },
    Vector {
        name: "post-sts-token/post-sts-header-before",
        method: "POST",
        path: "/",
        query: "",
        headers: &[("x-amz-security-token", STS_TOKEN)],
        body: b"",
        signed_headers: "host;x-amz-date;x-amz-security-token",
        signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
    },
    Vector {
        name: "post-sts-token/post-sts-header-after",
        method: "POST",
        path: "/",
        query: "",
        headers: &[("x-amz-security-token", STS_TOKEN)],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    },
];

fn suite_request_headers(v: &Vector, signature: &str) -> HeaderMap {
    let mut headers = header_map(&[
        ("host", "example.amazonaws.com"),
        ("x-amz-date", "20150830T123600Z"),
    ]);
    for (name, value) in v.headers {
        headers.append(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={SUITE_AKID}/20150830/us-east-1/service/aws4_request, \
         SignedHeaders={}, Signature={signature}",
        v.signed_headers
    );
    headers.insert("authorization", authorization.parse().unwrap());
    headers
}

fn suite_keys_for(v: &Vector) -> Keys {
    let token = v.name.starts_with("post-sts-token").then_some(STS_TOKEN);
    Keys::default().with(SUITE_AKID, SUITE_SECRET, token)
}

#[test]
fn every_test_suite_vector_verifies() {
    let verifier = Verifier::new(4);
    for v in SUITE {
        let headers = suite_request_headers(v, v.signature);
        let req = request(v.method, v.path, v.query, &headers, v.body);
        let verified = verifier
            .verify(&req, SUITE_NOW, &SUITE_EXPECT, &suite_keys_for(v))
            .unwrap_or_else(|e| panic!("{}: {e:?}", v.name));
        assert_eq!(verified.access_key_id, SUITE_AKID, "{}", v.name);
        assert_eq!(verified.signed_at, SUITE_NOW, "{}", v.name);
    }
}

#[test]
fn every_test_suite_vector_fails_with_one_signature_digit_changed() {
    let verifier = Verifier::new(4);
    for v in SUITE {
        let mut signature = v.signature.to_owned();
        let last = if signature.ends_with('0') { "1" } else { "0" };
        signature.replace_range(63.., last);
        let headers = suite_request_headers(v, &signature);
        let req = request(v.method, v.path, v.query, &headers, v.body);
        assert_eq!(
            verifier.verify(&req, SUITE_NOW, &SUITE_EXPECT, &suite_keys_for(v)),
            Err(SigV4Error::mismatch()),
            "{}",
            v.name
        );
    }
}

#[test]
fn client_signer_reproduces_the_test_suite_signatures() {
    for v in SUITE {
        // These sign fewer headers than the request carries; the signer signs all of them.
        if v.headers.iter().any(|(n, _)| *n == "content-length") || v.name.ends_with("header-after")
        {
            continue;
        }
        let mut headers = header_map(&[("host", "example.amazonaws.com")]);
        for (name, value) in v.headers {
            if *name != "x-amz-security-token" {
                headers.append(
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                );
            }
        }
        let params = SigningParams {
            access_key_id: SUITE_AKID,
            secret_access_key: SUITE_SECRET,
            session_token: v.name.starts_with("post-sts-token").then_some(STS_TOKEN),
            region: "us-east-1",
            service: "service",
            time: SUITE_NOW,
        };
        let value = client::sign(v.method, v.path, v.query, &mut headers, v.body, &params).unwrap();
        assert!(
            value.ends_with(&format!(
                "SignedHeaders={}, Signature={}",
                v.signed_headers, v.signature
            )),
            "{}: {value}",
            v.name
        );
    }
}

const S3_EXPECT: Expectation<'static> = Expectation {
    service: "s3",
    region: "us-east-1",
};
const S3_NOW: OffsetDateTime = datetime!(2013-05-24 00:00:00 UTC);
const S3_EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn s3_keys() -> Keys {
    Keys::default().with(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
    )
}

fn s3_headers(extra: &[(&str, &str)], signed: &str, signature: &str) -> HeaderMap {
    let mut headers = header_map(&[
        ("host", "examplebucket.s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
    ]);
    for (name, value) in extra {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders={signed}, Signature={signature}"
    );
    headers.insert("authorization", authorization.parse().unwrap());
    headers
}

#[test]
fn s3_documentation_examples_verify_with_a_matching_content_sha256() {
    let verifier = Verifier::new(4);
    let get = s3_headers(
        &[("range", "bytes=0-9"), ("x-amz-content-sha256", S3_EMPTY)],
        "host;range;x-amz-content-sha256;x-amz-date",
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
    let put = s3_headers(
        &[
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            (
                "x-amz-content-sha256",
                "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
            ),
        ],
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
    let lifecycle = s3_headers(
        &[("x-amz-content-sha256", S3_EMPTY)],
        "host;x-amz-content-sha256;x-amz-date",
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    );
    let list = s3_headers(
        &[("x-amz-content-sha256", S3_EMPTY)],
        "host;x-amz-content-sha256;x-amz-date",
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    );
    for (name, req) in [
        ("get-object", request("GET", "/test.txt", "", &get, b"")),
        (
            "put-object",
            request("PUT", "/test$file.text", "", &put, b"Welcome to Amazon S3."),
        ),
        (
            "get-lifecycle",
            request("GET", "/", "lifecycle", &lifecycle, b""),
        ),
        (
            "list-objects",
            request("GET", "/", "max-keys=2&prefix=J", &list, b""),
        ),
    ] {
        verifier
            .verify(&req, S3_NOW, &S3_EXPECT, &s3_keys())
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

#[test]
fn content_sha256_that_does_not_match_the_body_is_invalid_signature() {
    let put = s3_headers(
        &[(
            "x-amz-content-sha256",
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        )],
        "host;x-amz-content-sha256;x-amz-date",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
    let req = request("PUT", "/test$file.text", "", &put, b"Welcome to Amazon S4.");
    assert_eq!(
        invalid_signature(Verifier::new(1).verify(&req, S3_NOW, &S3_EXPECT, &s3_keys())),
        "The provided 'x-amz-content-sha256' header does not match what was computed."
    );
}

#[test]
fn http_date_header_stands_in_for_x_amz_date() {
    let mut headers = header_map(&[
        ("host", "example.amazonaws.com"),
        ("date", "Sun, 30 Aug 2015 12:36:00 GMT"),
    ]);
    let canonical = canonical::canonical_request(
        "GET",
        "/",
        "",
        &headers,
        &["date", "host"],
        &canonical::sha256_hex(b""),
    )
    .unwrap();
    let sts = canonical::string_to_sign(
        "20150830T123600Z",
        "20150830/us-east-1/service/aws4_request",
        &canonical,
    );
    let key = canonical::signing_key(SUITE_SECRET, "20150830", "us-east-1", "service");
    let signature = hex::encode(aws_lc_rs::hmac::sign(&key, &sts));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={SUITE_AKID}/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=date;host, Signature={signature}"
    );
    headers.insert("authorization", authorization.parse().unwrap());
    let req = request("GET", "/", "", &headers, b"");
    let verified = Verifier::new(1)
        .verify(&req, SUITE_NOW, &SUITE_EXPECT, &suite_keys())
        .unwrap();
    assert_eq!(verified.signed_at, SUITE_NOW);
}

// ---------------------------------------------------------------------------------------------
// Round trips and tampering.
// ---------------------------------------------------------------------------------------------

#[test]
fn signed_kms_request_verifies_and_names_the_caller() {
    let signed = Kms::signed_at(NOW);
    let verified = signed.verify(NOW + Duration::seconds(10)).unwrap();
    assert_eq!(
        verified,
        Verified {
            access_key_id: AKID.to_owned(),
            principal: AKID,
            region: "us-east-1".to_owned(),
            signed_at: NOW,
        }
    );
}

#[test]
fn replay_within_the_window_is_accepted() {
    let signed = Kms::signed_at(NOW);
    let verifier = Verifier::new(8);
    for seconds in [0, 1, 60, 299] {
        signed
            .verify_with(&verifier, NOW + Duration::seconds(seconds), &keys())
            .unwrap();
    }
}

#[test]
fn now_in_another_offset_is_the_same_instant() {
    let signed = Kms::signed_at(NOW);
    let now = NOW.to_offset(time::macros::offset!(+09:00));
    signed.verify(now).unwrap();
}

#[test]
fn wrong_secret_is_invalid_signature() {
    let signed = Kms::signed_with(NOW, "not the secret", None);
    assert_eq!(invalid_signature(signed.verify(NOW)), SIGNATURE_MISMATCH);
}

#[test]
fn tampered_body_is_invalid_signature() {
    let mut signed = Kms::signed_at(NOW);
    signed.body[10] ^= 1;
    assert_eq!(invalid_signature(signed.verify(NOW)), SIGNATURE_MISMATCH);
}

#[test]
fn tampered_signed_header_is_invalid_signature() {
    let mut signed = Kms::signed_at(NOW);
    signed.set("x-amz-target", "TrentService.ScheduleKeyDeletion");
    assert_eq!(invalid_signature(signed.verify(NOW)), SIGNATURE_MISMATCH);
}

#[test]
fn extra_value_of_a_signed_header_is_invalid_signature() {
    let mut signed = Kms::signed_at(NOW);
    signed.headers.append(
        "x-amz-target",
        HeaderValue::from_static("TrentService.Decrypt"),
    );
    assert_eq!(invalid_signature(signed.verify(NOW)), SIGNATURE_MISMATCH);
}

#[test]
fn tampered_date_is_invalid_signature() {
    let mut signed = Kms::signed_at(NOW);
    signed.set("x-amz-date", "20261129T080001Z");
    assert_eq!(invalid_signature(signed.verify(NOW)), SIGNATURE_MISMATCH);
}

#[test]
fn tampered_method_path_or_query_is_invalid_signature() {
    let signed = Kms::signed_at(NOW);
    let verifier = Verifier::new(8);
    for (method, path, query) in [("PUT", "/", ""), ("POST", "/x", ""), ("POST", "/", "a=b")] {
        let req = request(method, path, query, &signed.headers, &signed.body);
        assert_eq!(
            verifier.verify(&req, NOW, &KMS, &keys()),
            Err(SigV4Error::mismatch()),
            "{method} {path}?{query}"
        );
    }
}

#[test]
fn unsigned_extra_header_does_not_matter() {
    let mut signed = Kms::signed_at(NOW);
    signed.set("user-agent", "something else");
    signed.set("x-forwarded-for", "10.0.0.1");
    signed.verify(NOW).unwrap();
}

#[test]
fn flipped_signature_digit_is_invalid_signature() {
    let mut signed = Kms::signed_at(NOW);
    let signature = signed.signature();
    let flipped: String = signature
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 5 {
                if c == 'a' {
                    'b'
                } else {
                    'a'
                }
            } else {
                c
            }
        })
        .collect();
    signed.replace_in_authorization(&signature, &flipped);
    assert_eq!(invalid_signature(signed.verify(NOW)), SIGNATURE_MISMATCH);
}

#[test]
fn signature_that_is_not_32_bytes_of_hex_is_invalid_signature() {
    for bad in ["zz", "abcd", &"0".repeat(66)] {
        let mut signed = Kms::signed_at(NOW);
        let signature = signed.signature();
        signed.replace_in_authorization(&signature, bad);
        assert_eq!(
            invalid_signature(signed.verify(NOW)),
            SIGNATURE_MISMATCH,
            "{bad}"
        );
    }
}

#[test]
fn uppercase_hex_signature_is_accepted() {
    let mut signed = Kms::signed_at(NOW);
    let signature = signed.signature();
    signed.replace_in_authorization(&signature, &signature.to_uppercase());
    signed.verify(NOW).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Each error, with AWS's words.
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_authorization_header_is_missing_authentication_token() {
    let mut signed = Kms::signed_at(NOW);
    signed.headers.remove("authorization");
    let error = signed.verify(NOW).unwrap_err();
    assert_eq!(error, SigV4Error::MissingAuthenticationToken);
    assert_eq!(error.aws_code(), "MissingAuthenticationTokenException");
    assert_eq!(error.message(), "Request is missing Authentication Token");
    assert_eq!(error.http_status(), 400);
}

#[test]
fn non_sigv4_authorization_is_missing_authentication_token() {
    let mut signed = Kms::signed_at(NOW);
    signed.set("authorization", "Bearer abc");
    assert_eq!(
        signed.verify(NOW),
        Err(SigV4Error::MissingAuthenticationToken)
    );
}

#[test]
fn missing_date_header_is_incomplete_signature() {
    let mut signed = Kms::signed_at(NOW);
    signed.headers.remove("x-amz-date");
    let error = signed.verify(NOW).unwrap_err();
    assert_eq!(error.aws_code(), "IncompleteSignatureException");
    assert_eq!(
        error.message(),
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=AWS4-HMAC-SHA256"
    );
}

#[test]
fn malformed_date_is_incomplete_signature() {
    let mut signed = Kms::signed_at(NOW);
    signed.set("x-amz-date", "2026-11-29T08:00:00Z");
    assert_eq!(
        signed.verify(NOW),
        Err(SigV4Error::IncompleteSignature(
            "Date must be in ISO-8601 'basic format'. Got '2026-11-29T08:00:00Z'. \
             See http://en.wikipedia.org/wiki/ISO_8601"
                .into()
        ))
    );
}

#[test]
fn malformed_authorization_is_incomplete_signature() {
    let mut signed = Kms::signed_at(NOW);
    signed.replace_in_authorization("SignedHeaders=", "Signed=");
    let error = signed.verify(NOW).unwrap_err();
    assert_eq!(
        error,
        SigV4Error::IncompleteSignature(
            "Authorization header requires 'SignedHeaders' parameter. \
             Authorization=AWS4-HMAC-SHA256"
                .into()
        )
    );
}

#[test]
fn unknown_access_key_is_unrecognized_client() {
    let signed = Kms::signed_at(NOW);
    let creds = Keys::default().with("AKIAOTHER", SECRET, None);
    let error = signed
        .verify_with(&Verifier::new(8), NOW, &creds)
        .unwrap_err();
    assert_eq!(error, SigV4Error::UnrecognizedClient);
    assert_eq!(error.aws_code(), "UnrecognizedClientException");
    assert_eq!(
        error.message(),
        "The security token included in the request is invalid."
    );
}

#[test]
fn unknown_key_and_wrong_token_read_the_same() {
    assert_eq!(
        SigV4Error::UnrecognizedClient.message(),
        SigV4Error::InvalidSecurityToken.message()
    );
    assert_eq!(
        SigV4Error::UnrecognizedClient.aws_code(),
        SigV4Error::InvalidSecurityToken.aws_code()
    );
}

#[test]
fn host_not_signed_is_invalid_signature() {
    let mut signed = Kms::signed_at(NOW);
    signed.replace_in_authorization("content-type;host;", "content-type;");
    assert_eq!(
        invalid_signature(signed.verify(NOW)),
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    );
}

#[test]
fn unsigned_target_content_type_or_date_is_invalid_signature() {
    for (name, display) in [
        ("x-amz-target", "X-Amz-Target"),
        ("content-type", "Content-Type"),
        ("x-amz-date", "X-Amz-Date"),
    ] {
        let mut signed = Kms::signed_at(NOW);
        signed.replace_in_authorization(&format!("{name};"), "");
        signed.replace_in_authorization(&format!(";{name},"), ",");
        assert_eq!(
            invalid_signature(signed.verify(NOW)),
            format!("'{display}' must be a 'SignedHeader' in the AWS Authorization."),
            "{name}"
        );
    }
}

#[test]
fn unsorted_or_uppercase_or_absent_signed_headers_are_invalid_signature() {
    for (from, to) in [
        ("content-type;host", "host;content-type"),
        ("content-type;host", "Content-Type;host"),
        ("content-type;host", "content-type;content-type;host"),
        ("content-type;host", "content-type;;host"),
        ("content-type;host", "content-type;host;x-absent"),
    ] {
        let mut signed = Kms::signed_at(NOW);
        signed.replace_in_authorization(from, to);
        assert_eq!(
            invalid_signature(signed.verify(NOW)),
            SIGNATURE_MISMATCH,
            "{to}"
        );
    }
}

#[test]
fn wrong_region_is_invalid_signature() {
    let signed = Kms::signed_at(NOW);
    let expect = Expectation {
        service: "kms",
        region: "eu-west-1",
    };
    let error = Verifier::new(1)
        .verify(&signed.req(), NOW, &expect, &keys())
        .unwrap_err();
    assert_eq!(
        error,
        SigV4Error::InvalidSignature(
            "Credential should be scoped to a valid region, not 'us-east-1'. ".into()
        )
    );
    assert_eq!(error.aws_code(), "InvalidSignatureException");
}

#[test]
fn wrong_service_is_invalid_signature() {
    let mut signed = Kms::signed_at(NOW);
    signed.replace_in_authorization("/kms/", "/dynamodb/");
    assert_eq!(
        invalid_signature(signed.verify(NOW)),
        "Credential should be scoped to correct service: 'kms'. "
    );
}

#[test]
fn scope_date_other_than_request_date_is_invalid_signature() {
    let mut signed = Kms::signed_at(NOW);
    signed.replace_in_authorization("/20261129/", "/20261128/");
    assert_eq!(
        invalid_signature(signed.verify(NOW)),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '20261128' != '20261129', from '20261129T080000Z'. "
    );
}

#[test]
fn every_scope_mismatch_is_named_at_once() {
    let mut signed = Kms::signed_at(NOW);
    signed.replace_in_authorization(
        "/20261129/us-east-1/kms/aws4_request",
        "/foobar/wrong-region/wrong-service/aws5_request",
    );
    assert_eq!(
        invalid_signature(signed.verify(NOW)),
        "Credential should be scoped to a valid region, not 'wrong-region'. \
         Credential should be scoped to correct service: 'kms'. \
         Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. \
         Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: 'foobar' != '20261129', from '20261129T080000Z'. "
    );
}

#[test]
fn scope_is_checked_before_the_key_is_looked_up() {
    let mut signed = Kms::signed_at(NOW);
    signed.replace_in_authorization("/kms/", "/s3/");
    let creds = keys();
    let _ = signed.verify_with(&Verifier::new(1), NOW, &creds);
    assert_eq!(creds.lookups.get(), 0);
}

// ---------------------------------------------------------------------------------------------
// Clock skew, both ways.
// ---------------------------------------------------------------------------------------------

#[test]
fn skew_of_exactly_five_minutes_either_way_is_accepted() {
    let signed = Kms::signed_at(NOW);
    signed.verify(NOW + Duration::seconds(300)).unwrap();
    signed.verify(NOW - Duration::seconds(300)).unwrap();
    signed
        .verify(NOW + Duration::seconds(300) + Duration::milliseconds(999))
        .unwrap();
}

#[test]
fn request_older_than_five_minutes_is_signature_expired() {
    let signed = Kms::signed_at(datetime!(2026-11-29 08:00:00 UTC));
    let error = signed
        .verify(datetime!(2026-11-29 08:06:00 UTC))
        .unwrap_err();
    assert_eq!(
        error,
        SigV4Error::SignatureExpired(
            "Signature expired: 20261129T080000Z is now earlier than 20261129T080100Z \
             (20261129T080600Z - 5 min.)"
                .into()
        )
    );
    assert_eq!(error.aws_code(), "InvalidSignatureException");
    assert!(matches!(
        signed.verify(NOW + Duration::seconds(301)),
        Err(SigV4Error::SignatureExpired(_))
    ));
}

#[test]
fn request_from_more_than_five_minutes_ahead_is_not_yet_current() {
    let signed = Kms::signed_at(datetime!(2026-11-29 08:00:00 UTC));
    assert_eq!(
        signed.verify(datetime!(2026-11-29 07:54:00 UTC)),
        Err(SigV4Error::SignatureExpired(
            "Signature not yet current: 20261129T080000Z is still later than 20261129T075900Z \
             (20261129T075400Z + 5 min.)"
                .into()
        ))
    );
    assert!(matches!(
        signed.verify(NOW - Duration::seconds(301)),
        Err(SigV4Error::SignatureExpired(_))
    ));
}

#[test]
fn configured_skew_is_used_and_named() {
    let signed = Kms::signed_at(NOW);
    let verifier = Verifier::new(1).with_max_skew(Duration::minutes(15));
    signed
        .verify_with(&verifier, NOW + Duration::minutes(14), &keys())
        .unwrap();
    match signed.verify_with(&verifier, NOW + Duration::minutes(16), &keys()) {
        Err(SigV4Error::SignatureExpired(m)) => assert!(m.ends_with("- 15 min.)"), "{m}"),
        other => panic!("{other:?}"),
    }
    let verifier = Verifier::new(1).with_max_skew(Duration::seconds(-90));
    assert_eq!(verifier.max_skew(), Duration::seconds(90));
    match signed.verify_with(&verifier, NOW + Duration::minutes(2), &keys()) {
        Err(SigV4Error::SignatureExpired(m)) => assert!(m.ends_with("- 90 sec.)"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn expiry_is_checked_before_the_key_is_looked_up() {
    let signed = Kms::signed_at(NOW);
    let creds = keys();
    let _ = signed.verify_with(&Verifier::new(1), NOW + Duration::hours(1), &creds);
    assert_eq!(creds.lookups.get(), 0);
}

// ---------------------------------------------------------------------------------------------
// Session tokens.
// ---------------------------------------------------------------------------------------------

#[test]
fn temporary_credential_with_its_token_verifies() {
    let signed = Kms::signed_with(NOW, SECRET, Some("session-token-1"));
    let creds = Keys::default().with(AKID, SECRET, Some("session-token-1"));
    signed.verify_with(&Verifier::new(1), NOW, &creds).unwrap();
}

#[test]
fn temporary_credential_without_its_token_is_invalid_security_token() {
    let signed = Kms::signed_at(NOW);
    let creds = Keys::default().with(AKID, SECRET, Some("session-token-1"));
    let error = signed
        .verify_with(&Verifier::new(1), NOW, &creds)
        .unwrap_err();
    assert_eq!(error, SigV4Error::InvalidSecurityToken);
    assert_eq!(error.aws_code(), "UnrecognizedClientException");
}

#[test]
fn wrong_session_token_is_invalid_security_token() {
    let signed = Kms::signed_with(NOW, SECRET, Some("session-token-2"));
    let creds = Keys::default().with(AKID, SECRET, Some("session-token-1"));
    assert_eq!(
        signed.verify_with(&Verifier::new(1), NOW, &creds),
        Err(SigV4Error::InvalidSecurityToken)
    );
}

#[test]
fn session_token_sent_with_a_long_term_key_is_invalid_security_token() {
    let signed = Kms::signed_with(NOW, SECRET, Some("session-token-1"));
    assert_eq!(signed.verify(NOW), Err(SigV4Error::InvalidSecurityToken));
}

#[test]
fn signature_is_checked_before_the_session_token() {
    let signed = Kms::signed_with(NOW, "wrong secret", Some("session-token-2"));
    let creds = Keys::default().with(AKID, SECRET, Some("session-token-1"));
    assert_eq!(
        signed.verify_with(&Verifier::new(1), NOW, &creds),
        Err(SigV4Error::mismatch())
    );
}

// ---------------------------------------------------------------------------------------------
// The signing-key cache.
// ---------------------------------------------------------------------------------------------

#[test]
fn second_verification_hits_the_signing_key_cache() {
    let verifier = Verifier::new(8);
    let signed = Kms::signed_at(NOW);
    signed.verify_with(&verifier, NOW, &keys()).unwrap();
    let after_first = verifier.cache_stats();
    assert_eq!(
        (after_first.hits, after_first.misses, after_first.len),
        (0, 1, 1)
    );
    Kms::signed_at(NOW + Duration::seconds(30))
        .verify_with(&verifier, NOW + Duration::seconds(30), &keys())
        .unwrap();
    let after_second = verifier.cache_stats();
    assert_eq!(
        (after_second.hits, after_second.misses, after_second.len),
        (1, 1, 1)
    );
}

#[test]
fn changed_secret_misses_the_cache_and_old_signatures_fail() {
    let verifier = Verifier::new(8);
    let signed = Kms::signed_at(NOW);
    signed.verify_with(&verifier, NOW, &keys()).unwrap();
    let rotated = Keys::default().with(AKID, "a brand new secret", None);
    assert_eq!(
        signed.verify_with(&verifier, NOW, &rotated),
        Err(SigV4Error::mismatch())
    );
    assert_eq!(verifier.cache_stats().misses, 2);
    Kms::signed_with(NOW, "a brand new secret", None)
        .verify_with(&verifier, NOW, &rotated)
        .unwrap();
    assert_eq!(verifier.cache_stats().hits, 1);
}

#[test]
fn new_day_misses_the_cache() {
    let verifier = Verifier::new(8);
    let before = datetime!(2026-11-29 23:59:00 UTC);
    let after = datetime!(2026-11-30 00:01:00 UTC);
    Kms::signed_at(before)
        .verify_with(&verifier, after, &keys())
        .unwrap();
    Kms::signed_at(after)
        .verify_with(&verifier, after, &keys())
        .unwrap();
    let stats = verifier.cache_stats();
    assert_eq!((stats.hits, stats.misses, stats.len), (0, 2, 2));
}

#[test]
fn cache_is_bounded_by_its_capacity() {
    let verifier = Verifier::new(2);
    for secret in ["s1", "s2", "s3", "s4"] {
        let creds = Keys::default().with(AKID, secret, None);
        Kms::signed_with(NOW, secret, None)
            .verify_with(&verifier, NOW, &creds)
            .unwrap();
    }
    assert_eq!(verifier.cache_stats().len, 2);
}

#[test]
fn zero_capacity_verifier_works_without_a_cache() {
    let verifier = Verifier::new(0);
    for _ in 0..2 {
        Kms::signed_at(NOW)
            .verify_with(&verifier, NOW, &keys())
            .unwrap();
    }
    let stats = verifier.cache_stats();
    assert_eq!((stats.hits, stats.misses, stats.len), (0, 2, 0));
}

// ---------------------------------------------------------------------------------------------
// Unauthenticated checks (development mode), and what never leaks.
// ---------------------------------------------------------------------------------------------

#[test]
fn check_without_signature_names_the_key_but_enforces_the_rest() {
    let signed = Kms::signed_with(NOW, "any secret at all", None);
    let verifier = Verifier::new(1);
    let seen = verifier
        .check_without_signature(&signed.req(), NOW, &KMS)
        .unwrap();
    assert_eq!(seen.access_key_id, AKID);
    assert_eq!(seen.signed_at, NOW);
    assert!(matches!(
        verifier.check_without_signature(&signed.req(), NOW + Duration::hours(1), &KMS),
        Err(SigV4Error::SignatureExpired(_))
    ));
}

#[test]
fn errors_and_debug_output_never_show_the_secret_or_the_signature() {
    let signed = Kms::signed_at(NOW);
    let signature = signed.signature();
    let mut failures = Vec::new();
    for (now, creds) in [
        (NOW, Keys::default().with(AKID, "other", None)),
        (NOW, Keys::default()),
        (NOW + Duration::hours(1), keys()),
        (NOW, Keys::default().with(AKID, SECRET, Some("token"))),
    ] {
        failures.push(
            signed
                .verify_with(&Verifier::new(1), now, &creds)
                .unwrap_err(),
        );
    }
    let mut broken = Kms::signed_at(NOW);
    broken.replace_in_authorization("Credential=", "Credential ");
    failures.push(broken.verify(NOW).unwrap_err());
    for error in &failures {
        for shown in [error.message(), format!("{error:?}")] {
            assert!(!shown.contains(SECRET), "{shown}");
            assert!(!shown.contains(&signature), "{shown}");
        }
    }
    let credential = keys().lookup(AKID).unwrap();
    let shown = format!("{credential:?} {:?} {:?}", signed.req(), Verifier::new(1));
    assert!(
        !shown.contains(SECRET) && !shown.contains(&signature),
        "{shown}"
    );
    let token = Keys::default()
        .with(AKID, SECRET, Some("token-value"))
        .lookup(AKID);
    assert!(!format!("{token:?}").contains("token-value"));
}

// ---------------------------------------------------------------------------------------------
// Properties: nothing panics; a signature covers every byte it should.
// ---------------------------------------------------------------------------------------------

fn header_value() -> impl Strategy<Value = HeaderValue> {
    proptest::collection::vec(any::<u8>(), 0..80).prop_filter_map("valid header value", |bytes| {
        HeaderValue::from_bytes(&bytes).ok()
    })
}

fn header_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "host",
        "x-amz-date",
        "date",
        "authorization",
        "content-type",
        "x-amz-target",
        "x-amz-content-sha256",
        "x-amz-security-token",
        "my-header",
    ])
}

fn structured_authorization() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["AWS4-HMAC-SHA256", "AWS4-X", "aws4-hmac-sha256", ""]),
        "[A-Za-z0-9/]{0,30}",
        prop::sample::select(vec!["20261129", "2026112", "", "20261129T"]),
        prop::sample::select(vec!["us-east-1", "", "eu-west-1"]),
        prop::sample::select(vec!["kms", "s3", ""]),
        prop::sample::select(vec!["aws4_request", "", "x/y"]),
        "[a-zA-Z;:\\-]{0,40}",
        "[0-9a-fA-Fz]{0,70}",
        prop::sample::select(vec![", ", ",", " ", ",,", " ,"]),
    )
        .prop_map(|(alg, akid, day, region, service, term, signed, sig, sep)| {
            format!(
                "{alg} Credential={akid}/{day}/{region}/{service}/{term}{sep}SignedHeaders={signed}{sep}Signature={sig}"
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_any_string_never_panics(value in any::<String>()) {
        let _ = crate::parse_authorization(&value);
    }

    #[test]
    fn verifying_arbitrary_headers_never_panics(
        pairs in proptest::collection::vec((header_name(), header_value()), 0..10),
        authorization in prop_oneof![structured_authorization(), any::<String>()],
        method in "[A-Z]{0,6}",
        path in "[ -~]{0,20}",
        query in "[ -~]{0,20}",
        body in proptest::collection::vec(any::<u8>(), 0..32),
        now_secs in -377_705_116_800i64..253_402_300_799,
        good_date in any::<bool>(),
    ) {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name, value);
        }
        if let Ok(value) = HeaderValue::from_str(&authorization) {
            headers.insert("authorization", value);
        }
        if good_date {
            headers.insert("x-amz-date", HeaderValue::from_static("20261129T080000Z"));
        }
        let req = request(&method, &path, &query, &headers, &body);
        let creds = Keys::default().with("", "", None).with(AKID, SECRET, Some("t"));
        let now = OffsetDateTime::from_unix_timestamp(now_secs).unwrap();
        let verifier = Verifier::new(2);
        for now in [now, NOW] {
            let _ = verifier.verify(&req, now, &KMS, &creds);
            let _ = verifier.check_without_signature(&req, now, &KMS);
        }
    }

    #[test]
    fn round_trip_verifies_and_any_body_change_fails(
        path in "(/[A-Za-z0-9._~%-]{0,8}){0,4}",
        query in "([a-z0-9%]{1,5}=[A-Za-z0-9%+]{0,5}&?){0,3}",
        target in "[A-Za-z.]{1,30}",
        extra in "[ -~]{0,30}",
        body in proptest::collection::vec(any::<u8>(), 1..64),
        flip in any::<prop::sample::Index>(),
        skew in -300i64..=300,
    ) {
        let mut headers = header_map(&[
            ("host", "kms.us-east-1.amazonaws.com"),
            ("x-amz-target", &target),
            ("my-header", &extra),
        ]);
        let params = SigningParams {
            access_key_id: AKID,
            secret_access_key: SECRET,
            session_token: None,
            region: "us-east-1",
            service: "kms",
            time: NOW,
        };
        client::sign("POST", &path, &query, &mut headers, &body, &params).unwrap();
        let verifier = Verifier::new(2);
        let now = NOW + Duration::seconds(skew);
        let req = request("POST", &path, &query, &headers, &body);
        prop_assert!(verifier.verify(&req, now, &KMS, &keys()).is_ok());

        let mut tampered = body.clone();
        tampered[flip.index(body.len())] ^= 0x01;
        let req = request("POST", &path, &query, &headers, &tampered);
        prop_assert_eq!(verifier.verify(&req, now, &KMS, &keys()), Err(SigV4Error::mismatch()));
    }
}

/// One printable byte of `s` replaced; `None` if nothing changed.
fn mutate(s: &str, at: prop::sample::Index, byte: u8) -> Option<String> {
    let mut bytes = s.as_bytes().to_vec();
    if bytes.is_empty() {
        return None;
    }
    let i = at.index(bytes.len());
    if bytes[i] == byte {
        return None;
    }
    bytes[i] = byte;
    String::from_utf8(bytes).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// The mutation sweep: one byte changed anywhere a signature covers is never accepted, unless
    /// the change leaves the signed meaning as it was (e.g. `,` for a space between parameters).
    #[test]
    fn single_byte_mutation_is_accepted_only_when_meaning_is_unchanged(
        field in 0usize..7,
        at in any::<prop::sample::Index>(),
        byte in 0x20u8..0x7f,
    ) {
        let original = Kms::signed_at(NOW);
        let mut signed = Kms::signed_at(NOW);
        let mut method = "POST".to_owned();
        let mut path = "/".to_owned();
        let header = |s: &Kms, name: &str| s.headers[name].to_str().unwrap().to_owned();
        let mutated_header = |name: &'static str, s: &mut Kms| -> bool {
            match mutate(&header(s, name), at, byte) {
                Some(v) if HeaderValue::from_str(&v).is_ok() => { s.set(name, &v); true }
                _ => false,
            }
        };
        let changed = match field {
            0 => { let i = at.index(signed.body.len()); signed.body[i] ^= byte; true }
            1 => mutate(&method, at, byte).map(|m| method = m).is_some(),
            2 => mutate(&path, at, byte).map(|p| path = p).is_some(),
            3 => mutated_header("authorization", &mut signed),
            4 => mutated_header("x-amz-target", &mut signed),
            5 => mutated_header("content-type", &mut signed),
            _ => mutated_header("x-amz-date", &mut signed),
        };
        prop_assume!(changed);
        let req = request(&method, &path, "", &signed.headers, &signed.body);
        if Verifier::new(1).verify(&req, NOW, &KMS, &keys()).is_ok() {
            prop_assert_eq!(canonical::canonical_uri(&path), canonical::canonical_uri("/"));
            prop_assert_eq!(&method, "POST");
            prop_assert_eq!(&signed.body, &original.body);
            for name in ["x-amz-target", "content-type", "x-amz-date", "host"] {
                prop_assert_eq!(
                    canonical::canonical_header_value(&signed.headers, name),
                    canonical::canonical_header_value(&original.headers, name)
                );
            }
            let was = crate::parse_authorization(&header(&original, "authorization")).unwrap();
            let now = crate::parse_authorization(&header(&signed, "authorization")).unwrap();
            prop_assert_eq!(&now.credential, &was.credential);
            prop_assert_eq!(&now.signed_headers, &was.signed_headers);
            prop_assert_eq!(hex::decode(&now.signature).ok(), hex::decode(&was.signature).ok());
        }
    }
}
