//! Bounded in-memory caches that keep the hot path free of database reads: key records,
//! unwrapped key material of every key spec (a `KeyMaterial`; its secret buffers are zeroized
//! when the last reference is evicted) and alias targets.

use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::Arc;

use lru::LruCache;
use parking_lot::Mutex;

/// A small thread-safe LRU map of shared values.
pub struct Cache<K: Hash + Eq, V> {
    inner: Mutex<LruCache<K, Arc<V>>>,
}

impl<K: Hash + Eq, V> Cache<K, V> {
    /// A cache holding at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity.max(1)).unwrap_or(NonZeroUsize::MIN);
        Cache {
            inner: Mutex::new(LruCache::new(cap)),
        }
    }

    /// The cached value, if any.
    pub fn get(&self, k: &K) -> Option<Arc<V>> {
        self.inner.lock().get(k).cloned()
    }

    /// Inserts or replaces a value.
    pub fn put(&self, k: K, v: Arc<V>) {
        self.inner.lock().put(k, v);
    }

    /// Inserts unless the cached value is preferred by `keep_existing(existing, new)`.
    pub fn put_unless(&self, k: K, v: Arc<V>, keep_existing: impl Fn(&V, &V) -> bool) {
        let mut guard = self.inner.lock();
        if let Some(existing) = guard.peek(&k) {
            if keep_existing(existing, &v) {
                return;
            }
        }
        guard.put(k, v);
    }

    /// Drops every value.
    pub fn clear(&self) {
        self.inner.lock().clear();
    }

    /// Drops a value.
    pub fn remove(&self, k: &K) {
        self.inner.lock().pop(k);
    }

    /// Drops every entry whose key matches.
    pub fn remove_where(&self, mut matches: impl FnMut(&K, &V) -> bool)
    where
        K: Clone,
    {
        let mut guard = self.inner.lock();
        let doomed: Vec<K> = guard
            .iter()
            .filter(|(k, v)| matches(k, v))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            guard.pop(&k);
        }
    }
}
