-- The start of every script (redis_limiter._Script puts it there). s() writes a
-- number without an exponent; now_us() is the test clock when one is given, else
-- the Redis server's TIME, so that hosts whose clocks differ share one timeline.
local function s(x) return string.format('%.0f', x) end
local function now_us(test_clock)
  if test_clock ~= '' then return tonumber(test_clock) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
