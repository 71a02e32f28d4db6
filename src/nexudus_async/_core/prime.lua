-- KEYS: all-requests zset, writes zset, state hash. ARGV: test clock, ttl ms, write (0/1),
--   n periods of the all windows..., n periods of the write windows..., then the ages of
--   the sends (microseconds). Adds, per window (writes first), the most recent sends the
--   zset lacks (see throttle.unseen_sends); returns how many were added.
local now = now_us(ARGV[1])
local at = 4
local function periods()
  local n = tonumber(ARGV[at])
  local out = {}
  for i = 1, n do out[i] = tonumber(ARGV[at + i]) end
  at = at + n + 1
  table.sort(out)
  return out
end
local all_p = periods()
local write_p = periods()
local times = {}
for i = at, #ARGV do times[#times + 1] = now - tonumber(ARGV[i]) end
table.sort(times, function(a, b) return a > b end)
local added = 0
local function fill(key, ps, also)
  local nxt = 1
  for _, period in ipairs(ps) do
    local start = now - period
    local want = 0
    for _, t in ipairs(times) do if t > start then want = want + 1 end end
    local have = redis.call('ZCOUNT', key, '(' .. s(start), '+inf')
    while want > have and nxt <= #times and times[nxt] > start do
      local seq = redis.call('HINCRBY', KEYS[3], 'seq', 1)
      local member = 'primed-' .. s(times[nxt]) .. '-' .. s(seq)
      redis.call('ZADD', key, s(times[nxt]), member)
      if also then redis.call('ZADD', also, s(times[nxt]), member) end
      nxt = nxt + 1
      have = have + 1
      added = added + 1
    end
  end
  if #ps > 0 then redis.call('PEXPIRE', key, ARGV[2]) end
end
if ARGV[3] == '1' then fill(KEYS[2], write_p, KEYS[1]) end
fill(KEYS[1], all_p, nil)
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return added
