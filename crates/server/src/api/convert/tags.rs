//! TagResource, UntagResource and ListResourceTags: mirrors `trent_core::ops::tags`.

use serde_json::Value;
use trent_core::{Caller, Kms};
use trent_wire::types::*;

use super::{decode, tags_in, Outcome};
use crate::api::errors::ApiError;

/// TagResource.
pub(super) async fn tag_resource(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: TagResourceRequest = decode(v)?;
    kms.tag_resource(caller, &r.key_id, tags_in(Some(r.tags)))
        .await?;
    Ok(Outcome::empty(None))
}

/// UntagResource.
pub(super) async fn untag_resource(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: UntagResourceRequest = decode(v)?;
    kms.untag_resource(caller, &r.key_id, r.tag_keys).await?;
    Ok(Outcome::empty(None))
}

/// ListResourceTags.
pub(super) async fn list_resource_tags(
    kms: &Kms,
    caller: &Caller,
    v: Value,
) -> Result<Outcome, ApiError> {
    let r: ListRequest = decode(v)?;
    let key_id = r.key_id.unwrap_or_default();
    let page = kms
        .list_resource_tags(caller, &key_id, r.limit, r.marker.as_deref())
        .await?;
    Outcome::json(
        &ListResourceTagsResponse {
            tags: page
                .items
                .into_iter()
                .map(|t| trent_wire::types::Tag {
                    tag_key: t.key,
                    tag_value: t.value,
                })
                .collect(),
            truncated: page.next_marker.is_some(),
            next_marker: page.next_marker,
        },
        None,
    )
}
