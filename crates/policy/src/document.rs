//! The policy document: parsing and validation of AWS's JSON policy grammar into a typed
//! [`Policy`] whose patterns, numbers, dates and CIDR blocks are read once.

use serde_json::{Map, Value};

use crate::condition::{parse_condition_element, Condition};
use crate::context::{is_account_id, is_principal_arn, root_arn_account};
use crate::error::{PolicyError, StatementRef, StatementRefOrTop};
use crate::pattern::{Glob, Pattern, Syntax};

/// The largest key policy KMS accepts, in bytes.
pub const KEY_POLICY_MAX_BYTES: usize = 32_768;

/// Which kind of policy a document is; it decides whether `Principal` is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// A resource-based policy, such as a key policy: every statement names a principal.
    Resource,
    /// An identity-based (IAM) policy attached to a user or role: no statement names one.
    Identity,
}

/// The policy language version (`Version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2012-10-17`: the current language, with policy variables.
    V2012_10_17,
    /// `2008-10-17` (also what a document without `Version` gets): `${…}` is literal text.
    V2008_10_17,
}

impl Version {
    /// The version as written in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2012_10_17 => "2012-10-17",
            Version::V2008_10_17 => "2008-10-17",
        }
    }
}

/// A statement's `Effect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

/// An element or its `Not…` form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Negatable<T> {
    Is(T),
    Not(T),
}

/// One entry of a `Principal`/`NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`.
    Everyone,
    /// An account, as `ACCOUNT` or `arn:…:iam::ACCOUNT:root`.
    Account(String),
    /// A user, role, role session or federated user ARN.
    Arn(String),
    /// `{"Service": …}`.
    Service(String),
    /// `{"Federated": …}` or `{"CanonicalUser": …}`: valid, but no Trent caller is one.
    Other,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    pub(crate) principal: Option<Negatable<Vec<PrincipalEntry>>>,
    pub(crate) action: Negatable<Vec<Glob>>,
    pub(crate) resource: Negatable<Vec<Pattern>>,
    pub(crate) conditions: Vec<Condition>,
}

impl Statement {
    /// The statement's `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The statement's `Effect`.
    pub fn effect(&self) -> Effect {
        self.effect
    }
}

/// A parsed, validated policy document, ready to evaluate many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    version: Version,
    id: Option<String>,
    kind: PolicyKind,
    pub(crate) statements: Vec<Statement>,
}

impl Policy {
    /// Parses and validates `document` as a policy of `kind`, refusing documents longer
    /// than `max_bytes` ([`KEY_POLICY_MAX_BYTES`] for key policies).
    pub fn parse(
        document: &str,
        kind: PolicyKind,
        max_bytes: usize,
    ) -> Result<Policy, PolicyError> {
        if document.len() > max_bytes {
            return Err(PolicyError::TooLarge {
                size: document.len(),
                limit: max_bytes,
            });
        }
        let value: Value =
            serde_json::from_str(document).map_err(|e| PolicyError::InvalidJson(e.to_string()))?;
        let Value::Object(top) = value else {
            return Err(PolicyError::NotAnObject);
        };
        for element in top.keys() {
            if !matches!(element.as_str(), "Version" | "Id" | "Statement") {
                return Err(PolicyError::UnknownElement {
                    element: element.clone(),
                    statement: None,
                });
            }
        }
        let version = match top.get("Version") {
            None => Version::V2008_10_17,
            Some(Value::String(v)) if v == "2012-10-17" => Version::V2012_10_17,
            Some(Value::String(v)) if v == "2008-10-17" => Version::V2008_10_17,
            Some(Value::String(v)) => return Err(PolicyError::InvalidVersion(v.clone())),
            Some(other) => return Err(PolicyError::InvalidVersion(other.to_string())),
        };
        let id = match top.get("Id") {
            None => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => {
                return Err(PolicyError::InvalidElement {
                    element: "Id",
                    statement: StatementRefOrTop(None),
                    reason: "it must be a string".into(),
                })
            }
        };
        let raw_statements: Vec<&Value> = match top.get("Statement") {
            None => return Err(PolicyError::MissingStatement),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(single @ Value::Object(_)) => vec![single],
            Some(_) => {
                return Err(PolicyError::InvalidElement {
                    element: "Statement",
                    statement: StatementRefOrTop(None),
                    reason: "it must be a statement object or an array of them".into(),
                })
            }
        };
        let variables = version == Version::V2012_10_17;
        let statements = raw_statements
            .into_iter()
            .enumerate()
            .map(|(index, raw)| parse_statement(index, raw, kind, variables))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            version,
            id,
            kind,
            statements,
        })
    }

    /// Parses a key policy: [`PolicyKind::Resource`] within [`KEY_POLICY_MAX_BYTES`].
    pub fn parse_key_policy(document: &str) -> Result<Policy, PolicyError> {
        Policy::parse(document, PolicyKind::Resource, KEY_POLICY_MAX_BYTES)
    }

    /// The language version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The document's `Id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Whether this is a resource or an identity policy.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn parse_statement(
    index: usize,
    raw: &Value,
    kind: PolicyKind,
    variables: bool,
) -> Result<Statement, PolicyError> {
    let Value::Object(obj) = raw else {
        return Err(PolicyError::InvalidElement {
            element: "Statement",
            statement: StatementRefOrTop(Some(StatementRef { index, sid: None })),
            reason: "each statement must be a JSON object".into(),
        });
    };
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(PolicyError::InvalidElement {
                element: "Sid",
                statement: StatementRefOrTop(Some(StatementRef { index, sid: None })),
                reason: "it must be a string".into(),
            })
        }
    };
    let at = StatementRef { index, sid };
    let invalid = |element: &'static str, reason: String| PolicyError::InvalidElement {
        element,
        statement: StatementRefOrTop(Some(at.clone())),
        reason,
    };
    if let Some(unknown) = obj
        .keys()
        .find(|k| !STATEMENT_ELEMENTS.contains(&k.as_str()))
    {
        return Err(PolicyError::UnknownElement {
            element: unknown.clone(),
            statement: Some(at),
        });
    }

    let effect = match obj.get("Effect") {
        None => {
            return Err(PolicyError::MissingElement {
                element: "Effect",
                statement: at,
            })
        }
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(invalid(
                "Effect",
                format!("{other} is neither \"Allow\" nor \"Deny\""),
            ))
        }
    };

    let action = match pick(obj, "Action", "NotAction", &at)? {
        None => {
            return Err(PolicyError::MissingElement {
                element: "Action or NotAction",
                statement: at,
            })
        }
        Some((negated, value)) => {
            let name = if negated { "NotAction" } else { "Action" };
            let patterns = string_list(value)
                .ok_or_else(|| invalid(name, "it must be a string or a non-empty array of strings".into()))?
                .into_iter()
                .map(|a| action_pattern(a).ok_or_else(|| invalid(name, format!("{a:?} is not \"*\" or SERVICE:ACTION (for example \"kms:Encrypt\")"))))
                .collect::<Result<Vec<_>, _>>()?;
            negatable(negated, patterns)
        }
    };

    let resource = match pick(obj, "Resource", "NotResource", &at)? {
        None => {
            return Err(PolicyError::MissingElement {
                element: "Resource or NotResource",
                statement: at,
            })
        }
        Some((negated, value)) => {
            let name = if negated { "NotResource" } else { "Resource" };
            let syntax = Syntax {
                wildcards: true,
                variables,
            };
            let patterns = string_list(value)
                .ok_or_else(|| {
                    invalid(
                        name,
                        "it must be a string or a non-empty array of strings".into(),
                    )
                })?
                .into_iter()
                .map(|r| {
                    if r.is_empty() {
                        Err(invalid(name, "a resource must not be empty".into()))
                    } else {
                        Ok(Pattern::parse(r, syntax))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            negatable(negated, patterns)
        }
    };

    let principal = match (kind, pick(obj, "Principal", "NotPrincipal", &at)?) {
        (PolicyKind::Identity, None) => None,
        (PolicyKind::Identity, Some(_)) => {
            return Err(PolicyError::PrincipalNotAllowed { statement: at })
        }
        (PolicyKind::Resource, None) => {
            return Err(PolicyError::MissingPrincipal { statement: at })
        }
        (PolicyKind::Resource, Some((negated, value))) => {
            if negated && effect == Effect::Allow {
                return Err(PolicyError::NotPrincipalWithAllow { statement: at });
            }
            let entries = parse_principal(value, &at)?;
            Some(negatable(negated, entries))
        }
    };

    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(value) => parse_condition_element(value, variables, &at)?,
    };

    Ok(Statement {
        sid: at.sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

fn negatable<T>(negated: bool, value: T) -> Negatable<T> {
    if negated {
        Negatable::Not(value)
    } else {
        Negatable::Is(value)
    }
}

/// The element or its negation (`true` = the `Not…` form); both is an error.
fn pick<'a>(
    obj: &'a Map<String, Value>,
    element: &'static str,
    negation: &'static str,
    at: &StatementRef,
) -> Result<Option<(bool, &'a Value)>, PolicyError> {
    match (obj.get(element), obj.get(negation)) {
        (Some(_), Some(_)) => Err(PolicyError::ConflictingElements {
            element,
            statement: at.clone(),
        }),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

/// A string or a non-empty array of strings.
fn string_list(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) if !items.is_empty() => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// An action pattern: `*`, or `SERVICE:ACTION` with wildcards; matched case-insensitively.
fn action_pattern(action: &str) -> Option<Glob> {
    let syntax = Syntax {
        wildcards: true,
        variables: false,
    };
    if action == "*" {
        return Some(Glob::Any);
    }
    let (service, name) = action.split_once(':')?;
    if service.is_empty()
        || name.is_empty()
        || !service
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'*' | b'?'))
    {
        return None;
    }
    match Pattern::parse(action, syntax) {
        Pattern::Fixed(glob) => Some(glob),
        Pattern::Template(_) => None,
    }
}

/// Reads a `Principal`/`NotPrincipal` value.
fn parse_principal(value: &Value, at: &StatementRef) -> Result<Vec<PrincipalEntry>, PolicyError> {
    let bad = |v: &str| PolicyError::InvalidPrincipal {
        value: v.to_owned(),
        statement: at.clone(),
    };
    match value {
        Value::String(s) if s == "*" => Ok(vec![PrincipalEntry::Everyone]),
        Value::Object(map) if !map.is_empty() => {
            let mut entries = Vec::new();
            for (kind, ids) in map {
                let ids = string_list(ids).ok_or_else(|| bad(&ids.to_string()))?;
                for id in ids {
                    entries.push(match kind.as_str() {
                        "AWS" => aws_principal(id).ok_or_else(|| bad(id))?,
                        "Service" if !id.is_empty() && !id.contains(['*', '?']) => {
                            PrincipalEntry::Service(id.to_owned())
                        }
                        "Federated" | "CanonicalUser" if !id.is_empty() => PrincipalEntry::Other,
                        _ => return Err(bad(id)),
                    });
                }
            }
            Ok(entries)
        }
        other => Err(bad(&other.to_string())),
    }
}

/// An `{"AWS": …}` principal: `*`, an account id, or an IAM principal ARN without wildcards.
fn aws_principal(id: &str) -> Option<PrincipalEntry> {
    if id == "*" {
        Some(PrincipalEntry::Everyone)
    } else if is_account_id(id) {
        Some(PrincipalEntry::Account(id.to_owned()))
    } else if let Some(account) = root_arn_account(id) {
        Some(PrincipalEntry::Account(account.to_owned()))
    } else if is_principal_arn(id) {
        Some(PrincipalEntry::Arn(id.to_owned()))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_policy(doc: &str) -> Result<Policy, PolicyError> {
        Policy::parse_key_policy(doc)
    }

    fn identity(doc: &str) -> Result<Policy, PolicyError> {
        Policy::parse(doc, PolicyKind::Identity, 10_240)
    }

    const DEFAULT_KEY_POLICY: &str = r#"{
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "kms:*",
            "Resource": "*"
        }]
    }"#;

    #[test]
    fn default_key_policy_parses() {
        let p = key_policy(DEFAULT_KEY_POLICY).unwrap();
        assert_eq!(p.version(), Version::V2012_10_17);
        assert_eq!(p.id(), Some("key-default-1"));
        assert_eq!(p.kind(), PolicyKind::Resource);
        assert_eq!(p.statements().len(), 1);
        assert_eq!(p.statements()[0].sid(), Some("Enable IAM User Permissions"));
        assert_eq!(p.statements()[0].effect(), Effect::Allow);
        assert_eq!(
            p.statements()[0].principal,
            Some(Negatable::Is(vec![PrincipalEntry::Account(
                "111122223333".into()
            )]))
        );
    }

    #[test]
    fn a_lone_statement_object_is_accepted_and_version_defaults_to_2008() {
        let p = identity(
            r#"{"Statement": {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}}"#,
        )
        .unwrap();
        assert_eq!(p.version(), Version::V2008_10_17);
        assert_eq!(p.statements().len(), 1);
    }

    #[test]
    fn principal_forms_are_read() {
        let p = key_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*",
            "Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:user/alice",
                "arn:aws:sts::444455556666:assumed-role/R/s","*"],
                "Service":"logs.amazonaws.com","Federated":"cognito-identity.amazonaws.com"}}]}"#,
        )
        .unwrap();
        let Some(Negatable::Is(entries)) = &p.statements()[0].principal else {
            panic!("principal expected")
        };
        assert_eq!(
            entries,
            &vec![
                PrincipalEntry::Account("111122223333".into()),
                PrincipalEntry::Arn("arn:aws:iam::444455556666:user/alice".into()),
                PrincipalEntry::Arn("arn:aws:sts::444455556666:assumed-role/R/s".into()),
                PrincipalEntry::Everyone,
                PrincipalEntry::Other,
                PrincipalEntry::Service("logs.amazonaws.com".into()),
            ]
        );
    }

    fn err(result: Result<Policy, PolicyError>) -> String {
        match result {
            Ok(_) => panic!("expected a validation error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn oversized_documents_are_refused_before_parsing() {
        let doc = format!("{{\"Statement\":[], \"pad\": \"{}\"}}", "x".repeat(40_000));
        let e = Policy::parse(&doc, PolicyKind::Resource, KEY_POLICY_MAX_BYTES).unwrap_err();
        assert!(matches!(e, PolicyError::TooLarge { limit: 32_768, .. }));
        assert!(e.to_string().contains("more than the 32768 bytes allowed"));
    }

    #[test]
    fn validation_errors_say_what_is_wrong() {
        let cases: &[(&str, &str)] = &[
            ("not json", "not valid JSON"),
            ("[]", "must be a JSON object"),
            (
                r#"{"Version":"2012-10-17","Statment":[]}"#,
                "unknown element \"Statment\"",
            ),
            (
                r#"{"Version":"2012-10-18","Statement":[]}"#,
                "Version \"2012-10-18\" is not supported",
            ),
            (r#"{"Version":"2012-10-17"}"#, "no Statement element"),
            (
                r#"{"Statement":[{"Principal":"*","Action":"kms:*","Resource":"*"}]}"#,
                "missing the Effect element in statement 0",
            ),
            (
                r#"{"Statement":[{"Sid":"S1","Effect":"allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#,
                "invalid Effect in statement \"S1\"",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","NotAction":"kms:Decrypt","Resource":"*"}]}"#,
                "both Action and NotAction",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}"#,
                "missing the Action or NotAction element",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*"}]}"#,
                "missing the Resource or NotResource element",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"Encrypt","Resource":"*"}]}"#,
                "\"Encrypt\" is not \"*\" or SERVICE:ACTION",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}]}"#,
                "non-empty array of strings",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#,
                "missing the Principal element",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"kms:*","Resource":"*"}]}"#,
                "Policy contains a statement with one or more invalid principals.",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"kms:*","Resource":"*"}]}"#,
                "Policy contains a statement with one or more invalid principals.",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":{"Bogus":"x"},"Action":"kms:*","Resource":"*"}]}"#,
                "Policy contains a statement with one or more invalid principals.",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}]}"#,
                "NotPrincipal can only be used with \"Effect\": \"Deny\"",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}"#,
                "unknown condition operator \"StringEqualz\"",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"NullIfExists":{"a":"true"}}}]}"#,
                "unknown condition operator \"NullIfExists\"",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"NumericLessThan":{"n":"ten"}}}]}"#,
                "invalid value \"ten\" for NumericLessThan on condition key \"n\"",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"yesterday"}}}]}"#,
                "not an ISO 8601 date or epoch seconds",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}]}"#,
                "not an IPv4 or IPv6 address or CIDR block",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}]}"#,
                "not true or false",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"BinaryEquals":{"k":"!!"}}}]}"#,
                "not base64",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"k":[]}}}]}"#,
                "non-empty array of them",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"k":{"x":1}}}}]}"#,
                "must be a string, number, boolean",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Extra":1}]}"#,
                "unknown element \"Extra\" in statement 0",
            ),
            (
                r#"{"Statement":["Allow"]}"#,
                "each statement must be a JSON object",
            ),
        ];
        for (doc, expected) in cases {
            let message = err(key_policy(doc));
            assert!(
                message.contains(expected),
                "{doc}\n  gave: {message}\n  expected to contain: {expected}"
            );
        }
    }

    #[test]
    fn identity_policies_must_not_name_a_principal() {
        let message = err(identity(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#,
        ));
        assert_eq!(message, "Policy document should not specify a principal.");
        let message = err(identity(
            r#"{"Statement":[{"Effect":"Deny","NotPrincipal":"*","Action":"kms:*","Resource":"*"}]}"#,
        ));
        assert_eq!(message, "Policy document should not specify a principal.");
    }

    #[test]
    fn condition_values_accept_json_numbers_and_booleans() {
        let p = identity(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*",
            "Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"n":[10, 2.5]}}}]}"#,
        );
        assert!(p.is_ok(), "{p:?}");
    }

    #[test]
    fn condition_operator_names_are_case_insensitive_with_prefixes_and_suffixes() {
        let p = identity(
            r#"{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*",
            "Condition":{"forallvalues:stringlikeifexists":{"k":"a*"},"ForAnyValue:StringEquals":{"k":"b"}}}]}"#,
        );
        assert!(p.is_ok(), "{p:?}");
    }
}
