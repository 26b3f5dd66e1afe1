import { createHash } from 'node:crypto';

import type { Cluster, Redis } from 'ioredis';

/**
 * The Lua scripts behind RedisCoordinator. Each multi-step operation is one script so it is
 * atomic and costs one round trip. Scripts read the clock with TIME so every instance agrees on
 * what has expired, whatever the instances' own clocks say.
 *
 * Amounts and TTLs are passed on to Redis as the ARGV strings they arrived as: Lua would format
 * a number converted back to a string as `1e+15`, which INCRBY and PEXPIRE refuse.
 */

const NOW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/**
 * KEYS: counter keys in request order, their n seed-marker keys, then the lease key when
 *       ARGV[2] == '1', then the key to touch when a touch TTL follows the lease arguments.
 * ARGV: n, hasLease, (amount, limit or '', ttlMs or '', seeded '1' or '') per counter,
 *       then member, leaseLimit, leaseTtlMs, graceMs when hasLease, then touchTtlMs if touching.
 * Reply: ok, kind (0 none, 1 counter, 2 lease, 3 unseeded), index (0-based), current, limit,
 *        resetAt or retryAt (-1 none), n values, n reset times (-1 none), n seed generations
 *        ('' for counters not seeded), then when admitted with a touch: the touched value (nil
 *        when missing).
 */
const ADMIT = `${NOW}
local n = tonumber(ARGV[1])
local has_lease = ARGV[2] == '1'
local values, resets, gens = {}, {}, {}

local function reset_at(key)
  local pttl = redis.call('PTTL', key)
  if pttl > 0 then return now + pttl end
  return -1
end

local function reply(ok, kind, index, current, limit, at)
  local out = { ok, kind, index, current, limit, at }
  for i = 1, n do out[6 + i] = values[i] end
  for i = 1, n do out[6 + n + i] = resets[i] end
  for i = 1, n do out[6 + 2 * n + i] = gens[i] end
  return out
end

for i = 1, n do
  values[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  resets[i] = reset_at(KEYS[i])
  gens[i] = ''
end
for i = 1, n do
  if ARGV[3 + (i - 1) * 4 + 3] == '1' then
    local gen = redis.call('GET', KEYS[n + i])
    if not gen then return reply(0, 3, i - 1, 0, 0, -1) end
    gens[i] = gen
  end
end

-- Check everything before writing anything; a key listed twice sees the amounts before it.
local pending = {}
for i = 1, n do
  local a = 3 + (i - 1) * 4
  local amount = tonumber(ARGV[a])
  local current = pending[KEYS[i]] or values[i]
  if ARGV[a + 1] ~= '' and current + amount > tonumber(ARGV[a + 1]) then
    return reply(0, 1, i - 1, current, tonumber(ARGV[a + 1]), resets[i])
  end
  pending[KEYS[i]] = current + amount
end

local lease_key, lease_arg = KEYS[2 * n + 1], 3 + n * 4
if has_lease then
  local limit = tonumber(ARGV[lease_arg + 1])
  redis.call('ZREMRANGEBYSCORE', lease_key, '-inf', now)
  local current = redis.call('ZCARD', lease_key)
  -- Admitting a lease id that is already held refreshes it instead of taking a second slot.
  if redis.call('ZSCORE', lease_key, ARGV[lease_arg]) then current = current - 1 end
  if current >= limit then
    local first = redis.call('ZRANGE', lease_key, 0, 0, 'WITHSCORES')
    local retry_at = -1
    if first[2] then retry_at = tonumber(first[2]) end
    return reply(0, 2, 0, current, limit, retry_at)
  end
end

for i = 1, n do
  local a = 3 + (i - 1) * 4
  local existed = redis.call('EXISTS', KEYS[i]) == 1
  -- Reading a missing counter (amount 0) must not open a window.
  if existed or tonumber(ARGV[a]) ~= 0 then
    values[i] = redis.call('INCRBY', KEYS[i], ARGV[a])
    if not existed and ARGV[a + 2] ~= '' then redis.call('PEXPIRE', KEYS[i], ARGV[a + 2]) end
    resets[i] = reset_at(KEYS[i])
  end
end

if has_lease then
  local ttl = tonumber(ARGV[lease_arg + 2])
  local keep = ttl + tonumber(ARGV[lease_arg + 3])
  redis.call('ZADD', lease_key, now + ttl, ARGV[lease_arg])
  -- The set must outlive its longest member; it only ever grows its expiry.
  if redis.call('PTTL', lease_key) < keep then redis.call('PEXPIRE', lease_key, keep) end
end

local out = reply(1, 0, 0, 0, 0, -1)
local touch_arg, touch_key = lease_arg, KEYS[2 * n + 1]
if has_lease then touch_arg, touch_key = lease_arg + 4, KEYS[2 * n + 2] end
if ARGV[touch_arg] then
  local value = redis.call('GET', touch_key)
  if value then redis.call('PEXPIRE', touch_key, ARGV[touch_arg]) end
  out[7 + 3 * n] = value
end
return out
`;

/**
 * KEYS: counter keys, their n seed-marker keys, then the lease key when ARGV[2] == '1'.
 * ARGV: n, hasLease, (amount, ttlMs or '', generation or '', unreserved or '') per counter,
 *       then member when hasLease. With a generation that is no longer the counter's seed, the
 *       reservation was lost with the counter: `unreserved` is added instead of `amount`.
 */
const SETTLE = `
local n = tonumber(ARGV[1])
for i = 1, n do
  local a = 3 + (i - 1) * 4
  local amount = ARGV[a]
  if ARGV[a + 2] ~= '' and redis.call('GET', KEYS[n + i]) ~= ARGV[a + 2] then
    amount = ARGV[a + 3]
  end
  local existed = redis.call('EXISTS', KEYS[i]) == 1
  if existed or tonumber(amount) ~= 0 then
    redis.call('INCRBY', KEYS[i], amount)
    if not existed and ARGV[a + 1] ~= '' then redis.call('PEXPIRE', KEYS[i], ARGV[a + 1]) end
  end
end
if ARGV[2] == '1' then redis.call('ZREM', KEYS[2 * n + 1], ARGV[3 + n * 4]) end
return 1
`;

/**
 * KEYS: counter, its seed marker. ARGV: amount, ttlMs or '', generation.
 * Reply: 1 seeded now, 0 already seeded (nothing changed).
 */
const SEED_COUNTER = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local existed = redis.call('EXISTS', KEYS[1]) == 1
if existed or tonumber(ARGV[1]) ~= 0 then
  redis.call('INCRBY', KEYS[1], ARGV[1])
  if not existed and ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[2], ARGV[3])
end
return 1
`;

/** KEYS: lease key. ARGV: member, ttlMs, graceMs. Reply: 1 renewed, 0 gone. */
const RENEW_LEASE = `${NOW}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
if tonumber(score) <= now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
local ttl = tonumber(ARGV[2])
local keep = ttl + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return 1
`;

/** KEYS: lease key. Reply: live members. */
const COUNT_LEASES = `${NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`;

/** KEYS: value key. ARGV: ttlMs. Reply: the value or nil. */
const GET_AND_TOUCH = `
local value = redis.call('GET', KEYS[1])
if value then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value
`;

/** KEYS: lock key. ARGV: token. Deletes only the holder's own lock. */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class RedisScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** EVALSHA, falling back to EVAL once when the node does not have the script cached. */
  async run(client: Redis | Cluster, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

export const redisScripts = {
  admit: new RedisScript(ADMIT),
  settle: new RedisScript(SETTLE),
  seedCounter: new RedisScript(SEED_COUNTER),
  renewLease: new RedisScript(RENEW_LEASE),
  countLeases: new RedisScript(COUNT_LEASES),
  getAndTouch: new RedisScript(GET_AND_TOUCH),
  releaseLock: new RedisScript(RELEASE_LOCK),
} as const;
