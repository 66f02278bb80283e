-- extend_lease: set lease_until on each job still active under the given token.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: until, count, then per job: id, lease token
-- Returns: one 1 (extended) or 0 (stale token, not active, or absent) per job.
--@include common

local until_s = ARGV[1]
local out = {}
for n = 1, tonumber(ARGV[2]) do
  local id, token = ARGV[1 + 2 * n], ARGV[2 + 2 * n]
  local jk = K.job .. id
  local f = redis.call('HMGET', jk, 'state', 'lease_token')
  if f[1] == 'active' and f[2] == token then
    redis.call('HSET', jk, 'lease_until', until_s)
    redis.call('ZADD', K.active, until_s, id)
    out[n] = 1
  else
    out[n] = 0
  end
end
return out
