-- update_progress: store progress on a job still active under the given token.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: id, lease token, progress JSON
-- Returns: 1 if stored, 0 if the token is stale or the job not active.
--@include common

local jk = K.job .. ARGV[1]
local f = redis.call('HMGET', jk, 'state', 'lease_token')
if f[1] == 'active' and f[2] == ARGV[2] then
  redis.call('HSET', jk, 'progress', ARGV[3])
  return 1
end
return 0
