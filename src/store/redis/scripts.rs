//! The Lua scripts of the Redis store: each multi-step operation runs atomically on the server.
//! Every multi-key script's keys share one hash tag, so on a cluster they live in one slot.

/// Count-in-window: refuse without counting at the limit; the first hit opens the window. The
/// PTTL guard gives a TTL to a key that somehow has none, so no key lives forever (REL-8).
pub(super) const HIT: &str = r"
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

/// KEYS: failures, lock. ARGV: now (ms, application clock), threshold, window (ms).
/// Returns {allowed, retry_after_ms, count}.
pub(super) const BEGIN_ATTEMPT: &str = r"
local now = tonumber(ARGV[1])
local locked_until = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if locked_until > now then
  return {0, locked_until - now, 0}
end
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[2]) then
  return {0, 1000, count}
end
count = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return {1, 0, count}
";

/// KEYS: failures, lock, level. ARGV: now (ms), base (ms), max (ms), level TTL (ms), slack (ms),
/// highest doubling. Returns the lock length in ms: `factor::lockout::lock_length`, computed here
/// so that raising the level and setting the lock are one atomic step (the store tests hold the
/// two to the same figures).
pub(super) const LOCK: &str = r"
local level = redis.call('INCR', KEYS[3])
local length = math.min(tonumber(ARGV[2]) * 2 ^ math.min(level - 1, tonumber(ARGV[6])), tonumber(ARGV[3]))
length = math.floor(length)
redis.call('PEXPIRE', KEYS[3], length + tonumber(ARGV[4]))
redis.call('SET', KEYS[2], string.format('%d', tonumber(ARGV[1]) + length), 'PX', length + tonumber(ARGV[5]))
redis.call('DEL', KEYS[1])
return length
";

/// Delete-if-equal: KEYS[1], ARGV[1] the expected value. Returns 1 if it deleted.
pub(super) const TAKE_IF_EQUAL: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Gives back one count, never below zero; the TTL stays. A count given back to zero is deleted:
/// an address whose attempts all succeeded leaves nothing behind. KEYS[1]. Returns the new count.
pub(super) const RELEASE: &str = r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if n > 1 then
  return redis.call('DECR', KEYS[1])
end
redis.call('DEL', KEYS[1])
return 0
";

/// DEL as a script, so it can share a round trip with another script. KEYS[1].
pub(super) const CLEAR: &str = r"
return redis.call('DEL', KEYS[1])
";
