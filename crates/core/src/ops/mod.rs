//! The KMS operations, by family.

pub mod aliases;
pub mod asymmetric;
pub mod crypto;
pub mod grants;
pub mod imports;
pub mod keys;
pub mod lifecycle;
pub mod mac;
pub mod multi_region;
pub mod policies;
pub mod tags;

/// A page of a listing: the items, and the marker of the next page when there is one.
#[derive(Debug)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `Marker` to get the next page; `None` on the last page.
    pub next_marker: Option<String>,
}

/// AWS's default page size for KMS listings.
pub const DEFAULT_LIMIT: usize = 100;

/// The effective page size for an optional `Limit` (the model bounds it to 1..=1000).
pub fn page_limit(limit: Option<i32>) -> usize {
    limit
        .map(|l| l.clamp(1, 1000) as usize)
        .unwrap_or(DEFAULT_LIMIT)
}

/// Pages a sorted list by position: the marker is the index of the next item.
pub fn page_by_index<T>(
    items: Vec<T>,
    marker: Option<&str>,
    limit: usize,
) -> Result<Page<T>, crate::CoreError> {
    let start = match marker {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|s| *s <= items.len())
            .ok_or_else(|| crate::CoreError::InvalidMarker("Invalid marker".to_string()))?,
    };
    let total = items.len();
    let items: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start + items.len();
    Ok(Page {
        items,
        next_marker: (end < total).then(|| end.to_string()),
    })
}
