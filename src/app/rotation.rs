//! `twofold keys rotate`: a new signing key, and every secret sealed under an earlier master key
//! re-wrapped under the current one (SEC-20), so the earlier key can then be retired.

use std::sync::Arc;

use crate::app::assertion::{self, AssertionError};
use crate::app::state::AppState;
use crate::audit::{Action, Actor, Event};
use crate::crypto::{CryptoError, Keys};
use crate::db::{DbError, devices, signing_keys};

/// Rows re-wrapped per transaction: bounded work per database call.
const CHUNK: i64 = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    pub kid: String,
    pub devices_rewrapped: usize,
    pub signing_keys_rewrapped: usize,
}

/// Why a rotation stopped. Each step commits on its own: what was re-wrapped before the failure
/// stays re-wrapped, and running the rotation again picks up the rest.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("cannot re-wrap the secret of device {id}")]
    Device {
        id: String,
        #[source]
        source: CryptoError,
    },
    #[error("cannot re-wrap signing key {kid}")]
    SigningKey {
        kid: String,
        #[source]
        source: CryptoError,
    },
    #[error("cannot make the new signing key")]
    NewSigningKey(#[from] AssertionError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for RotationError {
    fn from(e: diesel::result::Error) -> RotationError {
        RotationError::Db(DbError::from(e))
    }
}

/// Re-seals each device secret that an earlier master key sealed; returns how many.
async fn rewrap_devices(state: &AppState) -> Result<usize, RotationError> {
    let mut total = 0;
    loop {
        let keys: Arc<Keys> = state.keys.clone();
        let n = state
            .db
            .run(move |conn| {
                Ok(crate::db::write_transaction(conn, |c| {
                    let rows = devices::sealed_under_other_keys(c, keys.key_id(), CHUNK)?;
                    for row in &rows {
                        let (Some(sealed), Some(old)) = (&row.secret_sealed, &row.key_id) else {
                            continue;
                        };
                        let aad = crate::app::devices::aad(&row.id);
                        let failed = |source| RotationError::Device {
                            id: row.id.clone(),
                            source,
                        };
                        let secret = keys.open(old, sealed, &aad).map_err(failed)?;
                        let resealed = keys.seal(&secret, &aad).map_err(failed)?;
                        devices::update_sealed(c, &row.id, &resealed, keys.key_id())?;
                    }
                    Ok::<_, RotationError>(rows.len())
                }))
            })
            .await??;
        total += n;
        if n < usize::try_from(CHUNK).unwrap_or(usize::MAX) {
            return Ok(total);
        }
    }
}

async fn rewrap_signing_keys(state: &AppState) -> Result<usize, RotationError> {
    let keys: Arc<Keys> = state.keys.clone();
    state
        .db
        .run(move |conn| {
            Ok(crate::db::write_transaction(conn, |c| {
                let mut n = 0;
                for row in signing_keys::list_all(c)? {
                    if row.key_id == keys.key_id() {
                        continue;
                    }
                    let context = assertion::sealing_context(&row.kid);
                    let failed = |source| RotationError::SigningKey {
                        kid: row.kid.clone(),
                        source,
                    };
                    let private = keys
                        .open(&row.key_id, &row.private_sealed, &context)
                        .map_err(failed)?;
                    let resealed = keys.seal(&private, &context).map_err(failed)?;
                    signing_keys::update_sealed(c, &row.kid, &resealed, keys.key_id())?;
                    n += 1;
                }
                Ok::<_, RotationError>(n)
            }))
        })
        .await?
}

pub async fn rotate(state: &AppState, actor: Actor) -> Result<Rotated, RotationError> {
    let devices_rewrapped = rewrap_devices(state).await?;
    let signing_keys_rewrapped = rewrap_signing_keys(state).await?;
    let now = state.clock.now();
    let kid = assertion::rotate(&state.db, &state.keys, now).await?;
    let detail = serde_json::json!({
        "kid": kid,
        "master_key_id": state.keys.key_id(),
        "devices_rewrapped": devices_rewrapped,
        "signing_keys_rewrapped": signing_keys_rewrapped,
    });
    let events = [
        Event::new("*", Action::SigningKeyRotated, actor.clone()).detail(detail.clone()),
        Event::new("*", Action::MasterKeyRewrapped, actor).detail(detail),
    ];
    let stream = state.audit.stream().clone();
    state
        .db
        .run(move |conn| crate::db::write_transaction(conn, |c| stream.record_all(c, now, events)))
        .await?;
    Ok(Rotated {
        kid,
        devices_rewrapped,
        signing_keys_rewrapped,
    })
}
