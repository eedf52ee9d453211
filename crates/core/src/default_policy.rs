//! AWS's default key policy: the account root may do everything, which delegates access
//! to the account's IAM policies.

use crate::model::AccountId;

/// The default key policy for a key in `account`, byte for byte the shape AWS writes.
pub fn default_key_policy(account: &AccountId) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {{
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account}:root"
    }},
    "Action" : "kms:*",
    "Resource" : "*"
  }} ]
}}"#
    )
}
