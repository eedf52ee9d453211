//! The IAM/STS domain (ARCHITECTURE.md §5): users and roles of an account, their inline
//! (identity) policies and tags, access keys, quotas, AssumeRole's sessions, and who may do
//! what with them. No query protocol, XML or SQL: the server's `iam` module is the adapter
//! from AWS's query protocol to this, and the store is reached through core's `Store` port.
//!
//! - [`principal`]: what users and roles have in common ([`PrincipalRecord`]), so that the
//!   operations are written once for both;
//! - [`directory`]: [`Iam`], the domain's state (an in-memory cache of the store's principals
//!   and access keys) and authentication's lookups;
//! - [`access`]: authorization, through the one identity-policy evaluator;
//! - [`ops`]: the IAM operations; [`sts`]: AssumeRole; [`session`]: the sealed session token;
//! - [`policy`]: inline and trust policy documents; [`error`]: [`IamError`].
//!
//! Access keys are [`crate::model::AccessKeyRecord`]s whose `principal_arn` is the user's ARN
//! (or the account root's).

pub mod access;
pub mod directory;
pub mod error;
pub mod ops;
pub mod policy;
pub mod principal;
pub mod session;
pub mod sts;

use std::fmt;

use time::OffsetDateTime;
use zeroize::Zeroizing;

pub use access::{Authorized, IamCaller, KeyAction, KeyTarget, PrincipalAction};
pub use directory::{Iam, KeyOwner, OwnerKind};
pub use error::IamError;
pub use principal::{Draft, Entry, NewRole, NewUser, PrincipalEntry, PrincipalRecord};
pub use sts::IssuedSession;

use crate::error::CoreError;
use crate::model::{AccountId, Tag};

/// An IAM user (IAM's `User`).
#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    /// The account it belongs to.
    pub account_id: AccountId,
    /// `/` or `/division/…/`; part of the ARN.
    pub path: String,
    /// Unique in the account, compared case-insensitively as IAM does.
    pub user_name: String,
    /// `AIDA…`: stable and unique, never reused (`aws:userid`).
    pub user_id: String,
    /// When it was created.
    pub create_date: OffsetDateTime,
    /// Its tags (at most 50).
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
    /// The account it belongs to.
    pub account_id: AccountId,
    /// `/` or `/division/…/`; part of the ARN.
    pub path: String,
    /// Unique in the account, compared case-insensitively as IAM does.
    pub role_name: String,
    /// `AROA…`: stable and unique, never reused.
    pub role_id: String,
    /// When it was created.
    pub create_date: OffsetDateTime,
    /// The trust policy: who may assume the role (a resource policy with principals).
    pub assume_role_policy_document: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// The longest session AssumeRole may grant, in seconds (3600..=43200).
    pub max_session_duration: u32,
    /// Its tags (at most 50).
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
    /// An IAM user.
    User,
    /// An IAM role.
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
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Whether it is embedded in a user or a role.
    pub principal_kind: PrincipalKind,
    /// The user or role name it is embedded in.
    pub principal_name: String,
    /// Its name, unique for the principal.
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

/// A secret access key in AWS's shape: 40 characters of `[A-Za-z0-9+/]`.
pub fn new_secret_access_key() -> Result<Zeroizing<String>, CoreError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut random = Zeroizing::new([0u8; 40]);
    trent_crypto::random::fill(&mut random[..])?;
    Ok(Zeroizing::new(
        random
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % 64] as char)
            .collect(),
    ))
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

    #[test]
    fn secret_access_keys_have_aws_shape_and_differ() {
        let a = new_secret_access_key().unwrap();
        let b = new_secret_access_key().unwrap();
        assert_eq!(a.len(), 40);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/'));
        assert_ne!(*a, *b);
    }
}
