-- One rate-limit decision in one round trip. A line-for-line port of
-- ratelimit/algorithm.go: change both together (ratelimittest checks they
-- agree). All quantities are integer microseconds, exact in Lua's doubles
-- because ratelimit.Limit.Validate keeps every product below 2^53.
--
-- KEYS[i]  state of limit i (all keys share one hash tag)
-- ARGV     op (0 take, 1 peek, 2 refund, 3 reset, 4 take up to cost),
--          cost, now (-1: server clock), takenAt, then per limit:
--          algorithm, rate, period, burst, interval
-- Returns  {allowed, index of the deciding limit (0-based), remaining,
--           retry, reset, now, refill, granted}

local GCRA, BUCKET, SLIDING, LOG, FIXED = 0, 1, 2, 3, 4

local op = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
-- With an explicit now (tests, replays) the TTLs, which run on the server's
-- clock, get a minute of slack so that state never expires before the
-- explicit clock reaches its reset; a state kept past its reset decides
-- like no state, so the slack changes no decision.
local slack = 60000
if now < 0 then
  slack = 0
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local taken = tonumber(ARGV[4])

-- Floor division, corrected for the rounding of a / b in doubles.
local function fdiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

local function int(x)
  return string.format('%d', x)
end

-- GCRA keeps its one number in a string; the others in a hash a, b, c.
local function load(key, p)
  if p.algo == LOG then
    return nil
  elseif p.algo == GCRA then
    local v = redis.call('GET', key)
    if not v then
      return nil
    end
    return {tonumber(v), 0, 0}
  end
  local v = redis.call('HMGET', key, 'a', 'b', 'c')
  if not v[1] then
    return nil
  end
  return {tonumber(v[1]), tonumber(v[2]) or 0, tonumber(v[3]) or 0}
end

local function refill(p, s, now)
  if not s then
    return p.burst, now
  end
  local tokens, last = s[1], s[2]
  if now < last then
    return math.min(tokens, p.burst), last
  end
  local add = fdiv(now - last, p.interval)
  tokens = tokens + add
  if tokens >= p.burst then
    return p.burst, now
  end
  return tokens, last + add * p.interval
end

local function fixed_view(p, s, now)
  local w = fdiv(now, p.period)
  if not s then
    return w, 0
  end
  if s[1] == w then
    return w, s[2]
  elseif s[1] > w then
    return s[1], s[2]
  end
  return w, 0
end

local function sliding_view(p, s, now)
  local w = fdiv(now, p.period)
  local cur, prev = 0, 0
  if s then
    if s[1] >= w then
      w, cur, prev = s[1], s[2], s[3]
    elseif s[1] == w - 1 then
      prev = s[2]
    end
  end
  return w, cur, prev, math.max(now - w * p.period, 0)
end

local function sliding_reset(P, e, cur, prev)
  if cur > 0 then
    return 2 * P - e
  elseif prev > 0 then
    return P - e
  end
  return 0
end

-- log_trim drops the timestamps that left the window and returns now,
-- clamped to the newest timestamp.
local function log_trim(key, p, now)
  local newest = redis.call('LINDEX', key, -1)
  if newest then
    now = math.max(now, tonumber(newest))
  end
  while true do
    local oldest = redis.call('LINDEX', key, 0)
    if not oldest or tonumber(oldest) + p.period > now then
      break
    end
    redis.call('LPOP', key)
  end
  return now
end

-- gcra_refill returns the µs until remaining grows, for a theoretical
-- arrival time debt µs ahead of now.
local function gcra_refill(p, debt, remaining)
  if remaining >= p.burst then
    return 0
  end
  return debt + (remaining + 1) * p.interval - p.burst * p.interval
end

-- sliding_retry returns the µs until cost (at most R) events fit, given
-- that they do not fit now.
local function sliding_retry(P, R, e, cur, prev, cost)
  local x = R - cur - cost
  if x >= 0 then
    return P - fdiv(x * P, prev) - e
  end
  return (P - e) + P - fdiv((R - cost) * P, cur)
end

local function sliding_refill(P, R, e, cur, prev, remaining)
  if remaining >= R then
    return 0
  end
  return sliding_retry(P, R, e, cur, prev, remaining + 1)
end

-- eval returns allowed, remaining, retry, reset, refill for cost events at
-- now.
local function eval(p, s, key, now, cost)
  if p.algo == GCRA then
    local tat = now
    if s then
      tat = math.max(s[1], now)
    end
    local tau = p.burst * p.interval
    local nxt = tat + cost * p.interval
    if nxt - now > tau then
      local remaining = math.max(fdiv(tau - (tat - now), p.interval), 0)
      return false, remaining, nxt - now - tau, tat - now, gcra_refill(p, tat - now, remaining)
    end
    local remaining = fdiv(tau - (nxt - now), p.interval)
    return true, remaining, 0, nxt - now, gcra_refill(p, nxt - now, remaining)
  elseif p.algo == BUCKET then
    local tokens, last = refill(p, s, now)
    now = math.max(now, last)
    local function debt(t)
      if t >= p.burst then
        return 0
      end
      return (p.burst - t) * p.interval - (now - last)
    end
    local function next_token(t)
      if t >= p.burst then
        return 0
      end
      return p.interval - (now - last)
    end
    if tokens < cost then
      return false, tokens, (cost - tokens) * p.interval - (now - last), debt(tokens), next_token(tokens)
    end
    return true, tokens - cost, 0, debt(tokens - cost), next_token(tokens - cost)
  elseif p.algo == FIXED then
    local w, count = fixed_view(p, s, now)
    now = math.max(now, w * p.period)
    local e = (w + 1) * p.period - now
    if count + cost > p.rate then
      local more = 0
      if count > 0 then
        more = e
      end
      return false, p.rate - count, e, e, more
    end
    local reset = 0
    if count + cost > 0 then
      reset = e
    end
    return true, p.rate - count - cost, 0, reset, reset
  elseif p.algo == SLIDING then
    local _, cur, prev, e = sliding_view(p, s, now)
    local P, R = p.period, p.rate
    local used = prev * (P - e) + cur * P
    if used + cost * P > R * P then
      local remaining = math.max(fdiv(R * P - used, P), 0)
      return false, remaining, sliding_retry(P, R, e, cur, prev, cost), sliding_reset(P, e, cur, prev),
        sliding_refill(P, R, e, cur, prev, remaining)
    end
    local remaining = fdiv(R * P - used - cost * P, P)
    return true, remaining, 0, sliding_reset(P, e, cur + cost, prev),
      sliding_refill(P, R, e, cur + cost, prev, remaining)
  end
  -- LOG
  now = log_trim(key, p, now)
  local count = redis.call('LLEN', key)
  local more = 0
  if count > 0 then
    more = tonumber(redis.call('LINDEX', key, 0)) + p.period - now
  end
  if count + cost > p.rate then
    local t = tonumber(redis.call('LINDEX', key, count + cost - p.rate - 1))
    local newest = tonumber(redis.call('LINDEX', key, -1))
    return false, p.rate - count, t + p.period - now, newest + p.period - now, more
  end
  local reset = 0
  if cost > 0 then
    reset = p.period
    if count == 0 then
      more = p.period
    end
  elseif count > 0 then
    reset = tonumber(redis.call('LINDEX', key, -1)) + p.period - now
  end
  return true, p.rate - count - cost, 0, reset, more
end

-- persist writes state s (nil for a log, already written) with a TTL that
-- keeps the key exactly as long as its state means anything.
local function persist(key, p, s, reset)
  if reset <= 0 then
    redis.call('DEL', key)
    return
  end
  local ttl = int(math.ceil(reset / 1000) + slack)
  if p.algo == GCRA then
    redis.call('SET', key, int(s[1]), 'PX', ttl)
    return
  end
  if s then
    redis.call('HSET', key, 'a', int(s[1]), 'b', int(s[2]), 'c', int(s[3]))
  end
  redis.call('PEXPIRE', key, ttl)
end

-- take records cost events and returns the new state (nil for a log).
local function take(p, s, key, now, cost)
  if p.algo == GCRA then
    local tat = now
    if s then
      tat = math.max(s[1], now)
    end
    return {tat + cost * p.interval, 0, 0}
  elseif p.algo == BUCKET then
    local tokens, last = refill(p, s, now)
    return {tokens - cost, last, 0}
  elseif p.algo == FIXED then
    local w, count = fixed_view(p, s, now)
    return {w, count + cost, 0}
  elseif p.algo == SLIDING then
    local w, cur, prev = sliding_view(p, s, now)
    return {w, cur + cost, prev}
  else
    now = log_trim(key, p, now)
    local left = cost
    while left > 0 do -- in batches, to stay within Lua's stack
      local args = {}
      for i = 1, math.min(left, 512) do
        args[i] = int(now)
      end
      redis.call('RPUSH', key, unpack(args))
      left = left - #args
    end
    return nil
  end
end

local function refund(p, s, key, now, cost)
  if p.algo == LOG then
    log_trim(key, p, now)
    redis.call('LREM', key, -cost, int(taken))
    return nil
  end
  if not s then
    return nil
  end
  if p.algo == GCRA then
    local tat = math.max(s[1], now)
    s = {math.max(tat - cost * p.interval, now), 0, 0}
  elseif p.algo == BUCKET then
    local tokens, last = refill(p, s, now)
    s = {math.min(tokens + cost, p.burst), last, 0}
  elseif p.algo == FIXED then
    local w, count = fixed_view(p, s, now)
    if fdiv(taken, p.period) == w then
      count = math.max(count - cost, 0)
    end
    s = {w, count, 0}
  else
    local w, cur, prev = sliding_view(p, s, now)
    local tw = fdiv(taken, p.period)
    if tw == w then
      cur = math.max(cur - cost, 0)
    elseif tw == w - 1 then
      prev = math.max(prev - cost, 0)
    end
    s = {w, cur, prev}
  end
  return s
end

local n = #KEYS
local P, S, V = {}, {}, {}
local all = true
local params = {}
for i = 1, n do
  local b = 4 + (i - 1) * 5
  params[i] = {
    algo = tonumber(ARGV[b + 1]),
    rate = tonumber(ARGV[b + 2]),
    period = tonumber(ARGV[b + 3]),
    burst = tonumber(ARGV[b + 4]),
    interval = tonumber(ARGV[b + 5]),
  }
  if op == 3 then
    redis.call('DEL', KEYS[i])
  end
end
if op == 4 then
  -- As many as fit, or a refusal that reports the wait for one.
  for i = 1, n do
    local _, remaining = eval(params[i], load(KEYS[i], params[i]), KEYS[i], now, 0)
    cost = math.min(cost, remaining)
  end
  cost = math.max(cost, 1)
  op = 0
end
local granted = 0
for i = 1, n do
  local p = params[i]
  P[i] = p
  S[i] = load(KEYS[i], p)
  if op == 2 then
    local had = S[i]
    S[i] = refund(p, S[i], KEYS[i], now, cost)
    V[i] = {eval(p, S[i], KEYS[i], now, 0)}
    if had then
      persist(KEYS[i], p, S[i], V[i][4])
    end
  elseif op == 3 then
    V[i] = {eval(p, S[i], KEYS[i], now, 0)}
  else
    V[i] = {eval(p, S[i], KEYS[i], now, cost)}
  end
  all = all and V[i][1]
end

-- The deciding limit: the denying one with the longest retry, or, when all
-- allow, the one with the fewest remaining; the first on ties.
local best = 1
for i = 2, n do
  if all then
    if V[i][2] < V[best][2] then
      best = i
    end
  elseif not V[i][1] and (V[best][1] or V[i][3] > V[best][3]) then
    best = i
  end
end

if op == 0 and all then
  for i = 1, n do
    persist(KEYS[i], P[i], take(P[i], S[i], KEYS[i], now, cost), V[i][4])
  end
  granted = cost
elseif op == 1 then
  local _, remaining, _, reset, more = eval(P[best], S[best], KEYS[best], now, 0)
  V[best][2], V[best][4], V[best][5] = remaining, reset, more
elseif op == 2 or op == 3 then
  all = true
end

local allowed = 0
if all then
  allowed = 1
end
return {allowed, best - 1, V[best][2], V[best][3], V[best][4], now, V[best][5], granted}
