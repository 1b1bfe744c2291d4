-- The leases of one key for a ratelimit.Concurrency quota, atomically.
--
-- KEYS[1]  the key's lease set: a sorted set of lease IDs scored by their
--          expiry in integer microseconds
-- ARGV     op (0 acquire, 1 renew, 2 release, 3 count, 4 reset), lease ID,
--          limit, TTL µs, now µs (-1: the server's clock)
--
-- Returns {granted, in flight, expires µs, retry-after µs, now µs}. The
-- in-memory store (ratelimit/memorylease.go) makes the same decisions;
-- ratelimittest.RunLeases holds the two to it.
local op = tonumber(ARGV[1])
local id = ARGV[2]
local limit = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local key = KEYS[1]

redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
local granted, expires, retry = 0, 0, 0
if op == 4 then
  redis.call('DEL', key)
elseif op == 0 or op == 1 then
  local holds = redis.call('ZSCORE', key, id)
  if op == 0 and not holds and redis.call('ZCARD', key) >= limit then
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    retry = tonumber(first[2]) - now
  elseif op == 0 or holds then
    expires = now + ttl
    redis.call('ZADD', key, expires, id)
    granted = 1
  end
elseif op == 2 then
  granted = redis.call('ZREM', key, id)
end

local n = redis.call('ZCARD', key)
if n > 0 then
  -- The set lives as long as its longest lease, so that a key nobody
  -- touches again does not stay behind.
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', key, math.floor((tonumber(last[2]) - now) / 1000) + 1)
end
return {granted, n, expires, retry, now}
