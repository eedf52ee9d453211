//! TagResource, UntagResource, ListResourceTags.

use crate::action::Action;
use crate::caller::Caller;
use crate::error::CoreError;
use crate::kms::Kms;
use crate::model::Tag;
use crate::ops::{page_by_index, page_limit, Page};

/// The most tags one key may carry.
pub const MAX_TAGS: usize = 50;

/// Checks tags a caller wants to add: no reserved `aws:` keys, at most 50 at once.
pub fn check_tags(tags: &[Tag]) -> Result<(), CoreError> {
    if tags
        .iter()
        .any(|t| t.key.to_ascii_lowercase().starts_with("aws:"))
    {
        return Err(CoreError::Tag(
            "Tags beginning with aws: are reserved.".into(),
        ));
    }
    if tags.len() > MAX_TAGS {
        return Err(CoreError::LimitExceeded(format!(
            "A KMS key can have at most {MAX_TAGS} tags."
        )));
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
        self.update_key(key.key_id, move |k| {
            crate::key_state::check(action, k)?;
            for t in tags {
                match k.tags.iter_mut().find(|o| o.key == t.key) {
                    Some(existing) => existing.value = t.value,
                    None => k.tags.push(t),
                }
            }
            if k.tags.len() > MAX_TAGS {
                return Err(CoreError::LimitExceeded(format!(
                    "A KMS key can have at most {MAX_TAGS} tags."
                )));
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
            return Err(CoreError::Tag(
                "Tags beginning with aws: are reserved.".into(),
            ));
        }
        let action = Action::UntagResource;
        let key = self.usable_key(caller, key_id, action).await?.record;
        self.update_key(key.key_id, move |k| {
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
