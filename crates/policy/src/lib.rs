#![forbid(unsafe_code)]
//! The IAM policy language for Trent: AWS's JSON policy grammar, validation and evaluation,
//! and the KMS combination of key policy, identity policies and grants.
//!
//! A document is parsed once into a [`Policy`] ([`Policy::parse`], with a [`PolicyKind`]
//! saying whether statements must name a `Principal`, and a size limit); a
//! [`PolicyError`]'s message says what is wrong and becomes MalformedPolicyDocumentException.
//! Wildcards, numbers, dates, CIDR blocks and ARN patterns are read at parse time, so
//! [`Policy::evaluate`] allocates only for values that hold policy variables.
//!
//! [`Policy::evaluate`] answers one policy for a [`RequestContext`] (caller [`Principal`],
//! action, resource ARN and [`ContextKeys`]) with an [`Evaluation`]; [`authorize`] combines
//! a key policy, identity policies and a grant into a KMS [`Decision`] whose
//! [`Decision::access_denied_message`] is AWS's AccessDeniedException wording.
//!
//! ```
//! use trent_policy::{authorize, ContextKeys, Decision, Policy, PolicyKind, PolicyType,
//!     Principal, RequestContext, RequestFacts};
//!
//! let key_policy = Policy::parse_key_policy(r#"{
//!     "Version": "2012-10-17",
//!     "Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"},
//!                    "Action": "kms:*", "Resource": "*"}]}"#).unwrap();
//! let iam = Policy::parse(r#"{
//!     "Version": "2012-10-17",
//!     "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
//!                    "Condition": {"StringEquals": {"kms:EncryptionContext:Team": "${aws:PrincipalTag/Team}"}}}]}"#,
//!     PolicyKind::Identity, 6_144).unwrap();
//!
//! let alice = Principal::from_arn("arn:aws:iam::111122223333:user/alice").unwrap().with_tag("Team", "blue");
//! let mut keys = ContextKeys::new();
//! keys.insert("kms:EncryptionContext:Team", "blue");
//! let key_arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
//! let ctx = RequestContext { principal: &alice, action: "kms:Encrypt", resource: key_arn, keys: &keys };
//! assert_eq!(authorize(&key_policy, &[iam.clone()], &ctx, RequestFacts::default()), Decision::Allow);
//!
//! let decrypt = RequestContext { action: "kms:Decrypt", ..ctx };
//! let denied = authorize(&key_policy, &[iam], &decrypt, RequestFacts::default());
//! assert_eq!(denied, Decision::ImplicitDeny(PolicyType::IdentityBased));
//! assert!(denied.access_denied_message(alice.arn(), "kms:Decrypt", key_arn).unwrap()
//!     .ends_with("because no identity-based policy allows the kms:Decrypt action"));
//! ```

mod condition;
mod context;
mod document;
mod error;
mod evaluate;
mod kms;
mod pattern;

pub use context::{ContextKeys, InvalidPrincipalArn, Principal, PrincipalType, RequestContext};
pub use document::{Effect, Policy, PolicyKind, Statement, Version, KEY_POLICY_MAX_BYTES};
pub use error::{PolicyError, StatementRef, StatementRefOrTop};
pub use evaluate::Evaluation;
pub use kms::{authorize, Decision, PolicyType, RequestFacts};

#[cfg(test)]
mod test_support;
