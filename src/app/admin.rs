//! What an admin does to an account: look at it, unlock it, revoke all its devices; find users;
//! read the audit trail. No HTTP here: the admin API and the `/admin` console both call these.

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::app::api_keys::ApiKey;
use crate::app::devices::Device;
use crate::app::limiter::LockState;
use crate::app::sms_budget::{self, Budget};
use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::audit::check::ExportedEvent;
use crate::audit::{Action, Actor, Event};
use crate::db::{self, DbError, audit::Filter};
use crate::error::Error;
use crate::factor::kind::{DeviceKind, DeviceStatus};
use crate::store::StoreError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// Why an admin action failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The user has no account (never enrolled).
    #[error("not found")]
    NoSuchUser,
    #[error("q and cursor are parts of a user id (A-Z a-z 0-9 . _ @ + -)")]
    BadSearch,
    #[error("unknown action `{0}`")]
    UnknownAction(String),
    #[error("before is the `next` of a previous page")]
    BadCursor,
    #[error("limit is 1 to {MAX_LIMIT}")]
    BadLimit,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A failure of the limiter or the code store, already in the shared words.
    #[error(transparent)]
    Shared(#[from] Error),
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

/// One account as an admin sees it: every device, whatever its status; never a secret.
#[derive(Debug, Clone)]
pub struct UserDetail {
    pub tenant: String,
    pub user: String,
    pub created_at: DateTime<Utc>,
    pub lock: LockState,
    /// Oldest first; a pending device past its confirmation window shows `expired`.
    pub devices: Vec<Device>,
    pub recovery_codes_left: i64,
}

pub async fn user(state: &AppState, subject: &Subject) -> Result<UserDetail, AdminError> {
    let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
    let now = state.clock.now();
    let lock = state.limiter.state(subject);
    let rows = state.db.run(move |c| {
        let Some(created) = db::users::find(c, &tenant, &user)? else {
            return Ok(None);
        };
        let devices = db::devices::list(
            c,
            &tenant,
            &user,
            &[
                db::devices::PENDING,
                db::devices::ACTIVE,
                db::devices::REVOKED,
            ],
        )?;
        let left = db::recovery_codes::remaining(c, &tenant, &user)?;
        let keys = crate::app::devices::keys_of(c, &devices)?;
        Ok(Some((created, devices, left, keys)))
    });
    let (lock, rows) = tokio::join!(lock, rows);
    let Some((created, rows, left, keys)) = rows? else {
        return Err(AdminError::NoSuchUser);
    };
    let devices = rows
        .iter()
        .map(|r| {
            let mut d = Device::try_from(r)?;
            if r.is_in(DeviceStatus::Pending) && r.expires_at.is_some_and(|e| e <= now.naive_utc())
            {
                d.status = DeviceStatus::Expired;
            }
            Ok(d)
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let mut devices = devices;
    crate::app::devices::attach_keys(&mut devices, &keys);
    Ok(UserDetail {
        tenant: subject.tenant.clone(),
        user: subject.user.clone(),
        created_at: utc(created),
        lock: lock?,
        devices,
        recovery_codes_left: left,
    })
}

/// Clears the user's lock, failure count and lock level. Works for ids that have no account too:
/// failures are counted for unknown users as well (SEC-32). The event is written first, so an
/// unlock never happens unaudited; should the store then fail, a failure event follows.
pub async fn unlock(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
) -> Result<(), AdminError> {
    let now = state.clock.now();
    let before = state.limiter.state(subject).await?;
    let event = Event::new(&subject.tenant, Action::UserUnlocked, caller.actor.clone())
        .user(&subject.user)
        .ip(caller.ip.clone())
        .detail(serde_json::json!({
            "was_locked": before.locked_until.is_some(),
            "failures": before.failures,
            "lock_level": before.lock_level,
        }));
    let stream = state.audit.stream().clone();
    let recorded = event.clone();
    state
        .db
        .run(move |conn| crate::db::write_transaction(conn, |c| stream.record(c, now, recorded)))
        .await?;
    if let Err(e) = state.limiter.unlock(subject).await {
        state
            .audit
            .send(now, event.outcome(crate::audit::Outcome::Failure))
            .await;
        return Err(e.into());
    }
    Ok(())
}

/// Revokes every device of the user at once (SEC-21), one audit event each, and kills their
/// pending texted codes. Returns how many it revoked.
pub async fn revoke_all(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
) -> Result<usize, AdminError> {
    let now = state.clock.now();
    let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
    let (actor, ip) = (caller.actor.clone(), caller.ip.clone());
    let stream = state.audit.stream().clone();
    let revoked = state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |c| {
                // The row lock first: on SQLite, a write as the first statement takes the write
                // lock up front instead of upgrading a read snapshot that may have gone stale.
                db::devices::lock_user(c, &tenant, &user)?;
                if db::users::find(c, &tenant, &user)?.is_none() {
                    return Ok(None);
                }
                let rows = db::devices::revoke_all(c, &tenant, &user, now.naive_utc())?;
                let event = Event::new(&tenant, Action::DeviceRevoked, actor.clone())
                    .user(&user)
                    .ip(ip.clone())
                    .detail(serde_json::json!({"all_devices": true}));
                let events: Vec<Event> = if rows.is_empty() {
                    // Asked and done, though there was nothing to revoke: still on the record.
                    vec![event.detail(serde_json::json!({"all_devices": true, "revoked": 0}))]
                } else {
                    rows.iter().map(|r| event.clone().device(&r.id)).collect()
                };
                stream.record_all(c, now, events)?;
                Ok(Some(rows))
            })
        })
        .await?
        .ok_or(AdminError::NoSuchUser)?;
    for r in revoked.iter().filter(|r| r.is(DeviceKind::Sms)) {
        crate::app::sms_codes::kill(state, subject, &r.id).await?;
    }
    Ok(revoked.len())
}

#[derive(Debug, Clone)]
pub struct UserSummary {
    pub user: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct UserPage {
    pub users: Vec<UserSummary>,
    /// The `cursor` of the next page; none on the last one.
    pub next: Option<String>,
}

/// Users of `tenant` whose id starts with `prefix`, in id order, after `cursor`.
pub async fn search_users(
    state: &AppState,
    tenant: String,
    prefix: String,
    cursor: Option<String>,
    limit: i64,
) -> Result<UserPage, AdminError> {
    let valid = |s: &str| {
        s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'+' | b'-'))
    };
    if !valid(&prefix) || !cursor.as_deref().is_none_or(valid) {
        return Err(AdminError::BadSearch);
    }
    let limit = checked_limit(limit)?;
    let mut rows = state
        .db
        .run(move |c| db::users::search(c, &tenant, &prefix, cursor.as_deref(), limit + 1))
        .await?;
    // The limit was checked to be 1..=MAX_LIMIT.
    let keep = usize::try_from(limit).unwrap_or(0);
    let next = (rows.len() > keep).then(|| {
        rows.truncate(keep);
        rows.last().map(|r| r.0.clone())
    });
    Ok(UserPage {
        users: rows
            .into_iter()
            .map(|(user, created)| UserSummary {
                user,
                created_at: utc(created),
            })
            .collect(),
        next: next.flatten(),
    })
}

#[derive(Debug, Clone)]
pub struct AuditPage {
    /// Newest first.
    pub events: Vec<ExportedEvent>,
    /// The `before` of the next (older) page; none on the last one.
    pub next: Option<String>,
}

/// Audit events that pass `filter`, newest first.
pub async fn audit(state: &AppState, filter: Filter, limit: i64) -> Result<AuditPage, AdminError> {
    if let Some(a) = &filter.action
        && a.parse::<Action>().is_err()
    {
        return Err(AdminError::UnknownAction(a.clone()));
    }
    let limit = checked_limit(limit)?;
    let mut rows = state
        .db
        .run(move |c| db::audit::search(c, &filter, limit + 1))
        .await?;
    // The limit was checked to be 1..=MAX_LIMIT.
    let keep = usize::try_from(limit).unwrap_or(0);
    let next = (rows.len() > keep).then(|| {
        rows.truncate(keep);
        rows.last().map(|r| cursor(r.at, r.id))
    });
    Ok(AuditPage {
        events: rows.into_iter().map(ExportedEvent::from).collect(),
        next: next.flatten(),
    })
}

/// The audit cursor: the last event's time (µs since the epoch) and id, `<micros>.<id>`.
fn cursor(at: NaiveDateTime, id: i64) -> String {
    format!("{}.{id}", at.and_utc().timestamp_micros())
}

pub fn parse_cursor(s: &str) -> Result<(NaiveDateTime, i64), AdminError> {
    let bad = || AdminError::BadCursor;
    let (micros, id) = s.split_once('.').ok_or_else(bad)?;
    let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Ok((at.naive_utc(), id.parse().map_err(|_| bad())?))
}

fn checked_limit(limit: i64) -> Result<i64, AdminError> {
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(AdminError::BadLimit)
    }
}

/// Resets the daily SMS budget's breaker and today's count, and records who did.
/// `tenant`: that tenant's budget and breaker only; `None`: the global ones.
pub async fn reset_sms_breaker(
    state: &AppState,
    actor: Actor,
    ip: Option<String>,
    tenant: Option<&str>,
) -> Result<(), AdminError> {
    let now = state.clock.now();
    let budget = tenant.map_or(Budget::Global, Budget::Tenant);
    sms_budget::reset(&state.store, budget, now).await?;
    if tenant.is_none() {
        state
            .metrics
            .with(|| metrics::gauge!("twofold_sms_breaker_tripped").set(0.0));
    }
    let event = Event::new(tenant.unwrap_or("*"), Action::SmsBreakerReset, actor).ip(ip);
    record(state, now, event).await
}

/// Records that an admin signed out of the console with `key`.
pub async fn record_logout(
    state: &AppState,
    key: &ApiKey,
    caller: &Caller,
) -> Result<(), AdminError> {
    let tenant = key.tenant.clone().unwrap_or_else(|| "*".into());
    let event = Event::new(tenant, Action::AdminLogout, caller.actor.clone()).ip(caller.ip.clone());
    record(state, state.clock.now(), event).await
}

/// One event, written in its own transaction (never dropped, unlike the background writer's).
async fn record(state: &AppState, now: DateTime<Utc>, event: Event) -> Result<(), AdminError> {
    let stream = state.audit.stream().clone();
    state
        .db
        .run(move |conn| crate::db::write_transaction(conn, |c| stream.record(c, now, event)))
        .await?;
    Ok(())
}
