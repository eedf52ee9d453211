//! Regions (ARCHITECTURE.md §10): the Region of a request is its SigV4 credential scope's
//! Region, and all KMS state lives per (account, Region). The Regions a Trent serves by default
//! are the `aws` partition's, frozen here from botocore's endpoint data
//! (`botocore/data/endpoints.json`, `partitions[partition="aws"].regions`);
//! `tests/python/test_regions.py` compares this list to the data of the installed botocore.
//!
//! Region names are interned as `&'static str`, so every key lookup and cache entry can be
//! keyed by (Region, key id) ([`crate::model::KeyAddr`]) without an allocation per request.

use std::collections::BTreeSet;

use parking_lot::Mutex;

/// The `aws` partition's Regions (botocore's endpoint data), sorted.
pub static AWS_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Region names met outside [`AWS_REGIONS`] (a data dir initialised for another partition's
/// Region, `--regions` naming one). Bounded: only served Regions and the Regions of stored
/// rows reach it, never a name a client sends (the server refuses unserved Regions first).
static OTHER_REGIONS: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// The interned `&'static str` of a Region name.
pub fn intern(name: &str) -> &'static str {
    if let Ok(i) = AWS_REGIONS.binary_search(&name) {
        return AWS_REGIONS[i];
    }
    let mut others = OTHER_REGIONS.lock();
    if let Some(found) = others.get(name) {
        return found;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    others.insert(leaked);
    leaked
}

/// Whether `name` looks like a Region name: lowercase letters, digits and hyphens, starting
/// with a letter, at most 32 characters (e.g. `us-east-1`, `eusc-de-east-1`).
pub fn is_region_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frozen_list_is_sorted_and_unique_so_binary_search_finds_every_region() {
        assert!(AWS_REGIONS.windows(2).all(|w| w[0] < w[1]));
        for r in AWS_REGIONS {
            assert!(std::ptr::eq(intern(r), *r));
            assert!(is_region_name(r), "{r}");
        }
    }

    #[test]
    fn other_names_are_interned_once() {
        let a = intern("xx-test-9");
        let b = intern(&String::from("xx-test-9"));
        assert!(std::ptr::eq(a, b));
        assert_eq!(a, "xx-test-9");
    }

    #[test]
    fn region_names_are_lowercase_words_with_hyphens() {
        for bad in [
            "",
            "US-EAST-1",
            "us east 1",
            "-us",
            "us-",
            "1us",
            &"a".repeat(33),
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}
