//! The one limiter every path that accepts a code goes through (SEC-13..17): confirm, verify, and
//! later SMS, recovery and the hosted pages.
//!
//! One failure counter per user (tenant + id) in the store, across devices, sessions, IPs and
//! paths. An attempt is counted *before* its code is evaluated, so parallel guesses cannot exceed
//! the threshold; the attempt that reaches it and fails locks the user for the base time, doubling
//! with each further lock. While locked, every attempt — a correct code too — gets the same 429.
//! Success clears the counter but never an active lock. A coarse per-IP failure limit guards
//! against spraying many users from one address; it counts each attempt as a failure in advance,
//! in the same store round trip as the user's counter, and success gives that count back. So a
//! wrong code costs one store round trip in all; a refusal by one of the two limits gives back
//! the count the other one took, so a refused attempt counts against neither.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::app::users::Subject;
use crate::config::LockoutPolicy;
use crate::error::Error;
use crate::store::{Attempt, IpLimit, LimiterKeys, Store};

/// How long consecutive failures are remembered, and how long a lock level outlives its lock.
const MEMORY: Duration = Duration::from_secs(24 * 3600);
/// The longest lock, however often a user was locked.
const MAX_LOCK: Duration = Duration::from_secs(24 * 3600);

#[derive(Clone)]
pub struct Limiter {
    store: Store,
    policy: LockoutPolicy,
}

/// An attempt that may be evaluated; report its outcome with [`Limiter::failed`] or
/// [`Limiter::succeeded`].
#[derive(Debug)]
pub struct Ticket {
    keys: LimiterKeys,
    ip_key: Option<String>,
    count: u64,
}

/// A subject's failure state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LockState {
    /// Consecutive failed attempts counted so far (attempts in flight included).
    pub failures: u64,
    /// Set while the user is locked.
    pub locked_until: Option<DateTime<Utc>>,
    /// Locks in the last day: the next lock lasts `base × 2^level`.
    pub lock_level: u64,
}

/// What a failed attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    Counted,
    /// This failure locked the user for this long.
    Locked(Duration),
}

fn rate_limited(retry_after: Duration) -> Error {
    Error::RateLimited {
        retry_after_secs: retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0),
    }
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

impl Limiter {
    pub fn new(store: Store, policy: LockoutPolicy) -> Limiter {
        Limiter { store, policy }
    }

    /// Admits one attempt of `subject` from `ip`, or refuses it with 429 `rate_limited`.
    pub async fn begin(
        &self,
        subject: &Subject,
        ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Ticket, Error> {
        let keys = subject.limiter_keys();
        let ip_key = ip.map(|ip| format!("ipfail:{{{ip}}}"));
        let threshold = u64::from(self.policy.threshold);
        let attempt = match &ip_key {
            None => {
                self.store
                    .begin_attempt(&keys, millis(now), threshold, MEMORY)
                    .await?
            }
            Some(key) => {
                let limit = IpLimit {
                    key,
                    limit: u64::from(self.policy.ip_limit),
                    window: self.policy.ip_window,
                };
                let (attempt, by_ip) = self
                    .store
                    .begin_attempt_from(&keys, limit, millis(now), threshold, MEMORY)
                    .await?;
                match (attempt, by_ip.allowed) {
                    // The address is over its limit: the user's counter must not keep this
                    // attempt, or it could sit full with no lock to end it.
                    (Attempt::Allowed { .. }, false) => {
                        self.store.release(&keys.failures).await?;
                        return Err(rate_limited(by_ip.resets_in));
                    }
                    (Attempt::Refused { .. }, true) => self.store.release(key).await?,
                    _ => {}
                }
                if !by_ip.allowed {
                    return Err(rate_limited(by_ip.resets_in));
                }
                attempt
            }
        };
        let count = match attempt {
            Attempt::Refused { retry_after } => return Err(rate_limited(retry_after)),
            Attempt::Allowed { count } => count,
        };
        Ok(Ticket {
            keys,
            ip_key,
            count,
        })
    }

    /// Records a failed attempt (already counted by [`Limiter::begin`]); the one that reaches
    /// the threshold locks the user.
    pub async fn failed(&self, ticket: Ticket, now: DateTime<Utc>) -> Result<AfterFailure, Error> {
        if ticket.count < u64::from(self.policy.threshold) {
            return Ok(AfterFailure::Counted);
        }
        let length = self
            .store
            .lock(
                &ticket.keys,
                millis(now),
                self.policy.base,
                MAX_LOCK,
                MEMORY,
            )
            .await?;
        Ok(AfterFailure::Locked(length))
    }

    /// Gives back the counts of an attempt that judged nothing.
    pub async fn cancel(&self, ticket: Ticket) -> Result<(), Error> {
        self.store.release(&ticket.keys.failures).await?;
        if let Some(ip) = &ticket.ip_key {
            self.store.release(ip).await?;
        }
        Ok(())
    }

    /// The subject's failure state as an admin sees it.
    pub async fn state(&self, subject: &Subject, now: DateTime<Utc>) -> Result<LockState, Error> {
        let keys = subject.limiter_keys();
        let number = |v: Option<Vec<u8>>| -> i64 {
            v.and_then(|v| String::from_utf8(v).ok()?.parse().ok())
                .unwrap_or(0)
        };
        let (failures, lock, level) = tokio::join!(
            self.store.get(&keys.failures),
            self.store.get(&keys.lock),
            self.store.get(&keys.level),
        );
        let until = number(lock?);
        Ok(LockState {
            failures: u64::try_from(number(failures?)).unwrap_or(0),
            locked_until: (until > millis(now))
                .then(|| DateTime::from_timestamp_millis(until))
                .flatten(),
            lock_level: u64::try_from(number(level?)).unwrap_or(0),
        })
    }

    /// Admin unlock: the lock, the failure count and the lock level all start again from zero.
    pub async fn unlock(&self, subject: &Subject) -> Result<(), Error> {
        let keys = subject.limiter_keys();
        self.store
            .delete_many(&[&keys.lock, &keys.failures, &keys.level])
            .await?;
        Ok(())
    }

    /// Records a successful attempt: the failure count starts again from zero. An active lock
    /// stays (SEC-17): a success can only have been evaluated before it was set.
    pub async fn succeeded(&self, ticket: Ticket) -> Result<(), Error> {
        match &ticket.ip_key {
            Some(ip) => {
                self.store
                    .clear_and_release(&ticket.keys.failures, ip)
                    .await?
            }
            None => {
                self.store.delete(&ticket.keys.failures).await?;
            }
        }
        Ok(())
    }
}
