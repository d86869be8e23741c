//! The hardware-token inventory: HOTP and TOTP key fobs and YubiKeys (Yubico OTP) that exist
//! before they have an owner. Imported unassigned ([`import`]); an admin assigns one to a user by
//! serial, or the user claims it with a code from it (`app::verify::claim`); assigned, it is one
//! more device of the user, marked hardware (its assertions say `hwk`). Unassign gives it back
//! with the counter its device reached, so a code used before never works again; revoke takes
//! it out of service. Every change is audited.

pub mod import;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::app::devices::Device;
use crate::app::state::AppState;
use crate::audit::{Action, Actor, Event};
use crate::crypto::{self, Keys};
use crate::db::models::{DeviceRow, TokenRow};
use crate::db::{DbConnection, DbError, devices as dq, tokens as q};
use crate::error::Error;
use crate::factor::kind::DeviceKind;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Hotp,
    Totp,
    Yubico,
}

impl TokenKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenKind::Hotp => "hotp",
            TokenKind::Totp => "totp",
            TokenKind::Yubico => "yubico",
        }
    }

    pub fn device_kind(self) -> DeviceKind {
        match self {
            TokenKind::Hotp => DeviceKind::Hotp,
            TokenKind::Totp => DeviceKind::Totp,
            TokenKind::Yubico => DeviceKind::Yubico,
        }
    }
}

impl std::str::FromStr for TokenKind {
    type Err = String;
    fn from_str(s: &str) -> Result<TokenKind, String> {
        [TokenKind::Hotp, TokenKind::Totp, TokenKind::Yubico]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("a token kind is hotp, totp or yubico, not `{s}`"))
    }
}

/// A token's seal: its secret is bound to its id until it is assigned.
pub fn aad(token_id: &str) -> Vec<u8> {
    format!("token:{token_id}").into_bytes()
}

/// A serial: 1–64 of `A-Z a-z 0-9 . _ -` (it goes in paths and labels).
pub fn serial_ok(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

/// A token as the admin API and console show it: never a secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Token {
    pub serial: String,
    pub kind: String,
    /// `unassigned`, `assigned` or `revoked`.
    pub status: String,
    pub manufacturer: Option<String>,
    pub batch: String,
    pub algorithm: Option<String>,
    pub digits: Option<i32>,
    pub period: Option<i32>,
    pub public_id: Option<String>,
    pub user: Option<String>,
    pub device_id: Option<String>,
    pub not_before: Option<DateTime<Utc>>,
    pub not_after: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&TokenRow> for Token {
    fn from(r: &TokenRow) -> Token {
        let codes = r.kind != TokenKind::Yubico.as_str();
        Token {
            serial: r.serial.clone(),
            kind: r.kind.clone(),
            status: r.status.clone(),
            manufacturer: r.manufacturer.clone(),
            batch: r.batch.clone(),
            algorithm: codes.then(|| r.algorithm.clone()),
            digits: codes.then_some(r.digits),
            period: (r.kind == TokenKind::Totp.as_str()).then_some(r.period),
            public_id: r.public_id.clone(),
            user: r.user_id.clone(),
            device_id: r.device_id.clone(),
            not_before: r.not_before.map(utc),
            not_after: r.not_after.map(utc),
            created_at: utc(r.created_at),
            assigned_at: r.assigned_at.map(utc),
            revoked_at: r.revoked_at.map(utc),
        }
    }
}

/// The most tokens one list returns.
pub const MAX_LIST: i64 = 500;

pub async fn list(
    state: &AppState,
    tenant: &str,
    filter: q::Filter,
    limit: i64,
) -> Result<Vec<Token>, Error> {
    if let Some(s) = &filter.status
        && ![q::UNASSIGNED, q::ASSIGNED, q::REVOKED].contains(&s.as_str())
    {
        return Err(Error::InvalidRequest(
            "query parameter `status`: unassigned, assigned or revoked".into(),
        ));
    }
    if let Some(k) = &filter.kind {
        k.parse::<TokenKind>()
            .map_err(|e| Error::InvalidRequest(format!("query parameter `kind`: {e}")))?;
    }
    let tenant = tenant.to_string();
    let limit = limit.clamp(1, MAX_LIST);
    let rows = state
        .db
        .run(move |c| q::list(c, &tenant, &filter, limit))
        .await?;
    Ok(rows.iter().map(Token::from).collect())
}

/// Why an assignment rolled back: another call assigned the token first.
pub const TAKEN: &str = "the token was assigned meanwhile";

/// Makes the device of a token assigned to `user`, inside a transaction that has checked the
/// token is unassigned: the secret is re-sealed under the device id, and the counter carried.
pub fn device_for(
    c: &mut DbConnection,
    keys: &Keys,
    token: &TokenRow,
    user: &str,
    step_up: bool,
    now: NaiveDateTime,
) -> Result<Option<DeviceRow>, DbError> {
    let kind: TokenKind = token
        .kind
        .parse()
        .map_err(|e: String| DbError::Aborted(e))?;
    let secret = keys
        .open(&token.key_id, &token.secret_sealed, &aad(&token.id))
        .map_err(|e| DbError::Aborted(format!("token {}: {e}", token.serial)))?;
    let id = crypto::random_id().map_err(|e| DbError::Aborted(e.to_string()))?;
    let device = DeviceRow {
        secret_sealed: Some(
            keys.seal(&secret, &crate::app::devices::aad(&id))
                .map_err(|e| DbError::Aborted(e.to_string()))?,
        ),
        key_id: Some(keys.key_id().to_string()),
        id,
        tenant: token.tenant.clone(),
        user_id: user.to_string(),
        kind: kind.device_kind().as_str().into(),
        label: format!("Token {}", token.serial),
        status: dq::ACTIVE.into(),
        algorithm: token.algorithm.clone(),
        digits: token.digits,
        period: token.period,
        phone: None,
        last_step: token.last_step,
        step_up,
        created_at: now,
        expires_at: None,
        confirmed_at: Some(now),
        last_used_at: None,
        revoked_at: None,
        account_name: None,
        token_serial: Some(token.serial.clone()),
        public_id: token.public_id.clone(),
    };
    dq::ensure_user(c, &token.tenant, user, now)?;
    if dq::label_in_use(c, &token.tenant, user, &device.label, now)? {
        return Ok(None);
    }
    dq::insert(c, &device)?;
    if !q::assign(c, &token.id, user, &device.id, now)? {
        // Assigned by a racing call since it was read: the device just written rolls back.
        return Err(DbError::Aborted(TAKEN.into()));
    }
    Ok(Some(device))
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no such token in the tenant's inventory")]
    NotFound,
    #[error("the token is {0}")]
    WrongState(String),
    #[error(transparent)]
    Other(#[from] Error),
}

impl From<DbError> for TokenError {
    fn from(e: DbError) -> TokenError {
        TokenError::Other(e.into())
    }
}

async fn find(state: &AppState, tenant: &str, serial: &str) -> Result<TokenRow, TokenError> {
    let (tenant, serial) = (tenant.to_string(), serial.to_string());
    state
        .db
        .run(move |c| q::find(c, &tenant, &serial))
        .await?
        .ok_or(TokenError::NotFound)
}

/// Assigns an unassigned token to a user (an admin's act): active at once.
pub async fn assign(
    state: &AppState,
    tenant: &str,
    serial: &str,
    user: &str,
    actor: Actor,
) -> Result<Device, TokenError> {
    crate::app::users::Subject::new(tenant.to_string(), user.to_string())?;
    let token = find(state, tenant, serial).await?;
    if token.status != q::UNASSIGNED {
        return Err(TokenError::WrongState(token.status));
    }
    let now = state.clock.now();
    let naive = now.naive_utc();
    if token.not_before.is_some_and(|b| b > naive) || token.not_after.is_some_and(|a| a <= naive) {
        return Err(TokenError::WrongState("outside its validity dates".into()));
    }
    let (keys, stream, user) = (
        state.keys.clone(),
        state.audit.stream().clone(),
        user.to_string(),
    );
    let device = state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |c| {
                // An admin's assignment vouches for the device (SEC-7).
                let Some(device) = device_for(c, &keys, &token, &user, true, now.naive_utc())?
                else {
                    return Ok(None);
                };
                let event = Event::new(&token.tenant, Action::TokenAssigned, actor)
                    .user(&user)
                    .device(&device.id)
                    .detail(serde_json::json!({"serial": token.serial, "kind": token.kind}));
                stream.record(c, now, event)?;
                Ok(Some(device))
            })
        })
        .await;
    let device = match device {
        Err(DbError::Aborted(r)) if r == TAKEN => None,
        other => other?,
    };
    let device = device.ok_or_else(|| {
        TokenError::WrongState("already assigned, or its label is in use by the user".into())
    })?;
    Ok(Device::try_from(&device)?)
}

/// Gives a token back to the inventory (its device revoked), or takes it out of service.
async fn take_back(
    state: &AppState,
    tenant: &str,
    serial: &str,
    actor: Actor,
    revoke: bool,
) -> Result<Token, TokenError> {
    let first = find(state, tenant, serial).await?;
    let now = state.clock.now();
    let wanted = move |t: &TokenRow| {
        if revoke {
            t.status != q::REVOKED
        } else {
            t.status == q::ASSIGNED
        }
    };
    if !wanted(&first) {
        return Err(TokenError::WrongState(first.status));
    }
    let (stream, serial) = (state.audit.stream().clone(), serial.to_string());
    let done = state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |c| {
                // Decided on the row as it is under the lock, not as it was read before: a claim
                // or an assignment may have come in between.
                q::lock(c, &first.id)?;
                let Some(token) = q::find(c, &first.tenant, &first.serial)?.filter(|t| wanted(t))
                else {
                    return Ok(None);
                };
                let mut last = token.last_step;
                if let (Some(user), Some(device)) = (&token.user_id, &token.device_id) {
                    // Revoked first: no use can move its counter after this, so the counter read
                    // next is the last one.
                    dq::revoke(c, &token.tenant, user, device, now.naive_utc())?;
                    if let Some(row) = dq::find_by_id(c, device)? {
                        last = last.max(row.last_step);
                    }
                }
                let changed = if revoke {
                    q::revoke(c, &token.id, last, now.naive_utc())?
                } else {
                    q::release(c, &token.id, last)?
                };
                if !changed {
                    return Ok(None);
                }
                let action = if revoke {
                    Action::TokenRevoked
                } else {
                    Action::TokenUnassigned
                };
                let mut event = Event::new(&token.tenant, action, actor)
                    .detail(serde_json::json!({"serial": token.serial}));
                if let Some(user) = &token.user_id {
                    event = event.user(user);
                }
                if let Some(device) = &token.device_id {
                    event = event.device(device);
                }
                stream.record(c, now, event)?;
                q::find(c, &token.tenant, &token.serial)
            })
        })
        .await?;
    match done {
        Some(row) => Ok(Token::from(&row)),
        None => Err(TokenError::WrongState(format!(
            "changed meanwhile ({serial})"
        ))),
    }
}

pub async fn unassign(
    state: &AppState,
    tenant: &str,
    serial: &str,
    actor: Actor,
) -> Result<Token, TokenError> {
    take_back(state, tenant, serial, actor, false).await
}

pub async fn revoke(
    state: &AppState,
    tenant: &str,
    serial: &str,
    actor: Actor,
) -> Result<Token, TokenError> {
    take_back(state, tenant, serial, actor, true).await
}
