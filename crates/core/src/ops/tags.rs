//! TagResource, UntagResource, ListResourceTags.

use crate::action::Action;
use crate::caller::Caller;
use crate::error::CoreError;
use crate::kms::Kms;
use crate::model::Tag;
use crate::ops::{page_by_index, page_limit, Page};

/// The most tags one key may carry.
pub const MAX_TAGS: usize = 50;

/// AWS's TagException message for a tag key with the reserved `aws:` prefix (as LocalStack's
/// AWS-validated KMS tests record it, `localstack/services/kms/utils.py`).
pub const RESERVED_MESSAGE: &str = "Tags beginning with aws: are reserved";

/// AWS's TagException message for more than [`MAX_TAGS`] tags (the answer recorded from AWS
/// for CreateKey and TagResource; see `tests/aws-answers.md`).
pub const TOO_MANY_MESSAGE: &str = "Too many tags";

/// Trent's TagException message for one tag key given twice in a request. AWS refuses such
/// a request with TagException; no recording of its message was found.
pub const DUPLICATE_MESSAGE: &str = "Duplicate tag keys";

/// Checks tags a caller wants to add: no reserved `aws:` keys, no key twice, at most 50.
pub fn check_tags(tags: &[Tag]) -> Result<(), CoreError> {
    if tags
        .iter()
        .any(|t| t.key.to_ascii_lowercase().starts_with("aws:"))
    {
        return Err(CoreError::Tag(RESERVED_MESSAGE.into()));
    }
    let mut keys: Vec<&str> = tags.iter().map(|t| t.key.as_str()).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(CoreError::Tag(DUPLICATE_MESSAGE.into()));
    }
    if tags.len() > MAX_TAGS {
        return Err(CoreError::Tag(TOO_MANY_MESSAGE.into()));
    }
    Ok(())
}

impl Kms {
    /// TagResource: adds tags, replacing the values of keys already present.
    pub async fn tag_resource(
        &self,
        caller: &Caller,
        key_id: &str,
        tags: Vec<Tag>,
    ) -> Result<(), CoreError> {
        check_tags(&tags)?;
        let action = Action::TagResource;
        let key = self.usable_key(caller, key_id, action).await?.record;
        self.update_key(key.addr(), move |k| {
            crate::key_state::check(action, k)?;
            for t in tags {
                match k.tags.iter_mut().find(|o| o.key == t.key) {
                    Some(existing) => existing.value = t.value,
                    None => k.tags.push(t),
                }
            }
            if k.tags.len() > MAX_TAGS {
                return Err(CoreError::Tag(TOO_MANY_MESSAGE.into()));
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// UntagResource: removes tags by key; absent keys are ignored.
    pub async fn untag_resource(
        &self,
        caller: &Caller,
        key_id: &str,
        tag_keys: Vec<String>,
    ) -> Result<(), CoreError> {
        if tag_keys
            .iter()
            .any(|t| t.to_ascii_lowercase().starts_with("aws:"))
        {
            return Err(CoreError::Tag(RESERVED_MESSAGE.into()));
        }
        let action = Action::UntagResource;
        let key = self.usable_key(caller, key_id, action).await?.record;
        self.update_key(key.addr(), move |k| {
            crate::key_state::check(action, k)?;
            k.tags.retain(|t| !tag_keys.contains(&t.key));
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// ListResourceTags.
    pub async fn list_resource_tags(
        &self,
        caller: &Caller,
        key_id: &str,
        limit: Option<i32>,
        marker: Option<&str>,
    ) -> Result<Page<Tag>, CoreError> {
        let key = self
            .usable_key(caller, key_id, Action::ListResourceTags)
            .await?
            .record;
        page_by_index(key.tags.clone(), marker, page_limit(limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str) -> Tag {
        Tag {
            key: k.into(),
            value: "v".into(),
        }
    }

    fn message(r: Result<(), CoreError>) -> String {
        match r {
            Err(CoreError::Tag(m)) => m,
            other => panic!("expected TagException, got {other:?}"),
        }
    }

    #[test]
    fn duplicate_keys_reserved_keys_and_too_many_tags_are_tag_exceptions() {
        assert!(check_tags(&[tag("a"), tag("b")]).is_ok());
        assert_eq!(
            message(check_tags(&[tag("a"), tag("a")])),
            DUPLICATE_MESSAGE
        );
        assert_eq!(message(check_tags(&[tag("AWS:x")])), RESERVED_MESSAGE);
        let many: Vec<Tag> = (0..=MAX_TAGS).map(|i| tag(&format!("k{i}"))).collect();
        assert_eq!(message(check_tags(&many)), TOO_MANY_MESSAGE);
        assert!(check_tags(&many[..MAX_TAGS]).is_ok());
    }
}
