-- retry: each job still active under the given lease token goes back to delayed (run_at
-- ahead of now) or waiting, keeping its error, its lease cleared.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: now, count, then per job: id, lease token, error JSON, run_at
-- Returns: one 1 (settled) or 0 (stale token, not active, or absent) per job.
--@include common

local now = tonumber(ARGV[1])
local out = {}
for n = 1, tonumber(ARGV[2]) do
  local i = 3 + (n - 1) * 4
  local id, token, err, run_at = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local jk = K.job .. id
  local f = redis.call('HMGET', jk, 'state', 'lease_token')
  if f[1] == 'active' and f[2] == token then
    redis.call('HSET', jk, 'error', err, 'run_at', run_at)
    redis.call('HDEL', jk, 'lease_token', 'lease_until')
    redis.call('ZREM', K.active, id)
    ready(id, jk, now)
    out[n] = 1
  else
    out[n] = 0
  end
end
flush_wake()
return out
