//! The `Condition` element: operators, their values parsed once, and AWS's evaluation rules.
//!
//! - Several operators, and several keys under one operator, are AND'ed.
//! - Several policy values of one key are OR'ed; for a negated operator (`StringNotEquals`,
//!   `NotIpAddress`, …) the result is the negation of the positive operator, so the values are
//!   NOR'ed.
//! - A key missing from the request makes a positive operator false and a negated operator
//!   true; `…IfExists` makes any operator true on a missing key; `Null` tests presence.
//! - `ForAllValues:` is true when every request value matches (and when the key is missing or
//!   empty); `ForAnyValue:` is true when at least one does (false when the key is missing).
//!   With a negated operator, "matches" means "matches none of the policy values".
//! - Without a set qualifier, a multi-valued request key matches when any of its values
//!   matches any policy value.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::net::IpAddr;

use base64::Engine as _;
use serde_json::Value;

use crate::context::RequestContext;
use crate::error::{PolicyError, StatementRef, StatementRefOrTop};
use crate::pattern::{
    parse_parts, resolve_parts, tokens_to_text, Glob, Part, Pattern, Syntax, Tok,
};

/// How request values are combined (`ForAllValues:` / `ForAnyValue:` prefixes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Single,
    ForAllValues,
    ForAnyValue,
}

/// A comparison of a request value (left) with a policy value (right).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, ord: Ordering) -> bool {
        match self {
            Cmp::Eq => ord == Ordering::Equal,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Le => ord != Ordering::Greater,
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Ge => ord != Ordering::Less,
        }
    }
}

/// The positive form of an operator; negated operators are `negated = true` on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    BinaryEquals,
    IpAddress,
    Arn,
    Null,
}

/// Every operator name, its positive form, and whether it is negated.
const OPERATORS: &[(&str, Base, bool)] = &[
    ("StringEquals", Base::StringEquals, false),
    ("StringNotEquals", Base::StringEquals, true),
    (
        "StringEqualsIgnoreCase",
        Base::StringEqualsIgnoreCase,
        false,
    ),
    (
        "StringNotEqualsIgnoreCase",
        Base::StringEqualsIgnoreCase,
        true,
    ),
    ("StringLike", Base::StringLike, false),
    ("StringNotLike", Base::StringLike, true),
    ("NumericEquals", Base::Numeric(Cmp::Eq), false),
    ("NumericNotEquals", Base::Numeric(Cmp::Eq), true),
    ("NumericLessThan", Base::Numeric(Cmp::Lt), false),
    ("NumericLessThanEquals", Base::Numeric(Cmp::Le), false),
    ("NumericGreaterThan", Base::Numeric(Cmp::Gt), false),
    ("NumericGreaterThanEquals", Base::Numeric(Cmp::Ge), false),
    ("DateEquals", Base::Date(Cmp::Eq), false),
    ("DateNotEquals", Base::Date(Cmp::Eq), true),
    ("DateLessThan", Base::Date(Cmp::Lt), false),
    ("DateLessThanEquals", Base::Date(Cmp::Le), false),
    ("DateGreaterThan", Base::Date(Cmp::Gt), false),
    ("DateGreaterThanEquals", Base::Date(Cmp::Ge), false),
    ("Bool", Base::Bool, false),
    ("BinaryEquals", Base::BinaryEquals, false),
    ("IpAddress", Base::IpAddress, false),
    ("NotIpAddress", Base::IpAddress, true),
    ("ArnEquals", Base::Arn, false),
    ("ArnNotEquals", Base::Arn, true),
    ("ArnLike", Base::Arn, false),
    ("ArnNotLike", Base::Arn, true),
    ("Null", Base::Null, false),
];

/// A number as IAM compares them: integers exactly, anything else as a double.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub(crate) fn parse(s: &str) -> Option<Number> {
        if let Ok(i) = s.parse::<i64>() {
            return Some(Number::Int(i));
        }
        // Only decimal notation: no "inf" or "NaN".
        if s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'e' | b'E' | b'+'))
        {
            return None;
        }
        s.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Number::Float)
    }

    fn compare(self, other: Number) -> Option<Ordering> {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// Reads a date: ISO 8601 (`2024-05-01T12:00:00Z`, with offset or fraction, without a zone
/// taken as UTC, or a bare `2024-05-01` as midnight UTC) or epoch seconds (`1714564800`).
/// Returns nanoseconds since the epoch.
pub(crate) fn parse_date(s: &str) -> Option<i128> {
    use time::format_description::well_known::{Iso8601, Rfc3339};
    use time::macros::format_description;
    use time::{Date, OffsetDateTime, PrimitiveDateTime};

    let bytes = s.as_bytes();
    if !bytes.is_empty()
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 0 && *b == b'-'))
    {
        let secs: i64 = s.parse().ok()?;
        return Some(i128::from(secs) * 1_000_000_000);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp_nanos());
    }
    let no_zone = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if let Ok(t) = PrimitiveDateTime::parse(s, no_zone) {
        return Some(t.assume_utc().unix_timestamp_nanos());
    }
    if let Ok(d) = Date::parse(s, format_description!("[year]-[month]-[day]")) {
        return Some(d.midnight().assume_utc().unix_timestamp_nanos());
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(t.unix_timestamp_nanos());
    }
    None
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_binary(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// An address block: IPv4 or IPv6, with a prefix length (a bare address is /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?))
            }
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An ARN pattern for the Arn… operators: each of the six colon-separated fields matched on
/// its own (a wildcard does not cross a colon, except inside the last field, which keeps
/// its colons); `*` alone matches any value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArnPattern {
    Any,
    /// Six fields; fewer means the pattern is not an ARN and matches nothing.
    Fields(Vec<Glob>),
}

impl ArnPattern {
    fn from_tokens(tokens: Vec<Tok>) -> ArnPattern {
        if tokens == [Tok::AnyRun] {
            return ArnPattern::Any;
        }
        let mut fields: Vec<Vec<Tok>> = vec![Vec::new()];
        for tok in tokens {
            match tok {
                Tok::Char(':') if fields.len() < 6 => fields.push(Vec::new()),
                tok => {
                    if let Some(last) = fields.last_mut() {
                        last.push(tok);
                    }
                }
            }
        }
        ArnPattern::Fields(fields.into_iter().map(Glob::from_tokens).collect())
    }

    fn matches(&self, arn: &str) -> bool {
        match self {
            ArnPattern::Any => true,
            ArnPattern::Fields(fields) => {
                if fields.len() != 6 {
                    return false;
                }
                let mut parts = arn.splitn(6, ':');
                fields
                    .iter()
                    .all(|f| parts.next().is_some_and(|p| f.matches(p, false)))
            }
        }
    }
}

/// A policy value read once: ready, or a template resolved per request and read then.
#[derive(Debug, Clone, PartialEq)]
enum Prepared<T> {
    Fixed(T),
    Template(Vec<Part>),
}

impl<T: Clone> Prepared<T> {
    fn resolve(
        &self,
        ctx: &RequestContext<'_>,
        build: impl Fn(Vec<Tok>) -> Option<T>,
    ) -> Option<Cow<'_, T>> {
        match self {
            Prepared::Fixed(v) => Some(Cow::Borrowed(v)),
            Prepared::Template(parts) => resolve_parts(parts, ctx).and_then(build).map(Cow::Owned),
        }
    }
}

fn text_then<T>(read: fn(&str) -> Option<T>) -> impl Fn(Vec<Tok>) -> Option<T> {
    move |tokens| tokens_to_text(&tokens).and_then(|s| read(&s))
}

/// The policy values of one condition key, read for their operator.
#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Strings(Vec<Pattern>),
    Numbers(Vec<Prepared<Number>>),
    Dates(Vec<Prepared<i128>>),
    Bools(Vec<Prepared<bool>>),
    Binary(Vec<Prepared<Vec<u8>>>),
    Cidrs(Vec<Prepared<Cidr>>),
    Arns(Vec<Prepared<ArnPattern>>),
    Null(Vec<bool>),
}

/// One `operator: { key: values }` entry, for one key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    base: Base,
    negated: bool,
    set: SetOp,
    if_exists: bool,
    /// Lower-cased: condition keys are case-insensitive.
    key: String,
    operand: Operand,
}

/// Reads an operator name: optional `ForAllValues:`/`ForAnyValue:`, the operator, optional
/// `IfExists` (not on `Null`). Names are matched case-insensitively.
fn parse_operator(name: &str) -> Option<(SetOp, Base, bool, bool)> {
    let (set, rest) = if let Some(rest) = strip_prefix_ci(name, "ForAllValues:") {
        (SetOp::ForAllValues, rest)
    } else if let Some(rest) = strip_prefix_ci(name, "ForAnyValue:") {
        (SetOp::ForAnyValue, rest)
    } else {
        (SetOp::Single, name)
    };
    let (if_exists, rest) = match strip_suffix_ci(rest, "IfExists") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let &(_, base, negated) = OPERATORS
        .iter()
        .find(|(n, _, _)| n.eq_ignore_ascii_case(rest))?;
    if base == Base::Null && (if_exists || set != SetOp::Single) {
        return None;
    }
    Some((set, base, negated, if_exists))
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..cut])
}

/// Reads a `Condition` element. `variables`: the policy is Version 2012-10-17.
pub(crate) fn parse_condition_element(
    value: &Value,
    variables: bool,
    at: &StatementRef,
) -> Result<Vec<Condition>, PolicyError> {
    let invalid = |reason: String| PolicyError::InvalidElement {
        element: "Condition",
        statement: StatementRefOrTop(Some(at.clone())),
        reason,
    };
    let Value::Object(operators) = value else {
        return Err(invalid(
            "it must be an object of condition operators".into(),
        ));
    };
    let mut out = Vec::new();
    for (op_name, block) in operators {
        let (set, base, negated, if_exists) =
            parse_operator(op_name).ok_or_else(|| PolicyError::UnknownConditionOperator {
                operator: op_name.clone(),
                statement: at.clone(),
            })?;
        let Value::Object(keys) = block else {
            return Err(invalid(format!(
                "{op_name} must map condition keys to values"
            )));
        };
        if keys.is_empty() {
            return Err(invalid(format!("{op_name} names no condition key")));
        }
        for (key, raw) in keys {
            if key.is_empty() {
                return Err(invalid(format!("{op_name} has an empty condition key")));
            }
            let texts = condition_values(raw).ok_or_else(|| {
                invalid(format!(
                    "the value of {key:?} must be a string, number, boolean or a non-empty array of them"
                ))
            })?;
            let bad = |value: &str, reason: &'static str| PolicyError::InvalidConditionValue {
                operator: op_name.clone(),
                key: key.clone(),
                value: value.to_owned(),
                reason,
                statement: at.clone(),
            };
            let operand = read_operand(base, &texts, variables, bad)?;
            out.push(Condition {
                base,
                negated,
                set,
                if_exists,
                key: key.to_lowercase(),
                operand,
            });
        }
    }
    Ok(out)
}

/// The values of one key as text: a scalar or a non-empty array of scalars.
fn condition_values(raw: &Value) -> Option<Vec<String>> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    match raw {
        Value::Array(items) if !items.is_empty() => items.iter().map(scalar).collect(),
        Value::Array(_) => None,
        v => scalar(v).map(|s| vec![s]),
    }
}

fn read_operand(
    base: Base,
    texts: &[String],
    variables: bool,
    bad: impl Fn(&str, &'static str) -> PolicyError,
) -> Result<Operand, PolicyError> {
    let syntax = |wildcards| Syntax {
        wildcards,
        variables,
    };
    // Reads each value: a template when it has variables, else parsed now (an unreadable
    // value is a validation error).
    fn prepared<T>(
        texts: &[String],
        variables: bool,
        read: fn(&str) -> Option<T>,
        bad: &dyn Fn(&str, &'static str) -> PolicyError,
        reason: &'static str,
    ) -> Result<Vec<Prepared<T>>, PolicyError> {
        texts
            .iter()
            .map(|t| {
                let syntax = Syntax {
                    wildcards: false,
                    variables,
                };
                match Pattern::parse(t, syntax) {
                    Pattern::Template(_) => Ok(Prepared::Template(parse_parts(t, syntax))),
                    Pattern::Fixed(Glob::Literal(lit)) => read(&lit)
                        .map(Prepared::Fixed)
                        .ok_or_else(|| bad(t, reason)),
                    Pattern::Fixed(_) => Err(bad(t, reason)),
                }
            })
            .collect()
    }
    Ok(match base {
        Base::StringEquals | Base::StringEqualsIgnoreCase => Operand::Strings(
            texts
                .iter()
                .map(|t| Pattern::parse(t, syntax(false)))
                .collect(),
        ),
        Base::StringLike => Operand::Strings(
            texts
                .iter()
                .map(|t| Pattern::parse(t, syntax(true)))
                .collect(),
        ),
        Base::Numeric(_) => Operand::Numbers(prepared(
            texts,
            variables,
            Number::parse,
            &bad,
            "not a number",
        )?),
        Base::Date(_) => Operand::Dates(prepared(
            texts,
            variables,
            parse_date,
            &bad,
            "not an ISO 8601 date or epoch seconds",
        )?),
        Base::Bool => Operand::Bools(prepared(
            texts,
            variables,
            parse_bool,
            &bad,
            "not true or false",
        )?),
        Base::BinaryEquals => Operand::Binary(prepared(
            texts,
            variables,
            parse_binary,
            &bad,
            "not base64",
        )?),
        Base::IpAddress => Operand::Cidrs(prepared(
            texts,
            variables,
            Cidr::parse,
            &bad,
            "not an IPv4 or IPv6 address or CIDR block",
        )?),
        Base::Arn => Operand::Arns(
            texts
                .iter()
                .map(|t| match Pattern::parse(t, syntax(true)) {
                    Pattern::Template(_) => Prepared::Template(parse_parts(t, syntax(true))),
                    Pattern::Fixed(_) => {
                        Prepared::Fixed(ArnPattern::from_tokens(fixed_tokens(t, variables)))
                    }
                })
                .collect(),
        ),
        Base::Null => Operand::Null(
            texts
                .iter()
                .map(|t| parse_bool(t).ok_or_else(|| bad(t, "not true or false")))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// The tokens of a value without variables (escapes applied).
fn fixed_tokens(text: &str, variables: bool) -> Vec<Tok> {
    parse_parts(
        text,
        Syntax {
            wildcards: true,
            variables,
        },
    )
    .into_iter()
    .filter_map(|p| match p {
        Part::Tok(t) => Some(t),
        _ => None,
    })
    .collect()
}

impl Condition {
    /// Whether this condition holds for the request.
    pub(crate) fn evaluate(&self, ctx: &RequestContext<'_>) -> bool {
        let values = ctx.lookup(&self.key);
        if let Operand::Null(expected) = &self.operand {
            let absent = values.is_none();
            return expected.contains(&absent);
        }
        match (self.set, values) {
            (SetOp::ForAllValues, None) => true,
            (SetOp::ForAnyValue, None) => self.if_exists,
            (SetOp::Single, None) => self.if_exists || self.negated,
            (SetOp::Single, Some(vs)) => {
                let positive = vs.iter().any(|v| self.matches_any(v, ctx));
                positive != self.negated
            }
            (SetOp::ForAnyValue, Some(vs)) => {
                vs.iter().any(|v| self.matches_any(v, ctx) != self.negated)
            }
            (SetOp::ForAllValues, Some(vs)) => {
                vs.iter().all(|v| self.matches_any(v, ctx) != self.negated)
            }
        }
    }

    /// Whether one request value matches at least one policy value, positively.
    fn matches_any(&self, value: &str, ctx: &RequestContext<'_>) -> bool {
        match &self.operand {
            Operand::Strings(patterns) => {
                let fold = self.base == Base::StringEqualsIgnoreCase;
                patterns.iter().any(|p| p.matches(value, fold, ctx))
            }
            Operand::Numbers(numbers) => {
                let Base::Numeric(cmp) = self.base else {
                    return false;
                };
                let Some(x) = Number::parse(value) else {
                    return false;
                };
                numbers.iter().any(|n| {
                    n.resolve(ctx, text_then(Number::parse))
                        .and_then(|n| x.compare(*n))
                        .is_some_and(|ord| cmp.holds(ord))
                })
            }
            Operand::Dates(dates) => {
                let Base::Date(cmp) = self.base else {
                    return false;
                };
                let Some(x) = parse_date(value) else {
                    return false;
                };
                dates.iter().any(|d| {
                    d.resolve(ctx, text_then(parse_date))
                        .is_some_and(|d| cmp.holds(x.cmp(&d)))
                })
            }
            Operand::Bools(bools) => {
                let Some(x) = parse_bool(value) else {
                    return false;
                };
                bools.iter().any(|b| {
                    b.resolve(ctx, text_then(parse_bool))
                        .is_some_and(|b| *b == x)
                })
            }
            Operand::Binary(blobs) => {
                let Some(x) = parse_binary(value) else {
                    return false;
                };
                blobs.iter().any(|b| {
                    b.resolve(ctx, text_then(parse_binary))
                        .is_some_and(|b| *b == x)
                })
            }
            Operand::Cidrs(cidrs) => {
                let Ok(ip) = value.parse::<IpAddr>() else {
                    return false;
                };
                cidrs.iter().any(|c| {
                    c.resolve(ctx, text_then(Cidr::parse))
                        .is_some_and(|c| c.contains(ip))
                })
            }
            Operand::Arns(arns) => arns.iter().any(|a| {
                a.resolve(ctx, |t| Some(ArnPattern::from_tokens(t)))
                    .is_some_and(|a| a.matches(value))
            }),
            Operand::Null(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{alice, allows_for, holds, keys, principal, with_condition, Pairs};

    /// Asserts the condition's truth for several requests: `(context keys, expected)`.
    fn check(condition: &str, cases: &[(Pairs<'_>, bool)]) {
        for (pairs, expected) in cases {
            assert_eq!(
                holds(condition, pairs),
                *expected,
                "{condition} with {pairs:?}"
            );
        }
    }

    const NONE: Pairs<'static> = &[];

    #[test]
    fn string_equals_is_exact_and_case_sensitive() {
        let c = r#"{"StringEquals":{"kms:EncryptionContext:Department":"IT"}}"#;
        check(
            c,
            &[
                (&[("kms:EncryptionContext:Department", &["IT"])], true),
                (&[("KMS:ENCRYPTIONCONTEXT:DEPARTMENT", &["IT"])], true),
                (&[("kms:EncryptionContext:Department", &["it"])], false),
                (&[("kms:EncryptionContext:Department", &["I*"])], false),
                (NONE, false),
            ],
        );
        // Wildcards are plain characters for StringEquals.
        check(
            r#"{"StringEquals":{"k":"I*"}}"#,
            &[(&[("k", &["I*"])], true), (&[("k", &["IT"])], false)],
        );
    }

    #[test]
    fn string_not_equals_is_true_on_a_missing_key_and_nors_its_values() {
        let c = r#"{"StringNotEquals":{"k":["a","b"]}}"#;
        check(
            c,
            &[
                (&[("k", &["c"])], true),
                (&[("k", &["a"])], false),
                (&[("k", &["b"])], false),
                (NONE, true),
            ],
        );
    }

    #[test]
    fn string_equals_ignore_case_folds_case() {
        check(
            r#"{"StringEqualsIgnoreCase":{"k":"Straße"}}"#,
            &[
                (&[("k", &["STRASSE"])], false),
                (&[("k", &["straße"])], true),
                (&[("k", &["STRAßE"])], true),
                (&[("k", &["strasse"])], false),
                (NONE, false),
            ],
        );
        check(
            r#"{"StringNotEqualsIgnoreCase":{"k":"abc"}}"#,
            &[
                (&[("k", &["ABC"])], false),
                (&[("k", &["abd"])], true),
                (NONE, true),
            ],
        );
    }

    #[test]
    fn string_like_uses_wildcards_and_string_not_like_negates() {
        check(
            r#"{"StringLike":{"k":["app-*","db-??"]}}"#,
            &[
                (&[("k", &["app-1"])], true),
                (&[("k", &["app-"])], true),
                (&[("k", &["db-01"])], true),
                (&[("k", &["db-1"])], false),
                (&[("k", &["App-1"])], false),
                (NONE, false),
            ],
        );
        check(
            r#"{"StringNotLike":{"k":"app-*"}}"#,
            &[
                (&[("k", &["app-1"])], false),
                (&[("k", &["web-1"])], true),
                (NONE, true),
            ],
        );
    }

    #[test]
    fn numeric_operators_compare_numbers() {
        let cases: &[(&str, &[(&str, bool)])] = &[
            (
                "NumericEquals",
                &[("10", true), ("10.0", true), ("11", false), ("x", false)],
            ),
            ("NumericNotEquals", &[("10", false), ("11", true)]),
            (
                "NumericLessThan",
                &[("9", true), ("10", false), ("-1.5", true)],
            ),
            ("NumericLessThanEquals", &[("10", true), ("10.5", false)]),
            ("NumericGreaterThan", &[("11", true), ("10", false)]),
            ("NumericGreaterThanEquals", &[("10", true), ("9.99", false)]),
        ];
        for (op, values) in cases {
            let condition = format!(r#"{{"{op}":{{"n":"10"}}}}"#);
            for (v, expected) in *values {
                assert_eq!(holds(&condition, &[("n", &[*v])]), *expected, "{op} {v}");
            }
            assert_eq!(
                holds(&condition, NONE),
                *op == "NumericNotEquals",
                "{op} on a missing key"
            );
        }
        // A JSON number as the policy value; large integers compare exactly.
        check(
            r#"{"NumericEquals":{"n":9007199254740993}}"#,
            &[
                (&[("n", &["9007199254740993"])], true),
                (&[("n", &["9007199254740992"])], false),
            ],
        );
    }

    #[test]
    fn date_operators_accept_iso_8601_and_epoch_seconds() {
        let t = "aws:CurrentTime";
        check(
            r#"{"DateLessThan":{"aws:CurrentTime":"2024-06-01T00:00:00Z"}}"#,
            &[
                (&[(t, &["2024-05-31T23:59:59Z"])], true),
                (&[(t, &["2024-06-01T00:00:00Z"])], false),
                (&[(t, &["2024-06-01T01:00:00+02:00"])], true),
                (&[(t, &["1717199999"])], true),
                (&[(t, &["2024-06-01"])], false),
                (&[(t, &["not a date"])], false),
                (NONE, false),
            ],
        );
        check(
            r#"{"DateGreaterThanEquals":{"aws:EpochTime":"1717200000"}}"#,
            &[
                (&[("aws:EpochTime", &["1717200000"])], true),
                (&[("aws:EpochTime", &["1717199999"])], false),
            ],
        );
        check(
            r#"{"DateEquals":{"d":"2024-06-01"}}"#,
            &[
                (&[("d", &["2024-06-01T00:00:00Z"])], true),
                (&[("d", &["2024-06-01T00:00:00.000Z"])], true),
                (&[("d", &["2024-06-01T00:00:01Z"])], false),
            ],
        );
        check(
            r#"{"DateNotEquals":{"d":"2024-06-01T00:00:00Z"}}"#,
            &[
                (&[("d", &["2024-06-01T00:00:00Z"])], false),
                (&[("d", &["2024-06-02T00:00:00Z"])], true),
                (NONE, true),
            ],
        );
        check(
            r#"{"DateLessThanEquals":{"d":"2024-06-01T00:00:00"},"DateGreaterThan":{"d":"2024-05-01T00:00:00Z"}}"#,
            &[
                (&[("d", &["2024-06-01T00:00:00Z"])], true),
                (&[("d", &["2024-05-01T00:00:00Z"])], false),
            ],
        );
    }

    #[test]
    fn bool_compares_booleans_case_insensitively() {
        let c = r#"{"Bool":{"aws:SecureTransport":"true"}}"#;
        check(
            c,
            &[
                (&[("aws:SecureTransport", &["true"])], true),
                (&[("aws:SecureTransport", &["TRUE"])], true),
                (&[("aws:SecureTransport", &["false"])], false),
                (&[("aws:SecureTransport", &["1"])], false),
                (NONE, false),
            ],
        );
        check(
            r#"{"Bool":{"aws:SecureTransport":false}}"#,
            &[(&[("aws:SecureTransport", &["false"])], true)],
        );
    }

    #[test]
    fn binary_equals_compares_decoded_base64() {
        check(
            r#"{"BinaryEquals":{"b":"QmluYXJ5"}}"#,
            &[
                (&[("b", &["QmluYXJ5"])], true),
                (&[("b", &["QmluYXJz"])], false),
                (&[("b", &["%%%"])], false),
                (NONE, false),
            ],
        );
    }

    #[test]
    fn ip_address_matches_cidr_blocks_of_both_families() {
        let ip = "aws:SourceIp";
        check(
            r#"{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32","198.51.100.7"]}}"#,
            &[
                (&[(ip, &["203.0.113.200"])], true),
                (&[(ip, &["203.0.114.1"])], false),
                (&[(ip, &["2001:db8:1::5"])], true),
                (&[(ip, &["2001:db9::5"])], false),
                (&[(ip, &["198.51.100.7"])], true),
                (&[(ip, &["198.51.100.8"])], false),
                (&[(ip, &["::ffff:203.0.113.9"])], true),
                (&[(ip, &["not an ip"])], false),
                (NONE, false),
            ],
        );
        check(
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &[
                (&[(ip, &["10.1.2.3"])], false),
                (&[(ip, &["192.0.2.1"])], true),
                (NONE, true),
            ],
        );
        check(
            r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#,
            &[(&[(ip, &["192.0.2.1"])], true), (&[(ip, &["::1"])], false)],
        );
    }

    #[test]
    fn arn_operators_match_field_by_field() {
        let k = "aws:PrincipalArn";
        let c = r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}"#;
        check(
            c,
            &[
                (&[(k, &["arn:aws:iam::111122223333:role/Admin"])], true),
                (&[(k, &["arn:aws:iam::111122223333:role/AdminX"])], true),
                (&[(k, &["arn:aws:iam::111122223333:user/Admin"])], false),
                (&[(k, &["not:an:arn"])], false),
                (NONE, false),
            ],
        );
        // A wildcard does not cross a colon between fields.
        check(
            r#"{"ArnEquals":{"a":"arn:aws:kms:*:key/x"}}"#,
            &[(
                &[("a", &["arn:aws:kms:us-east-1:111122223333:key/x"])],
                false,
            )],
        );
        // …but the last field keeps its colons.
        check(
            r#"{"ArnEquals":{"a":"arn:aws:logs:us-east-1:111122223333:log-group:*"}}"#,
            &[(
                &[("a", &["arn:aws:logs:us-east-1:111122223333:log-group:g:x"])],
                true,
            )],
        );
        check(
            r#"{"ArnNotLike":{"a":"arn:aws:iam::111122223333:*"}}"#,
            &[
                (&[("a", &["arn:aws:iam::111122223333:user/x"])], false),
                (&[("a", &["arn:aws:iam::444455556666:user/x"])], true),
                (NONE, true),
            ],
        );
        check(
            r#"{"ArnNotEquals":{"a":"arn:aws:iam::111122223333:user/x"}}"#,
            &[
                (&[("a", &["arn:aws:iam::111122223333:user/x"])], false),
                (&[("a", &["arn:aws:iam::111122223333:user/y"])], true),
            ],
        );
        // The principal's own keys are available without copying them into the context.
        assert!(holds(
            r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/alice"}}"#,
            NONE
        ));
    }

    #[test]
    fn null_tests_presence() {
        check(
            r#"{"Null":{"k":"true"}}"#,
            &[
                (NONE, true),
                (&[("k", &["v"])], false),
                (&[("k", &[])], true),
            ],
        );
        check(
            r#"{"Null":{"k":"false"}}"#,
            &[(NONE, false), (&[("k", &["v"])], true)],
        );
    }

    #[test]
    fn if_exists_is_true_on_a_missing_key_and_tests_a_present_one() {
        for (op, present_match, present_other) in [
            ("StringEqualsIfExists", "v", "w"),
            ("StringLikeIfExists", "v", "w"),
            ("NumericLessThanIfExists", "1", "99"),
            (
                "DateLessThanIfExists",
                "2000-01-01T00:00:00Z",
                "2099-01-01T00:00:00Z",
            ),
            ("BoolIfExists", "true", "false"),
            ("IpAddressIfExists", "10.0.0.1", "11.0.0.1"),
            (
                "ArnLikeIfExists",
                "arn:aws:iam::1:user/v",
                "arn:aws:iam::1:user/w",
            ),
            ("BinaryEqualsIfExists", "dg==", "dw=="),
        ] {
            let value = match op {
                "NumericLessThanIfExists" => "10",
                "DateLessThanIfExists" => "2050-01-01T00:00:00Z",
                "BoolIfExists" => "true",
                "IpAddressIfExists" => "10.0.0.0/8",
                "ArnLikeIfExists" => "arn:aws:iam::1:user/v",
                "BinaryEqualsIfExists" => "dg==",
                _ => "v",
            };
            let c = format!(r#"{{"{op}":{{"k":"{value}"}}}}"#);
            assert!(holds(&c, NONE), "{op} on a missing key");
            assert!(holds(&c, &[("k", &[present_match])]), "{op} matching");
            assert!(!holds(&c, &[("k", &[present_other])]), "{op} not matching");
        }
        check(
            r#"{"StringNotEqualsIfExists":{"k":"v"}}"#,
            &[
                (NONE, true),
                (&[("k", &["v"])], false),
                (&[("k", &["w"])], true),
            ],
        );
    }

    #[test]
    fn for_all_values_requires_every_request_value_to_match_and_is_true_when_missing() {
        let c = r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Department","Project"]}}"#;
        let k = "kms:EncryptionContextKeys";
        check(
            c,
            &[
                (&[(k, &["Department"])], true),
                (&[(k, &["Department", "Project"])], true),
                (&[(k, &["Department", "Other"])], false),
                (NONE, true),
                (&[(k, &[])], true),
            ],
        );
    }

    #[test]
    fn for_any_value_requires_one_matching_value_and_is_false_when_missing() {
        let c = r#"{"ForAnyValue:StringLike":{"kms:EncryptionContextKeys":"Dep*"}}"#;
        let k = "kms:EncryptionContextKeys";
        check(
            c,
            &[
                (&[(k, &["Other", "Department"])], true),
                (&[(k, &["Other"])], false),
                (NONE, false),
            ],
        );
        check(
            r#"{"ForAnyValue:StringEqualsIfExists":{"k":"a"}}"#,
            &[(NONE, true), (&[("k", &["b"])], false)],
        );
    }

    #[test]
    fn set_operators_with_negated_operators_negate_per_request_value() {
        // AWS's documented example: deny unless every tag key starts with key1.
        let c = r#"{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}"#;
        let k = "aws:TagKeys";
        check(
            c,
            &[
                (&[(k, &["key1:legal"])], false),
                (&[(k, &["key1:hr", "key1:personnel"])], false),
                (&[(k, &["key2:audit"])], true),
                (&[(k, &["key1:hr", "key2:audit"])], false),
                (NONE, true),
            ],
        );
        let c = r#"{"ForAnyValue:StringNotEquals":{"k":["a","b"]}}"#;
        check(
            c,
            &[
                (&[("k", &["a", "b"])], false),
                (&[("k", &["a", "c"])], true),
                (NONE, false),
            ],
        );
    }

    #[test]
    fn a_multi_valued_key_without_a_set_operator_matches_when_any_value_does() {
        check(
            r#"{"StringEquals":{"k":"a"}}"#,
            &[
                (&[("k", &["b", "a"])], true),
                (&[("k", &["b", "c"])], false),
            ],
        );
        check(
            r#"{"StringNotEquals":{"k":"a"}}"#,
            &[
                (&[("k", &["b", "a"])], false),
                (&[("k", &["b", "c"])], true),
            ],
        );
    }

    #[test]
    fn keys_and_operators_are_anded_and_values_ored() {
        let c = r#"{"StringEquals":{"a":["1","2"],"b":"3"},"StringLike":{"c":"x*"}}"#;
        check(
            c,
            &[
                (&[("a", &["2"]), ("b", &["3"]), ("c", &["xy"])], true),
                (&[("a", &["2"]), ("b", &["3"]), ("c", &["yy"])], false),
                (&[("a", &["4"]), ("b", &["3"]), ("c", &["xy"])], false),
                (&[("a", &["1"]), ("c", &["xy"])], false),
            ],
        );
    }

    #[test]
    fn variables_are_substituted_in_condition_values() {
        let p = principal("arn:aws:iam::111122223333:user/alice")
            .with_tag("Team", "blue")
            .with_user_id("AIDAALICE");
        let case = |cond: &str, pairs: &[(&str, &[&str])]| {
            allows_for(&with_condition(cond), &p, &keys(pairs))
        };
        let ec = "kms:EncryptionContext:Owner";
        assert!(case(
            r#"{"StringEquals":{"kms:EncryptionContext:Owner":"${aws:username}"}}"#,
            &[(ec, &["alice"])]
        ));
        assert!(!case(
            r#"{"StringEquals":{"kms:EncryptionContext:Owner":"${aws:username}"}}"#,
            &[(ec, &["bob"])]
        ));
        assert!(case(
            r#"{"StringEquals":{"kms:EncryptionContext:Owner":"${aws:PrincipalTag/team}"}}"#,
            &[(ec, &["blue"])]
        ));
        assert!(case(
            r#"{"StringEquals":{"kms:EncryptionContext:Owner":"${aws:userid}"}}"#,
            &[(ec, &["AIDAALICE"])]
        ));
        assert!(case(
            r#"{"StringEquals":{"kms:EncryptionContext:Owner":"acct-${aws:PrincipalAccount}"}}"#,
            &[(ec, &["acct-111122223333"])]
        ));
        // Any context key can be a variable.
        assert!(case(
            r#"{"StringEquals":{"kms:EncryptionContext:Owner":"${kms:EncryptionContext:Team}"}}"#,
            &[(ec, &["x"]), ("kms:EncryptionContext:Team", &["x"])]
        ));
        // Defaults fill in for a missing key.
        assert!(case(
            r#"{"StringEquals":{"kms:EncryptionContext:Owner":"${aws:PrincipalTag/none, 'nobody'}"}}"#,
            &[(ec, &["nobody"])]
        ));
        // An unresolvable variable makes its value match nothing.
        assert!(!case(
            r#"{"StringEquals":{"kms:EncryptionContext:Owner":"${aws:PrincipalTag/none}"}}"#,
            &[(ec, &["${aws:PrincipalTag/none}"])]
        ));
        assert!(case(
            r#"{"StringEquals":{"kms:EncryptionContext:Owner":["${aws:PrincipalTag/none}","x"]}}"#,
            &[(ec, &["x"])]
        ));
        // StringLike: wildcards outside the variable, the escapes literal.
        assert!(case(
            r#"{"StringLike":{"kms:EncryptionContext:Owner":"${aws:username}/*"}}"#,
            &[(ec, &["alice/docs"])]
        ));
        assert!(case(
            r#"{"StringLike":{"kms:EncryptionContext:Owner":"a${*}b${?}${$}"}}"#,
            &[(ec, &["a*b?$"])]
        ));
        assert!(!case(
            r#"{"StringLike":{"kms:EncryptionContext:Owner":"a${*}b"}}"#,
            &[(ec, &["axxb"])]
        ));
        // Variables in ARN and numeric values too.
        assert!(case(
            r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}"}}"#,
            &[]
        ));
        assert!(case(
            r#"{"NumericLessThan":{"n":"${limit}"}}"#,
            &[("n", &["3"]), ("limit", &["4"])]
        ));
        assert!(!case(
            r#"{"NumericLessThan":{"n":"${limit}"}}"#,
            &[("n", &["3"]), ("limit", &["x"])]
        ));
    }

    #[test]
    fn substituted_values_are_literal_not_wildcards() {
        let p = alice().with_tag("Team", "*");
        let policy = with_condition(r#"{"StringLike":{"k":"${aws:PrincipalTag/Team}"}}"#);
        assert!(!allows_for(&policy, &p, &keys(&[("k", &["anything"])])));
        assert!(allows_for(&policy, &p, &keys(&[("k", &["*"])])));
    }

    #[test]
    fn version_2008_does_not_substitute_variables() {
        let policy = crate::test_support::parse(
            r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*",
            "Condition":{"StringEquals":{"k":"${aws:username}"}}}]}"#,
            crate::PolicyKind::Identity,
        );
        assert!(!allows_for(&policy, &alice(), &keys(&[("k", &["alice"])])));
        assert!(allows_for(
            &policy,
            &alice(),
            &keys(&[("k", &["${aws:username}"])])
        ));
    }

    #[test]
    fn number_date_and_cidr_readers_refuse_junk() {
        assert_eq!(Number::parse("inf"), None);
        assert_eq!(Number::parse("NaN"), None);
        assert_eq!(Number::parse("0x10"), None);
        assert_eq!(Number::parse("1e3"), Some(Number::Float(1000.0)));
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("0"), Some(0));
        assert_eq!(Cidr::parse("10.0.0.0/"), None);
        assert_eq!(Cidr::parse("::/129"), None);
        assert!(Cidr::parse("::/0").is_some_and(|c| c.contains("2001:db8::1".parse().unwrap())));
    }
}
