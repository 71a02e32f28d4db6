-- KEYS: state hash. ARGV: wait, widen step, widen max, ttl ms, test clock.
-- Everybody pauses until now + wait; the spacing widens by a step (bounded).
local now = now_us(ARGV[5])
local st = redis.call('HMGET', KEYS[1], 'paused', 'widened')
local paused = math.max(tonumber(st[1]) or 0, now + tonumber(ARGV[1]))
local widened = tonumber(st[2]) or 0
if tonumber(ARGV[2]) > 0 then
  widened = math.min(widened + tonumber(ARGV[2]), tonumber(ARGV[3]))
end
redis.call('HSET', KEYS[1], 'paused', s(paused), 'widened', s(widened), 'calm', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return paused
