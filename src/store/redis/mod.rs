//! The Redis store: one multiplexed connection that reconnects by itself (or, on Redis Cluster, one
//! cluster connection that follows the slots); multi-step operations are Lua scripts, so each runs
//! atomically on the server. Every multi-key script's keys share one hash tag, so on a cluster they
//! live in one slot.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use redis::aio::ConnectionManagerConfig;
use redis::{AsyncCommands, FromRedisValue, Script, ScriptInvocation};
use tokio::sync::OnceCell;

use super::{
    Attempt, Claim, Doubling, HeldLock, Hit, Lift, LimiterKeys, LimiterState, Lockout, Owned,
    OwnedWrite, Stopped, StoreError,
};

use self::scripts::{
    BEGIN_ATTEMPT, CHARGE, CLAIM, CLEAR, HIT, LIFT, RELEASE, STATE, TAKE_IF_EQUAL, WRITE_ALL,
};

mod conn;
mod ready;
mod retry;
mod scripts;
mod single;
mod slots;

use self::conn::{Conn, LazyCluster, Target};
use self::retry::Effect;
use self::single::Single;

#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    hit: Script,
    begin_attempt: Script,
    lift: Script,
    state: Script,
    take_if_equal: Script,
    release: Script,
    clear: Script,
    charge: Script,
    claim: Script,
    write_all: Script,
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// What the HIT script answers: {allowed, count, ttl ms}.
fn hit_of((allowed, count, ttl): (i64, i64, i64)) -> Hit {
    Hit {
        allowed: allowed == 1,
        count: u64::try_from(count).unwrap_or(0),
        resets_in: Duration::from_millis(u64::try_from(ttl).unwrap_or(0)),
    }
}

/// What the BEGIN_ATTEMPT script answers: {1, count, lock end, lock length} or
/// {0, retry after ms, 0, 0}.
fn attempt_of((allowed, n, until, length): (i64, i64, i64, i64)) -> Attempt {
    if allowed == 1 {
        Attempt::Allowed {
            count: u64::try_from(n).unwrap_or(0),
            lock: (until > 0).then(|| HeldLock {
                until_ms: until,
                length: Duration::from_millis(length.unsigned_abs()),
            }),
        }
    } else {
        Attempt::Refused {
            retry_after: Duration::from_millis(n.unsigned_abs()),
        }
    }
}

/// The time argument of the lock scripts: -1 asks for the server's.
fn now_arg(now_ms: Option<i64>) -> i64 {
    now_ms.map_or(-1, |n| n.max(0))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisStore {
    /// Connects lazily: a Redis that is down at start is retried on use (503 meanwhile), and a
    /// lost connection is re-established without a restart — one that stopped answering too
    /// (see `single.rs`).
    pub fn new(url: &str, timeout: Duration) -> Result<RedisStore, StoreError> {
        let info = redis::IntoConnectionInfo::into_connection_info(url).map_err(unavailable)?;
        let client = redis::Client::open(info.set_tcp_settings(single::tcp_settings()))
            .map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let single = Single::new(client, config).map_err(unavailable)?;
        Ok(RedisStore::with(Conn::new(Target::Single(single))?))
    }

    /// A Redis Cluster, reached through any of `nodes` (it learns the others).
    pub fn cluster(nodes: &[String], timeout: Duration) -> Result<RedisStore, StoreError> {
        let client = redis::cluster::ClusterClient::builder(nodes.to_vec())
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .tcp_settings(single::tcp_settings())
            .retries(2)
            .build()
            .map_err(unavailable)?;
        Ok(RedisStore::with(Conn::new(Target::Cluster(LazyCluster {
            client: Arc::new(client),
            conn: Arc::new(OnceCell::new()),
        }))?))
    }

    fn with(conn: Conn) -> RedisStore {
        RedisStore {
            conn,
            hit: Script::new(HIT),
            begin_attempt: Script::new(BEGIN_ATTEMPT),
            lift: Script::new(LIFT),
            state: Script::new(STATE),
            take_if_equal: Script::new(TAKE_IF_EQUAL),
            release: Script::new(RELEASE),
            clear: Script::new(CLEAR),
            charge: Script::new(CHARGE),
            claim: Script::new(CLAIM),
            write_all: Script::new(WRITE_ALL),
        }
    }

    /// Requests sent to Redis so far: the round-trip budget of a verify is tested with it.
    pub fn requests(&self) -> u64 {
        self.conn.requests.load(Ordering::Relaxed)
    }

    /// Two scripts in one round trip: a pipeline on one Redis; on a cluster, where their keys may
    /// live on two nodes, two requests at once. Each side's outcome comes back on its own: one may
    /// have run when the other failed, and the caller must know which.
    async fn pair<A: FromRedisValue, B: FromRedisValue>(
        &self,
        (script_a, a): (&Script, &ScriptInvocation<'_>),
        (script_b, b): (&Script, &ScriptInvocation<'_>),
    ) -> (redis::RedisResult<A>, redis::RedisResult<B>) {
        if let Target::Cluster(_) = self.conn.target {
            let (mut conn, mut other) = (self.conn.clone(), self.conn.clone());
            return tokio::join!(a.invoke_async(&mut conn), b.invoke_async(&mut other));
        }
        // SCRIPT LOAD first, in the same pipeline: a server that lost its script cache (a
        // restart, SCRIPT FLUSH) would otherwise run one script and refuse the other, and a
        // retry of both would run the first twice.
        let mut pipe = redis::pipe();
        pipe.load_script(script_a)
            .ignore()
            .load_script(script_b)
            .ignore()
            .invoke_script(a)
            .invoke_script(b);
        let sent = self.conn.send(Effect::Counts, |mut conn| {
            let pipe = &pipe;
            async move { pipe.query_async::<(A, B)>(&mut conn).await }
        });
        match sent.await {
            Ok((x, y)) => (Ok(x), Ok(y)),
            // Sent as one pipeline: either both ran or the answer is lost.
            Err(e) => {
                let copy = redis::RedisError::from((e.kind(), "pipeline failed", e.to_string()));
                (Err(e), Err(copy))
            }
        }
    }

    /// Runs a prepared script: a counting one, so never sent twice (see `retry.rs`).
    async fn run_script<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        self.conn
            .send(Effect::Counts, |mut c| async move {
                invocation.invoke_async(&mut c).await
            })
            .await
            .map_err(unavailable)
    }

    pub async fn hit(&self, key: &str, limit: u64, window: Duration) -> Result<Hit, StoreError> {
        let mut hit = self.hit.prepare_invoke();
        hit.key(key).arg(limit).arg(millis(window));
        let (allowed, count, ttl): (i64, i64, i64) = self.run_script(&hit).await?;
        Ok(hit_of((allowed, count, ttl)))
    }

    /// The CHARGE script over `steps`.
    pub(in crate::store) async fn charge(
        &self,
        steps: &[Owned],
    ) -> Result<Option<Stopped>, StoreError> {
        let mut charge = self.charge.prepare_invoke();
        for step in steps {
            match step {
                Owned::Breaker(key) => {
                    charge.key(key).arg("b").arg(0).arg(0).arg(0);
                }
                Owned::Limit { key, limit, window } => {
                    charge
                        .key(key)
                        .arg("l")
                        .arg(*limit)
                        .arg(millis(*window))
                        .arg(0);
                }
                Owned::Budget {
                    key,
                    limit,
                    window,
                    breaker,
                    trip_for,
                } => {
                    charge.key(key).key(breaker);
                    charge
                        .arg("q")
                        .arg(*limit)
                        .arg(millis(*window))
                        .arg(millis(*trip_for));
                }
            }
        }
        let (step, ttl, tripped): (i64, i64, i64) = self.run_script(&charge).await?;
        Ok(usize::try_from(step)
            .ok()
            .and_then(|s| s.checked_sub(1))
            .map(|step| Stopped {
                step,
                resets_in: Duration::from_millis(u64::try_from(ttl).unwrap_or(0)),
                tripped: tripped == 1,
            }))
    }

    /// The CLAIM script.
    pub async fn claim(
        &self,
        key: &str,
        value: &[u8],
        count_key: &str,
        ttl: Doubling,
    ) -> Result<Claim, StoreError> {
        let mut claim = self.claim.prepare_invoke();
        claim
            .key(key)
            .key(count_key)
            .arg(value)
            .arg(millis(ttl.base))
            .arg(ttl.doublings)
            .arg(millis(ttl.max));
        let (set, ttl_ms, held): (i64, i64, Vec<u8>) = self.run_script(&claim).await?;
        let ttl = u64::try_from(ttl_ms).ok().map(Duration::from_millis);
        Ok(if set == 1 {
            Claim::Claimed {
                ttl: ttl.unwrap_or_default(),
            }
        } else {
            Claim::Held { value: held, ttl }
        })
    }

    /// The WRITE_ALL script over `writes`.
    pub(in crate::store) async fn write_all(
        &self,
        writes: &[OwnedWrite],
    ) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut write = self.write_all.prepare_invoke();
        for w in writes {
            match w {
                OwnedWrite::Put(key, value, ttl) => {
                    write
                        .key(key)
                        .arg("p")
                        .arg(value.as_slice())
                        .arg(millis(*ttl));
                }
                OwnedWrite::Count(key, window) => {
                    write.key(key).arg("c").arg("").arg(millis(*window));
                }
                OwnedWrite::Delete(key) => {
                    write.key(key).arg("d").arg("").arg(0);
                }
            }
        }
        let _: i64 = self.run_script(&write).await?;
        Ok(())
    }

    fn begin_invocation<'a>(
        &'a self,
        keys: &LimiterKeys,
        now_ms: Option<i64>,
        rule: Lockout,
    ) -> ScriptInvocation<'a> {
        let mut begin = self.begin_attempt.prepare_invoke();
        begin
            .key(&keys.failures)
            .key(&keys.lock)
            .key(&keys.level)
            .arg(now_arg(now_ms))
            .arg(rule.threshold)
            .arg(millis(rule.memory))
            .arg(millis(rule.base))
            .arg(millis(rule.max))
            .arg(millis(super::LOCK_SLACK))
            .arg(crate::factor::lockout::MAX_DOUBLINGS);
        begin
    }

    pub async fn begin_attempt(
        &self,
        keys: &LimiterKeys,
        now_ms: Option<i64>,
        rule: Lockout,
    ) -> Result<Attempt, StoreError> {
        let begin = self.begin_invocation(keys, now_ms, rule);
        let answer: (i64, i64, i64, i64) = self.run_script(&begin).await?;
        Ok(attempt_of(answer))
    }

    /// [`RedisStore::hit`] on `ip` and [`RedisStore::begin_attempt`] in one round trip.
    pub async fn begin_with_ip(
        &self,
        keys: &LimiterKeys,
        now_ms: Option<i64>,
        rule: Lockout,
        ip: (&str, u64, Duration),
    ) -> Result<(Attempt, Hit), StoreError> {
        let user = self.begin_invocation(keys, now_ms, rule);
        let mut by_ip = self.hit.prepare_invoke();
        by_ip.key(ip.0).arg(ip.1).arg(millis(ip.2));
        let (user_side, ip_side): (redis::RedisResult<(i64, i64, i64, i64)>, _) = self
            .pair((&self.begin_attempt, &user), (&self.hit, &by_ip))
            .await;
        match (user_side, ip_side) {
            (Ok(u), Ok(i)) => Ok((attempt_of(u), hit_of(i))),
            // On a cluster one side may have counted alone: give it back, or a user could be
            // left counted (or locked) for an attempt that was never evaluated.
            (Ok(u), Err(e)) => {
                if let Attempt::Allowed { lock, .. } = attempt_of(u) {
                    self.give_attempt_back(keys, lock, rule).await;
                }
                Err(unavailable(e))
            }
            (Err(e), Ok(i)) => {
                if hit_of(i).allowed {
                    self.give_back(ip.0).await;
                }
                Err(unavailable(e))
            }
            (Err(e), Err(_)) => Err(unavailable(e)),
        }
    }

    /// Gives back the user's side of an attempt that failed on the address's side.
    async fn give_attempt_back(&self, keys: &LimiterKeys, lock: Option<HeldLock>, rule: Lockout) {
        let given = match lock {
            None => self.release(&keys.failures).await,
            Some(lock) => {
                let back = Lift::GivenBack {
                    failures: rule.threshold.saturating_sub(1),
                };
                self.lift(keys, lock.until_ms, back, rule.memory, None)
                    .await
            }
        };
        if let Err(e) = given {
            tracing::warn!(error = %e, "could not give back an unevaluated attempt");
        }
    }

    /// [`RedisStore::release`] for an error path that already answers with an error of its own.
    async fn give_back(&self, key: &str) {
        if let Err(e) = self.release(key).await {
            tracing::warn!(error = %e, "could not give back an uncounted attempt");
        }
    }

    pub async fn release(&self, key: &str) -> Result<(), StoreError> {
        let mut release = self.release.prepare_invoke();
        release.key(key);
        let _: i64 = self.run_script(&release).await?;
        Ok(())
    }

    /// Deletes `clear` and releases one count of `release`, in one round trip.
    pub async fn clear_and_release(&self, clear: &str, release: &str) -> Result<(), StoreError> {
        let mut c = self.clear.prepare_invoke();
        c.key(clear);
        let mut r = self.release.prepare_invoke();
        r.key(release);
        let (cleared, released): (redis::RedisResult<i64>, redis::RedisResult<i64>) =
            self.pair((&self.clear, &c), (&self.release, &r)).await;
        cleared.map_err(unavailable)?;
        released.map_err(unavailable)?;
        Ok(())
    }

    /// Lifts a lock set in advance (the LIFT script), paired with a release of `release`.
    pub async fn lift(
        &self,
        keys: &LimiterKeys,
        until_ms: i64,
        lift: Lift,
        memory: Duration,
        release: Option<&str>,
    ) -> Result<(), StoreError> {
        let (back, clear) = match lift {
            Lift::Cleared => (0, 1),
            Lift::GivenBack { failures } => (failures, 0),
        };
        let mut l = self.lift.prepare_invoke();
        l.key(&keys.failures)
            .key(&keys.lock)
            .key(&keys.level)
            .arg(until_ms)
            .arg(back)
            .arg(clear)
            .arg(millis(memory));
        let Some(release) = release else {
            let _: i64 = self.run_script(&l).await?;
            return Ok(());
        };
        let mut r = self.release.prepare_invoke();
        r.key(release);
        let (lifted, released): (redis::RedisResult<i64>, redis::RedisResult<i64>) =
            self.pair((&self.lift, &l), (&self.release, &r)).await;
        lifted.map_err(unavailable)?;
        released.map_err(unavailable)?;
        Ok(())
    }

    pub async fn limiter_state(
        &self,
        keys: &LimiterKeys,
        now_ms: Option<i64>,
    ) -> Result<LimiterState, StoreError> {
        let mut state = self.state.prepare_invoke();
        state
            .key(&keys.failures)
            .key(&keys.lock)
            .key(&keys.level)
            .arg(now_arg(now_ms));
        let (failures, left, level): (i64, i64, i64) = self
            .conn
            .send(Effect::Idempotent, |mut c| {
                let state = &state;
                async move { state.invoke_async(&mut c).await }
            })
            .await
            .map_err(unavailable)?;
        Ok(LimiterState {
            failures: u64::try_from(failures).unwrap_or(0),
            locked_for: (left > 0).then(|| Duration::from_millis(left.unsigned_abs())),
            level: u64::try_from(level).unwrap_or(0),
        })
    }

    pub async fn set_nx(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut set_nx = redis::cmd("SET");
        set_nx.arg(key).arg(1).arg("NX").arg("PX").arg(millis(ttl));
        let set: Option<String> = self
            .conn
            .send(Effect::Counts, |mut c| {
                let set_nx = &set_nx;
                async move { set_nx.query_async(&mut c).await }
            })
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }

    pub async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.conn
            .send(Effect::Idempotent, |mut c| async move {
                c.pset_ex::<_, _, ()>(key, value, millis(ttl)).await
            })
            .await
            .map_err(unavailable)
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .send(Effect::Idempotent, |mut c| async move { c.get(key).await })
            .await
            .map_err(unavailable)
    }

    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .send(Effect::Counts, |mut c| async move { c.get_del(key).await })
            .await
            .map_err(unavailable)
    }

    pub async fn take_if_equal(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError> {
        let mut take = self.take_if_equal.prepare_invoke();
        take.key(key).arg(expected);
        let n: i64 = self.run_script(&take).await?;
        Ok(n == 1)
    }

    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn
            .send(Effect::Idempotent, |mut c| async move { c.del(key).await })
            .await
            .map_err(unavailable)?;
        Ok(n > 0)
    }

    pub async fn delete_many(&self, keys: &[String]) -> Result<u64, StoreError> {
        if keys.is_empty() {
            return Ok(0);
        }
        let n: u64 = self
            .conn
            .send(Effect::Idempotent, |mut c| async move { c.del(keys).await })
            .await
            .map_err(unavailable)?;
        Ok(n)
    }

    pub async fn ttl(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        let ms: i64 = self
            .conn
            .send(Effect::Idempotent, |mut c| async move { c.pttl(key).await })
            .await
            .map_err(unavailable)?;
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.conn
            .send(Effect::Idempotent, |mut c| async move {
                redis::cmd("PING").query_async::<String>(&mut c).await
            })
            .await
            .map(|_| ())
            .map_err(unavailable)
    }
}
