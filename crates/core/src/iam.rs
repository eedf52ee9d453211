//! IAM principals of an account: users and roles, their inline (identity) policies and tags,
//! named as IAM names them. Access keys are [`crate::model::AccessKeyRecord`]s whose
//! `principal_arn` is the user's ARN (or the account root's).
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)] // guard rails: lifted after the IAM refactor lands

use std::fmt;

use time::OffsetDateTime;

use crate::error::CoreError;
use crate::model::{AccountId, Tag};

/// An IAM user (IAM's `User`).
#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    pub account_id: AccountId,
    /// `/` or `/division/…/`; part of the ARN.
    pub path: String,
    /// Unique in the account, compared case-insensitively as IAM does.
    pub user_name: String,
    /// `AIDA…`: stable and unique, never reused (`aws:userid`).
    pub user_id: String,
    pub create_date: OffsetDateTime,
    pub tags: Vec<Tag>,
}

impl UserRecord {
    /// `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    pub fn arn(&self) -> String {
        principal_arn(
            &self.account_id,
            PrincipalKind::User,
            &self.path,
            &self.user_name,
        )
    }
}

/// An IAM role (IAM's `Role`).
#[derive(Clone, Debug, PartialEq)]
pub struct RoleRecord {
    pub account_id: AccountId,
    /// `/` or `/division/…/`; part of the ARN.
    pub path: String,
    /// Unique in the account, compared case-insensitively as IAM does.
    pub role_name: String,
    /// `AROA…`: stable and unique, never reused.
    pub role_id: String,
    pub create_date: OffsetDateTime,
    /// The trust policy: who may assume the role (a resource policy with principals).
    pub assume_role_policy_document: String,
    pub description: Option<String>,
    /// The longest session AssumeRole may grant, in seconds (3600..=43200).
    pub max_session_duration: u32,
    pub tags: Vec<Tag>,
}

impl RoleRecord {
    /// `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    pub fn arn(&self) -> String {
        principal_arn(
            &self.account_id,
            PrincipalKind::Role,
            &self.path,
            &self.role_name,
        )
    }
}

/// Which kind of IAM principal an inline policy is embedded in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalKind {
    User,
    Role,
}

impl PrincipalKind {
    /// The word IAM ARNs use: `user` or `role`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Role => "role",
        }
    }

    /// Parses [`PrincipalKind::as_str`].
    pub fn parse(s: &str) -> Option<PrincipalKind> {
        match s {
            "user" => Some(PrincipalKind::User),
            "role" => Some(PrincipalKind::Role),
            _ => None,
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An inline policy embedded in a user or role (PutUserPolicy, PutRolePolicy).
#[derive(Clone, Debug, PartialEq)]
pub struct InlinePolicyRecord {
    pub account_id: AccountId,
    pub principal_kind: PrincipalKind,
    /// The user or role name it is embedded in.
    pub principal_name: String,
    pub policy_name: String,
    /// The JSON document as the caller sent it.
    pub policy_document: String,
}

/// `arn:aws:iam::ACCOUNT:KIND/PATH/NAME` (the path `/` adds nothing).
pub fn principal_arn(account: &AccountId, kind: PrincipalKind, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{}{path}{name}", kind.as_str())
}

/// `arn:aws:iam::ACCOUNT:root`.
pub fn root_arn(account: &AccountId) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// Prefix of a user id.
pub const USER_ID_PREFIX: &str = "AIDA";
/// Prefix of a role id.
pub const ROLE_ID_PREFIX: &str = "AROA";
/// Prefix of a long-term access key id.
pub const ACCESS_KEY_ID_PREFIX: &str = "AKIA";
/// Prefix of a temporary (session) access key id.
pub const SESSION_KEY_ID_PREFIX: &str = "ASIA";

/// A unique id in IAM's shape: `prefix` followed by random characters of `[A-Z2-7]`, 21
/// characters in all for ids (`AIDA…`, `AROA…`) and 20 for access key ids (`AKIA…`, `ASIA…`).
pub fn new_unique_id(prefix: &str, len: usize) -> Result<String, CoreError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let n = len.saturating_sub(prefix.len());
    let mut random = vec![0u8; n];
    trent_crypto::random::fill(&mut random)?;
    let mut id = String::with_capacity(len);
    id.push_str(prefix);
    id.extend(
        random
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % 32] as char),
    );
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_carry_the_path() {
        let a = AccountId::parse("111122223333").unwrap();
        assert_eq!(
            principal_arn(&a, PrincipalKind::User, "/", "alice"),
            "arn:aws:iam::111122223333:user/alice"
        );
        assert_eq!(
            principal_arn(&a, PrincipalKind::Role, "/ops/", "Admin"),
            "arn:aws:iam::111122223333:role/ops/Admin"
        );
        assert_eq!(root_arn(&a), "arn:aws:iam::111122223333:root");
    }

    #[test]
    fn unique_ids_have_iam_shape_and_differ() {
        let a = new_unique_id(USER_ID_PREFIX, 21).unwrap();
        let b = new_unique_id(USER_ID_PREFIX, 21).unwrap();
        assert_eq!(a.len(), 21);
        assert!(a.starts_with("AIDA"));
        assert!(a[4..]
            .bytes()
            .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)));
        assert_ne!(a, b);
        assert_eq!(new_unique_id(SESSION_KEY_ID_PREFIX, 20).unwrap().len(), 20);
    }
}
