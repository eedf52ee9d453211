//! IAM's policy documents as the IAM domain reads them: inline (identity) policies, trust
//! policies, and the sizes IAM's quotas count.

use trent_policy::{Policy, PolicyKind};

use super::error::IamError;

/// The largest inline policy document IAM's model accepts, in bytes.
pub const POLICY_DOCUMENT_MAX_BYTES: usize = 131_072;

/// Parses an identity (inline) policy as IAM does; what is wrong is `MalformedPolicyDocument`.
pub fn parse_identity_policy(document: &str) -> Result<Policy, IamError> {
    Policy::parse(document, PolicyKind::Identity, POLICY_DOCUMENT_MAX_BYTES)
        .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))
}

/// Parses a role's trust policy. Its statements name principals and no resource (the role is
/// the resource), so each is evaluated as if it said `"Resource": "*"`; a statement with a
/// `Resource` is refused, as IAM refuses it (`MalformedPolicyDocument`).
pub fn parse_trust_policy(document: &str) -> Result<Policy, IamError> {
    let malformed = IamError::MalformedPolicyDocument;
    let mut value: serde_json::Value = serde_json::from_str(document)
        .map_err(|e| malformed(format!("The policy document is not valid JSON: {e}")))?;
    let statements = match value.get_mut("Statement") {
        Some(serde_json::Value::Array(items)) => items.iter_mut().collect::<Vec<_>>(),
        Some(single @ serde_json::Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    for statement in statements {
        if let serde_json::Value::Object(obj) = statement {
            if obj.contains_key("Resource") || obj.contains_key("NotResource") {
                return Err(malformed("Has prohibited field Resource".into()));
            }
            obj.insert("Resource".into(), serde_json::Value::String("*".into()));
        }
    }
    Policy::parse(
        &value.to_string(),
        PolicyKind::Resource,
        POLICY_DOCUMENT_MAX_BYTES * 2,
    )
    .map_err(|e| malformed(e.to_string()))
}

/// Size of a trust policy, whitespace not counted (IAM's default quota).
pub const TRUST_POLICY_SIZE: usize = 2048;

/// A trust policy's size quota (`LimitExceeded`) and grammar (`MalformedPolicyDocument`).
pub fn check_trust_policy(document: &str) -> Result<(), IamError> {
    if policy_size([document]) > TRUST_POLICY_SIZE {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}"
        )));
    }
    parse_trust_policy(document).map(|_| ())
}

/// The size IAM counts for policy quotas: characters that are not whitespace.
pub fn policy_size<'a>(docs: impl IntoIterator<Item = &'a str>) -> usize {
    docs.into_iter()
        .map(|d| d.chars().filter(|c| !c.is_whitespace()).count())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: IamError) -> String {
        match e {
            IamError::MalformedPolicyDocument(m) => m,
            other => panic!("not MalformedPolicyDocument: {other:?}"),
        }
    }

    #[test]
    fn a_trust_policy_without_resource_parses_and_one_with_resource_is_refused() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#;
        assert!(parse_trust_policy(ok).is_ok());
        let bad = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow",
            "Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Resource":"*"}}"#;
        assert_eq!(
            message(parse_trust_policy(bad).unwrap_err()),
            "Has prohibited field Resource"
        );
        assert!(parse_trust_policy("nope").is_err());
    }

    #[test]
    fn an_identity_policy_naming_a_principal_is_refused() {
        let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow",
            "Principal":"*","Action":"iam:*","Resource":"*"}}"#;
        assert_eq!(
            message(parse_identity_policy(doc).unwrap_err()),
            "Policy document should not specify a principal."
        );
    }

    #[test]
    fn policy_size_ignores_whitespace() {
        assert_eq!(policy_size(["{ \"a\" : 1 }\n"]), 7);
    }

    #[test]
    fn a_trust_policy_over_its_quota_is_limit_exceeded() {
        let big = format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"sts:AssumeRole","Sid":"{}"}}}}"#,
            "a".repeat(TRUST_POLICY_SIZE)
        );
        assert!(matches!(
            check_trust_policy(&big),
            Err(IamError::LimitExceeded(_))
        ));
    }
}
