-- counts: the number of jobs in every state, and what else the queue holds.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: none
-- Returns: {waiting, delayed, waiting-children, active, completed, failed, expired,
--           cancelled, paused (0/1), repeatables, workers}
--@include common

local out = {}
for i = 2, 9 do out[#out + 1] = redis.call('ZCARD', KEYS[i]) end
out[#out + 1] = redis.call('HEXISTS', K.meta, 'paused')
out[#out + 1] = redis.call('HLEN', K.repeatables)
out[#out + 1] = redis.call('HLEN', K.workers)
return out
