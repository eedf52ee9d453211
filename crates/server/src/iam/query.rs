//! The AWS query protocol as IAM and STS speak it: form-encoded parameters in, XML out, and
//! IAM's errors (`<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`).
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)] // guard rails: lifted after the IAM refactor lands

use std::collections::BTreeMap;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};
use trent_sigv4::SigV4Error;

use crate::pipeline::AuthFailure;

/// Why an IAM or STS request failed, as IAM names it.
#[derive(Debug)]
pub enum IamError {
    NoSuchEntity(String),
    EntityAlreadyExists(String),
    MalformedPolicyDocument(String),
    Validation(String),
    LimitExceeded(String),
    DeleteConflict(String),
    AccessDenied(String),
    InvalidAction(String),
    InvalidClientTokenId,
    SignatureDoesNotMatch(String),
    IncompleteSignature(String),
    MissingAuthenticationToken,
    ExpiredToken,
    TooLarge(usize),
    /// The audit record could not be written: fail closed.
    Audit(String),
    /// Trent's fault; the detail is logged, never sent.
    Internal(String),
}

impl From<AuthFailure> for IamError {
    fn from(e: AuthFailure) -> Self {
        match e {
            AuthFailure::ExpiredToken => IamError::ExpiredToken,
            AuthFailure::SigV4(e) => match e {
                SigV4Error::MissingAuthenticationToken => IamError::MissingAuthenticationToken,
                SigV4Error::IncompleteSignature(m) => IamError::IncompleteSignature(m),
                SigV4Error::UnrecognizedClient | SigV4Error::InvalidSecurityToken => {
                    IamError::InvalidClientTokenId
                }
                SigV4Error::InvalidSignature(m) | SigV4Error::SignatureExpired(m) => {
                    IamError::SignatureDoesNotMatch(m)
                }
            },
        }
    }
}

impl From<trent_core::store::StoreError> for IamError {
    fn from(e: trent_core::store::StoreError) -> Self {
        IamError::Internal(e.to_string())
    }
}

impl IamError {
    /// IAM's error code, HTTP status, and whether the sender is at fault.
    pub fn code(&self) -> (&'static str, u16, bool) {
        match self {
            IamError::NoSuchEntity(_) => ("NoSuchEntity", 404, true),
            IamError::EntityAlreadyExists(_) => ("EntityAlreadyExists", 409, true),
            IamError::MalformedPolicyDocument(_) => ("MalformedPolicyDocument", 400, true),
            IamError::Validation(_) => ("ValidationError", 400, true),
            IamError::LimitExceeded(_) => ("LimitExceeded", 409, true),
            IamError::DeleteConflict(_) => ("DeleteConflict", 409, true),
            IamError::AccessDenied(_) => ("AccessDenied", 403, true),
            IamError::InvalidAction(_) => ("InvalidAction", 400, true),
            IamError::InvalidClientTokenId => ("InvalidClientTokenId", 403, true),
            IamError::SignatureDoesNotMatch(_) => ("SignatureDoesNotMatch", 403, true),
            IamError::IncompleteSignature(_) => ("IncompleteSignature", 400, true),
            IamError::MissingAuthenticationToken => ("MissingAuthenticationToken", 403, true),
            IamError::ExpiredToken => ("ExpiredToken", 400, true),
            IamError::TooLarge(_) => ("RequestEntityTooLarge", 413, true),
            IamError::Audit(_) | IamError::Internal(_) => ("ServiceFailure", 500, false),
        }
    }

    /// The message sent to the client.
    pub fn message(&self) -> String {
        match self {
            IamError::NoSuchEntity(m)
            | IamError::EntityAlreadyExists(m)
            | IamError::MalformedPolicyDocument(m)
            | IamError::Validation(m)
            | IamError::LimitExceeded(m)
            | IamError::DeleteConflict(m)
            | IamError::AccessDenied(m)
            | IamError::InvalidAction(m)
            | IamError::SignatureDoesNotMatch(m)
            | IamError::IncompleteSignature(m) => m.clone(),
            IamError::InvalidClientTokenId => trent_sigv4::INVALID_SECURITY_TOKEN.into(),
            IamError::MissingAuthenticationToken => {
                trent_sigv4::MISSING_AUTHENTICATION_TOKEN.into()
            }
            IamError::ExpiredToken => crate::api::errors::EXPIRED_TOKEN_MESSAGE.into(),
            IamError::TooLarge(limit) => {
                format!("Request body is larger than the limit of {limit} bytes")
            }
            IamError::Audit(_) | IamError::Internal(_) => {
                "The request processing has failed because of an unknown error, exception or \
                 failure."
                    .into()
            }
        }
    }

    /// Whether the failure is Trent's fault.
    pub fn is_internal(&self) -> bool {
        matches!(self, IamError::Audit(_) | IamError::Internal(_))
    }
}

/// `1 validation error detected: Value null at 'member' failed to satisfy constraint: …`.
pub fn missing(member: &str) -> IamError {
    IamError::Validation(format!(
        "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member \
         must not be null",
        lower_camel(member)
    ))
}

/// A member whose value breaks a constraint, in AWS's wording.
pub fn invalid(member: &str, value: &str, constraint: &str) -> IamError {
    IamError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: \
         {constraint}",
        lower_camel(member)
    ))
}

/// `UserName` → `userName`.
pub fn lower_camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The form parameters of a request.
pub struct Params {
    map: BTreeMap<String, String>,
}

impl Params {
    /// Parses an `application/x-www-form-urlencoded` body (a repeated name keeps its last value).
    pub fn parse(body: &[u8]) -> Params {
        Params {
            map: form_urlencoded::parse(body).into_owned().collect(),
        }
    }

    /// A parameter, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// A parameter that must be present.
    pub fn required(&self, name: &str) -> Result<&str, IamError> {
        self.get(name).ok_or_else(|| missing(name))
    }

    /// A name parameter (`UserName`, `RoleName`, `PolicyName`): 1..=`max` of `[\w+=,.@-]`.
    pub fn name(&self, member: &str, max: usize) -> Result<Option<&str>, IamError> {
        let Some(v) = self.get(member) else {
            return Ok(None);
        };
        check_name(member, v, 1, max)?;
        Ok(Some(v))
    }

    /// A required name parameter.
    pub fn required_name(&self, member: &str, max: usize) -> Result<&str, IamError> {
        self.name(member, max)?.ok_or_else(|| missing(member))
    }

    /// An integer parameter within `min..=max`.
    pub fn int(&self, member: &str, min: i64, max: i64) -> Result<Option<i64>, IamError> {
        let Some(v) = self.get(member) else {
            return Ok(None);
        };
        let n: i64 = v
            .parse()
            .map_err(|_| invalid(member, v, "Member must be a number"))?;
        if n < min {
            return Err(invalid(
                member,
                v,
                &format!("Member must have value greater than or equal to {min}"),
            ));
        }
        if n > max {
            return Err(invalid(
                member,
                v,
                &format!("Member must have value less than or equal to {max}"),
            ));
        }
        Ok(Some(n))
    }

    /// A list of strings: `NAME.member.1`, `NAME.member.2`, … in index order.
    pub fn list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.member.");
        let mut items: Vec<(u32, String)> = self
            .map
            .iter()
            .filter_map(|(k, v)| {
                let idx = k.strip_prefix(&prefix)?.parse().ok()?;
                Some((idx, v.clone()))
            })
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// A list of structures: `NAME.member.N.FIELD`, grouped by N in index order.
    pub fn structs(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        let prefix = format!("{name}.member.");
        let mut items: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
        for (k, v) in &self.map {
            let Some(rest) = k.strip_prefix(&prefix) else {
                continue;
            };
            let Some((idx, field)) = rest.split_once('.') else {
                continue;
            };
            let Ok(idx) = idx.parse() else { continue };
            items
                .entry(idx)
                .or_default()
                .insert(field.to_owned(), v.clone());
        }
        items.into_values().collect()
    }

    /// The parameters as CloudTrail shows them: lowerCamel names, lists as arrays, without
    /// `Action` and `Version`.
    pub fn to_request_parameters(&self) -> Value {
        let mut out = Map::new();
        for (k, v) in &self.map {
            if k == "Action" || k == "Version" {
                continue;
            }
            match k.split_once(".member.") {
                None => {
                    out.insert(lower_camel(k), Value::String(v.clone()));
                }
                Some((list, _)) => {
                    let name = lower_camel(list);
                    if out.contains_key(&name) {
                        continue;
                    }
                    let structs = self.structs(list);
                    let value = if structs.is_empty() {
                        Value::Array(self.list(list).into_iter().map(Value::String).collect())
                    } else {
                        Value::Array(
                            structs
                                .into_iter()
                                .map(|m| {
                                    Value::Object(
                                        m.into_iter()
                                            .map(|(k, v)| (lower_camel(&k), Value::String(v)))
                                            .collect(),
                                    )
                                })
                                .collect(),
                        )
                    };
                    out.insert(name, value);
                }
            }
        }
        Value::Object(out)
    }
}

/// Checks an IAM name: `min..=max` characters of `[\w+=,.@-]`.
pub fn check_name(member: &str, v: &str, min: usize, max: usize) -> Result<(), IamError> {
    let len = v.chars().count();
    if len < min {
        return Err(invalid(
            member,
            v,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if len > max {
        return Err(invalid(
            member,
            v,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(invalid(
            member,
            v,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    Ok(())
}

/// Characters IAM leaves unencoded in the policy documents it returns (RFC 3986 unreserved).
const POLICY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A policy document URL-encoded, as IAM returns it (clients decode it).
pub fn encode_policy(document: &str) -> String {
    utf8_percent_encode(document, POLICY_ENCODE).to_string()
}

/// A small XML writer for the query protocol's answers.
#[derive(Default)]
pub struct Xml {
    out: String,
}

impl Xml {
    /// An empty document.
    pub fn new() -> Xml {
        Xml::default()
    }

    /// `<tag>`.
    pub fn open(&mut self, tag: &str) -> &mut Xml {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// `</tag>`.
    pub fn close(&mut self, tag: &str) -> &mut Xml {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// `<tag>text</tag>`, the text escaped.
    pub fn leaf(&mut self, tag: &str, text: &str) -> &mut Xml {
        self.open(tag);
        escape_into(&mut self.out, text);
        self.close(tag)
    }

    /// A leaf only when there is a value.
    pub fn opt_leaf(&mut self, tag: &str, text: Option<&str>) -> &mut Xml {
        if let Some(t) = text {
            self.leaf(tag, t);
        }
        self
    }

    /// The XML written so far.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Escapes text for XML element content and attribute values.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// A successful answer: `<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata>…`.
pub fn response(namespace: &str, action: &str, result: Option<&str>, request_id: &str) -> String {
    let mut x = Xml::new();
    x.out
        .push_str(&format!("<{action}Response xmlns=\"{namespace}\">"));
    if let Some(result) = result {
        x.open(&format!("{action}Result"));
        x.out.push_str(result);
        x.close(&format!("{action}Result"));
    }
    x.open("ResponseMetadata")
        .leaf("RequestId", request_id)
        .close("ResponseMetadata")
        .close(&format!("{action}Response"));
    x.finish()
}

/// An error answer in IAM's shape.
pub fn error_response(namespace: &str, e: &IamError, request_id: &str) -> String {
    let (code, _, sender) = e.code();
    let mut x = Xml::new();
    x.out
        .push_str(&format!("<ErrorResponse xmlns=\"{namespace}\">"));
    x.open("Error")
        .leaf("Type", if sender { "Sender" } else { "Receiver" })
        .leaf("Code", code)
        .leaf("Message", &e.message())
        .close("Error")
        .leaf("RequestId", request_id)
        .close("ErrorResponse");
    x.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_structures_are_read_in_index_order() {
        let p = Params::parse(
            b"Action=TagUser&Tags.member.2.Key=b&Tags.member.1.Key=a&Tags.member.1.Value=x%20y\
              &Tags.member.2.Value=&TagKeys.member.10=k10&TagKeys.member.2=k2",
        );
        let tags = p.structs("Tags");
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0]["Key"], "a");
        assert_eq!(tags[0]["Value"], "x y");
        assert_eq!(tags[1]["Value"], "");
        assert_eq!(p.list("TagKeys"), vec!["k2", "k10"]);
        let audit = p.to_request_parameters();
        assert_eq!(audit["tags"][0]["key"], "a");
        assert_eq!(audit["tagKeys"][1], "k10");
        assert!(audit.get("action").is_none());
    }

    #[test]
    fn names_follow_iams_pattern_and_length() {
        assert!(check_name("UserName", "a.b+c=d,e@f-g_h", 1, 64).is_ok());
        let e = check_name("UserName", "bad name", 1, 64).unwrap_err();
        assert!(e.message().contains("at 'userName'"), "{}", e.message());
        assert!(check_name("UserName", &"a".repeat(65), 1, 64).is_err());
        assert!(check_name("UserName", "", 1, 64).is_err());
    }

    #[test]
    fn xml_escapes_text_and_policies_are_url_encoded() {
        let mut x = Xml::new();
        x.leaf("M", "<a & 'b'>");
        assert_eq!(x.finish(), "<M>&lt;a &amp; &apos;b&apos;&gt;</M>");
        assert_eq!(encode_policy("{\"a\": 1}"), "%7B%22a%22%3A%201%7D");
        let body = error_response("ns", &IamError::NoSuchEntity("x".into()), "r");
        assert_eq!(
            body,
            "<ErrorResponse xmlns=\"ns\"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>\
             <Message>x</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        );
    }
}
