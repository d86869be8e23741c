//! Ephemeral state with atomic operations: Redis in production, in-process as the embedded default.
//!
//! Both implementations give the same operations the same semantics, and every key gets a TTL
//! (REL-8). [`Store`] adds the configured key prefix and the deadline: a store that does not
//! answer in time is an error, so callers fail closed with 503 (REL-1, REL-3).

mod memory;
mod redis;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use self::memory::MemoryStore;
pub use self::redis::RedisStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store call exceeded its deadline of {0:?}")]
    Timeout(Duration),
}

impl From<StoreError> for crate::error::Error {
    fn from(e: StoreError) -> Self {
        crate::error::Error::unavailable(e)
    }
}

/// The lock key outlives the lock a little: the stored end time decides, the TTL only collects
/// garbage.
const LOCK_SLACK: Duration = Duration::from_secs(60);

/// How a subject's attempts lock it: what [`Store::begin_attempt`] applies atomically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    /// The attempt that reaches this count locks the subject, in advance.
    pub threshold: u64,
    /// The first lock; each further one doubles it ([`crate::factor::lockout::lock_length`]).
    pub base: Duration,
    /// The longest lock.
    pub max: Duration,
    /// How long failures are remembered, and a lock level after its lock ends.
    pub memory: Duration,
}

/// The outcome of [`Store::begin_attempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt may be evaluated; it is the `count`-th since the last reset. The one that
    /// reached the threshold has locked the subject already (`lock`): its success or give-back
    /// lifts that lock ([`Store::lift`]), its failure leaves it.
    Allowed { count: u64, lock: Option<HeldLock> },
    /// Locked for this long.
    Refused { retry_after: Duration },
}

/// A lock set in advance by the attempt that reached the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldLock {
    /// Its end, in milliseconds of the lock's clock: it names this lock among later ones.
    pub until_ms: i64,
    pub length: Duration,
}

/// What lifting a lock set in advance does to the failure count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lift {
    /// The attempt succeeded: the count goes (lock lifted or not).
    Cleared,
    /// The attempt is given back: the failures before it (`threshold − 1`) count again. Others
    /// in flight beside it that ended while the lock stood are not told apart: one given back
    /// then still counts, which errs toward the lock.
    GivenBack { failures: u64 },
}

/// A subject's limiter state as [`Store::limiter_state`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimiterState {
    pub failures: u64,
    /// How long the lock still lasts, in the lock's clock; `None` when not locked.
    pub locked_for: Option<Duration>,
    pub level: u64,
}

/// The keys of one subject's failure limiter; one hash tag so a cluster keeps them in one slot.
#[derive(Debug, Clone)]
pub struct LimiterKeys {
    pub failures: String,
    pub lock: String,
    pub level: String,
}

impl LimiterKeys {
    /// `subject` must not contain `{` or `}` (tenant and user ids cannot).
    pub fn new(subject: &str) -> LimiterKeys {
        LimiterKeys {
            failures: format!("lim:{{{subject}}}:failures"),
            lock: format!("lim:{{{subject}}}:lock"),
            level: format!("lim:{{{subject}}}:level"),
        }
    }
}

/// A limit on the failures of one client address: counted with the attempt, in advance.
#[derive(Debug, Clone, Copy)]
pub struct IpLimit<'a> {
    pub key: &'a str,
    pub limit: u64,
    pub window: Duration,
}

/// The outcome of [`Store::hit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Whether this hit was within the limit (and therefore counted).
    pub allowed: bool,
    /// Hits counted in the current window, this one included when allowed.
    pub count: u64,
    /// Time until the window ends (and the count starts again from zero).
    pub resets_in: Duration,
}

/// One step of [`Store::charge`]: the steps run in order, and the first that refuses ends it.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// A breaker: refuses while the key exists. A read; counts nothing.
    Breaker(&'a str),
    /// A count as [`Store::hit`] does it.
    Limit {
        key: &'a str,
        limit: u64,
        window: Duration,
    },
    /// A count as [`Store::hit`] does it, whose refusal also trips `breaker` (`SET NX`) for
    /// `trip_for`.
    Budget {
        key: &'a str,
        limit: u64,
        window: Duration,
        breaker: &'a str,
        trip_for: Duration,
    },
}

/// Where [`Store::charge`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// The index of the step that refused.
    pub step: usize,
    /// A count's time until its window ends; zero for a breaker.
    pub resets_in: Duration,
    /// A budget's refusal: whether this call tripped its breaker (false when it was set already,
    /// e.g. by a racing call).
    pub tripped: bool,
}

/// [`Doubling::doublings`] is capped here, so that both stores reckon in range.
const MAX_DOUBLINGS: u32 = 31;

/// A TTL of `base × 2^min(n, doublings)`, at most `max`, for a count n ([`Store::claim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Doubling {
    pub base: Duration,
    pub doublings: u32,
    pub max: Duration,
}

impl Doubling {
    pub fn after(&self, n: u64) -> Duration {
        let k = u32::try_from(n.min(u64::from(self.doublings.min(MAX_DOUBLINGS)))).unwrap_or(0);
        self.base.saturating_mul(1 << k).min(self.max)
    }
}

/// The outcome of [`Store::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key was absent and now holds the value for `ttl`.
    Claimed { ttl: Duration },
    /// The key was held already: what it holds and its remaining time to live.
    Held {
        value: Vec<u8>,
        ttl: Option<Duration>,
    },
}

/// One write of [`Store::write_all`].
#[derive(Debug, Clone, Copy)]
pub enum Write<'a> {
    /// As [`Store::put`].
    Put(&'a str, &'a [u8], Duration),
    /// Adds one to a counter whose window starts with its first count ([`Store::hit`] without a
    /// limit).
    Count(&'a str, Duration),
    /// As [`Store::delete`].
    Delete(&'a str),
}

#[derive(Clone)]
enum Backend {
    Memory(MemoryStore),
    Redis(Box<RedisStore>),
}

/// A store with its key prefix and deadline.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    prefix: String,
    timeout: Duration,
    /// Operations asked of the store (for Redis, [`Store::round_trips`] counts the wire).
    ops: Arc<AtomicU64>,
}

impl Store {
    pub fn memory(timeout: Duration) -> Store {
        Store {
            backend: Backend::Memory(MemoryStore::new()),
            prefix: String::new(),
            timeout,
            ops: Arc::default(),
        }
    }

    pub fn redis(url: &str, prefix: &str, timeout: Duration) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Redis(Box::new(RedisStore::new(url, timeout)?)),
            prefix: prefix.to_string(),
            timeout,
            ops: Arc::default(),
        })
    }

    /// A Redis Cluster reached through any of `nodes`.
    pub fn redis_cluster(
        nodes: &[String],
        prefix: &str,
        timeout: Duration,
    ) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Redis(Box::new(RedisStore::cluster(nodes, timeout)?)),
            prefix: prefix.to_string(),
            timeout,
            ops: Arc::default(),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Memory(_) => "in-process",
            Backend::Redis(_) => "redis",
        }
    }

    /// Round trips to the store so far: requests sent to Redis, operations on the in-process
    /// store. The round-trip budget of a verify is tested with it.
    pub fn round_trips(&self) -> u64 {
        match &self.backend {
            Backend::Memory(_) => self.ops.load(Ordering::Relaxed),
            Backend::Redis(r) => r.requests(),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    async fn deadline<T>(
        &self,
        f: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.ops.fetch_add(1, Ordering::Relaxed);
        tokio::time::timeout(self.timeout, f)
            .await
            .unwrap_or(Err(StoreError::Timeout(self.timeout)))
    }

    /// Counts one hit in the window that started with the key's first hit, unless `limit` hits
    /// were already counted there. Atomic: N racing callers with limit L get exactly min(N, L)
    /// `allowed`. Refused hits are not counted.
    pub async fn hit(&self, key: &str, limit: u64, window: Duration) -> Result<Hit, StoreError> {
        let key = self.key(key);
        let window = non_zero(window);
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok(m.hit(&key, limit, window)),
                Backend::Redis(r) => r.hit(&key, limit, window).await,
            }
        })
        .await
    }

    /// Runs `steps` in order as one atomic operation, in one round trip: the first that refuses
    /// ends it, and the counts before it stay counted. On Redis Cluster every key must carry one
    /// hash tag (the operation is one script).
    pub async fn charge(&self, steps: &[Step<'_>]) -> Result<Option<Stopped>, StoreError> {
        let steps: Vec<Owned> = steps.iter().map(|s| self.owned(s)).collect();
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok(m.charge(&steps)),
                Backend::Redis(r) => r.charge(&steps).await,
            }
        })
        .await
    }

    fn owned(&self, step: &Step<'_>) -> Owned {
        match *step {
            Step::Breaker(key) => Owned::Breaker(self.key(key)),
            Step::Limit { key, limit, window } => Owned::Limit {
                key: self.key(key),
                limit,
                window: non_zero(window),
            },
            Step::Budget {
                key,
                limit,
                window,
                breaker,
                trip_for,
            } => Owned::Budget {
                key: self.key(key),
                limit,
                window: non_zero(window),
                breaker: self.key(breaker),
                trip_for: non_zero(trip_for),
            },
        }
    }

    /// Sets `key` to `value` unless it exists (`SET NX`), for a TTL that doubles with the count
    /// held by `count_key`, read in the same atomic step. A key held already is read back in that
    /// step too.
    pub async fn claim(
        &self,
        key: &str,
        value: &[u8],
        count_key: &str,
        ttl: Doubling,
    ) -> Result<Claim, StoreError> {
        let (key, count_key) = (self.key(key), self.key(count_key));
        let ttl = Doubling {
            base: non_zero(ttl.base),
            doublings: ttl.doublings.min(MAX_DOUBLINGS),
            max: non_zero(ttl.max),
        };
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok(m.claim(&key, value, &count_key, ttl)),
                Backend::Redis(r) => r.claim(&key, value, &count_key, ttl).await,
            }
        })
        .await
    }

    /// Makes `writes`, in order, as one atomic operation in one round trip. On Redis Cluster
    /// every key must carry one hash tag (the operation is one script).
    pub async fn write_all(&self, writes: &[Write<'_>]) -> Result<(), StoreError> {
        let writes: Vec<OwnedWrite> = writes
            .iter()
            .map(|w| match *w {
                Write::Put(k, v, ttl) => OwnedWrite::Put(self.key(k), v.to_vec(), non_zero(ttl)),
                Write::Count(k, window) => OwnedWrite::Count(self.key(k), non_zero(window)),
                Write::Delete(k) => OwnedWrite::Delete(self.key(k)),
            })
            .collect();
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => {
                    m.write_all(&writes);
                    Ok(())
                }
                Backend::Redis(r) => r.write_all(&writes).await,
            }
        })
        .await
    }

    /// Starts an attempt at a code, atomically: refused while `keys.lock` holds a time after now;
    /// otherwise counts it and lets it be evaluated, and the attempt that reaches the threshold
    /// locks the subject in the same step. Counting before evaluating is what keeps N parallel
    /// guesses to at most `threshold` evaluated (SEC-15); locking in advance is what leaves no
    /// count at the threshold without a lock, should the attempt's report be lost.
    ///
    /// `now_ms` is the lock's clock: `None` reads the store's own (Redis `TIME`, this process's
    /// clock for the in-process store), the one clock every node shares; a hand-moved test clock
    /// passes its time.
    pub async fn begin_attempt(
        &self,
        keys: &LimiterKeys,
        now_ms: Option<i64>,
        rule: Lockout,
    ) -> Result<Attempt, StoreError> {
        let keys = self.limiter_keys(keys);
        let rule = non_zero_lockout(rule);
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok(m.begin_attempt(&keys, now_ms, rule)),
                Backend::Redis(r) => r.begin_attempt(&keys, now_ms, rule).await,
            }
        })
        .await
    }

    /// [`Store::begin_attempt`] and, in the same round trip, a [`Store::hit`] on the client
    /// address's failure count: the attempt counts as a failure of the address in advance. Either
    /// may refuse; the side that did not refuse has counted, and its caller gives that back (the
    /// address's count with [`Store::release`], the user's with [`Store::give_back`]).
    pub async fn begin_attempt_from(
        &self,
        keys: &LimiterKeys,
        ip: IpLimit<'_>,
        now_ms: Option<i64>,
        rule: Lockout,
    ) -> Result<(Attempt, Hit), StoreError> {
        let keys = self.limiter_keys(keys);
        let ip_key = self.key(ip.key);
        let (rule, ip_window) = (non_zero_lockout(rule), non_zero(ip.window));
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok((
                    m.begin_attempt(&keys, now_ms, rule),
                    m.hit(&ip_key, ip.limit, ip_window),
                )),
                Backend::Redis(r) => {
                    let ip = (ip_key.as_str(), ip.limit, ip_window);
                    r.begin_with_ip(&keys, now_ms, rule, ip).await
                }
            }
        })
        .await
    }

    /// Gives back an admitted attempt that judged nothing: one count of the user's failures, or,
    /// for the attempt that locked in advance, that lock (see [`Store::lift`]).
    pub async fn give_back(
        &self,
        keys: &LimiterKeys,
        lock: Option<HeldLock>,
        rule: Lockout,
    ) -> Result<(), StoreError> {
        match lock {
            None => self.release(&keys.failures).await,
            Some(lock) => {
                let failures = rule.threshold.saturating_sub(1);
                self.lift(keys, lock, Lift::GivenBack { failures }, rule, None)
                    .await
            }
        }
    }

    /// Lifts the lock an attempt set in advance, if it is still that lock (an admin may have
    /// unlocked meanwhile, and another lock started): the lock goes and its level drops back,
    /// and the failure count is cleared or given back per `lift`. In the same round trip,
    /// `release` (the address's or key's count) gets one count back.
    pub async fn lift(
        &self,
        keys: &LimiterKeys,
        lock: HeldLock,
        lift: Lift,
        rule: Lockout,
        release: Option<&str>,
    ) -> Result<(), StoreError> {
        let keys = self.limiter_keys(keys);
        let release = release.map(|k| self.key(k));
        let memory = non_zero(rule.memory);
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => {
                    m.lift(&keys, lock.until_ms, lift, memory);
                    if let Some(r) = &release {
                        m.release(r);
                    }
                    Ok(())
                }
                Backend::Redis(r) => {
                    r.lift(&keys, lock.until_ms, lift, memory, release.as_deref())
                        .await
                }
            }
        })
        .await
    }

    /// The subject's failure count, lock and lock level, the lock read in the lock's clock
    /// (`now_ms` as in [`Store::begin_attempt`]).
    pub async fn limiter_state(
        &self,
        keys: &LimiterKeys,
        now_ms: Option<i64>,
    ) -> Result<LimiterState, StoreError> {
        let keys = self.limiter_keys(keys);
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok(m.limiter_state(&keys, now_ms)),
                Backend::Redis(r) => r.limiter_state(&keys, now_ms).await,
            }
        })
        .await
    }

    fn limiter_keys(&self, keys: &LimiterKeys) -> LimiterKeys {
        LimiterKeys {
            failures: self.key(&keys.failures),
            lock: self.key(&keys.lock),
            level: self.key(&keys.level),
        }
    }

    /// Gives back one count of a counter; its expiry stays. At zero the key goes: an address
    /// whose attempts all succeeded leaves nothing in the store.
    pub async fn release(&self, key: &str) -> Result<(), StoreError> {
        let key = self.key(key);
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => {
                    m.release(&key);
                    Ok(())
                }
                Backend::Redis(r) => r.release(&key).await,
            }
        })
        .await
    }

    /// Deletes `clear` and gives back one count of `release`, in one round trip.
    pub async fn clear_and_release(&self, clear: &str, release: &str) -> Result<(), StoreError> {
        let (clear, release) = (self.key(clear), self.key(release));
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => {
                    m.delete_many(std::slice::from_ref(&clear));
                    m.release(&release);
                    Ok(())
                }
                Backend::Redis(r) => r.clear_and_release(&clear, &release).await,
            }
        })
        .await
    }

    /// Sets the key if it is absent (`SET NX`); true for the one caller that set it.
    pub async fn consume_once(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        let key = self.key(key);
        let ttl = non_zero(ttl);
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok(m.set_nx(&key, ttl)),
                Backend::Redis(r) => r.set_nx(&key, ttl).await,
            }
        })
        .await
    }

    /// Stores `value` under the key for `ttl`, replacing what was there.
    pub async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let key = self.key(key);
        let ttl = non_zero(ttl);
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => {
                    m.put(&key, value, ttl);
                    Ok(())
                }
                Backend::Redis(r) => r.put(&key, value, ttl).await,
            }
        })
        .await
    }

    /// Reads the value without removing it.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = self.key(key);
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok(m.get(&key)),
                Backend::Redis(r) => r.get(&key).await,
            }
        })
        .await
    }

    /// Removes and returns the value: of racing callers, exactly one gets it.
    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = self.key(key);
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok(m.take(&key)),
                Backend::Redis(r) => r.take(&key).await,
            }
        })
        .await
    }

    /// Removes the key only if it still holds `expected`; true for the one caller that did.
    /// Check-then-take in one step: a value replaced meanwhile (a resent code) is left alone.
    pub async fn take_if_equal(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError> {
        let key = self.key(key);
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok(m.take_if_equal(&key, expected)),
                Backend::Redis(r) => r.take_if_equal(&key, expected).await,
            }
        })
        .await
    }

    /// Removes the key; true if it existed.
    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let key = self.key(key);
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok(m.take(&key).is_some()),
                Backend::Redis(r) => r.delete(&key).await,
            }
        })
        .await
    }

    /// Deletes several keys at once (one hash tag: a cluster keeps them in one slot); returns
    /// how many existed.
    pub async fn delete_many(&self, keys: &[&str]) -> Result<u64, StoreError> {
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok(m.delete_many(&keys)),
                Backend::Redis(r) => r.delete_many(&keys).await,
            }
        })
        .await
    }

    /// Remaining time to live of a key, `None` if absent.
    pub async fn ttl(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        let key = self.key(key);
        self.deadline(async {
            match &self.backend {
                Backend::Memory(m) => Ok(m.ttl(&key)),
                Backend::Redis(r) => r.ttl(&key).await,
            }
        })
        .await
    }

    /// Readiness: within the deadline, the store shows it can serve every key (on a Redis
    /// Cluster, every slot: see `redis/ready.rs`).
    pub async fn ready(&self) -> Result<(), StoreError> {
        let probe = self.key("ready:");
        self.deadline(async {
            match &self.backend {
                Backend::Memory(_) => Ok(()),
                Backend::Redis(r) => r.ready(&probe).await,
            }
        })
        .await
    }
}

/// A [`Step`] with the prefix on its keys and its durations made non-zero.
#[derive(Debug, Clone)]
enum Owned {
    Breaker(String),
    Limit {
        key: String,
        limit: u64,
        window: Duration,
    },
    Budget {
        key: String,
        limit: u64,
        window: Duration,
        breaker: String,
        trip_for: Duration,
    },
}

/// A [`Write`] with the prefix on its key and its duration made non-zero.
#[derive(Debug, Clone)]
enum OwnedWrite {
    Put(String, Vec<u8>, Duration),
    Count(String, Duration),
    Delete(String),
}

/// A zero TTL would mean "no expiry" to some commands; every key must expire (REL-8).
fn non_zero(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}

fn non_zero_lockout(rule: Lockout) -> Lockout {
    Lockout {
        memory: non_zero(rule.memory),
        ..rule
    }
}
