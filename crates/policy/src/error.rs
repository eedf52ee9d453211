//! Why a policy document was refused. Every variant becomes a
//! MalformedPolicyDocumentException whose message is this error's `Display`.

/// Where in the document a problem is: the statement's `Sid` if it has one, else its
/// position (0-based, as in the `Statement` array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    /// Position in the `Statement` array (0 for a lone statement object).
    pub index: usize,
    /// The statement's `Sid`, if any.
    pub sid: Option<String>,
}

impl std::fmt::Display for StatementRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sid {
            Some(sid) => write!(f, "statement {sid:?}"),
            None => write!(f, "statement {}", self.index),
        }
    }
}

/// A policy document that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document is longer than the caller's limit (32768 bytes for key policies).
    #[error("The policy document is {size} bytes, more than the {limit} bytes allowed.")]
    TooLarge {
        /// The document's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Not JSON at all.
    #[error("The policy document is not valid JSON: {0}")]
    InvalidJson(String),
    /// JSON, but not an object.
    #[error("The policy document must be a JSON object.")]
    NotAnObject,
    /// An element the policy grammar does not have.
    #[error("The policy document contains an unknown element {element:?}{}.", in_statement(.statement))]
    UnknownElement {
        /// The element's name as written.
        element: String,
        /// The statement it is in (`None`: at the top level).
        statement: Option<StatementRef>,
    },
    /// `Version` is neither `2012-10-17` nor `2008-10-17`.
    #[error("The policy Version {0:?} is not supported; use \"2012-10-17\" (or \"2008-10-17\").")]
    InvalidVersion(String),
    /// No `Statement`.
    #[error("The policy document has no Statement element.")]
    MissingStatement,
    /// A required element is missing (`Effect`, `Action`/`NotAction`, …).
    #[error("The policy document is missing the {element} element in {statement}.")]
    MissingElement {
        /// What is missing, e.g. `Effect` or `Action or NotAction`.
        element: &'static str,
        /// Where.
        statement: StatementRef,
    },
    /// An element and its negation together (`Action` and `NotAction`, …).
    #[error(
        "The policy document has both {element} and Not{element} in {statement}; use one of them."
    )]
    ConflictingElements {
        /// `Action`, `Resource` or `Principal`.
        element: &'static str,
        /// Where.
        statement: StatementRef,
    },
    /// An element whose value has the wrong shape or content.
    #[error("The policy document has an invalid {element} in {statement}: {reason}")]
    InvalidElement {
        /// The element, e.g. `Effect`, `Action`, `Sid`.
        element: &'static str,
        /// Where (`None`: at the top level).
        statement: StatementRefOrTop,
        /// What is wrong.
        reason: String,
    },
    /// An identity policy names a principal (IAM's own wording).
    #[error("Policy document should not specify a principal.")]
    PrincipalNotAllowed {
        /// Where.
        statement: StatementRef,
    },
    /// A key (resource) policy statement without `Principal` or `NotPrincipal`.
    #[error("The policy document is missing the Principal element in {statement}; a key policy must name a principal.")]
    MissingPrincipal {
        /// Where.
        statement: StatementRef,
    },
    /// A principal that is not `*`, an account id, an IAM principal ARN or a service name
    /// (KMS's own wording).
    #[error("Policy contains a statement with one or more invalid principals.")]
    InvalidPrincipal {
        /// The offending value.
        value: String,
        /// Where.
        statement: StatementRef,
    },
    /// `NotPrincipal` with `"Effect": "Allow"`, which AWS does not support.
    #[error("NotPrincipal can only be used with \"Effect\": \"Deny\" ({statement}).")]
    NotPrincipalWithAllow {
        /// Where.
        statement: StatementRef,
    },
    /// A condition operator the grammar does not have.
    #[error("The policy document has an unknown condition operator {operator:?} in {statement}.")]
    UnknownConditionOperator {
        /// The operator as written.
        operator: String,
        /// Where.
        statement: StatementRef,
    },
    /// A condition value that its operator cannot read (not a number, date, CIDR, …).
    #[error("The policy document has an invalid value {value:?} for {operator} on condition key {key:?} in {statement}: {reason}")]
    InvalidConditionValue {
        /// The operator as written.
        operator: String,
        /// The condition key as written.
        key: String,
        /// The value as written.
        value: String,
        /// What is wrong.
        reason: &'static str,
        /// Where.
        statement: StatementRef,
    },
}

/// A location that may be the top level of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRefOrTop(pub Option<StatementRef>);

impl std::fmt::Display for StatementRefOrTop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(s) => s.fmt(f),
            None => f.write_str("the policy"),
        }
    }
}

fn in_statement(statement: &Option<StatementRef>) -> String {
    match statement {
        Some(s) => format!(" in {s}"),
        None => String::new(),
    }
}
