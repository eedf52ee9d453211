//! Policy strings, parsed once: wildcards (`*`, `?`) and policy variables (`${key}`,
//! `${key, 'default'}`, and the escapes `${*}`, `${?}`, `${$}`).
//!
//! A string without variables becomes a [`Glob`] at parse time and is matched without
//! allocating. A string with variables stays a template of [`Part`]s; at evaluation its
//! variables are looked up in the request context and the result is matched. Substituted text
//! (a variable's value or its default) is always literal: a `*` in a tag value is not a
//! wildcard, so a caller cannot widen a policy through the values it controls.

use std::borrow::Cow;

use crate::context::RequestContext;

/// One unit of a wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// This character (compared case-sensitively or not, as the caller says).
    Char(char),
    /// `?`: exactly one character.
    AnyOne,
    /// `*`: any run of characters, including none.
    AnyRun,
}

/// One unit of a policy string that contains variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Tok(Tok),
    /// `${key}` or `${key, 'default'}`; `key` is lower-cased (condition keys are
    /// case-insensitive), the default is literal text.
    Var {
        key: String,
        default: Option<String>,
    },
    /// A `${` that does not form a variable: the string can never be resolved.
    Broken,
}

/// How to read a policy string.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards (StringLike, ArnLike, Action, Resource), not plain characters.
    pub wildcards: bool,
    /// `${…}` is a policy variable (Version 2012-10-17 only).
    pub variables: bool,
}

/// A pattern with no variables left, ready to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    /// `*` alone: matches everything.
    Any,
    /// No wildcard: plain comparison.
    Literal(String),
    /// At least one wildcard.
    Tokens(Vec<Tok>),
}

impl Glob {
    /// Builds the fastest form of a token list.
    pub(crate) fn from_tokens(tokens: Vec<Tok>) -> Glob {
        if tokens.len() == 1 && tokens[0] == Tok::AnyRun {
            return Glob::Any;
        }
        if tokens.iter().all(|t| matches!(t, Tok::Char(_))) {
            let text = tokens
                .iter()
                .filter_map(|t| match t {
                    Tok::Char(c) => Some(*c),
                    _ => None,
                })
                .collect();
            return Glob::Literal(text);
        }
        Glob::Tokens(tokens)
    }

    /// Whether `text` matches; `fold` compares characters case-insensitively.
    pub(crate) fn matches(&self, text: &str, fold: bool) -> bool {
        match self {
            Glob::Any => true,
            Glob::Literal(lit) => literal_eq(lit, text, fold),
            Glob::Tokens(tokens) => glob_match(tokens, text, fold),
        }
    }
}

/// A policy string: either ready to match, or a template to resolve per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pattern {
    Fixed(Glob),
    Template(Vec<Part>),
}

impl Pattern {
    /// Parses `text` under `syntax`.
    pub(crate) fn parse(text: &str, syntax: Syntax) -> Pattern {
        let parts = parse_parts(text, syntax);
        if parts.iter().all(|p| matches!(p, Part::Tok(_))) {
            let tokens = parts
                .into_iter()
                .filter_map(|p| match p {
                    Part::Tok(t) => Some(t),
                    _ => None,
                })
                .collect();
            Pattern::Fixed(Glob::from_tokens(tokens))
        } else {
            Pattern::Template(parts)
        }
    }

    /// The pattern with its variables substituted from `ctx`, or `None` when a variable has
    /// no single value and no default (such a value matches nothing).
    pub(crate) fn resolve(&self, ctx: &RequestContext<'_>) -> Option<Cow<'_, Glob>> {
        match self {
            Pattern::Fixed(glob) => Some(Cow::Borrowed(glob)),
            Pattern::Template(parts) => {
                resolve_parts(parts, ctx).map(|t| Cow::Owned(Glob::from_tokens(t)))
            }
        }
    }

    /// Whether `text` matches, variables substituted from `ctx`.
    pub(crate) fn matches(&self, text: &str, fold: bool, ctx: &RequestContext<'_>) -> bool {
        self.resolve(ctx).is_some_and(|g| g.matches(text, fold))
    }
}

/// Substitutes the variables of `parts` from `ctx`. Every substituted character is literal.
pub(crate) fn resolve_parts(parts: &[Part], ctx: &RequestContext<'_>) -> Option<Vec<Tok>> {
    let mut out = Vec::with_capacity(parts.len() + 16);
    for part in parts {
        match part {
            Part::Tok(t) => out.push(t.clone()),
            Part::Var { key, default } => {
                let value = ctx.variable(key).or(default.as_deref())?;
                out.extend(value.chars().map(Tok::Char));
            }
            Part::Broken => return None,
        }
    }
    Some(out)
}

/// The characters of a token list that has no wildcards (resolved values of non-wildcard
/// strings); `None` if it has wildcards.
pub(crate) fn tokens_to_text(tokens: &[Tok]) -> Option<String> {
    tokens
        .iter()
        .map(|t| match t {
            Tok::Char(c) => Some(*c),
            _ => None,
        })
        .collect()
}

/// Splits a policy string into parts.
pub(crate) fn parse_parts(text: &str, syntax: Syntax) -> Vec<Part> {
    let mut parts = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if syntax.variables && rest.starts_with("${") {
            let (part, consumed) = parse_variable(&rest[2..]);
            parts.push(part);
            rest = &rest[2 + consumed..];
            continue;
        }
        let tok = match c {
            '*' if syntax.wildcards => Tok::AnyRun,
            '?' if syntax.wildcards => Tok::AnyOne,
            c => Tok::Char(c),
        };
        parts.push(Part::Tok(tok));
        rest = &rest[c.len_utf8()..];
    }
    parts
}

/// Parses the inside of a `${…}` (`body` starts right after `${`). Returns the part and how
/// many bytes of `body` it used.
fn parse_variable(body: &str) -> (Part, usize) {
    // The name runs to the first ',' or '}'.
    let Some(end) = body.find([',', '}']) else {
        return (Part::Broken, body.len());
    };
    let name = body[..end].trim();
    if body.as_bytes()[end] == b'}' {
        let part = match name {
            "*" => Part::Tok(Tok::Char('*')),
            "?" => Part::Tok(Tok::Char('?')),
            "$" => Part::Tok(Tok::Char('$')),
            _ => variable(name, None),
        };
        return (part, end + 1);
    }
    // `${name, 'default'}`: the default is quoted with single quotes, '' inside stands for '.
    let after_comma = &body[end + 1..];
    let trimmed = after_comma.trim_start();
    let mut used = end + 1 + (after_comma.len() - trimmed.len());
    let Some(quoted) = trimmed.strip_prefix('\'') else {
        return broken_to_brace(body, used);
    };
    used += 1;
    let mut default = String::new();
    let mut chars = quoted.char_indices().peekable();
    let mut closed_at = None;
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if matches!(chars.peek(), Some((_, '\''))) {
                default.push('\'');
                chars.next();
            } else {
                closed_at = Some(i + 1);
                break;
            }
        } else {
            default.push(c);
        }
    }
    let Some(closed_at) = closed_at else {
        return (Part::Broken, body.len());
    };
    used += closed_at;
    let tail = &body[used..];
    let tail_trimmed = tail.trim_start();
    used += tail.len() - tail_trimmed.len();
    if !tail_trimmed.starts_with('}') {
        return broken_to_brace(body, used);
    }
    (variable(name, Some(default)), used + 1)
}

fn broken_to_brace(body: &str, from: usize) -> (Part, usize) {
    match body[from..].find('}') {
        Some(i) => (Part::Broken, from + i + 1),
        None => (Part::Broken, body.len()),
    }
}

fn variable(name: &str, default: Option<String>) -> Part {
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Part::Broken;
    }
    Part::Var {
        key: name.to_lowercase(),
        default,
    }
}

/// Character equality, optionally case-insensitive (Unicode simple lower-casing).
#[inline]
fn char_eq(a: char, b: char, fold: bool) -> bool {
    a == b || (fold && a.to_lowercase().eq(b.to_lowercase()))
}

/// Whole-string equality, optionally case-insensitive.
pub(crate) fn literal_eq(a: &str, b: &str, fold: bool) -> bool {
    if fold {
        a.len() == b.len() && a.eq_ignore_ascii_case(b)
            || a.chars()
                .flat_map(char::to_lowercase)
                .eq(b.chars().flat_map(char::to_lowercase))
    } else {
        a == b
    }
}

/// Wildcard matching without allocation: the classic two-pointer algorithm that remembers
/// the last `*` and retries from one character further on a mismatch. O(|pattern|·|text|)
/// at worst, linear for the common patterns.
pub(crate) fn glob_match(pattern: &[Tok], text: &str, fold: bool) -> bool {
    let mut p = 0usize;
    let mut t = 0usize;
    // (pattern index after the last '*', text index that '*' currently extends to)
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let c = match text[t..].chars().next() {
            Some(c) => c,
            None => return false,
        };
        if p < pattern.len() {
            match &pattern[p] {
                Tok::AnyRun => {
                    star = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                Tok::AnyOne => {
                    p += 1;
                    t += c.len_utf8();
                    continue;
                }
                Tok::Char(pc) if char_eq(*pc, c, fold) => {
                    p += 1;
                    t += c.len_utf8();
                    continue;
                }
                Tok::Char(_) => {}
            }
        }
        match star {
            Some((sp, st)) => {
                let skipped = text[st..].chars().next().map_or(1, char::len_utf8);
                star = Some((sp, st + skipped));
                p = sp;
                t = st + skipped;
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|tok| *tok == Tok::AnyRun)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIKE: Syntax = Syntax {
        wildcards: true,
        variables: true,
    };
    const EQUALS: Syntax = Syntax {
        wildcards: false,
        variables: true,
    };
    const OLD: Syntax = Syntax {
        wildcards: true,
        variables: false,
    };

    fn glob(text: &str) -> Glob {
        match Pattern::parse(text, LIKE) {
            Pattern::Fixed(g) => g,
            Pattern::Template(_) => panic!("{text} should have no variables"),
        }
    }

    #[test]
    fn star_alone_matches_everything_including_empty() {
        assert_eq!(glob("*"), Glob::Any);
        assert!(glob("*").matches("", false));
        assert!(glob("*").matches("arn:aws:kms:us-east-1:111122223333:key/x", false));
    }

    #[test]
    fn star_matches_any_run_and_question_mark_exactly_one_character() {
        assert!(glob("kms:Gen*").matches("kms:GenerateDataKey", false));
        assert!(glob("kms:Gen*").matches("kms:Gen", false));
        assert!(!glob("kms:Gen*").matches("kms:Encrypt", false));
        assert!(glob("a?c").matches("abc", false));
        assert!(!glob("a?c").matches("ac", false));
        assert!(!glob("a?c").matches("abbc", false));
        assert!(glob("a*b*c").matches("aXXbYYc", false));
        assert!(glob("a*b*c").matches("abc", false));
        assert!(!glob("a*b*c").matches("aXXcYYb", false));
        assert!(glob("*a").matches("aaaa", false));
        assert!(!glob("*a").matches("aaab", false));
        assert!(glob("**").matches("", false));
        assert!(glob("?*").matches("x", false));
        assert!(!glob("?*").matches("", false));
    }

    #[test]
    fn question_mark_consumes_one_multibyte_character() {
        assert!(glob("caf?").matches("café", false));
        assert!(glob("*é").matches("café", false));
        assert!(!glob("caf??").matches("café", false));
    }

    #[test]
    fn fold_compares_case_insensitively_only_when_asked() {
        assert!(glob("kms:gen*").matches("KMS:GenerateDataKey", true));
        assert!(!glob("kms:gen*").matches("KMS:GenerateDataKey", false));
        assert!(literal_eq("ÄBC", "äbc", true));
        assert!(!literal_eq("ÄBC", "äbc", false));
    }

    #[test]
    fn without_wildcard_syntax_star_and_question_mark_are_plain_characters() {
        let Pattern::Fixed(g) = Pattern::parse("a*?", EQUALS) else {
            panic!("no variables")
        };
        assert_eq!(g, Glob::Literal("a*?".into()));
        assert!(!g.matches("abc", false));
        assert!(g.matches("a*?", false));
    }

    #[test]
    fn escapes_produce_literal_special_characters() {
        let Pattern::Fixed(g) = Pattern::parse("a${*}b${?}c${$}", LIKE) else {
            panic!("escapes are not variables")
        };
        assert_eq!(g, Glob::Literal("a*b?c$".into()));
        assert!(!g.matches("aXbYc$", false));
    }

    #[test]
    fn variables_parse_with_lowercased_keys_and_quoted_defaults() {
        assert_eq!(
            parse_parts("${aws:UserName}", LIKE),
            vec![Part::Var {
                key: "aws:username".into(),
                default: None
            }]
        );
        assert_eq!(
            parse_parts("${ aws:username , 'it''s }' }x", LIKE),
            vec![
                Part::Var {
                    key: "aws:username".into(),
                    default: Some("it's }".into())
                },
                Part::Tok(Tok::Char('x'))
            ]
        );
    }

    #[test]
    fn malformed_variables_are_broken() {
        assert_eq!(parse_parts("${aws:username", LIKE), vec![Part::Broken]);
        assert_eq!(parse_parts("${}", LIKE), vec![Part::Broken]);
        assert_eq!(parse_parts("${a b}", LIKE), vec![Part::Broken]);
        assert_eq!(
            parse_parts("${a, nope}z", LIKE),
            vec![Part::Broken, Part::Tok(Tok::Char('z'))]
        );
        assert_eq!(parse_parts("${a, 'unterminated}", LIKE), vec![Part::Broken]);
    }

    #[test]
    fn without_variable_syntax_dollar_brace_is_literal_text() {
        let Pattern::Fixed(g) = Pattern::parse("home/${aws:username}", OLD) else {
            panic!("2008-10-17 has no variables")
        };
        assert!(g.matches("home/${aws:username}", false));
    }
}
