-- complete: each job still active under the given lease token becomes completed with its
-- result; dependents whose dependencies are now all complete become ready.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: now, count, then per job: id, lease token, result JSON ('' for none)
-- Returns: one 1 (settled) or 0 (stale token, not active, or absent) per job.
--@include common

local now_s = ARGV[1]
local now = tonumber(now_s)
local out = {}
-- The common case inline (finish() does the same job by job): index moves in one call each.
local settled, finished = {}, {}
for n = 1, tonumber(ARGV[2]) do
  local i = 3 + (n - 1) * 3
  local id, token, result = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local jk = K.job .. id
  local f = redis.call('HMGET', jk, 'state', 'lease_token', 'has_dependents')
  if f[1] == 'active' and f[2] == token then
    if result ~= '' then
      redis.call('HSET', jk, 'state', 'completed', 'finished_at', now_s, 'result', result)
    else
      redis.call('HSET', jk, 'state', 'completed', 'finished_at', now_s)
    end
    -- lease_token and lease_until stay: a lease is read only while the job is active.
    settled[#settled + 1] = id
    finished[#finished + 1] = now_s
    finished[#finished + 1] = id
    if f[3] then release(id, now) end
    out[n] = 1
  else
    out[n] = 0
  end
end
bulk('ZREM', K.active, settled)
bulk('ZADD', SET_OF['completed'], finished)
flush_wake()
return out
