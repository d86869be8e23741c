//! The one limiter every path that accepts a code goes through (SEC-13..17): confirm, verify, and
//! later SMS, recovery and the hosted pages.
//!
//! One failure counter per user (tenant + id) in the store, across devices, sessions, IPs and
//! paths. An attempt is counted *before* its code is evaluated, so parallel guesses cannot exceed
//! the threshold; the attempt that reaches it locks the user in the same store step, for the base
//! time, doubling with each further lock. Its failure then writes nothing (a lost write cannot
//! leave a full count with no lock), and its success or give-back lifts that lock. While locked,
//! every attempt — a correct code too — gets the same 429, its `Retry-After` the lock's true end.
//! Success clears the counter but never a lock another attempt set.
//!
//! Lock ends are reckoned in one clock for every node, the store's (see [`Clock::lock_time`]):
//! a node whose clock is off neither ends a lock early nor keeps one late.
//!
//! A coarse second limit guards against spraying many users from one place (SEC-39): on the
//! hosted pages it counts the browser's address; on an API call the end user's address the key
//! passed as `client_ip`, per tenant, or without one the API key itself, with a limit of its own,
//! so one relying party's failures never block another key or an admin. It counts each attempt
//! as a failure in advance, in the same store round trip as the user's counter, and success gives
//! that count back. So a wrong code costs one store round trip in all; a refusal by one of the
//! two limits gives back the count the other one took, so a refused attempt counts against
//! neither.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::app::users::{Caller, Origin, Subject};
use crate::clock::Clock;
use crate::config::LockoutPolicy;
use crate::error::Error;
use crate::store::{Attempt, HeldLock, IpLimit, Lift, LimiterKeys, Lockout, Store};

/// How long consecutive failures are remembered, and how long a lock level outlives its lock.
const MEMORY: Duration = Duration::from_secs(24 * 3600);
/// The longest lock, however often a user was locked.
const MAX_LOCK: Duration = Duration::from_secs(24 * 3600);
/// At most one audited refusal per refusing counter in this time: a flood of refused attempts
/// writes a bounded number of events.
pub const REFUSALS_AUDITED_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Limiter {
    store: Store,
    policy: LockoutPolicy,
    clock: Arc<dyn Clock>,
}

/// An attempt that may be evaluated; report its outcome with [`Limiter::failed`],
/// [`Limiter::succeeded`] or [`Limiter::cancel`].
#[derive(Debug)]
pub struct Ticket {
    keys: LimiterKeys,
    second: Option<String>,
    /// Set for the attempt that reached the threshold: the lock it set in advance.
    lock: Option<HeldLock>,
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

/// The limit that refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The user is locked.
    User,
    /// A browser's address, or the `client_ip` an API key passed.
    Address,
    /// An API key that passed no `client_ip`.
    Key,
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::User => "user",
            Limit::Address => "address",
            Limit::Key => "key",
        }
    }
}

/// An attempt a limit refused: 429 with `retry_after`, `user_locked` for the user's own lock and
/// `rate_limited` for an address's or a key's limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub limit: Limit,
    pub retry_after: Duration,
    /// The refusing counter's store key: refusals are audited once per counter and window.
    counter: String,
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Error {
        let retry_after_secs =
            r.retry_after.as_secs() + u64::from(r.retry_after.subsec_nanos() > 0);
        match r.limit {
            Limit::User => Error::UserLocked { retry_after_secs },
            Limit::Address | Limit::Key => Error::RateLimited { retry_after_secs },
        }
    }
}

/// The counter an attempt is charged to besides the user's.
struct Second {
    key: String,
    limit: u64,
    which: Limit,
}

impl Limiter {
    pub fn new(store: Store, policy: LockoutPolicy, clock: Arc<dyn Clock>) -> Limiter {
        Limiter {
            store,
            policy,
            clock,
        }
    }

    fn rule(&self) -> Lockout {
        Lockout {
            threshold: u64::from(self.policy.threshold),
            base: self.policy.base,
            max: MAX_LOCK,
            memory: MEMORY,
        }
    }

    /// The lock's clock when a hand-moved one sets it; `None` for the store's.
    fn lock_time(&self) -> Option<i64> {
        self.clock.lock_time().map(|t| t.timestamp_millis())
    }

    fn second(&self, subject: &Subject, caller: &Caller) -> Option<Second> {
        let address = |key: String| Second {
            key,
            limit: u64::from(self.policy.ip_limit),
            which: Limit::Address,
        };
        match &caller.origin {
            // `/` cannot occur in a tenant id nor in an address: these never meet a page's key.
            Origin::Api {
                client_ip: Some(ip),
                ..
            } => Some(address(format!("ipfail:{{{}/{ip}}}", subject.tenant))),
            Origin::Api {
                key_id,
                client_ip: None,
            } => Some(Second {
                key: format!("keyfail:{{{key_id}}}"),
                limit: u64::from(self.policy.key_limit),
                which: Limit::Key,
            }),
            Origin::Browser => caller
                .ip
                .as_ref()
                .map(|ip| address(format!("ipfail:{{{ip}}}"))),
        }
    }

    /// Admits one attempt of `subject` by `caller`, or says which limit refuses it.
    pub async fn begin(
        &self,
        subject: &Subject,
        caller: &Caller,
    ) -> Result<Result<Ticket, Refusal>, Error> {
        let keys = subject.limiter_keys();
        let (rule, now) = (self.rule(), self.lock_time());
        let second = self.second(subject, caller);
        let attempt = match &second {
            None => self.store.begin_attempt(&keys, now, rule).await?,
            Some(second) => {
                let limit = IpLimit {
                    key: &second.key,
                    limit: second.limit,
                    window: self.policy.ip_window,
                };
                let (attempt, by_second) = self
                    .store
                    .begin_attempt_from(&keys, limit, now, rule)
                    .await?;
                match (attempt, by_second.allowed) {
                    // The second limit refuses: the user's counter must not keep this attempt,
                    // nor the lock it may have set.
                    (Attempt::Allowed { lock, .. }, false) => {
                        self.store.give_back(&keys, lock, rule).await?;
                    }
                    (Attempt::Refused { .. }, true) => self.store.release(&second.key).await?,
                    _ => {}
                }
                if !by_second.allowed {
                    return Ok(Err(Refusal {
                        limit: second.which,
                        retry_after: by_second.resets_in,
                        counter: second.key.clone(),
                    }));
                }
                attempt
            }
        };
        let lock = match attempt {
            Attempt::Refused { retry_after } => {
                return Ok(Err(Refusal {
                    limit: Limit::User,
                    retry_after,
                    counter: keys.failures,
                }));
            }
            Attempt::Allowed { lock, .. } => lock,
        };
        Ok(Ok(Ticket {
            keys,
            second: second.map(|s| s.key),
            lock,
        }))
    }

    /// Whether this refusal is the first of its counter in [`REFUSALS_AUDITED_EVERY`]: only
    /// that one is audited. One `SET NX` with a TTL, so racing nodes agree on which one.
    pub async fn first_refusal(&self, refusal: &Refusal) -> Result<bool, Error> {
        let key = format!("refused:{}", refusal.counter);
        Ok(self
            .store
            .consume_once(&key, REFUSALS_AUDITED_EVERY)
            .await?)
    }

    /// Records a failed attempt. It was counted by [`Limiter::begin`], and the one that reached
    /// the threshold locked there: nothing is left to write, so nothing can be lost.
    pub fn failed(&self, ticket: Ticket) -> AfterFailure {
        match ticket.lock {
            Some(lock) => AfterFailure::Locked(lock.length),
            None => AfterFailure::Counted,
        }
    }

    /// Gives back the counts of an attempt that judged nothing (a dependency failed, the key was
    /// revoked meanwhile), or that was no guess (a replay of the code the device last accepted);
    /// the lock it set in advance, if it reached the threshold, goes with it.
    pub async fn cancel(&self, ticket: Ticket) -> Result<(), Error> {
        self.store
            .give_back(&ticket.keys, ticket.lock, self.rule())
            .await?;
        if let Some(second) = &ticket.second {
            self.store.release(second).await?;
        }
        Ok(())
    }

    /// The subject's failure state as an admin sees it. The lock's end is told in this node's
    /// clock: now plus what is left of it in the lock's clock.
    pub async fn state(&self, subject: &Subject) -> Result<LockState, Error> {
        let keys = subject.limiter_keys();
        let state = self.store.limiter_state(&keys, self.lock_time()).await?;
        let now = self.clock.now();
        Ok(LockState {
            failures: state.failures,
            locked_until: state
                .locked_for
                .and_then(|left| TimeDelta::from_std(left).ok())
                .and_then(|left| now.checked_add_signed(left)),
            lock_level: state.level,
        })
    }

    /// How long the next lock of a user at `level` would last.
    pub fn next_lock(&self, level: u64) -> Duration {
        crate::factor::lockout::lock_length(self.policy.base, MAX_LOCK, level.saturating_add(1))
    }

    /// The consecutive failures that lock a user.
    pub fn threshold(&self) -> u32 {
        self.policy.threshold
    }

    /// Admin unlock: the lock, the failure count and the lock level all start again from zero.
    pub async fn unlock(&self, subject: &Subject) -> Result<(), Error> {
        let keys = subject.limiter_keys();
        self.store
            .delete_many(&[&keys.lock, &keys.failures, &keys.level])
            .await?;
        Ok(())
    }

    /// Records a successful attempt: the failure count starts again from zero. A lock stays
    /// (SEC-17): a success can only have been evaluated before it was set, unless this attempt
    /// set it in advance, being the one that reached the threshold; that lock is lifted.
    pub async fn succeeded(&self, ticket: Ticket) -> Result<(), Error> {
        let second = ticket.second.as_deref();
        match (ticket.lock, second) {
            (Some(lock), _) => {
                self.store
                    .lift(&ticket.keys, lock, Lift::Cleared, self.rule(), second)
                    .await?
            }
            (None, Some(second)) => {
                self.store
                    .clear_and_release(&ticket.keys.failures, second)
                    .await?
            }
            (None, None) => {
                self.store.delete(&ticket.keys.failures).await?;
            }
        }
        Ok(())
    }
}
