//! A ceremony's server-side state, kept in the store between the options sent to the browser and
//! the response that comes back: single use (taken, never read), bound to its tenant and user,
//! with a TTL. In the store rather than in the node's memory, so a challenge made on one node is
//! answered on another; never sent to the client, which could otherwise replay or edit it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    AttestedPasskeyRegistration, PasskeyAuthentication, PasskeyRegistration,
    SecurityKeyAuthentication, SecurityKeyRegistration,
};

use super::rp::Rp;
use crate::app::state::AppState;
use crate::app::users::Subject;
use crate::error::Error;

/// How long a sign-in challenge may be answered: the authenticator timeout WebAuthn recommends.
pub const SIGN_IN_FOR: Duration = Duration::from_secs(300);

/// A registration: webauthn-rs's state of the kind the tenant's policy chose.
#[derive(Serialize, Deserialize)]
pub enum Registration {
    /// User verification preferred; attestation if the policy names CAs.
    Key(SecurityKeyRegistration),
    /// User verification required, no attestation.
    Passkey(PasskeyRegistration),
    /// User verification required and attestation to the policy's CAs.
    Attested(AttestedPasskeyRegistration),
}

/// A sign-in challenge.
#[derive(Serialize, Deserialize)]
pub enum Authentication {
    Key(SecurityKeyAuthentication),
    /// User verification required.
    Passkey(PasskeyAuthentication),
}

#[derive(Serialize, Deserialize)]
pub struct Stored<S> {
    pub tenant: String,
    pub user: String,
    pub rp: Rp,
    pub state: S,
}

fn registration_key(device_id: &str) -> String {
    format!("webauthn:reg:{device_id}")
}

/// Tenant and user ids cannot hold `/`, and the challenge is base64url.
fn sign_in_key(subject: &Subject, challenge: &str) -> String {
    format!(
        "webauthn:auth:{}/{}/{challenge}",
        subject.tenant, subject.user
    )
}

async fn put<S: Serialize>(
    state: &AppState,
    key: &str,
    subject: &Subject,
    rp: &Rp,
    s: S,
    ttl: Duration,
) -> Result<(), Error> {
    let stored = Stored {
        tenant: subject.tenant.clone(),
        user: subject.user.clone(),
        rp: rp.clone(),
        state: s,
    };
    let bytes = serde_json::to_vec(&stored).map_err(Error::internal)?;
    Ok(state.store.put(key, &bytes, ttl).await?)
}

/// Takes a state: gone for good whatever the answer, and `None` unless it was made for this
/// subject (a state is never lent to another user or tenant).
async fn take<S: for<'de> Deserialize<'de>>(
    state: &AppState,
    key: &str,
    subject: &Subject,
) -> Result<Option<Stored<S>>, Error> {
    let Some(bytes) = state.store.take(key).await? else {
        return Ok(None);
    };
    let stored: Stored<S> = serde_json::from_slice(&bytes).map_err(Error::internal)?;
    Ok((stored.tenant == subject.tenant && stored.user == subject.user).then_some(stored))
}

pub async fn put_registration(
    state: &AppState,
    subject: &Subject,
    device_id: &str,
    rp: &Rp,
    reg: Registration,
    ttl: Duration,
) -> Result<(), Error> {
    put(state, &registration_key(device_id), subject, rp, reg, ttl).await
}

pub async fn take_registration(
    state: &AppState,
    subject: &Subject,
    device_id: &str,
) -> Result<Option<Stored<Registration>>, Error> {
    take(state, &registration_key(device_id), subject).await
}

pub async fn put_sign_in(
    state: &AppState,
    subject: &Subject,
    challenge: &str,
    rp: &Rp,
    auth: Authentication,
) -> Result<(), Error> {
    let key = sign_in_key(subject, challenge);
    put(state, &key, subject, rp, auth, SIGN_IN_FOR).await
}

/// The sign-in state a response's challenge names, if this subject was given it and it was not
/// used yet: a replayed response, a stale one or another user's finds nothing.
pub async fn take_sign_in(
    state: &AppState,
    subject: &Subject,
    challenge: &str,
) -> Result<Option<Stored<Authentication>>, Error> {
    take(state, &sign_in_key(subject, challenge), subject).await
}
