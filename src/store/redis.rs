//! The Redis store: one multiplexed connection that reconnects by itself; multi-step operations
//! are Lua scripts, so each runs atomically on the server.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

use super::{Hit, StoreError};

/// Count-in-window: refuse without counting at the limit; the first hit opens the window. The
/// PTTL guard gives a TTL to a key that somehow has none, so no key lives forever (REL-8).
const HIT: &str = r"
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= limit then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then ttl = window end
  return {0, count, ttl}
end
count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
  ttl = window
end
return {1, count, ttl}
";

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    hit: Script,
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisStore {
    /// Connects lazily: a Redis that is down at start is retried on use (503 meanwhile), and a
    /// lost connection is re-established by the manager without a restart.
    pub fn new(url: &str, timeout: Duration) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        Ok(RedisStore {
            conn,
            hit: Script::new(HIT),
        })
    }

    pub async fn hit(&self, key: &str, limit: u64, window: Duration) -> Result<Hit, StoreError> {
        let mut conn = self.conn.clone();
        let (allowed, count, ttl): (i64, i64, i64) = self
            .hit
            .key(key)
            .arg(limit)
            .arg(millis(window))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(Hit {
            allowed: allowed == 1,
            count: u64::try_from(count).unwrap_or(0),
            resets_in: Duration::from_millis(u64::try_from(ttl).unwrap_or(0)),
        })
    }

    pub async fn set_nx(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }

    pub async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        conn.pset_ex::<_, _, ()>(key, value, millis(ttl))
            .await
            .map_err(unavailable)
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn.clone();
        conn.get(key).await.map_err(unavailable)
    }

    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn.clone();
        conn.get_del(key).await.map_err(unavailable)
    }

    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let n: i64 = conn.del(key).await.map_err(unavailable)?;
        Ok(n > 0)
    }

    pub async fn ttl(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        let mut conn = self.conn.clone();
        let ms: i64 = conn.pttl(key).await.map_err(unavailable)?;
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }
}
