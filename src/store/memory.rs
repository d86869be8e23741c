//! The in-process store: one mutex over a map, so every operation is atomic; expired entries are
//! invisible at once and removed by a sweeper task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use super::{
    Attempt, Claim, Doubling, HeldLock, Hit, LOCK_SLACK, Lift, LimiterKeys, LimiterState, Lockout,
    Owned, OwnedWrite, Stopped,
};

const SWEEP_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
enum Value {
    Counter(u64),
    Bytes(Vec<u8>),
}

#[derive(Debug)]
struct Entry {
    value: Value,
    expires_at: Instant,
}

#[derive(Clone, Default)]
pub struct MemoryStore {
    map: Arc<Mutex<HashMap<String, Entry>>>,
}

impl MemoryStore {
    /// Creates the store and, inside a tokio runtime, its sweeper; the sweeper ends with the store.
    pub fn new() -> MemoryStore {
        let store = MemoryStore::default();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let weak: Weak<Mutex<HashMap<String, Entry>>> = Arc::downgrade(&store.map);
            rt.spawn(async move {
                let mut tick = tokio::time::interval(SWEEP_EVERY);
                loop {
                    tick.tick().await;
                    let Some(map) = weak.upgrade() else { break };
                    let now = Instant::now();
                    lock_map(&map).retain(|_, e| e.expires_at > now);
                }
            });
        }
        store
    }

    fn live<'a>(
        map: &'a mut HashMap<String, Entry>,
        key: &str,
        now: Instant,
    ) -> Option<&'a mut Entry> {
        match map.get(key) {
            Some(e) if e.expires_at <= now => {
                map.remove(key);
                None
            }
            Some(_) => map.get_mut(key),
            None => None,
        }
    }

    pub fn hit(&self, key: &str, limit: u64, window: Duration) -> Hit {
        Self::hit_in(&mut lock_map(&self.map), key, limit, window, Instant::now())
    }

    fn hit_in(
        map: &mut HashMap<String, Entry>,
        key: &str,
        limit: u64,
        window: Duration,
        now: Instant,
    ) -> Hit {
        if let Some(entry) = Self::live(map, key, now) {
            let resets_in = entry.expires_at - now;
            let count = match entry.value {
                Value::Counter(c) => c,
                // A key of the wrong type is a programming error; treat it as a fresh window.
                Value::Bytes(_) => 0,
            };
            if count >= limit {
                return Hit {
                    allowed: false,
                    count,
                    resets_in,
                };
            }
            entry.value = Value::Counter(count + 1);
            return Hit {
                allowed: true,
                count: count + 1,
                resets_in,
            };
        }
        if limit == 0 {
            return Hit {
                allowed: false,
                count: 0,
                resets_in: window,
            };
        }
        map.insert(
            key.to_string(),
            Entry {
                value: Value::Counter(1),
                expires_at: now + window,
            },
        );
        Hit {
            allowed: true,
            count: 1,
            resets_in: window,
        }
    }

    /// Same steps as the Redis CHARGE script, under the map's one mutex.
    pub(super) fn charge(&self, steps: &[Owned]) -> Option<Stopped> {
        let now = Instant::now();
        let mut map = lock_map(&self.map);
        for (step, s) in steps.iter().enumerate() {
            let stopped = |resets_in, tripped| Stopped {
                step,
                resets_in,
                tripped,
            };
            match s {
                Owned::Breaker(key) => {
                    if Self::live(&mut map, key, now).is_some() {
                        return Some(stopped(Duration::ZERO, false));
                    }
                }
                Owned::Limit { key, limit, window } => {
                    let hit = Self::hit_in(&mut map, key, *limit, *window, now);
                    if !hit.allowed {
                        return Some(stopped(hit.resets_in, false));
                    }
                }
                Owned::Budget {
                    key,
                    limit,
                    window,
                    breaker,
                    trip_for,
                } => {
                    let hit = Self::hit_in(&mut map, key, *limit, *window, now);
                    if !hit.allowed {
                        let tripped = Self::set_nx_in(&mut map, breaker, *trip_for, now);
                        return Some(stopped(hit.resets_in, tripped));
                    }
                }
            }
        }
        None
    }

    /// Same steps as the Redis CLAIM script.
    pub fn claim(&self, key: &str, value: &[u8], count_key: &str, ttl: Doubling) -> Claim {
        let now = Instant::now();
        let mut map = lock_map(&self.map);
        if let Some(held) = Self::live(&mut map, key, now) {
            return Claim::Held {
                value: bytes_of(&held.value),
                ttl: Some(held.expires_at - now),
            };
        }
        let ttl = ttl.after(Self::counter(&mut map, count_key, now));
        map.insert(
            key.to_string(),
            Entry {
                value: Value::Bytes(value.to_vec()),
                expires_at: now + ttl,
            },
        );
        Claim::Claimed { ttl }
    }

    /// Same steps as the Redis WRITE_ALL script.
    pub(super) fn write_all(&self, writes: &[OwnedWrite]) {
        let now = Instant::now();
        let mut map = lock_map(&self.map);
        for w in writes {
            match w {
                OwnedWrite::Put(key, value, ttl) => {
                    map.insert(
                        key.clone(),
                        Entry {
                            value: Value::Bytes(value.clone()),
                            expires_at: now + *ttl,
                        },
                    );
                }
                OwnedWrite::Count(key, window) => {
                    Self::add(&mut map, key, 1, *window, now);
                }
                OwnedWrite::Delete(key) => {
                    map.remove(key);
                }
            }
        }
    }

    fn counter(map: &mut HashMap<String, Entry>, key: &str, now: Instant) -> u64 {
        match Self::live(map, key, now) {
            Some(Entry {
                value: Value::Counter(c),
                ..
            }) => *c,
            _ => 0,
        }
    }

    /// Adds `n` to a counter, which starts with a TTL of `ttl` if it was absent.
    fn add(
        map: &mut HashMap<String, Entry>,
        key: &str,
        n: u64,
        ttl: Duration,
        now: Instant,
    ) -> u64 {
        let count = Self::counter(map, key, now).saturating_add(n);
        match Self::live(map, key, now) {
            Some(e) => e.value = Value::Counter(count),
            None => {
                map.insert(
                    key.to_string(),
                    Entry {
                        value: Value::Counter(count),
                        expires_at: now + ttl,
                    },
                );
            }
        }
        count
    }

    /// The lock of `keys`, as its end in the lock's clock.
    fn lock_end(map: &mut HashMap<String, Entry>, keys: &LimiterKeys, now: Instant) -> i64 {
        Self::live(map, &keys.lock, now)
            .and_then(|e| millis_value(&e.value))
            .unwrap_or(0)
    }

    /// Same steps as the Redis BEGIN_ATTEMPT script, under the map's one mutex.
    pub fn begin_attempt(&self, keys: &LimiterKeys, now_ms: Option<i64>, rule: Lockout) -> Attempt {
        let now_ms = now_ms.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        let now = Instant::now();
        let mut map = lock_map(&self.map);
        let until = Self::lock_end(&mut map, keys, now);
        if until > now_ms {
            return Attempt::Refused {
                retry_after: Duration::from_millis((until - now_ms).unsigned_abs()),
            };
        }
        let count = Self::add(&mut map, &keys.failures, 1, rule.memory, now);
        if count < rule.threshold {
            return Attempt::Allowed { count, lock: None };
        }
        let level = Self::counter(&mut map, &keys.level, now) + 1;
        let length = crate::factor::lockout::lock_length(rule.base, rule.max, level);
        map.insert(
            keys.level.clone(),
            Entry {
                value: Value::Counter(level),
                expires_at: now + length + rule.memory,
            },
        );
        let until = now_ms.saturating_add(i64::try_from(length.as_millis()).unwrap_or(i64::MAX));
        map.insert(
            keys.lock.clone(),
            Entry {
                value: Value::Bytes(until.to_string().into_bytes()),
                expires_at: now + length + LOCK_SLACK,
            },
        );
        map.remove(&keys.failures);
        Attempt::Allowed {
            count,
            lock: Some(HeldLock {
                until_ms: until,
                length,
            }),
        }
    }

    /// Same steps as the Redis LIFT script.
    pub fn lift(&self, keys: &LimiterKeys, until_ms: i64, lift: Lift, memory: Duration) {
        let now = Instant::now();
        let mut map = lock_map(&self.map);
        let ours = Self::live(&mut map, &keys.lock, now)
            .is_some_and(|e| millis_value(&e.value) == Some(until_ms));
        if ours {
            map.remove(&keys.lock);
            match Self::live(&mut map, &keys.level, now) {
                Some(Entry {
                    value: Value::Counter(c),
                    ..
                }) if *c > 1 => *c -= 1,
                _ => {
                    map.remove(&keys.level);
                }
            }
            if let Lift::GivenBack { failures } = lift
                && failures > 0
            {
                Self::add(&mut map, &keys.failures, failures, memory, now);
            }
        }
        if lift == Lift::Cleared {
            map.remove(&keys.failures);
        }
    }

    pub fn limiter_state(&self, keys: &LimiterKeys, now_ms: Option<i64>) -> LimiterState {
        let now_ms = now_ms.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        let now = Instant::now();
        let mut map = lock_map(&self.map);
        let left = Self::lock_end(&mut map, keys, now).saturating_sub(now_ms);
        LimiterState {
            failures: Self::counter(&mut map, &keys.failures, now),
            locked_for: (left > 0).then(|| Duration::from_millis(left.unsigned_abs())),
            level: Self::counter(&mut map, &keys.level, now),
        }
    }

    /// Gives back one count; the expiry stays. A count given back to zero is removed.
    pub fn release(&self, key: &str) {
        let mut map = lock_map(&self.map);
        if let Some(Entry {
            value: Value::Counter(c),
            ..
        }) = Self::live(&mut map, key, Instant::now())
        {
            if *c > 1 {
                *c -= 1;
                return;
            }
            map.remove(key);
        }
    }

    pub fn set_nx(&self, key: &str, ttl: Duration) -> bool {
        Self::set_nx_in(&mut lock_map(&self.map), key, ttl, Instant::now())
    }

    fn set_nx_in(map: &mut HashMap<String, Entry>, key: &str, ttl: Duration, now: Instant) -> bool {
        if Self::live(map, key, now).is_some() {
            return false;
        }
        map.insert(
            key.to_string(),
            Entry {
                value: Value::Bytes(b"1".to_vec()),
                expires_at: now + ttl,
            },
        );
        true
    }

    pub fn put(&self, key: &str, value: &[u8], ttl: Duration) {
        lock_map(&self.map).insert(
            key.to_string(),
            Entry {
                value: Value::Bytes(value.to_vec()),
                expires_at: Instant::now() + ttl,
            },
        );
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let mut map = lock_map(&self.map);
        Self::live(&mut map, key, Instant::now()).map(|e| bytes_of(&e.value))
    }

    pub fn delete_many(&self, keys: &[String]) -> u64 {
        let mut map = lock_map(&self.map);
        let now = Instant::now();
        let mut n = 0;
        for k in keys {
            if Self::live(&mut map, k, now).is_some() {
                map.remove(k);
                n += 1;
            }
        }
        n
    }

    pub fn take(&self, key: &str) -> Option<Vec<u8>> {
        let mut map = lock_map(&self.map);
        Self::live(&mut map, key, Instant::now())?;
        map.remove(key).map(|e| bytes_of(&e.value))
    }

    pub fn take_if_equal(&self, key: &str, expected: &[u8]) -> bool {
        let mut map = lock_map(&self.map);
        match Self::live(&mut map, key, Instant::now()) {
            Some(Entry {
                value: Value::Bytes(b),
                ..
            }) if b.as_slice() == expected => {
                map.remove(key);
                true
            }
            _ => false,
        }
    }

    pub fn ttl(&self, key: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut map = lock_map(&self.map);
        Self::live(&mut map, key, now).map(|e| e.expires_at - now)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        lock_map(&self.map).len()
    }
}

fn millis_value(v: &Value) -> Option<i64> {
    match v {
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        Value::Counter(_) => None,
    }
}

fn bytes_of(v: &Value) -> Vec<u8> {
    match v {
        Value::Counter(c) => c.to_string().into_bytes(),
        Value::Bytes(b) => b.clone(),
    }
}

/// A panic while holding the lock cannot leave the map half-written (every update is one
/// assignment), so a poisoned lock is safe to keep using.
fn lock_map<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sweeper_removes_expired_entries() {
        let s = MemoryStore::new();
        s.put("a", b"x", Duration::from_millis(10));
        s.put("b", b"y", Duration::from_secs(60));
        assert_eq!(s.len(), 2);
        tokio::time::sleep(SWEEP_EVERY + Duration::from_millis(200)).await;
        assert_eq!(s.len(), 1, "the expired entry is gone without being read");
    }
}
