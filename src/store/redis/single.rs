//! One Redis, through a connection manager that is abandoned for a new one when a reply does not
//! come in time.
//!
//! The manager reconnects by itself when its connection is lost (closed, reset, refused). A
//! connection that stops answering without closing — a partition, a NAT or firewall that forgot
//! it, a frozen peer — is not lost to it: a reply timeout leaves the socket in place, and every
//! later request waits on it and times out too, until TCP gives up (~15 min). So a reply that
//! times out abandons the manager, its connection with it, and the next request makes a new one.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::io::tcp::{TcpSettings, socket2::TcpKeepalive};

/// An idle connection is probed after this long without traffic…
const KEEPALIVE_IDLE: Duration = Duration::from_secs(10);
/// …every this long…
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
/// …and given up after this many probes unanswered.
const KEEPALIVE_PROBES: u32 = 3;
/// Data sent and unacknowledged for this long ends the connection. The keepalive's span, so the
/// probes of an idle connection are not cut short.
const USER_TIMEOUT: Duration = Duration::from_secs(25);

/// What the kernel bounds on every socket to Redis: a peer that vanished is noticed within
/// [`USER_TIMEOUT`] whether the connection is busy (unacknowledged data) or idle (keepalive), not
/// after the system's retransmission limit.
pub(super) fn tcp_settings() -> TcpSettings {
    let keepalive = TcpKeepalive::new()
        .with_time(KEEPALIVE_IDLE)
        .with_interval(KEEPALIVE_INTERVAL)
        .with_retries(KEEPALIVE_PROBES);
    TcpSettings::default()
        .set_keepalive(keepalive)
        .set_user_timeout(USER_TIMEOUT)
}

/// The manager in use, numbered so that many requests timing out on it abandon it once.
#[derive(Clone)]
pub(super) struct Managed {
    pub(super) generation: u64,
    pub(super) manager: ConnectionManager,
}

/// Cheap to clone: every clone shares the manager in use.
#[derive(Clone)]
pub(super) struct Single(Arc<Shared>);

struct Shared {
    client: redis::Client,
    config: ConnectionManagerConfig,
    current: RwLock<Managed>,
}

impl Single {
    /// Connects lazily, on first use.
    pub(super) fn new(
        client: redis::Client,
        config: ConnectionManagerConfig,
    ) -> redis::RedisResult<Single> {
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config.clone())?;
        Ok(Single(Arc::new(Shared {
            client,
            config,
            current: RwLock::new(Managed {
                generation: 0,
                manager,
            }),
        })))
    }

    pub(super) fn current(&self) -> Managed {
        self.0
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// After a request on manager `generation`: a reply that timed out abandons it.
    pub(super) fn answered<T>(&self, generation: u64, result: &redis::RedisResult<T>) {
        if result.as_ref().is_err_and(redis::RedisError::is_timeout) {
            self.abandon(generation);
        }
    }

    /// Replaces manager `generation`, unless another request already did. Its connection closes
    /// when the requests still waiting on it have timed out.
    fn abandon(&self, generation: u64) {
        let shared = &self.0;
        let mut current = shared.current.write().unwrap_or_else(|p| p.into_inner());
        if current.generation != generation {
            return;
        }
        match ConnectionManager::new_lazy_with_config(shared.client.clone(), shared.config.clone())
        {
            Ok(manager) => {
                tracing::warn!(
                    "Redis did not answer in time: its connection is abandoned for a new one"
                );
                *current = Managed {
                    generation: generation.wrapping_add(1),
                    manager,
                };
            }
            // Made once already with the same client and configuration, so not expected; the
            // manager in place is kept.
            Err(e) => tracing::error!(error = %e, "could not replace the Redis connection"),
        }
    }
}
