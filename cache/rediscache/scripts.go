package rediscache

import "github.com/redis/go-redis/v9"

// fetchScript reads a value with its remaining TTL and, as asked, takes the
// key's load lease in the same atomic step, so that exactly one caller in the
// cluster is told to load.
//
// KEYS[1] value key, KEYS[2] lease key (same hash slot).
// ARGV[1] mode: 0 read only, 1 lease if missing, 2 lease if missing or stale.
// ARGV[2] lease token, ARGV[3] lease TTL (ms), ARGV[4] stale tail (ms).
// Reply: {state, value or nil, pttl}; state 0 no lease, 1 granted, 2 held.
var fetchScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
local ttl = -2
if v then
  ttl = redis.call('PTTL', KEYS[1])
end
local mode = tonumber(ARGV[1])
if mode == 0 or (v and (mode == 1 or ttl < 0 or ttl > tonumber(ARGV[4]))) then
  return {0, v, ttl}
end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  return {1, v, ttl}
end
return {2, v, ttl}
`)

// writeScript stores a value if the caller's lease is still the key's lease
// (or unconditionally with an empty token) and ends the lease. Delete removes
// the lease key, so a load that started before a Delete can never write.
//
// KEYS[1] value key, KEYS[2] lease key.
// ARGV[1] token (empty: unconditional), ARGV[2] value, ARGV[3] TTL (ms),
// ARGV[4] "1" to only release the lease (after a failed load).
// Reply: 1 written (or released), 0 lease lost.
var writeScript = redis.NewScript(`
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0
end
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[2])
  return 1
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('DEL', KEYS[2])
return 1
`)
