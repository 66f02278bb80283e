-- fail: each job still active under the given lease token becomes failed (the dead-letter
-- set) with its error; jobs waiting on it fail in turn.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: now, count, then per job: id, lease token, error JSON
-- Returns: one 1 (settled) or 0 (stale token, not active, or absent) per job.
--@include common

local now_s = ARGV[1]
local now = tonumber(now_s)
local out = {}
for n = 1, tonumber(ARGV[2]) do
  local i = 3 + (n - 1) * 3
  local id, token, err = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local jk = K.job .. id
  local f = redis.call('HMGET', jk, 'state', 'lease_token')
  if f[1] == 'active' and f[2] == token then
    redis.call('HSET', jk, 'error', err)
    finish(id, jk, 'active', 'failed', now, now_s)
    out[n] = 1
  else
    out[n] = 0
  end
end
flush_wake()
return out
