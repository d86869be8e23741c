//! The JWK Set each node serves: read from the database, so every node serves a key as soon as
//! it is made, and cacheable only as long as no key missing from it can sign.

use std::sync::PoisonError;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::*;
use crate::db::Db;

/// A JWK Set to serve, and how long a relying party may keep it.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwks {
    pub keys: serde_json::Value,
    pub max_age: Duration,
}

/// How long a JWK Set read from the database at `read_at` may be kept from `now`: a key it lacks
/// was made after `read_at`, so signs from `read_at` + [`SIGN_AFTER_PUBLISHED`] - [`CLOCK_SKEW`]
/// (= [`JWKS_CACHE`] + [`JWKS_MAX_AGE`]) at the earliest; no copy may be held by then. A set just
/// read may be kept the full [`JWKS_MAX_AGE`].
fn cacheable_for(read_at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    let complete_until = read_at + JWKS_MAX_AGE + JWKS_CACHE;
    (complete_until - now)
        .to_std()
        .unwrap_or_default()
        .min(JWKS_MAX_AGE)
}

impl Assertions {
    /// The published public keys as an RFC 7517 JWK Set (RFC 8037 OKP keys), as this node
    /// loaded them.
    pub fn jwks(&self) -> serde_json::Value {
        jwks_of(&self.current())
    }

    /// The JWK Set of the keys published in the database, read at most every [`JWKS_CACHE`]: a
    /// key rotated by any process is served within that, whatever this node signs with. If the
    /// database cannot answer, the keys this node loaded, to be kept only as long as no key it
    /// lacks can sign.
    pub async fn published_jwks(&self, db: &Db, now: DateTime<Utc>) -> Jwks {
        if let Some(jwks) = self.cached_jwks(now) {
            return jwks;
        }
        let _refreshing = self.inner.jwks_refresh.lock().await;
        // Whoever held the lock before may have just read them.
        if let Some(jwks) = self.cached_jwks(now) {
            return jwks;
        }
        match keys::published_jwks(db, now).await {
            Ok(keys) => {
                *self
                    .inner
                    .jwks
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some((now, keys.clone()));
                Jwks {
                    keys,
                    max_age: cacheable_for(now, now),
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not read the signing keys; serving those loaded");
                let set = self.current();
                Jwks {
                    keys: jwks_of(&set),
                    max_age: cacheable_for(set.read_at, now),
                }
            }
        }
    }

    fn cached_jwks(&self, now: DateTime<Utc>) -> Option<Jwks> {
        let cache_for = chrono::TimeDelta::from_std(JWKS_CACHE).unwrap_or_default();
        let cached = self
            .inner
            .jwks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        cached
            .as_ref()
            .filter(|(at, _)| *at <= now && now - *at < cache_for)
            .map(|(at, keys)| Jwks {
                keys: keys.clone(),
                max_age: cacheable_for(*at, now),
            })
    }
}

fn jwks_of(set: &KeySet) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = set.published.iter().map(|k| jwk(&k.kid, &k.key)).collect();
    serde_json::json!({ "keys": keys })
}
