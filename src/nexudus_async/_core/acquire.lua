-- KEYS: state hash, all-requests zset, writes zset, members zset (heartbeats).
-- ARGV: write (0/1), interval, widen step, widen max, calm requests, ttl ms,
--   test clock ('' = the server's TIME), extra interval while a window is half
--   spent (RateLimiter.pressed), this limiter's member name, heartbeat lifetime,
--   then n windows (limit, period)... for all requests, then n windows for
--   writes. Times in microseconds.
-- Returns {0, now, members, rank} when the request may go (it is recorded),
-- {delay, now, members, rank} if not: members is how many limiters sent a
-- heartbeat within its lifetime, rank this one's place among them by name.
local now = now_us(ARGV[7])
local write = ARGV[1] == '1'
redis.call('ZADD', KEYS[4], s(now + tonumber(ARGV[10])), ARGV[9])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. s(now))
redis.call('PEXPIRE', KEYS[4], s(math.ceil(tonumber(ARGV[10]) / 1000)))
local names = redis.call('ZRANGE', KEYS[4], 0, -1)
table.sort(names)
local rank = 0
for i, name in ipairs(names) do if name == ARGV[9] then rank = i - 1 end end
local st = redis.call('HMGET', KEYS[1], 'last', 'paused', 'widened', 'calm')
local widened = tonumber(st[3]) or 0
local delay = 0
local paused = tonumber(st[2])
if paused and paused - now > delay then delay = paused - now end
local pressed = false
local function windows(key, at, check)
  local n = tonumber(ARGV[at])
  local longest = 0
  for w = 0, n - 1 do
    local limit = tonumber(ARGV[at + 1 + 2 * w])
    local period = tonumber(ARGV[at + 2 + 2 * w])
    if period > longest then longest = period end
    if check then
      local since = '(' .. s(now - period)
      local count = redis.call('ZCOUNT', key, since, '+inf')
      local half = math.floor((limit + 1) / 2)
      if half >= 2 and count >= half and limit * 2 * tonumber(ARGV[8]) <= period then
        pressed = true
      end
      if count >= limit then
        local e = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES', 'LIMIT',
                             count - limit, 1)
        local d = tonumber(e[2]) + period - now
        if d > delay then delay = d end
      end
    end
  end
  return longest, at + 1 + 2 * n
end
local longest_all, at = windows(KEYS[2], 11, true)
local longest_w = windows(KEYS[3], at, write)
local last = tonumber(st[1])
if last then
  local spacing = tonumber(ARGV[2]) + widened
  if pressed then spacing = spacing + tonumber(ARGV[8]) end
  local d = last + spacing - now
  if d > delay then delay = d end
end
if delay > 0 then return {math.ceil(delay), now, #names, rank} end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local member = s(now) .. '-' .. s(seq)
local ttl = tonumber(ARGV[6])
if longest_all > 0 then
  redis.call('ZADD', KEYS[2], s(now), member)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. s(now - longest_all))
  redis.call('PEXPIRE', KEYS[2], s(ttl))
end
if write and longest_w > 0 then
  redis.call('ZADD', KEYS[3], s(now), member)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. s(now - longest_w))
  redis.call('PEXPIRE', KEYS[3], s(ttl))
end
local calm = tonumber(st[4]) or 0
if widened > 0 then
  calm = calm + 1
  if calm >= tonumber(ARGV[5]) then
    calm = 0
    if widened < tonumber(ARGV[3]) then widened = 0 else widened = math.floor(widened / 2) end
  end
end
redis.call('HSET', KEYS[1], 'last', s(now), 'widened', s(widened), 'calm', s(calm))
redis.call('PEXPIRE', KEYS[1], s(ttl))
return {0, now, #names, rank}
