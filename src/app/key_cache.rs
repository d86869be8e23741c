//! This node's memory of API keys it has authenticated, so that a verify — the request on every
//! login — costs one database statement, not two.
//!
//! A key found here is not proof that it is still active: it may have been revoked since, on
//! another node or with the CLI. Only a route whose own query re-checks the key may take it from
//! here — verify does, in the statement that loads the user's devices — and answers 401 when the
//! key is gone; every other route looks its key up each time. Revoking on this node evicts at
//! once.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::app::api_keys::ApiKey;

/// Keys remembered at most; beyond, the memory starts again (keys are few, this is a guard).
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct KeyCache {
    /// By the keyed hash of the presented key (never the key itself).
    keys: Mutex<HashMap<Vec<u8>, ApiKey>>,
}

impl KeyCache {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, ApiKey>> {
        // A panic elsewhere while holding the lock leaves a map that is still consistent.
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, hash: &[u8]) -> Option<ApiKey> {
        self.map().get(hash).cloned()
    }

    pub fn put(&self, hash: Vec<u8>, key: ApiKey) {
        let mut map = self.map();
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(hash, key);
    }

    /// Forgets the key with this id (revoked, or found gone by a re-check).
    pub fn evict(&self, id: &str) {
        self.map().retain(|_, k| k.id != id);
    }
}
