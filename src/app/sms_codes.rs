//! SMS one-time codes: made from the OS CSPRNG, sent through the gateway, kept in the store only
//! as a keyed hash bound to (tenant, user, device) (SEC-23, SEC-24, SEC-26).
//!
//! A code lives 5 minutes, allows 5 tries (then it is burned, SEC-25), and is used once; a
//! resend replaces it. Resends wait a cooldown that doubles with each send in the hour (SEC-31);
//! one too early is 429 `sms_resend_too_soon`, not a limit.
//! Every send is charged against the anti-pumping limits before it reaches the gateway, and stays
//! charged whatever the gateway answers (REL-4).

use std::time::Duration;

use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

use crate::app::sms_limits::{self as limits, ChargeError, Refusal};
use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::audit::{Action, Event, Outcome};
use crate::crypto;
use crate::error::Error;
use crate::factor::phone::Phone;
use crate::sms::Message;
use crate::store::{Claim, Doubling, Write};

pub const CODE_TTL: Duration = Duration::from_secs(300);
pub const MAX_TRIES: u64 = 5;
pub const COOLDOWN: Duration = Duration::from_secs(30);
const MAX_COOLDOWN: Duration = Duration::from_secs(15 * 60);
/// The cooldown doubles with every send of the last hour: 30 s, 60 s, 120 s, … 15 min.
const COOLDOWNS: Doubling = Doubling {
    base: COOLDOWN,
    doublings: 10,
    max: MAX_COOLDOWN,
};
/// The sends that double the cooldown are those of the last hour.
const SENDS_WINDOW: Duration = Duration::from_secs(3600);
const HASH_DOMAIN: &str = "sms-code";
/// SMS is the weaker factor (SIM swap, interception): answers say so (SEC-27).
pub const NOTICE: &str = "SMS codes are the weaker second factor: prefer an authenticator app.";

struct Keys {
    code: String,
    tries: String,
    cooldown: String,
    sends: String,
}

fn keys(subject: &Subject, device_id: &str) -> Keys {
    // One hash tag per (user, device): all of a code's keys sit in one cluster slot.
    let tag = format!("{{{}/{}/{}}}", subject.tenant, subject.user, device_id);
    Keys {
        code: format!("smscode:{tag}"),
        tries: format!("smstries:{tag}"),
        cooldown: format!("smscool:{tag}"),
        sends: format!("smssends:{tag}"),
    }
}

fn hash_input(subject: &Subject, device_id: &str, code: &str) -> Vec<u8> {
    [
        subject.tenant.as_bytes(),
        subject.user.as_bytes(),
        device_id.as_bytes(),
        code.as_bytes(),
    ]
    .join(&0u8)
}

fn hash(state: &AppState, subject: &Subject, device_id: &str, code: &str) -> Vec<u8> {
    state
        .keys
        .hash(HASH_DOMAIN, &hash_input(subject, device_id, code))
}

fn hashes(state: &AppState, subject: &Subject, device_id: &str, code: &str) -> Vec<Vec<u8>> {
    state
        .keys
        .hashes(HASH_DOMAIN, &hash_input(subject, device_id, code))
}

/// Six uniform digits: rejection sampling, so no value is likelier than another.
fn new_code() -> Result<String, Error> {
    loop {
        let n = u32::from_le_bytes(crypto::random_bytes::<4>().map_err(Error::internal)?);
        // 4_294_000_000 is the largest multiple of 10^6 below 2^32.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// The text: the tenant's issuer (the name its users know the relying party by), the host for
/// WebOTP, the code.
fn render(state: &AppState, tenant: &str, code: &str) -> String {
    let host = state.public_url.host_str().unwrap_or("localhost");
    state
        .config
        .sms
        .template
        .replace("{issuer}", state.config.totp.issuer_for(tenant))
        .replace("{host}", host)
        .replace("{code}", code)
}

/// Whole seconds, rounded up: a client that waits `Retry-After` must not be refused again.
fn ceil_secs(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

fn refusal(state: &AppState, r: Refusal) -> Error {
    let secs = ceil_secs;
    match r {
        Refusal::RateLimited { retry_after, limit } => {
            state.metrics.with(|| {
                metrics::counter!("twofold_sms_limited_total", "limit" => limit).increment(1);
            });
            Error::RateLimited {
                retry_after_secs: secs(retry_after),
            }
        }
        Refusal::BudgetExhausted {
            retry_after,
            tenant,
        } => {
            // The gauge is the global breaker's; a tenant's breaker counts as a limit refusal.
            state.metrics.with(|| {
                if tenant {
                    metrics::counter!("twofold_sms_limited_total", "limit" => "tenant_budget")
                        .increment(1);
                } else {
                    metrics::gauge!("twofold_sms_breaker_tripped").set(1.0);
                }
            });
            Error::SmsBudgetExhausted {
                retry_after_secs: secs(retry_after),
            }
        }
    }
}

/// The refusal of a resend inside the cooldown: how long ago the last code went, how long until
/// the next may (SEC-31). `held`: what the cooldown key holds, the send time; `ttl`: its time to
/// live.
fn too_soon(held: &[u8], ttl: Option<Duration>, now: DateTime<Utc>) -> Error {
    let sent_ms = <[u8; 8]>::try_from(held).ok().map(i64::from_be_bytes);
    let ago_ms = sent_ms.map_or(0, |at| now.timestamp_millis().saturating_sub(at).max(0));
    Error::SmsResendTooSoon {
        sent_secs_ago: u64::try_from(ago_ms / 1000).unwrap_or(0),
        retry_after_secs: ceil_secs(ttl.unwrap_or(COOLDOWN)),
    }
}

/// What a send answers: when the code expires and when a resend is possible.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub expires_in: Duration,
    pub resend_after: Duration,
}

/// Sends a fresh code for the device to `phone`, replacing any pending one.
pub async fn send(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    device_id: &str,
    phone: &Phone,
    now: DateTime<Utc>,
) -> Result<Sent, Error> {
    let k = keys(subject, device_id);
    // The cooldown key keeps the send time, so a refused resend can say how long ago that was.
    let sent_at = now.timestamp_millis().to_be_bytes();
    let cooldown = match state
        .store
        .claim(&k.cooldown, &sent_at, &k.sends, COOLDOWNS)
        .await?
    {
        Claim::Claimed { ttl } => ttl,
        Claim::Held { value, ttl } => return Err(too_soon(&value, ttl, now)),
    };
    match limits::charge(
        &state.store,
        &state.config.sms.limits,
        phone,
        subject,
        caller.sms_address(&subject.tenant).as_deref(),
        now,
    )
    .await
    {
        Ok(()) => {}
        Err(ChargeError::Refused(r)) => return Err(refusal(state, r)),
        Err(ChargeError::Store(e)) => return Err(e.into()),
    }
    let code = new_code()?;
    // The send time (application clock) rides with the hash: expiry follows the server clock
    // that decides everything else; the store TTL only collects the garbage.
    let mut value = now.timestamp_millis().to_be_bytes().to_vec();
    value.extend(hash(state, subject, device_id, &code));
    state
        .store
        .write_all(&[
            Write::Count(&k.sends, SENDS_WINDOW),
            Write::Put(&k.code, &value, CODE_TTL),
            Write::Delete(&k.tries),
        ])
        .await?;

    let message = Message {
        to: phone.e164().to_string(),
        body: render(state, &subject.tenant, &code),
        code,
    };
    let gateway = state.sms.name();
    let sent = state.sms.send(&message).await;
    let outcome = if sent.is_ok() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    state.metrics.with(|| {
        let labels = [
            ("gateway", gateway.to_string()),
            ("country", phone.region().to_string()),
        ];
        match &sent {
            Ok(()) => metrics::counter!("twofold_sms_sent_total", &labels).increment(1),
            Err(_) => metrics::counter!("twofold_sms_failed_total", &labels).increment(1),
        }
    });
    let event = Event::new(&subject.tenant, Action::SmsSent, caller.actor.clone())
        .user(&subject.user)
        .device(device_id)
        .ip(caller.ip.clone())
        .outcome(outcome)
        .detail(serde_json::json!({
            "gateway": gateway,
            "country": phone.region(),
            "to": phone.redacted(),
            "error": sent.as_ref().err().map(|e| e.kind()),
        }));
    state.audit.send(now, event).await;
    if let Err(e) = sent {
        // Nobody received this code: it must not stay valid.
        state.store.delete(&k.code).await?;
        return Err(Error::SmsFailed(e.into()));
    }
    Ok(Sent {
        expires_in: CODE_TTL,
        resend_after: cooldown,
    })
}

/// Whether `code` is the device's pending code; uses it up if so. Each call is a try; the 5th
/// wrong try burns the code.
pub async fn check(
    state: &AppState,
    subject: &Subject,
    device_id: &str,
    code: &str,
) -> Result<bool, Error> {
    let k = keys(subject, device_id);
    let Some(value) = state.store.get(&k.code).await? else {
        return Ok(false);
    };
    let (sent_at, stored) = value.split_at(value.len().min(8));
    let sent_ms = i64::from_be_bytes(sent_at.try_into().unwrap_or([0; 8]));
    let age_ms = state.clock.now().timestamp_millis().saturating_sub(sent_ms);
    let ttl_ms = i64::try_from(CODE_TTL.as_millis()).unwrap_or(i64::MAX);
    if !(0..ttl_ms).contains(&age_ms) {
        state.store.take_if_equal(&k.code, &value).await?;
        return Ok(false);
    }
    let tries = state.store.hit(&k.tries, MAX_TRIES, CODE_TTL).await?;
    if !tries.allowed {
        state.store.take_if_equal(&k.code, &value).await?;
        return Ok(false);
    }
    // Every loaded master key's hash: a code sent just before a key change still works.
    let matched = hashes(state, subject, device_id, code)
        .iter()
        .fold(subtle::Choice::from(0), |acc, h| acc | h.ct_eq(stored));
    if !bool::from(matched) {
        if tries.count >= MAX_TRIES {
            state.store.take_if_equal(&k.code, &value).await?;
        }
        return Ok(false);
    }
    // Single use, and only of the code that was compared: of racing right answers one wins,
    // and a code replaced by a resend meanwhile is left to its own checks.
    Ok(state.store.take_if_equal(&k.code, &value).await?)
}

/// Kills the device's pending code at once (revocation, SEC-21).
pub async fn kill(state: &AppState, subject: &Subject, device_id: &str) -> Result<(), Error> {
    let k = keys(subject, device_id);
    state
        .store
        .delete_many(&[k.code.as_str(), k.tries.as_str()])
        .await?;
    Ok(())
}
