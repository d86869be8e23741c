//! Sending a request again, once, when the connection under it was lost.
//!
//! After Redis restarts, the connection the manager holds is dead, and the manager only makes a
//! new one when a request fails on the old one. Whether that request may be sent again depends on
//! what its error proves:
//!
//! - A refused connection ([`redis::RedisError::is_connection_refusal`]): the manager's connection
//!   attempt failed, so nothing was written. Any request is sent again.
//! - A lost connection ([`redis::RedisError::is_connection_dropped`]: broken pipe, reset, end of
//!   stream). The redis crate answers the same `BrokenPipe` when its connection task had died
//!   before the request was queued (never sent) as when it died with the request written and the
//!   answer unread (it may have run): the error cannot tell the two apart. Only an idempotent
//!   request — a read, `PING`, `PTTL`, `PSETEX`, `DEL` — is sent again, since a second run changes
//!   nothing (a `DEL` repeated after it ran answers 0, which no caller relies on).
//! - Anything else (a response timeout, a server error) is final: the request may have run.
//!
//! So that a counting script (a limiter hit, a lock, a single-use take) does not meet a dead
//! connection first, it goes out on a connection that answered within [`PROVEN_FOR`], or after a
//! `PING` on it: the `PING` is what finds the dead connection (and is sent again on the new one).
//! A connection that dies between the two, or within [`PROVEN_FOR`] of its last answer, still
//! fails the script, which is then not repeated: a 503, never a double count.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;

use redis::{RedisError, RedisResult};

use super::conn::{Conn, Target};

/// How recently a connection must have answered for a counting script to skip the `PING`.
const PROVEN_FOR: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    /// Running it twice is running it once.
    Idempotent,
    /// Each run counts (INCR, DECR, SET NX, GETDEL, delete-if-equal): never repeated when it may
    /// have run.
    Counts,
}

/// Whether a request that failed with `e` is sent again (once).
fn repeat(e: &RedisError, effect: Effect) -> bool {
    e.is_connection_refusal() || (effect == Effect::Idempotent && e.is_connection_dropped())
}

impl Conn {
    /// Runs `request` (made afresh for each try) on this connection, sending it again once when
    /// its error allows (see the module).
    pub(super) async fn send<T, F, Fut>(&self, effect: Effect, request: F) -> RedisResult<T>
    where
        F: Fn(Conn) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if effect == Effect::Counts && !self.proven() {
            self.send_once_more(Effect::Idempotent, |mut c| async move {
                redis::cmd("PING").query_async::<()>(&mut c).await
            })
            .await?;
        }
        self.send_once_more(effect, request).await
    }

    async fn send_once_more<T, F, Fut>(&self, effect: Effect, request: F) -> RedisResult<T>
    where
        F: Fn(Conn) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        match request(self.clone()).await {
            Err(e) if repeat(&e, effect) => {
                tracing::debug!(error = %e, "Redis connection lost; sending the request again");
                request(self.clone()).await
            }
            other => other,
        }
    }

    /// Whether the connection answered lately. A cluster connection follows its nodes itself.
    fn proven(&self) -> bool {
        match self.target {
            Target::Cluster(_) => true,
            Target::Single(_) => {
                let last = self.answered_at.load(Ordering::Relaxed);
                let now = self.elapsed_ms();
                last != 0 && now.saturating_sub(last) < millis(PROVEN_FOR)
            }
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind: std::io::ErrorKind) -> RedisError {
        RedisError::from(std::io::Error::from(kind))
    }

    #[test]
    fn only_a_refused_connection_repeats_a_counting_script() {
        use std::io::ErrorKind as K;
        assert!(repeat(&io(K::ConnectionRefused), Effect::Counts));
        for kind in [
            K::BrokenPipe,
            K::ConnectionReset,
            K::UnexpectedEof,
            K::TimedOut,
        ] {
            assert!(!repeat(&io(kind), Effect::Counts), "{kind:?}");
        }
    }

    #[test]
    fn a_lost_connection_repeats_an_idempotent_request_but_a_timeout_does_not() {
        use std::io::ErrorKind as K;
        for kind in [K::ConnectionRefused, K::BrokenPipe, K::ConnectionReset] {
            assert!(repeat(&io(kind), Effect::Idempotent), "{kind:?}");
        }
        assert!(!repeat(&io(K::TimedOut), Effect::Idempotent));
        let server = RedisError::from((redis::ErrorKind::Client, "refused"));
        assert!(!repeat(&server, Effect::Idempotent));
    }
}
