//! What the pages say after a refused code: wrong, wrong with few tries left, or locked (when,
//! and until when: the form is then shown disabled).

use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};

use super::words::Words;
use super::{Flow, PageError};
use crate::app::state::AppState;
use crate::error::Error;
use crate::i18n::Arg;

/// From this many tries left, a wrong code says how many remain before the lock.
const WARN_FROM: u64 = 3;

/// What a failed code attempt tells the user: the message, and the page's status.
pub async fn code_problem(
    state: &AppState,
    flow: &Flow,
    t: &Words,
    e: Error,
) -> Result<(StatusCode, String), PageError> {
    match e {
        Error::InvalidCode | Error::InvalidRequest(_) => {
            // One read of the limiter for both questions. The failure that reached the
            // threshold locked the user: the page says so at once (and shows the form disabled)
            // rather than after one more try.
            let now = state.clock.now();
            let lock = state.limiter.state(&flow.subject()?).await?;
            if let Some(until) = lock.locked_until.filter(|until| *until > now) {
                return Ok((StatusCode::TOO_MANY_REQUESTS, locked(t, now, until)));
            }
            let threshold = u64::from(state.limiter.threshold());
            let left = lock
                .locked_until
                .is_none()
                .then(|| threshold.saturating_sub(lock.failures));
            let message = match left {
                Some(n @ 1..=WARN_FROM) => {
                    let n = i64::try_from(n).unwrap_or(i64::MAX);
                    t.say_with("wrong-code-tries-left", &[("count", Arg::Number(n))])
                }
                _ => t.say("wrong-code"),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, message))
        }
        Error::RateLimited { retry_after_secs } | Error::UserLocked { retry_after_secs } => {
            let now = state.clock.now();
            let secs = i64::try_from(retry_after_secs).unwrap_or(i64::MAX);
            let until = chrono::TimeDelta::try_seconds(secs)
                .and_then(|d| now.checked_add_signed(d))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            Ok((StatusCode::TOO_MANY_REQUESTS, locked(t, now, until)))
        }
        other => Err(other.into()),
    }
}

/// [`code_problem`] for a security key's answer: a lock says when, any other refusal that the
/// key was not accepted (a code's "wrong code" would puzzle someone who typed none).
pub async fn key_problem(
    state: &AppState,
    flow: &Flow,
    t: &Words,
    e: Error,
) -> Result<(StatusCode, String), PageError> {
    let (status, message) = code_problem(state, flow, t, e).await?;
    Ok(if status == StatusCode::TOO_MANY_REQUESTS {
        (status, message)
    } else {
        (status, t.say("key-refused"))
    })
}

/// The user's lock as the page shows it: the message, when they are locked now. Every page with
/// a code form asks, so a locked user sees the form disabled before typing, not after.
pub async fn lock_of(
    state: &AppState,
    flow: &Flow,
    t: &Words,
) -> Result<Option<String>, PageError> {
    let now = state.clock.now();
    let lock = state.limiter.state(&flow.subject()?).await?;
    Ok(lock
        .locked_until
        .filter(|until| *until > now)
        .map(|until| locked(t, now, until)))
}

/// "Too many attempts. Try again at 03:30 (UTC), in 15 minutes." The page cannot know the
/// user's time zone, so the time is UTC and the wait says the rest; both are rounded up to the
/// minute, so a try at the time said is never refused.
fn locked(t: &Words, now: DateTime<Utc>, until: DateTime<Utc>) -> String {
    let wait = (until - now).num_seconds().max(1);
    let minutes = wait.div_euclid(60) + i64::from(wait % 60 != 0);
    let partial = i64::from(until.timestamp() % 60 != 0 || until.timestamp_subsec_nanos() != 0);
    let whole = until
        .timestamp()
        .div_euclid(60)
        .saturating_add(partial)
        .saturating_mul(60);
    let shown = DateTime::<Utc>::from_timestamp(whole, 0).unwrap_or(until);
    let time = shown.format("%H:%M").to_string();
    t.say_with(
        "locked",
        &[
            ("time", Arg::Text(&time)),
            ("minutes", Arg::Number(minutes.max(1))),
        ],
    )
}
