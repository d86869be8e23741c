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

/// Runs a list of steps in order, the first refusal ending it (`Store::charge`). ARGV: four values
/// a step: its kind (`b` breaker, `l` limit, `q` budget), limit, window (ms), breaker TTL (ms).
/// KEYS: a step's key, and after a budget's its breaker. A breaker refuses while its key exists;
/// a limit or budget counts as HIT does, and a budget's refusal sets its breaker (SET NX).
/// Returns {0, 0, 0} when every step passed, else {the refusing step (from 1), ms until its
/// window ends (0 for a breaker), 1 if this call tripped the breaker}.
pub(super) const CHARGE: &str = r"
local k = 1
for i = 1, #ARGV / 4 do
  local a = (i - 1) * 4
  local kind, key = ARGV[a + 1], KEYS[k]
  if kind == 'b' then
    if redis.call('EXISTS', key) == 1 then
      return {i, 0, 0}
    end
    k = k + 1
  else
    local limit, window = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
    local count = tonumber(redis.call('GET', key) or '0')
    if count >= limit then
      local ttl = redis.call('PTTL', key)
      if ttl < 0 then ttl = window end
      local tripped = 0
      if kind == 'q' and redis.call('SET', KEYS[k + 1], '1', 'NX', 'PX', ARGV[a + 4]) then
        tripped = 1
      end
      return {i, ttl, tripped}
    end
    redis.call('INCR', key)
    if redis.call('PTTL', key) < 0 then
      redis.call('PEXPIRE', key, window)
    end
    if kind == 'q' then k = k + 2 else k = k + 1 end
  end
end
return {0, 0, 0}
";

/// SET NX with a TTL that doubles with a counter (`Store::claim`). KEYS: the key, the counter.
/// ARGV: the value, base (ms), highest doubling, max (ms). Returns {1, ttl ms, ''} when it set
/// the key, else {0, its PTTL, its value}.
pub(super) const CLAIM: &str = r"
local held = redis.call('GET', KEYS[1])
if held then
  return {0, redis.call('PTTL', KEYS[1]), held}
end
local n = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local ttl = tonumber(ARGV[2]) * 2 ^ math.min(n, tonumber(ARGV[3]))
ttl = math.floor(math.min(ttl, tonumber(ARGV[4])))
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
return {1, ttl, ''}
";

/// Writes in order (`Store::write_all`). KEYS: one a write. ARGV: three values a write: its kind
/// (`p` put, `c` count, `d` delete), its value (a put's), its TTL (ms; a count's window, which
/// starts with its first count, as in HIT).
pub(super) const WRITE_ALL: &str = r"
for i = 1, #KEYS do
  local a = (i - 1) * 3
  local kind, key = ARGV[a + 1], KEYS[i]
  if kind == 'p' then
    redis.call('SET', key, ARGV[a + 2], 'PX', ARGV[a + 3])
  elseif kind == 'c' then
    redis.call('INCR', key)
    if redis.call('PTTL', key) < 0 then
      redis.call('PEXPIRE', key, ARGV[a + 3])
    end
  else
    redis.call('DEL', key)
  end
end
return 0
";

/// The time lock arithmetic reads: ARGV[1] when a hand-moved clock gives it (tests), else the
/// server's `TIME`, one clock for every node, so a node whose clock is off moves no lock's end.
/// Redis 5+ replicates a script's effects, not the script, so reading the time is allowed.
macro_rules! now {
    () => {
        r"
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"
    };
}

/// KEYS: failures, lock, level. ARGV: now (ms, or -1 for the server's time), threshold, memory
/// (ms: the failure count's and the lock level's TTL), base (ms), max (ms), lock slack (ms),
/// highest doubling. Returns {1, count, lock end, lock length} for an admitted attempt (lock end
/// 0 when it locked nothing) or {0, retry after ms, 0, 0}.
///
/// The attempt that reaches the threshold locks in advance, in this same step: its failure then
/// needs no write that could be lost, and its success or give-back lifts the lock (LIFT). The
/// lock length is `factor::lockout::lock_length`, computed here so that raising the level and
/// setting the lock are one atomic step (the store tests hold the two to the same figures). A
/// count left at or above the threshold with no lock (an older version's) reaches it again.
pub(super) const BEGIN_ATTEMPT: &str = concat!(
    now!(),
    r"
local locked_until = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if locked_until > now then
  return {0, locked_until - now, 0, 0}
end
local count = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
if count < tonumber(ARGV[2]) then
  return {1, count, 0, 0}
end
local level = redis.call('INCR', KEYS[3])
local length = math.min(tonumber(ARGV[4]) * 2 ^ math.min(level - 1, tonumber(ARGV[7])), tonumber(ARGV[5]))
length = math.floor(length)
redis.call('PEXPIRE', KEYS[3], length + tonumber(ARGV[3]))
local ends = now + length
redis.call('SET', KEYS[2], string.format('%d', ends), 'PX', length + tonumber(ARGV[6]))
redis.call('DEL', KEYS[1])
return {1, count, ends, length}
"
);

/// Ends an attempt that locked in advance. KEYS: failures, lock, level. ARGV: the lock's end
/// (which names it), failures to count again (a give-back: those before the attempt), clear ('1'
/// for a success: the count goes), memory (ms). Only that lock is lifted, and its level lowered:
/// one set later (after an admin unlock) stays. Returns 1 if it lifted the lock.
pub(super) const LIFT: &str = r"
local lifted = 0
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  if redis.call('DECR', KEYS[3]) <= 0 then
    redis.call('DEL', KEYS[3])
  end
  local back = tonumber(ARGV[2])
  if back > 0 then
    redis.call('INCRBY', KEYS[1], back)
    if redis.call('PTTL', KEYS[1]) < 0 then
      redis.call('PEXPIRE', KEYS[1], ARGV[4])
    end
  end
  lifted = 1
end
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
end
return lifted
";

/// A subject's limiter state in the lock's clock. KEYS: failures, lock, level. ARGV: now (as in
/// BEGIN_ATTEMPT). Returns {failures, ms the lock still lasts (0: none), level}.
pub(super) const STATE: &str = concat!(
    now!(),
    r"
local failures = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local ends = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local level = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
local left = ends - now
if left < 0 then left = 0 end
return {failures, left, level}
"
);

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
