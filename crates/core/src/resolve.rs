//! Key references: the four ways AWS lets a caller name a key (key id, key ARN, alias name,
//! alias ARN), parsed once into [`KeyRef`].

use crate::error::CoreError;
use crate::model::{AccountId, KeyId};

/// A parsed key reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyRef {
    /// A key by id, in the given account (the caller's unless an ARN named another).
    Key {
        /// The account.
        account: Option<AccountId>,
        /// The key's id.
        key_id: KeyId,
    },
    /// An alias by name (with `alias/`), in the given account.
    Alias {
        /// The account.
        account: Option<AccountId>,
        /// The alias name.
        alias_name: String,
    },
}

impl KeyRef {
    /// Parses `1234abcd-…`, `arn:aws:kms:REGION:ACCOUNT:key/…`, `alias/NAME` or
    /// `arn:aws:kms:REGION:ACCOUNT:alias/NAME`. An ARN of another Region names nothing here.
    pub fn parse(text: &str, region: &str) -> Result<KeyRef, CoreError> {
        if let Some(rest) = text.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [partition, service, arn_region, account, resource] = parts[..] else {
                return Err(CoreError::NotFound(format!("Invalid arn {text}")));
            };
            if !partition.starts_with("aws") || service != "kms" {
                return Err(CoreError::NotFound(format!("Invalid arn {text}")));
            }
            let account = AccountId::parse(account)
                .map_err(|_| CoreError::NotFound(format!("Invalid arn {text}")))?;
            if arn_region != region {
                return Err(CoreError::NotFound(format!("Invalid arn {arn_region}")));
            }
            if let Some(id) = resource.strip_prefix("key/") {
                let key_id = KeyId::parse(id)
                    .ok_or_else(|| CoreError::NotFound(format!("Invalid keyId '{id}'")))?;
                return Ok(KeyRef::Key {
                    account: Some(account),
                    key_id,
                });
            }
            if resource.starts_with("alias/") {
                return Ok(KeyRef::Alias {
                    account: Some(account),
                    alias_name: resource.to_string(),
                });
            }
            return Err(CoreError::NotFound(format!("Invalid arn {text}")));
        }
        if text.starts_with("alias/") {
            return Ok(KeyRef::Alias {
                account: None,
                alias_name: text.to_string(),
            });
        }
        KeyId::parse(text)
            .map(|key_id| KeyRef::Key {
                account: None,
                key_id,
            })
            .ok_or_else(|| CoreError::NotFound(format!("Invalid keyId '{text}'")))
    }

    /// Whether the caller named the key through an alias.
    pub fn is_alias(&self) -> bool {
        matches!(self, KeyRef::Alias { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn all_four_forms_parse() {
        let acct = AccountId::parse("111122223333").unwrap();
        let key_id = KeyId::parse(ID).unwrap();
        assert_eq!(
            KeyRef::parse(ID, "us-east-1").unwrap(),
            KeyRef::Key {
                account: None,
                key_id
            }
        );
        assert_eq!(
            KeyRef::parse(
                &format!("arn:aws:kms:us-east-1:111122223333:key/{ID}"),
                "us-east-1"
            )
            .unwrap(),
            KeyRef::Key {
                account: Some(acct.clone()),
                key_id
            }
        );
        assert_eq!(
            KeyRef::parse("alias/app", "us-east-1").unwrap(),
            KeyRef::Alias {
                account: None,
                alias_name: "alias/app".into()
            }
        );
        assert_eq!(
            KeyRef::parse("arn:aws:kms:us-east-1:111122223333:alias/app", "us-east-1").unwrap(),
            KeyRef::Alias {
                account: Some(acct),
                alias_name: "alias/app".into()
            }
        );
    }

    #[test]
    fn well_formed_multi_region_ids_parse_and_others_are_invalid() {
        let mrk = "mrk-d3b95762d3b95762d3b95762d3b95762";
        assert_eq!(
            KeyRef::parse(mrk, "us-east-1").unwrap(),
            KeyRef::Key {
                account: None,
                key_id: KeyId::parse(mrk).unwrap()
            }
        );
        assert!(matches!(
            KeyRef::parse(
                &format!("arn:aws:kms:us-east-1:111122223333:key/{mrk}"),
                "us-east-1"
            ),
            Ok(KeyRef::Key {
                account: Some(_),
                key_id,
            }) if key_id.is_multi_region()
        ));
        for bad in [
            "mrk-fake-key-id",
            "mrk-D3B95762D3B95762D3B95762D3B95762",
            "mrk-",
        ] {
            assert!(
                matches!(KeyRef::parse(bad, "us-east-1"), Err(CoreError::NotFound(m)) if m == format!("Invalid keyId '{bad}'")),
                "{bad}"
            );
        }
    }

    #[test]
    fn malformed_references_are_not_found() {
        for bad in [
            "nope",
            "1234abcd-12ab-34cd-56ef-1234567890abX",
            "arn:aws:kms:us-east-1:1111:key/x",
            "arn:aws:s3:us-east-1:111122223333:key/x",
            "arn:aws:kms:eu-west-1:111122223333:alias/app",
            "arn:aws:kms",
        ] {
            assert!(
                matches!(KeyRef::parse(bad, "us-east-1"), Err(CoreError::NotFound(_))),
                "{bad}"
            );
        }
    }
}
