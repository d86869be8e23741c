//! Signing keys in the database: made, sealed, loaded, rotated, and refreshed in the background.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use super::*;
use crate::clock::Clock;
use crate::crypto::{self, CryptoError, Keys};
use crate::db::signing_keys::{self as queries, SigningKeyRow};
use crate::db::{Db, DbError};

/// Retires every active key and makes a new one, in one transaction (so no node ever sees zero
/// active keys); returns the new kid. Every node's JWKS serves it within [`JWKS_CACHE`]; nodes
/// sign with it from their first refresh after it has been published for [`SIGN_AFTER_PUBLISHED`],
/// and with the retired key (still published) until then.
pub async fn rotate(db: &Db, keys: &Keys, now: DateTime<Utc>) -> Result<String, AssertionError> {
    let row = new_key_row(keys, now)?;
    let kid = row.kid.clone();
    let at = now.naive_utc();
    db.run(move |conn| {
        crate::db::write_transaction(conn, |c| {
            queries::retire_all_active(c, at)?;
            queries::insert(c, &row)
        })
    })
    .await?;
    Ok(kid)
}

/// Refreshes the keys every [`REFRESH_INTERVAL`] until every clone of `assertions` is gone (or
/// the handle is aborted). A failed refresh keeps the keys loaded and is retried next time.
pub fn spawn_refresher(
    assertions: Assertions,
    db: Db,
    clock: Arc<dyn Clock>,
) -> tokio::task::JoinHandle<()> {
    spawn_refresher_every(assertions, db, clock, REFRESH_INTERVAL)
}

pub(super) fn spawn_refresher_every(
    assertions: Assertions,
    db: Db,
    clock: Arc<dyn Clock>,
    period: Duration,
) -> tokio::task::JoinHandle<()> {
    // Weak: the task must not be what keeps the key set alive.
    let weak = Arc::downgrade(&assertions.inner);
    drop(assertions);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate, and the keys were just loaded.
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(inner) = weak.upgrade() else { break };
            let assertions = Assertions { inner };
            if let Err(error) = assertions.refresh(&db, clock.now()).await {
                tracing::warn!(%error, "could not refresh the signing keys; keeping those loaded");
            }
        }
    })
}

/// What a signing key's private half is sealed to: its kid, named as a signing key.
pub fn sealing_context(kid: &str) -> Vec<u8> {
    format!("signing-key:{kid}").into_bytes()
}

/// Reads the published keys, making an active one first if there is none.
pub(super) async fn fetch(
    db: &Db,
    keys: &Keys,
    now: DateTime<Utc>,
    prev: Option<&KeySet>,
) -> Result<KeySet, AssertionError> {
    let retired_after = (now - PUBLISH_AFTER_RETIRE).naive_utc();
    let mut rows = list_published(db, retired_after).await?;
    if !rows.iter().any(|r| r.retired_at.is_none()) {
        let row = new_key_row(keys, now)?;
        tracing::info!(kid = %row.kid, "made a signing key");
        db.run(move |c| queries::insert(c, &row)).await?;
        // Re-read rather than push: a node starting beside us may have made one too.
        rows = list_published(db, retired_after).await?;
    }
    // Rows are newest first. A key signs once the JWKS has served it for longer than its cache,
    // so a relying party that meets its kid and fetches the JWKS finds it: until then the newest
    // key old enough signs, the active one first (a retired one is still published); if none is,
    // the one published longest. So a first key, with none before it, signs at once: no relying
    // party can hold a JWKS without it.
    let published_since = (now - SIGN_AFTER_PUBLISHED).naive_utc();
    let Some(active) = rows
        .iter()
        .filter(|r| r.created_at <= published_since)
        .min_by_key(|r| r.retired_at.is_some())
        .or_else(|| rows.last())
    else {
        // Only if the row just inserted vanished (deleted by hand); the next refresh retries.
        return Err(DbError::Query(diesel::result::Error::NotFound).into());
    };
    let signer = match prev {
        // Opening is cheap, but there is no reason to unseal a private key every minute.
        Some(prev) if prev.signer.kid == active.kid => ActiveKey {
            kid: active.kid.clone(),
            key: prev.signer.key.clone(),
        },
        _ => open_key(keys, active)?,
    };
    // Retired or not, the signer stays published PUBLISH_AFTER_RETIRE after its retirement, which
    // is now at the earliest (in the clock of whoever retires it).
    let retired = active.retired_at.map_or(now, |at| at.and_utc());
    let sign_until = retired + PUBLISH_AFTER_RETIRE - CLOCK_SKEW;
    let published = rows
        .iter()
        .filter_map(|r| {
            let key = <[u8; 32]>::try_from(r.public_key.as_slice())
                .ok()
                .and_then(|b| VerifyingKey::from_bytes(&b).ok());
            if key.is_none() {
                tracing::warn!(kid = %r.kid, "skipping a signing key with a malformed public key");
            }
            key.map(|key| PublishedKey {
                kid: r.kid.clone(),
                key,
            })
        })
        .collect();
    Ok(KeySet {
        signer,
        sign_until,
        published,
        read_at: now,
    })
}

/// The JWK Set of the keys published in the database now: what `/.well-known/jwks.json` serves,
/// so a key rotated by any process is served at once.
pub(super) async fn published_jwks(
    db: &Db,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, DbError> {
    let rows = list_published(db, (now - PUBLISH_AFTER_RETIRE).naive_utc()).await?;
    let keys = rows.iter().filter_map(|r| {
        let key = <[u8; 32]>::try_from(r.public_key.as_slice())
            .ok()
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())?;
        Some(jwk(&r.kid, &key))
    });
    Ok(serde_json::json!({ "keys": keys.collect::<Vec<_>>() }))
}

async fn list_published(
    db: &Db,
    retired_after: chrono::NaiveDateTime,
) -> Result<Vec<SigningKeyRow>, DbError> {
    let rows = db
        .run(move |c| queries::list_published(c, retired_after))
        .await?;
    // A row of another algorithm is not ours to sign or verify with.
    Ok(rows.into_iter().filter(|r| r.algorithm == ALG).collect())
}

fn new_key_row(keys: &Keys, now: DateTime<Utc>) -> Result<SigningKeyRow, CryptoError> {
    let kid = crypto::random_id()?;
    let secret = Zeroizing::new(crypto::random_bytes::<32>()?);
    let key = SigningKey::from_bytes(&secret);
    Ok(SigningKeyRow {
        private_sealed: keys.seal(&secret[..], &sealing_context(&kid))?,
        kid,
        algorithm: ALG.to_string(),
        public_key: key.verifying_key().to_bytes().to_vec(),
        key_id: keys.key_id().to_string(),
        created_at: now.naive_utc(),
        retired_at: None,
    })
}

fn open_key(keys: &Keys, row: &SigningKeyRow) -> Result<ActiveKey, CryptoError> {
    let opened = keys.open(&row.key_id, &row.private_sealed, &sealing_context(&row.kid))?;
    let secret = Zeroizing::new(<[u8; 32]>::try_from(&opened[..]).map_err(|_| CryptoError::Open)?);
    let key = SigningKey::from_bytes(&secret);
    // The public half is not sealed; one that disagrees would make every token we sign fail.
    if key.verifying_key().as_bytes()[..] != row.public_key[..] {
        return Err(CryptoError::Open);
    }
    Ok(ActiveKey {
        kid: row.kid.clone(),
        key,
    })
}
